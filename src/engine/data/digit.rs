//! Turns a drawing or a photo of a digit into what the network was trained on: MNIST's own recipe. Pure functions
//! on plain pixels (no files: [`image_file`](super::image_file) decodes those), shared by the canvas in the app and
//! `predict` on the command line.
//!
//! Steps: decide which polarity is ink (from the border), stretch contrast, crop to the ink's bounding box, scale
//! to fit 20×20 keeping the aspect ratio (area-averaging, i.e. anti-aliased), paste into 28×28 so the centre of mass
//! sits at the centre, and scale to 0..1 as in training.

use crate::engine::data::set::{IMAGE_PIXELS, IMAGE_SIDE};

/// A greyscale image with values in 0..1, either polarity.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

/// Below this contrast between ink and paper there is no digit.
const MIN_CONTRAST: f32 = 0.15;
/// Pixels above this (after normalising) count as ink for the bounding box.
const INK_THRESHOLD: f32 = 0.1;
const FIT: usize = 20;

impl GrayImage {
    pub fn new(width: usize, height: usize) -> Self {
        GrayImage { width, height, pixels: vec![0.0; width * height] }
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * self.width + x]
    }
}

/// MNIST-style 28×28 input in 0..1 (ink = 1), or None if the image holds no digit (blank or uniform).
pub fn preprocess(img: &GrayImage) -> Option<[f32; IMAGE_PIXELS]> {
    if img.width == 0 || img.height == 0 || img.pixels.len() != img.width * img.height {
        return None;
    }
    let ink = ink_map(img)?;
    let (x0, y0, x1, y1) = bounding_box(&ink, img.width, img.height)?;
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    // Longer side to 20 px, aspect kept; at least 1 px on the shorter side.
    let scale = FIT as f32 / bw.max(bh) as f32;
    let tw = ((bw as f32 * scale).round() as usize).clamp(1, FIT);
    let th = ((bh as f32 * scale).round() as usize).clamp(1, FIT);
    let crop = GrayImage {
        width: bw,
        height: bh,
        pixels: (y0..=y1).flat_map(|y| (x0..=x1).map(move |x| (x, y))).map(|(x, y)| ink.at(x, y)).collect(),
    };
    let small = resize_area(&crop, tw, th);
    // Centre of mass of the scaled digit, in pixel-centre coordinates.
    let (mut sum, mut sx, mut sy) = (0f32, 0f32, 0f32);
    for y in 0..th {
        for x in 0..tw {
            let v = small.at(x, y);
            sum += v;
            sx += v * (x as f32 + 0.5);
            sy += v * (y as f32 + 0.5);
        }
    }
    if sum <= 0.0 {
        return None;
    }
    let centre = IMAGE_SIDE as f32 / 2.0;
    let ox = (centre - sx / sum).round() as isize;
    let oy = (centre - sy / sum).round() as isize;
    let mut out = [0f32; IMAGE_PIXELS];
    for y in 0..th {
        for x in 0..tw {
            let (tx, ty) = (x as isize + ox, y as isize + oy);
            if (0..IMAGE_SIDE as isize).contains(&tx) && (0..IMAGE_SIDE as isize).contains(&ty) {
                out[ty as usize * IMAGE_SIDE + tx as usize] = small.at(x, y).clamp(0.0, 1.0);
            }
        }
    }
    Some(out)
}

/// Ink in 0..1 whatever the polarity: the border's median is taken as paper; contrast is stretched to 0..1.
fn ink_map(img: &GrayImage) -> Option<GrayImage> {
    let mut border: Vec<f32> = Vec::new();
    for x in 0..img.width {
        border.push(img.at(x, 0));
        border.push(img.at(x, img.height - 1));
    }
    for y in 0..img.height {
        border.push(img.at(0, y));
        border.push(img.at(img.width - 1, y));
    }
    border.sort_by(|a, b| a.total_cmp(b));
    let paper = border[border.len() / 2];
    let dark_ink = paper > 0.5;
    let ink: Vec<f32> = img.pixels.iter().map(|&v| if dark_ink { paper - v } else { v - paper }.max(0.0)).collect();
    let peak = ink.iter().copied().fold(0f32, f32::max);
    if peak.is_nan() || peak < MIN_CONTRAST {
        return None;
    }
    Some(GrayImage { width: img.width, height: img.height, pixels: ink.iter().map(|v| (v / peak).min(1.0)).collect() })
}

fn bounding_box(ink: &GrayImage, w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink.at(x, y) > INK_THRESHOLD {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    (x0 != usize::MAX).then_some((x0, y0, x1, y1))
}

/// Area-averaging resize: each output pixel is the mean of the source area it covers (anti-aliased downscaling,
/// smooth enough upscaling).
pub fn resize_area(src: &GrayImage, tw: usize, th: usize) -> GrayImage {
    let (sx, sy) = (src.width as f32 / tw as f32, src.height as f32 / th as f32);
    let mut out = GrayImage::new(tw, th);
    for oy in 0..th {
        let (ya, yb) = (oy as f32 * sy, (oy + 1) as f32 * sy);
        for ox in 0..tw {
            let (xa, xb) = (ox as f32 * sx, (ox + 1) as f32 * sx);
            let (mut acc, mut area) = (0f32, 0f32);
            let mut y = ya.floor() as usize;
            while (y as f32) < yb && y < src.height {
                let wy = (yb.min(y as f32 + 1.0) - ya.max(y as f32)).max(0.0);
                let mut x = xa.floor() as usize;
                while (x as f32) < xb && x < src.width {
                    let wx = (xb.min(x as f32 + 1.0) - xa.max(x as f32)).max(0.0);
                    acc += src.at(x, y) * wx * wy;
                    area += wx * wy;
                    x += 1;
                }
                y += 1;
            }
            out.pixels[oy * tw + ox] = if area > 0.0 { acc / area } else { 0.0 };
        }
    }
    out
}

/// Draws pen strokes (points in 0..1 canvas coordinates) into a size×size image, ink = 1, with soft edges.
/// `pen_radius` is a fraction of the canvas side.
pub fn rasterize_strokes(strokes: &[Vec<[f32; 2]>], size: usize, pen_radius: f32) -> GrayImage {
    let mut img = GrayImage::new(size, size);
    let r = pen_radius * size as f32;
    for stroke in strokes {
        let pts: Vec<[f32; 2]> = stroke.iter().map(|p| [p[0] * size as f32, p[1] * size as f32]).collect();
        let segments: Vec<([f32; 2], [f32; 2])> = match pts.len() {
            0 => continue,
            1 => vec![(pts[0], pts[0])],
            _ => pts.windows(2).map(|w| (w[0], w[1])).collect(),
        };
        for (a, b) in segments {
            let x_lo = (a[0].min(b[0]) - r - 1.0).floor().max(0.0) as usize;
            let x_hi = ((a[0].max(b[0]) + r + 1.0).ceil().max(0.0) as usize).min(size);
            let y_lo = (a[1].min(b[1]) - r - 1.0).floor().max(0.0) as usize;
            let y_hi = ((a[1].max(b[1]) + r + 1.0).ceil().max(0.0) as usize).min(size);
            for y in y_lo..y_hi {
                for x in x_lo..x_hi {
                    let p = [x as f32 + 0.5, y as f32 + 0.5];
                    let d = dist_to_segment(p, a, b);
                    let v = (r + 0.5 - d).clamp(0.0, 1.0);
                    let px = &mut img.pixels[y * size + x];
                    *px = px.max(v);
                }
            }
        }
    }
    img
}

fn dist_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 { (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (cx, cy) = (a[0] + t * abx, a[1] + t * aby);
    ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt()
}

/// Centre of mass (x, y) of a 28×28 input in pixel-centre coordinates (14, 14 is the centre).
pub fn centre_of_mass(img: &[f32; IMAGE_PIXELS]) -> (f32, f32) {
    let (mut s, mut sx, mut sy) = (0f32, 0f32, 0f32);
    for (i, &v) in img.iter().enumerate() {
        s += v;
        sx += v * ((i % IMAGE_SIDE) as f32 + 0.5);
        sy += v * ((i / IMAGE_SIDE) as f32 + 0.5);
    }
    (sx / s.max(1e-9), sy / s.max(1e-9))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox28(img: &[f32; IMAGE_PIXELS]) -> (usize, usize, usize, usize) {
        let g = GrayImage { width: 28, height: 28, pixels: img.to_vec() };
        bounding_box(&g, 28, 28).unwrap()
    }

    #[test]
    fn empty_and_uniform_images_are_no_digit() {
        assert!(preprocess(&GrayImage::new(50, 50)).is_none());
        assert!(preprocess(&GrayImage { width: 10, height: 10, pixels: vec![1.0; 100] }).is_none());
        assert!(preprocess(&GrayImage { width: 0, height: 0, pixels: vec![] }).is_none());
    }

    #[test]
    fn a_shifted_digit_is_centred_and_fits_20px() {
        // A "1"-like bar drawn in the top-left corner of a large canvas.
        let strokes = vec![vec![[0.1, 0.05], [0.12, 0.35]]];
        let img = rasterize_strokes(&strokes, 200, 0.03);
        let out = preprocess(&img).unwrap();
        let (cx, cy) = centre_of_mass(&out);
        assert!((cx - 14.0).abs() <= 0.75 && (cy - 14.0).abs() <= 0.75, "centre of mass ({cx}, {cy})");
        let (x0, y0, x1, y1) = bbox28(&out);
        assert_eq!(y1 - y0 + 1, 20, "the long side is scaled to 20 px");
        assert!(x1 - x0 + 1 < 12, "aspect ratio kept");
    }

    #[test]
    fn polarity_does_not_matter() {
        let strokes = vec![vec![[0.3, 0.2], [0.7, 0.2], [0.4, 0.8]]];
        let light_on_dark = rasterize_strokes(&strokes, 120, 0.05);
        let dark_on_light =
            GrayImage { pixels: light_on_dark.pixels.iter().map(|v| 1.0 - v).collect(), ..light_on_dark.clone() };
        let a = preprocess(&light_on_dark).unwrap();
        let b = preprocess(&dark_on_light).unwrap();
        let diff: f32 = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).sum();
        assert!(diff < 1e-3, "both polarities give the same input (diff {diff})");
    }

    #[test]
    fn area_resize_preserves_mean() {
        let src = GrayImage { width: 7, height: 5, pixels: (0..35).map(|i| (i % 3) as f32 / 2.0).collect() };
        let dst = resize_area(&src, 3, 2);
        let m = |g: &GrayImage| g.pixels.iter().sum::<f32>() / g.pixels.len() as f32;
        assert!((m(&src) - m(&dst)).abs() < 1e-4);
    }
}
