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
    if snapshot.params().markets().len() != shape.markets() {
        return Err(ProverError::Usage(format!(
            "the snapshot has {} markets but the keys are for shape {}",
            snapshot.params().markets().len(),
            shape.id()
        )));
    }
    let epoch = build_epoch::<H>(snapshot, secret, shape.batch_size());
    // At most one batch per thread in flight. A plain `par_iter` over every batch lets
    // a worker that waits inside one proof's `join` steal and start another batch, so
    // a large epoch had dozens of provers (about 1 GiB each at B = 512) alive at once;
    // in chunks, a thread whose batch is done helps the others finish theirs instead.
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
