//! The network described once: its stages in order (key, what each computes, its output size) and the parameters
//! of the stages that have weights (names, shapes), worked out from the configuration's
//! [`Architecture`](super::architecture::Architecture). The model, the weight files, the inspector, the trainer and
//! the diagnostics all read this table, so a channel count, a kernel size or a new block is a change of the
//! description only; input sizes of later layers, parameter shapes and the flatten size follow. It is also the one
//! place that says why a description cannot be built ([`try_stages`]).
//!
//! Stage keys follow LeCun's numbering, one number per conv, pooling and dense layer: LeNet-5 is c1 c1.act s2 c3
//! c3.act s4 flatten f5 f5.act f6 f6.act out; dropout before a dense layer is `<layer>.drop`. Parameter names are
//! `<layer>.weight` and `<layer>.bias`; they are the safetensors keys of the weight files.

use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::model::architecture::ArchError;
use crate::engine::model::config::ModelConfig;
use std::sync::Mutex;

pub use crate::engine::model::stage_types::{Output, ParamRole, ParamSpec, Stage, StageKind};

/// One row of the architecture as written down: what a stage is, before sizes are worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// Stride-1 square convolution with bias and symmetric zero padding.
    Conv { out_channels: usize, kernel: usize, padding: usize },
    /// The configured activation (sigmoid or ReLU).
    Act,
    /// The configured 2×2, stride-2 pooling (average or max); an odd side loses its last row or column.
    Pool,
    /// Feature maps to one vector.
    Flatten,
    /// Dropout of the stage's input while training (hundredths); the identity otherwise.
    Dropout { pct: u8 },
    /// Fully connected layer with bias.
    Linear { outputs: usize },
}

/// The rows of the network a configuration describes, with their keys (see the module docs).
pub(crate) fn rows(cfg: ModelConfig) -> Vec<(&'static str, Spec)> {
    let mut rows = Vec::new();
    let mut n = 1;
    for b in cfg.arch.blocks() {
        let c = key(format!("c{n}"));
        rows.push((c, Spec::Conv { out_channels: b.channels, kernel: b.kernel, padding: b.padding }));
        rows.push((key(format!("{c}.act")), Spec::Act));
        n += 1;
        if b.pool {
            rows.push((key(format!("s{n}")), Spec::Pool));
            n += 1;
        }
    }
    rows.push(("flatten", Spec::Flatten));
    for d in cfg.arch.hidden() {
        let f = key(format!("f{n}"));
        if d.dropout_pct > 0 {
            rows.push((key(format!("{f}.drop")), Spec::Dropout { pct: d.dropout_pct }));
        }
        rows.push((f, Spec::Linear { outputs: d.width }));
        rows.push((key(format!("{f}.act")), Spec::Act));
        n += 1;
    }
    rows.push(("out", Spec::Linear { outputs: cfg.classes }));
    rows
}

/// Stage keys as `&'static str`, so stages stay `Copy` and keys compare cheaply. The set is small and bounded
/// (c/s/f, a number up to 10, three suffixes), so each distinct key is leaked once.
fn key(name: String) -> &'static str {
    static KEYS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = keys.iter().find(|k| **k == name) {
        return k;
    }
    let k: &'static str = Box::leak(name.into_boxed_str());
    keys.push(k);
    k
}

/// The input of the first stage: one grey channel of IMAGE_SIDE × IMAGE_SIDE.
pub(crate) const INPUT: Output = Output::Maps { channels: 1, height: IMAGE_SIDE, width: IMAGE_SIDE };

/// The output of `spec` for `input`, and its kind; a description that does not fit (a kernel larger than its
/// padded input, a map pooled below 1×1) is explained with the arithmetic that fails.
fn work_out(key: &'static str, spec: Spec, input: Output, cfg: ModelConfig) -> Result<(StageKind, Output), ArchError> {
    match (spec, input) {
        (Spec::Conv { out_channels, kernel, padding }, Output::Maps { channels, height, width }) => {
            let side = height.min(width);
            if side + 2 * padding < kernel {
                return Err(ArchError::at(
                    key,
                    format!(
                        "a {kernel}×{kernel} kernel does not fit a {height}×{width} map with padding {padding}: \
                         ({side} − {kernel} + 2·{padding})/1 + 1 < 1"
                    ),
                ));
            }
            let out = |side: usize| side + 2 * padding - kernel + 1;
            Ok((
                StageKind::Conv { in_channels: channels, out_channels, kernel, padding },
                Output::Maps { channels: out_channels, height: out(height), width: out(width) },
            ))
        }
        (Spec::Pool, Output::Maps { channels, height, width }) => {
            if height < 2 || width < 2 {
                return Err(ArchError::at(
                    key,
                    format!("2×2 pooling cannot shrink a {height}×{width} map: ({height} − 2)/2 + 1 < 1"),
                ));
            }
            Ok((StageKind::Pool(cfg.pooling), Output::Maps { channels, height: height / 2, width: width / 2 }))
        }
        (Spec::Act, o) => Ok((StageKind::Activation(cfg.activation), o)),
        (Spec::Flatten, o) => Ok((StageKind::Flatten, Output::Vector(o.len()))),
        (Spec::Dropout { pct }, o) => Ok((StageKind::Dropout { pct }, o)),
        (Spec::Linear { outputs }, Output::Vector(inputs)) => {
            Ok((StageKind::Linear { inputs, outputs }, Output::Vector(outputs)))
        }
        (spec, input) => Err(ArchError::at(key, format!("{spec:?} cannot follow an output of {input:?}"))),
    }
}

/// The largest parameter count a description may have (a weights file stays far below the reader's limit).
pub const MAX_PARAMS: usize = 4_000_000;

/// The stages for a configuration, in order, with every size worked out, or why they cannot be.
pub fn try_stages(cfg: ModelConfig) -> Result<Vec<Stage>, ArchError> {
    match stages_until_error(cfg) {
        (stages, None) => Ok(stages),
        (_, Some(e)) => Err(e),
    }
}

/// The stages worked out before the first one that does not fit, and why it does not (`None`: all of them fit).
/// The Architecture editor shows the stages that work, then marks the offending one with the reason. A network
/// too big to train has all its stages, and the error names its biggest layer.
pub fn stages_until_error(cfg: ModelConfig) -> (Vec<Stage>, Option<ArchError>) {
    if !(2..=crate::engine::data::classes::MAX_CLASSES).contains(&cfg.classes) {
        let e = ArchError::at("out", format!("{} classes: between 2 and 62 are supported", cfg.classes));
        return (Vec::new(), Some(e));
    }
    let mut input = INPUT;
    let mut stages = Vec::new();
    for (key, spec) in rows(cfg) {
        match work_out(key, spec, input, cfg) {
            Ok((kind, output)) => {
                stages.push(Stage { key, kind, input, output });
                input = output;
            }
            Err(e) => return (stages, Some(e)),
        }
    }
    let total: usize = stages.iter().map(|s| s.kind.num_params()).sum();
    if total > MAX_PARAMS {
        let (key, biggest) =
            stages.iter().map(|s| (s.key, s.kind.num_params())).max_by_key(|p| p.1).unwrap_or(("out", 0));
        let e = ArchError::at(
            key,
            format!("{total} parameters is more than this playground trains ({MAX_PARAMS}); {key} alone has {biggest}"),
        );
        return (stages, Some(e));
    }
    (stages, None)
}

/// The stages of a configuration that has been checked (every configuration from the CLI, the editor, a weights
/// file or a run record goes through [`try_stages`] first).
pub fn stages(cfg: ModelConfig) -> Vec<Stage> {
    try_stages(cfg).unwrap_or_else(|e| panic!("architecture {} was not checked: {e}", cfg.arch))
}

/// The layers with weights, in order: c1, c3, f5, f6, out for LeNet-5.
pub(crate) fn weighted_layers(cfg: ModelConfig) -> Vec<&'static str> {
    stages(cfg).into_iter().filter(Stage::has_params).map(|s| s.key).collect()
}

/// The activation stages, in order: c1.act, c3.act, f5.act, f6.act for LeNet-5.
pub(crate) fn activation_stages(cfg: ModelConfig) -> Vec<&'static str> {
    rows(cfg).into_iter().filter(|(_, spec)| *spec == Spec::Act).map(|(key, _)| key).collect()
}

/// Every parameter tensor in order (c1.weight, c1.bias, c3.weight, …, out.bias): the order of
/// `ModelWeights::params`, of the model's tensors and of the weight files. Shapes do not depend on the
/// activation or pooling chosen.
pub fn params(cfg: ModelConfig) -> Vec<ParamSpec> {
    stages(cfg)
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
pub(crate) fn param_index(cfg: ModelConfig, layer: &str) -> Option<usize> {
    params(cfg).iter().position(|p| p.layer == layer && p.role == ParamRole::Weight)
}

/// Number of classes the last stage scores.
pub(crate) fn num_outputs(cfg: ModelConfig) -> usize {
    cfg.classes
}

/// Multiply-adds of one forward pass for one image (convolutions and dense layers; the rest is negligible).
pub fn macs_per_image(stages: &[Stage]) -> usize {
    stages
        .iter()
        .map(|s| match (s.kind, s.output) {
            (StageKind::Conv { in_channels, kernel, .. }, o) => o.len() * in_channels * kernel * kernel,
            (StageKind::Linear { inputs, outputs }, _) => inputs * outputs,
            _ => 0,
        })
        .sum()
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
    use crate::engine::model::config::{Activation, Pooling};

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
        let relu_max =
            stages(ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..Default::default() });
        assert_eq!(relu_max[1].kind, StageKind::Activation(Activation::Relu));
        assert_eq!(relu_max[2].kind, StageKind::Pool(Pooling::Max));
    }

    #[test]
    fn parameters_are_derived_from_the_stages() {
        let table: Vec<(String, Vec<usize>)> =
            params(ModelConfig::default()).iter().map(|p| (p.name(), p.shape.clone())).collect();
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
        assert_eq!(
            params(ModelConfig::default()).iter().map(ParamSpec::len).sum::<usize>(),
            61_706,
            "trainable values"
        );
        assert_eq!(stages(ModelConfig::default()).iter().map(|s| s.kind.num_params()).sum::<usize>(), 61_706);
        assert_eq!(weighted_layers(ModelConfig::default()), ["c1", "c3", "f5", "f6", "out"]);
        assert_eq!(activation_stages(ModelConfig::default()), ["c1.act", "c3.act", "f5.act", "f6.act"]);
        assert_eq!(param_index(ModelConfig::default(), "f5"), Some(4));
        assert_eq!(param_index(ModelConfig::default(), "s2"), None);
        assert_eq!(num_outputs(ModelConfig::default()), crate::engine::data::set::NUM_CLASSES);
    }

    #[test]
    fn other_architectures_get_keys_sizes_and_explanations() {
        let cfg = |spec: &str| ModelConfig { arch: spec.parse().unwrap(), ..ModelConfig::default() };
        let keys = |spec: &str| stages(cfg(spec)).iter().map(|s| s.key).collect::<Vec<_>>();
        assert_eq!(keys("mlp"), ["flatten", "f1", "f1.act", "f2", "f2.act", "out"]);
        assert_eq!(
            keys("c4k3psame-pool,c8k3,c8k3-pool,f32-drop0.5"),
            ["c1", "c1.act", "s2", "c3", "c3.act", "c4", "c4.act", "s5", "flatten", "f6.drop", "f6", "f6.act", "out"]
        );
        // Odd sides are floored by pooling, as in PyTorch: 28 → k4 → 25 → pool → 12.
        let odd = stages(cfg("c6k4-pool"));
        assert_eq!(odd[2].output, Output::Maps { channels: 6, height: 12, width: 12 });
        assert_eq!(
            params(cfg("mlp")).iter().map(ParamSpec::len).sum::<usize>(),
            784 * 300 + 300 + 300 * 100 + 100 + 1010
        );
        assert_eq!(macs_per_image(&stages(cfg("linear"))), 7840);
        let lenet = stages(ModelConfig::default());
        assert_eq!(macs_per_image(&lenet), 6 * 784 * 25 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 840);
        // Impossible ones name the stage and the arithmetic; they never panic.
        let err = try_stages(cfg("c6k9-pool,c6k9-pool,c6k5")).unwrap_err();
        assert_eq!(err.stage, Some("c5"), "{err}");
        assert!(err.message.contains("does not fit a 1×1 map"), "{err}");
        let err = try_stages(cfg("c6k9-pool,c6k9-pool,c6k1-pool")).unwrap_err();
        assert_eq!(err.to_string(), "s6: 2×2 pooling cannot shrink a 1×1 map: (1 − 2)/2 + 1 < 1");
        let err = try_stages(ModelConfig { classes: 1, ..ModelConfig::default() }).unwrap_err();
        assert_eq!(err.stage, Some("out"));
        let err = try_stages(cfg("c64k1,f1024")).unwrap_err();
        assert_eq!(err.stage, Some("f2"), "{err}");
        assert!(try_stages(cfg("f1024,f1024,f1024")).is_ok());
    }
}
