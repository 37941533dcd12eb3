//! The canvas and inspector views driven headlessly with egui_kittest: drawing with the pointer, Undo / Clear,
//! "Random test digit", and the inspector's stage table and feature maps. Weights are freshly initialised (no
//! training), so these tests check behaviour, not accuracy.

use egui::{Key, Modifiers, Pos2, Vec2};
use egui_kittest::{
    kittest::{NodeT, Queryable},
    Harness,
};
use lenet_playground::app::architecture::inspector::InspectorView;
use lenet_playground::app::canvas::view::CanvasView;
use lenet_playground::engine::data::digit::{centre_of_mass, preprocess, rasterize_strokes};
use lenet_playground::engine::data::set::{ImageSet, IMAGE_PIXELS};
use lenet_playground::engine::model::config::ModelConfig;
use lenet_playground::engine::model::predict::Predictor;

fn predictor(seed: u64) -> Predictor {
    let w = crate::support::data::fresh_weights(seed);
    Predictor::new(&w).expect("fresh weights make a predictor")
}

/// Three 28×28 test images: a vertical bar (label 1), a horizontal bar (label 7), a box (label 0).
fn tiny_test_set() -> ImageSet {
    let mut images = vec![0u8; 3 * IMAGE_PIXELS];
    for y in 4..24 {
        for x in 13..16 {
            images[y * 28 + x] = 255;
        }
    }
    for y in 12..15 {
        for x in 4..24 {
            images[IMAGE_PIXELS + y * 28 + x] = 255;
        }
    }
    for i in 6..22 {
        for (x, y) in [(i, 6), (i, 21), (6, i), (21, i)] {
            images[2 * IMAGE_PIXELS + y * 28 + x] = 200;
        }
    }
    ImageSet { images, labels: vec![1, 7, 0] }
}

struct CanvasState {
    canvas: CanvasView,
    predictor: Option<Predictor>,
    test_set: Option<ImageSet>,
    version: u64,
}

fn canvas_harness(state: CanvasState) -> Harness<'static, CanvasState> {
    Harness::builder().with_size(Vec2::new(900.0, 700.0)).build_ui_state(
        |ui, s: &mut CanvasState| s.canvas.ui(ui, s.predictor.as_ref(), s.test_set.as_ref(), s.version),
        state,
    )
}

fn new_canvas_state() -> CanvasState {
    CanvasState {
        canvas: CanvasView::default(),
        predictor: Some(predictor(1)),
        test_set: Some(tiny_test_set()),
        version: 1,
    }
}

use crate::support::ui::draw_stroke;

/// A "7": top bar, then the diagonal, drawn off-centre (upper left) to check centring.
const SEVEN_TOP: [[f32; 2]; 4] = [[0.15, 0.15], [0.3, 0.15], [0.45, 0.15], [0.6, 0.16]];
const SEVEN_DIAGONAL: [[f32; 2]; 4] = [[0.6, 0.16], [0.5, 0.4], [0.4, 0.6], [0.32, 0.78]];

#[test]
fn empty_canvas_asks_for_a_digit() {
    let h = canvas_harness(new_canvas_state());
    assert!(h.query_by_label_contains("draw a digit").is_some(), "the empty canvas says 'draw a digit'");
    assert!(h.state().canvas.network_input().is_none());
    assert!(h.query_by_label_contains("confidence").is_none(), "no prediction without a drawing");
}

#[test]
fn no_weights_shows_a_hint() {
    let mut h = canvas_harness(CanvasState { predictor: None, ..new_canvas_state() });
    draw_stroke(&mut h, &SEVEN_TOP);
    assert!(h.state().canvas.network_input().is_some());
    assert!(h.query_by_label_contains("No weights yet").is_some());
}

#[test]
fn drawing_gives_a_centred_input_and_a_prediction_then_undo_and_clear_empty_it() {
    let mut h = canvas_harness(new_canvas_state());

    // Live update: halfway through the first stroke there is already an input and a prediction.
    let rect = h.get_by_label_contains("Drawing canvas").rect();
    let at = |p: [f32; 2]| Pos2::new(rect.min.x + p[0] * rect.width(), rect.min.y + p[1] * rect.height());
    h.hover_at(at(SEVEN_TOP[0]));
    h.run();
    h.drag_at(at(SEVEN_TOP[0]));
    h.run();
    h.hover_at(at(SEVEN_TOP[2]));
    h.run();
    assert!(h.state().canvas.network_input().is_some(), "the input updates during the drag");
    assert!(h.query_by_label_contains("confidence").is_some(), "the prediction updates during the drag");
    h.hover_at(at(SEVEN_TOP[3]));
    h.run();
    h.drop_at(at(SEVEN_TOP[3]));
    h.run();

    draw_stroke(&mut h, &SEVEN_DIAGONAL);
    let input = h.state().canvas.network_input().expect("a drawing gives an input");
    let (cx, cy) = centre_of_mass(&input);
    assert!((cx - 14.0).abs() <= 1.0 && (cy - 14.0).abs() <= 1.0, "centre of mass ({cx}, {cy}) is near (14, 14)");
    let ink: f32 = input.iter().sum();
    assert!(ink > 30.0 && ink < 250.0, "MNIST-like amount of ink, got {ink}");
    // The same strokes through the engine's preprocessing directly give the same input.
    let direct = preprocess(&rasterize_strokes(&[SEVEN_TOP.to_vec(), SEVEN_DIAGONAL.to_vec()], 112, 0.04))
        .expect("strokes have ink");
    let diff: f32 = input.iter().zip(direct.iter()).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff < 5.0, "the canvas uses the engine's preprocessing (diff {diff})");
    assert!(h.query_by_label_contains("confidence").is_some(), "a prediction is shown");
    assert!(h.query_by_label_contains("draw a digit").is_none());

    // Undo removes the diagonal only.
    h.get_by_label("Undo").click();
    h.run();
    let after_undo = h.state().canvas.network_input().expect("one stroke is left");
    assert_ne!(after_undo, input, "undo changed the input");

    // Ctrl+Z removes the last stroke too.
    draw_stroke(&mut h, &SEVEN_DIAGONAL);
    assert_eq!(h.state().canvas.network_input(), Some(input));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(h.state().canvas.network_input(), Some(after_undo), "Ctrl+Z undoes the last stroke");

    h.get_by_label("Clear").click();
    h.run();
    assert!(h.state().canvas.network_input().is_none(), "Clear empties the canvas");
    assert!(h.query_by_label_contains("draw a digit").is_some());
    assert!(h.query_by_label_contains("confidence").is_none());
}

#[test]
fn delete_key_over_the_canvas_clears() {
    let mut h = canvas_harness(new_canvas_state());
    draw_stroke(&mut h, &SEVEN_DIAGONAL);
    assert!(h.state().canvas.network_input().is_some());
    let centre = h.get_by_label_contains("Drawing canvas").rect().center();
    h.hover_at(centre);
    h.run();
    h.key_press(Key::Delete);
    h.run();
    assert!(h.state().canvas.network_input().is_none(), "Delete over the canvas clears it");
}

#[test]
fn c_and_delete_clear_the_canvas_wherever_the_pointer_is() {
    // Issue 28 (also seen): the keys worked only while the pointer was over the canvas.
    for key in [Key::C, Key::Delete] {
        let settings = lenet_playground::app::state::Settings::default();
        let mut h = crate::support::ui::harness([1280.0, 800.0], settings, crate::support::data::mnist_arc());
        h.step();
        crate::support::ui::draw_seven(&mut h);
        assert!(h.state().canvas().network_input().is_some());
        let canvas = h.get_by_label_contains("Drawing canvas").rect();
        h.hover_at(egui::pos2(canvas.min.x - 400.0, canvas.center().y));
        h.step();
        h.key_press(key);
        h.step();
        h.step();
        assert!(h.state().canvas().network_input().is_none(), "{key:?} with the pointer over the plots clears");
    }
}

#[test]
fn prediction_follows_new_weights() {
    let mut h = canvas_harness(new_canvas_state());
    draw_stroke(&mut h, &SEVEN_DIAGONAL);
    let before: Vec<String> =
        h.query_all_by_label_contains(" %").map(|n| n.accesskit_node().value().unwrap_or_default()).collect();
    assert!(!before.is_empty());
    h.state_mut().predictor = Some(predictor(99));
    h.state_mut().version += 1;
    h.run();
    let after: Vec<String> =
        h.query_all_by_label_contains(" %").map(|n| n.accesskit_node().value().unwrap_or_default()).collect();
    assert_ne!(before, after, "new weights give new probabilities");
}

#[test]
fn random_test_digit_puts_a_test_image_on_the_canvas() {
    let mut h = canvas_harness(new_canvas_state());
    h.get_by_label("Random test digit").click();
    h.run();
    let input = h.state().canvas.network_input().expect("a test image is on the canvas");
    let set = tiny_test_set();
    let index = (0..set.len()).find(|&i| set.image(i) == input).expect("the input is one of the test images");
    let label = format!("true label: {}", set.labels[index]);
    assert!(h.query_by_label_contains(&label).is_some(), "the true label is shown ({label})");
    assert!(h.query_by_label_contains("confidence").is_some());
    assert!(h.query_by_label_contains("draw a digit").is_none());

    // Drawing afterwards starts a fresh drawing.
    draw_stroke(&mut h, &SEVEN_DIAGONAL);
    let drawn = h.state().canvas.network_input().expect("the drawing");
    assert!((0..set.len()).all(|i| set.image(i) != drawn));
    assert!(h.query_by_label_contains("true label").is_none());
    let direct = preprocess(&rasterize_strokes(&[SEVEN_DIAGONAL.to_vec()], 112, 0.04)).expect("ink");
    let diff: f32 = drawn.iter().zip(direct.iter()).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff < 5.0, "only the new stroke is on the canvas (diff {diff})");
}

#[test]
fn random_test_digit_is_disabled_without_a_test_set() {
    let mut h = canvas_harness(CanvasState { test_set: None, ..new_canvas_state() });
    h.get_by_label("Random test digit").click();
    h.run();
    assert!(h.state().canvas.network_input().is_none());
}

struct InspectorState {
    inspector: InspectorView,
    predictor: Option<Predictor>,
    input: Option<[f32; 784]>,
    fallback: Option<[f32; 784]>,
    version: u64,
}

fn inspector_harness(state: InspectorState) -> Harness<'static, InspectorState> {
    Harness::builder().with_size(Vec2::new(1200.0, 1100.0)).build_ui_state(
        |ui, s: &mut InspectorState| {
            s.inspector.ui(
                ui,
                ModelConfig::default(),
                s.predictor.as_ref(),
                s.input.as_ref(),
                s.fallback.as_ref(),
                s.version,
            )
        },
        state,
    )
}

fn drawn_seven() -> [f32; 784] {
    preprocess(&rasterize_strokes(&[SEVEN_TOP.to_vec(), SEVEN_DIAGONAL.to_vec()], 112, 0.04)).expect("ink")
}

#[test]
fn inspector_shows_the_stage_table_and_selected_feature_maps() {
    let mut h = inspector_harness(InspectorState {
        inspector: InspectorView::default(),
        predictor: Some(predictor(1)),
        input: Some(drawn_seven()),
        fallback: None,
        version: 1,
    });
    assert_eq!(h.query_all_by_label("Conv2d").count(), 2, "two Conv2d rows");
    assert_eq!(h.query_all_by_label("AvgPool2d").count(), 2, "two AvgPool2d rows");
    assert_eq!(h.query_all_by_label("[1, 6, 28, 28]").count(), 2, "c1 and its activation");
    assert!(h.query_by_label("[1, 16, 5, 5]").is_some());
    assert!(h.query_by_label("(28 + 2·2 − 5)/1 + 1 = 28").is_some(), "conv formula");
    assert!(h.query_by_label("(10 − 2)/2 + 1 = 5").is_some(), "pool formula");
    assert!(h.query_by_label("61,706").is_some(), "total parameter count");
    assert!(h.query_by_label("for the digit on the canvas").is_some());
    // The first stage is selected by default; the c1 filters are always shown.
    assert!(h.query_by_label("6 feature maps 28×28").is_some());
    assert!(h.query_by_label("filter 6").is_some());

    h.get_by_label("s2").click();
    h.run();
    assert_eq!(h.state().inspector.selected_stage(), Some("s2"));
    assert!(h.query_by_label("6 feature maps 14×14").is_some(), "s2's maps are shown");
    assert!(h.query_by_label("map 6").is_some());
    assert!(h.query_by_label("6 feature maps 28×28").is_none());
    assert!(h.query_by_label_contains("mean of each 2×2 block").is_some(), "what s2 computes");

    h.get_by_label("c3").click();
    h.run();
    assert!(h.query_by_label("16 feature maps 10×10").is_some());
    assert!(h.query_by_label("map 16").is_some());

    h.get_by_label("f5").click();
    h.run();
    assert!(h.query_by_label("vector of 120 values").is_some());

    h.get_by_label("out").click();
    h.run();
    assert!(h.query_by_label("vector of 10 values").is_some());
}

#[test]
fn inspector_falls_back_to_a_test_image_and_hints_without_weights() {
    let mut h = inspector_harness(InspectorState {
        inspector: InspectorView::default(),
        predictor: Some(predictor(1)),
        input: None,
        fallback: Some(tiny_test_set().image(0)),
        version: 1,
    });
    assert!(h.query_by_label("for a test image (the canvas is empty)").is_some());
    assert!(h.query_by_label("6 feature maps 28×28").is_some());

    h.state_mut().predictor = None;
    h.run();
    assert!(h.query_by_label_contains("No weights yet").is_some());
    assert_eq!(h.query_all_by_label("Conv2d").count(), 2, "the table is shown without weights");
    assert!(h.query_by_label("6 feature maps 28×28").is_none());
}
