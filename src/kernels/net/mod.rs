//! A whole training step of a network on plain buffers: forward pass, softmax cross-entropy, and the backward pass
//! through every layer, for every layer kind the architecture editor offers.
//!
//! Why not candle's autograd: at batch 100 a step of a small network is a few hundred microseconds of arithmetic,
//! and the graph around it (a node, a fresh zeroed gradient tensor and a thread hand-off per op) cost as much again.
//! Here the batch is split into one contiguous range of images per core; each core runs its range through
//! single-threaded kernels with buffers it keeps from step to step, and the ranges' weight gradients are summed at
//! the end. One hand-off per step, no allocation after the first step of a batch size.
//!
//! The values are those of the per-op kernels (`conv2d_act_pool`, `linear_act`, `softmax_cross_entropy`) and of
//! candle's generic ops, up to the order of float sums; the engine's tests check them against candle's generic path.

mod layer;
mod worker;

pub use super::fused::{Activation, Pooling};
use candle_core::{bail, Result};
pub use layer::Layer;
use rayon::prelude::*;
use std::ops::Range;
use worker::Worker;

/// What a step measured on its batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLoss {
    /// Mean cross-entropy over the batch.
    pub loss: f32,
    /// Images whose largest logit is their label (ties to the first maximum).
    pub correct: usize,
}

/// Images a core runs through the forward pass at a time in [`Net::logits`].
const INFER_PIECE: usize = 100;

/// Work per step (multiply-adds) below which a step stays on the calling thread.
const MIN_PARALLEL_WORK: usize = 400_000;

/// A network's training step with its buffers. Build once per run, call [`Net::step`] per batch, read
/// [`Net::grad_parts`] after it.
pub struct Net {
    layers: Vec<Layer>,
    classes: usize,
    /// One per core.
    workers: Vec<Worker>,
    /// How many workers the last step ran on.
    used: usize,
}

impl Net {
    /// The step of `layers`, which must chain (each reads what the previous writes, the first reads `input_len`
    /// values) and end in the class scores.
    pub fn new(input_len: usize, layers: Vec<Layer>) -> Result<Self> {
        let mut len = input_len;
        for (i, l) in layers.iter().enumerate() {
            if l.input_len() != len {
                bail!("training step: layer {i} ({l:?}) reads {} values, the one before writes {len}", l.input_len())
            }
            if let Layer::Conv { h, w, k, padding, pool, .. } = *l {
                let g = l.geom(1);
                if k == 0 || h + 2 * padding < k || w + 2 * padding < k || (pool.is_some() && (g.ho < 2 || g.wo < 2)) {
                    bail!("training step: layer {i} ({l:?}) does not fit its input")
                }
            }
            if let Layer::Pool { h, w, .. } = *l {
                if h < 2 || w < 2 {
                    bail!("training step: layer {i} pools a {h}×{w} map")
                }
            }
            len = l.output_len();
        }
        if len == 0 {
            bail!("training step: the network has no outputs")
        }
        let threads = rayon::current_num_threads().max(1);
        let workers = (0..threads).map(|_| Worker::new(&layers)).collect();
        Ok(Net { layers, classes: len, workers, used: 1 })
    }

    /// Dropout layers, in order: [`Net::step`] takes one mask per dropout layer.
    pub fn dropout_lens(&self) -> Vec<usize> {
        self.layers.iter().filter_map(|l| if let Layer::Dropout { len } = *l { Some(len) } else { None }).collect()
    }

    /// Forward, loss and backward for the batch `x` (`[n, input_len]`) with its labels; `params` are the weight
    /// and bias of every layer that has them, in order; `masks` one `[n, len]` mask per dropout layer. Leaves the
    /// gradient of the mean loss in [`Net::grad_parts`]. The parameters are only read.
    pub fn step(&mut self, params: &[&[f32]], x: &[f32], labels: &[u32], masks: &[&[f32]]) -> Result<StepLoss> {
        let input_len = self.input_len();
        if x.len() != labels.len() * input_len {
            bail!("training step: {} values for {} images of {input_len}", x.len(), labels.len())
        }
        self.step_with(
            params,
            &|images, dst| dst.copy_from_slice(&x[images.start * input_len..images.end * input_len]),
            labels,
            masks,
        )
    }

    /// [`Net::step`] where each core writes its own images' input: `input(images, dst)` fills `dst`
    /// (`[images.len(), input_len]`) with images `images` of the batch. Gathering a batch from a data set is then
    /// split over the cores too, and lands in the cache of the core that reads it.
    pub fn step_with(
        &mut self,
        params: &[&[f32]],
        input: &(dyn Fn(Range<usize>, &mut [f32]) + Sync),
        labels: &[u32],
        masks: &[&[f32]],
    ) -> Result<StepLoss> {
        let n = labels.len();
        if n == 0 {
            bail!("training step: an empty batch")
        }
        if let Some(&l) = labels.iter().find(|&&l| l as usize >= self.classes) {
            bail!("training step: label {l} out of range for {} classes", self.classes)
        }
        self.check_params(params)?;
        let drops = self.dropout_lens();
        if masks.len() != drops.len() || masks.iter().zip(&drops).any(|(m, &len)| m.len() != n * len) {
            bail!("training step: {} dropout masks for {} dropout layers over {n} images", masks.len(), drops.len())
        }
        let work = n.saturating_mul(self.layers.iter().map(Layer::macs).sum::<usize>());
        let tasks = if work < MIN_PARALLEL_WORK { 1 } else { self.workers.len().min(n) };
        let per = n.div_ceil(tasks);
        let (layers, classes, input_len) = (&self.layers, self.classes, self.input_len());
        let job = |t: usize, w: &mut Worker| {
            let (i0, i1) = ((t * per).min(n), ((t + 1) * per).min(n));
            let masks: Vec<&[f32]> = masks.iter().zip(&drops).map(|(m, &len)| &m[i0 * len..i1 * len]).collect();
            let x = w.input(input_len * (i1 - i0));
            input(i0..i1, x);
            w.run(layers, classes, params, &labels[i0..i1], &masks, n);
        };
        if tasks == 1 {
            job(0, &mut self.workers[0]);
        } else {
            self.workers[..tasks].par_iter_mut().enumerate().for_each(|(t, w)| job(t, w));
        }
        self.used = tasks;
        let used = &self.workers[..tasks];
        let loss = used.iter().map(|w| w.loss).sum::<f64>();
        let correct = used.iter().map(|w| w.correct).sum::<usize>();
        Ok(StepLoss { loss: (loss / n as f64) as f32, correct })
    }

    /// The logits of `n` images (`[n, classes]`, into `out`) by the forward pass alone, the images written by
    /// `input` as in [`Net::step_with`] and split over the cores the same way: the evaluation pass. A net with
    /// dropout layers applies no mask here (build it without them for inference).
    pub fn logits(
        &mut self,
        params: &[&[f32]],
        input: &(dyn Fn(Range<usize>, &mut [f32]) + Sync),
        n: usize,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        self.check_params(params)?;
        if !self.dropout_lens().is_empty() {
            bail!("forward pass: a net with dropout layers is a training net")
        }
        let (layers, classes, input_len) = (&self.layers, self.classes, self.input_len());
        out.resize(n * classes, 0.0);
        if n == 0 {
            return Ok(());
        }
        let work = n.saturating_mul(self.layers.iter().map(Layer::macs).sum::<usize>());
        let tasks = if work < MIN_PARALLEL_WORK { 1 } else { self.workers.len().min(n) };
        let per = n.div_ceil(tasks);
        // Each core's share in pieces of at most a training batch, so the buffers stay a training step's size.
        let job = |t: usize, w: &mut Worker, dst: &mut [f32]| {
            for (k, piece) in dst.chunks_mut(INFER_PIECE * classes).enumerate() {
                let i0 = t * per + k * INFER_PIECE;
                let i1 = i0 + piece.len() / classes;
                input(i0..i1, w.input(input_len * (i1 - i0)));
                w.infer(layers, classes, params, i1 - i0, piece);
            }
        };
        if tasks == 1 {
            job(0, &mut self.workers[0], out);
        } else {
            self.workers[..tasks]
                .par_iter_mut()
                .zip(out.par_chunks_mut(per * classes))
                .enumerate()
                .for_each(|(t, (w, dst))| job(t, w, dst));
        }
        Ok(())
    }

    fn check_params(&self, params: &[&[f32]]) -> Result<()> {
        let want: Vec<usize> = self.layers.iter().filter_map(Layer::param_lens).flat_map(|(w, b)| [w, b]).collect();
        if params.len() != want.len() || params.iter().zip(&want).any(|(p, &w)| p.len() != w) {
            let got: Vec<usize> = params.iter().map(|p| p.len()).collect();
            bail!("training step: parameters of lengths {got:?}, expected {want:?}")
        }
        Ok(())
    }

    /// Values per image the first layer reads.
    fn input_len(&self) -> usize {
        self.layers.first().map_or(self.classes, Layer::input_len)
    }

    /// The gradient of the last step's mean loss w.r.t. each parameter, in [`Net::step`]'s order, as parts to be
    /// added in order: one per core the step ran on. Summing them is left to the reader (the optimiser adds them
    /// as it updates), which saves a pass over every gradient.
    pub fn grad_parts(&self) -> Vec<Vec<&[f32]>> {
        let per_worker: Vec<Vec<&[f32]>> = self.workers[..self.used].iter().map(|w| w.grads(&self.layers)).collect();
        let params = per_worker.first().map_or(0, Vec::len);
        (0..params).map(|i| per_worker.iter().map(|g| g[i]).collect()).collect()
    }
}
