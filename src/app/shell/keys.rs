//! The window's keyboard shortcuts: Space trains or pauses, N steps one batch while paused, F12 shows frame
//! times. Not while a text field has the keyboard. (The canvas's C, Delete and Ctrl+Z are the canvas's own.)

use crate::app::command::{LiveCommand, UiCommand};
use crate::app::PlaygroundApp;

impl PlaygroundApp {
    pub(in crate::app) fn shortcuts(&mut self, ctx: &egui::Context) {
        if !ctx.egui_wants_keyboard_input() && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space))
        {
            self.execute(UiCommand::ToggleTrainPause);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F12)) {
            self.frame_times.visible = !self.frame_times.visible;
        }
        // N: one batch while paused (Step).
        if !ctx.egui_wants_keyboard_input() && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::N)) {
            self.execute(UiCommand::Live(LiveCommand::Step));
        }
    }
}
