//! Fixtures shared by the test binaries (`tests/engine`, `tests/cli`, `tests/ui`), each written once: every
//! binary's `main.rs` declares `#[path = "../support/mod.rs"] mod support;`. A binary uses only some of them,
//! so unused ones are not warned about here.
#![allow(dead_code)]

pub mod cli;
pub mod data;
pub mod idx;
pub mod image_folder;
pub mod peak_rss;
pub mod ui;
