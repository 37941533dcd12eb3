//! The gallery under the confusion matrix: the test images of a clicked cell, most confident first, as
//! thumbnails made once per test set; clicking one puts it on the canvas.

use crate::app::command::UiCommand;
use crate::app::evaluation::inputs::{EvaluationInputs, Snapshot};
use crate::engine::data::set::{ImageSet, IMAGE_PIXELS, IMAGE_SIDE};
use crate::engine::insight::evaluate::cell_images;
use egui::{ColorImage, TextureHandle, TextureOptions, Vec2};
use std::collections::HashMap;

/// Thumbnails per row and their side in points.
const GALLERY_COLUMNS: usize = 6;
const THUMB: f32 = 56.0;

#[derive(Default)]
pub(crate) struct Gallery {
    /// Test indices of the selected cell, most confident first, and what they were computed for.
    images: Vec<usize>,
    key: Option<(usize, usize, usize, usize)>,
    thumbs: HashMap<usize, TextureHandle>,
    /// Identifies the test set the thumbnails were made from.
    thumbs_for: Option<(usize, usize)>,
}

impl Gallery {
    /// The test images of the selected cell, most confident first.
    pub fn images(&self) -> &[usize] {
        &self.images
    }

    /// Under the matrix: the images of the `selected` cell of snapshot `index`.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<(usize, usize)>,
        index: usize,
        snap: &Snapshot,
        inputs: &EvaluationInputs,
        commands: &mut Vec<UiCommand>,
    ) {
        let Some((t, p)) = selected.filter(|&(t, p)| t < snap.confusion.len() && p < snap.confusion.len()) else {
            self.images.clear();
            self.key = None;
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
        if self.key != Some(key) {
            self.images = cell_images(&test.labels, preds, t, p);
            self.key = Some(key);
            if self.thumbs.len() > 600 {
                self.thumbs.clear();
            }
        }
        let names = inputs.class_names;
        let (tn, pn) = (names.get(t).map_or("?", |s| s.as_str()), names.get(p).map_or("?", |s| s.as_str()));
        ui.label(format!(
            "true {tn}, predicted {pn}: {} image{}, most confident first. Click one to put it on the canvas.",
            self.images.len(),
            if self.images.len() == 1 { "" } else { "s" }
        ));
        let rows = self.images.len().div_ceil(GALLERY_COLUMNS);
        let images = std::mem::take(&mut self.images);
        egui::ScrollArea::vertical().id_salt("evaluation-gallery").auto_shrink([false, true]).show_rows(
            ui,
            THUMB + 22.0,
            rows,
            |ui, range| {
                for r in range {
                    ui.horizontal(|ui| {
                        for &i in images.iter().skip(r * GALLERY_COLUMNS).take(GALLERY_COLUMNS) {
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
        self.images = images;
    }
}

/// A test image as a thumbnail: dark ink on light paper.
fn thumb_image(test: &ImageSet, i: usize) -> ColorImage {
    let px = &test.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
    ColorImage::from_gray_iter([IMAGE_SIDE, IMAGE_SIDE], px.iter().map(|&v| 255 - (v as f32 * 0.9) as u8))
}
