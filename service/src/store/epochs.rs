//! Epochs: submission, lookup, failure, input retention and counts.

use super::tasks::task_state;
use super::{Store, now_ms};
use crate::ServiceError;
use sqlx::Row;
use sqlx::any::AnyRow;

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
                "INSERT INTO backstop_epochs (epoch, content_hash, shape, secret_id, state, batch_count, retain_inputs, submitted_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING",
                &[
                    new.epoch.into(),
                    new.content_hash.as_str().into(),
                    new.shape.as_str().into(),
                    new.secret_id.as_str().into(),
                    state::QUEUED.into(),
                    new.batch_count.into(),
                    i64::from(new.retain_inputs).into(),
                    now_ms().into(),
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
                "INSERT INTO backstop_tasks (epoch, batch, shape, secret_id, state) VALUES (?, ?, ?, ?, ?)",
                &[
                    new.epoch.into(),
                    batch.into(),
                    new.shape.as_str().into(),
                    new.secret_id.as_str().into(),
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
                    submitted_ms, started_ms, finished_ms
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
            "UPDATE backstop_epochs SET state = ?, reason = ?, finished_ms = ? WHERE epoch = ? AND state <> ?",
            &[
                state::FAILED.into(),
                reason.into(),
                now_ms().into(),
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

    /// Finished epochs whose inputs are still stored and not to be retained.
    pub async fn inputs_to_delete(&self) -> Result<Vec<(i64, String)>, ServiceError> {
        let rows = self
            .fetch_all(
                "SELECT epoch, content_hash FROM backstop_epochs
                 WHERE state IN (?, ?) AND retain_inputs = 0 AND inputs_deleted = 0",
                &[state::VERIFIED.into(), state::FAILED.into()],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("epoch")?, r.try_get("content_hash")?)))
            .collect()
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
