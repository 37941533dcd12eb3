//! Carrying out `UiCommand`s: the only place a user's intent turns into a side effect (a trainer thread, a data
//! load, a weights file, an export). A command whose path is still `None` first asks the picker; the answer comes
//! back as the same command with the path, and is carried out here like any other. The coach's and the Runs view's
//! commands have their own files (`coach.rs`, `runs.rs`, `drawings.rs` beside this one).

use crate::app::architecture::edit;
use crate::app::command::{LiveCommand, PlotFormat, TrainStart, UiCommand};
use crate::app::evaluation::state::OnDemand;
use crate::app::export::{self, render_confusion, PlotSeries};
use crate::app::jobs::{AppMsg, Job};
use crate::app::runs::experiments::WeightsOrigin;
use crate::app::state::Phase;
use crate::app::{PlaygroundApp, Tab};
use crate::engine::data::set::Dataset;
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::insight::evaluate::{evaluate_weights, Evaluation};
use crate::engine::model::{checkpoint, onnx};
use crate::engine::store::runs::{settings_label, ContinuedFrom, RunOrigin};
use crate::engine::training::config::TrainConfig;
use crate::engine::training::worker;
use crate::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

impl PlaygroundApp {
    pub(crate) fn execute(&mut self, cmd: UiCommand) {
        let s = &mut self.session;
        match cmd {
            UiCommand::Train => self.start_training(self.default_start()),
            UiCommand::TrainFrom(start) => self.start_training(start),
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
                // As the Train button: a network that cannot be built does not start, and the status line gives
                // the reason the disabled button's hover text gives (not an error banner).
                Phase::Idle => match crate::engine::model::stages::try_stages(self.settings.train.model) {
                    Err(e) => s.status = format!("Cannot train this network: {e}"),
                    Ok(_) if s.data.is_none() => s.status = "Waiting for the data set".into(),
                    Ok(_) => self.start_training(self.default_start()),
                },
                Phase::Training => self.execute(UiCommand::Pause),
                Phase::Paused => self.execute(UiCommand::Resume),
                _ => {}
            },
            UiCommand::Stop => {
                if let Some(t) = &s.trainer {
                    t.stop();
                    s.phase = Phase::Stopping;
                    s.status = "Stopping after the current batch…".into();
                    // The coach's banners were about this run: filed away (its Runs entry keeps them).
                    s.history.file_hints_away();
                }
            }
            UiCommand::Reset => {
                if !s.run_active() {
                    s.reset_model(&self.settings.train);
                    s.status = "Reset: new weights, curves cleared.".into();
                }
            }
            UiCommand::ApplyPreset(p) => {
                if !s.run_active() {
                    // A training recipe keeps the network built in the Architecture tab (and the class count).
                    let (limit, arch, classes) =
                        (self.settings.train.limit, self.settings.train.model.arch, self.settings.train.model.classes);
                    self.settings.train = TrainConfig::preset(p);
                    self.settings.train.limit = limit;
                    self.settings.train.model.arch = arch;
                    self.settings.train.model.classes = classes;
                    self.settings.preset = p;
                }
            }
            UiCommand::Architecture(c) => {
                if !s.run_active() {
                    match edit::apply(self.settings.train.model.arch, c) {
                        Ok(arch) => self.settings.train.model.arch = arch,
                        Err(e) => s.error = Some(format!("Cannot change the architecture: {e}")),
                    }
                }
            }
            UiCommand::ExportPlots(format, Some(path)) => {
                let path = with_extension(path, if format == PlotFormat::Png { "png" } else { "svg" });
                let (width, height) = (self.settings.export_width, self.settings.export_height);
                let series = self.plot_series();
                self.spawn_helper(Job::Export, move || {
                    AppMsg::Done(export::write_plots(&path, format, width, height, &series))
                });
            }
            UiCommand::ExportScreenPng(Some(path)) => {
                // Captured after the next frame with the plots on screen (see `PlaygroundApp::ui`).
                self.tab = Tab::Plots;
                self.pending_screenshot = Some(with_extension(path, "png"));
                self.ctx.request_repaint();
            }
            UiCommand::ExportMetrics(Some(path)) => {
                let path = with_extension(path, "csv");
                let (batches, epochs) = (s.history.batches.clone(), s.history.epochs.clone());
                let diagnostics: Vec<_> = s.history.diagnostics.iter().map(|(_, d)| d.clone()).collect();
                // With runs ticked for the overlay: their rows too, with a `run` column.
                let ticked = s.experiments.ticked_metrics();
                let model = s.run_model();
                let starts = s.history.run_starts();
                self.spawn_helper(Job::Export, move || {
                    AppMsg::Done(if ticked.is_empty() {
                        export::write_metrics_with_diagnostics(&path, model, &batches, &epochs, &diagnostics, &starts)
                    } else {
                        export::write_metrics_with_runs(&path, model, &batches, &epochs, &starts, &ticked)
                    })
                });
            }
            UiCommand::SaveWeights(Some(path)) => {
                let Some(w) = s.weights.clone() else { return };
                let path = with_extension(path, "safetensors");
                self.spawn_helper(Job::SaveWeights, move || {
                    AppMsg::Done(checkpoint::save(&path, &w).map(|()| format!("Weights saved to {}", path.display())))
                });
            }
            UiCommand::ExportOnnx(Some(path)) => {
                let Some(w) = s.weights.clone() else { return };
                let path = with_extension(path, "onnx");
                self.spawn_helper(Job::Export, move || {
                    AppMsg::Done(onnx::export_onnx(&w, &path).map(|bytes| {
                        format!(
                            "ONNX model (opset {}, {} KB) written to {}: open it in Netron or run it with onnxruntime",
                            onnx::OPSET,
                            bytes.div_ceil(1024),
                            path.display()
                        )
                    }))
                });
            }
            UiCommand::LoadWeights(Some(path)) => self.spawn_helper(Job::LoadWeights, move || {
                let result = checkpoint::load(&path);
                AppMsg::WeightsLoaded { path, result }
            }),
            UiCommand::OpenDataFolder(Some(dir)) => self.load_data(Some(dir)),
            UiCommand::UseShippedMnist => self.load_data(None),
            UiCommand::DismissError => s.error = None,
            UiCommand::Runs(c) => self.runs_command(c),
            UiCommand::Live(c) => self.live_command(c),
            UiCommand::Coach(c) => self.coach_command(c),
            UiCommand::Evaluate => self.start_evaluation(),
            UiCommand::ShowTestImage(index) => {
                if let Some(d) = &s.data {
                    self.canvas.show_test_digit(&d.test, index);
                }
            }
            UiCommand::Drawings(c) => self.drawings_command(c),
            UiCommand::ExportConfusion(format, Some(path)) => {
                let path = with_extension(path, if format == PlotFormat::Png { "png" } else { "svg" });
                self.export_confusion(format, path);
            }
            // No path yet: ask; the answer is this command again, with its path.
            ask @ (UiCommand::ExportPlots(_, None)
            | UiCommand::ExportScreenPng(None)
            | UiCommand::ExportMetrics(None)
            | UiCommand::ExportConfusion(_, None)
            | UiCommand::SaveWeights(None)
            | UiCommand::ExportOnnx(None)
            | UiCommand::LoadWeights(None)
            | UiCommand::OpenDataFolder(None)) => self.ask(ask),
        }
    }

    fn live_command(&mut self, cmd: LiveCommand) {
        let s = &mut self.session;
        let Some(t) = s.trainer.as_ref().filter(|_| s.run_active()) else { return };
        match cmd {
            LiveCommand::Lr { lr, done } => {
                t.control.set_lr(lr);
                s.experiments.lr_dragging = !done;
                if done {
                    t.control.commit_lr_gesture();
                }
            }
            LiveCommand::Epochs(n) => t.control.set_epochs(n),
            LiveCommand::Step => {
                if t.control.is_paused() {
                    t.control.step_one();
                    s.status = "Step: one batch…".into();
                }
            }
        }
    }

    /// Evaluates the current weights on the test set on a helper thread (Evaluate button).
    fn start_evaluation(&mut self) {
        let s = &mut self.session;
        if self.evaluation.running.is_some() {
            return;
        }
        let (Some(weights), Some(data)) = (s.weights.clone(), s.data.clone()) else {
            s.error = Some("Evaluate needs weights and a test set.".into());
            return;
        };
        let done = Arc::new(AtomicUsize::new(0));
        self.evaluation.running = Some((done.clone(), data.test.len()));
        let weights_version = s.weights_version;
        self.evaluation.data = (data.name.clone(), data.test.len());
        let ctx = self.ctx.clone();
        self.spawn_helper(Job::Evaluate, move || {
            let result = evaluate_weights(&weights, &data.test, None, &mut |n, _| {
                done.store(n, Ordering::Relaxed);
                ctx.request_repaint();
            })
            .and_then(|r| r.ok_or_else(|| Error::Internal("the evaluation was interrupted".into())));
            AppMsg::Evaluated { weights_version, result }
        });
    }

    pub(crate) fn finish_evaluation(&mut self, weights_version: u64, result: crate::Result<Evaluation>) {
        self.evaluation.running = None;
        match result {
            Ok(eval) => {
                self.session.status =
                    format!("Evaluated: test accuracy {:.2} % on {} test images", eval.accuracy * 100.0, eval.images());
                let data = self.evaluation.data.clone();
                self.evaluation.result = Some(OnDemand { weights_version, data, eval: Arc::new(eval) });
            }
            Err(e) => self.session.show_error("Evaluation failed", &e),
        }
    }

    /// Renders the shown confusion matrix off screen and writes it (helper thread).
    fn export_confusion(&mut self, format: PlotFormat, path: PathBuf) {
        let Some(m) = self.evaluation_view.export_data() else {
            self.session.error = Some("No confusion matrix to export yet: train, or load weights and Evaluate.".into());
            return;
        };
        self.spawn_helper(Job::Export, move || {
            AppMsg::Done(
                render_confusion(&m, format)
                    .map_err(|e| Error::write(&path, e))
                    .and_then(|bytes| write_atomic(&path, &bytes))
                    .map(|()| format!("Confusion matrix exported to {}", path.display())),
            )
        });
    }

    /// Loads `folder` (None: the shipped MNIST) on a helper thread; the window keeps running meanwhile.
    pub(crate) fn load_data(&mut self, folder: Option<PathBuf>) {
        let what = match &folder {
            Some(f) => f.display().to_string(),
            None => "the shipped MNIST".to_string(),
        };
        self.session.loading = Some(what);
        if self.session.data.is_none() {
            self.session.phase = Phase::LoadingData;
        }
        self.spawn_helper(Job::LoadData, move || {
            let (result, notes) = match Dataset::load_noted(folder.as_deref()) {
                Ok(l) => (Ok(Arc::new(l.data)), l.notes),
                Err(e) => (Err(e), Vec::new()),
            };
            AppMsg::DataLoaded { folder, result, notes }
        });
    }

    /// What Train and Space do: continue when the side panel says so and the weights allow it, else from scratch.
    fn default_start(&self) -> TrainStart {
        if self.settings.continue_training && self.session.can_continue(&self.settings.train) {
            TrainStart::Continue
        } else {
            TrainStart::Scratch
        }
    }

    fn start_training(&mut self, start: TrainStart) {
        let s = &mut self.session;
        let Some(data) = s.data.clone() else {
            s.error = Some("No data set is loaded yet.".into());
            return;
        };
        if s.run_active() {
            return;
        }
        let cfg: TrainConfig = self.settings.train.clone();
        if let Err(e) = cfg.validate() {
            s.error = Some(e.report());
            return;
        }
        let mut note = None;
        let continuing = match start {
            TrainStart::Continue if s.can_continue(&cfg) => Some(continuing_origin(s, &cfg)),
            TrainStart::Continue => {
                note = Some(if s.history.is_empty() && s.weights_origin.is_none() && !s.weights_from_file {
                    "Nothing trained to continue: training starts from scratch."
                } else {
                    "The weights do not fit these settings' network: training starts from scratch."
                });
                None
            }
            TrainStart::Scratch => None,
        };
        let status = match (&continuing, note) {
            (_, Some(note)) => note.to_string(),
            (Some(c), None) => {
                let names = &s.experiments.runs;
                let name_of = |id: &str| names.iter().find(|r| r.id() == id).map(|r| r.name().to_string());
                format!("Training, {}…", c.from.describe(name_of))
            }
            (None, None) => "Training from scratch…".into(),
        };
        let initial = continuing.as_ref().and_then(|_| s.weights.clone());
        self.spawn_trainer(cfg, data, initial, continuing, status);
    }

    /// The one place a window run starts: from `initial` weights continuing `continuing` (the curves go on where the
    /// weights were trained to, after this session's curves or on empty axes after Use weights or Load weights), or
    /// from fresh weights on cleared curves; `status` is said once the trainer runs.
    pub(crate) fn spawn_trainer(
        &mut self,
        cfg: TrainConfig,
        data: std::sync::Arc<Dataset>,
        initial: Option<crate::engine::model::weights::ModelWeights>,
        continuing: Option<WeightsOrigin>,
        status: String,
    ) {
        let s = &mut self.session;
        match &continuing {
            Some(origin) => {
                s.history.start_run_at(origin.from.epoch_offset);
                s.history.file_hints_away();
            }
            None => s.history.clear(),
        }
        s.experiments.last_step = None;
        let ctx = self.ctx.clone();
        // A batch takes a few milliseconds: waking the UI for each would repaint hundreds of times a second and
        // take CPU from training. Coalesce wake-ups (see TRAINING_FRAME); the frame drains all that arrived. Input
        // (a drag on a slider, a stroke on the canvas) still repaints at once: egui wakes itself for that.
        let wake = move || ctx.request_repaint_after(TRAINING_FRAME);
        match worker::spawn(cfg, data, initial, wake) {
            Ok(handle) => {
                s.trainer = Some(handle);
                s.phase = Phase::Training;
                s.weights_from_file = false;
                s.fresh_from = None;
                s.error = None;
                s.status = status;
                s.experiments.continuing = continuing;
            }
            Err(e) => s.error = Some(format!("cannot start the trainer thread: {e}")),
        }
    }

    /// A copy of the curves for an export, taken on the UI thread (cheap) and rendered on a helper.
    fn plot_series(&self) -> PlotSeries {
        let s = &self.session;
        let h = &s.history;
        // Describe the run the curves come from, not what the side panel says now.
        let t = s.run.as_ref().map_or(&self.settings.train, |r| &r.config);
        let data = match &s.run {
            Some(r) => r.dataset.clone(),
            None => s.data.as_ref().map_or("no data".to_string(), |d| d.name.clone()),
        };
        PlotSeries {
            loss: h.loss.clone(),
            accuracy: h.accuracy.clone(),
            test_accuracy: h.test_accuracy.clone(),
            smoothing: self.settings.smoothing.max(1),
            network: match crate::app::architecture::view::arch_name(&t.model.arch) {
                "Custom" => "Custom network training".to_string(),
                name => format!("{name} training"),
            },
            subtitle: format!("{data}, {}", t.describe()),
            overlays: s.experiments.export_overlays(self.settings.smoothing.max(1)),
        }
    }
}

/// How often the trainer's events wake the window: 5 frames a second keep the curves and the status moving, and
/// leave the cores to training (a batch is ~5 ms; the curves gain ~40 points a frame). Measured with
/// `benches/window_vs_cli.sh` (README, Performance): without a GPU, Mesa's llvmpipe spends ~12 ms of CPU drawing a
/// 1280×800 frame (see `widgets::backdrop`), so at 5 frames a second drawing takes ~3 % of a 2-core machine.
/// Input (a drag, a stroke, a click) is not throttled: egui repaints at once for it.
pub(crate) const TRAINING_FRAME: Duration = Duration::from_millis(200);

/// What a run that starts from the current weights continues: where they came from, or (weights trained in this
/// window and not recorded) the run on screen, as far as its curves go.
pub(crate) fn continuing_origin(s: &crate::app::state::Session, cfg: &TrainConfig) -> WeightsOrigin {
    s.weights_origin.clone().unwrap_or_else(|| {
        // The run that trained these weights (the last one of the window), not the run about to start from them.
        let name = settings_label(s.run.as_ref().map_or(cfg, |r| &r.config));
        let from = ContinuedFrom { origin: RunOrigin::Unrecorded { name }, epoch_offset: s.history.last_x() };
        WeightsOrigin { from, awaiting_save: None }
    })
}

fn with_extension(path: PathBuf, ext: &str) -> PathBuf {
    if path.extension().is_some() {
        path
    } else {
        path.with_extension(ext)
    }
}
