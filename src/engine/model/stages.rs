//! LeNet-5 described once: its stages in order (key, what each computes, its output size) and the parameters of
//! the stages that have weights (names, shapes). The model, the weight files, the inspector, the trainer and the
//! diagnostics all read this table, so a channel count, a kernel size or a new stage is a change in one place
//! ([`ARCHITECTURE`]); everything else (input sizes of later layers, parameter shapes, the flatten size) follows.
//!
//! Stage names are the same everywhere: c1 c1.act s2 c3 c3.act s4 flatten f5 f5.act f6 f6.act out. Parameter
//! names are `<layer>.weight` and `<layer>.bias`; they are the safetensors keys of the weight files.

use crate::engine::data::mnist::{IMAGE_SIDE, NUM_CLASSES};
use crate::engine::training::config::{Activation, ModelConfig, Pooling};

/// One row of the architecture as written down: what a stage is, before sizes are worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// Stride-1 square convolution with bias and symmetric zero padding.
    Conv { out_channels: usize, kernel: usize, padding: usize },
    /// The configured activation (sigmoid or ReLU).
    Act,
    /// The configured 2×2, stride-2 pooling (average or max).
    Pool,
    /// Feature maps to one vector.
    Flatten,
    /// Fully connected layer with bias.
    Linear { outputs: usize },
}

/// LeNet-5 as the classic lesson draws it. The one place to change the architecture.
pub(crate) const ARCHITECTURE: [(&str, Spec); 12] = [
    ("c1", Spec::Conv { out_channels: 6, kernel: 5, padding: 2 }),
    ("c1.act", Spec::Act),
    ("s2", Spec::Pool),
    ("c3", Spec::Conv { out_channels: 16, kernel: 5, padding: 0 }),
    ("c3.act", Spec::Act),
    ("s4", Spec::Pool),
    ("flatten", Spec::Flatten),
    ("f5", Spec::Linear { outputs: 120 }),
    ("f5.act", Spec::Act),
    ("f6", Spec::Linear { outputs: 84 }),
    ("f6.act", Spec::Act),
    ("out", Spec::Linear { outputs: NUM_CLASSES }),
];

/// The input of the first stage: one grey channel of IMAGE_SIDE × IMAGE_SIDE.
pub(crate) const INPUT: Output = Output::Maps { channels: 1, height: IMAGE_SIDE, width: IMAGE_SIDE };

/// What kind of computation a stage is, with its sizes worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Conv { in_channels: usize, out_channels: usize, kernel: usize, padding: usize },
    Activation(Activation),
    Pool(Pooling),
    Flatten,
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
    /// What the stage reads (the previous stage's output, or [`INPUT`]).
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

/// The output of `spec` for `input`, and its kind; a description that does not fit (a kernel larger than its
/// input, an odd side before pooling, a conv after flatten) is a programming error in [`ARCHITECTURE`].
fn work_out(spec: Spec, input: Output, cfg: ModelConfig) -> (StageKind, Output) {
    match (spec, input) {
        (Spec::Conv { out_channels, kernel, padding }, Output::Maps { channels, height, width }) => {
            assert!(height + 2 * padding >= kernel && width + 2 * padding >= kernel, "kernel larger than its input");
            let out = |side: usize| side + 2 * padding - kernel + 1;
            (
                StageKind::Conv { in_channels: channels, out_channels, kernel, padding },
                Output::Maps { channels: out_channels, height: out(height), width: out(width) },
            )
        }
        (Spec::Pool, Output::Maps { channels, height, width }) => {
            assert!(height % 2 == 0 && width % 2 == 0, "2×2 pooling needs even sides, got {height}×{width}");
            (StageKind::Pool(cfg.pooling), Output::Maps { channels, height: height / 2, width: width / 2 })
        }
        (Spec::Act, o) => (StageKind::Activation(cfg.activation), o),
        (Spec::Flatten, o) => (StageKind::Flatten, Output::Vector(o.len())),
        (Spec::Linear { outputs }, Output::Vector(inputs)) => {
            (StageKind::Linear { inputs, outputs }, Output::Vector(outputs))
        }
        (spec, input) => panic!("stage {spec:?} cannot follow an output of {input:?}"),
    }
}

/// The stages of LeNet-5 for a configuration, in order, with every size worked out from [`ARCHITECTURE`].
pub fn stages(cfg: ModelConfig) -> Vec<Stage> {
    let mut input = INPUT;
    ARCHITECTURE
        .iter()
        .map(|&(key, spec)| {
            let (kind, output) = work_out(spec, input, cfg);
            let stage = Stage { key, kind, input, output };
            input = output;
            stage
        })
        .collect()
}

/// The layers with weights, in order: c1, c3, f5, f6, out.
pub(crate) fn weighted_layers() -> Vec<&'static str> {
    stages(ModelConfig::default()).into_iter().filter(Stage::has_params).map(|s| s.key).collect()
}

/// The activation stages, in order: c1.act, c3.act, f5.act, f6.act.
pub(crate) fn activation_stages() -> Vec<&'static str> {
    ARCHITECTURE.iter().filter(|(_, spec)| *spec == Spec::Act).map(|(key, _)| *key).collect()
}

/// Every parameter tensor in order (c1.weight, c1.bias, c3.weight, …, out.bias): the order of
/// `ModelWeights::params`, of the model's tensors and of the weight files. Shapes do not depend on the
/// activation or pooling chosen.
pub fn params() -> Vec<ParamSpec> {
    stages(ModelConfig::default())
        .into_iter()
        .filter_map(|s| s.kind.param_shapes().map(|shapes| (s.key, shapes)))
        .flat_map(|(layer, (weight, bias))| {
            [
                ParamSpec { layer, role: ParamRole::Weight, shape: weight },
                ParamSpec { layer, role: ParamRole::Bias, shape: bias },
            ]
        })
        .collect()
}

/// Where the weight and the bias of `layer` stand in [`params`] (weight index; the bias follows it).
pub(crate) fn param_index(layer: &str) -> Option<usize> {
    params().iter().position(|p| p.layer == layer && p.role == ParamRole::Weight)
}

/// Number of classes the last stage scores.
pub(crate) fn num_outputs() -> usize {
    stages(ModelConfig::default()).last().map_or(0, |s| s.output.len())
}

/// The classic lesson's table for a 1×1×28×28 input (sigmoid, average pooling), for tests.
#[cfg(test)]
pub(crate) const CLASSIC_TABLE: [&str; 12] = [
    "Conv2d out shape: [1, 6, 28, 28]",
    "Sigmoid out shape: [1, 6, 28, 28]",
    "AvgPool2d out shape: [1, 6, 14, 14]",
    "Conv2d out shape: [1, 16, 10, 10]",
    "Sigmoid out shape: [1, 16, 10, 10]",
    "AvgPool2d out shape: [1, 16, 5, 5]",
    "Flatten out shape: [1, 400]",
    "Linear out shape: [1, 120]",
    "Sigmoid out shape: [1, 120]",
    "Linear out shape: [1, 84]",
    "Sigmoid out shape: [1, 84]",
    "Linear out shape: [1, 10]",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::checkpoint;
    use crate::engine::model::weights::ModelWeights;
    use crate::engine::training::config::Init;

    #[test]
    fn shapes_match_the_classic_table() {
        let lines: Vec<String> = stages(ModelConfig::default())
            .iter()
            .map(|s| format!("{} out shape: {:?}", s.kind.layer_name(), s.output.dims(1)))
            .collect();
        assert_eq!(lines, CLASSIC_TABLE);
        let keys: Vec<&str> = stages(ModelConfig::default()).iter().map(|s| s.key).collect();
        assert_eq!(
            keys,
            ["c1", "c1.act", "s2", "c3", "c3.act", "s4", "flatten", "f5", "f5.act", "f6", "f6.act", "out"]
        );
        let relu_max = stages(ModelConfig { activation: Activation::Relu, pooling: Pooling::Max });
        assert_eq!(relu_max[1].kind, StageKind::Activation(Activation::Relu));
        assert_eq!(relu_max[2].kind, StageKind::Pool(Pooling::Max));
    }

    #[test]
    fn parameters_are_derived_from_the_stages() {
        let table: Vec<(String, Vec<usize>)> = params().iter().map(|p| (p.name(), p.shape.clone())).collect();
        let expected: [(&str, &[usize]); 10] = [
            ("c1.weight", &[6, 1, 5, 5]),
            ("c1.bias", &[6]),
            ("c3.weight", &[16, 6, 5, 5]),
            ("c3.bias", &[16]),
            ("f5.weight", &[120, 400]),
            ("f5.bias", &[120]),
            ("f6.weight", &[84, 120]),
            ("f6.bias", &[84]),
            ("out.weight", &[10, 84]),
            ("out.bias", &[10]),
        ];
        assert_eq!(table.len(), expected.len());
        for ((name, shape), (want_name, want_shape)) in table.iter().zip(expected) {
            assert_eq!((name.as_str(), shape.as_slice()), (want_name, want_shape));
        }
        assert_eq!(params().iter().map(ParamSpec::len).sum::<usize>(), 61_706, "trainable values");
        assert_eq!(stages(ModelConfig::default()).iter().map(|s| s.kind.num_params()).sum::<usize>(), 61_706);
        assert_eq!(weighted_layers(), ["c1", "c3", "f5", "f6", "out"]);
        assert_eq!(activation_stages(), ["c1.act", "c3.act", "f5.act", "f6.act"]);
        assert_eq!(param_index("f5"), Some(4));
        assert_eq!(param_index("s2"), None);
        assert_eq!(num_outputs(), NUM_CLASSES);
    }

    #[test]
    fn a_weights_file_round_trips_by_name() {
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 7, "MNIST", &names);
        let back = checkpoint::from_bytes(&checkpoint::to_bytes(&w).unwrap()).unwrap();
        assert_eq!(back, w);
        // Every stage with weights is found by name, with the shapes its description gives.
        for stage in stages(ModelConfig::default()).iter().filter(|s| s.has_params()) {
            let (weight, bias) = stage.kind.param_shapes().unwrap();
            let (w_param, b_param) = back.layer(stage.key).unwrap();
            assert_eq!((&w_param.shape, &b_param.shape), (&weight, &bias), "{}", stage.key);
            assert_eq!(w_param.data, w.param(&format!("{}.weight", stage.key)).unwrap().data);
        }
        assert!(back.layer("s2").is_none());
    }
}
