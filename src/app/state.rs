//! Two kinds of state, kept apart on purpose: `Settings` is what the user chose and survives a restart (serde,
//! stored through eframe's storage), `Session` is what exists only while the app runs (the trainer thread, the
//! curves, the current weights, messages). Nothing in `Session` is persisted. Evaluate's state is in
//! `evaluation/state.rs`, beside the session.

use crate::app::history::History;
use crate::app::runs::experiments::{Experiments, WeightsOrigin};
use crate::engine::data::classes::DIGIT_CLASSES;
use crate::engine::data::set::Dataset;
use crate::engine::model::config::{Init, ModelConfig};
use crate::engine::model::predict::Predictor;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::runs::{ContinuedFrom, RunStatus};
use crate::engine::training::config::{Preset, TrainConfig};
use crate::engine::training::worker::TrainerHandle;
use crate::{Error, Result};
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
    /// What Train (and Space) does once there are trained weights: continue from them, or start from scratch. Not
    /// kept across restarts: a new session starts from scratch unless the user says otherwise.
    #[serde(skip)]
    pub continue_training: bool,
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
            continue_training: false,
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
    pub(crate) train_images: usize,
    pub(crate) test_images: usize,
    pub dataset: String,
    /// What the run continued from (None: fresh weights); its x axis starts at the origin's epoch offset.
    pub continued_from: Option<ContinuedFrom>,
    /// How the run ended and its elapsed time then (the trainer's clock, pauses left out); None while it runs.
    pub ended: Option<(RunStatus, f64)>,
}

pub struct Session {
    pub phase: Phase,
    pub data: Option<Arc<Dataset>>,
    /// Which data is being loaded, while it is.
    pub loading: Option<String>,
    pub trainer: Option<TrainerHandle>,
    pub run: Option<RunInfo>,
    pub history: History,
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
    /// The first test image, for the inspector when the canvas is empty.
    pub(crate) fallback_image: Option<Box<[f32; 784]>>,
    /// (architecture, init, seed) of untrained weights, so they follow the settings until a run starts.
    pub(crate) fresh_from: Option<(ModelConfig, Init, u64)>,
    /// Learning-rate markers, the last Step and the run store's list (see experiments.rs).
    pub experiments: Experiments,
    /// Where the current weights come from when they were trained (a run, Use weights, Load weights): what
    /// "Continue training" continues. None for fresh weights.
    pub weights_origin: Option<WeightsOrigin>,
    /// The memory the system can give (MemAvailable), read every few seconds for the batch-size hint; None where
    /// it cannot be read.
    pub available_memory: Option<u64>,
    memory_read_at: Option<std::time::Instant>,
}

/// How often the available memory is read again.
const MEMORY_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

impl Session {
    pub fn new() -> Self {
        Session {
            phase: Phase::LoadingData,
            data: None,
            loading: None,
            trainer: None,
            run: None,
            history: History::new(),
            weights: None,
            predictor: None,
            weights_version: 0,
            weights_from_file: false,
            status: String::new(),
            error: None,
            fallback_image: None,
            fresh_from: None,
            experiments: Default::default(),
            weights_origin: None,
            available_memory: None,
            memory_read_at: None,
        }
    }

    /// Each frame: the available memory, read again when the last reading is a few seconds old.
    pub(crate) fn refresh_available_memory(&mut self) {
        if self.memory_read_at.is_none_or(|t| t.elapsed() >= MEMORY_EVERY) {
            self.available_memory = crate::engine::model::memory::available_bytes();
            self.memory_read_at = Some(std::time::Instant::now());
        }
    }

    /// A run exists (training, paused or stopping): its settings are fixed.
    /// The network of the run on screen (its plots, diagnostics and metrics), or LeNet-5 before any run.
    pub fn run_model(&self) -> ModelConfig {
        self.run.as_ref().map(|r| r.config.model).unwrap_or_default()
    }

    pub fn run_active(&self) -> bool {
        matches!(self.phase, Phase::Training | Phase::Paused | Phase::Stopping)
    }

    /// The run is over (finished, stopped, failed or lost): dropping the handle only sets flags, never joins.
    pub(crate) fn end_run(&mut self) {
        self.trainer = None;
        self.phase = if self.data.is_some() { Phase::Idle } else { Phase::NoData };
    }

    /// Uses a newly loaded data set; new data (or no weights yet) means fresh weights from `train`.
    pub(crate) fn install_data(&mut self, data: Arc<Dataset>, train: &TrainConfig) {
        let changed = self.data.as_ref().is_none_or(|d| d.name != data.name || d.source != data.source);
        self.fallback_image = (!data.test.is_empty()).then(|| Box::new(data.test.image(0)));
        self.status = format!("Data ready: {}", data.describe());
        self.data = Some(data);
        if !self.run_active() {
            self.phase = Phase::Idle;
        }
        if changed || self.weights.is_none() {
            self.reset_model(train);
        }
    }

    /// Installs weights for the canvas and inspector. A Predictor that cannot be built keeps the current model.
    pub fn install_weights(&mut self, w: ModelWeights) -> Result<()> {
        let predictor = Predictor::new(&w)?;
        self.predictor = Some(predictor);
        self.weights = Some(w);
        self.weights_version += 1;
        Ok(())
    }

    /// Weights from a file: they replace the model and the curves, and the next run continues from them.
    pub fn install_file_weights(&mut self, w: ModelWeights) -> Result<()> {
        self.install_weights(w)?;
        self.clear_curves();
        self.fresh_from = None;
        self.weights_from_file = true;
        Ok(())
    }

    /// True when the current weights were trained (this session, a stored run's or a loaded file), not fresh.
    pub fn weights_trained(&self) -> bool {
        !self.history.is_empty() || self.weights_from_file || self.weights_origin.is_some()
    }

    /// True when a run can continue from the current weights: they were trained (or loaded) and fit the settings'
    /// architecture.
    pub fn can_continue(&self, train: &TrainConfig) -> bool {
        self.weights_trained() && self.weights.as_ref().is_some_and(|w| same_net(w.config, train.model))
    }

    /// Fresh weights from the settings; curves cleared.
    /// A network that does not fit (the Architecture tab says why) leaves no weights: nothing to predict with until
    /// it is fixed.
    pub(crate) fn reset_model(&mut self, train: &TrainConfig) {
        if crate::engine::model::stages::try_stages(train.model).is_err() {
            self.clear_curves();
            self.fresh_from = Some((train.model, train.init, train.seed));
            self.weights_from_file = false;
            self.weights = None;
            self.predictor = None;
            self.weights_version += 1;
            return;
        }
        let dataset = self.data.as_ref().map_or("MNIST".to_string(), |d| d.name.clone());
        // The output layer scores the data set's classes, whatever the settings say (as in the trainer).
        let names = self.class_names();
        let model = ModelConfig { classes: names.len(), ..train.model };
        let w = ModelWeights::init(model, train.init, train.seed, &dataset, &names);
        self.clear_curves();
        self.fresh_from = Some((train.model, train.init, train.seed));
        self.weights_from_file = false;
        self.weights_origin = None;
        self.experiments.last_step = None;
        if let Err(e) = self.install_weights(w) {
            self.show_error("cannot build the model", &e);
        }
    }

    /// Shows `e` in the error banner after `context` (e.g. "Cannot load the data set"): the one place the app turns
    /// an error into text (`Error::report`: the causes included, on one line).
    pub(crate) fn show_error(&mut self, context: &str, e: &Error) {
        self.error = Some(format!("{context}: {}", e.report()));
    }

    /// Untrained weights follow the settings (architecture, init, seed) until a run starts.
    pub(crate) fn follow_settings(&mut self, train: &TrainConfig) {
        let now = (train.model, train.init, train.seed);
        if self.fresh_from.is_some_and(|prev| prev != now) && !self.run_active() && self.history.is_empty() {
            self.reset_model(train);
        }
    }

    fn clear_curves(&mut self) {
        self.history.clear();
        self.run = None;
    }

    fn class_names(&self) -> Vec<String> {
        match &self.data {
            Some(d) => d.class_names.clone(),
            None => DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The same network (activation, pooling, architecture), whatever the class count: the trainer sets the classes
/// from the data set.
fn same_net(a: ModelConfig, b: ModelConfig) -> bool {
    ModelConfig { classes: b.classes, ..a } == b
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}
