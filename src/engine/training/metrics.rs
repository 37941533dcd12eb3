//! The metrics CSV: one row per batch plus one per epoch (with test loss and accuracy), the same from the CLI's
//! `--metrics` and the app's export.

use crate::engine::insight::diagnostics::Diagnostics;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages;
use crate::engine::training::events::{BatchMetrics, EpochMetrics, TrainEvent};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One run's metrics as its caller holds them: every batch, epoch and diagnostics row of that run, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunMetrics<'a> {
    pub batches: &'a [BatchMetrics],
    pub epochs: &'a [EpochMetrics],
    pub diagnostics: &'a [Diagnostics],
}

/// The columns of every row, before the diagnostics columns.
const BASE_HEADER: &str =
    "kind,epoch,batch,x_epochs,loss,accuracy,test_loss,test_accuracy,images_per_sec,elapsed_secs,lr";

/// The diagnostics columns (`kind=diagnostics` rows; see engine::insight::diagnostics), in order: each map of a
/// [`Diagnostics`] with its column prefix and its stage keys (from `engine::model::stages`): per weight layer, then
/// per activation stage. Columns are named `<prefix>.<stage>`, e.g. `grad_norm.c1`, `saturation.f5.act`.
fn diagnostics_maps(
    model: ModelConfig,
    d: &Diagnostics,
) -> [(&'static str, &BTreeMap<String, f32>, Vec<&'static str>); 5] {
    let (layers, acts) = (stages::weighted_layers(model), stages::activation_stages(model));
    [
        ("grad_norm", &d.grad_norm, layers.clone()),
        ("update_ratio", &d.update_ratio, layers),
        ("saturation", &d.saturation, acts.clone()),
        ("mean_activation", &d.mean_activation, acts.clone()),
        ("dead_units", &d.dead_units, acts),
    ]
}

/// The header line of the CSV (without its line break).
/// The columns depend on the architecture (one per weight layer or activation stage).
pub(crate) fn csv_header(model: ModelConfig) -> String {
    let mut header = BASE_HEADER.to_string();
    for (prefix, _, keys) in diagnostics_maps(model, &Diagnostics::default()) {
        for k in keys {
            let _ = write!(header, ",{prefix}.{k}");
        }
    }
    header
}

/// Number of diagnostics columns after `lr`.
fn diagnostics_columns(model: ModelConfig) -> usize {
    diagnostics_maps(model, &Diagnostics::default()).iter().map(|(_, _, keys)| keys.len()).sum()
}

/// Collects a run's metrics as they arrive: the CLI's one copy of them, for `--metrics` and the run store.
#[derive(Debug, Clone, Default)]
pub struct MetricsLog {
    /// The network the run trained (its stages name the diagnostics columns).
    pub model: ModelConfig,
    pub batches: Vec<BatchMetrics>,
    pub epochs: Vec<EpochMetrics>,
    pub diagnostics: Vec<Diagnostics>,
}

impl MetricsLog {
    /// Keeps what `e` adds to the metrics (an epoch's per-image predictions are left out: no row uses them).
    pub fn observe(&mut self, e: &TrainEvent) {
        match e {
            TrainEvent::Started { config, .. } => self.model = config.model,
            TrainEvent::Batch(b) => self.batches.push(b.clone()),
            TrainEvent::Epoch(m) => self.epochs.push(EpochMetrics { predictions: None, ..m.clone() }),
            TrainEvent::Diagnostics(d) => self.diagnostics.push(d.clone()),
            _ => {}
        }
    }

    /// The rows, as the run store's recorder takes them.
    pub fn run(&self) -> RunMetrics<'_> {
        RunMetrics { batches: &self.batches, epochs: &self.epochs, diagnostics: &self.diagnostics }
    }

    pub fn to_csv(&self) -> String {
        to_csv_with_diagnostics(self.model, &self.batches, &self.epochs, &self.diagnostics)
    }
}

/// Batch rows in order, each epoch's row right after its last batch.
pub fn to_csv(model: ModelConfig, batches: &[BatchMetrics], epochs: &[EpochMetrics]) -> String {
    to_csv_with_diagnostics(model, batches, epochs, &[])
}

/// As `to_csv`, with a `diagnostics` row right after the batch row it was measured at.
pub(crate) fn to_csv_with_diagnostics(
    model: ModelConfig,
    batches: &[BatchMetrics],
    epochs: &[EpochMetrics],
    diagnostics: &[Diagnostics],
) -> String {
    to_csv_at(model, batches, epochs, diagnostics, 0.0)
}

/// As `to_csv_with_diagnostics`, every `x_epochs` counted from `x_offset` (a continued run's epoch offset: its
/// positions go on from where its starting weights ended; epoch and batch numbers stay the run's own).
pub(crate) fn to_csv_at(
    model: ModelConfig,
    batches: &[BatchMetrics],
    epochs: &[EpochMetrics],
    diagnostics: &[Diagnostics],
    x_offset: f64,
) -> String {
    let mut out = String::with_capacity(64 * (batches.len() + epochs.len() + 1) + 200 * diagnostics.len());
    out.push_str(&csv_header(model));
    out.push('\n');
    let mut epoch_rows = epochs.iter().peekable();
    let mut diagnostics_rows = diagnostics.iter().peekable();
    let empty = ",".repeat(diagnostics_columns(model));
    for b in batches {
        while let Some(d) = diagnostics_rows.next_if(|d| (d.epoch, d.batch) < (b.epoch, b.batch)) {
            write_diagnostics(&mut out, model, d, x_offset);
        }
        let _ = writeln!(
            out,
            "batch,{},{},{:.6},{:.6},{:.6},,,{:.1},{:.3},{}",
            b.epoch,
            b.batch,
            x_offset + b.x_epochs(),
            b.loss,
            b.accuracy,
            b.images_per_sec,
            b.elapsed_secs,
            b.lr
        );
        out.truncate(out.len() - 1);
        out.push_str(&empty);
        out.push('\n');
        while let Some(d) = diagnostics_rows.next_if(|d| (d.epoch, d.batch) == (b.epoch, b.batch)) {
            write_diagnostics(&mut out, model, d, x_offset);
        }
        while let Some(e) = epoch_rows.next_if(|e| e.epoch == b.epoch && b.batch == b.batches_per_epoch) {
            write_epoch(&mut out, &empty, e, x_offset);
        }
    }
    for d in diagnostics_rows {
        write_diagnostics(&mut out, model, d, x_offset);
    }
    for e in epoch_rows {
        write_epoch(&mut out, &empty, e, x_offset);
    }
    out
}

fn write_epoch(out: &mut String, empty: &str, e: &EpochMetrics, x_offset: f64) {
    let _ = write!(
        out,
        "epoch,{},,{:.6},{:.6},{:.6},{:.6},{:.6},,{:.3},",
        e.epoch,
        x_offset + e.epoch as f64,
        e.train_loss,
        e.train_accuracy,
        e.test_loss,
        e.test_accuracy,
        e.elapsed_secs
    );
    out.push_str(empty);
    out.push('\n');
}

/// `diagnostics,epoch,batch,x_epochs`, the batch columns empty, then the diagnostics columns (empty where a stage
/// has no value, e.g. dead units of sigmoid stages).
fn write_diagnostics(out: &mut String, model: ModelConfig, d: &Diagnostics, x_offset: f64) {
    let _ = write!(out, "diagnostics,{},{},{:.6},,,,,,,", d.epoch, d.batch, x_offset + d.x_epochs);
    let maps = diagnostics_maps(model, d);
    let cells = maps.iter().flat_map(|(_, m, keys)| keys.iter().map(move |k| m.get(*k)));
    for v in cells {
        out.push(',');
        if let Some(v) = v {
            let _ = write!(out, "{v:e}");
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batch `batch` of `epoch`, in a run of two batches per epoch.
    fn b(epoch: usize, batch: usize) -> BatchMetrics {
        BatchMetrics {
            epoch,
            batch,
            batches_per_epoch: 2,
            loss: 0.5,
            accuracy: 0.75,
            lr: 0.1,
            images_per_sec: 1000.0,
            elapsed_secs: 1.0,
        }
    }

    #[test]
    fn rows_interleave_epochs_after_their_last_batch() {
        let e = EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: 0.75,
            test_loss: 0.25,
            test_accuracy: 0.9,
            test_class_accuracy: vec![0.9; 10],
            confusion: Vec::new(),
            predictions: None,
            epoch_secs: 1.0,
            elapsed_secs: 1.0,
        };
        let csv = to_csv(ModelConfig::default(), &[b(1, 1), b(1, 2), b(2, 1)], &[e]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], csv_header(ModelConfig::default()));
        // The file format, pinned: the stage keys come from engine::model::stages.
        assert_eq!(
            csv_header(ModelConfig::default()),
            concat!(
                "kind,epoch,batch,x_epochs,loss,accuracy,test_loss,test_accuracy,images_per_sec,elapsed_secs,lr",
                ",grad_norm.c1,grad_norm.c3,grad_norm.f5,grad_norm.f6,grad_norm.out",
                ",update_ratio.c1,update_ratio.c3,update_ratio.f5,update_ratio.f6,update_ratio.out",
                ",saturation.c1.act,saturation.c3.act,saturation.f5.act,saturation.f6.act",
                ",mean_activation.c1.act,mean_activation.c3.act,mean_activation.f5.act,mean_activation.f6.act",
                ",dead_units.c1.act,dead_units.c3.act,dead_units.f5.act,dead_units.f6.act",
            )
        );
        assert!(lines[2].starts_with("batch,1,2,1.000000,"));
        assert!(lines[3].starts_with("epoch,1,,1.000000,0.500000,0.750000,0.250000,0.900000,,1.000,"));
        assert_eq!(lines[2].split(',').nth(10), Some("0.1"), "each batch row carries its learning rate");
        assert!(lines[4].starts_with("batch,2,1,1.500000"));
        let columns = csv_header(ModelConfig::default()).split(',').count();
        assert_eq!(columns, 11 + diagnostics_columns(ModelConfig::default()));
        assert!(lines.iter().all(|l| l.split(',').count() == columns));
    }

    #[test]
    fn diagnostics_rows_follow_their_batch_with_named_columns() {
        let mut d = Diagnostics { epoch: 1, batch: 1, x_epochs: 0.5, ..Default::default() };
        d.grad_norm.insert("c1".into(), 0.25);
        d.grad_norm.insert("out".into(), 2.0);
        d.saturation.insert("f5.act".into(), 0.75);
        let csv = to_csv_with_diagnostics(ModelConfig::default(), &[b(1, 1), b(1, 2)], &[], &[d]);
        let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        let col = |name: &str| lines[0].iter().position(|h| *h == name).unwrap();
        assert_eq!(lines[2][0], "diagnostics");
        assert_eq!(lines[2][col("x_epochs")], "0.500000");
        assert_eq!(lines[2][col("grad_norm.c1")].parse::<f32>().unwrap(), 0.25);
        assert_eq!(lines[2][col("grad_norm.out")].parse::<f32>().unwrap(), 2.0);
        assert_eq!(lines[2][col("saturation.f5.act")].parse::<f32>().unwrap(), 0.75);
        assert_eq!(lines[2][col("dead_units.c1.act")], "");
        assert_eq!(lines[1][col("grad_norm.c1")], "", "batch rows leave the diagnostics columns empty");
        assert_eq!(lines[3][0], "batch");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
    }
}
