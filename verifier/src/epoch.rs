//! Verifying an epoch directory with whichever backend its statement names.

use crate::checks::Verified;
use crate::error::VerifyError;
use crate::files::read_statement;
use crate::{groth16, halo2};
use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use backstop_circuits::statement::Backend;
use std::path::Path;

/// Verifies an epoch directory with the proof system its `statement.json` names:
/// Groth16 with `trusted_key` (or the directory's own key), or halo2 with IPA
/// parameters cached in `halo2_params_dir` (generated there when missing).
pub fn verify_epoch(
    epoch_dir: &Path,
    trusted_key: Option<&VerifyingKey<Bn254>>,
    halo2_params_dir: &Path,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    match statement.file().backend {
        Backend::Groth16Bn254 => groth16::verify_epoch_dir(epoch_dir, trusted_key),
        Backend::Halo2Pasta if trusted_key.is_some() => {
            Err(VerifyError::KeyForTransparentBackend(Backend::Halo2Pasta))
        }
        Backend::Halo2Pasta => halo2::verify_epoch_dir(epoch_dir, halo2_params_dir),
    }
}
