//! "Teach it my handwriting": the current weights fine-tuned on a user's own drawings mixed with MNIST, and the
//! before/after figures that say whether it worked.
//!
//! The mix: each of the user's training drawings is joined by [`MNIST_PER_OWN`] MNIST training images (drawn by the
//! seed), so the network learns the new hand without forgetting the old one — a few dozen drawings alone would
//! pull every weight towards them. The run then measures accuracy on the user's held-out drawings (the set's test
//! part); the summary adds the MNIST test set, before and after, side by side.

use crate::engine::data::set::{Dataset, ImageSet, IMAGE_PIXELS};
use crate::engine::insight::evaluate::evaluate_weights;
use crate::engine::model::weights::ModelWeights;
use crate::engine::rng::Rng;
use crate::engine::training::config::{Optimizer, TrainConfig};
use crate::{Error, Result};

/// MNIST training images mixed in per drawing of the user's.
pub const MNIST_PER_OWN: usize = 4;
/// Adam at a third of the default rate: a nudge to weights that already read digits, not a new start.
pub const LR: f64 = 1e-3;
/// Small batches: a few dozen drawings still make several steps an epoch.
pub const BATCH: usize = 32;
/// About this many steps in all (whole epochs, 2 to 20 of them): a few seconds whatever the set's size.
pub const STEPS: usize = 80;

/// Passes over a mix of `images`: enough for about [`STEPS`] steps of [`BATCH`].
pub fn epochs_for(images: usize) -> usize {
    STEPS.div_ceil(images.div_ceil(BATCH).max(1)).clamp(2, 20)
}

/// The mix in words, for the window and the run's summary.
pub fn describe_mix(own: usize) -> String {
    let mnist = own * MNIST_PER_OWN;
    format!(
        "your {own} training drawing(s) + {mnist} MNIST training images ({MNIST_PER_OWN} per drawing), {} epochs of \
         batch {BATCH}, Adam lr {LR}",
        epochs_for(own + mnist)
    )
}

/// The settings of a fine-tuning run on a mix of `images` from `base` (the current settings): Adam at [`LR`],
/// batches of [`BATCH`], [`epochs_for`] epochs, the rest kept.
pub fn config(base: &TrainConfig, images: usize) -> TrainConfig {
    let epochs = epochs_for(images);
    TrainConfig { optimizer: Optimizer::Adam, lr: LR, epochs, batch_size: BATCH, limit: None, ..base.clone() }
}

/// The data of a fine-tuning run: the user's training drawings plus [`MNIST_PER_OWN`] MNIST training images per
/// drawing; tested on the user's held-out drawings. The set's classes must be MNIST's.
pub fn teaching_set(own: &Dataset, mnist: &Dataset, seed: u64) -> Result<Dataset> {
    if own.class_names != mnist.class_names {
        return Err(Error::Config(format!(
            "'{}' has the classes {}; teaching the handwriting needs the ten digits (train on a set with other \
             classes from scratch or from the MNIST weights instead)",
            own.name,
            own.class_names.join(", ")
        )));
    }
    if own.train.is_empty() || own.test.is_empty() {
        return Err(Error::Config(format!(
            "'{}' needs drawings to learn from and held-out ones to test on ({} and {})",
            own.name,
            own.train.len(),
            own.test.len()
        )));
    }
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    Rng::new(seed ^ 0x7EAC).shuffle(&mut order);
    let extra = (own.train.len() * MNIST_PER_OWN).min(mnist.train.len());
    let mut train = own.train.clone();
    let mut picked = order[..extra].to_vec();
    picked.sort_unstable();
    for i in picked {
        train.images.extend_from_slice(&mnist.train.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]);
        train.labels.push(mnist.train.labels[i]);
    }
    Ok(Dataset {
        name: format!("{} + MNIST", own.name),
        source: own.source.clone(),
        class_names: own.class_names.clone(),
        train,
        test: own.test.clone(),
    })
}

/// Accuracy (0..1) before and after on the user's held-out drawings and on the MNIST test set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BeforeAfter {
    pub own_before: f32,
    pub own_after: f32,
    pub mnist_before: f32,
    pub mnist_after: f32,
}

impl BeforeAfter {
    /// Measures both weights on both test sets.
    pub fn measure(before: &ModelWeights, after: &ModelWeights, own: &ImageSet, mnist: &ImageSet) -> Result<Self> {
        let acc = |w: &ModelWeights, s: &ImageSet| -> Result<f32> {
            Ok(evaluate_weights(w, s, None, &mut |_, _| {})?.map(|e| e.accuracy).unwrap_or(0.0))
        };
        Ok(BeforeAfter {
            own_before: acc(before, own)?,
            own_after: acc(after, own)?,
            mnist_before: acc(before, mnist)?,
            mnist_after: acc(after, mnist)?,
        })
    }

    /// Two lines, e.g. "your held-out drawings: 61.0 % -> 88.0 %".
    pub fn lines(&self) -> [String; 2] {
        let pct = |a: f32| format!("{:.1} %", a * 100.0);
        [
            format!("your held-out drawings: {} -> {}", pct(self.own_before), pct(self.own_after)),
            format!("MNIST test set: {} -> {}", pct(self.mnist_before), pct(self.mnist_after)),
        ]
    }
}
