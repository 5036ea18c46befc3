//! Groth16 (BN254) epoch verification: the in-memory core [`verify_groth16`] and the
//! epoch-directory reader above it (`docs/SPEC.md` §6.4, §7).

use crate::artifacts::{VERIFYING_KEY_FILE, decode_proof};
use crate::checks::{Verified, check_backend, check_groth16_key, check_proof_count};
use crate::error::VerifyError;
use crate::files::{read_proofs, read_statement, read_verifying_key};
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
pub fn verify_epoch_dir(
    epoch_dir: &Path,
    trusted_key: Option<&VerifyingKey<Bn254>>,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    check_backend(&statement, Backend::Groth16Bn254)?;
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
/// bytes, as in `proofs/batch-NNNNNN.bin`), checked against the public input this
/// function computes from `statement`.
///
/// Checks, in order: the statement's backend; `vk` against the statement's
/// `verifying_key_hash` and its public-input count (1); one proof per batch; then
/// each proof, decoded (points on the curve and in the subgroup, no trailing bytes)
/// and verified. Proofs are taken as bytes, not decoded [`ark_groth16::Proof`]s, so
/// that the core is the one place that decides what a well-formed proof is (the
/// bytes a venue publishes), and reports a malformed one with its batch index.
pub fn verify_groth16<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    vk: &VerifyingKey<Bn254>,
) -> Result<(), VerifyError> {
    check_backend(statement, Backend::Groth16Bn254)?;
    check_groth16_key(statement, vk)?;
    verify_groth16_proofs(statement, proofs, vk)
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
        verify_batch(&pvk, b as u64, proof.as_ref(), x)?;
    }
    Ok(())
}

fn verify_batch(
    pvk: &PreparedVerifyingKey<Bn254>,
    batch: u64,
    proof: &[u8],
    public_input: Fr,
) -> Result<(), VerifyError> {
    let proof = decode_proof(proof).map_err(|e| VerifyError::MalformedProof {
        batch,
        reason: e.to_string(),
    })?;
    match Groth16::<Bn254>::verify_proof(pvk, &proof, &[public_input]) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::InvalidProof { batch }),
    }
}
