//! "What this unit wants": the 16 test images that excite the selected unit most and the 16 that excite it least,
//! each cropped to the part of the digit its strongest value saw, with that value. Rebuilt by the Inside tab's
//! helper thread once per epoch while training; the view only draws what it delivered.

use super::grid::{grey_scale, grid_ui, GridStyle};
use crate::app::command::UiCommand;
use crate::app::inside_worker::Rankings;
use crate::engine::data::set::ImageSet;
use crate::engine::insight::inside::units::{crop, Response};
use crate::engine::model::stages::{Output, Stage};
use egui::Ui;

/// Crops per row.
const PER_ROW: usize = 8;

/// What the view is drawn from.
pub(crate) struct UnitInputs<'a> {
    pub stage: &'a Stage,
    pub unit: usize,
    pub rankings: Option<&'a Rankings>,
    pub pending: bool,
    pub test: &'a ImageSet,
}

pub(crate) fn units_ui(ui: &mut Ui, inputs: &UnitInputs, commands: &mut Vec<UiCommand>) {
    let UnitInputs { stage, unit, rankings, pending, test } = *inputs;
    let what = match stage.output {
        Output::Maps { .. } => format!("channel {unit} of {}", stage.key),
        Output::Vector(_) => format!("unit {unit} of {}", stage.key),
    };
    ui.heading(format!("What {what} responds to"));
    ui.label(
        "Over the whole test set: the images whose strongest value in this channel (or this unit's value) is largest, \
         and smallest. Each is cropped to the pixels that value sees; click one to put the whole digit on the canvas. \
         Pick another unit in \"How a number is computed\".",
    );
    let Some(r) = rankings else {
        ui.weak("Ranking the test images…");
        return;
    };
    if pending {
        ui.weak("Updating for the latest weights…");
    }
    let units = match &r.units {
        Ok(u) => u,
        Err(e) => {
            ui.colored_label(egui::Color32::RED, e);
            return;
        }
    };
    let Some(ranking) = units.get(unit) else { return };
    ui.weak(format!("{} test images ranked in {:.1} s.", test.len(), r.secs));
    ui.strong("Most:");
    responses_ui(ui, "most", &ranking.top, test, commands);
    ui.strong("Least:");
    responses_ui(ui, "least", &ranking.bottom, test, commands);
}

fn responses_ui(ui: &mut Ui, id: &str, responses: &[Response], test: &ImageSet, commands: &mut Vec<UiCommand>) {
    egui::Grid::new(("inside-responses", id)).spacing([6.0, 6.0]).show(ui, |ui| {
        for (k, r) in responses.iter().enumerate() {
            let pixels = crop(test, r);
            let (h, w) = (r.field.height(), r.field.width());
            let cell_px = (56.0 / h.max(w) as f32).floor().clamp(1.0, 8.0);
            ui.vertical(|ui| {
                let name = format!("{id} {k}: test image {}", r.image);
                let style = GridStyle { name: &name, cell_px, outline: None, selected: None };
                if grid_ui(ui, &pixels, (h, w), &style, grey_scale(&[0.0, 1.0])).is_some() {
                    commands.push(UiCommand::ShowTestImage(r.image));
                }
                ui.small(format!("#{} {:+.2}", r.image, r.value));
            });
            if k % PER_ROW == PER_ROW - 1 {
                ui.end_row();
            }
        }
    });
}
