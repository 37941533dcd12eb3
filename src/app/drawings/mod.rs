//! The user's own drawing sets in the window: the collector under the canvas (file a drawing under a class,
//! train or teach on the set) and the set chooser. The commands' effects (files, runs) are in `shell/drawings.rs`.

pub mod collector;
pub mod set_chooser;
pub mod state;
