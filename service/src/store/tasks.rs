//! Batch tasks and their leases: claim, heartbeat, completion, release.

use super::{Fence, Param, Store, ms, state};
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
    /// 1 once its proof is in the artifact store (written once, never replaced).
    pub proofs_stored: i64,
    /// Milliseconds spent proving it (the successful attempt).
    pub prove_ms: i64,
    /// The worker that holds or last held it.
    pub worker: Option<String>,
    /// Claims made after its lease had run out (its holder died or stalled).
    pub reclaims: i64,
    /// The last error a worker released it with, if any.
    pub last_error: Option<String>,
}

/// Whose fault a failed attempt was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The batch's: building its witness or proving it failed. Counts an attempt.
    Batch,
    /// The surroundings': the artifact store or the database failed (a full disk,
    /// an unreachable server). Does not count: the batch waits, however long.
    Surroundings,
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
                "SELECT batch, state, attempts, proofs_stored, prove_ms, worker, reclaims, last_error
                 FROM backstop_tasks
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
                    reclaims: r.try_get("reclaims")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Claims the first claimable task within `fence` for `worker`, for `lease`: a
    /// queued task past its back-off, or a leased one whose lease ran out, in
    /// either case claimed fewer than `max_attempts` times (a task that was claimed
    /// that often and never finished fails its epoch instead:
    /// [`Store::fail_exhausted`]). The claim counts an attempt whatever becomes of
    /// it, so a batch whose worker is killed (SIGKILL, OOM) is not retried forever.
    pub async fn claim_task(
        &self,
        worker: &str,
        fence: &Fence,
        lease: Duration,
        max_attempts: i64,
    ) -> Result<Option<Lease>, ServiceError> {
        let query = format!(
            "UPDATE backstop_tasks SET state = ?, worker = ?, lease_until_ms = NOW_MS + ?,
                    attempts = attempts + 1,
                    reclaims = reclaims + CASE WHEN state = ? THEN 1 ELSE 0 END
             WHERE (epoch, batch) IN (
                SELECT epoch, batch FROM backstop_tasks
                WHERE shape = ? AND secret_id = ? AND key_id IN (?, '') AND attempts < ?
                  AND ((state = ? AND not_before_ms <= NOW_MS)
                       OR (state = ? AND lease_until_ms < NOW_MS))
                ORDER BY epoch, batch LIMIT 1 {})
             RETURNING epoch, batch, attempts, reclaims",
            self.skip_locked()
        );
        let claimed = self
            .update_returning(
                &self.pool,
                &query,
                &[
                    task_state::LEASED.into(),
                    worker.into(),
                    ms(lease).into(),
                    task_state::LEASED.into(),
                    fence.shape.as_str().into(),
                    fence.secret_id.as_str().into(),
                    fence.key_id.as_str().into(),
                    max_attempts.into(),
                    task_state::QUEUED.into(),
                    task_state::LEASED.into(),
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
            "UPDATE backstop_epochs SET state = ?, started_ms = NOW_MS WHERE epoch = ? AND state = ?",
            &[
                state::PROVING.into(),
                lease.epoch.into(),
                state::QUEUED.into(),
            ],
        )
        .await?;
        Ok(Some(lease))
    }

    /// Fails the epochs (within `fence`) of tasks that were claimed
    /// `max_attempts` times and are not running now (released, or leased to a
    /// holder whose lease ran out: it died or stalled every time): the epochs it
    /// failed.
    pub async fn fail_exhausted(
        &self,
        fence: &Fence,
        max_attempts: i64,
    ) -> Result<Vec<i64>, ServiceError> {
        let rows = self
            .fetch_all(
                "SELECT epoch, batch, attempts, last_error FROM backstop_tasks
                 WHERE shape = ? AND secret_id = ? AND key_id IN (?, '') AND attempts >= ?
                   AND (state = ? OR (state = ? AND lease_until_ms < NOW_MS))",
                &[
                    fence.shape.as_str().into(),
                    fence.secret_id.as_str().into(),
                    fence.key_id.as_str().into(),
                    max_attempts.into(),
                    task_state::QUEUED.into(),
                    task_state::LEASED.into(),
                ],
            )
            .await?;
        let mut failed = Vec::new();
        for r in &rows {
            let (epoch, batch, attempts): (i64, i64, i64) = (
                r.try_get("epoch")?,
                r.try_get("batch")?,
                r.try_get("attempts")?,
            );
            let last: Option<String> = r.try_get("last_error")?;
            let last = last.unwrap_or_else(|| {
                "none recorded (its worker died or lost its lease each time)".into()
            });
            self.fail_epoch(
                epoch,
                &format!(
                    "batch {batch} was claimed {attempts} times without a proof; last error: {last}"
                ),
            )
            .await?;
            failed.push(epoch);
        }
        Ok(failed)
    }

    /// Extends `lease`; `false` if the worker no longer holds it.
    pub async fn heartbeat(
        &self,
        worker: &str,
        lease: &Lease,
        duration: Duration,
    ) -> Result<bool, ServiceError> {
        let until = Param::from(ms(duration));
        let n = self
            .execute(
                &self.beats,
                &format!("UPDATE backstop_tasks SET lease_until_ms = NOW_MS + ? WHERE {HELD}"),
                &[[until].as_slice(), &lease.held_by(worker)].concat(),
            )
            .await?;
        Ok(n == 1)
    }

    /// Marks the task done: its proof is in the artifact store, once
    /// (`proofs_stored` is 1: the store's create-if-absent never replaces a proof,
    /// whichever holder stored it and whichever recorded it; a holder killed
    /// between storing and recording leaves the proof for the next holder to
    /// record). `stored` says whether this worker's write made the file, and only
    /// then is its proving time recorded.
    pub async fn complete_task(
        &self,
        worker: &str,
        lease: &Lease,
        stored: bool,
        prove_ms: i64,
    ) -> Result<(), ServiceError> {
        self.execute(
            &self.pool,
            "UPDATE backstop_tasks SET state = ?, worker = ?, proofs_stored = 1,
                    prove_ms = CASE WHEN ? = 1 THEN ? ELSE prove_ms END, last_error = NULL
             WHERE epoch = ? AND batch = ? AND state <> ?",
            &[
                task_state::DONE.into(),
                worker.into(),
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

    /// Gives a task back after an error, claimable again after `backoff`. An
    /// error of the batch (`Blame::Batch`: its witness or proof failed) counts
    /// the attempt and the epoch fails once a task has been tried `max_attempts`
    /// times; an error of the surroundings (`Blame::Surroundings`: the artifact
    /// store or the database failed, a full disk) does not count, so an outage
    /// delays the epoch but never fails it. A worker that no longer holds the
    /// lease (it ran out, and another worker claimed or even completed the task
    /// since) changes nothing: its error is not the task's, and it must not fail
    /// an epoch another worker is proving or has proven.
    pub async fn release_task(
        &self,
        worker: &str,
        lease: &Lease,
        error: &str,
        blame: Blame,
        max_attempts: i64,
        backoff: Duration,
    ) -> Result<(), ServiceError> {
        let uncount = i64::from(blame == Blame::Surroundings);
        let released = self
            .execute(
                &self.pool,
                &format!(
                    "UPDATE backstop_tasks SET state = ?, lease_until_ms = 0, last_error = ?,
                        not_before_ms = NOW_MS + ?, attempts = attempts - ? WHERE {HELD}"
                ),
                &[
                    [
                        task_state::QUEUED.into(),
                        error.into(),
                        ms(backoff).into(),
                        uncount.into(),
                    ]
                    .as_slice(),
                    &lease.held_by(worker),
                ]
                .concat(),
            )
            .await?;
        if released == 1 && blame == Blame::Batch && lease.attempt >= max_attempts {
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

    /// Gives a task back unproven at shutdown, without counting the attempt: the
    /// process stops, the batch is not at fault. Another worker may claim it at once.
    pub async fn return_task(&self, worker: &str, lease: &Lease) -> Result<bool, ServiceError> {
        let n = self
            .execute(
                &self.pool,
                &format!(
                    "UPDATE backstop_tasks SET state = ?, lease_until_ms = 0, not_before_ms = 0,
                            attempts = attempts - 1 WHERE {HELD}"
                ),
                &[
                    [task_state::QUEUED.into()].as_slice(),
                    &lease.held_by(worker),
                ]
                .concat(),
            )
            .await?;
        Ok(n == 1)
    }

    /// Tasks leased to a holder whose lease ran out (a dead or stalled worker), for
    /// `/metrics`.
    pub async fn stuck_tasks(&self) -> Result<i64, ServiceError> {
        let row = self
            .fetch_optional(
                &self.pool,
                "SELECT COUNT(*) AS n FROM backstop_tasks WHERE state = ? AND lease_until_ms < NOW_MS",
                &[task_state::LEASED.into()],
            )
            .await?;
        Ok(row.map(|r| r.try_get("n")).transpose()?.unwrap_or(0))
    }

    /// Claims and reclaims over every task in the store, for `/metrics`.
    pub async fn claim_totals(&self) -> Result<(i64, i64), ServiceError> {
        let row = self
            .fetch_optional(
                &self.pool,
                "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) AS a,
                        CAST(COALESCE(SUM(reclaims), 0) AS BIGINT) AS r FROM backstop_tasks",
                &[],
            )
            .await?;
        match row {
            Some(r) => Ok((r.try_get("a")?, r.try_get("r")?)),
            None => Ok((0, 0)),
        }
    }

    /// Task counts by state, for `/metrics`.
    pub async fn task_counts(&self) -> Result<Vec<(String, i64)>, ServiceError> {
        self.state_counts("backstop_tasks").await
    }
}
