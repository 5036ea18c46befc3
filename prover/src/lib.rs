//! Backstop's proving library: keys, witnesses to proofs, epochs, inclusion proofs
//! and margin attestations.
//!
//! What it is: everything a venue's own code needs to turn a validated snapshot
//! (`backstop_circuits::model::Snapshot`) and its venue secret into a published,
//! verifiable epoch (`docs/SPEC.md` §6, §7), with either backend:
//!
//! - [`keys`]: Groth16 keys directories (`keys.json`, setup, save, load) and the
//!   single-party warning;
//! - [`groth16`], [`halo2`]: one proof per batch witness, the epoch directory;
//! - [`inclusion`], [`attest`]: the venue's side of inclusion proofs and margin
//!   attestations;
//! - [`output`]: the atomic writers every artifact goes through;
//! - [`export`] (feature `export`, on by default): snarkjs files, the Solidity
//!   verifier and epoch contract, and submission calldata.
//!
//! What it is not: no command line (the `backstop` binary is the `backstop-cli`
//! crate), no service (`backstop-service`), and no verification logic of its own
//! (`backstop-verifier`, which this crate depends on, never the reverse).

pub mod attest;
mod epoch;
pub mod error;
#[cfg(feature = "export")]
pub mod export;
pub mod groth16;
pub mod halo2;
pub mod inclusion;
pub mod keys;
pub mod output;
pub mod secret;
pub mod venue;

pub use error::ProverError;
