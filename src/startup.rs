//! Start-up in one place: the compute threads and their environment.
//!
//! * Before `main`, while the process has a single thread, `RAYON_NUM_THREADS` (the machine's cores) and
//!   `CANDLE_NUM_THREADS=1` are set where the user has not set them (a constructor in `kernels::threads`; it runs
//!   in every binary that computes, test harnesses included). Nothing writes the environment after that.
//! * [`init_compute`], the first thing `main` does (tests may call it too): builds the compute pools, with
//!   flush-to-zero on each of their threads and on the caller.
//! * Every other thread that computes sets its own flush-to-zero flag through `LeNet::new`
//!   (`engine::model::ops::init_compute_thread`), since that flag is per thread.

use crate::kernels;

/// Sets up the compute threads for the process. Call it first in `main`, before the window or any other thread
/// starts; idempotent and cheap after the first call.
pub fn init_compute() {
    kernels::init_compute_threads();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_environment_is_set_before_main() {
        super::init_compute();
        assert!(std::env::var("RAYON_NUM_THREADS").is_ok_and(|n| n.parse::<usize>().is_ok_and(|n| n > 0)));
        assert!(std::env::var("CANDLE_NUM_THREADS").is_ok());
    }
}
