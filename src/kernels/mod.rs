//! Fast CPU kernels for LeNet-5 training inside candle, for every architecture the editor allows (any kernel
//! size and padding, odd sides, conv blocks with or without pooling).
//!
//! * [`conv2d`]: stride-1 zero-padded convolution with bias as im2col + gemm over the batch, with
//!   a fused backward pass (weight, bias and optional input gradient in one sweep).
//! * [`avg_pool2x2`], [`max_pool2x2`]: direct 2x2 / stride-2 pooling, forward and backward (odd sides floored).
//! * [`linear_act`]: a dense layer with its activation, forward and backward, over single-threaded gemm calls.
//! * [`softmax_cross_entropy`]: the mean loss over a batch with the softmax's gradient in one step.
//! * [`net`]: a whole training step (forward, loss, backward over every layer) on plain buffers, one range of the
//!   batch per core: what training runs; the ops above serve prediction, evaluation and the reference path.
//! * [`init_compute_threads`]: thread-pool sizing and flush-to-zero.
//!
//! The fast paths cover contiguous-or-not f32 tensors on the CPU; anything else (other dtypes,
//! devices, non-square kernels, empty tensors) goes through candle's generic ops, which give the
//! same results. Invalid shapes return candle errors.
//!
//! Work is split over the batch into one contiguous range per rayon thread (of whichever pool is
//! current: rayon's global pool, or candle's inside `Device::with_context`); the gemm calls inside a
//! range are single-threaded, so there is no nested parallelism.

mod conv;
mod conv_op;
mod dense;
mod fused;
mod gemm;
mod geom;
mod im2col;
mod loss;
pub mod net;
mod pool;
mod threads;

pub use fused::{Activation, Pooling};

use candle_core::{bail, DType, Result, Tensor};

pub(crate) use threads::set_compute_env;
pub use threads::{compute_threads, flush_to_zero_enabled};

fn fast_path(ts: &[&Tensor]) -> bool {
    let dev = ts[0].device();
    ts.iter().all(|t| t.dtype() == DType::F32 && t.device().is_cpu() && t.device().same_device(dev))
        && ts.iter().all(|t| t.elem_count() > 0)
}

/// Validates conv operands; returns the input's and the kernel's height and width.
fn check_conv(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize, op: &str) -> Result<(usize, usize, usize, usize)> {
    let (_n, c, h, wd) = x.dims4()?;
    let (o, cw, kh, kw) = w.dims4()?;
    let ob = b.dims1()?;
    if c != cw || o != ob {
        bail!("{op}: incompatible shapes: input {:?}, weight {:?}, bias {:?}", x.dims(), w.dims(), b.dims())
    }
    if h + 2 * padding < kh || wd + 2 * padding < kw {
        bail!("{op}: kernel {kh}x{kw} larger than padded input {:?} (padding {padding})", x.dims())
    }
    Ok((h, wd, kh, kw))
}

/// Conv2d with bias, stride 1, symmetric zero padding. x [N,C,H,W], w [O,C,K,K], b [O] -> [N,O,H+2p-K+1, W+2p-K+1].
/// Differentiable through candle autograd (custom op with bwd). If `input_grad` is false, no gradient is computed for x.
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize, input_grad: bool) -> Result<Tensor> {
    let (_, _, kh, kw) = check_conv(x, w, b, padding, "conv2d")?;
    let x = if input_grad { x.clone() } else { x.detach() };
    if kh == kw && fast_path(&[&x, w, b]) {
        let op = conv_op::ConvOp { padding, kernel: conv_op::Conv2d { input_grad } };
        x.contiguous()?.apply_op3(&w.contiguous()?, &b.contiguous()?, op)
    } else {
        generic_conv2d(&x, w, b, padding)
    }
}

/// candle's generic conv2d + broadcast bias (the reference the fast path is tested against).
pub fn generic_conv2d(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize) -> Result<Tensor> {
    let o = b.dims1()?;
    x.conv2d(w, padding, 1, 1, 1)?.broadcast_add(&b.reshape((1, o, 1, 1))?)
}

fn check_pool(x: &Tensor) -> Result<()> {
    let (_, _, h, w) = x.dims4()?;
    if h < 2 || w < 2 {
        bail!("pool2x2: height and width must be at least 2, got {:?}", x.dims())
    }
    Ok(())
}

/// 2×2, stride-2 average pooling over [N,C,H,W] (H, W ≥ 2; an odd last row / column is dropped, as in
/// PyTorch), differentiable.
pub fn avg_pool2x2(x: &Tensor) -> Result<Tensor> {
    check_pool(x)?;
    if fast_path(&[x]) {
        x.contiguous()?.apply_op1(pool::Pool2x2(pool::Kind::Avg))
    } else {
        even_crop(x)?.avg_pool2d(2)
    }
}

/// The largest even-sided top-left part of `x` (what 2×2 stride-2 pooling reads).
fn even_crop(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    x.narrow(2, 0, h - h % 2)?.narrow(3, 0, w - w % 2)
}

/// 2×2, stride-2 max pooling over [N,C,H,W] (H, W ≥ 2; an odd last row / column is dropped), differentiable.
///
/// The gradient of each window goes to its first maximum (row-major), as in PyTorch. The generic
/// fallback is a reshape + max reduction (exact gradient, shared between tied maxima); note that
/// candle's own `max_pool2d` backward scales gradients by the fraction of maxima in the window.
pub fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    check_pool(x)?;
    if fast_path(&[x]) {
        x.contiguous()?.apply_op1(pool::Pool2x2(pool::Kind::Max))
    } else {
        generic_max_pool2x2(x)
    }
}

/// Reshape + max-reduction max pooling (generic ops; exact gradients when maxima are unique).
pub fn generic_max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let x = even_crop(x)?;
    let (n, c, h, w) = x.dims4()?;
    x.reshape((n, c, h / 2, 2, w / 2, 2))?.max(5)?.max(3)
}

/// Fused `pool(act(conv2d(x, w, b, padding)))` with 2x2 / stride-2 pooling: same results as
/// composing [`conv2d`], the activation (candle_nn::ops::sigmoid / relu) and [`avg_pool2x2`] /
/// [`max_pool2x2`], but the large pre-pool tensors never become candle tensors, which removes
/// most elementwise work and gradient bookkeeping from a LeNet-5 step. An odd convolution output side is
/// floored by the pooling (its last row / column is dropped), as in [`avg_pool2x2`]. Falls back to the composed
/// generic ops off the fast path (other dtypes or devices).
pub fn conv2d_act_pool(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    padding: usize,
    act: Activation,
    pool: Pooling,
    input_grad: bool,
) -> Result<Tensor> {
    let (h, wd, kh, kw) = check_conv(x, w, b, padding, "conv2d_act_pool")?;
    if h + 2 * padding - kh + 1 < 2 || wd + 2 * padding - kw + 1 < 2 {
        bail!("conv2d_act_pool: convolution output of {:?} is smaller than the 2x2 pooling window", x.dims())
    }
    let x = if input_grad { x.clone() } else { x.detach() };
    if kh == kw && fast_path(&[&x, w, b]) {
        let (x, w, b) = (x.contiguous()?, w.contiguous()?, b.contiguous()?);
        let save = x.track_op() || w.track_op() || b.track_op();
        let kernel = fused::ConvActPool { act, pool, input_grad, save, saved: Default::default() };
        let op = conv_op::ConvOp { padding, kernel };
        if save {
            x.apply_op3(&w, &b, op)
        } else {
            x.apply_op3_no_bwd(&w, &b, &op)
        }
    } else {
        let z = generic_conv2d(&x, w, b, padding)?;
        let a = match act {
            Activation::Identity => z,
            Activation::Sigmoid => candle_nn::ops::sigmoid(&z)?,
            Activation::Relu => z.relu()?,
        };
        match pool {
            Pooling::Avg => even_crop(&a)?.avg_pool2d(2),
            Pooling::Max => generic_max_pool2x2(&a),
        }
    }
}

/// `act(x · wᵀ + b)` for x [N,K], w [O,K], b [O] -> [N,O], differentiable (one custom op with its own backward;
/// no input gradient when `x` is not tracked). Off the fast path it is [`generic_linear`] and the activation.
pub fn linear_act(x: &Tensor, w: &Tensor, b: &Tensor, act: Activation) -> Result<Tensor> {
    let (n, k) = x.dims2()?;
    dense::dense_dims(&[n, k], w.dims(), b.dims())?;
    if fast_path(&[x, w, b]) {
        let (x, w, b) = (x.contiguous()?, w.contiguous()?, b.contiguous()?);
        let op = dense::LinearAct { act, input_grad: x.track_op() };
        if x.track_op() || w.track_op() || b.track_op() {
            x.apply_op3(&w, &b, op)
        } else {
            x.apply_op3_no_bwd(&w, &b, &op)
        }
    } else {
        let z = generic_linear(x, w, b)?;
        match act {
            Activation::Identity => Ok(z),
            Activation::Sigmoid => candle_nn::ops::sigmoid(&z),
            Activation::Relu => z.relu(),
        }
    }
}

/// candle's matmul with the transposed weight and a broadcast bias (the reference of [`linear_act`]).
pub fn generic_linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    x.matmul(&w.t()?)?.broadcast_add(b)
}

/// Mean cross-entropy of `logits` [N,C] against `labels` (N values below C), differentiable. Off the fast path it
/// is candle-nn's `cross_entropy`.
pub fn softmax_cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    if fast_path(&[logits]) && labels.dtype() == DType::U32 {
        let op = loss::SoftmaxCrossEntropy { labels: labels.to_vec1::<u32>()? };
        logits.contiguous()?.apply_op1(op)
    } else {
        candle_nn::loss::cross_entropy(logits, labels)
    }
}

/// Idempotent: sizes the compute thread pool(s) once (rayon's global pool to `RAYON_NUM_THREADS`, or the
/// machine's cores) and sets flush-to-zero / denormals-are-zero on every pool thread (x86_64 MXCSR; no-op
/// elsewhere) and on the calling thread.
///
/// The environment (`RAYON_NUM_THREADS`, and `CANDLE_NUM_THREADS=1`: candle's spin-waiting elementwise
/// "barrier pool" otherwise competes with rayon's pool for the cores, see `threads.rs`) is set where unset by
/// [`crate::startup::init_compute`], the first line of `main`, and by `.cargo/config.toml` under cargo; this
/// function never writes it.
///
/// MXCSR is per thread: the pools' threads are covered once, and the calling thread on every call, so
/// call this from each thread that drives training (e.g. a background worker) before computing.
/// The process-wide entry point is [`crate::startup::init_compute`].
pub fn init_compute_threads() {
    threads::init_compute_threads()
}
