//! The checks every backend's verification makes before any proof: the statement's
//! backend, the key it names, one proof per batch (`docs/SPEC.md` §7).

use crate::artifacts::verifying_key_hash;
use crate::error::VerifyError;
use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use backstop_circuits::inputs::shape_input_count;
use backstop_circuits::statement::{Backend, EpochStatement};

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The verified statement.
    pub statement: EpochStatement,
    /// Whether the verifying key came from the caller (trusted) or from the epoch
    /// directory itself (only as trustworthy as whoever wrote the directory).
    pub trusted_key: bool,
}

/// Refuses a statement of another backend.
pub(crate) fn check_backend(
    statement: &EpochStatement,
    backend: Backend,
) -> Result<(), VerifyError> {
    if statement.file().backend == backend {
        Ok(())
    } else {
        Err(VerifyError::Backend(statement.file().backend))
    }
}

/// `vk` is the key the statement names and has the batch circuit's one public input.
pub(crate) fn check_groth16_key(
    statement: &EpochStatement,
    vk: &VerifyingKey<Bn254>,
) -> Result<(), VerifyError> {
    check_key_hash(statement, verifying_key_hash(vk))?;
    // The open layout's public inputs (SPEC §6.4): 9 + ⌈M/3⌉, and the risk model v2
    // words after them.
    let inputs = shape_input_count(&statement.shape());
    if vk.gamma_abc_g1.len() != inputs + 1 {
        return Err(VerifyError::VerifyingKey(format!(
            "expects {} public inputs, the batch circuit of shape {} has {inputs}",
            vk.gamma_abc_g1.len().saturating_sub(1),
            statement.shape().id()
        )));
    }
    Ok(())
}

/// Refuses a key whose hash is not the statement's `verifying_key_hash`.
pub(crate) fn check_key_hash(statement: &EpochStatement, hash: String) -> Result<(), VerifyError> {
    if hash == statement.file().verifying_key_hash {
        Ok(())
    } else {
        Err(VerifyError::VerifyingKeyMismatch {
            expected: statement.file().verifying_key_hash.clone(),
            got: hash,
        })
    }
}

/// Refuses a number of proofs other than the statement's batch count.
pub(crate) fn check_proof_count(
    statement: &EpochStatement,
    proofs: usize,
) -> Result<(), VerifyError> {
    let expected = statement.file().batch_count;
    let got = proofs as u64;
    if got == expected {
        Ok(())
    } else {
        Err(VerifyError::ProofCount { expected, got })
    }
}
