//! The one matrix product of the kernels: `gemm`'s single-precision product on slices with their strides, on the
//! calling thread (the kernels split work over the cores themselves).

use gemm::{gemm, Parallelism};

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
