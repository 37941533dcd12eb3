//! Experiments in the window, as state: the live learning rate's markers and the last Step, and the run store
//! behind the Runs view — every run recorded at its end, the list restored at start-up, the curves of ticked runs
//! for the overlay.
//!
//! This file is the state and its bookkeeping (UI thread, cheap); `shell/runs.rs` asks the store on helper threads
//! (list, save, rename, delete, reading a run's metrics or weights), which answer with a `RunsMsg` (jobs.rs), and
//! `execute.rs` sends the live changes (`LiveCommand`) to the trainer.

use crate::app::history::{moving_average, History};
use crate::engine::store::runs::{
    color_slot, diff_label, ContinuedFrom, NewRun, RunList, RunRecorder, RunSource, RunStore, StoredMetrics, StoredRun,
    RUN_COLOR_SLOTS,
};
use crate::engine::training::config::lr_text;
use crate::engine::training::events::{StepResult, TrainEvent};
use egui::Color32;
use std::path::PathBuf;
use std::sync::Arc;

/// Colours of stored runs, by the colour slot each run keeps for life (`engine::store::runs::color_slot`): apart
/// from each other, from the current run's red, green, blue and yellow, and from the coach's pink.
pub const RUN_COLORS: [Color32; RUN_COLOR_SLOTS as usize] = [
    Color32::from_rgb(230, 140, 20),
    Color32::from_rgb(150, 80, 200),
    Color32::from_rgb(20, 170, 170),
    Color32::from_rgb(200, 160, 110),
    Color32::from_rgb(130, 130, 30),
    Color32::from_rgb(175, 175, 185),
    Color32::from_rgb(0, 200, 255),
    Color32::from_rgb(160, 100, 120),
];

/// How many runs "Clear old runs" keeps.
pub(crate) const KEEP_ON_CLEAR: usize = 5;

/// A stored run's curves in plot units: x in epochs, accuracy in %.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverlaySeries {
    pub loss: Vec<[f64; 2]>,
    pub accuracy: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
    pub lr: Vec<[f64; 2]>,
}

impl OverlaySeries {
    pub(crate) fn from_metrics(m: &StoredMetrics) -> Self {
        OverlaySeries {
            loss: m.batches.iter().map(|b| [b.x_epochs, b.loss as f64]).collect(),
            accuracy: m.batches.iter().map(|b| [b.x_epochs, b.accuracy as f64 * 100.0]).collect(),
            test_accuracy: m
                .epochs
                .iter()
                .filter(|e| e.test_accuracy.is_finite())
                .map(|e| [e.x_epochs, e.test_accuracy as f64 * 100.0])
                .collect(),
            lr: m.batches.iter().filter_map(|b| Some([b.x_epochs, b.lr?])).collect(),
        }
    }

    /// The same curves smoothed over `window` batches (test points unchanged).
    pub(crate) fn smoothed(&self, window: usize) -> OverlaySeries {
        OverlaySeries {
            loss: moving_average(&self.loss, window),
            accuracy: moving_average(&self.accuracy, window),
            test_accuracy: self.test_accuracy.clone(),
            lr: self.lr.clone(),
        }
    }

    pub(crate) fn last_x(&self) -> f64 {
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
    /// The run's name, made unique in the list (old runs may share one): its legend entry and export column.
    pub shown_name: String,
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
        &self.shown_name
    }
}

/// What the current weights are, should a run continue from them: the origin it would record and where its x
/// axis would start.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsOrigin {
    pub from: ContinuedFrom,
    /// `created_unix_ms` of a window run whose save has not answered yet: its id fills in `from` when it does.
    pub(crate) awaiting_save: Option<u64>,
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
    pub(crate) started: bool,
    pub runs: Vec<RunEntry>,
    /// Folders the last listing skipped, with why.
    pub skipped: Vec<String>,
    pub(crate) disk_bytes: u64,
    /// Markers of the current curves (cleared with them).
    pub markers: Vec<LrMarker>,
    markers_generation: u64,
    /// Plot x of the current run's epoch 0.
    run_x_offset: f64,
    recorder: Option<RunRecorder>,
    pub(crate) pending_save: Option<NewRun>,
    /// The last Step's loss before and after.
    pub last_step: Option<StepResult>,
    /// A live lr gesture (drag) is under way.
    pub(crate) lr_dragging: bool,
    /// Ticks waiting for the list (a run ticked before its curves exist).
    pub(crate) pending_ticks: Vec<String>,
    /// What the active run continues from (None: it started from fresh weights); recorded when it ends.
    pub continuing: Option<WeightsOrigin>,
}

impl Experiments {
    /// Applies a trainer event (called for every event, on the UI thread: bookkeeping only), before `history` has
    /// taken it: the plots' x of the run's epoch 0 comes from there, and, at the run's end, its metrics.
    pub fn observe(&mut self, ev: &TrainEvent, history: &History) {
        let (run_x_offset, generation) = (history.x_offset(), history.generation());
        if generation != self.markers_generation {
            self.markers.clear();
            self.markers_generation = generation;
        }
        match ev {
            TrainEvent::Started { .. } => {
                self.recorder = Some(RunRecorder::new(RunSource::App, None));
                self.run_x_offset = run_x_offset;
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
                let from = self.continuing.as_ref().map(|c| c.from.clone());
                let recorder = self.recorder.take().map(|r| match from {
                    Some(from) => r.continued_from(from),
                    None => r,
                });
                self.pending_save = recorder.and_then(|r| history.with_current_run(|m| r.finish(m)));
            }
        }
    }

    /// Markers that belong to the curves of `generation`.
    pub(crate) fn markers_for(&self, generation: u64) -> &[LrMarker] {
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

    /// (name, id, metrics.csv) of each ticked run, for the CSV export.
    pub(crate) fn ticked_metrics(&self) -> Vec<(String, String, PathBuf)> {
        let ticked = self.runs.iter().filter(|r| r.overlay);
        ticked.map(|r| (r.name().to_string(), r.id().to_string(), r.run.metrics_path())).collect()
    }

    /// The ticked runs' curves for the PNG/SVG export, smoothed over `window` batches.
    pub(crate) fn export_overlays(&self, window: usize) -> Vec<crate::app::export::OverlayExport> {
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

    pub(crate) fn set_list(&mut self, list: RunList, disk_bytes: u64) {
        let old: Vec<RunEntry> = std::mem::take(&mut self.runs);
        let mut prev_config = None;
        let names: Vec<(String, String)> =
            list.runs.iter().map(|r| (r.id().to_string(), r.record.name.clone())).collect();
        let name_of = |id: &str| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone());
        let mut shown: Vec<String> = Vec::new();
        for run in list.runs.into_iter() {
            // A continued run says what it continued from; a fresh one what differs from the run before.
            let label = match &run.record.continued_from {
                Some(c) => c.describe(name_of),
                None => diff_label(prev_config.as_ref(), &run.record.config),
            };
            // The window's font has no '→'.
            let label = label.replace('→', "->");
            prev_config = Some(run.record.config.clone());
            let kept = old.iter().find(|o| o.id() == run.id());
            let overlay = kept.is_some_and(|o| o.overlay) || self.pending_ticks.iter().any(|t| t == run.id());
            let curves = kept.map_or(Curves::NotLoaded, |o| o.curves.clone());
            let color = RUN_COLORS[color_slot(&run.record) as usize % RUN_COLORS.len()];
            let shown_name = unique_among(&run.record.name, &shown);
            shown.push(shown_name.clone());
            self.runs.push(RunEntry { run, shown_name, color, label, overlay, curves });
        }
        self.pending_ticks.clear();
        self.skipped = list.skipped;
        self.disk_bytes = disk_bytes;
    }
}

/// `name`, or `name (2)`, `name (3)`… — the first not in `taken` (runs recorded before names were made unique).
fn unique_among(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_string();
    }
    (2..).map(|n| format!("{name} ({n})")).find(|c| !taken.contains(c)).unwrap_or_else(|| name.to_string())
}
