//! The side panel's Files section: export size, plot and metrics exports, weights, and which data set is read. Every
//! button says, when greyed, why.

use crate::app::command::{PlotFormat, UiCommand};
use crate::app::export::{MAX_EXPORT_SIDE, MIN_EXPORT_SIDE};
use crate::app::state::{Session, Settings};
use egui::{Button, DragValue, Ui};

/// `locked`: why the data and weights stay as they are (a run is going on), if they do.
pub(crate) fn files_section_ui(
    ui: &mut Ui,
    settings: &mut Settings,
    session: &Session,
    locked: Option<&str>,
    commands: &mut Vec<UiCommand>,
) {
    let (locked, locked_why) = (locked.is_some(), locked.unwrap_or_default());
    ui.strong("Files");
    ui.horizontal(|ui| {
        ui.label("Export size");
        ui.add(DragValue::new(&mut settings.export_width).range(MIN_EXPORT_SIDE..=MAX_EXPORT_SIDE).suffix(" px"));
        ui.label("×");
        ui.add(DragValue::new(&mut settings.export_height).range(MIN_EXPORT_SIDE..=MAX_EXPORT_SIDE).suffix(" px"));
    });
    // Plots and metrics exist once a run has a batch or a stored run is ticked: before that an export is empty axes.
    let has_curves = !session.history.is_empty() || session.experiments.runs.iter().any(|r| r.overlay);
    const NOTHING_YET: &str = "Nothing to export yet: train, or tick a run in the Runs tab";
    ui.horizontal(|ui| {
        ui.label("Export plots:");
        ui.add_enabled(has_curves, Button::new("PNG…"))
            .on_hover_text("Render both plots off-screen at the size above")
            .on_disabled_hover_text(NOTHING_YET)
            .clicked()
            .then(|| commands.push(UiCommand::ExportPlots(PlotFormat::Png, None)));
        ui.add_enabled(has_curves, Button::new("SVG…"))
            .on_hover_text("Vector drawing of both plots")
            .on_disabled_hover_text(NOTHING_YET)
            .clicked()
            .then(|| commands.push(UiCommand::ExportPlots(PlotFormat::Svg, None)));
        ui.add_enabled(has_curves, Button::new("Screen PNG…"))
            .on_hover_text("The plots exactly as they are on screen")
            .on_disabled_hover_text(NOTHING_YET)
            .clicked()
            .then(|| commands.push(UiCommand::ExportScreenPng(None)));
    });
    ui.horizontal(|ui| {
        ui.add_enabled(has_curves, Button::new("Metrics CSV…"))
            .on_hover_text("One row per batch and per epoch")
            .on_disabled_hover_text(NOTHING_YET)
            .clicked()
            .then(|| commands.push(UiCommand::ExportMetrics(None)));
        ui.add_enabled(session.weights.is_some(), Button::new("Save weights…"))
            .on_hover_text("safetensors, with the architecture in its metadata")
            .clicked()
            .then(|| commands.push(UiCommand::SaveWeights(None)));
    });
    ui.horizontal(|ui| {
        ui.add_enabled(!locked, Button::new("Load weights…"))
            .on_hover_text("Restores the model and its architecture; Continue training then goes on from it")
            .on_disabled_hover_text(locked_why)
            .clicked()
            .then(|| commands.push(UiCommand::LoadWeights(None)));
        ui.add_enabled(session.weights.is_some(), Button::new("Export ONNX…"))
            .on_hover_text(
                "The network as an ONNX model (opset 13) for Netron, onnxruntime or PyTorch: input N×1×28×28 \
                 (pixels / 255, ink bright), output the class scores; class names in its metadata",
            )
            .clicked()
            .then(|| commands.push(UiCommand::ExportOnnx(None)));
    });
    ui.horizontal(|ui| {
        let idle = !locked && session.loading.is_none();
        let why = if locked { locked_why } else { "Data is loading" };
        ui.add_enabled(idle, Button::new("Open data folder…"))
            .on_hover_text("A folder with the four MNIST-format files, e.g. Fashion-MNIST")
            .on_disabled_hover_text(why)
            .clicked()
            .then(|| commands.push(UiCommand::OpenDataFolder(None)));
        // A folder chosen here, or a set of drawings trained or taught on: either way not the shipped MNIST.
        let elsewhere = settings.data_folder.is_some() || session.data.as_ref().is_some_and(|d| d.source.is_some());
        ui.add_enabled(idle && elsewhere, Button::new("Use shipped MNIST"))
            .on_hover_text("Back to the 60,000 handwritten digits that ship with the app")
            .on_disabled_hover_text(if idle { "Already using it" } else { why })
            .clicked()
            .then(|| commands.push(UiCommand::UseShippedMnist));
    });
}
