//! Catches a run that diverges, wherever it shows: a batch loss that is not finite or explodes (far above the first
//! batch's), a weight that is NaN or infinite after any update (also the last one), or a snapshot or test pass that
//! is not finite. The trainer calls these checks; a hit ends the run as failed, with advice, and the weights from
//! before the bad update, so NaN weights are never handed out or saved.

use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::Optimizer;
use crate::engine::training::events::{Divergence, TrainEvent};
use crate::Error;

/// A loss this many times the first batch's (or ln 10, chance level, if that is larger) counts as exploded: a
/// healthy run never comes near it, a diverging one passes it within a batch or two.
pub(crate) const LOSS_EXPLOSION_FACTOR: f32 = 10.0;

/// The reason as the failure message gives it (and the coach repeats it).
impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::NonFiniteLoss { loss } => write!(f, "the loss became {loss}"),
            Divergence::LossExploded { loss, first } => {
                write!(f, "the loss exploded to {loss:.3e}, over {LOSS_EXPLOSION_FACTOR}× the first batch's {first:.3}")
            }
            Divergence::NonFiniteTestLoss { loss } => write!(f, "the test loss became {loss}"),
            Divergence::TestLossExploded { loss, first } => {
                write!(
                    f,
                    "the test loss exploded to {loss:.3e}, over {LOSS_EXPLOSION_FACTOR}× the first batch's {first:.3}"
                )
            }
            Divergence::NonFiniteUpdate { param } => write!(f, "the update made {param} NaN or infinite"),
            Divergence::NonFiniteWeights { param } => write!(f, "the weights of {param} became NaN or infinite"),
        }
    }
}

/// Remembers the first batch's loss and checks each new figure against it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    first_loss: Option<f32>,
}

impl Guard {
    pub fn new() -> Self {
        Guard::default()
    }

    fn limit(&self) -> Option<f32> {
        self.first_loss.map(|l| LOSS_EXPLOSION_FACTOR * l.max(std::f32::consts::LN_10))
    }

    /// A batch's training loss (computed before its update): why it means divergence, if it does.
    pub(crate) fn batch_loss(&mut self, loss: f32) -> Option<Divergence> {
        if !loss.is_finite() {
            return Some(Divergence::NonFiniteLoss { loss });
        }
        if let Some(limit) = self.limit() {
            if loss > limit {
                return Some(Divergence::LossExploded { loss, first: self.first_loss.unwrap_or_default() });
            }
        } else {
            self.first_loss = Some(loss);
        }
        None
    }

    /// The test loss of an epoch's weights: why it means divergence, if it does.
    pub fn test_loss(&self, loss: f32) -> Option<Divergence> {
        if !loss.is_finite() {
            return Some(Divergence::NonFiniteTestLoss { loss });
        }
        match self.limit() {
            Some(limit) if loss > limit => {
                Some(Divergence::TestLossExploded { loss, first: self.first_loss.unwrap_or_default() })
            }
            _ => None,
        }
    }
}

/// An update that left parameter `index` (in `stages::params()` order) with a NaN or infinite value; the optimiser
/// finds it in its own pass.
pub(crate) fn non_finite_update(cfg: ModelConfig, index: usize) -> Divergence {
    let param = stages::params(cfg).get(index).map(|p| p.name()).unwrap_or_else(|| "a parameter".into());
    Divergence::NonFiniteUpdate { param }
}

/// A weights snapshot: which parameter holds a NaN or infinite value, if any.
pub(crate) fn non_finite_weights(w: &ModelWeights) -> Option<Divergence> {
    w.params
        .iter()
        .find(|p| p.data.iter().any(|v| !v.is_finite()))
        .map(|p| Divergence::NonFiniteWeights { param: p.name.clone() })
}

/// The message of a failed run: where, why, and what to try.
pub fn message(epoch: usize, batch: usize, why: &Divergence, lr: f64, optimizer: Optimizer) -> String {
    format!(
        "training diverged at epoch {epoch}, batch {batch}: {why}. The learning rate ({lr}) is probably too high \
         for {}: try a lower one (e.g. {}). The last good weights are kept.",
        optimizer.label(),
        format_lr(lr / 10.0)
    )
}

/// Ends a run as failed: emits `Failed` with the last good weights and returns the error to hand back.
pub fn fail(emit: &mut dyn FnMut(TrainEvent), message: String, cause: Divergence, last_good: ModelWeights) -> Error {
    debug_assert!(non_finite_weights(&last_good).is_none(), "the last good weights are finite");
    emit(TrainEvent::Failed { message: message.clone(), cause: Some(cause), weights: Some(last_good) });
    Error::Diverged(message)
}

pub(crate) fn format_lr(lr: f64) -> String {
    if lr >= 0.01 {
        format!("{lr:.2}")
    } else {
        format!("{lr:.0e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_batch_sets_the_bar() {
        let mut g = Guard::new();
        assert!(g.batch_loss(2.4).is_none());
        assert!(g.batch_loss(20.0).is_none());
        assert!(g.batch_loss(25.0).unwrap().to_string().contains("exploded"));
        assert!(g.batch_loss(f32::NAN).unwrap().to_string().contains("NaN"));
        assert!(g.test_loss(f32::INFINITY).is_some());
        assert!(g.test_loss(2.0).is_none());
        // A high first loss (e.g. N(0,1) init) raises the bar with it.
        let mut g = Guard::new();
        assert!(g.batch_loss(300.0).is_none());
        assert!(g.batch_loss(2000.0).is_none());
    }
}
