//! What a training run tells the world. Plain data only (no tensors, no GUI types), so the same stream feeds the
//! CLI's progress lines, its JSON output, and the app's plots.

use crate::engine::insight::diagnostics::Diagnostics;
use crate::engine::insight::evaluate::TestPredictions;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::{ConfigChanges, TrainConfig};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    pub batches_per_epoch: usize,
    pub loss: f32,
    /// Fraction correct in this batch, 0..1.
    pub accuracy: f32,
    /// The learning rate this batch was trained with (after any schedule or live change).
    pub lr: f64,
    pub images_per_sec: f32,
    pub elapsed_secs: f64,
}

impl BatchMetrics {
    /// Position in epochs, e.g. 1.5 is half-way through epoch 2: the x axis of the plots.
    pub fn x_epochs(&self) -> f64 {
        (self.epoch - 1) as f64 + self.batch as f64 / self.batches_per_epoch as f64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
    /// Accuracy per class on the test set, 0..1.
    pub test_class_accuracy: Vec<f32>,
    /// Confusion matrix of the test pass: `confusion[true][predicted]` counts, NUM_CLASSES × NUM_CLASSES.
    pub confusion: Vec<Vec<u32>>,
    /// Every test image's predicted class and confidence at this epoch (not serialised: 50 KB per epoch).
    #[serde(skip)]
    pub predictions: Option<Arc<TestPredictions>>,
    pub epoch_secs: f64,
    pub elapsed_secs: f64,
}

/// A learning-rate change made by the user during a run (one per gesture), effective from the next batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrChange {
    /// Position of the change: after `batch` of `epoch` (1-based), i.e. at `x_epochs`.
    pub epoch: usize,
    pub batch: usize,
    pub x_epochs: f64,
    pub old_lr: f64,
    pub new_lr: f64,
}

/// One batch trained with Step while paused: its loss before the update (the batch event's `loss`) and after it
/// (the same images through the updated weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub epoch: usize,
    pub batch: usize,
    pub x_epochs: f64,
    pub lr: f64,
    pub loss_before: f32,
    pub loss_after: f32,
}

/// The coach's rules (see `engine::training::coach`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintRule {
    StuckAtChance,
    Diverging,
    LrTooLow,
    Overfitting,
    DeadRelu,
}

/// Something the coach noticed, in plain words, with where in the run it noticed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    pub rule: HintRule,
    pub message: String,
    pub x_epochs: f64,
    /// What the user can do about it, best first (buttons in the app; `coach::action_label` names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<HintAction>,
}

/// A fix the coach offers. Live changes apply to the running run; `Restart` starts a new run with the current
/// settings changed as given (after the user confirms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HintAction {
    /// Change the running run's learning rate.
    SetLr { lr: f64 },
    /// End the running run after `epochs` epochs.
    SetEpochs { epochs: usize },
    /// Start again with these settings changed.
    Restart(RestartWith),
    /// Nothing to change: the condition passes by itself.
    KeepWaiting,
}

/// The settings a `Restart` changes; `None` keeps the current one (applied with `TrainConfig::with_changes`).
pub type RestartWith = ConfigChanges;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    Started {
        config: TrainConfig,
        epochs: usize,
        batches_per_epoch: usize,
        train_images: usize,
        test_images: usize,
        dataset: String,
    },
    Batch(BatchMetrics),
    Epoch(EpochMetrics),
    /// The user changed the learning rate mid-run.
    LrChanged(LrChange),
    /// The user changed the number of epochs mid-run (the run now ends after `epochs`).
    EpochsChanged {
        epochs: usize,
    },
    Diagnostics(Diagnostics),
    Hint(Hint),
    /// A batch trained with Step while paused: its loss before and after the update.
    StepResult(StepResult),
    /// A copy of the current weights, sent now and then, for live prediction and the inspector.
    #[serde(skip)]
    Weights(ModelWeights),
    Finished {
        test_accuracy: f32,
        elapsed_secs: f64,
        #[serde(skip)]
        weights: ModelWeights,
    },
    /// Stopped by the user; the weights are those after the last completed batch.
    Stopped {
        epoch: usize,
        batch: usize,
        elapsed_secs: f64,
        #[serde(skip)]
        weights: ModelWeights,
    },
    /// The run could not go on (e.g. the loss diverged); `weights` are the last good ones, if any.
    Failed {
        message: String,
        /// Why the run diverged, when it did (`None` for other failures, e.g. a file that cannot be read). Not in
        /// the JSON lines: `message` already says it there.
        #[serde(skip)]
        cause: Option<Divergence>,
        #[serde(skip)]
        weights: Option<ModelWeights>,
    },
}

/// How a run diverged (`engine::training::divergence` detects it and words it, e.g. "the loss became NaN").
#[derive(Debug, Clone, PartialEq)]
pub enum Divergence {
    /// A batch's training loss (before its update) is NaN or infinite.
    NonFiniteLoss { loss: f32 },
    /// A batch's training loss is over `LOSS_EXPLOSION_FACTOR` × the first batch's.
    LossExploded { loss: f32, first: f32 },
    /// An epoch's test loss is NaN or infinite.
    NonFiniteTestLoss { loss: f32 },
    /// An epoch's test loss is over `LOSS_EXPLOSION_FACTOR` × the first batch's.
    TestLossExploded { loss: f32, first: f32 },
    /// An update made this parameter (e.g. `c1.weight`) NaN or infinite.
    NonFiniteUpdate { param: String },
    /// A copy of the weights holds NaN or infinite values in this parameter.
    NonFiniteWeights { param: String },
}

impl TrainEvent {
    /// True for the last event of a run.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TrainEvent::Finished { .. } | TrainEvent::Stopped { .. } | TrainEvent::Failed { .. })
    }
}
