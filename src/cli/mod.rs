//! The headless front end on the same engine as the app: `train`, `inspect`, `predict`, `eval`, `explain`, `export`,
//! `bench` and `runs` (the [`Command`] enum is the list). The arguments are in [`args`], the small subcommands here;
//! `train`, `eval`, `explain`, `bench` and `runs` have a file each. Progress goes to stderr, results to stdout, so output can be piped.

use crate::engine::model::checkpoint;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::predict::Predictor;
use crate::error::printable;
use crate::{Error, Result};
use checks::check_bench_steps;
use output::{report_all, stdout_result};

pub use args::{Cli, Command, EpochList, TrainArgs};
pub use output::{print_stderr, print_stdout};

mod args;
mod bench;
mod checks;
mod eval;
mod explain;
mod export;
mod inspect;
mod inspect_unit;
mod output;
mod runs;
mod signals;
mod train;

/// Runs a subcommand. A failure to write its results on stdout is its error too (after its own, if it has one).
pub fn run(command: Command) -> Result<()> {
    signals::clean_up_on_signal();
    let result = run_command(command);
    match (result, stdout_result()) {
        (Ok(()), out) => out,
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(out)) => report_all(vec![out, e]),
    }
}

fn run_command(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::run_train(&args),
        Command::Runs { json } => runs::run_runs(json),
        Command::Inspect { unit: Some(unit), weights: Some(weights), data, crops, .. } => {
            inspect_unit::run_inspect_unit(&unit, &weights, data.as_deref(), crops.as_deref())
        }
        Command::Inspect { activation, pooling, arch, details, .. } => inspect::run_inspect(
            ModelConfig { activation, pooling, arch: arch.map(|a| *a).unwrap_or_default(), ..ModelConfig::default() },
            details,
        ),
        Command::Predict { weights, json, images } => {
            let w = checkpoint::load(&weights)?;
            let predictor = Predictor::new(&w)?.with_source(&weights);
            // Each image on its own: a bad one gets its own error line, the others are still answered.
            let mut errors = Vec::new();
            for path in &images {
                let p = match predictor.predict_file(path) {
                    Ok(p) => p,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let line = if json {
                    serde_json::json!({
                        "path": path.display().to_string(),
                        "digit": p.class,
                        "class_name": w.class_names[p.class],
                        "probabilities": p.probabilities,
                    })
                    .to_string()
                } else {
                    format!("{}\t{}\t{:.4}", printable(&path.display().to_string()), p.class, p.confidence())
                };
                print_stdout(&format!("{line}\n"));
            }
            report_all(errors)
        }
        Command::Eval { weights, data, json, mistakes, force } => {
            eval::run_eval(&weights, data.as_deref(), json, mistakes.as_ref(), force)
        }
        Command::Explain { weights, image, class, out, json } => {
            explain::run_explain(&weights, &image, class, &out, json)
        }
        Command::Export { weights, onnx } => export::run_export(&weights, &onnx),
        Command::Bench { steps, arch, json } => {
            bench::run_bench(check_bench_steps(steps)?, arch.map(|a| *a).unwrap_or_default(), json)
        }
    }
}

/// The process exit status for an error: 2 for bad input or settings, 1 for anything else.
pub fn exit_code(e: &Error) -> i32 {
    if e.is_bad_input() {
        2
    } else {
        1
    }
}
