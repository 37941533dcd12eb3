//! "What this unit wants": the 16 test images that excite the selected unit most and the 16 that excite it least,
//! each cropped to the part of the digit its strongest value saw, with that value. Rebuilt by the Inside tab's
//! helper thread once per epoch while training; the view only draws what it delivered.

use super::grid::{grey_scale, grid_ui, signed_scale, GridStyle};
use crate::app::command::UiCommand;
use crate::app::inside::worker::Rankings;
use crate::engine::data::set::ImageSet;
use crate::engine::insight::inside::dream::{Dream, BLUR_EVERY, DECAY, STEPS};
use crate::engine::insight::inside::evolution::{UnitEpoch, STRIP_TOP};
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
    /// The unit's activation-maximisation image, when computed.
    pub dream: Option<&'a Result<Dream, String>>,
    /// The unit epoch by epoch over the current run, when computed.
    pub evolution: Option<&'a Result<Vec<UnitEpoch>, String>>,
    pub test: &'a ImageSet,
    /// The map's digits, which the strip ranks.
    pub digits: Option<&'a ImageSet>,
}

pub(crate) fn units_ui(ui: &mut Ui, inputs: &UnitInputs, commands: &mut Vec<UiCommand>) {
    let UnitInputs { stage, unit, rankings, pending, dream, test, .. } = *inputs;
    let what = match stage.output {
        Output::Maps { .. } => format!("channel {unit} of {}", stage.key),
        Output::Vector(_) => format!("unit {unit} of {}", stage.key),
    };
    ui.heading(format!("What {what} responds to"));
    ui.label(
        "Over the whole test set: the images whose strongest value in this channel (or this unit's value) is largest, \
         and smallest. Each is cropped to the pixels that value sees; click one to put the whole digit on the canvas.",
    );
    dream_ui(ui, dream);
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
    ui.add_space(8.0);
    evolution_ui(ui, inputs.evolution, inputs.digits);
}

/// One row per epoch of the run: what the unit wanted, its filter (first layer) and its top map digits then.
fn evolution_ui(ui: &mut Ui, evolution: Option<&Result<Vec<UnitEpoch>, String>>, digits: Option<&ImageSet>) {
    ui.strong("Over the run, epoch by epoch");
    let (Some(Ok(rows)), Some(digits)) = (evolution, digits) else {
        match evolution {
            Some(Err(e)) => ui.colored_label(egui::Color32::RED, e),
            _ => ui.weak("Appears once the run has a first epoch (each epoch's weights are kept for it)."),
        };
        return;
    };
    ui.weak(format!(
        "What it wanted, its filter (first layer only) and its {STRIP_TOP} strongest among the map's 2,000 digits."
    ));
    egui::Grid::new("inside-evolution").spacing([6.0, 4.0]).show(ui, |ui| {
        for row in rows {
            ui.label(format!("epoch {}", row.epoch));
            let style = GridStyle {
                name: &format!("wanted at epoch {}", row.epoch),
                cell_px: 2.0,
                outline: None,
                selected: None,
            };
            grid_ui(ui, &row.wanted, (28, 28), &style, grey_scale(&[0.0, 1.0]));
            match &row.filter {
                Some((k, w)) => {
                    let style =
                        GridStyle { name: "filter", cell_px: (56 / k.max(&1)) as f32, outline: None, selected: None };
                    grid_ui(ui, w, (*k, *k), &style, signed_scale(w));
                }
                None => {
                    ui.label("");
                }
            }
            for r in &row.top {
                let pixels = crop(digits, r);
                let (h, w) = (r.field.height(), r.field.width());
                let style = GridStyle {
                    name: "top",
                    cell_px: (40.0 / h.max(w) as f32).floor().clamp(1.0, 8.0),
                    outline: None,
                    selected: None,
                };
                grid_ui(ui, &pixels, (h, w), &style, grey_scale(&[0.0, 1.0]));
            }
            ui.end_row();
        }
    });
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

/// The image gradient ascent makes for the unit, with its regulariser said in words.
fn dream_ui(ui: &mut Ui, dream: Option<&Result<Dream, String>>) {
    ui.horizontal_top(|ui| {
        match dream {
            Some(Ok(d)) => {
                let style = GridStyle { name: "what the unit wants", cell_px: 3.0, outline: None, selected: None };
                grid_ui(ui, &d.image, (28, 28), &style, grey_scale(&[0.0, 1.0]));
                ui.vertical(|ui| {
                    ui.strong("What it wants, asked directly");
                    ui.label(format!(
                        "Gradient ascent on the input (for a channel: its value at the centre of the map): {STEPS} steps from faint grey, pixels kept in 0..1, {:.0}% L2 \
                         decay per step and a 3×3 blur every {BLUR_EVERY} steps. Its response rose from {:+.3} to \
                         {:+.3} ({:.2} s).",
                        DECAY * 100.0,
                        d.start_value,
                        d.value,
                        d.secs
                    ));
                });
            }
            Some(Err(e)) => {
                ui.colored_label(egui::Color32::RED, e);
            }
            None => {
                ui.weak("Computing the image this unit wants…");
            }
        }
    });
}
