//! `export --onnx`: a weights file leaves as an ONNX model another runtime (tract) runs; every bad input is one
//! clear line, exit 2, and no file (or the old one untouched).

use crate::support::cli::{run, text};
use lenet_playground::engine::model::checkpoint;
use std::path::Path;
use tract_onnx::prelude::Framework;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[track_caller]
fn assert_refused(args: &[&str], says: &str) {
    let out = run(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(says), "stderr should say '{says}': {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn export_writes_an_onnx_file_that_tract_opens_and_says_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    checkpoint::save(&weights, &crate::support::data::fresh_weights(1)).unwrap();
    let onnx = dir.path().join("net.onnx");
    let out = run(&["export", "--weights", s(&weights), "--onnx", s(&onnx)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let size = std::fs::metadata(&onnx).unwrap().len();
    assert!(said.contains(&format!("{size} bytes")) && said.contains("opset 13"), "{said}");
    let model = tract_onnx::onnx().model_for_path(&onnx).unwrap();
    assert_eq!(model.input_outlets().unwrap().len(), 1);
}

#[test]
fn export_refuses_bad_input_in_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let weights = d.join("w.safetensors");
    checkpoint::save(&weights, &crate::support::data::fresh_weights(1)).unwrap();
    // A weights file of another format (here: an ONNX-looking file of garbage; a PNG would do too).
    let other = d.join("model.onnx");
    std::fs::write(&other, b"\x08\x07\x12\x04junk").unwrap();
    assert_refused(&["export", "--weights", s(&other), "--onnx", s(&d.join("a.onnx"))], "model.onnx");
    assert!(!d.join("a.onnx").exists());
    // An unwritable path: a folder that does not exist, and a path that is a folder.
    assert_refused(&["export", "--weights", s(&weights), "--onnx", s(&d.join("no/such/net.onnx"))], "net.onnx");
    assert_refused(&["export", "--weights", s(&weights), "--onnx", s(d)], "cannot write");
    // The weights file itself as the output is refused before anything is written.
    let before = std::fs::read(&weights).unwrap();
    assert_refused(&["export", "--weights", s(&weights), "--onnx", s(&weights)], "refusing to overwrite");
    assert_eq!(std::fs::read(&weights).unwrap(), before);
    // Nothing but the inputs is left in the folder: no partial or temporary file.
    let mut left: Vec<_> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["model.onnx", "w.safetensors"]);
}
