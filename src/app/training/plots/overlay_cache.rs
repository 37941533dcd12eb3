//! The overlaid runs' curves, smoothed and decimated once and kept until the view or the run changes, so a frame
//! with five 30k-point runs only copies what it draws.

use crate::app::history::{decimate_min_max, log_lr};
use crate::app::runs::experiments::OverlaySeries;
use std::collections::HashMap;
use std::sync::Arc;

/// The x range and buckets a decimation was made for, and its points.
type Decimated = ((u64, u64, usize), Arc<Vec<[f64; 2]>>);

/// Smoothed and decimated overlay curves, so a frame with five 30k-point runs only copies what it draws.
#[derive(Default)]
pub(super) struct OverlayCache {
    /// (curves pointer, window) → smoothed curves.
    smoothed: HashMap<(usize, usize), Arc<OverlaySeries>>,
    /// (curves pointer, window, which curve) → (x0, x1, buckets) and the decimated points.
    decimated: HashMap<(usize, usize, u8), Decimated>,
    /// curves pointer → [x, log10 lr].
    log_lr: HashMap<usize, Arc<Vec<[f64; 2]>>>,
    /// The curves the keys point to, held so their addresses cannot be reused while cached.
    held: HashMap<usize, Arc<OverlaySeries>>,
}

impl OverlayCache {
    pub(super) fn smoothed(&mut self, series: &Arc<OverlaySeries>, window: usize) -> Arc<OverlaySeries> {
        let key = (Arc::as_ptr(series) as usize, window);
        self.held.entry(key.0).or_insert_with(|| series.clone());
        self.smoothed.entry(key).or_insert_with(|| Arc::new(series.smoothed(window))).clone()
    }

    pub(super) fn log_lr(&mut self, series: &Arc<OverlaySeries>) -> Arc<Vec<[f64; 2]>> {
        let key = Arc::as_ptr(series) as usize;
        self.log_lr.entry(key).or_insert_with(|| Arc::new(log_lr(series.lr.iter().copied()))).clone()
    }

    pub(super) fn decimated(
        &mut self,
        key: (usize, usize, u8),
        pts: &[[f64; 2]],
        x0: f64,
        x1: f64,
        buckets: usize,
    ) -> Arc<Vec<[f64; 2]>> {
        let range = (x0.to_bits(), x1.to_bits(), buckets);
        match self.decimated.get(&key) {
            Some((r, v)) if *r == range => v.clone(),
            _ => {
                let v = Arc::new(decimate_min_max(pts, x0, x1, buckets));
                self.decimated.insert(key, (range, v.clone()));
                v
            }
        }
    }

    /// Forgets curves no longer drawn.
    pub(super) fn retain(&mut self, live: &[usize], window: usize) {
        self.smoothed.retain(|k, _| live.contains(&k.0) && k.1 == window);
        self.decimated.retain(|k, _| live.contains(&k.0) && (k.1 == window || k.2 == 2));
        self.log_lr.retain(|k, _| live.contains(k));
        self.held.retain(|k, _| live.contains(k));
    }
}
