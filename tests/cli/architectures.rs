//! `--arch` on the command line: `inspect` prints any network's table with its parameters and FLOPs, `train`
//! trains it and saves a file that `predict`, `eval` and `explain` rebuild the network from, `bench` measures it,
//! `runs --json` names it; an impossible network is one explanation and status 2, never a panic.

use std::path::Path;
use std::process::Output;

use crate::support::cli::{bin, run, text};

fn run_in(home: &Path, args: &[&str]) -> Output {
    bin().args(args).env("LENET_PLAYGROUND_HOME", home).output().expect("the binary runs")
}

#[test]
fn inspect_prints_any_architecture_with_parameters_and_flops() {
    let out = run(&["inspect", "--arch", "mlp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Flatten out shape: [1, 784]\nLinear out shape: [1, 300]\nSigmoid out shape: [1, 300]\n\
         Linear out shape: [1, 100]\nSigmoid out shape: [1, 100]\nLinear out shape: [1, 10]\n"
    );
    let out = run(&["inspect", "--arch", "c6k4-pool,f32-drop0.3", "--details", "--activation", "relu"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let details = text(&out.stdout);
    for want in [
        "architecture: c6k4-pool,f32-drop0.3",
        "ReLU out shape: [1, 6, 25, 25]",
        "AvgPool2d out shape: [1, 6, 12, 12]",
        "floor((25 − 2)/2) + 1 = 12",
        "f3.drop",
        "total parameters: 28112",
        "FLOPs per image (forward): ",
    ] {
        assert!(details.contains(want), "{want} in:\n{details}");
    }
    // The default is still the classic table.
    assert_eq!(text(&run(&["inspect", "--arch", "lenet5"]).stdout), text(&run(&["inspect"]).stdout));
}

#[test]
fn impossible_architectures_are_explained_with_status_2() {
    for (args, says) in [
        (vec!["inspect", "--arch", "c6k9-pool,c6k9,c6k9"], "c4: a 9×9 kernel does not fit a 2×2 map"),
        (vec!["inspect", "--arch", "c6k5,f10,c6k5"], "come before"),
        (vec!["train", "--arch", "c65k5"], "outside"),
        (vec!["train", "--arch", "c64k1,f1024"], "parameters"),
        (vec!["bench", "--arch", "x"], "not a layer"),
    ] {
        let out = run(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let help = text(&run(&["train", "--help"]).stdout);
    assert!(help.contains("c<channels>k<kernel>") && help.contains("mlp (f300,f100)"), "{help}");
}

#[test]
fn a_trained_network_is_rebuilt_from_its_file_by_every_command() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    let w = weights.to_str().unwrap();
    let arch = "c4k3psame,c6k3-pool,f24-drop0.2";
    let out = run_in(
        home.path(),
        &["train", "--arch", arch, "--preset", "modern", "--limit", "1000", "--epochs", "1", "--save", w, "--record"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("c4k3p1,c6k3-pool,f24-drop0.2"), "{}", text(&out.stderr));
    let out = run_in(home.path(), &["train", "--arch", "mlp", "--limit", "500", "--epochs", "1", "--record"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let png = dir.path().join("digit.png");
    let data = lenet_playground::engine::data::set::Dataset::shipped_mnist().unwrap();
    let pixels = data.test.image(0);
    image::GrayImage::from_fn(28, 28, |x, y| image::Luma([(pixels[(y * 28 + x) as usize] * 255.0) as u8]))
        .save(&png)
        .unwrap();
    let out = run(&["predict", "--weights", w, "--json", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["probabilities"].as_array().unwrap().len(), 10);
    let out = run(&["eval", "--weights", w, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(v["test_accuracy"].as_f64().unwrap() > 0.3, "{v}");
    let map = dir.path().join("map.png");
    let out = run(&["explain", "--weights", w, png.to_str().unwrap(), "--out", map.to_str().unwrap()]);
    assert!(out.status.success() && map.is_file(), "{}", text(&out.stderr));

    let out = run_in(home.path(), &["runs", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["arch"], "c4k3p1,c6k3-pool,f24-drop0.2");
    assert_eq!(lines[0]["params"], 40 + 222 + (1014 * 24 + 24) + 250);
    assert_eq!(lines[1]["arch"], "f300,f100");
    assert_eq!(lines[1]["params"], 266_610);
    assert_eq!(lines[1]["name"], "Adam lr 0.003 · mlp");
}

#[test]
fn bench_measures_the_architecture_asked_for() {
    let out = run(&["bench", "--steps", "2", "--arch", "mlp", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["arch"], "f300,f100");
    assert_eq!(v["params"], 266_610);
    assert!(v["train_images_per_sec"].as_f64().is_some_and(|x| x > 0.0), "{v}");
}
