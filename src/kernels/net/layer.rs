//! The layers a whole training step runs, with the sizes of what each reads and writes.

use crate::kernels::fused::{Activation, Pooling};
use crate::kernels::geom::Geom;

/// One layer of the step, with the sizes of what it reads. Flattening is not a layer: images are stored
/// row-major, so `[c, h, w]` already is the vector a dense layer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Stride-1 zero-padded convolution with bias and activation, optionally followed by 2×2 pooling (odd sides
    /// floored). Reads `[c, h, w]`; weight `[o, c, k, k]`, bias `[o]`.
    Conv { c: usize, h: usize, w: usize, o: usize, k: usize, padding: usize, act: Activation, pool: Option<Pooling> },
    /// `act(x · wᵀ + b)`: reads `inputs` values; weight `[outputs, inputs]`, bias `[outputs]`.
    Dense { inputs: usize, outputs: usize, act: Activation },
    /// An activation on its own, over `len` values.
    Act { act: Activation, len: usize },
    /// 2×2 stride-2 pooling on its own over `[c, h, w]`.
    Pool { pool: Pooling, c: usize, h: usize, w: usize },
    /// Inverted dropout over `len` values: the step's mask (values `0` or `1 / (1 − rate)`) multiplies them.
    Dropout { len: usize },
}

impl Layer {
    /// Values per image it reads.
    pub fn input_len(&self) -> usize {
        match *self {
            Layer::Conv { c, h, w, .. } | Layer::Pool { c, h, w, .. } => c * h * w,
            Layer::Dense { inputs, .. } => inputs,
            Layer::Act { len, .. } | Layer::Dropout { len } => len,
        }
    }

    /// Values per image it writes.
    pub fn output_len(&self) -> usize {
        match *self {
            Layer::Conv { pool, .. } => {
                let g = self.geom(1);
                match pool {
                    Some(_) => g.o * (g.ho / 2) * (g.wo / 2),
                    None => g.out_img(),
                }
            }
            Layer::Pool { c, h, w, .. } => c * (h / 2) * (w / 2),
            Layer::Dense { outputs, .. } => outputs,
            Layer::Act { len, .. } | Layer::Dropout { len } => len,
        }
    }

    /// The weight's and the bias's lengths, for the layers that have them.
    pub fn param_lens(&self) -> Option<(usize, usize)> {
        match *self {
            Layer::Conv { c, o, k, .. } => Some((o * c * k * k, o)),
            Layer::Dense { inputs, outputs, .. } => Some((outputs * inputs, outputs)),
            _ => None,
        }
    }

    /// Multiply-adds per image of the forward pass (the backward pass costs about twice as much).
    pub(super) fn macs(&self) -> usize {
        match *self {
            Layer::Conv { .. } => {
                let g = self.geom(1);
                g.o * g.ckk() * g.plane()
            }
            Layer::Dense { inputs, outputs, .. } => inputs * outputs,
            _ => self.input_len(),
        }
    }

    /// The convolution's (or the pooling's, as a convolution with `o = c`) geometry for `n` images.
    pub(super) fn geom(&self, n: usize) -> Geom {
        match *self {
            Layer::Conv { c, h, w, o, k, padding, .. } => {
                Geom { n, c, h, w, o, k, p: padding, ho: h + 2 * padding + 1 - k, wo: w + 2 * padding + 1 - k }
            }
            Layer::Pool { c, h, w, .. } => Geom { n, c, h, w, o: c, k: 1, p: 0, ho: h, wo: w },
            _ => Geom { n, c: 0, h: 0, w: 0, o: 0, k: 1, p: 0, ho: 0, wo: 0 },
        }
    }
}
