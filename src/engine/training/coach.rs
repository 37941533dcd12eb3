//! The coach: plain rules over a run's live history (batches, epochs, diagnostics) that say in plain words why the
//! run stalls or misbehaves, and what to try. Pure: it sees events and returns hints, so synthetic histories test
//! every rule, and the trainer runs it (`Coach::relay`), so the CLI and the window get the same hints.
//!
//! Each rule fires at most once per run (no flicker). A learning-rate change re-arms the two rules about the
//! learning rate (`diverging`, `lr_too_low`) and restarts their windows, so they judge the new rate afresh.

use crate::engine::insight::diagnostics::Diagnostics;
use crate::engine::model::config::{Activation, Init};
use crate::engine::model::stages;
use crate::engine::training::config::{Optimizer, TrainConfig};
use crate::engine::training::events::{Divergence, EpochMetrics, Hint, HintAction, HintRule, RestartWith, TrainEvent};
use std::collections::VecDeque;

/// The loss of a network that guesses uniformly among `classes` classes: ln classes (ln 10 ≈ 2.303 for digits).
pub(crate) fn chance_loss(classes: usize) -> f32 {
    (classes.max(2) as f32).ln()
}
/// Whether an accuracy is no better than guessing among `classes` (the stuck-at-chance rule's bound: 1.6 / K).
pub fn at_chance_accuracy(accuracy: f32, classes: usize) -> bool {
    accuracy <= 1.6 / classes.max(2) as f32
}
/// How close to the chance loss the loss must stay to count as "at chance".
pub(crate) const CHANCE_BAND: f32 = 0.05;
/// Batches the loss must sit at chance before `stuck_at_chance` fires.
pub(crate) const STUCK_WINDOW: usize = 150;
/// Batches more than half of a ReLU stage must stay dead before `dead_relu` fires.
pub(crate) const DEAD_WINDOW: usize = 100;
/// Batches the `lr_too_low` trend is fitted over.
pub(crate) const TREND_WINDOW: usize = 100;
/// A loss above this at the run's projected end is "far from converged" (LeNet-5 on MNIST ends near 0.05).
pub(crate) const FAR_FROM_CONVERGED: f32 = 0.5;

const KEEP: usize = 200;
const SMOOTH: usize = 10;

#[derive(Debug, Clone, Copy)]
struct Point {
    loss: f32,
    accuracy: f32,
}

/// Watches one run at a time (a `Started` event resets it).
#[derive(Debug, Clone, Default)]
pub struct Coach {
    config: Option<TrainConfig>,
    lr: f64,
    epochs: usize,
    batches_per_epoch: usize,
    /// Batches seen in this run.
    step: usize,
    x_epochs: f64,
    /// The last batches since the run started or the learning rate last changed.
    recent: VecDeque<Point>,
    /// Losses of the first batches of that window (the "starting value").
    first_losses: Vec<f32>,
    /// Lowest SMOOTH-batch mean loss of that window.
    best_smoothed: Option<f32>,
    /// Recent measurements with the step they were taken at.
    diagnostics: VecDeque<(usize, Diagnostics)>,
    epoch_history: Vec<(usize, f32, f32, f32)>,
    fired: Vec<HintRule>,
}

fn mean(v: impl Iterator<Item = f32>) -> f32 {
    let (s, n) = v.fold((0f64, 0usize), |(s, n), x| (s + x as f64, n + 1));
    if n == 0 {
        f32::NAN
    } else {
        (s / n as f64) as f32
    }
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// Least-squares slope of `y` against its index.
fn slope(y: &[f32]) -> f32 {
    let n = y.len() as f64;
    if y.len() < 2 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        num += (i as f64 - mx) * (v as f64 - my);
        den += (i as f64 - mx).powi(2);
    }
    (num / den) as f32
}

/// A learning rate as a user would type it.
pub(crate) fn format_lr(lr: f64) -> String {
    if lr >= 0.01 {
        let s = format!("{lr:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{lr:.0e}")
    }
}

/// The button text for an action.
pub(crate) fn action_label(a: &HintAction) -> String {
    match a {
        HintAction::SetLr { lr } => format!("Set learning rate to {}", format_lr(*lr)),
        HintAction::SetEpochs { epochs } => format!("Stop after epoch {epochs}"),
        HintAction::KeepWaiting => "Keep waiting".into(),
        HintAction::Restart(r) => {
            let mut parts = Vec::new();
            if let Some(a) = r.activation {
                parts.push(a.label().to_string());
            }
            if let Some(i) = r.init {
                parts.push(format!("{} init", i.label()));
            }
            if let Some(o) = r.optimizer {
                parts.push(o.label().to_string());
            }
            if let Some(lr) = r.lr {
                parts.push(format!("lr {}", format_lr(lr)));
            }
            if let Some(e) = r.epochs {
                parts.push(format!("{e} epochs"));
            }
            if let Some(p) = r.pooling {
                parts.push(p.label().to_string());
            }
            if let Some(b) = r.batch_size {
                parts.push(format!("batch {b}"));
            }
            if let Some(s) = r.seed {
                parts.push(format!("seed {s}"));
            }
            format!("Restart with {}", parts.join(", "))
        }
    }
}

impl Coach {
    pub fn new() -> Self {
        Coach::default()
    }

    /// Passes `event` on to `emit`, followed by any hints it gives rise to (or preceded by them if the event ends
    /// the run, so they arrive before it).
    pub(crate) fn relay(&mut self, event: TrainEvent, emit: &mut dyn FnMut(TrainEvent)) {
        let hints = self.observe(&event);
        if event.is_terminal() {
            hints.into_iter().for_each(|h| emit(TrainEvent::Hint(h)));
            emit(event);
        } else {
            emit(event);
            hints.into_iter().for_each(|h| emit(TrainEvent::Hint(h)));
        }
    }

    /// Feeds one event; returns the hints that fire on it (usually none).
    pub fn observe(&mut self, event: &TrainEvent) -> Vec<Hint> {
        let mut hints = Vec::new();
        match event {
            TrainEvent::Started { config, epochs, batches_per_epoch, .. } => {
                *self = Coach {
                    config: Some(config.clone()),
                    lr: config.lr,
                    epochs: *epochs,
                    batches_per_epoch: *batches_per_epoch,
                    ..Coach::default()
                };
            }
            TrainEvent::Batch(b) => {
                self.step += 1;
                self.x_epochs = b.x_epochs();
                self.batches_per_epoch = b.batches_per_epoch;
                self.lr = b.lr;
                if !b.loss.is_finite() {
                    hints.extend(self.diverged_now(&Divergence::NonFiniteLoss { loss: b.loss }.to_string()));
                } else {
                    self.push(Point { loss: b.loss, accuracy: b.accuracy });
                    hints.extend(self.stuck_at_chance());
                    hints.extend(self.diverging());
                    hints.extend(self.lr_too_low());
                }
            }
            TrainEvent::Diagnostics(d) => {
                self.diagnostics.push_back((self.step, d.clone()));
                while self.diagnostics.len() > 64 {
                    self.diagnostics.pop_front();
                }
                hints.extend(self.dead_relu());
            }
            TrainEvent::Epoch(e) => hints.extend(self.overfitting(e)),
            TrainEvent::LrChanged(c) => {
                self.lr = c.new_lr;
                self.fired.retain(|r| !matches!(r, HintRule::Diverging | HintRule::LrTooLow));
                self.recent.clear();
                self.first_losses.clear();
                self.best_smoothed = None;
            }
            TrainEvent::EpochsChanged { epochs } => self.epochs = *epochs,
            // The trainer's cause says what happened (an exploding loss, a NaN weight, …).
            TrainEvent::Failed { cause: Some(why), .. } => hints.extend(self.diverged_now(&why.to_string())),
            _ => {}
        }
        hints
    }

    fn push(&mut self, p: Point) {
        if self.first_losses.len() < 5 {
            self.first_losses.push(p.loss);
        }
        self.recent.push_back(p);
        while self.recent.len() > KEEP {
            self.recent.pop_front();
        }
        if self.recent.len() >= SMOOTH {
            let m = self.smoothed();
            self.best_smoothed = Some(self.best_smoothed.map_or(m, |b| b.min(m)));
        }
    }

    fn smoothed(&self) -> f32 {
        mean(self.recent.iter().rev().take(SMOOTH).map(|p| p.loss))
    }

    fn fire(&mut self, rule: HintRule, message: String, actions: Vec<HintAction>) -> Option<Hint> {
        if self.fired.contains(&rule) {
            return None;
        }
        self.fired.push(rule);
        Some(Hint { rule, message, x_epochs: self.x_epochs, actions })
    }

    fn total_batches(&self) -> usize {
        self.epochs * self.batches_per_epoch
    }

    /// Medians over the measurements of the last `batches` batches.
    fn recent_diagnostics(&self, batches: usize) -> impl Iterator<Item = &Diagnostics> {
        let from = self.step.saturating_sub(batches);
        self.diagnostics.iter().filter(move |(s, _)| *s > from).map(|(_, d)| d)
    }

    fn median_of(&self, batches: usize, f: impl Fn(&Diagnostics) -> Option<f32>) -> Option<f32> {
        median(self.recent_diagnostics(batches).filter_map(f).collect())
    }

    /// The activation stage with the highest median saturation over the last `batches`, and that saturation.
    fn most_saturated(&self, batches: usize) -> Option<(&'static str, f32)> {
        stages::activation_stages(self.config().model)
            .into_iter()
            .filter_map(|s| Some((s, self.median_of(batches, |d| d.saturation.get(s).copied())?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn config(&self) -> TrainConfig {
        self.config.clone().unwrap_or_default()
    }

    /// The run's class count (at least 2), read without cloning the config: the rules ask for it on every batch.
    fn classes(&self) -> usize {
        self.config.as_ref().map_or_else(|| TrainConfig::default().model.classes, |c| c.model.classes).max(2)
    }

    // --- the rules ---------------------------------------------------------------------------------------------
}

mod rules;
#[cfg(test)]
mod tests;
