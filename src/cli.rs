//! The headless front end: `train`, `inspect`, `predict`, `eval`, `bench` on the same engine as the app. Progress
//! goes to stderr, results to stdout, so output can be piped.

use crate::engine::bench;
use crate::engine::checkpoint;
use crate::engine::config::{Activation, Init, ModelConfig, Optimizer, Pooling, Preset, TrainConfig};
use crate::engine::control::Control;
use crate::engine::events::TrainEvent;
use crate::engine::inspect::stage_table;
use crate::engine::metrics::MetricsLog;
use crate::engine::mnist::DataSet;
use crate::engine::model::LeNet;
use crate::engine::predict::Predictor;
use crate::engine::train::{evaluate, train};
use crate::{Error, Result};
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "lenet-playground", version, about = "Watch LeNet-5 learn to read handwriting. With no command, opens the window.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train LeNet-5 and report per-epoch test accuracy.
    Train(TrainArgs),
    /// Print each stage's output shape for a 1×1×28×28 input.
    Inspect {
        #[arg(long, default_value = "sigmoid")]
        activation: Activation,
        #[arg(long, default_value = "avg")]
        pooling: Pooling,
        /// Also print parameters, the size arithmetic and what each stage computes.
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
    /// Test accuracy, overall and per class, of a weights file.
    Eval {
        #[arg(long)]
        weights: PathBuf,
        /// A folder with the four MNIST-format files (default: the shipped MNIST).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Measure training and evaluation throughput, prediction latency and peak memory.
    Bench {
        /// Training steps to time (batch 100).
        #[arg(long, default_value_t = 60)]
        steps: usize,
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
    /// A folder with the four MNIST-format files (default: the shipped MNIST).
    #[arg(long)]
    pub data: Option<PathBuf>,
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
}

impl TrainArgs {
    pub fn config(&self) -> TrainConfig {
        let mut c = TrainConfig::preset(self.preset);
        if let Some(v) = self.epochs { c.epochs = v; }
        if let Some(v) = self.lr { c.lr = v; }
        if let Some(v) = self.batch_size { c.batch_size = v; }
        if let Some(v) = self.activation { c.model.activation = v; }
        if let Some(v) = self.pooling { c.model.pooling = v; }
        if let Some(v) = self.init { c.init = v; }
        if let Some(v) = self.optimizer { c.optimizer = v; }
        if let Some(v) = self.seed { c.seed = v; }
        c.limit = self.limit;
        c
    }
}

/// Runs a subcommand.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => run_train(&args),
        Command::Inspect { activation, pooling, details } => {
            let rows = stage_table(ModelConfig { activation, pooling })?;
            let mut out = String::new();
            for r in &rows {
                if details {
                    out.push_str(&format!(
                        "{:<8} {:<36} params {:>6}  {}{}\n",
                        r.key,
                        r.line(),
                        r.params,
                        r.computes,
                        r.formula.as_ref().map(|f| format!("  [{f}]")).unwrap_or_default()
                    ));
                } else {
                    out.push_str(&r.line());
                    out.push('\n');
                }
            }
            if details {
                out.push_str(&format!("total parameters: {}\n", rows.iter().map(|r| r.params).sum::<usize>()));
            }
            print_stdout(&out);
            Ok(())
        }
        Command::Predict { weights, json, images } => {
            let w = checkpoint::load(&weights)?;
            let predictor = Predictor::new(&w)?;
            let mut out = String::new();
            for path in &images {
                let p = predictor.predict_file(path)?;
                if json {
                    out.push_str(&serde_json::json!({
                        "path": path.display().to_string(),
                        "digit": p.class,
                        "class_name": w.class_names[p.class],
                        "probabilities": p.probabilities,
                    }).to_string());
                    out.push('\n');
                } else {
                    out.push_str(&format!("{}\t{}\t{:.4}\n", path.display(), p.class, p.confidence()));
                }
            }
            print_stdout(&out);
            Ok(())
        }
        Command::Eval { weights, data, json } => {
            let w = checkpoint::load(&weights)?;
            let data = DataSet::load(data.as_deref())?;
            let model = LeNet::from_weights(&w)?;
            let (loss, acc, per_class) = evaluate(&model, &data.test, None)?.unwrap_or_default();
            if json {
                print_stdout(&format!(
                    "{}\n",
                    serde_json::json!({"test_loss": loss, "test_accuracy": acc, "class_accuracy": per_class, "classes": data.class_names})
                ));
            } else {
                let mut out = format!("data: {}\ntest loss: {loss:.4}\ntest accuracy: {:.2}%\n", data.describe(), acc * 100.0);
                for (name, a) in data.class_names.iter().zip(&per_class) {
                    out.push_str(&format!("  {name:<12} {:.2}%\n", a * 100.0));
                }
                print_stdout(&out);
            }
            Ok(())
        }
        Command::Bench { steps, json } => {
            let data = DataSet::shipped_mnist()?;
            let r = bench::run(&data, steps.max(1), &mut |m| eprintln!("bench: {m}"))?;
            if json {
                print_stdout(&format!("{}\n", serde_json::to_string(&r).unwrap_or_default()));
            } else {
                print_stdout(&format!(
                    "machine: {} threads\ntraining (classic, batch 100): {:.0} images/s, {:.1} s per epoch\n\
                     evaluation (batch 1000): {:.0} images/s\nprediction (one image, preprocessing included): \
                     p50 {:.0} µs, p99 {:.0} µs\npeak resident memory: {:.0} MB\n",
                    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                    r.train_images_per_sec, r.train_secs_per_epoch, r.eval_images_per_sec, r.predict_p50_us,
                    r.predict_p99_us, r.peak_rss_mb
                ));
            }
            Ok(())
        }
    }
}

fn print_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

fn run_train(args: &TrainArgs) -> Result<()> {
    let cfg = args.config();
    cfg.validate()?;
    if let Some(p) = &args.save {
        check_writable(p)?;
    }
    if let Some(p) = &args.metrics {
        check_writable(p)?;
    }
    let data = DataSet::load(args.data.as_deref())?;
    let tty = std::io::stderr().is_terminal();
    let mut log = MetricsLog::default();
    let mut epochs = 0;
    let mut last_drawn = std::time::Instant::now();
    let mut final_acc = None;
    eprintln!("data: {}", data.describe());
    let mut emit = |e: TrainEvent| {
        if args.json {
            if let Ok(line) = serde_json::to_string(&e) {
                // Weight snapshots serialize to nothing useful for a log; skip them.
                if !matches!(e, TrainEvent::Weights(_)) {
                    print_stdout(&format!("{line}\n"));
                }
            }
        }
        match &e {
            TrainEvent::Started { config, epochs: n, batches_per_epoch, train_images, .. } => {
                epochs = *n;
                eprintln!(
                    "training LeNet-5 ({}, {}) init {}, {} lr {}, batch {}, {n} epoch(s) of {batches_per_epoch} batches on {train_images} images",
                    config.model.activation.label(), config.model.pooling.label(), config.init.key(),
                    config.optimizer.label(), config.lr, config.batch_size
                );
            }
            TrainEvent::Batch(b) => {
                log.batches.push(b.clone());
                let done = b.batch == b.batches_per_epoch;
                let redraw = if tty { last_drawn.elapsed().as_millis() >= 100 || done } else { done || b.batch % (b.batches_per_epoch / 4).max(1) == 0 };
                if redraw {
                    last_drawn = std::time::Instant::now();
                    let width = 30;
                    let filled = b.batch * width / b.batches_per_epoch;
                    let bar = format!("{}{}", "#".repeat(filled), ".".repeat(width - filled));
                    let line = format!(
                        "epoch {}/{epochs} [{bar}] {}/{} loss {:.4} acc {:5.1}% {:.0} img/s",
                        b.epoch, b.batch, b.batches_per_epoch, b.loss, b.accuracy * 100.0, b.images_per_sec
                    );
                    if tty { eprint!("\r{line}\x1b[K"); } else { eprintln!("{line}"); }
                    if tty && done { eprintln!(); }
                }
            }
            TrainEvent::Epoch(m) => {
                log.epochs.push(m.clone());
                if !args.json {
                    print_stdout(&format!(
                        "epoch {}/{epochs}: train loss {:.4} acc {:.2}% | test loss {:.4} acc {:.2}% | {:.1} s\n",
                        m.epoch, m.train_loss, m.train_accuracy * 100.0, m.test_loss, m.test_accuracy * 100.0, m.epoch_secs
                    ));
                }
            }
            TrainEvent::Finished { test_accuracy, .. } => final_acc = Some(*test_accuracy),
            TrainEvent::Failed { message, .. } => eprintln!("\n{message}"),
            TrainEvent::Stopped { .. } | TrainEvent::Weights(_) => {}
        }
    };
    let control = Control::new();
    let result = train(&cfg, &data, None, &control, &mut emit);
    if let Some(p) = &args.metrics {
        crate::atomic::write_atomic(p, log.to_csv().as_bytes())?;
        eprintln!("metrics written to {}", p.display());
    }
    let weights = result?;
    if let Some(p) = &args.save {
        checkpoint::save(p, &weights)?;
        eprintln!("weights saved to {}", p.display());
    }
    if let (Some(acc), false) = (final_acc, args.json) {
        print_stdout(&format!("final test accuracy: {:.2}%\n", acc * 100.0));
    }
    Ok(())
}

/// Fails early, before minutes of training, if an output file cannot be created.
fn check_writable(path: &std::path::Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::write(path, "the folder does not exist"));
    }
    if path.is_dir() {
        return Err(Error::write(path, "it is a folder"));
    }
    Ok(())
}

/// The process exit status for an error: 2 for bad input or settings, 1 for anything else.
pub fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Compute(_) => 1,
        _ => 2,
    }
}
