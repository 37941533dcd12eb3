//! What every egui_kittest test of the window needs: the app in a harness, clicks, and stepping frames until a
//! condition holds.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lenet_playground::app::state::Settings;
use lenet_playground::app::PlaygroundApp;
use lenet_playground::engine::data::set::Dataset;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The whole app in a window of `size` points, with `settings` and `data`.
pub fn harness(size: [f32; 2], settings: Settings, data: Arc<Dataset>) -> Harness<'static, PlaygroundApp> {
    harness_with(size, settings, data, |_| {})
}

/// The same, with `setup` applied to the app as it is created.
pub fn harness_with(
    size: [f32; 2],
    settings: Settings,
    data: Arc<Dataset>,
    setup: impl FnOnce(&mut PlaygroundApp),
) -> Harness<'static, PlaygroundApp> {
    Harness::builder().with_size(size).build_eframe(move |cc| {
        let mut app = PlaygroundApp::new(&cc.egui_ctx, settings, Some(data));
        setup(&mut app);
        app
    })
}

/// Settings for quick runs: 200 images in batches of 10 (20 batches an epoch), `epochs` epochs.
pub fn small_batches(epochs: usize) -> Settings {
    let mut s = Settings::default();
    s.train.limit = Some(200);
    s.train.batch_size = 10;
    s.train.epochs = epochs;
    s
}

/// Clicks the widget of `role` labelled `label`, then steps two frames (one to act, one to show the result).
pub fn click_role(h: &mut Harness<'static, PlaygroundApp>, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click();
    h.step();
    h.step();
}

/// Clicks the button labelled `label`, then steps two frames.
pub fn click(h: &mut Harness<'static, PlaygroundApp>, label: &str) {
    click_role(h, Role::Button, label);
}

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

/// Drags the pointer over the drawing canvas through `points` (0..1 canvas coordinates), one frame per point.
pub fn draw_stroke<S>(h: &mut Harness<'_, S>, points: &[[f32; 2]]) {
    let rect = h.get_by_label_contains("Drawing canvas").rect();
    let at = |p: [f32; 2]| egui::Pos2::new(rect.min.x + p[0] * rect.width(), rect.min.y + p[1] * rect.height());
    let first = at(points[0]);
    h.hover_at(first);
    h.run();
    h.drag_at(first);
    h.run();
    for &p in &points[1..] {
        h.hover_at(at(p));
        h.run();
    }
    h.drop_at(at(points[points.len() - 1]));
    h.run();
}

/// A "7" drawn on the window's canvas with the pointer.
pub fn draw_seven(h: &mut Harness<'static, PlaygroundApp>) {
    let points = [[0.2, 0.2], [0.5, 0.2], [0.75, 0.22], [0.6, 0.45], [0.5, 0.65], [0.42, 0.85]];
    draw_stroke(h, &points);
}

/// Drawings in the collector's set, as its summary counts them.
pub fn drawings_total(app: &PlaygroundApp) -> usize {
    app.drawings().summary.as_ref().map_or(0, |s| s.total())
}

/// Draws `n` sevens, each filed with the 7 key, waiting for each to be saved.
pub fn add_sevens(h: &mut Harness<'static, PlaygroundApp>, n: usize) {
    for _ in 0..n {
        draw_seven(h);
        h.key_press(egui::Key::Num7);
        let before = drawings_total(h.state());
        run_until(h, "the drawing is saved", move |app| drawings_total(app) == before + 1);
    }
}
