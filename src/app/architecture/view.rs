//! The Architecture tab: change the network before training it. A preset box (LeNet-5, the MLP baseline, Wide,
//! Tiny; "Custom" once edited), up to three conv blocks (channels, kernel, padding with a "same" shortcut, pooling
//! after it) and up to three hidden dense layers (width, dropout before it), and under them the stage table of
//! what was built, which follows every edit at once. Each edit is an `ArchCommand`; the editor draws and pushes,
//! the app applies (`edit.rs`). Locked while a run is active, like the other settings the trainer fixed.

use crate::app::architecture::stage_table::{summary, table_ui, StageTable, TableStyle};
use crate::app::command::{ArchCommand, UiCommand};
use crate::app::widgets::format::LOCKED;
use crate::engine::model::architecture::{
    Architecture, ConvBlock, Dense, CHANNELS, KERNEL, MAX_BLOCKS, MAX_DROPOUT_PCT, MAX_HIDDEN, PRESETS, WIDTH,
};
use crate::engine::model::config::ModelConfig;
use crate::engine::model::memory;
use crate::engine::model::stages::{self, Spec};
use egui::{Button, ComboBox, DragValue, RichText, Ui};

/// The preset box's names, by key (the long descriptions are the hover text).
fn preset_name(key: &str) -> &'static str {
    match key {
        "lenet5" => "LeNet-5",
        "mlp" => "MLP 784-300-100-10",
        "wide" => "Wide",
        "tiny" => "Tiny",
        "linear" => "Linear (no hidden layer)",
        _ => "Custom",
    }
}

/// The name of a description: its preset's, or "Custom".
pub(crate) fn arch_name(arch: &Architecture) -> &'static str {
    arch.preset_key().map_or("Custom", preset_name)
}

#[derive(Default)]
pub(crate) struct ArchitectureView {
    table: Option<StageTable>,
}

impl ArchitectureView {
    /// The table of `config`, rebuilt when the configuration changed.
    fn table(&mut self, config: ModelConfig) -> &StageTable {
        if self.table.as_ref().is_none_or(|t| t.config != config) {
            self.table = Some(StageTable::new(config));
        }
        self.table.get_or_insert_with(|| StageTable::new(config))
    }

    /// `config`: the network the next run trains (the side panel's settings); `locked`: a run is active.
    /// `batch`: the side panel's batch size, for the training memory estimate.
    pub fn ui(&mut self, ui: &mut Ui, config: ModelConfig, batch: usize, locked: bool, commands: &mut Vec<UiCommand>) {
        // Scrolls in a short window (1024×700): the table of a three-block network is taller than the panel.
        egui::ScrollArea::vertical()
            .id_salt("arch-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| self.contents(ui, config, batch, locked, commands));
    }

    fn contents(
        &mut self,
        ui: &mut Ui,
        config: ModelConfig,
        batch: usize,
        locked: bool,
        commands: &mut Vec<UiCommand>,
    ) {
        let arch = config.arch;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Architecture");
            ui.monospace(arch.spec()).on_hover_text("The same network as text, as the command line's --arch takes it");
        });
        if locked {
            ui.colored_label(ui.visuals().warn_fg_color, LOCKED);
        }
        let push = |commands: &mut Vec<UiCommand>, c: ArchCommand| commands.push(UiCommand::Architecture(c));
        ui.add_enabled_ui(!locked, |ui| {
            ui.horizontal(|ui| {
                ui.label("Preset");
                let current = arch.preset_key();
                ComboBox::from_id_salt("arch-preset")
                    .selected_text(current.map_or("Custom", preset_name))
                    .show_ui(ui, |ui| {
                        for (key, description) in PRESETS {
                            let chosen = ui.selectable_label(current == Some(key), preset_name(key));
                            if chosen.on_hover_text(description).clicked() && current != Some(key) {
                                push(commands, ArchCommand::Preset(key));
                            }
                        }
                    })
                    .response
                    .accessible_name("Architecture preset")
                    .on_hover_text("Start from a named network; any edit below makes it Custom")
                    .on_disabled_hover_text(LOCKED);
            });
            ui.add_space(4.0);
            blocks_ui(ui, config, commands);
            ui.add_space(4.0);
            dense_ui(ui, config, commands);
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new("out").strong());
                ui.label(format!("Linear to {} classes (one per class of the data set)", config.classes));
            });
        });
        ui.separator();
        let table = self.table(config);
        match table.error {
            None => ui.label(RichText::new(summary(table)).strong()),
            Some(_) => ui.colored_label(ui.visuals().error_fg_color, summary(table)),
        };
        if let Some(need) = memory::training_bytes(config, batch) {
            ui.label(format!(
                "Training at batch {batch} needs about {} of memory (activations and their gradients); a run that \
                 would not fit in this machine's memory is refused before it starts.",
                memory::bytes_text(need)
            ));
        }
        ui.weak("Each stage for one 1×28×28 input, worked out as you edit: no training needed.");
        let style = TableStyle {
            id: "arch-stage-table",
            selected: None,
            selectable: false,
            saturation: None,
            error_below: false,
        };
        table_ui(ui, table, &style);
    }
}

/// The keys the stage table gives the conv blocks' convolutions (c1, c3, …) and the hidden layers (f5, f6, …).
fn layer_keys(config: ModelConfig) -> (Vec<&'static str>, Vec<&'static str>) {
    let rows = stages::rows(config);
    let convs = rows.iter().filter(|(_, s)| matches!(s, Spec::Conv { .. })).map(|(k, _)| *k).collect();
    let dense = rows.iter().filter(|(k, s)| matches!(s, Spec::Linear { .. }) && *k != "out").map(|(k, _)| *k).collect();
    (convs, dense)
}

fn blocks_ui(ui: &mut Ui, config: ModelConfig, commands: &mut Vec<UiCommand>) {
    let blocks = config.arch.blocks();
    let (keys, _) = layer_keys(config);
    ui.horizontal(|ui| {
        ui.strong(format!("Conv blocks ({}/{MAX_BLOCKS})", blocks.len()));
        ui.add_enabled(blocks.len() < MAX_BLOCKS, Button::new("Add conv block"))
            .on_hover_text("A 3×3 convolution with 'same' padding after the last block (keeps the size)")
            .on_disabled_hover_text(format!("At most {MAX_BLOCKS} conv blocks"))
            .clicked()
            .then(|| commands.push(UiCommand::Architecture(ArchCommand::AddBlock)));
    });
    if blocks.is_empty() {
        ui.weak("None: the image goes straight to the dense layers, flattened to 784 values.");
    }
    for (i, b) in blocks.iter().enumerate() {
        let key = keys.get(i).copied().unwrap_or("c?");
        let mut edit = *b;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(key).strong().monospace());
            ui.label("channels");
            ui.add(DragValue::new(&mut edit.channels).range(CHANNELS).speed(0.2))
                .accessible_name(format!("{key} channels"))
                .on_hover_text("Filters of this convolution: one feature map each")
                .on_disabled_hover_text(LOCKED);
            ui.label("kernel");
            ui.add(DragValue::new(&mut edit.kernel).range(KERNEL).speed(0.05))
                .accessible_name(format!("{key} kernel"))
                .on_hover_text("Side of each square filter (K in (W − K + 2P)/1 + 1)")
                .on_disabled_hover_text(LOCKED);
            ui.label("padding");
            ui.add(DragValue::new(&mut edit.padding).range(0..=edit.kernel - 1).speed(0.05))
                .accessible_name(format!("{key} padding"))
                .on_hover_text("Zeros around the input (P): 0 shrinks the map by K − 1")
                .on_disabled_hover_text(LOCKED);
            let same = ConvBlock::same_padding(edit.kernel);
            if ui
                .add_enabled(edit.padding != same, Button::new("same"))
                .accessible_name(format!("{key} same padding"))
                .on_hover_text(format!("Padding (K − 1)/2 = {same}: an odd kernel keeps the map's size"))
                .on_disabled_hover_text("Already 'same' padding")
                .clicked()
            {
                edit.padding = same;
            }
            // More padding than 'same' grows the map: (W − K + 2P) + 1 > W.
            let growth = (2 * edit.padding + 1).saturating_sub(edit.kernel);
            if growth > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, format!("map grows by {growth}"))
                    .on_hover_text("Padding above (K − 1)/2 adds a border of zeros wider than the filter can use");
            }
            ui.checkbox(&mut edit.pool, "pool")
                .accessible_name(format!("{key} pool"))
                .on_hover_text("2×2 pooling after this block (the side panel's pooling): halves the map")
                .on_disabled_hover_text(LOCKED);
            let remove = ui.button("Remove").accessible_name(format!("Remove {key}"));
            if remove.on_hover_text(format!("Remove block {key}")).clicked() {
                commands.push(UiCommand::Architecture(ArchCommand::RemoveBlock(i)));
            }
        });
        if edit != *b {
            commands.push(UiCommand::Architecture(ArchCommand::SetBlock(i, edit)));
        }
    }
}

fn dense_ui(ui: &mut Ui, config: ModelConfig, commands: &mut Vec<UiCommand>) {
    let hidden = config.arch.hidden();
    let (_, keys) = layer_keys(config);
    ui.horizontal(|ui| {
        ui.strong(format!("Hidden dense layers ({}/{MAX_HIDDEN})", hidden.len()));
        ui.add_enabled(hidden.len() < MAX_HIDDEN, Button::new("Add dense layer"))
            .on_hover_text("A fully connected layer before the output layer")
            .on_disabled_hover_text(format!("At most {MAX_HIDDEN} hidden layers"))
            .clicked()
            .then(|| commands.push(UiCommand::Architecture(ArchCommand::AddDense)));
    });
    if hidden.is_empty() {
        ui.weak("None: the output layer reads the flattened maps directly.");
    }
    for (i, d) in hidden.iter().enumerate() {
        let key = keys.get(i).copied().unwrap_or("f?");
        let mut width = d.width;
        let mut rate = d.dropout();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(key).strong().monospace());
            ui.label("width");
            ui.add(DragValue::new(&mut width).range(WIDTH).speed(1.0))
                .accessible_name(format!("{key} width"))
                .on_hover_text("Units of this layer")
                .on_disabled_hover_text(LOCKED);
            ui.label("dropout");
            let max = MAX_DROPOUT_PCT as f32 / 100.0;
            ui.add(DragValue::new(&mut rate).range(0.0..=max).speed(0.01).fixed_decimals(2))
                .accessible_name(format!("{key} dropout"))
                .on_hover_text("While training, each input of this layer is zeroed with this probability (0–0.7)")
                .on_disabled_hover_text(LOCKED);
            let remove = ui.button("Remove").accessible_name(format!("Remove {key}"));
            if remove.on_hover_text(format!("Remove layer {key}")).clicked() {
                commands.push(UiCommand::Architecture(ArchCommand::RemoveDense(i)));
            }
        });
        let edit = Dense { width, dropout_pct: (rate * 100.0).round().clamp(0.0, MAX_DROPOUT_PCT as f32) as u8 };
        if edit != *d {
            commands.push(UiCommand::Architecture(ArchCommand::SetDense(i, edit)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::architecture::edit;

    /// Draws the editor for `config` in a bare context and returns what it asked for.
    fn draw(view: &mut ArchitectureView, config: ModelConfig, locked: bool) -> Vec<UiCommand> {
        let ctx = egui::Context::default();
        let mut commands = Vec::new();
        for _ in 0..2 {
            let mut out = ctx.run_ui(Default::default(), |ui| view.ui(ui, config, 100, locked, &mut commands));
            out.textures_delta.clear();
        }
        commands
    }

    #[test]
    fn the_editor_never_panics_on_a_preset_or_an_edit_of_it() {
        let mut view = ArchitectureView::default();
        for (key, _) in PRESETS.iter().chain(&[("linear", "")]) {
            let arch = Architecture::preset(key).unwrap();
            let config = ModelConfig { arch, ..ModelConfig::default() };
            assert!(draw(&mut view, config, false).is_empty(), "{key}: drawing asks for nothing");
            assert!(draw(&mut view, config, true).is_empty());
            assert_eq!(arch_name(&arch), preset_name(key));
            // Every edit the editor can push, applied and drawn again: a description or a refusal, never a panic.
            let mut edits = vec![ArchCommand::AddBlock, ArchCommand::AddDense];
            for i in 0..MAX_BLOCKS {
                edits.push(ArchCommand::RemoveBlock(i));
                for (kernel, padding, pool) in [(9, 0, true), (1, 0, false), (9, 8, true)] {
                    edits.push(ArchCommand::SetBlock(i, ConvBlock { channels: 64, kernel, padding, pool }));
                }
            }
            for i in 0..MAX_HIDDEN {
                edits.push(ArchCommand::RemoveDense(i));
                edits.push(ArchCommand::SetDense(i, Dense { width: 1024, dropout_pct: 70 }));
            }
            let mut edited = arch;
            for cmd in edits {
                if let Ok(a) = edit::apply(edited, cmd) {
                    edited = a;
                    let _ = draw(&mut view, ModelConfig { arch: edited, ..config }, false);
                }
            }
        }
    }
}
