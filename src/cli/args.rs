//! The command line as clap parses it: the subcommands, `train`'s flags and how they make a recipe.

use crate::engine::model::architecture::{ArchError, Architecture};
use crate::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use crate::engine::model::stages;
use crate::engine::training::config::{ConfigChanges, Optimizer, Preset, TrainConfig};
use crate::engine::training::schedule::{parse_epoch_list, Schedule};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lenet-playground",
    version,
    about = "Watch LeNet-5 learn to read handwriting. With no command, opens the window."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per process: the size of the largest variant (train's flags) costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train LeNet-5 and report per-epoch test accuracy.
    Train(TrainArgs),
    /// Print each stage's output shape for a 1×1×28×28 input (LeNet-5, or the network of --arch).
    Inspect {
        #[arg(long, default_value = "sigmoid")]
        activation: Activation,
        #[arg(long, default_value = "avg")]
        pooling: Pooling,
        #[arg(long, value_name = "SPEC", value_parser = parse_arch, long_help = ARCH_HELP)]
        arch: Option<Box<Architecture>>,
        /// Also print parameters per stage and in total, the size arithmetic, what each stage computes and the
        /// FLOPs per image.
        #[arg(long)]
        details: bool,
        /// One unit of a trained network, as stage:number (c3:4 is channel 4 of c3, f5:17 unit 17 of f5): print the
        /// 16 test images that excite it most and least (indices, responses, where). Needs --weights; the
        /// network is the weights' own.
        #[arg(long, value_name = "STAGE:N", requires = "weights")]
        unit: Option<String>,
        /// With --unit: the weights file.
        #[arg(long, requires = "unit")]
        weights: Option<PathBuf>,
        /// With --unit: the test images to rank (as for eval); default: the shipped MNIST.
        #[arg(long, requires = "unit")]
        data: Option<PathBuf>,
        /// With --unit: write each image cropped to what the unit saw as a PNG, plus index.csv, into this folder.
        #[arg(long, requires = "unit")]
        crops: Option<PathBuf>,
    },
    /// Predict the digit in image files (PNG or JPEG, any size, either polarity).
    Predict {
        #[arg(long)]
        weights: PathBuf,
        /// One JSON object per image.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Test accuracy, overall and per class, the confusion matrix and the most confused pairs of a weights file.
    Eval {
        #[arg(long)]
        weights: PathBuf,
        /// A folder with the four MNIST-format files, or an image folder (its test images: those of test/, or
        /// the held-out 20 %); default: the shipped MNIST.
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Write every misclassified test image here as <index>_true-<t>_pred-<p>.png, plus index.csv. The folder
        /// must be new or empty, unless --force.
        #[arg(long)]
        mistakes: Option<PathBuf>,
        /// With --mistakes: first remove the images a previous `eval --mistakes` wrote there (those its index.csv
        /// lists); any other file in the folder is still refused.
        #[arg(long, requires = "mistakes")]
        force: bool,
    },
    /// Show which parts of an image decided a class: an occlusion map over the preprocessed input, as a PNG.
    Explain {
        #[arg(long)]
        weights: PathBuf,
        /// The image (PNG or JPEG, any size, either polarity).
        image: PathBuf,
        /// The class to explain, by number (default: the predicted one); any class the weights score.
        #[arg(long)]
        class: Option<usize>,
        /// Where to write the PNG (the input with the map overlaid, 10× upscaled, with a colour bar).
        #[arg(long)]
        out: PathBuf,
        /// Print {"path", "class", "probability", "map": 28×28} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Measure training and evaluation throughput, prediction latency and peak memory.
    Bench {
        /// Training steps to time (batch 100), 1 to 10000.
        #[arg(long, default_value_t = 60)]
        steps: u64,
        /// The network to measure (default: LeNet-5).
        #[arg(long, value_name = "SPEC", value_parser = parse_arch, long_help = ARCH_HELP)]
        arch: Option<Box<Architecture>>,
        #[arg(long)]
        json: bool,
    },
    /// Write a weights file's network as an ONNX model (opset 13) that other tools open and run: input `image`
    /// N×1×28×28 (pixels / 255, ink bright), output `logits` N×classes; class names in its metadata.
    Export {
        #[arg(long)]
        weights: PathBuf,
        /// Where to write the .onnx file (replaced atomically: never a partial file).
        #[arg(long)]
        onnx: PathBuf,
    },
    /// List the recorded runs (from `train --record` and the window) in the data folder.
    Runs {
        /// One JSON object per run per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// default | seed | classic | modern; other flags override the preset.
    #[arg(long, default_value = "default")]
    pub preset: Preset,
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Learning rate, within the window's slider range (0.0001 to 2).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub activation: Option<Activation>,
    #[arg(long)]
    pub pooling: Option<Pooling>,
    #[arg(long)]
    pub init: Option<Init>,
    #[arg(long)]
    pub optimizer: Option<Optimizer>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// The network's layers (default: LeNet-5), e.g. mlp or c8k3psame-pool,c16k3psame-pool,f64-drop0.3.
    #[arg(long, value_name = "SPEC", value_parser = parse_arch, long_help = ARCH_HELP)]
    pub arch: Option<Box<Architecture>>,
    /// A folder with the four MNIST-format files, or an image folder (one subfolder of PNG/JPEG files per class,
    /// optionally under train/ and test/); default: the shipped MNIST.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Start from these weights (safetensors) instead of fresh ones; for a data set with other classes the output
    /// layer is drawn afresh and every other layer copied.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// With --init-from: layers that keep their starting weights, e.g. c1,c3 (the conv stages: transfer learning).
    #[arg(long, requires = "init_from", value_delimiter = ',')]
    pub freeze: Vec<String>,
    /// Train on the first N training images only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Save the final weights (safetensors).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write per-batch and per-epoch metrics as CSV.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// One JSON object per event per line on stdout.
    #[arg(long)]
    pub json: bool,
    /// Learning-rate schedule: constant, step (×0.1 after the --step-epochs) or cosine (to ~0 at the last batch).
    #[arg(long, default_value = "constant")]
    pub schedule: Schedule,
    /// For --schedule step: the epochs after which the rate is multiplied by 0.1, e.g. 3,6 (default: half-way).
    #[arg(long)]
    pub step_epochs: Option<EpochList>,
    /// Keep the run in the run store (data folder: $LENET_PLAYGROUND_HOME or ~/.local/share/lenet-playground).
    #[arg(long)]
    pub record: bool,
    /// Name of the recorded run (default: its settings, e.g. "Adam lr 0.003"); no control characters.
    #[arg(long, requires = "record", value_parser = parse_run_name)]
    pub run_name: Option<String>,
}

/// What `--help` says about `--arch`.
const ARCH_HELP: &str = "The network's layers before the output layer, comma-separated (default: LeNet-5):\n  \
    c<channels>k<kernel>[p<padding>|psame][-pool]  a stride-1 convolution (channels 1-64, kernel 1-9, padding \
    below the kernel; psame keeps the side for odd kernels) and the activation, optionally followed by 2x2 \
    pooling (odd sides are floored)\n  \
    f<width>[-drop<rate>]  a hidden dense layer (width 1-1024) and the activation, with dropout (0-0.7) on its \
    input while training\n\
    At most 3 conv blocks and 3 hidden layers; the output layer has one unit per class. Presets: lenet5 \
    (c6k5p2-pool,c16k5-pool,f120,f84), mlp (f300,f100), wide (c32k5p2-pool,c64k5-pool,f120,f84), tiny \
    (c2k5p2-pool,c4k5-pool,f16), linear (no hidden layer). An impossible network is refused with the arithmetic \
    that fails.";

/// `--arch`: the text form, and a network whose sizes work out (for ten classes; the data set's count is checked
/// again before training).
fn parse_arch(s: &str) -> std::result::Result<Box<Architecture>, String> {
    let arch: Architecture = s.parse().map_err(|e: ArchError| e.to_string())?;
    stages::try_stages(ModelConfig { arch, ..ModelConfig::default() }).map_err(|e| e.to_string())?;
    Ok(Box::new(arch))
}

/// `--run-name`: what the run store accepts as a name (shown on terminals and in the window, so no control
/// characters).
fn parse_run_name(s: &str) -> std::result::Result<String, String> {
    crate::engine::store::runs::check_run_name(s).map(|()| s.to_string())
}

/// `--step-epochs 3,6`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochList(pub Vec<usize>);

impl std::str::FromStr for EpochList {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        parse_epoch_list(s).map(EpochList)
    }
}

impl TrainArgs {
    /// The preset with the flags that were given applied over it (the same way as the coach's restarts).
    pub fn config(&self) -> TrainConfig {
        let changes = ConfigChanges {
            init: self.init,
            optimizer: self.optimizer,
            activation: self.activation,
            pooling: self.pooling,
            lr: self.lr,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
            arch: self.arch.clone(),
        };
        let mut c = TrainConfig::preset(self.preset).with_changes(&changes);
        c.limit = self.limit;
        c.freeze = self.freeze.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        c.schedule = match (&self.schedule, &self.step_epochs) {
            (Schedule::Step { .. }, Some(at)) => Schedule::Step { at_epochs: at.0.clone() },
            (Schedule::Step { at_epochs }, None) if at_epochs.is_empty() => {
                Schedule::Step { at_epochs: Schedule::default_step_epochs(c.epochs) }
            }
            (other, _) => other.clone(),
        };
        c
    }
}
