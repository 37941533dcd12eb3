//! The drawing canvas: a digit sketched with the pointer, read as MNIST reads digits, and the network's live
//! answer (class probabilities, and which strokes made it, by occlusion on a helper thread).

pub mod attribution;
pub mod attribution_worker;
pub mod probabilities;
pub mod sketch;
pub mod surface;
pub mod view;
