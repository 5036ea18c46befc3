//! `export_snarkjs` checked by snarkjs itself: a small epoch is proven with arkworks,
//! exported, and verified with the pinned `snarkjs groth16 verify`; tampered inputs
//! and proofs must be rejected.
//!
//! Needs Node.js and npm: when `scripts/node/node_modules` is missing the test runs
//! `scripts/node/setup` (`npm ci`) first. Without node/npm it fails, naming them.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::inputs::open_input_count;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_fixtures::{FixtureSpec, Scenario, generate};
use backstop_prover::ProverError;
use backstop_prover::export::snarkjs::{
    SnarkjsProof, SnarkjsVerificationKey, VERIFICATION_KEY_FILE, export_snarkjs, proof_file_name,
    public_file_name,
};
use backstop_prover::groth16::{prove_epoch, write_epoch_dir};
use backstop_prover::keys::Groth16Keys;
use backstop_verifier::{VerifyError, read_statement, verify_epoch_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node")
}

fn tool_version(tool: &str) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The pinned snarkjs binary, installed by `scripts/node/setup` if missing.
fn snarkjs() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let Some(node) = tool_version("node") else {
            panic!(
                "this test runs snarkjs and needs Node.js: `node` is not on PATH. \
                 Install Node.js (>= 18) and npm, then rerun."
            );
        };
        let bin = node_dir().join("node_modules/.bin/snarkjs");
        if !bin.exists() {
            if tool_version("npm").is_none() {
                panic!(
                    "snarkjs is not installed in scripts/node/node_modules and `npm` is not on \
                     PATH to install it; install npm (node {node} is present) and rerun, or run \
                     scripts/node/setup."
                );
            }
            let out = Command::new("bash")
                .arg(node_dir().join("setup"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "scripts/node/setup failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(bin.exists(), "{} missing after setup", bin.display());
        bin
    })
}

fn snarkjs_version() -> String {
    let pkg: Value = serde_json::from_str(
        &std::fs::read_to_string(node_dir().join("node_modules/snarkjs/package.json")).unwrap(),
    )
    .unwrap();
    pkg["version"].as_str().unwrap().to_owned()
}

/// Runs `snarkjs groth16 verify VK PUBLIC PROOF` in `dir`.
fn snarkjs_verify(dir: &Path, public: &str, proof: &str) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(snarkjs())
        .current_dir(dir)
        .args(["groth16", "verify", VERIFICATION_KEY_FILE, public, proof])
        .output()
        .unwrap();
    (out, start.elapsed())
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_accepted(dir: &Path, public: &str, proof: &str) -> Duration {
    let (out, took) = snarkjs_verify(dir, public, proof);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK"),
        "snarkjs rejected {public} / {proof}:\n{}",
        text(&out)
    );
    took
}

/// Asserts that snarkjs rejects the pair, printing `reason` (part of its output).
fn assert_rejected(dir: &Path, public: &str, proof: &str, what: &str, reason: &str) {
    let (out, _) = snarkjs_verify(dir, public, proof);
    let all = text(&out);
    assert!(
        !out.status.success() && !all.contains("OK!"),
        "snarkjs accepted {what}:\n{all}"
    );
    eprintln!(
        "{what}: rejected ({})",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    assert!(
        all.contains(reason),
        "snarkjs rejected {what}, but not with {reason:?}:\n{all}"
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &impl serde::Serialize) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// `s + 1` for a non-negative decimal string.
fn decimal_plus_one(s: &str) -> String {
    let mut digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, 1);
            break;
        }
        i -= 1;
        if digits[i] == 9 {
            digits[i] = 0;
        } else {
            digits[i] += 1;
            break;
        }
    }
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// The BN254 base field modulus p.
const P: &str = "21888242871839275222246405745257275088696311157297823662689037894645226208583";

/// `a − b` for decimal strings with `a ≥ b ≥ 0`.
fn decimal_minus(a: &str, b: &str) -> String {
    let a: Vec<i32> = a.bytes().rev().map(|c| i32::from(c - b'0')).collect();
    let b: Vec<i32> = b.bytes().rev().map(|c| i32::from(c - b'0')).collect();
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0;
    for (i, &d) in a.iter().enumerate() {
        let mut v = d - borrow - b.get(i).copied().unwrap_or(0);
        borrow = i32::from(v < 0);
        v += 10 * borrow;
        out.push(v);
    }
    assert_eq!(borrow, 0, "a < b");
    while out.len() > 1 && out.last() == Some(&0) {
        out.pop();
    }
    out.iter()
        .rev()
        .map(|&d| char::from(b'0' + d as u8))
        .collect()
}

#[test]
fn decimal_helpers() {
    assert_eq!(decimal_plus_one("0"), "1");
    assert_eq!(decimal_plus_one("199"), "200");
    assert_eq!(decimal_plus_one("999"), "1000");
    assert_eq!(decimal_minus("1000", "1"), "999");
    assert_eq!(decimal_minus("583", "583"), "0");
    assert_eq!(
        decimal_minus(P, "2"),
        "21888242871839275222246405745257275088696311157297823662689037894645226208581"
    );
}

#[test]
fn snarkjs_verifies_every_exported_batch_and_rejects_tampering() {
    let bin = snarkjs(); // fail early (and install) before the proving work
    let tmp = tempfile::tempdir().unwrap();
    let epoch_dir = tmp.path().join("epoch");
    let out_dir = tmp.path().join("snarkjs");

    // 13 accounts in batches of 8: two batches, the second one padded. (Setup and
    // proving dominate the test's time: several seconds of CPU per batch here.)
    let snapshot = generate(&FixtureSpec {
        scenario: Scenario::FlashCrash,
        accounts: 13,
        markets: 2,
        seed: 11,
    })
    .unwrap();
    let start = Instant::now();
    let keys = Groth16Keys::setup(CircuitShape::new(8, 2).unwrap()).unwrap();
    let setup = start.elapsed();
    let proof = prove_epoch(&snapshot, &VenueSecret::demo(), &keys, &|_| {}).unwrap();
    let prove = start.elapsed() - setup;
    write_epoch_dir(&epoch_dir, &proof, &keys).unwrap();
    verify_epoch_dir(&epoch_dir, None).unwrap();
    eprintln!(
        "setup {setup:?}, prove {prove:?}, write + arkworks verify {:?}",
        start.elapsed() - setup - prove
    );

    let summary = export_snarkjs(&epoch_dir, &out_dir).unwrap();
    assert_eq!(summary.batch_count, 2);
    assert_eq!(summary.out_dir, out_dir);
    assert_eq!(summary.verifying_key_hash, keys.verifying_key_hash());

    // The files, and their contents against the statement.
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "proof_0.json",
            "proof_1.json",
            "public_0.json",
            "public_1.json",
            "verification_key.json"
        ]
    );
    let expected_inputs: Vec<Vec<String>> = read_statement(&epoch_dir)
        .unwrap()
        .public_inputs::<Bn254Poseidon>()
        .unwrap()
        .iter()
        .map(|x| x.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(summary.public_inputs, expected_inputs);
    let inputs = open_input_count(2);
    for (b, x) in expected_inputs.iter().enumerate() {
        assert_eq!(x.len(), inputs);
        let public = read_json(&out_dir.join(public_file_name(b as u64)));
        assert_eq!(public, serde_json::json!(x));
        let p: SnarkjsProof =
            serde_json::from_value(read_json(&out_dir.join(proof_file_name(b as u64)))).unwrap();
        assert_eq!(
            (p.protocol.as_str(), p.curve.as_str()),
            ("groth16", "bn128")
        );
        assert_eq!(p.pi_a[2], "1");
        assert_eq!(p.pi_b[2], ["1", "0"]);
    }
    let vk_json = read_json(&out_dir.join(VERIFICATION_KEY_FILE));
    let vk: SnarkjsVerificationKey = serde_json::from_value(vk_json.clone()).unwrap();
    assert_eq!(vk.n_public, inputs);
    assert_eq!(vk.ic.len(), inputs + 1);
    assert_eq!(
        vk_json["nPublic"], inputs,
        "nPublic is a JSON number, as snarkjs writes it"
    );

    // snarkjs accepts every batch.
    let mut times = Vec::new();
    for b in 0..summary.batch_count {
        times.push(assert_accepted(
            &out_dir,
            &public_file_name(b),
            &proof_file_name(b),
        ));
    }
    eprintln!(
        "snarkjs {} ({}): `groth16 verify` wall time per proof: {times:?}",
        snarkjs_version(),
        bin.display()
    );

    // All batches in one Node process: vk_alphabeta_12 is snarkjs's own e(α, β), and
    // in-process verification times.
    let out = Command::new("node")
        .arg(node_dir().join("verify-export.mjs"))
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "verify-export.mjs: {}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["alphabeta_matches"], true, "{report}");
    assert_eq!(report["batches"].as_array().unwrap().len(), 2, "{report}");
    eprintln!("verify-export.mjs: {report}");

    // Tampering. Each public input of batch 0 changed by one.
    for i in 0..inputs {
        let mut x0 = summary.public_inputs[0].clone();
        x0[i] = decimal_plus_one(&x0[i]);
        write_json(&out_dir.join("public_x.json"), &x0);
        assert_rejected(
            &out_dir,
            "public_x.json",
            "proof_0.json",
            &format!("input {i} of batch 0 plus one"),
            "Invalid proof",
        );
    }
    // Another batch's (valid) input: the pairing check itself must fail.
    assert_rejected(
        &out_dir,
        "public_1.json",
        "proof_0.json",
        "x_1 for proof 0",
        "Invalid proof",
    );
    // A proof coordinate changed by one (A.x, then C.y).
    let proof0: SnarkjsProof =
        serde_json::from_value(read_json(&out_dir.join("proof_0.json"))).unwrap();
    let mut bad = proof0.clone();
    bad.pi_a[0] = decimal_plus_one(&bad.pi_a[0]);
    write_json(&out_dir.join("proof_x.json"), &bad);
    assert_rejected(&out_dir, "public_0.json", "proof_x.json", "A.x + 1", "");
    let mut bad = proof0.clone();
    bad.pi_c[1] = decimal_plus_one(&bad.pi_c[1]);
    write_json(&out_dir.join("proof_x.json"), &bad);
    assert_rejected(&out_dir, "public_0.json", "proof_x.json", "C.y + 1", "");
    // A replaced by −A = (x, p − y): still a curve point, so only the pairing
    // check can catch it.
    let mut bad = proof0.clone();
    bad.pi_a[1] = decimal_minus(P, &bad.pi_a[1]);
    write_json(&out_dir.join("proof_x.json"), &bad);
    assert_rejected(
        &out_dir,
        "public_0.json",
        "proof_x.json",
        "A negated",
        "Invalid proof",
    );
    // The other Fq2 order for B: snarkjs must reject it, so acceptance above
    // really pins the (c0, c1) order.
    let mut bad = proof0.clone();
    for coord in &mut bad.pi_b[..2] {
        coord.swap(0, 1);
    }
    write_json(&out_dir.join("proof_x.json"), &bad);
    assert_rejected(
        &out_dir,
        "public_0.json",
        "proof_x.json",
        "B with (c1, c0) order",
        "",
    );
    // Sanity: the untampered pair still verifies after all that.
    assert_accepted(&out_dir, "public_0.json", "proof_0.json");

    // Re-exporting replaces a previous export, but not a directory with other files
    // (public_x.json / proof_x.json are not export files).
    let err = export_snarkjs(&epoch_dir, &out_dir).unwrap_err();
    assert!(
        matches!(&err, ProverError::Export(m) if m.contains("public_x.json") || m.contains("proof_x.json")),
        "{err}"
    );
    std::fs::remove_file(out_dir.join("public_x.json")).unwrap();
    std::fs::remove_file(out_dir.join("proof_x.json")).unwrap();
    std::fs::write(out_dir.join("proof_7.json"), "stale").unwrap();
    let again = export_snarkjs(&epoch_dir, &out_dir).unwrap();
    assert_eq!(again, summary);
    assert!(
        !out_dir.join("proof_7.json").exists(),
        "stale files do not survive"
    );
    assert_eq!(
        read_json(&out_dir.join(VERIFICATION_KEY_FILE)),
        vk_json,
        "deterministic"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary directories left: {leftovers:?}"
    );

    // A statement naming another key is refused.
    let stmt_path = epoch_dir.join("statement.json");
    let mut stmt = read_json(&stmt_path);
    stmt["verifying_key_hash"] = Value::String("00".repeat(32));
    write_json(&stmt_path, &stmt);
    let err = export_snarkjs(&epoch_dir, &tmp.path().join("other")).unwrap_err();
    assert!(
        matches!(
            err,
            ProverError::Verify(VerifyError::VerifyingKeyMismatch { .. })
        ),
        "{err}"
    );
    assert!(!tmp.path().join("other").exists());
}
