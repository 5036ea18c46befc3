//! The proving library's errors (the `backstop` command wraps them in its own).

use backstop_circuits::secret::SecretError;
use backstop_circuits::snapshot::SnapshotError;
use std::path::PathBuf;
use thiserror::Error;

/// Why loading, proving, exporting or writing an epoch failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProverError {
    /// The snapshot was refused; the inner error names file, row and field.
    #[error("invalid snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
    /// The venue secret could not be read or parsed.
    #[error("venue secret from {source_name}: {error}")]
    Secret {
        /// Where the secret came from (file path or environment variable).
        source_name: String,
        /// What was wrong with it.
        error: SecretError,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// Key generation failed.
    #[error("setup failed: {0}")]
    Setup(String),
    /// A keys directory is unusable.
    #[error("keys in {dir}: {reason}")]
    Keys {
        /// The keys directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Keys made for another circuit shape.
    #[error(
        "keys in {dir} are for circuit shape {found}, but this epoch needs {expected}; run `backstop setup` for that shape"
    )]
    KeyShape {
        /// The keys directory.
        dir: PathBuf,
        /// The shape needed.
        expected: String,
        /// The shape of the keys found.
        found: String,
    },
    /// Proving a batch failed.
    #[error("batch {batch}: proving failed: {reason}")]
    Prove {
        /// The batch index.
        batch: u64,
        /// Why.
        reason: String,
    },
    /// The epoch did not verify.
    #[error("{0}")]
    Verify(#[from] backstop_verifier::VerifyError),
    /// Exporting an epoch to another tool's format failed.
    #[error("export: {0}")]
    Export(String),
    /// An inclusion proof was refused; the inner error names the field or file.
    #[error("{0}")]
    Inclusion(#[from] backstop_verifier::inclusion::InclusionError),
    /// The account asked for is not in the snapshot.
    #[error(
        "account {account} is not in the snapshot {snapshot}: no inclusion proof can be made for it"
    )]
    UnknownAccount {
        /// The account id.
        account: u64,
        /// The snapshot.
        snapshot: PathBuf,
    },
    /// The snapshot or secret does not reproduce the published epoch.
    #[error("{0}")]
    EpochMismatch(String),
    /// A margin attestation could not be made or does not verify.
    #[error("attestation: {0}")]
    Attestation(String),
    /// An input the library refuses: a snapshot whose markets do not fit the
    /// keys, an output directory that is not its own to replace.
    #[error("{0}")]
    Refused(String),
}

impl ProverError {
    /// Wraps an IO error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}
