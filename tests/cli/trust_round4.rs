//! Issue 29 (trust, round 4), the classes that end as one clear line, exit 2, or a right answer: outputs inside
//! the data set, classes matched by name, explain on overflowing weights and on many classes, outside text
//! escaped, freezing a layer drawn afresh.

use crate::support::cli::{run, text};
use crate::support::data::mnist;
use crate::support::image_folder::{write_digits, Style};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Output;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[track_caller]
fn refused(out: &Output, says: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stdout: {}\nstderr: {err}", text(&out.stdout));
    assert!(err.contains(says), "stderr should say '{says}': {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Ten digit folders of MNIST test digits, 12 images each, and weights trained on MNIST (the same class names).
fn digits_and_weights(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let set = dir.join("digits");
    write_digits(&set, &mnist().test, 0, 12, Style::default());
    let w = dir.join("w.safetensors");
    ok(&run(&["train", "--preset", "modern", "--epochs", "1", "--limit", "3000", "--save", s(&w)]));
    (set, w)
}

#[test]
fn an_output_inside_the_image_folder_a_run_reads_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 5, Style::default());
    let image = std::fs::read_dir(set.join("3")).unwrap().next().unwrap().unwrap().path();
    let before = std::fs::read(&image).unwrap();
    let out = run(&["train", "--data", s(&set), "--epochs", "1", "--save", s(&image)]);
    refused(&out, "inside the image folder");
    assert_eq!(std::fs::read(&image).unwrap(), before, "the training image is untouched");
    // A new file there would join the set (or clobber its cache): refused too, as are the metrics.
    refused(
        &run(&["train", "--data", s(&set), "--epochs", "1", "--save", s(&set.join("new/w.safetensors"))]),
        "--save",
    );
    refused(&run(&["train", "--data", s(&set), "--epochs", "1", "--metrics", s(&set.join("m.csv"))]), "--metrics");
    let w = dir.path().join("w.safetensors");
    checkpoint::save(&w, &crate::support::data::fresh_weights(1)).unwrap();
    refused(&run(&["eval", "--weights", s(&w), "--data", s(&set), "--mistakes", s(&set.join("wrong"))]), "--mistakes");
    assert!(!set.join("wrong").exists() && !set.join("new").exists() && !set.join("m.csv").exists());
}

#[test]
fn eval_matches_classes_by_name_and_names_a_class_the_weights_do_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let (set, w) = digits_and_weights(dir.path());
    let first = ok(&run(&["eval", "--json", "--weights", s(&w), "--data", s(&set)]));
    let accuracy =
        |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap()["test_accuracy"].as_f64().unwrap();
    // Only some of the classes, in a folder of their own: each image is still scored against its own class.
    let some = dir.path().join("some");
    std::fs::create_dir_all(&some).unwrap();
    for d in ["3", "7"] {
        std::fs::rename(set.join(d), some.join(d)).unwrap();
    }
    let part = ok(&run(&["eval", "--json", "--weights", s(&w), "--data", s(&some)]));
    let v: serde_json::Value = serde_json::from_str(&part).unwrap();
    let confusion: Vec<Vec<u64>> = serde_json::from_value(v["confusion"].clone()).unwrap();
    assert_eq!(confusion.len(), 10, "the weights' classes");
    // The images are true 3s and 7s (rows 3 and 7), not the first two classes by position.
    let rows: Vec<u64> = confusion.iter().map(|r| r.iter().sum()).collect();
    assert!(rows[3] > 0 && rows[7] > 0 && rows.iter().sum::<u64>() == rows[3] + rows[7], "{rows:?}");
    let correct = (confusion[3][3] + confusion[7][7]) as f64 / (rows[3] + rows[7]) as f64;
    assert!((accuracy(&part) - correct).abs() < 1e-6, "{part}");
    assert!(accuracy(&first) > 0.6, "{first}");
    // One folder renamed: no accuracy at all rather than a wrong one.
    std::fs::rename(some.join("7"), some.join("seven")).unwrap();
    let err = refused(&run(&["eval", "--weights", s(&w), "--data", s(&some)]), "class 'seven' is not one of");
    assert!(err.contains("w.safetensors") && err.contains("matched by name"), "{err}");
}

#[test]
fn explain_refuses_overflowing_weights_and_explains_any_class_of_a_large_model() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("d.png");
    crate::support::image_folder::write_png(&png, 28, &mnist().test.images[..784]);
    let mut w = crate::support::data::fresh_weights(1);
    for p in w.params.iter_mut().filter(|p| p.name == "out.weight") {
        p.data.iter_mut().for_each(|v| *v = 3.0e38);
    }
    let huge = dir.path().join("huge.safetensors");
    checkpoint::save(&huge, &w).unwrap();
    let map = dir.path().join("map.png");
    let out = run(&["explain", "--weights", s(&huge), s(&png), "--out", s(&map)]);
    let err = refused(&out, "outputs overflow");
    assert!(err.contains("huge.safetensors"), "{err}");
    assert!(!text(&out.stdout).contains("NaN") && !map.exists());
    // 26 classes: class 20 is explained, class 26 is out of range with the range.
    let names: Vec<String> = (b'a'..=b'z').map(|c| (c as char).to_string()).collect();
    let letters =
        ModelWeights::init(ModelConfig { classes: 26, ..ModelConfig::default() }, Init::Xavier, 1, "letters", &names);
    let lw = dir.path().join("letters.safetensors");
    checkpoint::save(&lw, &letters).unwrap();
    let said = ok(&run(&["explain", "--weights", s(&lw), s(&png), "--class", "20", "--out", s(&map)]));
    assert!(said.contains("class u"), "{said}");
    refused(&run(&["explain", "--weights", s(&lw), s(&png), "--class", "26", "--out", s(&map)]), "0 to 25");
}

#[test]
fn outside_text_is_escaped_wherever_it_is_printed() {
    // --arch echoed back by the argument parser.
    let out = run(&["inspect", "--arch", "c6\u{1b}[2J\u{202e}k5"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{202e}'), "{err:?}");
    assert!(err.contains("\\u{202e}"), "{err}");
    // A right-to-left override in a run name.
    let out = run(&["train", "--epochs", "1", "--limit", "100", "--record", "--run-name", "mine\u{202e}gnp.exe"]);
    refused(&out, "text-direction");
    // A weights file's data set name, printed in the init: line.
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 3, Style::default());
    std::fs::rename(set.join("9"), set.join("nine")).unwrap();
    let mut w = crate::support::data::fresh_weights(1);
    w.dataset = "evil\u{1b}]0;owned\u{7}\u{202e}".into();
    let from = dir.path().join("evil.safetensors");
    checkpoint::save(&from, &w).unwrap();
    let out = run(&["train", "--data", s(&set), "--init-from", s(&from), "--epochs", "1"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("init: started from the evil\\u{1b}"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202e}'), "{err:?}");
}

#[test]
fn freezing_an_output_layer_drawn_afresh_is_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 3, Style::default());
    std::fs::rename(set.join("9"), set.join("nine")).unwrap();
    let w = dir.path().join("w.safetensors");
    checkpoint::save(&w, &crate::support::data::fresh_weights(1)).unwrap();
    let out = run(&["train", "--data", s(&set), "--init-from", s(&w), "--freeze", "c1,out", "--epochs", "1"]);
    let err = refused(&out, "cannot freeze 'out'");
    assert!(err.contains("drawn afresh") && err.contains("would stay random"), "{err}");
}

/// Runs the binary, killing it if it has not ended within a minute (a hang fails the test instead of CI).
fn run_bounded(args: &[&str]) -> Output {
    let mut child = crate::support::cli::bin()
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

const CACHE: &str = ".lenet-cache-v1.bin";

#[test]
fn the_cache_is_only_ever_a_regular_file_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 3, Style::default());
    let cache = set.join(CACHE);
    // A FIFO where the cache goes: neither read nor written (opening it would block), and left as it is.
    assert!(std::process::Command::new("mkfifo").arg(&cache).status().unwrap().success());
    let out = run_bounded(&["train", "--data", s(&set), "--epochs", "1"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("not cached") && err.contains("FIFO"), "{err}");
    assert!(std::fs::symlink_metadata(&cache).unwrap().file_type().is_fifo());
    // A link to a user's file: not written through.
    std::fs::remove_file(&cache).unwrap();
    let mine = dir.path().join("mine.txt");
    std::fs::write(&mine, b"my notes").unwrap();
    std::os::unix::fs::symlink(&mine, &cache).unwrap();
    let out = run_bounded(&["train", "--data", s(&set), "--epochs", "1"]);
    let err = text(&out.stderr);
    assert!(out.status.success() && err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&mine).unwrap(), b"my notes");
}

#[test]
fn a_cache_that_does_not_match_its_images_is_decoded_afresh_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 10, Style::default());
    let w = dir.path().join("w.safetensors");
    ok(&run(&["train", "--preset", "modern", "--epochs", "1", "--limit", "3000", "--save", s(&w)]));
    let eval = || run_bounded(&["eval", "--json", "--weights", s(&w), "--data", s(&set)]);
    let truth = ok(&eval());
    let cache = set.join(CACHE);
    let good = std::fs::read(&cache).unwrap();
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let (n_train, notes_len) = (u32_at(&good, 40), u32_at(&good, 48));
    // Labels rewritten (every label of both sides moved one class on), the file's size and key unchanged, and its
    // payload digest made to match (a crafted cache: a damaged one fails the digest and is rebuilt silently).
    let header = 84;
    let seal = |mut b: Vec<u8>| {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&b[header..]);
        b[52..84].copy_from_slice(&digest);
        b
    };
    let mut bad = good.clone();
    let n_test = u32_at(&good, 44);
    let train_labels = header + notes_len;
    let test_labels = train_labels + n_train * 785;
    for range in [train_labels..train_labels + n_train, test_labels..test_labels + n_test] {
        bad[range].iter_mut().for_each(|l| *l = (*l + 1) % 10);
    }
    std::fs::write(&cache, seal(bad)).unwrap();
    let out = eval();
    assert_eq!(ok(&out), truth, "the accuracy of the images themselves");
    assert!(text(&out.stderr).contains("did not match the images"), "{}", text(&out.stderr));
    // A cache claiming no images at all.
    let mut empty = good[..header + notes_len].to_vec();
    empty[40..48].fill(0);
    std::fs::write(&cache, seal(empty)).unwrap();
    let out = eval();
    assert_eq!(ok(&out), truth);
    assert!(text(&out.stderr).contains("holds 0 of the folder's 100 images"), "{}", text(&out.stderr));
    // Afterwards the cache is whole again and read as such.
    let out = eval();
    assert!(text(&out.stderr).contains("read from the cache"), "{}", text(&out.stderr));
    assert_eq!(ok(&out), truth);
}

#[test]
fn a_file_size_limit_is_an_error_of_the_write_not_a_silent_death() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.safetensors");
    let mut cmd = crate::support::cli::bin();
    cmd.args(["train", "--epochs", "1", "--limit", "200", "--save", s(&w)]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 64 * 1024, rlim_max: 64 * 1024 };
            match libc::setrlimit(libc::RLIMIT_FSIZE, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a status, not a signal: {:?} {err}", out.status);
    assert!(err.contains("w.safetensors") && err.contains("too large"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "no partial or temporary file: {left:?}");
}

#[test]
fn a_run_that_cannot_fit_in_memory_is_refused_before_it_starts_with_the_figures() {
    // 1×1 blocks of 64 channels keep 28×28 maps: about 3 MB per image while training, 190 GB at batch 60000.
    let out = run_bounded(&["train", "--arch", "c64k1,c64k1,c64k1,f10", "--batch-size", "60000", "--epochs", "1"]);
    let err = refused(&out, "at batch 60000 needs about");
    assert!(err.contains("GB of memory") && err.contains("available") && err.contains("at most"), "{err}");
}

/// Class 9: a signal while the folder cache is being written leaves no temporary file in the user's folder, and the
/// process says why it ended. The writer's test hook (`LENET_TEST_PAUSE_WRITE`) holds the write half done, its
/// temporary on disk, until the signal comes: no timing luck.
#[test]
fn a_signal_while_the_folder_cache_is_written_leaves_no_temporary_and_says_so() {
    use lenet_playground::engine::files::atomic_file::PAUSE_ENV;
    for (sig, code, says) in [("-INT", 130, "interrupted by Ctrl-C (SIGINT)"), ("-TERM", 143, "interrupted by SIGTERM")]
    {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("digits");
        write_digits(&set, &mnist().test, 0, 3, Style::default());
        let flag = dir.path().join("writing");
        let mut child = crate::support::cli::bin()
            .args(["train", "--data", s(&set), "--epochs", "1"])
            .env(PAUSE_ENV, &flag)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The hook writes the temporary's path into the flag once half the cache is in it.
        let start = std::time::Instant::now();
        let tmp = loop {
            let held = std::fs::read_to_string(&flag).unwrap_or_default();
            if !held.is_empty() {
                break std::path::PathBuf::from(held);
            }
            assert!(child.try_wait().unwrap().is_none(), "ended before writing the cache");
            assert!(start.elapsed().as_secs() < 60, "the cache write never started");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(tmp.parent(), Some(set.as_path()), "the temporary is in the user's folder");
        assert!(tmp.exists() && tmp.to_string_lossy().ends_with(".tmp"), "mid-write: {tmp:?}");
        assert!(std::process::Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(says) && err.contains("temporary files removed"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&set).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{left:?}");
        assert!(!set.join(CACHE).exists(), "no half cache under the real name either");
    }
}

/// Class 11: the data's memory is stated before the run.
#[test]
fn train_states_the_data_sets_memory_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("digits");
    write_digits(&set, &mnist().test, 0, 3, Style::default());
    let out = run_bounded(&["train", "--data", s(&set), "--epochs", "1"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    // 30 images of 784 bytes with their labels: 23.0 KB.
    let line = err.lines().find(|l| l.starts_with("data: digits")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.ends_with("KB in memory"), "{line}");
    assert!(err.find(line).unwrap() < err.find("training LeNet-5").unwrap(), "before the run: {err}");
}

/// Class 11, eval's half: evaluating reads the test half only. The training images of an MNIST-format folder are
/// not read at all (here they are not even an IDX file, so reading them would fail), and eval's data line (and its
/// JSON) says what the test half holds in memory.
#[test]
fn eval_reads_only_the_test_half_and_states_its_memory() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("idx");
    crate::support::idx::write_set(&set, 40, 50);
    std::fs::write(set.join(format!("{}.gz", lenet_playground::engine::data::idx::TRAIN_IMAGES)), b"not IDX").unwrap();
    let train = run(&["train", "--data", s(&set), "--epochs", "1"]);
    assert_eq!(train.status.code(), Some(2), "training needs the training images: {}", text(&train.stderr));
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let w = dir.path().join("w.safetensors");
    checkpoint::save(&w, &ModelWeights::init(ModelConfig::default(), Init::Xavier, 3, "MNIST", &names)).unwrap();
    let out = run(&["eval", "--weights", s(&w), "--data", s(&set)]);
    let stdout = ok(&out);
    // 50 images of 784 bytes with their labels: 38.3 KB.
    let line = stdout.lines().find(|l| l.starts_with("data: ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("50 test images), 38.3 KB in memory"), "{line}");
    assert!(line.contains("the training images are not read"), "{line}");
    let json = ok(&run(&["eval", "--json", "--weights", s(&w), "--data", s(&set)]));
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["data_memory_bytes"], 50 * 785, "{json}");
}

/// Class 11, training's half: a run holds its data set once. Two runs that differ only in the size of their set
/// (raw IDX files of 10,000 and 110,000 training images): the second's peak memory grows by about the 75 MB more
/// it reads, where a second copy of the set (a shuffled or converted one) would double that. Measured as a slope,
/// so the binary's own footprint, which differs between builds, does not enter.
#[test]
fn a_training_run_holds_its_data_set_once() {
    use crate::support::idx::{idx_images, idx_labels, write_files};
    let dir = tempfile::tempdir().unwrap();
    let peak = |n: usize| {
        let set = dir.path().join(format!("set{n}"));
        write_files(&set, (idx_images(n), idx_labels(n)), (idx_images(100), idx_labels(100)), false);
        let m = crate::support::peak_rss::measure(&[
            "train",
            "--data",
            s(&set),
            "--arch",
            "tiny",
            "--epochs",
            "1",
            "--batch-size",
            "1000",
        ]);
        assert!(m.out.status.success(), "{}", text(&m.out.stderr));
        std::fs::remove_dir_all(&set).unwrap();
        m.peak_rss_mb
    };
    let (small, large) = (peak(10_000), peak(110_000));
    let more_data_mb = 100_000.0 * 785.0 / (1024.0 * 1024.0);
    let grew = large - small;
    assert!(
        grew < 1.5 * more_data_mb,
        "peak {small:.0} → {large:.0} MB: +{grew:.0} MB for {more_data_mb:.0} MB more data"
    );
}
