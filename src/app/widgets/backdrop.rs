//! The window's background is the frame's clear colour rather than a full-window rectangle painted over it. Where
//! the window is drawn in software (Mesa's llvmpipe on a machine without a GPU), every pixel shaded costs the cores
//! that training uses, and the panels' backgrounds cover the whole window: leaving them to the clear, which costs
//! next to nothing, makes each frame cheaper and looks the same.

/// Makes the panels transparent, in both themes (call once, with the window's context).
pub fn install(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| style.visuals.panel_fill = egui::Color32::TRANSPARENT);
}

/// The colour the frame is cleared to: the panels' colour of the theme shown.
pub fn clear_color(visuals: &egui::Visuals) -> [f32; 4] {
    let theme = if visuals.dark_mode { egui::Visuals::dark() } else { egui::Visuals::light() };
    theme.panel_fill.to_normalized_gamma_f32()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clear_is_the_panels_colour_and_the_panels_paint_nothing() {
        let ctx = egui::Context::default();
        super::install(&ctx);
        for theme in [egui::Theme::Dark, egui::Theme::Light] {
            let visuals = ctx.style_of(theme).visuals.clone();
            assert_eq!(visuals.panel_fill, egui::Color32::TRANSPARENT);
            let shown = if visuals.dark_mode { egui::Visuals::dark() } else { egui::Visuals::light() }.panel_fill;
            assert_eq!(super::clear_color(&visuals), shown.to_normalized_gamma_f32());
            assert_eq!(shown.a(), 255, "an opaque clear: nothing behind the window shows through");
        }
    }
}
