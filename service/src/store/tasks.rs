//! Batch tasks and their leases: claim, heartbeat, completion, release.

use super::{Param, Store, ms, now_ms, state};
use crate::ServiceError;
use sqlx::Row;
use std::time::Duration;

/// A batch task's states.
pub mod task_state {
    /// Waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// Claimed by a worker until its lease runs out.
    pub const LEASED: &str = "leased";
    /// Its proof is in the artifact store.
    pub const DONE: &str = "done";
    /// Its epoch failed.
    pub const CANCELLED: &str = "cancelled";
}

/// A batch task row.
#[derive(Debug, Clone)]
pub struct TaskRow {
    /// The batch index.
    pub batch: i64,
    /// See [`task_state`].
    pub state: String,
    /// How many times it was claimed.
    pub attempts: i64,
    /// How many proofs of it were stored (1 once done).
    pub proofs_stored: i64,
    /// Milliseconds spent proving it (the successful attempt).
    pub prove_ms: i64,
    /// The worker that holds or last held it.
    pub worker: Option<String>,
}

/// A claimed batch task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The epoch id.
    pub epoch: i64,
    /// The batch index.
    pub batch: i64,
    /// The claim number, the lease's fencing token with the worker id.
    pub attempt: i64,
}

/// The condition that `worker` still holds `lease` (its fencing token), and its
/// parameters: a heartbeat or release from a worker that lost the lease matches
/// no row.
const HELD: &str = "epoch = ? AND batch = ? AND worker = ? AND attempts = ? AND state = ?";

impl Lease {
    fn held_by<'a>(&self, worker: &'a str) -> [Param<'a>; 5] {
        [
            self.epoch.into(),
            self.batch.into(),
            worker.into(),
            self.attempt.into(),
            task_state::LEASED.into(),
        ]
    }
}

impl Store {
    /// The epoch's tasks, by batch.
    pub async fn tasks(&self, epoch: i64) -> Result<Vec<TaskRow>, ServiceError> {
        let rows = self
            .fetch_all(
                "SELECT batch, state, attempts, proofs_stored, prove_ms, worker FROM backstop_tasks
                 WHERE epoch = ? ORDER BY batch",
                &[epoch.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TaskRow {
                    batch: r.try_get("batch")?,
                    state: r.try_get("state")?,
                    attempts: r.try_get("attempts")?,
                    proofs_stored: r.try_get("proofs_stored")?,
                    prove_ms: r.try_get("prove_ms")?,
                    worker: r.try_get("worker")?,
                })
            })
            .collect()
    }

    /// Claims the first claimable task of `shape` and `secret_id` for `worker`, for
    /// `lease`: a queued task, or a leased one whose lease ran out.
    pub async fn claim_task(
        &self,
        worker: &str,
        shape: &str,
        secret_id: &str,
        lease: Duration,
    ) -> Result<Option<Lease>, ServiceError> {
        let now = now_ms();
        let query = format!(
            "UPDATE backstop_tasks SET state = ?, worker = ?, lease_until_ms = ?, attempts = attempts + 1
             WHERE (epoch, batch) IN (
                SELECT epoch, batch FROM backstop_tasks
                WHERE shape = ? AND secret_id = ?
                  AND (state = ? OR (state = ? AND lease_until_ms < ?))
                ORDER BY epoch, batch LIMIT 1 {})
             RETURNING epoch, batch, attempts",
            self.skip_locked()
        );
        let claimed = self
            .update_returning(
                &self.pool,
                &query,
                &[
                    task_state::LEASED.into(),
                    worker.into(),
                    now.saturating_add(ms(lease)).into(),
                    shape.into(),
                    secret_id.into(),
                    task_state::QUEUED.into(),
                    task_state::LEASED.into(),
                    now.into(),
                ],
            )
            .await?;
        let Some(row) = claimed else { return Ok(None) };
        let lease = Lease {
            epoch: row.try_get("epoch")?,
            batch: row.try_get("batch")?,
            attempt: row.try_get("attempts")?,
        };
        self.execute(
            &self.pool,
            "UPDATE backstop_epochs SET state = ?, started_ms = ? WHERE epoch = ? AND state = ?",
            &[
                state::PROVING.into(),
                now.into(),
                lease.epoch.into(),
                state::QUEUED.into(),
            ],
        )
        .await?;
        Ok(Some(lease))
    }

    /// Extends `lease`; `false` if the worker no longer holds it.
    pub async fn heartbeat(
        &self,
        worker: &str,
        lease: &Lease,
        duration: Duration,
    ) -> Result<bool, ServiceError> {
        let until = Param::from(now_ms().saturating_add(ms(duration)));
        let n = self
            .execute(
                &self.pool,
                &format!("UPDATE backstop_tasks SET lease_until_ms = ? WHERE {HELD}"),
                &[[until].as_slice(), &lease.held_by(worker)].concat(),
            )
            .await?;
        Ok(n == 1)
    }

    /// Marks the task done: its proof is in the artifact store. `stored` says
    /// whether this worker stored it (`false`: an earlier holder of the task had).
    pub async fn complete_task(
        &self,
        worker: &str,
        lease: &Lease,
        stored: bool,
        prove_ms: i64,
    ) -> Result<(), ServiceError> {
        self.execute(
            &self.pool,
            "UPDATE backstop_tasks SET state = ?, worker = ?, proofs_stored = proofs_stored + ?,
                    prove_ms = CASE WHEN ? = 1 THEN ? ELSE prove_ms END, last_error = NULL
             WHERE epoch = ? AND batch = ? AND state <> ?",
            &[
                task_state::DONE.into(),
                worker.into(),
                i64::from(stored).into(),
                i64::from(stored).into(),
                prove_ms.into(),
                lease.epoch.into(),
                lease.batch.into(),
                task_state::CANCELLED.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Gives a task back after an error; the epoch fails once a task has been
    /// tried `max_attempts` times. A worker that no longer holds the lease (it ran
    /// out, and another worker claimed or even completed the task since) changes
    /// nothing: its error is not the task's, and it must not fail an epoch another
    /// worker is proving or has proven.
    pub async fn release_task(
        &self,
        worker: &str,
        lease: &Lease,
        error: &str,
        max_attempts: i64,
    ) -> Result<(), ServiceError> {
        let released = self.execute(
            &self.pool,
            &format!(
                "UPDATE backstop_tasks SET state = ?, lease_until_ms = 0, last_error = ? WHERE {HELD}"
            ),
            &[
                [task_state::QUEUED.into(), error.into()].as_slice(),
                &lease.held_by(worker),
            ]
            .concat(),
        )
        .await?;
        if released == 1 && lease.attempt >= max_attempts {
            self.fail_epoch(
                lease.epoch,
                &format!(
                    "batch {} failed {} times, last: {error}",
                    lease.batch, lease.attempt
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Task counts by state, for `/metrics`.
    pub async fn task_counts(&self) -> Result<Vec<(String, i64)>, ServiceError> {
        self.state_counts("backstop_tasks").await
    }
}
