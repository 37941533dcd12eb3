//! The training loop, as a plain function: config and data in, events out through a callback, stop/pause through a
//! shared Control. No threads here — the CLI calls it directly, the app through `worker`.

use crate::engine::data::set::{Dataset, ImageSet};
use crate::engine::insight::diagnostics::Monitor;
use crate::engine::insight::evaluate::evaluate;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::grads::Grads;
use crate::engine::model::lenet::{images_tensor, loss_and_correct, LeNet};
use crate::engine::model::memory::{available_bytes, check_training_memory};
use crate::engine::model::ops;
use crate::engine::model::weights::ModelWeights;
use crate::engine::rng::Rng;
use crate::engine::training::coach::Coach;
use crate::engine::training::config::TrainConfig;
use crate::engine::training::control::{Control, Live, Turn};
use crate::engine::training::divergence;
use crate::engine::training::events::{BatchMetrics, Divergence, EpochMetrics, StepResult, TrainEvent};
use crate::engine::training::init_from;
use crate::engine::training::optim::Optim;
use crate::engine::training::step::TrainStep;
use crate::kernels::net::StepLoss;
use crate::{Error, Result};
use candle_core::{Device, Tensor, Var};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the trainer sends a copy of the weights for live prediction and the inspector.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);
/// Runs training to the end, a stop, or a failure, emitting events on the way, with the coach's hints among them
/// and diagnostics measured every few steps. Starts from `initial` weights if given (they must match the configured
/// architecture; with other classes the output layer is drawn afresh, see [`init_from`]), else from fresh ones
/// drawn with the config's init and seed. The layers of `cfg.freeze` keep their starting values.
///
/// Returns the final weights; on divergence emits `Failed` (with the last good weights) and returns the error.
pub fn train(
    cfg: &TrainConfig,
    data: &Dataset,
    initial: Option<&ModelWeights>,
    control: &Control,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<ModelWeights> {
    train_with(cfg, data, initial, control, &mut Monitor::new(), emit)
}

/// [`train`] with the caller's diagnostics monitor: [`Monitor::off`] trains without measuring (the benchmark's
/// baseline), and [`Monitor::cost`] afterwards says what measuring took.
///
/// The coach is composed around `emit` here rather than by each front end: the CLI, the window's worker, the run
/// store's recorder and the tests then all see the same hints, placed by one relay (a run's last hints before its
/// terminal event). The loop below knows nothing of it. Diagnostics stay inside the loop, through `monitor`: they
/// read the step's model, batch and gradients, which never leave it.
pub(crate) fn train_with(
    cfg: &TrainConfig,
    data: &Dataset,
    initial: Option<&ModelWeights>,
    control: &Control,
    monitor: &mut Monitor,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<ModelWeights> {
    // The output layer scores the data set's classes, whatever the settings said.
    let cfg = &TrainConfig { model: ModelConfig { classes: data.class_names.len(), ..cfg.model }, ..cfg.clone() };
    // Before anything is allocated: a network and batch size that would not fit in memory are refused.
    check_training_memory(cfg.model, cfg.batch_size, available_bytes())?;
    let mut coach = Coach::new();
    let mut coached = |e: TrainEvent| coach.relay(e, emit);
    run(cfg, data, initial, control, monitor, &mut coached)
}

/// How the loop ended. Each way out is reported in one place, at the end of [`run`].
enum Exit {
    Finished {
        test_accuracy: f32,
        weights: ModelWeights,
    },
    /// Stopped by the user after `batch` batches of `epoch`.
    Stopped {
        epoch: usize,
        batch: usize,
        weights: ModelWeights,
    },
    /// Diverged at `batch` of `epoch`, trained with `lr`.
    Diverged {
        epoch: usize,
        batch: usize,
        why: Divergence,
        lr: f64,
    },
}

fn run(
    cfg: &TrainConfig,
    data: &Dataset,
    initial: Option<&ModelWeights>,
    control: &Control,
    monitor: &mut Monitor,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<ModelWeights> {
    cfg.validate()?;
    ops::init_compute_thread();
    // The set itself, not a copy: a second copy of a 300k-image set was another 235 MB (issue 29).
    let limited: Option<ImageSet> = match cfg.limit {
        Some(n) if n < data.train.len() => Some(data.train.truncated(n)),
        _ => None,
    };
    let train_set: &ImageSet = limited.as_ref().unwrap_or(&data.train);
    let test_set = &data.test;
    if train_set.is_empty() {
        return Err(Error::Config("the training set is empty".into()));
    }
    if test_set.is_empty() {
        return Err(Error::Config("the test set is empty: there is nothing to measure accuracy on".into()));
    }
    let batch_size = cfg.batch_size.min(train_set.len());
    let batches_per_epoch = train_set.len().div_ceil(batch_size);

    let start_weights = match initial {
        Some(w) => init_from::start_weights(w, cfg, &data.name, &data.class_names)?.0,
        None => ModelWeights::init(cfg.model, cfg.init, cfg.seed, &data.name, &data.class_names),
    };
    let vars = start_weights
        .params
        .iter()
        .map(|p| Var::from_slice(&p.data, p.shape.as_slice(), &Device::Cpu))
        .collect::<candle_core::Result<Vec<_>>>()?;
    let model = LeNet::new(cfg.model, vars.iter().map(|v| v.as_tensor().clone()).collect())?;
    let mut optim = Optim::new(cfg.optimizer, cfg.lr, &vars)?.freeze(init_from::frozen_params(cfg));
    let mut step = TrainStep::new(cfg.model)?;
    let snapshot = |m: &LeNet| m.to_weights(&data.name, &data.class_names);
    let mut guard = divergence::Guard::new();

    emit(TrainEvent::Started {
        config: cfg.clone(),
        epochs: cfg.epochs,
        batches_per_epoch,
        train_images: train_set.len(),
        test_images: test_set.len(),
        dataset: data.name.clone(),
    });
    emit(TrainEvent::Weights(start_weights.clone()));

    let mut rng = Rng::new(cfg.seed.wrapping_add(1));
    let run_start = Instant::now();
    let mut last_snapshot = Instant::now();

    // Live learning rate and epochs, changed between batches through `control`.
    let mut live = Live::new(cfg);
    let mut epoch = 0;
    let exit = 'run: {
        while epoch < live.epochs {
            epoch += 1;
            let epoch_start = Instant::now();
            let order = train_set.shuffled_indices(&mut rng);
            let (mut loss_sum, mut correct_sum, mut seen) = (0f64, 0usize, 0usize);
            for (b, chunk) in order.chunks(batch_size).enumerate() {
                let turn = live.wait_turn(control, epoch, b, batches_per_epoch, emit);
                if turn == Turn::Stop {
                    break 'run Exit::Stopped { epoch, batch: b, weights: snapshot(&model)? };
                }
                let lr = cfg.schedule.lr(
                    live.base_lr,
                    (epoch - 1) * batches_per_epoch + b,
                    live.epochs * batches_per_epoch,
                    batches_per_epoch,
                );
                optim.set_lr(lr);
                let t0 = Instant::now();
                // A paused single step replays the same dropout masks for its "after" loss.
                let replay = (turn == Turn::Step).then(|| rng.clone());
                let masks = step.masks(chunk.len(), &mut rng);
                let StepLoss { loss: loss_value, correct } = step.run(&vars, train_set, chunk, &masks)?;
                if let Some(why) = guard.batch_loss(loss_value) {
                    break 'run Exit::Diverged { epoch, batch: b + 1, why, lr };
                }
                let grads = step.grad_parts();
                if let Some(param) = optim.step(&vars, Grads::Parts(&grads))? {
                    let why = divergence::non_finite_update(cfg.model, param);
                    break 'run Exit::Diverged { epoch, batch: b + 1, why, lr };
                }
                let step_secs = t0.elapsed().as_secs_f64();
                loss_sum += loss_value as f64 * chunk.len() as f64;
                correct_sum += correct;
                seen += chunk.len();
                emit(TrainEvent::Batch(BatchMetrics {
                    epoch,
                    batch: b + 1,
                    batches_per_epoch,
                    loss: loss_value,
                    accuracy: correct as f32 / chunk.len() as f32,
                    lr,
                    images_per_sec: (chunk.len() as f64 / step_secs.max(1e-9)) as f32,
                    elapsed_secs: live.elapsed_since(run_start),
                }));
                let at = (epoch, b + 1, batches_per_epoch);
                let previous = optim.previous();
                if let Some(d) =
                    monitor.after_step(step_secs, &model, (train_set, chunk), Grads::Parts(&grads), previous, at)?
                {
                    emit(TrainEvent::Diagnostics(d));
                }
                if let Some(mut replay) = replay {
                    // Paused single step: the same images (and dropout masks) through the updated weights.
                    let (pixels, labels) = train_set.batch(chunk);
                    let x = images_tensor(&pixels, chunk.len())?;
                    let y = Tensor::from_slice(&labels, chunk.len(), &Device::Cpu)?;
                    let (loss_after, _) = loss_and_correct(&model.forward_train(&x, &mut replay)?, &y)?;
                    let x_epochs = (epoch - 1) as f64 + (b + 1) as f64 / batches_per_epoch as f64;
                    let loss_after = loss_after.to_scalar::<f32>()?;
                    let r = StepResult { epoch, batch: b + 1, x_epochs, lr, loss_before: loss_value, loss_after };
                    emit(TrainEvent::StepResult(r));
                }
                if last_snapshot.elapsed() >= SNAPSHOT_EVERY {
                    let w = snapshot(&model)?;
                    if let Some(why) = divergence::non_finite_weights(&w) {
                        break 'run Exit::Diverged { epoch, batch: b + 1, why, lr };
                    }
                    emit(TrainEvent::Weights(w));
                    last_snapshot = Instant::now();
                }
            }
            // One copy of the epoch's weights serves the test pass and the events below.
            let weights = snapshot(&model)?;
            let eval_model = LeNet::from_weights(&weights)?;
            let Some(test) = evaluate(&eval_model, test_set, Some(control))? else {
                break 'run Exit::Stopped { epoch, batch: batches_per_epoch, weights };
            };
            if let Some(why) = divergence::non_finite_weights(&weights).or_else(|| guard.test_loss(test.loss)) {
                break 'run Exit::Diverged { epoch, batch: batches_per_epoch, why, lr: live.base_lr };
            }
            emit(TrainEvent::Epoch(EpochMetrics {
                epoch,
                train_loss: (loss_sum / seen.max(1) as f64) as f32,
                train_accuracy: correct_sum as f32 / seen.max(1) as f32,
                test_loss: test.loss,
                test_accuracy: test.accuracy,
                test_class_accuracy: test.class_accuracy,
                confusion: test.confusion,
                predictions: Some(Arc::new(test.predictions)),
                epoch_secs: epoch_start.elapsed().as_secs_f64(),
                elapsed_secs: live.elapsed_since(run_start),
            }));
            // A change of epochs during the test pass counts now: lowering to this epoch ends the run here.
            live.sync(control, epoch, batches_per_epoch, batches_per_epoch, emit);
            if epoch >= live.epochs {
                break 'run Exit::Finished { test_accuracy: test.accuracy, weights };
            }
            emit(TrainEvent::Weights(weights));
        }
        // The loop ends the run after its last epoch; this is only reached if that logic is broken.
        return Err(Error::Internal(format!(
            "the training loop ended without finishing (epoch {epoch} of {})",
            live.epochs
        )));
    };

    // The one way out of each kind: an open live-change gesture is closed first, then the terminal event.
    live.close_gesture(emit);
    let elapsed_secs = live.elapsed_since(run_start);
    match exit {
        Exit::Finished { test_accuracy, weights } => {
            emit(TrainEvent::Finished { test_accuracy, elapsed_secs, weights: weights.clone() });
            Ok(weights)
        }
        Exit::Stopped { epoch, batch, weights } => {
            emit(TrainEvent::Stopped { epoch, batch, elapsed_secs, weights: weights.clone() });
            Ok(weights)
        }
        Exit::Diverged { epoch, batch, why, lr } => {
            // The weights before the last update come from the optimiser (kept as it updates), so nothing is
            // copied per step for this case; before the first step they are the start weights.
            let mut last_good = start_weights;
            if let Some(prev) = optim.previous() {
                for (p, data) in last_good.params.iter_mut().zip(prev) {
                    p.data.clone_from(data);
                }
            }
            let message = divergence::message(epoch, batch, &why, lr, cfg.optimizer);
            Err(divergence::fail(emit, message, why, last_good))
        }
    }
}
