//! `train`: runs the trainer in this thread and turns its events into progress lines on stderr, results (or JSON
//! lines) on stdout, and the files asked for.

use super::{print_stdout, TrainArgs};
use crate::engine::checkpoint;
use crate::engine::control::Control;
use crate::engine::events::TrainEvent;
use crate::engine::metrics::MetricsLog;
use crate::engine::mnist::Dataset;
use crate::engine::runs::{RunRecorder, RunSource};
use crate::engine::train::train;
use crate::{Error, Result};
use std::io::IsTerminal;

pub(super) fn run_train(args: &TrainArgs) -> Result<()> {
    let cfg = args.config();
    cfg.validate()?;
    if args.step_epochs.is_some() && !matches!(cfg.schedule, crate::engine::schedule::Schedule::Step { .. }) {
        return Err(Error::Config("--step-epochs needs --schedule step".into()));
    }
    // Recording: the store is resolved (and created) before training, so a bad data folder fails at once.
    let store = if args.record { Some(super::runs::prepare_store()?) } else { None };
    let mut recorder = args.record.then(|| RunRecorder::new(RunSource::Cli, args.run_name.clone()));
    if let Some(p) = &args.save {
        check_writable(p)?;
    }
    if let Some(p) = &args.metrics {
        check_writable(p)?;
    }
    let data = Dataset::load(args.data.as_deref())?;
    let tty = std::io::stderr().is_terminal();
    let mut log = MetricsLog::default();
    let mut epochs = 0;
    let mut last_drawn = std::time::Instant::now();
    let mut final_acc = None;
    eprintln!("data: {}", data.describe());
    let mut emit = |e: TrainEvent| {
        if let Some(r) = recorder.as_mut() {
            r.observe(&e);
        }
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
                if config.schedule != crate::engine::schedule::Schedule::Constant {
                    eprintln!("learning-rate schedule: {}", config.schedule);
                }
            }
            TrainEvent::Batch(b) => {
                log.batches.push(b.clone());
                let done = b.batch == b.batches_per_epoch;
                let redraw = if tty {
                    last_drawn.elapsed().as_millis() >= 100 || done
                } else {
                    done || b.batch % (b.batches_per_epoch / 4).max(1) == 0
                };
                if redraw {
                    last_drawn = std::time::Instant::now();
                    let width = 30;
                    let filled = b.batch * width / b.batches_per_epoch;
                    let bar = format!("{}{}", "#".repeat(filled), ".".repeat(width - filled));
                    let line = format!(
                        "epoch {}/{epochs} [{bar}] {}/{} loss {:.4} acc {:5.1}% {:.0} img/s",
                        b.epoch,
                        b.batch,
                        b.batches_per_epoch,
                        b.loss,
                        b.accuracy * 100.0,
                        b.images_per_sec
                    );
                    if tty {
                        eprint!("\r{line}\x1b[K");
                    } else {
                        eprintln!("{line}");
                    }
                    if tty && done {
                        eprintln!();
                    }
                }
            }
            TrainEvent::Epoch(m) => {
                log.epochs.push(m.clone());
                if !args.json {
                    print_stdout(&format!(
                        "epoch {}/{epochs}: train loss {:.4} acc {:.2}% | test loss {:.4} acc {:.2}% | {:.1} s\n",
                        m.epoch,
                        m.train_loss,
                        m.train_accuracy * 100.0,
                        m.test_loss,
                        m.test_accuracy * 100.0,
                        m.epoch_secs
                    ));
                }
            }
            TrainEvent::Finished { test_accuracy, .. } => final_acc = Some(*test_accuracy),
            TrainEvent::Failed { message, .. } => eprintln!("\n{message}"),
            TrainEvent::Stopped { .. }
            | TrainEvent::Weights(_)
            | TrainEvent::LrChanged(_)
            | TrainEvent::EpochsChanged { .. }
            | TrainEvent::Diagnostics(_)
            | TrainEvent::Hint(_)
            | TrainEvent::StepResult(_) => {}
        }
    };
    let control = Control::new();
    let result = train(&cfg, &data, None, &control, &mut emit);
    if let (Some(store), Some(run)) = (&store, recorder.and_then(|r| r.finish())) {
        let stored = store.save(&run)?;
        eprintln!("run recorded as '{}' ({}) in {}", stored.record.name, stored.id(), stored.dir.display());
    }
    if let Some(p) = &args.metrics {
        crate::engine::atomic_file::write_atomic(p, log.to_csv().as_bytes())?;
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
