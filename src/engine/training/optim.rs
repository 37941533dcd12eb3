//! The three update rules a user can pick. Written out here (rather than borrowed) because candle-nn has no SGD
//! with momentum, and one small file shows all three rules side by side.
//!
//! Every step also keeps a copy of the weights it started from (`previous`), so the trainer can hand back the last
//! good weights when the next step diverges without snapshotting the model every step. Each rule updates each
//! parameter in place in one pass over the weights, the gradient and the rule's state (copying the old value out
//! on the way) instead of up to a dozen candle ops with their temporaries.

use crate::engine::model::grads::Grads;
use crate::engine::training::config::Optimizer;
use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, Layout, Result, Var};
use rayon::prelude::*;
use std::cell::{Cell, RefCell};

pub struct Optim {
    kind: Optimizer,
    lr: f64,
    step: i32,
    /// Momentum velocity, or Adam's first moment, per parameter (flattened); empty for SGD.
    m: Vec<Vec<f32>>,
    /// Adam's second moment; empty otherwise.
    v: Vec<Vec<f32>>,
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
        let zeros = || vars.iter().map(|v| vec![0f32; v.elem_count()]).collect::<Vec<_>>();
        let (m, v) = match kind {
            Optimizer::Sgd => (Vec::new(), Vec::new()),
            Optimizer::Momentum => (zeros(), Vec::new()),
            Optimizer::Adam => (zeros(), zeros()),
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

    /// One update of every parameter that has a gradient and is not frozen. Returns the first parameter (by index)
    /// whose new values are not all finite, found in the same pass: the caller's divergence check.
    pub fn step(&mut self, vars: &[Var], grads: Grads) -> Result<Option<usize>> {
        self.step += 1;
        let rule = match self.kind {
            Optimizer::Sgd => Rule::Sgd { lr: self.lr as f32 },
            Optimizer::Momentum => Rule::Momentum { lr: self.lr as f32, mu: MOMENTUM as f32 },
            Optimizer::Adam => {
                // Bias corrections folded into the step size and epsilon (as PyTorch does).
                let c1 = 1.0 - BETA1.powi(self.step);
                let c2 = (1.0 - BETA2.powi(self.step)).sqrt();
                Rule::Adam { lr: (self.lr * c2 / c1) as f32, eps: (EPS * c2) as f32 }
            }
        };
        let mut non_finite = None;
        for (i, var) in vars.iter().enumerate() {
            if !var.device().is_cpu() || var.dtype() != candle_core::DType::F32 {
                candle_core::bail!("optimizer: parameters must be f32 tensors on the CPU")
            }
            let stored = match grads {
                Grads::Store(store) if !self.frozen[i] => {
                    store.get(var.as_tensor()).map(|g| g.contiguous()).transpose()?
                }
                _ => None,
            };
            let parts = match grads {
                Grads::Parts(parts) if !self.frozen[i] => parts.get(i).map(Vec::as_slice),
                _ => None,
            };
            if stored.is_none() && parts.is_none() {
                // Frozen, or no gradient: the parameter keeps its value.
                self.previous[i] = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
                continue;
            }
            let op = Update {
                rule,
                parts,
                finite: Cell::new(true),
                previous: RefCell::new(std::mem::take(&mut self.previous[i])),
                m: RefCell::new(self.m.get_mut(i).map(std::mem::take).unwrap_or_default()),
                v: RefCell::new(self.v.get_mut(i).map(std::mem::take).unwrap_or_default()),
            };
            match &stored {
                Some(g) => var.as_tensor().inplace_op2(g, &op)?,
                None => var.as_tensor().inplace_op1(&op)?,
            }
            if !op.finite.get() && non_finite.is_none() {
                non_finite = Some(i);
            }
            self.previous[i] = op.previous.into_inner();
            if let Some(m) = self.m.get_mut(i) {
                *m = op.m.into_inner();
            }
            if let Some(v) = self.v.get_mut(i) {
                *v = op.v.into_inner();
            }
        }
        Ok(non_finite)
    }
}

/// One update rule with its step's constants.
#[derive(Clone, Copy)]
enum Rule {
    Sgd {
        lr: f32,
    },
    Momentum {
        lr: f32,
        mu: f32,
    },
    /// `lr` and `eps` with the bias corrections folded in.
    Adam {
        lr: f32,
        eps: f32,
    },
}

/// In-place update of one parameter from its gradient in a single pass, storing the old values in `previous`
/// and keeping the rule's state (`m`, `v`: as long as the parameter, or empty when the rule has none). The gradient
/// is the op's second operand (candle's store) or the sum of `parts` (the whole-step kernels' per-core parts,
/// summed on the fly). `finite` tells whether every new value is finite.
struct Update<'a> {
    rule: Rule,
    parts: Option<&'a [&'a [f32]]>,
    finite: Cell<bool>,
    previous: RefCell<Vec<f32>>,
    m: RefCell<Vec<f32>>,
    v: RefCell<Vec<f32>>,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "optimizer-step"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<()> {
        let CpuStorage::F32(g) = s2 else { candle_core::bail!("optimizer: gradients must be f32") };
        let Some((g0, g1)) = l2.contiguous_offsets() else { candle_core::bail!("optimizer: gradient not contiguous") };
        if l1.shape() != l2.shape() {
            candle_core::bail!("optimizer: gradient shape {:?} for a parameter of shape {:?}", l2.dims(), l1.dims())
        }
        self.apply(s1, l1, &[&g[g0..g1]])
    }
}

impl InplaceOp1 for Update<'_> {
    fn name(&self) -> &'static str {
        "optimizer-step"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> Result<()> {
        let Some(parts) = self.parts else { candle_core::bail!("optimizer: no gradient given") };
        let len = l.shape().elem_count();
        if parts.is_empty() || parts.iter().any(|g| g.len() != len) {
            candle_core::bail!(
                "optimizer: gradient parts of {:?} values for a parameter of {len}",
                parts.iter().map(|g| g.len()).collect::<Vec<_>>(),
            )
        }
        self.apply(s, l, parts)
    }
}

/// Parameters at least this long are updated in slices over the cores.
const PARALLEL_LEN: usize = 32 * 1024;

impl Update<'_> {
    /// Updates the parameter in `s` (laid out as `l`). When the storage holds exactly the parameter (a Var's own
    /// storage), the new values are written into the `previous` buffer and the two buffers are swapped: the old
    /// values become `previous` without being copied.
    fn apply(&self, s: &mut CpuStorage, l: &Layout, parts: &[&[f32]]) -> Result<()> {
        let CpuStorage::F32(storage) = s else { candle_core::bail!("optimizer: parameters must be f32") };
        let Some((w0, w1)) = l.contiguous_offsets() else { candle_core::bail!("optimizer: parameter not contiguous") };
        let mut prev = self.previous.borrow_mut();
        prev.resize(w1 - w0, 0.0);
        let own = w0 == 0 && w1 == storage.len();
        let finite = if own {
            let finite = self.update(storage, &mut prev, parts);
            std::mem::swap(storage, &mut *prev);
            finite
        } else {
            let w = &mut storage[w0..w1];
            prev.copy_from_slice(w);
            self.update(&prev, w, parts)
        };
        if !finite {
            self.finite.set(false);
        }
        Ok(())
    }

    /// `new = rule(old, Σ parts)`, over the cores for long parameters; returns whether every new value is finite.
    fn update(&self, old: &[f32], new: &mut [f32], parts: &[&[f32]]) -> bool {
        let (mut m, mut v) = (self.m.borrow_mut(), self.v.borrow_mut());
        let rule = self.rule;
        if !matches!(rule, Rule::Sgd { .. }) {
            m.resize(old.len(), 0.0);
        }
        if matches!(rule, Rule::Adam { .. }) {
            v.resize(old.len(), 0.0);
        }
        let threads = rayon::current_num_threads();
        if old.len() < PARALLEL_LEN || threads < 2 {
            return update(rule, old, new, parts, &mut m, &mut v);
        }
        // One slice per core; the rule is element-wise, so the result is the same as in one pass.
        let len = old.len().div_ceil(threads);
        let count = old.len().div_ceil(len);
        let (ms, vs) = (slices(&mut m, len, count), slices(&mut v, len, count));
        let gs: Vec<Vec<&[f32]>> =
            (0..count).map(|c| parts.iter().map(|g| &g[c * len..((c + 1) * len).min(g.len())]).collect()).collect();
        old.par_chunks(len)
            .zip(new.par_chunks_mut(len))
            .zip(gs)
            .zip(ms)
            .zip(vs)
            .map(|((((old, new), g), m), v)| update(rule, old, new, &g, m, v))
            .reduce(|| true, |a, b| a && b)
    }
}

/// `v` in `count` slices of `len` (`count` empty ones if `v` is empty: a rule without that state).
fn slices(v: &mut [f32], len: usize, count: usize) -> Vec<&mut [f32]> {
    if v.is_empty() {
        (0..count).map(|_| &mut [][..]).collect()
    } else {
        v.chunks_mut(len).collect()
    }
}

/// One rule over a slice of a parameter, from its `old` values into `new`, with the gradient `parts` (summed in
/// order); `m` and `v` are the rule's state (empty when it has none). Returns whether every new value is finite.
fn update(rule: Rule, old: &[f32], new: &mut [f32], parts: &[&[f32]], m: &mut [f32], v: &mut [f32]) -> bool {
    // The gradient block by block: one part read in place, several summed on the stack.
    const BLOCK: usize = 512;
    let mut sum = [0f32; BLOCK];
    // Any value whose exponent bits are all ones (an infinity or a NaN); integer ops, so the check vectorises.
    let mut non_finite = 0u32;
    for start in (0..old.len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(old.len());
        let g: &[f32] = match parts {
            [one] => &one[start..end],
            [first, rest @ ..] => {
                let s = &mut sum[..end - start];
                s.copy_from_slice(&first[start..end]);
                for part in rest {
                    s.iter_mut().zip(&part[start..end]).for_each(|(s, &g)| *s += g);
                }
                s
            }
            [] => return false,
        };
        let (old, new) = (&old[start..end], &mut new[start..end]);
        let pairs = new.iter_mut().zip(old).zip(g);
        match rule {
            // `+ 0.0` keeps -0.0 updates equal to candle's `w - g * lr`.
            Rule::Sgd { lr } => pairs.for_each(|((n, &w), &g)| *n = w - (g * lr + 0.0)),
            Rule::Momentum { lr, mu } => {
                for (((n, &w), &g), m) in pairs.zip(&mut m[start..end]) {
                    *m = *m * mu + g;
                    *n = w - *m * lr;
                }
            }
            Rule::Adam { lr, eps } => {
                let (b1, b2) = (BETA1 as f32, BETA2 as f32);
                for ((((n, &w), &g), m), v) in pairs.zip(&mut m[start..end]).zip(&mut v[start..end]) {
                    *m = *m * b1 + g * (1.0 - b1);
                    *v = *v * b2 + g * g * (1.0 - b2);
                    *n = w - lr * *m / (v.sqrt() + eps);
                }
            }
        }
        for &w in new.iter() {
            non_finite |= u32::from(w.to_bits() & 0x7f80_0000 == 0x7f80_0000);
        }
    }
    non_finite == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// The textbook rules in f64, step by step (Adam with its bias corrections written out).
    fn reference(kind: Optimizer, lr: f64, w0: &[f64], grads: &[Vec<f64>]) -> Vec<f64> {
        let (mut w, mut m, mut v) = (w0.to_vec(), vec![0.0; w0.len()], vec![0.0; w0.len()]);
        for (t, g) in grads.iter().enumerate() {
            for i in 0..w.len() {
                match kind {
                    Optimizer::Sgd => w[i] -= lr * g[i],
                    Optimizer::Momentum => {
                        m[i] = MOMENTUM * m[i] + g[i];
                        w[i] -= lr * m[i];
                    }
                    Optimizer::Adam => {
                        m[i] = BETA1 * m[i] + (1.0 - BETA1) * g[i];
                        v[i] = BETA2 * v[i] + (1.0 - BETA2) * g[i] * g[i];
                        let m_hat = m[i] / (1.0 - BETA1.powi(t as i32 + 1));
                        let v_hat = v[i] / (1.0 - BETA2.powi(t as i32 + 1));
                        w[i] -= lr * m_hat / (v_hat.sqrt() + EPS);
                    }
                }
            }
        }
        w
    }

    #[test]
    fn each_rule_follows_its_formula_and_keeps_the_previous_weights() {
        let w0 = [0.5f32, -1.25, 2.0, 0.0, 3.5, -0.75];
        let grads: Vec<Vec<f32>> = (0..5)
            .map(|t| w0.iter().enumerate().map(|(i, _)| ((t * 7 + i * 3) % 11) as f32 / 5.0 - 1.0).collect())
            .collect();
        for (kind, lr) in [(Optimizer::Sgd, 0.9), (Optimizer::Momentum, 0.05), (Optimizer::Adam, 1e-3)] {
            let var = Var::from_tensor(&Tensor::from_slice(&w0, (2, 3), &Device::Cpu).unwrap()).unwrap();
            let mut optim = Optim::new(kind, lr, std::slice::from_ref(&var)).unwrap();
            assert!(optim.previous().is_none());
            let mut before = w0.to_vec();
            for g in &grads {
                // The gradient through a real backward pass: d(sum(w * g)) / dw = g.
                let gt = Tensor::from_slice(g, (2, 3), &Device::Cpu).unwrap();
                let store = (var.as_tensor() * &gt).unwrap().sum_all().unwrap().backward().unwrap();
                optim.step(std::slice::from_ref(&var), Grads::Store(&store)).unwrap();
                assert_eq!(optim.previous().unwrap()[0], before, "{kind:?}: previous");
                before = var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            }
            let want = reference(
                kind,
                lr,
                &w0.map(f64::from),
                &grads.iter().map(|g| g.iter().map(|&x| x as f64).collect()).collect::<Vec<_>>(),
            );
            for (got, want) in before.iter().zip(&want) {
                assert!((*got as f64 - want).abs() <= 1e-6 * want.abs().max(1.0), "{kind:?}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn frozen_parameters_keep_their_values_bit_for_bit() {
        let var = Var::from_tensor(&Tensor::from_slice(&[1f32, 2.0], 2, &Device::Cpu).unwrap()).unwrap();
        let mut optim = Optim::new(Optimizer::Adam, 0.1, std::slice::from_ref(&var)).unwrap().freeze(vec![true]);
        let store = var.as_tensor().sum_all().unwrap().backward().unwrap();
        optim.step(std::slice::from_ref(&var), Grads::Store(&store)).unwrap();
        assert_eq!(var.as_tensor().to_vec1::<f32>().unwrap(), vec![1.0, 2.0]);
    }
}
