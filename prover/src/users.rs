//! Commands for users and auditors: inclusion proofs, margin attestations and the
//! audit report. Work in progress.

use crate::error::ProverError;
use clap::Subcommand;
use std::path::PathBuf;

/// The users' and auditors' subcommands (flattened into `backstop`).
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Verify everything verifiable about an epoch and print a report.
    Audit {
        /// The epoch directory.
        epoch_dir: PathBuf,
    },
}

/// Runs one of [`UsersCommand`].
pub fn run(command: UsersCommand) -> Result<(), ProverError> {
    match command {
        UsersCommand::Audit { .. } => {
            Err(ProverError::Usage("audit is not implemented yet".into()))
        }
    }
}
