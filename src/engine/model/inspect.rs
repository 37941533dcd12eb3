//! The stage table — each layer's output shape for a 1×1×28×28 input, for LeNet-5 or any architecture — computed
//! by really running an input through the model (the description in `stages` says what each stage is), with
//! parameter counts, the size arithmetic, and a line on what each stage computes. The CLI prints it; the app's
//! inspector shows it.

use crate::engine::model::config::Init;
use crate::engine::model::config::{Activation, ModelConfig, Pooling};
use crate::engine::model::lenet::{images_tensor, LeNet};
use crate::engine::model::stages::{self, Output, Stage, StageKind};
use crate::engine::model::weights::ModelWeights;
use crate::Result;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StageInfo {
    pub key: &'static str,
    pub kind: StageKind,
    pub out_shape: Vec<usize>,
    pub params: usize,
    /// Output-size arithmetic for conv and pool rows, e.g. "(28 + 2·2 − 5)/1 + 1 = 28".
    pub formula: Option<String>,
    pub computes: String,
}

impl StageInfo {
    pub(crate) fn layer_name(&self) -> &'static str {
        self.kind.layer_name()
    }
    /// The classic table's line: `Conv2d out shape: [1, 6, 28, 28]`.
    pub fn line(&self) -> String {
        format!("{} out shape: {:?}", self.layer_name(), self.out_shape)
    }
}

/// Runs a blank 1×1×28×28 image through the configured network and records each stage.
pub(crate) fn stage_table(cfg: ModelConfig) -> Result<Vec<StageInfo>> {
    stages::try_stages(cfg).map_err(|e| crate::Error::Config(format!("architecture {}: {e}", cfg.arch)))?;
    let weights = ModelWeights::init(cfg, Init::Xavier, 0, "MNIST", &vec![String::new(); stages::num_outputs(cfg)]);
    let model = LeNet::from_weights(&weights)?;
    let trace = model.trace(&images_tensor(&vec![0.0; stages::INPUT.len()], 1)?)?;
    let last = trace.len().saturating_sub(1);
    let mut rows = Vec::new();
    for (i, (stage, t)) in trace.into_iter().enumerate() {
        let (formula, computes) = describe(&stage, i == last);
        let out_shape = t.dims().to_vec();
        rows.push(StageInfo {
            key: stage.key,
            kind: stage.kind,
            out_shape,
            params: stage.kind.num_params(),
            formula,
            computes,
        });
    }
    Ok(rows)
}

/// A stage's size arithmetic (conv and pool stages, e.g. "(28 + 2·2 − 5)/1 + 1 = 28") and a line on what it
/// computes, from its description alone: the Architecture editor shows them for every edit without building a
/// model. `is_last`: the output layer.
pub(crate) fn describe(stage: &Stage, is_last: bool) -> (Option<String>, String) {
    let (in_side, out_side) = match (stage.input, stage.output) {
        (Output::Maps { height, .. }, Output::Maps { height: out, .. }) => (height, out),
        _ => (0, 0),
    };
    match stage.kind {
        StageKind::Conv { in_channels, out_channels, kernel, padding } => (
            Some(format!("({in_side} + 2·{padding} − {kernel})/1 + 1 = {out_side}")),
            format!(
                "{out_channels} filters of {in_channels}×{kernel}×{kernel}, each slid over the input (stride 1, padding {padding}); one feature map per filter, plus a bias"
            ),
        ),
        StageKind::Pool(p) => {
            // An odd side is floored (PyTorch's rule): the last row / column is not read. "floor", not ⌊ ⌋: the window's font
            // has no such glyph.
            let odd = in_side % 2 == 1;
            let formula = if odd {
                format!("floor(({in_side} − 2)/2) + 1 = {out_side}")
            } else {
                format!("({in_side} − 2)/2 + 1 = {out_side}")
            };
            let what = match p {
                Pooling::Avg => "mean",
                Pooling::Max => "maximum",
            };
            let dropped = if odd { " (the odd last row and column are dropped)" } else { "" };
            (Some(formula), format!("{what} of each 2×2 block (stride 2): halves width and height{dropped}"))
        }
        StageKind::Activation(a) => (
            None,
            match a {
                Activation::Sigmoid => "σ(x) = 1 / (1 + e^−x), element-wise: squashes to 0..1".to_string(),
                Activation::Relu => "max(0, x), element-wise: keeps positives, zeroes negatives".to_string(),
            },
        ),
        StageKind::Flatten => (
            None,
            match stage.input {
                Output::Maps { channels, height, width } => format!(
                    "reshapes {channels}×{height}×{width} feature maps into one vector of {}",
                    stage.output.len()
                ),
                Output::Vector(n) => format!("passes a vector of {n} through"),
            },
        ),
        StageKind::Dropout { pct } => (
            None,
            format!(
                "while training, zeroes each input with probability {} and scales the rest up to keep the mean; \
                 passes everything through when predicting",
                pct as f32 / 100.0
            ),
        ),
        StageKind::Linear { inputs, outputs } => (
            None,
            if is_last {
                format!("y = W·x + b with W {outputs}×{inputs}: one score (logit) per class")
            } else {
                format!("y = W·x + b with W {outputs}×{inputs}: every output sees every input")
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_table_is_exact() {
        let rows = stage_table(ModelConfig::default()).unwrap();
        let lines: Vec<String> = rows.iter().map(|r| r.line()).collect();
        assert_eq!(lines, crate::engine::model::stages::CLASSIC_TABLE);
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), 61_706);
        assert_eq!(rows[0].formula.as_deref(), Some("(28 + 2·2 − 5)/1 + 1 = 28"));
        assert_eq!(rows[3].formula.as_deref(), Some("(14 + 2·0 − 5)/1 + 1 = 10"));
        assert_eq!(rows[5].formula.as_deref(), Some("(10 − 2)/2 + 1 = 5"));
    }

    #[test]
    fn variant_names_follow_the_config() {
        let rows =
            stage_table(ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() })
                .unwrap();
        assert_eq!(rows[1].line(), "ReLU out shape: [1, 6, 28, 28]");
        assert_eq!(rows[2].line(), "MaxPool2d out shape: [1, 6, 14, 14]");
    }
}
