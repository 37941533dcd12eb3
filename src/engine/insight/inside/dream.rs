//! What a unit wants, asked directly: activation maximisation. Start from a faint grey image and climb the
//! gradient of the unit's response with respect to the pixels (through every stage, the first convolution
//! included), so the image becomes what excites the unit most. Without a regulariser the ascent finds noise the
//! unit happens to like; this one is stated in the view and here:
//! * pixels stay in 0..1, the range of ink the network was trained on;
//! * L2 decay: every step shrinks the pixels by [`DECAY`], so only ink the unit keeps asking for survives;
//! * a 3×3 blur every [`BLUR_EVERY`] steps, against pixel-level noise.
//!
//! A conv channel's response is its value at the centre of its map (so the image shows the pattern inside that
//! value's receptive field, and the rest decays to paper); a dense unit's is its value.

use crate::engine::data::set::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::model::predict::Predictor;
use crate::engine::model::stages::Output;
use crate::engine::rng::Rng;
use crate::{Error, Result};
use candle_core::{Device, IndexOp, Tensor, Var};
use std::time::Instant;

/// Gradient steps.
pub const STEPS: usize = 96;
/// Share of every pixel taken away per step (L2 decay, as in Yosinski et al. 2015).
pub const DECAY: f32 = 0.01;
/// Steps between two blurs.
pub const BLUR_EVERY: usize = 8;

/// The image a unit wants and how strongly it answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dream {
    /// 28×28, row-major, 0..1.
    pub image: Vec<f32>,
    /// The unit's response to the starting grey image and to the result.
    pub start_value: f32,
    pub value: f32,
    pub secs: f64,
}

/// Activation maximisation of `unit` of stage `index` under the predictor's weights (deterministic: the start is
/// seeded).
pub fn dream(predictor: &Predictor, index: usize, unit: usize) -> Result<Dream> {
    let start = Instant::now();
    let stage = *predictor.stages().get(index).ok_or_else(|| Error::Internal(format!("no stage {index}")))?;
    let model = predictor.model();
    let mut rng = Rng::new(7);
    let mut x: Vec<f32> = (0..IMAGE_PIXELS).map(|_| 0.2 + 0.05 * rng.next_f64() as f32).collect();
    let response = |t: &Tensor| -> candle_core::Result<Tensor> {
        let out = model.forward_to_tracking_image(t, index)?;
        match stage.output {
            Output::Maps { height, width, .. } => out.i((0, unit, height / 2, width / 2)),
            Output::Vector(_) => out.i((0, unit)),
        }
    };
    let dims = (1, 1, IMAGE_SIDE, IMAGE_SIDE);
    let mut start_value = None;
    let mut value = 0.0;
    for step in 0..STEPS {
        let var = Var::from_tensor(&Tensor::from_slice(&x, dims, &Device::Cpu)?)?;
        let r = response(var.as_tensor())?;
        value = r.to_scalar::<f32>()?;
        start_value.get_or_insert(value);
        let grads = r.backward()?;
        let g = grads.get(var.as_tensor()).ok_or_else(|| Error::Internal("no gradient reached the image".into()))?;
        let g = g.flatten_all()?.to_vec1::<f32>()?;
        let scale = g.iter().fold(0f32, |m, v| m.max(v.abs()));
        if !scale.is_finite() {
            return Err(Error::Internal(format!("the gradient of {}:{unit} is not finite", stage.key)));
        }
        // A step of at most 0.1 (later 0.03) per pixel, whatever the gradient's scale.
        let lr = if step < STEPS / 2 { 0.1 } else { 0.03 };
        for (p, d) in x.iter_mut().zip(&g) {
            *p = ((*p + lr * d / scale.max(1e-12)) * (1.0 - DECAY)).clamp(0.0, 1.0);
        }
        if step % BLUR_EVERY == BLUR_EVERY - 1 {
            x = blur(&x);
        }
    }
    let last = response(&Tensor::from_slice(&x, dims, &Device::Cpu)?)?.to_scalar::<f32>()?;
    value = if last.is_finite() { last } else { value };
    Ok(Dream { image: x, start_value: start_value.unwrap_or(value), value, secs: start.elapsed().as_secs_f64() })
}

/// A 3×3 box blur, weighted 2 at the centre (the edges use the pixels that exist).
fn blur(x: &[f32]) -> Vec<f32> {
    let s = IMAGE_SIDE as isize;
    (0..IMAGE_PIXELS)
        .map(|i| {
            let (y, c) = ((i as isize) / s, (i as isize) % s);
            let (mut sum, mut weight) = (0.0, 0.0);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (yy, xx) = (y + dy, c + dx);
                    if (0..s).contains(&yy) && (0..s).contains(&xx) {
                        let w = if dy == 0 && dx == 0 { 2.0 } else { 1.0 };
                        sum += w * x[(yy * s + xx) as usize];
                        weight += w;
                    }
                }
            }
            sum / weight
        })
        .collect()
}
