//! The Runs view: every recorded run (finished, stopped or failed, from the window or `train --record`) with its
//! colour, what differs from the run before, settings, learning-rate changes, best and final test accuracy, epochs
//! and duration. Tick a run to overlay its curves on the plots; rename, delete, use its weights, or load its
//! settings into the side panel. Above the list, the runs' parameters against their best test accuracy. Draws and
//! pushes commands only.

use crate::app::command::{RunsCommand, UiCommand};
use crate::app::runs::experiments::{Curves, Experiments, KEEP_ON_CLEAR};
use crate::app::runs::scatter::runs_scatter_ui;
use crate::app::widgets::format::format_secs;
use crate::engine::store::runs::{settings_summary, utc_date, RunSource, RunStatus};
use crate::engine::training::config::lr_text;
use egui::{Button, Color32, RichText, Sense, Ui};

#[derive(Default)]
pub(crate) struct RunsView {
    /// The run being renamed and the text typed so far.
    renaming: Option<(String, String)>,
    /// The run whose Delete waits for "Yes, delete" (a deleted run cannot come back).
    confirm_delete: Option<String>,
}

impl RunsView {
    /// `busy`: a listing or change of the store is on its way.
    pub fn ui(&mut self, ui: &mut Ui, ex: &Experiments, run_active: bool, busy: bool, commands: &mut Vec<UiCommand>) {
        let push = |commands: &mut Vec<UiCommand>, c: RunsCommand| commands.push(UiCommand::Runs(c));
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("{} recorded run{}", ex.runs.len(), if ex.runs.len() == 1 { "" } else { "s" }));
            ui.weak(format!("· {:.1} MB on disk", ex.disk_bytes as f64 / 1e6));
            if let Some(store) = &ex.store {
                ui.weak(format!("· {}", store.runs_dir().display()));
            }
            if busy {
                ui.spinner();
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.button("Refresh").on_hover_text("Read the runs folder again").clicked().then(|| {
                push(commands, RunsCommand::Refresh);
            });
            ui.add_enabled(ex.runs.len() > KEEP_ON_CLEAR, Button::new("Clear old runs"))
                .on_hover_text(format!("Delete all but the newest {KEEP_ON_CLEAR} runs"))
                .on_disabled_hover_text(format!("There are {KEEP_ON_CLEAR} runs or fewer"))
                .clicked()
                .then(|| push(commands, RunsCommand::ClearOld { keep: KEEP_ON_CLEAR }));
            ui.weak("Tick runs to overlay their curves on the plots.");
        });
        if ex.store.is_none() {
            ui.colored_label(ui.visuals().warn_fg_color, "Runs are not kept in this session (no data folder).");
        }
        for m in &ex.skipped {
            ui.colored_label(ui.visuals().warn_fg_color, m);
        }
        if ex.runs.is_empty() {
            ui.weak("No runs yet: every run is kept here when it ends (and `train --record` adds runs from the command line).");
            return;
        }
        ui.separator();
        runs_scatter_ui(ui, ex);
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            // Newest first.
            for entry in ex.runs.iter().rev() {
                let id = entry.id().to_string();
                let rec = &entry.run.record;
                // Wrapped: a long label (what changed from the run before) goes on the next line, never clipped.
                ui.horizontal_wrapped(|ui| {
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), Sense::hover());
                    ui.painter().rect_filled(rect, 3.0, entry.color);
                    let mut on = entry.overlay;
                    let tick = ui
                        .checkbox(&mut on, RichText::new(entry.name()).strong())
                        .on_hover_text("Overlay on the plots");
                    if tick.changed() {
                        push(commands, RunsCommand::SetOverlay { id: id.clone(), on });
                    }
                    match &entry.curves {
                        Curves::Loading => {
                            ui.spinner();
                        }
                        Curves::Failed(e) => {
                            ui.colored_label(ui.visuals().error_fg_color, "curves unreadable").on_hover_text(e);
                        }
                        _ => {}
                    }
                    ui.label(&entry.label);
                });
                ui.indent(("run", &id), |ui| {
                    let pct = |a: Option<f32>| a.map_or("—".to_string(), |a| format!("{:.2} %", a * 100.0));
                    let status = match rec.status {
                        RunStatus::Finished => RichText::new("finished"),
                        RunStatus::Stopped => RichText::new("stopped").color(ui.visuals().warn_fg_color),
                        RunStatus::Failed => RichText::new("failed").color(ui.visuals().error_fg_color),
                    };
                    ui.horizontal_wrapped(|ui| {
                        ui.label(status);
                        ui.label(format!(
                            "· best test {} · final test {} · {} epoch(s) of {} · {} · {} · from the {}",
                            pct(rec.summary.best_test_accuracy),
                            pct(rec.summary.test_accuracy),
                            rec.summary.epochs_completed,
                            rec.config.epochs,
                            format_secs(rec.summary.duration_secs),
                            utc_date(rec.created_unix),
                            match rec.source {
                                RunSource::Cli => "command line",
                                RunSource::App => "window",
                            },
                        ));
                    });
                    if let Some(m) = &rec.message {
                        ui.colored_label(ui.visuals().error_fg_color, m);
                    }
                    ui.weak(format!("{} · {}", settings_summary(&rec.config), rec.dataset));
                    if !rec.lr_changes.is_empty() {
                        let changes: Vec<String> = rec
                            .lr_changes
                            .iter()
                            .map(|c| format!("at {:.2} ep: {} -> {}", c.x_epochs, lr_text(c.old_lr), lr_text(c.new_lr)))
                            .collect();
                        ui.weak(format!("lr changes: {}", changes.join("; ")));
                    }
                    if !rec.hints.is_empty() {
                        ui.weak(format!(
                            "hints: {}",
                            rec.hints.iter().map(|h| h.message.as_str()).collect::<Vec<_>>().join(" | ")
                        ));
                    }
                    ui.horizontal_wrapped(|ui| {
                        match &mut self.renaming {
                            Some((rid, text)) if *rid == id => {
                                let edit = ui.text_edit_singleline(text);
                                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                                if ui.button("OK").clicked() || enter {
                                    push(commands, RunsCommand::Rename { id: id.clone(), name: text.clone() });
                                    self.renaming = None;
                                } else if ui.button("Cancel").clicked() {
                                    self.renaming = None;
                                }
                            }
                            _ => {
                                if ui.button("Rename").clicked() {
                                    self.renaming = Some((id.clone(), rec.name.clone()));
                                }
                            }
                        }
                        ui.add_enabled(entry.run.has_weights && !run_active, Button::new("Use weights"))
                            .on_hover_text("Load this run's final weights into the canvas and inspector")
                            .on_disabled_hover_text(if run_active {
                                "A run is going"
                            } else {
                                "This run kept no weights"
                            })
                            .clicked()
                            .then(|| push(commands, RunsCommand::UseWeights(id.clone())));
                        ui.add_enabled(!run_active, Button::new("Load settings"))
                            .on_hover_text("Copy this run's settings into the side panel")
                            .on_disabled_hover_text("A run is going")
                            .clicked()
                            .then(|| push(commands, RunsCommand::LoadSettings(id.clone())));
                        if self.confirm_delete.as_ref() == Some(&id) {
                            ui.label(format!("Delete '{}' for good?", entry.name()));
                            if ui.button(RichText::new("Yes, delete").color(Color32::from_rgb(200, 60, 60))).clicked() {
                                push(commands, RunsCommand::Delete(id.clone()));
                                self.confirm_delete = None;
                            }
                            if ui.button("Keep").clicked() {
                                self.confirm_delete = None;
                            }
                        } else {
                            ui.add(Button::new(RichText::new("Delete").color(Color32::from_rgb(200, 60, 60))))
                                .on_hover_text("Delete this run's folder (asks first)")
                                .clicked()
                                .then(|| self.confirm_delete = Some(id.clone()));
                        }
                    });
                });
                ui.separator();
            }
        });
    }
}
