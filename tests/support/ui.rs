//! What every egui_kittest test of the window needs: stepping frames until a condition holds.

use egui_kittest::Harness;
use lenet_playground::app::PlaygroundApp;
use std::time::{Duration, Instant};

/// Steps frames until `cond` holds, then one more. The guard only catches a hang (training in a debug build on a
/// loaded machine can take minutes); it is not a timing assertion.
pub fn run_until(h: &mut Harness<'static, PlaygroundApp>, what: &str, cond: impl Fn(&PlaygroundApp) -> bool) {
    let start = Instant::now();
    while !cond(h.state()) {
        assert!(start.elapsed() < Duration::from_secs(600), "gave up waiting for: {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    h.step();
}
