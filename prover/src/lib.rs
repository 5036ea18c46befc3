//! Backstop's prover: snapshot handling, commitments and (in later issues) proving,
//! behind the `backstop` command-line interface.

pub mod cli;
pub mod error;
pub mod groth16;
pub mod secret;
pub mod snarkjs;

pub use error::ProverError;
