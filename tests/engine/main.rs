//! The engine's integration tests, one binary (egui and candle are linked once for all of them): the data reader,
//! training, diagnostics, evaluation, experiments and the run store, the fast kernels, property tests over every
//! input file, and the engine's side of the trust cases. Fixtures shared with the other binaries are in
//! `tests/support/`.

#[path = "../support/mod.rs"]
mod support;

mod architectures;
mod basics;
mod diagnostics;
mod evaluation;
mod experiments;
mod fine_tune;
mod image_folder;
mod inside;
mod kernels;
mod kernels_dense;
mod kernels_odd;
mod onnx_export;
mod proptest_inputs;
mod train_step;
mod trust;
