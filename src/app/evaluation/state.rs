//! Evaluate's state, kept by the window beside the session: the last result and, while one runs, its progress.

use crate::engine::insight::evaluate::Evaluation;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An evaluation of weights that were not trained in this session (or asked for with Evaluate).
#[derive(Debug, Clone)]
pub struct OnDemand {
    /// `Session::weights_version` of the weights it was computed for.
    pub weights_version: u64,
    /// The data set it was computed on (name, test images): another data set makes it meaningless.
    pub data: (String, usize),
    pub eval: Arc<Evaluation>,
}

/// Evaluate's state: the last result and, while one runs, its progress.
#[derive(Debug, Default)]
pub struct EvalState {
    pub result: Option<OnDemand>,
    /// (test images done, total) while an evaluation runs.
    pub running: Option<(Arc<AtomicUsize>, usize)>,
    /// The data set of the evaluation running or last run.
    pub(crate) data: (String, usize),
}

impl EvalState {
    /// 0..1 while an evaluation runs.
    pub fn progress(&self) -> Option<f32> {
        self.running.as_ref().map(|(done, total)| done.load(Ordering::Relaxed) as f32 / (*total).max(1) as f32)
    }
}
