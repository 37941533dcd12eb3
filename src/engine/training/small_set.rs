//! The recipe a small set trains with ("Train on this set" on a few dozen drawings): the side panel's settings are
//! MNIST's (batch 100, often SGD at 0.9), and on 15 images they make one update per epoch and stay at chance. A
//! small set gets small batches, Adam, and enough epochs for a few hundred updates; the window says so.

use crate::engine::training::config::{Optimizer, TrainConfig, EPOCHS_RANGE};

/// Sets with fewer training images than this get the small-set recipe.
pub const SMALL_BELOW: usize = 1000;
/// About this many updates in all.
const STEPS: usize = 300;
const LR: f64 = 3e-3;

/// The settings for training `train_images` images from `base` (the side panel's), and what changed in words; None
/// when the set is not small and `base` stands.
pub fn recipe(base: &TrainConfig, train_images: usize) -> Option<(TrainConfig, String)> {
    if train_images == 0 || train_images >= SMALL_BELOW {
        return None;
    }
    let batch = (train_images / 4).clamp(4, 32).min(train_images);
    let epochs = STEPS.div_ceil(train_images.div_ceil(batch)).clamp(10, EPOCHS_RANGE.1);
    let cfg =
        TrainConfig { optimizer: Optimizer::Adam, lr: LR, batch_size: batch, epochs, limit: None, ..base.clone() };
    let said = format!(
        "a small set ({train_images} training images) trains with batch {batch}, Adam lr {LR}, {epochs} epochs \
         instead of the side panel's {} lr {}, batch {}, {} epochs ({} update(s) an epoch)",
        base.optimizer.label(),
        base.lr,
        base.batch_size,
        base.epochs,
        train_images.div_ceil(base.batch_size.max(1)),
    );
    Some((cfg, said))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sets_get_small_batches_and_enough_updates() {
        let base = TrainConfig { optimizer: Optimizer::Sgd, lr: 0.9, ..TrainConfig::default() };
        let (cfg, said) = recipe(&base, 15).unwrap();
        assert_eq!((cfg.batch_size, cfg.optimizer, cfg.lr), (4, Optimizer::Adam, LR));
        assert!(cfg.epochs * 15usize.div_ceil(4) >= 150, "{} epochs", cfg.epochs);
        assert!(cfg.validate().is_ok());
        assert!(said.contains("15 training images") && said.contains("1 update(s) an epoch"), "{said}");
        for n in [1, 2, 3, 40, 999] {
            let (cfg, _) = recipe(&base, n).unwrap();
            assert!(cfg.batch_size >= 1 && cfg.batch_size <= n.max(1) && cfg.validate().is_ok(), "{n}");
        }
        assert!(recipe(&base, 1000).is_none());
        assert!(recipe(&base, 0).is_none());
    }
}
