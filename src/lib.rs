//! LeNet-5 Playground: watch a convolutional network learn to read handwriting.
//!
//! ```text
//! assets/mnist/*.gz ─► engine::data ─► engine::model (+ kernels) ─► engine::training::train (plain loop)
//!                                                                     │ emit(TrainEvent), the coach relays hints
//!                CLI (cli): prints events / JSON lines ◄──────────────┤
//!                GUI (app): engine::training::worker thread ─ crossbeam-channel ─► app (drain per frame) ─► views
//!                      ▲ Control (stop / pause / live lr & epochs)                             │
//!                      └──────────────────────────── UiCommand ◄───────────────────────────────┘
//! canvas strokes ─► engine::data::digit (preprocessing) ─► engine::model::predict ─► bars, inspector maps
//!                   engine::insight (diagnostics, coach, evaluation, explain) ─► render (pixels, PNG) ─► CLI, app
//! runs (engine::store) ◄─ `train --record` and every window run; read by `runs` and the Runs view
//! ```
//!
//! `startup::init_compute` is the first line of `main`: the compute threads' environment and pools. The engine and
//! the kernels hold no GUI code; the app holds no candle code; `render` neither. Data flows one way.

pub mod app;
pub mod cli;
pub mod engine;
pub mod error;
/// Fast CPU kernels (candle custom ops) under the engine's hot operations.
pub mod kernels;
pub mod render;
pub mod startup;

pub use error::{Error, Result};
