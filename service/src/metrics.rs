//! `/metrics` in the Prometheus text format. Process counters live here; the
//! queue depth and the epochs by state are read from the job store at each
//! scrape, so they are the whole deployment's, whichever process is asked.
//! No label carries an account or epoch id.

use crate::store::Store;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

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
        let up = match (store.epoch_counts().await, store.task_counts().await) {
            (Ok(epochs), Ok(tasks)) => {
                let _ = writeln!(
                    out,
                    "# HELP backstop_epochs Epochs in the job store by state."
                );
                let _ = writeln!(out, "# TYPE backstop_epochs gauge");
                for (state, n) in &epochs {
                    let _ = writeln!(out, "backstop_epochs{{state=\"{state}\"}} {n}");
                }
                let _ = writeln!(
                    out,
                    "# HELP backstop_batches Batch tasks in the job store by state."
                );
                let _ = writeln!(out, "# TYPE backstop_batches gauge");
                for (state, n) in &tasks {
                    let _ = writeln!(out, "backstop_batches{{state=\"{state}\"}} {n}");
                }
                let depth: i64 = tasks
                    .iter()
                    .filter(|(s, _)| {
                        s == super::store::task_state::QUEUED
                            || s == super::store::task_state::LEASED
                    })
                    .map(|(_, n)| n)
                    .sum();
                let _ = writeln!(
                    out,
                    "# HELP backstop_queue_depth Batch tasks not yet proven (queued or leased)."
                );
                let _ = writeln!(out, "# TYPE backstop_queue_depth gauge");
                let _ = writeln!(out, "backstop_queue_depth {depth}");
                1
            }
            _ => 0,
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
