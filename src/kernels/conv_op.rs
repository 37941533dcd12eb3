//! The convolution kernels as candle custom ops: operand checks, candle's storage in and out, and the backward
//! pass as a second op whose packed `[dx | dw | db]` output is split into the three gradients.

use super::conv::{backward, forward};
use super::geom::Geom;
use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

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
