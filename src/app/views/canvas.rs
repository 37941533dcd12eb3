//! PLACEHOLDER: the real drawing canvas (strokes, Clear / Undo / "Random test digit", the 28×28 input, probability
//! bars) is written in another branch and replaces this file at merge. The contract below is what the app calls.

use crate::engine::mnist::Dataset;
use crate::engine::predict::Predictor;

#[derive(Default)]
pub struct CanvasView {
    input: Option<Box<[f32; 784]>>,
}

impl CanvasView {
    /// Drawing area, Clear / Undo / "Random test digit" buttons, the 28×28 input the network sees, probability bars.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        predictor: Option<&Predictor>,
        test_set: Option<&Dataset>,
        weights_version: u64,
    ) {
        ui.heading("Draw a digit");
        ui.label("(canvas view placeholder)");
        ui.label(format!(
            "model: {} · test set: {} · weights version {weights_version}",
            if predictor.is_some() { "ready" } else { "none" },
            test_set.map_or("not loaded".to_string(), |t| format!("{} images", t.len()))
        ));
    }

    /// The 28×28 input (0..1, ink = 1) the network sees, if something is on the canvas.
    pub fn network_input(&self) -> Option<[f32; 784]> {
        self.input.as_deref().copied()
    }

    pub fn clear(&mut self) {
        self.input = None;
    }
}
