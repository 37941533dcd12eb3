//! Stop and pause are shared flags, not messages: the trainer polls them between batches, so a click takes effect
//! within one training step whatever is queued in the event channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Control {
    stop: AtomicBool,
    pause: AtomicBool,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    pub fn set_paused(&self, paused: bool) {
        self.pause.store(paused, Ordering::SeqCst);
    }
    pub fn is_paused(&self) -> bool {
        self.pause.load(Ordering::SeqCst)
    }

    /// Blocks while paused; returns true if the run should stop.
    pub fn checkpoint(&self) -> bool {
        while self.is_paused() && !self.stop_requested() {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop_requested()
    }
}
