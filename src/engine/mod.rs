//! Everything the playground computes, with no GUI code. The CLI and the app are two front ends over it.
//!
//! Rooms, in the order data flows through them (each names only the rooms above it; `tests/layering.rs` checks):
//! * [`files`], [`rng`] and [`choice`]: leaves — careful file reading and writing, the seeded random numbers, the
//!   named choices (activation, optimiser, …) every room spells the same way.
//! * [`data`]: what the network reads — the MNIST family's files and any image turned into a 28×28 digit.
//! * [`model`]: the network — its description, stages, parameters, weight files, and what it computes for one input.
//! * [`insight`]: why a network does what it does — diagnostics, the test pass and attribution maps.
//! * [`training`]: a run — the recipe, the loop, its control, events and coach, and the thread that hosts it.
//! * [`store`]: what outlives a run — the run store and the user's drawings.

pub mod choice;
pub mod data;
pub mod files;
pub mod insight;
pub mod model;
pub mod numbers;
pub mod rng;
pub mod store;
pub mod training;
