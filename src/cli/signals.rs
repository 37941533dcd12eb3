//! Ctrl-C and SIGTERM during `train`: the first one asks the run to stop at the next batch, as the window's Stop
//! does, so the finished work is saved and the process then exits 130 (SIGINT) or 143 (SIGTERM); a second one
//! exits at once, after removing the temporary files being written (nothing half-written is left behind).
//!
//! Before a run (reading data, writing a folder's cache, any other subcommand) Ctrl-C and SIGTERM end the process at
//! once, also after removing the temporary files being written; and a file-size limit (`ulimit -f`) is an error
//! of the write that meets it (EFBIG), not a silent death by SIGXFSZ.
//!
//! Either way the process says so on stderr before it ends ("interrupted by Ctrl-C (SIGINT): temporary files
//! removed, …").
//!
//! The handler only does async-signal-safe things: an atomic swap, `unlink` (through
//! [`remove_temporaries_now`]), `write` of a fixed text and `_exit`. A watcher thread turns the recorded signal into `Control`'s stop.

use crate::engine::files::atomic_file::remove_temporaries_now;
use crate::engine::training::control::Control;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

/// The first signal received (0: none yet).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The exit status of a process ended by `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM).
pub(super) fn exit_status(signal: i32) -> i32 {
    128 + signal
}

/// The signal's usual name, for messages.
pub(super) fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "Ctrl-C (SIGINT)",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    if RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        // The second one: no more waiting.
        remove_temporaries_now();
        say_interrupted(signal);
        // SAFETY: _exit is async-signal-safe; it ends the process without running anything else.
        unsafe { libc::_exit(exit_status(signal)) };
    }
}

/// Says on stderr why the process ends, from a signal handler: a fixed text and write(2) only.
fn say_interrupted(signal: libc::c_int) {
    let text: &[u8] = match signal {
        libc::SIGINT => b"\ninterrupted by Ctrl-C (SIGINT): temporary files removed, nothing half-written is left\n",
        libc::SIGTERM => b"\ninterrupted by SIGTERM: temporary files removed, nothing half-written is left\n",
        _ => b"\ninterrupted by a signal: temporary files removed, nothing half-written is left\n",
    };
    // SAFETY: write(2) is async-signal-safe; the buffer is a static byte string.
    unsafe {
        libc::write(2, text.as_ptr().cast(), text.len());
    }
}

extern "C" fn on_early_signal(signal: libc::c_int) {
    remove_temporaries_now();
    say_interrupted(signal);
    // SAFETY: _exit is async-signal-safe; it ends the process without running anything else.
    unsafe { libc::_exit(exit_status(signal)) };
}

/// For the whole command, first thing: SIGINT and SIGTERM remove the temporary files being written and exit
/// 128 + the signal; SIGXFSZ is ignored, so a write past the file-size limit fails with EFBIG and is reported.
pub(crate) fn clean_up_on_signal() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: as in `stop_on_signal`; the handler only unlinks and calls _exit.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_early_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
}

/// From now on, SIGINT and SIGTERM stop `control` (the first signal) or end the process (the second); see the
/// module doc. The watcher thread lives in `scope` until `done` is set.
pub(super) fn stop_on_signal<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    control: &'env Control,
    done: &'env AtomicBool,
) {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid; the handler is
        // async-signal-safe (see above).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    scope.spawn(move || {
        while !done.load(Ordering::SeqCst) {
            if RECEIVED.load(Ordering::SeqCst) != 0 {
                control.request_stop();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

/// The first signal received, if any.
pub(super) fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|&s| s != 0)
}
