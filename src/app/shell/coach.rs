//! The coach in the window: its hints arrive with the trainer's events (engine::training::coach runs in the trainer) and are
//! kept in the history; this file carries out what the banner's buttons ask (`CoachCommand`). A learning-rate change
//! goes to the running trainer; anything else — a different init, optimiser or activation — restarts: the running
//! run stops, and when it has ended a new one starts with the changed settings.

use crate::app::command::{effective_action, CoachCommand, LiveCommand, UiCommand};
use crate::app::PlaygroundApp;
use crate::engine::training::config::lr_text;
use crate::engine::training::events::HintAction;

impl PlaygroundApp {
    pub(crate) fn coach_command(&mut self, c: CoachCommand) {
        let index = match &c {
            CoachCommand::Dismiss(i) | CoachCommand::Act(i, _) => *i,
        };
        if let Some(h) = self.session.history.hints.get_mut(index) {
            h.dismissed = true;
        }
        let CoachCommand::Act(_, action) = c else { return };
        let running = self.session.run_active();
        let Some(action) = effective_action(&action, running) else { return };
        match action {
            HintAction::KeepWaiting => self.session.status = "Coach: keeping on.".into(),
            HintAction::SetLr { lr } => {
                // The same path as the side panel's slider: one whole gesture.
                if self.session.trainer.is_some() {
                    self.execute(UiCommand::Live(LiveCommand::Lr { lr, done: true }));
                    self.settings.train.lr = lr;
                    self.session.status = format!("Coach: learning rate set to {}.", lr_text(lr));
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
                    self.pending_restart = Some(cfg);
                    self.execute(UiCommand::Stop);
                } else {
                    self.restart_now();
                }
            }
        }
    }

    /// Each frame: once a run stopped for a restart has ended, start the new one.
    pub(crate) fn coach_tick(&mut self) {
        if self.pending_restart.is_some() && !self.session.run_active() {
            if let Some(cfg) = self.pending_restart.take() {
                self.settings.train = cfg;
                self.restart_now();
            }
        }
    }

    fn restart_now(&mut self) {
        self.execute(UiCommand::Reset);
        self.execute(UiCommand::Train);
        self.session.status = format!("Coach: restarted with {}.", self.settings.train.describe());
    }
}
