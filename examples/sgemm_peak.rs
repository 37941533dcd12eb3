//! The machine's measured sgemm rate (the `gemm` crate the kernels use), the arithmetic limit a network's
//! training throughput is judged against: a large square product on one core and on every core, and the
//! products of one MLP / LeNet-5 training step at batch 100, split over the cores by rows (as the kernels do).
//!
//! `cargo run --release --example sgemm_peak`

use gemm::{gemm, Parallelism};
use rayon::prelude::*;
use std::time::Instant;

/// `c[m,n] = a[m,k] · b[k,n]`, all row-major, single-threaded.
fn sgemm(m: usize, n: usize, k: usize, c: &mut [f32], a: &[f32], b: &[f32]) {
    // SAFETY: the slices hold m·n, m·k and k·n values, as the row-major strides below read them.
    unsafe {
        gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// GFLOP/s of `c = a · b` with the rows of `c` split into `tasks` ranges on rayon's pool.
fn rate(m: usize, n: usize, k: usize, tasks: usize) -> f64 {
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0f32; m * n];
    let rows = m.div_ceil(tasks);
    let once = |c: &mut [f32]| {
        c.par_chunks_mut(rows * n).zip(a.par_chunks(rows * k)).for_each(|(c, a)| sgemm(c.len() / n, n, k, c, a, &b))
    };
    once(&mut c);
    let flops = 2.0 * (m * n * k) as f64;
    let reps = ((1e11 / flops) as usize).clamp(3, 200_000);
    let t = Instant::now();
    for _ in 0..reps {
        once(&mut c);
    }
    flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

/// GFLOP/s of `c = a · b` with the columns of `c` split into `tasks` ranges (each task packs only its part of b).
fn rate_cols(m: usize, n: usize, k: usize, tasks: usize) -> f64 {
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0f32; m * n];
    let cols = n.div_ceil(tasks);
    let cp = c.as_mut_ptr() as usize;
    let once = || {
        (0..tasks).into_par_iter().for_each(|t| {
            let j0 = t * cols;
            let w = cols.min(n - j0);
            // SAFETY: each task writes its own columns j0..j0+w of c; a and b are read only, in bounds.
            unsafe {
                gemm(
                    m,
                    w,
                    k,
                    (cp as *mut f32).add(j0),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr().add(j0),
                    1,
                    n as isize,
                    1.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    Parallelism::None,
                )
            }
        })
    };
    once();
    let flops = 2.0 * (m * n * k) as f64;
    let reps = ((1e11 / flops) as usize).clamp(3, 200_000);
    let t = Instant::now();
    for _ in 0..reps {
        once();
    }
    let _ = &mut c;
    flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let threads = rayon::current_num_threads();
    println!("rayon threads: {threads}");
    println!("| product (m × n × k) | 1 thread GFLOP/s | {threads} threads GFLOP/s |");
    println!("|---|---:|---:|");
    let shapes = [
        ("square 512", 512, 512, 512),
        ("mlp f300 forward", 100, 300, 784),
        ("mlp f300 weight grad", 300, 784, 100),
        ("mlp f100 forward", 100, 100, 300),
        ("lenet f5 forward", 100, 120, 400),
        ("mlp f300 input grad", 100, 784, 300),
        ("wide c3 conv, one image", 64, 100, 800),
    ];
    println!("scoped two threads, square 256x512x512 each: {:.1}", scoped(256, 512, 512));
    for (name, m, n, k) in shapes {
        println!(
            "| {name} ({m} × {n} × {k}) | {:.1} | {:.1} | cols {:.1} |",
            rate(m, n, k, 1),
            rate(m, n, k, threads),
            rate_cols(m, n, k, threads)
        );
    }
}

#[allow(dead_code)]
fn scoped(m: usize, n: usize, k: usize) -> f64 {
    let run = || {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * n * k) as f64;
        let reps = ((1e11 / flops) as usize).clamp(3, 200_000);
        let t = Instant::now();
        for _ in 0..reps {
            sgemm(m, n, k, &mut c, &a, &b);
        }
        flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
    };
    std::thread::scope(|s| {
        let h = s.spawn(run);
        let r0 = run();
        r0 + h.join().unwrap()
    })
}
