//! Start-up in one place: the compute threads and their environment, with one entry, [`init_compute`].
//!
//! * `main` calls [`init_compute`] on its first line, while the process has a single thread: it sets
//!   `RAYON_NUM_THREADS` (the machine's cores) and `CANDLE_NUM_THREADS=1` where the user has not set them (writing
//!   the environment is sound only then), then builds the compute pools, with flush-to-zero on each of their
//!   threads and on the caller. Nothing writes the environment after that. Benches and examples call it first too.
//! * Under cargo (`cargo test`, `cargo run`, `cargo bench`), `.cargo/config.toml`'s `[env]` table sets the same
//!   variables, so test harnesses, which start threads before any test runs, get them without writing them.
//! * Every other thread that computes sets its own flush-to-zero flag through `LeNet::new`
//!   (`engine::model::ops::init_compute_thread`), since that flag is per thread.

use crate::kernels;

/// Sets up the compute threads for the process. Call it first in `main`, before the window or any other thread
/// starts; idempotent and cheap after the first call. Where other threads already run (a test harness), it leaves
/// the environment alone and only builds the pools.
pub fn init_compute() {
    kernels::set_compute_env();
    kernels::init_compute_threads();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compute_environment_is_set() {
        super::init_compute();
        assert!(std::env::var("RAYON_NUM_THREADS").is_ok_and(|n| n.parse::<usize>().is_ok_and(|n| n > 0)));
        assert!(std::env::var("CANDLE_NUM_THREADS").is_ok());
    }
}
