//! Image folders as data sets: class names from the subfolders, the seeded 80/20 split, a train/ + test/ pair used
//! as given, either polarity and any size read alike, the cache, and every bad folder refused in one sentence that
//! names the folder or the file.

use crate::support::data::mnist;
use crate::support::image_folder::{write_digits, write_png, Style};
use lenet_playground::engine::data::image_folder::{self, is_image_folder};
use lenet_playground::engine::data::set::{Dataset, IMAGE_PIXELS};
use std::path::Path;

fn load_err(dir: &Path) -> String {
    Dataset::load(Some(dir)).expect_err("the folder is refused").to_string()
}

#[test]
fn class_names_come_from_the_sorted_subfolders_and_the_split_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    write_digits(dir.path(), &mnist().test, 0, 10, Style::default());
    // Class folders named like a user would: sorted as strings.
    for (from, to) in [("0", "zero"), ("1", "one"), ("2", "two")] {
        std::fs::rename(dir.path().join(from), dir.path().join(to)).unwrap();
    }
    for d in ["3", "4", "5", "6", "7", "8", "9"] {
        std::fs::remove_dir_all(dir.path().join(d)).unwrap();
    }
    assert!(is_image_folder(dir.path()));
    let a = image_folder::load(dir.path()).unwrap();
    assert_eq!(a.data.class_names, ["one", "two", "zero"]);
    assert_eq!((a.data.train.len(), a.data.test.len()), (24, 6), "80/20 of 10 per class, stratified");
    for c in 0..3u8 {
        assert_eq!(a.data.test.labels.iter().filter(|&&l| l == c).count(), 2);
    }
    // The same split without the cache, and again from it.
    std::fs::remove_file(dir.path().join(".lenet-cache-v1.bin")).unwrap();
    let b = image_folder::load(dir.path()).unwrap();
    assert_eq!((&a.data.train, &a.data.test), (&b.data.train, &b.data.test));
    let c = image_folder::load(dir.path()).unwrap();
    assert!(c.notes.iter().any(|n| n.contains("cache")), "{:?}", c.notes);
    assert_eq!((&a.data.train, &a.data.test), (&c.data.train, &c.data.test));
}

#[test]
fn a_train_test_pair_is_used_as_given_and_a_changed_file_refreshes_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    write_digits(&dir.path().join("train"), &mnist().train, 0, 3, Style::default());
    write_digits(&dir.path().join("test"), &mnist().test, 0, 2, Style::default());
    let d = Dataset::load(Some(dir.path())).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (30, 20));
    assert_eq!(d.class_names.len(), 10);
    // A new image is seen at once: the cache is keyed by the listing.
    let (side, px) = crate::support::image_folder::styled(&mnist().test, 0, Style::default());
    write_png(&dir.path().join("test/7/new.png"), side, &px);
    assert_eq!(Dataset::load(Some(dir.path())).unwrap().test.len(), 21);
    // A corrupt cache is ignored, never an error.
    std::fs::write(dir.path().join(".lenet-cache-v1.bin"), b"LENETIF1 garbage").unwrap();
    assert_eq!(Dataset::load(Some(dir.path())).unwrap().test.len(), 21);
}

#[test]
fn either_polarity_and_any_size_give_the_same_input() {
    let dir = tempfile::tempdir().unwrap();
    let set = &mnist().test;
    for (name, style) in [
        ("a", Style::default()),
        ("b", Style { dark_on_light: true, scale: 5, ..Style::default() }),
        ("c", Style { dark_on_light: true, scale: 1, ..Style::default() }),
    ] {
        for i in 0..3 {
            let (side, px) = crate::support::image_folder::styled(set, i, style);
            write_png(&dir.path().join(name).join(format!("{i}.png")), side, &px);
        }
    }
    let d = Dataset::load(Some(dir.path())).unwrap();
    let all: Vec<(u8, &[u8])> = [&d.train, &d.test]
        .iter()
        .flat_map(|s| (0..s.len()).map(move |i| (s.labels[i], &s.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS])))
        .collect();
    // Image k of class a, b and c are one digit in three forms: each pair differs only by resampling.
    let by_class = |c: u8| all.iter().filter(|(l, _)| *l == c).map(|(_, p)| *p).collect::<Vec<_>>();
    let (a, b, c) = (by_class(0), by_class(1), by_class(2));
    let mean_diff =
        |x: &[u8], y: &[u8]| x.iter().zip(y).map(|(&p, &q)| (p as f32 - q as f32).abs()).sum::<f32>() / 784.0;
    // The split differs per class, so compare each image of b and c with its closest of a.
    for img in b.iter().chain(&c) {
        let best = a.iter().map(|x| mean_diff(x, img)).fold(f32::MAX, f32::min);
        assert!(best < 12.0, "a polarity or size reads differently: mean difference {best}");
    }
}

#[test]
fn bad_folders_are_one_clear_error_naming_the_folder_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // No classes.
    std::fs::create_dir_all(root.join("empty")).unwrap();
    let e = load_err(&root.join("empty"));
    assert!(e.contains("empty") && e.contains("no class folders"), "{e}");
    // One class.
    write_digits(&root.join("one"), &mnist().test, 0, 2, Style::default());
    for d in 1..10 {
        std::fs::remove_dir_all(root.join("one").join(d.to_string())).unwrap();
    }
    assert!(load_err(&root.join("one")).contains("only one class folder"));
    // A class without images.
    write_digits(&root.join("hole"), &mnist().test, 0, 2, Style::default());
    std::fs::remove_dir_all(root.join("hole/4")).unwrap();
    std::fs::create_dir_all(root.join("hole/4")).unwrap();
    std::fs::write(root.join("hole/4/notes.txt"), "not an image").unwrap();
    let e = load_err(&root.join("hole"));
    assert!(e.contains("hole/4") && e.contains("no PNG or JPEG"), "{e}");
    // Unreadable images: all of a class's is fatal, naming a file.
    write_digits(&root.join("broken"), &mnist().test, 0, 2, Style::default());
    for f in std::fs::read_dir(root.join("broken/3")).unwrap() {
        std::fs::write(f.unwrap().path(), b"\x89PNG\r\n\x1a\n truncated").unwrap();
    }
    let e = load_err(&root.join("broken"));
    assert!(e.contains("broken/3/") && e.contains(".png"), "{e}");
    // A few among many are skipped and counted.
    write_digits(&root.join("mostly"), &mnist().test, 0, 12, Style::default());
    let victim = std::fs::read_dir(root.join("mostly/5")).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&victim, b"not a png").unwrap();
    let l = image_folder::load(&root.join("mostly")).unwrap();
    assert_eq!(l.data.train.len() + l.data.test.len(), 119);
    assert!(l.notes.iter().any(|n| n.contains("skipped 1") && n.contains(victim.to_str().unwrap())), "{:?}", l.notes);
    // Neither kind of folder: a plain file.
    assert!(load_err(&victim).contains("not a folder"));
}

/// Random damage to the folder's cache, sometimes with a class folder renamed as well: every load succeeds and gives
/// exactly what decoding the images afresh gives (the images are the truth; the cache only saves time).
#[test]
fn a_damaged_cache_or_renamed_classes_never_change_what_is_loaded() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let dir = tempfile::tempdir().unwrap();
    write_digits(dir.path(), &mnist().test, 0, 3, Style::default());
    for d in ["3", "4", "5", "6", "7", "8", "9"] {
        std::fs::remove_dir_all(dir.path().join(d)).unwrap();
    }
    let cache = dir.path().join(".lenet-cache-v1.bin");
    let fresh = |dir: &Path| {
        let _ = std::fs::remove_file(&cache);
        let l = image_folder::load(dir).unwrap();
        (l.data.class_names, l.data.train, l.data.test)
    };
    let truth = fresh(dir.path());
    let good = std::fs::read(&cache).expect("the first load writes the cache");
    // (position as a share of the file, kind of damage, value, rename a class folder?)
    let damage = (0.0f64..1.0, 0u8..4, any::<u8>(), any::<bool>());
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    runner
        .run(&damage, |(at, kind, value, rename)| {
            let mut bytes = good.clone();
            let i = ((at * bytes.len() as f64) as usize).min(bytes.len() - 1);
            match kind {
                0 => bytes[i] ^= value.max(1),
                1 => bytes.truncate(i),
                2 => bytes.extend(std::iter::repeat_n(value, i % 4096 + 1)),
                _ => bytes[i..].iter_mut().take(64).for_each(|b| *b = value),
            }
            std::fs::write(&cache, &bytes).unwrap();
            let want = if rename {
                std::fs::rename(dir.path().join("1"), dir.path().join("z1")).unwrap();
                let cached = std::fs::read(&cache).unwrap();
                let want = fresh(dir.path());
                std::fs::write(&cache, &cached).unwrap();
                want
            } else {
                truth.clone()
            };
            let got = image_folder::load(dir.path()).map_err(|e| TestCaseError::fail(e.report()))?;
            if rename {
                std::fs::rename(dir.path().join("z1"), dir.path().join("1")).unwrap();
            }
            prop_assert_eq!(&got.data.class_names, &want.0);
            prop_assert!(
                got.data.train == want.1 && got.data.test == want.2,
                "kind {} at {} gave other images",
                kind,
                i
            );
            Ok(())
        })
        .unwrap();
}
