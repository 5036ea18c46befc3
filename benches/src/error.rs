//! The errors of a measurement run.

use std::path::PathBuf;
use thiserror::Error;

/// Why a measurement could not be made.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The prover refused (keys, proving, inclusion, attestation).
    #[error("prover: {0}")]
    Prover(Box<backstop_prover::ProverError>),
    /// The fixture generator refused its parameters.
    #[error("fixture: {0}")]
    Fixture(#[from] backstop_fixtures::FixtureError),
    /// R1CS synthesis failed.
    #[error("synthesis: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
    /// A circuit could not be built from a witness.
    #[error("circuit: {0}")]
    Circuit(#[from] backstop_circuits::r1cs::CircuitError),
    /// A shape was refused.
    #[error("shape: {0}")]
    Shape(#[from] backstop_circuits::shape::ShapeError),
    /// halo2 key generation, proving or verification failed.
    #[error("halo2: {0}")]
    Halo2(String),
    /// Verification failed (a measured proof must verify).
    #[error("verification: {0}")]
    Verify(String),
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A child process (peak memory, gas) failed.
    #[error("child process `{command}`: {reason}")]
    Child {
        /// What was run.
        command: String,
        /// What went wrong (its exit status and the end of its stderr).
        reason: String,
    },
    /// Anything else, described.
    #[error("{0}")]
    Other(String),
}

impl BenchError {
    /// Wraps an IO error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}

impl From<backstop_prover::ProverError> for BenchError {
    fn from(e: backstop_prover::ProverError) -> Self {
        Self::Prover(Box::new(e))
    }
}
