//! The proving loop, shared by `backstop serve` (local provers) and `backstop
//! worker`: claim a batch task, prove it, store the proof once; when an epoch's
//! batches are all proven, claim its verification, build the statement, verify
//! the epoch, write the inclusion proofs, mark it verified and delete its inputs.
//!
//! A batch's witness is rebuilt from the stored snapshot and the venue secret
//! (deterministic: `docs/SPEC.md` §5.1); the last epoch's witnesses are kept in
//! memory so that consecutive batches of one epoch build them once per process.

use crate::artifacts::{EpochKeys, PutOutcome, put_once};
use crate::backends::split_job_shape;
use crate::metrics::Metrics;
use crate::store::{Blame, Fence, Lease, now_ms};
use crate::{Service, ServiceError};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::snapshot::parse_json;
use backstop_circuits::statement::{Backend, EpochStatement, PublicOutputs, publish};
use backstop_circuits::witness::{EpochWitness, build_epoch};
use backstop_prover::inclusion::InclusionSinkError;
use backstop_verifier::VerifyError;
use backstop_verifier::artifacts::{
    STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, verifying_key_bytes,
};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// An epoch's witnesses, in the field of the backend it is proven with.
#[derive(Debug, Clone)]
enum Witness {
    Groth16(Arc<EpochWitness<Bn254Poseidon>>),
    Halo2(Arc<EpochWitness<PastaPoseidon>>),
}

impl Witness {
    fn build(
        backend: Backend,
        snapshot: &backstop_circuits::model::Snapshot,
        svc: &Service,
    ) -> Self {
        let (secret, b) = (&svc.secret, svc.shape.batch_size());
        match backend {
            Backend::Groth16Bn254 => {
                Self::Groth16(Arc::new(build_epoch::<Bn254Poseidon>(snapshot, secret, b)))
            }
            Backend::Halo2Pasta => {
                Self::Halo2(Arc::new(build_epoch::<PastaPoseidon>(snapshot, secret, b)))
            }
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Self::Groth16(_) => Backend::Groth16Bn254,
            Self::Halo2(_) => Backend::Halo2Pasta,
        }
    }
}

/// The witnesses of the last epoch this loop worked on, and which backend the
/// loop looks at first next (they take turns, so that a queue of one backend's
/// batches does not hold the other's back).
#[derive(Debug, Default)]
struct Cache {
    entry: Mutex<Option<(i64, String, Witness)>>,
    turn: AtomicUsize,
}

impl Cache {
    fn get(&self, epoch: i64, hash: &str, backend: Backend) -> Option<Witness> {
        let guard = self.entry.lock().ok()?;
        match guard.as_ref() {
            Some((e, h, w)) if *e == epoch && h == hash && w.backend() == backend => {
                Some(w.clone())
            }
            _ => None,
        }
    }
    fn put(&self, epoch: i64, hash: String, w: Witness) {
        if let Ok(mut guard) = self.entry.lock() {
            *guard = Some((epoch, hash, w));
        }
    }
}

/// Runs until `stop` turns true; `prove` false only verifies finished epochs.
/// Work in progress when `stop` turns true runs on for the shutdown grace period,
/// then its lease is given back unfinished.
pub async fn run_loop(svc: Arc<Service>, id: String, prove: bool, mut stop: watch::Receiver<bool>) {
    let cache = Arc::new(Cache::default());
    tracing::info!(worker = %id, prove, "proving loop started");
    loop {
        if *stop.borrow() {
            break;
        }
        let busy = match step(&svc, &id, prove, &cache, &stop).await {
            Ok(busy) => busy,
            Err(e) => {
                tracing::warn!(worker = %id, error = %e, "proving loop step failed; retrying");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(svc.loops.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
    tracing::info!(worker = %id, "proving loop stopped");
}

/// Resolves when `stop` has been true for `grace`.
async fn grace_expired(mut stop: watch::Receiver<bool>, grace: std::time::Duration) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            // The sender is gone without a stop: never expire.
            std::future::pending::<()>().await;
        }
    }
    tokio::time::sleep(grace).await;
}

/// One unit of work; `true` if there was some. Verifications come first: they
/// are short and publish a finished epoch, and must not wait behind a queue of
/// batches.
async fn step(
    svc: &Arc<Service>,
    id: &str,
    prove: bool,
    cache: &Arc<Cache>,
    stop: &watch::Receiver<bool>,
) -> Result<bool, ServiceError> {
    let fences = fences(svc, cache).await?;
    for (_, fence) in &fences {
        if let Some(epoch) = svc
            .store
            .claim_finalization(id, fence, svc.loops.lease)
            .await?
        {
            finalize(svc, id, epoch, cache, stop).await?;
            return Ok(true);
        }
    }
    if prove {
        for (backend, fence) in &fences {
            if let Some(lease) = svc
                .store
                .claim_task(id, fence, svc.loops.lease, svc.loops.max_attempts)
                .await?
            {
                prove_task(svc, id, *backend, &lease, cache, stop).await?;
                return Ok(true);
            }
        }
    }
    for (_, fence) in &fences {
        for epoch in svc
            .store
            .fail_exhausted(fence, svc.loops.max_attempts)
            .await?
        {
            Metrics::inc(&svc.metrics.epochs_failed);
            tracing::error!(worker = %id, epoch, "epoch failed: a batch used up its attempts");
        }
    }
    delete_finished_inputs(svc).await?;
    sweep_leftovers(svc).await?;
    Ok(false)
}

/// The fences this loop claims with, in the order it tries them (the backends
/// take turns). The halo2 keys are derived here, once per process, when a halo2
/// epoch of this process's shape and secret is waiting and they are not yet.
/// A failed derivation is logged and tried again at the next step; the Groth16
/// work goes on meanwhile.
async fn fences(svc: &Arc<Service>, cache: &Cache) -> Result<Vec<(Backend, Fence)>, ServiceError> {
    if svc.halo2.get().is_none()
        && svc
            .store
            .has_open_epochs(&svc.halo2.job_shape(), &svc.secret_id)
            .await?
        && let Err(e) = svc.halo2.keys().await
    {
        tracing::warn!(error = %e, "a halo2 epoch is waiting but the halo2 keys could not be derived; retrying");
    }
    let mut fences = svc.fences();
    if !fences.is_empty() {
        let turn = cache.turn.fetch_add(1, Ordering::Relaxed) % fences.len();
        fences.rotate_left(turn);
    }
    Ok(fences)
}

/// How often an idle process sweeps leftovers, at most (more often when the
/// leftover age is shorter).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes, once they are older than the leftover age: temporary files a killed
/// writer left in the artifact store, and the snapshot of a submission whose
/// process died before the job was recorded (an epoch directory the job store
/// does not know). At most once per [`SWEEP_EVERY`] (or the leftover age, if
/// shorter) per process.
async fn sweep_leftovers(svc: &Arc<Service>) -> Result<(), ServiceError> {
    {
        let Ok(mut last) = svc.last_sweep.lock() else {
            return Ok(());
        };
        let every = SWEEP_EVERY.min(svc.loops.leftover_age);
        if last.is_some_and(|at| at.elapsed() < every) {
            return Ok(());
        }
        *last = Some(Instant::now());
    }
    let age = svc.loops.leftover_age;
    let artifacts = svc.artifacts.clone();
    let (temporaries, epochs) = tokio::task::spawn_blocking(move || {
        Ok::<_, ServiceError>((
            artifacts.sweep_temporaries(age)?,
            artifacts.children("epochs")?,
        ))
    })
    .await
    .map_err(|e| ServiceError::Task(e.to_string()))??;
    if temporaries > 0 {
        tracing::info!(
            temporaries,
            "removed temporary files left by killed writers"
        );
    }
    for (name, dir_age) in epochs {
        let Ok(epoch) = name.parse::<i64>() else {
            continue;
        };
        if dir_age < age || svc.store.epoch(epoch).await?.is_some() {
            continue;
        }
        // Checked again just before: a submission may have been recorded since.
        let keys = EpochKeys(epoch);
        let recent = svc
            .artifacts
            .children(&keys.inputs())?
            .iter()
            .any(|(_, a)| *a < age);
        if recent || svc.store.epoch(epoch).await?.is_some() {
            continue;
        }
        svc.artifacts.delete_prefix(&format!("epochs/{epoch}"))?;
        tracing::info!(
            epoch,
            "removed the snapshot of a submission that was never recorded"
        );
    }
    Ok(())
}

/// Runs `beat` every heartbeat period until the returned flag is set; sets
/// `lost` when `beat` says the lease is gone.
fn heartbeat<F, Fut>(svc: &Arc<Service>, beat: F) -> (Arc<AtomicBool>, Arc<AtomicBool>)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<bool, ServiceError>> + Send,
{
    let done = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicBool::new(false));
    let (d, l) = (done.clone(), lost.clone());
    let period = svc.loops.heartbeat;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            if d.load(Ordering::SeqCst) {
                break;
            }
            match beat().await {
                Ok(true) => {}
                Ok(false) => {
                    l.store(true, Ordering::SeqCst);
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
        }
    });
    (done, lost)
}

/// The epoch's witnesses: from the cache, or rebuilt from the stored snapshot.
async fn witness(
    svc: &Arc<Service>,
    epoch: i64,
    cache: &Arc<Cache>,
) -> Result<(Witness, Arc<backstop_circuits::model::Snapshot>), ServiceError> {
    let row = svc.store.epoch(epoch).await?.ok_or_else(|| {
        ServiceError::Config(format!("epoch {epoch} vanished from the job store"))
    })?;
    let svc2 = svc.clone();
    let (backend, _) = split_job_shape(&row.shape);
    let cached = cache.get(epoch, &row.content_hash, backend);
    let hash = row.content_hash.clone();
    let (w, snapshot) = tokio::task::spawn_blocking(move || -> Result<_, ServiceError> {
        let key = EpochKeys(epoch).snapshot(&hash);
        let bytes = svc2.artifacts.get(&key)?.ok_or_else(|| {
            ServiceError::Config(format!(
                "epoch {epoch}: the snapshot {key} is missing from the artifact store"
            ))
        })?;
        let snapshot = parse_json(&bytes, "snapshot.json")
            .map_err(backstop_prover::ProverError::from)?
            .with_venue(svc2.venue.address());
        let w = match cached {
            Some(w) => w,
            None => Witness::build(backend, &snapshot, &svc2),
        };
        Ok((w, Arc::new(snapshot)))
    })
    .await
    .map_err(|e| ServiceError::Task(e.to_string()))??;
    cache.put(epoch, row.content_hash, w.clone());
    Ok((w, snapshot))
}

async fn prove_task(
    svc: &Arc<Service>,
    id: &str,
    backend: Backend,
    lease: &Lease,
    cache: &Arc<Cache>,
    stop: &watch::Receiver<bool>,
) -> Result<(), ServiceError> {
    let key = EpochKeys(lease.epoch).proof(lease.batch);
    tracing::info!(worker = %id, epoch = lease.epoch, batch = lease.batch, attempt = lease.attempt, "claimed batch");
    crate::faults::point("task.after_claim");
    // A holder that died after storing the proof but before recording it: record it.
    if svc.artifacts.exists(&key)? {
        tracing::info!(
            epoch = lease.epoch,
            batch = lease.batch,
            "proof already stored; recording it"
        );
        return svc.store.complete_task(id, lease, true, 0).await;
    }
    let (done, lost) = {
        let (svc2, id2, lease2) = (svc.clone(), id.to_owned(), lease.clone());
        heartbeat(svc, move || {
            let (svc3, id3, lease3) = (svc2.clone(), id2.clone(), lease2.clone());
            async move { svc3.store.heartbeat(&id3, &lease3, svc3.loops.lease).await }
        })
    };
    let proving = async {
        let (w, _) = witness(svc, lease.epoch, cache).await?;
        let svc2 = svc.clone();
        let batch = usize::try_from(lease.batch).unwrap_or(usize::MAX);
        let started = Instant::now();
        let proof = tokio::task::spawn_blocking(move || -> Result<_, ServiceError> {
            std::thread::sleep(svc2.loops.batch_delay);
            prove_batch(&svc2, backend, &w, batch)
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
        Ok::<_, ServiceError>((proof, started.elapsed()))
    };
    let result = tokio::select! {
        r = proving => r,
        () = grace_expired(stop.clone(), svc.loops.shutdown_grace) => {
            done.store(true, Ordering::SeqCst);
            let returned = svc.store.return_task(id, lease).await?;
            Metrics::inc(&svc.metrics.returned_at_shutdown);
            tracing::warn!(worker = %id, epoch = lease.epoch, batch = lease.batch, returned, "shutdown deadline: batch given back unproven");
            return Ok(());
        }
    };
    done.store(true, Ordering::SeqCst);
    // A proof that cannot be stored (a full disk) is released like a failed
    // attempt, but not counted against the batch (its blame is the store's).
    let stored = match result {
        Ok((proof, elapsed)) => {
            if lost.load(Ordering::SeqCst) {
                tracing::warn!(
                    epoch = lease.epoch,
                    batch = lease.batch,
                    "lease lost while proving; offering the proof anyway (first stored wins)"
                );
            }
            crate::faults::point("task.after_prove");
            svc.artifacts
                .put_new(&key, &proof)
                .map(|outcome| (outcome, elapsed))
        }
        Err(e) => Err(e),
    };
    match stored {
        Ok((outcome, elapsed)) => {
            crate::faults::point("task.after_store");
            let stored = outcome == PutOutcome::Stored;
            let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
            svc.store.complete_task(id, lease, stored, ms).await?;
            crate::faults::point("task.after_complete");
            Metrics::inc(&svc.metrics.batches_proven);
            svc.metrics.prove_latency.observe(elapsed);
            Metrics::add(
                &svc.metrics.prove_micros,
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
            tracing::info!(worker = %id, epoch = lease.epoch, batch = lease.batch, prove_ms = ms, stored, "batch proven");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(worker = %id, epoch = lease.epoch, batch = lease.batch, error = %e, "batch failed; releasing it");
            Metrics::inc(&svc.metrics.batches_released);
            let blame = match e {
                ServiceError::Io { .. } | ServiceError::Db(_) => Blame::Surroundings,
                _ => Blame::Batch,
            };
            svc.store
                .release_task(
                    id,
                    lease,
                    &e.to_string(),
                    blame,
                    svc.loops.max_attempts,
                    svc.loops.backoff(lease.attempt),
                )
                .await
        }
    }
}

/// Proves batch `batch` of an epoch of `backend`: the proof's bytes as
/// `proofs/batch-NNNNNN.bin` holds them.
fn prove_batch(
    svc: &Service,
    backend: Backend,
    w: &Witness,
    batch: usize,
) -> Result<Vec<u8>, ServiceError> {
    fn get<H: FieldHasher>(
        w: &EpochWitness<H>,
        batch: usize,
    ) -> Result<&backstop_circuits::witness::BatchWitness<H::F>, ServiceError> {
        w.batches.get(batch).ok_or_else(|| {
            ServiceError::Config(format!(
                "batch {batch} is outside the epoch's {} batches",
                w.batches.len()
            ))
        })
    }
    match (backend, w) {
        (Backend::Groth16Bn254, Witness::Groth16(w)) => Ok(proof_bytes(
            &backstop_prover::groth16::prove_batch(&svc.keys, get(w, batch)?)?,
        )),
        (Backend::Halo2Pasta, Witness::Halo2(w)) => {
            let keys = svc.halo2.get().ok_or_else(|| {
                ServiceError::Config(
                    "a halo2 batch was claimed before the halo2 keys were derived".into(),
                )
            })?;
            Ok(backstop_prover::halo2::prove_batch(keys, get(w, batch)?)?)
        }
        (backend, w) => Err(ServiceError::Config(format!(
            "a {backend} batch was given {} witnesses",
            w.backend()
        ))),
    }
}

/// What verifying an epoch came to.
enum Finalized {
    Verified,
    /// The epoch is wrong: fail it.
    Refused(String),
}

async fn finalize(
    svc: &Arc<Service>,
    id: &str,
    epoch: i64,
    cache: &Arc<Cache>,
    stop: &watch::Receiver<bool>,
) -> Result<(), ServiceError> {
    tracing::info!(worker = %id, epoch, "all batches proven: building and verifying the epoch");
    crate::faults::point("verify.after_claim");
    let (done, _lost) = {
        let (svc2, id2) = (svc.clone(), id.to_owned());
        heartbeat(svc, move || {
            let (svc3, id3) = (svc2.clone(), id2.clone());
            async move {
                svc3.store
                    .heartbeat_finalization(&id3, epoch, svc3.loops.lease)
                    .await
            }
        })
    };
    let started = Instant::now();
    let verifying = async {
        let (w, snapshot) = witness(svc, epoch, cache).await?;
        let svc2 = svc.clone();
        tokio::task::spawn_blocking(move || build_and_verify(&svc2, epoch, &w, &snapshot))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?
    };
    let result = tokio::select! {
        r = verifying => r,
        () = grace_expired(stop.clone(), svc.loops.shutdown_grace) => {
            done.store(true, Ordering::SeqCst);
            let returned = svc.store.return_finalization(id, epoch).await?;
            Metrics::inc(&svc.metrics.returned_at_shutdown);
            tracing::warn!(worker = %id, epoch, returned, "shutdown deadline: verification given back unfinished");
            return Ok(());
        }
    };
    done.store(true, Ordering::SeqCst);
    match result {
        Ok(Finalized::Verified) => {
            if svc.store.mark_verified(id, epoch).await? {
                crate::faults::point("verify.after_mark");
                Metrics::inc(&svc.metrics.epochs_verified);
                svc.metrics.verify_latency.observe(started.elapsed());
                if let Some(row) = svc.store.epoch(epoch).await?
                    && let Some(finished) = row.finished_ms
                {
                    let ms = u64::try_from(finished.saturating_sub(row.submitted_ms)).unwrap_or(0);
                    svc.metrics
                        .epoch_latency
                        .observe(std::time::Duration::from_millis(ms));
                }
                Metrics::add(
                    &svc.metrics.verify_micros,
                    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                );
                tracing::info!(worker = %id, epoch, seconds = started.elapsed().as_secs_f64(), "epoch verified");
                delete_finished_inputs(svc).await?;
            }
            Ok(())
        }
        Ok(Finalized::Refused(reason)) => {
            tracing::error!(worker = %id, epoch, %reason, "epoch failed verification");
            Metrics::inc(&svc.metrics.epochs_failed);
            svc.store.fail_epoch(epoch, &reason).await
        }
        // Transient (IO, database): the lease runs out and the verification is retried.
        Err(e) => Err(e),
    }
}

/// The verifier's in-memory check of a statement and its batch proofs.
type VerifyEpoch<'a> = &'a dyn Fn(&EpochStatement, &[Vec<u8>]) -> Result<(), VerifyError>;

/// What a backend publishes and how the published epoch is checked.
struct Publication<'a> {
    backend: Backend,
    /// The verifying key hash the statement names.
    key_hash: &'a str,
    /// The key material published beside the statement (Groth16: the verifying
    /// key; halo2: none, verifiers derive the key from the shape).
    key_files: Vec<(&'static str, Vec<u8>)>,
    /// The verifier's in-memory check of the statement and the batch proofs.
    verify: VerifyEpoch<'a>,
}

/// Writes the statement (and the key, for Groth16), verifies the whole epoch
/// from the store's copy, and writes every inclusion proof.
fn build_and_verify(
    svc: &Service,
    epoch: i64,
    w: &Witness,
    snapshot: &backstop_circuits::model::Snapshot,
) -> Result<Finalized, ServiceError> {
    match w {
        Witness::Groth16(w) => {
            let vk = &svc.keys.proving_key().vk;
            let publication = Publication {
                backend: Backend::Groth16Bn254,
                key_hash: svc.keys.verifying_key_hash(),
                key_files: vec![(VERIFYING_KEY_FILE, verifying_key_bytes(vk))],
                verify: &|statement, proofs| {
                    backstop_verifier::verify_groth16(statement, proofs, vk)
                },
            };
            publish_and_verify(svc, epoch, w, snapshot, &publication)
        }
        Witness::Halo2(w) => {
            let keys = svc.halo2.get().ok_or_else(|| {
                ServiceError::Config(
                    "a halo2 verification was claimed before the halo2 keys were derived".into(),
                )
            })?;
            let publication = Publication {
                backend: Backend::Halo2Pasta,
                key_hash: keys.verifying_key_hash(),
                key_files: Vec::new(),
                verify: &|statement, proofs| {
                    backstop_verifier::halo2::verify_halo2(statement, proofs, keys.verifier_keys())
                },
            };
            publish_and_verify(svc, epoch, w, snapshot, &publication)
        }
    }
}

/// [`build_and_verify`] with the witnesses' field `H` and the backend's
/// [`Publication`].
fn publish_and_verify<H: FieldHasher>(
    svc: &Service,
    epoch: i64,
    w: &EpochWitness<H>,
    snapshot: &backstop_circuits::model::Snapshot,
    publication: &Publication<'_>,
) -> Result<Finalized, ServiceError> {
    let keys = EpochKeys(epoch);
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &w.evaluation);
    let mut statement = publish(
        publication.backend,
        svc.shape,
        publication.key_hash.to_owned(),
        snapshot.params(),
        &outputs,
        &w.commitment,
    );
    svc.venue.sign(&mut statement)?;
    // Write-once: a retried verification publishes the same bytes (the statement
    // and its RFC 6979 signature are deterministic); anything else already there
    // was published by another key or venue, and is never replaced.
    let statement_file = (
        STATEMENT_FILE,
        backstop_prover::output::json_bytes(&statement),
    );
    for (name, bytes) in publication.key_files.iter().chain([&statement_file]) {
        let key = keys.public_file(name);
        crate::faults::point("verify.before_publish");
        if put_once(svc.artifacts.as_ref(), &key, bytes)? == PutOutcome::Differs {
            return Ok(Finalized::Refused(format!(
                "{name} is already published with other content, which is never replaced"
            )));
        }
    }
    crate::faults::point("verify.after_publish");
    // Verify what was published, in memory: the stored statement and every stored
    // batch proof, against the public inputs the verifier computes itself.
    let published = svc
        .artifacts
        .get(&keys.public_file(STATEMENT_FILE))?
        .ok_or_else(|| ServiceError::Task("statement.json vanished from the store".into()))?;
    let statement = match EpochStatement::from_json(&published) {
        Ok(s) => s,
        Err(e) => return Ok(Finalized::Refused(format!("statement.json: {e}"))),
    };
    let proofs = (0..statement.file().batch_count)
        .map(|b| {
            let key = keys.proof(i64::try_from(b).unwrap_or(i64::MAX));
            svc.artifacts
                .get(&key)?
                .ok_or_else(|| ServiceError::Task(format!("{key} is missing from the store")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = (publication.verify)(&statement, &proofs) {
        return Ok(Finalized::Refused(format!("verification failed: {e}")));
    }
    crate::faults::point("verify.after_check");
    // Every inclusion proof straight into the artifact store (no temporary copy
    // outside it); a failure to store one is transient and the verification is
    // retried, the snapshot not matching the proven commitment is not.
    let venue = match backstop_prover::inclusion::VenueEpoch::<H>::new(
        snapshot,
        &statement,
        &svc.secret,
        Path::new("snapshot.json"),
    ) {
        Ok(v) => v,
        Err(e) => return Ok(Finalized::Refused(format!("inclusion proofs: {e}"))),
    };
    let put = |name: &str, bytes: &[u8]| -> Result<(), ServiceError> {
        crate::faults::point("verify.inclusion_put");
        svc.artifacts.put(&keys.inclusion_file(name), bytes)
    };
    match venue.prove_each(&put) {
        Ok(_) => {}
        Err(InclusionSinkError::Prover(e)) => {
            return Ok(Finalized::Refused(format!("inclusion proofs: {e}")));
        }
        Err(InclusionSinkError::Sink(e)) => return Err(e),
    }
    crate::faults::point("verify.after_inclusion");
    Ok(Finalized::Verified)
}

/// Deletes the snapshots of finished epochs not marked for retention.
async fn delete_finished_inputs(svc: &Arc<Service>) -> Result<(), ServiceError> {
    let mut finished = Vec::new();
    for (_, fence) in svc.fences() {
        finished.extend(
            svc.store
                .inputs_to_delete(&fence, svc.loops.failed_retention)
                .await?,
        );
    }
    for (epoch, verified) in finished {
        svc.artifacts.delete_prefix(&EpochKeys(epoch).inputs())?;
        if !verified {
            // A failed epoch's inclusion proofs (if its verification got that far)
            // hold account data and are never served: they go with its inputs.
            svc.artifacts.delete_prefix(&EpochKeys(epoch).inclusion())?;
        }
        crate::faults::point("inputs.after_delete");
        svc.store.mark_inputs_deleted(epoch).await?;
        tracing::info!(
            epoch,
            at_ms = now_ms(),
            "deleted the epoch's inputs (retention: not retained)"
        );
    }
    Ok(())
}
