//! The words of the stage table: what a stage computes with its sizes worked out ([`StageKind`]), what it outputs
//! ([`Output`]), the stage itself and its parameter tensors. `stages.rs` works them out from a configuration.

use crate::engine::model::config::{Activation, Pooling};

/// What kind of computation a stage is, with its sizes worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Conv { in_channels: usize, out_channels: usize, kernel: usize, padding: usize },
    Activation(Activation),
    Pool(Pooling),
    Flatten,
    Dropout { pct: u8 },
    Linear { inputs: usize, outputs: usize },
}

impl StageKind {
    /// The layer's class name as in the classic table ("Conv2d", "Sigmoid", "AvgPool2d", …).
    pub(crate) fn layer_name(&self) -> &'static str {
        match self {
            StageKind::Conv { .. } => "Conv2d",
            StageKind::Activation(a) => a.label(),
            StageKind::Pool(p) => p.label(),
            StageKind::Flatten => "Flatten",
            StageKind::Dropout { .. } => "Dropout",
            StageKind::Linear { .. } => "Linear",
        }
    }

    /// The shapes of the weight and the bias, for the kinds that have them.
    pub(crate) fn param_shapes(&self) -> Option<(Vec<usize>, Vec<usize>)> {
        match *self {
            StageKind::Conv { in_channels, out_channels, kernel, .. } => {
                Some((vec![out_channels, in_channels, kernel, kernel], vec![out_channels]))
            }
            StageKind::Linear { inputs, outputs } => Some((vec![outputs, inputs], vec![outputs])),
            _ => None,
        }
    }

    /// Number of trainable values (weight and bias).
    pub(crate) fn num_params(&self) -> usize {
        self.param_shapes().map_or(0, |(w, b)| w.iter().product::<usize>() + b.iter().product::<usize>())
    }
}

/// One stage's output for one input (the batch dimension is not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Maps { channels: usize, height: usize, width: usize },
    Vector(usize),
}

impl Output {
    /// The tensor shape for a batch of `n`: `[n, C, H, W]` or `[n, len]`.
    pub fn dims(&self, n: usize) -> Vec<usize> {
        match *self {
            Output::Maps { channels, height, width } => vec![n, channels, height, width],
            Output::Vector(len) => vec![n, len],
        }
    }

    /// Values per input.
    pub fn len(&self) -> usize {
        match *self {
            Output::Maps { channels, height, width } => channels * height * width,
            Output::Vector(len) => len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One stage of the network: a stable key (c1, c1.act, s2, …), what it computes, and what it outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub key: &'static str,
    pub kind: StageKind,
    /// What the stage reads (the previous stage's output, or [`INPUT`](super::stages::INPUT)).
    pub input: Output,
    pub output: Output,
}

impl Stage {
    /// True for the stages with a weight and a bias (conv and linear layers).
    pub(crate) fn has_params(&self) -> bool {
        self.kind.param_shapes().is_some()
    }
}

/// Whether a parameter is a layer's weight or its bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamRole {
    Weight,
    Bias,
}

impl ParamRole {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            ParamRole::Weight => "weight",
            ParamRole::Bias => "bias",
        }
    }
}

/// One parameter tensor: the layer it belongs to, weight or bias, its shape. Its name (`c3.weight`) is the
/// safetensors key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    pub layer: &'static str,
    pub role: ParamRole,
    pub shape: Vec<usize>,
}

impl ParamSpec {
    pub fn name(&self) -> String {
        format!("{}.{}", self.layer, self.role.suffix())
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
