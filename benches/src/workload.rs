//! The workloads: seeded `calm` books at `M = 8` (`backstop_fixtures`), the demo
//! venue secret, and their witnesses. The same spec always gives the same book, so
//! every run measures the same work.

use crate::BenchError;
use ark_bn254::Fr;
use backstop_circuits::hash::{Bn254Poseidon, PastaPoseidon};
use backstop_circuits::model::Snapshot;
use backstop_circuits::native::attestation::AttestationClaim;
use backstop_circuits::native::commit::{leaf_salt, secret_element};
use backstop_circuits::r1cs::attestation::{AttestationInputs, AttestationWitness};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, EpochStatement, PublicOutputs, publish};
use backstop_circuits::witness::{EpochWitness, build_epoch};
use backstop_fixtures::{FixtureSpec, Scenario, generate};

/// `M`, the market count of every measurement (the target shape).
pub const MARKETS: usize = 8;
/// The fixture seed.
pub const SEED: u64 = 8;

/// The `calm` book of `accounts` accounts at [`MARKETS`] markets.
pub fn snapshot(accounts: usize) -> Result<Snapshot, BenchError> {
    Ok(generate(&FixtureSpec {
        scenario: Scenario::Calm,
        accounts,
        markets: MARKETS,
        seed: SEED,
    })?)
}

/// The shape `B × M`.
pub fn shape(batch_size: u64) -> Result<CircuitShape, BenchError> {
    Ok(CircuitShape::new(batch_size, MARKETS)?)
}

/// The venue secret (the demo one: its value does not change any cost).
pub fn secret() -> VenueSecret {
    VenueSecret::demo()
}

/// Every batch witness of `snapshot` for the Groth16 path (BN254 Poseidon).
pub fn epoch_bn254(snapshot: &Snapshot, shape: CircuitShape) -> EpochWitness<Bn254Poseidon> {
    build_epoch::<Bn254Poseidon>(snapshot, &secret(), shape.batch_size())
}

/// Every batch witness of `snapshot` for the halo2 path (Pasta Poseidon).
pub fn epoch_pasta(snapshot: &Snapshot, shape: CircuitShape) -> EpochWitness<PastaPoseidon> {
    build_epoch::<PastaPoseidon>(snapshot, &secret(), shape.batch_size())
}

/// The statement a venue would publish for `snapshot` (no proof is needed for
/// inclusion proofs; the verifying key hash is a placeholder).
pub fn statement(snapshot: &Snapshot, shape: CircuitShape) -> Result<EpochStatement, BenchError> {
    let epoch = epoch_bn254(snapshot, shape);
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &epoch.evaluation);
    let file = publish(
        Backend::Groth16Bn254,
        shape,
        "00".repeat(32),
        snapshot.params(),
        &outputs,
        &epoch.commitment,
    );
    EpochStatement::new(file).map_err(|e| BenchError::Other(e.to_string()))
}

/// An attestation witness (`R = 1`, no equity claim) for the first account of a
/// 64-account book in batches of 8 that satisfies it.
pub fn attestation_witness() -> Result<AttestationWitness, BenchError> {
    let b = 8usize;
    let snapshot = snapshot(64)?;
    let epoch = epoch_bn254(&snapshot, shape(b as u64)?);
    let roots: Vec<Fr> = epoch.commitment.batches.iter().map(|t| t.root()).collect();
    let secret = secret_element::<Bn254Poseidon>(&secret());
    let params = snapshot.params();
    let claim = AttestationClaim {
        ratio: 10_000,
        min_equity: 0,
    };
    snapshot
        .accounts()
        .iter()
        .enumerate()
        .find_map(|(i, account)| {
            let tree = epoch.commitment.batches.get(i / b)?;
            AttestationWitness::new(AttestationInputs {
                params,
                account,
                salt: leaf_salt::<Bn254Poseidon>(secret, params.epoch(), account),
                batch_size: epoch.commitment.batch_size,
                batch: i / b,
                batch_path: &tree.path(i % b),
                batch_roots: &roots,
                claim,
                context: Fr::from(1u64),
            })
            .ok()
        })
        .ok_or_else(|| BenchError::Other("no account of the book satisfies R = 1".into()))
}

/// The batch sizes the per-batch criterion benches run: 8 and 64, and 512 when
/// `BACKSTOP_BENCH_LARGE` is set (about a minute of setup per backend).
pub fn bench_batch_sizes() -> Vec<u64> {
    let mut sizes = vec![8, 64];
    if std::env::var_os("BACKSTOP_BENCH_LARGE").is_some() {
        sizes.push(512);
    }
    sizes
}
