//! The Inside tab driven like a user: after a real (tiny) run, click a feature-map cell and read its computation,
//! step with the arrow keys, scrub the representation map back to epoch 0, click a point to put that digit on the
//! canvas, and open a unit's top images. The frame time with the tab open during training is an ignored bench.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use lenet_playground::app::command::UiCommand;
use lenet_playground::app::state::Phase;
use lenet_playground::app::{PlaygroundApp, Tab};

use crate::support::data::mnist_arc;
use crate::support::ui::{harness, run_until, small_batches};

/// The app after a real run of `epochs` epochs of 20 batches, with the Inside tab open.
fn after_run(epochs: usize) -> Harness<'static, PlaygroundApp> {
    let mut h = harness([1400.0, 1000.0], small_batches(epochs), mnist_arc());
    h.step();
    h.state_mut().command(UiCommand::Train);
    run_until(&mut h, "the run to finish", |a| {
        a.session.phase == Phase::Idle && a.session.history.epochs.len() == epochs
    });
    h.state_mut().tab = Tab::Inside;
    h.step();
    h.step();
    h
}

/// The whole text of the one widget whose text contains `part` (a label's text is its value, a button's its label).
fn text(h: &Harness<'static, PlaygroundApp>, part: &str) -> String {
    let node = h.get_by_label_contains(part);
    let n = node.accesskit_node();
    n.label().filter(|l| l.contains(part)).or(n.value()).unwrap_or_default()
}

/// A click (press and release) at `pos`.
fn click_at(h: &mut Harness<'static, PlaygroundApp>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.step();
    h.drag_at(pos);
    h.step();
    h.drop_at(pos);
    h.step();
    h.step();
}

#[test]
fn clicking_a_feature_map_cell_opens_its_computation() {
    let mut h = after_run(1);
    let map = h.get_by_label_contains("feature map c1 channel").rect();
    let cell = map.width() / 28.0;
    click_at(&mut h, map.min + egui::vec2(12.5 * cell, 10.5 * cell));
    let heading = text(&h, "row 10, column 12]");
    assert!(heading.starts_with("c1 [channel "), "heading: {heading:?}");
    // The numbers are shown, and they add up to what the network computed.
    let shown: f32 = heading.rsplit("= ").next().unwrap().parse().unwrap();
    let network = text(&h, "The network computed");
    assert!(network.contains(&format!("{shown:.5}")), "{heading} / {network}");
    assert!(h.query_by_label_contains("+ bias").is_some());
    assert!(h.query_by_label_contains("then c1.act, after the activation").is_some());
    assert!(h.query_by_label_contains("then s2, pooled with its 2×2 block").is_some());
    // The arrow keys step the sliding window.
    h.key_press(egui::Key::ArrowRight);
    h.step();
    h.key_press(egui::Key::ArrowDown);
    h.step();
    h.step();
    assert!(h.query_by_label_contains("row 11, column 13]").is_some(), "the window moved right and down");
}

#[test]
fn the_scrubber_changes_the_map_and_a_click_puts_the_digit_on_the_canvas() {
    let mut h = after_run(2);
    h.get_by_label("How the representation forms").click();
    run_until(&mut h, "a frame per epoch", |a| a.inside_frames() == 3);
    h.step();
    assert!(h.query_by_label_contains("After epoch 2: silhouette").is_some());
    let latest = h.state().inside_map_points().to_vec();
    assert_eq!(latest.len(), 2000);
    // The scrubber back to its start: epoch 0's map, other places.
    let slider = h.get_by_role_and_label(Role::Slider, "frame").rect();
    click_at(&mut h, egui::pos2(slider.min.x + 2.0, slider.center().y));
    assert!(h.query_by_label_contains("After epoch 0: silhouette").is_some(), "the scrubber shows epoch 0");
    let first = h.state().inside_map_points().to_vec();
    assert_ne!(first, latest, "epoch 0's map differs from epoch 2's");
    // Clicking a point puts that test digit on the canvas.
    let target = first[123];
    click_at(&mut h, target);
    let input = h.state().canvas().network_input().expect("a digit on the canvas");
    let test = &mnist_arc().test;
    let near: Vec<usize> = (0..first.len()).filter(|&i| first[i].distance(target) <= 8.0).collect();
    assert!(
        near.iter().any(|&i| test.image(i) == input),
        "the canvas shows one of the digits under the click {near:?}"
    );
}

#[test]
fn a_unit_shows_the_test_images_it_responds_to_most_and_least() {
    let mut h = after_run(1);
    h.get_by_label("What a unit responds to").click();
    run_until(&mut h, "the ranking", |a| a.inside_ranking_ready());
    h.step();
    assert!(h.query_by_label_contains("test images ranked in").is_some());
    assert_eq!(h.query_all_by_label_contains("most ").count(), 16);
    assert_eq!(h.query_all_by_label_contains("least ").count(), 16);
    // A crop puts its whole digit on the canvas.
    let label = text(&h, "most 0: test image");
    let index: usize = label.rsplit(' ').next().unwrap().parse().unwrap();
    h.get_by_label_contains("most 0: test image").click();
    h.step();
    h.step();
    assert_eq!(h.state().canvas().network_input(), Some(mnist_arc().test.image(index)));
}

/// The UI work per frame with each Inside view open while a run trains, by the app's own frame-time readout (the
/// F12 overlay). An #[ignore] bench: `cargo test --test ui inside_tab_frame_time -- --ignored --nocapture`.
#[test]
#[ignore = "bench: prints a figure; run with --ignored"]
fn inside_tab_frame_time_while_training() {
    let mut settings = lenet_playground::app::state::Settings::default();
    settings.train.limit = Some(20_000);
    settings.train.epochs = 3;
    let mut h = harness([1400.0, 1000.0], settings, mnist_arc());
    h.step();
    h.state_mut().command(UiCommand::Train);
    run_until(&mut h, "the first epoch", |a| a.session.history.epochs.len() == 1);
    h.state_mut().tab = Tab::Inside;
    h.step();
    for view in ["How a number is computed", "What a unit responds to", "How the representation forms"] {
        h.get_by_label(view).click();
        for _ in 0..150 {
            h.step();
        }
        let (mean, max) = h.state().frame_time_ms().expect("frames were measured");
        let training = h.state().session.phase == Phase::Training;
        println!("Inside tab, {view}: UI work {mean:.2} ms mean, {max:.2} ms max over the last 120 frames (training: {training})");
        assert!(mean > 0.0);
    }
}
