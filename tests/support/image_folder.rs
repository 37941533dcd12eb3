//! Image folders made in the tests from MNIST digits: PNG files in class subfolders, in either polarity, at any
//! size, and in another stroke style (thickened, rotated) than MNIST's, for the fine-tuning tests.

use lenet_playground::engine::data::set::{ImageSet, IMAGE_SIDE};
use std::path::Path;

/// How a digit is drawn before it is saved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// Dilation passes (3×3 maximum): each makes the strokes ~2 px thicker.
    pub thicken: usize,
    /// Rotation in degrees, about the centre.
    pub rotate_deg: f32,
    /// Dark ink on white paper (a pen on paper) instead of MNIST's white on black.
    pub dark_on_light: bool,
    /// Upscaling factor of the saved file (28 px × this).
    pub scale: u32,
}

impl Default for Style {
    fn default() -> Self {
        Style { thicken: 0, rotate_deg: 0.0, dark_on_light: false, scale: 1 }
    }
}

/// The style the fine-tuning tests teach: thick, slanted strokes, dark on light paper, at 84 px.
pub fn other_hand() -> Style {
    Style { thicken: 1, rotate_deg: 28.0, dark_on_light: true, scale: 3 }
}

/// Item `i` of `set` in `style`, as 8-bit grey pixels (side × side, side = 28 × scale).
pub fn styled(set: &ImageSet, i: usize, style: Style) -> (u32, Vec<u8>) {
    let n = IMAGE_SIDE;
    let mut img: Vec<f32> = set.images[i * n * n..(i + 1) * n * n].iter().map(|&p| p as f32 / 255.0).collect();
    for _ in 0..style.thicken {
        let src = img.clone();
        for y in 0..n {
            for x in 0..n {
                let mut m = 0f32;
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (sx, sy) = (x as i32 + dx, y as i32 + dy);
                        if (0..n as i32).contains(&sx) && (0..n as i32).contains(&sy) {
                            m = m.max(src[sy as usize * n + sx as usize]);
                        }
                    }
                }
                img[y * n + x] = m;
            }
        }
    }
    let side = n as u32 * style.scale;
    let (s, c) = style.rotate_deg.to_radians().sin_cos();
    let centre = n as f32 / 2.0;
    let mut out = vec![0u8; (side * side) as usize];
    for y in 0..side {
        for x in 0..side {
            // Inverse rotation of the target pixel centre into the 28×28 source, bilinear.
            let (tx, ty) =
                ((x as f32 + 0.5) / style.scale as f32 - centre, (y as f32 + 0.5) / style.scale as f32 - centre);
            let (sx, sy) = (c * tx + s * ty + centre - 0.5, -s * tx + c * ty + centre - 0.5);
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let at = |xx: f32, yy: f32| {
                if xx < 0.0 || yy < 0.0 || xx >= n as f32 || yy >= n as f32 {
                    0.0
                } else {
                    img[yy as usize * n + xx as usize]
                }
            };
            let v = at(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + at(x0 + 1.0, y0) * fx * (1.0 - fy)
                + at(x0, y0 + 1.0) * (1.0 - fx) * fy
                + at(x0 + 1.0, y0 + 1.0) * fx * fy;
            let v = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            out[(y * side + x) as usize] = if style.dark_on_light { 255 - v } else { v };
        }
    }
    (side, out)
}

/// Writes grey pixels as a PNG.
pub fn write_png(path: &Path, side: u32, pixels: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_raw(side, side, pixels.to_vec()).unwrap().save(path).unwrap();
}

/// Writes `per_class` images of each of the ten digits from `set` (the first ones of each class, from `skip` on)
/// into `dir/<digit>/<index>.png` in `style`; returns how many were written.
pub fn write_digits(dir: &Path, set: &ImageSet, skip: usize, per_class: usize, style: Style) -> usize {
    let mut seen = [0usize; 10];
    let mut written = 0;
    for i in 0..set.len() {
        let c = set.labels[i] as usize;
        seen[c] += 1;
        if seen[c] <= skip || seen[c] > skip + per_class {
            continue;
        }
        let (side, px) = styled(set, i, style);
        write_png(&dir.join(c.to_string()).join(format!("{i}.png")), side, &px);
        written += 1;
        if written == per_class * 10 {
            break;
        }
    }
    written
}
