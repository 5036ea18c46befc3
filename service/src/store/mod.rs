//! The service's durable state: epochs and their batch tasks, in SQLite (the
//! default, embedded) or PostgreSQL (shared by `backstop worker` processes on any
//! number of machines).
//!
//! One implementation serves both through sqlx's `Any` driver: the SQL is written
//! once with `?` placeholders (rewritten to `$n` for PostgreSQL) and sticks to
//! types both databases share (`BIGINT` numbers, `TEXT`; times are Unix
//! milliseconds). The only dialect difference is in claiming: PostgreSQL claims
//! with `FOR UPDATE SKIP LOCKED`, so that concurrent workers skip each other's
//! rows instead of queueing on them; SQLite serialises writers, so the same
//! `UPDATE … RETURNING` is atomic there without it.
//!
//! ## Leases
//!
//! A claimed task is `leased` to one worker until `lease_until_ms`; the worker
//! extends the lease by heartbeats while it proves. A task whose lease ran out
//! (its worker died or was cut off) is claimable again. The claim increments
//! `attempts`, and `(worker, attempts)` is the lease's fencing token: a heartbeat
//! or release from a worker that lost its lease changes nothing.

use crate::ServiceError;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

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

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS backstop_epochs (
        epoch BIGINT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        shape TEXT NOT NULL,
        secret_id TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        batch_count BIGINT NOT NULL,
        retain_inputs BIGINT NOT NULL,
        inputs_deleted BIGINT NOT NULL DEFAULT 0,
        submitted_ms BIGINT NOT NULL,
        started_ms BIGINT,
        finished_ms BIGINT,
        final_owner TEXT,
        final_lease_ms BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE TABLE IF NOT EXISTS backstop_tasks (
        epoch BIGINT NOT NULL,
        batch BIGINT NOT NULL,
        shape TEXT NOT NULL,
        secret_id TEXT NOT NULL,
        state TEXT NOT NULL,
        worker TEXT,
        lease_until_ms BIGINT NOT NULL DEFAULT 0,
        attempts BIGINT NOT NULL DEFAULT 0,
        proofs_stored BIGINT NOT NULL DEFAULT 0,
        prove_ms BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        PRIMARY KEY (epoch, batch)
    )",
    "CREATE INDEX IF NOT EXISTS backstop_tasks_claim ON backstop_tasks (state, epoch, batch)",
];

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

/// The milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`) and creates the schema.
    /// A SQLite file and its directory are created if missing.
    pub async fn connect(url: &str) -> Result<Self, ServiceError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(parent) = std::path::Path::new(file).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| ServiceError::Io {
                    path: parent.to_path_buf(),
                    error: e,
                })?;
            }
            let url = if url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(ServiceError::Config(format!(
                "--db {url}: expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
            )));
        };
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&url)
            .await?;
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<(), ServiceError> {
        let mut conn = self.pool.acquire().await?;
        match self.backend {
            Backend::Sqlite => {
                // Readers do not block the writer; survives restarts (stored in the file).
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&mut *conn)
                    .await?;
            }
            Backend::Postgres => {
                // Servers and workers starting together must not race on CREATE TABLE.
                sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_lock(7207001)) AS l")
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let mut result = Ok(());
        for statement in SCHEMA {
            if let Err(e) = sqlx::query(statement).execute(&mut *conn).await {
                result = Err(e.into());
                break;
            }
        }
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 AS unlocked FROM (SELECT pg_advisory_unlock(7207001)) AS u")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    fn sql(&self, query: &str) -> String {
        placeholders(self.backend, query)
    }

    /// `FOR UPDATE SKIP LOCKED` where the database has it.
    fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Creates the epoch and its `K` tasks in one transaction, unless the epoch
    /// exists: then it is the same job (same content) or a conflict.
    pub async fn submit(&self, new: &NewEpoch) -> Result<Submitted, ServiceError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(&self.sql(
            "INSERT INTO backstop_epochs (epoch, content_hash, shape, secret_id, state, batch_count, retain_inputs, submitted_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING",
        ))
        .bind(new.epoch)
        .bind(&new.content_hash)
        .bind(&new.shape)
        .bind(&new.secret_id)
        .bind(state::QUEUED)
        .bind(new.batch_count)
        .bind(i64::from(new.retain_inputs))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let row =
                sqlx::query(&self.sql("SELECT content_hash FROM backstop_epochs WHERE epoch = ?"))
                    .bind(new.epoch)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.rollback().await?;
            let hash: String = row.try_get("content_hash")?;
            return Ok(if hash == new.content_hash {
                Submitted::Existing
            } else {
                Submitted::Conflict
            });
        }
        for batch in 0..new.batch_count {
            sqlx::query(&self.sql(
                "INSERT INTO backstop_tasks (epoch, batch, shape, secret_id, state) VALUES (?, ?, ?, ?, ?)",
            ))
            .bind(new.epoch)
            .bind(batch)
            .bind(&new.shape)
            .bind(&new.secret_id)
            .bind(task_state::QUEUED)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Submitted::Created)
    }

    /// The epoch, if it exists.
    pub async fn epoch(&self, epoch: i64) -> Result<Option<EpochRow>, ServiceError> {
        let row = sqlx::query(&self.sql(
            "SELECT epoch, content_hash, shape, state, reason, batch_count, retain_inputs,
                    submitted_ms, started_ms, finished_ms
             FROM backstop_epochs WHERE epoch = ?",
        ))
        .bind(epoch)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| epoch_row(&r)).transpose()
    }

    /// The epoch's tasks, by batch.
    pub async fn tasks(&self, epoch: i64) -> Result<Vec<TaskRow>, ServiceError> {
        let rows = sqlx::query(&self.sql(
            "SELECT batch, state, attempts, proofs_stored, prove_ms, worker FROM backstop_tasks
             WHERE epoch = ? ORDER BY batch",
        ))
        .bind(epoch)
        .fetch_all(&self.pool)
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
        let row = sqlx::query(&self.sql(&query))
            .bind(task_state::LEASED)
            .bind(worker)
            .bind(now.saturating_add(ms(lease)))
            .bind(shape)
            .bind(secret_id)
            .bind(task_state::QUEUED)
            .bind(task_state::LEASED)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let lease = Lease {
            epoch: row.try_get("epoch")?,
            batch: row.try_get("batch")?,
            attempt: row.try_get("attempts")?,
        };
        sqlx::query(&self.sql(
            "UPDATE backstop_epochs SET state = ?, started_ms = ? WHERE epoch = ? AND state = ?",
        ))
        .bind(state::PROVING)
        .bind(now)
        .bind(lease.epoch)
        .bind(state::QUEUED)
        .execute(&self.pool)
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
        let n = sqlx::query(&self.sql(
            "UPDATE backstop_tasks SET lease_until_ms = ?
             WHERE epoch = ? AND batch = ? AND worker = ? AND attempts = ? AND state = ?",
        ))
        .bind(now_ms().saturating_add(ms(duration)))
        .bind(lease.epoch)
        .bind(lease.batch)
        .bind(worker)
        .bind(lease.attempt)
        .bind(task_state::LEASED)
        .execute(&self.pool)
        .await?
        .rows_affected();
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
        sqlx::query(&self.sql(
            "UPDATE backstop_tasks SET state = ?, worker = ?, proofs_stored = proofs_stored + ?,
                    prove_ms = CASE WHEN ? = 1 THEN ? ELSE prove_ms END, last_error = NULL
             WHERE epoch = ? AND batch = ? AND state <> ?",
        ))
        .bind(task_state::DONE)
        .bind(worker)
        .bind(i64::from(stored))
        .bind(i64::from(stored))
        .bind(prove_ms)
        .bind(lease.epoch)
        .bind(lease.batch)
        .bind(task_state::CANCELLED)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a task back after an error; the epoch fails once a task has been
    /// tried `max_attempts` times.
    pub async fn release_task(
        &self,
        worker: &str,
        lease: &Lease,
        error: &str,
        max_attempts: i64,
    ) -> Result<(), ServiceError> {
        sqlx::query(&self.sql(
            "UPDATE backstop_tasks SET state = ?, lease_until_ms = 0, last_error = ?
             WHERE epoch = ? AND batch = ? AND worker = ? AND attempts = ? AND state = ?",
        ))
        .bind(task_state::QUEUED)
        .bind(error)
        .bind(lease.epoch)
        .bind(lease.batch)
        .bind(worker)
        .bind(lease.attempt)
        .bind(task_state::LEASED)
        .execute(&self.pool)
        .await?;
        if lease.attempt >= max_attempts {
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

    /// Claims the verification of an epoch whose batches are all done (or whose
    /// verifier's lease ran out).
    pub async fn claim_finalization(
        &self,
        owner: &str,
        shape: &str,
        secret_id: &str,
        lease: Duration,
    ) -> Result<Option<i64>, ServiceError> {
        let now = now_ms();
        let query = format!(
            "UPDATE backstop_epochs SET state = ?, final_owner = ?, final_lease_ms = ?
             WHERE epoch IN (
                SELECT e.epoch FROM backstop_epochs e
                WHERE e.shape = ? AND e.secret_id = ?
                  AND (e.state IN (?, ?) OR (e.state = ? AND e.final_lease_ms < ?))
                  AND NOT EXISTS (SELECT 1 FROM backstop_tasks t WHERE t.epoch = e.epoch AND t.state <> ?)
                ORDER BY e.epoch LIMIT 1 {})
               AND (state IN (?, ?) OR (state = ? AND final_lease_ms < ?))
             RETURNING epoch",
            self.skip_locked()
        );
        let row = sqlx::query(&self.sql(&query))
            .bind(state::VERIFYING)
            .bind(owner)
            .bind(now.saturating_add(ms(lease)))
            .bind(shape)
            .bind(secret_id)
            .bind(state::QUEUED)
            .bind(state::PROVING)
            .bind(state::VERIFYING)
            .bind(now)
            .bind(task_state::DONE)
            .bind(state::QUEUED)
            .bind(state::PROVING)
            .bind(state::VERIFYING)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("epoch").map_err(ServiceError::from))
            .transpose()
    }

    /// Extends a verification lease; `false` if `owner` lost it.
    pub async fn heartbeat_finalization(
        &self,
        owner: &str,
        epoch: i64,
        duration: Duration,
    ) -> Result<bool, ServiceError> {
        let n = sqlx::query(&self.sql(
            "UPDATE backstop_epochs SET final_lease_ms = ? WHERE epoch = ? AND final_owner = ? AND state = ?",
        ))
        .bind(now_ms().saturating_add(ms(duration)))
        .bind(epoch)
        .bind(owner)
        .bind(state::VERIFYING)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Marks the epoch verified (only from `verifying`, by its verifier).
    pub async fn mark_verified(&self, owner: &str, epoch: i64) -> Result<bool, ServiceError> {
        let n = sqlx::query(&self.sql(
            "UPDATE backstop_epochs SET state = ?, finished_ms = ? WHERE epoch = ? AND final_owner = ? AND state = ?",
        ))
        .bind(state::VERIFIED)
        .bind(now_ms())
        .bind(epoch)
        .bind(owner)
        .bind(state::VERIFYING)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Marks the epoch failed and cancels its unfinished tasks.
    pub async fn fail_epoch(&self, epoch: i64, reason: &str) -> Result<(), ServiceError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&self.sql(
            "UPDATE backstop_epochs SET state = ?, reason = ?, finished_ms = ? WHERE epoch = ? AND state <> ?",
        ))
        .bind(state::FAILED)
        .bind(reason)
        .bind(now_ms())
        .bind(epoch)
        .bind(state::VERIFIED)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            &self.sql("UPDATE backstop_tasks SET state = ? WHERE epoch = ? AND state <> ?"),
        )
        .bind(task_state::CANCELLED)
        .bind(epoch)
        .bind(task_state::DONE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Finished epochs whose inputs are still stored and not to be retained.
    pub async fn inputs_to_delete(&self) -> Result<Vec<(i64, String)>, ServiceError> {
        let rows = sqlx::query(&self.sql(
            "SELECT epoch, content_hash FROM backstop_epochs
             WHERE state IN (?, ?) AND retain_inputs = 0 AND inputs_deleted = 0",
        ))
        .bind(state::VERIFIED)
        .bind(state::FAILED)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("epoch")?, r.try_get("content_hash")?)))
            .collect()
    }

    /// Records that an epoch's inputs were deleted.
    pub async fn mark_inputs_deleted(&self, epoch: i64) -> Result<(), ServiceError> {
        sqlx::query(&self.sql("UPDATE backstop_epochs SET inputs_deleted = 1 WHERE epoch = ?"))
            .bind(epoch)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Epoch counts by state, for `/metrics`.
    pub async fn epoch_counts(&self) -> Result<Vec<(String, i64)>, ServiceError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM backstop_epochs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }

    /// Task counts by state, for `/metrics`.
    pub async fn task_counts(&self) -> Result<Vec<(String, i64)>, ServiceError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM backstop_tasks GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }
}

/// Rewrites `?` placeholders to `$1, $2, …` for PostgreSQL.
fn placeholders(backend: Backend, query: &str) -> String {
    match backend {
        Backend::Sqlite => query.to_owned(),
        Backend::Postgres => {
            let mut out = String::with_capacity(query.len() + 8);
            let mut n = 0;
            for c in query.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn epoch_row(r: &AnyRow) -> Result<EpochRow, ServiceError> {
    Ok(EpochRow {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            placeholders(Backend::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(
            placeholders(Backend::Sqlite, "a = ? AND b = ?"),
            "a = ? AND b = ?"
        );
    }
}
