//! The collector under the canvas: add the drawing to your own set as a class (the predicted one preselected, one
//! key per class), see the count per class and the newest drawings (click one to remove it), make a new set with its
//! own classes, train on it (from scratch, or from the MNIST weights with the convolutions frozen), teach the
//! current weights your handwriting, and ask how well they read you. It only draws and pushes commands.

use crate::app::command::{DrawingsCommand, UiCommand};
use crate::app::drawings::set_chooser::SetChooser;
use crate::app::widgets::texture::upload;
use crate::engine::data::classes::DIGIT_CLASSES;
use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::store::drawing_sets::SetInfo;
use crate::engine::store::my_drawings::{SetSummary, DEFAULT_SET, SETS_FOLDER};
use crate::engine::training::fine_tune::{self, BeforeAfter};
use crate::engine::training::fine_tune::{change_verdict, with_interval};
use egui::{Color32, ColorImage, Key, RichText, TextureHandle, TextureOptions, Vec2};
use std::path::PathBuf;

/// What the collector shows, from the app's state.
pub struct CollectorInputs<'a> {
    /// The set being collected into, as last read.
    pub summary: Option<&'a SetSummary>,
    /// The user's sets (the chooser's list).
    pub sets: &'a [SetInfo],
    /// The last answer of "How well does it read me?".
    pub answer: Option<&'a str>,
    /// A teaching run's figures, and its mix in words.
    pub compared: Option<(BeforeAfter, &'a str)>,
    /// The class name the network reads in the drawing.
    pub predicted: Option<String>,
    pub has_drawing: bool,
    pub has_weights: bool,
    pub running: bool,
}

#[derive(Default)]
pub struct CollectorView {
    /// The class picked by hand for the current drawing (None: the predicted one).
    picked: Option<String>,
    new_open: bool,
    new_name: String,
    new_classes: String,
    thumbs: Vec<TextureHandle>,
    thumbs_of: Vec<PathBuf>,
    chooser: SetChooser,
}

const KEYS: [Key; 10] =
    [Key::Num0, Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5, Key::Num6, Key::Num7, Key::Num8, Key::Num9];

impl CollectorView {
    pub fn ui(&mut self, ui: &mut egui::Ui, inp: &CollectorInputs, out: &mut Vec<UiCommand>) {
        let summary = inp.summary;
        let digits: Vec<String> = DIGIT_CLASSES.iter().map(|s| s.to_string()).collect();
        let classes = summary.map_or(&digits, |s| &s.class_names);
        if classes.is_empty() {
            ui.label("This set has no class folders: make a new set.");
            self.new_set_ui(ui, out);
            return;
        }
        // Wrapped: a row wider than the panel pushes the canvas panel's content under the plots in a narrow window.
        match summary {
            Some(s) => {
                ui.strong("My drawings");
                self.chooser.ui(ui, s, inp.sets, inp.running, out);
            }
            None => {
                ui.horizontal_wrapped(|ui| {
                    ui.strong("My drawings");
                    ui.weak(format!("set '{DEFAULT_SET}' (made on the first drawing)"));
                });
            }
        }
        if !inp.has_drawing {
            self.picked = None;
        }
        let predicted = inp.predicted.clone().filter(|p| classes.contains(p));
        let mut class = self.picked.clone().or(predicted).unwrap_or_else(|| classes[0].clone());
        ui.horizontal_wrapped(|ui| {
            let add = ui.add_enabled(inp.has_drawing, egui::Button::new("Add to my set as")).on_hover_text(
                "Saves the drawing as a PNG in the class's folder; the keys 0–9 add it as the class of that \
                 position.",
            );
            egui::ComboBox::new("collector-class", "class").selected_text(&class).show_ui(ui, |ui| {
                for (i, c) in classes.iter().enumerate() {
                    let label = if i < KEYS.len() { format!("{c}   (key {i})") } else { c.clone() };
                    if ui.selectable_label(*c == class, label).clicked() {
                        class = c.clone();
                        self.picked = Some(c.clone());
                    }
                }
            });
            if add.clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::Add(class.clone())));
                self.picked = None;
            }
        });
        if inp.has_drawing && !ui.ctx().egui_wants_keyboard_input() {
            for (i, key) in KEYS.iter().enumerate().take(classes.len()) {
                if ui.input_mut(|input| input.consume_key(egui::Modifiers::NONE, *key)) {
                    out.push(UiCommand::Drawings(DrawingsCommand::Add(classes[i].clone())));
                    self.picked = None;
                }
            }
        }
        if let Some(s) = summary {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 10.0;
                for (c, n) in s.class_names.iter().zip(&s.counts) {
                    let text = RichText::new(format!("{c}: {n}"));
                    ui.label(if *n == 0 { text.weak() } else { text });
                }
            });
            self.strip_ui(ui, s, out);
        }
        self.new_set_ui(ui, out);
        ui.add_space(4.0);
        self.runs_ui(ui, inp, classes, &digits, out);
    }

    /// The newest drawings as the network sees them; a click removes one.
    fn strip_ui(&mut self, ui: &mut egui::Ui, s: &SetSummary, out: &mut Vec<UiCommand>) {
        let paths: Vec<PathBuf> = s.recent.iter().map(|r| r.1.clone()).collect();
        if paths != self.thumbs_of {
            let images = s
                .recent
                .iter()
                .map(|(_, _, px)| {
                    let rgba: Vec<Color32> = px.iter().map(|&v| Color32::from_gray(255 - v)).collect();
                    ColorImage {
                        size: [IMAGE_SIDE, IMAGE_SIDE],
                        pixels: rgba,
                        source_size: Vec2::splat(IMAGE_SIDE as f32),
                    }
                })
                .collect();
            self.thumbs =
                upload(ui.ctx(), "my-drawing", std::mem::take(&mut self.thumbs), images, TextureOptions::NEAREST);
            self.thumbs_of = paths;
        }
        ui.horizontal_wrapped(|ui| {
            for ((class, path, _), tex) in s.recent.iter().zip(&self.thumbs) {
                let name = s.class_names.get(*class).cloned().unwrap_or_default();
                let button = egui::Button::image(egui::Image::new((tex.id(), Vec2::splat(36.0))));
                let resp = ui.add(button);
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Remove this drawing of '{name}'"))
                });
                if resp.on_hover_text(format!("'{name}' — click to remove it from the set")).clicked() {
                    out.push(UiCommand::Drawings(DrawingsCommand::Remove(path.clone())));
                }
            }
        });
    }

    fn new_set_ui(&mut self, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        if !self.new_open {
            if ui
                .small_button("New set…")
                .on_hover_text(format!(
                    "A set is a folder of class folders under the data home ({SETS_FOLDER}/<set>/<class>/<n>.png)."
                ))
                .clicked()
            {
                self.new_open = true;
            }
            return;
        }
        egui::Grid::new("new-set").num_columns(2).show(ui, |ui| {
            ui.label("name");
            ui.add(egui::TextEdit::singleline(&mut self.new_name).hint_text("shapes").desired_width(140.0));
            ui.end_row();
            ui.label("classes");
            ui.add(
                egui::TextEdit::singleline(&mut self.new_classes)
                    .hint_text("circle,square,triangle")
                    .desired_width(140.0),
            );
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui.button("Create").clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::NewSet {
                    name: self.new_name.clone(),
                    classes: self.new_classes.clone(),
                }));
                self.new_open = false;
            }
            if ui.button("Cancel").clicked() {
                self.new_open = false;
            }
        });
    }

    fn runs_ui(
        &self,
        ui: &mut egui::Ui,
        inp: &CollectorInputs,
        classes: &[String],
        digits: &[String],
        out: &mut Vec<UiCommand>,
    ) {
        let total = inp.summary.map_or(0, |s| s.total());
        let idle = !inp.running && total >= 2;
        let is_digits = classes == digits;
        ui.horizontal_wrapped(|ui| {
            ui.label("Train on this set:");
            if ui
                .add_enabled(idle, egui::Button::new("from scratch"))
                .on_hover_text("Fresh weights for the side panel's network and this set's classes; a small set trains with small batches, Adam and enough epochs (the status line says which).")
                .clicked()
            {
                out.push(UiCommand::Drawings(DrawingsCommand::Train { transfer: false }));
            }
            let transfer = ui
                .add_enabled(idle && inp.has_weights, egui::Button::new("from the MNIST weights, conv frozen"))
                .on_hover_text(
                    "Transfer learning: starts from weights trained on MNIST (the current ones if they are, else the \
                     newest stored run trained on MNIST; the status line says which) and freezes the convolution \
                     layers (c1, c3): \
                     their filters — strokes, curves, corners learned on MNIST — are kept exactly as they are and \
                     only the dense layers learn; the output layer is drawn afresh for this set's classes. A few \
                     drawings per class are then enough.",
                );
            if transfer.clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::Train { transfer: true }));
            }
        });
        ui.weak("Frozen = kept as loaded: the optimiser does not change those layers.");
        ui.horizontal_wrapped(|ui| {
            let teach_enabled = idle && inp.has_weights && is_digits;
            let teach = ui
                .add_enabled(teach_enabled, egui::Button::new("Teach it my handwriting"))
                .on_hover_text(format!(
                    "Fine-tunes the current weights on {} — a few seconds, as a normal run — then shows accuracy on \
                     your held-out drawings and on the MNIST test set, before and after.",
                    fine_tune::describe_mix(total * 4 / 5)
                ))
                .on_disabled_hover_text(
                    "Needs a digits set with at least 2 drawings, trained weights, and no run going on.",
                );
            if teach.clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::Teach));
            }
            let read_enabled = total > 0 && inp.has_weights && !inp.running;
            if ui.add_enabled(read_enabled, egui::Button::new("How well does it read me?")).clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::HowWell));
            }
        });
        if let Some(a) = inp.answer {
            ui.label(a);
        }
        if let Some((r, mix)) = &inp.compared {
            ui.label(RichText::new("Teach it my handwriting: before / after").strong());
            ui.weak(*mix);
            egui::Grid::new("before-after").num_columns(4).striped(true).show(ui, |ui| {
                ui.label("");
                ui.strong("before");
                ui.strong("after");
                ui.label("").on_hover_text("95 % intervals: with few drawings only a large change is a real one");
                ui.end_row();
                for (what, b, a, n) in [
                    (format!("your {} held-out drawings", r.own_n), r.own_before, r.own_after, r.own_n),
                    ("MNIST test set".to_string(), r.mnist_before, r.mnist_after, r.mnist_n),
                ] {
                    ui.label(what);
                    ui.label(with_interval(b, n));
                    let verdict = change_verdict(b, a, n);
                    let colour = match verdict {
                        "better" => Color32::from_rgb(40, 150, 60),
                        "worse" => Color32::from_rgb(200, 90, 40),
                        _ => ui.visuals().weak_text_color(),
                    };
                    ui.colored_label(colour, with_interval(a, n));
                    ui.colored_label(colour, verdict).on_hover_text(
                        "Better or worse when the 95 % intervals of before and after do not overlap; otherwise the \
                         drawings are too few to tell a change from luck (add more to the set)",
                    );
                    ui.end_row();
                }
            });
        }
    }
}
