//! The trainer's events, applied to the session. Each frame drains the channel for at most `EVENT_BUDGET`, so a
//! fast trainer can never starve drawing; what is left waits for the next frame. Only the newest weights of a
//! frame are built into a Predictor (building one per batch would cost more than the batch).

use super::state::{RunInfo, Session};
use super::views::controls::format_secs;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::events::TrainEvent;
use crossbeam_channel::TryRecvError;
use std::time::{Duration, Instant};

/// How long one frame may spend applying training events before it yields to drawing.
pub(crate) const EVENT_BUDGET: Duration = Duration::from_millis(8);

/// Applies trainer events until the channel is empty or the frame's budget is spent; returns how many.
pub(super) fn drain_training(s: &mut Session, ctx: &egui::Context) -> usize {
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
    s.experiments.observe(&ev, s.history.last_x(), s.history.generation());
    match ev {
        TrainEvent::Started { config, epochs, batches_per_epoch, train_images, test_images, dataset } => {
            s.run = Some(RunInfo { config, epochs, batches_per_epoch, train_images, test_images, dataset });
            s.history.mark_run_start();
            None
        }
        TrainEvent::Batch(b) => {
            s.history.push_batch(b);
            None
        }
        TrainEvent::Epoch(e) => {
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
