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
use backstop_verifier::halo2::{params, verifying_key, verifying_key_hash};
use halo2_proofs::plonk::{ProvingKey, create_proof, keygen_pk};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use pasta_curves::{pallas, vesta};
use std::path::Path;

/// The halo2 parameters and proving key of one shape.
#[derive(Debug)]
pub struct Halo2Keys {
    shape: CircuitShape,
    params: Params<vesta::Affine>,
    pk: ProvingKey<vesta::Affine>,
    vk_hash: String,
}

impl Halo2Keys {
    /// Loads (or generates and caches in `params_dir`) the IPA parameters for the
    /// shape and derives its keys.
    pub fn load(params_dir: &Path, shape: CircuitShape) -> Result<Self, ProverError> {
        let k = Halo2BatchCircuit::k(shape);
        if k == 0 {
            return Err(ProverError::Setup(format!(
                "halo2: the circuit for {} cannot be laid out",
                shape.id()
            )));
        }
        let params = params(params_dir, k)?;
        let vk = verifying_key(&params, shape)?;
        let vk_hash = verifying_key_hash(&vk);
        let pk = keygen_pk(&params, vk, &Halo2BatchCircuit::blank(shape))
            .map_err(|e| ProverError::Setup(format!("halo2 keygen for {}: {e:?}", shape.id())))?;
        Ok(Self {
            shape,
            params,
            pk,
            vk_hash,
        })
    }
    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }
    /// `k`: the circuit has `2^k` rows.
    pub fn k(&self) -> u32 {
        self.params.k()
    }
    /// SHA-256 of the pinned verifying key.
    pub fn verifying_key_hash(&self) -> &str {
        &self.vk_hash
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
    let circuit = Halo2BatchCircuit::new(keys.shape, witness).map_err(|e| fail(e.to_string()))?;
    let instance = [witness.public_input()];
    let mut transcript = Blake2bWrite::<_, vesta::Affine, Challenge255<_>>::init(vec![]);
    create_proof(
        &keys.params,
        &keys.pk,
        &[circuit],
        &[&[&instance]],
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
        keys.shape,
        Backend::Halo2Pasta,
        &keys.vk_hash,
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
