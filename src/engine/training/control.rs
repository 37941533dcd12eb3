//! What the user can do to a run while it trains, as shared state the trainer reads between batches (atomics and
//! one small mutex, never tensors or messages): stop, pause, single steps while paused, the live learning rate and
//! the live number of epochs. A click or a drag takes effect within one training step whatever is queued in the
//! event channel.
//!
//! The front end only writes requests (`set_lr`, `commit_lr_gesture`, `set_epochs`, `step_one`); the trainer owns
//! the values in effect (`Live`) and turns requests into events. A slider drag writes hundreds of values: the
//! trainer applies at most the latest one per batch, and records one `LrChanged` per gesture (from the value before
//! the drag to the value at release, at the position where the drag first took effect).

use crate::engine::training::config::{TrainConfig, EPOCHS_LIMIT};
use crate::engine::training::events::{LrChange, TrainEvent};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Upper bound on live epoch changes: what a config may ask for.
const MAX_EPOCHS: usize = EPOCHS_LIMIT.1;
const NO_LR: u64 = u64::MAX;

#[derive(Debug)]
pub struct Control {
    stop: AtomicBool,
    pause: AtomicBool,
    /// Bits of the requested base learning rate (f64), or NO_LR.
    lr_request: AtomicU64,
    /// Set when a gesture ends (slider released, value typed).
    lr_commit: AtomicBool,
    /// Requested number of epochs, 0 for none.
    epochs_request: AtomicUsize,
    /// Batches allowed through while paused.
    steps: AtomicUsize,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            stop: AtomicBool::new(false),
            pause: AtomicBool::new(false),
            lr_request: AtomicU64::new(NO_LR),
            lr_commit: AtomicBool::new(false),
            epochs_request: AtomicUsize::new(0),
            steps: AtomicUsize::new(0),
        }
    }
}

/// What the trainer does next, decided between batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    Train,
    /// Paused, but one batch was let through with `step_one`.
    Step,
    Stop,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }
    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    pub fn set_paused(&self, paused: bool) {
        if !paused {
            self.steps.store(0, Ordering::SeqCst);
        }
        self.pause.store(paused, Ordering::SeqCst);
    }
    pub(crate) fn is_paused(&self) -> bool {
        self.pause.load(Ordering::SeqCst)
    }

    /// Sets the base learning rate from the next batch (call it for every value of a drag). Ignored unless finite
    /// and positive.
    pub fn set_lr(&self, lr: f64) {
        if lr.is_finite() && lr > 0.0 {
            self.lr_request.store(lr.to_bits(), Ordering::SeqCst);
        }
    }
    /// Ends the current gesture: the trainer records one `LrChanged` for everything set since the last commit.
    pub fn commit_lr_gesture(&self) {
        self.lr_commit.store(true, Ordering::SeqCst);
    }
    /// A change that is a whole gesture by itself (a typed value, a preset, the CLI).
    pub fn set_lr_now(&self, lr: f64) {
        self.set_lr(lr);
        self.commit_lr_gesture();
    }

    /// Asks the run to end after `epochs` epochs (not below the epoch in progress; the trainer clamps it).
    pub fn set_epochs(&self, epochs: usize) {
        self.epochs_request.store(epochs.clamp(EPOCHS_LIMIT.0, MAX_EPOCHS), Ordering::SeqCst);
    }

    /// While paused, lets exactly one more batch through. Ignored while running.
    pub fn step_one(&self) {
        if self.is_paused() {
            self.steps.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn turn_now(&self) -> Option<Turn> {
        if self.stop_requested() {
            return Some(Turn::Stop);
        }
        if !self.is_paused() {
            return Some(Turn::Train);
        }
        let took = self.steps.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        took.then_some(Turn::Step)
    }
}

/// The live settings in effect, owned by the trainer.
#[derive(Debug, Clone)]
pub struct Live {
    /// The learning rate the user set; a schedule scales it per batch.
    pub base_lr: f64,
    /// The run ends after this many epochs.
    pub epochs: usize,
    /// A gesture that has changed the rate but not yet ended: the change so far.
    open: Option<LrChange>,
    /// Every recorded change of this run.
    pub lr_changes: Vec<LrChange>,
    /// Time spent waiting while paused: the run's clock (elapsed time, ETA) stands still meanwhile.
    pub paused: Duration,
}

impl Live {
    pub fn new(cfg: &TrainConfig) -> Self {
        Live { base_lr: cfg.lr, epochs: cfg.epochs, open: None, lr_changes: Vec::new(), paused: Duration::ZERO }
    }

    /// Training time since `start`, the time spent paused left out.
    pub fn elapsed_since(&self, start: std::time::Instant) -> f64 {
        start.elapsed().saturating_sub(self.paused).as_secs_f64()
    }

    /// Applies the front end's requests. `epoch` is the epoch in progress (1-based) and `done` its completed
    /// batches, so a change applies from batch `done + 1`.
    pub fn sync(
        &mut self,
        control: &Control,
        epoch: usize,
        done: usize,
        batches_per_epoch: usize,
        emit: &mut dyn FnMut(TrainEvent),
    ) {
        // The commit flag first: a commit seen here comes after the gesture's last value, which the load below sees.
        let committed = control.lr_commit.swap(false, Ordering::SeqCst);
        let requested = control.lr_request.load(Ordering::SeqCst);
        if requested != NO_LR {
            let lr = f64::from_bits(requested);
            if lr != self.base_lr {
                let change = self.open.get_or_insert_with(|| LrChange {
                    epoch,
                    batch: done,
                    x_epochs: (epoch - 1) as f64 + done as f64 / batches_per_epoch.max(1) as f64,
                    old_lr: self.base_lr,
                    new_lr: lr,
                });
                change.new_lr = lr;
                self.base_lr = lr;
            }
        }
        if committed {
            self.close_gesture(emit);
        }
        let wanted = control.epochs_request.swap(0, Ordering::SeqCst);
        if wanted > 0 {
            let epochs = wanted.clamp(epoch.max(1), MAX_EPOCHS);
            if epochs != self.epochs {
                self.epochs = epochs;
                emit(TrainEvent::EpochsChanged { epochs });
            }
        }
    }

    /// Records the open gesture, if it changed anything (called at release and at the end of a run).
    pub(crate) fn close_gesture(&mut self, emit: &mut dyn FnMut(TrainEvent)) {
        if let Some(change) = self.open.take() {
            if change.old_lr != change.new_lr {
                self.lr_changes.push(change.clone());
                emit(TrainEvent::LrChanged(change));
            }
        }
    }

    /// Waits for the next batch's turn, applying live changes meanwhile (so a change made while paused is
    /// recorded at once, not at resume).
    pub(crate) fn wait_turn(
        &mut self,
        control: &Control,
        epoch: usize,
        done: usize,
        batches_per_epoch: usize,
        emit: &mut dyn FnMut(TrainEvent),
    ) -> Turn {
        let waiting = std::time::Instant::now();
        let mut waited = false;
        loop {
            self.sync(control, epoch, done, batches_per_epoch, emit);
            if let Some(turn) = control.turn_now() {
                if waited {
                    self.paused += waiting.elapsed();
                }
                return turn;
            }
            waited = true;
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The run's stop button reaches the end-of-epoch test pass too.
impl crate::engine::insight::evaluate::StopSignal for Control {
    fn stop_requested(&self) -> bool {
        Control::stop_requested(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TrainConfig {
        TrainConfig { lr: 0.01, epochs: 5, ..TrainConfig::default() }
    }

    #[test]
    fn a_drag_is_one_change_from_the_value_before_to_the_value_at_release() {
        let control = Control::new();
        let mut live = Live::new(&cfg());
        let mut events = Vec::new();
        let mut emit = |e: TrainEvent| events.push(e);
        for (i, v) in [0.02, 0.03, 0.05].into_iter().enumerate() {
            control.set_lr(v);
            live.sync(&control, 2, 3 + i, 10, &mut emit);
            assert_eq!(live.base_lr, v, "each batch trains with the latest value");
        }
        control.set_lr(0.04);
        control.commit_lr_gesture();
        live.sync(&control, 2, 6, 10, &mut emit);
        live.sync(&control, 2, 7, 10, &mut emit);
        assert_eq!(events.len(), 1);
        let TrainEvent::LrChanged(c) = &events[0] else { panic!("{:?}", events[0]) };
        assert_eq!((c.epoch, c.batch, c.old_lr, c.new_lr), (2, 3, 0.01, 0.04));
        assert!((c.x_epochs - 1.3).abs() < 1e-12);
        assert_eq!(live.lr_changes.len(), 1);
    }

    #[test]
    fn epochs_never_go_below_the_epoch_in_progress() {
        let control = Control::new();
        let mut live = Live::new(&cfg());
        let mut events = Vec::new();
        control.set_epochs(1);
        live.sync(&control, 3, 0, 10, &mut |e| events.push(e));
        assert_eq!(live.epochs, 3);
        control.set_epochs(8);
        live.sync(&control, 3, 1, 10, &mut |e| events.push(e));
        control.set_epochs(8);
        live.sync(&control, 3, 2, 10, &mut |e| events.push(e));
        assert_eq!(live.epochs, 8);
        assert_eq!(events.len(), 2, "one event per actual change: {events:?}");
    }

    #[test]
    fn step_lets_one_batch_through_while_paused() {
        let control = Control::new();
        control.step_one();
        control.set_paused(true);
        assert_eq!(control.turn_now(), None, "a step asked while running is ignored");
        control.step_one();
        assert_eq!(control.turn_now(), Some(Turn::Step));
        assert_eq!(control.turn_now(), None);
        control.set_paused(false);
        assert_eq!(control.turn_now(), Some(Turn::Train));
        control.request_stop();
        assert_eq!(control.turn_now(), Some(Turn::Stop));
    }
}
