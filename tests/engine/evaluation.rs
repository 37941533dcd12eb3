//! Evaluation end to end: the confusion matrix of the test pass (engine and `eval`), the misclassified images
//! `eval --mistakes` writes, and the occlusion map of `explain` on a real digit.

use lenet_playground::engine::data::set::IMAGE_PIXELS;
use lenet_playground::engine::insight::evaluate::{correct, evaluate_weights, total};
use lenet_playground::engine::insight::explain::occlusion;
use lenet_playground::engine::model::predict::Predictor;
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use std::path::Path;
use std::sync::OnceLock;

use crate::support::data::mnist;

/// A quick run of the modern recipe (2 epochs of 5,000 images, ~90 % test accuracy), with its events (trained once
/// per test binary).
fn trained() -> &'static (ModelWeights, Vec<TrainEvent>) {
    static RUN: OnceLock<(ModelWeights, Vec<TrainEvent>)> = OnceLock::new();
    RUN.get_or_init(|| {
        let cfg = TrainConfig { epochs: 2, limit: Some(5000), ..TrainConfig::preset(Preset::Modern) };
        let mut events = Vec::new();
        let w = train(&cfg, mnist(), None, &Control::new(), &mut |e| {
            if !matches!(e, TrainEvent::Weights(_)) {
                events.push(e)
            }
        })
        .expect("training runs");
        (w, events)
    })
}

use crate::support::cli::bin;

fn save_weights(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("w.safetensors");
    lenet_playground::engine::model::checkpoint::save(&p, &trained().0).unwrap();
    p
}

#[test]
fn the_epoch_confusion_matrix_counts_every_test_image_once() {
    let (w, events) = trained();
    let epoch = events
        .iter()
        .rev()
        .find_map(|e| if let TrainEvent::Epoch(m) = e { Some(m.clone()) } else { None })
        .expect("an epoch event");
    eprintln!("test accuracy of the quick model: {:.2}%", epoch.test_accuracy * 100.0);
    let n = mnist().test.len();
    let m = &epoch.confusion;
    assert_eq!(m.len(), 10);
    assert!(m.iter().all(|r| r.len() == 10));
    assert_eq!(total(m), n as u64, "the matrix sums to the number of test images");
    let acc = correct(m) as f32 / n as f32;
    assert!((acc - epoch.test_accuracy).abs() < 1e-6, "diagonal {acc} vs accuracy {}", epoch.test_accuracy);
    for (c, row) in m.iter().enumerate() {
        let per_class = row[c] as f32 / row.iter().sum::<u32>() as f32;
        assert!((per_class - epoch.test_class_accuracy[c]).abs() < 1e-6);
    }
    let preds = epoch.predictions.as_ref().expect("predictions of the latest epoch");
    assert_eq!((preds.predicted.len(), preds.confidence.len()), (n, n));
    let right = preds.predicted.iter().zip(&mnist().test.labels).filter(|(p, l)| p == l).count();
    assert_eq!(right as u64, correct(m), "the per-image predictions agree with the diagonal");
    assert!(preds.confidence.iter().all(|&c| (0.1..=1.0).contains(&c)), "the winner's probability is ≥ 1/10");
    // The same weights evaluated again give the same matrix (the epoch's weights are the final ones).
    let again = evaluate_weights(w, &mnist().test, None, &mut |_, _| {}).unwrap().unwrap();
    assert_eq!(&again.confusion, m);
    // The JSON epoch event carries the matrix.
    let json: serde_json::Value = serde_json::to_value(TrainEvent::Epoch(epoch.clone())).unwrap();
    assert_eq!(json["confusion"][3][3].as_u64(), Some(m[3][3] as u64));
}

#[test]
fn eval_prints_the_matrix_and_writes_exactly_the_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let weights = save_weights(dir.path());
    let out = bin().args(["eval", "--json", "--weights"]).arg(&weights).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m: Vec<Vec<u32>> = serde_json::from_value(v["confusion"].clone()).unwrap();
    let n = mnist().test.len() as u64;
    assert_eq!(total(&m), n);
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!((correct(&m) as f64 / n as f64 - acc).abs() < 1e-6, "the diagonal agrees with the accuracy {acc}");
    assert_eq!(v["most_confused"].as_array().unwrap().len(), 5);

    let text = bin().args(["eval", "--weights"]).arg(&weights).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("true \\ predicted"), "{text}");
    assert_eq!(text.matches(" → predicted ").count(), 5, "{text}");

    let mistakes = dir.path().join("mistakes");
    let out = bin().args(["eval", "--weights"]).arg(&weights).arg("--mistakes").arg(&mistakes).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> =
        std::fs::read_dir(&mistakes).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let pngs: Vec<&String> = names.iter().filter(|f| f.ends_with(".png")).collect();
    assert_eq!(pngs.len() as u64, n - correct(&m), "one PNG per misclassified test image");
    assert_eq!(names.len(), pngs.len() + 1, "the PNGs and index.csv, no temporary files: {names:?}");
    let csv = std::fs::read_to_string(mistakes.join("index.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("index,true,predicted,confidence"));
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let name = format!("{}_true-{}_pred-{}.png", first[0], first[1], first[2]);
    assert!(names.contains(&name), "{name} is written");
    assert_ne!(first[1], first[2]);
    let i: usize = first[0].parse().unwrap();
    assert_eq!(first[1], mnist().test.labels[i].to_string());
    let img = image::open(mistakes.join(&name)).unwrap().to_luma8();
    assert_eq!(img.as_raw().as_slice(), &mnist().test.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]);
    assert_eq!(csv.lines().count() as u64, n - correct(&m) + 1);
}

/// Mean of the map over the ink (pixels > 0.5) and over the paper (pixels = 0).
fn ink_and_paper_means(input: &[f32; IMAGE_PIXELS], map: &[f32]) -> (f32, f32) {
    let mean = |f: &dyn Fn(f32) -> bool| {
        let v: Vec<f32> = input.iter().zip(map).filter(|(x, _)| f(**x)).map(|(_, m)| *m).collect();
        v.iter().sum::<f32>() / v.len().max(1) as f32
    };
    (mean(&|x| x > 0.5), mean(&|x| x == 0.0))
}

#[test]
fn occluding_the_ink_lowers_the_class_more_than_occluding_paper() {
    let predictor = Predictor::new(&trained().0).unwrap();
    let test = &mnist().test;
    let mut checked = 0;
    for i in 0..test.len() {
        let input = test.image(i);
        let p = predictor.predict(&input).unwrap();
        if p.class != test.labels[i] as usize || p.confidence() < 0.6 {
            continue;
        }
        let a = occlusion(&predictor, &input, None).unwrap();
        assert_eq!(a.class, p.class);
        assert!((a.probability - p.confidence()).abs() < 1e-4);
        assert_eq!(a.map.len(), IMAGE_PIXELS);
        let (ink, paper) = ink_and_paper_means(&input, &a.map);
        assert!(ink > paper, "test image {i} (a {}): ink {ink} vs paper {paper}", p.class);
        // Another class can be asked for; the map then is about that class.
        let other = (p.class + 1) % 10;
        let b = occlusion(&predictor, &input, Some(other)).unwrap();
        assert_eq!(b.class, other);
        assert!((b.probability - p.probabilities[other]).abs() < 1e-4);
        checked += 1;
        if checked == 5 {
            break;
        }
    }
    assert_eq!(checked, 5);
    assert!(occlusion(&predictor, &test.image(0), Some(10)).is_err());
}

#[test]
fn explain_writes_the_overlay_and_prints_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let weights = save_weights(dir.path());
    // Test image 0 (a 7), scaled 3× and dark on light, as a scan would be.
    let pixels = mnist().test.image(0);
    let png = dir.path().join("seven.png");
    image::GrayImage::from_fn(84, 84, |x, y| {
        image::Luma([255 - (pixels[(y as usize / 3) * 28 + x as usize / 3] * 255.0) as u8])
    })
    .save(&png)
    .unwrap();
    let map_png = dir.path().join("map.png");
    let out = bin()
        .args(["explain", "--json", "--weights"])
        .arg(&weights)
        .arg(&png)
        .arg("--out")
        .arg(&map_png)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["path"].as_str(), Some(png.to_str().unwrap()));
    assert_eq!(v["class"].as_u64(), Some(7));
    assert!(v["probability"].as_f64().unwrap() > 0.5);
    let map: Vec<Vec<f32>> = serde_json::from_value(v["map"].clone()).unwrap();
    assert_eq!((map.len(), map[0].len()), (28, 28));
    let img = image::open(&map_png).unwrap();
    assert_eq!((img.width(), img.height()), (310, 280));

    let explain_class = |class: &str| {
        bin()
            .args(["explain", "--class", class, "--weights"])
            .arg(&weights)
            .arg(&png)
            .arg("--out")
            .arg(&map_png)
            .output()
    };
    let out = explain_class("3").unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("class 3"));
    let bad = explain_class("12").unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
