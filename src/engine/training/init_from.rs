//! Starting a run from weights trained elsewhere (`train --init-from`, the window's fine-tuning): every layer is
//! copied, except that the output layer is drawn afresh when the new data set has other classes (another count, or
//! other names) — its rows scored the old classes and mean nothing for the new ones. The note says which, for the
//! status line. Freezing ([`TrainConfig::freeze`]) then decides which of the copied layers keep learning.

use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::TrainConfig;
use crate::{Error, Result};

/// The layer drawn afresh when the classes change.
pub const OUTPUT_LAYER: &str = "out";

/// The weights a run on `class_names` starts from, given `initial`, and a sentence for the user when they were
/// changed. `cfg.model.classes` must already be the data set's class count. Another architecture, activation or
/// pooling is an error (nothing could be copied layer by layer).
pub fn start_weights(
    initial: &ModelWeights,
    cfg: &TrainConfig,
    dataset: &str,
    class_names: &[String],
) -> Result<(ModelWeights, Option<String>)> {
    let same_classes = initial.config.classes == cfg.model.classes && initial.class_names == class_names;
    if initial.config == cfg.model && same_classes {
        return Ok((initial.clone(), None));
    }
    let without_classes = |m: ModelConfig| ModelConfig { classes: 0, ..m };
    if without_classes(initial.config) != without_classes(cfg.model) {
        return Err(Error::Config(format!(
            "the starting weights are for another network ({} {} {}) than the one selected ({} {} {})",
            initial.config.arch,
            initial.config.activation.label(),
            initial.config.pooling.label(),
            cfg.model.arch,
            cfg.model.activation.label(),
            cfg.model.pooling.label()
        )));
    }
    initial.check_shapes()?;
    if cfg.freeze.iter().any(|k| k == OUTPUT_LAYER) {
        return Err(Error::Config(format!(
            "cannot freeze '{OUTPUT_LAYER}': the starting weights score other classes ({}), so the output layer is \
             drawn afresh for {} and, frozen, would stay random; freeze only the layers before it",
            abbreviated(&initial.class_names),
            abbreviated(class_names)
        )));
    }
    let fresh = ModelWeights::init(cfg.model, cfg.init, cfg.seed, dataset, class_names);
    let mut weights = fresh.clone();
    for (p, spec) in weights.params.iter_mut().zip(stages::params(cfg.model)) {
        if spec.layer != OUTPUT_LAYER {
            if let Some(old) = initial.param(&p.name) {
                p.data.clone_from(&old.data);
            }
        }
    }
    let note = format!(
        "started from the {} weights: every layer copied except the output layer, drawn afresh ({} init) for the {} \
         classes of {dataset} ({})",
        initial.dataset,
        cfg.init.label(),
        class_names.len(),
        abbreviated(class_names)
    );
    Ok((weights, Some(note)))
}

/// "circle, square, triangle" or "0, 1, 2, … (62)".
fn abbreviated(names: &[String]) -> String {
    if names.len() <= 6 {
        names.join(", ")
    } else {
        format!("{}, … ({})", names[..3].join(", "), names.len())
    }
}

/// Which parameters (in `stages::params` order) a config leaves frozen.
pub fn frozen_params(cfg: &TrainConfig) -> Vec<bool> {
    stages::params(cfg.model).iter().map(|p| cfg.freeze.iter().any(|k| k == p.layer)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::config::Init;

    #[test]
    fn other_classes_redraw_only_the_output_layer() {
        let digits: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let mnist = ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &digits);
        let shapes: Vec<String> = ["circle", "square", "triangle"].map(String::from).to_vec();
        let cfg = TrainConfig { model: ModelConfig { classes: 3, ..ModelConfig::default() }, ..TrainConfig::default() };
        let (w, note) = start_weights(&mnist, &cfg, "shapes", &shapes).unwrap();
        assert!(note.unwrap().contains("except the output layer"));
        w.check_shapes().unwrap();
        assert_eq!(w.param("c1.weight"), mnist.param("c1.weight"));
        assert_eq!(w.param("f6.bias"), mnist.param("f6.bias"));
        assert_eq!(w.param("out.weight").unwrap().shape, vec![3, 84]);
        let same = TrainConfig::default();
        let (w, note) = start_weights(&mnist, &same, "MNIST", &digits).unwrap();
        assert_eq!((w, note), (mnist.clone(), None));
        let relu = TrainConfig {
            model: ModelConfig { activation: crate::engine::model::config::Activation::Relu, ..ModelConfig::default() },
            ..TrainConfig::default()
        };
        assert!(start_weights(&mnist, &relu, "MNIST", &digits).is_err());
    }
}
