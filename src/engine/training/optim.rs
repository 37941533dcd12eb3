//! The three update rules a user can pick. Written out here (rather than borrowed) because candle-nn has no SGD
//! with momentum, and one small file shows all three rules side by side.
//!
//! Every step also keeps a copy of the weights it started from (`previous`), so the trainer can hand back the last
//! good weights when the next step diverges without snapshotting the model every step. Plain SGD, the classic
//! recipe and the hot path, updates each parameter in place in one pass (`w -= lr * g`, copying the old value out
//! on the way) instead of three candle ops with two temporaries.

use crate::engine::training::config::Optimizer;
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp2, Layout, Result, Tensor, Var};
use std::cell::RefCell;

pub struct Optim {
    kind: Optimizer,
    lr: f64,
    step: i32,
    /// Momentum velocity, or Adam's first moment.
    m: Vec<Tensor>,
    /// Adam's second moment.
    v: Vec<Tensor>,
    /// Each parameter's values before the last step (flattened, row-major); empty before the first step.
    previous: Vec<Vec<f32>>,
    /// Parameters that are never updated (frozen layers), by index.
    frozen: Vec<bool>,
}

const MOMENTUM: f64 = 0.9;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Optim {
    pub fn new(kind: Optimizer, lr: f64, vars: &[Var]) -> Result<Self> {
        let zeros = || vars.iter().map(|v| v.zeros_like()).collect::<Result<Vec<_>>>();
        let (m, v) = match kind {
            Optimizer::Sgd => (Vec::new(), Vec::new()),
            _ => (zeros()?, zeros()?),
        };
        Ok(Optim { kind, lr, step: 0, m, v, previous: vec![Vec::new(); vars.len()], frozen: vec![false; vars.len()] })
    }

    /// Leaves the parameters marked `true` untouched by every step (their gradients are ignored; moments and
    /// velocity stay zero), so a frozen layer keeps its values bit for bit.
    pub fn freeze(mut self, frozen: Vec<bool>) -> Self {
        self.frozen = frozen;
        self.frozen.resize(self.previous.len(), false);
        self
    }

    /// The learning rate of the following steps (a schedule or a live change); moments and velocity are kept.
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Each parameter's values (flattened) before the last `step`, or None before the first one.
    pub fn previous(&self) -> Option<&[Vec<f32>]> {
        (self.step > 0).then_some(self.previous.as_slice())
    }

    pub fn step(&mut self, vars: &[Var], grads: &GradStore) -> Result<()> {
        self.step += 1;
        for (i, var) in vars.iter().enumerate() {
            let grad = if self.frozen[i] { None } else { grads.get(var.as_tensor()) };
            let Some(g) = grad else {
                // Frozen, or no gradient: the parameter keeps its value.
                self.previous[i] = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
                continue;
            };
            if self.kind == Optimizer::Sgd && var.device().is_cpu() && var.dtype() == candle_core::DType::F32 {
                let op = SgdStep { lr: self.lr as f32, previous: RefCell::new(std::mem::take(&mut self.previous[i])) };
                var.as_tensor().inplace_op2(g, &op)?;
                self.previous[i] = op.previous.into_inner();
                continue;
            }
            // A leaf's gradient still references the forward graph; keeping it in the moments would chain every
            // step's graph to the next (unbounded memory). Detach it.
            let g = &g.detach();
            let update = match self.kind {
                Optimizer::Sgd => (g * self.lr)?,
                Optimizer::Momentum => {
                    self.m[i] = ((&self.m[i] * MOMENTUM)? + g)?;
                    (&self.m[i] * self.lr)?
                }
                Optimizer::Adam => {
                    self.m[i] = ((&self.m[i] * BETA1)? + (g * (1.0 - BETA1))?)?;
                    self.v[i] = ((&self.v[i] * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?;
                    let m_hat = (&self.m[i] / (1.0 - BETA1.powi(self.step)))?;
                    let v_hat = (&self.v[i] / (1.0 - BETA2.powi(self.step)))?;
                    ((m_hat / (v_hat.sqrt()? + EPS)?)? * self.lr)?
                }
            };
            self.previous[i] = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            var.set(&var.as_tensor().sub(&update)?.detach())?;
        }
        Ok(())
    }
}

/// In-place `w -= g * lr` (the same arithmetic as candle's `w - (g * lr)`), storing the old `w` in `previous`.
struct SgdStep {
    lr: f32,
    previous: RefCell<Vec<f32>>,
}

impl InplaceOp2 for SgdStep {
    fn name(&self) -> &'static str {
        "sgd-step"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<()> {
        let (CpuStorage::F32(w), CpuStorage::F32(g)) = (s1, s2) else {
            candle_core::bail!("sgd-step: parameters and gradients must be f32")
        };
        let Some((w0, w1)) = l1.contiguous_offsets() else { candle_core::bail!("sgd-step: parameter not contiguous") };
        if l1.shape() != l2.shape() {
            candle_core::bail!("sgd-step: gradient shape {:?} for a parameter of shape {:?}", l2.dims(), l1.dims())
        }
        let w = &mut w[w0..w1];
        let mut prev = self.previous.borrow_mut();
        prev.clear();
        prev.extend_from_slice(w);
        let lr = self.lr;
        let upd = |w: &mut f32, g: f32| *w -= g * lr + 0.0;
        match (l2.contiguous_offsets(), l2.dims(), l2.stride()) {
            (Some((g0, g1)), _, _) => w.iter_mut().zip(&g[g0..g1]).for_each(|(w, &g)| upd(w, g)),
            (None, &[rows, cols], &[rs, cs]) => {
                let base = l2.start_offset();
                for (r, wr) in w.chunks_exact_mut(cols.max(1)).take(rows).enumerate() {
                    for (c, w) in wr.iter_mut().enumerate() {
                        upd(w, g[base + r * rs + c * cs]);
                    }
                }
            }
            (None, dims, stride) => {
                // Any other strided layout: walk the row-major multi-index.
                let mut idx = vec![0usize; dims.len()];
                for w in w.iter_mut() {
                    let off = l2.start_offset() + idx.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
                    upd(w, g[off]);
                    for d in (0..dims.len()).rev() {
                        idx[d] += 1;
                        if idx[d] < dims[d] {
                            break;
                        }
                        idx[d] = 0;
                    }
                }
            }
        }
        Ok(())
    }
}
