//! The Runs tab: the kept runs (the store's list in the session, overlays on the live plots, live-lr markers),
//! their table and their scatter. Store operations are carried out in `shell/runs.rs`.

pub mod experiments;
pub mod scatter;
pub mod view;
