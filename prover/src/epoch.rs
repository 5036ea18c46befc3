//! What proving an epoch means for either backend: check the shape against the
//! snapshot, build the witnesses (`docs/SPEC.md` §6), prove every batch in parallel,
//! and publish the statement (§7).

use crate::error::ProverError;
use backstop_circuits::hash::FieldHasher;
use backstop_circuits::model::Snapshot;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, PublicOutputs, StatementFile, publish};
use backstop_circuits::witness::{BatchWitness, build_epoch};
use rayon::prelude::*;

/// Proves every batch of `snapshot` for `shape` with `prove_batch`, in parallel,
/// calling `on_batch` as each one finishes (from worker threads), and returns the
/// statement to publish with the proofs in batch order.
pub(crate) fn prove_batches<H: FieldHasher, P: Send>(
    snapshot: &Snapshot,
    secret: &VenueSecret,
    shape: CircuitShape,
    backend: Backend,
    verifying_key_hash: &str,
    prove_batch: impl Fn(&BatchWitness<H::F>) -> Result<P, ProverError> + Sync,
    on_batch: &(dyn Fn(u64) + Sync),
) -> Result<(StatementFile, Vec<P>), ProverError> {
    if let Err(e) = shape.check_params(snapshot.params()) {
        return Err(ProverError::Refused(format!(
            "the keys do not fit the snapshot: {e}"
        )));
    }
    let epoch = build_epoch::<H>(snapshot, secret, shape.batch_size());
    // At most one batch per thread in flight. arkworks' MSM runs each chunk in a thread
    // pool of its own (`install`); the worker that called it waits, and while waiting
    // runs other jobs of its own pool. Under a plain `par_iter` over every batch those
    // jobs are further batches, so a large epoch had dozens of provers (about 1 GiB each
    // at B = 512) alive at once. In chunks, the only other jobs are this chunk's.
    let in_flight = rayon::current_num_threads().max(1);
    let mut proofs = Vec::with_capacity(epoch.batches.len());
    for chunk in epoch.batches.chunks(in_flight) {
        let done = chunk
            .par_iter()
            .map(|w| {
                let proof = prove_batch(w);
                on_batch(w.batch());
                proof
            })
            .collect::<Result<Vec<_>, _>>()?;
        proofs.extend(done);
    }
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &epoch.evaluation);
    let statement = publish(
        backend,
        shape,
        verifying_key_hash.to_owned(),
        snapshot.params(),
        &outputs,
        &epoch.commitment,
    );
    Ok((statement, proofs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use backstop_circuits::hash::Bn254Poseidon;
    use backstop_fixtures::{FixtureSpec, Scenario, generate};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// However the pool's workers steal, no more batches are being proven at once than
    /// the pool has threads: 32 batches whose stand-in prover, like arkworks' MSM, runs
    /// work in pools of its own, so a worker waits in `install` and, waiting, takes
    /// other jobs of its pool (with a plain `par_iter`, other batches).
    #[test]
    fn at_most_one_batch_per_thread_is_in_flight() {
        let snapshot = generate(&FixtureSpec {
            scenario: Scenario::Calm,
            accounts: 256,
            markets: 2,
            seed: 1,
        })
        .unwrap();
        let shape = CircuitShape::new(8, 2).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (in_flight, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let (_, proofs) = pool
            .install(|| {
                prove_batches::<Bn254Poseidon, _>(
                    &snapshot,
                    &VenueSecret::demo(),
                    shape,
                    Backend::Groth16Bn254,
                    "",
                    |w| {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // arkworks' MSM installs each chunk into a pool of its own;
                        // the calling worker waits, and may run other jobs meanwhile.
                        for _ in 0..4 {
                            rayon::ThreadPoolBuilder::new()
                                .num_threads(1)
                                .build()
                                .unwrap()
                                .install(|| {
                                    std::thread::sleep(std::time::Duration::from_millis(2))
                                });
                        }
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        Ok(w.batch())
                    },
                    &|_| {},
                )
            })
            .unwrap();
        assert_eq!(proofs, (0..32).collect::<Vec<u64>>());
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "{} batches at once",
            most.load(Ordering::SeqCst)
        );
    }
}
