//! `export`: a weights file's network as an ONNX model (engine::model::onnx), for Netron, onnxruntime and the rest.

use super::checks::check_not_input;
use super::output::print_stdout;
use crate::engine::model::checkpoint;
use crate::engine::model::onnx::{export_onnx, OPSET};
use crate::error::printable;
use crate::Result;
use std::path::Path;

pub(super) fn run_export(weights: &Path, onnx: &Path) -> Result<()> {
    check_not_input("--onnx", onnx, &[weights.to_path_buf()])?;
    let w = checkpoint::load(weights)?;
    let bytes = export_onnx(&w, onnx)?;
    print_stdout(&format!(
        "{}\t{} bytes\tONNX opset {OPSET}\t{} → {} classes ({})\n",
        printable(&onnx.display().to_string()),
        bytes,
        printable(&w.config.arch.spec()),
        w.config.classes,
        printable(&w.dataset)
    ));
    Ok(())
}
