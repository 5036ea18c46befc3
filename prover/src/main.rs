//! The `backstop` command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = backstop_prover::cli::Cli::parse();
    match backstop_prover::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
