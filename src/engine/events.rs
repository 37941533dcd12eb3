//! What a training run tells the world. Plain data only (no tensors, no GUI types), so the same stream feeds the
//! CLI's progress lines, its JSON output, and the app's plots.

use crate::engine::config::TrainConfig;
use crate::engine::weights::ModelWeights;
use serde::Serialize;

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
    pub epoch_secs: f64,
    pub elapsed_secs: f64,
}

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
        #[serde(skip)]
        weights: Option<ModelWeights>,
    },
}

impl TrainEvent {
    /// True for the last event of a run.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TrainEvent::Finished { .. } | TrainEvent::Stopped { .. } | TrainEvent::Failed { .. })
    }
}
