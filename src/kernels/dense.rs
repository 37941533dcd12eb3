//! Fused dense layer: `act(x · wᵀ + b)` as one candle custom op with its own backward pass, so a hidden layer is
//! one node of the graph instead of five (transpose, matmul, broadcast add, activation, and their gradients'
//! temporaries), and its matrix multiplies run on single-threaded `gemm` calls split over the cores by hand.
//!
//! Backward reads the op's own output (`a`) for the activation's derivative, so nothing is stored between the two
//! passes. The input gradient and the weight gradient have the same cost (`n · o · k` multiply-adds each) and run
//! side by side (`rayon::join`): one hand-off per step and layer on two cores.

use super::conv_op::f32_slice;
use super::fused::{act_grad, activate, Activation};
use super::gemm::sgemm;
use super::geom::n_tasks;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Storage, Tensor};
use rayon::prelude::*;

/// The fused op; `input_grad` false skips the input's gradient (the first layer's input is the image).
pub(crate) struct LinearAct {
    pub act: Activation,
    pub input_grad: bool,
}

/// `(n, k, o)` of `x [n, k]`, `w [o, k]`, `b [o]`.
pub(crate) fn dense_dims(x: &[usize], w: &[usize], b: &[usize]) -> Result<(usize, usize, usize)> {
    match (x, w, b) {
        (&[n, k], &[o, kw], &[ob]) if k == kw && o == ob => Ok((n, k, o)),
        _ => bail!("linear: incompatible shapes: input {x:?}, weight {w:?}, bias {b:?}"),
    }
}

/// Rows of a batch per task so that `tasks` tasks cover `n` rows.
fn rows_per_task(n: usize, tasks: usize) -> usize {
    n.div_ceil(tasks.max(1)).max(1)
}

/// `y = act(x · wᵀ + b)`, `[n, o]`, contiguous.
pub(crate) fn forward(act: Activation, (n, k, o): (usize, usize, usize), x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut y = vec![0f32; n * o];
    if y.is_empty() {
        return y;
    }
    let rows = rows_per_task(n, n_tasks(n, k * o));
    y.par_chunks_mut(rows * o).zip(x.par_chunks(rows * k)).for_each(|(y, x)| {
        let m = y.len() / o;
        for row in y.chunks_exact_mut(o) {
            row.copy_from_slice(b);
        }
        // y[m, o] += x[m, k] · wᵀ, wᵀ read in place: element (kk, j) is w[j * k + kk].
        sgemm(m, o, k, y, (1, o), true, x, (1, k), w, (k, 1));
        activate(act, y);
    });
    y
}

/// Gradients `(dx, dw, db)` from the output `a`, its gradient `ga`, and the operands; `dx` is empty without
/// `input_grad`.
pub(crate) fn backward(
    act: Activation,
    (n, k, o): (usize, usize, usize),
    x: &[f32],
    w: &[f32],
    a: &[f32],
    ga: &[f32],
    input_grad: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    // Gradient at the pre-activation.
    let gz: Vec<f32> = match act {
        Activation::Identity => ga.to_vec(),
        _ => a.iter().zip(ga).map(|(&a, &g)| g * act_grad(act, a)).collect(),
    };
    let half = (rayon::current_num_threads() / 2).max(1);
    let weight_side = || {
        let mut dw = vec![0f32; o * k];
        if k > 0 && n > 0 {
            let rows = rows_per_task(o, n_tasks(o, n * k).min(half));
            dw.par_chunks_mut(rows * k).enumerate().for_each(|(t, dw)| {
                let j0 = t * rows;
                let m = dw.len() / k;
                // dw[m, k] = gzᵀ[j0.., n] · x[n, k]; element (j, i) of gzᵀ is gz[i * o + j].
                sgemm(m, k, n, dw, (1, k), false, &gz[j0..], (o, 1), x, (1, k));
            });
        }
        let mut db = vec![0f32; o];
        for row in gz.chunks_exact(o.max(1)) {
            db.iter_mut().zip(row).for_each(|(d, &g)| *d += g);
        }
        (dw, db)
    };
    let input_side = || {
        if !input_grad {
            return Vec::new();
        }
        let mut dx = vec![0f32; n * k];
        if k > 0 {
            let rows = rows_per_task(n, n_tasks(n, o * k).min(half));
            dx.par_chunks_mut(rows * k).zip(gz.par_chunks(rows * o)).for_each(|(dx, gz)| {
                // dx[m, k] = gz[m, o] · w[o, k].
                sgemm(dx.len() / k, k, o, dx, (1, k), false, gz, (1, o), w, (1, k));
            });
        }
        dx
    };
    let (dx, (dw, db)) =
        if n_tasks(n * o * k, 1) > 1 { rayon::join(input_side, weight_side) } else { (input_side(), weight_side()) };
    (dx, dw, db)
}

/// Runs `f` on the contiguous f32 data of `t` (made contiguous first if needed).
pub(crate) fn with_f32<R>(t: &Tensor, what: &str, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(s) => f(f32_slice(s, layout, what)?),
        _ => bail!("fast kernels: {what} must be on the CPU"),
    }
}

impl CustomOp3 for LinearAct {
    fn name(&self) -> &'static str {
        "fast-linear-act"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = dense_dims(l1.dims(), l2.dims(), l3.dims())?;
        let x = f32_slice(s1, l1, "linear input")?;
        let w = f32_slice(s2, l2, "linear weight")?;
        let b = f32_slice(s3, l3, "linear bias")?;
        Ok((CpuStorage::F32(forward(self.act, dims, x, w, b)), Shape::from((dims.0, dims.2))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dims = dense_dims(x.dims(), w.dims(), b.dims())?;
        if grad.dims() != res.dims() {
            bail!("linear backward: gradient shape {:?}, expected {:?}", grad.dims(), res.dims())
        }
        let (dx, dw, db) = with_f32(x, "linear input", |xs| {
            with_f32(w, "linear weight", |ws| {
                with_f32(res, "linear output", |a| {
                    with_f32(grad, "linear output gradient", |ga| {
                        Ok(backward(self.act, dims, xs, ws, a, ga, self.input_grad))
                    })
                })
            })
        })?;
        let dev = x.device();
        let dx = if self.input_grad { Some(Tensor::from_vec(dx, x.shape(), dev)?) } else { None };
        Ok((dx, Some(Tensor::from_vec(dw, w.shape(), dev)?), Some(Tensor::from_vec(db, b.shape(), dev)?)))
    }
}
