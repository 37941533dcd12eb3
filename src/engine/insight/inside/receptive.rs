//! Which input pixels can change one value of a stage: its receptive field, walked back through the stages'
//! geometry (a convolution widens it by its kernel and shifts it by its padding, a pooling doubles it). The element
//! view draws it on the 28×28 input; the unit rankings crop their images to it.

use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::model::stages::{Stage, StageKind};

/// A rectangle of input pixels, rows `top..bottom` and columns `left..right` (half-open), inside the 28×28 input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Field {
    /// The whole input: the field of every value after flattening.
    pub const WHOLE: Field = Field { top: 0, left: 0, bottom: IMAGE_SIDE, right: IMAGE_SIDE };

    pub fn height(&self) -> usize {
        self.bottom - self.top
    }
    pub fn width(&self) -> usize {
        self.right - self.left
    }

    /// The field's pixels of a row-major 28×28 image, row by row.
    pub fn crop(&self, image: &[f32]) -> Vec<f32> {
        (self.top..self.bottom)
            .flat_map(|y| image[y * IMAGE_SIDE + self.left..y * IMAGE_SIDE + self.right].to_vec())
            .collect()
    }
}

/// The receptive field of the value at row `y`, column `x` of stage `index`'s output (any channel: every channel of a
/// stage sees the same pixels). Values of a vector (after flatten) see the whole input.
pub fn receptive_field(stages: &[Stage], index: usize, y: usize, x: usize) -> Field {
    // Inclusive ranges in the current stage's output coordinates; they may leave the map (padding) until clipped.
    let (mut y0, mut y1, mut x0, mut x1) = (y as isize, y as isize, x as isize, x as isize);
    for stage in stages[..=index.min(stages.len().saturating_sub(1))].iter().rev() {
        match stage.kind {
            StageKind::Conv { kernel, padding, .. } => {
                let (k, p) = (kernel as isize, padding as isize);
                (y0, y1, x0, x1) = (y0 - p, y1 - p + k - 1, x0 - p, x1 - p + k - 1);
            }
            StageKind::Pool(_) => (y0, y1, x0, x1) = (2 * y0, 2 * y1 + 1, 2 * x0, 2 * x1 + 1),
            StageKind::Activation(_) | StageKind::Dropout { .. } => {}
            StageKind::Flatten | StageKind::Linear { .. } => return Field::WHOLE,
        }
    }
    let clip = |v: isize| v.clamp(0, IMAGE_SIDE as isize) as usize;
    Field { top: clip(y0), left: clip(x0), bottom: clip(y1 + 1), right: clip(x1 + 1) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::config::ModelConfig;
    use crate::engine::model::stages::stages;

    #[test]
    fn lenet_fields_grow_through_the_stages() {
        let s = stages(ModelConfig::default());
        // c1 (5×5, padding 2): centred on the pixel, clipped at the border.
        assert_eq!(receptive_field(&s, 0, 10, 10), Field { top: 8, left: 8, bottom: 13, right: 13 });
        assert_eq!(receptive_field(&s, 0, 0, 0), Field { top: 0, left: 0, bottom: 3, right: 3 });
        // s2 doubles: 6×6; c3 adds 4 pooled cells: 14×14; s4 two c3 cells 2 px apart: 16×16.
        assert_eq!(receptive_field(&s, 2, 5, 5).height(), 6);
        let c3 = receptive_field(&s, 3, 4, 4);
        assert_eq!((c3.height(), c3.width(), c3.top), (14, 14, 6));
        assert_eq!(receptive_field(&s, 5, 2, 2).height(), 16);
        assert_eq!(receptive_field(&s, 7, 0, 0), Field::WHOLE);
        let crop = Field { top: 1, left: 2, bottom: 3, right: 4 }.crop(&(0..784).map(|v| v as f32).collect::<Vec<_>>());
        assert_eq!(crop, [30.0, 31.0, 58.0, 59.0]);
    }
}
