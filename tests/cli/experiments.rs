//! The command line's experiments: `train --schedule`, `train --record` into the run store, and `runs`.

use std::path::Path;
use std::process::Output;

fn run_in(home: &Path, args: &[&str]) -> Output {
    bin().args(args).env("LENET_PLAYGROUND_HOME", home).output().expect("the binary runs")
}

use crate::support::cli::{bin, text};

const QUICK: [&str; 6] = ["--limit", "200", "--batch-size", "20", "--epochs", "2"];

#[test]
fn a_recorded_run_keeps_the_same_metrics_as_the_metrics_file() {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("m.csv");
    let mut args = vec!["train", "--record", "--metrics", csv.to_str().unwrap()];
    args.extend(QUICK);
    let out = run_in(home.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let folders: Vec<_> = std::fs::read_dir(home.path().join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1);
    let stored = std::fs::read_to_string(folders[0].join("metrics.csv")).unwrap();
    // One copy of the run's metrics in the CLI, written twice: every batch, epoch and diagnostics row alike.
    assert_eq!(stored, written);
    assert_eq!(written.lines().filter(|l| l.starts_with("batch,")).count(), 20);
}

#[test]
fn recorded_runs_are_listed_as_a_table_and_as_json() {
    let home = tempfile::tempdir().unwrap();
    let out = run_in(home.path(), &["runs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no recorded runs"), "{}", text(&out.stderr));

    let mut args = vec!["train", "--record", "--run-name", "quick adam"];
    args.extend(QUICK);
    let out = run_in(home.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("run recorded as 'quick adam'"), "{}", text(&out.stderr));
    let mut args = vec!["train", "--record", "--optimizer", "sgd", "--lr", "0.5", "--schedule", "cosine"];
    args.extend(QUICK);
    assert!(run_in(home.path(), &args).status.success());

    let out = run_in(home.path(), &["runs", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["name"], "quick adam");
    assert_eq!(lines[1]["name"], "SGD lr 0.5 cosine");
    for l in &lines {
        let acc = l["test_accuracy"].as_f64().unwrap();
        let best = l["best_test_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc) && best >= acc, "{l}");
        assert!(l["id"].as_str().unwrap().len() == 20, "{l}");
        assert_eq!(l["source"], "cli");
        assert_eq!(l["status"], "finished");
    }
    assert_eq!(lines[1]["config"]["schedule"]["kind"], "cosine");

    let out = run_in(home.path(), &["runs"]);
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[0].starts_with("name") && rows[0].contains("best test") && rows[0].contains("final test"));
    assert!(rows[1].starts_with("quick adam") && rows[1].contains('%') && rows[1].contains("Adam lr 0.003"));
    assert!(rows[2].contains("cosine"));
    // Each run folder holds the three files.
    let id = lines[0]["id"].as_str().unwrap();
    for f in ["run.json", "metrics.csv", "weights.safetensors"] {
        assert!(home.path().join("runs").join(id).join(f).is_file(), "{f}");
    }

    // A damaged folder is a warning, not a failure.
    std::fs::create_dir_all(home.path().join("runs/broken")).unwrap();
    std::fs::write(home.path().join("runs/broken/run.json"), "{").unwrap();
    let out = run_in(home.path(), &["runs", "--json"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 2);
    assert!(text(&out.stderr).contains("broken") && text(&out.stderr).contains("skipped"), "{}", text(&out.stderr));
}

#[test]
fn schedules_show_in_each_batch_lr() {
    let home = tempfile::tempdir().unwrap();
    let lrs = |extra: &[&str]| -> Vec<f64> {
        let mut args = vec!["train", "--json", "--lr", "0.01"];
        args.extend(QUICK);
        args.extend(extra);
        let out = run_in(home.path(), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "batch")
            .map(|v| v["lr"].as_f64().unwrap())
            .collect()
    };
    let constant = lrs(&[]);
    assert_eq!(constant.len(), 20);
    assert!(constant.iter().all(|&v| v == 0.01));
    let cosine = lrs(&["--schedule", "cosine"]);
    assert_eq!(cosine[0], 0.01);
    assert!((cosine[10] - 0.005).abs() < 1e-9 && cosine[19] < 1e-4, "{cosine:?}");
    let step = lrs(&["--schedule", "step", "--step-epochs", "1"]);
    assert!(step[..10].iter().all(|&v| v == 0.01) && step[10..].iter().all(|&v| (v - 0.001).abs() < 1e-12));

    let out = run_in(home.path(), &["train", "--schedule", "linear"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("constant, step, cosine"), "{}", text(&out.stderr));
    let out = run_in(home.path(), &["train", "--step-epochs", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--schedule step"), "{}", text(&out.stderr));
    assert!(!home.path().join("runs").exists(), "nothing recorded without --record");
}

/// `train --init-from` on a stored run's weights records a continued run: the origin names that run, and the
/// positions start at its end; a plain file is named by its path, from epoch 0.
#[test]
fn a_run_from_init_from_records_what_it_continued() {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["train", "--record", "--run-name", "base"];
    args.extend(QUICK);
    assert!(run_in(home.path(), &args).status.success());
    let json = |home: &Path| -> Vec<serde_json::Value> {
        let out = run_in(home, &["runs", "--json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let base = json(home.path()).remove(0);
    let weights = Path::new(base["path"].as_str().unwrap()).join("weights.safetensors");
    let mut args = vec!["train", "--record", "--run-name", "more", "--init-from", weights.to_str().unwrap()];
    args.extend(QUICK);
    let out = run_in(home.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let more = json(home.path()).into_iter().find(|r| r["name"] == "more").expect("the continued run");
    let from = &more["continued_from"];
    assert_eq!((&from["origin"]["kind"], &from["origin"]["id"]), (&"run".into(), &base["id"]), "{more}");
    assert_eq!(from["epoch_offset"].as_f64(), Some(2.0), "it continues at the base run's end: {more}");
    assert!(base["continued_from"].is_null(), "a fresh run continues nothing: {base}");

    let copy = home.path().join("copy.safetensors");
    std::fs::copy(&weights, &copy).unwrap();
    let mut args = vec!["train", "--record", "--run-name", "from file", "--init-from", copy.to_str().unwrap()];
    args.extend(QUICK);
    assert!(run_in(home.path(), &args).status.success());
    let file = json(home.path()).into_iter().find(|r| r["name"] == "from file").unwrap();
    let origin = &file["continued_from"]["origin"];
    assert_eq!(origin["kind"], "weights_file", "{file}");
    assert!(origin["path"].as_str().unwrap().ends_with("copy.safetensors"), "{file}");
    assert_eq!(file["continued_from"]["epoch_offset"].as_f64(), Some(0.0));
}
