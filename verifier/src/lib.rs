//! Backstop's off-chain verifier: checks an epoch directory's batch proofs against
//! public inputs it computes itself from `statement.json` (`docs/SPEC.md` §6.4, §7).
//!
//! Small and deterministic, with no dependency on the prover: an auditor can build
//! this crate alone (`cargo build -p backstop-verifier`, binary `backstop-verify`).

pub mod artifacts;
pub mod attestation;
pub mod audit;
pub mod halo2;
pub mod inclusion;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, VerifyingKey, prepare_verifying_key};
use artifacts::{
    PROOFS_DIR, STATEMENT_FILE, VERIFYING_KEY_FILE, decode_proof, decode_verifying_key, proof_path,
    verifying_key_hash,
};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::statement::{Backend, EpochStatement, StatementError};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why an epoch did not verify. Every variant names what to look at.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// `statement.json` is malformed or states something impossible.
    #[error("statement.json: {0}")]
    Statement(#[from] StatementError),
    /// The statement names a backend this verifier does not handle.
    #[error("statement.json names backend {0}, which this function does not verify")]
    Backend(Backend),
    /// The verifying key does not decode or does not fit the shape.
    #[error("verifying key: {0}")]
    VerifyingKey(String),
    /// The verifying key is not the one the statement names.
    #[error("verifying key hash {got} does not match the statement's {expected}")]
    VerifyingKeyMismatch {
        /// The statement's `verifying_key_hash`.
        expected: String,
        /// The hash of the key used.
        got: String,
    },
    /// A batch has no proof file.
    #[error("batch {batch}: proof missing ({path})")]
    MissingProof {
        /// The batch index.
        batch: u64,
        /// Where it was expected.
        path: PathBuf,
    },
    /// The proofs directory holds a file that belongs to no batch.
    #[error("{0}: not a proof of any of the statement's batches")]
    UnexpectedFile(PathBuf),
    /// A proof file does not decode.
    #[error("batch {batch}: malformed proof ({reason})")]
    MalformedProof {
        /// The batch index.
        batch: u64,
        /// Why.
        reason: String,
    },
    /// A Groth16 verifying key was given for an epoch of a transparent backend,
    /// whose key is derived from the circuit shape.
    #[error(
        "statement.json names backend {0}, which has no trusted key: its verifying key is derived from the circuit shape (drop --key)"
    )]
    KeyForTransparentBackend(Backend),
    /// A proof does not verify against the batch's public input.
    #[error(
        "batch {batch}: proof does not verify against the public input computed from statement.json"
    )]
    InvalidProof {
        /// The batch index.
        batch: u64,
    },
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The verified statement.
    pub statement: EpochStatement,
    /// Whether the verifying key came from the caller (trusted) or from the epoch
    /// directory itself (only as trustworthy as whoever wrote the directory).
    pub trusted_key: bool,
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, VerifyError> {
    std::fs::read(path).map_err(|error| VerifyError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads and validates an epoch directory's `statement.json`.
pub fn read_statement(epoch_dir: &Path) -> Result<EpochStatement, VerifyError> {
    Ok(EpochStatement::from_json(&read(
        &epoch_dir.join(STATEMENT_FILE),
    )?)?)
}

/// Reads a verifying key file.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey<Bn254>, VerifyError> {
    decode_verifying_key(&read(path)?)
        .map_err(|e| VerifyError::VerifyingKey(format!("{}: {e}", path.display())))
}

/// Verifies a Groth16 epoch directory. With `trusted_key`, that key must be the one
/// the statement names; without, the directory's own `verifying_key.bin` is used.
pub fn verify_epoch_dir(
    epoch_dir: &Path,
    trusted_key: Option<&VerifyingKey<Bn254>>,
) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    if statement.file().backend != Backend::Groth16Bn254 {
        return Err(VerifyError::Backend(statement.file().backend));
    }
    let vk = match trusted_key {
        Some(vk) => vk.clone(),
        None => read_verifying_key(&epoch_dir.join(VERIFYING_KEY_FILE))?,
    };
    let hash = verifying_key_hash(&vk);
    if hash != statement.file().verifying_key_hash {
        return Err(VerifyError::VerifyingKeyMismatch {
            expected: statement.file().verifying_key_hash.clone(),
            got: hash,
        });
    }
    // One public input per batch proof: x_b (SPEC §6.4).
    if vk.gamma_abc_g1.len() != 2 {
        return Err(VerifyError::VerifyingKey(format!(
            "expects {} public inputs, the batch circuit has 1",
            vk.gamma_abc_g1.len().saturating_sub(1)
        )));
    }
    let pvk = prepare_verifying_key(&vk);
    let inputs = statement.public_inputs::<Bn254Poseidon>()?;
    check_no_stray_proofs(epoch_dir, inputs.len() as u64)?;
    for (b, x) in inputs.iter().enumerate() {
        verify_batch(epoch_dir, &pvk, b as u64, *x)?;
    }
    Ok(Verified {
        statement,
        trusted_key: trusted_key.is_some(),
    })
}

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
        Backend::Groth16Bn254 => verify_epoch_dir(epoch_dir, trusted_key),
        Backend::Halo2Pasta if trusted_key.is_some() => {
            Err(VerifyError::KeyForTransparentBackend(Backend::Halo2Pasta))
        }
        Backend::Halo2Pasta => halo2::verify_epoch_dir(epoch_dir, halo2_params_dir),
    }
}

fn verify_batch(
    epoch_dir: &Path,
    pvk: &PreparedVerifyingKey<Bn254>,
    batch: u64,
    public_input: Fr,
) -> Result<(), VerifyError> {
    let path = proof_path(epoch_dir, batch);
    if !path.is_file() {
        return Err(VerifyError::MissingProof { batch, path });
    }
    let proof = decode_proof(&read(&path)?).map_err(|e| VerifyError::MalformedProof {
        batch,
        reason: e.to_string(),
    })?;
    match Groth16::<Bn254>::verify_proof(pvk, &proof, &[public_input]) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::InvalidProof { batch }),
    }
}

/// Refuses files in `proofs/` that are not `batch-NNNNNN.bin` for `0 ≤ N < K`.
pub(crate) fn check_no_stray_proofs(epoch_dir: &Path, batch_count: u64) -> Result<(), VerifyError> {
    let dir = epoch_dir.join(PROOFS_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|error| VerifyError::Io {
        path: dir.clone(),
        error,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|error| VerifyError::Io {
                path: dir.clone(),
                error,
            })?
            .path();
        let expected = (0..batch_count).any(|b| proof_path(epoch_dir, b) == path);
        if !expected {
            return Err(VerifyError::UnexpectedFile(path));
        }
    }
    Ok(())
}
