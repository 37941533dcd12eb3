//! The collector in the real window: a drawing added to my set lands as a PNG in its class's folder (by key and
//! by the button, which preselects the predicted class), a click on the strip removes one, and "Teach it my
//! handwriting" starts a normal run whose before/after figures then appear.

use crate::support::data::small;
use crate::support::ui::{add_sevens, click, draw_seven, drawings_total, harness_with, run_until, small_batches};
use egui_kittest::kittest::Queryable;
use lenet_playground::app::state::Phase;
use std::path::Path;
use std::sync::Arc;

fn set_dir(home: &Path) -> std::path::PathBuf {
    home.join("my-drawings").join("my-handwriting")
}

#[test]
fn draw_then_add_to_my_set_writes_the_file_in_its_class() {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let mut h = harness_with([1280.0, 900.0], small_batches(1), Arc::new(small(500, 100)), move |app| {
        app.set_data_home(&home_path)
    });
    h.run();
    draw_seven(&mut h);
    // Key 3: the class at position 3 of the digits set.
    h.key_press(egui::Key::Num3);
    run_until(&mut h, "the drawing is saved", |app| drawings_total(app) == 1);
    assert!(set_dir(home.path()).join("3").join("1.png").is_file());
    assert!(!h.state().canvas().has_strokes(), "the canvas is cleared for the next drawing");
    // The button adds it as the preselected class: the one the network reads.
    draw_seven(&mut h);
    let predicted = h.state().canvas().predicted_class().expect("a prediction is shown");
    click(&mut h, "Add to my set as");
    run_until(&mut h, "the second drawing is saved", |app| drawings_total(app) == 2);
    let n = if predicted == 3 { "2.png" } else { "1.png" };
    assert!(set_dir(home.path()).join(predicted.to_string()).join(n).is_file());
    // A click on the strip removes a drawing.
    let strip: Vec<_> = h.get_all_by_label_contains("Remove this drawing").collect();
    assert_eq!(strip.len(), 2, "the strip shows both drawings");
    strip[0].click();
    run_until(&mut h, "the newest drawing is removed", |app| drawings_total(app) == 1);
    let left: usize =
        (0..10).map(|c| std::fs::read_dir(set_dir(home.path()).join(c.to_string())).unwrap().count()).sum();
    assert_eq!(left, 1);
}

#[test]
fn teach_it_my_handwriting_starts_a_run_and_shows_before_and_after() {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let mut h = harness_with([1280.0, 900.0], small_batches(1), Arc::new(small(500, 100)), move |app| {
        app.set_data_home(&home_path)
    });
    h.run();
    add_sevens(&mut h, 3);
    click(&mut h, "Teach it my handwriting");
    run_until(&mut h, "the teaching run starts", |app| app.session.run_active() || app.drawings().compared.is_some());
    assert!(
        h.state().session.status.contains("Teaching it your handwriting") || h.state().drawings().compared.is_some()
    );
    run_until(&mut h, "before and after are compared", |app| app.drawings().compared.is_some());
    assert_eq!(h.state().session.phase, Phase::Idle);
    assert!(h.query_all_by_label_contains("held-out drawings").next().is_some(), "the figures are shown side by side");
    assert!(h.query_by_label("MNIST test set").is_some());
    assert!(h.state().session.status.starts_with("Taught: "), "{}", h.state().session.status);
}

/// Issue 28, item 9: the sets are listed; the chooser switches to another set (the collector then fills it, also
/// after a restart), renames one (its folder on disk) and deletes one only after asking, with what would be lost.
#[test]
fn the_set_chooser_lists_switches_renames_and_deletes_after_asking() {
    use lenet_playground::engine::store::my_drawings::{add_drawing, create_set, parse_classes};
    let home = tempfile::tempdir().unwrap();
    let shapes = create_set(home.path(), "shapes", &parse_classes("circle,square").unwrap()).unwrap();
    let img = lenet_playground::engine::data::digit::rasterize_strokes(&[vec![[0.3, 0.3], [0.7, 0.7]]], 112, 0.04);
    add_drawing(&shapes, "circle", &img).unwrap();
    let digits = create_set(home.path(), "my-handwriting", &(0..10).map(|d| d.to_string()).collect::<Vec<_>>());
    let digits = digits.unwrap();
    // The digits set changed last: the collector starts on it.
    std::fs::write(digits.join("new-marker"), b"").unwrap();
    let home_path = home.path().to_path_buf();
    let mut h = harness_with([1280.0, 900.0], small_batches(1), Arc::new(small(500, 100)), move |app| {
        app.set_data_home(&home_path)
    });
    let current = |h: &egui_kittest::Harness<'static, lenet_playground::app::PlaygroundApp>| {
        h.state().drawings().summary.as_ref().map(|s| s.name.clone()).unwrap_or_default()
    };
    run_until(&mut h, "the sets are listed", |app| app.drawings().sets.len() == 2);
    assert_eq!(current(&h), "my-handwriting");

    // Switch: the combo lists both sets with their counts.
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "set").click();
    h.run();
    h.get_by_label("shapes (1 drawings)").click();
    run_until(&mut h, "the chooser switches to shapes", |app| {
        app.drawings().summary.as_ref().is_some_and(|s| s.name == "shapes")
    });
    assert!(h.state().session.status.contains("Collecting into set 'shapes'"), "{}", h.state().session.status);

    // Rename: the folder on disk follows.
    click(&mut h, "Rename…");
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("figures");
    h.run();
    click(&mut h, "Rename");
    run_until(&mut h, "the set is renamed", |app| app.drawings().summary.as_ref().is_some_and(|s| s.name == "figures"));
    assert!(home.path().join("my-drawings").join("figures").join("circle").join("1.png").is_file());
    assert!(!shapes.exists());

    // Delete: asked first; "Keep it" keeps it, "Delete it" deletes it and the collector moves to the set left.
    click(&mut h, "Delete…");
    assert!(
        h.query_by_label_contains("Delete set 'figures' and its 1 drawing(s)").is_some(),
        "the question says what is lost"
    );
    click(&mut h, "Keep it");
    assert!(home.path().join("my-drawings").join("figures").is_dir());
    click(&mut h, "Delete…");
    click(&mut h, "Delete it");
    run_until(&mut h, "the set is deleted", |app| app.drawings().sets.len() == 1);
    assert!(!home.path().join("my-drawings").join("figures").exists());
    run_until(&mut h, "the collector moves to the set left", |app| {
        app.drawings().summary.as_ref().is_some_and(|s| s.name == "my-handwriting")
    });
}
