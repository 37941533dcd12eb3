//! The training step on the whole-step kernels (`kernels::net`): the network's stages as the kernels' layers, the
//! run's dropout masks, and the parameters read in place from the run's candle Vars (the optimiser then updates
//! them in place from the plain gradients). candle's autograd stays the reference the tests compare it with.

use crate::engine::data::set::ImageSet;
use crate::engine::model::config::{Activation, ModelConfig, Pooling};
use crate::engine::model::lenet::dropout_mask;
use crate::engine::model::stages::{self, Output, Stage, StageKind};
use crate::engine::rng::Rng;
use crate::kernels::net::{self, Layer, Net, StepLoss};
use crate::{Error, Result};
use candle_core::{CpuStorage, Storage, Var};
use std::ops::Range;

pub struct TrainStep {
    net: Net,
    /// Per dropout layer: its rate.
    rates: Vec<f32>,
}

impl TrainStep {
    /// The step of the configured network.
    pub fn new(cfg: ModelConfig) -> Result<Self> {
        let stages = stages::try_stages(cfg).map_err(|e| Error::Config(format!("architecture {}: {e}", cfg.arch)))?;
        let (layers, rates) = layers(&stages)?;
        let net = Net::new(stages::INPUT.len(), layers)?;
        Ok(TrainStep { net, rates })
    }

    /// The dropout masks of a batch of `n`, drawn from `rng` as `LeNet::forward_train` draws them (stage by stage,
    /// row-major), so a seed reproduces a run on either path.
    pub fn masks(&self, n: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
        self.net.dropout_lens().iter().zip(&self.rates).map(|(&len, &rate)| dropout_mask(n * len, rate, rng)).collect()
    }

    /// Forward, loss and backward of the images `indices` of `set` with `masks` from [`TrainStep::masks`]; each
    /// core gathers its share of the batch itself. `vars` are the model's parameters in `stages::params()` order,
    /// only read. The gradients are in [`TrainStep::grad_parts`] afterwards.
    pub fn run(&mut self, vars: &[Var], set: &ImageSet, indices: &[usize], masks: &[Vec<f32>]) -> Result<StepLoss> {
        let labels: Vec<u32> = indices.iter().map(|&i| set.labels[i] as u32).collect();
        let gather = |images: Range<usize>, dst: &mut [f32]| set.pixels_into(&indices[images], dst);
        self.run_with(vars, &gather, &labels, masks)
    }

    /// [`TrainStep::run`] on a batch given as pixels (`labels.len()` images).
    pub fn run_pixels(&mut self, vars: &[Var], pixels: &[f32], labels: &[u32], masks: &[Vec<f32>]) -> Result<StepLoss> {
        let len = stages::INPUT.len();
        if pixels.len() != labels.len() * len {
            return Err(Error::Internal(format!("training step: {} values for {} images", pixels.len(), labels.len())));
        }
        let copy =
            |images: Range<usize>, dst: &mut [f32]| dst.copy_from_slice(&pixels[images.start * len..images.end * len]);
        self.run_with(vars, &copy, labels, masks)
    }

    fn run_with(
        &mut self,
        vars: &[Var],
        input: &(dyn Fn(Range<usize>, &mut [f32]) + Sync),
        labels: &[u32],
        masks: &[Vec<f32>],
    ) -> Result<StepLoss> {
        let guards: Vec<_> = vars.iter().map(|v| v.as_tensor().storage_and_layout()).collect();
        let params = guards
            .iter()
            .map(|(storage, layout)| match (&**storage, layout.contiguous_offsets()) {
                (Storage::Cpu(CpuStorage::F32(v)), Some((a, b))) => Ok(&v[a..b]),
                _ => Err(Error::Internal("training step: parameters must be contiguous f32 on the CPU".into())),
            })
            .collect::<Result<Vec<&[f32]>>>()?;
        let masks: Vec<&[f32]> = masks.iter().map(Vec::as_slice).collect();
        Ok(self.net.step_with(&params, input, labels, &masks)?)
    }

    /// The last step's gradients in `stages::params()` order, each as the parts (one per core) whose sum it is.
    pub fn grad_parts(&self) -> Vec<Vec<&[f32]>> {
        self.net.grad_parts()
    }
}

/// The kernels' layers for the stages (a convolution takes its activation and pooling along, a dense layer its
/// activation; flattening is free), and each dropout layer's rate.
fn layers(stages: &[Stage]) -> Result<(Vec<Layer>, Vec<f32>)> {
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
                if pct > 0 {
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
