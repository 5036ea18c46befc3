//! The on-chain client's errors.

use std::path::PathBuf;

/// Why deploying or submitting failed.
#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    /// The node could not be reached, or answered something that is not JSON-RPC.
    #[error("JSON-RPC {url}: {reason}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The node answered a call with a JSON-RPC error.
    #[error("JSON-RPC {method}: {message}{}", data.as_deref().map(|d| format!(" (data {d})")).unwrap_or_default())]
    Rpc {
        /// The method called.
        method: String,
        /// The node's message.
        message: String,
        /// The revert data, if the node gave any.
        data: Option<String>,
    },
    /// A transaction was mined but reverted.
    #[error("transaction {hash} ({what}) reverted on chain after {gas_used} gas")]
    Reverted {
        /// What the transaction did.
        what: String,
        /// Its hash.
        hash: String,
        /// The gas it used.
        gas_used: u64,
    },
    /// A transaction was not mined in time.
    #[error("transaction {hash} ({what}) was not mined within {seconds} s")]
    NotMined {
        /// What the transaction did.
        what: String,
        /// Its hash.
        hash: String,
        /// How long the client waited.
        seconds: u64,
    },
    /// The signing key could not be read.
    #[error("signing key from {source_name}: {reason}")]
    Key {
        /// The key file or environment variable.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The deployment manifest or a deployment record is unusable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The request itself is refused before anything is sent.
    #[error("{0}")]
    Refused(String),
    /// Reading the epoch or encoding its calldata failed.
    #[error(transparent)]
    Prover(#[from] backstop_prover::error::ProverError),
    /// Reading the epoch directory failed.
    #[error(transparent)]
    Verify(#[from] backstop_verifier::VerifyError),
}
