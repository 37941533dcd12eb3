//! How the representation forms: the penultimate layer's activations (what the output layer separates) for a fixed
//! set of test digits, projected to 2-D once per epoch, with the silhouette score saying in one number how far the
//! classes have pulled apart. Each epoch's projection is aligned to the previous one so the map does not flip.

use super::projection::{silhouette, Pca2};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS};
use crate::engine::model::predict::Predictor;
use crate::engine::model::stages::Stage;
use crate::{Error, Result};
use std::time::Instant;

/// Test digits on the map: the first 2,000 of the test set (about 200 per class in MNIST).
pub const MAP_DIGITS: usize = 2000;

/// The stage whose output is mapped: the last one before the output layer (f6.act in LeNet-5; the flattened image
/// for a network with no hidden layer).
pub fn penultimate_index(stages: &[Stage]) -> usize {
    stages.len().saturating_sub(2)
}

/// The digits of a map: fixed for a run, so frames compare.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDigits {
    pub set: ImageSet,
}

impl MapDigits {
    /// The first [`MAP_DIGITS`] images of `test`.
    pub fn from_test(test: &ImageSet) -> Self {
        MapDigits { set: test.truncated(MAP_DIGITS) }
    }
    pub fn labels(&self) -> Vec<usize> {
        self.set.labels.iter().map(|&l| l as usize).collect()
    }
}

/// One epoch's map.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Epochs trained when it was captured (0: before training).
    pub epoch: usize,
    /// One point per map digit, in their order.
    pub points: Vec<[f32; 2]>,
    pub silhouette: f32,
    /// Variance the two axes explain, 0..1.
    pub explained: f32,
    pub pca: Pca2,
    /// Time to run the digits through the network and project them (the silhouette is apart: `silhouette_ms`).
    pub capture_ms: f64,
    pub silhouette_ms: f64,
}

/// The penultimate features of the map's digits: `rows × dims`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub values: Vec<f32>,
    pub dims: usize,
}

impl Features {
    pub fn rows(&self) -> usize {
        self.values.len() / self.dims.max(1)
    }
    /// The `k` digits nearest to `point` (Euclidean, in feature space), nearest first.
    pub fn nearest(&self, point: &[f32], k: usize) -> Vec<usize> {
        let d = |r: usize| {
            self.values[r * self.dims..(r + 1) * self.dims]
                .iter()
                .zip(point)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
        };
        let mut order: Vec<(usize, f32)> = (0..self.rows()).map(|r| (r, d(r))).collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        order.into_iter().take(k).map(|(r, _)| r).collect()
    }
}

/// Images per forward pass when features are taken (bounds the memory of the early stages' maps).
const CHUNK: usize = 1000;

/// The penultimate features of `n` preprocessed inputs, computed in chunks.
pub fn features(predictor: &Predictor, pixels: &[f32], n: usize) -> Result<Features> {
    let index = penultimate_index(predictor.stages());
    let dims = predictor.stages()[index].output.len();
    let mut values = Vec::with_capacity(n * dims);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        values.extend(predictor.stage_values(&pixels[start * IMAGE_PIXELS..end * IMAGE_PIXELS], end - start, index)?);
    }
    Ok(Features { values, dims })
}

/// The map of `digits` under the predictor's weights after `epoch` epochs, aligned to `previous` when given.
pub fn capture(
    predictor: &Predictor,
    digits: &MapDigits,
    epoch: usize,
    previous: Option<&Pca2>,
) -> Result<(Frame, Features)> {
    let start = Instant::now();
    let n = digits.set.len();
    let (pixels, _) = digits.set.batch(&(0..n).collect::<Vec<_>>());
    debug_assert_eq!(pixels.len(), n * IMAGE_PIXELS);
    let f = features(predictor, &pixels, n)?;
    let mut pca = Pca2::fit(&f.values, n, f.dims).map_err(|e| Error::Internal(format!("projection: {e}")))?;
    if let Some(p) = previous {
        pca.align_to(p);
    }
    let points = pca.project(&f.values);
    let capture_ms = start.elapsed().as_secs_f64() * 1000.0;
    let start = Instant::now();
    let score = silhouette(&f.values, n, f.dims, &digits.labels()).unwrap_or(0.0);
    let silhouette_ms = start.elapsed().as_secs_f64() * 1000.0;
    let frame = Frame { epoch, points, silhouette: score, explained: pca.explained, pca, capture_ms, silhouette_ms };
    Ok((frame, f))
}
