//! What the Evaluation tab is drawn from, gathered from the session and Evaluate's state: each epoch's matrix of
//! the run, then the on-demand one, with the class names and the test set they belong to.

use crate::app::evaluation::state::{EvalState, OnDemand};
use crate::app::state::Session;
use crate::engine::data::set::ImageSet;
use crate::engine::insight::evaluate::TestPredictions;

/// One confusion matrix the slider can show: an epoch of the run, or an on-demand evaluation.
pub struct Snapshot<'a> {
    /// "epoch 3", "evaluated"…
    pub label: String,
    pub confusion: &'a [Vec<u32>],
    /// Per-image predictions, if kept (needed for the gallery).
    pub predictions: Option<&'a TestPredictions>,
}

/// What the tab is drawn from.
pub struct EvaluationInputs<'a> {
    pub(crate) snapshots: Vec<Snapshot<'a>>,
    pub class_names: &'a [String],
    pub dataset: &'a str,
    pub test: Option<&'a ImageSet>,
    /// Evaluate can run now (weights and data, no run, none running).
    pub(crate) can_evaluate: bool,
    /// 0..1 while an evaluation runs.
    pub progress: Option<f32>,
    /// A note under the buttons (e.g. the evaluation is for earlier weights).
    pub(crate) note: Option<String>,
}

impl<'a> EvaluationInputs<'a> {
    /// What the Evaluation tab is drawn from: every epoch of the run that has a matrix, then the on-demand result.
    pub(crate) fn from_state(s: &'a Session, eval: &'a EvalState) -> Self {
        let mut snapshots: Vec<Snapshot<'a>> = s
            .history
            .epochs
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.confusion.is_empty())
            .map(|(i, e)| Snapshot {
                label: format!("epoch {}", i + 1),
                confusion: &e.confusion,
                predictions: e.predictions.as_deref(),
            })
            .collect();
        let mut note = None;
        let same_data = |r: &OnDemand| s.data.as_ref().is_some_and(|d| r.data == (d.name.clone(), d.test.len()));
        if let Some(r) = eval.result.as_ref().filter(|r| same_data(r)) {
            let current = r.weights_version == s.weights_version;
            if !current {
                note = Some(
                    "The evaluated matrix is for earlier weights: press Evaluate again for the current ones.".into(),
                );
            }
            snapshots.push(Snapshot {
                label: if current { "evaluated".into() } else { "evaluated (earlier weights)".into() },
                confusion: &r.eval.confusion,
                predictions: Some(&r.eval.predictions),
            });
        }
        let class_names: &[String] = match (&s.data, &s.weights) {
            (Some(d), _) => &d.class_names,
            (None, Some(w)) => &w.class_names,
            _ => &[],
        };
        EvaluationInputs {
            snapshots,
            class_names,
            dataset: s.data.as_ref().map_or("", |d| d.name.as_str()),
            test: s.data.as_ref().map(|d| &d.test),
            can_evaluate: s.weights.is_some() && s.data.is_some() && !s.run_active() && eval.running.is_none(),
            progress: eval.progress(),
            note,
        }
    }
}
