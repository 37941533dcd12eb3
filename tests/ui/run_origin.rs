//! A run is what it says it is: after a run, Train offers "Continue training" and "Train from scratch", and a
//! continued run records what it continued from, where its x axis starts, and every position (batches, epochs,
//! learning-rate changes) from there; runs of one name stay apart (names, legend entries, the CSV's `run_id`); a
//! run's colour survives deleting others; pause stops the clock; Reset and a new run leave no stale banner, Step line
//! or accuracy. Driven headless with egui_kittest; waits are bounded by a guard that only catches hangs.

use crate::support::data::small;
use crate::support::ui::{click, click_role, run_until};
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lenet_playground::app::command::{LiveCommand, PlotFormat, RunsCommand, UiCommand};
use lenet_playground::app::runs::experiments::Curves;
use lenet_playground::app::state::{Phase, Settings};
use lenet_playground::app::{PlaygroundApp, Tab};
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::store::runs::{ContinuedFrom, RunOrigin, RunStore};
use lenet_playground::engine::training::config::Preset;
use lenet_playground::engine::training::events::{Hint, HintRule, StepResult};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn data() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| Arc::new(small(200, 200))).clone()
}

/// 200 images in batches of 10: 20 batches an epoch.
use crate::support::ui::small_batches as settings;

fn harness(settings: Settings, home: &Path) -> Harness<'static, PlaygroundApp> {
    let home = home.to_path_buf();
    crate::support::ui::harness_with([1280.0, 900.0], settings, data(), move |app| app.set_data_home(home))
}

fn recorded(app: &PlaygroundApp) -> usize {
    app.experiments().runs.len()
}

/// The text of the first widget whose label or value contains `part`.
fn text_of(h: &Harness<'static, PlaygroundApp>, part: &str) -> Option<String> {
    let node = h
        .query_all_by(|n| n.label().is_some_and(|l| l.contains(part)) || n.value().is_some_and(|v| v.contains(part)))
        .next()?;
    let n = node.accesskit_node();
    n.label().filter(|l| l.contains(part)).or_else(|| n.value()).map(|s| s.to_string())
}

/// The preset box shows exactly `name`.
fn preset_shown(h: &Harness<'static, PlaygroundApp>, name: &str) -> bool {
    h.query_all_by(|n| n.label().as_deref() == Some(name) || n.value().as_deref() == Some(name)).next().is_some()
}

fn shows(h: &Harness<'static, PlaygroundApp>, part: &str) -> bool {
    text_of(h, part).is_some()
}

fn hint(x_epochs: f64) -> Hint {
    Hint { rule: HintRule::LrTooLow, message: "planted hint".into(), x_epochs, actions: Vec::new() }
}

/// Frames for `ms` milliseconds (events keep arriving, nothing is asserted meanwhile).
fn frames_for(h: &mut Harness<'static, PlaygroundApp>, ms: u64) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(ms) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_second_train_after_a_finished_run_continues_or_starts_fresh_as_chosen() {
    let home = tempfile::tempdir().unwrap();
    let mut h = harness(settings(1), home.path());
    h.step();
    click(&mut h, "Train");
    run_until(&mut h, "the first run recorded", |a| recorded(a) == 1 && a.session.phase == Phase::Idle);
    assert!(shows(&h, "Status: Finished"), "a finished run says so, not Idle");
    // Both choices, the default said plainly (from scratch unless the box is ticked).
    assert!(shows(&h, "Next run: from scratch"));
    h.get_by_role_and_label(Role::Button, "Continue training");
    h.get_by_role_and_label(Role::Button, "Train from scratch");
    let first = h.state().experiments().runs[0].clone();
    let first_loss = h.state().session.history.batches[0].loss;

    // Continue: the banner of the run before goes, the curves go on from epoch 1.
    h.state_mut().session.history.push_hint(hint(0.5));
    h.step();
    assert!(shows(&h, "planted hint"));
    h.get_by_role_and_label(Role::CheckBox, "Continue from current weights").click();
    h.step();
    h.step();
    assert!(shows(&h, &format!("Next run: continued from '{}' at epoch 1.00", first.name())));
    click(&mut h, "Continue training");
    assert!(!shows(&h, "planted hint"), "a new run files the old banner away");
    run_until(&mut h, "a few batches of the continued run", |a| a.session.history.batches.len() >= 23);
    h.state_mut().command(UiCommand::Live(LiveCommand::Lr { lr: 0.006, done: true }));
    run_until(&mut h, "the continued run recorded", |a| recorded(a) == 2 && a.session.phase == Phase::Idle);
    let app = h.state();
    let second = &app.experiments().runs[1];
    let rec = &second.run.record;
    assert_eq!(
        rec.continued_from,
        Some(ContinuedFrom {
            origin: RunOrigin::Run { id: first.id().to_string(), name: first.name().to_string() },
            epoch_offset: 1.0
        })
    );
    assert_eq!(second.label, format!("continued from '{}' at epoch 1.00", first.name()));
    assert_ne!(second.name(), first.name(), "two runs, two names");
    // The start point: trained weights (a low loss), at x 1.05 on the plots.
    let h21 = &app.session.history;
    assert_eq!(h21.loss.len(), 40);
    assert!((h21.loss[20][0] - 1.05).abs() < 1e-9, "{:?}", h21.loss[20]);
    let mean = |b: &[lenet_playground::engine::training::events::BatchMetrics]| {
        b.iter().map(|b| b.loss).sum::<f32>() / b.len() as f32
    };
    let (fresh, continued) = (mean(&h21.batches[..5]), mean(&h21.batches[20..25]));
    assert!(continued < fresh, "starts from the trained weights: loss {continued} against {fresh} fresh");
    // Every position agrees: the plot's marker, the record's lr change, its metrics, the status line.
    let marker = &app.experiments().markers[0];
    assert!(marker.x > 1.0 && marker.x < 2.0, "{marker:?}");
    assert_eq!(rec.lr_changes.len(), 1);
    assert!((rec.lr_changes[0].x_epochs - marker.x).abs() < 1e-9, "{:?} vs {marker:?}", rec.lr_changes);
    assert_eq!(rec.summary.end_x_epochs, Some(2.0));
    let metrics = RunStore::new(home.path()).load_metrics(&second.run).unwrap();
    assert!((metrics.batches[0].x_epochs - 1.05).abs() < 1e-6, "{:?}", metrics.batches[0]);
    assert_eq!(metrics.batches[0].epoch, 1, "epoch numbers stay the run's own");
    // The record is made from the window's one copy of the curves: this run's part of them, no more.
    assert_eq!((rec.summary.batches, metrics.batches.len(), metrics.epochs.len()), (20, 20, 1));
    let stored: Vec<f32> = metrics.batches.iter().map(|b| b.loss).collect();
    let shown: Vec<f32> = h21.batches[20..].iter().map(|b| b.loss).collect();
    assert!(stored.iter().zip(&shown).all(|(a, b)| (a - b).abs() < 1e-5), "{stored:?} vs {shown:?}");
    assert!((metrics.epochs[0].x_epochs - 2.0).abs() < 1e-6);
    assert!(shows(&h, "Epoch 1/1 · batch 20/20 · plots: epoch 2.00"));
    // The window's CSV export of both runs: each at the x of its curves.
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("current.csv");
    h.state_mut().command(UiCommand::ExportMetrics(Some(csv.clone())));
    run_until(&mut h, "the CSV", |_| csv.is_file());
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("batch,")).collect();
    assert_eq!(rows.len(), 40);
    assert!(rows[0].starts_with("batch,1,1,0.050000,") && rows[20].starts_with("batch,1,1,1.050000,"), "{}", rows[20]);
    assert_eq!(text.lines().filter(|l| l.starts_with("kind,")).count(), 1, "one header");

    // From scratch: fresh weights, the curves start again at 0, no origin.
    click(&mut h, "Train from scratch");
    run_until(&mut h, "the fresh run recorded", |a| recorded(a) == 3 && a.session.phase == Phase::Idle);
    let app = h.state();
    let third = &app.experiments().runs[2];
    assert_eq!(third.run.record.continued_from, None);
    assert!(third.label.ends_with("(same settings)"), "{}", third.label);
    assert_eq!(app.session.history.loss.len(), 20);
    assert!((app.session.history.loss[0][0] - 0.05).abs() < 1e-9);
    assert_eq!(app.session.history.batches[0].loss, first_loss, "same seed, same fresh start");
    let names: Vec<&str> = app.experiments().runs.iter().map(|r| r.name()).collect();
    assert_eq!(names, ["Adam lr 0.003", "Adam lr 0.003 (2)", "Adam lr 0.003 (3)"]);
}

#[test]
fn two_runs_of_one_name_are_two_legend_entries_and_two_ids_in_the_csv() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut h = harness(settings(1), home.path());
    h.step();
    for n in 1..=2 {
        h.state_mut().command(UiCommand::Reset);
        h.step();
        h.step();
        click(&mut h, "Train");
        run_until(&mut h, "a run recorded", |a| recorded(a) == n && a.session.phase == Phase::Idle);
    }
    let runs = h.state().experiments().runs.clone();
    assert_eq!(runs[0].name(), "Adam lr 0.003");
    assert_eq!(runs[1].name(), "Adam lr 0.003 (2)");
    // A rename to a taken name stays apart too.
    let id = runs[1].id().to_string();
    h.state_mut().command(UiCommand::Runs(RunsCommand::Rename { id, name: "Adam lr 0.003".into() }));
    run_until(&mut h, "the rename", |a| a.session.status.starts_with("Renamed"));
    assert_eq!(h.state().session.status, "Renamed to 'Adam lr 0.003 (2)'.");
    for r in &runs {
        h.state_mut().command(UiCommand::Runs(RunsCommand::SetOverlay { id: r.id().to_string(), on: true }));
    }
    run_until(&mut h, "both curves", |a| a.experiments().runs.iter().all(|r| matches!(r.curves, Curves::Ready(_))));
    h.state_mut().tab = Tab::Plots;
    h.step();
    h.step();
    // The legend above the plots: one entry per run (an entry is a button that hides or shows its curves).
    for name in ["Adam lr 0.003", "Adam lr 0.003 (2)"] {
        assert_eq!(h.query_all_by_role_and_label(Role::Button, name).count(), 1, "{name}'s own legend entry");
    }
    let csv = out.path().join("m.csv");
    h.state_mut().command(UiCommand::ExportMetrics(Some(csv.clone())));
    run_until(&mut h, "the CSV", |_| csv.is_file());
    let text = std::fs::read_to_string(&csv).unwrap();
    for r in &runs {
        let row = format!("{},{},batch,", r.name(), r.id());
        assert_eq!(text.lines().filter(|l| l.starts_with(&row)).count(), 20, "{row}");
    }
    let _ = PlotFormat::Png;
}

#[test]
fn deleting_a_run_asks_first_and_leaves_the_others_colours() {
    let home = tempfile::tempdir().unwrap();
    let mut s = settings(1);
    s.train.limit = Some(50);
    let mut h = harness(s, home.path());
    h.step();
    for n in 1..=3 {
        h.state_mut().command(UiCommand::Reset);
        h.step();
        h.step();
        click(&mut h, "Train");
        run_until(&mut h, "a run recorded", |a| recorded(a) == n && a.session.phase == Phase::Idle);
    }
    let before: Vec<(String, egui::Color32)> =
        h.state().experiments().runs.iter().map(|r| (r.id().to_string(), r.color)).collect();
    assert!(before[0].1 != before[1].1 && before[1].1 != before[2].1 && before[0].1 != before[2].1, "{before:?}");
    h.state_mut().tab = Tab::Runs;
    h.step();
    h.step();
    // Newest first: the first Delete is the third run's; the second Delete is the middle run's.
    let deletes: Vec<_> = h.query_all_by_label("Delete").collect();
    assert_eq!(deletes.len(), 3);
    deletes[1].click();
    h.step();
    h.step();
    assert_eq!(recorded(h.state()), 3, "nothing deleted before the confirmation");
    assert!(shows(&h, "for good?"));
    click(&mut h, "Yes, delete");
    run_until(&mut h, "the deletion", |a| recorded(a) == 2);
    let after: Vec<(String, egui::Color32)> =
        h.state().experiments().runs.iter().map(|r| (r.id().to_string(), r.color)).collect();
    assert_eq!(after, vec![before[0].clone(), before[2].clone()], "the others keep their colours");
    // A new run takes the free colour, not another's.
    h.state_mut().command(UiCommand::Reset);
    h.step();
    h.step();
    click(&mut h, "Train");
    run_until(&mut h, "a fourth run", |a| recorded(a) == 3 && a.session.phase == Phase::Idle);
    let colors: Vec<egui::Color32> = h.state().experiments().runs.iter().map(|r| r.color).collect();
    assert_eq!(&colors[..2], &[before[0].1, before[2].1]);
    assert_eq!(colors[2], before[1].1);
}

#[test]
fn pause_freezes_elapsed_and_eta_and_stop_agrees_with_the_status() {
    let home = tempfile::tempdir().unwrap();
    let mut h = harness(settings(50), home.path());
    h.step();
    click(&mut h, "Train");
    run_until(&mut h, "a few batches", |a| a.session.history.batches.len() >= 3);
    click(&mut h, "Pause");
    frames_for(&mut h, 400); // the batch in flight lands
    let line = text_of(&h, "ETA").expect("the time line");
    let elapsed_paused = h.state().session.history.last_batch().unwrap().elapsed_secs;
    let n = h.state().session.history.batches.len();
    let paused_at = Instant::now();
    frames_for(&mut h, 1500);
    assert_eq!(text_of(&h, "ETA").unwrap(), line, "paused: elapsed and ETA stand still");
    click(&mut h, "Resume");
    run_until(&mut h, "batches after the pause", |a| a.session.history.batches.len() >= n + 3);
    let wall = paused_at.elapsed().as_secs_f64();
    let elapsed_now = h.state().session.history.last_batch().unwrap().elapsed_secs;
    assert!(elapsed_now - elapsed_paused < wall - 1.2, "the pause is not counted: {elapsed_paused} -> {elapsed_now}");

    // Stop files the coach's banner away; the stop message and the status give the same elapsed time.
    h.state_mut().session.history.push_hint(hint(0.2));
    h.step();
    assert!(shows(&h, "planted hint"));
    click(&mut h, "Pause");
    frames_for(&mut h, 1000);
    click(&mut h, "Stop");
    assert!(!shows(&h, "planted hint"), "Stop files the banner away");
    run_until(&mut h, "the stop", |a| a.session.phase == Phase::Idle);
    h.step();
    let status = h.state().session.status.clone();
    let (_, secs) = h.state().session.run.as_ref().unwrap().ended.unwrap();
    let shown = format!("{}:{:02}", secs.round() as u64 / 60, secs.round() as u64 % 60);
    assert!(status.starts_with("Stopped") && status.contains(&shown), "{status} vs {shown}");
    assert!(text_of(&h, "ETA").unwrap().contains(&format!("elapsed {shown}")));
    assert!(shows(&h, "Status: Stopped"));
}

#[test]
fn reset_clears_the_banner_the_step_line_and_the_last_accuracy_and_the_preset_says_custom() {
    let home = tempfile::tempdir().unwrap();
    let mut h = harness(settings(1), home.path());
    h.step();
    assert!(preset_shown(&h, "Custom"), "1 epoch in batches of 10 is no preset");
    click(&mut h, "Train");
    run_until(&mut h, "the run", |a| recorded(a) == 1 && a.session.phase == Phase::Idle);
    h.state_mut().session.history.push_hint(hint(0.5));
    h.state_mut().session.experiments.last_step =
        Some(StepResult { epoch: 1, batch: 3, x_epochs: 0.15, lr: 0.003, loss_before: 2.0, loss_after: 1.9 });
    h.step();
    h.step();
    assert!(shows(&h, "planted hint") && shows(&h, "loss before 2.0000"));
    assert!(shows(&h, "Last test accuracy: ") && !shows(&h, "Last test accuracy: —"));
    click_role(&mut h, Role::Button, "Reset");
    assert!(!shows(&h, "planted hint"), "the banner is gone");
    assert!(shows(&h, "Step (N, while paused): —"), "the Step line is cleared");
    assert!(shows(&h, "Last test accuracy: —"), "the accuracy is cleared");
    assert!(shows(&h, "Status: Idle"));

    // A preset named while the settings are its own; any edit away from it: Custom.
    h.state_mut().command(UiCommand::ApplyPreset(Preset::Default));
    h.step();
    h.step();
    assert!(preset_shown(&h, "Default"), "the preset box names the preset");
    assert!(!preset_shown(&h, "Custom"));
    h.state_mut().settings.train.lr = 0.01;
    h.step();
    h.step();
    assert!(preset_shown(&h, "Custom"), "the preset box says Custom");
    assert!(!preset_shown(&h, "Default"));
}

/// Issue 28, item 7: continuing a run leaves the side panel as it was (the preset box, the epochs the run trains),
/// during the continued run and after it; it never falls back to the Default preset and its 5 epochs.
#[test]
fn continue_training_keeps_the_side_panels_preset_and_epochs() {
    let home = tempfile::tempdir().unwrap();
    let mut h = harness(settings(1), home.path());
    h.step();
    h.state_mut().command(UiCommand::ApplyPreset(Preset::Classic));
    h.step();
    h.state_mut().settings.train.epochs = 2;
    h.state_mut().settings.train.limit = Some(200);
    h.step();
    h.step();
    assert!(preset_shown(&h, "Custom"), "Classic with 2 epochs is no preset");
    let before = h.state().settings.train.clone();
    click(&mut h, "Train");
    run_until(&mut h, "the first run recorded", |a| recorded(a) == 1 && a.session.phase == Phase::Idle);
    h.get_by_role_and_label(Role::CheckBox, "Continue from current weights").click();
    h.step();
    h.step();
    click(&mut h, "Continue training");
    run_until(&mut h, "the continued run under way", |a| {
        a.session.run_active() && a.session.run.as_ref().is_some_and(|r| r.continued_from.is_some())
    });
    let check = |h: &Harness<'static, PlaygroundApp>, when: &str| {
        let s = &h.state().settings;
        assert_eq!(s.train, before, "{when}: the side panel's settings");
        assert_eq!(s.preset, Preset::Classic, "{when}: the preset last picked");
        assert!(preset_shown(h, "Custom") && !preset_shown(h, "Default"), "{when}: the preset box");
        assert_eq!(h.state().session.run.as_ref().unwrap().config.epochs, 2, "{when}: the run trains 2 epochs");
    };
    check(&h, "during the continued run");
    run_until(&mut h, "the continued run recorded", |a| recorded(a) == 2 && a.session.phase == Phase::Idle);
    h.step();
    check(&h, "after it");
}
