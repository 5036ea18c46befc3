//! `backstop prove --disclose-liabilities` (`docs/SPEC.md` §6.4), in both backends:
//! the disclosed `L` is the native engine's, exactly; `verify` and `audit` accept it
//! and say it; and a statement whose `liabilities` is changed, removed, or added to
//! an epoch that keeps `L` hidden is refused by the proofs, after being signed again
//! by the venue (so that the signature is not what refuses it).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::format_scaled;
use backstop_circuits::native::evaluate;
use backstop_circuits::snapshot;
use serde_json::Value;
use std::path::Path;

mod common;
use common::{
    ProvenEpoch, backstop, edited_signed_copy, inclusion_prove, ok, prove_epoch_with,
    read_statement, refused, s, text,
};

const SECRET_HEX: &str = "5eed000000000000000000000000000000000000000000000000000000000001";

/// The flash-crash book of 9 accounts over 2 markets (two batches of 8), proven
/// with `extra` arguments to `prove`.
fn epoch(backend: &str, extra: &[&str]) -> ProvenEpoch {
    prove_epoch_with(backend, "flash-crash", "9", "2", SECRET_HEX, extra)
}

/// `backstop COMMAND DIR` (`verify` or `audit`) with the arguments every verifier of
/// `backend` takes besides the epoch directory (halo2: the epoch's IPA parameters).
fn check(command: &str, backend: &str, e: &ProvenEpoch, dir: &Path) -> std::process::Output {
    let mut args = vec![command, s(dir)];
    if backend == "halo2" {
        args.extend(["--params", s(&e.keys)]);
    }
    backstop(&args)
}

/// `backstop verify DIR` (with the backend's arguments) on a copy of the epoch whose
/// statement is `edit`ed and signed again with the (demo) venue key.
fn verify_edited(
    backend: &str,
    e: &ProvenEpoch,
    edit: impl FnOnce(&mut Value),
) -> std::process::Output {
    let (_tmp, dir) = edited_signed_copy(&e.dir, edit);
    check("verify", backend, e, &dir)
}

/// One less unit in the last place of an exact decimal ("12.50" → "12.49").
fn one_unit_less(text: &str) -> String {
    let mut digits: Vec<u8> = text.bytes().collect();
    for d in digits.iter_mut().rev() {
        match *d {
            b'.' => continue,
            b'0' => *d = b'9',
            _ => {
                *d -= 1;
                break;
            }
        }
    }
    String::from_utf8(digits).unwrap()
}

fn disclosed_liabilities_are_bound(backend: &str) {
    let e = epoch(backend, &["--disclose-liabilities"]);
    let statement = read_statement(&e.dir);
    // The disclosed L is the native engine's, exactly.
    let snap = snapshot::load(&e.snapshot).unwrap();
    let eval = evaluate(&snap);
    let expected = format_scaled(
        eval.total_liabilities,
        eval.exponent,
        snap.params().quote_decimals(),
    );
    assert_eq!(statement["liabilities"], Value::String(expected.clone()));

    let out = check("verify", backend, &e, &e.dir);
    ok(&out, "verify a disclosed epoch");
    assert!(
        text(&out.stdout).contains(&expected),
        "verify prints L: {}",
        text(&out.stdout)
    );
    let out = check("audit", backend, &e, &e.dir);
    ok(&out, "audit a disclosed epoch");
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!("L = {expected} quote units, exactly")),
        "{report}"
    );
    assert!(!report.contains("Liabilities L are proven against reserves but not published"));

    // Inclusion proofs of a disclosed epoch: the snapshot matches its statement.
    let first = snap.accounts()[0].id().to_string();
    let proof = e.root.path().join("inclusion.json");
    ok(
        &inclusion_prove(&e, &first, &proof),
        "inclusion prove on a disclosed epoch",
    );
    ok(
        &backstop(&["inclusion", "verify", s(&proof), "--epoch", s(&e.dir)]),
        "inclusion verify on a disclosed epoch",
    );

    let why = "proof does not verify";
    let less = one_unit_less(&expected);
    refused(
        &verify_edited(backend, &e, |v| v["liabilities"] = Value::String(less)),
        "one unit less liabilities",
        why,
    );
    refused(
        &verify_edited(backend, &e, |v| {
            v.as_object_mut().unwrap().remove("liabilities");
        }),
        "liabilities removed (L hidden after the fact)",
        why,
    );

    // An epoch that keeps L hidden: publishing any L is refused, the true one too.
    let hidden = epoch(backend, &[]);
    assert!(read_statement(&hidden.dir).get("liabilities").is_none());
    let out = check("audit", backend, &hidden, &hidden.dir);
    ok(&out, "audit a hidden epoch");
    assert!(
        text(&out.stdout).contains("Liabilities L are proven against reserves but not published")
    );
    refused(
        &verify_edited(backend, &hidden, |v| {
            v["liabilities"] = Value::String(expected.clone())
        }),
        "the true L added to an epoch proven with L hidden",
        why,
    );
}

#[test]
fn disclosed_liabilities_are_bound_in_groth16() {
    disclosed_liabilities_are_bound("groth16");
}

#[test]
fn disclosed_liabilities_are_bound_in_halo2() {
    disclosed_liabilities_are_bound("halo2");
}
