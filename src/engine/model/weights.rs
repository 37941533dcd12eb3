//! The model's parameters as plain data. This is what crosses threads (trainer → app), what the weight files hold,
//! and what a Predictor is built from; it keeps tensors out of events and app state.

use crate::engine::model::config::Init;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages::{self, ParamRole};
use crate::engine::rng::Rng;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelWeights {
    pub config: ModelConfig,
    /// Name of the data set these weights were trained on (e.g. "MNIST").
    pub dataset: String,
    pub class_names: Vec<String>,
    /// In `stages::params()` order: c1.weight, c1.bias, c3.weight, …, out.bias.
    pub params: Vec<Param>,
}

impl ModelWeights {
    /// Fresh weights drawn from `init` with the given seed. Biases start at zero.
    pub fn init(config: ModelConfig, init: Init, seed: u64, dataset: &str, class_names: &[String]) -> Self {
        let mut rng = Rng::new(seed);
        let params = stages::params(config)
            .into_iter()
            .map(|spec| {
                let (n, shape) = (spec.len(), &spec.shape);
                let data = if spec.role == ParamRole::Bias {
                    vec![0.0; n]
                } else {
                    // fan_in = inputs per output unit; fan_out = outputs per input unit.
                    let receptive: usize = shape[2..].iter().product();
                    let fan_in = (shape[1] * receptive) as f64;
                    let fan_out = (shape[0] * receptive) as f64;
                    match init {
                        Init::Normal => (0..n).map(|_| rng.normal() as f32).collect(),
                        Init::Xavier => {
                            let a = (6.0 / (fan_in + fan_out)).sqrt();
                            (0..n).map(|_| ((rng.next_f64() * 2.0 - 1.0) * a) as f32).collect()
                        }
                        Init::Kaiming => {
                            let std = (2.0 / fan_in).sqrt();
                            (0..n).map(|_| (rng.normal() * std) as f32).collect()
                        }
                    }
                };
                Param { name: spec.name(), shape: spec.shape, data }
            })
            .collect();
        ModelWeights { config, dataset: dataset.to_string(), class_names: class_names.to_vec(), params }
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The weight and the bias of a layer with weights ("c1", "c3", "f5", "f6", "out").
    pub fn layer(&self, layer: &str) -> Option<(&Param, &Param)> {
        self.param(&format!("{layer}.weight")).zip(self.param(&format!("{layer}.bias")))
    }

    /// Checks names, order and shapes against the architecture; the error (a `Weights` error with no path) says
    /// what differs.
    pub fn check_shapes(&self) -> Result<()> {
        let specs = stages::try_stages(self.config)
            .map(|_| stages::params(self.config))
            .map_err(|e| Error::bad_weights(format!("architecture {}: {e}", self.config.arch)))?;
        if self.params.len() != specs.len() {
            return Err(Error::bad_weights(format!("expected {} tensors, found {}", specs.len(), self.params.len())));
        }
        for (p, spec) in self.params.iter().zip(&specs) {
            let name = spec.name();
            if p.name != name {
                return Err(Error::bad_weights(format!("expected tensor '{name}', found '{}'", p.name)));
            }
            if p.shape != spec.shape {
                return Err(Error::bad_weights(format!(
                    "tensor '{name}' has shape {:?}, the architecture needs {:?}",
                    p.shape, spec.shape
                )));
            }
            if p.data.len() != spec.len() {
                return Err(Error::bad_weights(format!(
                    "tensor '{name}' has {} values for shape {:?}",
                    p.data.len(),
                    spec.shape
                )));
            }
            if p.data.iter().any(|v| !v.is_finite()) {
                return Err(Error::bad_weights(format!("tensor '{name}' holds NaN or infinite values")));
            }
        }
        if self.class_names.len() != self.config.classes {
            return Err(Error::bad_weights(format!(
                "expected {} class names, found {}",
                self.config.classes,
                self.class_names.len()
            )));
        }
        Ok(())
    }
}
