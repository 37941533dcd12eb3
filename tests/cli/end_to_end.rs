//! The command line end to end: the real binary, its output formats, its files, and its errors on bad input.

use std::path::Path;
use std::process::Output;

use crate::support::cli::{run, text};

/// Bad input: status 2, one clear line on stderr naming `what`, no panic or backtrace.
fn assert_clean_failure(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(what), "stderr should name {what}: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn inspect_prints_the_classic_table() {
    let out = run(&["inspect"]);
    assert!(out.status.success());
    let expected =
        "Conv2d out shape: [1, 6, 28, 28]\nSigmoid out shape: [1, 6, 28, 28]\nAvgPool2d out shape: [1, 6, 14, 14]\n\
Conv2d out shape: [1, 16, 10, 10]\nSigmoid out shape: [1, 16, 10, 10]\nAvgPool2d out shape: [1, 16, 5, 5]\n\
Flatten out shape: [1, 400]\nLinear out shape: [1, 120]\nSigmoid out shape: [1, 120]\nLinear out shape: [1, 84]\n\
Sigmoid out shape: [1, 84]\nLinear out shape: [1, 10]\n";
    assert_eq!(text(&out.stdout), expected);
    let relu = text(&run(&["inspect", "--activation", "relu", "--pooling", "max"]).stdout);
    assert!(
        relu.starts_with(
            "Conv2d out shape: [1, 6, 28, 28]\nReLU out shape: [1, 6, 28, 28]\nMaxPool2d out shape: [1, 6, 14, 14]\n"
        ),
        "{relu}"
    );
}

/// Writes test digit `i` as a PNG, scaled 3× and dark-on-light, as a user's scan would be.
fn write_digit_png(path: &Path, pixels: &[f32; 784], dark_on_light: bool) {
    let img = image::GrayImage::from_fn(84, 84, |x, y| {
        let v = pixels[(y as usize / 3) * 28 + x as usize / 3];
        let ink = (v * 255.0) as u8;
        image::Luma([if dark_on_light { 255 - ink } else { ink }])
    });
    img.save(path).unwrap();
}

#[test]
fn train_save_predict_and_eval_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    let metrics = dir.path().join("m.csv");
    let out = run(&[
        "train",
        "--preset",
        "modern",
        "--epochs",
        "2",
        "--limit",
        "6000",
        "--json",
        "--save",
        weights.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines[0]["event"], "started");
    assert_eq!(lines.iter().filter(|l| l["event"] == "batch").count(), 120);
    assert_eq!(lines.iter().filter(|l| l["event"] == "epoch").count(), 2);
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "finished");
    let acc = last["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.9 && acc <= 1.0, "{acc}");
    let csv = std::fs::read_to_string(&metrics).unwrap();
    let rows = |kind: &str| csv.lines().filter(|l| l.starts_with(&format!("{kind},"))).count();
    assert_eq!((rows("batch"), rows("epoch")), (120, 2), "one row per batch and per epoch");
    assert!(csv.lines().all(|l| l.starts_with("kind,")
        || l.starts_with("batch,")
        || l.starts_with("epoch,")
        || l.starts_with("diagnostics,")));
    let measured = lines.iter().filter(|l| l["event"] == "diagnostics").count();
    assert!(measured > 0 && rows("diagnostics") == measured, "one diagnostics row per measurement");

    // Predict test digits from PNG files of both polarities.
    let data = lenet_playground::engine::data::set::Dataset::shipped_mnist().unwrap();
    let mut paths = Vec::new();
    for i in 0..10 {
        let p = dir.path().join(format!("digit{i}.png"));
        write_digit_png(&p, &data.test.image(i), i % 2 == 0);
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["predict", "--weights", weights.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut correct = 0;
    for (i, line) in stdout.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{line}");
        assert_eq!(cols[0], paths[i]);
        let conf: f64 = cols[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&conf));
        if cols[1] == data.test.labels[i].to_string() {
            correct += 1;
        }
    }
    assert!(correct >= 8, "{correct}/10 correct:\n{stdout}");
    let json = text(&run(&["predict", "--json", "--weights", weights.to_str().unwrap(), &paths[0]]).stdout);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["probabilities"].as_array().unwrap().len(), 10);
    assert!(v["digit"].as_u64().unwrap() < 10);

    let out = run(&["eval", "--weights", weights.to_str().unwrap()]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    // Data, loss, accuracy and the ten classes first; the confusion matrix and the most confused pairs follow.
    let head: Vec<&str> = s.lines().take(3 + 10).collect();
    assert!(head[2].starts_with("test accuracy: ") && head[3..].iter().all(|l| l.ends_with('%')), "{s}");
    assert!(s.contains("confusion matrix") && s.contains("most confused"), "{s}");
}

#[test]
fn human_output_ends_with_the_final_accuracy() {
    let out = run(&["train", "--preset", "modern", "--epochs", "1", "--limit", "1000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let last = s.lines().last().unwrap();
    assert!(last.starts_with("final test accuracy: ") && last.ends_with('%'), "{s}");
    assert!(s.contains("epoch 1/1: train loss"), "{s}");
    assert!(text(&out.stderr).contains("epoch 1/1 ["), "a progress bar on stderr");
}

#[test]
fn fashion_mnist_trains_from_data_dir() {
    let out = run(&[
        "train",
        "--data",
        "/usr/share/datasets/fashion-mnist",
        "--preset",
        "modern",
        "--epochs",
        "1",
        "--limit",
        "500",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Fashion-MNIST"));
}

#[test]
fn bad_input_is_one_clear_line_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    assert_clean_failure(&run(&["train", "--data", missing.to_str().unwrap()]), "nowhere");

    // A folder with a wrong-magic image file.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    for name in
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    {
        std::fs::write(bad.join(name), [0u8, 0, 8, 9, 0, 0, 0, 0]).unwrap();
    }
    assert_clean_failure(&run(&["train", "--data", bad.to_str().unwrap()]), "train-images-idx3-ubyte");

    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"nope").unwrap();
    let img = dir.path().join("x.png");
    std::fs::write(&img, b"not a png").unwrap();
    assert_clean_failure(
        &run(&["predict", "--weights", junk.to_str().unwrap(), img.to_str().unwrap()]),
        "junk.safetensors",
    );
    assert_clean_failure(
        &run(&["eval", "--weights", dir.path().join("none.safetensors").to_str().unwrap()]),
        "none.safetensors",
    );

    // Good weights, unreadable image.
    let w = dir.path().join("w.safetensors");
    let weights = lenet_playground::engine::model::weights::ModelWeights::init(
        Default::default(),
        lenet_playground::engine::model::config::Init::Xavier,
        1,
        "MNIST",
        &(0..10).map(|i| i.to_string()).collect::<Vec<_>>(),
    );
    lenet_playground::engine::model::checkpoint::save(&w, &weights).unwrap();
    assert_clean_failure(&run(&["predict", "--weights", w.to_str().unwrap(), img.to_str().unwrap()]), "x.png");

    assert_clean_failure(&run(&["train", "--lr", "0"]), "learning rate");
    assert_clean_failure(
        &run(&["train", "--save", dir.path().join("no/dir/w.safetensors").to_str().unwrap()]),
        "no/dir",
    );
}

#[test]
fn bench_reports_every_figure() {
    let out = run(&["bench", "--steps", "3", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["impl"], "candle");
    for key in [
        "train_images_per_sec",
        "train_secs_per_epoch",
        "eval_images_per_sec",
        "predict_p50_us",
        "predict_p99_us",
        "peak_rss_mb",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} in {v}");
    }
}
