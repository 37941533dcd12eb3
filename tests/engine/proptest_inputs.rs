//! Property tests over every kind of input file the playground reads: valid IDX, safetensors and PNG files are
//! mutated (truncated, bytes flipped, junk appended, header fields set to extremes) and each reader must answer
//! with a value or an error that names the file — never a panic, never unbounded memory. A gzip bomb is checked in
//! a child process by its peak RSS.
//!
//! Run folders (run.json, metrics.csv) are mutated the same way: the store lists the run or skips it with a message
//! naming its folder, and a stored run's curves load or give an error naming the file.

use lenet_playground::engine::data::digit::GrayImage;
use lenet_playground::engine::data::set::Dataset;
use lenet_playground::engine::data::{classes, idx};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::config::{Init, ModelConfig};
use lenet_playground::engine::model::weights::ModelWeights;
use lenet_playground::engine::store::runs::{self, NewRun, RunRecord, RunSource, RunStatus, RunStore};
use lenet_playground::engine::training::config::TrainConfig;
use lenet_playground::engine::training::events::{BatchMetrics, EpochMetrics};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep only this fraction (of 1000) of the bytes.
    Truncate(u16),
    Flip(Index, u8),
    Append(Vec<u8>),
    /// A 32-bit field (big- or little-endian) set to an extreme value.
    SetU32 {
        at: Index,
        value: u32,
        big_endian: bool,
    },
    /// A field at a fixed offset (a header field) set to an extreme value.
    SetHeader {
        offset: usize,
        value: u32,
        big_endian: bool,
    },
}

fn extreme_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(1), Just(27), Just(28), Just(0x7fff_ffff), Just(u32::MAX), any::<u32>()]
}

/// Mutations for a file whose header fields sit at `header_offsets`.
fn mutations(header_offsets: &'static [usize]) -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (0u16..1000).prop_map(Mutation::Truncate),
        (any::<Index>(), 1u8..=255).prop_map(|(i, m)| Mutation::Flip(i, m)),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
        (any::<Index>(), extreme_u32(), any::<bool>()).prop_map(|(at, value, big_endian)| Mutation::SetU32 {
            at,
            value,
            big_endian
        }),
        (prop::sample::select(header_offsets), extreme_u32(), any::<bool>())
            .prop_map(|(offset, value, big_endian)| Mutation::SetHeader { offset, value, big_endian }),
    ];
    prop::collection::vec(one, 1..4)
}

fn apply(bytes: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in ms {
        match m {
            Mutation::Truncate(f) => b.truncate(b.len() * *f as usize / 1000),
            Mutation::Flip(i, mask) if !b.is_empty() => {
                let i = i.index(b.len());
                b[i] ^= mask;
            }
            Mutation::Append(junk) => b.extend(junk),
            Mutation::SetU32 { at, value, big_endian } if b.len() >= 4 => {
                let at = at.index(b.len() - 3);
                set_u32(&mut b, at, *value, *big_endian);
            }
            Mutation::SetHeader { offset, value, big_endian } if b.len() >= 4 => {
                let at = (*offset).min(b.len() - 4);
                set_u32(&mut b, at, *value, *big_endian);
            }
            _ => {}
        }
    }
    b
}

fn set_u32(b: &mut [u8], at: usize, value: u32, big_endian: bool) {
    let v = if big_endian { value.to_be_bytes() } else { value.to_le_bytes() };
    b[at..at + 4].copy_from_slice(&v);
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn idx_images(n: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    v.extend((n as u32).to_be_bytes());
    v.extend(28u32.to_be_bytes());
    v.extend(28u32.to_be_bytes());
    v.extend((0..n * 784).map(|i| (i * 7 % 256) as u8));
    v
}

fn idx_labels(n: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((n as u32).to_be_bytes());
    v.extend((0..n).map(|i| (i % 10) as u8));
    v
}

#[track_caller]
fn names_the_file(msg: &str, path: &Path) -> std::result::Result<(), TestCaseError> {
    prop_assert!(msg.contains(&path.display().to_string()), "error does not name {}: {msg}", path.display());
    prop_assert!(!msg.trim().is_empty() && !msg.contains('\n'), "one line: {msg}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------

#[test]
fn mutated_idx_files_parse_or_name_the_file() {
    let path = Path::new("/data/t10k-images-idx3-ubyte.gz");
    let images = idx_images(12);
    let labels = idx_labels(12);
    let inputs = [(images.clone(), true), (gz(&images), true), (labels.clone(), false), (gz(&labels), false)];
    let mut r = runner(1600);
    r.run(&(0usize..4, mutations(&[0, 4, 8, 12])), |(which, ms)| {
        let (base, is_images) = &inputs[which];
        let bytes = apply(base, &ms);
        let result = if *is_images {
            idx::parse_images(path, &bytes).map(|(n, px)| {
                assert_eq!(px.len(), n * 784);
                n
            })
        } else {
            idx::parse_labels(path, &bytes).map(|l| {
                assert!(l.iter().all(|&x| x < 10));
                l.len()
            })
        };
        match result {
            Ok(n) => prop_assert!(n <= idx::MAX_IDX_IMAGES),
            Err(e) => names_the_file(&e.to_string(), path)?,
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_data_folder_with_one_mutated_file_loads_or_names_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (idx::TRAIN_IMAGES, gz(&idx_images(6))),
        (idx::TRAIN_LABELS, gz(&idx_labels(6))),
        (idx::TEST_IMAGES, idx_images(3)),
        (idx::TEST_LABELS, idx_labels(3)),
    ];
    let name = |i: usize| {
        if i < 2 {
            format!("{}.gz", files[i].0)
        } else {
            files[i].0.to_string()
        }
    };
    for (i, f) in files.iter().enumerate() {
        std::fs::write(dir.path().join(name(i)), &f.1).unwrap();
    }
    Dataset::from_dir(dir.path()).expect("the unmutated set loads");
    let mut r = runner(200);
    r.run(&(0usize..4, mutations(&[0, 4, 8, 12])), |(which, ms)| {
        let p = dir.path().join(name(which));
        std::fs::write(&p, apply(&files[which].1, &ms)).unwrap();
        let result = Dataset::from_dir(dir.path());
        std::fs::write(&p, &files[which].1).unwrap();
        match result {
            Ok(d) => prop_assert_eq!(d.train.images.len(), d.train.len() * 784),
            // The mutated file, or (for a count that changed) its partner.
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains(dir.path().to_str().unwrap()), "{msg}");
            }
        }
        Ok(())
    })
    .unwrap();
}

fn valid_weights() -> &'static Vec<u8> {
    static W: OnceLock<Vec<u8>> = OnceLock::new();
    W.get_or_init(|| {
        let names: Vec<String> = classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
        let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 5, "MNIST", &names);
        checkpoint::to_bytes(&w).unwrap()
    })
}

/// Replaces the n-th number in the safetensors JSON header with an extreme.
fn extreme_header_number(bytes: &[u8], n: usize, extreme: &str) -> Vec<u8> {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&bytes[8..8 + len]).into_owned();
    let mut starts = Vec::new();
    let hb = header.as_bytes();
    for i in 0..hb.len() {
        if hb[i].is_ascii_digit() && (i == 0 || !(hb[i - 1].is_ascii_alphanumeric() || hb[i - 1] == b'.')) {
            starts.push(i);
        }
    }
    if starts.is_empty() {
        return bytes.to_vec();
    }
    let s = starts[n % starts.len()];
    let e = s + hb[s..].iter().take_while(|c| c.is_ascii_digit()).count();
    let new_header = format!("{}{}{}", &header[..s], extreme, &header[e..]);
    let mut out = (new_header.len() as u64).to_le_bytes().to_vec();
    out.extend(new_header.as_bytes());
    out.extend(&bytes[8 + len..]);
    out
}

#[test]
fn mutated_weights_files_load_or_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    let base = valid_weights();
    let extremes = prop::sample::select(vec!["0", "1", "4294967295", "18446744073709551615", "99999999999999999999"]);
    let mut r = runner(900);
    r.run(&(mutations(&[0, 4, 8, 12, 16]), any::<Option<(usize, ())>>(), extremes), |(ms, json, extreme)| {
        let mut bytes = apply(base, &ms);
        if let Some((n, ())) = json {
            if bytes.len() >= 8 && u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize <= bytes.len() - 8 {
                bytes = extreme_header_number(&bytes, n, extreme);
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        match checkpoint::load(&path) {
            Ok(w) => prop_assert!(w.check_shapes().is_ok()),
            Err(e) => names_the_file(&e.to_string(), &path)?,
        }
        Ok(())
    })
    .unwrap();
}

fn valid_png() -> &'static Vec<u8> {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| {
        let img = image::GrayImage::from_fn(40, 40, |x, y| {
            image::Luma([if (12..28).contains(&x) && (8..32).contains(&y) { 20 } else { 240 }])
        });
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    })
}

/// Recomputes the IHDR chunk's CRC so a mutated width or height reaches the dimension check.
fn fix_ihdr_crc(b: &mut [u8]) {
    if b.len() >= 33 && &b[12..16] == b"IHDR" {
        let mut crc = flate2::Crc::new();
        crc.update(&b[12..29]);
        b[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    }
}

#[test]
fn mutated_png_files_decode_or_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digit.png");
    let base = valid_png();
    GrayImage::read_file(&{
        std::fs::write(&path, base).unwrap();
        path.clone()
    })
    .expect("the unmutated PNG reads");
    let mut r = runner(900);
    // 16 and 20: IHDR width and height; 24..: bit depth, colour type, interlace.
    r.run(&(mutations(&[16, 20, 24, 25]), any::<bool>()), |(ms, fix_crc)| {
        let mut bytes = apply(base, &ms);
        if fix_crc {
            fix_ihdr_crc(&mut bytes);
        }
        std::fs::write(&path, &bytes).unwrap();
        match GrayImage::read_file(&path) {
            Ok(g) => {
                prop_assert!(g.width >= 1 && g.height >= 1 && g.width <= 1024 && g.height <= 1024);
                prop_assert_eq!(g.pixels.len(), g.width * g.height);
                prop_assert!(g.pixels.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            }
            Err(e) => names_the_file(&e.to_string(), &path)?,
        }
        Ok(())
    })
    .unwrap();
}

/// A small stored run (no weights): a record, and a metrics CSV of two epochs of three batches.
fn stored_run(store: &RunStore) -> runs::StoredRun {
    let batch = |epoch, batch| BatchMetrics {
        epoch,
        batch,
        batches_per_epoch: 3,
        loss: 1.0 / batch as f32,
        accuracy: 0.5,
        lr: 0.01,
        images_per_sec: 1000.0,
        elapsed_secs: 0.1,
    };
    let epoch = |epoch| EpochMetrics {
        epoch,
        train_loss: 0.5,
        train_accuracy: 0.8,
        test_loss: 0.4,
        test_accuracy: 0.9,
        test_class_accuracy: vec![0.9; 10],
        confusion: Vec::new(),
        predictions: None,
        epoch_secs: 0.3,
        elapsed_secs: 0.3 * epoch as f64,
    };
    let batches: Vec<_> = (1..=2).flat_map(|e| (1..=3).map(move |b| batch(e, b))).collect();
    let epochs = vec![epoch(1), epoch(2)];
    let record = RunRecord {
        format: String::new(),
        id: String::new(),
        name: "a run".into(),
        created_unix: 1_700_000_000,
        created_unix_ms: 0,
        source: RunSource::Cli,
        status: RunStatus::Finished,
        message: None,
        config: TrainConfig::default(),
        dataset: "MNIST".into(),
        summary: runs::summarize(&batches, &epochs, 0.6),
        lr_changes: Vec::new(),
        hints: Vec::new(),
        continued_from: None,
        color_slot: None,
    };
    let metrics_csv = lenet_playground::engine::training::metrics::to_csv(Default::default(), &batches, &epochs);
    store.save(&NewRun { record, metrics_csv, weights: None }).unwrap()
}

#[test]
fn mutated_run_folders_are_listed_or_skipped_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let run = stored_run(&store);
    let json_path = run.dir.join("run.json");
    let csv_path = run.metrics_path();
    let json = std::fs::read(&json_path).unwrap();
    let csv = std::fs::read(&csv_path).unwrap();
    assert_eq!(store.list().runs.len(), 1, "the unmutated run is listed");
    store.load_metrics(&run).expect("the unmutated metrics load");
    let mut r = runner(400);
    r.run(&(any::<bool>(), mutations(&[0, 2, 10, 40])), |(which_json, ms)| {
        let (path, base) = if which_json { (&json_path, &json) } else { (&csv_path, &csv) };
        std::fs::write(path, apply(base, &ms)).unwrap();
        let list = store.list();
        prop_assert_eq!(list.runs.len() + list.skipped.len(), 1, "the folder is listed or skipped");
        for m in &list.skipped {
            names_the_file(m, &run.dir)?;
        }
        if let Some(listed) = list.runs.first() {
            if let Err(e) = store.load_metrics(listed) {
                names_the_file(&e.to_string(), &csv_path)?;
            }
        }
        std::fs::write(path, base).unwrap();
        Ok(())
    })
    .unwrap();
}

#[test]
fn gzip_bombs_in_any_of_the_four_files_stay_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
    let weights = dir.path().join("w.safetensors");
    checkpoint::save(&weights, &ModelWeights::init(ModelConfig::default(), Init::Xavier, 1, "MNIST", &names)).unwrap();
    // 512 MiB of zeros after a valid header, compressed once and reused.
    let bomb_body = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..512 {
            e.write_all(&zeros).unwrap();
        }
        e.finish().unwrap()
    };
    for (victim, header) in
        [(idx::TEST_IMAGES, idx_images(4)[..16].to_vec()), (idx::TRAIN_LABELS, idx_labels(4)[..8].to_vec())]
    {
        let data = dir.path().join(victim);
        std::fs::create_dir(&data).unwrap();
        for (n, b) in [
            (idx::TRAIN_IMAGES, idx_images(4)),
            (idx::TRAIN_LABELS, idx_labels(4)),
            (idx::TEST_IMAGES, idx_images(4)),
            (idx::TEST_LABELS, idx_labels(4)),
        ] {
            std::fs::write(data.join(format!("{n}.gz")), gz(&b)).unwrap();
        }
        // A member with the header, then the bomb as a second member (multi-member gzip).
        let mut bytes = gz(&header);
        bytes.extend(&bomb_body);
        let p = data.join(format!("{victim}.gz"));
        std::fs::write(&p, &bytes).unwrap();
        let m = crate::support::peak_rss::measure(&[
            "eval",
            "--weights",
            weights.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ]);
        let (mb, out) = (m.peak_rss_mb, m.out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(p.to_str().unwrap()) && err.contains("more data than the header"), "{err}");
        assert!(mb < 120.0, "peak RSS {mb:.0} MB for a 512 MiB bomb in {victim}");
    }
}
