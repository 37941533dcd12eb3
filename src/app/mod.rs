//! The desktop window, in rooms by capability. This file is the shell: `PlaygroundApp` (the state every room
//! reads), `eframe::App` (one frame: drain the helpers, lay out the panels, route the tabs, carry out the commands)
//! and nothing else. No file or folder imports one that imports it back (tests/layering.rs checks every folder):
//!
//! * shared by all — `command.rs` (every intent a view can ask for; names nothing else of the app), `state.rs`
//!   (what the user chose, `Settings`; what exists while the app runs, `Session`), `history.rs` (the curves),
//!   `jobs.rs` (typed helper jobs and messages, the path picker), `widgets/` (banners, legends, textures, text);
//! * the rooms, each with its state, its views and its pure workers — `training/` (side panel, live plots,
//!   gradient flow, coach banner, the trainer's events), `runs/`, `drawings/` (the collector, the set chooser),
//!   `canvas/` (drawing, live prediction, attribution), `evaluation/`, `architecture/` (the editor and the
//!   inspector), `inside/` (the Inside tab and its helper thread), `export/` (files rendered off screen);
//! * `shell/` — the app's jobs on the whole of it (carry out a command, helper threads, the Runs and collector
//!   commands, the coach's buttons, shutdown; the tab routing), each an `impl PlaygroundApp`.
//!
//! A new tab is a room folder, a `Tab` variant and its arm in `shell/tabs.rs`. The UI thread never waits: no
//! `recv()`, `join()`, file I/O or evaluation happens on it.

pub mod architecture;
pub mod canvas;
pub mod command;
pub mod drawings;
pub mod evaluation;
pub mod export;
pub mod history;
pub mod inside;
mod jobs;
pub mod runs;
mod shell;
pub mod state;
pub mod training;
pub mod widgets;

pub use jobs::{fixed_dir_picker, PathPicker};

use crate::engine::data::set::Dataset;
use crate::engine::training::config::TrainConfig;
use architecture::inspector::InspectorView;
use architecture::view::ArchitectureView;
use canvas::attribution_worker::AttributionWorker;
use canvas::view::CanvasView;
use command::UiCommand;
use drawings::collector::{CollectorInputs, CollectorView};
use evaluation::state::EvalState;
use evaluation::view::EvaluationView;
use jobs::Background;
use runs::view::RunsView;
use state::{Session, Settings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use training::coach::CoachBanner;
use training::gradients::GradientsView;
use training::plots::PlotsView;
use widgets::banner::{frame_time_overlay, FrameTimes};

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
    drawings: drawings::state::Drawings,
    inspector: InspectorView,
    pub inside: inside::InsideView,
    inside_worker: inside::worker::InsideWorker,
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
        widgets::backdrop::install(ctx);
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
}

impl eframe::App for PlaygroundApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        widgets::backdrop::clear_color(visuals)
    }

    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_started = Some(Instant::now());
        self.drain_helpers();
        self.frame_times.events_last_frame = training::events::drain_training(&mut self.session, ctx);
        self.apply_deferred();
        self.handle_close(ctx);
        self.shortcuts(ctx);
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
                training::controls::controls_ui(
                    ui,
                    &mut self.settings,
                    &self.session,
                    helpers_busy,
                    &mut self.commands,
                );
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
            self.tab == Tab::Inside && self.inside.section == inside::Section::Map && !self.canvas.is_empty();
        self.inside_worker.sync(&ctx, &self.session, ranked, neighbours);
        egui::CentralPanel::default_margins().show(ui, |ui| self.central_ui(ui));

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
