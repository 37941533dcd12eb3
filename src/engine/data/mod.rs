//! What the network reads: the MNIST family's IDX files (checked before they are trusted) and any drawing or
//! photo turned into the 28×28 digit the network was trained on.

pub mod digit;
pub mod mnist;
