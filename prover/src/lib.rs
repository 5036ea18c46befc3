//! Backstop's prover: snapshot handling, commitments and (in later issues) proving,
//! behind the `backstop` command-line interface.

pub mod attest;
pub mod cli;
mod epoch;
pub mod error;
pub mod groth16;
pub mod halo2;
pub mod inclusion;
pub mod onchain;
mod output;
pub mod secret;
pub mod service;
pub mod snarkjs;
pub mod users;

pub use error::ProverError;
