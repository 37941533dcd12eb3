//! The model's parameters as plain data. This is what crosses threads (trainer → app), what the weight files hold,
//! and what a Predictor is built from; it keeps tensors out of events and app state.

use crate::engine::config::Init;
use crate::engine::config::ModelConfig;
use crate::engine::rng::Rng;

/// Parameter names and shapes, in order: the same names as the stage names, used as safetensors keys.
pub const PARAM_SHAPES: [(&str, &[usize]); 10] = [
    ("c1.weight", &[6, 1, 5, 5]),
    ("c1.bias", &[6]),
    ("c3.weight", &[16, 6, 5, 5]),
    ("c3.bias", &[16]),
    ("f5.weight", &[120, 400]),
    ("f5.bias", &[120]),
    ("f6.weight", &[84, 120]),
    ("f6.bias", &[84]),
    ("out.weight", &[10, 84]),
    ("out.bias", &[10]),
];

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
    /// In PARAM_SHAPES order.
    pub params: Vec<Param>,
}

impl ModelWeights {
    /// Fresh weights drawn from `init` with the given seed. Biases start at zero.
    pub fn init(config: ModelConfig, init: Init, seed: u64, dataset: &str, class_names: &[String]) -> Self {
        let mut rng = Rng::new(seed);
        let params = PARAM_SHAPES
            .iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                let data = if name.ends_with(".bias") {
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
                Param { name: name.to_string(), shape: shape.to_vec(), data }
            })
            .collect();
        ModelWeights { config, dataset: dataset.to_string(), class_names: class_names.to_vec(), params }
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn num_params(&self) -> usize {
        self.params.iter().map(|p| p.data.len()).sum()
    }

    /// Checks names, order and shapes against the architecture; the message says what differs.
    pub fn check_shapes(&self) -> Result<(), String> {
        if self.params.len() != PARAM_SHAPES.len() {
            return Err(format!("expected {} tensors, found {}", PARAM_SHAPES.len(), self.params.len()));
        }
        for (p, (name, shape)) in self.params.iter().zip(PARAM_SHAPES) {
            if p.name != name {
                return Err(format!("expected tensor '{name}', found '{}'", p.name));
            }
            if p.shape != shape {
                return Err(format!("tensor '{name}' has shape {:?}, LeNet-5 needs {:?}", p.shape, shape));
            }
            if p.data.len() != shape.iter().product::<usize>() {
                return Err(format!("tensor '{name}' has {} values for shape {:?}", p.data.len(), shape));
            }
            if p.data.iter().any(|v| !v.is_finite()) {
                return Err(format!("tensor '{name}' holds NaN or infinite values"));
            }
        }
        if self.class_names.len() != 10 {
            return Err(format!("expected 10 class names, found {}", self.class_names.len()));
        }
        Ok(())
    }
}
