//! The coach's banner: each hint of the runs shown that is neither dismissed nor resolved (its condition gone), with its explanation and buttons that act.
//! A button that would stop the run (a restart) asks first, in the banner itself.

use crate::app::command::{effective_action, CoachCommand, UiCommand};
use crate::app::history::History;
use crate::app::training::gradients::{rule_title, HINT_COLOR};
use crate::engine::training::coach::action_label;
use crate::engine::training::events::HintAction;
use egui::{RichText, Ui};

#[derive(Default)]
pub(crate) struct CoachBanner {
    /// A restart waiting for "Yes": (hint index, action).
    confirming: Option<(usize, HintAction)>,
}

impl CoachBanner {
    /// Draws the banners; nothing when there is no hint to show. `running`: a run is active (restarts stop it).
    pub fn ui(&mut self, ui: &mut Ui, history: &History, running: bool, commands: &mut Vec<UiCommand>) {
        for (i, entry) in history.open_hints() {
            egui::Frame::new()
                .fill(HINT_COLOR.gamma_multiply(0.12))
                .stroke(egui::Stroke::new(1.0, HINT_COLOR))
                .inner_margin(8.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(format!("Coach: {}", rule_title(entry))).strong().color(HINT_COLOR));
                        ui.weak(format!("at epoch {:.2}", entry.x));
                    });
                    ui.add(egui::Label::new(&entry.hint.message).wrap());
                    if let Some((_, action)) = self.confirming.as_ref().filter(|(j, _)| *j == i) {
                        let action = action.clone();
                        ui.horizontal_wrapped(|ui| {
                            let what = action_label(&action);
                            ui.label(if running {
                                format!("{what}? This stops the current run and starts a new one from fresh weights.")
                            } else {
                                format!("{what}? This starts a new run from fresh weights.")
                            });
                            if ui.button("Yes, restart").clicked() {
                                commands.push(UiCommand::Coach(CoachCommand::Act(i, action.clone())));
                                self.confirming = None;
                            }
                            if ui.button("Cancel").clicked() {
                                self.confirming = None;
                            }
                        });
                        return;
                    }
                    ui.horizontal_wrapped(|ui| {
                        for shown in entry.hint.actions.iter().filter_map(|a| effective_action(a, running)) {
                            if ui.button(action_label(&shown)).clicked() {
                                match shown {
                                    HintAction::Restart(_) => self.confirming = Some((i, shown)),
                                    _ => commands.push(UiCommand::Coach(CoachCommand::Act(i, shown))),
                                }
                            }
                        }
                        if ui.button("Dismiss").clicked() {
                            commands.push(UiCommand::Coach(CoachCommand::Dismiss(i)));
                        }
                    });
                });
            ui.add_space(6.0);
        }
    }
}
