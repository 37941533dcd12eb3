//! How one unit changed over a run: for each epoch's weights, the image it wants (activation maximisation), its
//! filter when it reads the image directly, and the few map digits that excite it most. The Inside tab shows them
//! as a strip, one row per epoch, so a learner sees a detector form.

use super::dream::dream;
use super::units::{rank_units, Response};
use crate::engine::data::set::ImageSet;
use crate::engine::model::predict::Predictor;
use crate::engine::model::stages::StageKind;
use crate::{Error, Result};

/// Top images per epoch in the strip.
pub const STRIP_TOP: usize = 4;

/// One epoch of a unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitEpoch {
    pub epoch: usize,
    /// What it wants (28×28, 0..1).
    pub wanted: Vec<f32>,
    /// Its k×k filter, for a convolution of the one-channel image; None deeper.
    pub filter: Option<(usize, Vec<f32>)>,
    /// Its [`STRIP_TOP`] strongest responses among `images`.
    pub top: Vec<Response>,
}

/// Unit `unit` of stage `index` under the predictor's weights (those after `epoch` epochs), ranked over `images`.
pub fn unit_epoch(
    predictor: &Predictor,
    epoch: usize,
    index: usize,
    unit: usize,
    images: &ImageSet,
) -> Result<UnitEpoch> {
    let stage = *predictor.stages().get(index).ok_or_else(|| Error::Internal(format!("no stage {index}")))?;
    let wanted = dream(predictor, index, unit)?.image;
    let filter = match stage.kind {
        StageKind::Conv { in_channels: 1, kernel, .. } => {
            let (w, _) = predictor
                .weights()
                .layer(stage.key)
                .ok_or_else(|| Error::bad_weights(format!("no weights for layer {}", stage.key)))?;
            Some((kernel, w.data[unit * kernel * kernel..(unit + 1) * kernel * kernel].to_vec()))
        }
        _ => None,
    };
    let mut ranking = rank_units(predictor, index, images, STRIP_TOP)?;
    let top = if unit < ranking.len() { ranking.swap_remove(unit).top } else { Vec::new() };
    Ok(UnitEpoch { epoch, wanted, filter, top })
}
