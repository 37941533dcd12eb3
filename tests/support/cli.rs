//! The real CLI binary as a child process: its command, a run of it, its output as text.

use std::process::{Command, Output, Stdio};

/// The `lenet-playground` binary that cargo built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lenet-playground"))
}

/// Runs the binary with `args` and no stdin, and waits for its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).stdin(Stdio::null()).output().expect("the binary runs")
}

/// Bytes of stdout or stderr as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
