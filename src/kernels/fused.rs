//! Fused conv2d + bias + activation + 2x2 pooling (one custom op), so the large pre-pool tensors
//! never enter candle's graph: no elementwise candle ops or gradient accumulations on them.
//!
//! Forward keeps the post-activation tensor `a` (`[n, o, ho, wo]`) inside the op for the backward
//! pass; backward turns the pooled gradient into the pre-activation gradient image by image and
//! feeds it to the shared convolution backward. An odd convolution output side is floored by the pooling (as in
//! PyTorch): the last row / column is never read and its gradient is 0.

use super::conv;
use super::conv_op::{check_bias, packed, packed_grads, ConvKernel, Grads};
use super::geom::{n_tasks, Geom};
use super::im2col::im2col;
use super::pool::argmax4;
use candle_core::{bail, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Activation applied after the convolution's bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Sigmoid,
    Relu,
}

/// 2x2, stride-2 pooling applied after the activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    Avg,
    Max,
}

#[inline(always)]
pub(super) fn activate(act: Activation, v: &mut [f32]) {
    match act {
        Activation::Identity => {}
        Activation::Sigmoid => sigmoid_slice(v),
        Activation::Relu => v.iter_mut().for_each(|z| *z = z.max(0.0)),
    }
}

#[inline(always)]
fn sigmoid_slice_body(v: &mut [f32]) {
    v.iter_mut().for_each(|z| *z = 1.0 / (1.0 + fast_exp(-*z)));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_slice_avx2(v: &mut [f32]) {
    sigmoid_slice_body(v)
}

/// In-place logistic sigmoid, 8-wide AVX2+FMA when the CPU has it.
fn sigmoid_slice(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the required CPU features were just detected.
        return unsafe { sigmoid_slice_avx2(v) };
    }
    sigmoid_slice_body(v)
}

/// `exp(x)` to ~1 ulp-level relative accuracy (Cephes `expf` polynomial), written branch-free so
/// the sigmoid loop vectorises (no `floor` call); inputs are clamped to [-87, 88] (results stay normal floats).
#[inline(always)]
fn fast_exp(x: f32) -> f32 {
    // Not `clamp`: max/min map NaN to -87, which keeps `n` below an integer (see SAFETY).
    #[allow(clippy::manual_clamp)]
    let x = x.max(-87.0).min(88.0);
    // Round to nearest without a libm call: adding 1.5 * 2^23 pushes the fraction out.
    const MAGIC: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001e-1, which is 0.5 in f32
    let e = p * r * r + r + 1.0;
    // SAFETY: n is an integer in [-126, 127] (x clamped above), so the conversion is exact.
    let ni = unsafe { n.to_int_unchecked::<i32>() };
    e * f32::from_bits(((ni + 127) as u32) << 23)
}

/// Derivative of the activation expressed through its output `a`.
#[inline(always)]
pub(super) fn act_grad(act: Activation, a: f32) -> f32 {
    match act {
        Activation::Identity => 1.0,
        Activation::Sigmoid => a * (1.0 - a),
        Activation::Relu => {
            if a > 0.0 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// `z = w * cols + b` then the activation, for one image: `a_img` is `[o, plane]`.
pub(super) fn conv_act_image(g: &Geom, act: Activation, w: &[f32], b: &[f32], cols: &[f32], a_img: &mut [f32]) {
    let plane = g.plane();
    for (o, row) in a_img.chunks_exact_mut(plane).enumerate() {
        row.fill(b[o]);
    }
    conv::conv_gemm(g, w, cols, a_img, true);
    activate(act, a_img);
}

/// Pools one image `a_img` (`[o, ho, wo]`) into `y_img` (`[o, ho/2, wo/2]`); an odd last row / column is dropped.
pub(super) fn pool_image(g: &Geom, pool: Pooling, a_img: &[f32], y_img: &mut [f32]) {
    let (wo, hp, wp) = (g.wo, g.ho / 2, g.wo / 2);
    for r in 0..g.o * hp {
        let base = pair_row_start(g, r);
        let (r0, r1) = (&a_img[base..base + wo], &a_img[base + wo..base + 2 * wo]);
        let yrow = &mut y_img[r * wp..(r + 1) * wp];
        for (j, y) in yrow.iter_mut().enumerate() {
            let v = [r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]];
            *y = match pool {
                Pooling::Avg => (v[0] + v[1] + v[2] + v[3]) * 0.25,
                Pooling::Max => v[argmax4(v)],
            };
        }
    }
}

/// Where pooled row `r` (over all channels: channel `r / (ho/2)`, row `r % (ho/2)`) starts reading in one image's
/// `[o, ho, wo]` activations: its two conv rows are `[start, start + 2*wo)`.
#[inline(always)]
fn pair_row_start(g: &Geom, r: usize) -> usize {
    let hp = g.ho / 2;
    (r / hp) * g.plane() + 2 * (r % hp) * g.wo
}

/// Values of one image's pooled output, `[o, ho/2, wo/2]`.
fn pooled_img(g: &Geom) -> usize {
    g.o * (g.ho / 2) * (g.wo / 2)
}

/// Gradient w.r.t. the pre-activation `z` of one image from the pooled gradient `gp`.
pub(super) fn pre_act_grad(g: &Geom, act: Activation, pool: Pooling, a_img: &[f32], gp: &[f32], gz: &mut [f32]) {
    match pool {
        Pooling::Avg => {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the required CPU feature was just detected.
                return unsafe { pre_act_grad_avg_avx2(g, act, a_img, gp, gz) };
            }
            pre_act_grad_avg(g, act, a_img, gp, gz)
        }
        // Monomorphised so the per-element activation choice is resolved at compile time.
        Pooling::Max => match act {
            Activation::Identity => pre_act_grad_max::<0>(g, a_img, gp, gz),
            Activation::Sigmoid => pre_act_grad_max::<1>(g, a_img, gp, gz),
            Activation::Relu => pre_act_grad_max::<2>(g, a_img, gp, gz),
        },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pre_act_grad_avg_avx2(g: &Geom, act: Activation, a_img: &[f32], gp: &[f32], gz: &mut [f32]) {
    pre_act_grad_avg(g, act, a_img, gp, gz)
}

/// Average pooling: every pre-activation gradient is `gp/4 * act'(a)`. The pooled row is first spread to the full
/// row width, so the per-element loop is a plain product over contiguous rows (vectorised).
#[inline(always)]
fn pre_act_grad_avg(g: &Geom, act: Activation, a_img: &[f32], gp: &[f32], gz: &mut [f32]) {
    #[inline(always)]
    fn rows<const ACT: u8>(g: &Geom, a_img: &[f32], gp: &[f32], gz: &mut [f32]) {
        let (wo, wp) = (g.wo, g.wo / 2);
        // An odd side's last row / column reads nothing: its gradient is 0.
        if g.ho % 2 == 1 || wo % 2 == 1 {
            gz.fill(0.0);
        }
        let mut q = [0f32; 64];
        let mut q_heap = Vec::new();
        let q: &mut [f32] = if wo <= 64 {
            &mut q[..wo]
        } else {
            q_heap.resize(wo, 0.0);
            &mut q_heap
        };
        let pair_rows = g.o * (g.ho / 2);
        for r in 0..pair_rows {
            let grow = &gp[r * wp..(r + 1) * wp];
            for (j, &gv) in grow.iter().enumerate() {
                let v = gv * 0.25;
                q[2 * j] = v;
                q[2 * j + 1] = v;
            }
            // Pair row r covers two conv rows: [start, start + 2*wo) (q's odd last column stays 0).
            let start = pair_row_start(g, r);
            let span = start..start + 2 * wo;
            for (zr, ar) in gz[span.clone()].chunks_exact_mut(wo).zip(a_img[span].chunks_exact(wo)) {
                for ((z, &a), &qv) in zr.iter_mut().zip(ar).zip(q.iter()) {
                    *z = match ACT {
                        0 => qv * 1.0,
                        1 => qv * (a * (1.0 - a)),
                        _ => qv * if a > 0.0 { 1.0 } else { 0.0 },
                    };
                }
            }
        }
    }
    match act {
        Activation::Identity => rows::<0>(g, a_img, gp, gz),
        Activation::Sigmoid => rows::<1>(g, a_img, gp, gz),
        Activation::Relu => rows::<2>(g, a_img, gp, gz),
    }
}

/// Max pooling: the pooled gradient goes to each window's first maximum, times `act'(a)` there; the rest is 0.
fn pre_act_grad_max<const ACT: u8>(g: &Geom, a_img: &[f32], gp: &[f32], gz: &mut [f32]) {
    let act = match ACT {
        0 => Activation::Identity,
        1 => Activation::Sigmoid,
        _ => Activation::Relu,
    };
    let (wo, wp) = (g.wo, g.wo / 2);
    let rows = g.o * (g.ho / 2);
    gz.fill(0.0);
    for r in 0..rows {
        let base = pair_row_start(g, r);
        let grow = &gp[r * wp..(r + 1) * wp];
        for (j, &gv) in grow.iter().enumerate() {
            let idx = [base + 2 * j, base + 2 * j + 1, base + wo + 2 * j, base + wo + 2 * j + 1];
            let k = argmax4(idx.map(|i| a_img[i]));
            gz[idx[k]] = gv * act_grad(act, a_img[idx[k]]);
        }
    }
}

fn check_geom(g: &Geom) -> Result<()> {
    if g.ho < 2 || g.wo < 2 {
        bail!("conv2d_act_pool: convolution output {}x{} is smaller than the 2x2 pooling window", g.ho, g.wo)
    }
    Ok(())
}

/// Fused convolution, bias, activation and pooling on `(x, w, b)`.
pub(crate) struct ConvActPool {
    pub act: Activation,
    pub pool: Pooling,
    pub input_grad: bool,
    /// Keep the post-activation tensor for the backward pass.
    pub save: bool,
    pub saved: Mutex<Option<Arc<Vec<f32>>>>,
}

impl ConvKernel for ConvActPool {
    const NAME: &'static str = "fast-conv2d-act-pool";
    const THIRD: &'static str = "conv2d bias";

    fn compute(&self, g: &Geom, x: &[f32], w: &[f32], b: &[f32], b_dims: &[usize]) -> Result<(Vec<f32>, Shape)> {
        check_geom(g)?;
        check_bias(g, b_dims)?;
        let (ckk, plane, in_img, out_img) = (g.ckk(), g.plane(), g.in_img(), g.out_img());
        let y_img = pooled_img(g);
        let mut y = vec![0f32; g.n * y_img];
        // The full activation tensor when saving; else one image's worth of scratch per task.
        let mut a = vec![0f32; if self.save { g.n * out_img } else { 0 }];
        let run = |n0: usize, y_chunk: &mut [f32], mut a_chunk: Option<&mut [f32]>| {
            let mut cols = vec![0f32; ckk * plane];
            let mut scratch = if a_chunk.is_none() { vec![0f32; out_img] } else { Vec::new() };
            for (i, y_n) in y_chunk.chunks_exact_mut(y_img).enumerate() {
                let n = n0 + i;
                im2col(g, &x[n * in_img..(n + 1) * in_img], &mut cols);
                let a_n = match a_chunk.as_deref_mut() {
                    Some(a) => &mut a[i * out_img..(i + 1) * out_img],
                    None => &mut scratch[..],
                };
                conv_act_image(g, self.act, w, b, &cols, a_n);
                pool_image(g, self.pool, a_n, y_n);
            }
        };
        if !y.is_empty() {
            let tasks = n_tasks(g.n, g.o * ckk * plane);
            let per = g.n.div_ceil(tasks);
            match (tasks, self.save) {
                (1, true) => run(0, &mut y, Some(&mut a)),
                (1, false) => run(0, &mut y, None),
                (_, true) => y
                    .par_chunks_mut(per * y_img)
                    .zip(a.par_chunks_mut(per * out_img))
                    .enumerate()
                    .for_each(|(t, (yc, ac))| run(t * per, yc, Some(ac))),
                (_, false) => y.par_chunks_mut(per * y_img).enumerate().for_each(|(t, yc)| run(t * per, yc, None)),
            }
        }
        if self.save {
            *self.saved.lock().unwrap() = Some(Arc::new(a));
        }
        Ok((y, Shape::from((g.n, g.o, g.ho / 2, g.wo / 2))))
    }

    fn grads(&self, padding: usize, x: &Tensor, w: &Tensor, b: &Tensor, grad: &Tensor) -> Result<Grads> {
        let Some(saved) = self.saved.lock().unwrap().clone() else {
            bail!("conv2d_act_pool: backward pass of a forward pass that kept no activations")
        };
        let bwd = ConvActPoolBwd { act: self.act, pool: self.pool, input_grad: self.input_grad, saved };
        packed_grads(padding, bwd, x, w, b, grad, self.input_grad)
    }
}

/// Backward of [`ConvActPool`] on `(x, w, grad_pooled)`, producing `[dx | dw | db]` from the saved activations.
struct ConvActPoolBwd {
    act: Activation,
    pool: Pooling,
    input_grad: bool,
    saved: Arc<Vec<f32>>,
}

impl ConvKernel for ConvActPoolBwd {
    const NAME: &'static str = "fast-conv2d-act-pool-bwd";
    const THIRD: &'static str = "pooled gradient";

    fn compute(&self, g: &Geom, x: &[f32], w: &[f32], gp: &[f32], gp_dims: &[usize]) -> Result<(Vec<f32>, Shape)> {
        check_geom(g)?;
        if gp_dims != [g.n, g.o, g.ho / 2, g.wo / 2] {
            bail!("conv2d_act_pool backward: gradient shape {gp_dims:?} does not match {g:?}")
        }
        let out_img = g.out_img();
        let y_img = pooled_img(g);
        let a: &[f32] = &self.saved;
        if a.len() != g.n * out_img {
            bail!("conv2d_act_pool backward: {} saved activations for {g:?}", a.len())
        }
        let (act, pool) = (self.act, self.pool);
        let grads = conv::backward_with(g, x, w, self.input_grad, |n, gz| {
            let gp_n = &gp[n * y_img..(n + 1) * y_img];
            pre_act_grad(g, act, pool, &a[n * out_img..(n + 1) * out_img], gp_n, gz)
        });
        Ok(packed(grads))
    }
}
