//! Stride-1, zero-padded 2-D convolution on f32 CPU tensors: im2col + gemm per image, batch split
//! across the rayon pool (one contiguous range of images per thread, single-threaded gemm inside),
//! bias fused into the gemm's destination, and a single fused backward pass computing the weight,
//! bias and (optionally) input gradients.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use gemm::{gemm, Parallelism};
use rayon::prelude::*;

/// Geometry of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub k: usize,
    pub p: usize,
    pub ho: usize,
    pub wo: usize,
}

impl Geom {
    pub fn new(x: &[usize], w: &[usize], padding: usize) -> Result<Self> {
        let (&[n, c, h, wd], &[o, cw, kh, kw]) = (x, w) else {
            bail!("conv2d: expected rank-4 input and weight, got {x:?} and {w:?}")
        };
        if c != cw || kh != kw || kh == 0 {
            bail!("conv2d: incompatible input {x:?} and weight {w:?}")
        }
        if h + 2 * padding < kh || wd + 2 * padding < kw {
            bail!("conv2d: kernel {kh}x{kw} larger than padded input {x:?} (padding {padding})")
        }
        let (ho, wo) = (h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1);
        Ok(Self { n, c, h, w: wd, o, k: kh, p: padding, ho, wo })
    }
    pub(crate) fn ckk(&self) -> usize {
        self.c * self.k * self.k
    }
    pub(crate) fn plane(&self) -> usize {
        self.ho * self.wo
    }
    pub(crate) fn in_img(&self) -> usize {
        self.c * self.h * self.w
    }
    pub(crate) fn out_img(&self) -> usize {
        self.o * self.plane()
    }
    pub(crate) fn out_shape(&self) -> Shape {
        Shape::from((self.n, self.o, self.ho, self.wo))
    }
}

/// Multiply-adds below which a call stays on the calling thread.
const MIN_PARALLEL_WORK: usize = 150_000;

/// How many contiguous ranges of images to split a batch into.
pub(crate) fn n_tasks(n_items: usize, work_per_item: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads <= 1 || n_items <= 1 || n_items.saturating_mul(work_per_item) < MIN_PARALLEL_WORK {
        1
    } else {
        threads.min(n_items)
    }
}

/// Calls `f(row, oy, ox_range, ix_start, iy)` for each im2col row `(c, ki, kj)` and output row
/// `oy`; `iy` is `None` when the whole output row reads padding.
#[inline(always)]
fn for_each_segment(g: &Geom, mut f: impl FnMut(usize, usize, usize, usize, usize, Option<usize>)) {
    let (k, p) = (g.k, g.p);
    for c in 0..g.c {
        for ki in 0..k {
            for kj in 0..k {
                let row = (c * k + ki) * k + kj;
                // Valid ox: 0 <= ox + kj - p < w.
                let ox0 = p.saturating_sub(kj).min(g.wo);
                let ox1 = (g.w + p).saturating_sub(kj).min(g.wo).max(ox0);
                for oy in 0..g.ho {
                    let iy = oy + ki;
                    let iy = if iy >= p && iy - p < g.h && ox0 < ox1 { Some(c * g.h + iy - p) } else { None };
                    f(row, oy, ox0, ox1, (ox0 + kj).saturating_sub(p), iy);
                }
            }
        }
    }
}

thread_local! {
    /// Per-thread zero-padded copy of one input image for [`im2col`].
    static PADDED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `cols[(c,ki,kj), (oy,ox)] = x[c, oy+ki-p, ox+kj-p]` (zero outside), `cols` is `[ckk, ho*wo]`.
///
/// With padding, the image is first copied into a zero-padded buffer, so every segment is a full output row
/// (`wo` values) read from it; common widths copy fixed-size arrays (inline moves, no `memcpy` call per segment).
pub(crate) fn im2col(g: &Geom, x: &[f32], cols: &mut [f32]) {
    im2col_ld(g, x, cols, g.plane())
}

/// [`im2col`] with row stride `ld >= ho*wo` in `cols` (row `r` starts at `r * ld`).
pub(crate) fn im2col_ld(g: &Geom, x: &[f32], cols: &mut [f32], ld: usize) {
    if g.p == 0 {
        return im2col_from(g, x, g.h, g.w, cols, ld);
    }
    let (hp, wp) = (g.h + 2 * g.p, g.w + 2 * g.p);
    PADDED.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        buf.resize(g.c * hp * wp, 0.0);
        for c in 0..g.c {
            for iy in 0..g.h {
                let dst = (c * hp + iy + g.p) * wp + g.p;
                buf[dst..dst + g.w].copy_from_slice(&x[(c * g.h + iy) * g.w..(c * g.h + iy + 1) * g.w]);
            }
        }
        im2col_from(g, &buf, hp, wp, cols, ld)
    })
}

/// [`im2col`] from an already padded source `[c, sh, sw]` (`sh = h + 2p`, `sw = w + 2p`).
fn im2col_from(g: &Geom, src: &[f32], sh: usize, sw: usize, cols: &mut [f32], ld: usize) {
    match g.wo {
        28 => im2col_rows::<28>(g, src, sh, sw, cols, ld),
        24 => im2col_rows::<24>(g, src, sh, sw, cols, ld),
        14 => im2col_rows::<14>(g, src, sh, sw, cols, ld),
        10 => im2col_rows::<10>(g, src, sh, sw, cols, ld),
        8 => im2col_rows::<8>(g, src, sh, sw, cols, ld),
        _ => im2col_rows_any(g, src, sh, sw, cols, ld),
    }
}

#[inline(always)]
fn im2col_rows<const WO: usize>(g: &Geom, src: &[f32], sh: usize, sw: usize, cols: &mut [f32], ld: usize) {
    let (k, plane) = (g.k, g.plane());
    for c in 0..g.c {
        for ki in 0..k {
            for kj in 0..k {
                let row = &mut cols[((c * k + ki) * k + kj) * ld..][..plane];
                for (oy, seg) in row.chunks_exact_mut(WO).enumerate() {
                    let s = (c * sh + oy + ki) * sw + kj;
                    let from: &[f32; WO] = src[s..s + WO].try_into().unwrap();
                    let to: &mut [f32; WO] = seg.try_into().unwrap();
                    *to = *from;
                }
            }
        }
    }
}

fn im2col_rows_any(g: &Geom, src: &[f32], sh: usize, sw: usize, cols: &mut [f32], ld: usize) {
    let (k, plane, wo) = (g.k, g.plane(), g.wo);
    for c in 0..g.c {
        for ki in 0..k {
            for kj in 0..k {
                let row = &mut cols[((c * k + ki) * k + kj) * ld..][..plane];
                for (oy, seg) in row.chunks_exact_mut(wo).enumerate() {
                    let s = (c * sh + oy + ki) * sw + kj;
                    seg.copy_from_slice(&src[s..s + wo]);
                }
            }
        }
    }
}

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

/// Adjoint of [`im2col`]: `dx[c, oy+ki-p, ox+kj-p] += dcols[(c,ki,kj), (oy,ox)]`.
pub(crate) fn col2im(g: &Geom, dcols: &[f32], dx: &mut [f32]) {
    col2im_ld(g, dcols, g.plane(), dx)
}

/// [`col2im`] from `dcols` with row stride `ld >= ho*wo` (row `r` starts at `r * ld`).
pub(crate) fn col2im_ld(g: &Geom, dcols: &[f32], ld: usize, dx: &mut [f32]) {
    let (wo, w) = (g.wo, g.w);
    for_each_segment(g, |row, oy, ox0, ox1, ix0, iy| {
        if let Some(iy) = iy {
            let src = &dcols[row * ld + oy * wo + ox0..row * ld + oy * wo + ox1];
            let dst = &mut dx[iy * w + ix0..iy * w + ix0 + (ox1 - ox0)];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += *s;
            }
        }
    });
}

/// `dst[m,n] (=|+=) a[m,k] * b[k,n]`, single-threaded. Each matrix is a slice with its strides as
/// `(column stride, row stride)`: element `(i, j)` stands at `i * row_stride + j * column_stride`, so transposed
/// operands are read in place.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    (dst_cs, dst_rs): (usize, usize),
    accumulate: bool,
    a: &[f32],
    (a_cs, a_rs): (usize, usize),
    b: &[f32],
    (b_cs, b_rs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() > (m - 1) * dst_rs + (n - 1) * dst_cs);
    assert!(k == 0 || a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above keep every element the strides reach inside its slice.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            Parallelism::None,
        )
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
        backward_range(g, x, w, n0..n1, dx, &make_gy, &mut acc, &mut BwdScratch::default());
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

/// The gradients of images `images` on the calling thread: `dwb` (`[dw | db]`) is overwritten with their weight
/// and bias gradients, and `dx` (if given: the images' input gradients, `[len, c, h, w]`) with their input
/// gradients. `make_gy(n, gy_n)` writes the gradient w.r.t. the convolution output of image `n`.
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
) where
    F: Fn(usize, &mut [f32]) + ?Sized,
{
    let (ckk, plane, in_img, out_img) = (g.ckk(), g.plane(), g.in_img(), g.out_img());
    let (n0, n1) = (images.start, images.end);
    dwb.fill(0.0);
    if n0 >= n1 || plane == 0 {
        return;
    }
    // Few output channels (LeNet's c1: 6): weight gradient per image as `dw^T += cols * gy^T` (see `dw_gemm`);
    // otherwise one gemm per chunk of images over the transposed im2col.
    let per_image_dw = g.o < 16 && g.plane() >= 64;
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
                im2col(g, &x[n * in_img..(n + 1) * in_img], cols);
                dw_gemm(g, cols, gy_n, dw);
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

pub(crate) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let data = match s {
        CpuStorage::F32(v) => v.as_slice(),
        other => bail!("fast kernels: {what} must be f32, got {:?}", other.dtype()),
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("fast kernels: {what} must be contiguous"),
    }
}

/// What differs between the convolution custom ops; [`ConvOp`] does the rest (operand checks, candle's storage).
/// Every op reads `(x, w, third)`: the third operand is the bias for forward ops and the output gradient for
/// backward ops.
pub(crate) trait ConvKernel: Send + Sync {
    /// candle's name for the op.
    const NAME: &'static str;
    /// What the third operand is, for error messages.
    const THIRD: &'static str;
    /// Checks the third operand's shape and computes the op's output data and shape.
    fn compute(&self, g: &Geom, x: &[f32], w: &[f32], third: &[f32], third_dims: &[usize])
        -> Result<(Vec<f32>, Shape)>;
    /// The gradients of a forward op with this padding w.r.t. `(x, w, b)`; backward ops have none.
    fn grads(&self, _padding: usize, _x: &Tensor, _w: &Tensor, _b: &Tensor, _grad: &Tensor) -> Result<Grads> {
        bail!("{} has no backward pass", Self::NAME)
    }
}

/// Gradients w.r.t. `(x, w, b)`; no dx without `input_grad`.
pub(crate) type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// A [`ConvKernel`] as a candle custom op on contiguous f32 CPU tensors, for a convolution with this padding.
pub(crate) struct ConvOp<K> {
    pub padding: usize,
    pub kernel: K,
}

impl<K: ConvKernel> CustomOp3 for ConvOp<K> {
    fn name(&self) -> &'static str {
        K::NAME
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
        let g = Geom::new(l1.dims(), l2.dims(), self.padding)?;
        let x = f32_slice(s1, l1, "conv2d input")?;
        let w = f32_slice(s2, l2, "conv2d weight")?;
        let third = f32_slice(s3, l3, K::THIRD)?;
        let (out, shape) = self.kernel.compute(&g, x, w, third, l3.dims())?;
        Ok((CpuStorage::F32(out), shape))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, b: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Grads> {
        self.kernel.grads(self.padding, x, w, b, grad)
    }
}

/// A forward op's bias check: one value per output channel.
pub(crate) fn check_bias(g: &Geom, dims: &[usize]) -> Result<()> {
    if dims != [g.o] {
        bail!("conv2d: bias shape {dims:?} does not match {} output channels", g.o)
    }
    Ok(())
}

/// Runs the backward kernel `bwd` on `(x, w, grad)` and splits its packed `[dx | dw | db]` result into the
/// gradients of a forward op on `(x, w, b)`.
pub(crate) fn packed_grads<K: ConvKernel + 'static>(
    padding: usize,
    bwd: K,
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    grad: &Tensor,
    input_grad: bool,
) -> Result<Grads> {
    let packed = x.apply_op3_no_bwd(w, &grad.contiguous()?, &ConvOp { padding, kernel: bwd })?;
    let (nx, nw, nb) = (if input_grad { x.elem_count() } else { 0 }, w.elem_count(), b.elem_count());
    let dx = if input_grad { Some(packed.narrow(0, 0, nx)?.reshape(x.shape())?) } else { None };
    let dw = packed.narrow(0, nx, nw)?.reshape(w.shape())?;
    let db = packed.narrow(0, nx + nw, nb)?.reshape(b.shape())?;
    Ok((dx, Some(dw), Some(db)))
}

/// A backward kernel's output: the packed gradients as one flat tensor.
pub(crate) fn packed(v: Vec<f32>) -> (Vec<f32>, Shape) {
    let len = v.len();
    (v, Shape::from(len))
}

/// Convolution with bias on `(x, w, b)`.
pub(crate) struct Conv2d {
    pub input_grad: bool,
}

impl ConvKernel for Conv2d {
    const NAME: &'static str = "fast-conv2d";
    const THIRD: &'static str = "conv2d bias";

    fn compute(&self, g: &Geom, x: &[f32], w: &[f32], b: &[f32], b_dims: &[usize]) -> Result<(Vec<f32>, Shape)> {
        check_bias(g, b_dims)?;
        Ok((forward(g, x, w, b), g.out_shape()))
    }

    fn grads(&self, padding: usize, x: &Tensor, w: &Tensor, b: &Tensor, grad: &Tensor) -> Result<Grads> {
        packed_grads(padding, Conv2dBwd { input_grad: self.input_grad }, x, w, b, grad, self.input_grad)
    }
}

/// Backward of [`Conv2d`] on `(x, w, grad_out)`, producing the packed gradients of [`backward`].
struct Conv2dBwd {
    input_grad: bool,
}

impl ConvKernel for Conv2dBwd {
    const NAME: &'static str = "fast-conv2d-bwd";
    const THIRD: &'static str = "conv2d output gradient";

    fn compute(&self, g: &Geom, x: &[f32], w: &[f32], gy: &[f32], gy_dims: &[usize]) -> Result<(Vec<f32>, Shape)> {
        if gy_dims != g.out_shape().dims() {
            bail!("conv2d backward: gradient shape {gy_dims:?}, expected {:?}", g.out_shape())
        }
        Ok(packed(backward(g, x, w, gy, self.input_grad)))
    }
}
