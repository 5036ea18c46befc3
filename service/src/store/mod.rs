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
//!
//! ## Files
//!
//! `schema` (the tables), `epochs` (submission, lookup, failure, retention),
//! `tasks` (batch tasks and their leases), `finalization` (an epoch's
//! verification lease); this file connects and runs the SQL.

mod epochs;
mod finalization;
pub mod schema;
mod tasks;

pub use epochs::{EpochRow, NewEpoch, Requeued, Submitted, state};
pub use tasks::{Blame, Lease, TaskRow, task_state};

use crate::ServiceError;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Row};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The milliseconds since the Unix epoch, by this process's clock: for logs only.
/// Leases and the times the store records are the database's clock
/// ([`Store::now_sql`]), so that a process whose clock runs ahead or behind
/// neither steals live leases nor keeps dead ones.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What a process can prove: it claims only tasks and verifications of epochs
/// submitted for the same circuit shape, venue secret (its fingerprint) and
/// verifying key (its hash). A process holding other keys (two servers that each
/// made development keys, a worker started with an old key) takes no part in an
/// epoch it could only fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The circuit shape id.
    pub shape: String,
    /// The venue secret's fingerprint.
    pub secret_id: String,
    /// The verifying key's hash.
    pub key_id: String,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Heartbeats' own connections: a burst of API requests or scrapes holding
    /// every connection of `pool` never delays a lease extension past the lease.
    beats: AnyPool,
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
                "--db {}: expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE",
                crate::redact_url(url)
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
        let beats = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url)
            .await?;
        let store = Self {
            pool,
            beats,
            backend,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `query` for this database: `NOW_MS` becomes [`Self::now_sql`], `?` the
    /// placeholders of the dialect.
    fn sql(&self, query: &str) -> String {
        placeholders(self.backend, &query.replace("NOW_MS", self.now_sql()))
    }

    /// The database's clock, in Unix milliseconds, as an SQL expression: every
    /// lease and recorded time is read from it, never from a process's own clock.
    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS BIGINT)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// `FOR UPDATE SKIP LOCKED` where the database has it.
    fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// Checks the database takes a write, as the service's work needs: an
    /// `UPDATE` that changes no row still takes the write lock on SQLite (so a
    /// database another process holds locked is reported, after the busy timeout)
    /// and is refused by a read-only PostgreSQL (a standby after a failover);
    /// `SELECT 1` would pass in both cases.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        sqlx::query(schema::WRITE_PROBE).execute(&self.pool).await?;
        Ok(())
    }

    /// Runs `query` (with `?` placeholders) on `on`: the rows it changed.
    async fn execute<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        query: &str,
        params: &[Param<'_>],
    ) -> Result<u64, ServiceError> {
        let sql = self.sql(query);
        Ok(bind(&sql, params).execute(on).await?.rows_affected())
    }

    /// Runs an `UPDATE … RETURNING` that changes at most one row (its subquery has
    /// `LIMIT 1`) and returns it.
    /// The statement is stepped to its end (`fetch_all`), not dropped after its
    /// first row: SQLite commits an autocommit statement only when it ends, so a
    /// claim read with `fetch_optional` could stay uncommitted (invisible to other
    /// connections, its write lock held) until the connection ran its next
    /// statement (sqlx issues #2099, #3430).
    async fn update_returning<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        query: &str,
        params: &[Param<'_>],
    ) -> Result<Option<AnyRow>, ServiceError> {
        let sql = self.sql(query);
        let rows = bind(&sql, params).fetch_all(on).await?;
        Ok(rows.into_iter().next())
    }

    /// Runs `query` on `on`: its row, if any.
    async fn fetch_optional<'c>(
        &self,
        on: impl Executor<'c, Database = Any>,
        query: &str,
        params: &[Param<'_>],
    ) -> Result<Option<AnyRow>, ServiceError> {
        let sql = self.sql(query);
        Ok(bind(&sql, params).fetch_optional(on).await?)
    }

    /// Runs `query` on the pool: all its rows.
    async fn fetch_all(
        &self,
        query: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<AnyRow>, ServiceError> {
        let sql = self.sql(query);
        Ok(bind(&sql, params).fetch_all(&self.pool).await?)
    }

    /// Row counts of `table` by its `state` column, for `/metrics`.
    async fn state_counts(&self, table: &str) -> Result<Vec<(String, i64)>, ServiceError> {
        let rows = self
            .fetch_all(
                &format!("SELECT state, COUNT(*) AS n FROM {table} GROUP BY state"),
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }
}

/// A query parameter: the schema has numbers (`BIGINT`) and text only.
#[derive(Debug, Clone, Copy)]
enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(v)
    }
}

/// `sql` with `params` bound in order.
fn bind<'q>(sql: &'q str, params: &[Param<'q>]) -> Query<'q, Any, AnyArguments<'q>> {
    params
        .iter()
        .fold(sqlx::query(sql), |query, param| match *param {
            Param::Int(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// With every API connection taken (a flood of requests or scrapes), a
    /// heartbeat still extends its lease at once, on its own pool.
    #[tokio::test]
    async fn heartbeats_do_not_wait_for_a_busy_pool() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
        let store = Store::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        let new = NewEpoch {
            epoch: 1,
            content_hash: "h".into(),
            shape: "s".into(),
            secret_id: "x".into(),
            key_id: "k".into(),
            batch_count: 1,
            retain_inputs: false,
        };
        store.submit(&new).await.unwrap_or_else(|e| panic!("{e}"));
        let fence = Fence {
            shape: "s".into(),
            secret_id: "x".into(),
            key_id: "k".into(),
        };
        let lease = store
            .claim_task("w", &fence, Duration::from_secs(60), 5)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no task"));
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(store.pool.acquire().await.unwrap_or_else(|e| panic!("{e}")));
        }
        assert!(
            store.pool.try_acquire().is_none(),
            "the API pool should be exhausted"
        );
        let beat = tokio::time::timeout(
            Duration::from_secs(2),
            store.heartbeat("w", &lease, Duration::from_secs(60)),
        )
        .await;
        assert!(matches!(beat, Ok(Ok(true))), "{beat:?}");
        drop(held);
    }

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
