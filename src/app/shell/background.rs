//! Helper threads, so the UI thread never waits: anything slow (data loading, file dialogs, weight files, exports,
//! the run store) runs on a short-lived thread that sends one `AppMsg` (jobs.rs) back and wakes the UI; each frame
//! applies what arrived.

use crate::app::command::UiCommand;
use crate::app::jobs::{AppMsg, Job};
use crate::app::runs::experiments::WeightsOrigin;
use crate::app::state::Phase;
use crate::app::PlaygroundApp;
use crate::engine::model::weights::ModelWeights;
use crate::engine::store::runs::ContinuedFrom;
use std::time::Instant;

impl PlaygroundApp {
    /// The one way a helper thread is started: `work` runs as `job` (which decides how it is counted, see
    /// `jobs::Job`) and its message arrives in a later frame.
    pub(crate) fn spawn_helper(&mut self, job: Job, work: impl FnOnce() -> AppMsg + Send + 'static) {
        let tx = self.background.tx.clone();
        let ctx = self.ctx.clone();
        let write = self.background.in_flight.start(job);
        let spawned = std::thread::Builder::new().name(job.name().into()).spawn(move || {
            if let Some(w) = &write {
                w.before_writing();
            }
            let msg = work();
            drop(write);
            let _ = tx.send((job, msg));
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            // The closure (and with it the write's guard) is dropped with the error.
            self.background.in_flight.finish(job);
            self.session.error = Some(format!("cannot start a helper thread: {e}"));
        }
    }

    /// Helper jobs whose message has not been applied yet (data, dialogs, files, the run store, Evaluate).
    pub fn jobs_in_flight(&self) -> usize {
        self.background.in_flight.jobs()
    }

    /// Writes still under way (exports, weights, the run store's saves, renames, deletes and clears).
    pub fn writes_in_flight(&self) -> usize {
        self.background.in_flight.writes()
    }

    /// Tests: every write starts `delay` late, so a test can close the window while one is under way.
    #[doc(hidden)]
    pub fn delay_writes_for_tests(&mut self, delay: std::time::Duration) {
        self.background.in_flight.delay_writes(delay);
    }

    /// Asks the picker for the path `cmd` needs; the answer comes back as `cmd` with the path filled in.
    pub(crate) fn ask(&mut self, cmd: UiCommand) {
        let title = cmd.dialog().map_or("Choose a file", |d| d.title);
        let picker = self.background.picker.clone();
        self.spawn_helper(Job::Dialog, move || {
            let t0 = Instant::now();
            match picker(&cmd) {
                Some(path) => AppMsg::Answered(cmd.with_path(path)),
                None => AppMsg::NotChosen { title, secs: t0.elapsed().as_secs_f64() },
            }
        });
    }

    /// Applies every message the helpers have sent (never waits).
    pub(crate) fn drain_helpers(&mut self) {
        while let Ok((job, msg)) = self.background.rx.try_recv() {
            self.background.in_flight.finish(job);
            self.apply_msg(msg);
        }
    }

    /// Weights read from a file or a stored run: they replace the model and the curves, the architecture controls
    /// follow them, and the next run continues from them.
    pub(crate) fn install_loaded_weights(&mut self, w: ModelWeights) -> crate::Result<()> {
        let config = w.config;
        self.session.install_file_weights(w)?;
        self.settings.train.model = config;
        Ok(())
    }

    /// Applies data or weights that arrived during a run, once it has ended (never waits).
    pub(crate) fn apply_deferred(&mut self) {
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
            AppMsg::DataLoaded { folder, result, notes } => {
                s.loading = None;
                match result {
                    Ok(data) => {
                        self.settings.data_folder = folder;
                        s.install_data(data, &self.settings.train);
                        for note in notes {
                            s.status = format!("{}; {note}", s.status);
                        }
                    }
                    Err(e) => {
                        s.show_error("Cannot load the data set", &e);
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
            AppMsg::Done(Err(e)) => s.error = Some(e.report()),
            AppMsg::WeightsLoaded { path, result } => {
                let installed = result.and_then(|w| {
                    let (config, dataset) = (w.config, w.dataset.clone());
                    self.install_loaded_weights(w).map(|()| (config, dataset))
                });
                let s = &mut self.session;
                match installed {
                    Ok((config, dataset)) => {
                        let from = ContinuedFrom::weights_file(&path);
                        s.weights_origin = Some(WeightsOrigin { from, awaiting_save: None });
                        self.settings.continue_training = true;
                        s.status = format!(
                            "Loaded {} ({} + {}, trained on {dataset}); Continue training starts from these weights.",
                            path.display(),
                            config.activation.label(),
                            config.pooling.label()
                        );
                    }
                    Err(e) => s.show_error("Cannot load weights (the current model is kept)", &e),
                }
            }
            AppMsg::Runs(m) => self.handle_runs_msg(*m),
            AppMsg::Drawings(m) => self.handle_drawings_msg(*m),
            AppMsg::Evaluated { weights_version, result } => self.finish_evaluation(weights_version, result),
            AppMsg::Screenshot { path, image, rect, pixels_per_point } => {
                self.spawn_helper(Job::Export, move || {
                    AppMsg::Done(crate::app::export::write_screen(&path, &image, rect, pixels_per_point))
                });
            }
        }
    }
}
