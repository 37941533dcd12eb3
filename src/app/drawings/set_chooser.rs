//! The set chooser at the top of the collector: which of the user's drawing sets the drawings go into, with
//! renaming one, deleting one (asked first, with what would be lost) and opening its folder. It only draws and
//! pushes commands.

use crate::app::command::{DrawingsCommand, UiCommand};
use crate::engine::store::drawing_sets::SetInfo;
use crate::engine::store::my_drawings::SetSummary;

#[derive(Default)]
pub struct SetChooser {
    /// Renaming: the new name being typed.
    renaming: Option<String>,
    /// Deleting: the set asked about.
    deleting: Option<String>,
}

impl SetChooser {
    /// The chooser row for the current set `current` among `sets`; `running`: a run is going on (no deleting).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        current: &SetSummary,
        sets: &[SetInfo],
        running: bool,
        out: &mut Vec<UiCommand>,
    ) {
        ui.horizontal_wrapped(|ui| {
            let shown = format!("{} ({} drawings)", current.name, current.total());
            egui::ComboBox::new("drawing-set", "set").selected_text(shown).show_ui(ui, |ui| {
                for s in sets {
                    let label = format!("{} ({} drawings)", s.name, s.drawings);
                    if ui.selectable_label(s.name == current.name, label).clicked() && s.name != current.name {
                        out.push(UiCommand::Drawings(DrawingsCommand::Switch(s.name.clone())));
                        self.renaming = None;
                        self.deleting = None;
                    }
                }
            });
            if ui.small_button("Rename…").on_hover_text("Give this set another name (its folder is renamed).").clicked()
            {
                self.renaming = Some(current.name.clone());
                self.deleting = None;
            }
            let delete = ui
                .add_enabled(!running, egui::Button::new("Delete…").small())
                .on_hover_text("Delete this set and all its drawings (asks first).")
                .on_disabled_hover_text("A run is going on: stop it first.");
            if delete.clicked() {
                self.deleting = Some(current.name.clone());
                self.renaming = None;
            }
            if ui
                .small_button("Open folder")
                .on_hover_text(format!("Opens {} in the file manager.", current.dir.display()))
                .clicked()
            {
                out.push(UiCommand::Drawings(DrawingsCommand::OpenFolder));
            }
        });
        self.rename_ui(ui, current, out);
        self.delete_ui(ui, current, out);
    }

    fn rename_ui(&mut self, ui: &mut egui::Ui, current: &SetSummary, out: &mut Vec<UiCommand>) {
        let Some(name) = self.renaming.as_mut() else { return };
        let mut done = false;
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(format!("Rename '{}' to", current.name));
            let edit = ui.add(egui::TextEdit::singleline(name).desired_width(140.0)).labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let changed = !name.trim().is_empty() && name.trim() != current.name;
            if ui.add_enabled(changed, egui::Button::new("Rename")).clicked() || (enter && changed) {
                out.push(UiCommand::Drawings(DrawingsCommand::Rename { from: current.name.clone(), to: name.clone() }));
                done = true;
            }
            if ui.button("Cancel").clicked() {
                done = true;
            }
        });
        if done {
            self.renaming = None;
        }
    }

    fn delete_ui(&mut self, ui: &mut egui::Ui, current: &SetSummary, out: &mut Vec<UiCommand>) {
        if self.deleting.as_deref() != Some(current.name.as_str()) {
            self.deleting = None;
            return;
        }
        let mut done = false;
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "Delete set '{}' and its {} drawing(s) from {}? This cannot be undone.",
                    current.name,
                    current.total(),
                    current.dir.display()
                ),
            );
            if ui.button("Delete it").clicked() {
                out.push(UiCommand::Drawings(DrawingsCommand::Delete(current.name.clone())));
                done = true;
            }
            if ui.button("Keep it").clicked() {
                done = true;
            }
        });
        if done {
            self.deleting = None;
        }
    }
}
