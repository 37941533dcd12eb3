//! Experiments in the window: the live learning rate, epochs and Step of the running trainer, learning-rate
//! markers, and the run store behind the Runs view — every run recorded at its end, the list restored at start-up,
//! rename / delete / clear, weights and settings of a stored run, and the curves of ticked runs for the overlay.
//!
//! Only plain state and cheap bookkeeping happen on the UI thread; every file operation (list, save, rename,
//! delete, reading a run's metrics or weights) runs on a helper thread and answers with a `RunsMsg`.

use super::background::AppMsg;
use super::PlaygroundApp;
use crate::app::history::moving_average;
use crate::engine::events::{StepResult, TrainEvent};
use crate::engine::runs::{
    diff_label, lr_text, NewRun, RunList, RunRecorder, RunSource, RunStore, StoredMetrics, StoredRun,
};
use crate::engine::weights::ModelWeights;
use egui::Color32;
use std::path::PathBuf;
use std::sync::Arc;

/// Colours of stored runs, by position in the list (distinct from the current run's red, green and blue).
pub const RUN_COLORS: [Color32; 8] = [
    Color32::from_rgb(230, 140, 20),
    Color32::from_rgb(150, 80, 200),
    Color32::from_rgb(20, 170, 170),
    Color32::from_rgb(200, 60, 150),
    Color32::from_rgb(120, 120, 40),
    Color32::from_rgb(90, 140, 250),
    Color32::from_rgb(160, 90, 50),
    Color32::from_rgb(100, 180, 90),
];

/// How many runs "Clear old runs" keeps.
pub const KEEP_ON_CLEAR: usize = 5;

/// What the Runs view asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RunsCommand {
    Refresh,
    Rename {
        id: String,
        name: String,
    },
    Delete(String),
    /// Delete all but the newest `keep` runs.
    ClearOld {
        keep: usize,
    },
    /// Load the run's final weights into the canvas and inspector.
    UseWeights(String),
    /// Copy the run's settings into the side panel.
    LoadSettings(String),
    /// Tick or untick the run's curves in the plots.
    SetOverlay {
        id: String,
        on: bool,
    },
}

/// What the side panel asks of the running trainer.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCommand {
    /// One value of a drag; `done` ends the gesture (release, or a value typed in one go).
    Lr {
        lr: f64,
        done: bool,
    },
    Epochs(usize),
    /// While paused: train exactly one batch.
    Step,
}

/// Helper threads' answers.
pub enum RunsMsg {
    Listed {
        list: RunList,
        disk_bytes: u64,
    },
    Saved(Result<Box<StoredRun>, String>),
    Curves {
        id: String,
        result: Result<Arc<OverlaySeries>, String>,
    },
    /// Rename / delete / clear done (status line) or failed (error); the list is reloaded either way.
    Changed(Result<String, String>),
    Weights {
        id: String,
        result: Result<ModelWeights, String>,
    },
}

/// A stored run's curves in plot units: x in epochs, accuracy in %.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverlaySeries {
    pub loss: Vec<[f64; 2]>,
    pub accuracy: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
    pub lr: Vec<[f64; 2]>,
}

impl OverlaySeries {
    pub fn from_metrics(m: &StoredMetrics) -> Self {
        OverlaySeries {
            loss: m.batches.iter().map(|b| [b.x_epochs, b.loss as f64]).collect(),
            accuracy: m.batches.iter().map(|b| [b.x_epochs, b.accuracy as f64 * 100.0]).collect(),
            test_accuracy: m
                .epochs
                .iter()
                .filter(|e| e.test_accuracy.is_finite())
                .map(|e| [e.epoch as f64, e.test_accuracy as f64 * 100.0])
                .collect(),
            lr: m.batches.iter().filter_map(|b| Some([b.x_epochs, b.lr?])).collect(),
        }
    }

    /// The same curves smoothed over `window` batches (test points unchanged).
    pub fn smoothed(&self, window: usize) -> OverlaySeries {
        OverlaySeries {
            loss: moving_average(&self.loss, window),
            accuracy: moving_average(&self.accuracy, window),
            test_accuracy: self.test_accuracy.clone(),
            lr: self.lr.clone(),
        }
    }

    pub fn last_x(&self) -> f64 {
        self.loss.last().map_or(0.0, |p| p[0])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Curves {
    NotLoaded,
    Loading,
    Ready(Arc<OverlaySeries>),
    Failed(String),
}

/// A stored run as the Runs view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    pub run: StoredRun,
    pub color: Color32,
    /// What differs from the run before, e.g. `SGD lr 0.9 -> Adam lr 0.003`.
    pub label: String,
    pub overlay: bool,
    pub curves: Curves,
}

impl RunEntry {
    pub fn id(&self) -> &str {
        self.run.id()
    }
    pub fn name(&self) -> &str {
        &self.run.record.name
    }
}

/// A learning-rate change of the current curves, at `x` in the plots' epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct LrMarker {
    pub x: f64,
    pub label: String,
}

#[derive(Default)]
pub struct Experiments {
    /// The data folder's run store; None unless `set_data_home` gave one (the window passes the data folder;
    /// tests a temporary one): without it runs are not kept.
    pub store: Option<RunStore>,
    started: bool,
    pub runs: Vec<RunEntry>,
    /// A list or change is on its way.
    pub busy: usize,
    /// Folders the last listing skipped, with why.
    pub skipped: Vec<String>,
    pub disk_bytes: u64,
    /// Markers of the current curves (cleared with them).
    pub markers: Vec<LrMarker>,
    markers_generation: u64,
    /// Plot x of the current run's epoch 0.
    run_x_offset: f64,
    recorder: Option<RunRecorder>,
    pending_save: Option<NewRun>,
    /// The last Step's loss before and after.
    pub last_step: Option<StepResult>,
    /// A live lr gesture (drag) is under way.
    pub lr_dragging: bool,
    /// Ticks waiting for the list (a run ticked before its curves exist).
    pending_ticks: Vec<String>,
}

impl Experiments {
    /// Applies a trainer event (called for every event, on the UI thread: bookkeeping only).
    pub fn observe(&mut self, ev: &TrainEvent, history_last_x: f64, generation: u64) {
        if generation != self.markers_generation {
            self.markers.clear();
            self.markers_generation = generation;
        }
        match ev {
            TrainEvent::Started { .. } => {
                self.recorder = Some(RunRecorder::new(RunSource::App, None));
                self.run_x_offset = history_last_x;
                self.last_step = None;
            }
            TrainEvent::LrChanged(c) => self.markers.push(LrMarker {
                x: self.run_x_offset + c.x_epochs,
                label: format!("lr {} -> {}", lr_text(c.old_lr), lr_text(c.new_lr)),
            }),
            TrainEvent::StepResult(r) => self.last_step = Some(r.clone()),
            _ => {}
        }
        if let Some(r) = self.recorder.as_mut() {
            r.observe(ev);
            if r.is_complete() {
                self.pending_save = self.recorder.take().and_then(|r| r.finish());
            }
        }
    }

    /// Markers that belong to the curves of `generation`.
    pub fn markers_for(&self, generation: u64) -> &[LrMarker] {
        if generation == self.markers_generation {
            &self.markers
        } else {
            &[]
        }
    }

    /// The ticked runs whose curves are ready, with their colour and name.
    pub fn overlays(&self) -> Vec<(&RunEntry, Arc<OverlaySeries>)> {
        self.runs
            .iter()
            .filter(|r| r.overlay)
            .filter_map(|r| match &r.curves {
                Curves::Ready(s) => Some((r, s.clone())),
                _ => None,
            })
            .collect()
    }

    /// (name, metrics.csv) of each ticked run, for the CSV export.
    pub fn ticked_metrics(&self) -> Vec<(String, PathBuf)> {
        self.runs.iter().filter(|r| r.overlay).map(|r| (r.name().to_string(), r.run.metrics_path())).collect()
    }

    /// The ticked runs' curves for the PNG/SVG export, smoothed over `window` batches.
    pub fn export_overlays(&self, window: usize) -> Vec<crate::app::export::OverlayExport> {
        self.overlays()
            .into_iter()
            .map(|(entry, s)| {
                let s = s.smoothed(window);
                let [r, g, b, _] = entry.color.to_array();
                crate::app::export::OverlayExport {
                    name: entry.name().to_string(),
                    rgb: (r, g, b),
                    loss: s.loss,
                    accuracy: s.accuracy,
                    test_accuracy: s.test_accuracy,
                }
            })
            .collect()
    }

    fn set_list(&mut self, list: RunList, disk_bytes: u64) {
        let old: Vec<RunEntry> = std::mem::take(&mut self.runs);
        let mut prev_config = None;
        for (i, run) in list.runs.into_iter().enumerate() {
            // The window's font has no '→'.
            let label = diff_label(prev_config.as_ref(), &run.record.config).replace('→', "->");
            prev_config = Some(run.record.config.clone());
            let kept = old.iter().find(|o| o.id() == run.id());
            let overlay = kept.is_some_and(|o| o.overlay) || self.pending_ticks.iter().any(|t| t == run.id());
            let curves = kept.map_or(Curves::NotLoaded, |o| o.curves.clone());
            self.runs.push(RunEntry { run, color: RUN_COLORS[i % RUN_COLORS.len()], label, overlay, curves });
        }
        self.pending_ticks.clear();
        self.skipped = list.skipped;
        self.disk_bytes = disk_bytes;
    }
}

fn runs_msg(m: RunsMsg) -> AppMsg {
    AppMsg::Runs(Box::new(m))
}

impl PlaygroundApp {
    /// Keeps runs under `dir/runs` (the window passes `engine::runs::data_dir()`; tests a temporary folder).
    /// Without it, runs are not kept. Call before the first frame.
    pub fn set_data_home(&mut self, dir: impl Into<PathBuf>) {
        self.session.experiments.store = Some(RunStore::new(dir.into()));
        self.session.experiments.started = false;
    }

    /// The store, the stored runs and what the last listing skipped.
    pub fn experiments(&self) -> &Experiments {
        &self.session.experiments
    }

    /// Each frame: the first one lists the stored runs; a finished run is saved. Never waits.
    pub(super) fn experiments_tick(&mut self) {
        let ex = &mut self.session.experiments;
        if !ex.started {
            ex.started = true;
            self.list_runs();
        }
        if let Some(run) = self.session.experiments.pending_save.take() {
            let Some(store) = self.session.experiments.store.clone() else { return };
            self.session.experiments.busy += 1;
            self.spawn_helper("save-run", move || {
                AppMsg::Runs(Box::new(RunsMsg::Saved(store.save(&run).map(Box::new).map_err(|e| e.to_string()))))
            });
        }
    }

    fn list_runs(&mut self) {
        let Some(store) = self.session.experiments.store.clone() else { return };
        self.session.experiments.busy += 1;
        self.spawn_helper("list-runs", move || {
            let list = store.list();
            let disk_bytes = store.disk_usage();
            AppMsg::Runs(Box::new(RunsMsg::Listed { list, disk_bytes }))
        });
    }

    fn find_run(&self, id: &str) -> Option<&RunEntry> {
        self.session.experiments.runs.iter().find(|r| r.id() == id)
    }

    pub(super) fn runs_command(&mut self, cmd: RunsCommand) {
        let Some(store) = self.session.experiments.store.clone() else {
            self.session.error = Some("Runs are not kept: no data folder (set LENET_PLAYGROUND_HOME).".into());
            return;
        };
        match cmd {
            RunsCommand::Refresh => self.list_runs(),
            RunsCommand::Rename { id, name } => {
                self.session.experiments.busy += 1;
                self.spawn_helper("rename-run", move || {
                    runs_msg(RunsMsg::Changed(
                        store
                            .rename(&id, &name)
                            .map(|r| format!("Renamed to '{}'.", r.record.name))
                            .map_err(|e| e.to_string()),
                    ))
                });
            }
            RunsCommand::Delete(id) => {
                let name = self.find_run(&id).map_or(id.clone(), |r| r.name().to_string());
                self.session.experiments.busy += 1;
                self.spawn_helper("delete-run", move || {
                    runs_msg(RunsMsg::Changed(
                        store.delete(&id).map(|()| format!("Deleted run '{name}'.")).map_err(|e| e.to_string()),
                    ))
                });
            }
            RunsCommand::ClearOld { keep } => {
                self.session.experiments.busy += 1;
                self.spawn_helper("clear-runs", move || {
                    runs_msg(RunsMsg::Changed(
                        store
                            .clear_old(keep)
                            .map(|n| format!("Cleared {n} old run(s); the newest {keep} are kept."))
                            .map_err(|e| e.to_string()),
                    ))
                });
            }
            RunsCommand::UseWeights(id) => {
                let Some(entry) = self.find_run(&id) else { return };
                if self.session.run_active() {
                    self.session.error = Some("Stop the current run before using another run's weights.".into());
                    return;
                }
                let run = entry.run.clone();
                self.spawn_helper("load-run-weights", move || {
                    let result = store.load_weights(&run).map_err(|e| e.to_string());
                    AppMsg::Runs(Box::new(RunsMsg::Weights { id, result }))
                });
            }
            RunsCommand::LoadSettings(id) => {
                let Some(entry) = self.find_run(&id) else { return };
                if self.session.run_active() {
                    self.session.error = Some("Stop the current run before loading other settings.".into());
                    return;
                }
                let mut config = entry.run.record.config.clone();
                config.epochs = config.epochs.max(1);
                self.session.status = format!("Settings of '{}' loaded into the controls.", entry.name());
                self.settings.train = config;
            }
            RunsCommand::SetOverlay { id, on } => {
                let ex = &mut self.session.experiments;
                let Some(entry) = ex.runs.iter_mut().find(|r| r.id() == id) else {
                    if on {
                        ex.pending_ticks.push(id);
                    }
                    return;
                };
                entry.overlay = on;
                if on && matches!(entry.curves, Curves::NotLoaded | Curves::Failed(_)) {
                    entry.curves = Curves::Loading;
                    let run = entry.run.clone();
                    self.spawn_helper("load-run-curves", move || {
                        let result = store
                            .load_metrics(&run)
                            .map(|m| Arc::new(OverlaySeries::from_metrics(&m)))
                            .map_err(|e| e.to_string());
                        AppMsg::Runs(Box::new(RunsMsg::Curves { id, result }))
                    });
                }
            }
        }
    }

    pub(super) fn live_command(&mut self, cmd: LiveCommand) {
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

    pub(super) fn handle_runs_msg(&mut self, msg: RunsMsg) {
        let ex = &mut self.session.experiments;
        match msg {
            RunsMsg::Listed { list, disk_bytes } => {
                ex.busy = ex.busy.saturating_sub(1);
                ex.set_list(list, disk_bytes);
                // Curves of runs ticked before the list arrived.
                let want: Vec<String> = ex
                    .runs
                    .iter()
                    .filter(|r| r.overlay && r.curves == Curves::NotLoaded)
                    .map(|r| r.id().to_string())
                    .collect();
                for id in want {
                    self.runs_command(RunsCommand::SetOverlay { id, on: true });
                }
            }
            RunsMsg::Saved(result) => {
                ex.busy = ex.busy.saturating_sub(1);
                match result {
                    Ok(run) => {
                        self.session.status = format!(
                            "{}; recorded as run '{}'.",
                            self.session.status.trim_end_matches('.'),
                            run.record.name
                        );
                        self.list_runs();
                    }
                    Err(e) => self.session.error = Some(format!("The run could not be recorded: {e}")),
                }
            }
            RunsMsg::Curves { id, result } => {
                if let Some(entry) = ex.runs.iter_mut().find(|r| r.id() == id) {
                    match result {
                        Ok(series) => entry.curves = Curves::Ready(series),
                        Err(e) => {
                            entry.curves = Curves::Failed(e.clone());
                            entry.overlay = false;
                            self.session.error = Some(format!("Cannot draw run '{id}': {e}"));
                        }
                    }
                }
            }
            RunsMsg::Changed(result) => {
                ex.busy = ex.busy.saturating_sub(1);
                match result {
                    Ok(m) => self.session.status = m,
                    Err(e) => self.session.error = Some(e),
                }
                self.list_runs();
            }
            RunsMsg::Weights { id, result } => {
                let name = self.find_run(&id).map_or(id.clone(), |r| r.name().to_string());
                let s = &mut self.session;
                match result.and_then(|w| {
                    let config = w.config;
                    s.install_file_weights(w).map(|()| config)
                }) {
                    Ok(config) => {
                        self.settings.train.model = config;
                        s.status = format!(
                            "Using the weights of run '{name}' (canvas and inspector); Train continues from them."
                        );
                    }
                    Err(e) => s.error = Some(format!("Cannot use the weights of run '{name}': {e}")),
                }
            }
        }
    }
}
