//! The headless front end on the same engine as the app: `train`, `inspect`, `predict`, `eval`, `explain`, `bench`
//! and `runs` (the [`Command`] enum is the list). Arguments and the small subcommands live here; `train`, `eval`,
//! `explain` and `runs` have a file each. Progress goes to stderr, results to stdout, so output can be piped.

use crate::engine::data::mnist::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use crate::engine::model::architecture::{ArchError, Architecture};
use crate::engine::model::checkpoint;
use crate::engine::model::predict::Predictor;
use crate::engine::model::stages;
use crate::engine::store::atomic_file::same_file;
use crate::engine::training::config::{
    Activation, ConfigChanges, Init, ModelConfig, Optimizer, Pooling, Preset, TrainConfig, LR_RANGE,
};
use crate::engine::training::schedule::{parse_epoch_list, Schedule};
use crate::error::printable;
use crate::{Error, Result};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

mod bench;
mod eval;
mod explain;
mod inspect;
mod runs;
mod signals;
mod train;

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
        /// The class to explain (default: the predicted one).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..10))]
        class: Option<u8>,
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

/// Runs a subcommand. A failure to write its results on stdout is its error too (after its own, if it has one).
pub fn run(command: Command) -> Result<()> {
    let result = run_command(command);
    match (result, stdout_result()) {
        (Ok(()), out) => out,
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(out)) => report_all(vec![out, e]),
    }
}

fn run_command(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::run_train(&args),
        Command::Runs { json } => runs::run_runs(json),
        Command::Inspect { activation, pooling, arch, details } => inspect::run_inspect(
            ModelConfig { activation, pooling, arch: arch.map(|a| *a).unwrap_or_default(), ..ModelConfig::default() },
            details,
        ),
        Command::Predict { weights, json, images } => {
            let w = checkpoint::load(&weights)?;
            let predictor = Predictor::new(&w)?.with_source(&weights);
            // Each image on its own: a bad one gets its own error line, the others are still answered.
            let mut errors = Vec::new();
            for path in &images {
                let p = match predictor.predict_file(path) {
                    Ok(p) => p,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let line = if json {
                    serde_json::json!({
                        "path": path.display().to_string(),
                        "digit": p.class,
                        "class_name": w.class_names[p.class],
                        "probabilities": p.probabilities,
                    })
                    .to_string()
                } else {
                    format!("{}\t{}\t{:.4}", printable(&path.display().to_string()), p.class, p.confidence())
                };
                print_stdout(&format!("{line}\n"));
            }
            report_all(errors)
        }
        Command::Eval { weights, data, json, mistakes, force } => {
            eval::run_eval(&weights, data.as_deref(), json, mistakes.as_ref(), force)
        }
        Command::Explain { weights, image, class, out, json } => {
            explain::run_explain(&weights, &image, class.map(usize::from), &out, json)
        }
        Command::Bench { steps, arch, json } => {
            bench::run_bench(check_bench_steps(steps)?, arch.map(|a| *a).unwrap_or_default(), json)
        }
    }
}

/// The first error writing stdout, other than a closed pipe; once set, nothing more is written there.
static STDOUT_FAILED: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// Results on stdout. A closed pipe (e.g. `| head`) is not an error: the reader has what it wanted. Any other write
/// error (`> /dev/full`) is kept and reported once when the command ends ([`stdout_result`]), so a lost result is
/// never a silent success.
pub(crate) fn print_stdout(s: &str) {
    let mut failed = STDOUT_FAILED.lock().unwrap_or_else(|p| p.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => *failed = Some(e),
    }
}

/// The stdout write error seen so far, as the command's error (taken: reported once).
fn stdout_result() -> Result<()> {
    match STDOUT_FAILED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(Error::write("standard output", "the results were not written").because(e)),
        None => Ok(()),
    }
}

/// Progress and messages on stderr. Unlike `eprintln!`, a closed stderr (e.g. `2>&1 | head -1`) is not a panic:
/// the run goes on and still writes its files.
pub fn print_stderr(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes());
    let _ = err.flush();
}

/// Prints an error as the one line the user sees (`error: …`), without panicking on a closed stderr.
pub(crate) fn report_error(e: &Error) {
    print_stderr(&format!("error: {}\n", e.report()));
}

/// Several failures: every one but the last is printed here, the last is returned for `main` to print, so each gets
/// its own line and the exit status reflects them.
pub(crate) fn report_all(mut errors: Vec<Error>) -> Result<()> {
    let Some(last) = errors.pop() else { return Ok(()) };
    for e in &errors {
        report_error(e);
    }
    Err(last)
}

/// The files a `--data` folder can be read from (that exist or not): the four IDX files, gzip or raw, its
/// SHA256SUMS and classes.txt.
pub(crate) fn data_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
        .iter()
        .flat_map(|stem| [dir.join(format!("{stem}.gz")), dir.join(stem)])
        .collect();
    files.push(dir.join("SHA256SUMS"));
    files.push(dir.join("classes.txt"));
    files
}

/// Refuses, before anything is written, an output (`flag`'s path) that is one of the command's inputs.
pub(crate) fn check_not_input(flag: &str, output: &Path, inputs: &[PathBuf]) -> Result<()> {
    match inputs.iter().find(|i| same_file(output, i)) {
        Some(input) => Err(Error::Config(format!(
            "{flag} {} is one of this command's inputs ({}): refusing to overwrite it",
            printable(&output.display().to_string()),
            printable(&input.display().to_string())
        ))),
        None => Ok(()),
    }
}

/// Training steps `bench` accepts.
pub(crate) const BENCH_STEPS_RANGE: (usize, usize) = (1, 10_000);

/// `--lr` must lie in the window's slider range: anything else is refused before training, with the range.
pub(crate) fn check_lr(lr: Option<f64>) -> Result<()> {
    let (lo, hi) = LR_RANGE;
    match lr {
        Some(v) if !(lo..=hi).contains(&v) => Err(Error::Config(format!(
            "learning rate {v} is outside the allowed range {lo} to {hi} (the window's slider)"
        ))),
        _ => Ok(()),
    }
}

fn check_bench_steps(steps: u64) -> Result<usize> {
    let (lo, hi) = BENCH_STEPS_RANGE;
    if !(lo as u64..=hi as u64).contains(&steps) {
        return Err(Error::Config(format!("--steps {steps} is outside the allowed range {lo} to {hi}")));
    }
    Ok(steps as usize)
}

/// The process exit status for an error: 2 for bad input or settings, 1 for anything else.
pub fn exit_code(e: &Error) -> i32 {
    if e.is_bad_input() {
        2
    } else {
        1
    }
}
