//! The Evaluation tab and the canvas's attribution overlay, driven headless with egui_kittest: a real (small) run's
//! confusion matrices, clicks on cells and gallery images, the replay slider, Evaluate on loaded weights, the
//! export, and the frame time of the tab (printed with --nocapture, never asserted).

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lenet_playground::app::command::UiCommand;
use lenet_playground::app::state::Settings;
use lenet_playground::app::{fixed_dir_picker, PlaygroundApp, Tab};
use lenet_playground::engine::insight::evaluate::{most_confused, total};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::{EpochMetrics, TrainEvent};
use lenet_playground::engine::training::train::train;
use std::sync::OnceLock;

use crate::support::ui::run_until;

use crate::support::data::mnist_arc as mnist;

/// Two quick epochs of the modern recipe on 2,000 images: their epoch events (matrices and predictions) and weights.
fn run() -> &'static (Vec<EpochMetrics>, ModelWeights) {
    static RUN: OnceLock<(Vec<EpochMetrics>, ModelWeights)> = OnceLock::new();
    RUN.get_or_init(|| {
        let cfg = TrainConfig { epochs: 2, limit: Some(2000), ..TrainConfig::preset(Preset::Modern) };
        let mut epochs = Vec::new();
        let w = train(&cfg, &mnist(), None, &Control::new(), &mut |e| {
            if let TrainEvent::Epoch(m) = e {
                epochs.push(m)
            }
        })
        .expect("training runs");
        (epochs, w)
    })
}

fn harness() -> Harness<'static, PlaygroundApp> {
    let mut h = crate::support::ui::harness([1400.0, 900.0], Settings::default(), mnist());
    h.step();
    h
}

/// An app that has just finished the run above: its epochs in the history, its weights installed.
fn after_run() -> Harness<'static, PlaygroundApp> {
    let mut h = harness();
    let (epochs, w) = run();
    let app = h.state_mut();
    for e in epochs {
        app.session.history.push_epoch(e.clone());
    }
    app.session.install_weights(w.clone()).unwrap();
    app.tab = Tab::Evaluation;
    h.step();
    h.step();
    h
}

fn shown(h: &Harness<'static, PlaygroundApp>) -> Vec<Vec<u32>> {
    h.state().evaluation_view.shown_confusion().expect("a matrix is shown").to_vec()
}

#[test]
fn a_cell_opens_its_images_and_an_image_goes_to_the_canvas() {
    let mut h = after_run();
    let (epochs, _) = run();
    let last = &epochs[1].confusion;
    assert_eq!(&shown(&h), last, "the latest epoch is shown");
    let pair = most_confused(last, 1)[0];
    let cell = format!("true {}, predicted {}", pair.true_class, pair.predicted);
    h.get_by_label(&cell).click();
    h.step();
    h.step();
    let gallery = h.state().evaluation_view.gallery().to_vec();
    assert_eq!(gallery.len(), pair.count as usize, "the gallery holds the cell's count");
    assert!(h.query_by_label_contains(&format!("{cell}: {} image", pair.count)).is_some());
    let preds = epochs[1].predictions.as_ref().unwrap();
    assert!(gallery.windows(2).all(|w| preds.confidence[w[0]] >= preds.confidence[w[1]]), "most confident first");
    assert!(gallery.iter().all(|&i| mnist().test.labels[i] as usize == pair.true_class));

    let before = h.state().canvas().network_input();
    let i = gallery[0];
    h.get_by_label(&format!("test image #{i}")).click();
    h.step();
    h.step();
    let input = h.state().canvas().network_input().expect("the canvas holds the image");
    assert_ne!(Some(input), before);
    assert_eq!(input, mnist().test.image(i), "the canvas (and so the inspector) shows test image {i}");
    assert!(h.query_by_label_contains(&format!("Test image #{i}")).is_some());
}

#[test]
fn the_replay_slider_changes_the_matrix_shown() {
    let mut h = after_run();
    let (epochs, _) = run();
    assert_ne!(epochs[0].confusion, epochs[1].confusion);
    h.get_by_role_and_label(Role::Slider, "replay").set_value_accesskit(0.0);
    h.step();
    h.step();
    assert_eq!(shown(&h), epochs[0].confusion, "epoch 1's matrix after moving the slider");
    h.get_by_role_and_label(Role::Slider, "replay").set_value_accesskit(1.0);
    h.step();
    h.step();
    assert_eq!(shown(&h), epochs[1].confusion);
    // Row percentages: the same matrix, other text.
    h.get_by_label("Row %").click();
    h.step();
    assert!(h.state().evaluation_view.normalised);
}

#[test]
fn the_attribution_toggle_draws_the_overlay() {
    let mut h = after_run();
    h.state_mut().command(UiCommand::ShowTestImage(0));
    h.step();
    h.step();
    assert!(!h.state().canvas().attribution.drawn);
    h.get_by_label("show what decided it").click();
    run_until(&mut h, "the attribution map", |a| a.canvas().attribution.drawn);
    let map = h.state().canvas().attribution.map().expect("a map").clone();
    assert_eq!(map.map.len(), 784);
    assert_eq!(map.class, 7, "test image 0 (a 7) is explained for its predicted class");
    // Clicking another class's bar explains that class.
    h.get_by_label("probability bar 1").click();
    run_until(&mut h, "the map for class 1", |a| a.canvas().attribution.map().is_some_and(|m| m.class == 1));
    assert!(h.state().canvas().attribution.drawn);
}

#[test]
fn evaluate_loaded_weights_then_export() {
    let mut h = harness();
    let (_, w) = run();
    h.state_mut().session.install_file_weights(w.clone()).unwrap();
    h.state_mut().tab = Tab::Evaluation;
    h.step();
    assert!(h.query_by_label_contains("No confusion matrix yet").is_some());
    h.get_by_label("Evaluate").click();
    h.step();
    run_until(&mut h, "the evaluation", |a| a.evaluation.result.is_some());
    let m = shown(&h);
    assert_eq!(total(&m), 10_000);
    assert_eq!(&m, &run().0[1].confusion, "the same weights give the run's last matrix");

    let dir = tempfile::tempdir().unwrap();
    h.state_mut().set_path_picker(fixed_dir_picker(dir.path().to_path_buf()));
    h.get_by_label("Export SVG").click();
    h.get_by_label("Export PNG").click();
    let (png, svg) = (dir.path().join("lenet-confusion.png"), dir.path().join("lenet-confusion.svg"));
    run_until(&mut h, "the exports", |_| png.is_file() && svg.is_file());
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(h.state().session.error.is_none(), "{:?}", h.state().session.error);
}

/// The Evaluation tab's UI work per frame with a cell's gallery open, measured by the app's own frame-time readout.
/// An #[ignore] bench: `cargo test --test ui evaluation_tab_frame_time -- --ignored --nocapture`.
#[test]
#[ignore = "bench: prints a figure; run with --ignored"]
fn evaluation_tab_frame_time() {
    let mut h = after_run();
    let pair = most_confused(&run().0[1].confusion, 1)[0];
    h.get_by_label(&format!("true {}, predicted {}", pair.true_class, pair.predicted)).click();
    for _ in 0..150 {
        h.step();
    }
    let (mean, max) = h.state().frame_time_ms().expect("frames were measured");
    println!(
        "Evaluation tab, gallery of {} images open: UI work {mean:.2} ms mean, {max:.2} ms max over the last 120 frames",
        h.state().evaluation_view.gallery().len()
    );
    assert!(mean > 0.0);
}

#[test]
fn in_a_1024_window_the_attribution_keeps_the_canvas_panel_inside_the_window() {
    // The overlay's larger preview once widened the side panel past the window's right edge: the percentages were
    // cut off there, and the plots covered the panel's left edge ("Clear" read "lear").
    let mut h = crate::support::ui::harness([1024.0, 700.0], Settings::default(), mnist());
    h.step();
    h.state_mut().session.install_weights(run().1.clone()).unwrap();
    h.state_mut().command(UiCommand::ShowTestImage(0));
    h.step();
    h.get_by_label("show what decided it").click();
    run_until(&mut h, "the attribution map", |a| a.canvas().attribution.drawn);
    h.step();
    let clear = h.get_by_label("Clear").rect();
    let canvas = h.get_by_label_contains("Drawing canvas").rect();
    assert!(clear.min.x >= canvas.min.x - 1.0, "Clear {clear:?} starts with the canvas {canvas:?}");
    let mut checked = 0;
    for node in h.query_all(egui_kittest::kittest::By::new().label_contains(" %")) {
        let r = node.rect();
        if r.min.x > canvas.min.x - 1.0 {
            assert!(r.max.x <= 1024.5, "a percentage at {r:?} is cut off at the window's edge");
            checked += 1;
        }
    }
    assert!(checked >= 10, "the ten percentages beside the bars ({checked} found)");
}
