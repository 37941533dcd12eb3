//! Fused softmax cross-entropy: the mean loss over a batch as one custom op whose backward is
//! `(softmax − one-hot) / n`, instead of candle's log-softmax (max, subtract, exp, sum, log, subtract) and
//! gather, each with its own temporaries and gradient.

use super::conv_op::f32_slice;
use super::dense::with_f32;
use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// The op, holding the batch's labels (one per row of the logits).
pub(crate) struct SoftmaxCrossEntropy {
    pub labels: Vec<u32>,
}

impl SoftmaxCrossEntropy {
    fn check(&self, dims: &[usize]) -> Result<(usize, usize)> {
        let &[n, c] = dims else { bail!("cross-entropy: logits must be [batch, classes], got {dims:?}") };
        if n != self.labels.len() || n == 0 {
            bail!("cross-entropy: {} labels for {n} rows of logits", self.labels.len())
        }
        if let Some(&l) = self.labels.iter().find(|&&l| l as usize >= c) {
            bail!("cross-entropy: label {l} out of range for {c} classes")
        }
        Ok((n, c))
    }
}

/// The largest value of a row and `ln Σ exp(z − max)`.
pub(super) fn log_sum_exp(row: &[f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&z| (z - max).exp()).sum();
    (max, sum.ln())
}

impl CustomOp1 for SoftmaxCrossEntropy {
    fn name(&self) -> &'static str {
        "fast-softmax-cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, c) = self.check(l.dims())?;
        let z = f32_slice(s, l, "logits")?;
        let total: f64 = z
            .chunks_exact(c)
            .zip(&self.labels)
            .map(|(row, &label)| {
                let (max, lse) = log_sum_exp(row);
                (lse - (row[label as usize] - max)) as f64
            })
            .sum();
        Ok((CpuStorage::F32(vec![(total / n as f64) as f32]), Shape::from(())))
    }

    fn bwd(&self, logits: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (n, c) = self.check(logits.dims())?;
        let g = grad.to_scalar::<f32>()? / n as f32;
        let dz = with_f32(logits, "logits", |z| {
            let mut dz = Vec::with_capacity(n * c);
            for (row, &label) in z.chunks_exact(c).zip(&self.labels) {
                let (max, lse) = log_sum_exp(row);
                let start = dz.len();
                dz.extend(row.iter().map(|&v| (v - max - lse).exp() * g));
                dz[start + label as usize] -= g;
            }
            Ok(dz)
        })?;
        Ok(Some(Tensor::from_vec(dz, logits.shape(), logits.device())?))
    }
}
