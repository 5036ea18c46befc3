//! The task store's lease rules on a real database: SQLite always, PostgreSQL too
//! when `BACKSTOP_TEST_PG_URL` names a server (`scripts/postgres` starts one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backstop_service::store::{NewEpoch, Store, state, task_state};
use std::time::Duration;

const SHAPE: &str = "backstop.v2.B8.M2";

fn new_epoch(epoch: i64, secret: &str) -> NewEpoch {
    NewEpoch {
        epoch,
        content_hash: format!("{epoch:064x}"),
        shape: SHAPE.into(),
        secret_id: secret.into(),
        batch_count: 1,
        retain_inputs: false,
    }
}

/// Worker `a` claims the one task with `max_attempts = 1`, its lease runs out,
/// worker `b` claims and completes it; then `a`'s late release (its error) must
/// neither requeue the task nor fail the epoch. `secret` fences the claims to this
/// test's tasks (a shared database may hold others).
async fn a_lost_lease_releases_nothing(store: &Store, epoch: i64, secret: &str) {
    store.submit(&new_epoch(epoch, secret)).await.unwrap();
    let shape = SHAPE;
    let short = Duration::from_millis(1);
    let a = store.claim_task("a", shape, secret, short).await.unwrap();
    let a = a.expect("a claims the task");
    assert_eq!((a.epoch, a.attempt), (epoch, 1));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let b = store
        .claim_task("b", shape, secret, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("b reclaims the expired lease");
    assert_eq!((b.epoch, b.attempt), (epoch, 2));
    store.complete_task("b", &b, true, 5).await.unwrap();

    // a's release after the fact, at its last attempt.
    store.release_task("a", &a, "late error", 1).await.unwrap();
    let row = store.epoch(epoch).await.unwrap().unwrap();
    assert_ne!(row.state, state::FAILED, "{:?}", row.reason);
    let tasks = store.tasks(epoch).await.unwrap();
    assert_eq!(tasks[0].state, task_state::DONE);
    assert_eq!(tasks[0].worker.as_deref(), Some("b"));

    // A release by the holder at its last attempt still fails the epoch.
    store.submit(&new_epoch(epoch + 1, secret)).await.unwrap();
    let c = store
        .claim_task("c", shape, secret, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("c claims the next epoch's task");
    assert_eq!(c.epoch, epoch + 1);
    store.release_task("c", &c, "real error", 1).await.unwrap();
    let row = store.epoch(epoch + 1).await.unwrap().unwrap();
    assert_eq!(row.state, state::FAILED);
    assert!(row.reason.unwrap().contains("real error"));
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_fail_the_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::connect(&url).await.unwrap();
    a_lost_lease_releases_nothing(&store, 1, "secret").await;
    if let Ok(pg) = std::env::var("BACKSTOP_TEST_PG_URL") {
        let store = Store::connect(&pg).await.unwrap();
        // Epoch ids unique to this run, so that an earlier run's rows do not clash.
        let base = 1
            + (std::process::id() as i64) * 1_000_000
            + (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64
                % 1_000_000);
        let secret = format!("store-leases-{base}");
        a_lost_lease_releases_nothing(&store, base * 2, &secret).await;
    }
}
