//! The verifier's errors: why an epoch, a key or a proof was refused.

use backstop_circuits::statement::{Backend, StatementError};
use std::path::PathBuf;
use thiserror::Error;

/// Why an epoch did not verify. Every variant names what to look at.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The statement carries no venue signature.
    #[error("statement.json is not signed by its venue (sign it with `backstop statement sign`)")]
    Unsigned,
    /// The venue signature does not decode.
    #[error("venue signature: {0}")]
    Signature(String),
    /// The statement is signed by, or names, another venue than the one expected.
    #[error("signed by venue {got}, but {what} is {expected}")]
    VenueMismatch {
        /// The expected address.
        expected: String,
        /// The address found.
        got: String,
        /// What the expected address is.
        what: &'static str,
    },
    /// The epoch id does not increase over the venue's previous statement.
    #[error("epoch {epoch} is not above the previous statement's epoch {previous}")]
    EpochNotIncreasing {
        /// The previous statement's epoch.
        previous: u64,
        /// This statement's epoch.
        epoch: u64,
    },
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// `statement.json` is malformed or states something impossible.
    #[error("statement.json: {0}")]
    Statement(#[from] StatementError),
    /// The statement names a backend this verifier does not handle.
    #[error("statement.json names backend {0}, which this function does not verify")]
    Backend(Backend),
    /// The verifying key does not decode or does not fit the shape.
    #[error("verifying key: {0}")]
    VerifyingKey(String),
    /// The verifying key is not the one the statement names.
    #[error("verifying key hash {got} does not match the statement's {expected}")]
    VerifyingKeyMismatch {
        /// The statement's `verifying_key_hash`.
        expected: String,
        /// The hash of the key used.
        got: String,
    },
    /// A batch has no proof file.
    #[error("batch {batch}: proof missing ({path})")]
    MissingProof {
        /// The batch index.
        batch: u64,
        /// Where it was expected.
        path: PathBuf,
    },
    /// The proofs directory holds a file that belongs to no batch.
    #[error("{0}: not a proof of any of the statement's batches")]
    UnexpectedFile(PathBuf),
    /// A proof file does not decode.
    #[error("batch {batch}: malformed proof ({reason})")]
    MalformedProof {
        /// The batch index.
        batch: u64,
        /// Why.
        reason: String,
    },
    /// A Groth16 verifying key was given for an epoch of a transparent backend,
    /// whose key is derived from the circuit shape.
    #[error(
        "statement.json names backend {0}, which has no trusted key: its verifying key is derived from the circuit shape (drop --key)"
    )]
    KeyForTransparentBackend(Backend),
    /// The number of proofs is not the statement's batch count.
    #[error("expected {expected} proofs, one per batch, got {got}")]
    ProofCount {
        /// The statement's `batch_count`.
        expected: u64,
        /// The number of proofs given.
        got: u64,
    },
    /// halo2 IPA parameters that are not `Params::new(k)`: their SHA-256 is not the
    /// pinned one (`backstop_verifier::halo2::PINNED_PARAMS_SHA256`).
    #[error(
        "halo2 IPA parameters for k = {k} are not the derived ones: SHA-256 {got}, expected {expected}"
    )]
    Halo2Params {
        /// `k`.
        k: u32,
        /// SHA-256 of `Params::new(k)`'s encoding.
        expected: String,
        /// SHA-256 of the parameters given.
        got: String,
    },
    /// Keys for one shape were given for a statement of another: halo2 keys derived
    /// for another shape, or a Groth16 key whose `keys.json` records another shape.
    #[error("the keys are for shape {got}, which does not match the statement's shape {expected}")]
    ShapeMismatch {
        /// The statement's shape id.
        expected: String,
        /// The shape id of the keys given.
        got: String,
    },
    /// A proof does not verify against the batch's public input.
    #[error(
        "batch {batch}: proof does not verify against the public input computed from statement.json"
    )]
    InvalidProof {
        /// The batch index.
        batch: u64,
    },
}
