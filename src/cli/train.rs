//! `train`: runs the trainer in this thread and turns its events into progress lines on stderr, results (or JSON
//! lines) on stdout, and the files asked for.

use super::args::TrainArgs;
use super::checks::{check_lr, check_not_in_image_folder, check_not_input, data_inputs};
use super::output::{print_stderr, print_stdout, report_all, report_error};
use super::signals;
use crate::engine::data::set::Dataset;
use crate::engine::files::atomic_file::{check_writable, same_file, write_atomic};
use crate::engine::model::checkpoint;
use crate::engine::model::config::ModelConfig;
use crate::engine::store::runs::{RunRecorder, RunSource};
use crate::engine::training::config::TrainConfig;
use crate::engine::training::control::Control;
use crate::engine::training::events::TrainEvent;
use crate::engine::training::init_from::start_weights;
use crate::engine::training::metrics::MetricsLog;
use crate::engine::training::train::train;
use crate::error::printable;
use crate::{Error, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub(super) fn run_train(args: &TrainArgs) -> Result<()> {
    check_lr(args.lr)?;
    let cfg = args.config();
    cfg.validate()?;
    if args.step_epochs.is_some() && !matches!(cfg.schedule, crate::engine::training::schedule::Schedule::Step { .. }) {
        return Err(Error::Config("--step-epochs needs --schedule step".into()));
    }
    check_outputs(args)?;
    // Recording: the store is resolved (and created, and probed) before training, so a bad folder fails at once.
    let store = if args.record { Some(super::runs::prepare_store()?) } else { None };
    // A run from --init-from is a continued run: its record names the file (or the stored run it came from) and
    // counts its positions from there, as the window's Continue training does.
    let mut recorder = store.as_ref().map(|store| {
        let recorder = RunRecorder::new(RunSource::Cli, args.run_name.clone());
        match &args.init_from {
            Some(p) => recorder.continued_from(store.origin_of_weights(p)),
            None => recorder,
        }
    });
    let initial = match &args.init_from {
        Some(p) => Some(checkpoint::load(p)?),
        None => None,
    };
    let loaded = Dataset::load_noted(args.data.as_deref())?;
    for note in &loaded.notes {
        print_stderr(&format!("data: {}\n", printable(note)));
    }
    let data = loaded.data;
    if data.train.is_empty() {
        let folder = args.data.as_deref().unwrap_or(Path::new("the shipped MNIST"));
        return Err(Error::data(
            folder,
            "the training set (train-images-idx3-ubyte) has 0 images: there is nothing to train on",
        ));
    }
    let tty = std::io::stderr().is_terminal();
    let mut log = MetricsLog::default();
    let mut epochs = 0;
    let mut last_drawn = std::time::Instant::now();
    let mut final_acc = None;
    // The last good weights of a run that diverged, to save them.
    let mut failed_weights = None;
    // A stopped run is saved like a finished one: where it stopped, for the message at the end.
    let mut stopped_at = None;
    print_stderr(&format!(
        "data: {}, {} in memory\n",
        data.describe(),
        crate::engine::model::memory::bytes_text(data.memory_bytes())
    ));
    // The starting weights fitted to the data set's classes here, so the change is said before training starts.
    let initial = match (&initial, &args.init_from) {
        (Some(w), Some(path)) => {
            let cfg =
                TrainConfig { model: ModelConfig { classes: data.class_names.len(), ..cfg.model }, ..cfg.clone() };
            let (w, note) = start_weights(w, &cfg, &data.name, &data.class_names)?;
            print_stderr(&format!("init: {}\n", printable(&path.display().to_string())));
            if let Some(note) = note {
                print_stderr(&format!("init: {}\n", printable(&note)));
            }
            if !cfg.freeze.is_empty() {
                print_stderr(&format!("init: frozen (kept as loaded, not trained): {}\n", cfg.freeze.join(", ")));
            }
            Some(w)
        }
        _ => None,
    };
    let mut emit = |e: TrainEvent| {
        log.observe(&e);
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
                let network = if config.model.arch == Default::default() { "LeNet-5" } else { "the network" };
                print_stderr(&format!(
                    "training {network} ({}), {n} epoch(s) of {batches_per_epoch} batches on {train_images} images\n",
                    config.describe()
                ));
                if config.schedule != crate::engine::training::schedule::Schedule::Constant {
                    print_stderr(&format!("learning-rate schedule: {}\n", config.schedule));
                }
            }
            TrainEvent::Batch(b) => {
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
                        print_stderr(&format!("\r{line}\x1b[K{}", if done { "\n" } else { "" }));
                    } else {
                        print_stderr(&format!("{line}\n"));
                    }
                }
            }
            TrainEvent::Epoch(m) => {
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
            // Printed once, at the end, with where the last good weights went.
            TrainEvent::Failed { weights, .. } => failed_weights = weights.clone(),
            TrainEvent::Stopped { epoch, batch, .. } => stopped_at = Some((*epoch, *batch)),
            TrainEvent::Weights(_)
            | TrainEvent::LrChanged(_)
            | TrainEvent::EpochsChanged { .. }
            | TrainEvent::StepResult(_)
            | TrainEvent::Diagnostics(_) => {}
            TrainEvent::Hint(h) => {
                // Clear a progress line drawn in place first.
                let clear = if tty { "\r\x1b[K" } else { "" };
                print_stderr(&format!("{clear}hint: {}\n", h.message));
            }
        }
    };
    let control = Control::new();
    // Ctrl-C / SIGTERM: the first stops at the next batch (then everything below runs as for the window's Stop).
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        signals::stop_on_signal(scope, &control, &done);
        let result = train(&cfg, &data, initial.as_ref(), &control, &mut emit);
        done.store(true, Ordering::SeqCst);
        result
    });
    let signal = signals::received();
    if tty && result.is_err() {
        print_stderr("\n");
    }
    // Every output is attempted whatever else failed: weights first (they are what the run is for), then metrics.
    let mut errors = Vec::new();
    let to_save = match &result {
        Ok(w) => Some(w),
        Err(Error::Diverged(_)) => failed_weights.as_ref(),
        Err(_) => None,
    };
    let mut saved = false;
    if let (Some(p), Some(w)) = (&args.save, to_save) {
        match checkpoint::save(p, w) {
            Ok(()) => {
                saved = true;
                if result.is_ok() {
                    print_stderr(&format!("weights saved to {}\n", printable(&p.display().to_string())));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if let (Some(store), Some(run)) = (&store, recorder.and_then(|r| r.finish(log.run()))) {
        match store.save(&run) {
            Ok(stored) => print_stderr(&format!(
                "run recorded as '{}' ({}) in {}\n",
                printable(&stored.record.name),
                stored.id(),
                printable(&stored.dir.display().to_string())
            )),
            Err(e) => errors.push(e),
        }
    }
    if let Some(p) = &args.metrics {
        match write_atomic(p, log.to_csv().as_bytes()) {
            Ok(()) => print_stderr(&format!("metrics written to {}\n", printable(&p.display().to_string()))),
            Err(e) => errors.push(e),
        }
    }
    if let (Some(signal), Ok(_)) = (signal, &result) {
        let (epoch, batch) = stopped_at.unwrap_or_default();
        let mut kept = Vec::new();
        if let (Some(p), true) = (&args.save, saved) {
            kept.push(format!("the weights are in {}", printable(&p.display().to_string())));
        }
        if errors.is_empty() && (args.metrics.is_some() || args.record) {
            kept.push("the metrics and the run record say 'stopped'".to_string());
        }
        let kept = if kept.is_empty() { String::new() } else { format!(": {}", kept.join("; ")) };
        print_stderr(&format!(
            "stopped by {} at epoch {epoch}, batch {batch} (the last finished step){kept}\n",
            signals::name(signal)
        ));
        if let Err(e) = report_all(errors) {
            report_error(&e);
        }
        std::process::exit(signals::exit_status(signal));
    }
    match result {
        Ok(_) => {
            if let (Some(acc), false) = (final_acc, args.json) {
                print_stdout(&format!("final test accuracy: {:.2}%\n", acc * 100.0));
            }
        }
        Err(Error::Diverged(message)) => {
            let message = match (&args.save, saved) {
                (Some(p), true) => format!("{message} They were saved to {}.", p.display()),
                (Some(_), false) => format!("{message} They could not be saved (see above)."),
                (None, _) => format!("{message} Add --save FILE to keep them."),
            };
            errors.push(Error::Diverged(message));
        }
        Err(e) => errors.push(e),
    }
    report_all(errors)
}

/// Fails early, before minutes of training, if an output cannot be written: each target folder must take a real
/// file (created and removed again), `--save` and `--metrics` must be two different files, and neither may be one
/// of the run's inputs (a file of the `--data` folder, a place inside an image folder, the `--init-from` file).
fn check_outputs(args: &TrainArgs) -> Result<()> {
    let mut inputs = args.data.as_deref().map(data_inputs).unwrap_or_default();
    inputs.extend(args.init_from.iter().cloned());
    for (flag, p) in [("--save", &args.save), ("--metrics", &args.metrics)] {
        if let Some(p) = p {
            check_not_input(flag, p, &inputs)?;
            if let Some(data) = &args.data {
                check_not_in_image_folder(flag, p, data)?;
            }
        }
    }
    if let (Some(s), Some(m)) = (&args.save, &args.metrics) {
        if same_file(s, m) {
            return Err(Error::Config(format!(
                "--save and --metrics name the same file ({}): give each its own name",
                s.display()
            )));
        }
    }
    for p in [&args.save, &args.metrics].into_iter().flatten() {
        check_writable(p)?;
    }
    Ok(())
}
