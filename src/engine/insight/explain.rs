//! What in an input decided a class: an occlusion map. Cover a PATCH×PATCH square of the 28×28 input with paper
//! (0, the background the network was trained on), see how far the class's probability drops, and spread that drop
//! over the square; a pixel's value is the mean drop of the squares that cover it. Positive: covering it hurt the
//! class (evidence for it); negative: covering it helped (evidence against).
//!
//! Why occlusion: it needs only forward passes, so it runs on the fast fused kernels (no input gradients through the
//! custom ops), its values mean something a user can check ("hide this and the 7 becomes less likely by 0.4"), and
//! it cannot be fooled by saturated sigmoids the way a raw gradient is. All occluded copies go through the network
//! in one batch. A square that holds no ink is not computed: covering paper with paper changes nothing, so its drop
//! is exactly 0.

use crate::engine::data::set::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::model::lenet::argmax;
use crate::engine::model::predict::Predictor;
use crate::{Error, Result};

/// Side of the occluding square, in input pixels: about one pen stroke wide (MNIST strokes are 2–3 px), so one
/// square can break a stroke.
pub(crate) const PATCH: usize = 4;
/// Step between squares: half a square, so every inner pixel is covered by 4 squares and the map is smooth, with 13×13
/// squares instead of 25×25 at stride 1.
pub(crate) const STRIDE: usize = 2;

/// An attribution map for one input and one class.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub class: usize,
    /// The class's probability for the whole (unoccluded) input, 0..1.
    pub probability: f32,
    /// All classes' probabilities for the whole input.
    pub probabilities: Vec<f32>,
    /// IMAGE_PIXELS values, row-major: the mean drop in the class's probability when a square covering the pixel is
    /// hidden (-1..1).
    pub map: Vec<f32>,
}

impl Attribution {
    /// The map as 28 rows of 28 values.
    pub fn rows(&self) -> Vec<Vec<f32>> {
        self.map.chunks(IMAGE_SIDE).map(|r| r.to_vec()).collect()
    }

    /// Largest absolute value in the map.
    pub(crate) fn max_abs(&self) -> f32 {
        self.map.iter().fold(0f32, |m, v| m.max(v.abs()))
    }
}

/// Top-left corners (x or y) of the occluding squares along one axis (the last one flush with the edge).
fn offsets(patch: usize, stride: usize) -> impl Iterator<Item = usize> + Clone {
    let last = IMAGE_SIDE - patch;
    (0..=last).step_by(stride).chain((!last.is_multiple_of(stride)).then_some(last))
}

/// The occlusion map of `input` (preprocessed, 0..1, ink = 1) for `class` (default: the predicted class).
pub fn occlusion(predictor: &Predictor, input: &[f32; IMAGE_PIXELS], class: Option<usize>) -> Result<Attribution> {
    occlusion_with(predictor, input, class, PATCH, STRIDE)
}

/// As `occlusion` with another square size and step (for comparing choices; see examples/occlusion_choices.rs).
pub fn occlusion_with(
    predictor: &Predictor,
    input: &[f32; IMAGE_PIXELS],
    class: Option<usize>,
    patch: usize,
    stride: usize,
) -> Result<Attribution> {
    if let Some(c) = class {
        let classes = predictor.model().config.classes;
        if c >= classes {
            return Err(Error::Config(format!(
                "class {c} is out of range: these weights score {classes} classes, 0 to {}",
                classes - 1
            )));
        }
    }
    if !(1..=IMAGE_SIDE).contains(&patch) || stride == 0 {
        return Err(Error::Config(format!("occlusion square {patch} px with step {stride} does not fit 28×28")));
    }
    let axis = || offsets(patch, stride);
    // The squares that touch ink; the others leave the input unchanged.
    let squares: Vec<(usize, usize)> = axis()
        .flat_map(|y| axis().map(move |x| (x, y)))
        .filter(|&(x, y)| {
            (y..y + patch).any(|r| input[r * IMAGE_SIDE + x..r * IMAGE_SIDE + x + patch].iter().any(|&v| v > 0.0))
        })
        .collect();
    let n = 1 + squares.len();
    let mut batch = Vec::with_capacity(n * IMAGE_PIXELS);
    batch.extend_from_slice(input);
    for &(x, y) in &squares {
        let start = batch.len();
        batch.extend_from_slice(input);
        for r in y..y + patch {
            batch[start + r * IMAGE_SIDE + x..start + r * IMAGE_SIDE + x + patch].fill(0.0);
        }
    }
    let values = predictor.logits(&batch, n)?;
    let rows: Vec<&[f32]> = values.chunks_exact(predictor.model().config.classes).collect();
    let probabilities = softmax(rows[0]);
    let class = class.unwrap_or_else(|| argmax(&probabilities));
    let probability = probabilities[class];
    let mut sum = vec![0f32; IMAGE_PIXELS];
    for (&(x, y), row) in squares.iter().zip(&rows[1..]) {
        let drop = probability - softmax(row)[class];
        for r in y..y + patch {
            for v in &mut sum[r * IMAGE_SIDE + x..r * IMAGE_SIDE + x + patch] {
                *v += drop;
            }
        }
    }
    // Divide by how many squares cover each pixel (all of them, computed or known to be 0).
    let cover = |i: usize| axis().filter(|&o| o <= i && i < o + patch).count() as f32;
    let cover_1d: Vec<f32> = (0..IMAGE_SIDE).map(cover).collect();
    let map = sum.iter().enumerate().map(|(i, s)| s / (cover_1d[i % IMAGE_SIDE] * cover_1d[i / IMAGE_SIDE])).collect();
    Ok(Attribution { class, probability, probabilities, map })
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = row.iter().map(|&v| (v - max).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pixel_is_covered_and_squares_fit() {
        for (patch, stride) in [(PATCH, STRIDE), (3, 2), (5, 3), (8, 4), (1, 1)] {
            for i in 0..IMAGE_SIDE {
                assert!(offsets(patch, stride).any(|o| o <= i && i < o + patch), "pixel {i} uncovered");
            }
            assert!(offsets(patch, stride).all(|o| o + patch <= IMAGE_SIDE));
        }
        assert_eq!(offsets(PATCH, STRIDE).count(), 13);
    }
}
