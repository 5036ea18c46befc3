//! Backstop's epoch statement, its exact native reference engine, and the
//! commitments shared by the circuits (`docs/SPEC.md`).

pub(crate) mod assignment;
pub mod bounds;
pub mod decimal;
pub mod halo2;
pub mod hash;
pub mod model;
pub mod native;
pub mod r1cs;
pub mod secret;
pub mod shape;
pub mod snapshot;
pub mod statement;
pub mod witness;
