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

pub mod artifacts;
pub mod attestation;
pub mod audit;
pub mod halo2;
pub mod inclusion;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, VerifyingKey, prepare_verifying_key};
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
    /// The number of proofs is not the statement's batch count.
    #[error("expected {expected} proofs, one per batch, got {got}")]
    ProofCount {
        /// The statement's `batch_count`.
        expected: u64,
        /// The number of proofs given.
        got: u64,
    },
    /// halo2 keys derived for one shape were given for a statement of another.
    #[error("halo2 keys for shape {got}, but the statement's shape is {expected}")]
    ShapeMismatch {
        /// The statement's shape id.
        expected: String,
        /// The shape id of the keys given.
        got: String,
    },
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
    Ok(read_statement_and_bytes(epoch_dir)?.0)
}

/// [`read_statement`], with the file's bytes as read (what an attestation binds by
/// hash).
pub fn read_statement_and_bytes(
    epoch_dir: &Path,
) -> Result<(EpochStatement, Vec<u8>), VerifyError> {
    let bytes = read(&epoch_dir.join(STATEMENT_FILE))?;
    Ok((EpochStatement::from_json(&bytes)?, bytes))
}

/// Reads a verifying key file.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey<Bn254>, VerifyError> {
    decode_verifying_key(&read(path)?)
        .map_err(|e| VerifyError::VerifyingKey(format!("{}: {e}", path.display())))
}

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
fn check_groth16_key(
    statement: &EpochStatement,
    vk: &VerifyingKey<Bn254>,
) -> Result<(), VerifyError> {
    check_key_hash(statement, verifying_key_hash(vk))?;
    // One public input per batch proof: x_b (SPEC §6.4).
    if vk.gamma_abc_g1.len() != 2 {
        return Err(VerifyError::VerifyingKey(format!(
            "expects {} public inputs, the batch circuit has 1",
            vk.gamma_abc_g1.len().saturating_sub(1)
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

/// A Groth16 epoch directory, read and checked for form but **not verified**: what
/// the exporters (snarkjs files, on-chain calldata) translate.
#[derive(Debug, Clone)]
pub struct Groth16EpochFiles {
    /// The validated statement.
    pub statement: EpochStatement,
    /// The directory's verifying key: the one the statement names, with the batch
    /// circuit's one public input.
    pub verifying_key: VerifyingKey<Bn254>,
    /// One well-formed proof per batch, in batch order.
    pub proofs: Vec<Proof<Bn254>>,
}

/// Reads a Groth16 epoch directory: the statement (validated), the directory's
/// verifying key (refused unless it is the one the statement names) and one
/// decodable proof per batch (refused if missing, stray or malformed). The proofs
/// are not checked against the statement: [`verify_groth16`] does that.
pub fn read_groth16_epoch(epoch_dir: &Path) -> Result<Groth16EpochFiles, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    check_backend(&statement, Backend::Groth16Bn254)?;
    let verifying_key = read_verifying_key(&epoch_dir.join(VERIFYING_KEY_FILE))?;
    check_groth16_key(&statement, &verifying_key)?;
    let proofs = read_proofs(epoch_dir, statement.file().batch_count)?
        .iter()
        .zip(0u64..)
        .map(|(bytes, batch)| {
            decode_proof(bytes).map_err(|e| VerifyError::MalformedProof {
                batch,
                reason: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Groth16EpochFiles {
        statement,
        verifying_key,
        proofs,
    })
}

/// Reads an epoch directory's `proofs/`: the bytes of `batch-NNNNNN.bin` for each
/// batch `0 ≤ N < batch_count`, in order. Refuses a stray file
/// ([`VerifyError::UnexpectedFile`]) and a missing proof
/// ([`VerifyError::MissingProof`]); decoding is left to the verifier.
pub fn read_proofs(epoch_dir: &Path, batch_count: u64) -> Result<Vec<Vec<u8>>, VerifyError> {
    check_no_stray_proofs(epoch_dir, batch_count)?;
    (0..batch_count)
        .map(|batch| {
            let path = proof_path(epoch_dir, batch);
            if path.is_file() {
                read(&path)
            } else {
                Err(VerifyError::MissingProof { batch, path })
            }
        })
        .collect()
}

/// Refuses files in `proofs/` that are not `batch-NNNNNN.bin` for `0 ≤ N < K`.
fn check_no_stray_proofs(epoch_dir: &Path, batch_count: u64) -> Result<(), VerifyError> {
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
        // The batch the name gives, if any, and then the name must be exactly that
        // batch's (`batch-7.bin` and `batch-0000007.bin` are strays): one lookup per
        // entry, not one per entry and batch.
        let batch = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("batch-")?.strip_suffix(".bin"))
            .and_then(|n| n.parse::<u64>().ok());
        let expected = batch.is_some_and(|b| b < batch_count && proof_path(epoch_dir, b) == path);
        if !expected {
            return Err(VerifyError::UnexpectedFile(path));
        }
    }
    Ok(())
}
