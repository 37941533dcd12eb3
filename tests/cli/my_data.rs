//! Your own data on the command line: `train --data IMAGEFOLDER`, `eval --data IMAGEFOLDER`, `train --init-from W
//! --freeze c1,c3` onto a set with other classes, and bad folders refused in one line.

use crate::support::cli::{run, text};
use crate::support::data::mnist;
use crate::support::image_folder::{write_digits, Style};
use std::path::Path;

/// A three-class image folder (MNIST test digits 0, 1 and 2 renamed), 20 images a class.
fn shapes(dir: &Path) {
    write_digits(dir, &mnist().test, 0, 20, Style { dark_on_light: true, scale: 2, ..Style::default() });
    for (from, to) in [("0", "circle"), ("1", "line"), ("2", "hook")] {
        std::fs::rename(dir.join(from), dir.join(to)).unwrap();
    }
    for d in 3..10 {
        std::fs::remove_dir_all(dir.join(d.to_string())).unwrap();
    }
}

fn ok(out: &std::process::Output) -> (String, String) {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {o}\nstderr: {e}");
    (o, e)
}

#[test]
fn train_and_eval_on_an_image_folder_from_mnist_weights_with_frozen_convs() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("shapes");
    shapes(&set);
    let base = dir.path().join("mnist.safetensors");
    let base_s = base.to_str().unwrap();
    ok(&run(&["train", "--preset", "modern", "--epochs", "1", "--limit", "2000", "--save", base_s]));
    let tuned = dir.path().join("shapes.safetensors");
    let tuned_s = tuned.to_str().unwrap();
    let (out, err) = ok(&run(&[
        "train",
        "--data",
        set.to_str().unwrap(),
        "--init-from",
        base_s,
        "--freeze",
        "c1,c3",
        "--preset",
        "modern",
        "--epochs",
        "3",
        "--save",
        tuned_s,
    ]));
    assert!(err.contains("shapes") && err.contains("48 train / 12 test"), "{err}");
    assert!(err.contains("every layer copied except the output layer") && err.contains("circle, hook, line"), "{err}");
    assert!(err.contains("frozen (kept as loaded, not trained): c1, c3"), "{err}");
    assert!(out.contains("final test accuracy"), "{out}");
    let (out, _) = ok(&run(&["eval", "--weights", tuned_s, "--data", set.to_str().unwrap()]));
    assert!(out.contains("circle") && out.contains("hook") && out.contains("line"), "{out}");
    // MNIST's weights on a three-class folder: refused by class name, saying what to do.
    let out = run(&["eval", "--weights", base_s, "--data", set.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("class 'circle' is not one of the classes these weights score (0, 1, 2"), "{err}");
    assert!(err.contains("train on this data set first"), "{err}");
    // The predictions name the folder's classes.
    let img = std::fs::read_dir(set.join("hook")).unwrap().next().unwrap().unwrap().path();
    let (out, _) = ok(&run(&["predict", "--weights", tuned_s, "--json", img.to_str().unwrap()]));
    assert!(out.contains("\"class_name\":\""), "{out}");
}

#[test]
fn bad_folders_and_flags_are_one_line_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("nothing-here");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(&["train", "--data", empty.to_str().unwrap(), "--epochs", "1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing-here") && err.contains("no class folders"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = run(&["train", "--freeze", "c1"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses --freeze without --init-from");
    let w = dir.path().join("w.safetensors");
    ok(&run(&["train", "--epochs", "1", "--limit", "200", "--save", w.to_str().unwrap()]));
    let out = run(&["train", "--init-from", w.to_str().unwrap(), "--freeze", "c1,s2", "--epochs", "1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot freeze 's2'"), "{err}");
}
