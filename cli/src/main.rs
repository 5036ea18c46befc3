//! The `backstop` command: one binary for venues (fixtures, evaluate, setup, prove,
//! exports, inclusion proofs, the service), users (inclusion verify, attestations)
//! and auditors (verify, audit).
//!
//! What it is: argument parsing, progress and printing over the libraries. What it
//! is not: no proving (`backstop-prover`), checking (`backstop-verifier`) or
//! service logic (`backstop-service`) lives here.

mod commands;
mod error;
mod onchain;
mod users;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
