//! What a unit wants: the test images that excite one channel of a conv stage (or one dense unit) most and least.
//! A channel's response to an image is its largest value anywhere in the map, so the image is cropped to that
//! value's receptive field: the part of the digit the filter answered. A unit is named `stage:number` (`c3:4`,
//! `f5:17`); the ranking reads the named stage's own output (before its activation, which keeps the order).

use super::receptive::{receptive_field, Field};
use crate::engine::data::set::ImageSet;
use crate::engine::model::predict::Predictor;
use crate::engine::model::stages::{Output, Stage};
use crate::{Error, Result};

/// Images shown per end of a ranking.
pub const SHOWN: usize = 16;
/// Images per forward pass while ranking (bounds the memory of a wide stage).
const CHUNK: usize = 500;

/// One image's response of a unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Index of the image in the set ranked.
    pub image: usize,
    pub value: f32,
    /// Row and column of the largest value in the channel's map ((0, 0) for a dense unit).
    pub at: (usize, usize),
    /// The input pixels behind that value.
    pub field: Field,
}

/// One unit's strongest and weakest responses, strongest (resp. weakest) first; ties go to the earlier image.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRanking {
    pub unit: usize,
    pub top: Vec<Response>,
    pub bottom: Vec<Response>,
}

/// The units of a stage: its channels (maps) or its values (vector).
pub fn unit_count(stage: &Stage) -> usize {
    match stage.output {
        Output::Maps { channels, .. } => channels,
        Output::Vector(n) => n,
    }
}

/// Parses `c3:4` against the network's stages: the stage index and the unit, or an error that lists what exists.
pub fn parse_unit(stages: &[Stage], spec: &str) -> Result<(usize, usize)> {
    let known = || stages.iter().map(|s| format!("{} (0–{})", s.key, unit_count(s) - 1)).collect::<Vec<_>>().join(", ");
    let (key, unit) = spec.split_once(':').ok_or_else(|| {
        Error::Config(format!("unit '{spec}': write stage:number, e.g. c3:4; this network has {}", known()))
    })?;
    let index = stages
        .iter()
        .position(|s| s.key == key)
        .ok_or_else(|| Error::Config(format!("unit '{spec}': no stage '{key}'; this network has {}", known())))?;
    let unit: usize = unit.parse().map_err(|_| Error::Config(format!("unit '{spec}': '{unit}' is not a number")))?;
    if unit >= unit_count(&stages[index]) {
        return Err(Error::Config(format!("unit '{spec}': {key} has units 0–{}", unit_count(&stages[index]) - 1)));
    }
    Ok((index, unit))
}

/// Every unit of stage `index` ranked over the images of `set` (at most `k` per end), computed in chunks.
pub fn rank_units(predictor: &Predictor, index: usize, set: &ImageSet, k: usize) -> Result<Vec<UnitRanking>> {
    let stages = predictor.model().stages();
    let stage = *stages.get(index).ok_or_else(|| Error::Internal(format!("no stage {index}")))?;
    let units = unit_count(&stage);
    let n = set.len();
    // Unit-major responses and, for maps, where each was largest.
    let mut values = vec![0f32; units * n];
    let mut places = vec![0u32; units * n];
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let (pixels, _) = set.batch(&(start..end).collect::<Vec<_>>());
        let out = predictor.stage_values(&pixels, end - start, index)?;
        let per_unit = stage.output.len() / units;
        for (i, image) in out.chunks_exact(stage.output.len()).enumerate() {
            for (u, map) in image.chunks_exact(per_unit).enumerate() {
                let (at, v) =
                    map.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
                values[u * n + start + i] = v;
                places[u * n + start + i] = at as u32;
            }
        }
    }
    let width = match stage.output {
        Output::Maps { width, .. } => width,
        Output::Vector(_) => 1,
    };
    let response = |u: usize, image: usize| {
        let place = places[u * n + image] as usize;
        let at = if matches!(stage.output, Output::Maps { .. }) { (place / width, place % width) } else { (0, 0) };
        Response { image, value: values[u * n + image], at, field: receptive_field(stages, index, at.0, at.1) }
    };
    Ok((0..units)
        .map(|u| {
            let v = &values[u * n..(u + 1) * n];
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
            let top = order.iter().take(k).map(|&i| response(u, i)).collect();
            order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
            let bottom = order.iter().take(k).map(|&i| response(u, i)).collect();
            UnitRanking { unit: u, top, bottom }
        })
        .collect())
}

/// The crop of image `i` of `set` that a response saw, row by row (0..1).
pub fn crop(set: &ImageSet, r: &Response) -> Vec<f32> {
    r.field.crop(&set.image(r.image))
}
