//! What helper threads are and what they send back, as plain types: the typed job (`Job`), the counts of jobs in
//! flight (`InFlight`, the one place they are counted), the messages (`AppMsg`, `RunsMsg`), the channel they travel
//! on, and the path picker — the one place a dialog is opened, replaceable so tests and
//! `LENET_PLAYGROUND_EXPORT_DIR` answer without one. Starting a helper and applying its message is `background.rs`.

use crate::app::command::{DialogKind, UiCommand};
use crate::app::runs::experiments::OverlaySeries;
use crate::engine::data::set::{Dataset, ImageSet};
use crate::engine::insight::evaluate::Evaluation;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::drawing_sets::SetInfo;
use crate::engine::store::my_drawings::SetSummary;
use crate::engine::store::runs::{RunList, StoredRun};
use crate::engine::training::fine_tune::BeforeAfter;
use crate::Result;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What a helper job does. Its kind decides how it is counted: a write is in flight from its start until its file
/// is written or has failed, and closing the window waits for every write (shutdown.rs); the run store's listing
/// and changes show the Runs view as busy. The matches below are exhaustive, so a new job must be classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// A data folder (or the shipped MNIST) is read.
    LoadData,
    /// A weights file is read.
    LoadWeights,
    /// A file dialog waits for the user.
    Dialog,
    /// The test set is evaluated (CPU only).
    Evaluate,
    /// A screenshot of the next frame is on its way (egui's callback, not a thread of ours).
    Capture,
    /// A plot, metrics, screen or confusion-matrix file is written.
    Export,
    /// A weights file is written.
    SaveWeights,
    /// The run store is listed.
    ListRuns,
    /// A finished run is recorded in the store.
    SaveRun,
    /// Stored runs are renamed, deleted or cleared.
    ChangeRuns,
    /// A stored run's curves are read.
    LoadRunCurves,
    /// A stored run's weights are read.
    LoadRunWeights,
    /// A drawing of the user's set is saved or removed, or a set is made.
    SaveDrawing,
    /// The user's set is read: listed, loaded for a run, evaluated, compared before and after.
    ReadDrawings,
}

impl Job {
    /// The helper thread's name.
    pub fn name(self) -> &'static str {
        match self {
            Job::LoadData => "data-loader",
            Job::LoadWeights => "load-weights",
            Job::Dialog => "file-dialog",
            Job::Evaluate => "evaluate",
            Job::Capture => "capture",
            Job::Export => "export",
            Job::SaveWeights => "save-weights",
            Job::ListRuns => "list-runs",
            Job::SaveRun => "save-run",
            Job::ChangeRuns => "change-runs",
            Job::LoadRunCurves => "load-run-curves",
            Job::LoadRunWeights => "load-run-weights",
            Job::SaveDrawing => "save-drawing",
            Job::ReadDrawings => "read-drawings",
        }
    }

    /// Writes files the user must not lose: closing the window waits for it.
    pub fn writes(self) -> bool {
        match self {
            Job::Export | Job::SaveWeights | Job::SaveRun | Job::ChangeRuns | Job::SaveDrawing => true,
            Job::LoadData
            | Job::LoadWeights
            | Job::Dialog
            | Job::Evaluate
            | Job::Capture
            | Job::ListRuns
            | Job::LoadRunCurves
            | Job::LoadRunWeights
            | Job::ReadDrawings => false,
        }
    }

    /// Lists or changes the run store: the Runs view shows it as busy.
    fn busies_the_runs_view(self) -> bool {
        matches!(self, Job::ListRuns | Job::SaveRun | Job::ChangeRuns)
    }
}

/// Helper jobs in flight, counted in one place: every job until its message has been applied (UI thread), and the
/// writes until their files are written (the helper thread itself says so, so a close can wait for it).
#[derive(Default)]
pub(crate) struct InFlight {
    jobs: Vec<Job>,
    writes: Arc<AtomicUsize>,
    /// Tests: every write starts this much later (a slow writer).
    write_delay: Duration,
}

impl InFlight {
    /// `job` started; for a write, the returned guard ends the write when the helper drops it.
    pub fn start(&mut self, job: Job) -> Option<WriteGuard> {
        self.jobs.push(job);
        job.writes().then(|| {
            self.writes.fetch_add(1, Ordering::SeqCst);
            WriteGuard { writes: self.writes.clone(), delay: self.write_delay }
        })
    }

    /// `job`'s message has arrived (or it could not start).
    pub fn finish(&mut self, job: Job) {
        if let Some(i) = self.jobs.iter().position(|j| *j == job) {
            self.jobs.swap_remove(i);
        }
    }

    /// Jobs whose message has not been applied yet.
    pub fn jobs(&self) -> usize {
        self.jobs.len()
    }

    /// Writes not finished yet.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// A listing or change of the run store is on its way.
    pub(crate) fn runs_view_busy(&self) -> bool {
        self.jobs.iter().any(|j| j.busies_the_runs_view())
    }

    pub(crate) fn delay_writes(&mut self, delay: Duration) {
        self.write_delay = delay;
    }
}

/// A write in flight; dropping it (the file is written or has failed) ends it.
pub(crate) struct WriteGuard {
    writes: Arc<AtomicUsize>,
    delay: Duration,
}

impl WriteGuard {
    /// Where a slow writer (tests) waits before writing.
    pub(crate) fn before_writing(&self) {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.writes.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers the question a command asks while its path is `None` (see `UiCommand::dialog`); runs on a helper
/// thread. The default opens rfd dialogs; tests inject fixed paths.
pub type PathPicker = Arc<dyn Fn(&UiCommand) -> Option<PathBuf> + Send + Sync>;

/// What helper threads report back. Errors stay `crate::Error`, causes and all, until the UI thread shows them
/// (`Session::show_error`).
pub(crate) enum AppMsg {
    DataLoaded {
        folder: Option<PathBuf>,
        result: Result<Arc<Dataset>>,
        /// What the reading has to say (an image folder's skipped images, its cache).
        notes: Vec<String>,
    },
    /// A dialog's answer: the command that asked, its path filled in.
    Answered(UiCommand),
    /// A dialog closed without a path after `secs`.
    NotChosen {
        title: &'static str,
        secs: f64,
    },
    /// Ok is a message for the status line, Err one for the error banner.
    Done(Result<String>),
    WeightsLoaded {
        path: PathBuf,
        result: Result<ModelWeights>,
    },
    /// The run store's helpers (see `shell/runs.rs`).
    Runs(Box<RunsMsg>),
    /// An on-demand evaluation (Evaluate) finished.
    Evaluated {
        weights_version: u64,
        result: Result<Evaluation>,
    },
    /// The collector's helpers (see `shell/drawings.rs`).
    Drawings(Box<DrawingsMsg>),
    Screenshot {
        path: PathBuf,
        image: Arc<egui::ColorImage>,
        rect: egui::Rect,
        pixels_per_point: f32,
    },
}

/// The run store's answers.
pub(crate) enum RunsMsg {
    Listed {
        list: RunList,
        disk_bytes: u64,
    },
    Saved(Result<Box<StoredRun>>),
    Curves {
        id: String,
        result: Result<Arc<OverlaySeries>>,
    },
    /// Rename / delete / clear done (status line) or failed (error); the list is reloaded either way.
    Changed(Result<String>),
    Weights {
        id: String,
        result: Result<ModelWeights>,
    },
}

/// What the collector's helpers send back.
pub(crate) enum DrawingsMsg {
    /// The set as it is now (after a listing, an added or removed drawing, a new set); `saved` says what changed.
    Summary {
        result: Result<SetSummary>,
        saved: Option<String>,
        /// The sets as listed with it (None: not listed).
        sets: Option<Vec<SetInfo>>,
    },
    /// The current set was deleted and no set is left.
    NoSet {
        sets: Vec<SetInfo>,
        saved: String,
    },
    /// A sentence for the status line (opening the set's folder), or why it failed.
    Said(Result<String>),
    /// The set loaded for a run (Train on it). `start`: for a run from the MNIST weights (conv stages frozen),
    /// those weights and a sentence saying which they are; `None` for fresh weights.
    ForTraining {
        start: Option<Result<(ModelWeights, String)>>,
        result: Result<Arc<Dataset>>,
    },
    /// The mix to teach (the set with MNIST), the held-out drawings and MNIST's test set.
    ForTeaching(Result<(Arc<Dataset>, ImageSet, ImageSet)>),
    /// "How well does it read me?" answered, or the before/after figures of a teaching run.
    Answer(Result<String>),
    Compared(Result<BeforeAfter>),
}

/// The helpers' channel (each message with the job that sent it), the counts, and the picker.
pub(crate) struct Background {
    pub(crate) tx: Sender<(Job, AppMsg)>,
    pub(crate) rx: Receiver<(Job, AppMsg)>,
    pub(crate) picker: PathPicker,
    pub(crate) in_flight: InFlight,
    /// Data or weights that arrived while a run was active: applied when it ends.
    pub deferred: Vec<AppMsg>,
}

impl Background {
    pub fn new() -> Self {
        let (tx, rx) = unbounded();
        Background { tx, rx, picker: Arc::new(dialog_pick), in_flight: InFlight::default(), deferred: Vec::new() }
    }
}

/// Answers every save/load question with the default file name in `dir` (no dialogs). Used when
/// `LENET_PLAYGROUND_EXPORT_DIR` is set (scripted sessions, screenshots) and by tests. Folders are not picked.
pub fn fixed_dir_picker(dir: PathBuf) -> PathPicker {
    Arc::new(move |cmd: &UiCommand| cmd.dialog()?.file_name.map(|name| dir.join(name)))
}

/// The real dialogs (rfd, xdg portal). Called on a helper thread: it may block until the user answers.
fn dialog_pick(cmd: &UiCommand) -> Option<PathBuf> {
    let d = cmd.dialog()?;
    let dialog = rfd::FileDialog::new().set_title(d.title);
    match d.kind {
        DialogKind::Folder => dialog.pick_folder(),
        DialogKind::OpenFile => dialog.add_filter("LeNet-5 weights", &[d.extension()?]).pick_file(),
        DialogKind::SaveFile => {
            let ext = d.extension()?;
            dialog.set_file_name(d.file_name?).add_filter(ext, &[ext]).save_file()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::command::PlotFormat;

    #[test]
    fn the_export_dir_answers_default_names_and_no_folders() {
        let pick = fixed_dir_picker(PathBuf::from("/out"));
        let answer = |cmd: UiCommand| pick(&cmd);
        assert_eq!(answer(UiCommand::SaveWeights(None)), Some(PathBuf::from("/out/lenet.safetensors")));
        assert_eq!(answer(UiCommand::ExportPlots(PlotFormat::Svg, None)), Some(PathBuf::from("/out/lenet-plots.svg")));
        assert_eq!(answer(UiCommand::ExportMetrics(None)), Some(PathBuf::from("/out/lenet-metrics.csv")));
        assert_eq!(answer(UiCommand::OpenDataFolder(None)), None, "folders are not picked");
    }
}
