//! Entry point: no arguments opens the window; a subcommand runs headless. Errors become one line on stderr and an
//! exit status, never a panic message.

use clap::Parser;
use lenet_playground::cli::{self, Cli};

fn main() {
    let args = Cli::parse();
    let code = match args.command {
        Some(cmd) => match cli::run(cmd) {
            Ok(()) => 0,
            Err(e) => {
                cli::report_error(&e);
                cli::exit_code(&e)
            }
        },
        None => run_app(),
    };
    std::process::exit(code);
}

fn run_app() -> i32 {
    lenet_playground::app::run()
}
