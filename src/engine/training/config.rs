//! What a user can choose about a run: the architecture variant, how weights start, how they are updated, and the
//! three presets of the lesson. Plain serde data, shared by the CLI, the app's settings, and weight-file metadata.

use crate::engine::choice::choice_enum;
use crate::engine::model::architecture::Architecture;
use crate::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use crate::engine::training::schedule::Schedule;
use serde::{Deserialize, Serialize};

choice_enum!(
    /// The update rule.
    Optimizer { Sgd => "sgd", "SGD"; Momentum => "momentum", "SGD + momentum 0.9"; Adam => "adam", "Adam"; }
);
choice_enum!(
    /// Named starting points; `Default` is what the app and CLI use when nothing is chosen.
    Preset { Default => "default", "Default"; Seed => "seed", "Seed"; Classic => "classic", "Classic"; Modern => "modern", "Modern"; }
);

/// Everything that defines a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub model: ModelConfig,
    pub init: Init,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// Train on the first N training images only (quick tries and tests).
    pub limit: Option<usize>,
    /// How the learning rate moves during the run (see `engine::training::schedule`); settings without it load as constant.
    #[serde(default)]
    pub schedule: Schedule,
    /// Layers whose weights and biases the optimiser leaves as they start (e.g. `["c1", "c3"]`, the conv stages, for
    /// transfer learning from weights trained on another set); keys of the architecture's weighted layers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<String>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig::preset(Preset::Default)
    }
}

/// The window's learning-rate slider, and what the CLI's `--lr` accepts.
pub(crate) const LR_RANGE: (f64, f64) = (1e-4, 2.0);
/// The window's epochs slider.
pub(crate) const EPOCHS_RANGE: (usize, usize) = (1, 50);
/// Epochs the trainer runs at all: a config (`validate`) and a live change (`Control::set_epochs`) stay within.
pub(crate) const EPOCHS_LIMIT: (usize, usize) = (1, 1000);
/// The window's batch-size slider.
pub(crate) const BATCH_RANGE: (usize, usize) = (1, 1000);

/// Settings to change on a config; `None` keeps the current one. The CLI's flags over a preset and the coach's
/// restarts (`HintAction::Restart`) are both applied by [`TrainConfig::with_changes`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<Optimizer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Pooling>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The layers (`--arch`); the class count stays the data set's. Boxed: a description is ~160 bytes, and
    /// these changes travel inside events and commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<Box<Architecture>>,
}

impl TrainConfig {
    /// The presets. `Default` keeps the classic architecture (sigmoid, average pooling) but uses Xavier init and
    /// Adam, which passes 90 % test accuracy within the first epoch; `Classic` is the textbook SGD recipe.
    pub fn preset(p: Preset) -> Self {
        let classic = ModelConfig { activation: Activation::Sigmoid, pooling: Pooling::Avg, ..ModelConfig::default() };
        let base = TrainConfig {
            model: classic,
            init: Init::Xavier,
            optimizer: Optimizer::Adam,
            lr: 3e-3,
            epochs: 5,
            batch_size: 100,
            seed: 42,
            limit: None,
            schedule: Schedule::Constant,
            freeze: Vec::new(),
        };
        match p {
            Preset::Default => base,
            Preset::Seed => TrainConfig { init: Init::Normal, optimizer: Optimizer::Sgd, lr: 0.01, epochs: 1, ..base },
            Preset::Classic => {
                TrainConfig { init: Init::Xavier, optimizer: Optimizer::Sgd, lr: 0.9, epochs: 10, ..base }
            }
            Preset::Modern => TrainConfig {
                model: ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() },
                init: Init::Kaiming,
                optimizer: Optimizer::Adam,
                lr: 1e-3,
                epochs: 5,
                ..base
            },
        }
    }

    /// This config with `changes` applied (the rest kept).
    pub(crate) fn with_changes(&self, changes: &ConfigChanges) -> TrainConfig {
        let ConfigChanges { init, optimizer, activation, pooling, lr, epochs, batch_size, seed, arch } =
            changes.clone();
        let c = self.clone();
        TrainConfig {
            model: ModelConfig {
                activation: activation.unwrap_or(c.model.activation),
                pooling: pooling.unwrap_or(c.model.pooling),
                arch: arch.map_or(c.model.arch, |a| *a),
                ..c.model
            },
            init: init.unwrap_or(c.init),
            optimizer: optimizer.unwrap_or(c.optimizer),
            lr: lr.unwrap_or(c.lr),
            epochs: epochs.unwrap_or(c.epochs),
            batch_size: batch_size.unwrap_or(c.batch_size),
            seed: seed.unwrap_or(c.seed),
            ..c
        }
    }

    /// The settings in words, e.g. "Sigmoid + AvgPool2d, Xavier init, Adam lr 0.003, batch 100": how the CLI
    /// announces a run (and what the window's texts about a run should say). An architecture other than LeNet-5
    /// comes first, in its text form: "c8k3p1-pool,f64: ReLU + MaxPool2d, …".
    pub(crate) fn describe(&self) -> String {
        let arch =
            if self.model.arch == Architecture::lenet5() { String::new() } else { format!("{}: ", self.model.arch) };
        let frozen = if self.freeze.is_empty() { String::new() } else { format!(", {} frozen", self.freeze.join(" ")) };
        format!(
            "{arch}{} + {}, {} init, {} lr {}, batch {}{frozen}",
            self.model.activation.label(),
            self.model.pooling.label(),
            self.init.label(),
            self.optimizer.label(),
            lr_text(self.lr),
            self.batch_size
        )
    }

    /// Rejects settings the trainer cannot run, with a message a user can act on.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        use crate::Error::Config;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Config(format!("learning rate must be a positive number, got {}", self.lr)));
        }
        let (min_epochs, max_epochs) = EPOCHS_LIMIT;
        if !(min_epochs..=max_epochs).contains(&self.epochs) {
            return Err(Config(format!("epochs must be between {min_epochs} and {max_epochs}, got {}", self.epochs)));
        }
        if self.batch_size == 0 || self.batch_size > 60_000 {
            return Err(Config(format!("batch size must be between 1 and 60000, got {}", self.batch_size)));
        }
        if let Schedule::Step { at_epochs } = &self.schedule {
            if at_epochs.contains(&0) {
                return Err(Config("step schedule epochs must be 1 or more".into()));
            }
        }
        if self.limit == Some(0) {
            return Err(Config("--limit must be at least 1".into()));
        }
        crate::engine::model::stages::try_stages(self.model)
            .map_err(|e| Config(format!("architecture {}: {e}", self.model.arch)))?;
        let layers = crate::engine::model::stages::weighted_layers(self.model);
        if let Some(bad) = self.freeze.iter().find(|k| !layers.contains(&k.as_str())) {
            return Err(Config(format!("cannot freeze '{bad}': the layers with weights are {}", layers.join(", "))));
        }
        if layers.iter().all(|l| self.freeze.iter().any(|k| k == l)) {
            return Err(Config("every layer is frozen: there would be nothing left to train".into()));
        }
        Ok(())
    }
}

/// A learning rate in at most three significant digits: 0.003, 0.03, 0.9, 0.000316.
pub fn lr_text(lr: f64) -> String {
    if !(lr.is_finite() && lr > 0.0) {
        return format!("{lr}");
    }
    let decimals = (2 - lr.log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{lr:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rates_print_short() {
        assert_eq!(lr_text(0.003), "0.003");
        assert_eq!(lr_text(0.9), "0.9");
        assert_eq!(lr_text(0.0031622776), "0.00316");
        assert_eq!(lr_text(1.0), "1");
    }

    #[test]
    fn keys_round_trip() {
        for a in Activation::ALL {
            assert_eq!(a.key().parse::<Activation>().unwrap(), *a);
        }
        assert!("tanh".parse::<Activation>().unwrap_err().to_string().contains("sigmoid, relu"));
        assert_eq!("CLASSIC".parse::<Preset>().unwrap(), Preset::Classic);
    }

    #[test]
    fn presets_follow_the_lesson() {
        let seed = TrainConfig::preset(Preset::Seed);
        assert_eq!(
            (seed.init, seed.optimizer, seed.lr, seed.batch_size, seed.epochs),
            (Init::Normal, Optimizer::Sgd, 0.01, 100, 1)
        );
        let classic = TrainConfig::preset(Preset::Classic);
        assert_eq!((classic.init, classic.lr, classic.epochs), (Init::Xavier, 0.9, 10));
        let d = TrainConfig::default();
        assert_eq!(
            d.model,
            ModelConfig { activation: Activation::Sigmoid, pooling: Pooling::Avg, ..ModelConfig::default() }
        );
        assert!(TrainConfig { lr: f64::NAN, ..d.clone() }.validate().is_err());
        assert!(TrainConfig { batch_size: 0, ..d }.validate().is_err());
    }

    #[test]
    fn changes_keep_what_they_do_not_name() {
        let classic = TrainConfig::preset(Preset::Classic);
        let c =
            classic.with_changes(&ConfigChanges { lr: Some(0.1), pooling: Some(Pooling::Max), ..Default::default() });
        assert_eq!(
            c,
            TrainConfig { lr: 0.1, model: ModelConfig { pooling: Pooling::Max, ..classic.model }, ..classic.clone() }
        );
        assert_eq!(classic.with_changes(&ConfigChanges::default()), classic);
        assert_eq!(classic.describe(), "Sigmoid + AvgPool2d, Xavier init, SGD lr 0.9, batch 100");
        assert!(TrainConfig { epochs: EPOCHS_LIMIT.1 + 1, ..classic }.validate().is_err());
    }
}
