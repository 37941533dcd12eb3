//! Issue 8, items 11 and 12, in the window driven headless by egui_kittest: data and weights delivered while a run
//! is active wait for it to end; closing the window stops the trainer and waits (bounded) for saves, showing
//! "Saving…", and leaves no temporary files. Issue 17, item 7: a run record still being written (a slow writer) is
//! waited for too.

use egui_kittest::Harness;
use lenet_playground::app::command::UiCommand;
use lenet_playground::app::state::{Phase, Settings};
use lenet_playground::app::PlaygroundApp;
use lenet_playground::engine::data::{classes, idx};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::store::runs::RunStore;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::ui::run_until;

use crate::support::data::mnist_arc as mnist_data;

/// A run that is still going when the test acts: 50 epochs of 20 small batches.
fn long_run() -> Settings {
    let mut s = Settings::default();
    s.train.limit = Some(200);
    s.train.batch_size = 10;
    s.train.epochs = 50;
    s
}

fn harness() -> Harness<'static, PlaygroundApp> {
    crate::support::ui::harness([1280.0, 800.0], long_run(), mnist_data())
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small MNIST-format folder.
fn write_set(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let images = |n: u32| {
        let mut v = vec![0, 0, 8, 3];
        v.extend(n.to_be_bytes());
        v.extend(28u32.to_be_bytes());
        v.extend(28u32.to_be_bytes());
        v.extend((0..n as usize * 784).map(|i| (i % 251) as u8));
        v
    };
    let labels = |n: u32| {
        let mut v = vec![0, 0, 8, 1];
        v.extend(n.to_be_bytes());
        v.extend((0..n).map(|i| (i % 10) as u8));
        v
    };
    for (name, b) in [
        (idx::TRAIN_IMAGES, images(30)),
        (idx::TRAIN_LABELS, labels(30)),
        (idx::TEST_IMAGES, images(10)),
        (idx::TEST_LABELS, labels(10)),
    ] {
        std::fs::write(dir.join(format!("{name}.gz")), gz(&b)).unwrap();
    }
}

#[test]
fn data_and_weights_from_a_dialog_wait_for_the_run_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("other-set");
    write_set(&folder);
    let names: Vec<String> = classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
    let weights = dir.path().join("w.safetensors");
    let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 77, "MNIST", &names);
    checkpoint::save(&weights, &w).unwrap();

    let mut h = harness();
    h.step();
    h.state_mut().command(UiCommand::Train);
    run_until(&mut h, "the run to start", |a| a.session.phase == Phase::Training && a.session.history.len() > 2);

    // What a dialog delivers mid-run: a folder, then a weights file.
    h.state_mut().command(UiCommand::OpenDataFolder(Some(folder.clone())));
    h.step();
    run_until(&mut h, "the folder to load", |a| a.jobs_in_flight() == 0 && a.session.loading.is_none());
    assert_eq!(h.state().session.data.as_ref().unwrap().name, "MNIST", "not swapped in mid-run");
    assert_eq!(h.state().waiting_for_run_end(), 1);
    h.state_mut().command(UiCommand::LoadWeights(Some(weights.clone())));
    h.step();
    run_until(&mut h, "the weights to load", |a| a.jobs_in_flight() == 0);
    assert!(!h.state().session.weights_from_file, "the trainer's weights stay");
    assert!(h.state().session.run_active(), "the run goes on");
    assert_eq!(h.state().waiting_for_run_end(), 2);

    // Once the run has ended, both are applied, in the order they came.
    h.state_mut().command(UiCommand::Stop);
    h.step();
    run_until(&mut h, "the run to end", |a| !a.session.run_active());
    run_until(&mut h, "the deferred data and weights", |a| a.session.weights_from_file);
    assert_eq!(h.state().waiting_for_run_end(), 0);
    let s = &h.state().session;
    assert_eq!(s.data.as_ref().unwrap().name, "other-set");
    assert_eq!(s.weights.as_ref().unwrap().params, w.params);
}

fn request_close(h: &mut Harness<'static, PlaygroundApp>) {
    let root = h.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default();
    root.events.push(egui::ViewportEvent::Close);
}

#[test]
fn closing_the_window_stops_the_trainer_and_waits_for_saves() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness();
    h.step();
    h.state_mut().command(UiCommand::Train);
    run_until(&mut h, "the run to start", |a| a.session.phase == Phase::Training && a.session.history.len() > 2);
    // A save in flight and the trainer running when the window is closed.
    h.state_mut().command(UiCommand::SaveWeights(Some(dir.path().join("w.safetensors"))));
    h.step();
    request_close(&mut h);
    h.step();
    let app = h.state();
    assert!(!app.close_sent || app.writes_in_flight() == 0, "not closed while a save writes");
    if !app.close_sent {
        assert!(app.session.status.starts_with("Saving…"), "{}", app.session.status);
    }
    let start = Instant::now();
    run_until(&mut h, "the window to close", |a| a.close_sent);
    // Bounded by the app's CLOSE_WAIT (~2 s); a figure, not an assertion: timing depends on the machine's load.
    println!("closed after {:?}", start.elapsed());
    assert_eq!(h.state().writes_in_flight(), 0, "the save finished first");
    eframe::App::on_exit(h.state_mut(), None);
    let trainer_done = h.state().session.trainer.as_ref().is_none_or(|t| t.is_finished());
    assert!(trainer_done, "the trainer is stopped and joined");
    checkpoint::load(&dir.path().join("w.safetensors")).expect("the save completed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn closing_an_idle_window_closes_at_once() {
    let mut h = harness();
    h.step();
    request_close(&mut h);
    h.step();
    assert!(h.state().close_sent);
    assert!(!h.state().session.status.starts_with("Saving"));
}

#[test]
fn closing_the_window_waits_for_a_run_record_being_written() {
    let home = tempfile::tempdir().unwrap();
    let mut settings = long_run();
    settings.train.epochs = 1;
    let dir = home.path().to_path_buf();
    let mut h = Harness::builder().with_size([1280.0, 800.0]).build_eframe(move |cc| {
        let mut app = PlaygroundApp::new(&cc.egui_ctx, settings, Some(mnist_data()));
        app.set_data_home(dir);
        app
    });
    // A slow writer: every write starts half a second late (well inside the close's wait).
    h.state_mut().delay_writes_for_tests(Duration::from_millis(500));
    h.step();
    run_until(&mut h, "the run list", |a| a.jobs_in_flight() == 0);
    h.state_mut().command(UiCommand::Train);
    run_until(&mut h, "the run to end", |a| !a.session.history.is_empty() && !a.session.run_active());
    assert_eq!(h.state().writes_in_flight(), 1, "the run record is being written");
    request_close(&mut h);
    h.step();
    assert!(!h.state().close_sent, "not closed while the run record is written");
    assert!(h.state().session.status.starts_with("Saving…"), "{}", h.state().session.status);
    run_until(&mut h, "the window to close", |a| a.close_sent);
    assert_eq!(h.state().writes_in_flight(), 0, "the record was written first");
    eframe::App::on_exit(h.state_mut(), None);
    let stored = RunStore::new(home.path()).list();
    assert_eq!(stored.runs.len(), 1, "the run record is on disk (skipped: {:?})", stored.skipped);
}

/// The side panel says what a large step costs, and warns with the batch that fits before Train would be refused:
/// the same estimate as the refusal, for the network being built (the batch slider stops at 1,000, where LeNet-5
/// needs ~120 MB but three 64-channel 9×9 blocks need gigabytes).
#[test]
fn the_batch_size_says_what_it_costs_and_warns_before_a_refusal() {
    use egui_kittest::kittest::{NodeT, Queryable};
    let mut h = crate::support::ui::harness([1280.0, 800.0], Settings::default(), mnist_data());
    h.step();
    let gib = 1u64 << 30;
    h.state_mut().session.available_memory = Some(64 * gib);
    h.state_mut().settings.train.batch_size = 1000;
    h.step();
    h.step();
    assert!(h.query_by_label_contains("of memory").is_none(), "LeNet-5 at batch 1000: nothing to say");
    h.state_mut().settings.train.model.arch = "c64k9p8,c64k9p8,c64k9p8".parse().unwrap();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("GB of memory per step").is_some(), "a large step says its cost");
    h.state_mut().session.available_memory = Some(4 * gib);
    h.step();
    h.step();
    let warning: String = h
        .query_all_by(|n| n.label().or(n.value()).is_some_and(|l| l.contains("4.0 GB available: at most")))
        .next()
        .and_then(|n| n.accesskit_node().label().or(n.accesskit_node().value()))
        .expect("a warning naming the batch that fits");
    assert!(warning.starts_with("needs ≈ "), "{warning}");
    let most: usize = warning.rsplit("at most ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((1..1000).contains(&most), "{warning}");
    h.state_mut().settings.train.batch_size = most;
    h.step();
    h.step();
    assert!(h.query_by_label_contains("available: at most").is_none(), "at the batch it named, no warning");
}
