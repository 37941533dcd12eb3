//! The window's integration tests, one binary: the real app driven headless by egui_kittest (clicks, drags, a real
//! tiny training run), tab by tab. Fixtures shared with the other binaries are in `tests/support/`.

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod diagnostics;
mod evaluation;
mod experiments;
mod inside;
mod my_drawings;
mod own_data;
mod run_origin;
mod trust;
mod views;
mod window;
