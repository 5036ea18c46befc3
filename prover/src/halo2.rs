//! halo2 (IPA over Pasta) epoch proving: the transparent path (`docs/SPEC.md` §7.4).
//!
//! No trusted setup: `backstop setup --backend halo2` only generates (and caches) the
//! IPA parameters for the shape's `k`, which anyone can regenerate; keys are derived
//! from the circuit.

use crate::error::ProverError;
use crate::output::{check_replaceable, json_bytes, write_dir_atomically, write_file};
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::model::Snapshot;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, StatementFile};
use backstop_circuits::witness::BatchWitness;
use backstop_verifier::artifacts::{PROOFS_DIR, STATEMENT_FILE, proof_path};
use backstop_verifier::halo2::Halo2VerifierKeys;
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use pasta_curves::{pallas, vesta};
use std::path::Path;

/// The halo2 proving key of one shape, beside the verifier's parameters and
/// verifying key it was derived from.
#[derive(Debug)]
pub struct Halo2Keys {
    verifier: Halo2VerifierKeys,
    pk: ProvingKey<vesta::Affine>,
}

impl Halo2Keys {
    /// Loads (or generates and caches in `params_dir`) the IPA parameters for the
    /// shape and derives its keys.
    pub fn load(params_dir: &Path, shape: CircuitShape) -> Result<Self, ProverError> {
        let verifier = Halo2VerifierKeys::load(params_dir, shape)?;
        let pk = Halo2BatchCircuit::keygen_pk(
            verifier.params(),
            verifier.verifying_key().clone(),
            shape,
        )
        .map_err(|e| ProverError::Setup(format!("halo2 keygen for {}: {e:?}", shape.id())))?;
        Ok(Self { verifier, pk })
    }
    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.verifier.shape()
    }
    /// `k`: the circuit has `2^k` rows.
    pub fn k(&self) -> u32 {
        self.verifier.params().k()
    }
    /// SHA-256 of the pinned verifying key.
    pub fn verifying_key_hash(&self) -> &str {
        self.verifier.verifying_key_hash()
    }
    /// The parameters and verifying key, as the verifier derives them.
    pub fn verifier_keys(&self) -> &Halo2VerifierKeys {
        &self.verifier
    }
}

/// A proven halo2 epoch.
#[derive(Debug)]
pub struct Halo2EpochProof {
    /// The published statement.
    pub statement: StatementFile,
    /// One transcript per batch.
    pub proofs: Vec<Vec<u8>>,
}

/// Proves one batch.
pub fn prove_batch(
    keys: &Halo2Keys,
    witness: &BatchWitness<pallas::Base>,
) -> Result<Vec<u8>, ProverError> {
    let fail = |reason: String| ProverError::Prove {
        batch: witness.batch(),
        reason,
    };
    let circuit = Halo2BatchCircuit::new(keys.shape(), witness).map_err(|e| fail(e.to_string()))?;
    let mut transcript = Blake2bWrite::<_, vesta::Affine, Challenge255<_>>::init(vec![]);
    circuit
        .create_proof(
            keys.verifier.params(),
            &keys.pk,
            rand_core10::UnwrapErr(rand10::rngs::SysRng),
            &mut transcript,
        )
        .map_err(|e| fail(format!("{e:?}")))?;
    Ok(transcript.finalize())
}

/// Proves every batch of an epoch, in parallel.
pub fn prove_epoch(
    snapshot: &Snapshot,
    secret: &VenueSecret,
    keys: &Halo2Keys,
    on_batch: &(dyn Fn(u64) + Sync),
) -> Result<Halo2EpochProof, ProverError> {
    let (statement, proofs) = crate::epoch::prove_batches::<PastaPoseidon, _>(
        snapshot,
        secret,
        keys.shape(),
        Backend::Halo2Pasta,
        keys.verifying_key_hash(),
        |w| prove_batch(keys, w),
        on_batch,
    )?;
    Ok(Halo2EpochProof { statement, proofs })
}

/// Writes a halo2 epoch directory atomically: `statement.json` and
/// `proofs/batch-NNNNNN.bin` (no key file: verifiers derive the key from the shape).
pub fn write_epoch_dir(dir: &Path, proof: &Halo2EpochProof) -> Result<(), ProverError> {
    write_dir_atomically(dir, check_replaceable, |tmp| {
        std::fs::create_dir_all(tmp.join(PROOFS_DIR)).map_err(|e| ProverError::io(tmp, e))?;
        for (b, p) in proof.proofs.iter().enumerate() {
            write_file(&proof_path(tmp, b as u64), p)?;
        }
        write_file(&tmp.join(STATEMENT_FILE), &json_bytes(&proof.statement))
    })
}
