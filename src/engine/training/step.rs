//! The training step on the whole-step kernels (`kernels::net`): the network's stages as the kernels' layers, the
//! run's dropout masks, and the parameters read in place from the run's candle Vars (the optimiser then updates
//! them in place from the plain gradients). candle's autograd stays the reference the tests compare it with.

use crate::engine::data::set::ImageSet;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::lenet::dropout_mask;
use crate::engine::model::net_layers::{self, with_slices};
use crate::engine::model::stages;
use crate::engine::rng::Rng;
use crate::kernels::net::{Net, StepLoss};
use crate::{Error, Result};
use candle_core::Var;
use std::ops::Range;

pub struct TrainStep {
    net: Net,
    /// Per dropout layer: its rate.
    rates: Vec<f32>,
}

impl TrainStep {
    /// The step of the configured network.
    pub fn new(cfg: ModelConfig) -> Result<Self> {
        let (net, rates) = net_layers::net(cfg, true)?;
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
        let tensors: Vec<_> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let masks: Vec<&[f32]> = masks.iter().map(Vec::as_slice).collect();
        with_slices(&tensors, |params| Ok(self.net.step_with(params, input, labels, &masks)?))
    }

    /// The last step's gradients in `stages::params()` order, each as the parts (one per core) whose sum it is.
    pub fn grad_parts(&self) -> Vec<Vec<&[f32]>> {
        self.net.grad_parts()
    }
}
