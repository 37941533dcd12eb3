//! Direct 2x2, stride-2 average / max pooling on contiguous f32 `[N, C, H, W]` CPU tensors, forward and
//! backward. Odd sides are floored as in PyTorch: the last row / column is dropped (its gradient is 0), so any
//! map of at least 2×2 pools.

use super::conv_op::f32_slice;
use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Elements below which a pooling call stays on the calling thread.
const MIN_PARALLEL_ELEMS: usize = 1 << 16;

/// Runs `f(input_planes, output_planes)` over matching chunks of whole planes, in parallel when large.
fn for_planes<F>(inp: &[f32], in_plane: usize, out: &mut [f32], out_plane: usize, f: F)
where
    F: Fn(&[f32], &mut [f32]) + Sync,
{
    if inp.is_empty() || out.is_empty() {
        return;
    }
    let planes = inp.len().checked_div(in_plane).unwrap_or(0);
    let threads = rayon::current_num_threads();
    if threads <= 1 || planes <= 1 || inp.len() + out.len() < MIN_PARALLEL_ELEMS || out_plane == 0 {
        f(inp, out);
        return;
    }
    let per = planes.div_ceil(threads);
    inp.par_chunks(per * in_plane).zip(out.par_chunks_mut(per * out_plane)).for_each(|(i, o)| f(i, o));
}

fn dims_2x2(dims: &[usize]) -> Result<(usize, usize, usize, usize)> {
    let &[n, c, h, w] = dims else { bail!("pool2x2: expected a rank-4 tensor, got {dims:?}") };
    if h < 2 || w < 2 {
        bail!("pool2x2: height and width must be at least 2, got {dims:?}")
    }
    Ok((n, c, h, w))
}

/// Index (0..4, row-major in the window) of the first maximum of a 2x2 window (shared with the fused kernel).
#[inline(always)]
pub(crate) fn argmax4(v: [f32; 4]) -> usize {
    let (mut i, mut m) = (0, v[0]);
    for (k, &x) in v.iter().enumerate().skip(1) {
        if x > m {
            i = k;
            m = x;
        }
    }
    i
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Avg,
    Max,
}

pub(crate) struct Pool2x2(pub Kind);

impl CustomOp1 for Pool2x2 {
    fn name(&self) -> &'static str {
        match self.0 {
            Kind::Avg => "fast-avg-pool2x2",
            Kind::Max => "fast-max-pool2x2",
        }
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = dims_2x2(l.dims())?;
        let x = f32_slice(s, l, "pool input")?;
        let (ho, wo) = (h / 2, w / 2);
        let mut out = vec![0f32; n * c * ho * wo];
        let kind = self.0;
        for_planes(x, h * w, &mut out, ho * wo, |xs, ys| {
            for (yrow, i) in ys.chunks_exact_mut(wo).zip(0..) {
                let plane_row = i % ho;
                let base = (i / ho) * h * w + 2 * plane_row * w;
                let (r0, r1) = (&x_row(xs, base, w), &x_row(xs, base + w, w));
                for (j, y) in yrow.iter_mut().enumerate() {
                    let (a, b, cc, d) = (r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]);
                    *y = match kind {
                        Kind::Avg => (a + b + cc + d) * 0.25,
                        Kind::Max => [a, b, cc, d][argmax4([a, b, cc, d])],
                    };
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        let dx = match self.0 {
            Kind::Avg => {
                let (_, _, h, w) = dims_2x2(arg.dims())?;
                grad.apply_op1_no_bwd(&AvgPool2x2Bwd { h, w })?
            }
            Kind::Max => arg.apply_op2_no_bwd(&grad, &MaxPool2x2Bwd)?,
        };
        Ok(Some(dx))
    }
}

#[inline(always)]
fn x_row(xs: &[f32], start: usize, w: usize) -> &[f32] {
    &xs[start..start + w]
}

/// `dx = grad / 4` spread over each window, for an input of `h × w` (a dropped odd row / column gets 0).
struct AvgPool2x2Bwd {
    h: usize,
    w: usize,
}

impl CustomOp1 for AvgPool2x2Bwd {
    fn name(&self) -> &'static str {
        "fast-avg-pool2x2-bwd"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let &[n, c, ho, wo] = l.dims() else { bail!("avg-pool2x2 backward: rank-4 gradient expected") };
        let gy = f32_slice(s, l, "pool gradient")?;
        let (h, w) = (self.h, self.w);
        if (h / 2, w / 2) != (ho, wo) {
            bail!("avg-pool2x2 backward: gradient {:?} does not match an input of {h}x{w}", l.dims())
        }
        let mut dx = vec![0f32; n * c * h * w];
        for_planes(gy, ho * wo, &mut dx, h * w, |gs, dxs| {
            for (grow, i) in gs.chunks_exact(wo).zip(0..) {
                let base = (i / ho) * h * w + 2 * (i % ho) * w;
                let (r0, r1) = dxs[base..base + 2 * w].split_at_mut(w);
                for (j, g) in grow.iter().enumerate() {
                    let v = g * 0.25;
                    r0[2 * j] = v;
                    r0[2 * j + 1] = v;
                    r1[2 * j] = v;
                    r1[2 * j + 1] = v;
                }
            }
        });
        Ok((CpuStorage::F32(dx), Shape::from((n, c, h, w))))
    }
}

/// On `(x, grad)`: the whole window gradient goes to the window's first maximum (as in PyTorch).
struct MaxPool2x2Bwd;

impl CustomOp2 for MaxPool2x2Bwd {
    fn name(&self) -> &'static str {
        "fast-max-pool2x2-bwd"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = dims_2x2(l1.dims())?;
        let (ho, wo) = (h / 2, w / 2);
        if l2.dims() != [n, c, ho, wo] {
            bail!("max-pool2x2 backward: gradient {:?} does not match input {:?}", l2.dims(), l1.dims())
        }
        let x = f32_slice(s1, l1, "pool input")?;
        let gy = f32_slice(s2, l2, "pool gradient")?;
        let mut dx = vec![0f32; n * c * h * w];
        // Parallel over planes of dx; x is indexed by the same plane offsets.
        let planes = n * c;
        let work = |p0: usize, dxs: &mut [f32]| {
            for (pi, dplane) in dxs.chunks_exact_mut(h * w).enumerate() {
                let p = p0 + pi;
                let xp = &x[p * h * w..(p + 1) * h * w];
                let gp = &gy[p * ho * wo..(p + 1) * ho * wo];
                for i in 0..ho {
                    let (r0, r1) = (&xp[2 * i * w..(2 * i + 1) * w], &xp[(2 * i + 1) * w..(2 * i + 2) * w]);
                    for j in 0..wo {
                        let k = argmax4([r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]]);
                        let idx = (2 * i + k / 2) * w + 2 * j + k % 2;
                        dplane[idx] = gp[i * wo + j];
                    }
                }
            }
        };
        let threads = rayon::current_num_threads();
        if dx.is_empty() {
        } else if threads <= 1 || planes <= 1 || dx.len() < MIN_PARALLEL_ELEMS {
            work(0, &mut dx);
        } else {
            let per = planes.div_ceil(threads);
            dx.par_chunks_mut(per * h * w).enumerate().for_each(|(t, ch)| work(t * per, ch));
        }
        Ok((CpuStorage::F32(dx), Shape::from((n, c, h, w))))
    }
}
