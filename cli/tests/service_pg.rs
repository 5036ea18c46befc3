//! The prover service scaled out on PostgreSQL: `backstop serve --workers 0`
//! (API and verification) and `backstop worker` processes claiming batch tasks
//! from a real PostgreSQL server on loopback.
//!
//! `scripts/test` starts the server (`scripts/postgres`) and sets
//! `BACKSTOP_TEST_PG_URL`; these tests fail, never skip, without it. Each test
//! works in a fresh database of its own.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

mod service_common;

use service_common::*;
use std::time::{Duration, Instant};

/// A fresh database on the test server; its URL.
fn fresh_database(name: &str) -> String {
    let url = std::env::var("BACKSTOP_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "BACKSTOP_TEST_PG_URL is not set: run the tests with scripts/test, or export \
             BACKSTOP_TEST_PG_URL=$(scripts/postgres)"
        )
    });
    let db = format!("{name}_{}_{}", std::process::id(), rand_suffix());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let base = url.rsplit_once('/').unwrap().0;
    format!("{base}/{db}")
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

fn worker_args(db: &str, keys: &std::path::Path, artifacts: &str) -> Vec<String> {
    [
        "worker",
        "--db",
        db,
        "--keys",
        keys.to_str().unwrap(),
        "--artifacts",
        artifacts,
        "--poll-ms",
        "100",
        "--batch-delay-ms",
        "1200",
        "--lease-ms",
        "2000",
        "--heartbeat-ms",
        "400",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[test]
fn postgres_two_workers_one_killed_mid_batch_the_epoch_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    setup_keys(&keys);
    let db = fresh_database("two_workers");
    let artifacts = tmp.path().join("shared-artifacts");
    let artifacts = artifacts.to_str().unwrap();
    let server = Proc::start(
        tmp.path(),
        &serve_args(&db, &keys, &["--artifacts", artifacts, "--workers", "0"]),
        &tmp.path().join("serve.log"),
    );
    let addr = server.addr().to_owned();
    let mut a = Proc::start(
        tmp.path(),
        &worker_args(&db, &keys, artifacts),
        &tmp.path().join("worker-a.log"),
    );
    let b = Proc::start(
        tmp.path(),
        &worker_args(&db, &keys, artifacts),
        &tmp.path().join("worker-b.log"),
    );
    // 32 accounts: 4 batches.
    let r = http(
        &addr,
        "POST",
        "/v1/epochs",
        Some(TOKEN),
        Some(&snapshot_json(77, 32, 9)),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // Wait until worker A holds a lease, then kill it mid-batch.
    let a_prefix = format!("worker-{}-", a.child.id());
    let held = wait_for(
        &addr,
        77,
        Duration::from_secs(60),
        "worker A leasing",
        |v| {
            v["batches"].as_array().unwrap().iter().any(|b| {
                b["state"] == "leased" && b["worker"].as_str().unwrap_or("").starts_with(&a_prefix)
            })
        },
    );
    a.kill();
    let killed_batch = held["batches"]
        .as_array()
        .unwrap()
        .iter()
        .position(|b| {
            b["state"] == "leased" && b["worker"].as_str().unwrap_or("").starts_with(&a_prefix)
        })
        .unwrap();

    let status = wait_verified(&addr, 77, Duration::from_secs(120));
    let counts = batch_counts(&status);
    assert_eq!(counts.len(), 4);
    for (_, stored) in &counts {
        assert_eq!(*stored, 1, "{status}");
    }
    // The batch A died on was claimed again, after its lease ran out, and
    // finished by worker B.
    assert!(counts[killed_batch].0 >= 2, "{status}");
    let last = status["batches"][killed_batch]["worker"].as_str().unwrap();
    assert!(
        last.starts_with(&format!("worker-{}-", b.child.id())),
        "{status}\n{}",
        b.log()
    );
    check_published(&addr, 77, &keys, tmp.path());
    let metrics = http(&addr, "GET", "/metrics", None, None).text();
    assert!(
        metrics.contains("backstop_epochs{state=\"verified\"} 1"),
        "{metrics}"
    );
}

#[test]
fn postgres_concurrent_duplicates_conflicts_and_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    setup_keys(&keys);
    let db = fresh_database("duplicates");
    let mut server = Proc::start(
        tmp.path(),
        &serve_args(
            &db,
            &keys,
            &[
                "--artifacts",
                "artifacts",
                "--workers",
                "1",
                "--retain-inputs",
            ],
        ),
        &tmp.path().join("serve.log"),
    );
    let addr = server.addr().to_owned();
    let body = snapshot_json(5, 20, 4);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| http(&addr, "POST", "/v1/epochs", Some(TOKEN), Some(&body))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().status)
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    let conflict = http(
        &addr,
        "POST",
        "/v1/epochs",
        Some(TOKEN),
        Some(&snapshot_json(5, 20, 5)),
    );
    assert_eq!(conflict.status, 409, "{}", conflict.text());
    assert_eq!(
        http(&addr, "POST", "/v1/epochs", Some("nope"), Some(&body)).status,
        401
    );
    let started = Instant::now();
    let status = wait_verified(&addr, 5, Duration::from_secs(120));
    assert!(started.elapsed() < Duration::from_secs(120));
    for (attempts, stored) in batch_counts(&status) {
        assert_eq!((attempts, stored), (1, 1), "{status}");
    }
    check_published(&addr, 5, &keys, tmp.path());
    // --retain-inputs: the snapshot is kept after verification.
    let inputs = tmp.path().join("artifacts/epochs/5/inputs");
    assert_eq!(std::fs::read_dir(&inputs).unwrap().count(), 1);

    // SIGTERM: a graceful exit.
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}\n{}", server.log());
}
