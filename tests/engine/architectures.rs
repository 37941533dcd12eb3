//! Every architecture the editor allows, through the whole engine: random valid descriptions build a model whose
//! forward output and trace have the stage table's shapes, whose weight file holds exactly its parameters and
//! gives the same logits back; random invalid ones are an `ArchError`, never a panic. Weight files carry their
//! architecture (a file whose tensors disagree is refused naming the tensor, an old file is LeNet-5), dropout is
//! seeded, and short real runs of other networks learn.

use candle_core::Tensor;
use lenet_playground::engine::model::architecture::{Architecture, ConvBlock, Dense};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use lenet_playground::engine::model::lenet::{images_tensor, LeNet};
use lenet_playground::engine::model::stages::{self, StageKind};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::rng::Rng;
use lenet_playground::engine::training::config::{Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::data::{digit_names, mnist, small};

fn cfg(spec: &str) -> ModelConfig {
    ModelConfig { arch: spec.parse().unwrap(), ..ModelConfig::default() }
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// Four test digits as a batch.
fn batch() -> Tensor {
    let (pixels, _) = mnist().test.batch(&[0, 1, 2, 3]);
    images_tensor(&pixels, 4).unwrap()
}

/// Small random descriptions within the editor's bounds (sizes may still not work out: see `try_stages`).
pub(crate) fn any_arch() -> impl Strategy<Value = (Vec<ConvBlock>, Vec<Dense>, bool, bool)> {
    let block = (1usize..=8, 1usize..=9, any::<bool>(), 0usize..9)
        .prop_map(|(channels, kernel, pool, pad)| ConvBlock { channels, kernel, padding: pad % kernel, pool });
    let dense =
        (1usize..=32, prop_oneof![Just(0u8), 1u8..=70]).prop_map(|(width, dropout_pct)| Dense { width, dropout_pct });
    (prop::collection::vec(block, 0..=3), prop::collection::vec(dense, 0..=3), any::<bool>(), any::<bool>())
}

/// Checks one description that works out: shapes, parameter count, the weight file and its logits.
fn check_arch(model_cfg: ModelConfig) -> Result<(), TestCaseError> {
    let table = stages::stages(model_cfg);
    let w = ModelWeights::init(model_cfg, Init::Xavier, 3, "MNIST", &digit_names());
    let model = LeNet::from_weights(&w).unwrap();
    let x = batch();
    let logits = model.forward(&x).unwrap();
    let last = table.last().unwrap();
    prop_assert_eq!(logits.dims().to_vec(), last.output.dims(4), "{}", model_cfg.arch);
    let trace = model.trace(&x).unwrap();
    prop_assert_eq!(trace.len(), table.len());
    for ((stage, t), want) in trace.iter().zip(&table) {
        prop_assert_eq!(stage.key, want.key);
        prop_assert_eq!(t.dims().to_vec(), want.output.dims(4), "{} {}", model_cfg.arch, stage.key);
    }
    // The fused forward computes what the stage-by-stage trace does.
    let (fused, staged) = (values(&logits), values(&trace.last().unwrap().1));
    for (a, b) in fused.iter().zip(&staged) {
        prop_assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{}: {} vs {}", model_cfg.arch, a, b);
    }
    // The file holds exactly the description's parameters, and gives the same logits back.
    let bytes = checkpoint::to_bytes(&w).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let in_file: usize = st.tensors().iter().map(|(_, t)| t.shape().iter().product::<usize>()).sum();
    let described: usize = stages::params(model_cfg).iter().map(|p| p.len()).sum();
    prop_assert_eq!(in_file, described, "{}", model_cfg.arch);
    let back = checkpoint::from_bytes(&bytes).unwrap();
    prop_assert_eq!(&back, &w);
    let again = LeNet::from_weights(&back).unwrap().forward(&x).unwrap();
    prop_assert_eq!(values(&again), fused, "{}", model_cfg.arch);
    // Training's forward has the same shape, with or without dropout.
    let train_out = model.forward_train(&x, &mut Rng::new(1)).unwrap();
    prop_assert_eq!(train_out.dims(), logits.dims());
    Ok(())
}

#[test]
fn random_valid_architectures_match_their_stage_table_and_weight_file() {
    let mut runner = TestRunner::new(Config { cases: 20, failure_persistence: None, ..Config::default() });
    runner
        .run(&any_arch(), |(blocks, hidden, relu, max)| {
            let arch = Architecture::new(&blocks, &hidden).unwrap();
            let model_cfg = ModelConfig {
                arch,
                activation: if relu { Activation::Relu } else { Activation::Sigmoid },
                pooling: if max { Pooling::Max } else { Pooling::Avg },
                classes: 10,
            };
            prop_assume!(stages::try_stages(model_cfg).is_ok());
            check_arch(model_cfg)
        })
        .unwrap();
}

#[test]
fn presets_and_odd_shapes_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    for spec in
        ["lenet5", "mlp", "wide", "tiny", "linear", "c6k4-pool,c5k2p1-pool", "c3k9p8,f7-drop0.7,f5", "c2k1-pool"]
    {
        let model_cfg = cfg(spec);
        check_arch(model_cfg).unwrap();
        let w = ModelWeights::init(model_cfg, Init::Kaiming, 9, "MNIST", &digit_names());
        let path = dir.path().join(format!("{}.safetensors", spec.replace(',', "_")));
        checkpoint::save(&path, &w).unwrap();
        let back = checkpoint::load(&path).unwrap();
        assert_eq!(back.config.arch, model_cfg.arch, "{spec}");
        let x = batch();
        let a = LeNet::from_weights(&w).unwrap().forward(&x).unwrap();
        let b = LeNet::from_weights(&back).unwrap().forward(&x).unwrap();
        assert_eq!(values(&a), values(&b), "{spec}");
    }
}

#[test]
fn random_text_and_impossible_sizes_are_explained_never_a_panic() {
    let mut runner = TestRunner::new(Config { cases: 300, failure_persistence: None, ..Config::default() });
    runner
        .run(&"[cfkpsamedrolin0-9,.\\- ]{0,40}", |text| {
            if let Ok(arch) = text.parse::<Architecture>() {
                // It parsed: its sizes work out or are explained with a stage.
                if let Err(e) = stages::try_stages(ModelConfig { arch, ..ModelConfig::default() }) {
                    prop_assert!(e.stage.is_some() && !e.message.is_empty(), "{text:?}: {e}");
                }
            }
            Ok(())
        })
        .unwrap();
    // Descriptions within the bounds whose sizes do not work out: the failing stage and its arithmetic.
    let mut runner = TestRunner::new(Config { cases: 100, failure_persistence: None, ..Config::default() });
    runner
        .run(&any_arch(), |(blocks, hidden, _, _)| {
            let arch = Architecture::new(&blocks, &hidden).unwrap();
            match stages::try_stages(ModelConfig { arch, ..ModelConfig::default() }) {
                Ok(table) => prop_assert_eq!(table.last().unwrap().output.len(), 10),
                Err(e) => prop_assert!(e.stage.is_some(), "{arch}: {e}"),
            }
            Ok(())
        })
        .unwrap();
    for (spec, stage) in [("c6k9-pool,c6k9,c6k9", "c4"), ("c6k9-pool,c6k9-pool,c6k1-pool", "s6"), ("c64k1,f1024", "f2")]
    {
        let err = stages::try_stages(cfg(spec)).unwrap_err();
        assert_eq!(err.stage, Some(stage), "{spec}: {err}");
    }
}

/// A weights file from its tensors and metadata, as any writer could make it.
fn file_with(tensors: &[(String, Vec<usize>)], meta: &[(&str, &str)]) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|(_, shape)| vec![0u8; 4 * shape.iter().product::<usize>()]).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape), b)| {
            (name.to_string(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b).unwrap())
        })
        .collect();
    let meta = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

fn tensors_of(model_cfg: ModelConfig) -> Vec<(String, Vec<usize>)> {
    stages::params(model_cfg).iter().map(|p| (p.name(), p.shape.clone())).collect()
}

#[test]
fn weight_files_carry_their_architecture() {
    let meta = |arch: Option<&'static str>| {
        let mut m = vec![("format", "lenet-playground/1"), ("activation", "sigmoid"), ("pooling", "avg")];
        m.extend(arch.map(|a| ("arch", a)));
        m
    };
    // An old file (no arch metadata) is LeNet-5.
    let lenet = tensors_of(ModelConfig::default());
    let old = checkpoint::from_bytes(&file_with(&lenet, &meta(None))).unwrap();
    assert_eq!(old.config, ModelConfig::default());
    LeNet::from_weights(&old).unwrap();
    // MLP tensors under LeNet-5's (missing) metadata, or LeNet-5's under the MLP's: refused naming a tensor.
    let mlp = tensors_of(cfg("mlp"));
    let err = checkpoint::from_bytes(&file_with(&mlp, &meta(None))).unwrap_err().to_string();
    assert!(err.contains("unexpected tensor 'f") && err.contains("c6k5p2-pool,c16k5-pool,f120,f84"), "{err}");
    let err = checkpoint::from_bytes(&file_with(&lenet, &meta(Some("mlp")))).unwrap_err().to_string();
    assert!(err.contains("unexpected tensor '") && err.contains("f300,f100"), "{err}");
    // One tensor of the wrong shape for its metadata.
    let mut wrong = mlp.clone();
    wrong[2].1 = vec![100, 301];
    let err = checkpoint::from_bytes(&file_with(&wrong, &meta(Some("f300,f100")))).unwrap_err().to_string();
    assert!(err.contains("'f2.weight'") && err.contains("[100, 301]"), "{err}");
    // A missing tensor, an unparsable or impossible architecture.
    let err = checkpoint::from_bytes(&file_with(&mlp[1..], &meta(Some("mlp")))).unwrap_err().to_string();
    assert!(err.contains("'f1.weight'"), "{err}");
    let err = checkpoint::from_bytes(&file_with(&mlp, &meta(Some("c0k0")))).unwrap_err().to_string();
    assert!(err.contains("arch"), "{err}");
    let err = checkpoint::from_bytes(&file_with(&mlp, &meta(Some("c6k9-pool,c6k9,c6k9")))).unwrap_err().to_string();
    assert!(err.contains("impossible") && err.contains("c4"), "{err}");
}

#[test]
fn dropout_is_seeded_and_only_while_training() {
    let model_cfg = cfg("c4k3p1-pool,f64-drop0.5,f32");
    let w = ModelWeights::init(model_cfg, Init::Xavier, 2, "MNIST", &digit_names());
    let model = LeNet::from_weights(&w).unwrap();
    let x = batch();
    let plain = values(&model.forward(&x).unwrap());
    let a = values(&model.forward_train(&x, &mut Rng::new(5)).unwrap());
    let b = values(&model.forward_train(&x, &mut Rng::new(5)).unwrap());
    let c = values(&model.forward_train(&x, &mut Rng::new(6)).unwrap());
    assert_eq!(a, b, "the same seed draws the same masks");
    assert_ne!(a, c);
    assert_ne!(a, plain, "dropout changes the training forward");
    assert_eq!(values(&model.trace(&x).unwrap().last().unwrap().1).len(), plain.len());
    // Without dropout stages the training forward is the prediction forward and draws nothing.
    let lenet =
        LeNet::from_weights(&ModelWeights::init(ModelConfig::default(), Init::Xavier, 2, "MNIST", &digit_names()))
            .unwrap();
    let mut rng = Rng::new(5);
    assert_eq!(values(&lenet.forward_train(&x, &mut rng).unwrap()), values(&lenet.forward(&x).unwrap()));
    assert_eq!(rng.below(1 << 30), Rng::new(5).below(1 << 30));
    // The dropout stage is keyed by the layer whose input it drops.
    let drop = stages::stages(model_cfg).iter().position(|s| matches!(s.kind, StageKind::Dropout { .. })).unwrap();
    assert_eq!(stages::stages(model_cfg)[drop].key, "f3.drop");
}

fn final_accuracy(cfg: &TrainConfig, data: &lenet_playground::engine::data::set::Dataset) -> (f32, Vec<f32>) {
    let mut events = Vec::new();
    train(cfg, data, None, &Control::new(), &mut |e| events.push(e)).unwrap();
    let losses = events.iter().filter_map(|e| if let TrainEvent::Batch(b) = e { Some(b.loss) } else { None }).collect();
    let acc = events.iter().rev().find_map(|e| if let TrainEvent::Epoch(m) = e { Some(m.test_accuracy) } else { None });
    (acc.unwrap(), losses)
}

#[test]
fn other_networks_learn_in_a_short_real_run() {
    let data = small(5000, 1000);
    for spec in ["mlp", "lenet5", "c4k3psame,c8k3-pool,f32-drop0.3", "linear"] {
        // The modern recipe (ReLU, max pooling, Kaiming, Adam): 50 batches are enough for it.
        let modern = TrainConfig::preset(Preset::Modern);
        let model = ModelConfig { arch: spec.parse().unwrap(), ..modern.model };
        let cfg = TrainConfig { epochs: 1, model, ..modern };
        let (acc, _) = final_accuracy(&cfg, &data);
        eprintln!("{spec}: 5,000 images, 1 epoch: test accuracy {:.2}%", acc * 100.0);
        assert!(acc > 0.5, "{spec}: test accuracy {acc}");
    }
    // Dropout runs reproduce from their seed.
    let small_data = small(300, 100);
    let cfg = TrainConfig { epochs: 1, batch_size: 50, model: cfg("f32-drop0.5"), ..TrainConfig::default() };
    assert_eq!(final_accuracy(&cfg, &small_data).1, final_accuracy(&cfg, &small_data).1);
    let other = TrainConfig { seed: 7, ..cfg.clone() };
    assert_ne!(final_accuracy(&cfg, &small_data).1, final_accuracy(&other, &small_data).1);
}
