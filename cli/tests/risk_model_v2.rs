//! Risk model v2 (maintenance brackets, collateral assets) end to end through the
//! CLI, Groth16: `backstop setup --brackets T --assets A`, `backstop prove`, and a
//! statement that publishes the brackets, the assets and `asset_solvency`, verified
//! by `backstop verify`, the standalone `backstop-verify` and `backstop audit`; an
//! owner's inclusion proof shows their collateral balances and margin value; a
//! margin attestation is made and verified on it; the epoch contract's calldata
//! encodes it (halo2 proves it: `tests/cli.rs`). Every mutation of the statement is
//! refused in
//! `tamper_catalogue.rs`.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{ProvenEpoch, backstop, backstop_verify_bin, ok, prove_v2_epoch, refused, s, text};

const SECRET_HEX: &str = "5eed000000000000000000000000000000000000000000000000000000000002";

/// The catalogue's worked risk model v2 book (`circuits/tests/bad_snapshots/valid_v2`:
/// BTC with three brackets, ETH flat, WBTC and USDT collateral; 3 accounts).
fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../circuits/tests/bad_snapshots/valid_v2")
}

fn epoch() -> &'static ProvenEpoch {
    static EPOCH: OnceLock<ProvenEpoch> = OnceLock::new();
    EPOCH.get_or_init(|| prove_v2_epoch(&book(), "2", "3", "2", SECRET_HEX))
}

fn statement(e: &ProvenEpoch) -> Value {
    serde_json::from_slice(&std::fs::read(e.dir.join("statement.json")).unwrap()).unwrap()
}

#[test]
fn the_statement_publishes_what_evaluate_computes_and_verifies() {
    let e = epoch();
    let st = statement(e);
    assert_eq!(st["shape"]["id"], "backstop.v2.B8.M2.T3.A2");
    assert_eq!(st["shape"]["brackets"], 3);
    assert_eq!(st["shape"]["assets"], 2);
    assert_eq!(
        st["markets"][0]["tiers"],
        serde_json::json!([
            { "notional_floor": "50000", "maintenance_margin_bps": 1000 },
            { "notional_floor": "250000", "maintenance_margin_bps": 2500 },
        ])
    );
    assert!(
        st["markets"][1].get("tiers").is_none(),
        "a flat market has no tiers"
    );
    assert_eq!(st["assets"][0]["symbol"], "WBTC");
    assert_eq!(st["assets"][1]["reserves"], "100000");

    // The outputs at the top level are `backstop evaluate`'s, asset_solvency included.
    let evaluated = backstop(&["evaluate", "--snapshot", s(&book())]);
    ok(&evaluated, "evaluate");
    let evaluated: Value = serde_json::from_slice(&evaluated.stdout).unwrap();
    let evaluated = evaluated.as_object().unwrap();
    assert!(evaluated.contains_key("asset_solvency"));
    for (k, v) in evaluated {
        assert_eq!(&st[k], v, "{k}");
    }

    let keys = e.keys.to_str().unwrap();
    ok(&backstop(&["verify", s(&e.dir), "--key", keys]), "verify");
    let standalone = Command::new(backstop_verify_bin())
        .args([s(&e.dir), "--key", keys])
        .output()
        .unwrap();
    ok(&standalone, "backstop-verify");
    let audit = backstop(&["audit", s(&e.dir), "--key", keys]);
    ok(&audit, "audit");
    let report = text(&audit.stdout);
    for needle in [
        "asset_solvency[WBTC] = true",
        "asset_solvency[USDT] = true",
        "plus the collateral held (12.5 WBTC at 65000.5, 100000 USDT at 0.9998)",
        "BTC 500 bps, then 1000 bps from 50000, 2500 bps from 250000",
    ] {
        assert!(report.contains(needle), "{needle:?} not in\n{report}");
    }
}

#[test]
fn an_owner_sees_their_collateral_and_margin_value() {
    let e = epoch();
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("3.json");
    ok(
        &common::inclusion_prove(e, "3", &proof),
        "inclusion prove --account 3",
    );
    let out = backstop(&[
        "inclusion",
        "verify",
        s(&proof),
        "--epoch",
        s(&e.dir),
        "--json",
    ]);
    ok(&out, "inclusion verify");
    let said = backstop(&["inclusion", "verify", s(&proof), "--epoch", s(&e.dir)]);
    ok(&said, "inclusion verify (text)");
    let said = text(&said.stdout);
    for needle in [
        "collateral balances committed: 1 WBTC, 2500 USDT",
        "margin value 320876.975 (collateral at its ratio, debts in full)",
        "healthy (MV >= MR)",
    ] {
        assert!(said.contains(needle), "{needle:?} not in\n{said}");
    }
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &report["report"];
    assert_eq!(
        report["balances"],
        serde_json::json!([
            { "asset": "WBTC", "amount": "1" },
            { "asset": "USDT", "amount": "2500" },
        ])
    );
    // Account 3: 4 BTC at 65,000.5 (notional 260,002: the third bracket, 25% less
    // cum 40,000 = 25,000.5); TV = 260,002 + 65,000.5 + 2,499.5 = 327,502;
    // MV = 260,002 + 0.9 · 65,000.5 + 0.95 · 2,499.5 = 320,876.975.
    assert_eq!(report["total_value"], "327502.00");
    assert_eq!(report["margin_value"], "320876.975");
    assert_eq!(report["maintenance_requirement"], "25000.50");
    assert_eq!(report["liquidatable"], false);

    // The balance the leaf commits is the one shown: another amount is not included.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    forged["account"]["balances"][0]["amount"] = "1.00000001".into();
    std::fs::write(&proof, serde_json::to_vec(&forged).unwrap()).unwrap();
    let out = backstop(&["inclusion", "verify", s(&proof), "--epoch", s(&e.dir)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("a collateral amount, the salt or a sibling differs"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn other_keys_are_refused_and_the_calldata_is_the_v2_contracts() {
    let e = epoch();
    let tmp = tempfile::tempdir().unwrap();
    // Keys of the flat, collateral-free shape cannot prove the book.
    let v1_keys = tmp.path().join("keys-v1");
    ok(
        &backstop(&[
            "setup",
            "--batch-size",
            "8",
            "--markets",
            "2",
            "--keys",
            s(&v1_keys),
        ]),
        "setup (risk model v1)",
    );
    refused(
        &backstop(&[
            "prove",
            "--snapshot",
            s(&book()),
            "--out",
            s(&tmp.path().join("v1")),
            "--keys",
            s(&v1_keys),
        ]),
        "prove with risk model v1 keys",
        "backstop.v2.B8.M2.T3.A2",
    );
    // The epoch contract carries it: the calldata is the risk model v2 contract's
    // submission (docs/ONCHAIN.md; cli/tests/onchain.rs runs it in an EVM).
    let calldata = backstop(&["export", "calldata", s(&e.dir)]);
    ok(&calldata, "export calldata");
    let selector = backstop_prover::export::onchain::abi::selector(
        backstop_prover::export::onchain::SUBMIT_EPOCH_V2,
    );
    assert!(
        text(&calldata.stdout).starts_with(&format!("0x{}", hex::encode(selector))),
        "{}",
        text(&calldata.stdout)
    );
}

/// `backstop attest` under risk model v2: the ratio on the margin value against the
/// tiered requirement, the shape with its brackets and assets recorded in the keys
/// and the file, verified by `verify-attestation` with the trusted key; a false
/// claim is refused by the prover, and a file whose claim is raised afterwards by
/// the verifier.
#[test]
fn a_margin_attestation_under_risk_model_v2_verifies() {
    let e = epoch();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("attest-keys");
    let file = tmp.path().join("attestation.json");
    let attest = |ratio: &str, out: &Path| {
        backstop(&[
            "attest",
            "--epoch",
            s(&e.dir),
            "--snapshot",
            s(&book()),
            "--account",
            "1",
            "--secret-file",
            s(&e.root.path().join("secret.hex")),
            "--min-margin-ratio",
            ratio,
            "--min-equity",
            "100",
            "--context",
            "desk-7",
            "--keys",
            s(&keys),
            "--out",
            s(out),
        ])
    };
    let made = attest("1.5", &file);
    ok(&made, "attest (risk model v2)");
    assert!(
        text(&made.stderr).contains("MV >= 1.5 x MR"),
        "{}",
        text(&made.stderr)
    );
    let desc: Value =
        serde_json::from_slice(&std::fs::read(keys.join("attestation_keys.json")).unwrap())
            .unwrap();
    assert_eq!(desc["shape"], "backstop.attest.v1.M2.T3.A2");
    assert_eq!(
        (&desc["markets"], &desc["brackets"], &desc["assets"]),
        (&Value::from(2), &Value::from(3), &Value::from(2))
    );
    let att: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(att["shape"], "backstop.attest.v1.M2.T3.A2");
    let verified = backstop(&[
        "verify-attestation",
        s(&file),
        "--epoch",
        s(&e.dir),
        "--key",
        s(&keys.join("verifying_key.bin")),
        "--json",
    ]);
    ok(&verified, "verify-attestation (risk model v2)");
    let v: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(v["report"]["risk_model_v2"], Value::Bool(true));
    assert_eq!(v["report"]["min_margin_ratio"], "1.5");
    let plain = backstop(&["verify-attestation", s(&file), "--epoch", s(&e.dir)]);
    ok(&plain, "verify-attestation (text)");
    assert!(text(&plain.stdout).contains("margin value (collateral at its haircut) >= 1.5"));

    // A false claim: the prover refuses it, with the exact values.
    refused(
        &attest("400000", &tmp.path().join("false.json")),
        "attest (a false claim)",
        "does not satisfy the claim: 10^4·MV'",
    );
    // The claim raised in the file after proving: the proof does not verify.
    let mut raised = att.clone();
    raised["claim"]["min_margin_ratio"] = Value::from("1.6");
    let raised_file = tmp.path().join("raised.json");
    std::fs::write(&raised_file, serde_json::to_vec_pretty(&raised).unwrap()).unwrap();
    refused(
        &backstop(&[
            "verify-attestation",
            s(&raised_file),
            "--epoch",
            s(&e.dir),
            "--key",
            s(&keys.join("verifying_key.bin")),
        ]),
        "verify-attestation (claim raised)",
        "public_input",
    );
}

/// A `statement.json` that repeats a key (at the top level, or a symbol inside
/// `asset_solvency`) is refused, not read with one of its values: a reader of the
/// file could be shown the other.
#[test]
fn a_statement_that_repeats_a_key_is_refused() {
    let e = epoch();
    let honest = std::fs::read_to_string(e.dir.join("statement.json")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (what, needle, repeated) in [
        (
            "solvent",
            "\"solvent\": true",
            "\"solvent\": false, \"solvent\": true",
        ),
        (
            "asset_solvency",
            "\"WBTC\": true",
            "\"WBTC\": false, \"WBTC\": true",
        ),
    ] {
        assert!(honest.contains(needle), "{needle} not in the statement");
        let dir = tmp.path().join(what);
        common::copy_dir(&e.dir, &dir);
        std::fs::write(
            dir.join("statement.json"),
            honest.replacen(needle, repeated, 1),
        )
        .unwrap();
        refused(
            &backstop(&["verify", s(&dir), "--key", s(&e.keys)]),
            &format!("verify with {what} repeated"),
            "duplicate",
        );
    }
}
