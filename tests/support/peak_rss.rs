//! Peak resident memory of one run of the CLI, measured without counting the test process itself.
//!
//! A child spawned straight from a big test process inherits that process's high-water mark (Linux counts the
//! address space it had before exec), so the CLI is started from a small wrapper instead: this same test binary,
//! re-run with only its ignored entry point [`wrapper`] (`--ignored --exact support::peak_rss::wrapper`), which
//! spawns the CLI, reaps it with wait4 and writes its ru_maxrss. The entry point is not a test: a plain test run
//! skips it, and only [`measure`] runs it, with the arguments in the environment.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const ARGS_ENV: &str = "LENET_TRUST_RSS_ARGS";
const DIR_ENV: &str = "LENET_TRUST_RSS_DIR";
/// The wrapper's name inside every test binary that declares `mod support`.
const WRAPPER: &str = "support::peak_rss::wrapper";

pub struct Measured {
    pub out: Output,
    pub secs: f64,
    pub peak_rss_mb: f64,
}

/// The wrapper process's entry point: runs the CLI as [`measure`] asked and records what it did.
#[test]
#[ignore = "not a test: the child process of support::peak_rss::measure, which runs it by name"]
fn wrapper() {
    let (Ok(args), Ok(dir)) = (std::env::var(ARGS_ENV), std::env::var(DIR_ENV)) else {
        // Reached only by `--ignored` runs of the whole binary (the benches): nothing to measure then.
        eprintln!("{WRAPPER}: not a test, the child process of support::peak_rss::measure; nothing to do");
        return;
    };
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
        .args(["--ignored", "--exact", WRAPPER, "--test-threads=1", "--quiet"])
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
