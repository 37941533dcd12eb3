//! The whole-step training kernels (`TrainStep`: forward, loss and backward on plain buffers, split over the
//! cores) against candle's generic path: the network stage by stage with candle's own conv2d, pooling, activations,
//! matmul and candle-nn's cross-entropy, differentiated by candle's autograd. Loss, correct count and every
//! parameter's gradient, for every layer kind and the shapes the editor allows.

use super::kernels::{assert_close, randn};
use candle_core::{Device, Tensor, Var};
use lenet_playground::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use lenet_playground::engine::model::grads::sum_parts;
use lenet_playground::engine::model::stages::{self, StageKind};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::rng::Rng;
use lenet_playground::engine::training::step::TrainStep;
use lenet_playground::kernels;

/// The mean loss of the batch stage by stage on candle's generic ops, with the dropout `masks` in stage order.
fn generic_loss(cfg: ModelConfig, vars: &[Var], x: &Tensor, y: &Tensor, masks: &[Vec<f32>]) -> Tensor {
    let mut h = x.clone();
    let (mut masks, mut params) = (masks.iter(), vars.chunks(2));
    for stage in stages::stages(cfg) {
        let param = match stage.kind {
            StageKind::Conv { .. } | StageKind::Linear { .. } => {
                params.next().map(|p| (p[0].as_tensor(), p[1].as_tensor()))
            }
            _ => None,
        };
        h = match (stage.kind, param) {
            (StageKind::Conv { padding, .. }, Some((w, b))) => kernels::generic_conv2d(&h, w, b, padding).unwrap(),
            (StageKind::Linear { .. }, Some((w, b))) => kernels::generic_linear(&h, w, b).unwrap(),
            (StageKind::Activation(Activation::Sigmoid), _) => candle_nn::ops::sigmoid(&h).unwrap(),
            // h · [h > 0]: the derivative at exactly 0 is 0, as in PyTorch and our kernels (candle's relu says 1).
            (StageKind::Activation(Activation::Relu), _) => {
                (&h * h.gt(0f32).unwrap().to_dtype(candle_core::DType::F32).unwrap()).unwrap()
            }
            (StageKind::Pool(Pooling::Avg), _) => generic_avg_pool(&h),
            (StageKind::Pool(Pooling::Max), _) => kernels::generic_max_pool2x2(&h).unwrap(),
            (StageKind::Flatten, _) => h.flatten_from(1).unwrap(),
            (StageKind::Dropout { pct: 0 }, _) => h,
            (StageKind::Dropout { .. }, _) => {
                let mask = masks.next().expect("one mask per dropout stage");
                (&h * Tensor::from_slice(mask, h.shape(), &Device::Cpu).unwrap()).unwrap()
            }
            (kind, None) => panic!("{kind:?} without parameters"),
        };
    }
    candle_nn::loss::cross_entropy(&h, y).unwrap()
}

/// 2×2 average pooling from candle's reshape and mean, odd sides floored. (candle's `avg_pool2d` computes the same
/// forward, but its backward spreads the gradient by nearest upsampling, which misplaces it on odd sides.)
fn generic_avg_pool(h: &Tensor) -> Tensor {
    let (n, c, hh, ww) = h.dims4().unwrap();
    let (ho, wo) = (hh / 2, ww / 2);
    let even = h.narrow(2, 0, 2 * ho).unwrap().narrow(3, 0, 2 * wo).unwrap();
    even.reshape((n, c, ho, 2, wo, 2)).unwrap().mean(5).unwrap().mean(3).unwrap()
}

fn vars_of(w: &ModelWeights, cfg: ModelConfig) -> Vec<Var> {
    stages::params(cfg)
        .iter()
        .map(|p| Var::from_slice(&w.param(&p.name()).unwrap().data, p.shape.as_slice(), &Device::Cpu).unwrap())
        .collect()
}

/// One step of `step` on `n` images against the generic path: loss, correct count and every gradient.
fn check(what: &str, cfg: ModelConfig, step: &mut TrainStep, vars: &[Var], n: usize, seed: u64) {
    let x = (randn(&[n, 1, 28, 28]).abs().unwrap() * 0.4).unwrap().clamp(0f32, 1f32).unwrap();
    let pixels = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|i| (i * 7 + seed as u32) % cfg.classes as u32).collect();
    let masks = step.masks(n, &mut Rng::new(seed));
    let out = step.run_pixels(vars, &pixels, &labels, &masks).unwrap();

    let y = Tensor::from_slice(&labels, n, &Device::Cpu).unwrap();
    let loss = generic_loss(cfg, vars, &x, &y, &masks);
    assert_close(&format!("{what} n{n}: loss"), &Tensor::new(out.loss, &Device::Cpu).unwrap(), &loss);
    let grads = loss.backward().unwrap();
    let parts = step.grad_parts();
    assert_eq!(parts.len(), vars.len(), "{what}: one gradient per parameter");
    for ((v, spec), parts) in vars.iter().zip(stages::params(cfg)).zip(&parts) {
        let fast = Tensor::from_vec(sum_parts(parts), spec.shape.as_slice(), &Device::Cpu).unwrap();
        assert_close(&format!("{what} n{n}: {}", spec.name()), &fast, grads.get(v.as_tensor()).unwrap());
    }
    assert!(out.correct <= n, "{what}: {} correct of {n}", out.correct);
}

/// Every layer kind the editor offers: conv blocks with and without pooling, odd sides, kernels 1 to 9, padding,
/// 64 channels, dense layers 1 to 1024 wide, dropout, no hidden layer; both activations and both poolings; batches
/// of 1, an odd size split unevenly over the cores, and 100; a smaller batch after a larger one on the same buffers.
#[test]
fn the_whole_step_gives_candles_generic_gradients_for_every_layer_kind() {
    let specs = [
        "lenet5",
        "mlp",
        "tiny",
        "linear",
        "c8k3psame-pool,c16k3psame-pool,c32k3psame-pool,f64",
        "c3k3psame,f20",
        "c4k3-pool,f1,f5",
        "c2k1,f10",
        "c2k9p4-pool,c3k9p2,f8",
        "c4k5-pool,f32-drop0.5,f16-drop0.3",
        "f1024-drop0.2,f1024",
    ];
    for spec in specs {
        for (activation, pooling) in [(Activation::Sigmoid, Pooling::Avg), (Activation::Relu, Pooling::Max)] {
            let cfg = ModelConfig { arch: spec.parse().unwrap(), activation, pooling, ..ModelConfig::default() };
            let w = ModelWeights::init(cfg, Init::Xavier, 5, "MNIST", &vec![String::new(); cfg.classes]);
            let vars = vars_of(&w, cfg);
            let mut step = TrainStep::new(cfg).unwrap();
            let what = format!("{spec} {activation:?}/{pooling:?}");
            for (n, seed) in [(1, 3), (7, 4), (100, 5), (9, 6)] {
                check(&what, cfg, &mut step, &vars, n, seed);
            }
        }
    }
}

/// The wide preset (32 and 64 channels) and other class counts, once each.
#[test]
fn the_whole_step_matches_on_the_wide_net_and_other_class_counts() {
    for (spec, classes) in [("wide", 10), ("c6k5p2-pool,f30", 62), ("f16", 2)] {
        let cfg = ModelConfig { arch: spec.parse().unwrap(), classes, ..ModelConfig::default() };
        let w = ModelWeights::init(cfg, Init::Xavier, 9, "MNIST", &vec![String::new(); classes]);
        let vars = vars_of(&w, cfg);
        let mut step = TrainStep::new(cfg).unwrap();
        check(spec, cfg, &mut step, &vars, 24, 8);
    }
}

/// Bad operands are errors that say what is wrong, never a panic: a label past the classes, masks that do not fit,
/// pixels that are not a whole number of images.
#[test]
fn the_whole_step_refuses_bad_operands() {
    let cfg = ModelConfig { arch: "c4k5-pool,f16-drop0.5".parse().unwrap(), ..ModelConfig::default() };
    let w = ModelWeights::init(cfg, Init::Xavier, 1, "MNIST", &vec![String::new(); 10]);
    let vars = vars_of(&w, cfg);
    let mut step = TrainStep::new(cfg).unwrap();
    let pixels = vec![0.5f32; 2 * 784];
    let masks = step.masks(2, &mut Rng::new(1));
    let err = step.run_pixels(&vars, &pixels, &[1, 10], &masks).unwrap_err().to_string();
    assert!(err.contains("label 10") && err.contains("10 classes"), "{err}");
    let err = step.run_pixels(&vars, &pixels, &[1, 2], &[]).unwrap_err().to_string();
    assert!(err.contains("dropout masks"), "{err}");
    let err = step.run_pixels(&vars, &pixels[..1000], &[1, 2], &masks).unwrap_err().to_string();
    assert!(err.contains("1000 values for 2 images"), "{err}");
    let err = step.run_pixels(&vars[..3], &pixels, &[1, 2], &masks).unwrap_err().to_string();
    assert!(err.contains("parameters"), "{err}");
    assert!(step.run_pixels(&vars, &pixels, &[1, 2], &masks).is_ok());
}
