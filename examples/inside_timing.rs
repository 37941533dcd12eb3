//! How long the Inside tab's helper work takes for a network on this machine, alone (no training beside it): the
//! representation frame (2,000 test digits through the network, then PCA), the silhouette score, the ranking of
//! every unit of a stage over the 10,000 test images, and the activation-maximisation image.
//!   cargo run --release --example inside_timing [ARCH] [STAGE:UNIT]   (default: lenet5 c3:4)

use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::data::set::MNIST_NAME;
use lenet_playground::engine::insight::inside::dream::dream;
use lenet_playground::engine::insight::inside::representation::{capture, MapDigits};
use lenet_playground::engine::insight::inside::units::{parse_unit, rank_units, SHOWN};
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::predict::Predictor;
use lenet_playground::engine::model::weights::ModelWeights;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    lenet_playground::startup::init_compute();
    let args: Vec<String> = std::env::args().collect();
    let arch = args.get(1).map_or("lenet5", String::as_str);
    let cfg = ModelConfig { arch: arch.parse()?, ..ModelConfig::default() };
    let unit = args.get(2).map_or("c3:4", String::as_str);
    let data = Dataset::load(None)?;
    let w = ModelWeights::init(cfg, Init::Xavier, 1, MNIST_NAME, &data.class_names);
    let predictor = Predictor::new(&w)?;
    let digits = MapDigits::from_test(&data.test);
    let best = |f: &mut dyn FnMut() -> f64| (0..3).map(|_| f()).fold(f64::INFINITY, f64::min);
    let frame = best(&mut || capture(&predictor, &digits, 0, None).map_or(f64::NAN, |(f, _)| f.capture_ms));
    let silhouette = best(&mut || capture(&predictor, &digits, 0, None).map_or(f64::NAN, |(f, _)| f.silhouette_ms));
    let (index, unit) = parse_unit(predictor.stages(), unit)?;
    let rank = best(&mut || {
        let t = Instant::now();
        let _ = rank_units(&predictor, index, &data.test, SHOWN);
        t.elapsed().as_secs_f64() * 1000.0
    });
    let wanted = best(&mut || dream(&predictor, index, unit).map_or(f64::NAN, |d| d.secs * 1000.0));
    println!("{arch}: frame (2,000 digits + PCA) {frame:.0} ms, silhouette {silhouette:.0} ms, ranking {} over {} test images {rank:.0} ms, wanted image {wanted:.0} ms (best of 3)",
        predictor.stages()[index].key, data.test.len());
    Ok(())
}
