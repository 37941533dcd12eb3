//! Issue 28, "your own data without traps", in the real window: after teaching it one's handwriting the shipped
//! MNIST is one click away, the coach's banners go when their condition does, and the run buttons keep their
//! places whether a run is going, has ended or has not started.

use crate::support::data::small;
use crate::support::ui::{add_sevens, click, draw_seven, drawings_total, harness_with, run_until, small_batches};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lenet_playground::app::command::{DrawingsCommand, UiCommand};
use lenet_playground::app::state::Phase;
use lenet_playground::app::PlaygroundApp;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::Optimizer;
use lenet_playground::engine::training::events::{Hint, HintAction, HintRule};
use std::sync::Arc;

fn has_text(h: &Harness<'static, PlaygroundApp>, part: &str) -> bool {
    h.query_all_by(|n| n.label().is_some_and(|l| l.contains(part)) || n.value().is_some_and(|v| v.contains(part)))
        .next()
        .is_some()
}

/// Item 1: teaching puts the drawings (mixed with MNIST) in as the data set; "Use shipped MNIST" takes the learner
/// back, where it used to be greyed out ("Already using it").
#[test]
fn after_teaching_my_handwriting_use_shipped_mnist_brings_the_digits_back() {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let mut h = harness_with([1280.0, 900.0], small_batches(1), Arc::new(small(500, 100)), move |app| {
        app.set_data_home(&home_path)
    });
    h.run();
    add_sevens(&mut h, 3);
    click(&mut h, "Teach it my handwriting");
    run_until(&mut h, "before and after are compared", |app| app.drawings().compared.is_some());
    let data = h.state().session.data.clone().unwrap();
    assert!(data.source.is_some(), "the data set is now the drawings: {}", data.name);
    assert!(h.state().settings.data_folder.is_none(), "no folder was opened: the trap of issue 28");
    let button = h.get_by_label("Use shipped MNIST");
    assert!(!button.accesskit_node().is_disabled(), "Use shipped MNIST is offered while the drawings are the data");
    button.click();
    run_until(&mut h, "the shipped MNIST is back", |app| {
        app.session.data.as_ref().is_some_and(|d| d.source.is_none()) && app.session.loading.is_none()
    });
    let data = h.state().session.data.clone().unwrap();
    assert_eq!((data.name.as_str(), data.train.len()), ("MNIST", 60_000));
    assert!(h.get_by_label("Use shipped MNIST").accesskit_node().is_disabled(), "and now it is the one in use");
}

fn hint(rule: HintRule, actions: Vec<HintAction>) -> Hint {
    Hint { rule, message: format!("{rule:?} at the start of the run."), x_epochs: 0.1, actions }
}

/// Item 3: "stuck at chance" goes once the test set reads far better than chance; an overfitting hint's "Stop after
/// epoch 1" cannot stop a run that has ended, so after the run it offers a new run of that length instead.
#[test]
fn the_coach_banners_go_with_their_condition_and_offer_only_what_can_still_be_done() {
    let mut settings = small_batches(2);
    settings.train.limit = Some(2_000);
    let mut h = harness_with([1280.0, 900.0], settings, Arc::new(small(2_000, 300)), |_| {});
    h.run();
    click(&mut h, "Train");
    run_until(&mut h, "the first batches", |a| a.session.history.len() >= 3);
    let history = &mut h.state_mut().session.history;
    history.push_hint(hint(HintRule::StuckAtChance, vec![HintAction::KeepWaiting]));
    history.push_hint(hint(HintRule::Overfitting, vec![HintAction::SetEpochs { epochs: 1 }]));
    h.step();
    assert!(has_text(&h, "Coach: stuck at chance"));
    assert!(h.query_by_label("Stop after epoch 1").is_some(), "while the run goes on, it can stop it");
    run_until(&mut h, "the run ends", |a| a.session.phase == Phase::Idle);
    let acc = h.state().session.history.epochs.last().unwrap().test_accuracy;
    assert!(acc > 0.5, "the run learned: {acc}");
    assert!(!has_text(&h, "Coach: stuck at chance"), "at {:.0} % it is not stuck at chance any more", acc * 100.0);
    assert!(h.query_by_label("Keep waiting").is_none());
    assert!(h.query_by_label("Stop after epoch 1").is_none(), "the run has ended: nothing to stop");
    assert!(h.query_by_label("Restart with 1 epochs").is_some(), "the same advice, for a new run");
    // Kept for the plots' markers and the run's record.
    let rules: Vec<HintRule> = h.state().session.history.hints.iter().map(|e| e.hint.rule).collect();
    assert!(rules.starts_with(&[HintRule::StuckAtChance, HintRule::Overfitting]), "{rules:?}");
}

/// Item 4: Stop (and Pause, Step, Reset) sit at the same place before a run, during it and after it has ended,
/// although after the run the start row offers "Continue training" and "Train from scratch".
#[test]
fn the_run_buttons_keep_their_places_across_a_run() {
    let mut h = harness_with([1280.0, 800.0], small_batches(1), Arc::new(small(200, 100)), |_| {});
    h.run();
    let rects =
        |h: &Harness<'static, PlaygroundApp>| ["Pause", "Step", "Stop", "Reset"].map(|b| h.get_by_label(b).rect());
    let before = rects(&h);
    click(&mut h, "Train");
    run_until(&mut h, "the run is going", |a| a.session.run_active());
    let during = rects(&h);
    run_until(&mut h, "the run ends", |a| a.session.phase == Phase::Idle && a.session.weights.is_some());
    h.run();
    assert!(h.query_by_label("Continue training").is_some(), "after a run, both ways to start are offered");
    let after = rects(&h);
    assert_eq!(before, during, "starting a run moves no button");
    assert_eq!(before, after, "a run ending moves no button");
}

/// Item 2: "from the MNIST weights" starts from weights trained on MNIST, never from whatever is current: with none
/// it says how to get them; after an MNIST run (stored) and a run on the set itself, it takes the stored run's
/// and says so.
#[test]
fn from_the_mnist_weights_starts_from_mnist_weights_and_says_which() {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let mut settings = small_batches(1);
    settings.train.limit = Some(500);
    let mut h =
        harness_with([1280.0, 900.0], settings, Arc::new(small(500, 100)), move |app| app.set_data_home(&home_path));
    h.run();
    add_sevens(&mut h, 3);
    // Untrained weights are not MNIST's strokes and shapes.
    click(&mut h, "from the MNIST weights, conv frozen");
    run_until(&mut h, "the answer", |a| a.jobs_in_flight() == 0);
    let error = h.state().session.error.clone().unwrap_or_default();
    assert!(error.contains("no weights trained on MNIST"), "error: {error}");
    assert_eq!(h.state().session.phase, Phase::Idle, "nothing started");
    h.state_mut().session.error = None;
    // A set of two classes with drawings in each, to train on.
    let new_set = DrawingsCommand::NewSet { name: "two".into(), classes: "seven, other".into() };
    h.state_mut().command(UiCommand::Drawings(new_set));
    run_until(&mut h, "the new set", |a| a.drawings().summary.as_ref().is_some_and(|s| s.name == "two"));
    for class in ["seven", "other", "seven", "other", "seven", "other"] {
        draw_seven(&mut h);
        let before = drawings_total(h.state());
        h.state_mut().command(UiCommand::Drawings(DrawingsCommand::Add(class.into())));
        run_until(&mut h, "the drawing is saved", move |app| drawings_total(app) == before + 1);
    }
    // An MNIST run, stored; then a run on the set, so the current weights are the set's.
    click(&mut h, "Train");
    run_until(&mut h, "the MNIST run ends and is stored", |a| {
        a.session.phase == Phase::Idle && a.jobs_in_flight() == 0 && !a.experiments().runs.is_empty()
    });
    click(&mut h, "from scratch");
    // The status is read the first frame the run is under way (its end replaces it); the run's config comes with
    // the trainer's first event, a frame or more later on a busy machine.
    let first_status = std::cell::RefCell::new(None::<String>);
    run_until(&mut h, "the run on the set starts and reports its config", |a| {
        if a.session.run_active() && first_status.borrow().is_none() {
            *first_status.borrow_mut() = Some(a.session.status.clone());
        }
        // The set's run (two classes), not the MNIST run before it, whose record stays until the new one starts.
        a.session.run.as_ref().is_some_and(|r| r.config.model.classes == 2) || a.session.error.is_some()
    });
    assert!(h.state().session.error.is_none(), "{:?}", h.state().session.error);
    // A handful of drawings trains with the small-set recipe, not the side panel's batch of 100, and says so.
    let run_cfg = h.state().session.run.as_ref().map(|r| r.config.clone()).expect("a run");
    assert!(run_cfg.batch_size <= 4 && run_cfg.optimizer == Optimizer::Adam, "{run_cfg:?}");
    let status = first_status.into_inner().expect("the run was seen under way");
    assert!(status.contains("a small set (") && status.contains("instead of the side panel's"), "status: {status}");
    assert_eq!(h.state().settings.train.batch_size, 10, "the side panel keeps its settings");
    run_until(&mut h, "the run on the set ends", |a| a.session.phase == Phase::Idle && a.jobs_in_flight() == 0);
    // The recipe's epochs were the run's: the side panel's Epochs slider still says 1, not the epoch the run reached
    // (it used to be pulled up with every epoch of the run, seen in a real window as 5 → 49).
    let trained = h.state().session.run.as_ref().map(|r| r.epochs).unwrap();
    assert!(trained >= 10, "the small-set recipe's epochs: {trained}");
    assert_eq!(h.state().settings.train.epochs, 1, "the side panel keeps its epochs");
    let current = h.state().session.weights.clone().unwrap();
    let (status, error) = (&h.state().session.status, &h.state().session.error);
    assert_ne!(current.dataset, "MNIST", "the current weights are the set's: {status} / {error:?}");
    click(&mut h, "from the MNIST weights, conv frozen");
    run_until(&mut h, "the transfer run starts", |a| a.session.run_active() || a.session.error.is_some());
    let status = h.state().session.status.clone();
    assert!(h.state().session.error.is_none(), "{:?}", h.state().session.error);
    assert!(status.contains("the MNIST weights of the stored run"), "status: {status}");
}

/// Item 4: a set of one's own may have long class names. At 1024 px the prediction's big name shrinks (then is cut
/// with "…") and the bars' names are cut to their column, so names, bars and percentages stay inside the window,
/// and the whole frame settles in the harness's usual number of steps (no layout that needs a later frame).
#[test]
fn long_class_names_in_the_prediction_stay_inside_the_canvas_panel_at_1024_px() {
    let width = 1024.0;
    let mut h = harness_with([width, 700.0], small_batches(1), Arc::new(small(500, 100)), |_| {});
    h.run();
    let long = "my grandmother's handwritten seven with a bar".to_string();
    let names: Vec<String> =
        (0..10).map(|i| if i == 7 { long.clone() } else { format!("long class name {i}") }).collect();
    let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 7, "my set", &names);
    h.state_mut().session.install_weights(w).unwrap();
    draw_seven(&mut h);
    h.run();
    let bars: Vec<_> = h.query_all_by(|n| n.label().is_some_and(|l| l.starts_with("probability bar "))).collect();
    assert_eq!(bars.len(), 10, "one bar per class");
    let canvas = h.get_by_label_contains("Drawing canvas").rect();
    let named: Vec<_> = h
        .query_all_by(|n| {
            let text = n.label().or(n.value()).unwrap_or_default();
            text.contains("long class name") || text.contains("grandmother") || text.ends_with(" %")
        })
        .collect();
    assert!(named.len() >= 20, "the names and percentages are in the window: {}", named.len());
    for node in named.iter().chain(&bars) {
        let r = node.rect();
        let text = node.accesskit_node().label().or(node.accesskit_node().value()).unwrap_or_default();
        assert!(r.right() <= width + 0.5, "{text:?} ends at {} beyond the {width} px window", r.right());
        assert!(r.left() >= canvas.left() - 0.5, "{text:?} starts left of the canvas's column");
    }
}
