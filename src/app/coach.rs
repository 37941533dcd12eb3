//! The coach in the window: its hints arrive with the trainer's events (engine::insight::coach runs in the trainer) and are
//! kept in the history; this file carries out what the banner's buttons ask. A live learning-rate change goes to the
//! running trainer where the Control supports it; anything else — a different init, optimiser or activation —
//! restarts: the running run stops, and when it has ended a new one starts with the changed settings.

use super::command::UiCommand;
use super::PlaygroundApp;
use crate::engine::training::config::TrainConfig;
use crate::engine::training::events::{HintAction, RestartWith};
use crate::engine::training::worker::TrainerHandle;

/// What the coach banner asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum CoachCommand {
    /// Hide hint `index` (of `History::hints`).
    Dismiss(usize),
    /// Carry out one of hint `index`'s actions (confirmed already, where it restarts). The hint is then hidden.
    Act(usize, HintAction),
}

/// The coach's part of the app state.
#[derive(Default)]
pub struct CoachState {
    pub banner: super::views::coach::CoachBanner,
    /// Settings to start a new run with once the current one has stopped.
    pending_restart: Option<TrainConfig>,
}

/// Whether a running trainer takes a new learning rate without a restart (the live Control of the experiments
/// work; the trainer records the change as an `LrChanged`, and the coach re-judges the new rate).
pub fn live_lr_supported() -> bool {
    true
}

fn set_live_lr(trainer: &TrainerHandle, lr: f64) -> bool {
    trainer.control.set_lr_now(lr);
    true
}

/// What an action does in this window: SetLr on a running run changes its rate live; otherwise (no run, or no live
/// support) it becomes a restart with that rate.
pub fn effective_action(a: &HintAction, running: bool) -> HintAction {
    match a {
        HintAction::SetLr { lr } if !(running && live_lr_supported()) => {
            HintAction::Restart(RestartWith { lr: Some(*lr), ..Default::default() })
        }
        other => other.clone(),
    }
}

impl PlaygroundApp {
    pub(super) fn coach_command(&mut self, c: CoachCommand) {
        let index = match &c {
            CoachCommand::Dismiss(i) | CoachCommand::Act(i, _) => *i,
        };
        if let Some(h) = self.session.history.hints.get_mut(index) {
            h.dismissed = true;
        }
        let CoachCommand::Act(_, action) = c else { return };
        let running = self.session.run_active();
        match effective_action(&action, running) {
            HintAction::KeepWaiting => self.session.status = "Coach: keeping on.".into(),
            HintAction::SetLr { lr } => {
                let done = self.session.trainer.as_ref().is_some_and(|t| set_live_lr(t, lr));
                if done {
                    self.settings.train.lr = lr;
                    self.session.status = format!("Coach: learning rate set to {lr}.");
                }
            }
            HintAction::SetEpochs { epochs } => {
                // The trainer clamps to the epoch in progress: the run ends after it at the latest.
                if let Some(t) = self.session.trainer.as_ref().filter(|_| running) {
                    t.control.set_epochs(epochs);
                    self.session.status = format!("Coach: the run now ends after epoch {epochs}.");
                }
            }
            HintAction::Restart(r) => {
                let base = self.session.run.as_ref().map_or(&self.settings.train, |r| &r.config).clone();
                let cfg = base.with_changes(&r);
                self.settings.train = cfg.clone();
                if running {
                    self.pending_restart_set(cfg);
                    self.execute(UiCommand::Stop);
                } else {
                    self.restart_now();
                }
            }
        }
    }

    fn pending_restart_set(&mut self, cfg: TrainConfig) {
        self.coach.pending_restart = Some(cfg);
    }

    /// Each frame: once a run stopped for a restart has ended, start the new one.
    pub(super) fn coach_tick(&mut self) {
        if self.coach.pending_restart.is_some() && !self.session.run_active() {
            if let Some(cfg) = self.coach.pending_restart.take() {
                self.settings.train = cfg;
                self.restart_now();
            }
        }
    }

    fn restart_now(&mut self) {
        self.execute(UiCommand::Reset);
        self.execute(UiCommand::Train);
        let t = &self.settings.train;
        self.session.status = format!(
            "Coach: restarted with {} + {}, {} init, {} lr {}.",
            t.model.activation.label(),
            t.model.pooling.label(),
            t.init.label(),
            t.optimizer.label(),
            t.lr
        );
    }
}
