//! Helper threads, so the UI thread never waits: anything slow (data loading, file dialogs, weight files, exports)
//! runs on a short-lived thread that sends one `AppMsg` back and wakes the UI. Also the path picker: the one place
//! a dialog is opened, replaceable so tests and `LENET_PLAYGROUND_EXPORT_DIR` answer without one.

use super::command::{DialogKind, UiCommand};
use super::state::Phase;
use super::PlaygroundApp;
use crate::engine::data::mnist::Dataset;
use crate::engine::model::weights::ModelWeights;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Answers the question a command asks while its path is `None` (see `UiCommand::dialog`); runs on a helper
/// thread. The default opens rfd dialogs; tests inject fixed paths.
pub type PathPicker = Arc<dyn Fn(&UiCommand) -> Option<PathBuf> + Send + Sync>;

/// What helper threads report back.
pub(super) enum AppMsg {
    DataLoaded {
        folder: Option<PathBuf>,
        result: Result<Arc<Dataset>, String>,
    },
    /// A dialog's answer: the command that asked, its path filled in.
    Answered(UiCommand),
    /// A dialog closed without a path after `secs`.
    NotChosen {
        title: &'static str,
        secs: f64,
    },
    /// Ok is a message for the status line, Err one for the error banner.
    Done(Result<String, String>),
    WeightsLoaded {
        path: PathBuf,
        result: Result<ModelWeights, String>,
    },
    /// The run store's helpers (see `app::experiments`).
    Runs(Box<super::experiments::RunsMsg>),
    /// An on-demand evaluation (Evaluate) finished.
    Evaluated {
        weights_version: u64,
        result: Result<crate::engine::insight::evaluate::Evaluation, String>,
    },
    Screenshot {
        path: PathBuf,
        image: Arc<egui::ColorImage>,
        rect: egui::Rect,
        pixels_per_point: f32,
    },
}

/// The helpers' channel and the picker.
pub(super) struct Background {
    pub tx: Sender<AppMsg>,
    pub rx: Receiver<AppMsg>,
    pub picker: PathPicker,
    /// Saves and exports still writing (a helper decrements it when its file is written or has failed).
    pub writes_in_flight: Arc<AtomicUsize>,
    /// Data or weights that arrived while a run was active: applied when it ends.
    pub deferred: Vec<AppMsg>,
}

impl Background {
    pub fn new() -> Self {
        let (tx, rx) = unbounded();
        Background { tx, rx, picker: Arc::new(dialog_pick), writes_in_flight: Arc::default(), deferred: Vec::new() }
    }
}

impl PlaygroundApp {
    /// Runs `job` on a named helper thread; its message arrives in a later frame.
    pub(super) fn spawn_helper(&mut self, name: &str, job: impl FnOnce() -> AppMsg + Send + 'static) {
        let tx = self.background.tx.clone();
        let ctx = self.ctx.clone();
        // Saves and exports are counted while they write, so closing the window can wait for them.
        let writing = matches!(name, "export" | "save-weights").then(|| self.background.writes_in_flight.clone());
        if let Some(w) = &writing {
            w.fetch_add(1, Ordering::SeqCst);
        }
        let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
            let msg = job();
            if let Some(w) = writing {
                w.fetch_sub(1, Ordering::SeqCst);
            }
            let _ = tx.send(msg);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.session.jobs_in_flight += 1,
            Err(e) => self.session.error = Some(format!("cannot start a helper thread: {e}")),
        }
    }

    /// Asks the picker for the path `cmd` needs; the answer comes back as `cmd` with the path filled in.
    pub(super) fn ask(&mut self, cmd: UiCommand) {
        let title = cmd.dialog().map_or("Choose a file", |d| d.title);
        let picker = self.background.picker.clone();
        self.spawn_helper("file-dialog", move || {
            let t0 = Instant::now();
            match picker(&cmd) {
                Some(path) => AppMsg::Answered(cmd.with_path(path)),
                None => AppMsg::NotChosen { title, secs: t0.elapsed().as_secs_f64() },
            }
        });
    }

    /// Applies every message the helpers have sent (never waits).
    pub(super) fn drain_helpers(&mut self) {
        while let Ok(msg) = self.background.rx.try_recv() {
            self.handle_msg(msg);
        }
    }

    fn handle_msg(&mut self, msg: AppMsg) {
        self.session.jobs_in_flight = self.session.jobs_in_flight.saturating_sub(1);
        self.apply_msg(msg);
    }

    /// Applies data or weights that arrived during a run, once it has ended (never waits).
    pub(super) fn apply_deferred(&mut self) {
        if !self.session.run_active() && !self.background.deferred.is_empty() {
            for msg in std::mem::take(&mut self.background.deferred) {
                self.apply_msg(msg);
            }
        }
    }

    fn apply_msg(&mut self, msg: AppMsg) {
        let s = &mut self.session;
        // Data or weights from a dialog are not swapped in under a running trainer: they wait for the run to end.
        if s.run_active() {
            let what = match &msg {
                AppMsg::DataLoaded { result: Ok(d), .. } => Some(format!("The data set {}", d.name)),
                AppMsg::WeightsLoaded { path, result: Ok(_) } => Some(format!("The weights {}", path.display())),
                _ => None,
            };
            if let Some(what) = what {
                s.status = format!("{what} will be used when this run ends.");
                s.loading = None;
                self.background.deferred.push(msg);
                return;
            }
        }
        match msg {
            AppMsg::DataLoaded { folder, result } => {
                s.loading = None;
                match result {
                    Ok(data) => {
                        self.settings.data_folder = folder;
                        s.install_data(data, &self.settings.train);
                    }
                    Err(e) => {
                        s.error = Some(format!("Cannot load the data set: {e}"));
                        if s.data.is_none() {
                            if folder.is_some() {
                                // A saved folder that went away: fall back to the shipped MNIST.
                                self.settings.data_folder = None;
                                self.load_data(None);
                            } else {
                                s.phase = Phase::NoData;
                            }
                        }
                    }
                }
            }
            AppMsg::Answered(cmd) => self.execute(cmd),
            AppMsg::NotChosen { title, secs } if secs < 0.3 => {
                s.status = format!("{title}: no file dialog could be shown (no desktop portal?), nothing was chosen.")
            }
            AppMsg::NotChosen { title, .. } => s.status = format!("{title}: cancelled."),
            AppMsg::Done(Ok(message)) => s.status = message,
            AppMsg::Done(Err(e)) => s.error = Some(e),
            AppMsg::WeightsLoaded { path, result } => {
                let installed = result.and_then(|w| {
                    let (config, dataset) = (w.config, w.dataset.clone());
                    s.install_file_weights(w).map(|()| (config, dataset))
                });
                match installed {
                    Ok((config, dataset)) => {
                        self.settings.train.model = config;
                        s.status = format!(
                            "Loaded {} ({} + {}, trained on {dataset}); Train continues from these weights.",
                            path.display(),
                            config.activation.label(),
                            config.pooling.label()
                        );
                    }
                    Err(e) => s.error = Some(format!("Cannot load weights (the current model is kept): {e}")),
                }
            }
            AppMsg::Runs(m) => self.handle_runs_msg(*m),
            AppMsg::Evaluated { weights_version, result } => self.finish_evaluation(weights_version, result),
            AppMsg::Screenshot { path, image, rect, pixels_per_point } => {
                self.spawn_helper("export", move || {
                    AppMsg::Done(super::export::write_screen(&path, &image, rect, pixels_per_point))
                });
            }
        }
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
