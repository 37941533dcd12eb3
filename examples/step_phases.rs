//! Where a training step's time goes on the whole-step path: drawing the dropout masks, gathering the batch with the kernels'
//! forward + backward (both split over the cores), and the optimiser's update, each timed over 300 steps of the classic recipe (SGD, batch
//! 100) after 20 warm-up steps. Prints the median of each phase in microseconds and the images/s they add up to.
//!
//! `cargo run --release --example step_phases -- [ARCH]` (default lenet5; e.g. mlp, wide, c8k3psame-pool,f64)

use candle_core::{Device, Var};
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::grads::Grads;
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::rng::Rng;
use lenet_playground::engine::training::config::Optimizer;
use lenet_playground::engine::training::optim::Optim;
use lenet_playground::engine::training::step::TrainStep;
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> lenet_playground::Result<()> {
    lenet_playground::startup::init_compute();
    let arch = std::env::args().nth(1).unwrap_or_else(|| "lenet5".into());
    let cfg = ModelConfig {
        arch: arch.parse().map_err(|e| lenet_playground::Error::Config(format!("{e}")))?,
        ..Default::default()
    };
    let data = Dataset::load(None)?;
    let w = ModelWeights::init(cfg, Init::Xavier, 1, "MNIST", &data.class_names);
    let vars = w
        .params
        .iter()
        .map(|p| Var::from_slice(&p.data, p.shape.as_slice(), &Device::Cpu))
        .collect::<candle_core::Result<Vec<_>>>()?;
    let mut optim = Optim::new(Optimizer::Sgd, 0.1, &vars)?;
    let mut step = TrainStep::new(cfg)?;
    let mut rng = Rng::new(2);
    let order = data.train.shuffled_indices(&mut rng);
    let (mut gather, mut kernels, mut update) = (Vec::new(), Vec::new(), Vec::new());
    for (i, chunk) in order.chunks(100).take(320).enumerate() {
        let t0 = Instant::now();
        let masks = step.masks(chunk.len(), &mut rng);
        let t1 = Instant::now();
        step.run(&vars, &data.train, chunk, &masks)?;
        let t2 = Instant::now();
        optim.step(&vars, Grads::Parts(&step.grad_parts()))?;
        let t3 = Instant::now();
        if i >= 20 {
            gather.push((t1 - t0).as_secs_f64() * 1e6);
            kernels.push((t2 - t1).as_secs_f64() * 1e6);
            update.push((t3 - t2).as_secs_f64() * 1e6);
        }
    }
    let (g, k, u) = (median(&mut gather), median(&mut kernels), median(&mut update));
    println!(
        "{arch}: masks {g:.0} µs, gather+forward+backward {k:.0} µs, update {u:.0} µs; {:.0} images/s",
        100e6 / (g + k + u)
    );
    Ok(())
}
