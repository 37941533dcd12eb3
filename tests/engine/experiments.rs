//! Experiments in the engine: live learning rate and epochs, single steps while paused, schedules in the trainer,
//! and the run store (save, list, rename, delete, damaged folders, metrics read back).

use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::store::runs::{self, RunRecorder, RunSource, RunStatus, RunStore};
use lenet_playground::engine::training::config::{Optimizer, Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::{LrChange, TrainEvent};
use lenet_playground::engine::training::metrics::MetricsLog;
use lenet_playground::engine::training::schedule::Schedule;
use lenet_playground::engine::training::train::train;
use lenet_playground::engine::training::worker;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn small() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        let d = Dataset::shipped_mnist().expect("shipped MNIST loads");
        // 10 batches of 20 per epoch; a small test pass.
        Dataset { train: d.train.truncated(200), test: d.test.truncated(200), ..d }
    })
}

fn cfg(optimizer: Optimizer, lr: f64, epochs: usize) -> TrainConfig {
    TrainConfig { optimizer, lr, epochs, batch_size: 20, ..TrainConfig::preset(Preset::Modern) }
}

/// Runs training, calling `hook(control, event)` after each event is recorded.
fn run_with(cfg: &TrainConfig, hook: impl Fn(&Control, &TrainEvent)) -> Vec<TrainEvent> {
    let control = Control::new();
    let mut events = Vec::new();
    let _ = train(cfg, small(), None, &control, &mut |e| {
        hook(&control, &e);
        events.push(e);
    });
    events
}

fn batches(events: &[TrainEvent]) -> Vec<(usize, usize, f32, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Batch(b) => Some((b.epoch, b.batch, b.loss, b.lr)),
            _ => None,
        })
        .collect()
}

fn lr_changes(events: &[TrainEvent]) -> Vec<LrChange> {
    events.iter().filter_map(|e| if let TrainEvent::LrChanged(c) = e { Some(c.clone()) } else { None }).collect()
}

#[test]
fn a_learning_rate_change_applies_exactly_at_the_next_batch_for_each_optimizer() {
    for (optimizer, old, new) in
        [(Optimizer::Sgd, 0.05, 0.5), (Optimizer::Momentum, 0.01, 0.1), (Optimizer::Adam, 1e-3, 1e-2)]
    {
        let c = cfg(optimizer, old, 1);
        let baseline = batches(&run_with(&c, |_, _| {}));
        let changed_events = run_with(&c, |control, e| {
            if let TrainEvent::Batch(b) = e {
                if b.batch == 3 {
                    control.set_lr_now(new);
                }
            }
        });
        let changed = batches(&changed_events);
        assert_eq!(changed.len(), 10, "{optimizer:?}");
        for (i, (_, batch, loss, lr)) in changed.iter().enumerate() {
            let expected_lr = if *batch <= 3 { old } else { new };
            assert_eq!(*lr, expected_lr, "{optimizer:?} batch {batch} lr");
            // Batch k's loss comes from the weights after k-1 updates: batches 1..=4 saw only old-rate updates.
            if *batch <= 4 {
                assert_eq!(*loss, baseline[i].2, "{optimizer:?} batch {batch}: the change came too early");
            }
        }
        assert_ne!(changed[4].2, baseline[4].2, "{optimizer:?}: batch 5 must see the update made at the new rate");
        let marks = lr_changes(&changed_events);
        assert_eq!(marks.len(), 1, "{optimizer:?}");
        assert_eq!((marks[0].epoch, marks[0].batch, marks[0].old_lr, marks[0].new_lr), (1, 3, old, new));
        assert!((marks[0].x_epochs - 0.3).abs() < 1e-9);
    }
}

#[test]
fn a_drag_gives_one_recorded_change_and_the_batches_follow_it() {
    let c = cfg(Optimizer::Adam, 1e-3, 1);
    let events = run_with(&c, |control, e| {
        if let TrainEvent::Batch(b) = e {
            match b.batch {
                2..=5 => control.set_lr(1e-3 * (b.batch as f64)),
                6 => control.commit_lr_gesture(),
                _ => {}
            }
        }
    });
    let lrs: Vec<f64> = batches(&events).iter().map(|b| b.3).collect();
    assert_eq!(&lrs[..3], &[1e-3, 1e-3, 2e-3]);
    assert_eq!(lrs[9], 5e-3);
    let marks = lr_changes(&events);
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!((marks[0].batch, marks[0].old_lr, marks[0].new_lr), (2, 1e-3, 5e-3));
}

#[test]
fn schedules_set_each_batch_rate_in_the_trainer() {
    let cosine =
        batches(&run_with(&TrainConfig { schedule: Schedule::Cosine, ..cfg(Optimizer::Adam, 0.01, 2) }, |_, _| {}));
    assert_eq!(cosine.len(), 20);
    assert_eq!(cosine[0].3, 0.01, "start");
    assert!((cosine[10].3 - 0.005).abs() < 1e-12, "middle: {}", cosine[10].3);
    assert!(cosine[19].3 < 0.01 * 0.01, "end ≈ 0: {}", cosine[19].3);
    let step = TrainConfig { schedule: Schedule::Step { at_epochs: vec![1] }, ..cfg(Optimizer::Sgd, 0.1, 2) };
    let step = batches(&run_with(&step, |_, _| {}));
    assert!(step[..10].iter().all(|b| b.3 == 0.1));
    assert!(step[10..].iter().all(|b| (b.3 - 0.01).abs() < 1e-15), "{:?}", step[10]);
    // A manual change on a scheduled run rescales the schedule's base from the next batch.
    let rescaled = run_with(&TrainConfig { schedule: Schedule::Cosine, ..cfg(Optimizer::Adam, 0.01, 2) }, |c, e| {
        if matches!(e, TrainEvent::Batch(b) if b.epoch == 2 && b.batch == 1) {
            c.set_lr_now(0.02);
        }
    });
    let rescaled = batches(&rescaled);
    assert!((rescaled[11].3 - 2.0 * cosine[11].3).abs() < 1e-12);
}

#[test]
fn lowering_the_epochs_mid_run_ends_the_run_at_that_epoch() {
    let events = run_with(&cfg(Optimizer::Adam, 1e-3, 4), |control, e| {
        if matches!(e, TrainEvent::Batch(b) if b.epoch == 2 && b.batch == 3) {
            control.set_epochs(1); // below the epoch in progress: clamped to 2
        }
    });
    let epochs = events.iter().filter(|e| matches!(e, TrainEvent::Epoch(_))).count();
    assert_eq!(epochs, 2);
    assert!(matches!(events.last(), Some(TrainEvent::Finished { .. })));
    assert!(events.iter().any(|e| matches!(e, TrainEvent::EpochsChanged { epochs: 2 })));
    assert_eq!(batches(&events).len(), 20);
    // Raising extends.
    let events = run_with(&cfg(Optimizer::Adam, 1e-3, 1), |control, e| {
        if matches!(e, TrainEvent::Batch(b) if b.batch == 5) {
            control.set_epochs(2);
        }
    });
    assert_eq!(events.iter().filter(|e| matches!(e, TrainEvent::Epoch(_))).count(), 2);
}

#[test]
fn step_while_paused_runs_exactly_one_batch() {
    let data = Arc::new(small().clone());
    let handle = worker::spawn(cfg(Optimizer::Adam, 1e-3, 1), data, None, || {}).unwrap();
    handle.set_paused(true);
    // Batches seen, and the last step's result (the StepResult event that follows a stepped batch).
    let last_step = std::cell::RefCell::new(None);
    let count = |wait: Duration| {
        std::thread::sleep(wait);
        let mut batches = 0;
        for e in handle.events.try_iter() {
            match e {
                TrainEvent::Batch(_) => batches += 1,
                TrainEvent::StepResult(r) => *last_step.borrow_mut() = Some(r),
                _ => {}
            }
        }
        batches
    };
    count(Duration::from_millis(500)); // at most the batch in flight
    assert_eq!(count(Duration::from_millis(300)), 0, "paused");
    for _ in 0..2 {
        handle.control.step_one();
        let asked = Instant::now();
        let mut got = 0;
        while got == 0 && asked.elapsed() < Duration::from_secs(30) {
            got += count(Duration::from_millis(20));
        }
        got += count(Duration::from_millis(400));
        assert_eq!(got, 1, "one step, one batch");
        let step = last_step.borrow_mut().take().expect("the step's losses");
        assert!(step.loss_before.is_finite() && step.loss_after.is_finite());
        assert!(step.loss_after < step.loss_before, "a step on the same images lowers their loss: {step:?}");
    }
    handle.stop();
}

fn recorded(cfg: &TrainConfig, name: Option<&str>) -> runs::NewRun {
    let mut rec = RunRecorder::new(RunSource::App, name.map(String::from));
    let events = run_with(cfg, |control, e| {
        if matches!(e, TrainEvent::Batch(b) if b.batch == 2) {
            control.set_lr_now(cfg.lr * 2.0);
        }
    });
    let mut log = MetricsLog::default();
    for e in &events {
        rec.observe(e);
        log.observe(e);
    }
    assert!(rec.is_complete());
    rec.finish(log.run()).expect("a started run")
}

#[test]
fn the_run_store_keeps_lists_renames_and_deletes_runs() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::new(home.path());
    assert!(store.list().runs.is_empty() && store.list().skipped.is_empty(), "no folder yet: empty, no message");
    let first = store.save(&recorded(&cfg(Optimizer::Adam, 1e-3, 1), Some("first"))).unwrap();
    let second = store.save(&recorded(&cfg(Optimizer::Sgd, 0.1, 1), None)).unwrap();
    for f in [runs::RUN_JSON, runs::METRICS_CSV, runs::WEIGHTS_FILE] {
        assert!(first.dir.join(f).is_file(), "{f}");
    }
    let id_ok = |id: &str| id.len() == 20 && id.as_bytes()[8] == b'-' && id.as_bytes()[15] == b'-';
    assert!(id_ok(first.id()), "{}", first.id());
    let list = store.list();
    assert_eq!(list.runs.len(), 2);
    let r = &list.runs.iter().find(|r| r.id() == first.id()).unwrap().record;
    assert_eq!((r.name.as_str(), r.status, r.source), ("first", RunStatus::Finished, RunSource::App));
    assert_eq!(r.lr_changes.len(), 1);
    assert_eq!(r.summary.epochs_completed, 1);
    assert_eq!(r.summary.batches, 10);
    let acc = r.summary.test_accuracy.unwrap();
    assert!((0.0..=1.0).contains(&acc) && r.summary.best_test_accuracy == Some(acc));
    assert_eq!(second.record.name, "SGD lr 0.1", "a default name from the settings");
    // run.json names its fields as the contract says.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.dir.join(runs::RUN_JSON)).unwrap()).unwrap();
    for k in [
        "format",
        "id",
        "name",
        "created_unix",
        "source",
        "status",
        "config",
        "dataset",
        "summary",
        "lr_changes",
        "hints",
    ] {
        assert!(json.get(k).is_some(), "run.json lacks {k}");
    }
    assert_eq!(json["config"]["schedule"]["kind"], "constant");
    // Curves and weights read back.
    let m = store.load_metrics(&first).unwrap();
    assert_eq!(m.batches.len(), 10);
    assert_eq!(m.epochs.len(), 1);
    assert_eq!(m.batches[5].lr, Some(2e-3));
    store.load_weights(&first).unwrap().check_shapes().unwrap();
    // Rename, delete, clear old.
    assert_eq!(store.rename(first.id(), "renamed").unwrap().record.name, "renamed");
    assert_eq!(store.get(first.id()).unwrap().record.name, "renamed");
    assert!(store.disk_usage() > 200_000, "two weight files at least");
    assert!(store.delete("../x").is_err() && store.delete("nope").is_err());
    store.save(&recorded(&cfg(Optimizer::Adam, 1e-3, 1), Some("third"))).unwrap();
    assert_eq!(store.clear_old(1).unwrap(), 2);
    let left = store.list().runs;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record.name, "third");
    store.delete(left[0].id()).unwrap();
    assert!(store.list().runs.is_empty());
}

#[test]
fn damaged_and_foreign_folders_are_skipped_with_a_message() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::new(home.path());
    let good = store.save(&recorded(&cfg(Optimizer::Adam, 1e-3, 1), Some("good"))).unwrap();
    let runs_dir = store.runs_dir();
    let mk = |name: &str, json: Option<&[u8]>| {
        let d = runs_dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        if let Some(j) = json {
            std::fs::write(d.join("run.json"), j).unwrap();
        }
    };
    mk("20260101-000000-dead", Some(b"{\"format\": \"lenet-playground-run/1\", \"id\": 3")); // truncated
    mk("20260101-000000-beef", None); // incomplete: no run.json
    mk("photos", Some(br#"{"format": "something-else/2"}"#));
    mk("huge", Some(&vec![b' '; 2 << 20]));
    mk("binary", Some(&[0xff, 0xfe, 0x00]));
    std::fs::write(runs_dir.join("notes.txt"), "a stray file").unwrap();
    // A run.json whose metrics are damaged still lists; its curves say what is wrong.
    std::fs::write(good.dir.join(runs::METRICS_CSV), "kind,epoch\nbatch,1\n").unwrap();
    let list = store.list();
    assert_eq!(list.runs.len(), 1);
    assert_eq!(list.skipped.len(), 6, "{:#?}", list.skipped);
    let all = list.skipped.join("\n");
    for needle in ["not JSON", "no run.json", "something-else/2", "more than", "not text", "a file"] {
        assert!(all.contains(needle), "{needle} in {all}");
    }
    let err = store.load_metrics(&list.runs[0]).unwrap_err().to_string();
    assert!(err.contains("metrics.csv") && err.contains("x_epochs"), "{err}");
}

#[test]
fn old_settings_without_a_schedule_still_load() {
    let mut v = serde_json::to_value(TrainConfig::default()).unwrap();
    v.as_object_mut().unwrap().remove("schedule");
    let c: TrainConfig = serde_json::from_value(v).unwrap();
    assert_eq!(c.schedule, Schedule::Constant);
}

/// Figure, not an assertion: what the live-settings path costs per batch (reading the shared requests, the
/// schedule's rate) next to what a training step costs. An #[ignore] bench:
/// `cargo test --release --test engine live_path -- --ignored --nocapture`.
#[test]
#[ignore = "bench: prints a figure; run with --ignored"]
fn live_path_cost_per_batch_next_to_a_training_step() {
    use lenet_playground::engine::training::control::Live;
    let c = TrainConfig { schedule: Schedule::Cosine, ..cfg(Optimizer::Sgd, 0.1, 10) };
    let control = Control::new();
    let mut live = Live::new(&c);
    let n = 200_000;
    let t0 = Instant::now();
    let mut acc = 0.0;
    for i in 0..n {
        if i % 1000 == 0 {
            control.set_lr(0.1 + (i / 1000) as f64 * 1e-4);
        }
        live.sync(&control, 1 + i / 600, i % 600, 600, &mut |_| {});
        acc += c.schedule.lr(live.base_lr, i, 6000, 600);
    }
    let live_ns = t0.elapsed().as_secs_f64() * 1e9 / n as f64;
    assert!(acc > 0.0);
    // One epoch of 10 batches of 20 to time a step (batch 100 steps are ~5× longer).
    let t0 = Instant::now();
    let events = run_with(&TrainConfig { epochs: 1, ..c.clone() }, |_, _| {});
    let step_ns = t0.elapsed().as_secs_f64() * 1e9 / batches(&events).len() as f64;
    eprintln!(
        "live lr path: {live_ns:.0} ns per batch; a training step of 20 images (with its share of the test pass): \
         {:.2} ms; ratio {:.5} %",
        step_ns / 1e6,
        100.0 * live_ns / step_ns
    );
}

/// `train --init-from` records what the CLI's run continued from: a store run's weights name that run, at its end;
/// any other file is itself, at epoch 0. The record's positions count from the offset; epoch numbers stay its own.
#[test]
fn a_continued_run_records_its_origin_and_counts_its_positions_from_the_offset() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::new(home.path());
    let first = store.save(&recorded(&cfg(Optimizer::Adam, 1e-3, 1), Some("first"))).unwrap();
    let end = first.record.summary.end_x_epochs.expect("the end is recorded");
    assert!((end - 1.0).abs() < 1e-9, "{end}");

    let from = store.origin_of_weights(&first.weights_path());
    assert_eq!(from.origin, runs::RunOrigin::Run { id: first.id().to_string(), name: "first".into() });
    assert_eq!(from.epoch_offset, 1.0);
    let elsewhere = home.path().join("w.safetensors");
    std::fs::copy(first.weights_path(), &elsewhere).unwrap();
    let file = store.origin_of_weights(&elsewhere);
    assert_eq!(file, runs::ContinuedFrom::weights_file(&elsewhere));

    let c = cfg(Optimizer::Adam, 1e-3, 1);
    let mut rec = RunRecorder::new(RunSource::Cli, None).continued_from(from.clone());
    let events = run_with(&c, |control, e| {
        if matches!(e, TrainEvent::Batch(b) if b.batch == 2) {
            control.set_lr_now(c.lr * 2.0);
        }
    });
    let mut log = MetricsLog::default();
    events.iter().for_each(|e| {
        rec.observe(e);
        log.observe(e);
    });
    let second = store.save(&rec.finish(log.run()).unwrap()).unwrap();
    let r = &second.record;
    assert_eq!(r.continued_from.as_ref(), Some(&from));
    assert_eq!(r.name, "Adam lr 0.001", "a name of its own");
    assert!(r.lr_changes[0].x_epochs > 1.0 && r.lr_changes[0].x_epochs < 2.0, "{:?}", r.lr_changes);
    assert_eq!(r.summary.end_x_epochs, Some(2.0));
    let m = store.load_metrics(&second).unwrap();
    assert!(m.batches[0].x_epochs > 1.0 && m.batches[0].epoch == 1, "{:?}", m.batches[0]);
    assert_eq!(m.epochs[0].x_epochs, 2.0);
    assert_ne!(runs::color_slot(&first.record), runs::color_slot(r), "a colour of its own");
}
