//! "How this number is computed": pick a stage and click one of its values (or step with the arrow keys); the
//! view shows the input pixels it sees, the window of the previous stage it reads, the kernel or weight row, the
//! products, their sum, the bias, and what the activation and pooling after it make of it. Every number comes from
//! `engine::insight::inside::element`, which recomputes it from the stage's input.

use super::grid::{grey_scale, grid_ui, signed_scale, GridStyle};
use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::insight::inside::element::{explain_element, map_position, Computation, Detail};
use crate::engine::model::config::{Activation, Pooling};
use crate::engine::model::predict::StageActivation;
use crate::engine::model::stages::{Output, Stage, StageKind};
use crate::engine::model::weights::ModelWeights;
use egui::{Color32, RichText, Ui};

/// Which value is explained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    pub stage: usize,
    pub cell: usize,
    /// The input channel whose window is shown (conv stages read all of them).
    pub in_channel: usize,
    /// False until a value of this stage was chosen: the view then starts at the stage's largest value.
    pub picked: bool,
}

/// Columns when a vector is drawn as a grid.
const VECTOR_COLUMNS: usize = 20;

pub(crate) fn element_ui(
    ui: &mut Ui,
    sel: &mut Selection,
    stages: &[Stage],
    trace: &[StageActivation],
    image: &[f32],
    weights: &ModelWeights,
) {
    if stages.is_empty() || trace.len() != stages.len() {
        return;
    }
    sel.stage = sel.stage.min(stages.len() - 1);
    sel.cell = sel.cell.min(stages[sel.stage].output.len().saturating_sub(1));
    stage_picker_ui(ui, sel, stages, true);
    step_with_arrows(ui, sel, stages[sel.stage].output);
    if !sel.picked {
        // A first look starts at the stage's strongest value, not at a corner of paper.
        sel.cell = crate::engine::model::lenet::argmax(&trace[sel.stage].values);
        sel.picked = true;
    }
    let computation = explain_element(weights, stages, image, trace, sel.stage, sel.cell);
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| map_ui(ui, sel, &stages[sel.stage], &trace[sel.stage]));
        if let Ok(c) = &computation {
            ui.add_space(12.0);
            ui.vertical(|ui| {
                ui.label("The input pixels it sees (receptive field):");
                let f = c.field;
                let style = GridStyle {
                    name: "receptive field on the input",
                    cell_px: 6.0,
                    outline: Some([f.top, f.bottom, f.left, f.right]),
                    selected: None,
                };
                grid_ui(ui, image, (IMAGE_SIDE, IMAGE_SIDE), &style, grey_scale(image));
                ui.weak(format!("rows {}..{}, columns {}..{}", f.top, f.bottom, f.left, f.right));
            });
        }
    });
    ui.separator();
    match &computation {
        Ok(c) => computation_ui(ui, sel, c, stages),
        Err(e) => {
            ui.colored_label(Color32::RED, e.report());
        }
    }
}

/// The stage, and the channel (maps) or unit (vector) shown; `hint` adds how to pick a value.
pub(crate) fn stage_picker_ui(ui: &mut Ui, sel: &mut Selection, stages: &[Stage], hint: bool) {
    ui.horizontal_wrapped(|ui| {
        let name = |s: &Stage| format!("{} ({} {:?})", s.key, s.kind.layer_name(), s.output.dims(1));
        ui.label("Stage");
        egui::ComboBox::from_id_salt("inside-stage").selected_text(name(&stages[sel.stage])).show_ui(ui, |ui| {
            for (i, s) in stages.iter().enumerate() {
                if ui.selectable_label(sel.stage == i, name(s)).clicked() && sel.stage != i {
                    *sel = Selection { stage: i, cell: 0, in_channel: 0, picked: false };
                }
            }
        });
        match stages[sel.stage].output {
            Output::Maps { channels, height, width } => {
                let (mut c, y, x) = map_position(stages[sel.stage].output, sel.cell).unwrap_or_default();
                let slider = egui::Slider::new(&mut c, 0..=channels - 1).text("channel");
                if ui.add_enabled(channels > 1, slider).changed() {
                    sel.cell = (c * height + y) * width + x;
                    sel.picked = true;
                }
            }
            Output::Vector(n) => {
                let slider = egui::Slider::new(&mut sel.cell, 0..=n - 1).text("unit");
                if ui.add_enabled(n > 1, slider).changed() {
                    sel.picked = true;
                }
            }
        }
        if hint {
            ui.weak("Click a value, or step with the arrow keys.");
        }
    });
}

/// Arrow keys move the selected value within its map (or along the vector), unless a text field has the keys.
fn step_with_arrows(ui: &Ui, sel: &mut Selection, output: Output) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let key = |k| ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, k));
    let (dx, dy) = [
        (egui::Key::ArrowLeft, (-1, 0)),
        (egui::Key::ArrowRight, (1, 0)),
        (egui::Key::ArrowUp, (0, -1)),
        (egui::Key::ArrowDown, (0, 1)),
    ]
    .into_iter()
    .find(|(k, _)| key(*k))
    .map_or((0, 0), |(_, d)| d);
    if (dx, dy) == (0, 0) {
        return;
    }
    match (output, map_position(output, sel.cell)) {
        (Output::Maps { height, width, .. }, Some((c, y, x))) => {
            let y = (y as isize + dy).clamp(0, height as isize - 1) as usize;
            let x = (x as isize + dx).clamp(0, width as isize - 1) as usize;
            sel.cell = (c * height + y) * width + x;
        }
        (Output::Vector(n), _) => {
            let step = dx + dy * VECTOR_COLUMNS as isize;
            sel.cell = (sel.cell as isize + step).clamp(0, n as isize - 1) as usize;
        }
        _ => {}
    }
}

/// The selected stage's map (its channel) or vector, with the selected value outlined; a click selects another.
fn map_ui(ui: &mut Ui, sel: &mut Selection, stage: &Stage, values: &StageActivation) {
    match stage.output {
        Output::Maps { height, width, .. } => {
            let (c, y, x) = map_position(stage.output, sel.cell).unwrap_or_default();
            let map = &values.values[c * height * width..(c + 1) * height * width];
            ui.label(format!("{} channel {c} ({height}×{width}) for this input:", stage.key));
            let name = format!("feature map {} channel {c}", stage.key);
            let cell_px = (230.0 / height.max(width) as f32).floor().clamp(4.0, 24.0);
            let style = GridStyle { name: &name, cell_px, outline: None, selected: Some((y, x)) };
            if let Some((y, x)) = grid_ui(ui, map, (height, width), &style, grey_scale(map)) {
                sel.cell = (c * height + y) * width + x;
            }
        }
        Output::Vector(n) => {
            let cols = n.min(VECTOR_COLUMNS);
            let rows = n.div_ceil(cols);
            ui.label(format!("{}'s {n} values for this input:", stage.key));
            let name = format!("values of {}", stage.key);
            let selected = Some((sel.cell / cols, sel.cell % cols));
            let style = GridStyle { name: &name, cell_px: 12.0, outline: None, selected };
            if let Some((y, x)) = grid_ui(ui, &values.values, (rows, cols), &style, grey_scale(&values.values)) {
                sel.cell = (y * cols + x).min(n - 1);
            }
        }
    }
}

/// Where a value sits, in words: "channel 3, row 4, column 7" or "unit 17".
fn place(output: Output, cell: usize) -> String {
    match map_position(output, cell) {
        Some((c, y, x)) => format!("channel {c}, row {y}, column {x}"),
        None => format!("unit {cell}"),
    }
}

fn computation_ui(ui: &mut Ui, sel: &mut Selection, c: &Computation, stages: &[Stage]) {
    let stage = c.stage;
    ui.heading(format!("{} [{}] = {:.5}", stage.key, place(stage.output, c.cell), c.value));
    ui.weak(format!("The network computed {:.5}; the numbers below add up to it.", c.network_value));
    let input_name = stages
        .iter()
        .position(|s| *s == stage)
        .and_then(|i| i.checked_sub(1))
        .map_or("the input image", |i| stages[i].key);
    match &c.detail {
        Detail::Conv { in_channels, kernel, origin, patch, weights, bias } => {
            let k = *kernel;
            let n = k * k;
            sel.in_channel = sel.in_channel.min(in_channels - 1);
            let ci = sel.in_channel;
            ui.label(format!(
                "A {k}×{k} window of {input_name} (top-left at row {}, column {}; outside the map is padding, 0), times \
                 the filter, summed over all {in_channels} input channel(s), plus the bias.",
                origin.0, origin.1
            ));
            if *in_channels > 1 {
                ui.add(egui::Slider::new(&mut sel.in_channel, 0..=in_channels - 1).text("input channel shown"));
            }
            let (p, w) = (&patch[ci * n..(ci + 1) * n], &weights[ci * n..(ci + 1) * n]);
            let products: Vec<f32> = p.iter().zip(w).map(|(a, b)| a * b).collect();
            ui.horizontal_top(|ui| {
                titled_numbers_ui(ui, &format!("window of {input_name}, channel {ci}"), p, k, grey_scale(p));
                ui.label("×");
                titled_numbers_ui(ui, "filter", w, k, signed_scale(w));
            });
            let channel_sum: f64 = products.iter().map(|&v| v as f64).sum();
            let all: f64 = c.detail.products().iter().map(|&v| v as f64).sum();
            ui.horizontal_top(|ui| {
                ui.label("=");
                titled_numbers_ui(ui, "products", &products, k, signed_scale(&products));
                ui.vertical(|ui| {
                    ui.label(format!("Σ products of input channel {ci} = {channel_sum:.5}"));
                    ui.label(format!("Σ over all {in_channels} input channel(s) = {all:.5}"));
                });
            });
            ui.strong(format!("{all:.5} + bias {bias:.5} = {:.5}", c.value));
        }
        Detail::Linear { inputs, weights, bias, strongest } => {
            ui.label(format!(
                "Every one of the {} values of {input_name} times its weight, summed, plus the bias.",
                inputs.len()
            ));
            let all: f64 = c.detail.products().iter().map(|&v| v as f64).sum();
            ui.strong(format!("Σ {} products = {all:.5}; + bias {bias:.5} = {:.5}", inputs.len(), c.value));
            ui.label("Its weights, drawn back onto the layer they read (red positive, blue negative):");
            weights_back_ui(ui, stages, stage, weights);
            ui.label(format!("The {} strongest weights:", strongest.len()));
            let before = stages.iter().position(|s| *s == stage).and_then(|i| flattened_from(stages, i));
            egui::Grid::new("inside-strongest").striped(true).num_columns(4).show(ui, |ui| {
                for h in ["reads", "value", "weight", "product"] {
                    ui.small(RichText::new(h).strong());
                }
                ui.end_row();
                for &i in strongest {
                    ui.small(before.map_or(format!("{input_name}[{i}]"), |o| place(o, i)));
                    ui.small(format!("{:.4}", inputs[i]));
                    ui.small(format!("{:+.4}", weights[i]));
                    ui.small(format!("{:+.4}", inputs[i] * weights[i]));
                    ui.end_row();
                }
            });
        }
        Detail::Activation { activation, input } => {
            let formula = match activation {
                Activation::Sigmoid => format!("σ({input:.5}) = 1 / (1 + e^−({input:.5}))"),
                Activation::Relu => format!("max(0, {input:.5})"),
            };
            ui.label(format!("The value at the same place of {input_name}, through the activation:"));
            ui.strong(format!("{formula} = {:.5}", c.value));
        }
        Detail::Pool { pooling, window } => {
            let what = match pooling {
                Pooling::Avg => "mean",
                Pooling::Max => "largest",
            };
            ui.label(format!("The {what} of a 2×2 block of {input_name}:"));
            numbers_ui(ui, "block", window, 2, grey_scale(window));
            ui.strong(format!("{what} = {:.5}", c.value));
        }
        Detail::PassThrough { from, input } => {
            let i = stages.iter().position(|s| *s == stage).unwrap_or(0);
            let from_place = i.checked_sub(1).map_or(format!("{from}"), |j| place(stages[j].output, *from));
            ui.label(format!("Copied from {input_name} [{from_place}]: {input:.5}"));
            if let StageKind::Dropout { .. } = stage.kind {
                ui.weak("Dropout passes every value through when predicting; it only drops while training.");
            }
        }
    }
    for (key, v) in &c.then {
        let s = stages.iter().find(|s| s.key == *key);
        let what = match s.map(|s| s.kind) {
            Some(StageKind::Activation(_)) => "after the activation",
            Some(StageKind::Pool(_)) => "pooled with its 2×2 block",
            _ => "then",
        };
        ui.label(format!("then {key}, {what}: {v:.5}"));
    }
}

/// A grid of numbers under its title.
fn titled_numbers_ui(ui: &mut Ui, title: &str, values: &[f32], k: usize, colour: impl Fn(f32) -> Color32) {
    ui.vertical(|ui| {
        ui.small(title);
        numbers_ui(ui, title, values, k, colour);
    });
}

/// A k-wide grid of numbers on their colours.
fn numbers_ui(ui: &mut Ui, id: &str, values: &[f32], k: usize, colour: impl Fn(f32) -> Color32) {
    egui::Grid::new(("inside-numbers", id)).spacing([1.0, 1.0]).show(ui, |ui| {
        for (i, &v) in values.iter().enumerate() {
            let bg = colour(v);
            let text = if bg.intensity() > 0.5 { Color32::BLACK } else { Color32::WHITE };
            egui::Frame::new().fill(bg).inner_margin(1.0).show(ui, |ui| {
                ui.label(RichText::new(format!("{v:+.2}")).monospace().size(9.0).color(text));
            });
            if i % k == k - 1 {
                ui.end_row();
            }
        }
    });
}

/// The maps a dense layer's inputs were flattened from, when its input is a flatten of feature maps.
fn flattened_from(stages: &[Stage], index: usize) -> Option<Output> {
    let mut i = index.checked_sub(1)?;
    while matches!(stages[i].kind, StageKind::Dropout { .. }) {
        i = i.checked_sub(1)?;
    }
    match stages[i].kind {
        StageKind::Flatten => Some(stages[i].input).filter(|o| matches!(o, Output::Maps { .. })),
        _ => None,
    }
}

/// A weight row as the maps it reads (one small grid per channel), or as a grid of the previous layer's units.
fn weights_back_ui(ui: &mut Ui, stages: &[Stage], stage: Stage, weights: &[f32]) {
    let index = stages.iter().position(|s| *s == stage).unwrap_or(0);
    match flattened_from(stages, index) {
        Some(Output::Maps { channels, height, width }) => {
            let cell_px = (84.0 / height.max(width) as f32).floor().clamp(2.0, 12.0);
            ui.horizontal_wrapped(|ui| {
                for ch in 0..channels {
                    let w = &weights[ch * height * width..(ch + 1) * height * width];
                    let name = format!("weights onto channel {ch}");
                    let style = GridStyle { name: &name, cell_px, outline: None, selected: None };
                    grid_ui(ui, w, (height, width), &style, signed_scale(weights));
                }
            });
        }
        _ => {
            let cols = weights.len().min(VECTOR_COLUMNS);
            let style = GridStyle { name: "weight row", cell_px: 10.0, outline: None, selected: None };
            grid_ui(ui, weights, (weights.len().div_ceil(cols), cols), &style, signed_scale(weights));
        }
    }
}
