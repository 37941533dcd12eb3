//! The network on candle, as `engine::model::stages` describes it for the configured architecture (LeNet-5 by
//! default: Conv–act–pool twice, flatten, three linear layers). One definition serves training (parameters are candle Vars), prediction (plain
//! tensors, no gradient tracking) and the inspector (a trace of every stage). Layers are found by name
//! ([`LeNet::layer`]), never by position.

use crate::engine::model::config::{Activation, ModelConfig};
use crate::engine::model::ops;
use crate::engine::model::stages;
/// Re-exported: the stage types live in `engine::model::stages`.
pub use crate::engine::model::stages::{Stage, StageKind};
use crate::engine::model::weights::{ModelWeights, Param};
use crate::engine::rng::Rng;
use crate::{Error, Result};
use candle_core::{Device, Tensor};

/// LeNet-5 over candle tensors. Build it from Vars' tensors to train, from plain tensors to predict.
#[derive(Debug, Clone)]
pub struct LeNet {
    pub config: ModelConfig,
    /// `stages::stages(config)`.
    stages: Vec<Stage>,
    /// In `stages::params()` order: c1.weight c1.bias c3.weight … out.bias.
    params: Vec<Tensor>,
    /// Per stage: where its weight stands in `params` (its bias follows), for the stages with weights.
    param_of: Vec<Option<usize>>,
}

impl LeNet {
    /// The model over `params`, given in `stages::params()` order with those shapes.
    pub fn new(config: ModelConfig, params: Vec<Tensor>) -> Result<Self> {
        // Thread set-up must precede candle's first computation; cheap after the first call.
        ops::init_compute_thread();
        stages::try_stages(config).map_err(|e| Error::bad_weights(format!("architecture {}: {e}", config.arch)))?;
        let specs = stages::params(config);
        if params.len() != specs.len() {
            return Err(Error::bad_weights(format!(
                "LeNet needs {} parameter tensors, got {}",
                specs.len(),
                params.len()
            )));
        }
        for (t, spec) in params.iter().zip(&specs) {
            if t.dims() != spec.shape {
                return Err(Error::bad_weights(format!(
                    "{} has shape {:?}, expected {:?}",
                    spec.name(),
                    t.dims(),
                    spec.shape
                )));
            }
        }
        let stages = stages::stages(config);
        let param_of = stages.iter().map(|s| stages::param_index(config, s.key)).collect();
        Ok(LeNet { config, stages, params, param_of })
    }

    /// Plain (untracked) tensors from plain weights, found by name.
    pub fn from_weights(w: &ModelWeights) -> Result<Self> {
        stages::try_stages(w.config).map_err(|e| Error::bad_weights(format!("architecture {}: {e}", w.config.arch)))?;
        let params = stages::params(w.config)
            .iter()
            .map(|spec| {
                let name = spec.name();
                let p = w.param(&name).ok_or_else(|| Error::bad_weights(format!("missing tensor '{name}'")))?;
                Ok(Tensor::from_slice(&p.data, p.shape.as_slice(), &Device::Cpu)?)
            })
            .collect::<Result<Vec<_>>>()?;
        LeNet::new(w.config, params)
    }

    /// The parameters in `stages::params()` order.
    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The stages this model computes, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The weight and the bias of a layer with weights ("c1", "c3", "f5", "f6", "out"; see
    /// `stages::weighted_layers()`), or None for a stage without weights or an unknown key.
    pub fn layer(&self, key: &str) -> Option<(&Tensor, &Tensor)> {
        let i = self.stages.iter().position(|s| s.key == key)?;
        self.params_of_stage(i)
    }

    fn params_of_stage(&self, stage_index: usize) -> Option<(&Tensor, &Tensor)> {
        let j = self.param_of.get(stage_index).copied().flatten()?;
        Some((&self.params[j], &self.params[j + 1]))
    }

    /// Copies the current values out as plain data.
    pub(crate) fn to_weights(&self, dataset: &str, class_names: &[String]) -> Result<ModelWeights> {
        let params = self
            .params
            .iter()
            .zip(stages::params(self.config))
            .map(|(t, spec)| {
                Ok(Param { name: spec.name(), shape: spec.shape, data: t.flatten_all()?.to_vec1::<f32>()? })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelWeights { config: self.config, dataset: dataset.into(), class_names: class_names.to_vec(), params })
    }

    /// One stage on its own.
    fn apply(&self, stage_index: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        self.apply_with(stage_index, x, false)
    }

    /// One stage on its own; `image_grad`: the first convolution also passes the gradient to the image.
    fn apply_with(&self, stage_index: usize, x: &Tensor, image_grad: bool) -> candle_core::Result<Tensor> {
        match self.stages[stage_index].kind {
            StageKind::Conv { padding, .. } => {
                let (w, b) = self.weighted(stage_index)?;
                // Training's image needs no gradient; later layers' inputs do.
                ops::conv2d(x, w, b, padding, stage_index != 0 || image_grad)
            }
            StageKind::Activation(Activation::Sigmoid) => candle_nn::ops::sigmoid(x),
            StageKind::Activation(Activation::Relu) => x.relu(),
            StageKind::Pool(pool) => ops::pool2x2(x, pool),
            StageKind::Flatten => x.flatten_from(1),
            // Prediction, evaluation and the inspector see every input; dropout is `forward_train`'s.
            StageKind::Dropout { .. } => Ok(x.clone()),
            StageKind::Linear { .. } => {
                let (w, b) = self.weighted(stage_index)?;
                x.matmul(&w.t()?)?.broadcast_add(b)
            }
        }
    }

    fn weighted(&self, stage_index: usize) -> candle_core::Result<(&Tensor, &Tensor)> {
        self.params_of_stage(stage_index)
            .ok_or_else(|| candle_core::Error::Msg(format!("stage {} has no weights", self.stages[stage_index].key)))
    }

    /// Logits [N, classes] for images [N, 1, 28, 28]. Each conv → activation → pool run is computed by the fused
    /// kernel (a conv block without pooling by the fast convolution, then its activation), each dense layer with
    /// its activation by the fused dense kernel; the values are those of the stage-by-stage `trace`. Dropout stages pass everything through.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.forward_with(x, None)
    }

    /// [`forward`](Self::forward) while training: each dropout stage zeroes its inputs with its rate, drawn from
    /// `rng` (the run's generator, so a seed reproduces the masks), and scales the kept ones by `1 / (1 − rate)`
    /// (inverted dropout: the prediction forward then needs no rescaling). Without dropout stages `rng` is not
    /// touched, so such runs draw exactly what they drew before dropout existed.
    pub fn forward_train(&self, x: &Tensor, rng: &mut Rng) -> candle_core::Result<Tensor> {
        self.forward_with(x, Some(rng))
    }

    /// The output of stage `last` for images [N, 1, 28, 28], computed as [`forward`](Self::forward) computes it
    /// (fused where a whole block ends at or before `last`): the Inside tab's rankings and maps read a middle stage
    /// of thousands of images.
    pub fn forward_to(&self, x: &Tensor, last: usize) -> candle_core::Result<Tensor> {
        self.forward_range(x, None, (last + 1).min(self.stages.len()))
    }

    fn forward_with(&self, x: &Tensor, rng: Option<&mut Rng>) -> candle_core::Result<Tensor> {
        self.forward_range(x, rng, self.stages.len())
    }

    /// Stages `0..end`.
    fn forward_range(&self, x: &Tensor, mut rng: Option<&mut Rng>, end: usize) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        let mut i = 0;
        while i < end {
            match self.stages[i..end] {
                [Stage { kind: StageKind::Conv { padding, .. }, .. }, Stage { kind: StageKind::Activation(act), .. }, Stage { kind: StageKind::Pool(pool), .. }, ..] =>
                {
                    let (w, b) = self.weighted(i)?;
                    h = ops::conv_act_pool(&h, w, b, padding, act, pool, i != 0)?;
                    i += 3;
                }
                [Stage { kind: StageKind::Linear { .. }, .. }, Stage { kind: StageKind::Activation(act), .. }, ..] => {
                    let (w, b) = self.weighted(i)?;
                    h = ops::linear_act(&h, w, b, Some(act))?;
                    i += 2;
                }
                [Stage { kind: StageKind::Linear { .. }, .. }, ..] => {
                    let (w, b) = self.weighted(i)?;
                    h = ops::linear_act(&h, w, b, None)?;
                    i += 1;
                }
                [Stage { kind: StageKind::Dropout { pct }, .. }, ..] if pct > 0 && rng.is_some() => {
                    if let Some(rng) = rng.as_deref_mut() {
                        h = dropout(&h, pct as f32 / 100.0, rng)?;
                    }
                    i += 1;
                }
                _ => {
                    h = self.apply(i, &h)?;
                    i += 1;
                }
            }
        }
        Ok(h)
    }

    /// The output of stage `last` stage by stage, with the gradient reaching the image `x` (a candle Var): what
    /// gradient ascent on the input (the Inside tab's activation maximisation) differentiates.
    pub fn forward_to_tracking_image(&self, x: &Tensor, last: usize) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for i in 0..=last.min(self.stages.len().saturating_sub(1)) {
            h = self.apply_with(i, &h, true)?;
        }
        Ok(h)
    }

    /// Every stage's output for the input, in order.
    pub fn trace(&self, x: &Tensor) -> candle_core::Result<Vec<(Stage, Tensor)>> {
        let mut h = x.clone();
        let mut out = Vec::with_capacity(self.stages.len());
        for (i, s) in self.stages.iter().enumerate() {
            h = self.apply(i, &h)?;
            out.push((*s, h.clone()));
        }
        Ok(out)
    }
}

/// Inverted dropout of `x` with `rate` in (0, 1): each value is kept with probability `1 − rate` and scaled by
/// `1 / (1 − rate)`, the mask drawn from `rng` in row-major order. Differentiable (a product with a constant mask).
fn dropout(x: &Tensor, rate: f32, rng: &mut Rng) -> candle_core::Result<Tensor> {
    let mask = dropout_mask(x.elem_count(), rate, rng);
    x * Tensor::from_vec(mask, x.shape(), x.device())?
}

/// The mask of [`dropout`] over `len` values: `0` or `1 / (1 − rate)`, drawn from `rng` one value at a time. The
/// whole-step training kernels draw theirs here too, so a seed gives the same masks on both paths.
pub(crate) fn dropout_mask(len: usize, rate: f32, rng: &mut Rng) -> Vec<f32> {
    let keep = 1.0 - rate as f64;
    let scale = 1.0 / keep as f32;
    (0..len).map(|_| if rng.next_f64() < keep { scale } else { 0.0 }).collect()
}

/// Images as a [N, 1, 28, 28] tensor.
pub fn images_tensor(pixels: &[f32], n: usize) -> candle_core::Result<Tensor> {
    Tensor::from_slice(pixels, stages::INPUT.dims(n), &Device::Cpu)
}

/// Mean cross-entropy loss and the number of correct predictions.
pub fn loss_and_correct(logits: &Tensor, labels: &Tensor) -> candle_core::Result<(Tensor, usize)> {
    let loss = ops::cross_entropy(logits, labels)?;
    // Counted on the host: one copy of the logits instead of four small tensor ops.
    let (_, classes) = logits.dims2()?;
    let values = logits.flatten_all()?.to_vec1::<f32>()?;
    let labels = labels.to_vec1::<u32>()?;
    let correct = values.chunks_exact(classes.max(1)).zip(&labels).filter(|(row, &l)| argmax(row) as u32 == l).count();
    Ok((loss, correct))
}

/// Index of the largest value: ties go to the first maximum, a NaN never replaces the best so far, an empty slice
/// gives 0. The one argmax of the engine (loss counting, prediction).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::config::Init;

    #[test]
    fn layers_are_found_by_name() {
        let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &vec![String::new(); 10]);
        let model = LeNet::from_weights(&w).unwrap();
        for key in stages::weighted_layers(w.config) {
            let (weight, bias) = model.layer(key).unwrap();
            let (want_w, want_b) = w.layer(key).unwrap();
            assert_eq!((weight.dims(), bias.dims()), (want_w.shape.as_slice(), want_b.shape.as_slice()), "{key}");
            assert_eq!(weight.flatten_all().unwrap().to_vec1::<f32>().unwrap(), want_w.data, "{key}");
        }
        for key in stages::activation_stages(w.config).into_iter().chain(["s2", "flatten", "nope"]) {
            assert!(model.layer(key).is_none(), "{key}");
        }
        assert_eq!(argmax(&[0.1, 0.7, 0.7, f32::NAN]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
