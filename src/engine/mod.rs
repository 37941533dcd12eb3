//! Everything the playground computes, with no GUI code: data, model, training, prediction, weight files.
//! The CLI and the app are two front ends over this module.

pub mod atomic_file;
pub mod bench;
pub mod checkpoint;
pub mod coach;
pub mod config;
pub mod control;
pub mod diagnostics;
pub mod digit;
pub mod divergence;
pub mod evaluate;
pub mod events;
pub mod explain;
pub mod inspect;
pub mod metrics;
pub mod mnist;
pub mod model;
pub mod ops;
pub mod optim;
pub mod predict;
pub mod rng;
pub mod runs;
pub mod schedule;
pub mod stages;
pub mod train;
pub mod weights;
pub mod worker;
