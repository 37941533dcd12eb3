//! The Evaluation tab: the confusion matrix as a heat map (counts or row percentages, the diagonal green, errors
//! orange-red), an epoch slider that replays how it changed during the run, the most confused pairs and per-class
//! accuracy beside it, and a gallery of the test images of a clicked cell. Clicking an image puts it on the canvas
//! (a `UiCommand`); Evaluate and Export are commands too.

use crate::app::command::{PlotFormat, UiCommand};
use crate::app::evaluation::gallery::Gallery;
use crate::app::evaluation::inputs::EvaluationInputs;
use crate::app::export::matrix_cells::{cell_intensity, cell_rgb, cell_text};
use crate::app::export::ConfusionExport;
use crate::engine::insight::evaluate::{correct, most_confused, total};
use egui::{Color32, RichText, Sense, Vec2};

/// Width of the column beside the matrix (most confused pairs, accuracy per class) and of its bars.
const SIDE_COLUMN: f32 = 250.0;
const CLASS_BAR: f32 = 110.0;

#[derive(Default)]
pub struct EvaluationView {
    /// Row percentages instead of counts.
    pub normalised: bool,
    /// Index of the shown snapshot; None follows the latest.
    pub snapshot: Option<usize>,
    /// The clicked cell (true, predicted).
    pub selected: Option<(usize, usize)>,
    /// The selected cell's test images.
    gallery: Gallery,
    /// The matrix drawn last frame (for tests and the export), with its title.
    shown: Option<ConfusionExport>,
}

impl EvaluationView {
    /// The matrix drawn in the last frame.
    pub fn shown_confusion(&self) -> Option<&[Vec<u32>]> {
        self.shown.as_ref().map(|s| s.confusion.as_slice())
    }

    /// The test images of the selected cell, most confident first.
    pub fn gallery(&self) -> &[usize] {
        self.gallery.images()
    }

    /// What Export renders: the matrix as shown.
    pub(crate) fn export_data(&self) -> Option<ConfusionExport> {
        self.shown.clone()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, inputs: &EvaluationInputs, commands: &mut Vec<UiCommand>) {
        self.toolbar_ui(ui, inputs, commands);
        if inputs.snapshots.is_empty() {
            self.shown = None;
            ui.add_space(20.0);
            ui.label(
                "No confusion matrix yet: train (each epoch's test pass fills it), or load weights and press Evaluate.",
            );
            return;
        }
        let last = inputs.snapshots.len() - 1;
        let index = self.snapshot.map_or(last, |i| i.min(last));
        if inputs.snapshots.len() > 1 {
            let mut i = index;
            let labels: Vec<&str> = inputs.snapshots.iter().map(|s| s.label.as_str()).collect();
            let slider = egui::Slider::new(&mut i, 0..=last)
                .custom_formatter(move |v, _| labels.get(v as usize).map_or(String::new(), |s| s.to_string()))
                .text("replay");
            if ui.add(slider).on_hover_text("How the matrix changed during the run").changed() {
                self.snapshot = if i == last { None } else { Some(i) };
            }
        }
        let snap = &inputs.snapshots[index];
        let title = format!("{}, {}", inputs.dataset, snap.label);
        self.shown = Some(ConfusionExport {
            confusion: snap.confusion.to_vec(),
            class_names: inputs.class_names.to_vec(),
            normalised: self.normalised,
            title: title.clone(),
        });
        let n_images = total(snap.confusion);
        ui.label(format!(
            "{title}: {} of {n_images} test images right ({:.2} %)",
            correct(snap.confusion),
            100.0 * correct(snap.confusion) as f64 / n_images.max(1) as f64
        ));
        // The side column beside the matrix when the tab is wide enough for both, else under it.
        if ui.available_width() >= 300.0 + SIDE_COLUMN {
            ui.horizontal_top(|ui| {
                self.matrix_ui(ui, snap.confusion, inputs.class_names, SIDE_COLUMN);
                ui.add_space(16.0);
                ui.vertical(|ui| {
                    self.pairs_ui(ui, snap.confusion, inputs.class_names);
                    ui.add_space(12.0);
                    class_accuracy_ui(ui, snap.confusion, inputs.class_names);
                });
            });
        } else {
            self.matrix_ui(ui, snap.confusion, inputs.class_names, 0.0);
            ui.horizontal_wrapped(|ui| {
                ui.vertical(|ui| self.pairs_ui(ui, snap.confusion, inputs.class_names));
                ui.add_space(16.0);
                ui.vertical(|ui| class_accuracy_ui(ui, snap.confusion, inputs.class_names));
            });
        }
        ui.separator();
        self.gallery.ui(ui, self.selected, index, snap, inputs, commands);
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui, inputs: &EvaluationInputs, commands: &mut Vec<UiCommand>) {
        ui.horizontal_wrapped(|ui| {
            let evaluate = ui
                .add_enabled(inputs.can_evaluate, egui::Button::new("Evaluate"))
                .on_hover_text("Run the test set through the current weights: matrix, gallery and accuracy")
                .on_disabled_hover_text("Needs weights and data, and no run or evaluation in progress");
            if evaluate.clicked() {
                commands.push(UiCommand::Evaluate);
            }
            if let Some(p) = inputs.progress {
                ui.add(egui::ProgressBar::new(p).desired_width(160.0).show_percentage());
            }
            ui.separator();
            ui.selectable_value(&mut self.normalised, false, "Counts");
            ui.selectable_value(&mut self.normalised, true, "Row %");
            ui.separator();
            let has = !inputs.snapshots.is_empty();
            if ui.add_enabled(has, egui::Button::new("Export PNG")).clicked() {
                commands.push(UiCommand::ExportConfusion(PlotFormat::Png, None));
            }
            if ui.add_enabled(has, egui::Button::new("Export SVG")).clicked() {
                commands.push(UiCommand::ExportConfusion(PlotFormat::Svg, None));
            }
        });
        if let Some(n) = &inputs.note {
            ui.weak(n);
        }
    }

    /// `beside`: the width kept free to the right of the matrix.
    fn matrix_ui(&mut self, ui: &mut egui::Ui, m: &[Vec<u32>], names: &[String], beside: f32) {
        let n = m.len();
        let label_w = names.iter().map(|s| s.chars().count()).max().unwrap_or(1).clamp(1, 12) as f32 * 7.5 + 10.0;
        // The matrix takes what the side column and the gallery leave, and grows with the window.
        let side = ((ui.available_width() - beside - label_w).min(ui.available_height() * 0.6)).clamp(220.0, 720.0);
        let cell = side / n.max(1) as f32;
        let (rect, _) = ui.allocate_exact_size(Vec2::new(label_w + side, side + 40.0), Sense::hover());
        let painter = ui.painter_at(rect);
        let origin = rect.min + Vec2::new(label_w, 40.0);
        // Sized so that a 4-digit count fits its cell.
        let small = egui::FontId::proportional((cell * 0.34).clamp(9.0, 16.0));
        let text_color = ui.visuals().text_color();
        painter.text(
            rect.min + Vec2::new(label_w + side / 2.0, 2.0),
            egui::Align2::CENTER_TOP,
            "predicted",
            egui::FontId::proportional(12.0),
            text_color,
        );
        // The rows' axis, in the corner above the row names (on the line of "predicted", clear of the cells).
        painter.text(
            rect.min + Vec2::new(0.0, 2.0),
            egui::Align2::LEFT_TOP,
            "true",
            egui::FontId::proportional(12.0),
            text_color,
        );
        for i in 0..n {
            let name = short(names.get(i).map_or("?", |s| s.as_str()));
            painter.text(
                origin + Vec2::new(-6.0, (i as f32 + 0.5) * cell),
                egui::Align2::RIGHT_CENTER,
                &name,
                small.clone(),
                text_color,
            );
            painter.text(
                origin + Vec2::new((i as f32 + 0.5) * cell, -4.0),
                egui::Align2::CENTER_BOTTOM,
                &name,
                small.clone(),
                text_color,
            );
        }
        for t in 0..n {
            let row: u32 = m[t].iter().sum();
            for p in 0..n {
                let r =
                    egui::Rect::from_min_size(origin + Vec2::new(p as f32 * cell, t as f32 * cell), Vec2::splat(cell))
                        .shrink(1.0);
                let k = cell_intensity(m, t, p);
                let [cr, cg, cb] = cell_rgb(t == p, k);
                painter.rect_filled(r, 2.0, Color32::from_rgb(cr, cg, cb));
                if self.selected == Some((t, p)) {
                    painter.rect_stroke(
                        r,
                        2.0,
                        egui::Stroke::new(2.5, Color32::from_rgb(30, 90, 200)),
                        egui::StrokeKind::Inside,
                    );
                }
                let fg = if k > 0.55 { Color32::WHITE } else { Color32::from_gray(30) };
                painter.text(
                    r.center(),
                    egui::Align2::CENTER_CENTER,
                    cell_text(m, t, p, self.normalised),
                    small.clone(),
                    fg,
                );
                let (tn, pn) = (names.get(t).map_or("?", |s| s.as_str()), names.get(p).map_or("?", |s| s.as_str()));
                let label = format!("true {tn}, predicted {pn}");
                let resp = ui.interact(r, ui.scope_id().with(("confusion-cell", t, p)), Sense::click());
                resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
                let count = m[t][p];
                let pct = 100.0 * count as f64 / row.max(1) as f64;
                let resp = resp.on_hover_text(format!(
                    "{label}: {count} image{} ({pct:.1} % of the {tn}s)",
                    if count == 1 { "" } else { "s" }
                ));
                if resp.clicked() {
                    self.selected = Some((t, p));
                }
            }
        }
    }

    fn pairs_ui(&mut self, ui: &mut egui::Ui, m: &[Vec<u32>], names: &[String]) {
        ui.label(RichText::new("Most confused").strong());
        let pairs = most_confused(m, 5);
        if pairs.is_empty() {
            ui.weak("no mistakes");
        }
        for p in pairs {
            let (tn, pn) = (
                names.get(p.true_class).map_or("?", |s| s.as_str()),
                names.get(p.predicted).map_or("?", |s| s.as_str()),
            );
            let text = format!("{tn} read as {pn}: {}", p.count);
            if ui.link(text).on_hover_text("Show these images").clicked() {
                self.selected = Some((p.true_class, p.predicted));
            }
        }
    }
}

/// Long class names (Fashion-MNIST) shortened for the axes; the full name is in the hover text.
fn short(name: &str) -> String {
    if name.chars().count() <= 9 {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(8).collect::<String>())
    }
}

/// One bar per class: the share of its test images read right.
fn class_accuracy_ui(ui: &mut egui::Ui, m: &[Vec<u32>], names: &[String]) {
    ui.label(RichText::new("Accuracy per class").strong());
    egui::Grid::new("evaluation-class-accuracy").num_columns(3).spacing([6.0, 2.0]).show(ui, |ui| {
        for (t, row) in m.iter().enumerate() {
            let sum: u32 = row.iter().sum();
            let acc = row.get(t).copied().unwrap_or(0) as f32 / sum.max(1) as f32;
            ui.label(short(names.get(t).map_or("?", |s| s.as_str())));
            let (rect, _) = ui.allocate_exact_size(Vec2::new(CLASS_BAR, 12.0), Sense::hover());
            ui.painter().rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let fill = egui::Rect::from_min_size(rect.min, Vec2::new(CLASS_BAR * acc, rect.height()));
            let [r, g, b] = cell_rgb(true, 0.4 + 0.6 * acc);
            ui.painter().rect_filled(fill, 2.0, Color32::from_rgb(r, g, b));
            ui.label(format!("{:.1} %", acc * 100.0));
            ui.end_row();
        }
    });
}
