//! R1CS circuits and gadgets over the BN254 scalar field for the Groth16 path
//! (arkworks 0.6).
//!
//! - [`bits`], [`poseidon`]: gadgets, each with its native twin documented beside it;
//! - [`brackets`], [`collateral`]: the maintenance brackets and collateral assets of
//!   risk model v2, gadgets of the batch and attestation circuits;
//! - `params.rs`, `account.rs`: the epoch parameters and one account (lanes, `TV`,
//!   `MR'`, leaf), shared by both circuits;
//! - [`waterfall`]: the default waterfall of `docs/SPEC.md` §2.4 (liquidation fees,
//!   haircut bases and haircuts per account; the rate, the insurance draw, the
//!   deficit, cover and minimality per batch), gadgets not yet wired into the batch
//!   circuit;
//! - [`batch`]: the batch circuit of `docs/SPEC.md` §6.3;
//! - [`attestation`]: the margin attestation circuit (`docs/INCLUSION.md`);
//! - [`names`]: the names of the constraints (arkworks namespaces).

mod account;
mod assignment;
pub mod attestation;
pub mod batch;
pub mod bits;
pub mod brackets;
pub mod collateral;
pub mod cost;
pub mod names;
mod params;
pub mod poseidon;
pub mod waterfall;

pub use crate::shape::CircuitError;
pub use batch::BatchCircuit;
pub use cost::{Breakdown, breakdown, constraint_count};

#[cfg(test)]
mod risk_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod waterfall_tests;
