//! Engine tests: the data reader on good and broken files, training that really learns, determinism, divergence,
//! stop/pause, weight files, and preprocessing of a real test digit.

use lenet_playground::engine::data::classes;
use lenet_playground::engine::data::digit::{centre_of_mass, preprocess, GrayImage};
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Activation, Init, ModelConfig, Pooling};
use lenet_playground::engine::model::predict::Predictor;
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Optimizer, Preset, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use lenet_playground::engine::training::worker;
use lenet_playground::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::data::mnist;

/// A small data set in the shipped one's image, for fast runs.
fn small(train: usize, test: usize) -> Dataset {
    let d = mnist();
    Dataset { train: d.train.truncated(train), test: d.test.truncated(test), ..d.clone() }
}

use crate::support::idx::{idx_images_sized, idx_labels, write_files};

fn load_err(dir: &Path) -> String {
    match Dataset::from_dir(dir) {
        Err(e @ Error::Data { .. }) => e.to_string(),
        Err(e) => panic!("expected a data error, got {e}"),
        Ok(_) => panic!("expected an error for {}", dir.display()),
    }
}

#[test]
fn shipped_mnist_has_the_published_counts() {
    let d = mnist();
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    let count = |labels: &[u8]| {
        let mut c = [0usize; 10];
        labels.iter().for_each(|&l| c[l as usize] += 1);
        c
    };
    assert_eq!(count(&d.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert_eq!(count(&d.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert_eq!(d.class_names[7], "7");
}

#[test]
fn idx_reader_accepts_gzip_and_raw_folders() {
    for gzip in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            (idx_images_sized(30, 28), idx_labels(30)),
            (idx_images_sized(7, 28), idx_labels(7)),
            gzip,
        );
        let d = Dataset::from_dir(dir.path()).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (30, 7));
        assert_eq!(d.train.labels[13], 3);
        assert_eq!(d.train.images[784 + 5], ((784 + 5) % 251) as u8);
    }
}

#[test]
fn idx_reader_rejects_broken_files_with_the_file_named() {
    let good_test = || (idx_images_sized(5, 28), idx_labels(5));
    // (what is wrong, (train images, train labels), the file the error names, a word of the error)
    type Case<'a> = (&'a str, (Vec<u8>, Vec<u8>), &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "wrong magic",
            (
                {
                    let mut v = idx_images_sized(10, 28);
                    v[3] = 1;
                    v
                },
                idx_labels(10),
            ),
            "train-images",
            "magic",
        ),
        (
            "truncated",
            (
                {
                    let mut v = idx_images_sized(10, 28);
                    v.truncate(500);
                    v
                },
                idx_labels(10),
            ),
            "train-images",
            "truncated",
        ),
        ("count mismatch", (idx_images_sized(10, 28), idx_labels(9)), "train-labels", "must agree"),
        ("not 28×28", (idx_images_sized(10, 32), idx_labels(10)), "train-images", "28×28"),
        (
            "label out of range",
            (idx_images_sized(3, 28), {
                let mut v = idx_labels(3);
                v[9] = 42;
                v
            }),
            "train-labels",
            "out of range",
        ),
        ("short header", (vec![0, 0, 8], idx_labels(1)), "train-images", "too short"),
    ];
    for (what, train, file, word) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), train, good_test(), true);
        let msg = load_err(dir.path());
        assert!(msg.contains(file) && msg.contains(word), "{what}: {msg}");
    }
    // Corrupt gzip stream.
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), (idx_images_sized(10, 28), idx_labels(10)), good_test(), true);
    let p = dir.path().join("t10k-images-idx3-ubyte.gz");
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes.truncate(n / 2);
    std::fs::write(&p, bytes).unwrap();
    let msg = load_err(dir.path());
    assert!(msg.contains("t10k-images") && msg.contains("gzip"), "{msg}");
    // Missing file, and a folder that does not exist.
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte.gz")).unwrap();
    assert!(load_err(dir.path()).contains("train-labels-idx1-ubyte.gz: file not found"));
    assert!(load_err(&dir.path().join("nope")).contains("not a folder"));
}

#[test]
fn a_checksum_list_in_the_folder_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), (idx_images_sized(4, 28), idx_labels(4)), (idx_images_sized(2, 28), idx_labels(2)), true);
    std::fs::write(dir.path().join("SHA256SUMS"), format!("{}  train-images-idx3-ubyte.gz\n", "0".repeat(64))).unwrap();
    assert!(load_err(dir.path()).contains("checksum mismatch"));
}

#[test]
fn fashion_mnist_from_debian_loads_with_its_class_names() {
    let dir = Path::new("/usr/share/datasets/fashion-mnist");
    assert!(dir.is_dir(), "install it with: apt-get install dataset-fashion-mnist (.ci/run does)");
    let d = Dataset::from_dir(dir).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    assert_eq!(d.name, "Fashion-MNIST");
    assert_eq!(d.class_names[9], "Ankle boot");
    assert_ne!(d.train.images[..784], mnist().train.images[..784], "different images than MNIST");
}

fn run(cfg: &TrainConfig, data: &Dataset) -> (Vec<TrainEvent>, lenet_playground::Result<ModelWeights>) {
    let mut events = Vec::new();
    let r = train(cfg, data, None, &Control::new(), &mut |e| events.push(e));
    (events, r)
}

fn batch_losses(events: &[TrainEvent]) -> Vec<f32> {
    events.iter().filter_map(|e| if let TrainEvent::Batch(b) = e { Some(b.loss) } else { None }).collect()
}

#[test]
fn short_training_learns_digits() {
    // 6,000 images, 2 epochs of the modern recipe: far above the 10 % of guessing.
    let data = small(6000, 2000);
    let cfg = TrainConfig { epochs: 2, ..TrainConfig::preset(Preset::Modern) };
    let (events, r) = run(&cfg, &data);
    let w = r.unwrap();
    let epochs: Vec<_> =
        events.iter().filter_map(|e| if let TrainEvent::Epoch(m) = e { Some(m.clone()) } else { None }).collect();
    assert_eq!(epochs.len(), 2);
    let acc = epochs[1].test_accuracy;
    eprintln!("modern preset, 6k images, 2 epochs: test accuracy {:.2}%", acc * 100.0);
    assert!(acc > 0.90, "test accuracy {acc}");
    assert_eq!(epochs[1].test_class_accuracy.len(), 10);
    match events.last() {
        Some(TrainEvent::Finished { test_accuracy, weights, .. }) => {
            assert_eq!(*test_accuracy, acc);
            assert_eq!(weights, &w);
        }
        other => panic!("last event {other:?}"),
    }
    let batches = batch_losses(&events).len();
    assert_eq!(batches, 120);
}

#[test]
fn the_default_recipe_keeps_the_classic_architecture_and_passes_90_percent_in_epoch_1() {
    // The acceptance bar of the default configuration: one epoch of full MNIST, test accuracy on all 10k images.
    let cfg = TrainConfig { epochs: 1, ..TrainConfig::default() };
    assert_eq!(
        cfg.model,
        ModelConfig { activation: Activation::Sigmoid, pooling: Pooling::Avg, ..ModelConfig::default() }
    );
    let (events, r) = run(&cfg, mnist());
    r.unwrap();
    let acc = events
        .iter()
        .rev()
        .find_map(|e| if let TrainEvent::Epoch(m) = e { Some(m.test_accuracy) } else { None })
        .unwrap();
    eprintln!("default recipe, full MNIST, epoch 1: test accuracy {:.2}%", acc * 100.0);
    assert!(acc >= 0.90, "test accuracy {acc}");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let data = small(800, 200);
    let cfg = TrainConfig { epochs: 1, ..TrainConfig::preset(Preset::Modern) };
    let (a, _) = run(&cfg, &data);
    let (b, _) = run(&cfg, &data);
    let (c, _) = run(&TrainConfig { seed: cfg.seed + 1, ..cfg.clone() }, &data);
    assert_eq!(batch_losses(&a), batch_losses(&b));
    assert_ne!(batch_losses(&a), batch_losses(&c));
}

#[test]
fn a_diverging_learning_rate_stops_with_advice_and_keeps_good_weights() {
    let data = small(2000, 100);
    let cfg = TrainConfig {
        model: ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() },
        init: Init::Normal,
        optimizer: Optimizer::Sgd,
        lr: 1e6,
        epochs: 1,
        ..TrainConfig::default()
    };
    let (events, r) = run(&cfg, &data);
    let err = r.unwrap_err();
    assert!(matches!(err, Error::Diverged(_)), "{err}");
    match events.last() {
        Some(TrainEvent::Failed { message, weights: Some(w), .. }) => {
            assert!(message.contains("learning rate"), "{message}");
            w.check_shapes().expect("the kept weights are finite and complete");
        }
        other => panic!("expected Failed with weights, got {other:?}"),
    }
}

#[test]
fn stop_and_pause_are_honoured_between_batches() {
    let data = Arc::new(small(20_000, 500));
    let cfg = TrainConfig { epochs: 1, ..TrainConfig::preset(Preset::Modern) };
    let handle = worker::spawn(cfg, data, None, || {}).unwrap();
    let first_batch = |h: &worker::TrainerHandle| loop {
        match h.events.recv_timeout(Duration::from_secs(60)).expect("an event") {
            TrainEvent::Batch(b) => break b,
            e if e.is_terminal() => panic!("ended early: {e:?}"),
            _ => {}
        }
    };
    first_batch(&handle);
    // Pause: at most the batch in flight completes, then nothing.
    handle.set_paused(true);
    std::thread::sleep(Duration::from_millis(800));
    let during_pause = handle.events.try_iter().filter(|e| matches!(e, TrainEvent::Batch(_))).count();
    std::thread::sleep(Duration::from_millis(800));
    let after = handle.events.try_iter().filter(|e| matches!(e, TrainEvent::Batch(_))).count();
    assert!(during_pause <= 1 && after == 0, "batches while paused: {during_pause} then {after}");
    handle.set_paused(false);
    first_batch(&handle);
    // Stop: at most one more batch, then Stopped with weights.
    let asked = Instant::now();
    handle.stop();
    let mut more_batches = 0;
    loop {
        match handle.events.recv_timeout(Duration::from_secs(60)).expect("an event") {
            TrainEvent::Batch(_) => more_batches += 1,
            TrainEvent::Stopped { weights, .. } => {
                eprintln!("stop honoured after {:.1} ms", asked.elapsed().as_secs_f64() * 1e3);
                weights.check_shapes().unwrap();
                break;
            }
            e if e.is_terminal() => panic!("expected Stopped, got {e:?}"),
            _ => {}
        }
    }
    assert!(more_batches <= 1, "{more_batches} batches ran after stop");
}

#[test]
fn weights_round_trip_and_bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = classes::FASHION_CLASSES.iter().map(|s| s.to_string()).collect();
    let cfg = ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() };
    let w = ModelWeights::init(cfg, Init::Kaiming, 3, "Fashion-MNIST", &names);
    let p = dir.path().join("w.safetensors");
    checkpoint::save(&p, &w).unwrap();
    let back = checkpoint::load(&p).unwrap();
    assert_eq!(back, w, "config, class names and every value survive");

    let expect_err = |path: &Path, word: &str| {
        let e = checkpoint::load(path).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, Error::Weights { .. }) && msg.contains(&path.display().to_string()) && msg.contains(word),
            "{msg}"
        );
    };
    expect_err(&dir.path().join("missing.safetensors"), "cannot read");
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not weights").unwrap();
    expect_err(&junk, "safetensors");
    // A real safetensors file of another shape.
    let mut other = w.clone();
    other.params[4].shape = vec![100, 400];
    other.params[4].data.truncate(40_000);
    let bytes = checkpoint::to_bytes(&other).unwrap();
    let wrong = dir.path().join("wrong.safetensors");
    std::fs::write(&wrong, bytes).unwrap();
    expect_err(&wrong, "f5.weight");
    // Truncated file.
    let full = std::fs::read(&p).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &full[..full.len() - 100]).unwrap();
    expect_err(&cut, "safetensors");
    // Saving into a missing folder fails cleanly and leaves nothing behind.
    assert!(matches!(checkpoint::save(&dir.path().join("no/such/w.safetensors"), &w), Err(Error::Write { .. })));
}

#[test]
fn a_shifted_real_digit_is_centred_like_mnist() {
    let d = mnist();
    let digit = d.test.image(0);
    // Paste the digit into the corner of a large light canvas, dark ink, scaled 3×.
    let (w, h) = (200, 150);
    let mut img = GrayImage { width: w, height: h, pixels: vec![0.95; w * h] };
    for y in 0..84 {
        for x in 0..84 {
            img.pixels[(y + 5) * w + x + 7] = 0.95 - 0.9 * digit[(y / 3) * 28 + x / 3];
        }
    }
    let out = preprocess(&img).unwrap();
    let (cx, cy) = centre_of_mass(&out);
    assert!((cx - 14.0).abs() < 0.75 && (cy - 14.0).abs() < 0.75, "({cx}, {cy})");
    let (mx, my) = centre_of_mass(&digit);
    assert!((mx - 14.0).abs() < 1.5 && (my - 14.0).abs() < 1.5, "MNIST itself is centred this way: ({mx}, {my})");
}

#[test]
fn predictor_gives_probabilities_and_a_full_trace() {
    let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 9, "MNIST", &mnist().class_names);
    let p = Predictor::new(&w).unwrap();
    let pred = p.predict(&mnist().test.image(1)).unwrap();
    assert_eq!(pred.probabilities.len(), 10);
    assert!((pred.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let trace = p.trace(&mnist().test.image(1)).unwrap();
    assert_eq!(trace.len(), 12);
    assert_eq!(trace[2].shape, vec![1, 6, 14, 14]);
    assert_eq!(trace[2].values.len(), 6 * 14 * 14);
    let mut bad = w.clone();
    bad.params[0].data[0] = f32::NAN;
    assert!(Predictor::new(&bad).is_err());
}

#[test]
fn fused_forward_matches_the_stage_by_stage_trace() {
    use lenet_playground::engine::model::lenet::{images_tensor, LeNet};
    for cfg in [
        ModelConfig::default(),
        ModelConfig { activation: Activation::Relu, pooling: Pooling::Max, ..ModelConfig::default() },
    ] {
        let w = ModelWeights::init(cfg, Init::Xavier, 5, "MNIST", &mnist().class_names);
        let model = LeNet::from_weights(&w).unwrap();
        let (pixels, _) = mnist().test.batch(&[0, 1, 2, 3]);
        let x = images_tensor(&pixels, 4).unwrap();
        let fused = model.forward(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let trace = model.trace(&x).unwrap();
        let staged = trace[11].1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for (a, b) in fused.iter().zip(&staged) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{cfg:?}: {a} vs {b}");
        }
    }
}
