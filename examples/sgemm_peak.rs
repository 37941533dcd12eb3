//! The machine's measured sgemm rate (the `gemm` crate the kernels use), the arithmetic limit a network's
//! training throughput is judged against: a large square product on one thread, two independent products on two
//! threads, and the products of an MLP / LeNet-5 / wide-net step at batch 100 split over the cores by rows or by
//! columns (each split pays a hand-off between threads).
//!
//! `cargo run --release --example sgemm_peak`

use gemm::{gemm, Parallelism};
use rayon::prelude::*;
use std::time::Instant;

/// Columns `j0..j1` of `c[m, n] = a[m, k] · b[k, n]` (all row-major), single-threaded.
///
/// # Safety
/// `c`, `a` and `b` hold m·n, m·k and k·n values, and no other thread writes those columns of `c`.
unsafe fn columns(m: usize, n: usize, k: usize, (j0, j1): (usize, usize), c: *mut f32, a: &[f32], b: &[f32]) {
    // SAFETY: the caller's contract; the row-major strides stay inside the three buffers.
    unsafe {
        gemm(
            m,
            j1 - j0,
            k,
            c.add(j0),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr().add(j0),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// GFLOP/s of `once`, which computes `flops` floating-point operations, over about 1e11 of them.
fn timed(flops: f64, mut once: impl FnMut()) -> f64 {
    once();
    let reps = ((1e11 / flops) as usize).clamp(3, 200_000);
    let t = Instant::now();
    for _ in 0..reps {
        once();
    }
    flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

/// A split of `c = a · b` over the cores: by ranges of rows or of columns.
#[derive(Clone, Copy, PartialEq)]
enum Split {
    Rows,
    Columns,
}

/// GFLOP/s of `c = a · b` split into `tasks` ranges on rayon's pool.
fn rate(m: usize, n: usize, k: usize, tasks: usize, split: Split) -> f64 {
    let (a, b, mut c) = (vec![0.5f32; m * k], vec![0.25f32; k * n], vec![0f32; m * n]);
    let c_at = c.as_mut_ptr() as usize;
    let (rows, cols) = (m.div_ceil(tasks), n.div_ceil(tasks));
    let gflops = timed(2.0 * (m * n * k) as f64, || {
        (0..tasks).into_par_iter().for_each(|t| match split {
            Split::Rows => {
                let (r0, r1) = ((t * rows).min(m), ((t + 1) * rows).min(m));
                let c = (c_at as *mut f32).wrapping_add(r0 * n);
                // SAFETY: each task writes its own rows of c, and reads its rows of a.
                unsafe { columns(r1 - r0, n, k, (0, n), c, &a[r0 * k..], &b) }
            }
            Split::Columns => {
                let (j0, j1) = ((t * cols).min(n), ((t + 1) * cols).min(n));
                // SAFETY: each task writes its own columns of c.
                unsafe { columns(m, n, k, (j0, j1), c_at as *mut f32, &a, &b) }
            }
        })
    });
    c[0] += 0.0; // c stays alive (and written) through the timing
    gflops
}

/// GFLOP/s of two independent `m × n × k` products, one per thread: what both cores give without hand-offs.
fn two_independent(m: usize, n: usize, k: usize) -> f64 {
    let one = || {
        let (a, b, mut c) = (vec![0.5f32; m * k], vec![0.25f32; k * n], vec![0f32; m * n]);
        let c_at = c.as_mut_ptr();
        // SAFETY: one thread writes all of its own c.
        timed(2.0 * (m * n * k) as f64, || unsafe { columns(m, n, k, (0, n), c_at, &a, &b) })
    };
    std::thread::scope(|s| {
        let other = s.spawn(one);
        one() + other.join().unwrap_or(0.0)
    })
}

fn main() {
    let threads = rayon::current_num_threads();
    println!("rayon threads: {threads}");
    println!("two independent 512 × 512 × 512 products, one per thread: {:.1} GFLOP/s", two_independent(512, 512, 512));
    println!("| product (m × n × k) | 1 thread GFLOP/s | {threads} threads, by rows | {threads} threads, by columns |");
    println!("|---|---:|---:|---:|");
    let shapes = [
        ("square 512", 512, 512, 512),
        ("mlp f300 forward", 100, 300, 784),
        ("mlp f300 weight grad", 300, 784, 100),
        ("mlp f300 input grad", 100, 784, 300),
        ("mlp f100 forward", 100, 100, 300),
        ("lenet f5 forward", 100, 120, 400),
        ("wide c3 conv, one image", 64, 100, 800),
    ];
    for (name, m, n, k) in shapes {
        println!(
            "| {name} ({m} × {n} × {k}) | {:.1} | {:.1} | {:.1} |",
            rate(m, n, k, 1, Split::Rows),
            rate(m, n, k, threads, Split::Rows),
            rate(m, n, k, threads, Split::Columns)
        );
    }
}
