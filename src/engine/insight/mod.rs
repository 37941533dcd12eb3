//! Why a run learns or does not, and what the trained network gets wrong: per-layer [`diagnostics`] while it
//! trains, the [`coach`]'s rules over them, the test pass ([`evaluate`]) and attribution maps ([`explain`]).

pub mod coach;
pub mod diagnostics;
pub mod evaluate;
pub mod explain;
