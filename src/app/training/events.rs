//! The trainer's events, applied to the session. Each frame drains the channel for at most `EVENT_BUDGET`, so a
//! fast trainer can never starve drawing; what is left waits for the next frame. Only the newest weights of a
//! frame are built into a Predictor (building one per batch would cost more than the batch).

use crate::app::runs::experiments::WeightsOrigin;
use crate::app::state::{RunInfo, Session};
use crate::app::widgets::format::format_secs;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::runs::{settings_label, ContinuedFrom, RunOrigin, RunStatus};
use crate::engine::training::events::TrainEvent;
use crossbeam_channel::TryRecvError;
use std::time::{Duration, Instant};

/// How long one frame may spend applying training events before it yields to drawing.
pub(crate) const EVENT_BUDGET: Duration = Duration::from_millis(8);

/// Applies trainer events until the channel is empty or the frame's budget is spent; returns how many.
pub(in crate::app) fn drain_training(s: &mut Session, ctx: &egui::Context) -> usize {
    let Some(rx) = s.trainer.as_ref().map(|t| t.events.clone()) else { return 0 };
    let deadline = Instant::now() + EVENT_BUDGET;
    let mut latest_weights = None;
    let mut n = 0;
    loop {
        if Instant::now() >= deadline {
            ctx.request_repaint(); // more next frame
            break;
        }
        match rx.try_recv() {
            Ok(ev) => {
                n += 1;
                if let Some(w) = apply_event(s, ev) {
                    latest_weights = Some(w);
                }
                if s.trainer.is_none() {
                    break; // the run ended
                }
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                if s.run_active() {
                    s.end_run();
                    s.error = Some("The training thread ended unexpectedly.".into());
                }
                break;
            }
        }
    }
    if let Some(w) = latest_weights {
        if let Err(e) = s.install_weights(w) {
            s.show_error("cannot use the new weights", &e);
        }
    }
    n
}

/// Returns weights to install (the caller keeps only the newest of a frame).
fn apply_event(s: &mut Session, ev: TrainEvent) -> Option<ModelWeights> {
    s.experiments.observe(&ev, &s.history);
    if ev.is_terminal() {
        note_run_end(s, &ev);
    }
    match ev {
        TrainEvent::Started { config, epochs, batches_per_epoch, train_images, test_images, dataset } => {
            let continued_from = s.experiments.continuing.as_ref().map(|c| c.from.clone());
            s.run = Some(RunInfo {
                config,
                epochs,
                batches_per_epoch,
                train_images,
                test_images,
                dataset,
                continued_from,
                ended: None,
            });
            s.history.mark_run_start();
            None
        }
        TrainEvent::Batch(b) => {
            s.history.push_batch(b);
            None
        }
        TrainEvent::Epoch(e) => {
            s.history.resolve_hints(e.test_accuracy, e.test_class_accuracy.len());
            s.history.push_epoch(e);
            None
        }
        TrainEvent::Weights(w) => Some(w),
        // Filled in by the live-controls, diagnostics and coach views.
        TrainEvent::LrChanged(_) => None,
        TrainEvent::EpochsChanged { epochs } => {
            if let Some(run) = s.run.as_mut() {
                run.epochs = epochs;
            }
            None
        }
        TrainEvent::Diagnostics(d) => {
            s.history.push_diagnostics(d);
            None
        }
        TrainEvent::Hint(h) => {
            s.history.push_hint(h);
            None
        }
        TrainEvent::StepResult(r) => {
            s.status =
                format!("Step: batch {} loss {:.4} -> {:.4} after the update.", r.batch, r.loss_before, r.loss_after);
            None
        }
        TrainEvent::Finished { test_accuracy, elapsed_secs, weights } => {
            s.history.resolve_hints(test_accuracy, weights.class_names.len());
            s.status =
                format!("Finished: test accuracy {:.2} % in {}", test_accuracy * 100.0, format_secs(elapsed_secs));
            s.end_run();
            Some(weights)
        }
        TrainEvent::Stopped { epoch, batch, elapsed_secs, weights } => {
            s.status = format!("Stopped at epoch {epoch}, batch {batch} after {}", format_secs(elapsed_secs));
            s.end_run();
            Some(weights)
        }
        // The window shows the message; the coach reads the typed cause.
        TrainEvent::Failed { message, weights, .. } => {
            s.status = "Training failed.".into();
            s.error = Some(message);
            s.end_run();
            weights
        }
    }
}

/// A run's last event: how it ended and its clock (what the status shows from now on), and what the weights now
/// are for a run continuing from them — this run, at the x it reached (its id follows when its save answers).
fn note_run_end(s: &mut Session, ev: &TrainEvent) {
    let (status, elapsed) = match ev {
        TrainEvent::Finished { elapsed_secs, .. } => (RunStatus::Finished, *elapsed_secs),
        TrainEvent::Stopped { elapsed_secs, .. } => (RunStatus::Stopped, *elapsed_secs),
        _ => (RunStatus::Failed, s.history.last_batch().map_or(0.0, |b| b.elapsed_secs)),
    };
    // A run that failed before it started has no RunInfo of its own: the one there is the run before's.
    let Some(run) = s.run.as_mut().filter(|r| r.ended.is_none()) else { return };
    run.ended = Some((status, elapsed));
    let awaiting_save = s.experiments.pending_save.as_ref().map(|r| r.record.created_unix_ms);
    let name = settings_label(&run.config);
    let end_x = s.history.last_batch().map_or(s.history.x_offset(), |_| s.history.last_x());
    let from = ContinuedFrom { origin: RunOrigin::Unrecorded { name }, epoch_offset: end_x };
    s.weights_origin =
        Some(WeightsOrigin { from, awaiting_save: awaiting_save.filter(|_| s.experiments.store.is_some()) });
}
