//! What a network is, apart from its numbers: the layers ([`Architecture`]), the non-linearity, the pooling, how
//! weights start, and the class count. Plain serde data that the model, weight files, the recipe and the store read.

use crate::engine::choice::choice_enum;
use crate::engine::model::architecture::Architecture;
use serde::{Deserialize, Serialize};

choice_enum!(
    /// The non-linearity after each conv and hidden linear layer.
    Activation { Sigmoid => "sigmoid", "Sigmoid"; Relu => "relu", "ReLU"; }
);
choice_enum!(
    /// The 2×2 subsampling after each convolution.
    Pooling { Avg => "avg", "AvgPool2d"; Max => "max", "MaxPool2d"; }
);
choice_enum!(
    /// How weights are drawn before training (biases start at zero, except `normal`, the tutorial's N(0,1) for all).
    Init { Normal => "normal", "Normal (σ=1)"; Xavier => "xavier", "Xavier"; Kaiming => "kaiming", "Kaiming"; }
);
/// The network: what a weights file must match. Its layers are the [`Architecture`]; the output layer scores
/// `classes` classes (the data set's). Settings and run records written before the architecture was editable
/// lack both fields and read as LeNet-5 on ten classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub activation: Activation,
    pub pooling: Pooling,
    #[serde(default)]
    pub arch: Architecture,
    #[serde(default = "ten_classes")]
    pub classes: usize,
}

fn ten_classes() -> usize {
    crate::engine::data::set::NUM_CLASSES
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            activation: Activation::Sigmoid,
            pooling: Pooling::Avg,
            arch: Architecture::lenet5(),
            classes: ten_classes(),
        }
    }
}
