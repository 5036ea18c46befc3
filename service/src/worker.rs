//! The proving loop, shared by `backstop serve` (local provers) and `backstop
//! worker`: claim a batch task, prove it, store the proof once; when an epoch's
//! batches are all proven, claim its verification, build the statement, verify
//! the epoch, write the inclusion proofs, mark it verified and delete its inputs.
//!
//! A batch's witness is rebuilt from the stored snapshot and the venue secret
//! (deterministic: `docs/SPEC.md` §5.1); the last epoch's witnesses are kept in
//! memory so that consecutive batches of one epoch build them once per process.

use crate::artifacts::{EpochKeys, PutOutcome};
use crate::metrics::Metrics;
use crate::store::{Lease, now_ms};
use crate::{Service, ServiceError};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::snapshot::parse_json;
use backstop_circuits::statement::{Backend, EpochStatement, PublicOutputs, publish};
use backstop_circuits::witness::{EpochWitness, build_epoch};
use backstop_verifier::artifacts::{
    STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, verifying_key_bytes,
};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

type Witness = Arc<EpochWitness<Bn254Poseidon>>;

/// The witnesses of the last epoch this loop worked on.
#[derive(Debug, Default)]
struct Cache {
    entry: Mutex<Option<(i64, String, Witness)>>,
}

impl Cache {
    fn get(&self, epoch: i64, hash: &str) -> Option<Witness> {
        let guard = self.entry.lock().ok()?;
        match guard.as_ref() {
            Some((e, h, w)) if *e == epoch && h == hash => Some(w.clone()),
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
pub async fn run_loop(svc: Arc<Service>, id: String, prove: bool, mut stop: watch::Receiver<bool>) {
    let cache = Arc::new(Cache::default());
    tracing::info!(worker = %id, prove, "proving loop started");
    loop {
        if *stop.borrow() {
            break;
        }
        let busy = match step(&svc, &id, prove, &cache).await {
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

/// One unit of work; `true` if there was some.
async fn step(
    svc: &Arc<Service>,
    id: &str,
    prove: bool,
    cache: &Arc<Cache>,
) -> Result<bool, ServiceError> {
    let shape = svc.shape.id();
    if prove
        && let Some(lease) = svc
            .store
            .claim_task(id, &shape, &svc.secret_id, svc.loops.lease)
            .await?
    {
        prove_task(svc, id, &lease, cache).await?;
        return Ok(true);
    }
    if let Some(epoch) = svc
        .store
        .claim_finalization(id, &shape, &svc.secret_id, svc.loops.lease)
        .await?
    {
        finalize(svc, id, epoch, cache).await?;
        return Ok(true);
    }
    delete_finished_inputs(svc).await?;
    Ok(false)
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
    let cached = cache.get(epoch, &row.content_hash);
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
            None => Arc::new(build_epoch::<Bn254Poseidon>(
                &snapshot,
                &svc2.secret,
                svc2.shape.batch_size(),
            )),
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
    lease: &Lease,
    cache: &Arc<Cache>,
) -> Result<(), ServiceError> {
    let key = EpochKeys(lease.epoch).proof(lease.batch);
    tracing::info!(worker = %id, epoch = lease.epoch, batch = lease.batch, attempt = lease.attempt, "claimed batch");
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
    let result = async {
        let (w, _) = witness(svc, lease.epoch, cache).await?;
        let svc2 = svc.clone();
        let batch = usize::try_from(lease.batch).unwrap_or(usize::MAX);
        let started = Instant::now();
        let proof = tokio::task::spawn_blocking(move || -> Result<_, ServiceError> {
            std::thread::sleep(svc2.loops.batch_delay);
            let witness = w.batches.get(batch).ok_or_else(|| {
                ServiceError::Config(format!(
                    "batch {batch} is outside the epoch's {} batches",
                    w.batches.len()
                ))
            })?;
            Ok(backstop_prover::groth16::prove_batch(&svc2.keys, witness)?)
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
        Ok::<_, ServiceError>((proof, started.elapsed()))
    }
    .await;
    done.store(true, Ordering::SeqCst);
    match result {
        Ok((proof, elapsed)) => {
            if lost.load(Ordering::SeqCst) {
                tracing::warn!(
                    epoch = lease.epoch,
                    batch = lease.batch,
                    "lease lost while proving; offering the proof anyway (first stored wins)"
                );
            }
            let outcome = svc.artifacts.put_new(&key, &proof_bytes(&proof))?;
            let stored = outcome == PutOutcome::Stored;
            let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
            svc.store.complete_task(id, lease, stored, ms).await?;
            Metrics::inc(&svc.metrics.batches_proven);
            Metrics::add(
                &svc.metrics.prove_micros,
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
            tracing::info!(worker = %id, epoch = lease.epoch, batch = lease.batch, prove_ms = ms, stored, "batch proven");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(worker = %id, epoch = lease.epoch, batch = lease.batch, error = %e, "batch failed; releasing it");
            svc.store
                .release_task(id, lease, &e.to_string(), svc.loops.max_attempts)
                .await
        }
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
) -> Result<(), ServiceError> {
    tracing::info!(worker = %id, epoch, "all batches proven: building and verifying the epoch");
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
    let result = async {
        let (w, snapshot) = witness(svc, epoch, cache).await?;
        let svc2 = svc.clone();
        tokio::task::spawn_blocking(move || build_and_verify(&svc2, epoch, &w, &snapshot))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?
    }
    .await;
    done.store(true, Ordering::SeqCst);
    match result {
        Ok(Finalized::Verified) => {
            if svc.store.mark_verified(id, epoch).await? {
                Metrics::inc(&svc.metrics.epochs_verified);
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

/// Writes the statement and key, verifies the whole epoch from the store's
/// copy, and writes every inclusion proof.
fn build_and_verify(
    svc: &Service,
    epoch: i64,
    w: &EpochWitness<Bn254Poseidon>,
    snapshot: &backstop_circuits::model::Snapshot,
) -> Result<Finalized, ServiceError> {
    let keys = EpochKeys(epoch);
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &w.evaluation);
    let mut statement = publish(
        Backend::Groth16Bn254,
        svc.shape,
        svc.keys.verifying_key_hash().to_owned(),
        snapshot.params(),
        &outputs,
        &w.commitment,
    );
    svc.venue.sign(&mut statement)?;
    let vk = &svc.keys.proving_key().vk;
    svc.artifacts.put(
        &keys.public_file(VERIFYING_KEY_FILE),
        &verifying_key_bytes(vk),
    )?;
    svc.artifacts.put(
        &keys.public_file(STATEMENT_FILE),
        &backstop_prover::output::json_bytes(&statement),
    )?;
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
    if let Err(e) = backstop_verifier::verify_groth16(&statement, &proofs, vk) {
        return Ok(Finalized::Refused(format!("verification failed: {e}")));
    }
    let tmp = tempfile::tempdir().map_err(|e| ServiceError::io("temporary directory", e))?;
    let inclusion = tmp.path().join("inclusion");
    let venue = backstop_prover::inclusion::VenueEpoch::<Bn254Poseidon>::new(
        snapshot,
        &statement,
        &svc.secret,
        Path::new("snapshot.json"),
    );
    match venue.and_then(|v| v.prove_all(&inclusion)) {
        Ok(_) => {}
        Err(e) => return Ok(Finalized::Refused(format!("inclusion proofs: {e}"))),
    }
    let entries = std::fs::read_dir(&inclusion).map_err(|e| ServiceError::io(&inclusion, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ServiceError::io(&inclusion, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).map_err(|e| ServiceError::io(entry.path(), e))?;
        svc.artifacts.put(&keys.inclusion_file(&name), &bytes)?;
    }
    Ok(Finalized::Verified)
}

/// Deletes the snapshots of finished epochs not marked for retention.
async fn delete_finished_inputs(svc: &Arc<Service>) -> Result<(), ServiceError> {
    for (epoch, _) in svc.store.inputs_to_delete().await? {
        svc.artifacts.delete_prefix(&EpochKeys(epoch).inputs())?;
        svc.store.mark_inputs_deleted(epoch).await?;
        tracing::info!(
            epoch,
            at_ms = now_ms(),
            "deleted the epoch's inputs (retention: not retained)"
        );
    }
    Ok(())
}
