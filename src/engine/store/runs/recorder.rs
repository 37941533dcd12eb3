//! Turning a run's event stream into a `NewRun` for the store: summary, lr changes, hints, metrics and weights.
//!
//! The recorder keeps what only a record needs (settings, lr changes, hints, the end); the per-batch metrics are
//! held once, by its caller (the CLI's `MetricsLog`, the window's `History`), and handed to [`RunRecorder::finish`].

use super::record::*;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::TrainConfig;
use crate::engine::training::events::{BatchMetrics, EpochMetrics, Hint, LrChange, TrainEvent};
use crate::engine::training::metrics::{to_csv_at, RunMetrics};
use std::time::{SystemTime, UNIX_EPOCH};

/// How a run ended, as its last event says.
#[derive(Debug, Clone)]
struct RunEnd {
    status: RunStatus,
    message: Option<String>,
    weights: Option<ModelWeights>,
    /// None: the duration is that of the run's last batch (a failed run's event does not say).
    duration_secs: Option<f64>,
}

impl RunEnd {
    fn new(status: RunStatus, message: Option<String>, weights: Option<ModelWeights>, secs: Option<f64>) -> Self {
        RunEnd { status, message, weights, duration_secs: secs }
    }
}

/// Collects what a run's events say into a `NewRun`; feed it every event, take the run after the last one.
#[derive(Debug, Clone)]
pub struct RunRecorder {
    source: RunSource,
    name: Option<String>,
    config: Option<TrainConfig>,
    dataset: String,
    epochs: usize,
    lr_changes: Vec<LrChange>,
    hints: Vec<Hint>,
    end: Option<RunEnd>,
    created_unix_ms: u64,
    continued_from: Option<ContinuedFrom>,
}

impl RunRecorder {
    pub fn new(source: RunSource, name: Option<String>) -> Self {
        RunRecorder {
            source,
            name,
            config: None,
            dataset: String::new(),
            epochs: 0,
            lr_changes: Vec::new(),
            hints: Vec::new(),
            end: None,
            created_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            continued_from: None,
        }
    }

    /// The run continues from `from` (not fresh weights): the record says so, and its positions (`x_epochs` of
    /// batches, epochs, learning-rate changes and hints) count from `from.epoch_offset`. The CLI's
    /// `train --init-from FILE` passes `RunStore::origin_of_weights(FILE)`.
    pub fn continued_from(mut self, from: ContinuedFrom) -> Self {
        self.continued_from = Some(from);
        self
    }

    /// When this recorder was created (Unix ms): the record's `created_unix_ms`.
    pub fn created_unix_ms(&self) -> u64 {
        self.created_unix_ms
    }

    pub fn observe(&mut self, e: &TrainEvent) {
        match e {
            TrainEvent::Started { config, epochs, dataset, .. } => {
                self.config = Some(config.clone());
                self.epochs = *epochs;
                self.dataset = dataset.clone();
            }
            TrainEvent::LrChanged(c) => self.lr_changes.push(c.clone()),
            TrainEvent::EpochsChanged { epochs } => self.epochs = *epochs,
            TrainEvent::Hint(h) => self.hints.push(h.clone()),
            TrainEvent::Finished { elapsed_secs, weights, .. } => {
                self.end = Some(RunEnd::new(RunStatus::Finished, None, Some(weights.clone()), Some(*elapsed_secs)))
            }
            TrainEvent::Stopped { elapsed_secs, weights, .. } => {
                self.end = Some(RunEnd::new(RunStatus::Stopped, None, Some(weights.clone()), Some(*elapsed_secs)))
            }
            TrainEvent::Failed { message, weights, .. } => {
                self.end = Some(RunEnd::new(RunStatus::Failed, Some(message.clone()), weights.clone(), None))
            }
            _ => {}
        }
    }

    /// True once the run's last event has been seen.
    pub fn is_complete(&self) -> bool {
        self.end.is_some()
    }

    /// The run to save, with `metrics`: this run's rows, as the caller kept them. None if it never started. A run
    /// without its last event is recorded as failed.
    pub fn finish(self, metrics: RunMetrics<'_>) -> Option<NewRun> {
        let mut config = self.config?;
        config.epochs = self.epochs.max(1);
        let no_end = || RunEnd::new(RunStatus::Failed, Some("the run ended without a final event".into()), None, None);
        let RunEnd { status, message, weights, duration_secs } = self.end.unwrap_or_else(no_end);
        let RunMetrics { batches, epochs, diagnostics } = metrics;
        let duration_secs = duration_secs.unwrap_or_else(|| batches.last().map_or(0.0, |b| b.elapsed_secs));
        let offset = self.continued_from.as_ref().map_or(0.0, |c| c.epoch_offset);
        let mut summary = summarize(batches, epochs, duration_secs);
        summary.end_x_epochs = Some(offset + batches.last().map_or(0.0, |b| b.x_epochs()));
        let metrics_csv = to_csv_at(config.model, batches, epochs, diagnostics, offset);
        let mut lr_changes = self.lr_changes;
        lr_changes.iter_mut().for_each(|c| c.x_epochs += offset);
        let mut hints = self.hints;
        hints.iter_mut().for_each(|h| h.x_epochs += offset);
        let record = RunRecord {
            format: FORMAT.into(),
            id: String::new(),
            name: self.name.unwrap_or_default(),
            created_unix: self.created_unix_ms / 1000,
            created_unix_ms: self.created_unix_ms,
            source: self.source,
            status,
            message,
            config,
            dataset: self.dataset,
            summary,
            lr_changes,
            hints,
            continued_from: self.continued_from,
            color_slot: None,
        };
        Some(NewRun { record, metrics_csv, weights })
    }
}

pub fn summarize(batches: &[BatchMetrics], epochs: &[EpochMetrics], duration_secs: f64) -> RunSummary {
    RunSummary {
        test_accuracy: epochs.last().map(|e| e.test_accuracy),
        best_test_accuracy: epochs.iter().map(|e| e.test_accuracy).reduce(f32::max),
        epochs_completed: epochs.len(),
        batches: batches.len(),
        duration_secs,
        end_x_epochs: None,
    }
}
