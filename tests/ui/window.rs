//! The window driven headless with egui_kittest: real clicks on real buttons, a real (tiny) training run, exports to
//! a temporary folder through injected paths instead of dialogs. No display or GPU needed. Waits are bounded by
//! step counts and a generous wall-clock guard, never by timing figures.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lenet_playground::app::command::{PlotFormat, UiCommand};
use lenet_playground::app::history::History;
use lenet_playground::app::state::{Phase, Settings};
use lenet_playground::app::training::plots::PlotsView;
use lenet_playground::app::PlaygroundApp;
use lenet_playground::engine::training::events::BatchMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::support::ui::run_until;

use crate::support::data::mnist_arc as mnist;

fn quick_settings() -> Settings {
    let mut s = Settings::default();
    // 200 images in batches of 10: 20 quick batches per epoch; 50 epochs so the run is still going when we stop it.
    s.train.limit = Some(200);
    s.train.batch_size = 10;
    s.train.epochs = 50;
    s
}

fn harness(settings: Settings) -> Harness<'static, PlaygroundApp> {
    crate::support::ui::harness([1280.0, 800.0], settings, mnist())
}

fn disabled(h: &Harness<'static, PlaygroundApp>, label: &str) -> bool {
    h.get_by_role_and_label(Role::Button, label).accesskit_node().is_disabled()
}

use crate::support::ui::click;

#[test]
fn train_stop_export_reset() {
    let mut h = harness(quick_settings());
    h.step();
    assert_eq!(h.state().session.phase, Phase::Idle);
    assert!(h.state().session.history.is_empty());
    assert!(h.query_by_label("Status: Idle").is_some());
    for export in ["PNG…", "SVG…", "Screen PNG…", "Metrics CSV…"] {
        assert!(disabled(&h, export), "{export} is disabled while there is nothing to export");
    }

    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    h.state_mut().set_path_picker(Arc::new(move |cmd: &UiCommand| {
        let name = match cmd {
            UiCommand::ExportPlots(PlotFormat::Png, _) => "plots.png",
            UiCommand::ExportPlots(PlotFormat::Svg, _) => "plots.svg",
            UiCommand::ExportScreenPng(_) => "screen.png",
            UiCommand::ExportMetrics(_) => "metrics.csv",
            UiCommand::SaveWeights(_) | UiCommand::LoadWeights(_) => "weights.safetensors",
            UiCommand::ExportOnnx(_) => "network",
            _ => return None,
        };
        Some(base.join(name))
    }));

    click(&mut h, "Train");
    assert_eq!(h.state().session.phase, Phase::Training);
    assert!(h.query_by_label("Status: Training").is_some(), "status shows training");
    for locked in ["Train", "Reset", "Load weights…", "Open data folder…"] {
        assert!(disabled(&h, locked), "{locked} is disabled during a run");
    }
    assert!(!disabled(&h, "Stop") && !disabled(&h, "Pause"));
    run_until(&mut h, "batch curves", |a| a.session.history.len() >= 5);
    assert!(h.query_by_label_contains("Epoch 1/50").is_some(), "progress line shows the epoch");

    click(&mut h, "Stop");
    run_until(&mut h, "the run to stop", |a| a.session.phase == Phase::Idle);
    assert!(h.state().session.status.starts_with("Stopped"), "status: {}", h.state().session.status);
    assert!(h.state().session.error.is_none(), "error: {:?}", h.state().session.error);
    let batches = h.state().session.history.len();
    assert!(batches >= 5);
    assert!(!disabled(&h, "Reset") && disabled(&h, "Stop"));
    // After a run, Train offers both ways to go on.
    assert!(!disabled(&h, "Continue training") && !disabled(&h, "Train from scratch"));

    // Exports go through the same helper threads as with dialogs.
    for label in ["PNG…", "SVG…", "Metrics CSV…", "Save weights…", "Export ONNX…"] {
        click(&mut h, label);
        run_until(&mut h, label, |a| a.jobs_in_flight() == 0);
        assert!(h.state().session.error.is_none(), "{label}: {:?}", h.state().session.error);
    }
    let png = std::fs::read(dir.path().join("plots.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 900), "the size from the settings");
    let svg = std::fs::read_to_string(dir.path().join("plots.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("epoch"));
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("batch,")).count(), batches);
    assert!(dir.path().join("weights.safetensors").is_file());
    // The ONNX file gets its extension, runs elsewhere (tract), and the window says where it went.
    let onnx = dir.path().join("network.onnx");
    use tract_onnx::prelude::Framework;
    let model = tract_onnx::onnx().model_for_path(&onnx).expect("tract opens the exported network");
    assert_eq!(model.output_outlets().unwrap().len(), 1);
    assert!(h.state().session.status.contains("network.onnx"), "status: {}", h.state().session.status);

    // Reset: new weights, no curves.
    let version = h.state().session.weights_version;
    click(&mut h, "Reset");
    assert!(h.state().session.history.is_empty());
    assert!(h.state().session.weights_version > version);

    // Load the saved weights back.
    click(&mut h, "Load weights…");
    run_until(&mut h, "weights to load", |a| a.jobs_in_flight() == 0);
    assert!(
        h.state().session.weights_from_file,
        "status: {} / {:?}",
        h.state().session.status,
        h.state().session.error
    );
}

#[test]
fn space_toggles_and_bad_inputs_show_errors() {
    let mut h = harness(quick_settings());
    h.step();
    h.key_press(egui::Key::Space);
    h.step();
    assert_eq!(h.state().session.phase, Phase::Training, "Space starts training");
    h.key_press(egui::Key::Space);
    h.step();
    assert_eq!(h.state().session.phase, Phase::Paused, "Space pauses");
    assert!(h.query_by_label("Status: Paused").is_some());
    click(&mut h, "Resume");
    assert_eq!(h.state().session.phase, Phase::Training);
    // A batch to export later (exports are disabled while there is none).
    run_until(&mut h, "a batch", |a| !a.session.history.is_empty());
    click(&mut h, "Stop");
    run_until(&mut h, "the run to stop", |a| a.session.phase == Phase::Idle);

    // A data folder that is not one: an error in the window, the current data kept.
    let dir = tempfile::tempdir().unwrap();
    h.state_mut().command(UiCommand::OpenDataFolder(Some(dir.path().to_path_buf())));
    h.step();
    run_until(&mut h, "the folder load to fail", |a| a.jobs_in_flight() == 0);
    let err = h.state().session.error.clone().expect("an error is shown");
    assert!(err.contains("Cannot load the data set"), "{err}");
    assert!(h.query_by_label_contains("Cannot load the data set").is_some(), "the message is on screen");
    assert!(h.state().session.data.is_some(), "the previous data set is kept");
    click(&mut h, "Dismiss");
    assert!(h.state().session.error.is_none());

    // Loading garbage weights: error, current model kept.
    let bad: PathBuf = dir.path().join("bad.safetensors");
    std::fs::write(&bad, b"not weights").unwrap();
    let version = h.state().session.weights_version;
    h.state_mut().set_path_picker(Arc::new(move |_| Some(bad.clone())));
    click(&mut h, "Load weights…");
    run_until(&mut h, "the weights load to fail", |a| a.jobs_in_flight() == 0);
    assert!(h.state().session.error.as_deref().unwrap_or("").contains("Cannot load weights"));
    assert_eq!(h.state().session.weights_version, version);

    // Export into a missing folder: error in the window.
    let missing = dir.path().join("missing/plots.png");
    h.state_mut().set_path_picker(Arc::new(move |_| Some(missing.clone())));
    click(&mut h, "PNG…");
    run_until(&mut h, "the export to fail", |a| a.jobs_in_flight() == 0);
    assert!(h.state().session.error.as_deref().unwrap_or("").contains("cannot write"));
}

/// Opening another MNIST-format folder (Fashion-MNIST is installed on the build machine; skipped where it is not).
#[test]
fn open_fashion_mnist_folder() {
    let dir = PathBuf::from("/usr/share/datasets/fashion-mnist");
    if !dir.join("train-images-idx3-ubyte.gz").is_file() {
        eprintln!("skipped: {} not installed", dir.display());
        return;
    }
    let mut h = harness(quick_settings());
    h.step();
    let version = h.state().session.weights_version;
    h.state_mut().command(UiCommand::OpenDataFolder(Some(dir.clone())));
    h.step();
    assert!(h.state().session.loading.is_some(), "loading in the background, the window keeps running");
    run_until(&mut h, "Fashion-MNIST to load", |a| a.jobs_in_flight() == 0);
    let app = h.state();
    assert!(app.session.error.is_none(), "{:?}", app.session.error);
    assert_eq!(app.session.data.as_ref().unwrap().name, "Fashion-MNIST");
    assert_eq!(app.settings.data_folder.as_deref(), Some(dir.as_path()), "remembered for the next start");
    assert!(app.session.weights_version > version, "new data, new weights");
    assert!(h.query_by_label_contains("Data: Fashion-MNIST").is_some());
}

#[test]
fn settings_round_trip_through_serde() {
    let mut s = quick_settings();
    s.smoothing = 7;
    s.data_folder = Some("/usr/share/datasets/fashion-mnist".into());
    let json = serde_json::to_string(&s).unwrap();
    let back: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // Old or partial files fall back to defaults field by field.
    let partial: Settings = serde_json::from_str(r#"{"smoothing": 3}"#).unwrap();
    assert_eq!(partial.smoothing, 3);
    assert_eq!(partial.train, Settings::default().train);
}

/// The legend sits above the plots, outside the data, and a click on a name hides that curve (and shows it again).
#[test]
fn the_legend_above_the_plots_hides_and_shows_a_curve() {
    let mut history = History::new();
    for i in 0..600usize {
        history.push_batch(BatchMetrics {
            epoch: 1,
            batch: i + 1,
            batches_per_epoch: 600,
            loss: 2.3 / (1.0 + i as f32 / 50.0),
            accuracy: (0.1 + i as f32 / 700.0).min(1.0),
            lr: 0.003,
            images_per_sec: 1000.0,
            elapsed_secs: i as f64,
        });
    }
    let state = (PlotsView::default(), history, Settings::default());
    let mut h = Harness::builder().with_size([900.0, 700.0]).build_ui_state(
        |ui, (view, history, settings): &mut (PlotsView, History, Settings)| view.ui(ui, history, settings),
        state,
    );
    h.run();
    let all = h.state().0.drawn_points;
    let plots_top = h.state().0.plots_rect.expect("the plots are drawn").top();
    let loss = h.get_by_role_and_label(Role::Button, "loss").rect();
    assert!(loss.bottom() <= plots_top + 40.0, "the legend is above the plots, not on them: {loss:?} vs {plots_top}");
    assert!(h.query_by_role_and_label(Role::Button, "train accuracy").is_some());

    h.get_by_role_and_label(Role::Button, "loss").click();
    h.run();
    let without_loss = h.state().0.drawn_points;
    assert!(without_loss < all, "hiding the loss draws fewer points: {without_loss} of {all}");
    h.get_by_role_and_label(Role::Button, "loss").click();
    h.run();
    assert_eq!(h.state().0.drawn_points, all, "a second click shows it again");
}

/// The plot view with 30,000 batches: prints the UI work per frame. Run with
/// `cargo test --test ui plot_frame_time -- --nocapture`.
#[test]
fn plot_frame_time_with_30000_points() {
    let mut history = History::new();
    let per_epoch = 600;
    for i in 0..30_000usize {
        let t = i as f32 / 30_000.0;
        history.push_batch(BatchMetrics {
            epoch: i / per_epoch + 1,
            batch: i % per_epoch + 1,
            batches_per_epoch: per_epoch,
            loss: 2.3 * (-5.0 * t).exp() + 0.05 * ((i * 7919 % 100) as f32 / 100.0),
            accuracy: 1.0 - 0.9 * (-5.0 * t).exp(),
            lr: 0.1,
            images_per_sec: 1000.0,
            elapsed_secs: i as f64,
        });
    }
    assert_eq!(history.len(), 30_000);
    let state = (PlotsView::default(), history, Settings::default(), Vec::<f64>::new());
    let mut h = Harness::builder().with_size([900.0, 700.0]).build_ui_state(
        |ui, (view, history, settings, times): &mut (PlotsView, History, Settings, Vec<f64>)| {
            let t0 = Instant::now();
            view.ui(ui, history, settings);
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        },
        state,
    );
    let frames = 120;
    let mut step_ms = Vec::new();
    for i in 0..frames {
        if i % 2 == 0 {
            // New data every other frame invalidates the smoothing cache, as during training.
            let s = h.state_mut();
            let last = s.1.batches.last().unwrap().clone();
            s.1.push_batch(BatchMetrics { batch: last.batch % per_epoch + 1, ..last });
        }
        let t0 = Instant::now();
        h.step();
        step_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (view, _, _, times) = h.state();
    assert!(view.drawn_points > 0 && view.drawn_points < 30_000 * 4, "decimated: {}", view.drawn_points);
    let stats = |v: &[f64]| {
        let mut s = v[10..].to_vec(); // skip warm-up
        s.sort_by(f64::total_cmp);
        (s.iter().sum::<f64>() / s.len() as f64, s[s.len() / 2], s[s.len() * 95 / 100], s[s.len() - 1])
    };
    let (mean, median, p95, max) = stats(times);
    println!("plot view ui with 30,000 points: mean {mean:.2} ms, median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms ({} points drawn)", view.drawn_points);
    let (mean, median, p95, max) = stats(&step_ms);
    println!(
        "whole egui frame (kittest step): mean {mean:.2} ms, median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms"
    );
}

/// The whole window (all panels, logic + ui) with 30,000 batches in the history, measured by the app's own
/// frame-time readout (the F12 overlay). Run with `cargo test --test ui whole_window -- --ignored --nocapture`
/// (an #[ignore] bench: it prints a figure and asserts only that frames were measured).
#[test]
#[ignore = "bench: prints a figure; run with --ignored"]
fn whole_window_frame_time_with_30000_points() {
    let mut h = harness(quick_settings());
    h.step();
    let per_epoch = 600;
    for i in 0..30_000usize {
        h.state_mut().session.history.push_batch(BatchMetrics {
            epoch: i / per_epoch + 1,
            batch: i % per_epoch + 1,
            batches_per_epoch: per_epoch,
            loss: 2.3 * (-(i as f32) / 6000.0).exp() + 0.05 * ((i * 7919 % 100) as f32 / 100.0),
            accuracy: 1.0 - 0.9 * (-(i as f32) / 6000.0).exp(),
            lr: 0.1,
            images_per_sec: 1000.0,
            elapsed_secs: i as f64,
        });
    }
    for _ in 0..150 {
        h.step();
    }
    let (mean, max) = h.state().frame_time_ms().expect("frames were measured");
    println!("whole window with 30,000 points: UI work {mean:.2} ms mean, {max:.2} ms max over the last 120 frames");
    assert!(mean > 0.0);
}
