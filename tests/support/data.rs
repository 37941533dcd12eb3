//! The data the tests train on: the shipped MNIST, loaded once per test binary and shared by all its tests (it is
//! only read), slices of it for quick runs, and untrained weights for the shipped classes.

use lenet_playground::engine::data::classes::DIGIT_CLASSES;
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use std::sync::{Arc, OnceLock};

fn shared() -> &'static Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| Arc::new(Dataset::shipped_mnist().expect("shipped MNIST loads")))
}

/// The shipped MNIST: 60,000 training and 10,000 test images.
pub fn mnist() -> &'static Dataset {
    shared()
}

/// The shipped MNIST as the app takes it.
pub fn mnist_arc() -> Arc<Dataset> {
    shared().clone()
}

/// The first `train` training images and `test` test images of the shipped MNIST.
pub fn small(train: usize, test: usize) -> Dataset {
    let d = mnist();
    Dataset { train: d.train.truncated(train), test: d.test.truncated(test), ..d.clone() }
}

/// The ten digit names, as a weights file stores them.
pub fn digit_names() -> Vec<String> {
    DIGIT_CLASSES.iter().map(|s| s.to_string()).collect()
}

/// Untrained weights of the default (classic) architecture for the digits.
pub fn fresh_weights(seed: u64) -> ModelWeights {
    ModelWeights::init(ModelConfig::default(), Init::Xavier, seed, "MNIST", &digit_names())
}
