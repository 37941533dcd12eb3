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

/// Accuracy (0..1) before and after on the user's held-out drawings and on the MNIST test set, with how many images
/// each was measured on: a handful of held-out drawings cannot tell a real change from luck.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BeforeAfter {
    pub own_before: f32,
    pub own_after: f32,
    pub mnist_before: f32,
    pub mnist_after: f32,
    /// Held-out drawings and MNIST test images measured.
    pub own_n: usize,
    pub mnist_n: usize,
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
            own_n: own.len(),
            mnist_n: mnist.len(),
        })
    }

    /// Two lines, e.g. "your 40 held-out drawings: 55.0 % [40-69] -> 77.5 % [62-88]: better", with each figure's 95 %
    /// interval and whether the change is larger than the uncertainty.
    pub fn lines(&self) -> [String; 2] {
        [
            change_line(&format!("your {} held-out drawings", self.own_n), self.own_before, self.own_after, self.own_n),
            change_line(
                &format!("MNIST test set ({})", self.mnist_n),
                self.mnist_before,
                self.mnist_after,
                self.mnist_n,
            ),
        ]
    }
}

/// "what: 55.0 % [40-69] -> 77.5 % [62-88]: better".
fn change_line(what: &str, before: f32, after: f32, n: usize) -> String {
    let verdict = change_verdict(before, after, n);
    format!("{what}: {} -> {}: {verdict}", with_interval(before, n), with_interval(after, n))
}

/// An accuracy with its 95 % interval, e.g. "55.0 % [40-69]".
pub fn with_interval(p: f32, n: usize) -> String {
    let (lo, hi) = wilson_interval(p, n);
    format!("{:.1} % [{:.0}-{:.0}]", p * 100.0, lo * 100.0, hi * 100.0)
}

/// "better" or "worse" when the 95 % intervals of before and after do not overlap, else "too few to tell" (or "no
/// change").
pub fn change_verdict(before: f32, after: f32, n: usize) -> &'static str {
    let (b, a) = (wilson_interval(before, n), wilson_interval(after, n));
    if a.0 > b.1 {
        "better"
    } else if a.1 < b.0 {
        "worse"
    } else if before == after {
        "no change"
    } else {
        "too few to tell"
    }
}

/// The 95 % Wilson score interval of an accuracy `p` measured on `n` images: honest for small `n` and for 0 or 100 %
/// (10 of 10 right is [72-100], not [100-100]).
pub fn wilson_interval(p: f32, n: usize) -> (f32, f32) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (p, n, z) = (p.clamp(0.0, 1.0) as f64, n as f64, 1.959_964f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (((centre - half).max(0.0)) as f32, ((centre + half).min(1.0)) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_wilsons_and_ten_drawings_cannot_tell_100_from_90() {
        let (lo, hi) = wilson_interval(1.0, 10);
        assert!((lo - 0.7225).abs() < 1e-3 && hi == 1.0, "{lo} {hi}");
        let (lo, hi) = wilson_interval(0.5, 100);
        assert!((lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3, "{lo} {hi}");
        let small = BeforeAfter {
            own_before: 1.0,
            own_after: 0.9,
            mnist_before: 0.98,
            mnist_after: 0.98,
            own_n: 10,
            mnist_n: 10_000,
        };
        let [own, mnist] = small.lines();
        assert!(own.starts_with("your 10 held-out drawings: 100.0 % [72-100] -> 90.0 % [60-98]"), "{own}");
        assert!(own.ends_with("too few to tell"), "{own}");
        assert!(mnist.ends_with("no change"), "{mnist}");
        let big = BeforeAfter { own_before: 0.55, own_after: 0.775, own_n: 400, ..small };
        assert!(big.lines()[0].ends_with("better"), "{}", big.lines()[0]);
    }
}
