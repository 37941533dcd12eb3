//! Where the next run starts, said plainly: once there are trained weights (a run, Use weights, Load weights), the
//! side panel offers "Continue training" and "Train from scratch", with the default (what Train and Space do) ticked
//! and named. And which preset the settings are, if any ("Custom" otherwise).

use crate::app::command::{TrainStart, UiCommand};
use crate::app::state::{Session, Settings};
use crate::engine::training::config::{Preset, TrainConfig};
use egui::{Button, RichText, Ui};

/// Whether a run can start now, from scratch or continuing, and why not.
pub(crate) struct TrainAvailability<'a> {
    pub can_train: bool,
    pub can_continue: bool,
    pub why_not: &'a str,
}

/// Where the next run starts, in the same three rows in every state: the "Continue from current weights" box (greyed
/// while there is nothing to continue or a run goes on), one line saying where the next run starts, and the start
/// buttons — Train, or once there are weights to continue both "Continue training" and "Train from scratch", the
/// default (what Space does) drawn bold — so the run buttons below keep their places.
pub(crate) fn train_start_ui(
    ui: &mut Ui,
    settings: &mut Settings,
    session: &Session,
    can: TrainAvailability<'_>,
    commands: &mut Vec<UiCommand>,
) {
    let can_continue = can.can_continue;
    // The box shows the setting whenever there are weights it could continue (greyed while a run goes on).
    let continuable = session.can_continue(&settings.train);
    let mut ticked = settings.continue_training && continuable;
    ui.add_enabled(can_continue, egui::Checkbox::new(&mut ticked, "Continue from current weights"))
        .on_hover_text(
            "Ticked: Train and Space continue training these weights, and the curves go on. Unticked: they start \
             from scratch (new weights from the init and seed above).",
        )
        .on_disabled_hover_text(if continuable {
            "A run is going on"
        } else {
            "Nothing to continue yet: train a run, or load weights"
        });
    if can_continue {
        settings.continue_training = ticked;
    }
    let names = &session.experiments.runs;
    let name_of = |id: &str| names.iter().find(|r| r.id() == id).map(|r| r.name().to_string());
    let from = match &session.weights_origin {
        Some(o) => o.from.describe(name_of),
        None => format!("continued at epoch {:.2}", session.history.last_x()),
    };
    let said = if ticked {
        format!("Next run: {from} (Space)")
    } else {
        format!("Next run: from scratch, {} init, seed {} (Space)", settings.train.init.label(), settings.train.seed)
    };
    // One line whatever its length (the whole of it on hover), so the buttons below never move.
    ui.add(egui::Label::new(RichText::new(&said).weak()).truncate()).on_hover_text(said);
    if !can_continue {
        ui.horizontal(|ui| {
            ui.add_enabled(can.can_train, Button::new(RichText::new("Train").strong()))
                .on_hover_text("Start training from fresh weights (Space)")
                .on_disabled_hover_text(can.why_not)
                .clicked()
                .then(|| commands.push(UiCommand::Train));
        });
        return;
    }
    ui.horizontal(|ui| {
        let text =
            |label: &str, default: bool| if default { RichText::new(label).strong() } else { RichText::new(label) };
        ui.button(text("Continue training", settings.continue_training))
            .on_hover_text("Go on training the current weights: the run records what it continued from")
            .clicked()
            .then(|| commands.push(UiCommand::TrainFrom(TrainStart::Continue)));
        ui.button(text("Train from scratch", !settings.continue_training))
            .on_hover_text("New weights from the settings; the curves start again at epoch 0")
            .clicked()
            .then(|| commands.push(UiCommand::TrainFrom(TrainStart::Scratch)));
    });
}

/// The preset whose settings these are (the image limit and the data set's class count aside), if any.
pub(crate) fn matching_preset(train: &TrainConfig) -> Option<Preset> {
    Preset::ALL.iter().copied().find(|p| {
        let mut preset = TrainConfig::preset(*p);
        preset.limit = train.limit;
        preset.model.classes = train.model.classes;
        preset == *train
    })
}
