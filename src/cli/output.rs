//! Where results and messages go: results on stdout, progress and errors on stderr, neither a panic when closed.

use crate::{Error, Result};
use std::io::Write;

/// The first error writing stdout, other than a closed pipe; once set, nothing more is written there.
static STDOUT_FAILED: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// Results on stdout. A closed pipe (e.g. `| head`) is not an error: the reader has what it wanted. Any other write
/// error (`> /dev/full`) is kept and reported once when the command ends ([`stdout_result`]), so a lost result is
/// never a silent success.
pub fn print_stdout(s: &str) {
    let mut failed = STDOUT_FAILED.lock().unwrap_or_else(|p| p.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => *failed = Some(e),
    }
}

/// The stdout write error seen so far, as the command's error (taken: reported once).
pub(crate) fn stdout_result() -> Result<()> {
    match STDOUT_FAILED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(e) => Err(Error::write("standard output", "the results were not written").because(e)),
        None => Ok(()),
    }
}

/// Progress and messages on stderr. Unlike `eprintln!`, a closed stderr (e.g. `2>&1 | head -1`) is not a panic:
/// the run goes on and still writes its files.
pub fn print_stderr(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes());
    let _ = err.flush();
}

/// Prints an error as the one line the user sees (`error: …`), without panicking on a closed stderr.
pub(crate) fn report_error(e: &Error) {
    print_stderr(&format!("error: {}\n", e.report()));
}

/// Several failures: every one but the last is printed here, the last is returned for `main` to print, so each gets
/// its own line and the exit status reflects them.
pub(crate) fn report_all(mut errors: Vec<Error>) -> Result<()> {
    let Some(last) = errors.pop() else { return Ok(()) };
    for e in &errors {
        report_error(e);
    }
    Err(last)
}
