//! Epochs and keys in other tools' formats (feature `export`):
//!
//! - [`snarkjs`]: `verification_key.json`, `proof_<i>.json`, `public_<i>.json`,
//!   checked by `snarkjs groth16 verify`;
//! - [`onchain`]: the Solidity verifier and epoch contract for a verifying key, and
//!   the calldata that submits an epoch (`docs/ONCHAIN.md`).

pub mod onchain;
pub mod snarkjs;
