//! `inspect --unit`: a unit's most and least exciting test images from the command line — the same ranking as the
//! engine's, crops written as PNGs with an index, and a unit that does not exist explained in one line.

use lenet_playground::engine::insight::inside::units::{parse_unit, rank_units};
use lenet_playground::engine::model::checkpoint;
use lenet_playground::engine::model::predict::Predictor;

use crate::support::cli::{run, text};
use crate::support::data::{fresh_weights, mnist};

#[test]
fn inspect_unit_prints_the_ranking_and_writes_the_crops() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    let w = fresh_weights(5);
    checkpoint::save(&weights, &w).unwrap();
    let crops = dir.path().join("crops");
    let out =
        run(&["inspect", "--unit", "c3:4", "--weights", weights.to_str().unwrap(), "--crops", crops.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("unit c3:4: channel 4 of c3 (Conv2d), ranked over 10000 test images"), "{stdout}");
    // The same images, in the same order, as the engine ranks them.
    let predictor = Predictor::new(&w).unwrap();
    let (index, unit) = parse_unit(predictor.stages(), "c3:4").unwrap();
    let ranking = &rank_units(&predictor, index, &mnist().test, 16).unwrap()[unit];
    let printed: Vec<usize> = stdout
        .lines()
        .filter_map(|l| {
            l.split_once(". image ").map(|(_, rest)| rest.split_whitespace().next().unwrap().parse().unwrap())
        })
        .collect();
    let expected: Vec<usize> = ranking.top.iter().chain(&ranking.bottom).map(|r| r.image).collect();
    assert_eq!(printed, expected, "{stdout}");
    // 32 crops, each the size of its field, 4× upscaled, and the index that lists them.
    let index_csv = std::fs::read_to_string(crops.join("index.csv")).unwrap();
    let rows: Vec<&str> = index_csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 32);
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        let (top, left, bottom, right): (u32, u32, u32, u32) =
            (f[7].parse().unwrap(), f[8].parse().unwrap(), f[9].parse().unwrap(), f[10].parse().unwrap());
        let img = image::open(crops.join(f[11])).unwrap();
        assert_eq!((img.width(), img.height()), ((right - left) * 4, (bottom - top) * 4), "{row}");
    }
    assert!(stdout.contains("wrote 32 crops and index.csv"), "{stdout}");
}

#[test]
fn a_unit_that_does_not_exist_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    checkpoint::save(&weights, &fresh_weights(5)).unwrap();
    let w = weights.to_str().unwrap();
    for (unit, says) in [("c2:1", "no stage 'c2'"), ("c3:16", "c3 has units 0–15"), ("f5", "write stage:number")] {
        let out = run(&["inspect", "--unit", unit, "--weights", w]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{unit}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
    let out = run(&["inspect", "--unit", "c3:1"]);
    assert!(!out.status.success() && text(&out.stderr).contains("--weights"), "{}", text(&out.stderr));
}
