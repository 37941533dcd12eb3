//! The one place a trainer thread is spawned. It runs `train::train` and forwards every event over a
//! crossbeam-channel, calling a wake-up hook after each send so a GUI can repaint without polling.

use crate::engine::data::set::Dataset;
use crate::engine::model::weights::ModelWeights;
use crate::engine::training::config::TrainConfig;
use crate::engine::training::control::Control;
use crate::engine::training::events::TrainEvent;
use crate::engine::training::train::train;
use crossbeam_channel::{unbounded, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct TrainerHandle {
    pub events: Receiver<TrainEvent>,
    pub control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

impl TrainerHandle {
    pub fn stop(&self) {
        self.control.request_stop();
    }
    pub fn set_paused(&self, paused: bool) {
        self.control.set_paused(paused);
    }
    /// True once the thread has returned (all its events are in the channel).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
    /// Stops the run and joins the thread if it ends within `timeout` (it ends after its current batch); true if
    /// it was joined. For shutdown only: this waits.
    pub(crate) fn stop_and_join(&mut self, timeout: std::time::Duration) -> bool {
        self.stop();
        self.set_paused(false);
        let deadline = std::time::Instant::now() + timeout;
        while !self.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        match self.thread.take() {
            Some(t) if t.is_finished() => t.join().is_ok(),
            Some(t) => {
                self.thread = Some(t);
                false
            }
            None => true,
        }
    }
}

impl Drop for TrainerHandle {
    /// Dropping the handle stops the run; the thread ends after its current batch (not joined here, so a drop on
    /// the UI thread never waits).
    fn drop(&mut self) {
        self.control.request_stop();
        self.control.set_paused(false);
    }
}

/// Starts training on a new thread. `wake` is called after every event (e.g. the GUI's request_repaint).
pub fn spawn(
    cfg: TrainConfig,
    data: Arc<Dataset>,
    initial: Option<ModelWeights>,
    wake: impl Fn() + Send + 'static,
) -> std::io::Result<TrainerHandle> {
    let (tx, rx) = unbounded();
    let control = Arc::new(Control::new());
    let thread_control = control.clone();
    let thread = std::thread::Builder::new().name("trainer".into()).spawn(move || {
        let mut emit = |e: TrainEvent| {
            // A dropped receiver means nobody listens any more: stop.
            if tx.send(e).is_err() {
                thread_control.request_stop();
            }
            wake();
        };
        let result = train(&cfg, &data, initial.as_ref(), &thread_control, &mut emit);
        // Diverged runs have already sent Failed; other errors are reported here.
        if let Err(e) = result {
            if !matches!(e, crate::Error::Diverged(_)) {
                emit(TrainEvent::Failed { message: e.report(), cause: None, weights: None });
            }
        }
    })?;
    Ok(TrainerHandle { events: rx, control, thread: Some(thread) })
}
