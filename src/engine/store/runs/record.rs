//! A recorded run as data: what `run.json` holds (the recipe, how it ended, its summary), its file names and the
//! checks a stored record must pass. The operations on the folders are in [`store`](super::store).

use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::TrainConfig;
use crate::engine::training::events::{Hint, LrChange};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub const FORMAT: &str = "lenet-playground-run/1";
pub const RUN_JSON: &str = "run.json";
pub const METRICS_CSV: &str = "metrics.csv";
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Reads are refused above these sizes, before reading (a run.json is a few KB, a 50-epoch metrics.csv ~2 MB).
pub const MAX_RUN_JSON_BYTES: u64 = 1 << 20;
pub const MAX_METRICS_BYTES: u64 = 50 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunSource {
    Cli,
    App,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Finished,
    Stopped,
    Failed,
}

impl RunStatus {
    pub fn key(self) -> &'static str {
        match self {
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed => "failed",
        }
    }
}

/// Accuracy in 0..1; None when no epoch completed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSummary {
    pub test_accuracy: Option<f32>,
    pub best_test_accuracy: Option<f32>,
    pub epochs_completed: usize,
    pub batches: usize,
    pub duration_secs: f64,
    /// Where the run's last batch sits on its x axis, in epochs (counted from its origin's offset when it
    /// continued); None in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_x_epochs: Option<f64>,
}

/// `run.json`. `config` is the recipe as started (initial learning rate, schedule), with `epochs` as the run ended
/// (live changes included); the learning-rate changes are in `lr_changes`. Unknown fields are ignored on read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_unix: u64,
    /// The same in milliseconds: orders runs made within one second (0 in files without it).
    #[serde(default)]
    pub created_unix_ms: u64,
    pub source: RunSource,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub config: TrainConfig,
    #[serde(default)]
    pub dataset: String,
    #[serde(default)]
    pub summary: RunSummary,
    #[serde(default)]
    pub lr_changes: Vec<LrChange>,
    #[serde(default)]
    pub hints: Vec<Hint>,
    /// What the run continued from; None for a run from fresh weights (see `origin.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_from: Option<ContinuedFrom>,
    /// The run's colour for life, a slot below `RUN_COLOR_SLOTS` chosen when it was saved (see `color_slot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_slot: Option<u32>,
}

/// A run ready to be written: its record (the id is filled in by `RunStore::save`), metrics and final weights.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub record: RunRecord,
    pub metrics_csv: String,
    pub weights: Option<ModelWeights>,
}

/// A run found in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub dir: PathBuf,
    pub record: RunRecord,
    pub has_weights: bool,
    pub has_metrics: bool,
    /// Bytes of the folder's files.
    pub bytes: u64,
}

impl StoredRun {
    pub fn id(&self) -> &str {
        &self.record.id
    }
    pub fn weights_path(&self) -> PathBuf {
        self.dir.join(WEIGHTS_FILE)
    }
    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join(METRICS_CSV)
    }
}

/// What `list` found: the runs (oldest first) and a message for every folder it skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunList {
    pub runs: Vec<StoredRun>,
    pub skipped: Vec<String>,
}

/// Longest run name accepted, in characters.
pub const MAX_RUN_NAME_CHARS: usize = 200;

/// A run name as given by the user (`--run-name`, a rename): no control characters (it is shown on terminals and
/// in one-line rows), at most [`MAX_RUN_NAME_CHARS`].
pub fn check_run_name(name: &str) -> std::result::Result<(), String> {
    if let Some(c) = name.chars().find(|&c| crate::error::is_unsafe_char(c)) {
        return Err(format!(
            "a run name cannot contain control characters or text-direction marks (U+{:04X})",
            c as u32
        ));
    }
    let n = name.chars().count();
    if n > MAX_RUN_NAME_CHARS {
        return Err(format!("a run name is at most {MAX_RUN_NAME_CHARS} characters ({n} given)"));
    }
    Ok(())
}

/// A stored summary that cannot be a real run's (accuracy outside 0..1, a non-finite or negative number).
pub(super) fn check_summary(s: &RunSummary) -> std::result::Result<(), String> {
    for (what, a) in [("test accuracy", s.test_accuracy), ("best test accuracy", s.best_test_accuracy)] {
        if let Some(a) = a {
            if !(0.0..=1.0).contains(&a) {
                return Err(format!("run.json has an out-of-range summary ({what} {a}, expected 0 to 1)"));
            }
        }
    }
    if !s.duration_secs.is_finite() || s.duration_secs < 0.0 {
        return Err(format!("run.json has an out-of-range summary (duration {} s)", s.duration_secs));
    }
    Ok(())
}

/// What a continued run's starting weights were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOrigin {
    /// The final weights of a recorded run (`name` as it was when this run started; a rename later is looked up by
    /// `id`).
    Run { id: String, name: String },
    /// A weights file (`Load weights…`, `train --init-from FILE`).
    WeightsFile { path: String },
    /// A run of the window that was not recorded (no run store, or its save failed).
    Unrecorded { name: String },
}

/// `run.json`'s `continued_from`: the origin and where this run's positions start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuedFrom {
    pub origin: RunOrigin,
    /// Epochs the starting weights had been trained (0 when unknown, e.g. a weights file): this run's first batch
    /// sits at `epoch_offset + 1 / batches_per_epoch`.
    pub epoch_offset: f64,
}
