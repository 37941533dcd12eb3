//! The run store in the window: carrying out what the Runs view asks for (`RunsCommand`), saving each finished run,
//! and applying the store's answers (`RunsMsg`) that helper threads send back. Every file operation runs on a helper
//! thread; the state it keeps is `experiments.rs`.

use crate::app::command::RunsCommand;
use crate::app::jobs::{AppMsg, Job, RunsMsg};
use crate::app::runs::experiments::{Curves, Experiments, OverlaySeries, RunEntry, WeightsOrigin};
use crate::app::PlaygroundApp;
use crate::engine::store::runs::{ContinuedFrom, RunStore};
use crate::engine::training::config::EPOCHS_RANGE;
use std::path::PathBuf;
use std::sync::Arc;

fn runs_msg(m: RunsMsg) -> AppMsg {
    AppMsg::Runs(Box::new(m))
}

impl PlaygroundApp {
    /// Keeps runs under `dir/runs` (the window passes `engine::store::runs::data_dir()`; tests a temporary folder).
    /// Without it, runs are not kept. Call before the first frame.
    pub fn set_data_home(&mut self, dir: impl Into<PathBuf>) {
        self.session.experiments.store = Some(RunStore::new(dir.into()));
        self.session.experiments.started = false;
    }

    /// The store, the stored runs and what the last listing skipped.
    pub fn experiments(&self) -> &Experiments {
        &self.session.experiments
    }

    /// Each frame: the first one lists the stored runs; a finished run is saved. Never waits.
    pub(crate) fn experiments_tick(&mut self) {
        let ex = &mut self.session.experiments;
        if !ex.started {
            ex.started = true;
            self.list_runs();
        }
        if let Some(run) = self.session.experiments.pending_save.take() {
            let Some(store) = self.session.experiments.store.clone() else { return };
            self.spawn_helper(Job::SaveRun, move || {
                AppMsg::Runs(Box::new(RunsMsg::Saved(store.save(&run).map(Box::new))))
            });
        }
    }

    fn list_runs(&mut self) {
        let Some(store) = self.session.experiments.store.clone() else { return };
        self.spawn_helper(Job::ListRuns, move || {
            let list = store.list();
            let disk_bytes = store.disk_usage();
            AppMsg::Runs(Box::new(RunsMsg::Listed { list, disk_bytes }))
        });
    }

    fn find_run(&self, id: &str) -> Option<&RunEntry> {
        self.session.experiments.runs.iter().find(|r| r.id() == id)
    }

    pub(crate) fn runs_command(&mut self, cmd: RunsCommand) {
        let Some(store) = self.session.experiments.store.clone() else {
            self.session.error = Some("Runs are not kept: no data folder (set LENET_PLAYGROUND_HOME).".into());
            return;
        };
        match cmd {
            RunsCommand::Refresh => self.list_runs(),
            RunsCommand::Rename { id, name } => {
                self.spawn_helper(Job::ChangeRuns, move || {
                    runs_msg(RunsMsg::Changed(
                        store.rename(&id, &name).map(|r| format!("Renamed to '{}'.", r.record.name)),
                    ))
                });
            }
            RunsCommand::Delete(id) => {
                let name = self.find_run(&id).map_or(id.clone(), |r| r.name().to_string());
                self.spawn_helper(Job::ChangeRuns, move || {
                    runs_msg(RunsMsg::Changed(store.delete(&id).map(|()| format!("Deleted run '{name}'."))))
                });
            }
            RunsCommand::ClearOld { keep } => {
                self.spawn_helper(Job::ChangeRuns, move || {
                    runs_msg(RunsMsg::Changed(
                        store.clear_old(keep).map(|n| format!("Cleared {n} old run(s); the newest {keep} are kept.")),
                    ))
                });
            }
            RunsCommand::UseWeights(id) => {
                let Some(entry) = self.find_run(&id) else { return };
                if self.session.run_active() {
                    self.session.error = Some("Stop the current run before using another run's weights.".into());
                    return;
                }
                let run = entry.run.clone();
                self.spawn_helper(Job::LoadRunWeights, move || {
                    let result = store.load_weights(&run);
                    AppMsg::Runs(Box::new(RunsMsg::Weights { id, result }))
                });
            }
            RunsCommand::LoadSettings(id) => {
                let Some(entry) = self.find_run(&id) else { return };
                if self.session.run_active() {
                    self.session.error = Some("Stop the current run before loading other settings.".into());
                    return;
                }
                let mut config = entry.run.record.config.clone();
                config.epochs = config.epochs.max(EPOCHS_RANGE.0);
                self.session.status = format!("Settings of '{}' loaded into the controls.", entry.name());
                self.settings.train = config;
            }
            RunsCommand::SetOverlay { id, on } => {
                let ex = &mut self.session.experiments;
                let Some(entry) = ex.runs.iter_mut().find(|r| r.id() == id) else {
                    if on {
                        ex.pending_ticks.push(id);
                    }
                    return;
                };
                entry.overlay = on;
                if on && matches!(entry.curves, Curves::NotLoaded | Curves::Failed(_)) {
                    entry.curves = Curves::Loading;
                    let run = entry.run.clone();
                    self.spawn_helper(Job::LoadRunCurves, move || {
                        let result = store.load_metrics(&run).map(|m| Arc::new(OverlaySeries::from_metrics(&m)));
                        AppMsg::Runs(Box::new(RunsMsg::Curves { id, result }))
                    });
                }
            }
        }
    }

    pub(crate) fn handle_runs_msg(&mut self, msg: RunsMsg) {
        let ex = &mut self.session.experiments;
        match msg {
            RunsMsg::Listed { list, disk_bytes } => {
                ex.set_list(list, disk_bytes);
                // Curves of runs ticked before the list arrived.
                let want: Vec<String> = ex
                    .runs
                    .iter()
                    .filter(|r| r.overlay && r.curves == Curves::NotLoaded)
                    .map(|r| r.id().to_string())
                    .collect();
                for id in want {
                    self.runs_command(RunsCommand::SetOverlay { id, on: true });
                }
            }
            RunsMsg::Saved(result) => match result {
                Ok(run) => {
                    // The run the current weights (or a run continuing from them) came from now has an id.
                    let (ms, stored) = (run.record.created_unix_ms, ContinuedFrom::run(&run));
                    for origin in [self.session.weights_origin.as_mut(), ex.continuing.as_mut()].into_iter().flatten() {
                        if origin.awaiting_save == Some(ms) {
                            *origin = WeightsOrigin { from: stored.clone(), awaiting_save: None };
                        }
                    }
                    self.session.status = format!(
                        "{}; recorded as run '{}'.",
                        self.session.status.trim_end_matches('.'),
                        run.record.name
                    );
                    self.list_runs();
                }
                Err(e) => self.session.show_error("The run could not be recorded", &e),
            },
            RunsMsg::Curves { id, result } => {
                if let Some(entry) = ex.runs.iter_mut().find(|r| r.id() == id) {
                    match result {
                        Ok(series) => entry.curves = Curves::Ready(series),
                        Err(e) => {
                            let e = e.report();
                            entry.curves = Curves::Failed(e.clone());
                            entry.overlay = false;
                            self.session.error = Some(format!("Cannot draw run '{id}': {e}"));
                        }
                    }
                }
            }
            RunsMsg::Changed(result) => {
                match result {
                    Ok(m) => self.session.status = m,
                    Err(e) => self.session.error = Some(e.report()),
                }
                self.list_runs();
            }
            RunsMsg::Weights { id, result } => {
                let name = self.find_run(&id).map_or(id.clone(), |r| r.name().to_string());
                let from = self.find_run(&id).map(|r| ContinuedFrom::run(&r.run));
                match result.and_then(|w| self.install_loaded_weights(w)) {
                    Ok(()) => {
                        self.session.weights_origin = from.map(|from| WeightsOrigin { from, awaiting_save: None });
                        self.settings.continue_training = true;
                        self.session.status = format!(
                            "Using the weights of run '{name}' (canvas and inspector); Continue training goes on \
                             from them."
                        )
                    }
                    Err(e) => self.session.show_error(&format!("Cannot use the weights of run '{name}'"), &e),
                }
            }
        }
    }
}
