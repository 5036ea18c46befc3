//! A trusted Groth16 key is checked against the statement's shape.
//!
//! A Groth16 verifying key does not reveal its shape: every shape's key has the one
//! public input `x_b`, and `x_b` does not bind `B` (`docs/SPEC.md` §6.4). So a
//! statement relabelled with another shape that names a trusted key of the real one
//! passes the bare-key checks (shown here). The shape comes from the key's
//! provenance: `read_trusted_key` reads it from the `keys.json` beside the key, and
//! `verify_epoch_dir_with_trusted_key` / `verify_groth16_with_trusted_key` refuse a
//! key recorded for another shape as `ShapeMismatch`, naming both shapes.
//!
//! The keys here are trapdoor keys (as in `standalone.rs`: their discrete logs are
//! known, so proofs can be forged for any public input) in a keys directory laid out
//! as `backstop setup` writes it: the shape check comes before any pairing, and the
//! forged proofs show that nothing else would have refused the epoch.
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
    PROOFS_DIR, STATEMENT_FILE, VERIFYING_KEY_FILE, proof_bytes, proof_path, verifying_key_bytes,
    verifying_key_hash,
};
use backstop_verifier::{
    KEYS_FILE, TrustedGroth16Key, VerifyError, read_trusted_key, verify_epoch_dir,
    verify_epoch_dir_with_trusted_key, verify_groth16, verify_groth16_with_trusted_key,
};
use common::{Scratch, TrapdoorKey, element, keys_dir_with, keys_json};
use serde_json::{Value, json};
use std::path::PathBuf;

const BATCHES: u64 = 2;

fn shape(b: u64, m: usize) -> CircuitShape {
    CircuitShape::new(b, m).unwrap()
}

/// A well-formed statement of `shape` (its `M` markets) naming `vk`.
fn statement(shape: CircuitShape, vk: &VerifyingKey<Bn254>) -> EpochStatement {
    let markets = (0..shape.markets())
        .map(|i| PublishedMarket {
            symbol: format!("M{i}"),
            price: "100".into(),
            price_decimals: 2,
            size_decimals: 6,
            maintenance_margin_bps: 50,
            tiers: vec![],
            liquidation_fee_bps: None,
        })
        .collect();
    EpochStatement::new(StatementFile {
        version: STATEMENT_VERSION,
        backend: Backend::Groth16Bn254,
        shape: PublishedShape {
            id: shape.id(),
            batch_size: shape.batch_size().get() as u64,
            markets: shape.markets(),
            brackets: 1,
            assets: 0,
            waterfall: false,
        },
        verifying_key_hash: verifying_key_hash(vk),
        venue: format!("0x{}", "00".repeat(20)),
        owner_binding: "none".into(),
        epoch: 7,
        quote_decimals: 6,
        reserves: "1000".into(),
        insurance_fund: "10".into(),
        markets,
        assets: vec![],
        batch_count: BATCHES,
        accounts_commitment: element(1),
        state_commitments: (0..BATCHES).map(|b| element(100 + b)).collect(),
        liquidations: vec![],
        bad_debt: "0.000000".into(),
        liabilities: None,
        solvent: true,
        insurance_covered: true,
        asset_solvency: Default::default(),
        asset_totals: Default::default(),
        liquidation_fees: None,
        insurance_draw: None,
        insurance_fund_after: None,
        deficit: None,
        haircut_ppb: None,
        shortfall: None,
        signature: None,
    })
    .unwrap()
}

fn forged_proofs(key: &TrapdoorKey, statement: &EpochStatement) -> Vec<Vec<u8>> {
    statement
        .public_inputs::<Bn254Poseidon>()
        .unwrap()
        .into_iter()
        .map(|x| proof_bytes(&key.forge(&x)))
        .collect()
}

/// An epoch directory holding `statement` and forged proofs under `key`.
fn epoch_dir(scratch: &Scratch, key: &TrapdoorKey, statement: &EpochStatement) -> PathBuf {
    let dir = scratch.path().join("epoch");
    std::fs::create_dir_all(dir.join(PROOFS_DIR)).unwrap();
    std::fs::write(
        dir.join(STATEMENT_FILE),
        serde_json::to_vec_pretty(statement.file()).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join(VERIFYING_KEY_FILE), verifying_key_bytes(&key.vk)).unwrap();
    for (b, proof) in forged_proofs(key, statement).iter().enumerate() {
        std::fs::write(proof_path(&dir, b as u64), proof).unwrap();
    }
    dir
}

/// The trusted key for `shape`, read back from its keys directory.
fn trusted(scratch: &Scratch, key: &TrapdoorKey, shape: CircuitShape) -> TrustedGroth16Key {
    let dir = keys_dir_with(scratch, &key.vk, &keys_json(shape, &key.vk));
    let trusted = read_trusted_key(&dir).unwrap();
    assert_eq!(trusted.shape, shape);
    trusted
}

fn assert_shape_mismatch(
    result: Result<impl std::fmt::Debug, VerifyError>,
    statement: &str,
    key: &str,
) {
    match result {
        Err(VerifyError::ShapeMismatch { expected, got }) => {
            assert_eq!(expected, statement);
            assert_eq!(got, key);
            let message = VerifyError::ShapeMismatch { expected, got }.to_string();
            assert!(
                message.contains(statement) && message.contains(key),
                "{message}"
            );
        }
        other => panic!("not refused by shape: {other:?}"),
    }
}

/// The control: a key recorded for the statement's shape verifies (forged proofs
/// under the trapdoor key), in memory and from the directory, from the keys
/// directory or its `verifying_key.bin`.
#[test]
fn a_trusted_key_for_the_statements_shape_verifies() {
    let scratch = Scratch::new("key-shape");
    let key = TrapdoorKey::new(1, open_input_count(2));
    let statement = statement(shape(8, 2), &key.vk);
    let dir = epoch_dir(&scratch, &key, &statement);
    let trusted = trusted(&scratch, &key, shape(8, 2));
    verify_groth16_with_trusted_key(&statement, &forged_proofs(&key, &statement), &trusted)
        .unwrap();
    let verified = verify_epoch_dir_with_trusted_key(&dir, &trusted).unwrap();
    assert!(verified.trusted_key);
    let by_file = read_trusted_key(&scratch.path().join("keys").join(VERIFYING_KEY_FILE)).unwrap();
    verify_epoch_dir_with_trusted_key(&dir, &by_file).unwrap();
}

/// A key recorded for `B = 8, M = 1` against a `B = 8, M = 2` statement that names
/// it: refused by shape, naming both, in memory and from the directory.
#[test]
fn a_trusted_key_for_b8_m1_is_refused_for_a_b8_m2_statement() {
    let scratch = Scratch::new("key-shape");
    let key = TrapdoorKey::new(2, open_input_count(2));
    let statement = statement(shape(8, 2), &key.vk);
    let dir = epoch_dir(&scratch, &key, &statement);
    let trusted = trusted(&scratch, &key, shape(8, 1));
    let proofs = forged_proofs(&key, &statement);
    assert_shape_mismatch(
        verify_groth16_with_trusted_key(&statement, &proofs, &trusted),
        "backstop.v2.B8.M2",
        "backstop.v2.B8.M1",
    );
    assert_shape_mismatch(
        verify_epoch_dir_with_trusted_key(&dir, &trusted),
        "backstop.v2.B8.M2",
        "backstop.v2.B8.M1",
    );
}

/// The relabelling the check exists for: an epoch of `B = 8` whose statement says
/// `B = 64` (and names the `B = 8` key). `x_b` does not bind `B`, so with the bare
/// key every check passes; with the key's recorded shape it is refused.
#[test]
fn a_trusted_key_for_b8_is_refused_for_a_statement_relabelled_b64() {
    let scratch = Scratch::new("key-shape");
    let key = TrapdoorKey::new(3, open_input_count(1));
    let real = statement(shape(8, 1), &key.vk);
    let mut file = real.file().clone();
    file.shape = PublishedShape {
        id: shape(64, 1).id(),
        batch_size: 64,
        markets: 1,
        brackets: 1,
        assets: 0,
        waterfall: false,
    };
    let relabelled = EpochStatement::new(file).unwrap();
    // The same public inputs: the proofs of the real epoch fit the relabelled one.
    assert_eq!(
        relabelled.public_inputs::<Bn254Poseidon>().unwrap(),
        real.public_inputs::<Bn254Poseidon>().unwrap()
    );
    let proofs = forged_proofs(&key, &real);
    let dir = epoch_dir(&scratch, &key, &relabelled);
    // The bare key cannot tell.
    verify_groth16(&relabelled, &proofs, &key.vk).unwrap();
    verify_epoch_dir(&dir, Some(&key.vk)).unwrap();
    // Its provenance can.
    let trusted = trusted(&scratch, &key, shape(8, 1));
    assert_shape_mismatch(
        verify_groth16_with_trusted_key(&relabelled, &proofs, &trusted),
        "backstop.v2.B64.M1",
        "backstop.v2.B8.M1",
    );
    assert_shape_mismatch(
        verify_epoch_dir_with_trusted_key(&dir, &trusted),
        "backstop.v2.B64.M1",
        "backstop.v2.B8.M1",
    );
}

/// A key for another shape that the statement does not name is refused by shape
/// first (the clearer error), not by its hash.
#[test]
fn a_trusted_key_of_another_shape_and_hash_is_refused_by_shape() {
    let scratch = Scratch::new("key-shape");
    let key = TrapdoorKey::new(4, open_input_count(2));
    let other = TrapdoorKey::new(5, open_input_count(2));
    let statement = statement(shape(8, 2), &key.vk);
    let dir = epoch_dir(&scratch, &key, &statement);
    let trusted = trusted(&scratch, &other, shape(8, 1));
    assert_shape_mismatch(
        verify_epoch_dir_with_trusted_key(&dir, &trusted),
        "backstop.v2.B8.M2",
        "backstop.v2.B8.M1",
    );
}

/// `read_trusted_key` refuses a key without its `keys.json`, a `keys.json` whose
/// hash is not the key's, whose shape id disagrees with its `B` and `M`, or that
/// describes halo2 keys.
#[test]
fn read_trusted_key_refuses_a_missing_or_inconsistent_keys_json() {
    let key = TrapdoorKey::new(6, open_input_count(1));
    let other = TrapdoorKey::new(7, open_input_count(1));
    let good = keys_json(shape(8, 1), &key.vk);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let cases = [
        (
            "hash of another key",
            keys_json(shape(8, 1), &other.vk),
            "verifying_key_hash",
        ),
        (
            "shape id of another shape",
            edit(&|v| v["shape"] = json!(shape(8, 2).id())),
            "names shape",
        ),
        (
            "halo2 keys",
            edit(&|v| v["backend"] = json!("halo2-pasta")),
            "not groth16-bn254",
        ),
        ("not json", json!("nope"), KEYS_FILE),
    ];
    for (label, desc, reason) in cases {
        let scratch = Scratch::new("key-shape");
        let dir = keys_dir_with(&scratch, &key.vk, &desc);
        match read_trusted_key(&dir) {
            Err(VerifyError::VerifyingKey(message)) => {
                assert!(message.contains(reason), "{label}: {message}");
            }
            other => panic!("{label}: {other:?}"),
        }
    }
    // A bare key file: no keys.json beside it.
    let scratch = Scratch::new("key-shape");
    let bare = scratch.path().join("key.bin");
    std::fs::write(&bare, verifying_key_bytes(&key.vk)).unwrap();
    match read_trusted_key(&bare) {
        Err(VerifyError::VerifyingKey(message)) => {
            assert!(message.contains(KEYS_FILE), "{message}");
            assert!(message.contains("unreadable"), "{message}");
            assert!(
                message.contains("the trusted key's shape is read from it"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
