//! Why a network does what it does, measured below any run: per-layer [`diagnostics`] of a training step, the test
//! pass ([`evaluate`]) and attribution maps ([`explain`]). Training calls them; they never name training.

pub mod diagnostics;
pub mod evaluate;
pub mod explain;
pub mod inside;
