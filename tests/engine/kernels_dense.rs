//! The fused dense layer and the fused loss against candle's generic ops (matmul + broadcast add + activation;
//! candle-nn's cross_entropy): outputs and gradients, for the widths the editor allows, and whole networks whose
//! fused training forward must give the stage-by-stage gradients.

use super::kernels::{assert_close, randn};
use candle_core::{DType, Device, Tensor, Var};
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::lenet::{loss_and_correct, LeNet};
use lenet_playground::engine::model::stages;
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::kernels::{self, Activation};

fn generic(x: &Tensor, w: &Tensor, b: &Tensor, act: Activation) -> Tensor {
    let z = kernels::generic_linear(x, w, b).unwrap();
    match act {
        Activation::Identity => z,
        Activation::Sigmoid => candle_nn::ops::sigmoid(&z).unwrap(),
        Activation::Relu => z.relu().unwrap(),
    }
}

/// Output and the gradients of `sum(out * r)` w.r.t. x (if tracked), w and b.
fn run(fast: bool, x: &Tensor, w: &Tensor, b: &Tensor, r: &Tensor, act: Activation, track_x: bool) -> Vec<Tensor> {
    let (xv, wv, bv) = (Var::from_tensor(x).unwrap(), Var::from_tensor(w).unwrap(), Var::from_tensor(b).unwrap());
    let xt = if track_x { xv.as_tensor().clone() } else { x.clone() };
    let out = if fast {
        kernels::linear_act(&xt, wv.as_tensor(), bv.as_tensor(), act).unwrap()
    } else {
        generic(&xt, wv.as_tensor(), bv.as_tensor(), act)
    };
    let grads = (&out * r).unwrap().sum_all().unwrap().backward().unwrap();
    let mut all = vec![out];
    if track_x {
        all.push(grads.get(xv.as_tensor()).expect("dx").clone());
    } else {
        assert!(grads.get(xv.as_tensor()).is_none());
    }
    all.push(grads.get(wv.as_tensor()).unwrap().clone());
    all.push(grads.get(bv.as_tensor()).unwrap().clone());
    all
}

fn check(n: usize, k: usize, o: usize, act: Activation, track_x: bool) {
    let x = randn(&[n, k]);
    let w = (randn(&[o, k]) * (1.0 / (k as f64).sqrt())).unwrap();
    let b = randn(&[o]);
    let r = randn(&[n, o]);
    let fast = run(true, &x, &w, &b, &r, act, track_x);
    let slow = run(false, &x, &w, &b, &r, act, track_x);
    let names = if track_x { ["out", "dx", "dw", "db"].as_slice() } else { ["out", "dw", "db"].as_slice() };
    for ((f, s), name) in fast.iter().zip(&slow).zip(names) {
        assert_close(&format!("linear n{n} k{k} o{o} {act:?} {name}"), f, s);
    }
}

#[test]
fn fused_dense_matches_candle_for_the_widths_the_editor_allows() {
    // Widths 1-1024 (hidden layers), the class counts of the output layer, and the inputs a dense layer meets:
    // a flattened image (784), a flattened conv output (400, 16), a previous dense layer.
    for (n, k, o) in [(100, 784, 300), (100, 300, 100), (100, 100, 10), (100, 400, 120), (3, 16, 1), (1, 1024, 1024)] {
        for act in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
            check(n, k, o, act, true);
        }
    }
    for (n, k, o) in [(7, 1, 1), (1000, 84, 10), (2, 1024, 2), (100, 784, 1024), (5, 3, 47)] {
        check(n, k, o, Activation::Sigmoid, true);
        check(n, k, o, Activation::Relu, false);
    }
}

#[test]
fn fused_dense_refuses_bad_shapes_and_falls_back_for_f64() {
    let (x, w, b) = (randn(&[4, 5]), randn(&[3, 6]), randn(&[3]));
    let err = kernels::linear_act(&x, &w, &b, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("incompatible shapes"), "{err}");
    assert!(kernels::linear_act(&x, &randn(&[3, 5]), &randn(&[4]), Activation::Relu).is_err());
    let w = randn(&[3, 5]);
    let (x64, w64, b64) =
        (x.to_dtype(DType::F64).unwrap(), w.to_dtype(DType::F64).unwrap(), b.to_dtype(DType::F64).unwrap());
    let slow = kernels::linear_act(&x64, &w64, &b64, Activation::Sigmoid).unwrap();
    let fast = kernels::linear_act(&x, &w, &b, Activation::Sigmoid).unwrap();
    assert_close("f64 fallback", &slow.to_dtype(DType::F32).unwrap(), &fast);
    // A transposed (strided) input is made contiguous, not misread.
    let xt = randn(&[5, 4]).t().unwrap();
    assert_close(
        "strided input",
        &kernels::linear_act(&xt, &w, &b, Activation::Identity).unwrap(),
        &generic(&xt, &w, &b, Activation::Identity),
    );
}

#[test]
fn fused_loss_matches_candle_nn_and_its_gradient() {
    for (n, c, scale) in [(100, 10, 3.0), (1, 2, 1.0), (7, 47, 1.0), (100, 10, 1e4)] {
        let z = (randn(&[n, c]) * scale).unwrap();
        let labels: Vec<u32> = (0..n).map(|i| (i * 7 % c) as u32).collect();
        let y = Tensor::new(labels.as_slice(), &Device::Cpu).unwrap();
        let zv = Var::from_tensor(&z).unwrap();
        let fast = kernels::softmax_cross_entropy(zv.as_tensor(), &y).unwrap();
        let slow = candle_nn::loss::cross_entropy(zv.as_tensor(), &y).unwrap();
        assert_close(&format!("loss n{n} c{c} ×{scale}"), &fast, &slow);
        let gf = fast.affine(2.5, 0.0).unwrap().backward().unwrap();
        let gs = slow.affine(2.5, 0.0).unwrap().backward().unwrap();
        assert_close(
            &format!("loss gradient n{n} c{c} ×{scale}"),
            gf.get(zv.as_tensor()).unwrap(),
            gs.get(zv.as_tensor()).unwrap(),
        );
    }
    let z = randn(&[2, 3]);
    let err = kernels::softmax_cross_entropy(&z, &Tensor::new(&[0u32, 3], &Device::Cpu).unwrap()).unwrap_err();
    assert!(err.to_string().contains("label 3 out of range for 3 classes"), "{err}");
    assert!(kernels::softmax_cross_entropy(&z, &Tensor::new(&[0u32], &Device::Cpu).unwrap()).is_err());
}

/// The training forward (fused conv blocks, fused dense layers, fused loss) gives the gradients of the
/// stage-by-stage trace with candle's generic dense layers and loss, for every parameter of the network.
#[test]
fn fused_networks_give_the_stage_by_stage_gradients() {
    for spec in ["lenet5", "mlp", "tiny", "linear", "c3k3psame,f20", "c4k3-pool,f1,f5", "f1024,f1024"] {
        let arch = spec.parse().unwrap();
        let cfg = ModelConfig { arch, ..ModelConfig::default() };
        let w = ModelWeights::init(cfg, Init::Xavier, 5, "MNIST", &vec![String::new(); cfg.classes]);
        let vars: Vec<Var> = stages::params(cfg)
            .iter()
            .map(|p| {
                let data = &w.param(&p.name()).unwrap().data;
                Var::from_tensor(&Tensor::from_slice(data, p.shape.as_slice(), &Device::Cpu).unwrap()).unwrap()
            })
            .collect();
        let model = LeNet::new(cfg, vars.iter().map(|v| v.as_tensor().clone()).collect()).unwrap();
        let x = (randn(&[20, 1, 28, 28]).abs().unwrap() * 0.5).unwrap();
        let y = Tensor::new((0..20u32).map(|i| i % 10).collect::<Vec<_>>().as_slice(), &Device::Cpu).unwrap();
        let (fast, _) = loss_and_correct(&model.forward(&x).unwrap(), &y).unwrap();
        let staged = model.trace(&x).unwrap().pop().unwrap().1;
        let slow = candle_nn::loss::cross_entropy(&staged, &y).unwrap();
        assert_close(&format!("{spec} loss"), &fast, &slow);
        let (gf, gs) = (fast.backward().unwrap(), slow.backward().unwrap());
        for (v, p) in vars.iter().zip(stages::params(cfg)) {
            assert_close(
                &format!("{spec} {}", p.name()),
                gf.get(v.as_tensor()).unwrap(),
                gs.get(v.as_tensor()).unwrap(),
            );
        }
    }
}
