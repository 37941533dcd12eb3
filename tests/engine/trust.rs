//! The engine's side of the trust cases (issue 8): divergence is caught inside the training loop and hands back
//! the last good weights, NaN weights are never written, and the atomic writer never follows a planted symlink,
//! keeps permissions, never interleaves concurrent saves and handles names near the 255-byte limit. The CLI's side
//! (bad files, signals, closed pipes) is in tests/cli/trust.rs.

use crate::support::data::mnist as mnist_data;
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::files::atomic_file::write_atomic;
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Activation, ModelConfig, Pooling};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::{Optimizer, TrainConfig};
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::events::TrainEvent;
use lenet_playground::engine::training::train::train;
use lenet_playground::Error;
use std::path::Path;

fn run_engine(cfg: &TrainConfig, train_n: usize) -> (Vec<TrainEvent>, lenet_playground::Result<ModelWeights>) {
    let d = mnist_data();
    let data = Dataset { train: d.train.truncated(train_n), test: d.test.truncated(200), ..d.clone() };
    let mut events = Vec::new();
    let r = train(cfg, &data, None, &Control::new(), &mut |e| events.push(e));
    (events, r)
}

fn failed(events: &[TrainEvent]) -> Vec<(&str, &ModelWeights)> {
    events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Failed { message, weights, .. } => Some((message.as_str(), weights.as_ref().expect("weights"))),
            _ => None,
        })
        .collect()
}

fn all_finite(w: &ModelWeights) -> bool {
    w.params.iter().all(|p| p.data.iter().all(|v| v.is_finite()))
}

#[test]
fn an_exploding_loss_ends_the_run_as_failed_once_with_finite_weights() {
    // lr 1e30 with SGD: the weights stay finite but the loss explodes at the second batch.
    let cfg = TrainConfig { optimizer: Optimizer::Sgd, lr: 1e30, epochs: 1, batch_size: 50, ..TrainConfig::default() };
    let (events, r) = run_engine(&cfg, 500);
    let Err(Error::Diverged(msg)) = r else { panic!("expected divergence, got {r:?}") };
    let f = failed(&events);
    assert_eq!(f.len(), 1, "one Failed event");
    assert_eq!(f[0].0, msg);
    assert!(msg.contains("exploded") && msg.contains("try a lower one"), "{msg}");
    assert!(all_finite(f[0].1));
    assert!(!events.iter().any(|e| matches!(e, TrainEvent::Finished { .. } | TrainEvent::Epoch(_))));
}

#[test]
fn a_non_finite_weight_after_the_last_step_is_caught() {
    // One batch, one step: lr f64::MAX is infinite as f32, so the only update makes weights infinite or NaN. Before,
    // this run "finished" with those weights (and a NaN test loss).
    let cfg =
        TrainConfig { optimizer: Optimizer::Sgd, lr: f64::MAX, epochs: 1, batch_size: 100, ..TrainConfig::default() };
    let (events, r) = run_engine(&cfg, 100);
    let Err(Error::Diverged(msg)) = r else { panic!("expected divergence, got {r:?}") };
    assert!(msg.contains("epoch 1, batch 1") && msg.contains("NaN or infinite"), "{msg}");
    let f = failed(&events);
    assert_eq!(f.len(), 1);
    assert!(all_finite(f[0].1), "the last good weights (here: the start) are handed back");
    let start = events.iter().find_map(|e| if let TrainEvent::Weights(w) = e { Some(w) } else { None }).unwrap();
    assert_eq!(f[0].1.params, start.params);
    // Every snapshot sent out is finite.
    for e in &events {
        if let TrainEvent::Weights(w) = e {
            assert!(all_finite(w));
        }
    }
    // NaN weights are never written.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = f[0].1.clone();
    bad.params[0].data[0] = f32::NAN;
    let p = dir.path().join("nan.safetensors");
    let err = checkpoint::save(&p, &bad).unwrap_err().to_string();
    assert!(err.contains("NaN") && err.contains("nan.safetensors"), "{err}");
    assert!(!p.exists());
}

// The atomic writer

#[test]
fn a_planted_symlink_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let target = dir.path().join("m.csv");
    // Every name the old writer could have used (.NAME.PID.tmp) for this process, and a few neighbours.
    let me = std::process::id();
    for pid in me.saturating_sub(50)..me + 50 {
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".m.csv.{pid}.tmp"))).unwrap();
    }
    write_atomic(&target, b"new content").unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read(&target).unwrap(), b"new content");
    // The target itself a symlink: replaced by the file, the victim untouched.
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    write_atomic(&link, b"x").unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

#[test]
fn permissions_of_an_existing_file_are_kept_and_new_files_get_the_usual_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.csv");
    std::fs::write(&p, b"old").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&p, b"new").unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o640);
    // A new file: what File::create gives (0666 & !umask), not tempfile's 0600.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let fresh = dir.path().join("fresh");
    write_atomic(&fresh, b"x").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&fresh), mode(&reference));
}

#[test]
fn concurrent_saves_to_one_path_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.bin");
    let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 2 << 20]).collect();
    std::thread::scope(|scope| {
        for c in &contents {
            let p = &p;
            scope.spawn(move || {
                for _ in 0..5 {
                    write_atomic(p, c).unwrap();
                }
            });
        }
    });
    let end = std::fs::read(&p).unwrap();
    assert!(contents.contains(&end), "the file is one save, whole");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary files left");
}

#[test]
fn names_near_the_255_byte_limit_work() {
    let dir = tempfile::tempdir().unwrap();
    for len in [200, 250, 255] {
        let p = dir.path().join("n".repeat(len));
        write_atomic(&p, b"ok").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"ok");
        // Also through the CLI's up-front check.
        lenet_playground::engine::files::atomic_file::check_writable(&p).unwrap();
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn the_model_defaults_used_here_are_the_classic_ones() {
    // Guards the helpers above: weights_file() builds the default architecture.
    assert_eq!(
        ModelConfig::default(),
        ModelConfig { activation: Activation::Sigmoid, pooling: Pooling::Avg, ..ModelConfig::default() }
    );
}

/// Issue 29, class 11: an IDX set is held once, at its own size. 100,000 blank images (78 MB, a small gzip file)
/// are past the 64 MB at which the old reader's buffer doubled to 128 MB; the pixels now fill a buffer of exactly
/// their size, and training reads the set in place (no second copy).
#[test]
fn a_large_idx_set_is_read_into_a_buffer_of_its_own_size() {
    use crate::support::idx::{gz, idx_images_with};
    use lenet_playground::engine::data::idx::parse_images;
    let n = 100_000;
    let file = gz(&idx_images_with(n, 28, |_| 0));
    let (count, pixels) = parse_images(Path::new("big.gz"), &file).unwrap();
    assert_eq!((count, pixels.len()), (n, n * 784));
    assert_eq!(pixels.capacity(), n * 784, "no slack: the pixels are held once, at their own size");
    // A header that promises more than the stream holds is still refused, naming the file.
    let mut short = idx_images_with(10, 28, |_| 0);
    short[4..8].copy_from_slice(&1000u32.to_be_bytes());
    let e = parse_images(Path::new("short.gz"), &gz(&short)).unwrap_err().to_string();
    assert!(e.contains("short.gz") && e.contains("truncated"), "{e}");
}
