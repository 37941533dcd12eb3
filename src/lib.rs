//! LeNet-5 Playground: watch a convolutional network learn to read handwriting.
//!
//! ```text
//! assets/mnist/*.gz ─► engine::data::mnist ─► engine::model::lenet ─► engine::training::train (plain loop)
//!                                                           │ emit(TrainEvent)
//!                CLI: prints events ◄───────────────────────┤
//!                GUI: engine::training::worker thread ─ crossbeam-channel ─► app (drain per frame) ─► views
//!                      ▲ Control (stop/pause flags)                                         │
//!                      └──────────────────────────── UiCommand ◄────────────────────────────┘
//! canvas strokes ─► digit (pure preprocessing) ─► engine::model::predict ─► prediction bars + inspector maps
//! ```
//!
//! The engine holds no GUI code; the app holds no candle code. Data flows one way.

pub mod app;
pub mod cli;
pub mod engine;
pub mod error;
/// Fast CPU kernels (candle custom ops) under the engine's hot operations.
pub mod kernels;
pub mod startup;

pub use error::{Error, Result};
