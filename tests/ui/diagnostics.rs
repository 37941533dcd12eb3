//! The Gradient flow tab, the coach's banner and the inspector's saturation column, driven headless with
//! egui_kittest: a real classic run that stalls, real clicks on the banner's buttons.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lenet_playground::app::state::{Phase, Settings};
use lenet_playground::app::{PlaygroundApp, Tab};
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::insight::diagnostics::Diagnostics;
use lenet_playground::engine::training::config::{Optimizer, Preset, TrainConfig};
use lenet_playground::engine::training::events::{Hint, HintAction, HintRule, RestartWith};
use std::sync::{Arc, OnceLock};

use crate::support::ui::run_until;

/// 3,000 training images (30 batches of 100 an epoch) and 500 test images: quick epochs.
fn data() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let d = Dataset::shipped_mnist().expect("shipped MNIST loads");
        Arc::new(Dataset { train: d.train.truncated(3_000), test: d.test.truncated(500), ..d })
    })
    .clone()
}

fn harness(train: TrainConfig) -> Harness<'static, PlaygroundApp> {
    crate::support::ui::harness([1280.0, 900.0], Settings { train, ..Settings::default() }, data())
}

use crate::support::ui::click_role as click;

fn has_text(h: &Harness<'static, PlaygroundApp>, part: &str) -> bool {
    h.query_all_by(|n| n.label().is_some_and(|l| l.contains(part)) || n.value().is_some_and(|v| v.contains(part)))
        .next()
        .is_some()
}

#[test]
fn a_classic_run_shows_its_gradients_and_the_coach_explains_the_plateau() {
    let mut h = harness(TrainConfig { epochs: 8, ..TrainConfig::preset(Preset::Classic) });
    h.step();
    click(&mut h, Role::Button, "Gradient flow");
    assert_eq!(h.state().tab, Tab::Gradients);
    assert!(has_text(&h, "No measurements yet"));
    click(&mut h, Role::Button, "Train");
    run_until(&mut h, "the coach's hint", |a| !a.session.history.hints.is_empty());
    // The tab draws the three plots over the measurements that arrived.
    assert!(h.state().session.history.diagnostics.len() >= 4);
    for title in ["Gradient norm per layer (log scale)", "Update size per step", "Saturation per activation stage"] {
        assert!(has_text(&h, title), "{title}");
    }
    // The banner: the rule, the cause the diagnostics show, the way out.
    assert!(has_text(&h, "Coach: stuck at chance"));
    assert!(has_text(&h, "vanishing gradients"));
    assert!(h.query_by_label("Keep waiting").is_some());
    let hint = &h.state().session.history.hints[0];
    assert_eq!(hint.hint.rule, HintRule::StuckAtChance);
    assert!((hint.x - 5.0).abs() < 0.2, "150 batches of 30 an epoch: {}", hint.x);
    // Keep waiting: the banner goes, the run goes on, and the hint does not come back.
    click(&mut h, Role::Button, "Keep waiting");
    assert!(!has_text(&h, "Coach: stuck at chance"));
    assert!(h.state().session.run_active());
    click(&mut h, Role::Button, "Stop");
    run_until(&mut h, "the run to stop", |a| a.session.phase == Phase::Idle);
    assert_eq!(h.state().session.history.hints.len(), 1, "once per condition");
}

fn stuck_hint() -> Hint {
    Hint {
        rule: HintRule::StuckAtChance,
        message: "Stuck at chance: for 150 batches the loss has stayed at ln 10.".into(),
        x_epochs: 0.5,
        actions: vec![
            HintAction::Restart(RestartWith { optimizer: Some(Optimizer::Adam), lr: Some(3e-3), ..Default::default() }),
            HintAction::KeepWaiting,
        ],
    }
}

#[test]
fn a_restart_button_asks_then_starts_a_new_run_with_the_change() {
    let mut h = harness(TrainConfig { epochs: 50, ..TrainConfig::preset(Preset::Classic) });
    h.step();
    click(&mut h, Role::Button, "Train");
    run_until(&mut h, "the first batches", |a| a.session.history.len() >= 3);
    h.state_mut().session.history.push_hint(stuck_hint());
    h.step();
    assert!(has_text(&h, "Coach: stuck at chance"));

    click(&mut h, Role::Button, "Restart with Adam, lr 3e-3");
    // Nothing happens before the user confirms.
    assert!(has_text(&h, "This stops the current run"));
    assert_eq!(h.state().session.run.as_ref().unwrap().config.optimizer, Optimizer::Sgd);
    click(&mut h, Role::Button, "Cancel");
    assert!(!has_text(&h, "This stops the current run") && has_text(&h, "Coach: stuck at chance"));

    click(&mut h, Role::Button, "Restart with Adam, lr 3e-3");
    click(&mut h, Role::Button, "Yes, restart");
    run_until(&mut h, "the new run", |a| {
        a.session.run.as_ref().is_some_and(|r| r.config.optimizer == Optimizer::Adam) && a.session.history.len() >= 2
    });
    let app = h.state();
    assert_eq!((app.settings.train.optimizer, app.settings.train.lr), (Optimizer::Adam, 3e-3));
    assert_eq!(app.settings.train.init, TrainConfig::preset(Preset::Classic).init, "the rest is kept");
    assert!(app.session.history.hints.iter().all(|e| e.hint.actions.is_empty() || e.dismissed || e.x < 1.0));
    assert!(!has_text(&h, "Coach: stuck at chance"), "the old run's hint went with its curves");
    click(&mut h, Role::Button, "Stop");
    run_until(&mut h, "the run to stop", |a| a.session.phase == Phase::Idle);
}

#[test]
fn dismiss_hides_a_hint_and_its_marker_stays() {
    let mut h = harness(TrainConfig::preset(Preset::Classic));
    h.step();
    h.state_mut().session.history.push_hint(stuck_hint());
    h.step();
    assert!(has_text(&h, "Coach: stuck at chance"));
    // Without a run, a restart starts one directly (still after a confirmation).
    click(&mut h, Role::Button, "Restart with Adam, lr 3e-3");
    assert!(has_text(&h, "This starts a new run"));
    click(&mut h, Role::Button, "Cancel");
    click(&mut h, Role::Button, "Dismiss");
    assert!(!has_text(&h, "Coach: stuck at chance"));
    let entry = &h.state().session.history.hints[0];
    assert!(entry.dismissed, "kept (for the plots' marker), only hidden");
    assert_eq!(h.state().session.phase, Phase::Idle);
}

#[test]
fn the_inspector_shows_each_activation_stage_saturation() {
    let mut h = harness(TrainConfig::preset(Preset::Seed));
    h.step();
    let mut d = Diagnostics { epoch: 1, batch: 10, x_epochs: 0.1, ..Default::default() };
    for (k, v) in [("c1.act", 0.07), ("c3.act", 0.76), ("f5.act", 0.87), ("f6.act", 0.73)] {
        d.saturation.insert(k.into(), v);
    }
    h.state_mut().session.history.push_diagnostics(d);
    click(&mut h, Role::Button, "Network inspector");
    h.step();
    assert!(h.query_by_label("Saturated").is_some());
    for pct in ["7 %", "76 %", "87 %", "73 %"] {
        assert!(h.query_by_label(pct).is_some(), "{pct}");
    }
    // The Gradient flow tab shows the same measurement with a sentence on what it means.
    click(&mut h, Role::Button, "Gradient flow");
    assert!(has_text(&h, "Saturation per activation stage"));
}

#[test]
fn a_learning_rate_hint_changes_the_running_rate_live() {
    let mut h = harness(TrainConfig { epochs: 50, ..TrainConfig::preset(Preset::Seed) });
    h.step();
    click(&mut h, Role::Button, "Train");
    run_until(&mut h, "the first batches", |a| a.session.history.len() >= 3);
    h.state_mut().session.history.push_hint(Hint {
        rule: HintRule::LrTooLow,
        message: "Learning rate too low: the loss falls, but slowly.".into(),
        x_epochs: 0.1,
        actions: vec![HintAction::SetLr { lr: 0.1 }],
    });
    h.step();
    // No confirmation: the run goes on, with the new rate from the next batch.
    click(&mut h, Role::Button, "Set learning rate to 0.1");
    assert!(!has_text(&h, "Coach: learning rate too low"), "acted on, so hidden");
    run_until(&mut h, "a batch at the new rate", |a| a.session.history.last_batch().is_some_and(|b| b.lr == 0.1));
    assert_eq!(h.state().session.run.as_ref().unwrap().config.optimizer, Optimizer::Sgd, "the same run");
    click(&mut h, Role::Button, "Stop");
    run_until(&mut h, "the run to stop", |a| a.session.phase == Phase::Idle);
}
