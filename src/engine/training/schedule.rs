//! Learning-rate schedules: what fraction of the set ("base") learning rate a given batch trains with. Pure
//! functions of the batch's position, so the CLI, the trainer and the tests agree on every value.
//!
//! - `constant`: the base rate throughout (the default).
//! - `step`: the rate is multiplied by 0.1 once the run has completed each of the chosen epochs (`at_epochs: [3, 6]`
//!   trains epochs 1–3 at the base rate, 4–6 at a tenth of it, the rest at a hundredth).
//! - `cosine`: updated every batch, from the base rate at the first batch down to ~0 at the run's last batch
//!   (`0.5 · (1 + cos(π · i / n))` for batch `i` of `n`, 0-based).
//!
//! A manual change during a run sets the base rate: the schedule keeps its shape and is rescaled from that batch on
//! (`effective = base × factor`). When the number of epochs changes mid-run, cosine stretches or shrinks to the new
//! last batch.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The multiplier of each step of the `step` schedule.
pub(crate) const STEP_FACTOR: f64 = 0.1;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    #[default]
    Constant,
    /// ×0.1 after each of these (1-based) epochs.
    Step {
        #[serde(default)]
        at_epochs: Vec<usize>,
    },
    Cosine,
}

impl Schedule {
    pub(crate) const KEYS: [&'static str; 3] = ["constant", "step", "cosine"];

    pub fn key(&self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Step { .. } => "step",
            Schedule::Cosine => "cosine",
        }
    }

    /// The step schedule's default epochs for a run of `epochs`: half-way (at least after epoch 1).
    pub(crate) fn default_step_epochs(epochs: usize) -> Vec<usize> {
        vec![(epochs / 2).max(1)]
    }

    /// The factor (0..=1) of the base rate for 0-based `batch_index` of a run of `total_batches`, with
    /// `batches_per_epoch` batches in each epoch.
    pub(crate) fn factor(&self, batch_index: usize, total_batches: usize, batches_per_epoch: usize) -> f64 {
        match self {
            Schedule::Constant => 1.0,
            Schedule::Step { at_epochs } => {
                let completed_epochs = batch_index / batches_per_epoch.max(1);
                let steps = at_epochs.iter().filter(|&&e| e <= completed_epochs).count();
                STEP_FACTOR.powi(steps as i32)
            }
            Schedule::Cosine => {
                let n = total_batches.max(1) as f64;
                let t = (batch_index as f64 / n).min(1.0);
                0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }

    /// The learning rate a batch trains with: `base_lr × factor`.
    pub fn lr(&self, base_lr: f64, batch_index: usize, total_batches: usize, batches_per_epoch: usize) -> f64 {
        base_lr * self.factor(batch_index, total_batches, batches_per_epoch)
    }

    /// Short text for tables and labels: `constant`, `step@3,6`, `cosine`.
    pub fn summary(&self) -> String {
        match self {
            Schedule::Step { at_epochs } => {
                format!("step@{}", at_epochs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(","))
            }
            other => other.key().to_string(),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// Parses `constant`, `cosine`, `step` (epochs filled in later) or `step@3,6`.
impl FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let (kind, rest) = match lower.split_once('@') {
            Some((k, r)) => (k, Some(r)),
            None => (lower.as_str(), None),
        };
        match (kind, rest) {
            ("constant", None) => Ok(Schedule::Constant),
            ("cosine", None) => Ok(Schedule::Cosine),
            ("step", None) => Ok(Schedule::Step { at_epochs: Vec::new() }),
            ("step", Some(list)) => Ok(Schedule::Step { at_epochs: parse_epoch_list(list)? }),
            _ => Err(format!("unknown schedule '{s}' (expected one of: {})", Schedule::KEYS.join(", "))),
        }
    }
}

/// `3,6` → `[3, 6]` (sorted, without duplicates); each at least 1.
pub(crate) fn parse_epoch_list(s: &str) -> Result<Vec<usize>, String> {
    let mut v = s
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("'{t}' is not an epoch number (1 or more)")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if v.is_empty() {
        return Err("expected a list of epochs such as 3,6".into());
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn constant_is_the_base_rate_everywhere() {
        for i in [0, 50, 99] {
            assert_eq!(Schedule::Constant.lr(0.03, i, 100, 10), 0.03);
        }
    }

    #[test]
    fn step_multiplies_by_a_tenth_after_each_chosen_epoch() {
        let s = Schedule::Step { at_epochs: vec![3, 6] };
        // 10 batches per epoch, 10 epochs.
        assert!(close(s.lr(1.0, 0, 100, 10), 1.0), "start");
        assert!(close(s.lr(1.0, 29, 100, 10), 1.0), "last batch of epoch 3");
        assert!(close(s.lr(1.0, 30, 100, 10), 0.1), "first batch of epoch 4");
        assert!(close(s.lr(1.0, 50, 100, 10), 0.1), "middle");
        assert!(close(s.lr(1.0, 60, 100, 10), 0.01), "epoch 7");
        assert!(close(s.lr(1.0, 99, 100, 10), 0.01), "end");
    }

    #[test]
    fn cosine_goes_from_the_base_rate_to_about_zero() {
        let s = Schedule::Cosine;
        assert!(close(s.lr(0.1, 0, 1000, 100), 0.1), "start");
        assert!(close(s.lr(0.1, 500, 1000, 100), 0.05), "middle");
        let end = s.lr(0.1, 999, 1000, 100);
        assert!(end > 0.0 && end < 0.1 * 1e-5, "end ≈ 0, got {end}");
        let mut prev = f64::INFINITY;
        for i in 0..1000 {
            let v = s.lr(0.1, i, 1000, 100);
            assert!(v <= prev, "never rises");
            prev = v;
        }
    }

    #[test]
    fn parses_names_and_epoch_lists() {
        assert_eq!("cosine".parse::<Schedule>().unwrap(), Schedule::Cosine);
        assert_eq!("Step@6,3,3".parse::<Schedule>().unwrap(), Schedule::Step { at_epochs: vec![3, 6] });
        assert!("linear".parse::<Schedule>().unwrap_err().contains("constant, step, cosine"));
        assert!(parse_epoch_list("0").is_err());
        assert_eq!(Schedule::Step { at_epochs: vec![3, 6] }.summary(), "step@3,6");
        let json = serde_json::to_string(&Schedule::Step { at_epochs: vec![2] }).unwrap();
        assert_eq!(json, r#"{"kind":"step","at_epochs":[2]}"#);
        assert_eq!(serde_json::from_str::<Schedule>(r#"{"kind":"cosine"}"#).unwrap(), Schedule::Cosine);
    }
}
