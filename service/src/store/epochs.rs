//! Epochs: submission, lookup, failure, input retention and counts.

use super::tasks::task_state;
use super::{Fence, Store, ms};
use crate::ServiceError;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::time::Duration;

/// An epoch's life: `queued` → `proving` → `verifying` → `verified` or `failed`.
pub mod state {
    /// Submitted; no batch claimed yet.
    pub const QUEUED: &str = "queued";
    /// At least one batch claimed.
    pub const PROVING: &str = "proving";
    /// Every batch proven; the statement is being built and verified.
    pub const VERIFYING: &str = "verifying";
    /// Proven and verified by the service.
    pub const VERIFIED: &str = "verified";
    /// Given up on; `reason` says why.
    pub const FAILED: &str = "failed";
}

/// A new epoch as submitted.
#[derive(Debug, Clone)]
pub struct NewEpoch {
    /// The epoch id (at most `i64::MAX`).
    pub epoch: i64,
    /// SHA-256 of the snapshot's canonical JSON.
    pub content_hash: String,
    /// The circuit shape id.
    pub shape: String,
    /// Fingerprint of the venue secret the epoch must be proven with.
    pub secret_id: String,
    /// Hash of the verifying key the epoch must be proven with.
    pub key_id: String,
    /// `K`.
    pub batch_count: i64,
    /// Keep the snapshot after the epoch is verified.
    pub retain_inputs: bool,
}

/// What [`Store::submit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// A new job was created.
    Created,
    /// The same content was already submitted: the existing job.
    Existing,
    /// The epoch exists with other content.
    Conflict,
}

/// An epoch row.
#[derive(Debug, Clone)]
pub struct EpochRow {
    /// The epoch id.
    pub epoch: i64,
    /// SHA-256 of the snapshot's canonical JSON.
    pub content_hash: String,
    /// The circuit shape id.
    pub shape: String,
    /// See [`state`].
    pub state: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// `K`.
    pub batch_count: i64,
    /// Keep the snapshot after verification.
    pub retain_inputs: bool,
    /// Unix ms.
    pub submitted_ms: i64,
    /// Unix ms of the first claim.
    pub started_ms: Option<i64>,
    /// Unix ms of verification or failure.
    pub finished_ms: Option<i64>,
    /// Hash of the verifying key it is proven with ('' if submitted before keys
    /// were recorded).
    pub key_id: String,
    /// Times an operator requeued it after a failure.
    pub requeues: i64,
    /// Claims of its verification.
    pub final_attempts: i64,
    /// Whether its snapshot was deleted.
    pub inputs_deleted: bool,
}

/// What [`Store::requeue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeued {
    /// The failed epoch is queued again: its unfinished batches from attempt 0,
    /// its proven batches kept.
    Requeued,
    /// Only failed epochs are requeued; this one is in the given state.
    NotFailed(String),
    /// Its snapshot was deleted (retention), so it cannot be proven again:
    /// submit it anew under another epoch id.
    InputsDeleted,
}

impl EpochRow {
    fn from_row(r: &AnyRow) -> Result<Self, ServiceError> {
        Ok(Self {
            epoch: r.try_get("epoch")?,
            content_hash: r.try_get("content_hash")?,
            shape: r.try_get("shape")?,
            state: r.try_get("state")?,
            reason: r.try_get("reason")?,
            batch_count: r.try_get("batch_count")?,
            retain_inputs: r.try_get::<i64, _>("retain_inputs")? != 0,
            submitted_ms: r.try_get("submitted_ms")?,
            started_ms: r.try_get("started_ms")?,
            finished_ms: r.try_get("finished_ms")?,
            key_id: r.try_get("key_id")?,
            requeues: r.try_get("requeues")?,
            final_attempts: r.try_get("final_attempts")?,
            inputs_deleted: r.try_get::<i64, _>("inputs_deleted")? != 0,
        })
    }
}

impl Store {
    /// Creates the epoch and its `K` tasks in one transaction, unless the epoch
    /// exists: then it is the same job (same content) or a conflict.
    pub async fn submit(&self, new: &NewEpoch) -> Result<Submitted, ServiceError> {
        let mut tx = self.pool.begin().await?;
        let inserted = self
            .execute(
                &mut *tx,
                "INSERT INTO backstop_epochs (epoch, content_hash, shape, secret_id, key_id, state, batch_count, retain_inputs, submitted_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, NOW_MS) ON CONFLICT (epoch) DO NOTHING",
                &[
                    new.epoch.into(),
                    new.content_hash.as_str().into(),
                    new.shape.as_str().into(),
                    new.secret_id.as_str().into(),
                    new.key_id.as_str().into(),
                    state::QUEUED.into(),
                    new.batch_count.into(),
                    i64::from(new.retain_inputs).into(),
                ],
            )
            .await?;
        if inserted == 0 {
            let row = self
                .fetch_optional(
                    &mut *tx,
                    "SELECT content_hash FROM backstop_epochs WHERE epoch = ?",
                    &[new.epoch.into()],
                )
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            tx.rollback().await?;
            let hash: String = row.try_get("content_hash")?;
            return Ok(if hash == new.content_hash {
                Submitted::Existing
            } else {
                Submitted::Conflict
            });
        }
        for batch in 0..new.batch_count {
            self.execute(
                &mut *tx,
                "INSERT INTO backstop_tasks (epoch, batch, shape, secret_id, key_id, state) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    new.epoch.into(),
                    batch.into(),
                    new.shape.as_str().into(),
                    new.secret_id.as_str().into(),
                    new.key_id.as_str().into(),
                    task_state::QUEUED.into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Submitted::Created)
    }

    /// The epoch, if it exists.
    pub async fn epoch(&self, epoch: i64) -> Result<Option<EpochRow>, ServiceError> {
        self.fetch_optional(
            &self.pool,
            "SELECT epoch, content_hash, shape, state, reason, batch_count, retain_inputs,
                    submitted_ms, started_ms, finished_ms, key_id, requeues, final_attempts,
                    inputs_deleted
             FROM backstop_epochs WHERE epoch = ?",
            &[epoch.into()],
        )
        .await?
        .map(|r| EpochRow::from_row(&r))
        .transpose()
    }

    /// Marks the epoch failed and cancels its unfinished tasks.
    pub async fn fail_epoch(&self, epoch: i64, reason: &str) -> Result<(), ServiceError> {
        let mut tx = self.pool.begin().await?;
        self.execute(
            &mut *tx,
            "UPDATE backstop_epochs SET state = ?, reason = ?, finished_ms = NOW_MS WHERE epoch = ? AND state <> ?",
            &[
                state::FAILED.into(),
                reason.into(),
                epoch.into(),
                state::VERIFIED.into(),
            ],
        )
        .await?;
        self.execute(
            &mut *tx,
            "UPDATE backstop_tasks SET state = ? WHERE epoch = ? AND state <> ?",
            &[
                task_state::CANCELLED.into(),
                epoch.into(),
                task_state::DONE.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Epochs within `fence` whose inputs are still stored and may go, and
    /// whether each was verified: verified ones not to be retained, and failed ones not to be
    /// retained that failed longer than `failed_retention` ago (until then an
    /// operator can requeue them).
    pub async fn inputs_to_delete(
        &self,
        fence: &Fence,
        failed_retention: Duration,
    ) -> Result<Vec<(i64, bool)>, ServiceError> {
        let rows = self
            .fetch_all(
                "SELECT epoch, state FROM backstop_epochs
                 WHERE shape = ? AND secret_id = ? AND key_id IN (?, '')
                   AND retain_inputs = 0 AND inputs_deleted = 0
                   AND (state = ? OR (state = ? AND finished_ms < NOW_MS - ?))",
                &[
                    fence.shape.as_str().into(),
                    fence.secret_id.as_str().into(),
                    fence.key_id.as_str().into(),
                    state::VERIFIED.into(),
                    state::FAILED.into(),
                    ms(failed_retention).into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok((r.try_get("epoch")?, state == state::VERIFIED))
            })
            .collect()
    }

    /// Queues a failed epoch again (operator action): its cancelled batches are
    /// queued from attempt 0 (their last errors kept until they are proven), its
    /// proven batches kept, and its verification is claimable again once they are
    /// all proven.
    pub async fn requeue(&self, epoch: i64) -> Result<Option<Requeued>, ServiceError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = self
            .fetch_optional(
                &mut *tx,
                "SELECT state, inputs_deleted FROM backstop_epochs WHERE epoch = ?",
                &[epoch.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        let current: String = row.try_get("state")?;
        if current != state::FAILED {
            return Ok(Some(Requeued::NotFailed(current)));
        }
        if row.try_get::<i64, _>("inputs_deleted")? != 0 {
            return Ok(Some(Requeued::InputsDeleted));
        }
        self.execute(
            &mut *tx,
            "UPDATE backstop_epochs SET state = ?, reason = NULL, finished_ms = NULL,
                    final_owner = NULL, final_lease_ms = 0, requeues = requeues + 1
             WHERE epoch = ? AND state = ?",
            &[state::QUEUED.into(), epoch.into(), state::FAILED.into()],
        )
        .await?;
        self.execute(
            &mut *tx,
            "UPDATE backstop_tasks SET state = ?, attempts = 0, lease_until_ms = 0, not_before_ms = 0
             WHERE epoch = ? AND state = ?",
            &[
                task_state::QUEUED.into(),
                epoch.into(),
                task_state::CANCELLED.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Requeued::Requeued))
    }

    /// Whether an epoch of shape column `shape` (any verifying key) for the venue
    /// secret `secret_id` is still to be proven or verified: a process that has
    /// not derived the keys of a backend yet asks this before deriving them.
    pub async fn has_open_epochs(
        &self,
        shape: &str,
        secret_id: &str,
    ) -> Result<bool, ServiceError> {
        let row = self
            .fetch_optional(
                &self.pool,
                "SELECT epoch FROM backstop_epochs
                 WHERE shape = ? AND secret_id = ? AND state IN (?, ?, ?) LIMIT 1",
                &[
                    shape.into(),
                    secret_id.into(),
                    state::QUEUED.into(),
                    state::PROVING.into(),
                    state::VERIFYING.into(),
                ],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Records that an epoch's inputs were deleted.
    pub async fn mark_inputs_deleted(&self, epoch: i64) -> Result<(), ServiceError> {
        self.execute(
            &self.pool,
            "UPDATE backstop_epochs SET inputs_deleted = 1 WHERE epoch = ?",
            &[epoch.into()],
        )
        .await?;
        Ok(())
    }

    /// Epoch counts by state, for `/metrics`.
    pub async fn epoch_counts(&self) -> Result<Vec<(String, i64)>, ServiceError> {
        self.state_counts("backstop_epochs").await
    }
}
