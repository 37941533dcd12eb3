//! The fast kernels on every shape the architecture editor allows: odd sides floored by 2×2 pooling (PyTorch's
//! semantics: the last row / column is dropped and gets no gradient), every kernel size 1–9 with every padding,
//! both pool kinds, forward and gradients — against a naive loop reference and candle's generic ops.

use super::kernels::{assert_close, check_conv, check_fused, randn};
use candle_core::{Device, Tensor, Var};
use lenet_playground::kernels;

/// Naive 2×2 stride-2 pooling of `x` `[n, c, h, w]` and the gradient of `sum(pool(x) * r)`: plain loops over
/// every window, the gradient of a max window to its first maximum in row-major order.
fn naive_pool(x: &[f32], dims: [usize; 4], r: &[f32], max: bool) -> (Vec<f32>, Vec<f32>) {
    let [n, c, h, w] = dims;
    let (ho, wo) = (h / 2, w / 2);
    let (mut y, mut dx) = (vec![0f32; n * c * ho * wo], vec![0f32; n * c * h * w]);
    for p in 0..n * c {
        for i in 0..ho {
            for j in 0..wo {
                let at = |a: usize, b: usize| p * h * w + (2 * i + a) * w + 2 * j + b;
                let window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
                let out = p * ho * wo + i * wo + j;
                if max {
                    let best = window.iter().copied().fold(window[0], |b, k| if x[k] > x[b] { k } else { b });
                    y[out] = x[best];
                    dx[best] += r[out];
                } else {
                    y[out] = window.iter().map(|&k| x[k]).sum::<f32>() / 4.0;
                    window.iter().for_each(|&k| dx[k] += r[out] / 4.0);
                }
            }
        }
    }
    (y, dx)
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn pooling_floors_odd_sides_like_the_naive_loops() {
    for dims in [[2, 3, 7, 7], [1, 2, 5, 8], [2, 1, 9, 3], [1, 1, 3, 2], [1, 1, 2, 3], [3, 2, 25, 25], [1, 1, 2, 2]] {
        let x = randn(&dims);
        let rdims = [dims[0], dims[1], dims[2] / 2, dims[3] / 2];
        let r = randn(&rdims);
        for max in [false, true] {
            let xv = Var::from_tensor(&x).unwrap();
            let out =
                if max { kernels::max_pool2x2(xv.as_tensor()) } else { kernels::avg_pool2x2(xv.as_tensor()) }.unwrap();
            let grads = (&out * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let dx = grads.get(xv.as_tensor()).unwrap();
            let (want_y, want_dx) = naive_pool(&values(&x), dims, &values(&r), max);
            let dev = &Device::Cpu;
            let tag = format!("{} pool {dims:?}", if max { "max" } else { "avg" });
            assert_close(&format!("{tag} forward"), &out, &Tensor::from_vec(want_y, &rdims, dev).unwrap());
            assert_close(&format!("{tag} dx"), dx, &Tensor::from_vec(want_dx, &dims, dev).unwrap());
            // The dropped row / column gets exactly no gradient.
            let dx = values(dx);
            let [_, _, h, w] = dims;
            for (i, v) in dx.iter().enumerate() {
                let (row, col) = ((i / w) % h, i % w);
                if (h % 2 == 1 && row == h - 1) || (w % 2 == 1 && col == w - 1) {
                    assert_eq!(*v, 0.0, "{tag}: dropped element {i}");
                }
            }
        }
    }
}

#[test]
fn fused_pooling_floors_odd_convolution_outputs() {
    // 28 → k4 → 25 → 12 (LeNet-5 with a 4×4 kernel), and odd heights with even widths and back.
    check_fused(3, 1, 28, 28, 6, 4, 0, false);
    check_fused(2, 3, 9, 8, 4, 3, 1, true);
    check_fused(2, 2, 8, 7, 3, 2, 0, true);
    check_fused(2, 2, 3, 3, 2, 2, 0, true); // 2×2 output: one window
    check_fused(2, 2, 3, 3, 2, 1, 0, true); // 3×3 output: one window, a row and a column dropped
}

#[test]
fn every_kernel_size_with_every_padding() {
    for k in 1..=9 {
        for pad in 0..k {
            check_conv(2, 2, 11, 10, 3, k, pad);
            if 11 + 2 * pad - k + 1 >= 2 && 10 + 2 * pad - k + 1 >= 2 {
                check_fused(2, 2, 11, 10, 3, k, pad, pad % 2 == 0);
            }
        }
    }
}

#[test]
fn pooled_outputs_below_the_window_are_errors_not_panics() {
    let (w, b) = (randn(&[3, 2, 3, 3]), randn(&[3]));
    for x in [randn(&[1, 2, 3, 3]), randn(&[1, 2, 3, 9])] {
        let out = kernels::conv2d_act_pool(&x, &w, &b, 0, kernels::Activation::Relu, kernels::Pooling::Avg, true);
        assert!(out.is_err(), "{:?}", x.dims());
    }
    assert!(kernels::avg_pool2x2(&randn(&[1, 1, 1, 1])).is_err());
}
