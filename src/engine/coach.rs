//! The coach: plain rules over a run's live history (batches, epochs, diagnostics) that say in plain words why the
//! run stalls or misbehaves, and what to try. Pure: it sees events and returns hints, so synthetic histories test
//! every rule, and the trainer runs it (`Coach::relay`), so the CLI and the window get the same hints.
//!
//! Each rule fires at most once per run (no flicker). A learning-rate change re-arms the two rules about the
//! learning rate (`diverging`, `lr_too_low`) and restarts their windows, so they judge the new rate afresh.

use crate::engine::config::{Activation, Init, Optimizer, TrainConfig};
use crate::engine::events::{Diagnostics, EpochMetrics, Hint, HintAction, HintRule, RestartWith, TrainEvent};
use std::collections::VecDeque;

/// The loss of a network that guesses uniformly among 10 classes: ln 10.
pub const CHANCE_LOSS: f32 = std::f32::consts::LN_10;
/// How close to ln 10 the loss must stay to count as "at chance".
pub const CHANCE_BAND: f32 = 0.05;
/// Batches the loss must sit at chance before `stuck_at_chance` fires.
pub const STUCK_WINDOW: usize = 150;
/// Batches more than half of a ReLU stage must stay dead before `dead_relu` fires.
pub const DEAD_WINDOW: usize = 100;
/// Batches the `lr_too_low` trend is fitted over.
pub const TREND_WINDOW: usize = 100;
/// A loss above this at the run's projected end is "far from converged" (LeNet-5 on MNIST ends near 0.05).
pub const FAR_FROM_CONVERGED: f32 = 0.5;

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
pub fn format_lr(lr: f64) -> String {
    if lr >= 0.01 {
        let s = format!("{lr:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{lr:.0e}")
    }
}

/// The button text for an action.
pub fn action_label(a: &HintAction) -> String {
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
            format!("Restart with {}", parts.join(", "))
        }
    }
}

/// `cfg` with a restart's changes applied (the rest kept).
pub fn apply_restart(r: &RestartWith, cfg: &TrainConfig) -> TrainConfig {
    let mut c = cfg.clone();
    if let Some(v) = r.init {
        c.init = v;
    }
    if let Some(v) = r.optimizer {
        c.optimizer = v;
    }
    if let Some(v) = r.activation {
        c.model.activation = v;
    }
    if let Some(v) = r.lr {
        c.lr = v;
    }
    if let Some(v) = r.epochs {
        c.epochs = v;
    }
    c
}

impl Coach {
    pub fn new() -> Self {
        Coach::default()
    }

    /// The rules that have fired in this run.
    pub fn fired(&self) -> &[HintRule] {
        &self.fired
    }

    /// Passes `event` on to `emit`, followed by any hints it gives rise to (or preceded by them if the event ends
    /// the run, so they arrive before it).
    pub fn relay(&mut self, event: TrainEvent, emit: &mut dyn FnMut(TrainEvent)) {
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
                    hints.extend(self.diverged_now(&format!("the loss became {}", b.loss)));
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
            TrainEvent::Failed { message, .. } if message.contains("diverged") => {
                // The trainer's message says what happened (an exploding loss, a NaN weight, …).
                let what = message.split_once(": ").map_or("the run diverged", |(_, why)| why);
                let what = what.split(". ").next().unwrap_or(what);
                hints.extend(self.diverged_now(what));
            }
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
        crate::engine::diagnostics::activation_stages()
            .into_iter()
            .filter_map(|s| Some((s, self.median_of(batches, |d| d.saturation.get(s).copied())?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn config(&self) -> TrainConfig {
        self.config.clone().unwrap_or_default()
    }

    // --- the rules ---------------------------------------------------------------------------------------------

    fn stuck_at_chance(&mut self) -> Option<Hint> {
        if self.fired.contains(&HintRule::StuckAtChance) || self.recent.len() < STUCK_WINDOW {
            return None;
        }
        let window: Vec<Point> = self.recent.iter().rev().take(STUCK_WINDOW).copied().collect();
        let at_chance = window.iter().filter(|p| (p.loss - CHANCE_LOSS).abs() <= CHANCE_BAND).count();
        let accuracy = mean(window.iter().map(|p| p.accuracy));
        if (at_chance as f32) < 0.9 * STUCK_WINDOW as f32 || accuracy > 0.16 {
            return None;
        }
        let cfg = self.config();
        let ratio = self.median_of(STUCK_WINDOW, |d| Some(d.grad_norm.get("c1")? / d.grad_norm.get("out")?));
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
                "c1's gradient is {:.0}× smaller than out's: the first layers barely learn — vanishing gradients{}",
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
            "Stuck at chance: for {STUCK_WINDOW} batches the loss has stayed at ln 10 ≈ 2.303 and accuracy near 10 %, \
             so the network is still guessing. Why: {}. Try {tries}{wait}.",
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
        if (now - CHANCE_LOSS).abs() < 2.0 * CHANCE_BAND {
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
mod tests {
    use super::*;
    use crate::engine::config::Preset;
    use crate::engine::events::{BatchMetrics, LrChange};

    const BPE: usize = 100;

    fn started(preset: Preset, epochs: usize) -> TrainEvent {
        let config = TrainConfig { epochs, ..TrainConfig::preset(preset) };
        TrainEvent::Started {
            config,
            epochs,
            batches_per_epoch: BPE,
            train_images: BPE * 100,
            test_images: 1000,
            dataset: "MNIST".into(),
        }
    }

    fn batch(step: usize, loss: f32, accuracy: f32, lr: f64) -> TrainEvent {
        TrainEvent::Batch(BatchMetrics {
            epoch: (step - 1) / BPE + 1,
            batch: (step - 1) % BPE + 1,
            batches_per_epoch: BPE,
            loss,
            accuracy,
            lr,
            images_per_sec: 1000.0,
            elapsed_secs: step as f64 * 0.01,
        })
    }

    fn diag(step: usize, f: impl Fn(&mut Diagnostics)) -> TrainEvent {
        let mut d = Diagnostics { epoch: (step - 1) / BPE + 1, batch: (step - 1) % BPE + 1, ..Default::default() };
        for (k, v) in [("c1", 0.1), ("c3", 0.2), ("f5", 0.3), ("f6", 0.4), ("out", 0.5)] {
            d.grad_norm.insert(k.into(), v);
            d.update_ratio.insert(k.into(), 1e-3);
        }
        for k in ["c1.act", "c3.act", "f5.act", "f6.act"] {
            d.saturation.insert(k.into(), 0.1);
            d.mean_activation.insert(k.into(), 0.5);
        }
        f(&mut d);
        TrainEvent::Diagnostics(d)
    }

    /// A small deterministic wobble, like batch noise.
    fn noise(step: usize, size: f32) -> f32 {
        ((step * 7919 % 101) as f32 / 100.0 - 0.5) * 2.0 * size
    }

    /// Feeds `steps` batches with `loss(step)`, `accuracy(step)` and a measurement every 10 batches.
    fn run(
        coach: &mut Coach,
        steps: std::ops::RangeInclusive<usize>,
        lr: f64,
        loss: impl Fn(usize) -> f32,
        accuracy: impl Fn(usize) -> f32,
        d: impl Fn(usize, &mut Diagnostics),
    ) -> Vec<Hint> {
        let mut hints = Vec::new();
        for s in steps {
            hints.extend(coach.observe(&batch(s, loss(s), accuracy(s), lr)));
            if s % 10 == 1 {
                hints.extend(coach.observe(&diag(s, |x| d(s, x))));
            }
        }
        hints
    }

    fn healthy_loss(s: usize) -> f32 {
        2.3 * (-(s as f32) / 80.0).exp() + 0.06 + noise(s, 0.03)
    }

    fn healthy_accuracy(s: usize) -> f32 {
        (1.0 - 0.9 * (-(s as f32) / 80.0).exp()).min(0.99)
    }

    fn at_chance(s: usize) -> f32 {
        CHANCE_LOSS + noise(s, 0.02)
    }

    fn vanishing(_: usize, d: &mut Diagnostics) {
        d.grad_norm.insert("c1".into(), 0.002);
        d.grad_norm.insert("out".into(), 0.6);
    }

    #[test]
    fn stuck_at_chance_fires_once_after_the_window_and_names_vanishing_gradients() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 10));
        let early = run(&mut c, 1..=STUCK_WINDOW - 1, 0.9, at_chance, |s| 0.1 + noise(s, 0.03), vanishing);
        assert!(early.is_empty(), "not before the window is full: {early:?}");
        let hints = run(&mut c, STUCK_WINDOW..=400, 0.9, at_chance, |s| 0.1 + noise(s, 0.03), vanishing);
        assert_eq!(hints.len(), 1, "{hints:?}");
        let h = &hints[0];
        assert_eq!(h.rule, HintRule::StuckAtChance);
        assert!((h.x_epochs - STUCK_WINDOW as f64 / BPE as f64).abs() < 1e-9);
        assert!(h.message.contains("300× smaller than out's") && h.message.contains("vanishing gradients"), "{h:?}");
        assert!(h.message.contains("escapes around epoch 5"), "the classic recipe's plateau ends by itself");
        assert!(h.actions.contains(&HintAction::KeepWaiting));
        assert!(h.actions.iter().any(|a| matches!(a, HintAction::Restart(r) if r.optimizer == Some(Optimizer::Adam))));
        assert!(h
            .actions
            .iter()
            .any(|a| matches!(a, HintAction::Restart(r) if r.activation == Some(Activation::Relu))));
    }

    #[test]
    fn stuck_at_chance_names_saturation_and_offers_xavier() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Seed, 1));
        let hints = run(
            &mut c,
            1..=200,
            0.01,
            at_chance,
            |_| 0.1,
            |_, d| {
                d.saturation.insert("f5.act".into(), 0.85);
            },
        );
        assert_eq!(hints.len(), 1);
        assert!(hints[0].message.contains("85 % of f5.act's sigmoid outputs are saturated"), "{:?}", hints[0]);
        assert!(!hints[0].message.contains("epoch 5"), "only the classic recipe is known to escape");
        assert!(hints[0].actions.iter().any(|a| matches!(a, HintAction::Restart(r) if r.init == Some(Init::Xavier))));
    }

    #[test]
    fn stuck_at_chance_with_tiny_steps_offers_a_higher_rate() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 10));
        let hints = run(
            &mut c,
            1..=200,
            1e-4,
            at_chance,
            |_| 0.1,
            |_, d| {
                d.update_ratio.values_mut().for_each(|u| *u = 1e-7);
            },
        );
        assert_eq!(hints.len(), 1);
        assert!(hints[0].message.contains("learning rate is too low"));
        assert_eq!(hints[0].actions[0], HintAction::SetLr { lr: 1e-3 });
    }

    #[test]
    fn a_healthy_run_gets_no_hint() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Default, 5));
        let hints = run(&mut c, 1..=500, 3e-3, healthy_loss, healthy_accuracy, |_, _| {});
        assert!(hints.is_empty(), "{hints:?}");
        for (e, test_loss) in [(1, 0.12), (2, 0.08), (3, 0.06), (4, 0.055), (5, 0.05)] {
            let h = c.observe(&epoch(e, 0.97 + 0.005 * e as f32, 0.965 + 0.005 * e as f32, test_loss));
            assert!(h.is_empty());
        }
        assert!(c.fired().is_empty());
    }

    #[test]
    fn a_loss_that_leaves_chance_in_time_is_not_stuck() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 10));
        // At chance for 100 batches, then learning.
        let loss = |s: usize| if s <= 100 { at_chance(s) } else { healthy_loss(s - 100) };
        let acc = |s: usize| if s <= 100 { 0.1 } else { healthy_accuracy(s - 100) };
        let hints = run(&mut c, 1..=600, 0.9, loss, acc, vanishing);
        assert!(hints.is_empty(), "{hints:?}");
    }

    #[test]
    fn diverging_fires_when_the_loss_climbs_above_its_start() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Default, 5));
        let loss = |s: usize| if s < 60 { healthy_loss(s) } else { 2.3 + (s - 60) as f32 * 0.1 };
        let hints = run(&mut c, 1..=120, 0.5, loss, |_| 0.3, |_, _| {});
        assert_eq!(hints.iter().filter(|h| h.rule == HintRule::Diverging).count(), 1, "{hints:?}");
        let h = hints.iter().find(|h| h.rule == HintRule::Diverging).unwrap();
        assert_eq!(h.actions, vec![HintAction::SetLr { lr: 0.05 }]);
        assert!(h.x_epochs < 1.0, "noticed within a few batches of the climb, at {}", h.x_epochs);
    }

    #[test]
    fn diverging_fires_when_the_loss_jumps_after_learning() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Default, 5));
        let loss = |s: usize| if s < 300 { healthy_loss(s) } else { 1.5 + noise(s, 0.1) };
        let hints = run(&mut c, 1..=320, 0.01, loss, |_| 0.5, |_, _| {});
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert_eq!(hints[0].rule, HintRule::Diverging);
        assert!(hints[0].message.contains("rising fast"));
    }

    #[test]
    fn a_non_finite_loss_is_diverging_with_a_restart() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 10));
        run(&mut c, 1..=30, 2.0, healthy_loss, healthy_accuracy, |_, _| {});
        let failed = TrainEvent::Failed { message: "training diverged at epoch 1, batch 31".into(), weights: None };
        let mut out = Vec::new();
        c.relay(failed, &mut |e| out.push(e));
        assert!(matches!(&out[0], TrainEvent::Hint(h) if h.rule == HintRule::Diverging), "the hint comes first");
        assert!(out[1].is_terminal());
        let TrainEvent::Hint(h) = &out[0] else { unreachable!() };
        assert_eq!(h.actions, vec![HintAction::Restart(RestartWith { lr: Some(0.2), ..Default::default() })]);
        // The hint repeats what the trainer saw, not a guess.
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 10));
        let message = "training diverged at epoch 3, batch 73: the loss exploded to 2.690e1, over 10× the first \
                       batch's 2.460. The learning rate (0.2) is probably too high";
        let hints = c.observe(&TrainEvent::Failed { message: message.into(), weights: None });
        assert!(hints[0].message.contains("the loss exploded to 2.690e1"), "{}", hints[0].message);
        assert!(!hints[0].message.contains("NaN"), "{}", hints[0].message);
    }

    #[test]
    fn noisy_but_healthy_losses_do_not_count_as_diverging() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 5));
        // Low loss with spikes: doubling from 0.05 to 0.1 is noise, not divergence.
        let hints = run(
            &mut c,
            1..=400,
            1e-3,
            |s| healthy_loss(s) * if s % 7 == 0 { 3.0 } else { 1.0 },
            healthy_accuracy,
            |_, _| {},
        );
        assert!(hints.is_empty(), "{hints:?}");
    }

    #[test]
    fn lr_too_low_fires_on_a_slow_steady_fall_and_names_saturation() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Seed, 3));
        let slow = |s: usize| 3.5 - 0.003 * s as f32 + noise(s, 0.05);
        let hints = run(
            &mut c,
            1..=300,
            0.01,
            slow,
            |_| 0.3,
            |_, d| {
                d.saturation.insert("f5.act".into(), 0.87);
            },
        );
        assert_eq!(hints.len(), 1, "{hints:?}");
        let h = &hints[0];
        assert_eq!(h.rule, HintRule::LrTooLow);
        assert_eq!(h.actions[0], HintAction::SetLr { lr: 0.1 });
        assert!(h.message.contains("87 % of f5.act"));
        assert!(h.actions.iter().any(|a| matches!(a, HintAction::Restart(r) if r.init == Some(Init::Xavier))));
    }

    #[test]
    fn lr_too_low_stays_silent_when_the_run_will_converge_or_is_flat_at_chance() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Default, 5));
        // Slow but with plenty of run left: the straight line reaches a low loss.
        let hints = run(&mut c, 1..=200, 3e-3, |s| 1.0 - 0.002 * s as f32 + noise(s, 0.02), |_| 0.7, |_, _| {});
        assert!(hints.is_empty(), "{hints:?}");
        let mut c = Coach::new();
        c.observe(&started(Preset::Classic, 2));
        let hints = run(&mut c, 1..=170, 0.9, |s| CHANCE_LOSS - 0.0001 * s as f32, |_| 0.1, |_, _| {});
        assert!(hints.iter().all(|h| h.rule != HintRule::LrTooLow), "{hints:?}");
    }

    #[test]
    fn a_learning_rate_change_rearms_the_learning_rate_rules() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Seed, 10));
        let slow = |s: usize| 4.5 - 0.003 * s as f32 + noise(s, 0.05);
        assert_eq!(run(&mut c, 1..=200, 0.01, slow, |_| 0.3, |_, _| {}).len(), 1);
        assert!(run(&mut c, 201..=260, 0.01, slow, |_| 0.3, |_, _| {}).is_empty(), "once per condition");
        let change = LrChange { epoch: 3, batch: 60, x_epochs: 2.6, old_lr: 0.01, new_lr: 0.02 };
        c.observe(&TrainEvent::LrChanged(change));
        let again = run(&mut c, 261..=280, 0.02, slow, |_| 0.3, |_, _| {});
        assert!(again.is_empty(), "the new rate gets a fresh window first");
        assert_eq!(run(&mut c, 281..=440, 0.02, slow, |_| 0.3, |_, _| {}).len(), 1, "then it is judged again");
    }

    fn epoch(e: usize, train_accuracy: f32, test_accuracy: f32, test_loss: f32) -> TrainEvent {
        TrainEvent::Epoch(EpochMetrics {
            epoch: e,
            train_loss: 0.1,
            train_accuracy,
            test_loss,
            test_accuracy,
            test_class_accuracy: vec![test_accuracy; 10],
            confusion: Vec::new(),
            predictions: None,
            epoch_secs: 1.0,
            elapsed_secs: e as f64,
        })
    }

    #[test]
    fn overfitting_fires_when_test_loss_rises_while_training_accuracy_pulls_away() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 10));
        let history = [(0.95, 0.94, 0.20), (0.98, 0.96, 0.12), (0.99, 0.965, 0.125), (0.995, 0.96, 0.14)];
        let mut hints = Vec::new();
        for (i, (tr, te, tl)) in history.iter().enumerate() {
            hints.extend(c.observe(&epoch(i + 1, *tr, *te, *tl)));
        }
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert_eq!(hints[0].rule, HintRule::Overfitting);
        assert!(hints[0].message.contains("since epoch 2"));
        assert_eq!(hints[0].actions[0], HintAction::SetEpochs { epochs: 4 });
        assert!(c.observe(&epoch(5, 0.999, 0.95, 0.2)).is_empty(), "once");
    }

    #[test]
    fn overfitting_stays_silent_without_a_gap_or_a_rising_test_loss() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 10));
        // Test loss rises a little but train and test accuracy agree: noise, not memorising.
        for (i, (tr, te, tl)) in
            [(0.95, 0.95, 0.2), (0.97, 0.97, 0.1), (0.975, 0.97, 0.11), (0.98, 0.975, 0.12)].iter().enumerate()
        {
            assert!(c.observe(&epoch(i + 1, *tr, *te, *tl)).is_empty());
        }
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 10));
        // A gap, but the test loss keeps falling.
        for (i, (tr, te, tl)) in [(0.95, 0.93, 0.2), (0.98, 0.95, 0.15), (0.99, 0.96, 0.12)].iter().enumerate() {
            assert!(c.observe(&epoch(i + 1, *tr, *te, *tl)).is_empty());
        }
    }

    #[test]
    fn dead_relu_fires_when_most_units_stay_dead() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 5));
        let dead = |frac: f32| {
            move |_: usize, d: &mut Diagnostics| {
                for k in ["c1.act", "c3.act", "f5.act", "f6.act"] {
                    d.dead_units.insert(k.into(), if k == "f5.act" { frac } else { 0.0 });
                }
            }
        };
        assert!(run(&mut c, 1..=300, 1e-3, healthy_loss, healthy_accuracy, dead(0.3)).is_empty(), "30 % is fine");
        let early = run(&mut c, 301..=390, 1e-3, healthy_loss, healthy_accuracy, dead(0.7));
        assert!(early.is_empty(), "not before the window: {early:?}");
        let hints = run(&mut c, 391..=500, 1e-3, healthy_loss, healthy_accuracy, dead(0.7));
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert_eq!(hints[0].rule, HintRule::DeadRelu);
        assert!(hints[0].message.contains("70 % of f5.act"));
    }

    #[test]
    fn dead_relu_ignores_units_that_come_back() {
        let mut c = Coach::new();
        c.observe(&started(Preset::Modern, 5));
        let flicker = |s: usize, d: &mut Diagnostics| {
            d.dead_units.insert("f5.act".into(), if (s / 10).is_multiple_of(3) { 0.2 } else { 0.8 });
        };
        assert!(run(&mut c, 1..=500, 1e-3, healthy_loss, healthy_accuracy, flicker).is_empty());
    }

    #[test]
    fn labels_and_restarts_read_as_settings() {
        let r = RestartWith { optimizer: Some(Optimizer::Adam), lr: Some(3e-3), ..Default::default() };
        assert_eq!(action_label(&HintAction::Restart(r.clone())), "Restart with Adam, lr 3e-3");
        assert_eq!(action_label(&HintAction::SetLr { lr: 0.09 }), "Set learning rate to 0.09");
        let c = apply_restart(&r, &TrainConfig::preset(Preset::Classic));
        assert_eq!((c.optimizer, c.lr, c.init), (Optimizer::Adam, 3e-3, Init::Xavier));
        let json = serde_json::to_string(&HintAction::Restart(r)).unwrap();
        assert_eq!(json, r#"{"kind":"restart","optimizer":"adam","lr":0.003}"#);
    }
}
