//! halo2 epochs through the prover service: a real `backstop serve` proves a
//! halo2 epoch (`POST /v1/epochs?backend=halo2`) beside a Groth16 one; the halo2
//! epoch directory rebuilt from the API's statement and proofs verifies with
//! `backstop verify`, its inclusion proofs are served, and the Groth16 epoch
//! verifies as before.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

mod service_common;

use service_common::*;
use std::time::Duration;

#[test]
fn halo2_and_groth16_epochs_are_proven_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    setup_keys(&keys);
    let db = format!("sqlite://{}", tmp.path().join("jobs.db").display());
    let params = tmp.path().join("halo2-params");
    let server = Proc::start(
        tmp.path(),
        &serve_args(
            &db,
            &keys,
            &[
                "--artifacts",
                "artifacts",
                "--halo2-params",
                params.to_str().unwrap(),
            ],
        ),
        &tmp.path().join("serve.log"),
    );
    let addr = server.addr().to_owned();
    // Lazily: a server derives no halo2 key before a halo2 epoch needs one.
    assert!(!server.log().contains("deriving the halo2 keys"));

    // An unknown backend or parameter is a 400 naming it.
    let halo2_body = snapshot_json(51, 20, 7);
    for (query, named) in [
        ("backend=plonk", "\"plonk\""),
        ("backnd=halo2", "\"backnd\""),
    ] {
        let r = http(
            &addr,
            "POST",
            &format!("/v1/epochs?{query}"),
            Some(TOKEN),
            Some(&halo2_body),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(named), "{error}");
    }

    // 20 accounts in batches of 8: 3 batches each.
    let r = http(
        &addr,
        "POST",
        "/v1/epochs?backend=halo2",
        Some(TOKEN),
        Some(&halo2_body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let status = r.json();
    assert_eq!(status["backend"], "halo2-pasta", "{status}");
    let shape = backstop_circuits::shape::CircuitShape::new(8, 2).unwrap();
    assert_eq!(status["shape"], shape.id(), "{status}");
    assert_eq!(status["batches_total"], 3);
    let groth16_body = snapshot_json(52, 20, 8);
    let r = http(
        &addr,
        "POST",
        "/v1/epochs",
        Some(TOKEN),
        Some(&groth16_body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["backend"], "groth16-bn254");

    // The same snapshot for another backend is not the same job.
    let r = http(&addr, "POST", "/v1/epochs", Some(TOKEN), Some(&halo2_body));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("halo2-pasta"));
    let r = http(
        &addr,
        "POST",
        "/v1/epochs?backend=halo2",
        Some(TOKEN),
        Some(&halo2_body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // No on-chain verifier for halo2: no calldata, ever.
    let r = http(&addr, "GET", "/v1/epochs/51/calldata", Some(TOKEN), None);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("no on-chain verifier"),
        "{}",
        r.text()
    );

    let status = wait_verified(&addr, 51, Duration::from_secs(300));
    assert_eq!(status["batches_done"], 3, "{status}");
    let g16 = wait_verified(&addr, 52, Duration::from_secs(300));
    println!(
        "halo2: {} s proving, {} s submitted to verified; groth16: {} s, {} s",
        status["prove_seconds"],
        status["total_seconds"],
        g16["prove_seconds"],
        g16["total_seconds"]
    );
    for line in server
        .log()
        .lines()
        .filter(|l| l.contains("halo2 keys derived"))
    {
        println!("{line}");
    }

    let statement = check_halo2_published(&addr, 51, 3, &params, tmp.path());

    // An inclusion proof of the halo2 epoch, checked against its statement.
    let snapshot: serde_json::Value = serde_json::from_slice(&halo2_body).unwrap();
    let account = snapshot["accounts"][4]["account_id"].as_str().unwrap();
    let proof = http(
        &addr,
        "GET",
        &format!("/v1/epochs/51/inclusion/{account}"),
        Some(TOKEN),
        None,
    );
    assert_eq!(proof.status, 200, "{}", proof.text());
    let proof: backstop_verifier::inclusion::InclusionProof =
        serde_json::from_slice(&proof.body).unwrap();
    let published = backstop_circuits::statement::EpochStatement::from_json(&statement).unwrap();
    backstop_verifier::inclusion::verify_inclusion_for_statement(
        &proof,
        proof.batch_roots.as_ref().unwrap(),
        &published,
    )
    .unwrap();

    // The Groth16 epoch beside it: published and verified with the trusted key,
    // its calldata served.
    let g = check_published(&addr, 52, &keys, tmp.path());
    assert_eq!(g["backend"], "groth16-bn254");
    let calldata = http(&addr, "GET", "/v1/epochs/52/calldata", Some(TOKEN), None);
    assert_eq!(calldata.status, 200, "{}", calldata.text());
}

/// A process that did not take the submission derives its halo2 keys when it
/// finds a halo2 epoch waiting: here a server restarted on the job store of one
/// that accepted the epoch (with no local provers) and was killed.
#[test]
fn a_process_derives_its_halo2_keys_when_a_halo2_epoch_waits() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    setup_keys(&keys);
    let db = format!("sqlite://{}", tmp.path().join("jobs.db").display());
    let params = tmp.path().join("halo2-params");
    let args = |workers: &str| {
        serve_args(
            &db,
            &keys,
            &[
                "--artifacts",
                "artifacts",
                "--halo2-params",
                params.to_str().unwrap(),
                "--workers",
                workers,
            ],
        )
    };
    let mut first = Proc::start(tmp.path(), &args("0"), &tmp.path().join("first.log"));
    // 16 accounts in batches of 8: 2 batches.
    let body = snapshot_json(61, 16, 9);
    let r = http(
        first.addr(),
        "POST",
        "/v1/epochs?backend=halo2",
        Some(TOKEN),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    first.kill();
    let second = Proc::start(tmp.path(), &args("1"), &tmp.path().join("second.log"));
    let status = wait_verified(second.addr(), 61, Duration::from_secs(300));
    assert_eq!(status["backend"], "halo2-pasta", "{status}");
    assert!(
        second.log().contains("halo2 keys derived"),
        "{}",
        second.log()
    );
    check_halo2_published(second.addr(), 61, 2, &params, tmp.path());
}
