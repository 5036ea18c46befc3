//! Groth16 epoch proving (`docs/SPEC.md` §6): one proof per batch witness, and the
//! epoch directory they are published in (§7). Keys are [`crate::keys`].

use crate::error::ProverError;
use crate::keys::Groth16Keys;
use crate::output::{check_replaceable, json_bytes, write_dir_atomically, write_file as write};
use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, Proof};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::model::Snapshot;
use backstop_circuits::r1cs::BatchCircuit;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::statement::{Backend, StatementFile};
use backstop_circuits::witness::BatchWitness;
use backstop_verifier::artifacts::{
    STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, proof_path, verifying_key_bytes,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use std::path::Path;

/// A proven epoch, ready to be written.
#[derive(Debug)]
pub struct EpochProof {
    /// The published statement.
    pub statement: StatementFile,
    /// One proof per batch.
    pub proofs: Vec<Proof<Bn254>>,
}

/// Proves one batch.
pub fn prove_batch(
    keys: &Groth16Keys,
    witness: &BatchWitness<Fr>,
) -> Result<Proof<Bn254>, ProverError> {
    let circuit = BatchCircuit::new(keys.shape(), witness).map_err(|e| ProverError::Prove {
        batch: witness.batch(),
        reason: e.to_string(),
    })?;
    let mut rng = ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
    Groth16::<Bn254>::create_random_proof_with_reduction(circuit, keys.proving_key(), &mut rng)
        .map_err(|e| ProverError::Prove {
            batch: witness.batch(),
            reason: e.to_string(),
        })
}

/// Proves every batch of an epoch, in parallel; `on_batch` is called as each one
/// finishes (from worker threads).
pub fn prove_epoch(
    snapshot: &Snapshot,
    secret: &VenueSecret,
    keys: &Groth16Keys,
    on_batch: &(dyn Fn(u64) + Sync),
) -> Result<EpochProof, ProverError> {
    let (statement, proofs) = crate::epoch::prove_batches::<Bn254Poseidon, _>(
        snapshot,
        secret,
        keys.shape(),
        Backend::Groth16Bn254,
        keys.verifying_key_hash(),
        |w| prove_batch(keys, w),
        on_batch,
    )?;
    Ok(EpochProof { statement, proofs })
}

/// Writes an epoch directory atomically: everything goes into a temporary sibling
/// that is renamed into place last, so an interrupted run leaves no directory that
/// looks complete. An existing `dir` is replaced only if it is an epoch directory.
pub fn write_epoch_dir(
    dir: &Path,
    proof: &EpochProof,
    keys: &Groth16Keys,
) -> Result<(), ProverError> {
    write_dir_atomically(dir, check_replaceable, |tmp| {
        std::fs::create_dir_all(tmp.join(backstop_verifier::artifacts::PROOFS_DIR))
            .map_err(|e| ProverError::io(tmp, e))?;
        for (b, p) in proof.proofs.iter().enumerate() {
            write(&proof_path(tmp, b as u64), &proof_bytes(p))?;
        }
        write(
            &tmp.join(VERIFYING_KEY_FILE),
            &verifying_key_bytes(keys.verifying_key()),
        )?;
        // The statement last: its presence marks a complete directory.
        write(&tmp.join(STATEMENT_FILE), &json_bytes(&proof.statement))
    })
}
