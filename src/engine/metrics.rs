//! The metrics CSV: one row per batch plus one per epoch (with test loss and accuracy), the same from the CLI's
//! `--metrics` and the app's export.

use crate::engine::events::{BatchMetrics, EpochMetrics};
use std::fmt::Write;

pub const CSV_HEADER: &str =
    "kind,epoch,batch,x_epochs,loss,accuracy,test_loss,test_accuracy,images_per_sec,elapsed_secs,lr";

/// Collects a run's metrics as they arrive.
#[derive(Debug, Clone, Default)]
pub struct MetricsLog {
    pub batches: Vec<BatchMetrics>,
    pub epochs: Vec<EpochMetrics>,
}

impl MetricsLog {
    pub fn to_csv(&self) -> String {
        to_csv(&self.batches, &self.epochs)
    }
}

/// Batch rows in order, each epoch's row right after its last batch.
pub fn to_csv(batches: &[BatchMetrics], epochs: &[EpochMetrics]) -> String {
    let mut out = String::with_capacity(64 * (batches.len() + epochs.len() + 1));
    out.push_str(CSV_HEADER);
    out.push('\n');
    let mut epoch_rows = epochs.iter().peekable();
    for b in batches {
        let _ = writeln!(
            out,
            "batch,{},{},{:.6},{:.6},{:.6},,,{:.1},{:.3},{}",
            b.epoch,
            b.batch,
            b.x_epochs(),
            b.loss,
            b.accuracy,
            b.images_per_sec,
            b.elapsed_secs,
            b.lr
        );
        while let Some(e) = epoch_rows.next_if(|e| e.epoch == b.epoch && b.batch == b.batches_per_epoch) {
            write_epoch(&mut out, e);
        }
    }
    for e in epoch_rows {
        write_epoch(&mut out, e);
    }
    out
}

fn write_epoch(out: &mut String, e: &EpochMetrics) {
    let _ = writeln!(
        out,
        "epoch,{},,{:.6},{:.6},{:.6},{:.6},{:.6},,{:.3},",
        e.epoch, e.epoch as f64, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.elapsed_secs
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_interleave_epochs_after_their_last_batch() {
        let b = |epoch, batch| BatchMetrics {
            epoch,
            batch,
            batches_per_epoch: 2,
            loss: 0.5,
            accuracy: 0.75,
            lr: 0.1,
            images_per_sec: 1000.0,
            elapsed_secs: 1.0,
        };
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
        let csv = to_csv(&[b(1, 1), b(1, 2), b(2, 1)], &[e]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], CSV_HEADER);
        assert!(lines[2].starts_with("batch,1,2,1.000000,"));
        assert_eq!(lines[3], "epoch,1,,1.000000,0.500000,0.750000,0.250000,0.900000,,1.000,");
        assert!(lines[2].ends_with(",0.1"), "each batch row carries its learning rate");
        assert!(lines[4].starts_with("batch,2,1,1.500000"));
        assert!(lines.iter().all(|l| l.split(',').count() == 11));
    }
}
