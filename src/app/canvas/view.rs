//! The drawing canvas: draw a digit with the mouse (ink on paper), see the 28×28 image the network actually
//! receives (the engine's own MNIST preprocessing), and the network's class probabilities, live while drawing.
//!
//! The content lives in `sketch.rs` and the paper in `surface.rs`; this file lays them out with the buttons, the
//! preview and the prediction, which is cached and recomputed only when the input or the weights
//! (`weights_version`) change.

use crate::app::canvas::attribution::AttributionOverlay;
use crate::app::canvas::probabilities::{class_name, prediction_header, probability_bars};
use crate::app::canvas::sketch::Sketch;
use crate::app::canvas::surface::surface_ui;
use crate::app::widgets::texture::KeyedTexture;
use crate::engine::data::digit::GrayImage;
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::model::predict::{Prediction, Predictor};
use crate::engine::rng::Rng;
use egui::{Color32, ColorImage, RichText, TextureOptions, Vec2};

/// The cached prediction and the key it was computed for.
struct CachedPrediction {
    input_gen: u64,
    weights_version: u64,
    result: Result<Prediction, String>,
}

#[derive(Default)]
pub struct CanvasView {
    /// The strokes or test digit, and the network input read from them.
    sketch: Sketch,
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
                    self.sketch.refresh_input();
                    self.preview_ui(ui);
                    ui.add_space(8.0);
                    self.prediction_ui(ui, predictor, weights_version);
                });
            });
        } else {
            self.canvas_ui(ui);
            self.buttons_ui(ui, predictor, test_set);
            ui.separator();
            self.sketch.refresh_input();
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
        self.sketch.network_input()
    }

    /// While the overlay is on and something is on the canvas: (input generation, input, class) to explain.
    pub(crate) fn attribution_request(&self) -> Option<(u64, [f32; IMAGE_PIXELS], Option<usize>)> {
        let input = self.sketch.input.as_deref().filter(|_| self.sketch.input_is_fresh())?;
        if !self.attribution.enabled {
            return None;
        }
        Some((self.sketch.input_gen, *input, self.attribution.class))
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
        self.sketch.clear();
        self.notice = None;
    }

    /// Removes the last stroke (or the test digit).
    pub fn undo(&mut self) {
        self.sketch.undo();
    }

    /// The strokes as drawn, dark ink on light paper (what "Add to my set" saves), or None when nothing is drawn
    /// (a test digit is not a drawing).
    pub fn drawing_on_paper(&self) -> Option<GrayImage> {
        self.sketch.drawing_on_paper()
    }

    /// True if strokes are drawn (not just a test digit shown).
    pub fn has_strokes(&self) -> bool {
        !self.sketch.strokes.is_empty()
    }

    /// The class the network reads in the current drawing, as last shown.
    pub fn predicted_class(&self) -> Option<usize> {
        let p = self.prediction.as_ref().filter(|p| p.input_gen == self.sketch.input_gen)?;
        p.result.as_ref().ok().map(|p| p.class)
    }

    /// True if nothing is on the canvas.
    pub fn is_empty(&self) -> bool {
        self.sketch.is_empty()
    }

    /// Puts test image `index` of `test_set` on the canvas (out of range: a notice says so).
    pub(crate) fn show_test_digit(&mut self, test_set: &ImageSet, index: usize) {
        self.notice = self.sketch.show_test_digit(test_set, index).err();
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui) {
        if surface_ui(ui, &mut self.sketch, &mut self.test_texture) {
            self.notice = None;
        }
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
        if let Some(t) = &self.sketch.test_digit {
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
        let input = &self.sketch.input;
        let tex = self.input_texture.get(
            ui.ctx(),
            "canvas-network-input",
            self.sketch.input_gen,
            TextureOptions::NEAREST,
            || match input {
                Some(px) => ColorImage::from_gray_iter(
                    [IMAGE_SIDE, IMAGE_SIDE],
                    px.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
                ),
                None => ColorImage::filled([IMAGE_SIDE, IMAGE_SIDE], Color32::BLACK),
            },
        );
        // Never wider than the column: a wider image would widen the side panel past the window's edge.
        let side: f32 = if self.attribution.enabled { 168.0 } else { 112.0 };
        let side = side.min(ui.available_width());
        let resp = ui
            .add(egui::Image::new((tex.id(), Vec2::splat(side))))
            .on_hover_text("The canvas after MNIST preprocessing: cropped, scaled to fit 20×20, centred by mass");
        let has_input = self.sketch.input.is_some();
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
        let Some(input) = self.sketch.input.as_deref() else {
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
            .is_some_and(|c| c.input_gen == self.sketch.input_gen && c.weights_version == weights_version);
        if !fresh {
            let result = predictor.predict(input).map_err(|e| e.to_string());
            self.prediction = Some(CachedPrediction { input_gen: self.sketch.input_gen, weights_version, result });
        }
        let Some(cached) = &self.prediction else { return };
        match &cached.result {
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Prediction failed: {e}"));
            }
            Ok(p) => {
                let name = class_name(Some(predictor), p.class);
                let conf = p.probabilities.get(p.class).copied().unwrap_or(0.0);
                prediction_header(ui, &name, conf);
                if let Some(c) = probability_bars(ui, predictor, p, self.attribution.shown_class(p.class)) {
                    self.attribution.pick_class(c, p.class);
                }
            }
        }
    }
}
