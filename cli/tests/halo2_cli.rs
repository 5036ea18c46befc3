//! The transparent path end to end, as real processes on real files: `backstop
//! setup --backend halo2` caches IPA parameters, `backstop prove --backend halo2`
//! writes an epoch of real halo2 proofs, and `backstop verify`, the standalone
//! `backstop-verify` and `backstop audit` pick the halo2 verifier from
//! `statement.json`. Every tampering (a flipped byte, a truncated or swapped proof,
//! a changed output, hence a wrong public input) is rejected, naming the batch.
//!
//! One epoch is proven once and shared: a generated squeeze book of 20 accounts in
//! 2 markets at `B = 8` (3 batches).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::statement::PublicOutputs;
use backstop_verifier::artifacts::proof_path;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;

mod common;
use common::{
    ProvenEpoch, backstop, backstop_verify_bin, copy_dir, inclusion_prove, ok, prove_epoch,
    refused, s, text,
};

const SECRET_HEX: &str = "0badc0ffee0ddf00d0000000000000000000000000000000000000000000c0de";
const BATCHES: u64 = 3;

/// Parameters, snapshot and proven epoch, made once by the CLI.
fn epoch() -> &'static ProvenEpoch {
    static EPOCH: OnceLock<ProvenEpoch> = OnceLock::new();
    EPOCH.get_or_init(|| prove_epoch("halo2", "squeeze", "20", "2", SECRET_HEX))
}

fn verify(dir: &Path) -> Output {
    backstop(&["verify", s(dir), "--params", s(&epoch().keys)])
}

/// A private copy of the shared epoch, changed by `tamper`.
fn tampered(tamper: impl FnOnce(&Path)) -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    copy_dir(&epoch().dir, &dir);
    tamper(&dir);
    (tmp, dir)
}

fn edit_statement(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("statement.json");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

#[test]
fn setup_caches_transparent_parameters() {
    let e = epoch();
    assert!(
        e.setup_stderr.contains("no trusted setup"),
        "{}",
        e.setup_stderr
    );
    assert!(
        !e.setup_stderr.contains("single-party"),
        "halo2 has no setup to trust:\n{}",
        e.setup_stderr
    );
    let files: Vec<String> = std::fs::read_dir(&e.keys)
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("ipa-pasta-k"), "{files:?}");
}

#[test]
fn a_halo2_epoch_verifies_with_every_verifier() {
    let e = epoch();
    let statement: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("statement.json")).unwrap()).unwrap();
    assert_eq!(statement["backend"], "halo2-pasta");
    assert_eq!(statement["batch_count"], BATCHES.to_string());
    assert!(
        !e.dir.join("verifying_key.bin").exists(),
        "a halo2 epoch carries no key: it is derived from the shape"
    );
    for b in 0..BATCHES {
        let len = std::fs::metadata(proof_path(&e.dir, b)).unwrap().len();
        assert!((1_000..100_000).contains(&len), "batch {b}: {len} bytes");
    }

    let out = verify(&e.dir);
    ok(&out, "verify");
    assert!(text(&out.stdout).contains("3 halo2 batch proofs"));
    let out = backstop(&["verify", s(&e.dir), "--params", s(&e.keys), "--json"]);
    ok(&out, "verify --json");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["backend"], "halo2-pasta");
    let evaluated = backstop(&["evaluate", "--snapshot", s(&e.snapshot)]);
    ok(&evaluated, "evaluate");
    let native: PublicOutputs = serde_json::from_slice(&evaluated.stdout).unwrap();
    let proven: PublicOutputs = serde_json::from_value(report["outputs"].clone()).unwrap();
    assert_eq!(proven, native);

    let out = Command::new(backstop_verify_bin())
        .args([s(&e.dir), "--params", s(&e.keys)])
        .output()
        .unwrap();
    ok(&out, "backstop-verify");
    assert!(text(&out.stdout).starts_with("verified:"));

    let out = backstop(&[
        "audit",
        s(&e.dir),
        "--params",
        s(&e.keys),
        "--format",
        "json",
    ]);
    ok(&out, "audit");
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["backend"], "halo2-pasta");
    assert_eq!(audit["verified"], true);
    let text = audit.to_string();
    assert!(text.contains("3 of 3 halo2 proofs verified"), "{text}");
    assert!(text.contains("Setup: none to trust"), "{text}");
}

/// Flips one bit in the middle of batch `b`'s proof in epoch directory `d`.
fn flip_middle_byte(d: &Path, b: u64) {
    let path = proof_path(d, b);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_flipped_byte_is_rejected() {
    let (_tmp, dir) = tampered(|d| flip_middle_byte(d, 1));
    refused(
        &verify(&dir),
        "flipped byte",
        "batch 1: proof does not verify",
    );
}

#[test]
fn a_truncated_proof_is_rejected() {
    let (_tmp, dir) = tampered(|d| {
        let path = proof_path(d, 2);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(path, &bytes[..bytes.len() - 64]).unwrap();
    });
    refused(
        &verify(&dir),
        "truncated proof",
        "batch 2: proof does not verify",
    );
}

#[test]
fn swapped_proofs_are_rejected() {
    let (_tmp, dir) = tampered(|d| {
        let a = std::fs::read(proof_path(d, 0)).unwrap();
        let b = std::fs::read(proof_path(d, 1)).unwrap();
        std::fs::write(proof_path(d, 0), b).unwrap();
        std::fs::write(proof_path(d, 1), a).unwrap();
    });
    refused(
        &verify(&dir),
        "swapped proofs",
        "batch 0: proof does not verify",
    );
}

/// A changed output changes the last batch's public input `x_b` (the outputs hash
/// `O` is in every `x_b`), so a proof made for the true one fails.
#[test]
fn a_changed_output_is_a_wrong_public_input() {
    let (_tmp, dir) = tampered(|d| {
        edit_statement(d, |v| {
            let solvent = v["solvent"].as_bool().unwrap();
            v["solvent"] = Value::Bool(!solvent);
        });
    });
    refused(&verify(&dir), "flipped solvent", "proof does not verify");
    let (_tmp, dir) = tampered(|d| {
        edit_statement(d, |v| {
            let ids = v["liquidations"].as_array_mut().unwrap();
            if ids.is_empty() {
                ids.push(Value::String("1".into()));
            } else {
                ids.pop();
            }
        });
    });
    refused(
        &verify(&dir),
        "changed liquidation set",
        "proof does not verify",
    );
}

#[test]
fn a_groth16_key_or_backend_is_refused() {
    let e = epoch();
    let vk = e.keys.join("not-a-key.bin");
    std::fs::write(&vk, [0u8; 8]).unwrap();
    // A key for a transparent epoch: refused by name before anything else.
    let key = tempfile::tempdir().unwrap();
    let keys_dir = key.path().join("keys");
    ok(
        &backstop(&[
            "setup",
            "--batch-size",
            "8",
            "--markets",
            "2",
            "--keys",
            s(&keys_dir),
        ]),
        "groth16 setup",
    );
    let out = backstop(&[
        "verify",
        s(&e.dir),
        "--params",
        s(&e.keys),
        "--key",
        s(&keys_dir.join("verifying_key.bin")),
    ]);
    refused(&out, "--key for halo2", "has no trusted key");
    std::fs::remove_file(vk).unwrap();

    // Relabelled as a Groth16 epoch: it has no Groth16 key or proofs.
    let (_tmp, dir) = tampered(|d| edit_statement(d, |v| v["backend"] = "groth16-bn254".into()));
    refused(&verify(&dir), "relabelled backend", "verifying_key.bin");
}

#[test]
fn a_stray_or_missing_proof_is_rejected() {
    let (_tmp, dir) = tampered(|d| std::fs::remove_file(proof_path(d, 2)).unwrap());
    refused(&verify(&dir), "missing proof", "batch 2: proof missing");
    let (_tmp, dir) = tampered(|d| {
        std::fs::copy(proof_path(d, 0), proof_path(d, BATCHES)).unwrap();
    });
    refused(&verify(&dir), "extra proof", "not a proof of any");
}

/// An account owner checks their inclusion in a halo2 epoch and, with
/// `--check-proofs`, the epoch's halo2 batch proofs; a tampered proof is refused.
#[test]
fn inclusion_verify_checks_halo2_batch_proofs() {
    let e = epoch();
    let accounts = std::fs::read_to_string(e.snapshot.join("accounts.csv")).unwrap();
    let id = accounts.lines().nth(1).unwrap().split(',').next().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let proof = tmp.path().join("inclusion.json");
    ok(
        &inclusion_prove(e, id, &proof),
        "inclusion prove on a halo2 epoch",
    );
    let check = |dir: &Path| {
        backstop(&[
            "inclusion",
            "verify",
            s(&proof),
            "--epoch",
            s(dir),
            "--check-proofs",
            "--params",
            s(&e.keys),
            "--json",
        ])
    };
    let out = check(&e.dir);
    ok(&out, "inclusion verify --check-proofs on a halo2 epoch");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["included"], true);
    assert_eq!(report["epoch_proofs_checked"], true);

    let (_tmp, dir) = tampered(|d| flip_middle_byte(d, 1));
    refused(
        &check(&dir),
        "flipped byte",
        "batch 1: proof does not verify",
    );
}
