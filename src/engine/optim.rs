//! The three update rules a user can pick. Written out here (rather than borrowed) because candle-nn has no SGD
//! with momentum, and one small file shows all three rules side by side.

use crate::engine::config::Optimizer;
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

pub struct Optim {
    kind: Optimizer,
    lr: f64,
    step: i32,
    /// Momentum velocity, or Adam's first moment.
    m: Vec<Tensor>,
    /// Adam's second moment.
    v: Vec<Tensor>,
}

const MOMENTUM: f64 = 0.9;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Optim {
    pub fn new(kind: Optimizer, lr: f64, vars: &[Var]) -> Result<Self> {
        let zeros = || vars.iter().map(|v| v.zeros_like()).collect::<Result<Vec<_>>>();
        Ok(Optim { kind, lr, step: 0, m: zeros()?, v: zeros()? })
    }

    pub fn step(&mut self, vars: &[Var], grads: &GradStore) -> Result<()> {
        self.step += 1;
        for (i, var) in vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
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
            var.set(&var.as_tensor().sub(&update)?.detach())?;
        }
        Ok(())
    }
}
