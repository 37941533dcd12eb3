//! The desktop window. `PlaygroundApp` (this file) owns the state, implements `eframe::App`, and is the only place
//! side effects happen. The files are cut by role, and no file imports one that imports it back (tests/layering.rs
//! checks the whole of `src/app`):
//!
//! * intents — `command.rs`: every `UiCommand` and the commands it carries; names nothing else of the app;
//! * state — `state.rs` (what the user chose, `Settings`; what exists while the app runs, `Session`; Evaluate's
//!   state), `drawings_state.rs` (the collector's), `history.rs` (the curves), `experiments.rs` (the run store's
//!   list, live-lr markers);
//! * plain workers and renderings — `arch_edit.rs` (the Architecture editor's edits, pure), `jobs.rs` (helper
//!   messages, the path picker), `attribution_worker.rs` (the
//!   canvas's occlusion thread), `events.rs` (the trainer's events applied to the session), `export.rs` (files
//!   rendered off screen), `matrix_cells.rs` (how a confusion-matrix cell looks, on screen and in the export);
//! * the app's jobs, each an `impl PlaygroundApp` that only this file's methods reach — `execute.rs` (carry out a
//!   `UiCommand`), `background.rs` (start helper threads, apply what they send back), `run_store.rs` (the Runs
//!   view's commands and the store's answers), `my_drawings.rs` (the collector's commands: the user's own set,
//!   training and teaching on it), `coach_actions.rs` (the coach banner's buttons), `shutdown.rs`
//!   (closing without losing a save or leaving the trainer running);
//! * `views/`: the panels, which only draw and push `UiCommand`s.
//!
//! The UI thread never waits: no `recv()`, `join()`, file I/O or evaluation happens on it.

mod arch_edit;
mod attribution_worker;
mod background;
mod coach_actions;
pub mod command;
pub mod drawings_state;
mod events;
mod execute;
pub mod experiments;
pub mod export;
pub mod history;
mod inside_worker;
mod jobs;
mod matrix_cells;
pub mod my_drawings;
mod run_store;
mod shutdown;
pub mod state;
pub mod views;

pub use jobs::{fixed_dir_picker, PathPicker};

use crate::engine::data::set::Dataset;
use crate::engine::training::config::TrainConfig;
use attribution_worker::AttributionWorker;
use command::{LiveCommand, UiCommand};
use jobs::{AppMsg, Background, Job};
use state::{EvalState, Session, Settings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use views::architecture::ArchitectureView;
use views::banner::{error_banner, frame_time_overlay, FrameTimes};
use views::canvas::CanvasView;
use views::coach::CoachBanner;
use views::collector::{CollectorInputs, CollectorView};
use views::evaluation::{EvaluationInputs, EvaluationView};
use views::gradients::GradientsView;
use views::inspector::InspectorView;
use views::plots::{PlotExtras, PlotsView};
use views::runs::RunsView;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Plots,
    Gradients,
    Architecture,
    Inspector,
    Inside,
    Runs,
    Evaluation,
}

pub struct PlaygroundApp {
    pub settings: Settings,
    pub session: Session,
    pub tab: Tab,
    ctx: egui::Context,
    background: Background,
    commands: Vec<UiCommand>,
    plots: PlotsView,
    canvas: CanvasView,
    collector: CollectorView,
    drawings: drawings_state::Drawings,
    inspector: InspectorView,
    pub inside: views::inside::InsideView,
    inside_worker: inside_worker::InsideWorker,
    architecture: ArchitectureView,
    runs: RunsView,
    gradients: GradientsView,
    coach_banner: CoachBanner,
    /// Settings to start a new run with once the current one has stopped (a coach restart, coach_actions.rs).
    pending_restart: Option<TrainConfig>,
    /// The Evaluation tab, Evaluate's state and the canvas's attribution worker.
    pub evaluation_view: EvaluationView,
    pub evaluation: EvalState,
    attribution: AttributionWorker,
    /// A path waiting for the next rendered frame to be captured.
    pending_screenshot: Option<PathBuf>,
    frame_times: FrameTimes,
    logic_started: Option<Instant>,
    /// Set when the window was asked to close while the trainer or a save was still running: close by then.
    closing_deadline: Option<Instant>,
    /// True once the app has told the window to close (after saves and exports in flight have finished).
    pub close_sent: bool,
}

impl PlaygroundApp {
    /// `data`: a data set to use at once (tests); None loads the settings' folder or the shipped MNIST in the
    /// background.
    pub fn new(ctx: &egui::Context, settings: Settings, data: Option<Arc<Dataset>>) -> Self {
        views::backdrop::install(ctx);
        let mut app = PlaygroundApp {
            settings,
            session: Session::new(),
            tab: Tab::Plots,
            ctx: ctx.clone(),
            background: Background::new(),
            commands: Vec::new(),
            plots: PlotsView::default(),
            canvas: CanvasView::default(),
            collector: CollectorView::default(),
            drawings: Default::default(),
            inspector: InspectorView::default(),
            inside: Default::default(),
            inside_worker: Default::default(),
            architecture: ArchitectureView::default(),
            runs: RunsView::default(),
            gradients: GradientsView::default(),
            coach_banner: CoachBanner::default(),
            pending_restart: None,
            evaluation_view: EvaluationView::default(),
            evaluation: EvalState::default(),
            attribution: AttributionWorker::default(),
            pending_screenshot: None,
            frame_times: FrameTimes::default(),
            logic_started: None,
            closing_deadline: None,
            close_sent: false,
        };
        match data {
            Some(d) => app.session.install_data(d, &app.settings.train),
            None => app.load_data(app.settings.data_folder.clone()),
        }
        app
    }

    /// Replace the file dialogs (tests: answer with paths in a temporary folder).
    pub fn set_path_picker(&mut self, picker: PathPicker) {
        self.background.picker = picker;
    }

    /// Queue a command as if a view had asked for it.
    pub fn command(&mut self, cmd: UiCommand) {
        self.commands.push(cmd);
    }

    /// The canvas panel (its input is also the inspector's).
    pub fn canvas(&self) -> &CanvasView {
        &self.canvas
    }

    /// Mean and max UI work (logic + ui) over recent frames, in ms.
    pub fn frame_time_ms(&self) -> Option<(f32, f32)> {
        self.frame_times.mean_max_ms()
    }

    /// The Inside tab's representation frames so far (one per epoch of the current run, and epoch 0).
    pub fn inside_frames(&self) -> usize {
        self.inside_worker.frames.len()
    }

    /// The Inside tab's unit ranking is there and is the one last asked for.
    pub fn inside_ranking_ready(&self) -> bool {
        self.inside_worker.rankings.is_some() && !self.inside_worker.ranking_pending()
    }

    /// Where each map digit was drawn in the Inside tab's last painted map (window points), for tests that click one.
    pub fn inside_map_points(&self) -> &[egui::Pos2] {
        &self.inside.map.drawn
    }

    /// Data sets or weights that arrived during the run and wait for it to end.
    pub fn waiting_for_run_end(&self) -> usize {
        self.background.deferred.len()
    }

    /// Captures the plots after a frame that drew them, for `ExportScreenPng`.
    fn capture_pending_screenshot(&mut self, ctx: &egui::Context) {
        if self.tab != Tab::Plots {
            return;
        }
        if let (Some(path), Some(rect)) = (self.pending_screenshot.take(), self.plots.plots_rect) {
            let tx = self.background.tx.clone();
            let wake = ctx.clone();
            let pixels_per_point = ctx.pixels_per_point();
            // Not a thread: egui's callback sends it, counted like a helper's job until it arrives.
            let _not_a_write = self.background.in_flight.start(Job::Capture);
            ctx.request_screenshot(move |image| {
                let _ = tx.send((Job::Capture, AppMsg::Screenshot { path, image, rect, pixels_per_point }));
                wake.request_repaint();
            });
        }
    }
}

impl eframe::App for PlaygroundApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        views::backdrop::clear_color(visuals)
    }

    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_started = Some(Instant::now());
        self.drain_helpers();
        self.frame_times.events_last_frame = events::drain_training(&mut self.session, ctx);
        self.apply_deferred();
        self.handle_close(ctx);
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
        self.experiments_tick();
        self.drawings_tick();
        self.session.refresh_available_memory();
        // Not while a drag is under way: untrained weights follow the Architecture editor once the value is let go.
        if !ctx.input(|i| i.pointer.any_down()) {
            self.session.follow_settings(&self.settings.train);
        }
        self.coach_tick();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ui_start = Instant::now();
        let ctx = ui.ctx().clone();

        // The side panels give way in a narrow window (1024 px and less) so the tabs keep room for their plots.
        let width = ctx.content_rect().width();
        let controls = egui::Panel::left("controls").resizable(true).default_size(330.0).min_size(280.0);
        controls.max_size((width * 0.32).max(280.0)).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let helpers_busy = self.background.in_flight.jobs() > 0;
                views::controls::controls_ui(ui, &mut self.settings, &self.session, helpers_busy, &mut self.commands);
            });
        });
        let canvas = egui::Panel::right("canvas").resizable(true).default_size(360.0).min_size(220.0);
        canvas.max_size((width * 0.3).max(220.0)).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let test_set = self.session.data.as_ref().map(|d| &d.test);
                self.canvas.ui(ui, self.session.predictor.as_ref(), test_set, self.session.weights_version);
                ui.separator();
                let weights = self.session.weights.as_ref();
                let d = &self.drawings;
                let inputs = CollectorInputs {
                    summary: d.summary.as_ref(),
                    sets: &d.sets,
                    answer: d.answer.as_deref(),
                    compared: d.compared.map(|r| (r, d.mix.as_deref().unwrap_or_default())),
                    predicted: self.canvas.predicted_class().and_then(|c| weights?.class_names.get(c).cloned()),
                    has_drawing: self.canvas.has_strokes(),
                    has_weights: weights.is_some(),
                    running: self.session.run_active(),
                };
                self.collector.ui(ui, &inputs, &mut self.commands);
            });
        });
        self.attribution.sync(&ctx, &mut self.canvas, &self.session);
        let stages = self.session.predictor.as_ref().map_or(&[][..], |p| p.stages());
        let ranked = self.inside.shown_unit(stages).filter(|_| self.tab == Tab::Inside);
        let neighbours =
            self.tab == Tab::Inside && self.inside.section == views::inside::Section::Map && !self.canvas.is_empty();
        self.inside_worker.sync(&ctx, &self.session, ranked, neighbours);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            error_banner(ui, self.session.error.as_deref(), &mut self.commands);
            let running = self.session.run_active();
            self.coach_banner.ui(ui, &self.session.history, running, &mut self.commands);
            // Wrapped: a row wider than the panel would widen the panel's content under the canvas.
            ui.horizontal_wrapped(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Plots, "Live plots");
                ui.selectable_value(&mut self.tab, Tab::Gradients, "Gradient flow");
                ui.selectable_value(&mut self.tab, Tab::Evaluation, "Evaluation");
                ui.selectable_value(&mut self.tab, Tab::Architecture, "Architecture");
                ui.selectable_value(&mut self.tab, Tab::Inspector, "Network inspector");
                ui.selectable_value(&mut self.tab, Tab::Inside, "Inside the network");
                ui.selectable_value(&mut self.tab, Tab::Runs, "Runs");
            });
            ui.separator();
            match self.tab {
                Tab::Plots => {
                    let ex = &self.session.experiments;
                    let overlays = ex.overlays().into_iter().map(|(r, s)| (r.name().to_string(), r.color, s)).collect();
                    let extras = PlotExtras { overlays, markers: ex.markers_for(self.session.history.generation()) };
                    self.plots.ui_with(ui, &self.session.history, &mut self.settings, &extras)
                }
                Tab::Runs => {
                    let active = self.session.run_active();
                    let busy = self.background.in_flight.runs_view_busy();
                    self.runs.ui(ui, &self.session.experiments, active, busy, &mut self.commands)
                }
                Tab::Gradients => {
                    let model = self.session.run.as_ref().map_or(self.settings.train.model, |r| r.config.model);
                    self.gradients.ui(ui, &self.session.history, model);
                }
                Tab::Inspector => {
                    let latest = self.session.history.diagnostics.last();
                    self.inspector.saturation = latest.map(|(_, d)| d.saturation.clone()).unwrap_or_default();
                    let config = self.session.weights.as_ref().map_or(self.settings.train.model, |w| w.config);
                    self.inspector.next_run_differs = config.arch != self.settings.train.model.arch;
                    let input = self.canvas.network_input();
                    self.inspector.ui(
                        ui,
                        config,
                        self.session.predictor.as_ref(),
                        input.as_ref(),
                        self.session.fallback_image.as_deref(),
                        self.session.weights_version,
                    );
                }
                Tab::Inside => {
                    let input = self.canvas.network_input();
                    let inputs = views::inside::InsideInputs {
                        predictor: self.session.predictor.as_ref(),
                        weights_version: self.session.weights_version,
                        drawing: input.as_ref(),
                        fallback: self.session.fallback_image.as_deref(),
                        test: self.session.data.as_ref().map(|d| &d.test),
                        train: self.session.data.as_ref().map(|d| &d.train),
                        worker: &self.inside_worker,
                    };
                    self.inside.ui(ui, &inputs, &mut self.commands);
                }
                Tab::Architecture => {
                    let locked = self.session.run_active();
                    let (model, batch) = (self.settings.train.model, self.settings.train.batch_size);
                    self.architecture.ui(ui, model, batch, locked, &mut self.commands);
                }
                Tab::Evaluation => {
                    let inputs = EvaluationInputs::from_state(&self.session, &self.evaluation);
                    self.evaluation_view.ui(ui, &inputs, &mut self.commands);
                }
            }
        });

        self.capture_pending_screenshot(&ctx);

        for cmd in std::mem::take(&mut self.commands) {
            self.execute(cmd);
        }
        frame_time_overlay(&ctx, &self.frame_times, self.session.history.len(), self.plots.drawn_points);

        let spent = self.logic_started.take().unwrap_or(ui_start).elapsed().as_secs_f32() * 1000.0;
        self.frame_times.record(spent);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }

    /// Shutdown: see `shutdown.rs`.
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.finish_shutdown();
    }
}
