//! Prediction for one image, with no gradient tracking: the canvas calls it on every stroke, the CLI on files. It
//! also traces every stage's activations for the inspector.

use crate::engine::data::digit::{preprocess, GrayImage};
use crate::engine::data::set::IMAGE_PIXELS;
use crate::engine::model::lenet::{argmax, images_tensor, LeNet};
use crate::engine::model::stages::StageKind;
use crate::engine::model::weights::ModelWeights;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub probabilities: Vec<f32>,
    pub class: usize,
}

impl Prediction {
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.class]
    }
}

/// One stage's output for one input.
#[derive(Debug, Clone, PartialEq)]
pub struct StageActivation {
    pub key: &'static str,
    pub kind: StageKind,
    /// Output shape including the batch dimension of 1.
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

pub struct Predictor {
    model: LeNet,
    weights: ModelWeights,
    /// The weights file, named in errors (e.g. outputs that overflow).
    source: Option<PathBuf>,
}

impl Predictor {
    pub fn new(weights: &ModelWeights) -> Result<Self> {
        weights.check_shapes()?;
        Ok(Predictor { model: LeNet::from_weights(weights)?, weights: weights.clone(), source: None })
    }

    /// Names the weights file these weights came from, for error messages.
    pub(crate) fn with_source(mut self, path: &Path) -> Self {
        self.source = Some(path.to_path_buf());
        self
    }

    fn overflow_error(&self) -> Error {
        let e = Error::bad_weights(
            "the network's outputs overflow (not finite) for this input: the weights are finite but far too large \
             to be trained LeNet-5 weights",
        );
        match &self.source {
            Some(p) => e.in_file(p),
            None => e,
        }
    }

    pub fn weights(&self) -> &ModelWeights {
        &self.weights
    }

    /// The stages of the network these weights describe.
    pub fn stages(&self) -> &[crate::engine::model::stages::Stage] {
        self.model.stages()
    }

    pub fn class_names(&self) -> &[String] {
        &self.weights.class_names
    }

    /// Class probabilities for one preprocessed 28×28 input (0..1, ink = 1).
    pub fn predict(&self, input: &[f32; IMAGE_PIXELS]) -> Result<Prediction> {
        let logits = self.model.forward(&images_tensor(input, 1)?)?;
        let probs = candle_nn::ops::softmax_last_dim(&logits)?.flatten_all()?.to_vec1::<f32>()?;
        self.check_finite(&probs)?;
        let class = argmax(&probs);
        Ok(Prediction { probabilities: probs, class })
    }

    /// The logits of `n` preprocessed inputs, row by row; outputs that overflow are the same error as for
    /// [`predict`](Self::predict), naming the weights file, so no command ever answers NaN.
    pub(crate) fn logits(&self, inputs: &[f32], n: usize) -> Result<Vec<f32>> {
        let values = self.model.forward(&images_tensor(inputs, n)?)?.flatten_all()?.to_vec1::<f32>()?;
        self.check_finite(&values)?;
        Ok(values)
    }

    /// The one check of what the network computed: every value finite.
    fn check_finite(&self, values: &[f32]) -> Result<()> {
        match values.iter().all(|v| v.is_finite()) {
            true => Ok(()),
            false => Err(self.overflow_error()),
        }
    }

    /// Every stage's activations for one input, in order.
    pub fn trace(&self, input: &[f32; IMAGE_PIXELS]) -> Result<Vec<StageActivation>> {
        self.model
            .trace(&images_tensor(input, 1)?)?
            .into_iter()
            .map(|(stage, t)| {
                Ok(StageActivation {
                    key: stage.key,
                    kind: stage.kind,
                    shape: t.dims().to_vec(),
                    values: t.flatten_all()?.to_vec1::<f32>()?,
                })
            })
            .collect()
    }

    /// The output of stage `index` for `n` preprocessed inputs, image by image (each `stages[index].output.len()`
    /// values), computed as prediction computes it.
    pub(crate) fn stage_values(&self, inputs: &[f32], n: usize, index: usize) -> Result<Vec<f32>> {
        let values = self.model.forward_to(&images_tensor(inputs, n)?, index)?.flatten_all()?.to_vec1::<f32>()?;
        self.check_finite(&values)?;
        Ok(values)
    }

    /// Reads an image file (PNG or JPEG, any size or polarity), preprocesses it, and predicts. An image with no
    /// visible digit is an error naming the file.
    pub(crate) fn predict_file(&self, path: &Path) -> Result<Prediction> {
        self.predict(&read_input(path)?)
    }

    /// The model itself, for engine code that runs its own batches (e.g. `explain`).
    pub(crate) fn model(&self) -> &LeNet {
        &self.model
    }
}

/// Reads an image file (PNG or JPEG, any size or polarity) and preprocesses it into the network's 28×28 input.
/// An image with no visible digit is an error naming the file.
pub(crate) fn read_input(path: &Path) -> Result<[f32; IMAGE_PIXELS]> {
    let img = GrayImage::read_file(path)?;
    preprocess(&img).ok_or_else(|| Error::image(path, "no digit found (the image is blank or uniform)"))
}
