//! Stride-1, zero-padded 2-D convolution on f32 CPU tensors: im2col + gemm per image, batch split
//! across the rayon pool (one contiguous range of images per thread, single-threaded gemm inside),
//! bias fused into the gemm's destination, and a single fused backward pass computing the weight,
//! bias and (optionally) input gradients.

use super::gemm::sgemm;
use super::geom::{n_tasks, Geom};
use super::im2col::{col2im, col2im_ld, im2col, im2col_ld};
use rayon::prelude::*;

/// One image's convolution without bias: `y[o, p] (+)= sum_r w[o, r] * cols[r, p]`, `y` row-major `[o, plane]`.
/// With few output channels (LeNet's c1: 6) the plane runs along the gemm's vector dimension instead, so the
/// micro-kernel's 16-wide rows are not mostly empty.
pub(crate) fn conv_gemm(g: &Geom, w: &[f32], cols: &[f32], y: &mut [f32], accumulate: bool) {
    let (ckk, plane) = (g.ckk(), g.plane());
    if g.o < 16 && plane >= 64 {
        // y^T [plane x o] = cols^T [plane x ckk] * w^T [ckk x o], all read in place through their strides.
        sgemm(plane, g.o, ckk, y, (plane, 1), accumulate, cols, (plane, 1), w, (ckk, 1));
    } else {
        sgemm(g.o, plane, ckk, y, (1, plane), accumulate, w, (1, ckk), cols, (1, plane));
    }
}

/// Forward pass: `[n, o, ho, wo]`, contiguous.
pub(crate) fn forward(g: &Geom, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let (ckk, plane, in_img, out_img) = (g.ckk(), g.plane(), g.in_img(), g.out_img());
    let mut out = vec![0f32; g.n * out_img];
    if out.is_empty() {
        return out;
    }
    let run = |n0: usize, out_chunk: &mut [f32]| {
        let mut cols = vec![0f32; ckk * plane];
        for (i, y) in out_chunk.chunks_exact_mut(out_img).enumerate() {
            let n = n0 + i;
            im2col(g, &x[n * in_img..(n + 1) * in_img], &mut cols);
            for (o, row) in y.chunks_exact_mut(plane).enumerate() {
                row.fill(b[o]);
            }
            conv_gemm(g, w, &cols, y, true);
        }
    };
    let tasks = n_tasks(g.n, g.o * ckk * plane);
    if tasks == 1 {
        run(0, &mut out);
    } else {
        let per = g.n.div_ceil(tasks);
        out.par_chunks_mut(per * out_img).enumerate().for_each(|(t, ch)| run(t * per, ch));
    }
    out
}

/// Backward pass. Returns `[dx (n*c*h*w, only if input_grad) | dw (o*c*k*k) | db (o)]`.
pub(crate) fn backward(g: &Geom, x: &[f32], w: &[f32], gy: &[f32], input_grad: bool) -> Vec<f32> {
    let out_img = g.out_img();
    backward_with(g, x, w, input_grad, |n, gy_n| gy_n.copy_from_slice(&gy[n * out_img..(n + 1) * out_img]))
}

/// `dw[o, r] += sum_p gy[o, p] * cols[r, p]` for one image, as `dw^T = cols * gy^T` (the `ckk` rows run along
/// the gemm's vector dimension; few output channels would leave it mostly empty).
fn dw_gemm(g: &Geom, cols: &[f32], gy: &[f32], dw: &mut [f32]) {
    let (ckk, plane) = (g.ckk(), g.plane());
    // dw^T [ckk x o] += cols [ckk x plane] * gy^T [plane x o].
    sgemm(ckk, g.o, plane, dw, (ckk, 1), true, cols, (1, plane), gy, (plane, 1));
}

/// Images per weight-gradient gemm (its contraction runs over `BWD_CHUNK * ho * wo`).
const BWD_CHUNK: usize = 16;

/// Backward pass where `make_gy(n, gy_n)` writes the gradient w.r.t. the convolution output
/// (pre-activation) of image `n` into `gy_n` (`[o, ho*wo]`). Returns `[dx (only if input_grad) | dw | db]`.
pub(crate) fn backward_with<F>(g: &Geom, x: &[f32], w: &[f32], input_grad: bool, make_gy: F) -> Vec<f32>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let (ckk, plane, in_img) = (g.ckk(), g.plane(), g.in_img());
    let nx = if input_grad { g.n * in_img } else { 0 };
    let nwb = g.o * ckk + g.o;
    let mut packed = vec![0f32; nx + nwb];
    let (dx_all, dwb) = packed.split_at_mut(nx);
    if g.n == 0 || nwb == 0 || plane == 0 {
        return packed;
    }
    // Gradients for images n0..n1; returns the partial [dw | db].
    let run = |n0: usize, n1: usize, dx: Option<&mut [f32]>| -> Vec<f32> {
        let mut acc = vec![0f32; nwb];
        backward_range(g, x, w, n0..n1, dx, &make_gy, &mut acc, &mut BwdScratch::default(), None);
        acc
    };
    let mac = g.o * ckk * plane * if input_grad { 3 } else { 2 };
    let tasks = n_tasks(g.n, mac);
    let partials: Vec<Vec<f32>> = if tasks == 1 {
        vec![run(0, g.n, input_grad.then_some(dx_all))]
    } else {
        let per = g.n.div_ceil(tasks);
        if input_grad && in_img > 0 {
            dx_all
                .par_chunks_mut(per * in_img)
                .enumerate()
                .map(|(t, ch)| run(t * per, ((t + 1) * per).min(g.n), Some(ch)))
                .collect()
        } else {
            (0..tasks).into_par_iter().map(|t| run((t * per).min(g.n), ((t + 1) * per).min(g.n), None)).collect()
        }
    };
    for part in &partials {
        for (d, s) in dwb.iter_mut().zip(part) {
            *d += *s;
        }
    }
    packed
}

/// One thread's buffers for [`backward_range`], kept between calls (they only grow).
#[derive(Default)]
pub(crate) struct BwdScratch {
    cols: Vec<f32>,
    cols_c: Vec<f32>,
    gy_c: Vec<f32>,
    gy_n: Vec<f32>,
    dcols: Vec<f32>,
}

/// The first `n` values of `v`, grown (with zeros) if it is shorter; old values are left as they are.
pub(crate) fn sized(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

/// Whether the weight gradient is computed image by image (few output channels over a large plane, LeNet's c1:
/// `dw^T += cols * gy^T`, see `dw_gemm`) rather than one gemm per chunk of images over the transposed im2col.
pub(crate) fn per_image_dw(g: &Geom) -> bool {
    g.o < 16 && g.plane() >= 64
}

/// The gradients of images `images` on the calling thread: `dwb` (`[dw | db]`) is overwritten with their weight
/// and bias gradients, and `dx` (if given: the images' input gradients, `[len, c, h, w]`) with their input
/// gradients. `make_gy(n, gy_n)` writes the gradient w.r.t. the convolution output of image `n`. `saved`: the
/// images' im2col kept by the forward pass (`ckk * plane` per image, from image `images.start`), read instead of
/// recomputed where the weight gradient goes image by image.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_range<F>(
    g: &Geom,
    x: &[f32],
    w: &[f32],
    images: std::ops::Range<usize>,
    mut dx: Option<&mut [f32]>,
    make_gy: &F,
    dwb: &mut [f32],
    s: &mut BwdScratch,
    saved: Option<&[f32]>,
) where
    F: Fn(usize, &mut [f32]) + ?Sized,
{
    let (ckk, plane, in_img, out_img) = (g.ckk(), g.plane(), g.in_img(), g.out_img());
    let (n0, n1) = (images.start, images.end);
    dwb.fill(0.0);
    if n0 >= n1 || plane == 0 {
        return;
    }
    let per_image_dw = per_image_dw(g);
    let chunk = BWD_CHUNK.min(n1 - n0);
    // Chunk path: cols_c `[ckk, (j, p)]` and gy_c `[o, (j, p)]`, row stride ld = images in chunk * plane.
    let (cols, cols_c, gy_c) = if per_image_dw {
        (sized(&mut s.cols, ckk * plane), &mut [][..], &mut [][..])
    } else {
        (&mut [][..], sized(&mut s.cols_c, chunk * plane * ckk), sized(&mut s.gy_c, chunk * plane * g.o))
    };
    let gy_n = sized(&mut s.gy_n, out_img);
    // The input gradient's columns: one image's, or (chunk path) the whole chunk's from one gemm.
    let dcols_len = if per_image_dw { ckk * plane } else { ckk * chunk * plane };
    let dcols = if dx.is_some() { sized(&mut s.dcols, dcols_len) } else { &mut [][..] };
    let (dw, db) = dwb.split_at_mut(g.o * ckk);
    let mut first = true;
    let mut c0 = n0;
    while c0 < n1 {
        let c1 = (c0 + chunk).min(n1);
        let ld = (c1 - c0) * plane;
        for n in c0..c1 {
            let j = n - c0;
            make_gy(n, gy_n);
            if per_image_dw {
                for (o, row) in gy_n.chunks_exact(plane).enumerate() {
                    db[o] += row.iter().sum::<f32>();
                }
                match saved {
                    Some(saved) => dw_gemm(g, &saved[(n - n0) * ckk * plane..(n - n0 + 1) * ckk * plane], gy_n, dw),
                    None => {
                        im2col(g, &x[n * in_img..(n + 1) * in_img], cols);
                        dw_gemm(g, cols, gy_n, dw);
                    }
                }
            } else {
                im2col_ld(g, &x[n * in_img..(n + 1) * in_img], &mut cols_c[j * plane..], ld);
                // gy_c[o, (j, p)] = gy[o, p]
                for (o, row) in gy_n.chunks_exact(plane).enumerate() {
                    db[o] += row.iter().sum::<f32>();
                    gy_c[o * ld + j * plane..o * ld + (j + 1) * plane].copy_from_slice(row);
                }
            }
            if let (Some(dx), true) = (dx.as_deref_mut(), per_image_dw) {
                // dcols[r, p] = sum_o w[o, r] * gy[o, p]
                sgemm(ckk, plane, g.o, dcols, (1, plane), false, w, (ckk, 1), gy_n, (1, plane));
                let dx_n = &mut dx[(n - n0) * in_img..(n - n0 + 1) * in_img];
                dx_n.fill(0.0);
                col2im(g, dcols, dx_n);
            }
        }
        if !per_image_dw {
            // dw[o, r] += sum_{(j,p)} gy_c[o, (j,p)] * cols_c[r, (j,p)]
            sgemm(g.o, ckk, ld, dw, (1, ckk), !first, gy_c, (1, ld), cols_c, (ld, 1));
            first = false;
            if let Some(dx) = dx.as_deref_mut() {
                // dcols[r, (j,p)] = sum_o w[o, r] * gy_c[o, (j,p)] for the whole chunk, then image by image.
                sgemm(ckk, ld, g.o, dcols, (1, ld), false, w, (ckk, 1), gy_c, (1, ld));
                for n in c0..c1 {
                    let dx_n = &mut dx[(n - n0) * in_img..(n - n0 + 1) * in_img];
                    dx_n.fill(0.0);
                    col2im_ld(g, &dcols[(n - c0) * plane..], ld, dx_n);
                }
            }
        }
        c0 = c1;
    }
}
