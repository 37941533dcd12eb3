//! What every rendering shares: the size bounds of an export, PNG encoding, plotters' font and a title that fits.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
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

/// The smallest title size: below it a title is broken into lines instead of shrunk further.
const MIN_TITLE_PX: u32 = 12;

/// Draws `text` centred at the top of `area`, at `max_px` or as much smaller as fits its width (a long network or
/// data set name), broken into lines at ", " or spaces once even [`MIN_TITLE_PX`] is too wide; returns the area
/// below it. Nothing of the title is cut off.
pub(crate) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    max_px: u32,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = area.dim_in_pixel();
    let room = w.saturating_sub(24).max(40);
    let measure = |s: &str, px: u32| {
        area.estimate_text_size(s, &("sans-serif", px as f64).into_font().into()).map_or(u32::MAX, |(tw, _)| tw)
    };
    let (lines, px) = fit_title(text, room, max_px, measure);
    let style = ("sans-serif", px as f64).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
    let line_h = px * 5 / 4;
    for (i, line) in lines.iter().enumerate() {
        area.draw_text(line, &style, ((w / 2) as i32, 6 + (i as u32 * line_h) as i32))
            .map_err(|e| format!("cannot draw the title: {e}"))?;
    }
    let used = 12 + lines.len() as u32 * line_h;
    Ok(area.split_vertically(used).1)
}

/// The lines and size of a title: one line at the largest size from `max_px` down to [`MIN_TITLE_PX`] whose
/// `measure` fits `room`, else lines at the smallest size, filled piece by piece (pieces end at ", " or spaces).
pub(crate) fn fit_title(text: &str, room: u32, max_px: u32, measure: impl Fn(&str, u32) -> u32) -> (Vec<String>, u32) {
    let max_px = max_px.max(MIN_TITLE_PX);
    if let Some(px) = (MIN_TITLE_PX..=max_px).rev().find(|&px| measure(text, px) <= room) {
        return (vec![text.to_string()], px);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in text.split_inclusive([' ', ',']) {
        let longer = format!("{line}{piece}");
        if !line.is_empty() && measure(longer.trim_end(), MIN_TITLE_PX) > room {
            lines.push(line.trim_end().to_string());
            line = piece.trim_start().to_string();
        } else {
            line = longer;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    (lines, MIN_TITLE_PX)
}

#[cfg(test)]
mod tests {
    use super::fit_title;

    /// Half the size per character, as a proportional font roughly measures.
    fn measure(s: &str, px: u32) -> u32 {
        s.chars().count() as u32 * px / 2
    }

    #[test]
    fn a_title_that_fits_keeps_the_largest_size() {
        assert_eq!(fit_title("LeNet-5 training", 400, 30, measure), (vec!["LeNet-5 training".to_string()], 30));
    }

    #[test]
    fn a_long_title_shrinks_before_it_breaks() {
        let text = "x".repeat(40);
        // 40 characters at 20 px = 400: fits 400 at 20 px, not at 21.
        assert_eq!(fit_title(&text, 400, 30, measure).1, 20);
    }

    #[test]
    fn a_title_too_long_for_the_smallest_size_is_broken_into_lines_that_fit_and_keep_every_word() {
        let text = "Network training — my-drawings, c8k3psame-pool,c16k3psame-pool,c32k3psame-pool,f64: Sigmoid + \
                    AvgPool2d, Xavier init, SGD lr 0.1, batch 100";
        let (lines, px) = fit_title(text, 300, 30, measure);
        assert_eq!(px, 12);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| measure(l, 12) <= 300), "{lines:?}");
        let joined: String = lines.join(" ").split_whitespace().collect::<Vec<_>>().join(" ");
        let original: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(joined.replace(", ", ",").replace(' ', ""), original.replace(", ", ",").replace(' ', ""));
    }
}
