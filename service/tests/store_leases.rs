//! The job store's rules on a real database: SQLite always, PostgreSQL too when
//! `BACKSTOP_TEST_PG_URL` names a server (`scripts/postgres` starts one). Leases
//! and their fencing, attempts counted at the claim (so a killed worker's count),
//! back-off after a release, the verifying-key fence, requeue, schema migrations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backstop_service::store::schema::current_version;
use backstop_service::store::{Blame, Fence, NewEpoch, Requeued, Store, state, task_state};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const SHAPE: &str = "backstop.v2.B8.M2";
const KEY: &str = "key-1";
const LONG: Duration = Duration::from_secs(60);
const MANY: i64 = 100;

fn new_epoch(epoch: i64, secret: &str) -> NewEpoch {
    NewEpoch {
        epoch,
        content_hash: format!("{epoch:064x}"),
        shape: SHAPE.into(),
        secret_id: secret.into(),
        key_id: KEY.into(),
        batch_count: 1,
        retain_inputs: false,
    }
}

fn fence(secret: &str) -> Fence {
    Fence {
        shape: SHAPE.into(),
        secret_id: secret.into(),
        key_id: KEY.into(),
    }
}

/// Runs `case` on SQLite, then on PostgreSQL if a server is given. `case` gets
/// the store, a first epoch id and a secret id unique to this run (a shared
/// database may hold other tests' rows; the secret fences claims to this test's).
async fn on_every_database<F, Fut>(name: &str, case: F)
where
    F: Fn(Store, i64, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    case(
        Store::connect(&url).await.unwrap(),
        1,
        format!("{name}-sqlite"),
    )
    .await;
    if let Ok(pg) = std::env::var("BACKSTOP_TEST_PG_URL") {
        // Unique across runs (process id, clock) and across this binary's
        // tests, which run at once and may read the clock in the same
        // millisecond: two cases on one epoch id would share its row, and
        // the second's claims, fenced to its own secret, would find nothing.
        static CASES: AtomicI64 = AtomicI64::new(0);
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let base = 1
            + (i64::from(std::process::id()) * 1_000_000 + millis % 1_000_000) * 100
            + CASES.fetch_add(1, Ordering::Relaxed) % 100;
        let store = Store::connect(&pg).await.unwrap();
        case(store, base * 10, format!("{name}-{base}")).await;
    }
}

/// Worker `a` claims the one task, its lease runs out, worker `b` claims and
/// completes it; then `a`'s late release (its error, at its last attempt) must
/// neither requeue the task nor fail the epoch.
#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_fail_the_epoch() {
    on_every_database("lost-lease", |store, epoch, secret| async move {
        store.submit(&new_epoch(epoch, &secret)).await.unwrap();
        let f = fence(&secret);
        let short = Duration::from_millis(1);
        let a = store.claim_task("a", &f, short, MANY).await.unwrap();
        let a = a.expect("a claims the task");
        assert_eq!((a.epoch, a.attempt), (epoch, 1));
        tokio::time::sleep(Duration::from_millis(30)).await;
        let b = store
            .claim_task("b", &f, LONG, MANY)
            .await
            .unwrap()
            .expect("b reclaims the expired lease");
        assert_eq!((b.epoch, b.attempt), (epoch, 2));
        store.complete_task("b", &b, true, 5).await.unwrap();

        store
            .release_task("a", &a, "late error", Blame::Batch, 1, Duration::ZERO)
            .await
            .unwrap();
        let row = store.epoch(epoch).await.unwrap().unwrap();
        assert_ne!(row.state, state::FAILED, "{:?}", row.reason);
        let tasks = store.tasks(epoch).await.unwrap();
        assert_eq!(tasks[0].state, task_state::DONE);
        assert_eq!(tasks[0].worker.as_deref(), Some("b"));
        assert_eq!(tasks[0].reclaims, 1, "b's claim was a reclaim");

        // A release by the holder at its last attempt still fails the epoch.
        store.submit(&new_epoch(epoch + 1, &secret)).await.unwrap();
        let c = store
            .claim_task("c", &f, LONG, MANY)
            .await
            .unwrap()
            .expect("c claims the next epoch's task");
        assert_eq!(c.epoch, epoch + 1);
        store
            .release_task("c", &c, "real error", Blame::Batch, 1, Duration::ZERO)
            .await
            .unwrap();
        let row = store.epoch(epoch + 1).await.unwrap().unwrap();
        assert_eq!(row.state, state::FAILED);
        assert!(row.reason.unwrap().contains("real error"));
    })
    .await;
}

/// A worker killed while holding a task never releases it; the claims still
/// count, so after `max_attempts` claims that never finished the task is not
/// claimed again and the epoch fails, naming the batch.
#[tokio::test]
async fn claims_by_killed_workers_use_up_the_attempts() {
    on_every_database("killed", |store, epoch, secret| async move {
        store.submit(&new_epoch(epoch, &secret)).await.unwrap();
        let f = fence(&secret);
        let short = Duration::from_millis(1);
        for attempt in 1..=2 {
            let lease = store.claim_task("doomed", &f, short, 2).await.unwrap();
            assert_eq!(lease.map(|l| l.attempt), Some(attempt));
            // The worker is killed: no release, no heartbeat.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert_eq!(store.claim_task("next", &f, LONG, 2).await.unwrap(), None);
        assert_eq!(store.fail_exhausted(&f, 2).await.unwrap(), vec![epoch]);
        let row = store.epoch(epoch).await.unwrap().unwrap();
        assert_eq!(row.state, state::FAILED);
        let reason = row.reason.unwrap();
        assert!(reason.contains("batch 0 was claimed 2 times"), "{reason}");
        // A live lease at the limit is not failed under its holder.
        store.submit(&new_epoch(epoch + 1, &secret)).await.unwrap();
        let live = store.claim_task("live", &f, LONG, 1).await.unwrap();
        assert!(live.is_some());
        assert_eq!(
            store.fail_exhausted(&f, 1).await.unwrap(),
            Vec::<i64>::new()
        );
    })
    .await;
}

/// A released task waits out its back-off; a task returned at shutdown does not
/// wait and its attempt is not counted.
#[tokio::test]
async fn released_tasks_back_off_and_returned_ones_do_not() {
    on_every_database("backoff", |store, epoch, secret| async move {
        store.submit(&new_epoch(epoch, &secret)).await.unwrap();
        let f = fence(&secret);
        let a = store
            .claim_task("a", &f, LONG, MANY)
            .await
            .unwrap()
            .unwrap();
        store
            .release_task(
                "a",
                &a,
                "disk hiccup",
                Blame::Batch,
                MANY,
                Duration::from_millis(1500),
            )
            .await
            .unwrap();
        assert_eq!(
            store.claim_task("b", &f, LONG, MANY).await.unwrap(),
            None,
            "claimed during its back-off"
        );
        let tasks = store.tasks(epoch).await.unwrap();
        assert_eq!(tasks[0].last_error.as_deref(), Some("disk hiccup"));
        tokio::time::sleep(Duration::from_millis(1700)).await;
        let b = store
            .claim_task("b", &f, LONG, MANY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.attempt, 2);
        assert!(store.return_task("b", &b).await.unwrap());
        let c = store
            .claim_task("c", &f, LONG, MANY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.attempt, 2, "the returned claim is not counted");
        // An outage (the surroundings' fault) does not count either, even at the
        // last attempt, and does not fail the epoch.
        store
            .release_task(
                "c",
                &c,
                "No space left on device",
                Blame::Surroundings,
                2,
                Duration::ZERO,
            )
            .await
            .unwrap();
        assert_ne!(
            store.epoch(epoch).await.unwrap().unwrap().state,
            state::FAILED
        );
        let d = store.claim_task("d", &f, LONG, 2).await.unwrap().unwrap();
        assert_eq!(d.attempt, 2, "the outage's claim is not counted");
    })
    .await;
}

/// A process with another verifying key (or secret, or shape) claims nothing of
/// the epoch, neither its batches nor its verification.
#[tokio::test]
async fn another_key_claims_nothing() {
    on_every_database("fence", |store, epoch, secret| async move {
        store.submit(&new_epoch(epoch, &secret)).await.unwrap();
        let others = [
            Fence {
                key_id: "key-2".into(),
                ..fence(&secret)
            },
            Fence {
                secret_id: format!("{secret}-other"),
                ..fence(&secret)
            },
            Fence {
                shape: "backstop.v2.B8.M4".into(),
                ..fence(&secret)
            },
        ];
        for other in &others {
            assert_eq!(
                store.claim_task("x", other, LONG, MANY).await.unwrap(),
                None
            );
        }
        let lease = store
            .claim_task("a", &fence(&secret), LONG, MANY)
            .await
            .unwrap();
        let lease = lease.expect("the epoch's own key claims");
        store.complete_task("a", &lease, true, 1).await.unwrap();
        for other in &others {
            assert_eq!(
                store.claim_finalization("x", other, LONG).await.unwrap(),
                None
            );
        }
        let own = store
            .claim_finalization("a", &fence(&secret), LONG)
            .await
            .unwrap();
        assert_eq!(own, Some(epoch));
    })
    .await;
}

/// A failed epoch is requeued: its cancelled batch from attempt 0, its proven
/// batch kept; an epoch that is not failed, or whose inputs are gone, is not.
#[tokio::test]
async fn failed_epochs_are_requeued() {
    on_every_database("requeue", |store, epoch, secret| async move {
        let f = fence(&secret);
        let mut two = new_epoch(epoch, &secret);
        two.batch_count = 2;
        store.submit(&two).await.unwrap();
        assert_eq!(
            store.requeue(epoch).await.unwrap(),
            Some(Requeued::NotFailed(state::QUEUED.into()))
        );
        let first = store.claim_task("a", &f, LONG, 1).await.unwrap().unwrap();
        store.complete_task("a", &first, true, 1).await.unwrap();
        let second = store.claim_task("a", &f, LONG, 1).await.unwrap().unwrap();
        store
            .release_task(
                "a",
                &second,
                "out of memory",
                Blame::Batch,
                1,
                Duration::ZERO,
            )
            .await
            .unwrap();
        assert_eq!(
            store.epoch(epoch).await.unwrap().unwrap().state,
            state::FAILED
        );
        assert_eq!(
            store.requeue(epoch).await.unwrap(),
            Some(Requeued::Requeued)
        );
        let row = store.epoch(epoch).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.requeues), (state::QUEUED, 1));
        assert_eq!(row.reason, None);
        let tasks = store.tasks(epoch).await.unwrap();
        assert_eq!(tasks[0].state, task_state::DONE);
        assert_eq!(tasks[1].state, task_state::QUEUED);
        assert_eq!(tasks[1].last_error.as_deref(), Some("out of memory"));
        let again = store.claim_task("b", &f, LONG, 1).await.unwrap().unwrap();
        assert_eq!((again.batch, again.attempt), (1, 1));

        store.submit(&new_epoch(epoch + 1, &secret)).await.unwrap();
        store.fail_epoch(epoch + 1, "operator test").await.unwrap();
        store.mark_inputs_deleted(epoch + 1).await.unwrap();
        assert_eq!(
            store.requeue(epoch + 1).await.unwrap(),
            Some(Requeued::InputsDeleted)
        );
        assert_eq!(store.requeue(epoch + 5).await.unwrap(), None);
    })
    .await;
}

/// The schema version is recorded; connecting again migrates nothing; a
/// database made before versions were recorded is adopted and migrated with its
/// rows; a database newer than the binary is refused.
#[tokio::test]
async fn schema_migrations_are_recorded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), current_version());
    drop(store);
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), current_version());
    drop(store);

    // The first release's tables, with a row, and no version table.
    let old = dir.path().join("old.db");
    let old_url = format!("sqlite://{}?mode=rwc", old.display());
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&old_url).await.unwrap();
        for statement in backstop_service::store::schema::MIGRATIONS[0].statements {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        sqlx::query(
            "INSERT INTO backstop_epochs (epoch, content_hash, shape, secret_id, state, batch_count, retain_inputs, submitted_ms)
             VALUES (7, 'h', 's', 'x', 'verified', 1, 0, 1)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let store = Store::connect(&format!("sqlite://{}", old.display()))
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), current_version());
    let row = store.epoch(7).await.unwrap().expect("the old row survives");
    assert_eq!((row.state.as_str(), row.key_id.as_str()), ("verified", ""));
    drop(store);

    // A newer binary's database.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&old_url).await.unwrap();
        sqlx::query(
            "INSERT INTO backstop_schema (version, name, applied_ms) VALUES (99, 'future', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let err = Store::connect(&format!("sqlite://{}", old.display()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("schema version 99"), "{err}");

    if let Ok(pg) = std::env::var("BACKSTOP_TEST_PG_URL") {
        let store = Store::connect(&pg).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), current_version());
    }
}

/// Processes starting together on a fresh SQLite file each turn on WAL mode and
/// run the migrations: every one connects, and each migration is applied and
/// recorded once. Before the fixes, one in a few rounds failed: the second to
/// read version 1 applied migration 2 again (`duplicate column name`), or
/// switching to WAL met another connection (`database is locked` at once, as
/// SQLite does not wait out the busy timeout for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_migrate_once() {
    for round in 0..100 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
        let connects: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::connect(&url).await })
            })
            .collect();
        for connect in connects {
            let store = connect
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(store.schema_version().await.unwrap(), current_version());
        }
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM backstop_schema")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(applied, current_version(), "round {round}");
    }
}
