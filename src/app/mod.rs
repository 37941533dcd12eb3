//! The desktop window. `PlaygroundApp` owns the state and is the only place side effects happen: `logic()` drains
//! the trainer's channel and the helper threads' messages under a time budget (never blocking), `ui()` lays out the
//! panels, and the views' `UiCommand`s are carried out in `execute`. Anything slow — data loading, file dialogs,
//! weight files, exports — runs on a short-lived helper thread that reports back on a channel and wakes the UI.

pub mod command;
pub mod export;
pub mod history;
pub mod state;
pub mod views;

use crate::engine::checkpoint;
use crate::engine::config::{Init, ModelConfig, TrainConfig};
use crate::engine::events::TrainEvent;
use crate::engine::mnist::{Dataset, DIGIT_CLASSES};
use crate::engine::predict::Predictor;
use crate::engine::weights::ModelWeights;
use crate::engine::worker;
use command::{PickKind, PlotFormat, UiCommand};
use crossbeam_channel::{unbounded, Receiver, Sender, TryRecvError};
use export::{ExportJob, PlotSeries};
use state::{Phase, RunInfo, Session, Settings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use views::canvas::CanvasView;
use views::inspector::InspectorView;
use views::plots::PlotsView;

/// How long one frame may spend applying training events before it yields to drawing.
pub const EVENT_BUDGET: Duration = Duration::from_millis(8);

/// Answers "which file?" for a `PickKind`; runs on a helper thread. The default opens rfd dialogs; tests inject
/// fixed paths.
pub type PathPicker = Arc<dyn Fn(PickKind) -> Option<PathBuf> + Send + Sync>;

/// What helper threads report back.
enum AppMsg {
    DataLoaded { folder: Option<PathBuf>, result: Result<Arc<Dataset>, String> },
    Picked { kind: PickKind, path: Option<PathBuf>, secs: f64 },
    JobDone(Result<String, String>),
    WeightsLoaded { path: PathBuf, result: Result<ModelWeights, String> },
    Screenshot { path: PathBuf, image: Arc<egui::ColorImage>, rect: egui::Rect, pixels_per_point: f32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Plots,
    Inspector,
}

/// Frame-time readout (F12).
#[derive(Default)]
struct DebugOverlay {
    visible: bool,
    /// Recent UI-work times in ms (logic + ui), newest last.
    recent_ms: std::collections::VecDeque<f32>,
    events_last_frame: usize,
}

pub struct PlaygroundApp {
    pub settings: Settings,
    pub session: Session,
    pub tab: Tab,
    ctx: egui::Context,
    msg_tx: Sender<AppMsg>,
    msg_rx: Receiver<AppMsg>,
    picker: PathPicker,
    commands: Vec<UiCommand>,
    plots: PlotsView,
    canvas: CanvasView,
    inspector: InspectorView,
    /// The first test image, for the inspector when the canvas is empty.
    fallback_image: Option<Box<[f32; 784]>>,
    /// (architecture, init, seed) of untrained weights, so they follow the settings until a run starts.
    fresh_from: Option<(ModelConfig, Init, u64)>,
    /// A path waiting for the next rendered frame to be captured.
    pending_screenshot: Option<PathBuf>,
    debug: DebugOverlay,
    logic_started: Option<Instant>,
}

impl PlaygroundApp {
    /// `data`: a data set to use at once (tests); None loads the settings' folder or the shipped MNIST in the
    /// background.
    pub fn new(ctx: &egui::Context, settings: Settings, data: Option<Arc<Dataset>>) -> Self {
        let (msg_tx, msg_rx) = unbounded();
        let mut app = PlaygroundApp {
            settings,
            session: Session::new(),
            tab: Tab::Plots,
            ctx: ctx.clone(),
            msg_tx,
            msg_rx,
            picker: Arc::new(dialog_pick),
            commands: Vec::new(),
            plots: PlotsView::default(),
            canvas: CanvasView::default(),
            inspector: InspectorView::default(),
            fallback_image: None,
            fresh_from: None,
            pending_screenshot: None,
            debug: DebugOverlay::default(),
            logic_started: None,
        };
        match data {
            Some(d) => app.install_data(d),
            None => app.load_data(app.settings.data_folder.clone()),
        }
        app
    }

    /// Replace the file dialogs (tests: answer with paths in a temporary folder).
    pub fn set_path_picker(&mut self, picker: PathPicker) {
        self.picker = picker;
    }

    /// Queue a command as if a view had asked for it.
    pub fn command(&mut self, cmd: UiCommand) {
        self.commands.push(cmd);
    }

    /// Mean and max UI work (logic + ui) over recent frames, in ms.
    pub fn frame_time_ms(&self) -> Option<(f32, f32)> {
        let r = &self.debug.recent_ms;
        if r.is_empty() {
            return None;
        }
        Some((r.iter().sum::<f32>() / r.len() as f32, r.iter().cloned().fold(0.0, f32::max)))
    }

    fn spawn_helper(&mut self, name: &str, job: impl FnOnce() -> AppMsg + Send + 'static) {
        let tx = self.msg_tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
            let _ = tx.send(job());
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.session.jobs_in_flight += 1,
            Err(e) => self.session.error = Some(format!("cannot start a helper thread: {e}")),
        }
    }

    // ----- data -----

    fn load_data(&mut self, folder: Option<PathBuf>) {
        let what = match &folder {
            Some(f) => f.display().to_string(),
            None => "the shipped MNIST".to_string(),
        };
        self.session.loading = Some(what);
        if self.session.data.is_none() {
            self.session.phase = Phase::LoadingData;
        }
        self.spawn_helper("data-loader", move || {
            let result = Dataset::load(folder.as_deref()).map(Arc::new).map_err(|e| e.to_string());
            AppMsg::DataLoaded { folder, result }
        });
    }

    fn install_data(&mut self, data: Arc<Dataset>) {
        let changed = self.session.data.as_ref().is_none_or(|d| d.name != data.name || d.source != data.source);
        self.fallback_image = (!data.test.is_empty()).then(|| Box::new(data.test.image(0)));
        self.session.status = format!("Data ready: {}", data.describe());
        self.session.data = Some(data);
        if !self.session.run_active() {
            self.session.phase = Phase::Idle;
        }
        if changed || self.session.weights.is_none() {
            self.reset_model();
        }
    }

    // ----- weights -----

    fn class_names(&self) -> Vec<String> {
        match &self.session.data {
            Some(d) => d.class_names.clone(),
            None => DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Installs weights for the canvas and inspector. A Predictor that cannot be built keeps the current model.
    fn install_weights(&mut self, w: ModelWeights) -> Result<(), String> {
        let predictor = Predictor::new(&w).map_err(|e| e.to_string())?;
        self.session.predictor = Some(predictor);
        self.session.weights = Some(w);
        self.session.weights_version += 1;
        Ok(())
    }

    /// Fresh weights from the settings; curves cleared.
    fn reset_model(&mut self) {
        let t = &self.settings.train;
        let dataset = self.session.data.as_ref().map_or("MNIST".to_string(), |d| d.name.clone());
        let w = ModelWeights::init(t.model, t.init, t.seed, &dataset, &self.class_names());
        self.fresh_from = Some((t.model, t.init, t.seed));
        self.session.history.clear();
        self.session.run = None;
        self.session.last_batch = None;
        self.session.last_test_accuracy = None;
        self.session.weights_from_file = false;
        if let Err(e) = self.install_weights(w) {
            self.session.error = Some(format!("cannot build the model: {e}"));
        }
    }

    // ----- training -----

    fn start_training(&mut self) {
        let Some(data) = self.session.data.clone() else {
            self.session.error = Some("No data set is loaded yet.".into());
            return;
        };
        if self.session.run_active() {
            return;
        }
        let cfg: TrainConfig = self.settings.train.clone();
        if let Err(e) = cfg.validate() {
            self.session.error = Some(e.to_string());
            return;
        }
        let trained = !self.session.history.is_empty() || self.session.weights_from_file;
        let initial = match &self.session.weights {
            Some(w) if trained && w.config == cfg.model => {
                self.session.history.start_run();
                Some(w.clone())
            }
            Some(_) if trained => {
                self.session.status = "The architecture changed: training starts from new weights.".into();
                self.session.history.clear();
                None
            }
            _ => None,
        };
        let ctx = self.ctx.clone();
        // A batch takes a few milliseconds: waking the UI for each would repaint hundreds of times a second and
        // take CPU from training. Coalesce wake-ups to about 30 frames a second; the frame drains all that arrived.
        let wake = move || ctx.request_repaint_after(std::time::Duration::from_millis(33));
        match worker::spawn(cfg, data, initial, wake) {
            Ok(handle) => {
                self.session.trainer = Some(handle);
                self.session.phase = Phase::Training;
                self.session.weights_from_file = false;
                self.fresh_from = None;
                self.session.error = None;
                self.session.status = "Training…".into();
            }
            Err(e) => self.session.error = Some(format!("cannot start the trainer thread: {e}")),
        }
    }

    /// Applies trainer events until the channel is empty or the frame's budget is spent.
    fn drain_training(&mut self) -> usize {
        let Some(rx) = self.session.trainer.as_ref().map(|t| t.events.clone()) else { return 0 };
        let deadline = Instant::now() + EVENT_BUDGET;
        let mut latest_weights = None;
        let mut n = 0;
        loop {
            if Instant::now() >= deadline {
                self.ctx.request_repaint(); // more next frame
                break;
            }
            match rx.try_recv() {
                Ok(ev) => {
                    n += 1;
                    if let Some(w) = self.apply_event(ev) {
                        latest_weights = Some(w);
                    }
                    if self.session.trainer.is_none() {
                        break; // the run ended
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if self.session.run_active() {
                        self.end_run();
                        self.session.error = Some("The training thread ended unexpectedly.".into());
                    }
                    break;
                }
            }
        }
        if let Some(w) = latest_weights {
            if let Err(e) = self.install_weights(w) {
                self.session.error = Some(format!("cannot use the new weights: {e}"));
            }
        }
        n
    }

    /// Returns weights to install (only the newest of a frame is built into a Predictor).
    fn apply_event(&mut self, ev: TrainEvent) -> Option<ModelWeights> {
        let s = &mut self.session;
        match ev {
            TrainEvent::Started { config, epochs, batches_per_epoch, train_images, test_images, dataset } => {
                s.run = Some(RunInfo { config, epochs, batches_per_epoch, train_images, test_images, dataset });
                s.last_batch = None;
                None
            }
            TrainEvent::Batch(b) => {
                s.last_batch = Some(b.clone());
                s.history.push_batch(b);
                None
            }
            TrainEvent::Epoch(e) => {
                s.last_test_accuracy = Some(e.test_accuracy);
                s.history.push_epoch(e);
                None
            }
            TrainEvent::Weights(w) => Some(w),
            TrainEvent::LrChanged(_)
            | TrainEvent::EpochsChanged { .. }
            | TrainEvent::Diagnostics(_)
            | TrainEvent::Hint(_) => None,
            TrainEvent::Finished { test_accuracy, elapsed_secs, weights } => {
                s.status = format!(
                    "Finished: test accuracy {:.2} % in {}",
                    test_accuracy * 100.0,
                    views::controls::format_secs(elapsed_secs)
                );
                self.end_run();
                Some(weights)
            }
            TrainEvent::Stopped { epoch, batch, elapsed_secs, weights } => {
                s.status = format!(
                    "Stopped at epoch {epoch}, batch {batch} after {}",
                    views::controls::format_secs(elapsed_secs)
                );
                self.end_run();
                Some(weights)
            }
            TrainEvent::Failed { message, weights } => {
                s.status = "Training failed.".into();
                s.error = Some(message);
                self.end_run();
                weights
            }
        }
    }

    fn end_run(&mut self) {
        self.session.trainer = None; // finished: dropping only sets flags, never joins
        self.session.phase = if self.session.data.is_some() { Phase::Idle } else { Phase::NoData };
    }

    // ----- commands -----

    fn execute(&mut self, cmd: UiCommand) {
        let s = &mut self.session;
        match cmd {
            UiCommand::Train => self.start_training(),
            UiCommand::Pause => {
                if let (Some(t), Phase::Training) = (&s.trainer, s.phase) {
                    t.set_paused(true);
                    s.phase = Phase::Paused;
                    s.status = "Paused.".into();
                }
            }
            UiCommand::Resume => {
                if let (Some(t), Phase::Paused) = (&s.trainer, s.phase) {
                    t.set_paused(false);
                    s.phase = Phase::Training;
                    s.status = "Training…".into();
                }
            }
            UiCommand::ToggleTrainPause => match s.phase {
                Phase::Idle => self.start_training(),
                Phase::Training => self.execute(UiCommand::Pause),
                Phase::Paused => self.execute(UiCommand::Resume),
                _ => {}
            },
            UiCommand::Stop => {
                if let Some(t) = &s.trainer {
                    t.stop();
                    s.phase = Phase::Stopping;
                    s.status = "Stopping after the current batch…".into();
                }
            }
            UiCommand::Reset => {
                if !s.run_active() {
                    self.reset_model();
                    self.session.status = "Reset: new weights, curves cleared.".into();
                }
            }
            UiCommand::ApplyPreset(p) => {
                if !s.run_active() {
                    let limit = self.settings.train.limit;
                    self.settings.train = TrainConfig::preset(p);
                    self.settings.train.limit = limit;
                    self.settings.preset = p;
                }
            }
            UiCommand::ExportPlots(f) => self.pick(PickKind::ExportPlots(f)),
            UiCommand::ExportScreenPng => self.pick(PickKind::ExportScreenPng),
            UiCommand::ExportMetrics => self.pick(PickKind::ExportMetrics),
            UiCommand::SaveWeights => self.pick(PickKind::SaveWeights),
            UiCommand::LoadWeights => self.pick(PickKind::LoadWeights),
            UiCommand::OpenDataFolder => self.pick(PickKind::DataFolder),
            UiCommand::LoadDataFolder(dir) => self.load_data(Some(dir)),
            UiCommand::UseShippedMnist => self.load_data(None),
            UiCommand::DismissError => s.error = None,
        }
    }

    fn pick(&mut self, kind: PickKind) {
        let picker = self.picker.clone();
        self.spawn_helper("file-dialog", move || {
            let t0 = Instant::now();
            let path = picker(kind);
            AppMsg::Picked { kind, path, secs: t0.elapsed().as_secs_f64() }
        });
    }

    fn on_picked(&mut self, kind: PickKind, path: PathBuf) {
        match kind {
            PickKind::ExportPlots(format) => {
                let path = with_extension(path, if format == PlotFormat::Png { "png" } else { "svg" });
                let job = ExportJob::Plots {
                    path,
                    format,
                    width: self.settings.export_width,
                    height: self.settings.export_height,
                    series: self.plot_series(),
                };
                self.spawn_job(job);
            }
            PickKind::ExportScreenPng => {
                self.tab = Tab::Plots;
                self.pending_screenshot = Some(with_extension(path, "png"));
                self.ctx.request_repaint();
            }
            PickKind::ExportMetrics => {
                let h = &self.session.history;
                let job = ExportJob::Metrics {
                    path: with_extension(path, "csv"),
                    batches: h.batches.clone(),
                    epochs: h.epochs.clone(),
                };
                self.spawn_job(job);
            }
            PickKind::SaveWeights => {
                let Some(w) = self.session.weights.clone() else { return };
                let path = with_extension(path, "safetensors");
                self.spawn_helper("save-weights", move || {
                    AppMsg::JobDone(
                        checkpoint::save(&path, &w)
                            .map(|()| format!("Weights saved to {}", path.display()))
                            .map_err(|e| e.to_string()),
                    )
                });
            }
            PickKind::LoadWeights => self.spawn_helper("load-weights", move || {
                let result = checkpoint::load(&path).map_err(|e| e.to_string());
                AppMsg::WeightsLoaded { path, result }
            }),
            PickKind::DataFolder => self.load_data(Some(path)),
        }
    }

    fn spawn_job(&mut self, job: ExportJob) {
        self.spawn_helper("export", move || AppMsg::JobDone(export::run_job(job)));
    }

    fn plot_series(&self) -> PlotSeries {
        let h = &self.session.history;
        // Describe the run the curves come from, not what the side panel says now.
        let t = self.session.run.as_ref().map_or(&self.settings.train, |r| &r.config);
        let data = match &self.session.run {
            Some(r) => r.dataset.clone(),
            None => self.session.data.as_ref().map_or("no data".to_string(), |d| d.name.clone()),
        };
        PlotSeries {
            loss: h.loss.clone(),
            accuracy: h.accuracy.clone(),
            test_accuracy: h.test_accuracy.clone(),
            smoothing: self.settings.smoothing.max(1),
            subtitle: format!(
                "{data}, {} + {}, {} lr {}, batch {}",
                t.model.activation.label(),
                t.model.pooling.label(),
                t.optimizer.label(),
                t.lr,
                t.batch_size
            ),
        }
    }

    fn handle_msg(&mut self, msg: AppMsg) {
        self.session.jobs_in_flight = self.session.jobs_in_flight.saturating_sub(1);
        match msg {
            AppMsg::DataLoaded { folder, result } => {
                self.session.loading = None;
                match result {
                    Ok(data) => {
                        self.settings.data_folder = folder;
                        self.install_data(data);
                    }
                    Err(e) => {
                        self.session.error = Some(format!("Cannot load the data set: {e}"));
                        if self.session.data.is_none() {
                            if folder.is_some() {
                                // A saved folder that went away: fall back to the shipped MNIST.
                                self.settings.data_folder = None;
                                self.load_data(None);
                            } else {
                                self.session.phase = Phase::NoData;
                            }
                        }
                    }
                }
            }
            AppMsg::Picked { kind, path, secs } => match path {
                Some(p) => self.on_picked(kind, p),
                None if secs < 0.3 => {
                    self.session.status = format!(
                        "{}: no file dialog could be shown (no desktop portal?), nothing was chosen.",
                        kind.title()
                    )
                }
                None => self.session.status = format!("{}: cancelled.", kind.title()),
            },
            AppMsg::JobDone(Ok(message)) => self.session.status = message,
            AppMsg::JobDone(Err(e)) => self.session.error = Some(e),
            AppMsg::WeightsLoaded { path, result } => {
                let installed = result.and_then(|w| {
                    let config = w.config;
                    let dataset = w.dataset.clone();
                    self.install_weights(w).map(|()| (config, dataset))
                });
                match installed {
                    Ok((config, dataset)) => {
                        self.settings.train.model = config;
                        self.fresh_from = None;
                        self.session.history.clear();
                        self.session.run = None;
                        self.session.last_batch = None;
                        self.session.last_test_accuracy = None;
                        self.session.weights_from_file = true;
                        self.session.status = format!(
                            "Loaded {} ({} + {}, trained on {dataset}); Train continues from these weights.",
                            path.display(),
                            config.activation.label(),
                            config.pooling.label()
                        );
                    }
                    Err(e) => {
                        self.session.error = Some(format!("Cannot load weights (the current model is kept): {e}"))
                    }
                }
            }
            AppMsg::Screenshot { path, image, rect, pixels_per_point } => {
                self.spawn_job(ExportJob::Screen { path, image, rect, pixels_per_point });
            }
        }
    }

    /// Untrained weights follow the settings (architecture, init, seed) until a run starts.
    fn follow_settings(&mut self) {
        let t = &self.settings.train;
        let now = (t.model, t.init, t.seed);
        if let Some(prev) = self.fresh_from {
            if prev != now && !self.session.run_active() && self.session.history.is_empty() {
                self.reset_model();
            }
        }
    }

    fn error_banner(&mut self, ui: &mut egui::Ui) {
        let Some(message) = self.session.error.clone() else { return };
        egui::Frame::new()
            .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
            .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
            .inner_margin(8.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().error_fg_color, egui::RichText::new("Error:").strong());
                    ui.add(
                        egui::Label::new(egui::RichText::new(&message).color(ui.visuals().strong_text_color())).wrap(),
                    );
                });
                if ui.button("Dismiss").clicked() {
                    self.commands.push(UiCommand::DismissError);
                }
            });
        ui.add_space(6.0);
    }

    fn debug_overlay(&self, ctx: &egui::Context) {
        if !self.debug.visible {
            return;
        }
        let (mean, max) = self.frame_time_ms().unwrap_or((0.0, 0.0));
        egui::Area::new(egui::Id::unique("debug_overlay"))
            .anchor(egui::Align2::RIGHT_TOP, [-8.0, 8.0])
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.monospace(format!(
                        "UI work/frame: {mean:.2} ms avg, {max:.2} ms max (last {})",
                        self.debug.recent_ms.len()
                    ));
                    ui.monospace(format!("frame interval: {:.1} ms", ctx.input(|i| i.unstable_dt) * 1000.0));
                    ui.monospace(format!(
                        "batches: {} · drawn points: {} · events last frame: {}",
                        self.session.history.len(),
                        self.plots.drawn_points,
                        self.debug.events_last_frame
                    ));
                });
            });
    }
}

fn with_extension(path: PathBuf, ext: &str) -> PathBuf {
    if path.extension().is_some() {
        path
    } else {
        path.with_extension(ext)
    }
}

/// Answers every save/load question with the default file name in `dir` (no dialogs). Used when
/// `LENET_PLAYGROUND_EXPORT_DIR` is set (scripted sessions, screenshots) and by tests. Folders are not picked.
pub fn fixed_dir_picker(dir: PathBuf) -> PathPicker {
    Arc::new(move |kind: PickKind| kind.file().map(|(name, _)| dir.join(name)))
}

/// The real dialogs (rfd, xdg portal). Called on a helper thread: it may block until the user answers.
fn dialog_pick(kind: PickKind) -> Option<PathBuf> {
    let dialog = rfd::FileDialog::new().set_title(kind.title());
    match kind {
        PickKind::DataFolder => dialog.pick_folder(),
        PickKind::LoadWeights => dialog.add_filter("LeNet-5 weights", &["safetensors"]).pick_file(),
        _ => {
            let (name, ext) = kind.file()?;
            dialog.set_file_name(name).add_filter(ext, &[ext]).save_file()
        }
    }
}

impl eframe::App for PlaygroundApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_started = Some(Instant::now());
        while let Ok(msg) = self.msg_rx.try_recv() {
            self.handle_msg(msg);
        }
        self.debug.events_last_frame = self.drain_training();
        if !ctx.egui_wants_keyboard_input() && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space))
        {
            self.execute(UiCommand::ToggleTrainPause);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F12)) {
            self.debug.visible = !self.debug.visible;
        }
        self.follow_settings();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ui_start = Instant::now();
        let ctx = ui.ctx().clone();

        egui::Panel::left("controls").resizable(true).default_size(330.0).min_size(280.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                views::controls::controls_ui(ui, &mut self.settings, &self.session, &mut self.commands);
            });
        });
        egui::Panel::right("canvas").resizable(true).default_size(360.0).min_size(220.0).show(ui, |ui| {
            let test_set = self.session.data.as_ref().map(|d| &d.test);
            self.canvas.ui(ui, self.session.predictor.as_ref(), test_set, self.session.weights_version);
        });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            self.error_banner(ui);
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Plots, "Live plots");
                ui.selectable_value(&mut self.tab, Tab::Inspector, "Network inspector");
            });
            ui.separator();
            match self.tab {
                Tab::Plots => self.plots.ui(ui, &self.session.history, &mut self.settings),
                Tab::Inspector => {
                    let config = self.session.weights.as_ref().map_or(self.settings.train.model, |w| w.config);
                    let input = self.canvas.network_input();
                    self.inspector.ui(
                        ui,
                        config,
                        self.session.predictor.as_ref(),
                        input.as_ref(),
                        self.fallback_image.as_deref(),
                        self.session.weights_version,
                    );
                }
            }
        });

        if self.tab == Tab::Plots {
            if let (Some(path), Some(rect)) = (self.pending_screenshot.take(), self.plots.plots_rect) {
                let tx = self.msg_tx.clone();
                let wake = ctx.clone();
                let pixels_per_point = ctx.pixels_per_point();
                self.session.jobs_in_flight += 1;
                ctx.request_screenshot(move |image| {
                    let _ = tx.send(AppMsg::Screenshot { path, image, rect, pixels_per_point });
                    wake.request_repaint();
                });
            }
        }

        for cmd in std::mem::take(&mut self.commands) {
            self.execute(cmd);
        }
        self.debug_overlay(&ctx);

        let spent = self.logic_started.take().unwrap_or(ui_start).elapsed().as_secs_f32() * 1000.0;
        self.debug.recent_ms.push_back(spent);
        if self.debug.recent_ms.len() > 120 {
            self.debug.recent_ms.pop_front();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// Opens the window; returns the process exit code.
pub fn run() -> i32 {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("LeNet-5 Playground")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0]),
        persist_window: true,
        ..Default::default()
    };
    let result = eframe::run_native(
        "LeNet-5 Playground",
        options,
        Box::new(|cc| {
            let settings: Settings = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
            let mut app = PlaygroundApp::new(&cc.egui_ctx, settings, None);
            if let Some(dir) = std::env::var_os("LENET_PLAYGROUND_EXPORT_DIR") {
                app.set_path_picker(fixed_dir_picker(PathBuf::from(dir)));
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => 0,
        Err(e) => {
            let no_display = std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
            if no_display {
                eprintln!(
                    "error: cannot open the window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). \
                           Run it in a desktop session, or use a subcommand (see --help). ({e})"
                );
            } else {
                eprintln!("error: cannot open the window: {e}");
            }
            3
        }
    }
}
