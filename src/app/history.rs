//! The metric series behind the live plots, kept apart from drawing so they can be unit-tested: per-batch loss and
//! accuracy with x in epochs, per-epoch test accuracy, a moving-average smoother, and a min/max decimation that keeps
//! a frame cheap however long the run (30,000+ batches draw as ~2 points per pixel column). It is the window's one
//! copy of the batch history: the CSV export and the run store's record of a run are made from it.

use crate::engine::insight::diagnostics::Diagnostics;
use crate::engine::training::coach::at_chance_accuracy;
use crate::engine::training::events::{BatchMetrics, EpochMetrics, Hint, HintRule};
use crate::engine::training::metrics::RunMetrics;

/// What the plots show. `x` is in epochs since the last Reset: a run that continues from earlier weights starts
/// where the previous one stopped.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Raw per-batch records (for the CSV export).
    pub batches: Vec<BatchMetrics>,
    /// Raw per-epoch records (for the CSV export).
    pub epochs: Vec<EpochMetrics>,
    /// [x_epochs, loss] per batch.
    pub loss: Vec<[f64; 2]>,
    /// [x_epochs, accuracy in %] per batch.
    pub accuracy: Vec<[f64; 2]>,
    /// [epoch, test accuracy in %] per completed epoch.
    pub test_accuracy: Vec<[f64; 2]>,
    /// Gradient and activation measurements, each with its x on the plots (see training/gradients.rs).
    pub diagnostics: Vec<(f64, Diagnostics)>,
    /// The coach's hints of the runs shown, with their x on the plots (see shell/coach.rs).
    pub hints: Vec<HintEntry>,
    /// Added to the x of the current run's events.
    x_offset: f64,
    /// Changes whenever the series are cleared, so caches keyed on it can tell.
    generation: u64,
    /// Index in `batches` of the current run's first batch.
    run_first_batch: usize,
    /// Index in `epochs` of the current run's first epoch.
    run_first_epoch: usize,
    /// Where each run shown starts in the series, oldest first (the CSV export writes each with its own offset).
    run_starts: Vec<RunStart>,
}

/// Where a run starts in the history's series, and the plots' x of its epoch 0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunStart {
    pub batch: usize,
    pub epoch: usize,
    pub diagnostic: usize,
    pub x_offset: f64,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.loss.is_empty()
    }

    pub fn len(&self) -> usize {
        self.loss.len()
    }

    /// Bumped by `clear`; with `len()` it identifies the content for caches.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub fn clear(&mut self) {
        let generation = self.generation + 1;
        *self = History { generation, ..History::default() };
    }

    /// A run continuing from weights trained `x` epochs: its curves start at `x` (after what is already there
    /// when it continues this session's run; on empty axes after Use weights).
    pub(crate) fn start_run_at(&mut self, x: f64) {
        self.x_offset = x;
    }

    /// The plots' x of the current run's epoch 0.
    pub(crate) fn x_offset(&self) -> f64 {
        self.x_offset
    }

    /// The coach's hints so far belong to the runs before: their banners go (the markers stay on the plots, the
    /// hints in the Runs entries).
    pub(crate) fn file_hints_away(&mut self) {
        self.hints.iter_mut().for_each(|h| h.dismissed = true);
    }

    /// The trainer has started a run (its `Started` event): `last_batch` and `last_test_accuracy` are of this run
    /// from now on.
    pub(crate) fn mark_run_start(&mut self) {
        self.run_first_batch = self.batches.len();
        self.run_first_epoch = self.epochs.len();
        let (batch, epoch, diagnostic) = (self.batches.len(), self.epochs.len(), self.diagnostics.len());
        self.run_starts.push(RunStart { batch, epoch, diagnostic, x_offset: self.x_offset });
    }

    /// Where each run shown starts (see [`metrics_csv`]).
    pub(crate) fn run_starts(&self) -> Vec<RunStart> {
        self.run_starts.clone()
    }

    /// Calls `f` with the current run's rows (since its `Started`), as the run store's recorder takes them.
    pub(crate) fn with_current_run<R>(&self, f: impl FnOnce(RunMetrics<'_>) -> R) -> R {
        let first_diagnostic = self.run_starts.last().map_or(0, |s| s.diagnostic);
        let diagnostics: Vec<Diagnostics> =
            self.diagnostics.get(first_diagnostic..).unwrap_or(&[]).iter().map(|(_, d)| d.clone()).collect();
        f(RunMetrics {
            batches: self.batches.get(self.run_first_batch..).unwrap_or(&[]),
            epochs: self.epochs.get(self.run_first_epoch..).unwrap_or(&[]),
            diagnostics: &diagnostics,
        })
    }

    /// The current run's latest batch; None before its first one.
    pub fn last_batch(&self) -> Option<&BatchMetrics> {
        self.batches.get(self.run_first_batch..)?.last()
    }

    /// The test accuracy (0..1) of the current run's latest epoch.
    pub(crate) fn last_test_accuracy(&self) -> Option<f32> {
        self.epochs.get(self.run_first_epoch..)?.last().map(|e| e.test_accuracy)
    }

    /// The x of the latest point, 0 when empty.
    pub(crate) fn last_x(&self) -> f64 {
        self.loss.last().map_or(0.0, |p| p[0])
    }

    pub fn push_batch(&mut self, b: BatchMetrics) {
        let x = self.x_offset + b.x_epochs();
        self.loss.push([x, b.loss as f64]);
        self.accuracy.push([x, b.accuracy as f64 * 100.0]);
        self.batches.push(b);
    }

    pub fn push_epoch(&mut self, e: EpochMetrics) {
        self.test_accuracy.push([self.x_offset + e.epoch as f64, e.test_accuracy as f64 * 100.0]);
        self.epochs.push(e);
    }

    pub fn push_diagnostics(&mut self, d: Diagnostics) {
        self.diagnostics.push((self.x_offset + d.x_epochs, d));
    }

    pub fn push_hint(&mut self, hint: Hint) {
        self.hints.push(HintEntry { x: self.x_offset + hint.x_epochs, hint, dismissed: false, resolved: false });
    }

    /// The hints whose condition no longer holds leave the banner (their markers stay on the plots): "stuck at
    /// chance" once a test pass reads better than chance. Called after every epoch and when the run ends.
    pub(crate) fn resolve_hints(&mut self, test_accuracy: f32, classes: usize) {
        for h in self.hints.iter_mut().filter(|h| h.hint.rule == HintRule::StuckAtChance) {
            h.resolved |= !at_chance_accuracy(test_accuracy, classes);
        }
    }

    /// The hints the coach's banner shows: neither dismissed nor resolved.
    pub fn open_hints(&self) -> impl Iterator<Item = (usize, &HintEntry)> {
        self.hints.iter().enumerate().filter(|(_, h)| !h.dismissed && !h.resolved)
    }

    /// The x range covered by the batch series.
    pub(crate) fn x_range(&self) -> Option<(f64, f64)> {
        Some((self.loss.first()?[0], self.loss.last()?[0]))
    }
}

/// A hint as the window keeps it: where it sits on the plots, and whether the user has dismissed (or acted on) it.
#[derive(Debug, Clone, PartialEq)]
pub struct HintEntry {
    pub x: f64,
    pub hint: Hint,
    pub dismissed: bool,
    /// Its condition no longer holds (see [`History::resolve_hints`]).
    pub resolved: bool,
}

/// The metrics CSV of the runs shown, each run's rows with the x its curves have on the plots (a continued run's
/// positions go on from its offset, as in its record); epoch and batch numbers stay each run's own.
pub(crate) fn metrics_csv(
    model: crate::engine::model::config::ModelConfig,
    batches: &[BatchMetrics],
    epochs: &[EpochMetrics],
    diagnostics: &[Diagnostics],
    starts: &[RunStart],
) -> String {
    use crate::engine::training::metrics::to_csv_at;
    let first = RunStart::default();
    let starts: Vec<RunStart> = if starts.first().is_some_and(|s| s.batch == 0) {
        starts.to_vec()
    } else {
        std::iter::once(first).chain(starts.iter().copied()).collect()
    };
    let mut out = String::new();
    for (i, s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(RunStart {
            batch: batches.len(),
            epoch: epochs.len(),
            diagnostic: diagnostics.len(),
            x_offset: 0.0,
        });
        let part = |from: usize, to: usize, len: usize| from.min(len)..to.clamp(from.min(len), len);
        let csv = to_csv_at(
            model,
            &batches[part(s.batch, end.batch, batches.len())],
            &epochs[part(s.epoch, end.epoch, epochs.len())],
            &diagnostics[part(s.diagnostic, end.diagnostic, diagnostics.len())],
            s.x_offset,
        );
        // One header, at the top.
        let body = if i == 0 { csv.as_str() } else { csv.split_once('\n').map_or("", |(_, rest)| rest) };
        out.push_str(body);
    }
    out
}

/// Trailing moving average over `window` points (1 = unchanged). O(n) with a running sum.
pub(crate) fn moving_average(points: &[[f64; 2]], window: usize) -> Vec<[f64; 2]> {
    let window = window.max(1);
    if window == 1 {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(points.len());
    let mut sum = 0.0;
    for (i, p) in points.iter().enumerate() {
        sum += p[1];
        if i >= window {
            sum -= points[i - window][1];
        }
        let n = (i + 1).min(window) as f64;
        out.push([p[0], sum / n]);
    }
    out
}

/// [x, lr] → [x, log10 lr] (non-positive rates dropped).
pub(crate) fn log_lr(points: impl Iterator<Item = [f64; 2]>) -> Vec<[f64; 2]> {
    points.filter(|p| p[1] > 0.0).map(|p| [p[0], p[1].log10()]).collect()
}

/// Reduces a series sorted by x to at most ~2 points per bucket (the min and the max, in their original order) over
/// `buckets` equal slices of `[x_min, x_max]`. Points outside the range are dropped except the nearest one on each
/// side, so the line still runs to the edge. A line drawn through the result looks the same as through all points
/// at that many pixel columns, spikes included.
pub(crate) fn decimate_min_max(points: &[[f64; 2]], x_min: f64, x_max: f64, buckets: usize) -> Vec<[f64; 2]> {
    let buckets = buckets.max(1);
    let start = points.partition_point(|p| p[0] < x_min).saturating_sub(1);
    let end = (points.partition_point(|p| p[0] <= x_max) + 1).min(points.len());
    if start >= end {
        return Vec::new();
    }
    let visible = &points[start..end];
    if visible.len() <= 2 * buckets || x_max <= x_min {
        return visible.to_vec();
    }
    let scale = buckets as f64 / (x_max - x_min);
    let bucket_of = |x: f64| ((x - x_min) * scale).floor().clamp(-1.0, buckets as f64) as i64;
    let mut out = Vec::with_capacity(2 * buckets + 4);
    // The first and last points always stay, so the line reaches the newest value exactly.
    out.push(visible[0]);
    let mut i = 1;
    let last = visible.len() - 1;
    let visible_inner = &visible[..last];
    let visible = visible_inner;
    while i < visible.len() {
        let b = bucket_of(visible[i][0]);
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < visible.len() && bucket_of(visible[j][0]) == b {
            if visible[j][1] < visible[lo][1] {
                lo = j;
            }
            if visible[j][1] > visible[hi][1] {
                hi = j;
            }
            j += 1;
        }
        let (first, second) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(visible[first]);
        if second != first {
            out.push(visible[second]);
        }
        i = j;
    }
    out.push(points[end - 1]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: usize, batch: usize, per_epoch: usize, loss: f32) -> BatchMetrics {
        BatchMetrics {
            epoch,
            batch,
            batches_per_epoch: per_epoch,
            loss,
            accuracy: 0.5,
            lr: 0.1,
            images_per_sec: 1.0,
            elapsed_secs: 0.0,
        }
    }

    #[test]
    fn x_is_in_epochs_and_runs_continue() {
        let mut h = History::new();
        h.push_batch(batch(1, 1, 4, 2.0));
        h.push_batch(batch(1, 2, 4, 1.0));
        assert_eq!(h.loss, vec![[0.25, 2.0], [0.5, 1.0]]);
        assert_eq!(h.accuracy[0], [0.25, 50.0]);
        h.start_run_at(h.last_x());
        h.push_batch(batch(1, 4, 4, 0.5));
        assert_eq!(h.loss[2], [1.5, 0.5]);
        let g = h.generation();
        h.clear();
        assert!(h.is_empty() && h.batches.is_empty());
        assert_ne!(h.generation(), g);
        h.push_batch(batch(1, 1, 2, 1.0));
        assert_eq!(h.loss[0][0], 0.5, "offset reset by clear");
    }

    #[test]
    fn moving_average_is_trailing() {
        let pts: Vec<[f64; 2]> = (0..5).map(|i| [i as f64, i as f64]).collect();
        assert_eq!(moving_average(&pts, 1), pts);
        let s = moving_average(&pts, 2);
        assert_eq!(s.iter().map(|p| p[1]).collect::<Vec<_>>(), vec![0.0, 0.5, 1.5, 2.5, 3.5]);
        assert_eq!(s[4][0], 4.0);
        assert!(moving_average(&[], 10).is_empty());
    }

    #[test]
    fn decimation_keeps_extremes_and_bounds_size() {
        let n = 30_000;
        let mut pts: Vec<[f64; 2]> = (0..n).map(|i| [i as f64 / 1000.0, (i % 7) as f64]).collect();
        pts[12_345][1] = 100.0; // a spike must survive
        pts[20_000][1] = -50.0;
        let d = decimate_min_max(&pts, 0.0, 30.0, 500);
        assert!(d.len() <= 2 * 500 + 6, "{} points", d.len());
        assert!(d.iter().any(|p| p[1] == 100.0));
        assert!(d.iter().any(|p| p[1] == -50.0));
        assert!(d.windows(2).all(|w| w[0][0] <= w[1][0]), "x stays sorted");
        assert_eq!(d.first(), pts.first());
        assert_eq!(d.last(), pts.last());
        // Few points: unchanged.
        assert_eq!(decimate_min_max(&pts[..10], 0.0, 30.0, 500), pts[..10].to_vec());
        // A zoomed range keeps one neighbour each side.
        let z = decimate_min_max(&pts, 10.0, 11.0, 2000);
        assert_eq!(z.first().unwrap()[0], 9.999);
        assert_eq!(z.last().unwrap()[0], 11.001);
        assert!(decimate_min_max(&[], 0.0, 1.0, 10).is_empty());
    }
}
