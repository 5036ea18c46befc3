//! The schema and its migrations, with the version recorded in the database.
//!
//! Every server and worker runs [`Store::migrate`] on connect: it applies, in
//! order and each in its own transaction, the migrations the database has not
//! recorded in `backstop_schema`, and refuses a database whose recorded version is
//! newer than this binary knows (an older binary must not write to a schema it
//! does not understand). PostgreSQL processes starting together serialise on an
//! advisory lock; on SQLite each migration's transaction takes the write lock
//! before it reads the recorded version, so processes starting together on one
//! file apply each migration once.
//!
//! Migration 1 is the schema of the first release, written with `IF NOT EXISTS`
//! so that a database made before versions were recorded is adopted as version 1
//! and migrated on from there. Migrations are never edited once released: a
//! change is a new migration.

use super::{Backend, Store};
use crate::ServiceError;
use sqlx::Row;

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    /// Its version: 1, 2, … in order.
    pub version: i64,
    /// What it does, recorded beside the version.
    pub name: &'static str,
    /// Its statements, run in one transaction.
    pub statements: &'static [&'static str],
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "epochs and batch tasks",
        statements: &[
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
        ],
    },
    Migration {
        version: 2,
        name: "verifying-key fence, retry back-off, reclaim and requeue counts",
        statements: &[
            // The verifying key an epoch is proven with (its hash): a process holding
            // another key claims none of its work. '' for epochs submitted before.
            "ALTER TABLE backstop_epochs ADD COLUMN key_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE backstop_tasks ADD COLUMN key_id TEXT NOT NULL DEFAULT ''",
            // A released task is not claimed again before this time (back-off).
            "ALTER TABLE backstop_tasks ADD COLUMN not_before_ms BIGINT NOT NULL DEFAULT 0",
            // Claims of a task whose lease had run out (its holder died or stalled).
            "ALTER TABLE backstop_tasks ADD COLUMN reclaims BIGINT NOT NULL DEFAULT 0",
            // Times a failed epoch was requeued by an operator.
            "ALTER TABLE backstop_epochs ADD COLUMN requeues BIGINT NOT NULL DEFAULT 0",
            // Claims of the epoch's verification.
            "ALTER TABLE backstop_epochs ADD COLUMN final_attempts BIGINT NOT NULL DEFAULT 0",
        ],
    },
];

/// The schema version this binary writes.
pub fn current_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS backstop_schema (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";

/// A write that changes nothing: it takes SQLite's write lock (waiting out the busy
/// timeout) and is refused by a read-only PostgreSQL. Used before a migration reads
/// the version and by [`Store::ping`].
pub(super) const WRITE_PROBE: &str = "UPDATE backstop_schema SET version = version WHERE 1 = 0";

/// How long a process starting on a SQLite file waits for others to let it turn
/// on WAL mode.
const WAL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Turns on WAL mode (readers do not block the writer; stored in the file, so it
/// survives restarts). Switching a file's journal mode needs it to itself, and
/// SQLite answers `SQLITE_BUSY` at once, without waiting out the busy timeout,
/// while another connection is using it: processes starting together on a fresh
/// file retry for up to [`WAL_WAIT`].
async fn wal_mode(conn: &mut sqlx::AnyConnection) -> Result<(), ServiceError> {
    let deadline = std::time::Instant::now() + WAL_WAIT;
    loop {
        match sqlx::query("PRAGMA journal_mode=WAL")
            .execute(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether SQLite refused because another connection holds the file
/// (`SQLITE_BUSY` or `SQLITE_LOCKED`, with their extended codes).
fn is_busy(e: &sqlx::Error) -> bool {
    let Some(code) = e.as_database_error().and_then(|d| d.code()) else {
        return false;
    };
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

impl Store {
    /// Brings the schema to [`current_version`]; on SQLite, also turns on WAL.
    pub(super) async fn migrate(&self) -> Result<(), ServiceError> {
        let mut conn = self.pool.acquire().await?;
        match self.backend {
            Backend::Sqlite => wal_mode(&mut conn).await?,
            Backend::Postgres => {
                // Servers and workers starting together must not race on migrations.
                sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_lock(7207001)) AS l")
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let result = self.apply_migrations(&mut conn).await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 AS unlocked FROM (SELECT pg_advisory_unlock(7207001)) AS u")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    async fn apply_migrations(
        &self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    ) -> Result<(), ServiceError> {
        sqlx::query(VERSION_TABLE).execute(&mut **conn).await?;
        loop {
            let mut tx = sqlx::Connection::begin(&mut **conn).await?;
            if self.backend == Backend::Sqlite {
                // Take the write lock before reading the version (a write that
                // changes nothing; it waits out the busy timeout): another process
                // starting on the same file must not read the same version and apply
                // the same migration after this one has (`duplicate column`).
                sqlx::query(WRITE_PROBE).execute(&mut *tx).await?;
            }
            let recorded = self.schema_version_on(&mut tx).await?;
            if recorded > current_version() {
                return Err(ServiceError::Config(format!(
                    "the job database is at schema version {recorded}, newer than this binary's {}: \
                     run the newer backstop (this one would not understand its tables)",
                    current_version()
                )));
            }
            let Some(migration) = MIGRATIONS.iter().find(|m| m.version > recorded) else {
                tx.commit().await?;
                return Ok(());
            };
            for statement in migration.statements {
                sqlx::query(statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| {
                        ServiceError::Config(format!(
                            "schema migration {} ({}) failed: {e}",
                            migration.version, migration.name
                        ))
                    })?;
            }
            let record = self.sql(
                "INSERT INTO backstop_schema (version, name, applied_ms) VALUES (?, ?, NOW_MS)",
            );
            sqlx::query(&record)
                .bind(migration.version)
                .bind(migration.name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "job database migrated"
            );
        }
    }

    async fn schema_version_on(&self, conn: &mut sqlx::AnyConnection) -> Result<i64, ServiceError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM backstop_schema")
            .fetch_one(conn)
            .await?;
        Ok(row.try_get("v")?)
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<i64, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        self.schema_version_on(&mut conn).await
    }
}
