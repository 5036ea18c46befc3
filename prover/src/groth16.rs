//! Groth16 keys and epoch proving (`docs/SPEC.md` §6; the key format in
//! `backstop_verifier::artifacts`).
//!
//! The setup here is **single-party**: whoever runs it knows the toxic waste and
//! could forge proofs for the key. It is fit for development and for a venue
//! proving to itself; a multi-party ceremony is later work (see the README).

use crate::error::ProverError;
use crate::output::{write_dir_atomically, write_file as write};
use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, Proof, ProvingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::model::Snapshot;
use backstop_circuits::r1cs::BatchCircuit;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, StatementFile};
use backstop_circuits::witness::BatchWitness;
use backstop_verifier::artifacts::{
    STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, proof_path, verifying_key_bytes,
    verifying_key_hash,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The description file of a keys directory.
pub const KEYS_FILE: &str = "keys.json";
/// The proving key file of a keys directory (arkworks uncompressed encoding).
pub const PROVING_KEY_FILE: &str = "proving_key.bin";
/// What `keys.json` says about how the keys were made.
pub const SINGLE_PARTY_SETUP: &str =
    "single-party development setup: whoever ran it can forge proofs for these keys";

/// `keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// Always `groth16-bn254` here.
    pub backend: Backend,
    /// [`CircuitShape::id`].
    pub shape: String,
    /// `B`.
    pub batch_size: u64,
    /// `M`.
    pub markets: usize,
    /// SHA-256 of the verifying key's canonical bytes.
    pub verifying_key_hash: String,
    /// How the keys were made.
    pub setup: String,
    /// The R1CS constraint count of the circuit.
    pub constraints: usize,
}

/// A proving key with the shape it belongs to.
#[derive(Debug)]
pub struct Groth16Keys {
    shape: CircuitShape,
    pk: ProvingKey<Bn254>,
    vk_hash: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProverError + '_ {
    move |e| ProverError::io(path, e)
}

impl Groth16Keys {
    /// Runs the single-party setup for `shape`, with randomness from the OS.
    pub fn setup(shape: CircuitShape) -> Result<Self, ProverError> {
        let mut rng =
            ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
        let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(
            BatchCircuit::blank(shape),
            &mut rng,
        )
        .map_err(|e| ProverError::Setup(e.to_string()))?;
        let vk_hash = verifying_key_hash(&pk.vk);
        Ok(Self { shape, pk, vk_hash })
    }

    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }
    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.pk
    }
    /// SHA-256 of the verifying key.
    pub fn verifying_key_hash(&self) -> &str {
        &self.vk_hash
    }

    /// Writes `keys.json`, `proving_key.bin` and `verifying_key.bin` into `dir`,
    /// atomically (a temporary sibling renamed into place).
    pub fn save(&self, dir: &Path, constraints: usize) -> Result<(), ProverError> {
        let desc = KeysFile {
            backend: Backend::Groth16Bn254,
            shape: self.shape.id(),
            batch_size: self.shape.batch_size().get() as u64,
            markets: self.shape.markets(),
            verifying_key_hash: self.vk_hash.clone(),
            setup: SINGLE_PARTY_SETUP.to_owned(),
            constraints,
        };
        write_dir_atomically(dir, check_replaceable, |tmp| {
            let mut pk_bytes = Vec::new();
            self.pk
                .serialize_uncompressed(&mut pk_bytes)
                .map_err(|e| ProverError::Setup(e.to_string()))?;
            write(&tmp.join(PROVING_KEY_FILE), &pk_bytes)?;
            write(
                &tmp.join(VERIFYING_KEY_FILE),
                &verifying_key_bytes(&self.pk.vk),
            )?;
            write(&tmp.join(KEYS_FILE), &json_bytes(&desc))
        })
    }

    /// Loads keys for `shape` from `dir`; keys of another shape are refused by name.
    pub fn load(dir: &Path, shape: CircuitShape) -> Result<Self, ProverError> {
        let desc_path = dir.join(KEYS_FILE);
        let desc: KeysFile = serde_json::from_slice(
            &std::fs::read(&desc_path).map_err(io(&desc_path))?,
        )
        .map_err(|e| ProverError::Keys {
            dir: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        if desc.shape != shape.id() {
            return Err(ProverError::KeyShape {
                dir: dir.to_path_buf(),
                expected: shape.id(),
                found: desc.shape,
            });
        }
        let pk_path = dir.join(PROVING_KEY_FILE);
        let bytes = std::fs::read(&pk_path).map_err(io(&pk_path))?;
        // The proving key is the prover's own file: skip the expensive point checks.
        let pk = ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(bytes.as_slice())
            .map_err(|e| ProverError::Keys {
                dir: dir.to_path_buf(),
                reason: format!("{PROVING_KEY_FILE}: {e}"),
            })?;
        let vk_hash = verifying_key_hash(&pk.vk);
        if vk_hash != desc.verifying_key_hash {
            return Err(ProverError::Keys {
                dir: dir.to_path_buf(),
                reason: "proving_key.bin does not match the verifying key hash in keys.json".into(),
            });
        }
        Ok(Self { shape, pk, vk_hash })
    }
}

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
    let circuit = BatchCircuit::new(keys.shape, witness).map_err(|e| ProverError::Prove {
        batch: witness.batch(),
        reason: e.to_string(),
    })?;
    let mut rng = ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
    Groth16::<Bn254>::create_random_proof_with_reduction(circuit, &keys.pk, &mut rng).map_err(|e| {
        ProverError::Prove {
            batch: witness.batch(),
            reason: e.to_string(),
        }
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
        keys.shape,
        Backend::Groth16Bn254,
        &keys.vk_hash,
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
            .map_err(io(tmp))?;
        for (b, p) in proof.proofs.iter().enumerate() {
            write(&proof_path(tmp, b as u64), &proof_bytes(p))?;
        }
        write(
            &tmp.join(VERIFYING_KEY_FILE),
            &verifying_key_bytes(&keys.pk.vk),
        )?;
        // The statement last: its presence marks a complete directory.
        write(&tmp.join(STATEMENT_FILE), &json_bytes(&proof.statement))
    })
}

pub(crate) fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Refuses an existing `dir` unless it is empty or a previous output of ours (it
/// holds a `statement.json` or `keys.json`). Called before any work starts, and
/// again just before writing.
pub fn check_replaceable(dir: &Path) -> Result<(), ProverError> {
    if dir.exists() {
        let ours = dir.join(STATEMENT_FILE).is_file() || dir.join(KEYS_FILE).is_file();
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !ours && !empty {
            return Err(ProverError::Usage(format!(
                "{} exists and is not an output of backstop; refusing to replace it",
                dir.display()
            )));
        }
    }
    Ok(())
}
