//! The network's stages as the whole-step kernels' layers (`kernels::net`): a convolution takes its activation and
//! pooling along, a dense layer its activation, flattening is free, and dropout is a layer only while training. One
//! mapping serves the training step and the evaluation pass.

use crate::engine::model::config::{Activation, ModelConfig, Pooling};
use crate::engine::model::stages::{self, Output, Stage, StageKind};
use crate::kernels::net::{self, Layer, Net};
use crate::{Error, Result};
use candle_core::{CpuStorage, Storage, Tensor};

/// The kernels' net of the configured network, with each dropout layer's rate (`training`: dropout layers
/// included; otherwise dropout is the identity and has no layer).
pub fn net(cfg: ModelConfig, training: bool) -> Result<(Net, Vec<f32>)> {
    let stages = stages::try_stages(cfg).map_err(|e| Error::Config(format!("architecture {}: {e}", cfg.arch)))?;
    let (layers, rates) = layers(&stages, training)?;
    Ok((Net::new(stages::INPUT.len(), layers)?, rates))
}

/// Runs `f` on the values of `tensors` (contiguous f32 on the CPU, read in place under their storage's read lock).
pub fn with_slices<R>(tensors: &[Tensor], f: impl FnOnce(&[&[f32]]) -> Result<R>) -> Result<R> {
    let guards: Vec<_> = tensors.iter().map(|t| t.storage_and_layout()).collect();
    let slices = guards
        .iter()
        .map(|(storage, layout)| match (&**storage, layout.contiguous_offsets()) {
            (Storage::Cpu(CpuStorage::F32(v)), Some((a, b))) => Ok(&v[a..b]),
            _ => Err(Error::Internal("the kernels read parameters as contiguous f32 on the CPU".into())),
        })
        .collect::<Result<Vec<&[f32]>>>()?;
    f(&slices)
}

/// The kernels' layers for the stages, and each dropout layer's rate.
fn layers(stages: &[Stage], training: bool) -> Result<(Vec<Layer>, Vec<f32>)> {
    let (mut layers, mut rates) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < stages.len() {
        let s = stages[i];
        let act_at = |j: usize| match stages.get(j).map(|s| s.kind) {
            Some(StageKind::Activation(a)) => Some(act(a)),
            _ => None,
        };
        match s.kind {
            StageKind::Conv { out_channels, kernel, padding, .. } => {
                let Output::Maps { channels, height, width } = s.input else {
                    return Err(Error::Internal(format!("stage {} convolves a vector", s.key)));
                };
                let a = act_at(i + 1);
                let j = i + 1 + usize::from(a.is_some());
                let p = match stages.get(j).map(|s| s.kind) {
                    Some(StageKind::Pool(p)) => Some(pool(p)),
                    _ => None,
                };
                layers.push(Layer::Conv {
                    c: channels,
                    h: height,
                    w: width,
                    o: out_channels,
                    k: kernel,
                    padding,
                    act: a.unwrap_or(net::Activation::Identity),
                    pool: p,
                });
                i = j + usize::from(p.is_some());
            }
            StageKind::Linear { inputs, outputs } => {
                let a = act_at(i + 1);
                layers.push(Layer::Dense { inputs, outputs, act: a.unwrap_or(net::Activation::Identity) });
                i += 1 + usize::from(a.is_some());
            }
            StageKind::Activation(a) => {
                layers.push(Layer::Act { act: act(a), len: s.input.len() });
                i += 1;
            }
            StageKind::Pool(p) => {
                let Output::Maps { channels, height, width } = s.input else {
                    return Err(Error::Internal(format!("stage {} pools a vector", s.key)));
                };
                layers.push(Layer::Pool { pool: pool(p), c: channels, h: height, w: width });
                i += 1;
            }
            StageKind::Dropout { pct } => {
                if pct > 0 && training {
                    layers.push(Layer::Dropout { len: s.input.len() });
                    rates.push(pct as f32 / 100.0);
                }
                i += 1;
            }
            StageKind::Flatten => i += 1,
        }
    }
    Ok((layers, rates))
}

fn act(a: Activation) -> net::Activation {
    match a {
        Activation::Sigmoid => net::Activation::Sigmoid,
        Activation::Relu => net::Activation::Relu,
    }
}

fn pool(p: Pooling) -> net::Pooling {
    match p {
        Pooling::Avg => net::Pooling::Avg,
        Pooling::Max => net::Pooling::Max,
    }
}
