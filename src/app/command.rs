//! What the views may ask for. Views never start threads, open dialogs or touch files: they push a `UiCommand`, and
//! only `PlaygroundApp::execute` (app/mod.rs) carries it out. That keeps every side effect in one place.

use crate::engine::config::Preset;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    Train,
    Pause,
    Resume,
    /// Space: start, pause or resume, whichever fits.
    ToggleTrainPause,
    Stop,
    /// New weights from the current settings, curves cleared.
    Reset,
    ApplyPreset(Preset),
    /// Off-screen rendering of both plots at the size in the settings.
    ExportPlots(PlotFormat),
    /// The plots as they are on screen, cropped from a screenshot.
    ExportScreenPng,
    ExportMetrics,
    SaveWeights,
    LoadWeights,
    OpenDataFolder,
    /// Load a given folder (what the folder dialog answers; also used by tests).
    LoadDataFolder(PathBuf),
    UseShippedMnist,
    DismissError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlotFormat {
    Png,
    Svg,
}

/// Which question a file dialog answers: the app remembers what to do with the path by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickKind {
    ExportPlots(PlotFormat),
    ExportScreenPng,
    ExportMetrics,
    SaveWeights,
    LoadWeights,
    DataFolder,
}

impl PickKind {
    pub fn title(self) -> &'static str {
        match self {
            PickKind::ExportPlots(PlotFormat::Png) => "Export plots as PNG",
            PickKind::ExportPlots(PlotFormat::Svg) => "Export plots as SVG",
            PickKind::ExportScreenPng => "Export on-screen plots as PNG",
            PickKind::ExportMetrics => "Export metrics CSV",
            PickKind::SaveWeights => "Save weights",
            PickKind::LoadWeights => "Load weights",
            PickKind::DataFolder => "Open an MNIST-format data folder",
        }
    }
    /// Default file name and extension filter for save dialogs.
    pub fn file(self) -> Option<(&'static str, &'static str)> {
        match self {
            PickKind::ExportPlots(PlotFormat::Png) => Some(("lenet-plots.png", "png")),
            PickKind::ExportPlots(PlotFormat::Svg) => Some(("lenet-plots.svg", "svg")),
            PickKind::ExportScreenPng => Some(("lenet-plots-screen.png", "png")),
            PickKind::ExportMetrics => Some(("lenet-metrics.csv", "csv")),
            PickKind::SaveWeights | PickKind::LoadWeights => Some(("lenet.safetensors", "safetensors")),
            PickKind::DataFolder => None,
        }
    }
}
