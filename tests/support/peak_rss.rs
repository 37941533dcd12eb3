//! Peak resident memory of one run of the CLI, measured without counting the test process itself.
//!
//! A child spawned straight from a big test process inherits that process's high-water mark (Linux counts the
//! address space it had before exec), so the CLI is started from a small wrapper instead: this same test binary,
//! re-run with only its `peak_rss_wrapper` test, which spawns the CLI, reaps it with wait4 and writes its
//! ru_maxrss. Each test file that uses this module must contain:
//!
//! ```ignore
//! #[test]
//! fn peak_rss_wrapper() {
//!     support::peak_rss::wrapper_entry();
//! }
//! ```

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const ARGS_ENV: &str = "LENET_TRUST_RSS_ARGS";
const DIR_ENV: &str = "LENET_TRUST_RSS_DIR";

#[allow(dead_code)] // not every test file reads every field
pub struct Measured {
    pub out: Output,
    pub secs: f64,
    pub peak_rss_mb: f64,
}

/// Inside the wrapper process: runs the CLI as asked and records what it did. Does nothing in a normal test run.
pub fn wrapper_entry() {
    let (Ok(args), Ok(dir)) = (std::env::var(ARGS_ENV), std::env::var(DIR_ENV)) else { return };
    let args: Vec<String> = serde_json::from_str(&args).unwrap();
    let dir = Path::new(&dir);
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_lenet-playground"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (mut status, mut usage): (libc::c_int, libc::rusage) = (0, unsafe { std::mem::zeroed() });
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    std::mem::forget(child);
    let secs = start.elapsed().as_secs_f64();
    std::fs::write(dir.join("result"), format!("{status} {} {secs}", usage.ru_maxrss)).unwrap();
}

/// Runs the CLI with `args` through the wrapper: its output, wall time and own peak RSS.
pub fn measure(args: &[&str]) -> Measured {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "peak_rss_wrapper", "--test-threads=1", "--quiet"])
        .env(ARGS_ENV, serde_json::to_string(args).unwrap())
        .env(DIR_ENV, dir.path())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the wrapper ran");
    let result = std::fs::read_to_string(dir.path().join("result")).unwrap();
    let v: Vec<&str> = result.split(' ').collect();
    let out = Output {
        status: std::process::ExitStatus::from_raw(v[0].parse().unwrap()),
        stdout: std::fs::read(dir.path().join("stdout")).unwrap(),
        stderr: std::fs::read(dir.path().join("stderr")).unwrap(),
    };
    Measured { out, secs: v[2].parse().unwrap(), peak_rss_mb: v[1].parse::<f64>().unwrap() / 1024.0 }
}
