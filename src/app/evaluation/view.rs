//! The Evaluation tab: the confusion matrix as a heat map (counts or row percentages, the diagonal green, errors
//! orange-red), an epoch slider that replays how it changed during the run, the most confused pairs and per-class
//! accuracy beside it, and a gallery of the test images of a clicked cell. Clicking an image puts it on the canvas
//! (a `UiCommand`); Evaluate and Export are commands too.

use crate::app::command::{PlotFormat, UiCommand};
use crate::app::evaluation::state::{EvalState, OnDemand};
use crate::app::export::matrix_cells::{cell_intensity, cell_rgb, cell_text};
use crate::app::export::ConfusionExport;
use crate::app::state::Session;
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::insight::evaluate::TestPredictions;
use crate::engine::insight::evaluate::{cell_images, correct, most_confused, total};
use egui::{Color32, ColorImage, RichText, Sense, TextureHandle, TextureOptions, Vec2};
use std::collections::HashMap;

/// One confusion matrix the slider can show: an epoch of the run, or an on-demand evaluation.
pub struct Snapshot<'a> {
    /// "epoch 3", "evaluated"…
    pub label: String,
    pub confusion: &'a [Vec<u32>],
    /// Per-image predictions, if kept (needed for the gallery).
    pub predictions: Option<&'a TestPredictions>,
}

/// What the tab is drawn from.
pub struct EvaluationInputs<'a> {
    pub(crate) snapshots: Vec<Snapshot<'a>>,
    pub class_names: &'a [String],
    pub dataset: &'a str,
    pub test: Option<&'a ImageSet>,
    /// Evaluate can run now (weights and data, no run, none running).
    pub(crate) can_evaluate: bool,
    /// 0..1 while an evaluation runs.
    pub progress: Option<f32>,
    /// A note under the buttons (e.g. the evaluation is for earlier weights).
    pub(crate) note: Option<String>,
}

impl<'a> EvaluationInputs<'a> {
    /// What the Evaluation tab is drawn from: every epoch of the run that has a matrix, then the on-demand result.
    pub(crate) fn from_state(s: &'a Session, eval: &'a EvalState) -> Self {
        let mut snapshots: Vec<Snapshot<'a>> = s
            .history
            .epochs
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.confusion.is_empty())
            .map(|(i, e)| Snapshot {
                label: format!("epoch {}", i + 1),
                confusion: &e.confusion,
                predictions: e.predictions.as_deref(),
            })
            .collect();
        let mut note = None;
        let same_data = |r: &OnDemand| s.data.as_ref().is_some_and(|d| r.data == (d.name.clone(), d.test.len()));
        if let Some(r) = eval.result.as_ref().filter(|r| same_data(r)) {
            let current = r.weights_version == s.weights_version;
            if !current {
                note = Some(
                    "The evaluated matrix is for earlier weights: press Evaluate again for the current ones.".into(),
                );
            }
            snapshots.push(Snapshot {
                label: if current { "evaluated".into() } else { "evaluated (earlier weights)".into() },
                confusion: &r.eval.confusion,
                predictions: Some(&r.eval.predictions),
            });
        }
        let class_names: &[String] = match (&s.data, &s.weights) {
            (Some(d), _) => &d.class_names,
            (None, Some(w)) => &w.class_names,
            _ => &[],
        };
        EvaluationInputs {
            snapshots,
            class_names,
            dataset: s.data.as_ref().map_or("", |d| d.name.as_str()),
            test: s.data.as_ref().map(|d| &d.test),
            can_evaluate: s.weights.is_some() && s.data.is_some() && !s.run_active() && eval.running.is_none(),
            progress: eval.progress(),
            note,
        }
    }
}

/// Width of the column beside the matrix (most confused pairs, accuracy per class) and of its bars.
const SIDE_COLUMN: f32 = 250.0;
const CLASS_BAR: f32 = 110.0;

/// Gallery thumbnails per row and their side in points.
const GALLERY_COLUMNS: usize = 6;
const THUMB: f32 = 56.0;

#[derive(Default)]
pub struct EvaluationView {
    /// Row percentages instead of counts.
    pub normalised: bool,
    /// Index of the shown snapshot; None follows the latest.
    pub snapshot: Option<usize>,
    /// The clicked cell (true, predicted).
    pub selected: Option<(usize, usize)>,
    /// Test indices of the selected cell, most confident first, and what they were computed for.
    gallery: Vec<usize>,
    gallery_key: Option<(usize, usize, usize, usize)>,
    thumbs: HashMap<usize, TextureHandle>,
    /// Identifies the test set the thumbnails were made from.
    thumbs_for: Option<(usize, usize)>,
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
        &self.gallery
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
        self.gallery_ui(ui, index, snap, inputs, commands);
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

    fn gallery_ui(
        &mut self,
        ui: &mut egui::Ui,
        index: usize,
        snap: &Snapshot,
        inputs: &EvaluationInputs,
        commands: &mut Vec<UiCommand>,
    ) {
        let Some((t, p)) = self.selected.filter(|&(t, p)| t < snap.confusion.len() && p < snap.confusion.len()) else {
            self.gallery.clear();
            self.gallery_key = None;
            ui.weak("Click a cell to see its test images.");
            return;
        };
        let (Some(preds), Some(test)) = (snap.predictions, inputs.test) else {
            ui.weak("The images of this matrix were not kept (only the run's epochs and Evaluate keep them).");
            return;
        };
        let key = (index, t, p, preds.predicted.len());
        let set_id = (test.images.as_ptr() as usize, test.len());
        if self.thumbs_for != Some(set_id) {
            self.thumbs.clear();
            self.thumbs_for = Some(set_id);
        }
        if self.gallery_key != Some(key) {
            self.gallery = cell_images(&test.labels, preds, t, p);
            self.gallery_key = Some(key);
            if self.thumbs.len() > 600 {
                self.thumbs.clear();
            }
        }
        let names = inputs.class_names;
        let (tn, pn) = (names.get(t).map_or("?", |s| s.as_str()), names.get(p).map_or("?", |s| s.as_str()));
        ui.label(format!(
            "true {tn}, predicted {pn}: {} image{}, most confident first. Click one to put it on the canvas.",
            self.gallery.len(),
            if self.gallery.len() == 1 { "" } else { "s" }
        ));
        let rows = self.gallery.len().div_ceil(GALLERY_COLUMNS);
        let gallery = std::mem::take(&mut self.gallery);
        egui::ScrollArea::vertical().id_salt("evaluation-gallery").auto_shrink([false, true]).show_rows(
            ui,
            THUMB + 22.0,
            rows,
            |ui, range| {
                for r in range {
                    ui.horizontal(|ui| {
                        for &i in gallery.iter().skip(r * GALLERY_COLUMNS).take(GALLERY_COLUMNS) {
                            let tex = self.thumbs.entry(i).or_insert_with(|| {
                                ui.ctx().load_texture(
                                    format!("eval-thumb-{i}"),
                                    thumb_image(test, i),
                                    TextureOptions::NEAREST,
                                )
                            });
                            let conf = preds.confidence.get(i).copied().unwrap_or(0.0);
                            let predicted = preds.predicted.get(i).map_or(0, |&c| c as usize);
                            let pname = names.get(predicted).map_or("?", |s| s.as_str());
                            let tname = names.get(test.labels[i] as usize).map_or("?", |s| s.as_str());
                            ui.vertical(|ui| {
                                ui.set_width(THUMB + 8.0);
                                let button = egui::Button::image((tex.id(), Vec2::splat(THUMB)));
                                let resp = ui.add(button).on_hover_text(format!(
                                    "test image #{i}: true {tname}, predicted {pname} ({:.1} %)",
                                    conf * 100.0
                                ));
                                resp.widget_info(|| {
                                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("test image #{i}"))
                                });
                                if resp.clicked() {
                                    commands.push(UiCommand::ShowTestImage(i));
                                }
                                ui.small(format!("{tname} as {pname} {:.0}%", conf * 100.0));
                            });
                        }
                    });
                }
            },
        );
        self.gallery = gallery;
    }
}

/// A test image as a thumbnail: dark ink on light paper.
fn thumb_image(test: &ImageSet, i: usize) -> ColorImage {
    let px = &test.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
    ColorImage::from_gray_iter([IMAGE_SIDE, IMAGE_SIDE], px.iter().map(|&v| 255 - (v as f32 * 0.9) as u8))
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
