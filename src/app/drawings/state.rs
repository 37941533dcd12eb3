//! The collector's state: the set being collected into, the last answers, and a teaching run waiting to end. Plain
//! data (no app types), so the app (`mod.rs`) can own it and `shell/drawings.rs` change it without an import circle.

use crate::engine::data::set::ImageSet;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::drawing_sets::SetInfo;
use crate::engine::store::my_drawings::SetSummary;
use crate::engine::training::fine_tune::BeforeAfter;

/// The collector's state in the app.
#[derive(Default)]
pub struct Drawings {
    /// The set being collected into, as last read.
    pub summary: Option<SetSummary>,
    /// The user's sets, as last listed (the chooser).
    pub sets: Vec<SetInfo>,
    /// The first frame reads the newest set (or makes the default one on the first drawing).
    pub(crate) started: bool,
    /// The last answer: How well does it read me, or a teaching run's before/after.
    pub answer: Option<String>,
    pub compared: Option<BeforeAfter>,
    /// The mix of the teaching run in words (shown with its figures).
    pub mix: Option<String>,
    /// A teaching run waiting to end, to compare its weights with these.
    pub(crate) teaching: Option<Teaching>,
}

/// A teaching run under way: the weights it started from and the two test sets to compare on.
pub(crate) struct Teaching {
    pub before: ModelWeights,
    pub own_test: ImageSet,
    pub mnist_test: ImageSet,
}
