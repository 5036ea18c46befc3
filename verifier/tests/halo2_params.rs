//! The halo2 IPA parameter cache (`backstop_verifier::halo2::params`) against what
//! `docs/SPEC.md` §7.4 says of it:
//!
//! > A cache file is used only if its SHA-256 is the one pinned for its `k`
//! > (`PINNED_PARAMS_SHA256`); any other file — missing, truncated, undecodable, for
//! > another `k`, or tampered anywhere, the monomial basis `g` and the IPA base `u`
//! > included — is not used: the parameters are derived (`Params::new(k)`) and the
//! > cache rewritten atomically. For a `k` without a pin the cache is neither read
//! > nor written.
//!
//! Why the pin is needed, shown here in memory: a tampered Lagrange basis or `w`
//! changes the verifying key's hash, but a tampered `g` or `u` decodes and keeps it,
//! so the key-hash check alone would accept such parameters.
//!
//! The epoch directories here are built without the prover (this crate must not
//! depend on it): a real halo2 statement for a small book whose
//! `verifying_key_hash` is the honest key's, and one proof file of junk bytes. The
//! key-hash check comes before any proof is read, so the error tells which check
//! refused the epoch: `VerifyingKeyMismatch` (the key hash) or `InvalidProof` (the
//! hash passed). Real halo2 proofs are verified by `prover/tests/differential.rs`
//! and `cli/tests/halo2_cli.rs`.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

mod common;

use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use backstop_circuits::native::commit::commit_epoch;
use backstop_circuits::native::evaluate;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, PublicOutputs, publish};
use backstop_verifier::VerifyError;
use backstop_verifier::artifacts::{STATEMENT_FILE, proof_path};
use backstop_verifier::halo2::{
    Halo2VerifierKeys, params, params_path, pinned_params_sha256, verify_epoch_dir, verifying_key,
    verifying_key_hash,
};
use common::Scratch;
use halo2_proofs::poly::commitment::Params;
use pasta_curves::vesta;
use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A compressed Vesta point.
const POINT: usize = 32;
/// The `k` little-endian bytes that start the file.
const HEADER: usize = 4;

/// The smallest shape; `k = 11` (the range table's rows).
fn shape() -> CircuitShape {
    CircuitShape::new(8, 1).unwrap()
}

fn k() -> u32 {
    Halo2BatchCircuit::k(shape())
}

fn to_bytes(p: &Params<vesta::Affine>) -> Vec<u8> {
    let mut bytes = Vec::new();
    p.write(&mut bytes).unwrap();
    bytes
}

/// `Params::new(k)` as bytes, and the honest verifying key's hash: computed here,
/// not read from any cache.
fn honest() -> &'static (Vec<u8>, String) {
    static HONEST: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    HONEST.get_or_init(|| {
        let p = Params::<vesta::Affine>::new(k());
        let hash = verifying_key_hash(&verifying_key(&p, shape()).unwrap());
        (to_bytes(&p), hash)
    })
}

/// Where point `i` of the file's monomial basis `g`, Lagrange basis `g_lagrange`,
/// `w` and `u` start: the layout `Params::write` of halo2_proofs 0.4 writes.
fn g(i: usize) -> usize {
    HEADER + i * POINT
}
fn g_lagrange(i: usize) -> usize {
    HEADER + ((1 << k()) + i) * POINT
}
fn w() -> usize {
    HEADER + 2 * (1 << k()) * POINT
}
fn u() -> usize {
    w() + POINT
}

/// The honest bytes with the points at `a` and `b` swapped: every point is still a
/// valid encoding, so the file decodes.
fn swapped(a: usize, b: usize) -> Vec<u8> {
    let mut bytes = honest().0.clone();
    let pa: Vec<u8> = bytes[a..a + POINT].to_vec();
    let pb: Vec<u8> = bytes[b..b + POINT].to_vec();
    bytes[a..a + POINT].copy_from_slice(&pb);
    bytes[b..b + POINT].copy_from_slice(&pa);
    assert_ne!(bytes, honest().0, "the swapped points are equal");
    bytes
}

/// The honest bytes with the point at `at` negated (its sign bit, the top bit of
/// its last byte, flipped): still a valid encoding, so the file decodes.
fn negated(at: usize) -> Vec<u8> {
    let mut bytes = honest().0.clone();
    bytes[at + POINT - 1] ^= 0x80;
    bytes
}

/// A cache directory holding `bytes` as the parameters for `k`.
fn cache_with(scratch: &Scratch, bytes: &[u8]) -> PathBuf {
    let dir = scratch.path().join("halo2-params");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(params_path(&dir, k()), bytes).unwrap();
    dir
}

/// A halo2 epoch directory for a 3-account book at `shape()`: a real statement
/// naming the honest key's hash, and a junk proof.
fn epoch_dir(scratch: &Scratch) -> PathBuf {
    let market = Market::new(
        "BTC",
        Price::new(6_000_000).unwrap(),
        2,
        8,
        MarginBps::new(50).unwrap(),
    )
    .unwrap();
    let params = EpochParams::new(3, 6, 10u128.pow(12), 10u128.pow(9), vec![market]).unwrap();
    let accounts = [
        (1, 1_000_000_000, 100_000_000),
        (2, -5_000_000, 0),
        (3, 0, -1),
    ]
    .into_iter()
    .map(|(id, balance, size)| {
        Account::new(
            AccountId::new(id),
            Balance::new(balance).unwrap(),
            vec![Size::new(size).unwrap()],
        )
    })
    .collect();
    let snapshot = Snapshot::new(params, accounts).unwrap();
    let commitment =
        commit_epoch::<PastaPoseidon>(&snapshot, &VenueSecret::demo(), shape().batch_size());
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &evaluate(&snapshot));
    let statement = publish(
        Backend::Halo2Pasta,
        shape(),
        honest().1.clone(),
        snapshot.params(),
        &outputs,
        &commitment,
    );
    assert_eq!(statement.batch_count, 1);
    let dir = scratch.path().join("epoch");
    std::fs::create_dir_all(dir.join("proofs")).unwrap();
    std::fs::write(
        dir.join(STATEMENT_FILE),
        serde_json::to_vec_pretty(&statement).unwrap(),
    )
    .unwrap();
    std::fs::write(proof_path(&dir, 0), [7u8; 1024]).unwrap();
    dir
}

/// Verifies the epoch with the cache holding `bytes`.
fn verify_with_cache(bytes: &[u8]) -> Result<(), VerifyError> {
    let scratch = Scratch::new("halo2-params");
    let epoch = epoch_dir(&scratch);
    let cache = cache_with(&scratch, bytes);
    verify_epoch_dir(&epoch, &cache).map(|_| ())
}

/// The honest cache passes the key-hash check; the junk proof is then refused.
/// This is the control of every "refused at the key hash" case below.
#[test]
fn with_an_honest_cache_the_key_hash_passes_and_the_junk_proof_is_refused() {
    let err = verify_with_cache(&honest().0).unwrap_err();
    assert!(
        matches!(err, VerifyError::InvalidProof { batch: 0 }),
        "{err}"
    );
}

#[test]
fn a_missing_cache_is_generated_and_written() {
    let scratch = Scratch::new("halo2-params");
    let dir = scratch.path().join("halo2-params");
    let p = params(&dir, k()).unwrap();
    assert_eq!(to_bytes(&p), honest().0);
    assert_eq!(std::fs::read(params_path(&dir, k())).unwrap(), honest().0);
    // Written through a temporary sibling renamed into place: nothing else is left.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// The honest bytes are the pinned ones, and a cache holding them is used as it is:
/// not rewritten (the file keeps its inode).
#[test]
fn a_cache_with_the_pinned_hash_is_used_and_not_rewritten() {
    assert_eq!(
        Some(hex::encode(Sha256::digest(&honest().0)).as_str()),
        pinned_params_sha256(k())
    );
    let scratch = Scratch::new("halo2-params");
    let dir = cache_with(&scratch, &honest().0);
    let inode = std::fs::metadata(params_path(&dir, k())).unwrap().ino();
    assert_eq!(to_bytes(&params(&dir, k()).unwrap()), honest().0);
    assert_eq!(
        std::fs::metadata(params_path(&dir, k())).unwrap().ino(),
        inode,
        "the pinned cache was rewritten"
    );
}

/// Asserts that `params` did not use the cache holding `bytes`: it returns the
/// derived parameters and rewrote the file with them.
fn assert_regenerated(label: &str, bytes: &[u8]) {
    let scratch = Scratch::new("halo2-params");
    let dir = cache_with(&scratch, bytes);
    let p = params(&dir, k()).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(p.k(), k(), "{label}");
    assert!(to_bytes(&p) == honest().0, "{label}: not regenerated");
    assert!(
        std::fs::read(params_path(&dir, k())).unwrap() == honest().0,
        "{label}: the cache was not rewritten"
    );
}

/// Truncated, empty, undecodable (a point that is not on the curve) or for another
/// `k`: the parameters are regenerated, returned and written over the cache.
#[test]
fn an_unreadable_cache_is_regenerated_and_rewritten() {
    let honest_bytes = &honest().0;
    let mut not_a_point = honest_bytes.clone();
    // All-ones x coordinate: not a canonical field element, so not a point.
    not_a_point[g_lagrange(5)..g_lagrange(5) + POINT].fill(0xff);
    let mut other_k = honest_bytes.clone();
    other_k[..HEADER].copy_from_slice(&(k() - 1).to_le_bytes());
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        (
            "one byte short",
            honest_bytes[..honest_bytes.len() - 1].to_vec(),
        ),
        ("one byte more", [honest_bytes.as_slice(), &[0]].concat()),
        ("not a point", not_a_point),
        // Decodes as parameters for k − 1 (with trailing bytes): not for k.
        ("another k", other_k),
    ];
    for (label, bytes) in cases {
        assert_regenerated(label, &bytes);
    }
}

/// The tampered parameters decoded in memory, and the hash of the verifying key
/// they give.
fn decoded(bytes: &[u8]) -> (Params<vesta::Affine>, String) {
    let p = Params::<vesta::Affine>::read(&mut &bytes[..]).unwrap();
    let hash = verifying_key_hash(&verifying_key(&p, shape()).unwrap());
    (p, hash)
}

/// In memory: the Lagrange basis and `w` make the fixed and permutation commitments
/// of the verifying key, so tampering with them changes the key hash (the epoch
/// would be refused by it even without the pin).
#[test]
fn a_tampered_lagrange_basis_or_w_changes_the_key_hash() {
    for (label, bytes) in [
        (
            "g_lagrange[0] <-> g_lagrange[1]",
            swapped(g_lagrange(0), g_lagrange(1)),
        ),
        ("w negated", negated(w())),
    ] {
        let (_, hash) = decoded(&bytes);
        assert_ne!(hash, honest().1, "{label}");
    }
}

/// In memory: a tampered monomial basis `g` or IPA base `u` decodes and keeps the
/// verifying key's hash — the key-hash check cannot see it, which is why a cache
/// must match the pinned hash to be used.
#[test]
fn a_tampered_g_or_u_still_decodes_and_keeps_the_key_hash() {
    for (label, bytes) in tampered_g_or_u() {
        let (_, hash) = decoded(&bytes);
        assert_eq!(hash, honest().1, "{label}");
    }
}

fn tampered_g_or_u() -> [(&'static str, Vec<u8>); 2] {
    [
        ("g[0] <-> g[1]", swapped(g(0), g(1))),
        ("u negated", negated(u())),
    ]
}

/// A cache whose monomial basis `g` was changed (two generators swapped: it still
/// decodes, and the key hash would pass) is not used: regenerated and rewritten,
/// and the epoch is verified with the derived parameters (past the key hash to the
/// junk proof, as with the honest cache).
#[test]
fn a_cache_with_a_tampered_g_is_regenerated_not_used() {
    let bytes = swapped(g(0), g(1));
    assert_regenerated("g[0] <-> g[1]", &bytes);
    let err = verify_with_cache(&bytes).unwrap_err();
    assert!(
        matches!(err, VerifyError::InvalidProof { batch: 0 }),
        "{err}"
    );
}

/// A cache whose IPA base `u` was changed (negated: it still decodes, and the key
/// hash would pass) is not used: regenerated and rewritten, as for `g`.
#[test]
fn a_cache_with_a_tampered_u_is_regenerated_not_used() {
    let bytes = negated(u());
    assert_regenerated("u negated", &bytes);
    let err = verify_with_cache(&bytes).unwrap_err();
    assert!(
        matches!(err, VerifyError::InvalidProof { batch: 0 }),
        "{err}"
    );
}

/// The in-memory constructor refuses parameters with a tampered `g` or `u` by their
/// hash, naming both hashes.
#[test]
fn halo2_verifier_keys_refuse_parameters_with_a_tampered_g_or_u() {
    for (label, bytes) in tampered_g_or_u() {
        let (p, _) = decoded(&bytes);
        match Halo2VerifierKeys::new(p, shape()) {
            Err(VerifyError::Halo2Params {
                k: got_k,
                expected,
                got,
            }) => {
                assert_eq!(got_k, k(), "{label}");
                assert_eq!(
                    Some(expected.as_str()),
                    pinned_params_sha256(k()),
                    "{label}"
                );
                assert_eq!(got, hex::encode(Sha256::digest(&bytes)), "{label}");
            }
            other => panic!("{label}: {other:?}"),
        }
    }
}

/// For a `k` without a pin, nothing could tell a tampered cache: the parameters are
/// derived, and the cache is neither used nor written over.
#[test]
fn for_a_k_without_a_pin_the_cache_is_neither_read_nor_written() {
    let k = 10;
    assert_eq!(pinned_params_sha256(k), None);
    let derived = to_bytes(&Params::<vesta::Affine>::new(k));
    let mut tampered = derived.clone();
    tampered[HEADER + POINT - 1] ^= 0x80; // g[0] negated: still decodes
    let scratch = Scratch::new("halo2-params");
    let dir = scratch.path().join("halo2-params");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(params_path(&dir, k), &tampered).unwrap();
    assert!(to_bytes(&params(&dir, k).unwrap()) == derived);
    assert!(std::fs::read(params_path(&dir, k)).unwrap() == tampered);
}

/// SPEC §7.4's claim, for every tampering that still decodes (`g`, `u`, the
/// Lagrange basis, `w`): a tampered cache is never used. Each is regenerated, so the
/// epoch goes past the key-hash check with the derived parameters; none reaches the
/// proofs with the tampered ones.
#[test]
fn every_tampered_cache_that_decodes_is_never_used() {
    let mut cases = tampered_g_or_u().to_vec();
    cases.push((
        "g_lagrange[0] <-> g_lagrange[1]",
        swapped(g_lagrange(0), g_lagrange(1)),
    ));
    cases.push(("w negated", negated(w())));
    for (label, bytes) in cases {
        assert_regenerated(label, &bytes);
        let err = verify_with_cache(&bytes).unwrap_err();
        assert!(
            matches!(err, VerifyError::InvalidProof { batch: 0 }),
            "{label}: {err}"
        );
    }
}
