//! What a convolution's sizes are, and how many contiguous ranges of images a batch is split into over the cores.

use candle_core::{bail, Result, Shape};

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
