//! Closing the window never loses finished work: a close request while the trainer runs or files are being
//! written stops the trainer, shows "Saving…", and closes once both are done or after `CLOSE_WAIT` — checked each
//! frame, so the UI thread never waits. `on_exit` then joins the trainer, bounded by the same wait.

use crate::app::PlaygroundApp;
use std::time::{Duration, Instant};

/// How long closing the window waits for the trainer to stop and for saves and exports to finish.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl PlaygroundApp {
    fn trainer_running(&self) -> bool {
        self.session.trainer.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// A close request while the trainer runs or files are being written: stop the trainer, show "Saving…", and
    /// close once both are done or after `CLOSE_WAIT` (checked each frame; the UI thread never waits).
    pub(in crate::app) fn handle_close(&mut self, ctx: &egui::Context) {
        if self.closing_deadline.is_none() && !self.close_sent && ctx.input(|i| i.viewport().close_requested()) {
            if let Some(t) = &self.session.trainer {
                t.stop();
            }
            if self.trainer_running() || self.writes_in_flight() > 0 {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.closing_deadline = Some(Instant::now() + CLOSE_WAIT);
                self.session.status = "Saving… the window closes when the files are written.".into();
            } else {
                self.close_sent = true;
            }
        }
        if let Some(deadline) = self.closing_deadline {
            if (!self.trainer_running() && self.writes_in_flight() == 0) || Instant::now() >= deadline {
                self.closing_deadline = None;
                self.close_sent = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint_after(Duration::from_millis(20));
            }
        }
    }

    /// The last step of shutdown: the trainer is stopped and joined, and saves and exports in flight get the rest
    /// of `CLOSE_WAIT` to finish (normally they already have, see `handle_close`), so no temporary file is left.
    pub(in crate::app) fn finish_shutdown(&mut self) {
        let deadline = Instant::now() + CLOSE_WAIT;
        if let Some(t) = &mut self.session.trainer {
            t.stop_and_join(CLOSE_WAIT);
        }
        while self.writes_in_flight() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
