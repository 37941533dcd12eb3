//! "Show what decided it" on the canvas panel: the occlusion map (engine::insight::explain) drawn over the 28×28 view in the
//! heat colours of `explain --out`, for the predicted class or the class clicked in the probability bars. The map
//! is computed by the app's attribution worker off the UI thread; this only keeps the newest map and paints it.

use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::insight::explain::Attribution;
use crate::render::attribution::{display_scale, heat_rgba};
use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions};

#[derive(Default)]
pub struct AttributionOverlay {
    /// The toggle.
    pub(crate) enabled: bool,
    /// The class to explain; None: the predicted one.
    pub class: Option<usize>,
    /// The newest map received: (input generation, class asked for, result).
    latest: Option<(u64, Option<usize>, Result<Attribution, String>)>,
    texture: Option<TextureHandle>,
    texture_stale: bool,
    /// True if the last frame painted a map (tests).
    pub drawn: bool,
}

impl AttributionOverlay {
    pub fn set(&mut self, input_gen: u64, class: Option<usize>, result: Result<Attribution, String>) {
        self.latest = Some((input_gen, class, result));
        self.texture_stale = true;
    }

    /// The map shown now, if any.
    pub fn map(&self) -> Option<&Attribution> {
        self.latest.as_ref().and_then(|(_, _, r)| r.as_ref().ok())
    }

    /// The class the overlay explains, given the predicted one (None while off).
    pub(crate) fn shown_class(&self, predicted: usize) -> Option<usize> {
        self.enabled.then_some(self.class.unwrap_or(predicted))
    }

    /// A click on a probability bar: explain that class (clicking the predicted class goes back to following it).
    pub(crate) fn pick_class(&mut self, class: usize, predicted: usize) {
        if self.enabled {
            self.class = (class != predicted).then_some(class);
        }
    }

    pub(crate) fn toggle_ui(&mut self, ui: &mut egui::Ui) {
        ui.checkbox(&mut self.enabled, "show what decided it").on_hover_text(
            "Hide 4×4 squares of the input one at a time and see how far the class's probability drops: warm where \
             hiding hurts the class (evidence for it), blue where it helps (evidence against). Click a probability \
             bar to explain another class.",
        );
        if !self.enabled {
            self.class = None;
        }
        if let (true, Some(a)) = (self.enabled, self.map()) {
            ui.weak(format!(
                "class {}: p = {:.3}; hiding a square moves it by up to {:.3}",
                a.class,
                a.probability,
                a.max_abs()
            ));
        }
        if let (true, Some(Err(e))) = (self.enabled, self.latest.as_ref().map(|l| &l.2)) {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }

    /// Paints the map over `rect` (the 28×28 view) when on and there is an input.
    pub(crate) fn paint_ui(&mut self, ui: &mut egui::Ui, rect: Rect, has_input: bool) {
        self.drawn = false;
        if !self.enabled || !has_input {
            return;
        }
        let Some(a) = self.latest.as_ref().and_then(|(_, _, r)| r.as_ref().ok()) else { return };
        if self.texture_stale || self.texture.is_none() {
            let scale = display_scale(&a.map);
            let pixels: Vec<Color32> = a
                .map
                .iter()
                .map(|v| {
                    let [r, g, b, al] = heat_rgba(v / scale);
                    Color32::from_rgba_unmultiplied(r, g, b, al)
                })
                .collect();
            let img = ColorImage { size: [IMAGE_SIDE, IMAGE_SIDE], source_size: egui::vec2(28.0, 28.0), pixels };
            match &mut self.texture {
                Some(t) => t.set(img, TextureOptions::NEAREST),
                None => self.texture = Some(ui.ctx().load_texture("canvas-attribution", img, TextureOptions::NEAREST)),
            }
            self.texture_stale = false;
        }
        if let Some(t) = &self.texture {
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            ui.painter().image(t.id(), rect, uv, Color32::WHITE);
            self.drawn = true;
        }
    }
}
