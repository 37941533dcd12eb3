//! Two kinds of state, kept apart on purpose: `Settings` is what the user chose and survives a restart (serde,
//! stored through eframe's storage), `Session` is what exists only while the app runs (the trainer thread, the
//! curves, the current weights, messages). Nothing in `Session` is persisted.

use crate::app::history::History;
use crate::engine::config::{Preset, TrainConfig};
use crate::engine::events::BatchMetrics;
use crate::engine::mnist::Dataset;
use crate::engine::predict::Predictor;
use crate::engine::weights::ModelWeights;
use crate::engine::worker::TrainerHandle;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The preset last picked (the fields below may have been changed since).
    pub preset: Preset,
    pub train: TrainConfig,
    /// Moving-average window of the plotted curves, in batches (1 = raw).
    pub smoothing: usize,
    /// Show the raw curve faintly behind the smoothed one.
    pub show_raw: bool,
    /// Size of the off-screen plot export, in pixels.
    pub export_width: u32,
    pub export_height: u32,
    /// A data folder to use instead of the shipped MNIST.
    pub data_folder: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            preset: Preset::Default,
            train: TrainConfig::preset(Preset::Default),
            smoothing: 20,
            show_raw: true,
            export_width: 1200,
            export_height: 900,
            data_folder: None,
        }
    }
}

/// Where the app is in its life cycle; what the status line and the buttons follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    LoadingData,
    /// No data: the last load failed.
    NoData,
    Idle,
    Training,
    Paused,
    Stopping,
}

/// Facts about the current (or last) run, from its `Started` event.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// The settings the run was started with (the side panel may have changed since).
    pub config: TrainConfig,
    pub epochs: usize,
    pub batches_per_epoch: usize,
    pub train_images: usize,
    pub test_images: usize,
    pub dataset: String,
}

pub struct Session {
    pub phase: Phase,
    pub data: Option<Arc<Dataset>>,
    /// Which data is being loaded, while it is.
    pub loading: Option<String>,
    pub trainer: Option<TrainerHandle>,
    pub run: Option<RunInfo>,
    pub history: History,
    pub last_batch: Option<BatchMetrics>,
    pub last_test_accuracy: Option<f32>,
    /// The model the canvas and inspector use; always the latest weights.
    pub weights: Option<ModelWeights>,
    pub predictor: Option<Predictor>,
    /// Incremented whenever `weights` change, so views can refresh caches.
    pub weights_version: u64,
    /// True when the weights came from a file and no run has started since (training continues from them).
    pub weights_from_file: bool,
    /// One line about what happened last (finished, stopped, saved…).
    pub status: String,
    /// A problem the user should read; shown until dismissed or replaced.
    pub error: Option<String>,
    /// Background file jobs (dialogs, exports, loads) still running.
    pub jobs_in_flight: usize,
}

impl Session {
    pub fn new() -> Self {
        Session {
            phase: Phase::LoadingData,
            data: None,
            loading: None,
            trainer: None,
            run: None,
            history: History::new(),
            last_batch: None,
            last_test_accuracy: None,
            weights: None,
            predictor: None,
            weights_version: 0,
            weights_from_file: false,
            status: String::new(),
            error: None,
            jobs_in_flight: 0,
        }
    }

    /// A run exists (training, paused or stopping): its settings are fixed.
    pub fn run_active(&self) -> bool {
        matches!(self.phase, Phase::Training | Phase::Paused | Phase::Stopping)
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
