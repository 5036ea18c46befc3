//! `/metrics` in the Prometheus text format. Process counters and latency
//! histograms live here; the queue depth, the epochs and batches by state, the
//! claims, reclaims and stuck tasks are read from the job store, so they are the
//! whole deployment's, whichever process is asked. The store is read at most
//! once per [`STORE_SCAN_TTL`] however often `/metrics` is scraped.
//! No label carries an account or epoch id.

use crate::store::Store;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the job store's figures are reused between scrapes.
pub const STORE_SCAN_TTL: Duration = Duration::from_secs(5);

/// Upper bounds of the latency histograms' buckets, seconds.
const BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0,
];

/// A latency histogram (Prometheus cumulative buckets).
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; 14],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let seconds = d.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {:.6}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// The job store's figures as last read.
#[derive(Debug, Clone)]
struct StoreFigures {
    epochs: Vec<(String, i64)>,
    tasks: Vec<(String, i64)>,
    claims: i64,
    reclaims: i64,
    stuck: i64,
}

/// Counters of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Epochs accepted by `POST /v1/epochs` (new jobs only).
    pub epochs_submitted: AtomicU64,
    /// Epochs this process verified.
    pub epochs_verified: AtomicU64,
    /// Epochs this process marked failed.
    pub epochs_failed: AtomicU64,
    /// Batches this process proved.
    pub batches_proven: AtomicU64,
    /// Microseconds this process spent proving batches.
    pub prove_micros: AtomicU64,
    /// Microseconds this process spent verifying epochs.
    pub verify_micros: AtomicU64,
    /// Proving time per batch.
    pub prove_latency: Histogram,
    /// Verification time per epoch (statement, check, inclusion proofs).
    pub verify_latency: Histogram,
    /// Submission to verified, per epoch this process verified.
    pub epoch_latency: Histogram,
    /// Batches this process released after an error.
    pub batches_released: AtomicU64,
    /// Work this process gave back unfinished at its shutdown deadline.
    pub returned_at_shutdown: AtomicU64,
    /// The last store scan and when it was made.
    scan: Mutex<Option<(Instant, StoreFigures)>>,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `micros` to `counter`.
    pub fn add(counter: &AtomicU64, micros: u64) {
        counter.fetch_add(micros, Ordering::Relaxed);
    }

    /// The job store's figures, read at most once per [`STORE_SCAN_TTL`]; `None`
    /// if the store did not answer.
    async fn store_figures(&self, store: &Store) -> Option<StoreFigures> {
        if let Ok(guard) = self.scan.lock()
            && let Some((at, figures)) = guard.as_ref()
            && at.elapsed() < STORE_SCAN_TTL
        {
            return Some(figures.clone());
        }
        let (claims, reclaims) = store.claim_totals().await.ok()?;
        let figures = StoreFigures {
            epochs: store.epoch_counts().await.ok()?,
            tasks: store.task_counts().await.ok()?,
            claims,
            reclaims,
            stuck: store.stuck_tasks().await.ok()?,
        };
        if let Ok(mut guard) = self.scan.lock() {
            *guard = Some((Instant::now(), figures.clone()));
        }
        Some(figures)
    }

    /// The exposition text.
    pub async fn render(&self, store: &Store) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counter = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        };
        counter(
            &mut out,
            "backstop_epochs_submitted_total",
            "Epochs accepted by this process.",
            get(&self.epochs_submitted).to_string(),
        );
        counter(
            &mut out,
            "backstop_epochs_verified_total",
            "Epochs verified by this process.",
            get(&self.epochs_verified).to_string(),
        );
        counter(
            &mut out,
            "backstop_epochs_failed_total",
            "Epochs failed by this process.",
            get(&self.epochs_failed).to_string(),
        );
        counter(
            &mut out,
            "backstop_batches_proven_total",
            "Batch proofs made by this process.",
            get(&self.batches_proven).to_string(),
        );
        counter(
            &mut out,
            "backstop_prove_seconds_total",
            "Seconds this process spent proving batches.",
            format!("{:.6}", get(&self.prove_micros) as f64 / 1e6),
        );
        counter(
            &mut out,
            "backstop_verify_seconds_total",
            "Seconds this process spent verifying epochs.",
            format!("{:.6}", get(&self.verify_micros) as f64 / 1e6),
        );
        counter(
            &mut out,
            "backstop_batches_released_total",
            "Batches this process released after an error (retried after a back-off).",
            get(&self.batches_released).to_string(),
        );
        counter(
            &mut out,
            "backstop_returned_at_shutdown_total",
            "Batches and verifications this process gave back unfinished at its shutdown deadline.",
            get(&self.returned_at_shutdown).to_string(),
        );
        self.prove_latency.render(
            &mut out,
            "backstop_prove_batch_seconds",
            "Time to prove one batch, in this process.",
        );
        self.verify_latency.render(
            &mut out,
            "backstop_verify_epoch_seconds",
            "Time to build, verify and publish one epoch (inclusion proofs included), in this process.",
        );
        self.epoch_latency.render(
            &mut out,
            "backstop_epoch_seconds",
            "Submission to verified, for the epochs this process verified.",
        );
        let up = match self.store_figures(store).await {
            Some(f) => {
                let gauge = |out: &mut String, name: &str, help: &str, rows: &[(String, i64)]| {
                    let _ = writeln!(out, "# HELP {name} {help}");
                    let _ = writeln!(out, "# TYPE {name} gauge");
                    for (state, n) in rows {
                        let _ = writeln!(out, "{name}{{state=\"{state}\"}} {n}");
                    }
                };
                gauge(
                    &mut out,
                    "backstop_epochs",
                    "Epochs in the job store by state.",
                    &f.epochs,
                );
                gauge(
                    &mut out,
                    "backstop_batches",
                    "Batch tasks in the job store by state.",
                    &f.tasks,
                );
                let depth: i64 = f
                    .tasks
                    .iter()
                    .filter(|(s, _)| {
                        s == super::store::task_state::QUEUED
                            || s == super::store::task_state::LEASED
                    })
                    .map(|(_, n)| n)
                    .sum();
                let single = |out: &mut String, name: &str, kind: &str, help: &str, v: i64| {
                    let _ = writeln!(out, "# HELP {name} {help}");
                    let _ = writeln!(out, "# TYPE {name} {kind}");
                    let _ = writeln!(out, "{name} {v}");
                };
                single(
                    &mut out,
                    "backstop_queue_depth",
                    "gauge",
                    "Batch tasks not yet proven (queued or leased).",
                    depth,
                );
                single(
                    &mut out,
                    "backstop_batch_claims",
                    "gauge",
                    "Claims of the batch tasks in the job store (attempts, all processes).",
                    f.claims,
                );
                single(
                    &mut out,
                    "backstop_lease_reclaims",
                    "gauge",
                    "Claims of tasks whose previous holder's lease had run out (a worker died or stalled), all processes.",
                    f.reclaims,
                );
                single(
                    &mut out,
                    "backstop_stuck_batches",
                    "gauge",
                    "Batch tasks leased to a holder whose lease has run out and not yet reclaimed.",
                    f.stuck,
                );
                1
            }
            None => 0,
        };
        let _ = writeln!(
            out,
            "# HELP backstop_store_up Whether the job store answered this scrape."
        );
        let _ = writeln!(out, "# TYPE backstop_store_up gauge");
        let _ = writeln!(out, "backstop_store_up {up}");
        out
    }
}
