//! Every intent of the window, as data: what the views may ask for. Views never start threads, open dialogs or touch
//! files: they push a `UiCommand`, and only the app (`execute.rs`) carries it out. That keeps every side effect in
//! one place. This module names nothing else of the app (a test in tests/layering.rs holds it to that), so every
//! other file may use it without making a circle.
//!
//! A command that needs a file carries `Option<PathBuf>`: `None` means "ask the user". The dialog's answer comes
//! back as the same command with the path filled in, so a button, a dialog, `LENET_PLAYGROUND_EXPORT_DIR` and a
//! test all take one path through the app.

use crate::engine::model::architecture::{ConvBlock, Dense};
use crate::engine::training::config::Preset;
use crate::engine::training::events::{HintAction, RestartWith};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    /// Train as the side panel says: continue from the current weights or start from scratch (`Settings::
    /// continue_training`, when there is something to continue).
    Train,
    /// Train from scratch or continue, whatever the side panel's default.
    TrainFrom(TrainStart),
    Pause,
    Resume,
    /// Space: start, pause or resume, whichever fits.
    ToggleTrainPause,
    Stop,
    /// New weights from the current settings, curves cleared.
    Reset,
    ApplyPreset(Preset),
    /// Off-screen rendering of both plots at the size in the settings.
    ExportPlots(PlotFormat, Option<PathBuf>),
    /// The plots as they are on screen, cropped from a screenshot.
    ExportScreenPng(Option<PathBuf>),
    ExportMetrics(Option<PathBuf>),
    SaveWeights(Option<PathBuf>),
    /// The current network as an ONNX model, for other tools.
    ExportOnnx(Option<PathBuf>),
    LoadWeights(Option<PathBuf>),
    /// Load a data folder: MNIST-format files or an image folder.
    OpenDataFolder(Option<PathBuf>),
    UseShippedMnist,
    DismissError,
    /// The Runs view: list, rename, delete, overlay, use weights or settings of a stored run.
    Runs(RunsCommand),
    /// Live changes to the running trainer: learning rate, epochs, Step.
    Live(LiveCommand),
    /// The coach banner's buttons (carried out in shell/coach.rs).
    Coach(CoachCommand),
    /// Evaluate the current weights on the test set (off the UI thread).
    Evaluate,
    /// Put test image `index` on the canvas (and so into the inspector) until the user draws or clears.
    ShowTestImage(usize),
    /// The confusion matrix as shown on the Evaluation tab, rendered off screen.
    ExportConfusion(PlotFormat, Option<PathBuf>),
    /// An edit of the network in the Architecture tab (ignored while a run is active).
    Architecture(ArchCommand),
    /// The collector on the canvas panel: the user's own set of drawings (carried out in shell/drawings.rs).
    Drawings(DrawingsCommand),
}

/// What the collector asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum DrawingsCommand {
    /// Read the current set again (counts, the strip).
    Refresh,
    /// Save the canvas' drawing into the current set as this class, and clear the canvas.
    Add(String),
    /// Remove one drawing of the current set.
    Remove(PathBuf),
    /// Make a set with these classes ("circle,square,triangle") and collect into it.
    NewSet { name: String, classes: String },
    /// Train on the set: from fresh weights, or (`transfer`) from the current ones with the conv stages frozen.
    Train { transfer: bool },
    /// Fine-tune the current weights on the set mixed with MNIST, and compare before and after.
    Teach,
    /// Evaluate the current weights on every drawing of the set.
    HowWell,
    /// Collect into another of the user's sets from now on.
    Switch(String),
    /// Rename a set (`from` to `to`).
    Rename { from: String, to: String },
    /// Delete a set with all its drawings (the collector has asked first).
    Delete(String),
    /// Open the current set's folder in the desktop's file manager.
    OpenFolder,
}

/// What the Architecture editor asks for. Blocks and layers are counted from 0 in their list; bounds are checked
/// when the edit is applied (`architecture/edit.rs`), so a command never builds an out-of-range description.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchCommand {
    /// One of `architecture::PRESETS` by key.
    Preset(&'static str),
    AddBlock,
    RemoveBlock(usize),
    SetBlock(usize, ConvBlock),
    AddDense,
    RemoveDense(usize),
    SetDense(usize, Dense),
}

/// Where a new run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainStart {
    /// Fresh weights from the settings (init, seed); the curves start again at epoch 0.
    Scratch,
    /// The current weights (the last run's, or those of Use weights / Load weights); the curves go on from where
    /// they were trained to, and the run records what it continued from.
    Continue,
}

/// What the Runs view asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RunsCommand {
    Refresh,
    Rename {
        id: String,
        name: String,
    },
    Delete(String),
    /// Delete all but the newest `keep` runs.
    ClearOld {
        keep: usize,
    },
    /// Load the run's final weights into the canvas and inspector.
    UseWeights(String),
    /// Copy the run's settings into the side panel.
    LoadSettings(String),
    /// Tick or untick the run's curves in the plots.
    SetOverlay {
        id: String,
        on: bool,
    },
}

/// What the side panel asks of the running trainer.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCommand {
    /// One value of a drag; `done` ends the gesture (release, or a value typed in one go).
    Lr {
        lr: f64,
        done: bool,
    },
    Epochs(usize),
    /// While paused: train exactly one batch.
    Step,
}

/// What the coach banner asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum CoachCommand {
    /// Hide hint `index` (of `History::hints`).
    Dismiss(usize),
    /// Carry out one of hint `index`'s actions (confirmed already, where it restarts). The hint is then hidden.
    Act(usize, HintAction),
}

/// What a coach action does in this window: SetLr on a running run changes its rate live (the trainer records the
/// change as an `LrChanged`, and the coach re-judges the new rate); with no run it becomes a restart with that rate.
pub(crate) fn effective_action(a: &HintAction, running: bool) -> Option<HintAction> {
    match a {
        HintAction::SetLr { lr } if !running => {
            Some(HintAction::Restart(RestartWith { lr: Some(*lr), ..Default::default() }))
        }
        // "Stop after epoch 8" cannot stop a run that has ended: the same advice is a new run of 8 epochs.
        HintAction::SetEpochs { epochs } if !running => {
            Some(HintAction::Restart(RestartWith { epochs: Some(*epochs), ..Default::default() }))
        }
        // Waiting only makes sense while the run goes on.
        HintAction::KeepWaiting if !running => None,
        other => Some(other.clone()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlotFormat {
    Png,
    Svg,
}

/// What a dialog is asked to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    SaveFile,
    OpenFile,
    Folder,
}

/// The question a command asks while its path is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialog {
    pub title: &'static str,
    pub kind: DialogKind,
    /// The default file name; its extension is the dialog's filter. None for folders.
    pub file_name: Option<&'static str>,
}

impl Dialog {
    /// The extension of the default file name ("png", "safetensors"…).
    pub fn extension(&self) -> Option<&'static str> {
        self.file_name.and_then(|n| n.rsplit_once('.')).map(|(_, ext)| ext)
    }
}

impl UiCommand {
    /// The dialog to show before this command can be carried out: Some only while its path is `None`.
    pub fn dialog(&self) -> Option<Dialog> {
        use DialogKind::*;
        let (title, kind, file_name) = match self {
            UiCommand::ExportPlots(PlotFormat::Png, None) => ("Export plots as PNG", SaveFile, "lenet-plots.png"),
            UiCommand::ExportPlots(PlotFormat::Svg, None) => ("Export plots as SVG", SaveFile, "lenet-plots.svg"),
            UiCommand::ExportScreenPng(None) => ("Export on-screen plots as PNG", SaveFile, "lenet-plots-screen.png"),
            UiCommand::ExportMetrics(None) => ("Export metrics CSV", SaveFile, "lenet-metrics.csv"),
            UiCommand::ExportConfusion(PlotFormat::Png, None) => {
                ("Export the confusion matrix as PNG", SaveFile, "lenet-confusion.png")
            }
            UiCommand::ExportConfusion(PlotFormat::Svg, None) => {
                ("Export the confusion matrix as SVG", SaveFile, "lenet-confusion.svg")
            }
            UiCommand::SaveWeights(None) => ("Save weights", SaveFile, "lenet.safetensors"),
            UiCommand::ExportOnnx(None) => ("Export the network as ONNX", SaveFile, "lenet.onnx"),
            UiCommand::LoadWeights(None) => ("Load weights", OpenFile, "lenet.safetensors"),
            UiCommand::OpenDataFolder(None) => {
                let title = "Open a data folder (the four MNIST-format files, or one subfolder of images per class)";
                return Some(Dialog { title, kind: Folder, file_name: None });
            }
            _ => return None,
        };
        Some(Dialog { title, kind, file_name: Some(file_name) })
    }

    /// The same command with its path filled in (what a dialog answers). Commands without a path are unchanged.
    pub(crate) fn with_path(self, path: PathBuf) -> UiCommand {
        let p = Some(path);
        match self {
            UiCommand::ExportPlots(format, _) => UiCommand::ExportPlots(format, p),
            UiCommand::ExportScreenPng(_) => UiCommand::ExportScreenPng(p),
            UiCommand::ExportMetrics(_) => UiCommand::ExportMetrics(p),
            UiCommand::ExportConfusion(format, _) => UiCommand::ExportConfusion(format, p),
            UiCommand::SaveWeights(_) => UiCommand::SaveWeights(p),
            UiCommand::ExportOnnx(_) => UiCommand::ExportOnnx(p),
            UiCommand::LoadWeights(_) => UiCommand::LoadWeights(p),
            UiCommand::OpenDataFolder(_) => UiCommand::OpenDataFolder(p),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_answers_with_the_same_command() {
        let ask = UiCommand::SaveWeights(None);
        let d = ask.dialog().expect("asks for a file");
        assert_eq!((d.kind, d.extension()), (DialogKind::SaveFile, Some("safetensors")));
        let answered = ask.with_path("w.safetensors".into());
        assert_eq!(answered, UiCommand::SaveWeights(Some("w.safetensors".into())));
        assert_eq!(answered.dialog(), None, "a filled-in path asks nothing");
        assert_eq!(UiCommand::OpenDataFolder(None).dialog().unwrap().file_name, None);
        assert_eq!(UiCommand::Train.dialog(), None);
    }
}
