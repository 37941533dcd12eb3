//! The model's hot operations behind one seam: convolution with bias, 2×2 pooling, and the fused
//! conv → activation → pool block that training uses, the dense layer with its activation, and the loss. They run on the fast CPU kernels (`crate::kernels`, candle
//! custom ops with their own backward), so everything above sees plain candle tensors with autograd intact.

use crate::engine::model::config::{Activation, Pooling};
use crate::kernels;
use candle_core::{Result, Tensor};

/// Stride-1 convolution with bias and symmetric zero padding. `input_grad` false skips the input's gradient
/// (the image of the first layer needs none).
pub fn conv2d(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize, input_grad: bool) -> Result<Tensor> {
    kernels::conv2d(x, w, b, padding, input_grad)
}

/// 2×2 stride-2 pooling.
pub(crate) fn pool2x2(x: &Tensor, pooling: Pooling) -> Result<Tensor> {
    match pooling {
        Pooling::Avg => kernels::avg_pool2x2(x),
        Pooling::Max => kernels::max_pool2x2(x),
    }
}

/// `pool(act(conv2d(x)))` in one pass: the same values as the three stages one after another, without the large
/// intermediate tensors (the inspector, which shows them, uses the separate stages).
pub(crate) fn conv_act_pool(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    padding: usize,
    activation: Activation,
    pooling: Pooling,
    input_grad: bool,
) -> Result<Tensor> {
    let act = match activation {
        Activation::Sigmoid => kernels::Activation::Sigmoid,
        Activation::Relu => kernels::Activation::Relu,
    };
    let pool = match pooling {
        Pooling::Avg => kernels::Pooling::Avg,
        Pooling::Max => kernels::Pooling::Max,
    };
    kernels::conv2d_act_pool(x, w, b, padding, act, pool, input_grad)
}

/// A dense layer and, if given, its activation: `act(x · wᵀ + b)` in one pass.
pub(crate) fn linear_act(x: &Tensor, w: &Tensor, b: &Tensor, activation: Option<Activation>) -> Result<Tensor> {
    let act = match activation {
        None => kernels::Activation::Identity,
        Some(Activation::Sigmoid) => kernels::Activation::Sigmoid,
        Some(Activation::Relu) => kernels::Activation::Relu,
    };
    kernels::linear_act(x, w, b, act)
}

/// Mean cross-entropy of the logits against the labels, with the softmax's gradient in one step.
pub(crate) fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    kernels::softmax_cross_entropy(logits, labels)
}

/// Prepares the calling thread for computing: the compute pools exist and this thread flushes subnormals to zero
/// (the flag is per thread). Cheap after the first call; `LeNet::new` calls it. The process-wide set-up is
/// [`crate::startup::init_compute`].
pub(crate) fn init_compute_thread() {
    kernels::init_compute_threads();
}
