//! The standalone verifier, `backstop-verify EPOCH_DIR [--key FILE]`, and
//! `verify_epoch_dir`, on epoch directories built here without the prover (this crate
//! must not depend on it): usage errors, missing and malformed files, statements
//! the verifier must refuse, and, with a verifying key whose trapdoor this test
//! chose, proofs that verify or fail exactly where the layout says. Real proofs are
//! checked against this binary by `cli/tests/prove_verify.rs`.
//!
//! The trapdoor key makes every check up to the pairing reachable: a Groth16 key
//! whose `alpha`, `beta` and `gamma_abc` discrete logarithms are known lets anyone
//! write a proof for any public input. That is why a verifier must be given the key
//! from a setup it trusts (`--key`), and why nothing here says anything about the
//! soundness of the batch circuit.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

mod common;

use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::inputs::open_input_count;
use backstop_circuits::shape::{CircuitShape, STATEMENT_VERSION};
use backstop_circuits::statement::{
    Backend, EpochStatement, PublishedMarket, PublishedShape, StatementFile,
};
use backstop_verifier::artifacts::{
    GROTH16_PROOF_BYTES, PROOFS_DIR, STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, proof_path,
    verifying_key_bytes, verifying_key_hash,
};
use backstop_verifier::{
    VerifyError, read_proofs, read_statement, verify_epoch_dir, verify_groth16,
};
use common::{Scratch, TrapdoorKey, element, keys_dir_at, keys_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USAGE: &str = "usage: backstop-verify EPOCH_DIR [--key VERIFYING_KEY_FILE]";
const BATCHES: u64 = 3;

fn backstop_verify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstop-verify"))
        .args(args)
        .output()
        .expect("backstop-verify runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A well-formed statement of three batches of 8 over two markets.
fn statement(backend: Backend, vk: &VerifyingKey<Bn254>) -> StatementFile {
    let shape = CircuitShape::new(8, 2).unwrap();
    StatementFile {
        version: STATEMENT_VERSION,
        backend,
        shape: PublishedShape {
            id: shape.id(),
            batch_size: 8,
            markets: 2,
            brackets: 1,
            assets: 0,
            waterfall: false,
        },
        verifying_key_hash: verifying_key_hash(vk),
        venue: common::test_venue(),
        owner_binding: "none".into(),
        epoch: 42,
        quote_decimals: 6,
        reserves: "1000000.5".into(),
        insurance_fund: "10".into(),
        markets: vec![
            PublishedMarket {
                symbol: "BTC".into(),
                price: "64250.5".into(),
                price_decimals: 2,
                size_decimals: 8,
                maintenance_margin_bps: 50,
                tiers: vec![],
                liquidation_fee_bps: None,
            },
            PublishedMarket {
                symbol: "ETH".into(),
                price: "3100".into(),
                price_decimals: 2,
                size_decimals: 6,
                maintenance_margin_bps: 100,
                tiers: vec![],
                liquidation_fee_bps: None,
            },
        ],
        assets: vec![],
        batch_count: BATCHES,
        accounts_commitment: element(1),
        state_commitments: (0..BATCHES).map(|b| element(100 + b)).collect(),
        liquidations: vec!["5".into(), "17".into()],
        bad_debt: "1.250000".into(),
        liabilities: None,
        solvent: true,
        insurance_covered: false,
        asset_solvency: Default::default(),
        asset_totals: Default::default(),
        liquidation_fees: None,
        insurance_draw: None,
        insurance_fund_after: None,
        deficit: None,
        haircut_ppb: None,
        shortfall: None,
        signature: None,
    }
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// An epoch directory for `statement` with the trapdoor key and a forged proof per
/// batch (for the public inputs the statement determines).
fn forged_epoch(dir: &Path, key: &TrapdoorKey, statement: &StatementFile) {
    let mut statement = statement.clone();
    common::sign(&mut statement);
    let statement = &statement;
    std::fs::create_dir_all(dir.join(PROOFS_DIR)).unwrap();
    write_json(
        &dir.join(STATEMENT_FILE),
        &serde_json::to_value(statement).unwrap(),
    );
    std::fs::write(dir.join(VERIFYING_KEY_FILE), verifying_key_bytes(&key.vk)).unwrap();
    // Proofs for the Groth16 layout of the inputs, whatever backend the statement
    // names (a statement naming halo2 is refused before its proofs are read).
    let mut groth16 = statement.clone();
    groth16.backend = Backend::Groth16Bn254;
    let inputs = EpochStatement::new(groth16)
        .unwrap()
        .public_inputs::<Bn254Poseidon>()
        .unwrap();
    assert_eq!(inputs.len() as u64, statement.batch_count);
    for (b, x) in inputs.into_iter().enumerate() {
        let bytes = proof_bytes(&key.forge(&x));
        assert_eq!(bytes.len(), GROTH16_PROOF_BYTES);
        std::fs::write(proof_path(dir, b as u64), bytes).unwrap();
    }
}

/// A scratch directory holding a forged epoch at `epoch/` and its keys directory at
/// `keys/` (its `verifying_key.bin` beside the `keys.json` recording its shape).
fn valid_epoch() -> (Scratch, PathBuf, PathBuf, TrapdoorKey) {
    let scratch = Scratch::new("verify");
    let key = TrapdoorKey::new(1, open_input_count(2));
    let dir = scratch.path().join("epoch");
    forged_epoch(&dir, &key, &statement(Backend::Groth16Bn254, &key.vk));
    let shape = CircuitShape::new(8, 2).unwrap();
    let keys = keys_dir_at(
        &scratch.path().join("keys"),
        &key.vk,
        &keys_json(shape, &key.vk),
    );
    (scratch, dir, keys.join(VERIFYING_KEY_FILE), key)
}

fn edit_statement(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join(STATEMENT_FILE);
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    write_json(&path, &value);
}

/// `backstop-verify DIR [--key KEY]` exits 1, prints nothing on stdout and every
/// one of `reasons` on stderr.
#[track_caller]
fn assert_rejected(dir: &Path, key: Option<&Path>, reasons: &[&str]) {
    let mut args = vec![s(dir)];
    if let Some(key) = key {
        args.extend(["--key", s(key)]);
    }
    let out = backstop_verify(&args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: stdout {} stderr {stderr}",
        text(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    for reason in reasons {
        assert!(
            stderr.contains(reason),
            "{args:?}: expected {reason:?} in {stderr}"
        );
    }
}

#[test]
fn usage_errors_exit_2_with_the_usage() {
    let cases: &[&[&str]] = &[
        &[],
        &["dir", "extra"],
        &["dir", "--key"],
        &["dir", "--kee", "key.bin"],
        &["dir", "--key", "key.bin", "extra"],
        &["--key", "key.bin"],
    ];
    for args in cases {
        let out = backstop_verify(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            text(&out.stderr).contains(USAGE),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_missing_or_empty_directory_is_refused() {
    let scratch = Scratch::new("verify");
    let missing = scratch.path().join("no-such-epoch");
    assert_rejected(
        &missing,
        None,
        &["verification FAILED", s(&missing.join(STATEMENT_FILE))],
    );
    assert!(matches!(
        verify_epoch_dir(&missing, None),
        Err(VerifyError::Io { .. })
    ));
    assert_rejected(
        scratch.path(),
        None,
        &["verification FAILED", STATEMENT_FILE],
    );
}

#[test]
fn a_forged_epoch_under_its_own_trapdoor_key_verifies() {
    let (_scratch, dir, key_file, key) = valid_epoch();
    let out = backstop_verify(&[s(&dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "verified: epoch 42 (3 batches of 8), 2 liquidations, bad debt 1.250000, solvent true, \
             insurance covered false"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("note: the verifying key was read from the epoch directory"));

    let out = backstop_verify(&[s(&dir), "--key", s(&key_file)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("note: the verifying key"));

    let verified = verify_epoch_dir(&dir, None).unwrap();
    assert!(!verified.trusted_key);
    assert_eq!(verified.statement.file().epoch, 42);
    let verified = verify_epoch_dir(&dir, Some(&key.vk)).unwrap();
    assert!(verified.trusted_key);
}

#[test]
fn malformed_statements_are_refused_naming_the_field() {
    let (_scratch, dir, key_file, _key) = valid_epoch();
    let original = std::fs::read(dir.join(STATEMENT_FILE)).unwrap();
    type Edit = fn(&mut Value);
    let cases: &[(&str, Edit, &[&str])] = &[
        (
            "unknown field",
            |v| v["total_liabilities"] = "5".into(),
            &["unknown field `total_liabilities`"],
        ),
        (
            "missing field",
            |v| drop(v.as_object_mut().unwrap().remove("bad_debt")),
            &["missing field `bad_debt`"],
        ),
        (
            "version 1",
            |v| v["version"] = 1.into(),
            &["statement version 1 is not supported"],
        ),
        (
            "bad debt with an exponent",
            |v| v["bad_debt"] = "1e3".into(),
            &["bad_debt"],
        ),
        (
            "negative bad debt",
            |v| v["bad_debt"] = "-1".into(),
            &["bad_debt"],
        ),
        // E = max(6, 8 + 2, 6 + 2) = 10.
        (
            "bad debt below 10^-E",
            |v| v["bad_debt"] = "0.00000000001".into(),
            &["bad_debt"],
        ),
        (
            "bad debt as a number",
            |v| v["bad_debt"] = 1.into(),
            &["statement.json"],
        ),
        (
            "liquidations descending",
            |v| v["liquidations"] = serde_json::json!(["17", "5"]),
            &["liquidations[1]", "strictly ascending"],
        ),
        (
            "liquidation repeated",
            |v| v["liquidations"] = serde_json::json!(["5", "5"]),
            &["liquidations[1]"],
        ),
        (
            "liquidation with a leading zero",
            |v| v["liquidations"] = serde_json::json!(["05"]),
            &["liquidations[0]", "canonical"],
        ),
        (
            "liquidation above u64",
            |v| v["liquidations"] = serde_json::json!(["18446744073709551616"]),
            &["liquidations[0]"],
        ),
        (
            "no batches",
            |v| v["batch_count"] = "0".into(),
            &["batch_count"],
        ),
        (
            "K·B above 2^32",
            |v| v["batch_count"] = (1u64 << 29 | 1).to_string().into(),
            &["batch_count"],
        ),
        (
            "a state commitment missing",
            |v| drop(v["state_commitments"].as_array_mut().unwrap().pop()),
            &["state_commitments", "one per batch"],
        ),
        (
            "shape for other markets",
            |v| v["shape"]["id"] = "backstop.v2.B8.M3".into(),
            &["shape"],
        ),
        (
            "shape with 3 markets",
            |v| {
                v["shape"]["id"] = "backstop.v2.B8.M3".into();
                v["shape"]["markets"] = 3.into();
            },
            &["shape"],
        ),
        (
            "batch size not a power of 8",
            |v| {
                v["shape"]["id"] = "backstop.v2.B16.M2".into();
                v["shape"]["batch_size"] = "16".into();
            },
            &["shape"],
        ),
        (
            "price with too many decimals",
            |v| v["markets"][0]["price"] = "64250.501".into(),
            &["markets[0].price"],
        ),
        (
            "negative price",
            |v| v["markets"][1]["price"] = "-3100".into(),
            &["markets[1].price"],
        ),
        (
            "margin above 10000 bps",
            |v| v["markets"][0]["maintenance_margin_bps"] = 10001.into(),
            &["statement"],
        ),
        (
            "quote decimals above 18",
            |v| v["quote_decimals"] = 19.into(),
            &["statement"],
        ),
        (
            "reserves not a decimal",
            |v| v["reserves"] = "1,000".into(),
            &["reserves"],
        ),
        (
            "duplicate market",
            |v| v["markets"][1]["symbol"] = "BTC".into(),
            &["statement"],
        ),
        (
            "commitment not canonical",
            |v| v["state_commitments"][1] = format!("0x{}", "f".repeat(64)).into(),
            &["state_commitments[1]"],
        ),
        (
            "commitment without 0x",
            |v| {
                v["accounts_commitment"] = v["accounts_commitment"].as_str().unwrap()[2..]
                    .to_owned()
                    .into()
            },
            &["accounts_commitment"],
        ),
        (
            "unknown backend",
            |v| v["backend"] = "plonk".into(),
            &["unknown variant `plonk`"],
        ),
    ];
    for (what, edit, reasons) in cases {
        std::fs::write(dir.join(STATEMENT_FILE), &original).unwrap();
        edit_statement(&dir, edit);
        let mut all = vec!["verification FAILED", "statement"];
        all.extend(reasons.iter());
        for key in [None, Some(key_file.as_path())] {
            let out = backstop_verify(&match key {
                None => vec![s(&dir)],
                Some(k) => vec![s(&dir), "--key", s(k)],
            });
            assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stdout));
            let stderr = text(&out.stderr);
            for reason in &all {
                assert!(
                    stderr.contains(reason),
                    "{what}: expected {reason:?} in {stderr}"
                );
            }
        }
        assert!(
            matches!(verify_epoch_dir(&dir, None), Err(VerifyError::Statement(_))),
            "{what}"
        );
    }
    // Not JSON at all.
    for bytes in [&b""[..], b"{", b"null", b"[]", b"\xff\xfe"] {
        std::fs::write(dir.join(STATEMENT_FILE), bytes).unwrap();
        assert_rejected(&dir, None, &["statement.json"]);
    }
}

/// A Groth16 epoch relabelled `halo2-pasta`: the library's Groth16 verifier refuses
/// the backend by name; `backstop-verify` dispatches to the halo2 verifier, which
/// derives the halo2 key of the shape and finds that the statement names another.
#[test]
fn a_statement_for_the_halo2_backend_is_refused() {
    let scratch = Scratch::new("verify");
    let key = TrapdoorKey::new(2, open_input_count(2));
    let dir = scratch.path().join("epoch");
    forged_epoch(&dir, &key, &statement(Backend::Halo2Pasta, &key.vk));
    let params = scratch.path().join("halo2-params");
    let out = backstop_verify(&[s(&dir), "--params", s(&params)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("verifying key hash") && stderr.contains("does not match"),
        "{stderr}"
    );
    assert!(matches!(
        verify_epoch_dir(&dir, None),
        Err(VerifyError::Backend(Backend::Halo2Pasta))
    ));
}

#[test]
fn bad_keys_are_refused() {
    let (scratch, dir, key_file, _key) = valid_epoch();

    // --key naming no file, or not a key.
    let missing = scratch.path().join("missing.bin");
    assert_rejected(&dir, Some(&missing), &["error:", s(&missing)]);
    let garbage = scratch.path().join("garbage.bin");
    std::fs::write(&garbage, [7u8; 300]).unwrap();
    assert_rejected(&dir, Some(&garbage), &["error:", "verifying key"]);
    let truncated = scratch.path().join("truncated.bin");
    std::fs::write(&truncated, &std::fs::read(&key_file).unwrap()[..100]).unwrap();
    assert_rejected(&dir, Some(&truncated), &["verifying key"]);

    // The trusted key without the keys.json recording its shape, or recorded for
    // another shape than the statement's.
    let bare = scratch.path().join("bare.bin");
    std::fs::copy(&key_file, &bare).unwrap();
    assert_rejected(
        &dir,
        Some(&bare),
        &["keys.json", "the trusted key's shape is read from it"],
    );
    let key = TrapdoorKey::new(1, open_input_count(2));
    let m1 = CircuitShape::new(8, 1).unwrap();
    let for_m1 = keys_dir_at(
        &scratch.path().join("m1-keys"),
        &key.vk,
        &keys_json(m1, &key.vk),
    );
    assert_rejected(
        &dir,
        Some(&for_m1),
        &[
            "the keys are for shape backstop.v2.B8.M1, which does not match the statement's shape backstop.v2.B8.M2",
        ],
    );

    // Another key: refused by hash, from --key and in the directory.
    let other = TrapdoorKey::new(3, open_input_count(2));
    let shape = CircuitShape::new(8, 2).unwrap();
    let other_file = keys_dir_at(
        &scratch.path().join("other-keys"),
        &other.vk,
        &keys_json(shape, &other.vk),
    )
    .join(VERIFYING_KEY_FILE);
    let mismatch = format!(
        "verifying key hash {} does not match the statement's {}",
        verifying_key_hash(&other.vk),
        verifying_key_hash(&TrapdoorKey::new(1, open_input_count(2)).vk)
    );
    assert_rejected(&dir, Some(&other_file), &[&mismatch]);
    std::fs::copy(&other_file, dir.join(VERIFYING_KEY_FILE)).unwrap();
    assert_rejected(&dir, None, &[&mismatch]);
    assert!(matches!(
        verify_epoch_dir(&dir, None),
        Err(VerifyError::VerifyingKeyMismatch { .. })
    ));
    // …but the trusted key still works: the directory's copy is not used.
    let out = backstop_verify(&[s(&dir), "--key", s(&key_file)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The directory's key missing or corrupt.
    std::fs::remove_file(dir.join(VERIFYING_KEY_FILE)).unwrap();
    assert_rejected(&dir, None, &[VERIFYING_KEY_FILE]);
    std::fs::write(dir.join(VERIFYING_KEY_FILE), [0u8; 10]).unwrap();
    assert_rejected(&dir, None, &["verifying key", VERIFYING_KEY_FILE]);

    // A key for one public input too many, named by the statement: refused by its size.
    let wide = TrapdoorKey::new(4, open_input_count(2) + 1);
    let wide_dir = scratch.path().join("wide");
    let mut wide_statement = statement(Backend::Groth16Bn254, &wide.vk);
    wide_statement.verifying_key_hash = verifying_key_hash(&wide.vk);
    std::fs::create_dir_all(wide_dir.join(PROOFS_DIR)).unwrap();
    write_json(
        &wide_dir.join(STATEMENT_FILE),
        &serde_json::to_value(&wide_statement).unwrap(),
    );
    std::fs::write(
        wide_dir.join(VERIFYING_KEY_FILE),
        verifying_key_bytes(&wide.vk),
    )
    .unwrap();
    assert_rejected(
        &wide_dir,
        None,
        &["expects 11 public inputs, the batch circuit of shape backstop.v2.B8.M2 has 10"],
    );
}

fn copy_epoch(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join(PROOFS_DIR)).unwrap();
    for name in [STATEMENT_FILE, VERIFYING_KEY_FILE] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    for b in 0..BATCHES {
        std::fs::copy(proof_path(from, b), proof_path(to, b)).unwrap();
    }
}

#[test]
fn proofs_missing_malformed_stray_or_out_of_place_are_refused_naming_the_batch() {
    let (scratch, dir, key_file, _key) = valid_epoch();
    let case = |name: &str, tamper: &dyn Fn(&Path)| {
        let d = scratch.path().join(name);
        copy_epoch(&dir, &d);
        tamper(&d);
        d
    };
    let checks: Vec<(PathBuf, Vec<String>)> = vec![
        (
            case("no-proofs-dir", &|d| {
                std::fs::remove_dir_all(d.join(PROOFS_DIR)).unwrap()
            }),
            vec![PROOFS_DIR.into()],
        ),
        (
            case("missing", &|d| {
                std::fs::remove_file(proof_path(d, 1)).unwrap()
            }),
            vec!["batch 1: proof missing".into()],
        ),
        (
            case("stray", &|d| {
                std::fs::write(d.join(PROOFS_DIR).join("batch-000003.bin"), [0u8; 128]).unwrap()
            }),
            vec![
                "batch-000003.bin".into(),
                "not a proof of any of the statement's batches".into(),
            ],
        ),
        (
            case("short", &|d| {
                std::fs::write(proof_path(d, 2), [0u8; 127]).unwrap()
            }),
            vec!["batch 2: malformed proof".into()],
        ),
        (
            case("not-points", &|d| {
                std::fs::write(proof_path(d, 0), [0xffu8; 128]).unwrap()
            }),
            vec!["batch 0: malformed proof".into()],
        ),
        (
            case("swapped", &|d| {
                let (p0, p2) = (proof_path(d, 0), proof_path(d, 2));
                let (x, y) = (std::fs::read(&p0).unwrap(), std::fs::read(&p2).unwrap());
                std::fs::write(&p0, y).unwrap();
                std::fs::write(&p2, x).unwrap();
            }),
            vec!["batch 0: proof does not verify".into()],
        ),
        (
            case("output-changed", &|d| {
                edit_statement(d, |v| v["solvent"] = false.into())
            }),
            vec!["batch 0: proof does not verify".into()],
        ),
        (
            case("state-changed", &|d| {
                edit_statement(d, |v| v["state_commitments"][1] = element(999).into())
            }),
            vec!["batch 1: proof does not verify".into()],
        ),
        (
            case("last-state-changed", &|d| {
                edit_statement(d, |v| v["state_commitments"][2] = element(999).into())
            }),
            vec!["batch 2: proof does not verify".into()],
        ),
        (
            case("liquidation-removed", &|d| {
                edit_statement(d, |v| v["liquidations"] = serde_json::json!(["17"]))
            }),
            vec!["batch 0: proof does not verify".into()],
        ),
        (
            case("truncated", &|d| {
                std::fs::remove_file(proof_path(d, 2)).unwrap();
                edit_statement(d, |v| {
                    v["batch_count"] = "2".into();
                    v["state_commitments"].as_array_mut().unwrap().pop();
                });
            }),
            vec!["batch 0: proof does not verify".into()],
        ),
    ];
    for (d, reasons) in &checks {
        let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
        let mut all = vec!["verification FAILED"];
        all.extend(&reasons);
        assert_rejected(d, None, &all);
        assert_rejected(d, Some(&key_file), &all);
    }
    // The library reports the same, typed.
    let by_name = |n: &str| scratch.path().join(n);
    assert!(matches!(
        verify_epoch_dir(&by_name("missing"), None),
        Err(VerifyError::MissingProof { batch: 1, .. })
    ));
    assert!(matches!(
        verify_epoch_dir(&by_name("stray"), None),
        Err(VerifyError::UnexpectedFile(_))
    ));
    assert!(matches!(
        verify_epoch_dir(&by_name("short"), None),
        Err(VerifyError::MalformedProof { batch: 2, .. })
    ));
    assert!(matches!(
        verify_epoch_dir(&by_name("swapped"), None),
        Err(VerifyError::InvalidProof { batch: 0 })
    ));
    assert!(matches!(
        verify_epoch_dir(&by_name("state-changed"), None),
        Err(VerifyError::InvalidProof { batch: 1 })
    ));
    // And the untouched epoch still verifies.
    assert!(verify_epoch_dir(&dir, None).is_ok());
}

/// Only `batch-NNNNNN.bin` for a batch of the statement belongs in `proofs/`: names
/// that parse to a batch number but are not that batch's exact name are strays too.
#[test]
fn near_miss_proof_names_are_strays() {
    let (scratch, dir, _key_file, _key) = valid_epoch();
    for (i, name) in [
        "batch-1.bin",
        "batch-0000001.bin",
        "batch-+00001.bin",
        "batch-000001.bin.tmp",
        "batch-000001.BIN",
        "batch-000003.bin",
        "batch--00001.bin",
        "README",
    ]
    .into_iter()
    .enumerate()
    {
        let d = scratch.path().join(format!("case-{i}"));
        copy_epoch(&dir, &d);
        let stray = d.join(PROOFS_DIR).join(name);
        std::fs::write(&stray, [0u8; GROTH16_PROOF_BYTES]).unwrap();
        match verify_epoch_dir(&d, None) {
            Err(VerifyError::UnexpectedFile(path)) => assert_eq!(path, stray, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(verify_epoch_dir(&dir, None).is_ok());
}

// ---------------------------------------------------------------------------
// The in-memory core, `verify_groth16`, on the same forged epochs.
// ---------------------------------------------------------------------------

/// The forged epoch in memory: key, statement and one proof's bytes per batch.
fn forged_in_memory(key: &TrapdoorKey) -> (EpochStatement, Vec<Vec<u8>>) {
    let mut file = statement(Backend::Groth16Bn254, &key.vk);
    common::sign(&mut file);
    let statement = EpochStatement::new(file).unwrap();
    let proofs = statement
        .public_inputs::<Bn254Poseidon>()
        .unwrap()
        .into_iter()
        .map(|x| proof_bytes(&key.forge(&x)))
        .collect();
    (statement, proofs)
}

/// `statement` edited and validated again.
fn edited(statement: &EpochStatement, edit: impl FnOnce(&mut StatementFile)) -> EpochStatement {
    let mut file = statement.file().clone();
    edit(&mut file);
    EpochStatement::new(file).unwrap()
}

#[test]
fn the_groth16_core_accepts_the_epoch_the_directory_holds() {
    let (_scratch, dir, _key_file, key) = valid_epoch();
    let (statement, proofs) = forged_in_memory(&key);
    verify_groth16(&statement, &proofs, &key.vk).unwrap();
    let slices: Vec<&[u8]> = proofs.iter().map(Vec::as_slice).collect();
    verify_groth16(&statement, &slices, &key.vk).unwrap();
    // The directory holds the same epoch, and its reader gives the same bytes.
    let read = read_statement(&dir).unwrap();
    assert_eq!(read.file(), statement.file());
    let read_back = read_proofs(&dir, BATCHES).unwrap();
    assert_eq!(read_back, proofs);
    verify_groth16(&read, &read_back, &key.vk).unwrap();
}

#[test]
fn the_groth16_core_refuses_a_wrong_proof_count() {
    let key = TrapdoorKey::new(1, open_input_count(2));
    let (statement, proofs) = forged_in_memory(&key);
    let mut more = proofs.clone();
    more.push(proofs[0].clone());
    for (given, got) in [(&proofs[..2], 2), (&more[..], 4), (&[][..], 0)] {
        match verify_groth16(&statement, given, &key.vk) {
            Err(VerifyError::ProofCount { expected, got: g }) => {
                assert_eq!((expected, g), (BATCHES, got));
            }
            other => panic!("{got} proofs: {other:?}"),
        }
    }
    assert_eq!(
        verify_groth16(&statement, &proofs[..1], &key.vk)
            .unwrap_err()
            .to_string(),
        "expected 3 proofs, one per batch, got 1"
    );
}

#[test]
fn the_groth16_core_refuses_swapped_flipped_or_extended_proofs() {
    let key = TrapdoorKey::new(1, open_input_count(2));
    let (statement, proofs) = forged_in_memory(&key);
    let mut swapped = proofs.clone();
    swapped.swap(0, 2);
    assert!(matches!(
        verify_groth16(&statement, &swapped, &key.vk),
        Err(VerifyError::InvalidProof { batch: 0 })
    ));
    // A flipped bit gives a point off the curve or out of the subgroup (malformed),
    // or another point (does not verify): refused either way, naming the batch.
    for at in [0, 31, 32, 95, 96, GROTH16_PROOF_BYTES - 1] {
        let mut flipped = proofs.clone();
        flipped[1][at] ^= 0x01;
        let result = verify_groth16(&statement, &flipped, &key.vk);
        assert!(
            matches!(
                result,
                Err(VerifyError::MalformedProof { batch: 1, .. }
                    | VerifyError::InvalidProof { batch: 1 })
            ),
            "byte {at}: {result:?}"
        );
    }
    let mut extended = proofs.clone();
    extended[2].push(0);
    assert!(matches!(
        verify_groth16(&statement, &extended, &key.vk),
        Err(VerifyError::MalformedProof { batch: 2, .. })
    ));
    let mut truncated = proofs;
    truncated[2].pop();
    assert!(matches!(
        verify_groth16(&statement, &truncated, &key.vk),
        Err(VerifyError::MalformedProof { batch: 2, .. })
    ));
}

/// The core computes every `x_b` from the statement: changed outputs (in every
/// `x_b`) fail batch 0, a changed state commitment the first batch it enters.
#[test]
fn the_groth16_core_refuses_a_statement_with_other_outputs() {
    let key = TrapdoorKey::new(1, open_input_count(2));
    let (statement, proofs) = forged_in_memory(&key);
    type Edit = fn(&mut StatementFile);
    let cases: [(Edit, u64); 4] = [
        (|f| f.solvent = !f.solvent, 0),
        (|f| f.bad_debt = "1.500000".into(), 0),
        (|f| f.liquidations = vec!["17".into()], 0),
        (|f| f.state_commitments[2] = element(999), 2),
    ];
    for (edit, batch) in cases {
        let other = edited(&statement, edit);
        match verify_groth16(&other, &proofs, &key.vk) {
            Err(VerifyError::InvalidProof { batch: b }) => assert_eq!(b, batch),
            result => panic!("{result:?}"),
        }
    }
}

/// Another key (a Groth16 key is per shape: another shape's key is another key) is
/// refused by its hash, naming both; a key named by the statement but with two
/// public inputs by its size; a halo2 statement by its backend.
#[test]
fn the_groth16_core_refuses_another_key_or_backend() {
    let key = TrapdoorKey::new(1, open_input_count(2));
    let (statement, proofs) = forged_in_memory(&key);
    let other = TrapdoorKey::new(3, open_input_count(2));
    match verify_groth16(&statement, &proofs, &other.vk) {
        Err(VerifyError::VerifyingKeyMismatch { expected, got }) => {
            assert_eq!(expected, verifying_key_hash(&key.vk));
            assert_eq!(got, verifying_key_hash(&other.vk));
        }
        result => panic!("{result:?}"),
    }
    let wide = TrapdoorKey::new(4, open_input_count(2) + 1);
    let named = edited(&statement, |f| {
        f.verifying_key_hash = verifying_key_hash(&wide.vk)
    });
    match verify_groth16(&named, &proofs, &wide.vk) {
        Err(VerifyError::VerifyingKey(reason)) => {
            assert_eq!(
                reason,
                "expects 11 public inputs, the batch circuit of shape backstop.v2.B8.M2 has 10"
            );
        }
        result => panic!("{result:?}"),
    }
    let halo2 = edited(&statement, |f| f.backend = Backend::Halo2Pasta);
    assert!(matches!(
        verify_groth16(&halo2, &proofs, &key.vk),
        Err(VerifyError::Backend(Backend::Halo2Pasta))
    ));
}
