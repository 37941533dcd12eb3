//! How one value of a stage is computed, with the real numbers (CNN Explainer's element view, for every stage kind
//! and architecture): the window of the stage's input it reads, the kernel or weight row, the bias, and what the
//! following activation and pooling make of it. The numbers are recomputed here from the stage's input and the
//! weights, not copied from the trace, so a test can check that they add up to what the network computed.

use super::receptive::{receptive_field, Field};
use crate::engine::model::config::{Activation, Pooling};
use crate::engine::model::predict::StageActivation;
use crate::engine::model::stages::{Output, Stage, StageKind};
use crate::engine::model::weights::ModelWeights;
use crate::{Error, Result};

/// How many of a dense unit's incoming weights are named as its strongest.
pub const STRONGEST: usize = 16;

/// What one value is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// `value = Σ patch · weights + bias`, over every input channel's k×k window.
    Conv {
        in_channels: usize,
        kernel: usize,
        /// Row and column of the window's top-left in the stage's input; negative where it reaches into the padding.
        origin: (isize, isize),
        /// `in_channels × kernel × kernel` input values under the window (0 in the padding).
        patch: Vec<f32>,
        /// The filter, in the same order.
        weights: Vec<f32>,
        bias: f32,
    },
    /// `value = Σ inputs · weights + bias` over the whole previous layer.
    Linear {
        inputs: Vec<f32>,
        /// The unit's weight row.
        weights: Vec<f32>,
        bias: f32,
        /// Indices of the [`STRONGEST`] weights by magnitude, strongest first.
        strongest: Vec<usize>,
    },
    /// `value = act(input)` at the same place.
    Activation { activation: Activation, input: f32 },
    /// `value = mean` or `max` of a 2×2 window (row-major: top-left, top-right, bottom-left, bottom-right).
    Pool { pooling: Pooling, window: [f32; 4] },
    /// Flatten or dropout at prediction: the value is the input's at `from`.
    PassThrough { from: usize, input: f32 },
}

impl Detail {
    /// The element-wise products of a conv window or a dense row (empty for the other kinds).
    pub fn products(&self) -> Vec<f32> {
        match self {
            Detail::Conv { patch, weights, .. } => patch.iter().zip(weights).map(|(a, b)| a * b).collect(),
            Detail::Linear { inputs, weights, .. } => inputs.iter().zip(weights).map(|(a, b)| a * b).collect(),
            _ => Vec::new(),
        }
    }
}

/// One value of a stage for one input, and how it is computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Computation {
    pub stage: Stage,
    /// Index of the value in the stage's output (row-major, channel first).
    pub cell: usize,
    /// The value recomputed from `detail`.
    pub value: f32,
    /// The value the network computed (the trace).
    pub network_value: f32,
    /// The input pixels this value sees.
    pub field: Field,
    pub detail: Detail,
    /// What the following element-wise stages make of it: (stage key, value) for its activation, then the pooled
    /// value of the 2×2 block that holds it.
    pub then: Vec<(&'static str, f32)>,
}

/// `(channel, row, column)` of a cell of maps, or None for a vector.
pub fn map_position(output: Output, cell: usize) -> Option<(usize, usize, usize)> {
    match output {
        Output::Maps { height, width, .. } => Some((cell / (height * width), cell / width % height, cell % width)),
        Output::Vector(_) => None,
    }
}

/// How value `cell` of stage `index` is computed for the input `image` (28×28, 0..1) whose stage outputs are
/// `trace` (`Predictor::trace`), under `weights`. An index or cell out of range is an error.
pub fn explain_element(
    weights: &ModelWeights,
    stages: &[Stage],
    image: &[f32],
    trace: &[StageActivation],
    index: usize,
    cell: usize,
) -> Result<Computation> {
    let stage = *stages.get(index).ok_or_else(|| Error::Internal(format!("no stage {index}")))?;
    if cell >= stage.output.len() || trace.len() != stages.len() {
        return Err(Error::Internal(format!("{}: no value {cell} (of {})", stage.key, stage.output.len())));
    }
    let input: &[f32] = if index == 0 { image } else { &trace[index - 1].values };
    let detail = detail(weights, stage, input, cell)?;
    let value = recompute(&detail);
    let (y, x) = map_position(stage.output, cell).map_or((0, 0), |(_, y, x)| (y, x));
    let field = receptive_field(stages, index, y, x);
    let then = following(stages, trace, index, cell);
    Ok(Computation { stage, cell, value, network_value: trace[index].values[cell], field, detail, then })
}

fn detail(weights: &ModelWeights, stage: Stage, input: &[f32], cell: usize) -> Result<Detail> {
    let layer =
        || weights.layer(stage.key).ok_or_else(|| Error::bad_weights(format!("no weights for layer {}", stage.key)));
    Ok(match (stage.kind, stage.input) {
        (StageKind::Conv { in_channels, kernel, padding, .. }, Output::Maps { height, width, .. }) => {
            let (c, y, x) = map_position(stage.output, cell).unwrap_or_default();
            let (w, b) = layer()?;
            let origin = (y as isize - padding as isize, x as isize - padding as isize);
            let mut patch = Vec::with_capacity(in_channels * kernel * kernel);
            for ci in 0..in_channels {
                for ky in 0..kernel as isize {
                    for kx in 0..kernel as isize {
                        let (iy, ix) = (origin.0 + ky, origin.1 + kx);
                        let inside = (0..height as isize).contains(&iy) && (0..width as isize).contains(&ix);
                        patch.push(if inside { input[(ci * height + iy as usize) * width + ix as usize] } else { 0.0 });
                    }
                }
            }
            let n = in_channels * kernel * kernel;
            Detail::Conv {
                in_channels,
                kernel,
                origin,
                patch,
                weights: w.data[c * n..(c + 1) * n].to_vec(),
                bias: b.data[c],
            }
        }
        (StageKind::Linear { inputs, .. }, _) => {
            let (w, b) = layer()?;
            let row = w.data[cell * inputs..(cell + 1) * inputs].to_vec();
            let mut strongest: Vec<usize> = (0..inputs).collect();
            strongest.sort_by(|&i, &j| row[j].abs().total_cmp(&row[i].abs()));
            strongest.truncate(STRONGEST);
            Detail::Linear { inputs: input.to_vec(), weights: row, bias: b.data[cell], strongest }
        }
        (StageKind::Activation(activation), _) => Detail::Activation { activation, input: input[cell] },
        (StageKind::Pool(pooling), Output::Maps { height, width, .. }) => {
            let (c, y, x) = map_position(stage.output, cell).unwrap_or_default();
            let at = |dy: usize, dx: usize| input[(c * height + 2 * y + dy) * width + 2 * x + dx];
            Detail::Pool { pooling, window: [at(0, 0), at(0, 1), at(1, 0), at(1, 1)] }
        }
        (StageKind::Flatten | StageKind::Dropout { .. }, _) => Detail::PassThrough { from: cell, input: input[cell] },
        (kind, input) => return Err(Error::Internal(format!("{}: {kind:?} after {input:?}", stage.key))),
    })
}

/// The value `detail` adds up to (sums in f64, as a careful reader with a calculator would).
pub fn recompute(detail: &Detail) -> f32 {
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(&p, &q)| p as f64 * q as f64).sum::<f64>();
    match detail {
        Detail::Conv { patch, weights, bias, .. } => (dot(patch, weights) + *bias as f64) as f32,
        Detail::Linear { inputs, weights, bias, .. } => (dot(inputs, weights) + *bias as f64) as f32,
        Detail::Activation { activation: Activation::Sigmoid, input } => 1.0 / (1.0 + (-input).exp()),
        Detail::Activation { activation: Activation::Relu, input } => input.max(0.0),
        Detail::Pool { pooling: Pooling::Avg, window } => window.iter().sum::<f32>() / 4.0,
        Detail::Pool { pooling: Pooling::Max, window } => window.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        Detail::PassThrough { input, .. } => *input,
    }
}

/// The activation at the same cell and the pooled value of the block holding it, while the stages after `index`
/// are element-wise or pooling.
fn following(stages: &[Stage], trace: &[StageActivation], index: usize, cell: usize) -> Vec<(&'static str, f32)> {
    let mut out = Vec::new();
    let mut cell = cell;
    for (stage, act) in stages.iter().zip(trace).skip(index + 1) {
        match (stage.kind, stage.input, stage.output) {
            (StageKind::Activation(_), ..) => {}
            (StageKind::Pool(_), Output::Maps { height, width, .. }, Output::Maps { height: h, width: w, .. }) => {
                let (c, y, x) = (cell / (height * width), cell / width % height, cell % width);
                if y / 2 >= h || x / 2 >= w {
                    break; // the odd last row or column is not pooled
                }
                cell = (c * h + y / 2) * w + x / 2;
            }
            _ => break,
        }
        out.push((stage.key, act.values[cell]));
    }
    out
}
