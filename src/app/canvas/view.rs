//! The drawing canvas: draw a digit with the mouse (ink on paper), see the 28×28 image the network actually
//! receives (the engine's own MNIST preprocessing), and the network's class probabilities, live while drawing.
//!
//! Strokes are stored in 0..1 canvas coordinates, so the drawing does not depend on the widget's size. The
//! prediction is cached and recomputed only when the input or the weights (`weights_version`) change.

use crate::app::canvas::attribution::AttributionOverlay;
use crate::app::canvas::probabilities::{class_name, probability_bars};
use crate::app::widgets::texture::KeyedTexture;
use crate::engine::data::digit::{preprocess, rasterize_strokes};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::model::predict::{Prediction, Predictor};
use crate::engine::rng::Rng;
use egui::{
    Color32, ColorImage, Key, KeyboardShortcut, Modifiers, Pos2, Rect, RichText, Sense, Stroke, StrokeKind,
    TextureOptions, Vec2,
};

/// Pen radius as a fraction of the canvas side: a digit drawn at a natural size (about two thirds of the canvas
/// high) ends up with MNIST-like strokes of 2–3 px in the 28×28 input.
pub(crate) const PEN_RADIUS: f32 = 0.04;
/// Resolution the strokes are rasterised at before the MNIST preprocessing (which crops and scales to 20×20).
const RASTER_SIDE: usize = 112;

const PAPER: Color32 = Color32::from_rgb(250, 250, 245);
const INK: Color32 = Color32::from_rgb(20, 20, 30);

/// A test-set image placed on the canvas with "Random test digit".
#[derive(Clone)]
struct TestDigit {
    pixels: Box<[f32; IMAGE_PIXELS]>,
    label: u8,
    index: usize,
}

/// The cached prediction and the key it was computed for.
struct CachedPrediction {
    input_gen: u64,
    weights_version: u64,
    result: Result<Prediction, String>,
}

#[derive(Default)]
pub struct CanvasView {
    /// Finished strokes, points in 0..1 canvas coordinates.
    strokes: Vec<Vec<[f32; 2]>>,
    /// The stroke being drawn (during a drag).
    current: Vec<[f32; 2]>,
    /// A test image shown instead of strokes.
    test_digit: Option<TestDigit>,
    /// The network input for the current content (None: nothing on the canvas).
    input: Option<Box<[f32; IMAGE_PIXELS]>>,
    /// Bumped whenever the canvas content (and so `input`) changes.
    input_gen: u64,
    /// `input_gen` the `input` was computed for.
    computed_gen: Option<u64>,
    prediction: Option<CachedPrediction>,
    /// The 28×28 preview texture and the `input_gen` it shows.
    input_texture: KeyedTexture<u64>,
    /// The test digit drawn on the canvas (ink on paper) and the test index it shows.
    test_texture: KeyedTexture<usize>,
    /// Counts "Random test digit" presses: the seed for the next pick.
    picks: u64,
    /// A message for the user (e.g. "no test set loaded").
    notice: Option<String>,
    /// "Show what decided it": the attribution overlay (attribution.rs; computed by the app's worker).
    pub attribution: AttributionOverlay,
}

impl CanvasView {
    /// Drawing area, Clear / Undo / "Random test digit" buttons, the 28×28 input the network sees, probability bars.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        predictor: Option<&Predictor>,
        test_set: Option<&ImageSet>,
        weights_version: u64,
    ) {
        // Side by side when there is room for both columns; otherwise the canvas on top and the network's view
        // with the prediction below it, so neither is squeezed in a narrow panel.
        const RESULT_COLUMN: f32 = 300.0;
        if ui.available_width() >= 2.0 * RESULT_COLUMN {
            let canvas_side = ui.available_width() - RESULT_COLUMN;
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_max_width(canvas_side);
                    self.canvas_ui(ui);
                    self.buttons_ui(ui, predictor, test_set);
                });
                ui.add_space(12.0);
                ui.vertical(|ui| {
                    self.refresh_input();
                    self.preview_ui(ui);
                    ui.add_space(8.0);
                    self.prediction_ui(ui, predictor, weights_version);
                });
            });
        } else {
            self.canvas_ui(ui);
            self.buttons_ui(ui, predictor, test_set);
            ui.separator();
            self.refresh_input();
            if self.attribution.enabled {
                // The overlay wants the larger preview, which leaves no room beside it: the prediction goes below.
                self.preview_ui(ui);
                ui.add_space(8.0);
                self.prediction_ui(ui, predictor, weights_version);
            } else {
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.set_max_width(120.0);
                        self.preview_ui(ui);
                    });
                    ui.vertical(|ui| self.prediction_ui(ui, predictor, weights_version));
                });
            }
        }
    }

    /// The 28×28 input (0..1, ink = 1) the network sees, if something is on the canvas.
    pub fn network_input(&self) -> Option<[f32; 784]> {
        if self.computed_gen == Some(self.input_gen) {
            return self.input.as_deref().copied();
        }
        self.compute_input().map(|b| *b)
    }

    /// While the overlay is on and something is on the canvas: (input generation, input, class) to explain.
    pub(crate) fn attribution_request(&self) -> Option<(u64, [f32; IMAGE_PIXELS], Option<usize>)> {
        let input = self.input.as_deref().filter(|_| self.computed_gen == Some(self.input_gen))?;
        if !self.attribution.enabled {
            return None;
        }
        Some((self.input_gen, *input, self.attribution.class))
    }

    /// A map from the worker (for `input_gen`; the newest one is shown even while a fresher one is computed).
    pub(crate) fn set_attribution(
        &mut self,
        input_gen: u64,
        class: Option<usize>,
        result: Result<crate::engine::insight::explain::Attribution, String>,
    ) {
        self.attribution.set(input_gen, class, result);
    }

    pub fn clear(&mut self) {
        self.strokes.clear();
        self.current.clear();
        self.test_digit = None;
        self.notice = None;
        self.changed();
    }

    /// Removes the last stroke (or the test digit).
    pub fn undo(&mut self) {
        if !self.current.is_empty() {
            self.current.clear();
        } else if self.test_digit.is_some() {
            self.test_digit = None;
        } else {
            self.strokes.pop();
        }
        self.changed();
    }

    /// The strokes as drawn, dark ink on light paper at the raster's resolution (what "Add to my set" saves), or
    /// None when nothing is drawn (a test digit is not a drawing).
    pub fn drawing_on_paper(&self) -> Option<crate::engine::data::digit::GrayImage> {
        if self.strokes.is_empty() {
            return None;
        }
        let mut img = rasterize_strokes(&self.strokes, RASTER_SIDE, PEN_RADIUS);
        img.pixels.iter_mut().for_each(|v| *v = 1.0 - v.clamp(0.0, 1.0));
        Some(img)
    }

    /// True if strokes are drawn (not just a test digit shown).
    pub fn has_strokes(&self) -> bool {
        !self.strokes.is_empty()
    }

    /// The class the network reads in the current drawing, as last shown.
    pub fn predicted_class(&self) -> Option<usize> {
        let p = self.prediction.as_ref().filter(|p| p.input_gen == self.input_gen)?;
        p.result.as_ref().ok().map(|p| p.class)
    }

    /// True if nothing is on the canvas.
    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty() && self.current.is_empty() && self.test_digit.is_none()
    }

    /// Puts test image `index` of `test_set` on the canvas (out of range: nothing happens).
    pub(crate) fn show_test_digit(&mut self, test_set: &ImageSet, index: usize) {
        if index >= test_set.len() || test_set.images.len() < (index + 1) * IMAGE_PIXELS {
            self.notice = Some(format!("test image {index} is not in the test set"));
            return;
        }
        self.strokes.clear();
        self.current.clear();
        self.notice = None;
        self.test_digit =
            Some(TestDigit { pixels: Box::new(test_set.image(index)), label: test_set.labels[index], index });
        self.changed();
    }

    fn changed(&mut self) {
        self.input_gen = self.input_gen.wrapping_add(1);
    }

    fn compute_input(&self) -> Option<Box<[f32; IMAGE_PIXELS]>> {
        if let Some(t) = &self.test_digit {
            // Test images are already in MNIST form: the network sees them as they are.
            return Some(t.pixels.clone());
        }
        let mut strokes: Vec<Vec<[f32; 2]>> = self.strokes.clone();
        if !self.current.is_empty() {
            strokes.push(self.current.clone());
        }
        if strokes.is_empty() {
            return None;
        }
        let img = rasterize_strokes(&strokes, RASTER_SIDE, PEN_RADIUS);
        preprocess(&img).map(Box::new)
    }

    fn refresh_input(&mut self) {
        if self.computed_gen != Some(self.input_gen) {
            self.input = self.compute_input();
            self.computed_gen = Some(self.input_gen);
        }
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui) {
        let side = ui.available_width().min(ui.available_height() - 40.0).clamp(160.0, 340.0);
        let (response, painter) = ui.allocate_painter(Vec2::splat(side), Sense::drag());
        // The prompt painted on an empty canvas is its accessible name too (what a screen reader and the UI tests read).
        let name = if self.is_empty() { "Drawing canvas: draw a digit" } else { "Drawing canvas" };
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, name));
        let rect = response.rect;
        let to_canvas = |p: Pos2| -> [f32; 2] {
            [((p.x - rect.min.x) / rect.width()).clamp(0.0, 1.0), ((p.y - rect.min.y) / rect.height()).clamp(0.0, 1.0)]
        };
        let to_screen = |p: [f32; 2]| -> Pos2 { rect.min + Vec2::new(p[0] * rect.width(), p[1] * rect.height()) };

        // Pointer input: a drag draws a stroke; drawing over a test digit starts a fresh drawing.
        if let Some(pos) = response.interact_pointer_pos() {
            if self.current.is_empty() && self.test_digit.is_some() {
                self.test_digit = None;
                self.strokes.clear();
            }
            let p = to_canvas(pos);
            if self.current.last() != Some(&p) {
                self.current.push(p);
                self.changed();
            }
        } else if !self.current.is_empty() {
            let stroke = std::mem::take(&mut self.current);
            self.strokes.push(stroke);
            self.changed();
        }

        // Keys: Delete / Backspace / C clear and Ctrl+Z undoes wherever the pointer is, unless a widget (a text
        // field, a slider's value being typed) has the keyboard.
        let nothing_focused = ui.memory(|m| m.focused().is_none());
        if nothing_focused {
            let clear = ui.input(|i| {
                i.key_pressed(Key::Delete)
                    || i.key_pressed(Key::Backspace)
                    || (i.key_pressed(Key::C) && i.modifiers.is_none())
            });
            if clear {
                self.clear();
            }
        }
        if nothing_focused && ui.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Z))) {
            self.undo();
        }

        // Paint: paper, faint guide of the 20×20 box MNIST digits fill, the test digit or the strokes.
        painter.rect_filled(rect, 4.0, PAPER);
        let guide = Rect::from_center_size(rect.center(), rect.size() * (20.0 / 28.0));
        painter.rect_stroke(guide, 2.0, Stroke::new(1.0, Color32::from_gray(225)), StrokeKind::Inside);
        if let Some(t) = &self.test_digit {
            let tex = self.test_texture.get(ui.ctx(), "canvas-test-digit", t.index, TextureOptions::LINEAR, || {
                ColorImage::from_gray_iter(
                    [IMAGE_SIDE, IMAGE_SIDE],
                    t.pixels.iter().map(|v| 255 - (v.clamp(0.0, 1.0) * 230.0) as u8),
                )
            });
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            painter.image(tex.id(), rect.shrink(2.0), uv, Color32::WHITE);
        }
        let width = PEN_RADIUS * 2.0 * rect.width();
        let stroke = Stroke::new(width, INK);
        for line in self.strokes.iter().chain(std::iter::once(&self.current)) {
            match line.len() {
                0 => {}
                1 => {
                    painter.circle_filled(to_screen(line[0]), width / 2.0, INK);
                }
                _ => {
                    let pts: Vec<Pos2> = line.iter().map(|p| to_screen(*p)).collect();
                    for p in [pts[0], pts[pts.len() - 1]] {
                        painter.circle_filled(p, width / 2.0, INK);
                    }
                    for w in pts.windows(2) {
                        painter.circle_filled(w[1], width / 2.0, INK);
                        painter.line_segment([w[0], w[1]], stroke);
                    }
                }
            }
        }
        if self.is_empty() {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "draw a digit",
                egui::FontId::proportional(20.0),
                Color32::from_gray(160),
            );
        }
        painter.rect_stroke(rect, 4.0, Stroke::new(1.0, Color32::from_gray(150)), StrokeKind::Inside);
    }

    fn buttons_ui(&mut self, ui: &mut egui::Ui, predictor: Option<&Predictor>, test_set: Option<&ImageSet>) {
        ui.horizontal(|ui| {
            if ui.button("Clear").on_hover_text("Clear the canvas (Delete, Backspace or C)").clicked() {
                self.clear();
            }
            let can_undo = !self.is_empty();
            if ui
                .add_enabled(can_undo, egui::Button::new("Undo"))
                .on_hover_text("Remove the last stroke (Ctrl+Z)")
                .clicked()
            {
                self.undo();
            }
            let has_tests = test_set.is_some_and(|t| !t.is_empty());
            let random = ui
                .add_enabled(has_tests, egui::Button::new("Random test digit"))
                .on_hover_text("Put an image from the test set on the canvas: what the network was trained on")
                .on_disabled_hover_text("No test set loaded");
            if random.clicked() {
                if let Some(t) = test_set.filter(|t| !t.is_empty()) {
                    self.picks = self.picks.wrapping_add(1);
                    let mut rng = Rng::new(0x5eed ^ self.picks.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let index = rng.below(t.len());
                    self.show_test_digit(t, index);
                }
            }
        });
        if let Some(t) = &self.test_digit {
            let name = class_name(predictor, t.label as usize);
            ui.label(format!("Test image #{} — true label: {name}", t.index));
            ui.weak("A digit like those the network trained on.");
            ui.weak("Draw to start a fresh drawing.");
        } else {
            ui.weak("Draw with the left mouse button.");
            ui.weak("Undo: Ctrl+Z. Clear: Delete or C.");
        }
        if let Some(n) = &self.notice {
            ui.colored_label(ui.visuals().warn_fg_color, n);
        }
    }

    fn preview_ui(&mut self, ui: &mut egui::Ui) {
        ui.label(RichText::new("What the network sees (28×28)").strong());
        let input = &self.input;
        let tex =
            self.input_texture.get(ui.ctx(), "canvas-network-input", self.input_gen, TextureOptions::NEAREST, || {
                match input {
                    Some(px) => ColorImage::from_gray_iter(
                        [IMAGE_SIDE, IMAGE_SIDE],
                        px.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
                    ),
                    None => ColorImage::filled([IMAGE_SIDE, IMAGE_SIDE], Color32::BLACK),
                }
            });
        // Never wider than the column: a wider image would widen the side panel past the window's edge.
        let side: f32 = if self.attribution.enabled { 168.0 } else { 112.0 };
        let side = side.min(ui.available_width());
        let resp = ui
            .add(egui::Image::new((tex.id(), Vec2::splat(side))))
            .on_hover_text("The canvas after MNIST preprocessing: cropped, scaled to fit 20×20, centred by mass");
        let has_input = self.input.is_some();
        if !has_input {
            // An empty input is a black square: say so, or it reads as a broken image.
            ui.painter().text(
                resp.rect.center(),
                egui::Align2::CENTER_CENTER,
                "no ink yet",
                egui::FontId::proportional(13.0),
                Color32::from_gray(150),
            );
        }
        self.attribution.paint_ui(ui, resp.rect, has_input);
        self.attribution.toggle_ui(ui);
    }

    fn prediction_ui(&mut self, ui: &mut egui::Ui, predictor: Option<&Predictor>, weights_version: u64) {
        let Some(input) = self.input.as_deref() else {
            self.prediction = None;
            if self.is_empty() {
                // The canvas itself asks for a digit; this column says what will appear in it.
                ui.weak("The prediction appears here as you draw.");
            } else {
                ui.label("No ink found: draw a bit bolder.");
            }
            return;
        };
        let Some(predictor) = predictor else {
            self.prediction = None;
            ui.label("No weights yet: start training or load a weights file to see predictions.");
            return;
        };
        let fresh = self
            .prediction
            .as_ref()
            .is_some_and(|c| c.input_gen == self.input_gen && c.weights_version == weights_version);
        if !fresh {
            let result = predictor.predict(input).map_err(|e| e.to_string());
            self.prediction = Some(CachedPrediction { input_gen: self.input_gen, weights_version, result });
        }
        let Some(cached) = &self.prediction else { return };
        match &cached.result {
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Prediction failed: {e}"));
            }
            Ok(p) => {
                let name = class_name(Some(predictor), p.class);
                let conf = p.probabilities.get(p.class).copied().unwrap_or(0.0);
                ui.horizontal(|ui| {
                    ui.label(RichText::new(&name).size(44.0).strong());
                    ui.vertical(|ui| {
                        ui.label("prediction");
                        ui.label(format!("confidence {:.1} %", conf * 100.0));
                    });
                });
                if let Some(c) = probability_bars(ui, predictor, p, self.attribution.shown_class(p.class)) {
                    self.attribution.pick_class(c, p.class);
                }
            }
        }
    }
}
