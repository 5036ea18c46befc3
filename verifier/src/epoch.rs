//! Verifying an epoch directory with whichever backend its statement names.

use crate::checks::Verified;
use crate::error::VerifyError;
use crate::files::TrustedGroth16Key;
use crate::files::read_statement;
use crate::{groth16, halo2};
use backstop_circuits::statement::Backend;
use std::path::Path;

/// Verifies an epoch directory with the proof system its `statement.json` names:
/// Groth16 with `trusted_key` (refused if its `keys.json` records another shape
/// than the statement's; without one, the directory's own key), or halo2 with IPA
/// parameters cached in `halo2_params_dir` (generated there when missing).
pub fn verify_epoch(
    epoch_dir: &Path,
    trusted_key: Option<&TrustedGroth16Key>,
    halo2_params_dir: &Path,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    match statement.file().backend {
        Backend::Groth16Bn254 => match trusted_key {
            Some(key) => groth16::verify_epoch_dir_with_trusted_key(epoch_dir, key),
            None => groth16::verify_epoch_dir(epoch_dir, None),
        },
        Backend::Halo2Pasta if trusted_key.is_some() => {
            Err(VerifyError::KeyForTransparentBackend(Backend::Halo2Pasta))
        }
        Backend::Halo2Pasta => halo2::verify_epoch_dir(epoch_dir, halo2_params_dir),
    }
}
