//! The side panel: the run's settings, Train / Pause / Stop / Reset, where the run is, and file actions. Settings
//! the trainer fixed when the run started are disabled while it lasts, with a tooltip saying why.

use crate::app::command::{LiveCommand, UiCommand};
use crate::app::state::{Phase, Session, Settings};
use crate::app::training::files_section::files_section_ui;
use crate::app::training::train_start::{matching_preset, train_start_ui, TrainAvailability};
use crate::app::widgets::format::{format_secs, LOCKED};
use crate::engine::model::config::{Activation, Init, Pooling};
use crate::engine::model::memory;
use crate::engine::model::stages;
use crate::engine::store::runs::RunStatus;
use crate::engine::training::config::{Optimizer, Preset, BATCH_RANGE, EPOCHS_RANGE, LR_RANGE};
use crate::engine::training::schedule::{parse_epoch_list, Schedule};
use egui::{Button, ComboBox, DragValue, ProgressBar, RichText, Slider, Ui};
use std::fmt::Write;

const LIVE: &str = "Live: a change takes effect from the next batch of the running training.";
/// The settings grids' first column, so the live and the locked rows line up.
const COL_WIDTH: f32 = 90.0;

/// Learning rate and epochs: editable during a run too. While a run is going every change goes to the trainer
/// (a drag is one gesture: one recorded change and one marker, at most one new value per batch).
fn live_settings_ui(ui: &mut Ui, settings: &mut Settings, session: &Session, commands: &mut Vec<UiCommand>) {
    let live = session.run_active() && session.phase != Phase::Stopping;
    egui::Grid::new("train_settings_live").num_columns(2).spacing([8.0, 6.0]).min_col_width(COL_WIDTH).show(ui, |ui| {
        let t = &mut settings.train;
        let label = ui.label("Learning rate");
        let lr = ui
            .add(Slider::new(&mut t.lr, LR_RANGE.0..=LR_RANGE.1).logarithmic(true).max_decimals(4))
            .labelled_by(label.id)
            .on_hover_text(if live {
                "Live: from the next batch (each drag is marked on the plots). Scheduled runs: this sets the \
                 schedule's base rate."
            } else {
                "Step size of each update (log scale). Stays live during a run."
            });
        if live && (lr.changed() || lr.drag_stopped()) {
            let done = lr.drag_stopped() || !lr.dragged();
            commands.push(UiCommand::Live(LiveCommand::Lr { lr: t.lr, done }));
        }
        ui.end_row();

        let label = ui.label("Epochs");
        // Not below the epoch in progress.
        let min_epochs = match (session.history.last_batch(), live) {
            (Some(b), true) => b.epoch.max(EPOCHS_RANGE.0),
            _ => EPOCHS_RANGE.0,
        };
        // While a run goes, the slider shows the run's epochs (a small set's or a teaching run's recipe has its
        // own) and edits a copy: the panel's value changes only when the user moves the slider, never because the
        // run has passed it.
        let run_epochs = session.run.as_ref().filter(|_| live).map(|r| r.epochs);
        let mut shown = run_epochs.unwrap_or(t.epochs);
        let ep = ui
            .add(Slider::new(&mut shown, min_epochs..=EPOCHS_RANGE.1.max(min_epochs)))
            .labelled_by(label.id)
            .on_hover_text(if live { LIVE } else { "Passes over the training images. Stays live during a run." });
        // (The run's epochs are never below the epoch in progress, so the slider never clamps them.)
        if ep.changed() {
            t.epochs = shown;
            if live {
                commands.push(UiCommand::Live(LiveCommand::Epochs(shown)));
            }
        }
        ui.end_row();
    });
}

/// The schedule's kind, as the combo box offers it (a step schedule's epochs are edited beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScheduleKind {
    Constant,
    Step,
    Cosine,
}

impl ScheduleKind {
    const ALL: [ScheduleKind; 3] = [ScheduleKind::Constant, ScheduleKind::Step, ScheduleKind::Cosine];

    fn of(schedule: &Schedule) -> Self {
        match schedule {
            Schedule::Constant => ScheduleKind::Constant,
            Schedule::Step { .. } => ScheduleKind::Step,
            Schedule::Cosine => ScheduleKind::Cosine,
        }
    }

    /// A new schedule of this kind for a run of `epochs` (a step schedule steps half-way).
    fn schedule(self, epochs: usize) -> Schedule {
        match self {
            ScheduleKind::Constant => Schedule::Constant,
            ScheduleKind::Step => Schedule::Step { at_epochs: Schedule::default_step_epochs(epochs) },
            ScheduleKind::Cosine => Schedule::Cosine,
        }
    }

    /// The engine's name of the kind (what the CLI's `--schedule` takes).
    fn label(self) -> &'static str {
        self.schedule(1).key()
    }
}

/// Constant, step (×0.1 after the chosen epochs) or cosine (to ~0 at the last batch).
fn schedule_ui(ui: &mut Ui, schedule: &mut Schedule, epochs: usize) {
    let label = ui.label("Schedule");
    ui.horizontal(|ui| {
        let mut kind = ScheduleKind::of(schedule);
        ComboBox::from_id_salt("schedule")
            .selected_text(kind.label())
            .show_ui(ui, |ui| {
                for k in ScheduleKind::ALL {
                    ui.selectable_value(&mut kind, k, k.label());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("How the learning rate moves during the run: constant; step (×0.1 after the chosen epochs); cosine (every batch, down to ~0 at the last batch)")
            .on_disabled_hover_text(LOCKED);
        if kind != ScheduleKind::of(schedule) {
            *schedule = kind.schedule(epochs);
        }
        if let Schedule::Step { at_epochs } = schedule {
            let text = at_epochs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(",");
            let id = ui.scope_id().with("step_epochs");
            let mut edit = ui.data(|d| d.get_temp::<String>(id)).unwrap_or_else(|| text.clone());
            let r = ui
                .add(egui::TextEdit::singleline(&mut edit).desired_width(60.0))
                .on_hover_text("×0.1 after each of these epochs, e.g. 3,6");
            if r.changed() {
                if let Ok(v) = parse_epoch_list(&edit) {
                    *at_epochs = v;
                }
                ui.data_mut(|d| d.insert_temp(id, edit));
            } else if !r.has_focus() {
                ui.data_mut(|d| d.insert_temp(id, text));
            }
        }
    });
    ui.end_row();
}

/// `helpers_busy`: a helper job (a load, a dialog, a file, the run store) is under way.
pub(crate) fn controls_ui(
    ui: &mut Ui,
    settings: &mut Settings,
    session: &Session,
    helpers_busy: bool,
    commands: &mut Vec<UiCommand>,
) {
    ui.heading("LeNet-5 Playground");
    ui.add_space(4.0);
    let locked = session.run_active();

    ui.strong("Training settings");
    ui.add_enabled_ui(!locked, |ui| {
        egui::Grid::new("train_settings").num_columns(2).spacing([8.0, 6.0]).min_col_width(COL_WIDTH).show(ui, |ui| {
            ui.label("Preset");
            // The preset the settings are now, if any: "Custom" once an edit, a coach restart or Load settings
            // has changed them.
            let current = matching_preset(&settings.train);
            let mut picked = None;
            ComboBox::from_id_salt("preset")
                .selected_text(current.map_or("Custom", |p| p.label()))
                .show_ui(ui, |ui| {
                    for p in Preset::ALL {
                        if ui.selectable_label(current == Some(*p), p.label()).clicked() {
                            picked = Some(*p);
                        }
                    }
                })
                .response
                .on_hover_text("Fill in all settings below from a named recipe (Custom: they match none)")
                .on_disabled_hover_text(LOCKED);
            if let Some(p) = picked.filter(|p| current != Some(*p)) {
                commands.push(UiCommand::ApplyPreset(p));
            }
            ui.end_row();
        });
    });
    live_settings_ui(ui, settings, session, commands);
    ui.add_enabled_ui(!locked, |ui| {
        egui::Grid::new("train_settings_locked").num_columns(2).spacing([8.0, 6.0]).min_col_width(COL_WIDTH).show(
            ui,
            |ui| {
                let t = &mut settings.train;
                let available_memory = session.available_memory;
                schedule_ui(ui, &mut t.schedule, t.epochs);

                ui.label("Batch size");
                ui.add(Slider::new(&mut t.batch_size, BATCH_RANGE.0..=BATCH_RANGE.1).logarithmic(true))
                    .on_hover_text("Images per update")
                    .on_disabled_hover_text(LOCKED);
                ui.end_row();
                // Only for large batches (over ~500 MB a step) or one that would be refused: the usual window is
                // unchanged. The same estimate as Train's refusal, for the network built in the Architecture tab.
                if let Some((hint, warn)) = memory::batch_hint(t.model, t.batch_size, available_memory) {
                    ui.label("");
                    let text = RichText::new(hint).small();
                    let text = if warn { text.color(ui.visuals().warn_fg_color) } else { text.weak() };
                    ui.add(egui::Label::new(text).wrap())
                        .on_hover_text("Estimated memory of one training step at this batch size (activations, their gradients, parameters)");
                    ui.end_row();
                }

                choice(ui, "Activation", "activation", &mut t.model.activation, Activation::ALL, |a| a.label());
                choice(ui, "Pooling", "pooling", &mut t.model.pooling, Pooling::ALL, |p| p.label());
                choice(ui, "Init", "init", &mut t.init, Init::ALL, |i| i.label());
                choice(ui, "Optimizer", "optimizer", &mut t.optimizer, Optimizer::ALL, |o| o.label());

                ui.label("Seed");
                ui.add(DragValue::new(&mut t.seed)).on_hover_text("Same seed, same run").on_disabled_hover_text(LOCKED);
                ui.end_row();

                ui.label("Images");
                ui.horizontal(|ui| {
                    let mut limited = t.limit.is_some();
                    ui.checkbox(&mut limited, "first")
                        .on_hover_text("Train on the first N training images only: quick tries")
                        .on_disabled_hover_text(LOCKED);
                    let mut n = t.limit.unwrap_or(2000);
                    ui.add_enabled(limited, DragValue::new(&mut n).range(1..=60_000).speed(50))
                        .on_hover_text("How many training images")
                        .on_disabled_hover_text(if locked {
                            LOCKED
                        } else {
                            "Tick 'first' to train on part of the set"
                        });
                    t.limit = limited.then_some(n);
                });
                ui.end_row();
            },
        );
    });

    ui.add_space(8.0);
    let has_data = session.data.is_some();
    // An architecture that does not fit cannot be trained: the reason is Train's hover text, and a line below.
    let arch_error = stages::try_stages(settings.train.model).err().map(|e| format!("Cannot train this network: {e}"));
    let can_train = has_data && session.phase == Phase::Idle && arch_error.is_none();
    let can_continue = can_train && session.can_continue(&settings.train);
    // The same rows in every state (the start lines, then Pause · Step · Stop · Reset), so that a run ending never
    // moves a button under the pointer.
    let why_not = match (&arch_error, has_data) {
        (_, false) => "Waiting for the data set",
        (Some(e), true) if session.phase == Phase::Idle => e.as_str(),
        _ => "A run is already going",
    };
    train_start_ui(ui, settings, session, TrainAvailability { can_train, can_continue, why_not }, commands);
    ui.horizontal(|ui| {
        match session.phase {
            Phase::Paused => {
                ui.button("Resume")
                    .on_hover_text("Continue the run (Space)")
                    .clicked()
                    .then(|| commands.push(UiCommand::Resume));
            }
            phase => {
                ui.add_enabled(phase == Phase::Training, Button::new("Pause"))
                    .on_hover_text("Pause after the current batch (Space)")
                    .clicked()
                    .then(|| commands.push(UiCommand::Pause));
            }
        }
        ui.add_enabled(session.phase == Phase::Paused, Button::new("Step"))
            .on_hover_text("Train exactly one batch and show its loss before and after (N)")
            .on_disabled_hover_text("Pause the run first: Step trains one batch at a time while paused (N)")
            .clicked()
            .then(|| commands.push(UiCommand::Live(LiveCommand::Step)));
        ui.add_enabled(matches!(session.phase, Phase::Training | Phase::Paused), Button::new("Stop"))
            .on_hover_text("End the run after the current batch; the weights are kept")
            .clicked()
            .then(|| commands.push(UiCommand::Stop));
        ui.add_enabled(!locked && has_data, Button::new("Reset"))
            .on_hover_text("New weights from the settings above; clears the curves")
            .on_disabled_hover_text(LOCKED)
            .clicked()
            .then(|| commands.push(UiCommand::Reset));
    });
    if let Some(e) = &arch_error {
        ui.colored_label(ui.visuals().error_fg_color, e).on_hover_text("Change it in the Architecture tab");
    }

    ui.add_space(6.0);
    status_ui(ui, session, helpers_busy);
    match &session.experiments.last_step {
        Some(r) => ui.label(format!(
            "Step: batch {} of epoch {} · loss before {:.4} -> after {:.4}",
            r.batch, r.epoch, r.loss_before, r.loss_after
        )),
        None => ui.weak("Step (N, while paused): — "),
    };

    ui.add_space(8.0);
    ui.separator();
    files_section_ui(ui, settings, session, locked.then_some(LOCKED), commands);
    ui.add_space(6.0);
    ui.weak("Space: train / pause · F12: frame-time overlay");
    ui.separator();
    messages_ui(ui, session);
}

fn choice<T: Copy + PartialEq>(
    ui: &mut Ui,
    label: &str,
    id: &str,
    value: &mut T,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) {
    let label = ui.label(label);
    ComboBox::from_id_salt(id)
        .selected_text(name(*value))
        .show_ui(ui, |ui| {
            for v in all {
                ui.selectable_value(value, *v, name(*v));
            }
        })
        .response
        .labelled_by(label.id)
        .on_disabled_hover_text(LOCKED);
    ui.end_row();
}

/// Where the run is: phase, epoch and batch, speed, time, last test accuracy. Always the same number of lines, so
/// the buttons below never move while a run starts or ends.
fn status_ui(ui: &mut Ui, s: &Session, helpers_busy: bool) {
    let ended = s.run.as_ref().and_then(|r| r.ended);
    let phase = match s.phase {
        Phase::LoadingData => "Loading data…",
        Phase::NoData => "No data set",
        Phase::Idle => match ended {
            Some((RunStatus::Finished, _)) => "Finished",
            Some((RunStatus::Stopped, _)) => "Stopped",
            Some((RunStatus::Failed, _)) => "Failed",
            None => "Idle",
        },
        Phase::Training => "Training",
        Phase::Paused => "Paused",
        Phase::Stopping => "Stopping…",
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Status: {phase}")).strong());
        // Not while training: a spinner repaints every frame (60 a second), which took a third of a core from
        // training on a machine without a GPU; the progress bar below shows that the run moves.
        if matches!(s.phase, Phase::LoadingData | Phase::Stopping) || helpers_busy {
            ui.spinner();
        }
    });
    match (&s.run, s.history.last_batch()) {
        (Some(run), Some(b)) => {
            let total = (run.epochs * run.batches_per_epoch).max(1);
            let done = (b.epoch - 1) * b.batches_per_epoch + b.batch;
            let fraction = done as f32 / total as f32;
            let mut line = format!("Epoch {}/{} · batch {}/{}", b.epoch, run.epochs, b.batch, b.batches_per_epoch);
            if let Some(c) = &run.continued_from {
                // The plots (and the run's record) count from where the weights were trained to.
                let _ = write!(line, " · plots: epoch {:.2}", c.epoch_offset + b.x_epochs());
            }
            ui.label(line);
            ui.add(ProgressBar::new(fraction).show_percentage());
            // The trainer's clock leaves pauses out: paused, elapsed and ETA stand still.
            let elapsed = ended.map_or(b.elapsed_secs, |(_, secs)| secs);
            let eta = if fraction > 0.0 && s.run_active() { elapsed * (1.0 / fraction as f64 - 1.0) } else { 0.0 };
            // The run's average speed so far (a single batch's rate jumps around).
            let images = (b.epoch - 1) * run.train_images + (b.batch * run.config.batch_size).min(run.train_images);
            ui.label(format!(
                "{:.0} images/s · elapsed {} · ETA {}",
                images as f64 / elapsed.max(1e-9),
                format_secs(elapsed),
                if s.run_active() { format_secs(eta) } else { "—".into() }
            ));
        }
        (run, _) => {
            match run {
                Some(run) => ui.label(format!("Starting: {} epochs × {} batches", run.epochs, run.batches_per_epoch)),
                None => ui.weak("Epoch — · batch —"),
            };
            ui.add(ProgressBar::new(0.0).fill(egui::Color32::TRANSPARENT));
            ui.weak("— images/s · elapsed — · ETA —");
        }
    }
    match s.history.last_test_accuracy() {
        Some(a) => ui.label(format!("Last test accuracy: {:.2} %", a * 100.0)),
        None => ui.weak("Last test accuracy: — (after the first epoch)"),
    };
}

/// The data set in use and the last thing that happened; at the bottom, where a long line moves nothing.
pub(crate) fn messages_ui(ui: &mut Ui, s: &Session) {
    match (&s.data, &s.loading) {
        (_, Some(what)) => ui.label(format!("Loading {what}…")),
        (Some(d), None) => ui.label(format!("Data: {}", d.describe())),
        (None, None) => ui.colored_label(ui.visuals().error_fg_color, "Data: none loaded"),
    };
    if !s.status.is_empty() {
        ui.label(RichText::new(&s.status).italics());
    }
}
