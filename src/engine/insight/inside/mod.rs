//! Inside the network, for any architecture and the current weights: how one value is computed from the numbers
//! before it ([`element`]), which input pixels it sees ([`receptive`]), which test images excite a unit most and
//! least ([`units`]), and how the penultimate layer's representation of fixed test digits forms, epoch by epoch
//! ([`representation`], projected by [`projection`]). Plain data in and out: the app's Inside tab and the CLI's
//! `inspect --unit` read the same results.

pub mod dream;
pub mod element;
pub mod evolution;
pub mod projection;
pub mod receptive;
pub mod representation;
pub mod units;
