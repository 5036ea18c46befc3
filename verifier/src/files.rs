//! Reading an epoch directory (`docs/SPEC.md` §7): `statement.json`, the verifying
//! key, `proofs/batch-NNNNNN.bin`. Reading checks form only; the verification cores
//! ([`crate::verify_groth16`], [`crate::halo2::verify_halo2`]) check the proofs.

use crate::artifacts::{
    PROOFS_DIR, STATEMENT_FILE, VERIFYING_KEY_FILE, decode_proof, decode_verifying_key, proof_path,
    verifying_key_hash,
};
use crate::checks::{check_backend, check_groth16_key};
use crate::error::VerifyError;
use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, EpochStatement};
use serde::Deserialize;
use std::path::Path;

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

/// Reads a statement from an epoch directory or from a `statement.json` file itself
/// (`--previous`).
pub fn read_statement_at(path: &Path) -> Result<EpochStatement, VerifyError> {
    if path.is_dir() {
        read_statement(path)
    } else {
        Ok(EpochStatement::from_json(&read(path)?)?)
    }
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

/// The description file of a Groth16 keys directory, written by the prover's setup
/// (`backstop_prover::keys::KeysFile`) beside `verifying_key.bin`.
pub const KEYS_FILE: &str = "keys.json";

/// A trusted Groth16 verifying key with the circuit shape its setup recorded.
///
/// A Groth16 verifying key does not reveal its shape (every shape's key has the
/// same single public input), so the shape comes from the key's provenance: the
/// `keys.json` of its keys directory ([`read_trusted_key`]).
#[derive(Debug, Clone)]
pub struct TrustedGroth16Key {
    /// The verifying key.
    pub verifying_key: VerifyingKey<Bn254>,
    /// The shape `keys.json` records for it.
    pub shape: CircuitShape,
}

/// The fields of `keys.json` the verifier reads (the prover's `KeysFile` has more).
#[derive(Deserialize)]
struct KeysDescription {
    backend: Backend,
    shape: String,
    batch_size: u64,
    markets: usize,
    #[serde(default = "backstop_circuits::json::one")]
    brackets: usize,
    #[serde(default)]
    assets: usize,
    #[serde(default)]
    waterfall: bool,
    verifying_key_hash: String,
}

/// Reads a trusted Groth16 key with its shape: `path` is a keys directory (as
/// `backstop setup` writes it) or its `verifying_key.bin`, whose directory must hold
/// the `keys.json` recording the shape. Refused as [`VerifyError::VerifyingKey`]
/// unless `keys.json` is readable, describes Groth16 keys, its shape id is the one its `B` and `M`
/// make, and its `verifying_key_hash` is the key's.
pub fn read_trusted_key(path: &Path) -> Result<TrustedGroth16Key, VerifyError> {
    let (dir, key_path) = if path.is_dir() {
        (path.to_path_buf(), path.join(VERIFYING_KEY_FILE))
    } else {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (dir, path.to_path_buf())
    };
    let verifying_key = read_verifying_key(&key_path)?;
    let desc_path = dir.join(KEYS_FILE);
    let refuse = |reason: String| {
        VerifyError::VerifyingKey(format!(
            "{}: {reason} (the trusted key's shape is read from it)",
            desc_path.display()
        ))
    };
    let desc_bytes = std::fs::read(&desc_path).map_err(|e| refuse(format!("unreadable: {e}")))?;
    let desc: KeysDescription =
        serde_json::from_slice(&desc_bytes).map_err(|e| refuse(e.to_string()))?;
    if desc.backend != Backend::Groth16Bn254 {
        return Err(refuse(format!("{} keys, not groth16-bn254", desc.backend)));
    }
    let shape = CircuitShape::with_risk(desc.batch_size, desc.markets, desc.brackets, desc.assets)
        .map(|s| s.with_waterfall(desc.waterfall))
        .map_err(|e| refuse(format!("{e}")))?;
    if shape.id() != desc.shape {
        return Err(refuse(format!(
            "names shape {} but B = {}, M = {}, T = {} and A = {} make {}",
            desc.shape,
            desc.batch_size,
            desc.markets,
            desc.brackets,
            desc.assets,
            shape.id()
        )));
    }
    if verifying_key_hash(&verifying_key) != desc.verifying_key_hash {
        return Err(refuse(format!(
            "its verifying_key_hash is not the hash of {}",
            key_path.display()
        )));
    }
    Ok(TrustedGroth16Key {
        verifying_key,
        shape,
    })
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
