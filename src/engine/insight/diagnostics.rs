//! Why a run learns or stalls, measured while it trains: each weight layer's gradient norm and the relative size of
//! its update (‖Δw‖ / ‖w‖), and each activation stage's saturation, mean and (ReLU) dead units.
//!
//! The gradients and the update come from the training step itself (the optimiser keeps the weights it started
//! from), so they cost a few norms. The training forward runs fused conv → activation → pool kernels that never
//! materialise the activations, so those are measured with the stage-by-stage [`LeNet::trace`] on (a slice of) the
//! same batch, without gradient tracking — that costs about a forward pass, which is why measurements are spaced:
//! [`Monitor`] times its own measurements against the training steps and spaces them so they take at most
//! [`BUDGET`] of the training time (about every 25th batch on a release build here; see `bench`).

use crate::engine::data::set::ImageSet;
use crate::engine::model::config::Activation;
use crate::engine::model::grads::Grads;
use crate::engine::model::lenet::{images_tensor, LeNet, StageKind};
use crate::engine::model::stages;
use crate::Result;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// How gradients and activations look at one training step (measured every few batches). Keys are stage names
/// (`c1`, `c3`, `f5`, `f6`, `out` for layers with weights; `c1.act`, … for activation stages).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Diagnostics {
    pub epoch: usize,
    pub batch: usize,
    pub x_epochs: f64,
    /// L2 norm of each layer's weight gradient.
    pub grad_norm: BTreeMap<String, f32>,
    /// ‖Δw‖ / ‖w‖ of the step, per layer.
    pub update_ratio: BTreeMap<String, f32>,
    /// Fraction (0..1) of each activation stage's outputs that are saturated (sigmoid: σ' < 0.05; ReLU: exactly 0).
    pub saturation: BTreeMap<String, f32>,
    /// Mean output of each activation stage.
    pub mean_activation: BTreeMap<String, f32>,
    /// ReLU only: fraction (0..1) of units (channels or neurons) that are 0 for every image of the batch.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dead_units: BTreeMap<String, f32>,
}

/// The share of training time diagnostics may take (the limit is 5 %; the schedule aims at 2 % to leave room for
/// timing noise, the cold first measurement and the cache the trace evicts).
pub(crate) const BUDGET: f64 = 0.02;
/// Images of the batch traced for the activation statistics (a slice of the batch: the statistics of 64 images
/// × 120 units are as telling as those of 100, at two thirds of the cost).
pub(crate) const TRACE_IMAGES: usize = 64;
/// Sigmoid outputs outside [LOW, HIGH] count as saturated: there σ' = σ(1-σ) < 0.05.
pub(crate) const SIGMOID_SATURATED_LOW: f32 = 0.053;
pub(crate) const SIGMOID_SATURATED_HIGH: f32 = 0.947;
/// Never more than this many batches between two measurements (plots need points even when a trace is costly).
const MAX_INTERVAL: usize = 50;
/// Batches between the first measurement (batch 1, the starting state) and the second, while the step time is
/// still being learnt (the first steps warm caches and threads).
const FIRST_INTERVAL: usize = 10;

// --- Measurement -------------------------------------------------------------------------------------------------

/// What diagnostics cost in one run: time measuring against time training, both timed on the trainer's thread
/// ([`Monitor::cost`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cost {
    pub measurements: usize,
    pub steps: usize,
    pub measure_secs: f64,
    pub train_secs: f64,
}

fn l2(v: impl Iterator<Item = f32>) -> f64 {
    v.map(|x| (x as f64) * (x as f64)).sum::<f64>().sqrt()
}

/// L2 norm of each weight layer's gradient (keys c1 c3 f5 f6 out).
pub fn grad_norms(model: &LeNet, grads: Grads) -> Result<Vec<(&'static str, f32)>> {
    let mut out = Vec::new();
    for layer in stages::weighted_layers(model.config) {
        let (Some((w, _)), Some(index)) = (model.layer(layer), stages::param_index(model.config, layer)) else {
            continue;
        };
        if let Some(norm) = grads.values(index, w)?.map(|g| l2(g.into_iter())) {
            out.push((layer, norm as f32));
        }
    }
    Ok(out)
}

/// ‖w − w_prev‖ / ‖w_prev‖ of each weight layer, from the model's current weights and the parameters before the
/// step (in `stages::params()` order, as `Optim::previous` keeps them).
pub fn update_ratios(model: &LeNet, previous: &[Vec<f32>]) -> Result<Vec<(&'static str, f32)>> {
    let mut out = Vec::new();
    for layer in stages::weighted_layers(model.config) {
        let (Some((w, _)), Some(prev)) =
            (model.layer(layer), stages::param_index(model.config, layer).and_then(|i| previous.get(i)))
        else {
            continue;
        };
        let now = w.flatten_all()?.to_vec1::<f32>()?;
        if now.len() != prev.len() {
            continue;
        }
        let delta = l2(now.iter().zip(prev).map(|(a, b)| a - b));
        let norm = l2(prev.iter().copied());
        out.push((layer, if norm > 0.0 { (delta / norm) as f32 } else { 0.0 }));
    }
    Ok(out)
}

/// The model over untracked copies of its parameters (same storage, no copy): a trace through it builds no
/// backprop graph.
fn detached(model: &LeNet) -> Result<LeNet> {
    let params = stages::params(model.config)
        .iter()
        .map(|spec| {
            let (w, b) = model
                .layer(spec.layer)
                .ok_or_else(|| crate::Error::Internal(format!("diagnostics: the model has no layer {}", spec.layer)))?;
            Ok(if spec.role == stages::ParamRole::Weight { w.detach() } else { b.detach() })
        })
        .collect::<Result<Vec<_>>>()?;
    LeNet::new(model.config, params)
}

/// Saturation, mean and dead-unit fraction of one activation stage's output `[n, units…]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivationStats {
    /// Fraction (0..1) of outputs in the flat part of the activation.
    pub saturation: f32,
    pub mean: f32,
    /// ReLU only: fraction of units (channels of a feature map, or neurons) that are 0 for every image.
    pub dead_units: Option<f32>,
}

/// Statistics of activations `values` laid out `[n, units, per_unit]` (per_unit = h·w for maps, 1 for vectors).
pub(crate) fn activation_stats(values: &[f32], n: usize, units: usize, activation: Activation) -> ActivationStats {
    let total = values.len().max(1);
    let mean = (values.iter().map(|&v| v as f64).sum::<f64>() / total as f64) as f32;
    match activation {
        Activation::Sigmoid => {
            let sat =
                values.iter().filter(|&&v| !(SIGMOID_SATURATED_LOW..=SIGMOID_SATURATED_HIGH).contains(&v)).count();
            ActivationStats { saturation: sat as f32 / total as f32, mean, dead_units: None }
        }
        Activation::Relu => {
            let zeros = values.iter().filter(|&&v| v == 0.0).count();
            let per_unit = values.len() / (n * units).max(1);
            let mut alive = vec![false; units];
            for (k, chunk) in values.chunks(per_unit.max(1)).enumerate() {
                if chunk.iter().any(|&v| v != 0.0) {
                    alive[k % units] = true;
                }
            }
            let dead = alive.iter().filter(|a| !**a).count();
            ActivationStats {
                saturation: zeros as f32 / total as f32,
                mean,
                dead_units: Some(dead as f32 / units.max(1) as f32),
            }
        }
    }
}

/// Every activation stage's statistics for the images `x` (`[n, 1, 28, 28]`), through the stage-by-stage trace.
pub fn activations(model: &LeNet, x: &Tensor) -> Result<Vec<(&'static str, ActivationStats)>> {
    let plain = detached(model)?;
    let n = x.dim(0)?;
    let mut out = Vec::new();
    for (stage, t) in plain.trace(&x.detach())? {
        if let StageKind::Activation(a) = stage.kind {
            let units = t.dim(1)?;
            out.push((stage.key, activation_stats(&t.flatten_all()?.to_vec1::<f32>()?, n, units, a)));
        }
    }
    Ok(out)
}

/// One full measurement at a training step (after the optimiser's update). `x` is the step's batch; `previous`
/// the parameters before the update (`Optim::previous`).
pub fn measure(
    model: &LeNet,
    x: &Tensor,
    grads: Grads,
    previous: Option<&[Vec<f32>]>,
    at: (usize, usize, usize),
) -> Result<Diagnostics> {
    let (epoch, batch, batches_per_epoch) = at;
    let mut d = Diagnostics {
        epoch,
        batch,
        x_epochs: (epoch - 1) as f64 + batch as f64 / batches_per_epoch.max(1) as f64,
        ..Default::default()
    };
    for (k, v) in grad_norms(model, grads)? {
        d.grad_norm.insert(k.into(), v);
    }
    if let Some(prev) = previous {
        for (k, v) in update_ratios(model, prev)? {
            d.update_ratio.insert(k.into(), v);
        }
    }
    let n = x.dim(0)?;
    let slice = if n > TRACE_IMAGES { x.narrow(0, 0, TRACE_IMAGES)? } else { x.clone() };
    for (k, s) in activations(model, &slice)? {
        d.saturation.insert(k.into(), s.saturation);
        d.mean_activation.insert(k.into(), s.mean);
        if let Some(dead) = s.dead_units {
            d.dead_units.insert(k.into(), dead);
        }
    }
    Ok(d)
}

/// Decides when to measure and keeps the measurements within [`BUDGET`] of the training time: it times each
/// measurement and each step (moving averages) and waits `measure / (BUDGET · step)` batches between two.
#[derive(Debug)]
pub(crate) struct Monitor {
    enabled: bool,
    steps: usize,
    measurements: usize,
    next: usize,
    step_secs: Option<f64>,
    measure_secs: Option<f64>,
    /// Time spent measuring, and training steps timed, over the run (for reporting the overhead).
    pub spent_secs: f64,
    pub trained_secs: f64,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new()
    }
}

fn ewma(old: Option<f64>, new: f64) -> f64 {
    old.map_or(new, |o| 0.8 * o + 0.2 * new)
}

impl Monitor {
    /// Measures when due (what every run does).
    pub fn new() -> Self {
        Monitor::with_enabled(true)
    }

    /// Never measures, but still times the steps: the benchmark's baseline.
    pub fn off() -> Self {
        Monitor::with_enabled(false)
    }

    fn with_enabled(enabled: bool) -> Self {
        Monitor {
            enabled,
            steps: 0,
            measurements: 0,
            next: 1,
            step_secs: None,
            measure_secs: None,
            spent_secs: 0.0,
            trained_secs: 0.0,
        }
    }

    /// Batches between measurements as things stand.
    pub(crate) fn interval(&self) -> usize {
        match (self.measure_secs, self.step_secs) {
            (Some(m), Some(s)) if s > 0.0 => ((m / (BUDGET * s)).ceil() as usize).clamp(1, MAX_INTERVAL),
            _ => FIRST_INTERVAL,
        }
    }

    /// What measuring has cost so far, against the training steps timed.
    pub(crate) fn cost(&self) -> Cost {
        Cost {
            measurements: self.measurements,
            steps: self.steps,
            measure_secs: self.spent_secs,
            train_secs: self.trained_secs,
        }
    }

    /// Call after every training step (`step_secs`: its forward, backward and update) with the step's images
    /// (`indices` of `set`; gathered only when measuring). Measures when due and returns the measurement.
    /// `at` = (epoch, batch, batches_per_epoch), 1-based.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn after_step(
        &mut self,
        step_secs: f64,
        model: &LeNet,
        (set, indices): (&ImageSet, &[usize]),
        grads: Grads,
        previous: Option<&[Vec<f32>]>,
        at: (usize, usize, usize),
    ) -> Result<Option<Diagnostics>> {
        self.steps += 1;
        // The first steps warm caches and threads: they would make the schedule too generous.
        if self.steps > 3 {
            self.step_secs = Some(ewma(self.step_secs, step_secs));
        }
        self.trained_secs += step_secs;
        if !self.enabled || self.steps < self.next {
            return Ok(None);
        }
        let t = Instant::now();
        let shown = &indices[..indices.len().min(TRACE_IMAGES)];
        let x = images_tensor(&set.batch(shown).0, shown.len())?;
        let d = measure(model, &x, grads, previous, at)?;
        let secs = t.elapsed().as_secs_f64();
        self.spent_secs += secs;
        self.measurements += 1;
        // The first (cold) measurement overestimates the cost: the schedule starts on the safe side.
        self.measure_secs = Some(ewma(self.measure_secs, secs));
        self.next = self.steps + self.interval();
        Ok(Some(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_stages() {
        // The layers and stages measured, and where a layer's weight sits among the optimiser's parameters.
        assert_eq!(stages::weighted_layers(Default::default()), ["c1", "c3", "f5", "f6", "out"]);
        assert_eq!(stages::activation_stages(Default::default()), ["c1.act", "c3.act", "f5.act", "f6.act"]);
        assert_eq!(stages::param_index(Default::default(), "f5"), Some(4));
    }

    #[test]
    fn sigmoid_saturation_counts_the_flat_ends() {
        let s = activation_stats(&[0.01, 0.5, 0.96, 0.6], 1, 4, Activation::Sigmoid);
        assert_eq!(s.saturation, 0.5);
        assert!((s.mean - 0.5175).abs() < 1e-6);
        assert_eq!(s.dead_units, None);
    }

    #[test]
    fn relu_dead_units_are_zero_for_every_image() {
        // 2 images × 3 channels × 2 positions: channel 1 is zero everywhere, channel 2 fires once.
        let v = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, /* image 2 */ 0.0, 2.0, 0.0, 0.0, 0.0, 3.0];
        let s = activation_stats(&v, 2, 3, Activation::Relu);
        assert!((s.dead_units.unwrap() - 1.0 / 3.0).abs() < 1e-6);
        assert!((s.saturation - 9.0 / 12.0).abs() < 1e-6);
    }

    #[test]
    fn the_schedule_spaces_measurements_by_their_cost() {
        let mut m = Monitor::new();
        m.step_secs = Some(0.004);
        m.measure_secs = Some(0.00076);
        assert_eq!(m.interval(), 10);
        m.measure_secs = Some(1.0);
        assert_eq!(m.interval(), MAX_INTERVAL);
        assert_eq!(Monitor::new().interval(), FIRST_INTERVAL, "before anything is timed");
        assert!(!Monitor::off().enabled);
        assert!(Monitor::new().enabled);
    }
}
