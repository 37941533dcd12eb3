//! The coach's rules on synthetic histories: each fires when it should and stays silent otherwise.

use super::*;
use crate::engine::training::config::Preset;
use crate::engine::training::events::{BatchMetrics, LrChange};

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
    chance_loss(10) + noise(s, 0.02)
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
    assert!(h.actions.iter().any(|a| matches!(a, HintAction::Restart(r) if r.activation == Some(Activation::Relu))));
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
    assert!(c.fired.is_empty());
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
    let failed = TrainEvent::Failed {
        message: "training diverged at epoch 1, batch 31".into(),
        cause: Some(Divergence::NonFiniteLoss { loss: f32::NAN }),
        weights: None,
    };
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
    let cause = Divergence::LossExploded { loss: 26.9, first: 2.46 };
    assert!(message.contains(&cause.to_string()), "the message gives the cause's words");
    let hints = c.observe(&TrainEvent::Failed { message: message.into(), cause: Some(cause), weights: None });
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
    let hints = run(&mut c, 1..=170, 0.9, |s| chance_loss(10) - 0.0001 * s as f32, |_| 0.1, |_, _| {});
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
    let c = TrainConfig::preset(Preset::Classic).with_changes(&r);
    assert_eq!((c.optimizer, c.lr, c.init), (Optimizer::Adam, 3e-3, Init::Xavier));
    let json = serde_json::to_string(&HintAction::Restart(r)).unwrap();
    assert_eq!(json, r#"{"kind":"restart","optimizer":"adam","lr":0.003}"#);
}

#[test]
fn stuck_at_chance_knows_the_class_count() {
    // Three classes (circle, square, triangle): guessing is ln 3 and 33 %, so ln 10 is not "at chance" there.
    let three = |c: &mut Coach| {
        let TrainEvent::Started { mut config, epochs, batches_per_epoch, train_images, test_images, dataset } =
            started(Preset::Classic, 10)
        else {
            unreachable!()
        };
        config.model.classes = 3;
        c.observe(&TrainEvent::Started { config, epochs, batches_per_epoch, train_images, test_images, dataset });
    };
    let mut c = Coach::new();
    three(&mut c);
    let hints = run(&mut c, 1..=200, 0.9, |s| chance_loss(3) + noise(s, 0.02), |_| 0.34, vanishing);
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert!(hints[0].message.contains("ln 3 ≈ 1.099 and accuracy near 33 %"), "{:?}", hints[0].message);
    let mut c = Coach::new();
    three(&mut c);
    let hints = run(&mut c, 1..=200, 0.9, at_chance, |_| 0.1, vanishing);
    assert!(hints.iter().all(|h| h.rule != HintRule::StuckAtChance), "{hints:?}");
}
