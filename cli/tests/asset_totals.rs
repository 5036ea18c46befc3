//! `backstop prove --disclose-asset-totals` (risk model v2, `docs/SPEC.md` §2.3,
//! §6.4), Groth16 through the CLI: `evaluate` prints the chosen totals, `prove`
//! publishes exactly them in `asset_totals` (the native engine's `h_c`, exact),
//! `verify` and `audit` accept the epoch and `audit` shows each total beside its
//! asset's solvency; a statement whose `asset_totals` is changed, removed, added to
//! or relabelled is refused by the proofs after being signed again by the venue (so
//! that the signature is not what refuses it); unknown symbols and snapshots without
//! assets are refused by name.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

mod common;
use common::{
    ProvenEpoch, backstop, copy_dir, edited_signed_copy, ok, prove_v2_epoch_with, read_statement,
    refused, s, statement_sign, text,
};

const SECRET_HEX: &str = "5eed000000000000000000000000000000000000000000000000000000000017";

/// The catalogue's worked risk model v2 book (BTC with three brackets, ETH flat,
/// WBTC and USDT collateral; 3 accounts).
fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../circuits/tests/bad_snapshots/valid_v2")
}

fn evaluate(extra: &[&str]) -> Value {
    let book = book();
    let mut args = vec!["evaluate", "--snapshot", s(&book)];
    args.extend(extra);
    let out = backstop(&args);
    ok(&out, "evaluate");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `backstop verify` on a copy of the epoch whose statement is `edit`ed and signed
/// again with the (demo) venue key.
fn verify_edited(e: &ProvenEpoch, edit: impl FnOnce(&mut Value)) -> std::process::Output {
    let (_tmp, dir) = edited_signed_copy(&e.dir, edit);
    backstop(&["verify", s(&dir)])
}

#[test]
fn evaluate_prints_the_chosen_totals_and_refuses_unknown_ones() {
    let hidden = evaluate(&[]);
    assert!(hidden.get("asset_totals").is_none(), "hidden by default");
    let all = evaluate(&["--disclose-asset-totals", "all"]);
    let totals = all["asset_totals"].as_object().unwrap();
    assert_eq!(totals.len(), 2);
    // Printed in declaration order (the map read back here is sorted).
    let printed = text(
        &backstop(&[
            "evaluate",
            "--snapshot",
            s(&book()),
            "--disclose-asset-totals",
            "all",
        ])
        .stdout,
    );
    assert!(
        printed.contains(&format!(
            r#""asset_totals":{{"WBTC":{},"USDT":{}}}"#,
            totals["WBTC"], totals["USDT"]
        )),
        "{printed}"
    );
    let wbtc = evaluate(&["--disclose-asset-totals", "WBTC"]);
    assert_eq!(wbtc["asset_totals"], json!({"WBTC": totals["WBTC"]}));
    // Everything else is the same object.
    let mut without = wbtc.clone();
    without.as_object_mut().unwrap().remove("asset_totals");
    assert_eq!(without, hidden);

    refused(
        &backstop(&[
            "evaluate",
            "--snapshot",
            s(&book()),
            "--disclose-asset-totals",
            "DOGE",
        ]),
        "an unknown symbol",
        "\"DOGE\": not a declared collateral asset (declared: WBTC, USDT)",
    );
    refused(
        &backstop(&[
            "evaluate",
            "--snapshot",
            s(&book()),
            "--disclose-asset-totals",
            "WBTC,",
        ]),
        "an empty symbol",
        "expected comma-separated asset symbols or `all`",
    );
    // A risk model v1 snapshot has no per-asset totals.
    let tmp = tempfile::tempdir().unwrap();
    let v1 = tmp.path().join("v1");
    ok(
        &backstop(&[
            "fixtures",
            "--scenario",
            "calm",
            "--accounts",
            "4",
            "--markets",
            "2",
            "--out",
            s(&v1),
        ]),
        "fixtures",
    );
    let why = "the snapshot declares no collateral assets";
    refused(
        &backstop(&[
            "evaluate",
            "--snapshot",
            s(&v1),
            "--disclose-asset-totals",
            "all",
        ]),
        "evaluate without assets",
        why,
    );
    refused(
        &backstop(&[
            "prove",
            "--snapshot",
            s(&v1),
            "--out",
            s(&tmp.path().join("epoch")),
            "--disclose-asset-totals",
            "all",
        ]),
        "prove without assets",
        why,
    );
}

#[test]
fn a_disclosed_total_is_published_verified_audited_and_bound() {
    let e = prove_v2_epoch_with(
        &book(),
        "2",
        "3",
        "2",
        SECRET_HEX,
        &["--disclose-asset-totals", "WBTC"],
    );
    let statement = read_statement(&e.dir);
    let all = evaluate(&["--disclose-asset-totals", "all"]);
    let (wbtc, usdt) = (
        all["asset_totals"]["WBTC"].as_str().unwrap().to_owned(),
        all["asset_totals"]["USDT"].as_str().unwrap().to_owned(),
    );
    // The statement's outputs are `evaluate --disclose-asset-totals WBTC`'s.
    assert_eq!(statement["asset_totals"], json!({"WBTC": wbtc}));
    assert!(!text(&std::fs::read(e.dir.join("statement.json")).unwrap()).contains(&usdt));

    ok(&backstop(&["verify", s(&e.dir)]), "verify");
    let out = backstop(&["audit", s(&e.dir)]);
    let report = text(&out.stdout);
    assert!(
        report.contains(
            "asset_solvency[WBTC] = true: the WBTC owed to accounts holding it <= the venue's"
        ) && report.contains(&format!("proven exact: {wbtc} WBTC")),
        "{report}"
    );
    assert!(
        report.contains("asset_solvency[USDT] = true") && !report.contains(&usdt),
        "{report}"
    );

    let why = "proof does not verify";
    let one_more = {
        let mut v = wbtc.clone();
        let last = v.pop().unwrap();
        assert!(last < '9', "{wbtc}");
        v.push(char::from(last as u8 + 1));
        v
    };
    refused(
        &verify_edited(&e, |v| v["asset_totals"]["WBTC"] = Value::String(one_more)),
        "a changed total",
        why,
    );
    refused(
        &verify_edited(&e, |v| {
            v.as_object_mut().unwrap().remove("asset_totals");
        }),
        "the totals removed",
        why,
    );
    refused(
        &verify_edited(&e, |v| {
            v["asset_totals"]["USDT"] = Value::String(usdt.clone())
        }),
        "the true USDT total added",
        why,
    );
    // WBTC's total as USDT's (written with USDT's 6 places, so that it parses).
    let (whole, fraction) = wbtc.split_once('.').unwrap();
    let relabelled = format!("{whole}.{}", &fraction[..6]);
    assert!(fraction[6..].bytes().all(|b| b == b'0'), "{wbtc}");
    refused(
        &verify_edited(&e, |v| v["asset_totals"] = json!({"USDT": relabelled})),
        "the total relabelled to another asset",
        why,
    );
    // An undeclared asset: refused when read (`statement sign` too, so it is not
    // signed again).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    copy_dir(&e.dir, &dir);
    let mut edited = read_statement(&dir);
    edited["asset_totals"]["DOGE"] = json!("1");
    std::fs::write(
        dir.join("statement.json"),
        serde_json::to_vec(&edited).unwrap(),
    )
    .unwrap();
    refused(
        &statement_sign(&dir, None),
        "signing an undeclared asset's total",
        "asset_totals: \"DOGE\" is not a declared asset",
    );
    refused(
        &backstop(&["verify", s(&dir)]),
        "an undeclared asset",
        "asset_totals: \"DOGE\" is not a declared asset",
    );
}
