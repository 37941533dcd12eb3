//! The fast kernels against candle's generic ops: forward outputs and gradients w.r.t. x, w, b.

use candle_core::{DType, Device, Result, Tensor, Var};
use lenet_playground::kernels;

const TOL: f64 = 1e-4;

/// Asserts |a - b| <= 1e-4 * max(1, |b|) + 1e-5 * rms(b) elementwise, where b is the reference.
///
/// The second term covers entries that are sums of many terms which cancel (weight and bias
/// gradients sum ~10^4 products): both f32 implementations then carry rounding errors of order
/// eps * sqrt(terms) * term size, i.e. proportional to the tensor's typical magnitude (rms), not to
/// the small entry itself. A 1e-3 relative error anywhere still fails.
pub(crate) fn assert_close(what: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.dims(), b.dims(), "{what}: shape");
    let a: Vec<f64> = a.flatten_all().unwrap().to_dtype(DType::F64).unwrap().to_vec1().unwrap();
    let b: Vec<f64> = b.flatten_all().unwrap().to_dtype(DType::F64).unwrap().to_vec1().unwrap();
    let rms = (b.iter().map(|v| v * v).sum::<f64>() / b.len().max(1) as f64).sqrt();
    let mut worst = (0.0f64, 0usize);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(x.is_finite(), "{what}: non-finite at {i}: {x} vs {y}");
        let err = (x - y).abs() / (TOL * y.abs().max(1.0) + 1e-5 * rms);
        if err > worst.0 {
            worst = (err, i);
        }
    }
    assert!(
        worst.0 <= 1.0,
        "{what}: element {} differs: {} vs reference {} ({:.2}x the tolerance, rms {rms:.3e})",
        worst.1,
        a[worst.1],
        b[worst.1],
        worst.0
    );
}

/// Normal values from a seeded generator (a new seed per call), so a failure reproduces: unseeded draws once in a
/// while put two equal values in one pooling window, where a gradient may go to either.
pub(crate) fn randn(shape: &[usize]) -> Tensor {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let mut rng = lenet_playground::engine::rng::Rng::new(CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| rng.normal() as f32).collect::<Vec<_>>(), shape, &Device::Cpu).unwrap()
}

/// Output and gradients (x, w, b) of `loss = sum(out * r)`.
struct Run {
    out: Tensor,
    dx: Option<Tensor>,
    dw: Tensor,
    db: Tensor,
}

fn run_conv(fast: bool, x: &Tensor, w: &Tensor, b: &Tensor, r: &Tensor, pad: usize, input_grad: bool) -> Result<Run> {
    let (xv, wv, bv) = (Var::from_tensor(x)?, Var::from_tensor(w)?, Var::from_tensor(b)?);
    let out = if fast {
        kernels::conv2d(xv.as_tensor(), wv.as_tensor(), bv.as_tensor(), pad, input_grad)?
    } else {
        kernels::generic_conv2d(xv.as_tensor(), wv.as_tensor(), bv.as_tensor(), pad)?
    };
    let grads = (&out * r)?.sum_all()?.backward()?;
    Ok(Run {
        dx: grads.get(xv.as_tensor()).cloned(),
        dw: grads.get(wv.as_tensor()).unwrap().clone(),
        db: grads.get(bv.as_tensor()).unwrap().clone(),
        out,
    })
}

pub(crate) fn check_conv(n: usize, c: usize, h: usize, w: usize, o: usize, k: usize, pad: usize) {
    let x = randn(&[n, c, h, w]);
    let wt = (randn(&[o, c, k, k]) * 0.3).unwrap();
    let b = randn(&[o]);
    let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    let r = randn(&[n, o, ho, wo]);
    let fast = run_conv(true, &x, &wt, &b, &r, pad, true).unwrap();
    let slow = run_conv(false, &x, &wt, &b, &r, pad, true).unwrap();
    let tag = format!("conv n{n} c{c} {h}x{w} o{o} k{k} p{pad}");
    assert_eq!(fast.out.dims(), &[n, o, ho, wo]);
    assert_close(&format!("{tag} forward"), &fast.out, &slow.out);
    assert_close(&format!("{tag} dx"), fast.dx.as_ref().unwrap(), slow.dx.as_ref().unwrap());
    assert_close(&format!("{tag} dw"), &fast.dw, &slow.dw);
    assert_close(&format!("{tag} db"), &fast.db, &slow.db);
}

#[test]
fn conv_c1_shapes() {
    check_conv(20, 1, 28, 28, 6, 5, 2);
}

#[test]
fn conv_c3_shapes() {
    check_conv(20, 6, 14, 14, 16, 5, 0);
}

#[test]
fn conv_single_image() {
    check_conv(1, 1, 28, 28, 6, 5, 2);
    check_conv(1, 6, 14, 14, 16, 5, 0);
}

#[test]
fn conv_odd_shapes() {
    check_conv(3, 2, 9, 7, 5, 3, 1);
    check_conv(2, 3, 5, 6, 4, 3, 2); // padding wider than half the kernel
    check_conv(2, 2, 2, 3, 3, 5, 3); // kernel larger than the input
    check_conv(4, 3, 8, 5, 2, 1, 0); // 1x1 kernel
    check_conv(5, 2, 4, 4, 3, 4, 0); // even kernel, 1x1 output
}

#[test]
fn conv_without_input_grad() {
    let (x, w, b) = (randn(&[4, 6, 14, 14]), randn(&[16, 6, 5, 5]), randn(&[16]));
    let r = randn(&[4, 16, 10, 10]);
    let fast = run_conv(true, &x, &w, &b, &r, 0, false).unwrap();
    let slow = run_conv(false, &x, &w, &b, &r, 0, true).unwrap();
    assert!(fast.dx.is_none(), "input_grad=false must not produce an input gradient");
    assert_close("no-input-grad forward", &fast.out, &slow.out);
    assert_close("no-input-grad dw", &fast.dw, &slow.dw);
    assert_close("no-input-grad db", &fast.db, &slow.db);
}

#[test]
fn conv_strided_input_and_f64_fallback() {
    // A transposed (non-contiguous) input goes through the fast path after a copy.
    let xt = randn(&[3, 2, 7, 9]).transpose(2, 3).unwrap();
    let (w, b) = (randn(&[5, 2, 3, 3]), randn(&[5]));
    let fast = kernels::conv2d(&xt, &w, &b, 1, true).unwrap();
    let slow = kernels::generic_conv2d(&xt, &w, &b, 1).unwrap();
    assert_close("strided input", &fast, &slow);
    // f64 falls back to candle's generic ops.
    let (x64, w64, b64) =
        (xt.to_dtype(DType::F64).unwrap(), w.to_dtype(DType::F64).unwrap(), b.to_dtype(DType::F64).unwrap());
    let out64 = kernels::conv2d(&x64, &w64, &b64, 1, false).unwrap();
    assert_eq!(out64.dtype(), DType::F64);
    assert_close("f64 fallback", &out64, &slow);
}

#[test]
fn invalid_shapes_are_errors() {
    let x = randn(&[2, 3, 8, 8]);
    assert!(kernels::conv2d(&x, &randn(&[4, 2, 3, 3]), &randn(&[4]), 0, true).is_err(), "channel mismatch");
    assert!(kernels::conv2d(&x, &randn(&[4, 3, 3, 3]), &randn(&[5]), 0, true).is_err(), "bias mismatch");
    assert!(kernels::conv2d(&x, &randn(&[4, 3, 9, 9]), &randn(&[4]), 0, true).is_err(), "kernel too large");
    assert!(kernels::conv2d(&randn(&[3, 8, 8]), &randn(&[4, 3, 3, 3]), &randn(&[4]), 0, true).is_err(), "rank");
    assert!(kernels::avg_pool2x2(&randn(&[2, 3, 1, 8])).is_err(), "height below the window");
    assert!(kernels::max_pool2x2(&randn(&[2, 3, 8, 1])).is_err(), "width below the window");
    assert!(kernels::max_pool2x2(&randn(&[3, 8, 8])).is_err(), "rank");
}

/// Output and input gradient of `loss = sum(pool(x) * r)`.
fn run_pool(f: impl Fn(&Tensor) -> Result<Tensor>, x: &Tensor, r: &Tensor) -> (Tensor, Tensor) {
    let xv = Var::from_tensor(x).unwrap();
    let out = f(xv.as_tensor()).unwrap();
    let grads = (&out * r).unwrap().sum_all().unwrap().backward().unwrap();
    (out, grads.get(xv.as_tensor()).unwrap().clone())
}

#[test]
fn avg_pool_matches_candle() {
    for dims in [[20, 6, 28, 28], [20, 16, 10, 10], [3, 2, 6, 8], [1, 1, 2, 2]] {
        let x = randn(&dims);
        let r = randn(&[dims[0], dims[1], dims[2] / 2, dims[3] / 2]);
        let (fo, fg) = run_pool(kernels::avg_pool2x2, &x, &r);
        let (so, sg) = run_pool(|t| t.avg_pool2d(2), &x, &r);
        assert_close(&format!("avg pool {dims:?} forward"), &fo, &so);
        assert_close(&format!("avg pool {dims:?} dx"), &fg, &sg);
    }
}

#[test]
fn max_pool_matches_candle() {
    for dims in [[20, 6, 28, 28], [20, 16, 10, 10], [3, 2, 6, 8], [1, 1, 2, 2]] {
        let x = randn(&dims);
        let r = randn(&[dims[0], dims[1], dims[2] / 2, dims[3] / 2]);
        let (fo, fg) = run_pool(kernels::max_pool2x2, &x, &r);
        // Forward against candle's max_pool2d.
        let (so, _) = run_pool(|t| t.max_pool2d(2), &x, &r);
        assert_close(&format!("max pool {dims:?} forward"), &fo, &so);
        // Gradient against the generic reshape + max reduction (exact for unique maxima)...
        let (go, gg) = run_pool(kernels::generic_max_pool2x2, &x, &r);
        assert_close(&format!("max pool {dims:?} generic forward"), &fo, &go);
        assert_close(&format!("max pool {dims:?} dx"), &fg, &gg);
        // ...and against the definition: each window's gradient lands on its maximum only.
        let up = fo.upsample_nearest2d(dims[2], dims[3]).unwrap();
        let mask = x.eq(&up).unwrap().to_dtype(DType::F32).unwrap();
        let expect = (r.upsample_nearest2d(dims[2], dims[3]).unwrap() * mask).unwrap();
        assert_close(&format!("max pool {dims:?} dx by definition"), &fg, &expect);
    }
}

#[test]
fn max_pool_ties_go_to_first_maximum() {
    let x = Tensor::new(&[[[[1f32, 1.], [0., 1.]]]], &Device::Cpu).unwrap();
    let r = Tensor::new(&[[[[2f32]]]], &Device::Cpu).unwrap();
    let (_, g) = run_pool(kernels::max_pool2x2, &x, &r);
    assert_eq!(g.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![2., 0., 0., 0.]);
}

#[test]
fn pool_fallbacks_for_f64() {
    let x = randn(&[2, 3, 6, 4]).to_dtype(DType::F64).unwrap();
    assert_close("avg f64", &kernels::avg_pool2x2(&x).unwrap(), &x.avg_pool2d(2).unwrap());
    assert_close("max f64", &kernels::max_pool2x2(&x).unwrap(), &x.max_pool2d(2).unwrap());
}

#[test]
fn init_compute_threads_sets_flush_to_zero() {
    kernels::init_compute_threads();
    kernels::init_compute_threads(); // idempotent
    assert!(std::env::var("RAYON_NUM_THREADS").is_ok());
    if cfg!(target_arch = "x86_64") {
        assert!(kernels::flush_to_zero_enabled());
        let tiny = std::hint::black_box(1e-30f32) * std::hint::black_box(1e-10f32);
        assert_eq!(tiny, 0.0, "subnormal result should be flushed to zero");
        // rayon worker threads too.
        let all = rayon::broadcast(|_| kernels::flush_to_zero_enabled());
        assert!(all.iter().all(|&b| b), "every rayon worker flushes subnormals");
    }
}

pub(crate) fn act_pool_generic(z: &Tensor, act: kernels::Activation, pool: kernels::Pooling) -> Result<Tensor> {
    let a = match act {
        kernels::Activation::Identity => z.clone(),
        kernels::Activation::Sigmoid => candle_nn::ops::sigmoid(z)?,
        kernels::Activation::Relu => z.relu()?,
    };
    // Odd sides are floored: the reference pools the even top-left part.
    let (_, _, h, w) = a.dims4()?;
    let a = a.narrow(2, 0, h - h % 2)?.narrow(3, 0, w - w % 2)?;
    match pool {
        kernels::Pooling::Avg => a.avg_pool2d(2),
        kernels::Pooling::Max => kernels::generic_max_pool2x2(&a),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn check_fused(n: usize, c: usize, h: usize, w: usize, o: usize, k: usize, pad: usize, input_grad: bool) {
    check_fused_scaled(n, c, h, w, o, k, pad, input_grad, 0.3)
}

#[allow(clippy::too_many_arguments)]
fn check_fused_scaled(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    k: usize,
    pad: usize,
    input_grad: bool,
    wscale: f64,
) {
    use kernels::{Activation::*, Pooling::*};
    let x = randn(&[n, c, h, w]);
    let wt = (randn(&[o, c, k, k]) * wscale).unwrap();
    let b = randn(&[o]);
    let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    let r = randn(&[n, o, ho / 2, wo / 2]);
    for (act, pool) in [(Sigmoid, Avg), (Relu, Max), (Identity, Avg), (Sigmoid, Max), (Relu, Avg)] {
        let tag = format!("fused {act:?}+{pool:?} n{n} c{c} {h}x{w} o{o} k{k} p{pad}");
        let run = |fast: bool| {
            let (xv, wv, bv) =
                (Var::from_tensor(&x).unwrap(), Var::from_tensor(&wt).unwrap(), Var::from_tensor(&b).unwrap());
            let out = if fast {
                kernels::conv2d_act_pool(xv.as_tensor(), wv.as_tensor(), bv.as_tensor(), pad, act, pool, input_grad)
                    .unwrap()
            } else {
                let z = kernels::generic_conv2d(xv.as_tensor(), wv.as_tensor(), bv.as_tensor(), pad).unwrap();
                act_pool_generic(&z, act, pool).unwrap()
            };
            let grads = (&out * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let get = |v: &Var| grads.get(v.as_tensor()).cloned();
            (out, get(&xv), get(&wv).unwrap(), get(&bv).unwrap())
        };
        let (fo, fdx, fdw, fdb) = run(true);
        let (so, sdx, sdw, sdb) = run(false);
        assert_close(&format!("{tag} forward"), &fo, &so);
        if input_grad {
            assert_close(&format!("{tag} dx"), fdx.as_ref().unwrap(), sdx.as_ref().unwrap());
        } else {
            assert!(fdx.is_none(), "{tag}: input_grad=false must not produce an input gradient");
        }
        assert_close(&format!("{tag} dw"), &fdw, &sdw);
        assert_close(&format!("{tag} db"), &fdb, &sdb);
        // No-grad (inference) path: nothing tracked, same output.
        let inf = kernels::conv2d_act_pool(&x, &wt, &b, pad, act, pool, input_grad).unwrap();
        assert!(!inf.track_op());
        assert_close(&format!("{tag} inference forward"), &inf, &so);
    }
}

#[test]
fn fused_conv_act_pool_model_shapes() {
    check_fused(12, 1, 28, 28, 6, 5, 2, false);
    check_fused(12, 6, 14, 14, 16, 5, 0, true);
    check_fused(1, 6, 14, 14, 16, 5, 0, true);
}

#[test]
fn fused_conv_act_pool_saturating() {
    // Weights x20: pre-activations up to ~100, sigmoids saturate and their gradients underflow.
    check_fused_scaled(4, 2, 8, 8, 3, 3, 1, true, 20.0);
}

#[test]
fn fused_conv_act_pool_odd_shapes() {
    check_fused(3, 2, 10, 8, 5, 3, 1, true);
    check_fused(2, 3, 3, 5, 4, 4, 2, true);
    // A convolution output below the pooling window is an error, f64 falls back to generic ops.
    let (x, w, b) = (randn(&[2, 2, 1, 8]), randn(&[3, 2, 3, 3]), randn(&[3]));
    assert!(kernels::conv2d_act_pool(&x, &w, &b, 0, kernels::Activation::Relu, kernels::Pooling::Max, true).is_err());
    let f64s = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
    let x = randn(&[2, 2, 8, 8]);
    let out = kernels::conv2d_act_pool(
        &f64s(&x),
        &f64s(&w),
        &f64s(&b),
        1,
        kernels::Activation::Sigmoid,
        kernels::Pooling::Avg,
        true,
    )
    .unwrap();
    let expect =
        kernels::conv2d_act_pool(&x, &w, &b, 1, kernels::Activation::Sigmoid, kernels::Pooling::Avg, true).unwrap();
    assert_close("fused f64 fallback", &out, &expect);
}
