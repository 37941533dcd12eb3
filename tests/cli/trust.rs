//! Issue 8, item by item: each test builds its bad input itself (in a temp dir) and checks that it is refused
//! cheaply, with one clear line naming the file, and that nothing finished is lost. CLI cases run the real binary;
//! memory is measured on the child process (its peak RSS from wait4).

use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::data::{classes, idx};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::training::config::TrainConfig;
use lenet_playground::engine::training::control::Control;
use lenet_playground::engine::training::train::train;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------------------------
// Helpers

use crate::support::cli::{bin, run, text};

use crate::support::peak_rss::measure;

/// Bad input: status 2, one clear line on stderr naming `what`, no panic.
#[track_caller]
fn assert_refused(out: &Output, what: &str, says: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(what), "stderr should name {what}: {err}");
    assert!(err.contains(says), "stderr should say '{says}': {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

use crate::support::data::mnist as mnist_data;

/// Valid weights file (untrained), for predict and eval.
fn weights_file(dir: &Path) -> PathBuf {
    let p = dir.join("w.safetensors");
    checkpoint::save(&p, &crate::support::data::fresh_weights(1)).unwrap();
    p
}

use crate::support::idx::{gz, idx_images, idx_labels, write_set};

fn load_err(dir: &Path) -> String {
    Dataset::from_dir(dir).expect_err("the data set is refused").to_string()
}

/// A PNG chunk with its CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend(kind);
    v.extend(data);
    v.extend(crc.sum().to_be_bytes());
    v
}

/// A PNG whose header claims w×h, with (if `rows`) all its rows: white, a black bar across the middle third.
/// `channels`: 1 grey, 3 RGB, 4 RGBA.
fn write_png(path: &Path, w: u32, h: u32, channels: u8, rows: bool) {
    let color = match channels {
        1 => 0,
        3 => 2,
        4 => 6,
        _ => unreachable!(),
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, color, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    if rows {
        let c = channels as usize;
        let white: Vec<u8> = std::iter::once(0).chain(std::iter::repeat_n(255u8, w as usize * c)).collect();
        let mut bar = white.clone();
        for x in (w as usize / 3)..(2 * w as usize / 3) {
            for k in 0..c.min(3) {
                bar[1 + x * c + k] = 0;
            }
        }
        for y in 0..h {
            z.write_all(if y > h / 3 && y < 2 * h / 3 { &bar } else { &white }).unwrap();
        }
    } else {
        z.write_all(&[0; 64]).unwrap();
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(b"\x89PNG\r\n\x1a\n").unwrap();
    f.write_all(&png_chunk(b"IHDR", &ihdr)).unwrap();
    f.write_all(&png_chunk(b"IDAT", &z.finish().unwrap())).unwrap();
    f.write_all(&png_chunk(b"IEND", &[])).unwrap();
}

/// A small valid JPEG (a dark bar on white), then its frame header's dimensions replaced by `w`×`h`.
fn write_jpeg(path: &Path, w: u16, h: u16) {
    let img = image::GrayImage::from_fn(64, 64, |x, _| image::Luma([if (20..44).contains(&x) { 0 } else { 255 }]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&img).unwrap();
    let sof = bytes.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline frame header");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Images: refused from their dimensions; accepted ones decode with bounded memory.

#[test]
fn an_image_over_the_size_limit_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let png = dir.path().join("huge.png");
    write_png(&png, 20_000, 20_000, 1, false);
    let m = measure(&["predict", "--weights", s(&w), s(&png)]);
    assert_refused(&m.out, "huge.png", "image is 20000×20000, over the limit of 8192 pixels a side and 64 megapixels");
    assert!(m.peak_rss_mb < 100.0, "{:.0} MB", m.peak_rss_mb);
    println!("20000×20000 PNG refused in {:.2} s, peak {:.0} MB", m.secs, m.peak_rss_mb);

    let jpg = dir.path().join("huge.jpg");
    write_jpeg(&jpg, 60_000, 50_000);
    let m = measure(&["predict", "--weights", s(&w), s(&jpg)]);
    assert_refused(&m.out, "huge.jpg", "image is 60000×50000, over the limit");
    assert!(m.peak_rss_mb < 100.0, "{:.0} MB", m.peak_rss_mb);

    // 9000 a side is refused even when the pixel count would fit.
    write_png(&png, 9000, 100, 1, false);
    assert_refused(&run(&["predict", "--weights", s(&w), s(&png)]), "huge.png", "image is 9000×100");
}

#[test]
fn the_largest_accepted_png_and_jpeg_decode_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    // 8000×8000 RGBA: 64 megapixels, 256 MB as RGBA8, 1 GB as f32 RGBA before.
    let png = dir.path().join("big.png");
    write_png(&png, 8000, 8000, 4, true);
    let m = measure(&["predict", "--weights", s(&w), s(&png)]);
    assert!(m.out.status.success(), "{}", text(&m.out.stderr));
    assert!(text(&m.out.stdout).starts_with(s(&png)));
    assert!(m.peak_rss_mb < 300.0, "peak {:.0} MB for a 64-megapixel PNG", m.peak_rss_mb);
    eprintln!("8000×8000 RGBA PNG: {:.1} s, peak {:.0} MB", m.secs, m.peak_rss_mb);

    // A large grey JPEG, decoded straight to one byte per pixel.
    let img =
        image::GrayImage::from_fn(6000, 6000, |x, _| image::Luma([if (2000..4000).contains(&x) { 0 } else { 255 }]));
    let jpg = dir.path().join("big.jpg");
    image::codecs::jpeg::JpegEncoder::new_with_quality(std::fs::File::create(&jpg).unwrap(), 80)
        .encode_image(&img)
        .unwrap();
    drop(img);
    let m = measure(&["predict", "--weights", s(&w), s(&jpg)]);
    assert!(m.out.status.success(), "{}", text(&m.out.stderr));
    assert!(m.peak_rss_mb < 300.0, "peak {:.0} MB for a 36-megapixel JPEG", m.peak_rss_mb);
    eprintln!("6000×6000 JPEG: {:.1} s, peak {:.0} MB", m.secs, m.peak_rss_mb);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. IDX files: bounded inflate, length checked first, multi-member gzip, data after the end.

#[test]
fn a_gzip_bomb_is_refused_after_what_the_header_promises() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bomb");
    write_set(&data, 20, 20);
    // Header says 20 images, then 1 GiB of zeros (about 1 MB compressed).
    let f = std::fs::File::create(data.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let mut e = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::best());
    e.write_all(&idx_images(20)[..16]).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    e.finish().unwrap().flush().unwrap();
    let w = weights_file(dir.path());
    let m = measure(&["eval", "--weights", s(&w), "--data", s(&data)]);
    assert_refused(&m.out, "t10k-images-idx3-ubyte.gz", "more data than the header's 20 images");
    assert!(m.peak_rss_mb < 120.0, "peak {:.0} MB for a 1 GiB bomb", m.peak_rss_mb);
    println!("1 GiB gzip bomb refused in {:.2} s, peak {:.0} MB", m.secs, m.peak_rss_mb);
}

#[test]
fn a_raw_file_is_checked_against_its_header_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("raw");
    write_set(&data, 20, 20);
    std::fs::remove_file(data.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let raw = data.join("t10k-images-idx3-ubyte");
    // A sparse 4 GiB file whose header says 20 images: refused from its size, nothing read.
    let f = std::fs::File::create(&raw).unwrap();
    (&f).write_all(&idx_images(20)).unwrap();
    f.set_len(4 << 30).unwrap();
    let t = Instant::now();
    let msg = load_err(&data);
    assert!(msg.contains("t10k-images-idx3-ubyte") && msg.contains("over the"), "{msg}");
    // Refused from the file's length alone: reading 4 GiB would take many seconds (a figure, not an assertion).
    println!("4 GiB raw file refused in {:?}", t.elapsed());
    // 100 MB (under the size limit): refused from its length against the header, before reading.
    f.set_len(100 << 20).unwrap();
    let t = Instant::now();
    let msg = load_err(&data);
    assert!(msg.contains("bytes of trailing data after 20 images"), "{msg}");
    println!("100 MB raw file refused in {:?}", t.elapsed());
    f.set_len(16 + 19 * 784).unwrap();
    assert!(load_err(&data).contains("truncated: header says 20 images"));
}

#[test]
fn multi_member_gzip_loads_and_data_after_the_end_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("multi");
    write_set(&data, 20, 20);
    let p = data.join("t10k-images-idx3-ubyte.gz");
    let raw = idx_images(20);
    // Two members, as `cat a.gz b.gz` makes (gzip -t accepts it).
    let mut two = gz(&raw[..5000]);
    two.extend(gz(&raw[5000..]));
    std::fs::write(&p, &two).unwrap();
    let d = Dataset::from_dir(&data).expect("multi-member gzip loads");
    assert_eq!(d.test.len(), 20);
    assert_eq!(d.test.images, raw[16..]);
    // Junk after the end.
    let mut junk = gz(&raw);
    junk.extend(b"JUNKJUNK");
    std::fs::write(&p, &junk).unwrap();
    let msg = load_err(&data);
    assert!(msg.contains("t10k-images-idx3-ubyte.gz") && msg.contains("unexpected data after the 20 images"), "{msg}");
    // A further member with more images than the header says.
    let mut more = gz(&raw);
    more.extend(gz(&[7; 784]));
    std::fs::write(&p, &more).unwrap();
    assert!(load_err(&data).contains("more data than the header's 20 images"));
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Weights files

#[test]
fn a_weights_path_that_is_not_a_small_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("d.png");
    write_png(&png, 84, 84, 1, true);
    let m = measure(&["predict", "--weights", "/dev/zero", s(&png)]);
    assert_refused(&m.out, "/dev/zero", "not a regular file");
    assert!(m.peak_rss_mb < 100.0, "{:.0} MB", m.peak_rss_mb);
    println!("--weights /dev/zero refused in {:.2} s, peak {:.0} MB", m.secs, m.peak_rss_mb);
    assert_refused(&run(&["predict", "--weights", s(dir.path()), s(&png)]), s(dir.path()), "not a regular file");
    let big = dir.path().join("big.safetensors");
    std::fs::File::create(&big).unwrap().set_len(50 << 20).unwrap();
    let m = measure(&["eval", "--weights", s(&big)]);
    assert_refused(&m.out, "big.safetensors", "more than any network of this playground needs");
    assert!(m.peak_rss_mb < 100.0, "{:.0} MB", m.peak_rss_mb);
}

#[test]
fn finite_weights_whose_outputs_overflow_give_a_clear_error_not_nan_or_null() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
    let mut w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &names);
    for p in w.params.iter_mut().filter(|p| p.name == "out.weight") {
        p.data.iter_mut().for_each(|v| *v = 3.0e38);
    }
    let path = dir.path().join("huge.safetensors");
    checkpoint::save(&path, &w).expect("finite weights are saved");
    let png = dir.path().join("d.png");
    write_png(&png, 84, 84, 1, true);
    for json in [false, true] {
        let mut args = vec!["predict", "--weights", s(&path), s(&png)];
        if json {
            args.push("--json");
        }
        let out = run(&args);
        assert_refused(&out, "huge.safetensors", "outputs overflow");
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("NaN") && !stdout.contains("null"), "{stdout}");
    }
    let out = run(&["eval", "--json", "--weights", s(&path)]);
    assert_refused(&out, "huge.safetensors", "outputs overflow");
    assert!(!text(&out.stdout).contains("null"));
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Data sets: empty test set, classes.txt, Fashion-MNIST by checksum, SHA256SUMS forms.

#[test]
fn a_test_set_with_no_images_is_an_error_for_train_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty-test");
    write_set(&data, 100, 0);
    let w = weights_file(dir.path());
    assert_refused(&run(&["eval", "--weights", s(&w), "--data", s(&data)]), "t10k-images", "0 images");
    assert_refused(&run(&["train", "--epochs", "1", "--data", s(&data)]), "t10k-images", "0 images");
    // Through the engine too, with a data set built in memory.
    let d = Dataset {
        test: mnist_data().test.truncated(0),
        train: mnist_data().train.truncated(10),
        ..mnist_data().clone()
    };
    let r = train(&TrainConfig::default(), &d, None, &Control::new(), &mut |_| {});
    assert!(r.unwrap_err().to_string().contains("test set is empty"));
}

#[test]
fn classes_txt_must_be_ten_clean_utf8_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, 10, 10);
    let classes = data.join("classes.txt");
    let ten = |f: &dyn Fn(usize) -> String| (0..10).map(f).collect::<Vec<_>>().join("\n");
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (b"caf\xe9\n1\n2\n3\n4\n5\n6\n7\n8\n9\n".to_vec(), "not UTF-8"),
        (ten(&|i| i.to_string()).replace("\n9", "").into_bytes(), "found 9 lines"),
        (format!("{}\n10", ten(&|i| i.to_string())).into_bytes(), "found 11 lines"),
        (ten(&|i| if i == 4 { " ".into() } else { i.to_string() }).into_bytes(), "line 5 is empty"),
        (ten(&|i| if i == 2 { "x".repeat(65) } else { i.to_string() }).into_bytes(), "65 characters long"),
        (
            ten(&|i| if i == 0 { "a\x1b[31mred".into() } else { i.to_string() }).into_bytes(),
            "control character (U+001B)",
        ),
    ];
    for (bytes, says) in bad {
        std::fs::write(&classes, &bytes).unwrap();
        let msg = load_err(&data);
        assert!(msg.contains("classes.txt") && msg.contains(says), "{says}: {msg}");
    }
    std::fs::remove_file(&classes).unwrap();
    std::fs::create_dir(&classes).unwrap();
    assert!(load_err(&data).contains("classes.txt: not a regular file"));
    std::fs::remove_dir(&classes).unwrap();
    // Good: a byte-order mark, CRLF line ends, spaces around names, a blank line at the end, non-ASCII names.
    let names = ["T-shirt", "Hose", "Pull", "Kleid", "Mantel", "Sandale", "Hemd", "Sneaker", "Tasche", "Stiefel"];
    std::fs::write(&classes, format!("\u{feff}{}\r\n\r\n", names.map(|n| format!(" {n} ")).join("\r\n"))).unwrap();
    assert_eq!(Dataset::from_dir(&data).unwrap().class_names, names);
}

#[test]
fn fashion_names_come_from_checksums_not_from_the_folder_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("my-fashion-photos");
    write_set(&data, 10, 10);
    let d = Dataset::from_dir(&data).unwrap();
    assert_eq!(d.name, "my-fashion-photos");
    assert_eq!(d.class_names, classes::DIGIT_CLASSES);
    // The real Fashion-MNIST, under a neutral name and with raw (decompressed) label files.
    let debian = Path::new("/usr/share/datasets/fashion-mnist");
    if !debian.is_dir() {
        eprintln!("skipped the Fashion-MNIST half: {} is not installed", debian.display());
        return;
    }
    let neutral = dir.path().join("set-b");
    std::fs::create_dir(&neutral).unwrap();
    for stem in [idx::TRAIN_IMAGES, idx::TEST_IMAGES] {
        std::os::unix::fs::symlink(debian.join(format!("{stem}.gz")), neutral.join(format!("{stem}.gz"))).unwrap();
    }
    for stem in [idx::TRAIN_LABELS, idx::TEST_LABELS] {
        let mut raw = Vec::new();
        let f = std::fs::File::open(debian.join(format!("{stem}.gz"))).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(f), &mut raw).unwrap();
        std::fs::write(neutral.join(stem), raw).unwrap();
    }
    let d = Dataset::from_dir(&neutral).unwrap();
    assert_eq!(d.name, "Fashion-MNIST");
    assert_eq!(d.class_names[9], "Ankle boot");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sha256sums_in_sha256sums_own_forms_match_whole_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sums");
    write_set(&data, 10, 5);
    let names = [idx::TRAIN_IMAGES, idx::TRAIN_LABELS, idx::TEST_IMAGES, idx::TEST_LABELS];
    let hash = |n: &str| sha256_hex(&std::fs::read(data.join(format!("{n}.gz"))).unwrap());
    let forms = ["{h}  {n}.gz", "{h} *{n}.gz", "{h}  ./{n}.gz", "{h} *./{n}.gz"];
    let lines: Vec<String> =
        names.iter().zip(forms).map(|(n, f)| f.replace("{h}", &hash(n)).replace("{n}", n)).collect();
    std::fs::write(data.join("SHA256SUMS"), format!("# made by sha256sum\n{}\n", lines.join("\n"))).unwrap();
    Dataset::from_dir(&data).expect("every form is accepted");
    // They are really checked: a wrong hash in the ./ form is a mismatch.
    let wrong = lines.join("\n").replace(&hash(idx::TEST_IMAGES), &"0".repeat(64));
    std::fs::write(data.join("SHA256SUMS"), wrong).unwrap();
    let msg = load_err(&data);
    assert!(msg.contains("t10k-images-idx3-ubyte.gz: checksum mismatch"), "{msg}");
    // Whole names: a list naming only the .gz files says nothing about raw files of the same stem.
    let raw = data.join(idx::TRAIN_LABELS);
    std::fs::write(&raw, idx_labels(10)).unwrap();
    std::fs::remove_file(data.join(format!("{}.gz", idx::TRAIN_LABELS))).unwrap();
    std::fs::write(data.join("SHA256SUMS"), format!("{}\n", lines[0])).unwrap();
    Dataset::from_dir(&data).expect("an unlisted raw file is not 'listed' by a .gz name containing it");
    // A line that is not a checksum line is an error naming the list.
    std::fs::write(data.join("SHA256SUMS"), "deadbeef  train-images-idx3-ubyte.gz\n").unwrap();
    assert!(load_err(&data).contains("SHA256SUMS: line 1: not a sha256sum line"));
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Numbers

#[test]
fn lr_and_bench_steps_outside_their_ranges_are_refused_with_the_range() {
    for lr in ["1e30", "0", "-1", "2.5", "0.00001", "nan", "inf"] {
        let out = run(&["train", &format!("--lr={lr}"), "--epochs", "1", "--limit", "100"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--lr {lr}: {err}");
        assert!(err.contains("0.0001 to 2"), "--lr {lr}: {err}");
        assert!(!err.contains("training LeNet-5"), "refused before training: {err}");
    }
    for steps in ["0", "10001", "1000000000000"] {
        let out = run(&["bench", &format!("--steps={steps}")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--steps {steps}: {err}");
        assert!(err.contains("1 to 10000"), "--steps {steps}: {err}");
    }
    let out = run(&["train", "--lr", "2", "--optimizer", "sgd", "--epochs", "1", "--limit", "100"]);
    assert!(out.status.success(), "the slider's maximum is allowed: {}", text(&out.stderr));
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Divergence

// The engine's side (divergence caught in the loop, NaN weights never written) is in tests/engine/trust.rs.

fn all_finite(w: &ModelWeights) -> bool {
    w.params.iter().all(|p| p.data.iter().all(|v| v.is_finite()))
}

#[test]
fn a_diverged_cli_run_saves_the_last_good_weights_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("w.safetensors");
    let metrics = dir.path().join("m.csv");
    // The slider's largest learning rate with Adam on ReLU diverges within the first batches.
    let out = run(&[
        "train",
        "--preset",
        "modern",
        "--lr",
        "2",
        "--init",
        "normal",
        "--epochs",
        "1",
        "--limit",
        "2000",
        "--save",
        s(&save),
        "--metrics",
        s(&metrics),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("training diverged").count(), 1, "the advice is printed once: {err}");
    assert!(err.contains(&format!("They were saved to {}", save.display())), "{err}");
    let w = checkpoint::load(&save).expect("the last good weights load");
    assert!(all_finite(&w));
    assert!(metrics.exists(), "metrics are written too");
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Outputs checked before training; every output attempted at the end.

#[test]
fn unwritable_outputs_fail_before_any_training() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("w.safetensors");
    let cases: Vec<(Vec<String>, &str)> = vec![
        // /proc takes no new files, even for root.
        (vec!["--save".into(), "/proc/w.safetensors".into()], "/proc/w.safetensors"),
        (vec!["--metrics".into(), "/proc/m.csv".into(), "--save".into(), s(&ok).into()], "/proc/m.csv"),
        (vec!["--save".into(), s(&dir.path().join("no/such/w")).into()], "no/such/w"),
        (vec!["--metrics".into(), s(dir.path()).into()], "it is a folder"),
    ];
    for (extra, what) in cases {
        let mut args = vec!["train", "--epochs", "1", "--limit", "1000"];
        args.extend(extra.iter().map(String::as_str));
        let out = run(&args);
        // One line on stderr: refused before the data was even loaded, so no training happened.
        assert_refused(&out, what, "cannot write");
    }
    // The run folder of `--record` is probed the same way.
    let out = bin()
        .args(["train", "--epochs", "1", "--limit", "1000", "--record"])
        .env("LENET_PLAYGROUND_HOME", "/proc/lenet-home")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_refused(&out, "/proc/lenet-home", "cannot create the runs folder");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "no probe file left behind");
    // A read-only folder (only meaningful when not root: root writes anywhere).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::File::create(ro.join("probe")).is_err() {
        assert_refused(&run(&["train", "--save", s(&ro.join("w")), "--limit", "100"]), "ro/w", "cannot create a file");
    }
    // The same file twice.
    let same = dir.path().join("same");
    let out = run(&["train", "--save", s(&same), "--metrics", s(&dir.path().join(".").join("same"))]);
    assert_refused(&out, "same", "--save and --metrics name the same file");
}

#[test]
fn weights_are_saved_even_when_the_metrics_file_cannot_be_written_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("w.safetensors");
    let mdir = dir.path().join("metrics");
    std::fs::create_dir(&mdir).unwrap();
    let mut child = bin()
        .args(["train", "--epochs", "2", "--limit", "3000", "--save", s(&save), "--metrics"])
        .arg(mdir.join("m.csv"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Once training has begun (the up-front check passed), the metrics folder goes away.
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "training started: {seen}");
        seen.push_str(&line);
        if line.starts_with("training LeNet-5") {
            break;
        }
    }
    std::fs::remove_dir(&mdir).unwrap();
    std::io::Read::read_to_string(&mut err, &mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{seen}");
    assert!(seen.contains(&format!("weights saved to {}", save.display())), "{seen}");
    assert!(seen.contains("error: cannot write") && seen.contains("m.csv"), "{seen}");
    checkpoint::load(&save).expect("the trained weights are there");
}

// ---------------------------------------------------------------------------------------------------------------
// 8. A closed pipe

#[test]
fn a_closed_pipe_is_not_a_crash_and_the_run_still_saves() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("w.safetensors");
    // `train … 2>&1 | head -1`: both streams into one pipe whose reader goes away after one line.
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = bin()
        .args(["train", "--epochs", "1", "--limit", "2000", "--save", s(&save)])
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(reader).read_line(&mut first).unwrap();
    // The reader is dropped here: every later write gets EPIPE.
    assert!(first.starts_with("data: "), "{first}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "no panic (101) on a closed pipe");
    checkpoint::load(&save).expect("the weights were saved");
}

// ---------------------------------------------------------------------------------------------------------------
// 9. predict with several images

#[test]
fn predict_answers_every_good_image_and_names_each_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let good1 = dir.path().join("a.png");
    let good2 = dir.path().join("c.png");
    write_png(&good1, 84, 84, 1, true);
    write_png(&good2, 100, 60, 3, true);
    let bad = dir.path().join("b.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let missing = dir.path().join("missing.png");
    let out = run(&["predict", "--weights", s(&w), s(&good1), s(&bad), s(&missing), s(&good2)]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with(s(&good1)) && lines[1].starts_with(s(&good2)));
    let err = text(&out.stderr);
    let errs: Vec<&str> = err.lines().collect();
    assert_eq!(errs.len(), 2, "{err}");
    assert!(errs[0].starts_with("error: ") && errs[0].contains("b.png"), "{err}");
    assert!(errs[1].contains("missing.png"), "{err}");
}

// 10. The atomic writer and the engine's divergence cases: tests/engine/trust.rs.

// ---------------------------------------------------------------------------------------------------------------
// Issue 17, class by class: each test builds its input itself.

fn env_run(args: &[&str], home: &Path) -> Output {
    bin().args(args).env("LENET_PLAYGROUND_HOME", home).stdin(Stdio::null()).output().expect("the binary runs")
}

/// 1. An output naming stdout or a FIFO is streamed to, never replaced by a regular file.
#[test]
fn an_output_that_is_a_stream_is_written_in_place_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["train", "--epochs", "1", "--limit", "200", "--metrics", "/dev/stdout"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("kind"), "the CSV went to stdout: {}", text(&out.stdout));
    let link = std::fs::symlink_metadata("/dev/stdout").unwrap();
    assert!(link.file_type().is_symlink(), "/dev/stdout is still the link it was");
    // A FIFO: its reader gets the weights, and it stays a FIFO.
    let fifo = dir.path().join("w.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let out = run(&["train", "--epochs", "1", "--limit", "200", "--save", s(&fifo)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bytes = reader.join().unwrap();
    checkpoint::from_bytes(&bytes).expect("whole weights through the pipe");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A socket is refused before training, and kept.
    let sock = dir.path().join("m.sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    assert_refused(&run(&["train", "--metrics", s(&sock)]), "m.sock", "not a regular file (a socket)");
    assert!(std::fs::metadata(&sock).unwrap().file_type().is_socket());
}

/// 2. An output that is one of the command's inputs is refused before anything is written.
#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let before = std::fs::read(&w).unwrap();
    let png = dir.path().join("a.png");
    write_png(&png, 84, 84, 1, true);
    for out in [&w, &png] {
        let o = run(&["explain", "--weights", s(&w), s(&png), "--out", s(out)]);
        assert_refused(&o, "--out", "is one of this command's inputs");
    }
    assert_eq!(std::fs::read(&w).unwrap(), before, "the weights are untouched");
    let data = dir.path().join("data");
    write_set(&data, 100, 20);
    std::fs::write(data.join("classes.txt"), DIGITS_TXT).unwrap();
    let labels = data.join(format!("{}.gz", idx::TRAIN_LABELS));
    for (flag, target) in [("--metrics", data.join("classes.txt")), ("--save", labels.clone())] {
        let o = run(&["train", "--data", s(&data), flag, s(&target)]);
        assert_refused(&o, flag, "is one of this command's inputs");
    }
    assert_eq!(std::fs::read_to_string(data.join("classes.txt")).unwrap(), DIGITS_TXT);
}

const DIGITS_TXT: &str = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n";

/// 3. Ctrl-C during train keeps the finished work and exits 130; a second SIGTERM exits at once, no temporaries.
#[test]
fn a_signal_during_train_stops_it_and_keeps_the_finished_work() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("w.safetensors");
    let metrics = dir.path().join("m.csv");
    let home = dir.path().join("home");
    let mut child = bin()
        .args(["train", "--epochs", "20", "--limit", "3000", "--save", s(&save), "--metrics", s(&metrics)])
        .args(["--record", "--run-name", "interrupted"])
        .env("LENET_PLAYGROUND_HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("epoch 1/20"), "{line}");
    let kill =
        |sig: &str, pid: u32| assert!(Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success());
    kill("-INT", child.id());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("stopped by Ctrl-C (SIGINT) at epoch") && err.contains(s(&save)), "{err}");
    checkpoint::load(&save).expect("the weights of the last finished step");
    assert!(std::fs::read_to_string(&metrics).unwrap().lines().count() > 2, "metrics written");
    let runs = env_run(&["runs", "--json"], &home);
    let v: serde_json::Value = serde_json::from_str(text(&runs.stdout).trim()).unwrap();
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["name"], "interrupted");

    // Two SIGTERMs: out at once with 143, nothing temporary left.
    let out_dir = dir.path().join("second");
    std::fs::create_dir(&out_dir).unwrap();
    let mut child = bin()
        .args(["train", "--epochs", "20", "--limit", "3000", "--save", s(&out_dir.join("w")), "--metrics"])
        .arg(out_dir.join("m.csv"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0);
        if line.starts_with("training LeNet-5") {
            break;
        }
    }
    kill("-TERM", child.id());
    kill("-TERM", child.id());
    let t0 = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(t0.elapsed().as_secs_f64() < 5.0, "the second signal exits at once");
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{left:?}");
}

/// 4. A write error on stdout is reported once; a closed pipe stays quiet.
#[test]
fn a_write_error_on_stdout_is_reported_once_and_a_closed_pipe_stays_quiet() {
    let full = bin().args(["inspect"]).stdout(std::fs::File::create("/dev/full").unwrap()).output().unwrap();
    let err = text(&full.stderr);
    assert!(matches!(full.status.code(), Some(1 | 2)), "{err}");
    assert!(err.contains("standard output") && err.contains("No space left"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let closed = bin().args(["inspect", "--details"]).stdout(writer).output().unwrap();
    assert_eq!(closed.status.code(), Some(0));
    assert!(closed.stderr.is_empty(), "{}", text(&closed.stderr));
}

/// 5. A JPEG cut short is refused naming the file; a large progressive JPEG is refused from its header.
#[test]
fn a_truncated_jpeg_is_refused_and_large_progressive_ones_too() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let img = image::GrayImage::from_fn(300, 300, |x, y| {
        image::Luma([if (100..200).contains(&x) && y > 30 { 0 } else { 255 }])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&img).unwrap();
    let whole = dir.path().join("whole.jpg");
    std::fs::write(&whole, &bytes).unwrap();
    assert!(run(&["predict", "--weights", s(&w), s(&whole)]).status.success());
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = run(&["predict", "--weights", s(&w), s(&cut)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains("cut.jpg"), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "no digit answered: {}", text(&o.stdout));
    // The same frame header marked progressive (SOF2) at 5000×4000: over the 16-megapixel limit for those.
    let prog = dir.path().join("prog.jpg");
    write_jpeg(&prog, 5000, 4000);
    let mut b = std::fs::read(&prog).unwrap();
    let sof = b.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    b[sof + 1] = 0xC2;
    std::fs::write(&prog, b).unwrap();
    let m = measure(&["predict", "--weights", s(&w), s(&prog)]);
    assert_refused(&m.out, "prog.jpg", "16 megapixels for a progressive JPEG");
    assert!(m.peak_rss_mb < 100.0, "{:.0} MB", m.peak_rss_mb);
}

/// Item 6: eval --mistakes never mixes with files it did not write; --force replaces only its own; 10k PNGs (the
/// time is printed).
#[test]
fn eval_mistakes_never_overwrites_what_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let out = dir.path().join("mistakes");
    let t0 = Instant::now();
    let o = run(&["eval", "--weights", s(&w), "--mistakes", s(&out)]);
    let secs = t0.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let n = std::fs::read_dir(&out).unwrap().count();
    assert!(n > 5000, "an untrained network gets most wrong: {n} files");
    // A figure, not a limit: tests never fail on timing (a loaded CI machine took 20 s once).
    eprintln!("eval --mistakes: {n} files in {secs:.1} s");
    let again = run(&["eval", "--weights", s(&w), "--mistakes", s(&out)]);
    assert_refused(&again, "mistakes", "not empty");
    assert!(run(&["eval", "--weights", s(&w), "--mistakes", s(&out), "--force"]).status.success());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), n, "replaced, not added to");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let forced = run(&["eval", "--weights", s(&w), "--mistakes", s(&out), "--force"]);
    assert_refused(&forced, "notes.txt", "--force replaces only");
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), n + 1, "nothing removed when refused");
}

/// 8. Control characters in names never reach the terminal raw; a run name with one is refused.
#[test]
fn names_with_control_characters_are_refused_or_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let w = weights_file(dir.path());
    let evil = dir.path().join("a\x1b[2J\rb\x07.png");
    std::fs::write(&evil, b"not an image").unwrap();
    let o = run(&["predict", "--weights", s(&w), s(&evil)]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(!err.contains('\x1b') && !err.contains('\r') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("\\u{1b}[2J"), "{err}");
    let o = run(&["train", "--record", "--run-name", "two\nlines"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("control characters"), "{}", text(&o.stderr));
}

/// 9. The run store: unreadable store exits 2, impossible summaries are skipped, a failed save leaves nothing.
#[test]
fn the_run_store_is_refused_skipped_or_left_clean() {
    use lenet_playground::engine::store::runs::{NewRun, RunStore};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("runs"), "a file where the runs folder goes").unwrap();
    assert_refused(&env_run(&["runs"], &home), "runs", "the runs folder is not a folder");
    std::fs::remove_file(home.join("runs")).unwrap();
    let o = env_run(&["train", "--epochs", "1", "--limit", "200", "--record"], &home);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let store = RunStore::new(&home);
    let run = store.list().runs.pop().unwrap();
    let json_path = run.dir.join("run.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    v["summary"]["test_accuracy"] = serde_json::json!(1.5);
    std::fs::write(&json_path, v.to_string()).unwrap();
    let o = env_run(&["runs"], &home);
    assert!(text(&o.stderr).contains("out-of-range summary (test accuracy 1.5"), "{}", text(&o.stderr));
    // A symlink to a run folder is one run, not two with one id.
    std::os::unix::fs::symlink(&run.dir, store.runs_dir().join("20990101-000000-link")).unwrap();
    v["summary"]["test_accuracy"] = serde_json::json!(0.5);
    std::fs::write(&json_path, v.to_string()).unwrap();
    assert_eq!(store.list().runs.len(), 1);
    // A save that fails (weights that are not finite) leaves no folder behind.
    let mut bad = run.clone();
    let names: Vec<String> = classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
    let mut w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &names);
    w.params[0].data[0] = f32::NAN;
    bad.record.name = "bad".into();
    let before = std::fs::read_dir(store.runs_dir()).unwrap().count();
    assert!(store.save(&NewRun { record: bad.record, metrics_csv: String::new(), weights: Some(w) }).is_err());
    assert_eq!(std::fs::read_dir(store.runs_dir()).unwrap().count(), before, "no half folder");
}

/// 10. Errors name the culprit: an empty training set names the data folder; a data file that is a folder says so.
#[test]
fn data_errors_name_the_folder_and_what_the_path_is() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty-train");
    write_set(&data, 0, 20);
    assert_refused(&run(&["train", "--data", s(&data)]), "empty-train", "the training set");
    let odd = dir.path().join("odd");
    write_set(&odd, 50, 20);
    let labels = odd.join(format!("{}.gz", idx::TRAIN_LABELS));
    std::fs::remove_file(&labels).unwrap();
    std::fs::create_dir(&labels).unwrap();
    let e = load_err(&odd);
    assert!(e.contains("train-labels-idx1-ubyte.gz: not a regular file (a folder)"), "{e}");
}
