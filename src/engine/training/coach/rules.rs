//! The coach's rules, one method each: when a run is stuck at chance, diverging, learning too slowly, overfitting or
//! losing ReLU units, and what to tell the learner. The state they read (the run's recent history) and when they are
//! asked are the coach's own ([`Coach::observe`]).

use super::*;

impl Coach {
    pub(super) fn stuck_at_chance(&mut self) -> Option<Hint> {
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

    pub(super) fn diverging(&mut self) -> Option<Hint> {
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
    pub(super) fn diverged_now(&mut self, what: &str) -> Option<Hint> {
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

    pub(super) fn lr_too_low(&mut self) -> Option<Hint> {
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

    pub(super) fn overfitting(&mut self, e: &EpochMetrics) -> Option<Hint> {
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

    pub(super) fn dead_relu(&mut self) -> Option<Hint> {
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
