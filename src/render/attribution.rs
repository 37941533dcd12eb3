//! The attribution map (engine::insight::explain) as pixels: its colour scale, the overlay over the input, and
//! that overlay as a PNG file. The window draws its overlay with the same scale; the CLI's `explain` writes the PNG.

use crate::engine::data::set::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::{Error, Result};

/// The scale a map is drawn at: its largest magnitude, but at least `MIN_SCALE`, so a map of tiny drops stays faint
/// instead of being stretched to full colour.
pub(crate) fn display_scale(map: &[f32]) -> f32 {
    map.iter().fold(MIN_SCALE, |m, v| m.max(v.abs()))
}
const MIN_SCALE: f32 = 0.05;

/// The overlay colour (RGBA, unpremultiplied) of a map value scaled to -1..1: transparent at 0, a heat scale (dark
/// red → red → orange → yellow) for evidence for the class, blue for evidence against.
pub(crate) fn heat_rgba(t: f32) -> [u8; 4] {
    let t = t.clamp(-1.0, 1.0);
    let a = (t.abs().powf(0.8) * 0.8 * 255.0).round() as u8;
    if t < 0.0 {
        return [40, 110, 255, a];
    }
    const STOPS: [(f32, [f32; 3]); 4] =
        [(0.0, [120.0, 0.0, 0.0]), (0.4, [225.0, 30.0, 0.0]), (0.7, [255.0, 140.0, 0.0]), (1.0, [255.0, 240.0, 70.0])];
    let k = STOPS.iter().position(|s| t <= s.0).unwrap_or(STOPS.len() - 1).max(1);
    let ((t0, c0), (t1, c1)) = (STOPS[k - 1], STOPS[k]);
    let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
    let c = |i: usize| (c0[i] + (c1[i] - c0[i]) * f).round() as u8;
    [c(0), c(1), c(2), a]
}

/// The input (dark ink on white paper) with the map blended over it, each input pixel drawn `zoom`×`zoom`, and a
/// colour bar on the right (top: the scale's maximum drop, middle: 0, bottom: the same rise).
pub(crate) fn overlay_image(input: &[f32; IMAGE_PIXELS], map: &[f32], zoom: usize) -> image::RgbImage {
    let zoom = zoom.max(1);
    let side = IMAGE_SIDE * zoom;
    let (gap, bar) = (zoom, 2 * zoom);
    let scale = display_scale(map);
    let mut img = image::RgbImage::from_pixel((side + gap + bar) as u32, side as u32, image::Rgb([255, 255, 255]));
    let blend = |base: [f32; 3], c: [u8; 4]| {
        let a = c[3] as f32 / 255.0;
        image::Rgb([0, 1, 2].map(|i| (base[i] * (1.0 - a) + c[i] as f32 * a).round() as u8))
    };
    for y in 0..side {
        for x in 0..side {
            let i = (y / zoom) * IMAGE_SIDE + x / zoom;
            let g = 255.0 * (1.0 - input[i].clamp(0.0, 1.0));
            img.put_pixel(x as u32, y as u32, blend([g; 3], heat_rgba(map.get(i).copied().unwrap_or(0.0) / scale)));
        }
        let t = 1.0 - 2.0 * (y as f32 + 0.5) / side as f32;
        for x in side + gap..side + gap + bar {
            img.put_pixel(
                x as u32,
                y as u32,
                blend([255.0; 3], {
                    let mut c = heat_rgba(t);
                    c[3] = c[3].max(40);
                    c
                }),
            );
        }
    }
    img
}

/// `overlay_image` as PNG bytes.
pub(crate) fn overlay_png(input: &[f32; IMAGE_PIXELS], map: &[f32], zoom: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    overlay_image(input, map, zoom)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::encode("the attribution map as PNG", e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_scale_is_transparent_at_zero_and_ordered() {
        assert_eq!(heat_rgba(0.0)[3], 0);
        assert!(heat_rgba(1.0)[3] > heat_rgba(0.5)[3]);
        assert!(heat_rgba(1.0)[1] > heat_rgba(0.3)[1], "yellower at the top");
        assert!(heat_rgba(-1.0)[2] > heat_rgba(-1.0)[0], "negative is blue");
        let img = overlay_image(&[0.0; IMAGE_PIXELS], &[0.0; IMAGE_PIXELS], 10);
        assert_eq!((img.width(), img.height()), (310, 280));
        assert_eq!(img.get_pixel(5, 5).0, [255, 255, 255], "empty paper with no map stays white");
    }
}
