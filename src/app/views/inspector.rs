//! PLACEHOLDER: the real inspector (stage table, feature maps of the selected stage, c1 filters) is written in
//! another branch and replaces this file at merge. The contract below is what the app calls.

use crate::engine::config::ModelConfig;
use crate::engine::predict::Predictor;

#[derive(Default)]
pub struct InspectorView {}

impl InspectorView {
    /// Stage table (stage, output shape, params, formula), selectable rows, feature maps of the selected stage, c1
    /// filters.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        config: ModelConfig,
        predictor: Option<&Predictor>,
        input: Option<&[f32; 784]>,
        fallback_test_image: Option<&[f32; 784]>,
        weights_version: u64,
    ) {
        ui.heading("Network inspector");
        ui.label("(inspector view placeholder)");
        ui.label(format!(
            "{} + {} · model {} · input: {} · weights version {weights_version}",
            config.activation.label(),
            config.pooling.label(),
            if predictor.is_some() { "ready" } else { "none" },
            if input.is_some() {
                "canvas"
            } else if fallback_test_image.is_some() {
                "first test image"
            } else {
                "none"
            },
        ));
    }
}
