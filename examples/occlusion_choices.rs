//! Compares occlusion square sizes and steps for the attribution map (engine::insight::explain), to choose the default.
//!
//! `cargo run --release --example occlusion_choices -- WEIGHTS.safetensors [IMAGES]`
//!
//! Over the first IMAGES (default 300) correctly classified test digits, per (square, step): the median time of one
//! map, how far the class's probability drops at the map's strongest point (small squares barely move it: the map is
//! mostly noise), and the share of the map's positive mass that lies on ink (large squares smear it onto paper).

use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::insight::explain::occlusion_with;
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::predict::Predictor;
use std::time::Instant;

fn main() -> lenet_playground::Result<()> {
    // First, while this is the only thread: the compute environment and pools, as in the app.
    lenet_playground::startup::init_compute();
    let mut args = std::env::args().skip(1);
    let weights = args.next().expect("usage: occlusion_choices WEIGHTS.safetensors [IMAGES]");
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);
    let predictor = Predictor::new(&checkpoint::load(weights.as_ref())?)?;
    let data = Dataset::shipped_mnist()?;
    let inputs: Vec<_> = (0..data.test.len())
        .map(|i| (data.test.image(i), data.test.labels[i] as usize))
        .filter(|(x, l)| predictor.predict(x).map(|p| p.class == *l).unwrap_or(false))
        .take(count)
        .map(|(x, _)| x)
        .collect();
    println!("{} test digits\nsquare step  ms/map  strongest drop  positive mass on ink", inputs.len());
    for (patch, stride) in [(2, 1), (2, 2), (3, 1), (4, 1), (4, 2), (6, 2), (6, 3), (8, 4)] {
        let (mut ms, mut strongest, mut on_ink) = (Vec::new(), 0f64, 0f64);
        for x in &inputs {
            let t = Instant::now();
            let a = occlusion_with(&predictor, x, None, patch, stride)?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            strongest += a.map.iter().copied().fold(0f32, f32::max) as f64;
            let pos = |keep: &dyn Fn(f32) -> bool| -> f64 {
                a.map.iter().zip(x.iter()).filter(|(_, &v)| keep(v)).map(|(m, _)| m.max(0.0) as f64).sum()
            };
            on_ink += pos(&|v| v > 0.2) / pos(&|_| true).max(1e-12);
        }
        ms.sort_by(f64::total_cmp);
        let n = inputs.len().max(1) as f64;
        println!(
            "{patch:>6} {stride:>4}  {:>6.2}  {:>14.3}  {:>18.0} %",
            ms[ms.len() / 2],
            strongest / n,
            100.0 * on_ink / n
        );
    }
    Ok(())
}
