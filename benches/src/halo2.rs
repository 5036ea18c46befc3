//! halo2 (IPA over Pasta) key generation, proving and verification of one batch,
//! with `halo2_proofs` directly (`Halo2BatchCircuit` of `backstop_circuits`;
//! Blake2b transcript, as `halo2_proofs`' own examples do).

use crate::BenchError;
use crate::machine::{Clocks, clocked, timed};
use crate::workload;
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::shape::CircuitShape;
use halo2_proofs::plonk::{ProvingKey, SingleVerifier, verify_proof};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Blake2bWrite, Challenge255};
use pasta_curves::EqAffine;
use pasta_curves::pallas::Base as Fp;
use rand10::SeedableRng;
use rand10::rngs::StdRng;
use serde::{Deserialize, Serialize};

fn err(e: impl std::fmt::Debug) -> BenchError {
    BenchError::Halo2(format!("{e:?}"))
}

/// Keys for one shape.
#[derive(Debug)]
pub struct Halo2Keys {
    /// The IPA parameters (`2^k` generators).
    pub params: Params<EqAffine>,
    /// The proving key (with the verifying key).
    pub pk: ProvingKey<EqAffine>,
    /// `k`.
    pub k: u32,
}

/// Makes the parameters and keys of `shape`.
pub fn keygen(shape: CircuitShape) -> Result<Halo2Keys, BenchError> {
    let k = Halo2BatchCircuit::k(shape);
    if k == 0 {
        return Err(BenchError::Halo2(format!("no layout for {}", shape.id())));
    }
    let params = Params::<EqAffine>::new(k);
    let vk = Halo2BatchCircuit::keygen_vk(&params, shape).map_err(err)?;
    let pk = Halo2BatchCircuit::keygen_pk(&params, vk, shape).map_err(err)?;
    Ok(Halo2Keys { params, pk, k })
}

/// Proves one circuit: the proof bytes.
pub fn prove(keys: &Halo2Keys, circuit: Halo2BatchCircuit) -> Result<Vec<u8>, BenchError> {
    let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(vec![]);
    circuit
        .create_proof(
            &keys.params,
            &keys.pk,
            StdRng::seed_from_u64(8),
            &mut transcript,
        )
        .map_err(err)?;
    Ok(transcript.finalize())
}

/// Verifies a proof against the public inputs `instances`.
pub fn verify(keys: &Halo2Keys, proof: &[u8], instances: &[Vec<Fp>]) -> Result<(), BenchError> {
    let columns: Vec<&[Fp]> = instances.iter().map(Vec::as_slice).collect();
    let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(proof);
    verify_proof(
        &keys.params,
        keys.pk.get_vk(),
        SingleVerifier::new(&keys.params),
        &[columns.as_slice()],
        &mut transcript,
    )
    .map_err(err)
}

/// One batch of `B` accounts end to end.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Halo2Run {
    /// `B`.
    pub batch_size: usize,
    /// `k` (`2^k` rows).
    pub k: u32,
    /// Rows the layout occupies.
    pub rows: usize,
    /// Parameters and key generation.
    pub keygen_s: f64,
    /// Proving one batch.
    pub prove: Clocks,
    /// Verifying it.
    pub verify_s: f64,
    /// The proof's size in bytes.
    pub proof_bytes: usize,
    /// Peak resident memory of the process, MiB (keys, witness, proof).
    pub peak_rss_mib: Option<f64>,
}

/// Key generation, proving and verification of the first batch of a `calm` book
/// of `B` accounts.
pub fn run(batch_size: u64) -> Result<Halo2Run, BenchError> {
    let shape = workload::shape(batch_size)?;
    let snapshot = workload::snapshot(batch_size as usize)?;
    run_on(shape, &snapshot)
}

/// Key generation, proving and verification of the first batch of `snapshot`
/// with the circuit of `shape`.
pub fn run_on(
    shape: CircuitShape,
    snapshot: &backstop_circuits::model::Snapshot,
) -> Result<Halo2Run, BenchError> {
    let batch_size = shape.batch_size().get() as u64;
    let rows = Halo2BatchCircuit::rows(shape).map_err(err)?;
    let (keys, keygen_s) = timed(|| keygen(shape));
    let keys = keys?;
    let epoch = workload::epoch_pasta(snapshot, shape);
    let batch = epoch
        .batches
        .first()
        .ok_or_else(|| BenchError::Other("an epoch without batches".into()))?;
    let circuit = Halo2BatchCircuit::new(shape, batch)?;
    let instances = circuit.public_inputs();
    let (proof, prove) = clocked(|| prove(&keys, circuit));
    let proof = proof?;
    let (ok, verify_s) = timed(|| verify(&keys, &proof, &instances));
    ok?;
    Ok(Halo2Run {
        batch_size: batch_size as usize,
        k: keys.k,
        rows,
        keygen_s,
        prove,
        verify_s,
        proof_bytes: proof.len(),
        peak_rss_mib: crate::machine::peak_rss_mib(),
    })
}
