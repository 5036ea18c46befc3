//! The command line's errors: what `backstop` prints before exiting non-zero.

use backstop_fixtures::FixtureError;
use backstop_prover::ProverError;
use backstop_service::ServiceError;
use thiserror::Error;

/// Why a `backstop` command failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// Reading the snapshot, keys or secret, proving, verifying or writing failed
    /// (the inner error names the file, row, field or batch).
    #[error(transparent)]
    Prover(#[from] ProverError),
    /// The fixture generator refused its parameters.
    #[error("cannot generate fixture: {0}")]
    Fixture(#[from] FixtureError),
    /// The prover service failed (`backstop serve`, `backstop worker`).
    #[error("service: {0}")]
    Service(#[from] ServiceError),
    /// A command-line argument that clap cannot check by itself.
    #[error("{0}")]
    Usage(String),
    /// The published liquidation set is wrong about an account that is included
    /// (`backstop inclusion verify`).
    #[error(
        "THE VENUE'S LIQUIDATION SET IS WRONG ABOUT ACCOUNT {account}: at the published prices it is {actual}, \
         but the published liquidation set {listed}"
    )]
    LiquidationMismatch {
        /// The account id.
        account: String,
        /// "liquidatable" or "healthy".
        actual: &'static str,
        /// "lists it as liquidatable" or "does not list it".
        listed: &'static str,
    },
    /// Deploying or submitting over JSON-RPC failed (`backstop onchain`).
    #[error("on chain: {0}")]
    Onchain(#[from] backstop_onchain::OnchainError),
    /// The audit found a problem (the report says which; `backstop audit`).
    #[error("audit: {0}")]
    Audit(String),
}

impl From<backstop_verifier::VerifyError> for CliError {
    fn from(e: backstop_verifier::VerifyError) -> Self {
        Self::Prover(e.into())
    }
}

impl From<backstop_verifier::inclusion::InclusionError> for CliError {
    fn from(e: backstop_verifier::inclusion::InclusionError) -> Self {
        Self::Prover(e.into())
    }
}

impl From<backstop_circuits::snapshot::SnapshotError> for CliError {
    fn from(e: backstop_circuits::snapshot::SnapshotError) -> Self {
        Self::Prover(e.into())
    }
}
