
//!
//!                                                           │ emit(TrainEvent)
//!                      └──────────────────────────── UiCommand ◄────────────────────────────┘
//!                      ▲ Control (stop/pause flags)                                         │
//!                CLI: prints events ◄───────────────────────┤
//!                GUI: engine::worker thread ─ crossbeam-channel ─► app (drain per frame) ─► views
//! LeNet-5 Playground: watch a convolutional network learn to read handwriting.
//! The engine holds no GUI code; the app holds no candle code. Data flows one way.
//! ```
//! ```text
//! assets/mnist/*.gz ─► engine::mnist ─► engine::model ─► engine::train (plain loop)
//! canvas strokes ─► digit (pure preprocessing) ─► engine::predict ─► prediction bars + inspector maps
pub mod app;
pub mod atomic;
pub mod cli;
pub mod digit;
pub mod engine;
pub mod error;
/// Fast CPU kernels (candle custom ops) under the engine's hot operations.
pub mod kernels;

pub use error::{Error, Result};
