//! The Inside tab's numbers, checked against the network itself: every value's element view adds up to what the
//! network computed (random cells of every stage kind, LeNet-5 and 20 random architectures), the unit rankings are
//! the largest and smallest responses a brute-force pass finds, and the representation map's classes pull apart
//! during a real run (its silhouette scores are printed).

use lenet_playground::engine::data::set::IMAGE_SIDE;
use lenet_playground::engine::insight::inside::dream::dream;
use lenet_playground::engine::insight::inside::element::{explain_element, map_position, Detail};
use lenet_playground::engine::insight::inside::representation::{capture, MapDigits};
use lenet_playground::engine::insight::inside::units::{parse_unit, rank_units};
use lenet_playground::engine::model::architecture::Architecture;
use lenet_playground::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use lenet_playground::engine::model::predict::Predictor;
use lenet_playground::engine::model::stages;
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::rng::Rng;
use lenet_playground::engine::training::config::TrainConfig;
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::architectures::any_arch;
use crate::support::data::{digit_names, mnist, small};

/// Checks random cells (and the first and last) of every stage of `cfg` for one test digit.
fn check_elements(cfg: ModelConfig, seed: u64) -> Result<usize, TestCaseError> {
    let w = ModelWeights::init(cfg, Init::Kaiming, seed, "MNIST", &digit_names());
    let predictor = Predictor::new(&w).unwrap();
    let image = mnist().test.image(seed as usize % 100);
    let trace = predictor.trace(&image).unwrap();
    let table = stages::stages(cfg);
    let mut rng = Rng::new(seed);
    let mut checked = 0;
    for (i, stage) in table.iter().enumerate() {
        let n = stage.output.len();
        for cell in [0, n - 1].into_iter().chain((0..6).map(|_| rng.below(n))) {
            let c = explain_element(&w, &table, &image, &trace, i, cell).unwrap();
            let tol = 1e-5 * c.network_value.abs().max(1.0);
            prop_assert!(
                (c.value - c.network_value).abs() <= tol,
                "{} {} cell {cell}: recomputed {} vs network {}",
                cfg.arch,
                stage.key,
                c.value,
                c.network_value
            );
            // The products shown are the ones summed.
            if let Detail::Conv { bias, .. } | Detail::Linear { bias, .. } = c.detail {
                let sum: f64 = c.detail.products().iter().map(|&p| p as f64).sum::<f64>() + bias as f64;
                prop_assert!((sum as f32 - c.network_value).abs() <= tol, "{} {}", cfg.arch, stage.key);
            }
            // What follows (activation, pooling) is the trace's value at the cell's place.
            for (key, v) in &c.then {
                let j = table.iter().position(|s| s.key == *key).unwrap();
                prop_assert!(trace[j].values.contains(v), "{} {key}", cfg.arch);
            }
            prop_assert!(c.field.bottom <= IMAGE_SIDE && c.field.top < c.field.bottom, "{:?}", c.field);
            checked += 1;
        }
    }
    Ok(checked)
}

#[test]
fn every_element_adds_up_to_the_value_the_network_computed() {
    let lenet = check_elements(ModelConfig::default(), 1).unwrap();
    let relu_max = ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() };
    check_elements(relu_max, 2).unwrap();
    let archs = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config { cases: 20, failure_persistence: None, ..Config::default() });
    runner
        .run(&(any_arch(), any::<u64>()), |((blocks, hidden, relu, max), seed)| {
            let cfg = ModelConfig {
                arch: Architecture::new(&blocks, &hidden).unwrap(),
                activation: if relu { Activation::Relu } else { Activation::Sigmoid },
                pooling: if max { Pooling::Max } else { Pooling::Avg },
                classes: 10,
            };
            prop_assume!(stages::try_stages(cfg).is_ok());
            check_elements(cfg, seed % 1000)?;
            archs.set(archs.get() + 1);
            Ok(())
        })
        .unwrap();
    assert!(archs.get() >= 20 && lenet > 12 * 8 - 1, "{} architectures, {lenet} LeNet-5 cells", archs.get());
}

#[test]
fn a_conv_element_names_its_window_and_what_follows() {
    let w = crate::support::data::fresh_weights(3);
    let predictor = Predictor::new(&w).unwrap();
    let image = mnist().test.image(0);
    let trace = predictor.trace(&image).unwrap();
    let table = stages::stages(w.config);
    // c3 channel 4, row 3, column 7: a 6×5×5 window of s2 at (3, 7), then its sigmoid and its s4 block (1, 3).
    let cell = (4 * 10 + 3) * 10 + 7;
    let c = explain_element(&w, &table, &image, &trace, 3, cell).unwrap();
    assert_eq!(map_position(table[3].output, cell), Some((4, 3, 7)));
    let Detail::Conv { in_channels, kernel, origin, ref patch, .. } = c.detail else { panic!("{:?}", c.detail) };
    assert_eq!((in_channels, kernel, origin, patch.len()), (6, 5, (3, 7), 150));
    assert_eq!(c.then.iter().map(|t| t.0).collect::<Vec<_>>(), ["c3.act", "s4"]);
    assert_eq!(c.then[1].1, trace[5].values[(4 * 5 + 1) * 5 + 3]);
    // c1 at the corner reads the padding as zeros.
    let c = explain_element(&w, &table, &image, &trace, 0, 0).unwrap();
    let Detail::Conv { origin, ref patch, .. } = c.detail else { panic!() };
    assert_eq!((origin, patch[0], patch[12]), ((-2, -2), 0.0, image[0]));
    // A dense unit names its strongest weights, strongest first.
    let c = explain_element(&w, &table, &image, &trace, 7, 17).unwrap();
    let Detail::Linear { ref weights, ref strongest, .. } = c.detail else { panic!() };
    assert_eq!(strongest.len(), 16);
    assert!(strongest.windows(2).all(|p| weights[p[0]].abs() >= weights[p[1]].abs()));
    assert!(weights.iter().all(|v| v.abs() <= weights[strongest[0]].abs()));
    assert!(explain_element(&w, &table, &image, &trace, 3, 1600).is_err());
    assert!(explain_element(&w, &table, &image, &trace, 99, 0).is_err());
}

#[test]
fn unit_rankings_are_the_largest_and_smallest_responses() {
    let w = crate::support::data::fresh_weights(4);
    let predictor = Predictor::new(&w).unwrap();
    let set = mnist().test.truncated(700);
    let table = stages::stages(w.config);
    for (spec, units) in [("c3:4", 16), ("f5:17", 120), ("c1:0", 6)] {
        let (index, unit) = parse_unit(&table, spec).unwrap();
        let rankings = rank_units(&predictor, index, &set, 16).unwrap();
        assert_eq!(rankings.len(), units, "{spec}");
        // Brute force: each image traced on its own, the unit's largest value over its map.
        let responses: Vec<f32> = (0..set.len())
            .map(|i| {
                let t = predictor.trace(&set.image(i)).unwrap();
                let per_unit = table[index].output.len() / rankings.len();
                t[index].values[unit * per_unit..(unit + 1) * per_unit]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect();
        let mut sorted = responses.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let r = &rankings[unit];
        for (k, resp) in r.top.iter().enumerate() {
            assert!((resp.value - sorted[k]).abs() <= 1e-5, "{spec} top {k}: {} vs {}", resp.value, sorted[k]);
            assert!((responses[resp.image] - resp.value).abs() <= 1e-5, "{spec}: image {}", resp.image);
        }
        for (k, resp) in r.bottom.iter().enumerate() {
            assert!((resp.value - sorted[set.len() - 1 - k]).abs() <= 1e-5, "{spec} bottom {k}");
        }
        assert_eq!((r.top.len(), r.bottom.len()), (16, 16));
    }
    let err = parse_unit(&table, "c2:1").unwrap_err().to_string();
    assert!(err.contains("no stage 'c2'") && err.contains("c3 (0–15)"), "{err}");
    assert!(parse_unit(&table, "c3:16").unwrap_err().to_string().contains("0–15"));
    assert!(parse_unit(&table, "c3").is_err() && parse_unit(&table, "c3:x").is_err());
}

/// The map's silhouette score before training and after each epoch of a short default-recipe run.
fn silhouettes(cfg: &TrainConfig, train_images: usize) -> Vec<f32> {
    let data = small(train_images, 2000);
    let digits = MapDigits::from_test(&data.test);
    let mut weights = vec![ModelWeights::init(cfg.model, cfg.init, cfg.seed, "MNIST", &digit_names())];
    let mut after_epoch = false;
    train(cfg, &data, None, &Control::new(), &mut |e| match e {
        TrainEvent::Epoch(_) => after_epoch = true,
        TrainEvent::Weights(w) | TrainEvent::Finished { weights: w, .. } if after_epoch => {
            weights.push(w);
            after_epoch = false;
        }
        _ => {}
    })
    .unwrap();
    let mut previous = None;
    let mut scores = Vec::new();
    for (epoch, w) in weights.iter().enumerate() {
        let (frame, _) = capture(&Predictor::new(w).unwrap(), &digits, epoch, previous.as_ref()).unwrap();
        eprintln!(
            "epoch {epoch}: silhouette {:.3}, 2-D explains {:.0}% of the variance, capture {:.0} ms, silhouette {:.0} ms",
            frame.silhouette,
            frame.explained * 100.0,
            frame.capture_ms,
            frame.silhouette_ms
        );
        scores.push(frame.silhouette);
        previous = Some(frame.pca);
    }
    scores
}

#[test]
fn the_classes_pull_apart_on_the_map_during_a_run() {
    let cfg = TrainConfig { epochs: 2, ..TrainConfig::default() };
    let scores = silhouettes(&cfg, 12_000);
    assert_eq!(scores.len(), 3);
    assert!(scores[2] > scores[0], "silhouette per epoch: {scores:?}");
}

/// The default run's figures for the README and the issue: `cargo test --release --test engine -- --ignored
/// default_run_silhouette --nocapture`.
#[test]
#[ignore]
fn default_run_silhouette() {
    let scores = silhouettes(&TrainConfig::default(), 60_000);
    assert!(scores.last() > scores.first(), "{scores:?}");
}

#[test]
fn gradient_ascent_makes_an_image_the_unit_answers_more_strongly() {
    let w = crate::support::data::fresh_weights(6);
    let predictor = Predictor::new(&w).unwrap();
    let table = stages::stages(w.config);
    for spec in ["c1:2", "c3:4", "f5:17", "out:3"] {
        let (index, unit) = parse_unit(&table, spec).unwrap();
        let d = dream(&predictor, index, unit).unwrap();
        eprintln!("{spec}: response {:+.3} → {:+.3} in {:.2} s", d.start_value, d.value, d.secs);
        assert!(d.value > d.start_value, "{spec}: {} → {}", d.start_value, d.value);
        assert!(d.image.len() == 784 && d.image.iter().all(|v| (0.0..=1.0).contains(v)), "{spec}");
        assert_eq!(dream(&predictor, index, unit).unwrap().image, d.image, "{spec}: deterministic");
    }
    let mlp = ModelConfig { arch: "mlp".parse().unwrap(), ..ModelConfig::default() };
    let p = Predictor::new(&ModelWeights::init(mlp, Init::Xavier, 1, "MNIST", &digit_names())).unwrap();
    let d = dream(&p, 1, 5).unwrap();
    assert!(d.value > d.start_value);
}
