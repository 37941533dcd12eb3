//! Two things drawn over the work area: the error banner (a problem stays on screen until dismissed or replaced,
//! so it cannot scroll away in the status line) and the F12 frame-time overlay (how much of a frame the app's own
//! work takes, to check the UI stays smooth while training).

use crate::app::command::UiCommand;
use egui::Ui;
use std::collections::VecDeque;

/// The error banner with its Dismiss button; nothing when there is no error.
pub(crate) fn error_banner(ui: &mut Ui, error: Option<&str>, commands: &mut Vec<UiCommand>) {
    let Some(message) = error else { return };
    egui::Frame::new()
        .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
        .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
        .inner_margin(8.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().error_fg_color, egui::RichText::new("Error:").strong());
                ui.add(egui::Label::new(egui::RichText::new(message).color(ui.visuals().strong_text_color())).wrap());
            });
            if ui.button("Dismiss").clicked() {
                commands.push(UiCommand::DismissError);
            }
        });
    ui.add_space(6.0);
}

/// Recent UI-work times (logic + ui) and whether the overlay shows them.
#[derive(Default)]
pub(crate) struct FrameTimes {
    pub(crate) visible: bool,
    /// In ms, newest last.
    recent_ms: VecDeque<f32>,
    /// When each of those frames was recorded, for the frame rate.
    recent_at: VecDeque<std::time::Instant>,
    pub(crate) events_last_frame: usize,
}

impl FrameTimes {
    const KEEP: usize = 120;

    pub fn record(&mut self, ms: f32) {
        self.recent_ms.push_back(ms);
        self.recent_at.push_back(std::time::Instant::now());
        if self.recent_ms.len() > Self::KEEP {
            self.recent_ms.pop_front();
            self.recent_at.pop_front();
        }
    }

    /// Frames drawn per second over the recent frames (training asks for about 10; input adds more).
    pub(crate) fn frames_per_sec(&self) -> Option<f32> {
        let (first, last) = (self.recent_at.front()?, self.recent_at.back()?);
        let secs = last.duration_since(*first).as_secs_f32();
        (secs > 0.0).then(|| (self.recent_at.len() - 1) as f32 / secs)
    }

    /// Mean and max over the recent frames, in ms.
    pub(crate) fn mean_max_ms(&self) -> Option<(f32, f32)> {
        let r = &self.recent_ms;
        if r.is_empty() {
            return None;
        }
        Some((r.iter().sum::<f32>() / r.len() as f32, r.iter().cloned().fold(0.0, f32::max)))
    }
}

/// The F12 overlay, in the bottom left corner above everything (the one corner with no control or legend under it:
/// below the settings panel's last line); nothing while hidden. Narrow enough for the settings panel.
pub(crate) fn frame_time_overlay(ctx: &egui::Context, times: &FrameTimes, batches: usize, drawn_points: usize) {
    if !times.visible {
        return;
    }
    let (mean, max) = times.mean_max_ms().unwrap_or((0.0, 0.0));
    egui::Area::new(egui::Id::unique("debug_overlay"))
        .anchor(egui::Align2::LEFT_BOTTOM, [8.0, -8.0])
        .order(egui::Order::Foreground)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.monospace(format!("UI work/frame: {mean:.2} avg, {max:.2} max ms"));
                let interval = ctx.input(|i| i.unstable_dt) * 1000.0;
                let fps = times.frames_per_sec().map_or("—".into(), |f| format!("{f:.0}"));
                ui.monospace(format!(
                    "last {} frames · {fps} frames/s · interval {interval:.1} ms",
                    times.recent_ms.len()
                ));
                ui.monospace(format!("batches {batches} · points drawn {drawn_points}"));
                ui.monospace(format!("events last frame: {}", times.events_last_frame));
            });
        });
}
