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

/// `backstop worker` arguments; each batch waits `batch_delay_ms` before proving
/// (test hook), and a lease runs out 2 s after its holder's last heartbeat.
fn worker_args(
    db: &str,
    keys: &std::path::Path,
    artifacts: &str,
    batch_delay_ms: u64,
) -> Vec<String> {
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
        &batch_delay_ms.to_string(),
        "--lease-ms",
        "2000",
        "--heartbeat-ms",
        "400",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// The batches `worker` holds a lease on, by index.
fn leased_by(status: &serde_json::Value, worker: &str) -> Vec<usize> {
    status["batches"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            b["state"] == "leased" && b["worker"].as_str().unwrap_or("").starts_with(worker)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Worker A is started alone and waits an hour before proving anything (test
/// hook), so once it holds a lease it can never finish that batch: it is killed
/// while it holds it, deterministically. Worker B, started after A's claim, proves
/// the other batches; A's batch stays A's (its heartbeats keep the lease) until A
/// is killed, then B takes the lease over once it runs out and the epoch completes.
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
        &worker_args(&db, &keys, artifacts, 3_600_000),
        &tmp.path().join("worker-a.log"),
    );
    let a_prefix = format!("worker-{}-", a.child.id());
    // 32 accounts: 4 batches.
    let r = http(
        &addr,
        "POST",
        "/v1/epochs",
        Some(TOKEN),
        Some(&snapshot_json(77, 32, 9)),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // A claims one batch (and, stuck on it, nothing else).
    let held = wait_for(
        &addr,
        77,
        Duration::from_secs(60),
        "worker A leasing",
        |v| !leased_by(v, &a_prefix).is_empty(),
    );
    let killed_batch = leased_by(&held, &a_prefix)[0];
    assert_eq!(held["batches"][killed_batch]["attempts"], 1, "{held}");

    // B proves the three others; A still holds its batch, on its first attempt,
    // although B has been idle and polling for it.
    let b = Proc::start(
        tmp.path(),
        &worker_args(&db, &keys, artifacts, 0),
        &tmp.path().join("worker-b.log"),
    );
    let b_prefix = format!("worker-{}-", b.child.id());
    let before = wait_for(&addr, 77, Duration::from_secs(60), "three batches", |v| {
        v["batches_done"].as_i64().unwrap() >= 3
    });
    // Past two lease lengths with B idle: only A's heartbeats can have kept it.
    std::thread::sleep(Duration::from_millis(4500));
    let before_kill = http(&addr, "GET", "/v1/epochs/77", Some(TOKEN), None).json();
    assert_eq!(
        leased_by(&before_kill, &a_prefix),
        vec![killed_batch],
        "A lost its lease while alive: {before_kill}\n{}",
        a.log()
    );
    assert_eq!(
        before_kill["batches"][killed_batch]["attempts"], 1,
        "{before_kill}"
    );
    assert_eq!(before_kill["batches_done"], 3, "{before} {before_kill}");

    a.kill();

    let status = wait_verified(&addr, 77, Duration::from_secs(120));
    let counts = batch_counts(&status);
    assert_eq!(counts.len(), 4);
    for (_, stored) in &counts {
        assert_eq!(*stored, 1, "{status}");
    }
    // The store shows the take-over: A's batch was claimed a second time, by B,
    // which proved it; every other batch was claimed once.
    for (batch, (attempts, _)) in counts.iter().enumerate() {
        let expected = if batch == killed_batch { 2 } else { 1 };
        assert_eq!(*attempts, expected, "batch {batch}: {status}");
    }
    let last = status["batches"][killed_batch]["worker"].as_str().unwrap();
    assert!(last.starts_with(&b_prefix), "{status}\n{}", b.log());
    check_published(&addr, 77, &keys, tmp.path());
    let metrics = http(&addr, "GET", "/metrics", Some(TOKEN), None).text();
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
    let status = wait_verified(&addr, 5, Duration::from_secs(120));
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

/// The big load test (`scripts/load-test --big`, release build): one epoch of
/// `BACKSTOP_LOAD_ACCOUNTS` accounts (default 10,000) × 8 markets, `B = 512`,
/// through `backstop serve` (PostgreSQL, no local provers) and two `backstop
/// worker` processes, one of them SIGKILLed once a third of the batches are
/// proven; then the same snapshot proven by `backstop prove` with the same keys.
/// Prints both wall times.
#[test]
#[ignore = "load test: run it with scripts/load-test --big"]
fn load_test_ten_thousand_accounts_two_workers_one_killed() {
    let Ok(url) = std::env::var("BACKSTOP_TEST_PG_URL") else {
        panic!("BACKSTOP_TEST_PG_URL is not set (scripts/load-test sets it)");
    };
    let accounts: usize = std::env::var("BACKSTOP_LOAD_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    let setup = std::time::Instant::now();
    setup_keys_shape(&keys, 512, 8);
    println!(
        "setup (B = 512, M = 8): {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let epoch = 5_000_000
        + u64::from(std::process::id()) % 1_000_000 * 10
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 10;
    let body = snapshot_json_markets(epoch, accounts, 8, 11);
    let server = Proc::start(
        tmp.path(),
        &serve_args(&url, &keys, &["--artifacts", "artifacts", "--workers", "0"]),
        &tmp.path().join("serve.log"),
    );
    let worker = |name: &str| {
        let args: Vec<String> = [
            "worker",
            "--db",
            &url,
            "--keys",
            keys.to_str().unwrap(),
            "--artifacts",
            "artifacts",
            "--poll-ms",
            "100",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        Proc::start(tmp.path(), &args, &tmp.path().join(format!("{name}.log")))
    };
    let mut a = worker("worker-a");
    let b = worker("worker-b");
    let started = std::time::Instant::now();
    let r = http(
        server.addr(),
        "POST",
        "/v1/epochs",
        Some(TOKEN),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let batches = r.json()["batches_total"].as_i64().unwrap();
    wait_for(
        server.addr(),
        epoch,
        Duration::from_secs(7200),
        "a third of the batches",
        |v| v["batches_done"].as_i64().unwrap() * 3 >= batches,
    );
    let killed_at = started.elapsed().as_secs_f64();
    a.kill();
    let status = wait_verified(server.addr(), epoch, Duration::from_secs(7200));
    let service_seconds = started.elapsed().as_secs_f64();
    check_published(server.addr(), epoch, &keys, tmp.path());
    let claims: i64 = batch_counts(&status).iter().map(|c| c.0).sum();
    drop((b, server));

    let snapshot = tmp.path().join("snapshot.json");
    std::fs::write(&snapshot, &body).unwrap();
    let proved = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(["prove", "--snapshot"])
        .arg(&snapshot)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(tmp.path().join("epoch"))
        .env("BACKSTOP_VENUE_SECRET", SECRET)
        .env("BACKSTOP_VENUE_KEY", VENUE_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prove_seconds = proved.elapsed().as_secs_f64();
    println!(
        "big load test: {accounts} accounts x 8 markets, B = 512 ({batches} batches): \
         serve + 2 workers (PostgreSQL), worker A killed at {killed_at:.1} s, \
         verified at {service_seconds:.1} s ({claims} batch claims); \
         backstop prove of the same snapshot: {prove_seconds:.1} s \
         (service / prove = {:.2})",
        service_seconds / prove_seconds
    );
}
