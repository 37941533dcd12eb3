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

    fn stuck_at_chance(&mut self) -> Option<Hint> {
        if self.fired.contains(&HintRule::StuckAtChance) || self.recent.len() < STUCK_WINDOW {
            return None;
        }
        let classes = self.classes();
        let chance = chance_loss(classes);
        let window: Vec<Point> = self.recent.iter().rev().take(STUCK_WINDOW).copied().collect();
        let at_chance = window.iter().filter(|p| (p.loss - chance).abs() <= CHANCE_BAND).count();
        let accuracy = mean(window.iter().map(|p| p.accuracy));
        // Guessing scores 1/classes; 1.6× that still counts as guessing (16 % for ten classes).
        if (at_chance as f32) < 0.9 * STUCK_WINDOW as f32 || !at_chance_accuracy(accuracy, classes) {
            return None;
        }
        let cfg = self.config();
        // The first layer's gradient against the last one's: how much of it reaches the start of the network.
        let layers = stages::weighted_layers(cfg.model);
        let (first, last) = (layers[0], layers[layers.len() - 1]);
        let ratio = self.median_of(STUCK_WINDOW, |d| Some(d.grad_norm.get(first)? / d.grad_norm.get(last)?));
        let saturated = self.most_saturated(STUCK_WINDOW);
        let update =
            self.median_of(STUCK_WINDOW, |d| d.update_ratio.values().copied().reduce(f32::max)).unwrap_or(f32::NAN);
        let sigmoid = cfg.model.activation == Activation::Sigmoid;
        let mut causes = Vec::new();
        if update < 1e-5 {
            causes.push(format!(
                "the steps are tiny (each update changes the weights by {update:.0e} of their size): the learning \
                 rate is too low"
            ));
        }
        if let Some(r) = ratio.filter(|r| *r < 0.1) {
            causes.push(format!(
                "{first}'s gradient is {:.0}× smaller than {last}'s: the first layers barely learn — vanishing \
                 gradients{}",
                1.0 / r.max(1e-9),
                if sigmoid { " (each sigmoid passes on at most a quarter of the gradient)" } else { "" }
            ));
        }
        if let Some((stage, s)) = saturated.filter(|(_, s)| *s > 0.5 && sigmoid) {
            causes.push(format!(
                "{:.0} % of {stage}'s sigmoid outputs are saturated (stuck near 0 or 1, where the slope is flat), so \
                 little gradient gets through",
                s * 100.0
            ));
        }
        if causes.is_empty() {
            causes.push("the diagnostics show no single cause yet".into());
        }
        let classic_like =
            sigmoid && cfg.optimizer == Optimizer::Sgd && cfg.init == Init::Xavier && self.lr >= 0.5 && update >= 1e-5;
        let mut actions = Vec::new();
        if update < 1e-5 {
            actions.push(HintAction::SetLr { lr: self.lr * 10.0 });
        }
        if cfg.init != Init::Xavier && sigmoid {
            actions.push(HintAction::Restart(RestartWith { init: Some(Init::Xavier), ..Default::default() }));
        }
        if cfg.optimizer != Optimizer::Adam {
            actions.push(HintAction::Restart(RestartWith {
                optimizer: Some(Optimizer::Adam),
                lr: Some(3e-3),
                ..Default::default()
            }));
        }
        if sigmoid {
            actions.push(HintAction::Restart(RestartWith {
                activation: Some(Activation::Relu),
                init: Some(Init::Kaiming),
                lr: (cfg.optimizer != Optimizer::Adam && self.lr > 0.1).then_some(0.1),
                ..Default::default()
            }));
        }
        actions.push(HintAction::KeepWaiting);
        let wait = if classic_like {
            " — or keep waiting: the classic recipe escapes around epoch 5".to_string()
        } else {
            " — or keep waiting".to_string()
        };
        // Only what this run does not already use.
        let mut tries = Vec::new();
        if cfg.init != Init::Xavier && sigmoid {
            tries.push("Xavier init");
        }
        if cfg.optimizer != Optimizer::Adam {
            tries.push("Adam");
        }
        if sigmoid {
            tries.push("ReLU");
        }
        let tries = if tries.is_empty() { "a higher learning rate".to_string() } else { tries.join(" · ") };
        let message = format!(
            "Stuck at chance: for {STUCK_WINDOW} batches the loss has stayed at ln {classes} ≈ {chance:.3} and accuracy \
             near {:.0} %, so the network is still guessing. Why: {}. Try {tries}{wait}.",
            100.0 / classes as f32,
            causes.join("; ")
        );
        self.fire(HintRule::StuckAtChance, message, actions)
    }

    fn diverging(&mut self) -> Option<Hint> {
        if self.fired.contains(&HintRule::Diverging) || self.recent.len() < 2 * SMOOTH {
            return None;
        }
        let start = mean(self.first_losses.iter().copied());
        let now = self.smoothed();
        let best = self.best_smoothed.unwrap_or(now);
        let above_start = now > start + (0.25 * start).max(0.5);
        let rising_fast = now > 2.0 * best && now - best > 0.5;
        if !(above_start || rising_fast) {
            return None;
        }
        let lr = self.lr * 0.1;
        let how = if above_start {
            format!("the loss has climbed to {now:.2}, above where it started ({start:.2})")
        } else {
            format!("the loss is rising fast, from {best:.2} to {now:.2}")
        };
        let message = format!(
            "Diverging: {how}. The steps overshoot — the learning rate {} is too high. Lower it ×0.1, to {}.",
            format_lr(self.lr),
            format_lr(lr)
        );
        self.fire(HintRule::Diverging, message, vec![HintAction::SetLr { lr }])
    }

    /// The run diverged (`what` says how): the trainer stops, so the fix is a restart.
    fn diverged_now(&mut self, what: &str) -> Option<Hint> {
        let lr = self.lr * 0.1;
        let message = format!(
            "Diverging: {what} — the steps overshoot instead of descending. The learning rate {} is too high: \
             restart with ×0.1, {}.",
            format_lr(self.lr),
            format_lr(lr)
        );
        self.fire(
            HintRule::Diverging,
            message,
            vec![HintAction::Restart(RestartWith { lr: Some(lr), ..Default::default() })],
        )
    }

    fn lr_too_low(&mut self) -> Option<Hint> {
        let total = self.total_batches();
        if self.fired.contains(&HintRule::LrTooLow)
            || self.recent.len() < TREND_WINDOW + 50
            || !self.step.is_multiple_of(10)
            || self.step * 10 > total * 9
        {
            return None;
        }
        let y: Vec<f32> = self.recent.iter().skip(self.recent.len() - TREND_WINDOW).map(|p| p.loss).collect();
        let now = mean(y.iter().rev().take(20).copied());
        // At chance the loss is flat for other reasons (stuck_at_chance explains those).
        if (now - chance_loss(self.classes())).abs() < 2.0 * CHANCE_BAND {
            return None;
        }
        let per_batch = slope(&y);
        let remaining = total.saturating_sub(self.step) as f32;
        // A straight line is optimistic for a loss curve (they flatten), so a projection that still ends high is
        // a safe sign of "too slow".
        let projected = (now + per_batch * remaining).max(0.0);
        let falling = per_batch * (TREND_WINDOW as f32) < -0.01;
        if !falling || projected < FAR_FROM_CONVERGED {
            return None;
        }
        if self.median_of(TREND_WINDOW, |d| d.update_ratio.values().copied().reduce(f32::max)).is_some_and(|u| u > 1e-2)
        {
            // Updates are already large: a higher rate would not help.
            return None;
        }
        let lr = self.lr * 10.0;
        let cfg = self.config();
        let mut actions = vec![HintAction::SetLr { lr }];
        // Saturated sigmoids make every step small whatever the rate: say so, and offer the init that avoids it.
        let saturated = self.most_saturated(TREND_WINDOW).filter(|(_, s)| *s > 0.5);
        let why = match saturated {
            Some((stage, s)) if cfg.model.activation == Activation::Sigmoid => {
                if cfg.init != Init::Xavier {
                    actions.push(HintAction::Restart(RestartWith { init: Some(Init::Xavier), ..Default::default() }));
                }
                format!(
                    " Part of the reason: {:.0} % of {stage}'s sigmoid outputs are saturated (stuck near 0 or 1, where \
                     the slope is flat), so the gradients are small{}.",
                    s * 100.0,
                    if cfg.init != Init::Xavier { "; Xavier init keeps them in their linear range" } else { "" }
                )
            }
            _ => String::new(),
        };
        let message = format!(
            "Learning rate too low: the loss falls, but slowly ({:.3} per 100 batches); at this pace the run ends near \
             {projected:.2}, far from converged (≈ 0.05). Raise the learning rate ×10, to {}.{why}",
            -per_batch * 100.0,
            format_lr(lr)
        );
        self.fire(HintRule::LrTooLow, message, actions)
    }

    fn overfitting(&mut self, e: &EpochMetrics) -> Option<Hint> {
        self.epoch_history.push((e.epoch, e.train_accuracy, e.test_accuracy, e.test_loss));
        let h = &self.epoch_history;
        if self.fired.contains(&HintRule::Overfitting) || h.len() < 3 {
            return None;
        }
        let (epoch, train_acc, test_acc, test_loss) = h[h.len() - 1];
        let prev_loss = h[h.len() - 2].3;
        let (best_epoch, best_loss) =
            h.iter().map(|r| (r.0, r.3)).min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or((epoch, test_loss));
        let gap = train_acc - test_acc;
        if gap < 0.02 || test_loss <= prev_loss || test_loss < best_loss * 1.05 || best_epoch >= epoch {
            return None;
        }
        let message = format!(
            "Overfitting: training accuracy {:.1} % is well above test accuracy {:.1} %, and the test loss has risen \
             since epoch {best_epoch} (from {best_loss:.3} to {test_loss:.3}): the network memorises the training images. \
             Fewer epochs ({best_epoch}) would generalise better.",
            train_acc * 100.0,
            test_acc * 100.0
        );
        let actions = vec![
            HintAction::SetEpochs { epochs: epoch },
            HintAction::Restart(RestartWith { epochs: Some(best_epoch), ..Default::default() }),
        ];
        self.fire(HintRule::Overfitting, message, actions)
    }

    fn dead_relu(&mut self) -> Option<Hint> {
        if self.fired.contains(&HintRule::DeadRelu) {
            return None;
        }
        let (newest_step, newest) = self.diagnostics.back()?;
        // For each ReLU stage, the run of consecutive measurements (newest first) in which more than half of its
        // units were dead; it must span DEAD_WINDOW batches.
        let found = newest.dead_units.iter().find_map(|(stage, frac)| {
            let run: Vec<usize> = self
                .diagnostics
                .iter()
                .rev()
                .take_while(|(_, d)| d.dead_units.get(stage).is_some_and(|f| *f > 0.5))
                .map(|(s, _)| *s)
                .collect();
            let span = newest_step - run.last()?;
            (run.len() >= 3 && span >= DEAD_WINDOW).then(|| (stage.clone(), *frac, span))
        });
        let (stage, frac, span) = found?;
        let cfg = self.config();
        let lr = self.lr * 0.1;
        let mut actions = vec![HintAction::Restart(RestartWith { lr: Some(lr), ..Default::default() })];
        if cfg.init != Init::Kaiming {
            actions.push(HintAction::Restart(RestartWith { init: Some(Init::Kaiming), ..Default::default() }));
        }
        let message = format!(
            "Dead ReLUs: {:.0} % of {stage}'s units have output 0 for every image for {span} batches. A dead unit gets \
             no gradient, so it never recovers; usually a too-large step pushed it there. Restart with a lower \
             learning rate ({}){}.",
            frac * 100.0,
            format_lr(lr),
            if cfg.init != Init::Kaiming { " or Kaiming init" } else { "" }
        );
        self.fire(HintRule::DeadRelu, message, actions)
    }
}

#[cfg(test)]
mod tests;
