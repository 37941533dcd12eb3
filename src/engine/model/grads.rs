//! A training step's gradients, whichever path computed them: candle's autograd (a store keyed by the model's
//! tensors; the reference path, and what tests differentiate) or the whole-step kernels (plain values in
//! `stages::params()` order). The optimiser and the diagnostics read both.

use candle_core::backprop::GradStore;
use candle_core::Tensor;

#[derive(Clone, Copy)]
pub enum Grads<'a> {
    Store(&'a GradStore),
    /// Per parameter (`stages::params()` order), the parts whose sum is its gradient: one per core the step ran on.
    Parts(&'a [Vec<&'a [f32]>]),
}

impl Grads<'_> {
    /// The gradient of parameter `index` (whose tensor is `param`) as values, or None if it has none.
    pub fn values(&self, index: usize, param: &Tensor) -> candle_core::Result<Option<Vec<f32>>> {
        match *self {
            Grads::Store(store) => store.get(param).map(|g| g.flatten_all()?.to_vec1::<f32>()).transpose(),
            Grads::Parts(parts) => Ok(parts.get(index).map(|p| sum_parts(p))),
        }
    }
}

/// The sum of a gradient's parts, added in order (as the optimiser adds them).
pub fn sum_parts(parts: &[&[f32]]) -> Vec<f32> {
    let mut sum = parts.first().map(|p| p.to_vec()).unwrap_or_default();
    for part in parts.iter().skip(1) {
        sum.iter_mut().zip(*part).for_each(|(s, &g)| *s += g);
    }
    sum
}
