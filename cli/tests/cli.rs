//! The `backstop` binary end to end: real processes, real files.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use std::path::{Path, PathBuf};

mod common;
use common::backstop;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data")
}

#[test]
fn evaluate_prints_the_golden_outputs_of_every_committed_fixture() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let dir = entry.unwrap().path();
        let snap = dir.join("snapshot");
        let out = backstop(&["evaluate", "--snapshot", snap.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        assert_eq!(printed, golden, "{}", dir.display());
        // Exactly the published fields, nothing per-account besides the liquidation set
        // (and, with collateral assets, one flag per asset).
        let keys: Vec<&str> = printed
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let assets = std::fs::read_to_string(snap.join("epoch.toml"))
            .unwrap()
            .contains("[[assets]]");
        let mut expected = vec![
            "bad_debt",
            "epoch",
            "insurance_covered",
            "liquidations",
            "solvent",
        ];
        if assets {
            expected.insert(0, "asset_solvency");
        }
        // With a liquidation fee declared, the waterfall's six outputs (SPEC §2.4).
        let fees = std::fs::read_to_string(snap.join("epoch.toml"))
            .unwrap()
            .contains("liquidation_fee_bps");
        if fees {
            expected.extend([
                "deficit",
                "haircut_ppb",
                "insurance_draw",
                "insurance_fund_after",
                "liquidation_fees",
                "shortfall",
            ]);
            expected.sort_unstable();
        }
        assert_eq!(keys, expected, "{}", dir.display());
        seen += 1;
    }
    assert_eq!(seen, 13, "one committed fixture per scenario");
}

#[test]
fn evaluate_refuses_a_bad_row_naming_file_row_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let ok = backstop(&[
        "fixtures",
        "--scenario",
        "calm",
        "--accounts",
        "5",
        "--markets",
        "2",
        "--seed",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let accounts = dir.join("accounts.csv");
    let mut text = std::fs::read_to_string(&accounts).unwrap();
    text.push_str("99999,12.3456789123\n");
    std::fs::write(&accounts, text).unwrap();
    let out = backstop(&["evaluate", "--snapshot", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for a refused snapshot"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accounts.csv") && err.contains("row 7") && err.contains("quote_balance"),
        "{err}"
    );
}

/// Risk model v2 (brackets, collateral assets): `evaluate` adds `asset_solvency`,
/// and `prove --backend halo2` proves it: the halo2 statement publishes the same
/// outputs, and `verify` accepts it (Groth16: `tests/risk_model_v2.rs`).
#[test]
fn risk_model_v2_is_evaluated_and_proven_by_halo2() {
    let snap =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../circuits/tests/bad_snapshots/valid_v2");
    let out = backstop(&["evaluate", "--snapshot", snap.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["asset_solvency"],
        serde_json::json!({ "WBTC": true, "USDT": true })
    );
    assert_eq!(printed["liquidations"], serde_json::json!(["2"]));
    assert_eq!(printed["solvent"], serde_json::json!(true));
    let tmp = tempfile::tempdir().unwrap();
    let epoch = tmp.path().join("epoch");
    let params = tmp.path().join("params");
    let out = backstop(&[
        "prove",
        "--backend",
        "halo2",
        "--batch-size",
        "8",
        "--snapshot",
        snap.to_str().unwrap(),
        "--keys",
        params.to_str().unwrap(),
        "--out",
        epoch.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(epoch.join("statement.json")).unwrap()).unwrap();
    assert_eq!(statement["backend"], "halo2-pasta");
    assert_eq!(statement["shape"]["brackets"], 3);
    assert_eq!(statement["shape"]["assets"], 2);
    for field in [
        "asset_solvency",
        "liquidations",
        "solvent",
        "insurance_covered",
    ] {
        assert_eq!(statement[field], printed[field], "{field}");
    }
    let verified = backstop(&[
        "verify",
        epoch.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[test]
fn evaluate_refuses_a_missing_snapshot() {
    let out = backstop(&["evaluate", "--snapshot", "/nonexistent/backstop-snapshot"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/backstop-snapshot"));
}

#[test]
fn fixtures_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let dir = tmp.path().join(name);
        let out = backstop(&[
            "fixtures",
            "--scenario",
            "squeeze",
            "--accounts",
            "40",
            "--markets",
            "3",
            "--seed",
            "11",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    };
    let (a, b) = (write("a"), write("b"));
    for file in ["epoch.toml", "accounts.csv", "positions.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn demo_proves_verifies_and_warns_about_the_demo_secret() {
    // A small demo (B = 8, M = 2) in a temporary directory, keys included.
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("demo");
    let keys = tmp.path().join("keys");
    let out = backstop(&[
        "demo",
        "--accounts",
        "20",
        "--markets",
        "2",
        "--batch-size",
        "8",
        "--out",
        out_dir.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 Groth16 batch proofs of 8 accounts"),
        "{stdout}"
    );
    assert!(stdout.contains("\"solvent\""), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PUBLIC DEMO venue secret"), "{stderr}");
    assert!(stderr.contains("single-party Groth16 setup"), "{stderr}");
    let epoch = out_dir.join("epoch");
    let verified = backstop(&["verify", epoch.to_str().unwrap()]);
    assert!(verified.status.success());
    let bad = backstop(&[
        "demo",
        "--batch-size",
        "10",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
}

/// The Solidity export takes a waterfall shape (SPEC §2.4): the epoch contract
/// records the waterfall and its interface exposes it.
#[test]
fn the_solidity_export_takes_a_waterfall_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    let setup = backstop(&[
        "setup",
        "--batch-size",
        "8",
        "--markets",
        "3",
        "--waterfall",
        "--keys",
        keys.to_str().unwrap(),
    ]);
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    // The Solidity export takes it: the epoch contract records the waterfall
    // (docs/ONCHAIN.md; cli/tests/onchain.rs proves and submits such epochs). solc is
    // the pinned solcjs of scripts/node (scripts/node/setup installs it).
    let solc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node/solc");
    let sol = tmp.path().join("sol");
    let out = backstop(&[
        "export",
        "solidity",
        "--keys",
        keys.to_str().unwrap(),
        "--out",
        sol.to_str().unwrap(),
        "--solc",
        solc.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let interface = std::fs::read_to_string(sol.join("src/IBackstopEpochs.sol")).unwrap();
    assert!(
        interface.contains(
            "function waterfall(uint64 epoch) external view returns (WaterfallRecord memory);"
        ),
        "{interface}"
    );
    let epochs = std::fs::read_to_string(sol.join("src/BackstopEpochs.sol")).unwrap();
    assert!(epochs.contains("backstop.v2.B8.M3.W"), "the shape named");
}
