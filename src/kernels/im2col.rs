//! im2col and its adjoint col2im: an image's sliding windows laid out as the columns of a matrix, so a convolution
//! is one matrix product, and the product's gradient back onto the image.

use super::geom::Geom;

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
