//! What every rendering shares: the size bounds of an export, PNG encoding and plotters' font.

use plotters::style::FontStyle;
use std::sync::OnceLock;

pub(crate) const MIN_EXPORT_SIDE: u32 = 200;
pub(crate) const MAX_EXPORT_SIDE: u32 = 8000;

pub(crate) fn check_size(width: u32, height: u32) -> Result<(), String> {
    let ok = |v: u32| (MIN_EXPORT_SIDE..=MAX_EXPORT_SIDE).contains(&v);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(format!(
            "export size must be between {MIN_EXPORT_SIDE} and {MAX_EXPORT_SIDE} pixels per side, got {width}×{height}"
        ))
    }
}

pub(crate) fn encode_png(
    pixels: &[u8],
    width: u32,
    height: u32,
    color: image::ExtendedColorType,
) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(pixels, width, height, color)
        .map_err(|e| format!("cannot encode PNG: {e}"))?;
    Ok(out)
}

/// plotters draws text only with a registered font; egui's bundled Ubuntu-Light serves (no system fonts needed).
pub(crate) fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let defs = egui::FontDefinitions::default();
        let data = defs
            .font_data
            .get("Ubuntu-Light")
            .or_else(|| defs.font_data.values().next())
            .ok_or_else(|| "no bundled font to draw text with".to_string())?;
        let bytes: &'static [u8] = Box::leak((*data.font).as_ref().to_vec().into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "the bundled font could not be read".to_string())
    })
    .clone()
}
