//! Everything the playground computes, with no GUI code. The CLI and the app are two front ends over it.
//!
//! Rooms, in the order data flows through them:
//! * [`data`]: what the network reads — the MNIST family's files and any image turned into a 28×28 digit.
//! * [`model`]: the network — its stages, parameters, weight files, and what it computes for one input.
//! * [`training`]: a run — the recipe, the loop, its control and events, and the thread that hosts it.
//! * [`insight`]: why a run does what it does — diagnostics, the coach, the test pass and attribution maps.
//! * [`store`]: what outlives a run — the run store and the one atomic way this crate writes a file.

pub mod data;
pub mod insight;
pub mod model;
pub mod store;
pub mod training;
