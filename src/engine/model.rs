//! LeNet-5 as the classic lesson draws it, on candle: Conv–act–pool twice, flatten, three linear layers. One
//! definition serves training (parameters are candle Vars), prediction (plain tensors, no gradient tracking) and the
//! inspector (a trace of every stage).

use crate::engine::config::{Activation, ModelConfig, Pooling};
use crate::engine::ops;
use crate::engine::weights::{ModelWeights, Param, PARAM_SHAPES};
use candle_core::{Device, Result, Tensor};

/// What kind of computation a stage is.
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
    pub fn layer_name(&self) -> &'static str {
        match self {
            StageKind::Conv { .. } => "Conv2d",
            StageKind::Activation(a) => a.label(),
            StageKind::Pool(p) => p.label(),
            StageKind::Flatten => "Flatten",
            StageKind::Linear { .. } => "Linear",
        }
    }
}

/// One row of the architecture: a stable key (c1, c1.act, s2, …) and what it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub key: &'static str,
    pub kind: StageKind,
}

/// The twelve stages of LeNet-5 for a configuration, in order.
pub fn stages(cfg: ModelConfig) -> [Stage; 12] {
    use StageKind::*;
    let act = Activation(cfg.activation);
    let pool = Pool(cfg.pooling);
    [
        Stage { key: "c1", kind: Conv { in_channels: 1, out_channels: 6, kernel: 5, padding: 2 } },
        Stage { key: "c1.act", kind: act },
        Stage { key: "s2", kind: pool },
        Stage { key: "c3", kind: Conv { in_channels: 6, out_channels: 16, kernel: 5, padding: 0 } },
        Stage { key: "c3.act", kind: act },
        Stage { key: "s4", kind: pool },
        Stage { key: "flatten", kind: Flatten },
        Stage { key: "f5", kind: Linear { inputs: 400, outputs: 120 } },
        Stage { key: "f5.act", kind: act },
        Stage { key: "f6", kind: Linear { inputs: 120, outputs: 84 } },
        Stage { key: "f6.act", kind: act },
        Stage { key: "out", kind: Linear { inputs: 84, outputs: 10 } },
    ]
}

/// LeNet-5 over candle tensors. Build it from Vars' tensors to train, from plain tensors to predict.
#[derive(Debug, Clone)]
pub struct LeNet {
    pub config: ModelConfig,
    /// In PARAM_SHAPES order: c1.w c1.b c3.w c3.b f5.w f5.b f6.w f6.b out.w out.b.
    params: Vec<Tensor>,
}

impl LeNet {
    pub fn new(config: ModelConfig, params: Vec<Tensor>) -> Result<Self> {
        // Thread set-up must precede candle's first computation; cheap after the first call.
        ops::init_compute();
        if params.len() != PARAM_SHAPES.len() {
            candle_core::bail!("LeNet needs {} parameter tensors, got {}", PARAM_SHAPES.len(), params.len());
        }
        for (t, (name, shape)) in params.iter().zip(PARAM_SHAPES) {
            if t.dims() != shape {
                candle_core::bail!("{name} has shape {:?}, expected {:?}", t.dims(), shape);
            }
        }
        Ok(LeNet { config, params })
    }

    /// Plain (untracked) tensors from plain weights.
    pub fn from_weights(w: &ModelWeights) -> Result<Self> {
        let params = w
            .params
            .iter()
            .map(|p| Tensor::from_slice(&p.data, p.shape.as_slice(), &Device::Cpu))
            .collect::<Result<Vec<_>>>()?;
        LeNet::new(w.config, params)
    }

    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// Copies the current values out as plain data.
    pub fn to_weights(&self, dataset: &str, class_names: &[String]) -> Result<ModelWeights> {
        let params = self
            .params
            .iter()
            .zip(PARAM_SHAPES)
            .map(|(t, (name, shape))| {
                Ok(Param { name: name.to_string(), shape: shape.to_vec(), data: t.flatten_all()?.to_vec1::<f32>()? })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelWeights { config: self.config, dataset: dataset.into(), class_names: class_names.to_vec(), params })
    }

    fn apply(&self, stage_index: usize, kind: StageKind, x: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        match kind {
            StageKind::Conv { padding, .. } => {
                let (w, b) = if stage_index == 0 { (&p[0], &p[1]) } else { (&p[2], &p[3]) };
                // The input image needs no gradient; later layers' inputs do.
                ops::conv2d(x, w, b, padding, stage_index != 0)
            }
            StageKind::Activation(Activation::Sigmoid) => candle_nn::ops::sigmoid(x),
            StageKind::Activation(Activation::Relu) => x.relu(),
            StageKind::Pool(pool) => ops::pool2x2(x, pool),
            StageKind::Flatten => x.flatten_from(1),
            StageKind::Linear { .. } => {
                let (w, b) = match stage_index {
                    7 => (&p[4], &p[5]),
                    9 => (&p[6], &p[7]),
                    _ => (&p[8], &p[9]),
                };
                x.matmul(&w.t()?)?.broadcast_add(b)
            }
        }
    }

    /// Logits [N, 10] for images [N, 1, 28, 28]. The conv–act–pool blocks run fused; the values are those of
    /// the stage-by-stage `trace`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        let (act, pool) = (self.config.activation, self.config.pooling);
        let h = ops::conv_act_pool(x, &p[0], &p[1], 2, act, pool, false)?;
        let mut h = ops::conv_act_pool(&h, &p[2], &p[3], 0, act, pool, true)?;
        for (i, s) in stages(self.config).iter().enumerate().skip(6) {
            h = self.apply(i, s.kind, &h)?;
        }
        Ok(h)
    }

    /// Every stage's output for the input, in order.
    pub fn trace(&self, x: &Tensor) -> Result<Vec<(Stage, Tensor)>> {
        let mut h = x.clone();
        let mut out = Vec::with_capacity(12);
        for (i, s) in stages(self.config).iter().enumerate() {
            h = self.apply(i, s.kind, &h)?;
            out.push((*s, h.clone()));
        }
        Ok(out)
    }
}

/// Images as a [N, 1, 28, 28] tensor.
pub fn images_tensor(pixels: &[f32], n: usize) -> Result<Tensor> {
    Tensor::from_slice(pixels, (n, 1, 28, 28), &Device::Cpu)
}

/// Mean cross-entropy loss and the number of correct predictions.
pub fn loss_and_correct(logits: &Tensor, labels: &Tensor) -> Result<(Tensor, usize)> {
    let loss = candle_nn::loss::cross_entropy(logits, labels)?;
    // Counted on the host: one copy of the logits instead of four small tensor ops. Ties go to the first maximum,
    // as with `argmax`.
    let (n, classes) = logits.dims2()?;
    let values = logits.flatten_all()?.to_vec1::<f32>()?;
    let labels = labels.to_vec1::<u32>()?;
    let correct = (0..n)
        .filter(|&i| {
            let row = &values[i * classes..(i + 1) * classes];
            let best = row.iter().enumerate().fold(0, |b, (j, &v)| if v > row[b] { j } else { b });
            best as u32 == labels[i]
        })
        .count();
    Ok((loss, correct))
}
