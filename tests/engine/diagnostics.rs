//! Diagnostics and the coach on real short runs: the classic plateau is stuck at chance with vanishing gradients,
//! the tutorial's σ=1 weights saturate f5, the modern recipe gets no hint; gradient norms agree with finite
//! differences; the CLI prints hints and writes the diagnostics as JSON lines and CSV columns.

use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::insight::diagnostics;
use lenet_playground::engine::insight::diagnostics::Diagnostics;
use lenet_playground::engine::model::grads::Grads;
use lenet_playground::engine::model::lenet::{images_tensor, loss_and_correct, LeNet};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::{Hint, HintRule, TrainEvent};
use lenet_playground::engine::training::optim::Optim;
use lenet_playground::engine::training::step::TrainStep;
use lenet_playground::engine::training::train::train;
use std::process::Command;

use crate::support::data::mnist;

/// The first 10,000 training images (100 batches an epoch) and 1,000 test images.
fn small() -> Dataset {
    let d = mnist();
    Dataset { train: d.train.truncated(10_000), test: d.test.truncated(1_000), ..d.clone() }
}

fn run(preset: Preset, epochs: usize) -> (Vec<Diagnostics>, Vec<Hint>) {
    let cfg = TrainConfig { epochs, ..TrainConfig::preset(preset) };
    let (mut diags, mut hints) = (Vec::new(), Vec::new());
    train(&cfg, &small(), None, &Control::new(), &mut |e| match e {
        TrainEvent::Diagnostics(d) => diags.push(d),
        TrainEvent::Hint(h) => hints.push(h),
        _ => {}
    })
    .expect("training runs");
    (diags, hints)
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn the_classic_plateau_is_stuck_at_chance_with_vanishing_gradients() {
    let (diags, hints) = run(Preset::Classic, 2);
    let stuck: Vec<&Hint> = hints.iter().filter(|h| h.rule == HintRule::StuckAtChance).collect();
    assert_eq!(stuck.len(), 1, "once: {hints:?}");
    assert!(stuck[0].message.contains("vanishing gradients"), "{}", stuck[0].message);
    assert!(stuck[0].x_epochs >= 1.5 && stuck[0].x_epochs < 2.0, "after 150 batches: {}", stuck[0].x_epochs);
    // Every measurement has the five layers and the four activation stages.
    assert!(diags.len() >= 5, "measured {} times in 200 batches", diags.len());
    for d in &diags {
        assert_eq!(d.grad_norm.keys().collect::<Vec<_>>(), ["c1", "c3", "f5", "f6", "out"]);
        assert_eq!(d.update_ratio.len(), 5);
        assert_eq!(d.saturation.keys().collect::<Vec<_>>(), ["c1.act", "c3.act", "f5.act", "f6.act"]);
        assert!(d.dead_units.is_empty(), "no dead units for sigmoid");
    }
    // PyTorch on the same recipe: c1's gradient about 0.003× out's throughout the plateau.
    let ratio = median(diags.iter().map(|d| d.grad_norm["c1"] / d.grad_norm["out"]).collect());
    assert!(ratio < 0.02, "c1/out gradient ratio during the plateau: {ratio}");
    // Xavier keeps the sigmoids in their linear range: the cause is not saturation.
    assert!(median(diags.iter().map(|d| d.saturation["f5.act"]).collect()) < 0.2);
}

#[test]
fn the_tutorial_weights_saturate_f5() {
    let (diags, hints) = run(Preset::Seed, 1);
    let f5 = median(diags.iter().map(|d| d.saturation["f5.act"]).collect());
    assert!(f5 > 0.6, "f5.act saturation with σ=1 weights: {f5}");
    assert!(hints.iter().all(|h| h.rule != HintRule::Diverging), "{hints:?}");
}

#[test]
fn the_modern_recipe_gets_no_hint() {
    let (diags, hints) = run(Preset::Modern, 2);
    assert!(hints.is_empty(), "{hints:?}");
    let d = diags.last().expect("measured");
    assert_eq!(d.dead_units.len(), 4, "ReLU stages report dead units");
    assert!(d.saturation.values().all(|s| (0.0..=1.0).contains(s)));
}

/// Loss of `weights` on the batch.
fn loss_of(weights: &ModelWeights, x: &candle_core::Tensor, y: &candle_core::Tensor) -> f64 {
    let logits = LeNet::from_weights(weights).unwrap().forward(x).unwrap();
    loss_and_correct(&logits, y).unwrap().0.to_scalar::<f32>().unwrap() as f64
}

#[test]
fn gradient_norms_and_update_ratios_match_a_direct_computation() {
    let d = mnist();
    let cfg = TrainConfig::preset(Preset::Seed);
    let weights = ModelWeights::init(cfg.model, cfg.init, 7, &d.name, &d.class_names);
    let idx: Vec<usize> = (0..8).collect();
    let (pixels, labels) = d.train.batch(&idx);
    let x = images_tensor(&pixels, idx.len()).unwrap();
    let y = candle_core::Tensor::from_slice(&labels, idx.len(), &candle_core::Device::Cpu).unwrap();

    // As the trainer computes them: fused forward, candle's backward.
    let vars: Vec<candle_core::Var> = weights
        .params
        .iter()
        .map(|p| candle_core::Var::from_slice(&p.data, p.shape.as_slice(), &candle_core::Device::Cpu).unwrap())
        .collect();
    let model = LeNet::new(cfg.model, vars.iter().map(|v| v.as_tensor().clone()).collect()).unwrap();
    let (loss, _) = loss_and_correct(&model.forward(&x).unwrap(), &y).unwrap();
    let grads = loss.backward().unwrap();
    let norms: std::collections::BTreeMap<_, _> =
        diagnostics::grad_norms(&model, Grads::Store(&grads)).unwrap().into_iter().collect();
    // The whole-step kernels' gradient parts give the same norms.
    let mut step = TrainStep::new(cfg.model).unwrap();
    let pixels = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    step.run_pixels(&vars, &pixels, &y.to_vec1::<u32>().unwrap(), &[]).unwrap();
    let parts = step.grad_parts();
    for (layer, norm) in diagnostics::grad_norms(&model, Grads::Parts(&parts)).unwrap() {
        assert!((norm - norms[layer]).abs() <= 1e-4 * norms[layer], "{layer}: parts {norm}, store {}", norms[layer]);
    }

    // Central finite differences of the loss for every weight of c1 and out (the two ends of the network).
    for (layer, param) in [("c1", 0), ("out", 8)] {
        let eps = 1e-2f32;
        let mut sum = 0f64;
        for i in 0..weights.params[param].data.len() {
            let mut w = weights.clone();
            w.params[param].data[i] += eps;
            let up = loss_of(&w, &x, &y);
            w.params[param].data[i] -= 2.0 * eps;
            let down = loss_of(&w, &x, &y);
            sum += ((up - down) / (2.0 * eps as f64)).powi(2);
        }
        let fd = sum.sqrt();
        let got = norms[layer] as f64;
        assert!((got - fd).abs() / fd < 0.03, "{layer}: diagnostics {got}, finite differences {fd}");
    }

    // SGD: the step is lr·g, so ‖Δw‖/‖w‖ = lr·‖g‖/‖w‖.
    let mut optim = Optim::new(cfg.optimizer, 0.1, &vars).unwrap();
    optim.step(&vars, Grads::Store(&grads)).unwrap();
    let ratios: std::collections::BTreeMap<_, _> =
        diagnostics::update_ratios(&model, optim.previous().unwrap()).unwrap().into_iter().collect();
    for (layer, param) in [("c1", 0), ("c3", 2), ("f5", 4), ("f6", 6), ("out", 8)] {
        let w: f64 = weights.params[param].data.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
        let expected = 0.1 * norms[layer] as f64 / w;
        assert!((ratios[layer] as f64 - expected).abs() / expected < 1e-3, "{layer}: {} vs {expected}", ratios[layer]);
    }
}

#[test]
fn the_cli_prints_hints_and_writes_diagnostics_as_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_lenet-playground"))
        .args(["train", "--preset", "classic", "--limit", "3000", "--epochs", "6", "--json", "--metrics"])
        .arg(&csv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("hint: Stuck at chance")), "{stderr}");
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let d = events.iter().find(|e| e["event"] == "diagnostics").expect("a diagnostics line");
    for key in ["epoch", "batch", "x_epochs"] {
        assert!(d[key].is_number(), "{key} in {d}");
    }
    for layer in ["c1", "c3", "f5", "f6", "out"] {
        assert!(d["grad_norm"][layer].is_number() && d["update_ratio"][layer].is_number(), "{layer} in {d}");
    }
    for stage in ["c1.act", "c3.act", "f5.act", "f6.act"] {
        assert!(d["saturation"][stage].is_number(), "{stage} in {d}");
    }
    let h = events.iter().find(|e| e["event"] == "hint").expect("a hint line");
    assert_eq!(h["rule"], "stuck_at_chance");
    assert!(h["message"].as_str().unwrap().contains("ln 10") && h["x_epochs"].is_number());

    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    assert!(col("grad_norm.c1") > col("lr"), "diagnostics columns come after lr");
    let diag_rows: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "diagnostics").collect();
    assert_eq!(diag_rows.len(), events.iter().filter(|e| e["event"] == "diagnostics").count());
    let ratio: f32 = diag_rows[0][col("grad_norm.c1")].parse::<f32>().unwrap()
        / diag_rows[0][col("grad_norm.out")].parse::<f32>().unwrap();
    assert!(ratio < 0.05, "{ratio}");
    assert!(diag_rows[0][col("saturation.f5.act")].parse::<f32>().is_ok());
}
