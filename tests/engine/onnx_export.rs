//! ONNX export: the file runs in another runtime (tract, a pure-Rust ONNX implementation) and gives our logits,
//! for trained networks and for every stage kind the editor offers; it says what it takes; bad weights write nothing.

use crate::support::data::{digit_names, mnist, small};
use lenet_playground::engine::data::set::{ImageSet, IMAGE_PIXELS};
use lenet_playground::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use lenet_playground::engine::model::lenet::{argmax, images_tensor, LeNet};
use lenet_playground::engine::model::onnx::{export_onnx, to_onnx_bytes, INPUT, OPSET, OUTPUT};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use prost::Message;
use tract_onnx::prelude::*;

/// The first `n` test images as the engine reads them.
fn test_pixels(set: &ImageSet, n: usize) -> Vec<f32> {
    set.batch(&(0..n).collect::<Vec<_>>()).0
}

/// Our logits for `n` images, row by row.
fn our_logits(w: &ModelWeights, pixels: &[f32], n: usize) -> Vec<f32> {
    let model = LeNet::from_weights(w).unwrap();
    model.forward(&images_tensor(pixels, n).unwrap()).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

/// tract's logits for `n` images from the exported bytes, through the graph's own input declaration (N dynamic).
fn tract_logits(onnx: &[u8], pixels: &[f32], n: usize) -> Vec<f32> {
    let model =
        tract_onnx::onnx().model_for_read(&mut &onnx[..]).unwrap().into_optimized().unwrap().into_runnable().unwrap();
    let input = Tensor::from_shape(&[n, 1, 28, 28], pixels).unwrap();
    let out = model.run(tvec!(input.into())).unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    assert_eq!(view.shape()[0], n);
    view.iter().copied().collect()
}

/// Largest difference and the share of images whose argmax agrees.
fn compare(ours: &[f32], theirs: &[f32], classes: usize) -> (f32, f64) {
    assert_eq!(ours.len(), theirs.len());
    let diff = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    let rows = ours.len() / classes;
    let same = ours.chunks(classes).zip(theirs.chunks(classes)).filter(|(a, b)| argmax(a) == argmax(b)).count();
    (diff, same as f64 / rows as f64)
}

fn trained(spec: &str) -> ModelWeights {
    // The modern recipe (ReLU, max pooling, Kaiming, Adam) learns in one short epoch.
    let modern = TrainConfig::preset(Preset::Modern);
    let cfg = TrainConfig { epochs: 1, model: ModelConfig { arch: spec.parse().unwrap(), ..modern.model }, ..modern };
    let mut last = None;
    let mut accuracy = 0.0;
    train(&cfg, &small(5000, 100), None, &Control::new(), &mut |e| match e {
        TrainEvent::Epoch(m) => accuracy = m.test_accuracy,
        TrainEvent::Finished { weights, .. } => last = Some(weights),
        _ => {}
    })
    .unwrap();
    assert!(accuracy > 0.5, "{spec} learned something: test accuracy {accuracy}");
    last.expect("a finished run has its weights")
}

#[test]
fn onnx_trained_networks_run_in_tract_as_they_do_here() {
    let n = 1000;
    let pixels = test_pixels(&mnist().test, n);
    for spec in ["lenet5", "mlp", "c4k3psame,c8k3-pool,f32-drop0.3"] {
        let w = trained(spec);
        let onnx = to_onnx_bytes(&w).unwrap();
        let (diff, agree) = compare(&our_logits(&w, &pixels, n), &tract_logits(&onnx, &pixels, n), 10);
        eprintln!(
            "{spec}: {} bytes, {n} test images: largest logit difference {diff:.2e}, argmax agrees on {:.1}%",
            onnx.len(),
            agree * 100.0
        );
        assert!(diff <= 1e-4, "{spec}: logits differ by {diff}");
        assert_eq!(agree, 1.0, "{spec}: argmax");
    }
}

#[test]
fn every_stage_kind_the_editor_offers_exports_and_runs() {
    let n = 64;
    let pixels = test_pixels(&mnist().test, n);
    let cases = [
        ("lenet5", Activation::Sigmoid, Pooling::Avg, 10),
        ("wide", Activation::Relu, Pooling::Max, 10),
        ("tiny", Activation::Sigmoid, Pooling::Max, 10),
        // Odd sides: a 4×4 kernel gives 25, pooled to 12 (the last row and column dropped, as ONNX's floor).
        ("c3k4-pool,c5k2p1-pool,f7-drop0.5,f9", Activation::Relu, Pooling::Avg, 4),
        ("c2k9p8,c2k1-pool", Activation::Sigmoid, Pooling::Avg, 10),
        ("linear", Activation::Sigmoid, Pooling::Avg, 3),
        ("f1024-drop0.7,f1,f3", Activation::Relu, Pooling::Max, 26),
    ];
    for (spec, activation, pooling, classes) in cases {
        let config = ModelConfig { activation, pooling, arch: spec.parse().unwrap(), classes };
        let names: Vec<String> = (0..classes).map(|i| format!("class {i}")).collect();
        // Kaiming draws keep ReLU logits away from zero, so a wrong operator cannot hide in rounding.
        let w = ModelWeights::init(config, Init::Kaiming, 3, "test", &names);
        let onnx = to_onnx_bytes(&w).unwrap();
        let (diff, agree) = compare(&our_logits(&w, &pixels, n), &tract_logits(&onnx, &pixels, n), classes);
        eprintln!("{spec} {activation:?} {pooling:?}, {classes} classes: largest difference {diff:.2e}");
        assert!(diff <= 1e-4, "{spec}: logits differ by {diff}");
        assert_eq!(agree, 1.0, "{spec}: argmax");
        // One image runs too: the batch size is the file's N, not fixed.
        let one = tract_logits(&onnx, &pixels[..IMAGE_PIXELS], 1);
        assert_eq!(one.len(), classes);
    }
}

#[test]
fn the_file_says_what_it_takes_gives_and_means() {
    let w = crate::support::data::fresh_weights(1);
    let onnx = to_onnx_bytes(&w).unwrap();
    // Read back with tract's own generated ONNX messages, not ours.
    let model = tract_onnx::pb::ModelProto::decode(&onnx[..]).unwrap();
    assert_eq!(model.opset_import[0].version, OPSET);
    let meta: std::collections::HashMap<_, _> =
        model.metadata_props.iter().map(|p| (p.key.as_str(), p.value.as_str())).collect();
    let names: Vec<String> = serde_json::from_str(meta["class_names"]).unwrap();
    assert_eq!(names, digit_names());
    assert_eq!(meta["dataset"], "MNIST");
    assert_eq!(meta["architecture"], w.config.arch.spec());
    assert!(meta["preprocessing"].contains("/ 255"), "{}", meta["preprocessing"]);
    let graph = model.graph.unwrap();
    let dims = |v: &tract_onnx::pb::ValueInfoProto| -> Vec<String> {
        let tract_onnx::pb::type_proto::Value::TensorType(t) = v.r#type.as_ref().unwrap().value.as_ref().unwrap();
        t.shape.as_ref().unwrap().dim.iter().map(|d| format!("{:?}", d.value)).collect()
    };
    assert_eq!(graph.input[0].name, INPUT);
    assert_eq!(graph.output[0].name, OUTPUT);
    let input = dims(&graph.input[0]);
    assert!(input[0].contains("DimParam"), "the batch size is named, not fixed: {input:?}");
    assert!(input[1..].iter().zip(["1", "28", "28"]).all(|(d, v)| d.contains(&format!("DimValue({v})"))), "{input:?}");
    // The stages keep their names: the graph reads like the inspector's table.
    let ops: Vec<(&str, &str)> = graph.node.iter().map(|n| (n.name.as_str(), n.op_type.as_str())).collect();
    assert_eq!(&ops[..4], &[("c1", "Conv"), ("c1.act", "Sigmoid"), ("s2", "AveragePool"), ("c3", "Conv")]);
    assert_eq!(ops.last(), Some(&("out", "Gemm")));
}

#[test]
fn weights_that_are_no_model_write_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    let mut w = crate::support::data::fresh_weights(1);
    w.params[0].data[3] = f32::NAN;
    let e = export_onnx(&w, &path).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    assert!(e.to_string().contains("net.onnx"), "{e}");
    assert!(!path.exists());
    // A file already there is kept whole when an export fails.
    std::fs::write(&path, b"keep me").unwrap();
    assert!(export_onnx(&w, &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    // An unwritable place: a folder that does not exist.
    let w = crate::support::data::fresh_weights(1);
    let e = export_onnx(&w, &dir.path().join("missing/net.onnx")).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
    // Only what was asked for is in the folder: no temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("net.onnx")]);
}
