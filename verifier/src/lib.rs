//! Backstop's off-chain verifier: checks an epoch's batch proofs against public
//! inputs it computes itself from the statement (`docs/SPEC.md` §6.4, §7).
//!
//! Small and deterministic, with no dependency on the prover: an auditor can build
//! this crate alone (`cargo build -p backstop-verifier`, binary `backstop-verify`).
//!
//! The checks live in one in-memory core per backend, [`verify_groth16`] and
//! [`halo2::verify_halo2`], which take a statement, the proofs' bytes and a key. The
//! directory functions ([`verify_epoch_dir`], [`verify_epoch`],
//! [`halo2::verify_epoch_dir`]) only read an epoch directory ([`read_statement`],
//! [`read_verifying_key`], [`read_proofs`]) and call them.
//!
//! What it is not: no proving and no Groth16 key generation (it only derives the
//! halo2 verifying key from the circuit shape), no network, no database. Modules by
//! role: [`VerifyError`] (`error`), the shared pre-proof checks (`checks`), reading
//! epoch directories (`files`), the Groth16 core (`groth16`), [`halo2`], the
//! backend dispatch (`epoch`), and the user-facing [`inclusion`], [`attestation`]
//! and [`audit`] checks.

pub mod artifacts;
pub mod attestation;
pub mod audit;
mod checks;
mod epoch;
mod error;
mod files;
mod groth16;
pub mod halo2;
pub mod inclusion;
pub mod venue;

pub use checks::Verified;
pub use epoch::verify_epoch;
pub use error::VerifyError;
pub use files::{
    Groth16EpochFiles, KEYS_FILE, TrustedGroth16Key, read_groth16_epoch, read_proofs,
    read_statement, read_statement_and_bytes, read_statement_at, read_trusted_key,
    read_verifying_key,
};
pub use groth16::{
    verify_epoch_dir, verify_epoch_dir_with_trusted_key, verify_groth16,
    verify_groth16_with_trusted_key,
};
