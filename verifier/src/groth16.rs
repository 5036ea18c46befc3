//! Groth16 (BN254) epoch verification: the in-memory core [`verify_groth16`] and the
//! epoch-directory reader above it (`docs/SPEC.md` §6.4, §7).

use crate::artifacts::{VERIFYING_KEY_FILE, decode_proof};
use crate::checks::{Verified, check_backend, check_groth16_key, check_proof_count};
use crate::error::VerifyError;
use crate::files::{TrustedGroth16Key, read_proofs, read_statement, read_verifying_key};
use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, VerifyingKey, prepare_verifying_key};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::statement::{Backend, EpochStatement};
use std::path::Path;

/// Verifies a Groth16 epoch directory. With `trusted_key`, that key must be the one
/// the statement names; without, the directory's own `verifying_key.bin` is used.
///
/// Reads the directory and calls [`verify_groth16`]. The key is checked before the
/// proofs directory is read, so a wrong key is reported as such whatever the proofs.
/// A bare key carries no shape, so the statement's shape is not checked against
/// it: [`verify_epoch_dir_with_trusted_key`] does, with the shape the key's
/// `keys.json` records.
pub fn verify_epoch_dir(
    epoch_dir: &Path,
    trusted_key: Option<&VerifyingKey<Bn254>>,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    check_backend(&statement, Backend::Groth16Bn254)?;
    verify_read_epoch_dir(epoch_dir, statement, trusted_key)
}

/// [`verify_epoch_dir`] with a trusted key read with its shape
/// ([`crate::read_trusted_key`]): a key for another shape than the statement's is
/// refused as [`VerifyError::ShapeMismatch`], naming both, before anything else of
/// the key is checked and before the proofs are read.
pub fn verify_epoch_dir_with_trusted_key(
    epoch_dir: &Path,
    trusted_key: &TrustedGroth16Key,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    check_backend(&statement, Backend::Groth16Bn254)?;
    check_key_shape(&statement, trusted_key)?;
    verify_read_epoch_dir(epoch_dir, statement, Some(&trusted_key.verifying_key))
}

/// [`verify_epoch_dir`] after reading the statement and checking its backend.
fn verify_read_epoch_dir(
    epoch_dir: &Path,
    statement: EpochStatement,
    trusted_key: Option<&VerifyingKey<Bn254>>,
) -> Result<Verified, VerifyError> {
    let own_key;
    let vk = match trusted_key {
        Some(vk) => vk,
        None => {
            own_key = read_verifying_key(&epoch_dir.join(VERIFYING_KEY_FILE))?;
            &own_key
        }
    };
    check_groth16_key(&statement, vk)?;
    let proofs = read_proofs(epoch_dir, statement.file().batch_count)?;
    verify_groth16_proofs(&statement, &proofs, vk)?;
    Ok(Verified {
        statement,
        trusted_key: trusted_key.is_some(),
    })
}

/// Verifies a Groth16 epoch in memory: `proofs[b]` is batch `b`'s proof in its
/// canonical encoding (arkworks compressed, [`artifacts::GROTH16_PROOF_BYTES`]
/// bytes, as in `proofs/batch-NNNNNN.bin`), checked against the public inputs this
/// function computes from `statement` (the open layout, `docs/SPEC.md` §6.4).
///
/// Checks, in order: the statement's backend; `vk` against the statement's
/// `verifying_key_hash` and its public-input count (`9 + ⌈M/3⌉`); one proof per batch; then
/// each proof, decoded (points on the curve and in the subgroup, no trailing bytes)
/// and verified. Proofs are taken as bytes, not decoded [`ark_groth16::Proof`]s, so
/// that the core is the one place that decides what a well-formed proof is (the
/// bytes a venue publishes), and reports a malformed one with its batch index.
///
/// What is **not** checked here: that `vk` was made for the statement's batch size.
/// A Groth16 key reveals `M` (its input count) but not `B`, and no public input
/// binds `B` (§6.4), so a statement relabelled with another `B` that names a
/// trusted key of the real one would pass. Where the key's provenance is
/// known, use [`verify_groth16_with_trusted_key`].
pub fn verify_groth16<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    vk: &VerifyingKey<Bn254>,
) -> Result<(), VerifyError> {
    check_backend(statement, Backend::Groth16Bn254)?;
    check_groth16_key(statement, vk)?;
    verify_groth16_proofs(statement, proofs, vk)
}

/// [`verify_groth16`] with a trusted key read with its shape
/// ([`crate::read_trusted_key`]): after the backend, a key recorded for another
/// shape than the statement's is refused as [`VerifyError::ShapeMismatch`] (naming
/// both shapes); then as [`verify_groth16`].
pub fn verify_groth16_with_trusted_key<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    trusted_key: &TrustedGroth16Key,
) -> Result<(), VerifyError> {
    check_backend(statement, Backend::Groth16Bn254)?;
    check_key_shape(statement, trusted_key)?;
    verify_groth16(statement, proofs, &trusted_key.verifying_key)
}

/// Refuses a trusted key whose recorded shape is not the statement's.
fn check_key_shape(
    statement: &EpochStatement,
    trusted_key: &TrustedGroth16Key,
) -> Result<(), VerifyError> {
    if trusted_key.shape == statement.shape() {
        Ok(())
    } else {
        Err(VerifyError::ShapeMismatch {
            expected: statement.shape().id(),
            got: trusted_key.shape.id(),
        })
    }
}

/// [`verify_groth16`] after the backend and key checks.
fn verify_groth16_proofs<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    vk: &VerifyingKey<Bn254>,
) -> Result<(), VerifyError> {
    check_proof_count(statement, proofs.len())?;
    let inputs = statement.public_inputs::<Bn254Poseidon>()?;
    let pvk = prepare_verifying_key(vk);
    for (b, (proof, x)) in proofs.iter().zip(inputs).enumerate() {
        verify_batch(&pvk, b as u64, proof.as_ref(), &x)?;
    }
    Ok(())
}

fn verify_batch(
    pvk: &PreparedVerifyingKey<Bn254>,
    batch: u64,
    proof: &[u8],
    public_inputs: &[Fr],
) -> Result<(), VerifyError> {
    let proof = decode_proof(proof).map_err(|e| VerifyError::MalformedProof {
        batch,
        reason: e.to_string(),
    })?;
    match Groth16::<Bn254>::verify_proof(pvk, &proof, public_inputs) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::InvalidProof { batch }),
    }
}
