//! Backstop's epoch statement, its exact native reference engine, and the
//! commitments shared by the circuits (`docs/SPEC.md`).
//!
//! What it is: the definitions everything else depends on: the statement and its
//! bounds, the snapshot formats, the native engine (`native`, the reference beside
//! every circuit), Poseidon over BN254 and Pasta, and both backends' circuits (`r1cs`,
//! `halo2`) with their witness assignments. What it is not: no proving or verifying
//! of proofs (that is `backstop-prover` and `backstop-verifier`), no files beyond
//! reading and writing snapshots.

pub(crate) mod assignment;
pub mod bounds;
#[cfg(test)]
mod catalogue;
pub mod decimal;
pub mod descriptor;
pub mod halo2;
pub mod hash;
pub mod inputs;
pub mod json;
pub mod model;
pub mod native;
pub mod r1cs;
pub mod secret;
pub mod shape;
pub mod snapshot;
pub mod statement;
pub mod tamper;
pub mod witness;
