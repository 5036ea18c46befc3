//! The tables, created on connect (`CREATE … IF NOT EXISTS`: every server and
//! worker runs this, PostgreSQL ones under an advisory lock).

use super::{Backend, Store};
use crate::ServiceError;

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

impl Store {
    /// Creates the tables and index if missing; on SQLite, also turns on WAL.
    pub(super) async fn migrate(&self) -> Result<(), ServiceError> {
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
}
