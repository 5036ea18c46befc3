//! Inclusion proofs (`backstop_verifier::inclusion`, `docs/INCLUSION.md`) on epochs
//! committed here with the native engine (no proving: inclusion checks only read
//! `statement.json`): honest proofs verify for every account, and every change to
//! the account's data, salt, path, roots or epoch is refused with an error naming
//! it; a liquidation set that lies about the account is reported. The committed
//! test vectors (`tests/data/inclusion_vectors.json`) are recomputed and, when
//! Node.js is present, checked by `scripts/node/verify-inclusion.mjs` with
//! circomlibjs, an implementation independent of this crate.
//!
//! Regenerate the vectors after an intended change with
//! `BACKSTOP_REGENERATE_VECTORS=1 cargo test -p backstop-verifier --test inclusion`.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, OwnerCommitment, Price, Size,
    Snapshot,
};
use backstop_circuits::native::commit::{
    BatchSize, EpochCommitment, account_salt, commit_epoch, leaf, leaf_words, owner_salt,
    secret_element, tag, tags,
};
use backstop_circuits::native::evaluate;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{
    Backend, EpochStatement, PublicOutputs, StatementFile, publish,
};
use backstop_verifier::inclusion::{
    BATCH_ROOTS_FILE, BatchRootsFile, InclusionError, InclusionProof, PositionData, ProofParts,
    RootsPlacement, owner_commitment_from_secret, verify_inclusion, verify_inclusion_file,
    verify_inclusion_for_statement,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

type H = Bn254Poseidon;

const SECRET_HEX: &str = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
const B: u64 = 8;

fn secret() -> VenueSecret {
    VenueSecret::from_hex(SECRET_HEX).unwrap()
}

/// Ten accounts in two markets: longs and shorts, a negative balance, an account
/// with no position, one liquidatable, one underwater, ids 0 and 2^64 − 1.
fn book(epoch: u64) -> Snapshot {
    let markets = vec![
        Market::new(
            "BTC",
            Price::new(6_425_050).unwrap(),
            2,
            8,
            MarginBps::new(50).unwrap(),
        )
        .unwrap(),
        Market::new(
            "ETH",
            Price::new(3_587_340).unwrap(),
            3,
            6,
            MarginBps::new(100).unwrap(),
        )
        .unwrap(),
    ];
    let params = EpochParams::new(epoch, 6, 1_000_000_000_000, 50_000_000_000, markets).unwrap();
    // (id, balance in 10^-6 quote, BTC size in 10^-8, ETH size in 10^-6)
    let rows: [(u64, i128, i128, i128); 10] = [
        (0, 1_000_000_000, 0, 0),
        (7, 25_000_000_000, 10_000_000, -2_000_000),
        (42, -1_500_000_000, 0, 3_000_000),
        (43, 100, 0, 0),
        (1_000, 5_000_000_000, -5_000_000, 0),
        // TV ≈ 3.1 − 0.05·64250.5 + ... : liquidatable (just above zero equity).
        (1_001, -3_200_000_000, 5_000_000, 0),
        // Underwater: negative equity.
        (1_002, -40_000_000_000, 50_000_000, 0),
        (90_000, 0, 0, 1),
        (90_001, 123_456_789, -1, -1),
        (u64::MAX, 9_999_999_999, 200_000_000, -10_000_000),
    ];
    // Account 1001 is bound to its owner (SPEC §5.2); the others are not.
    let accounts = rows
        .iter()
        .map(|&(id, bal, btc, eth)| {
            Account::new(
                AccountId::new(id),
                Balance::new(bal).unwrap(),
                vec![Size::new(btc).unwrap(), Size::new(eth).unwrap()],
            )
            .with_owner((id == 1_001).then(alice))
        })
        .collect();
    Snapshot::new(params, accounts).unwrap()
}

/// The owner commitment of account 1001's owner.
fn alice() -> OwnerCommitment {
    owner_commitment_from_secret(b"alice's owner secret\n")
}

/// Another owner, whose account would be in the very same state.
fn bob() -> OwnerCommitment {
    owner_commitment_from_secret(b"bob's owner secret")
}

/// Two owners with identical states cannot be shown one leaf: the leaf absorbs
/// the owner commitment (SPEC §5.2). Alice's proof verifies and is bound to her;
/// shown to Bob it is refused by his owner check, and rewritten to name Bob it no
/// longer opens to the batch root. An unbound leaf is refused to an owner check.
#[test]
fn two_owners_cannot_share_one_leaf() {
    let e = bn(77);
    let statement = e.statement();
    assert_eq!(statement.file().owner_binding, "partial");
    let index = 5;
    assert_eq!(e.snapshot.accounts()[index].id().get(), 1_001);
    let proof = e.proof(index);
    assert_eq!(proof.owner, Some(alice().to_string()));
    let roots = proof.batch_roots.clone().unwrap();
    let report = verify_inclusion::<H>(&proof, &roots, &statement).unwrap();
    report.check_owner(&alice()).unwrap();
    let err = report.check_owner(&bob()).unwrap_err();
    assert!(
        matches!(&err, InclusionError::Owner { bound, expected } if *bound == alice().to_string() && *expected == bob().to_string()),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not show that the account is yours")
    );
    // The venue names Bob in the same proof: the leaf changes, the path fails.
    let mut for_bob = proof.clone();
    for_bob.owner = Some(bob().to_string());
    assert!(matches!(
        check(&for_bob, &statement),
        Err(InclusionError::NotInBatch { account: 1_001, .. })
    ));
    // Dropping the owner from the proof fails the same way.
    let mut unbound = proof;
    unbound.owner = None;
    assert!(matches!(
        check(&unbound, &statement),
        Err(InclusionError::NotInBatch { account: 1_001, .. })
    ));
    // An account without owner binding: an owner check is refused, naming none.
    let plain = e.proof(1);
    let report = verify_inclusion::<H>(&plain, &roots, &statement).unwrap();
    assert!(matches!(
        report.check_owner(&alice()),
        Err(InclusionError::Owner { bound, .. }) if bound == "none"
    ));
    // A malformed owner is named.
    let mut bad = e.proof(index);
    bad.owner = Some("0xABC".into());
    assert!(matches!(
        check(&bad, &statement),
        Err(InclusionError::Field { field, .. }) if field == "owner"
    ));
}

/// The owner commitment of a secret: keccak256 of the domain and the secret, one
/// trailing newline ignored, so `echo secret > file` and `printf secret` agree.
#[test]
fn owner_commitments_of_secrets() {
    let a = owner_commitment_from_secret(b"alice's owner secret");
    assert_eq!(a, alice());
    assert_eq!(owner_commitment_from_secret(b"alice's owner secret\r\n"), a);
    assert_ne!(owner_commitment_from_secret(b"alice's owner secret\n\n"), a);
    assert_ne!(a, bob());
}

/// A committed epoch and its published statement (a dummy key hash: no proofs).
struct Epoch<F: FieldHasher> {
    snapshot: Snapshot,
    commitment: EpochCommitment<F>,
    file: StatementFile,
}

impl<F: FieldHasher> Epoch<F> {
    fn new(epoch: u64, backend: Backend) -> Self {
        Self::of(book(epoch), backend)
    }

    /// The epoch of `snapshot`, at the least shape that proves it.
    fn of(snapshot: Snapshot, backend: Backend) -> Self {
        let commitment = commit_epoch::<F>(&snapshot, &secret(), BatchSize::new(B).unwrap());
        let outputs = PublicOutputs::from_evaluation(snapshot.params(), &evaluate(&snapshot));
        let shape = CircuitShape::for_params(B, snapshot.params()).unwrap();
        let file = publish(
            backend,
            shape,
            "00".repeat(32),
            snapshot.params(),
            &outputs,
            &commitment,
        );
        Self {
            snapshot,
            commitment,
            file,
        }
    }

    fn statement(&self) -> EpochStatement {
        EpochStatement::new(self.file.clone()).unwrap()
    }

    fn roots(&self) -> Vec<F::F> {
        self.commitment.batches.iter().map(|t| t.root()).collect()
    }

    /// The proof of the account at `index` (id order), roots embedded.
    fn proof(&self, index: usize) -> InclusionProof {
        let b = B as usize;
        let account = &self.snapshot.accounts()[index];
        let epoch = self.snapshot.params().epoch();
        let roots = self.roots();
        InclusionProof::new::<F>(ProofParts {
            backend: self.file.backend,
            shape: &self.file.shape,
            params: self.snapshot.params(),
            accounts_commitment: self.commitment.accounts_commitment,
            account,
            salt: account_salt::<F>(secret_element::<F>(&secret()), epoch, account.id()),
            batch: (index / b) as u64,
            slot: (index % b) as u64,
            path: &self.commitment.batches[index / b].path(index % b),
            roots: RootsPlacement::Embedded(&roots),
        })
    }
}

fn bn(epoch: u64) -> Epoch<H> {
    Epoch::new(epoch, Backend::Groth16Bn254)
}

fn check(proof: &InclusionProof, statement: &EpochStatement) -> Result<(), InclusionError> {
    let roots = proof.batch_roots.clone().unwrap();
    verify_inclusion::<H>(proof, &roots, statement).map(drop)
}

#[test]
fn every_account_verifies_and_reports_its_liquidation_status() {
    let e = bn(77);
    let statement = e.statement();
    let eval = evaluate(&e.snapshot);
    assert!(
        !eval.liquidations.is_empty() && eval.bad_debt > 0,
        "the book has both"
    );
    for (i, a) in e.snapshot.accounts().iter().enumerate() {
        let proof = e.proof(i);
        let roots = proof.batch_roots.clone().unwrap();
        let report = verify_inclusion::<H>(&proof, &roots, &statement).unwrap();
        assert_eq!(report.account_id, a.id().to_string());
        assert_eq!(report.index, i as u64);
        assert_eq!(report.slot, i as u64 % B);
        assert_eq!(report.liquidatable, eval.liquidations.contains(&a.id()));
        assert!(report.liquidation_consistent(), "account {}", a.id());
        assert!(!report.demo_secret);
    }
    // The exact decimal strings of the snapshot.
    let p = e.proof(2);
    assert_eq!(p.account.account_id, "42");
    assert_eq!(p.account.quote_balance, "-1500");
    assert_eq!(
        p.account.positions,
        vec![PositionData {
            market: "ETH".into(),
            size: "3".into()
        }]
    );
}

#[test]
fn a_changed_balance_is_refused() {
    let e = bn(77);
    let mut p = e.proof(1);
    p.account.quote_balance = "25000.000001".into();
    assert!(matches!(
        check(&p, &e.statement()),
        Err(InclusionError::NotInBatch {
            account: 7,
            batch: 0,
            ..
        })
    ));
}

#[test]
fn a_changed_position_is_refused() {
    let e = bn(77);
    let statement = e.statement();
    let mut p = e.proof(1);
    p.account.positions[0].size = "0.1000001".into();
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
    // A position dropped, or one added.
    let mut p = e.proof(1);
    p.account.positions.pop();
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
    let mut p = e.proof(3);
    p.account.positions.push(PositionData {
        market: "BTC".into(),
        size: "0.00000001".into(),
    });
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
    // The same size in another market.
    let mut p = e.proof(2);
    p.account.positions[0].market = "BTC".into();
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
}

#[test]
fn a_wrong_salt_is_refused() {
    let e = bn(77);
    let statement = e.statement();
    let mut p = e.proof(4);
    p.salt = e.proof(5).salt;
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
    // The demo secret's salt for this account.
    let demo = account_salt::<H>(
        secret_element::<H>(&VenueSecret::demo()),
        77,
        AccountId::new(1_000),
    );
    let mut p = e.proof(4);
    p.salt = H::to_hex(&demo);
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
}

#[test]
fn a_swapped_sibling_or_moved_position_is_refused() {
    let e = bn(77);
    let statement = e.statement();
    let mut p = e.proof(9);
    p.path[0].siblings.swap(0, 1);
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { batch: 1, .. })
    ));
    let mut p = e.proof(0);
    p.path[0].position = 1;
    p.slot = 1;
    assert!(matches!(
        check(&p, &statement),
        Err(InclusionError::NotInBatch { .. })
    ));
    // A slot that disagrees with the path is refused by name.
    let mut p = e.proof(0);
    p.slot = 3;
    assert!(
        matches!(check(&p, &statement), Err(InclusionError::Field { field, .. }) if field == "slot")
    );
}

#[test]
fn another_epoch_is_refused() {
    let e77 = bn(77);
    let e78 = bn(78);
    // A proof of epoch 77 against epoch 78's statement.
    assert!(matches!(
        check(&e77.proof(1), &e78.statement()),
        Err(InclusionError::Epoch {
            proof: 77,
            statement: 78
        })
    ));
    // Relabelled as epoch 78: the salts, a_0 and the roots are epoch 77's.
    let mut p = e77.proof(1);
    p.epoch = 78;
    assert!(matches!(
        check(&p, &e78.statement()),
        Err(InclusionError::NotInCommitment { .. })
    ));
    // Epoch 77's account, salt and path with epoch 78's roots.
    let mut p = e77.proof(1);
    p.epoch = 78;
    p.batch_roots = e78.proof(1).batch_roots;
    assert!(matches!(
        check(&p, &e78.statement()),
        Err(InclusionError::NotInBatch { .. })
    ));
}

#[test]
fn roots_that_do_not_chain_to_the_commitment_are_refused() {
    // A venue that left an account out of the committed epoch hands its owner a
    // proof over roots of its own making: the chain does not reach a_K.
    let e = bn(77);
    let mut p = e.proof(1);
    let mut roots = p.batch_roots.clone().unwrap();
    roots.push(roots[0].clone());
    p.batch_roots = Some(roots.clone());
    assert!(
        matches!(check(&p, &e.statement()), Err(InclusionError::Field { field, .. }) if field == "batch_roots")
    );
    let other = bn(79);
    let mut p = other.proof(1);
    p.epoch = 77;
    p.accounts_commitment = e.file.accounts_commitment.clone();
    let err = check(&p, &e.statement()).unwrap_err();
    assert!(
        matches!(err, InclusionError::NotInCommitment { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("NOT shown to be in the committed epoch")
    );
}

#[test]
fn a_lying_liquidation_set_is_reported() {
    let e = bn(77);
    let eval = evaluate(&e.snapshot);
    let liquidated = eval.liquidations[0];
    let index = e
        .snapshot
        .accounts()
        .iter()
        .position(|a| a.id() == liquidated)
        .unwrap();
    // The venue omits a liquidatable account from the published set ...
    let mut file = e.file.clone();
    file.liquidations.retain(|id| *id != liquidated.to_string());
    let statement = EpochStatement::new(file).unwrap();
    let p = e.proof(index);
    let r = verify_inclusion::<H>(&p, p.batch_roots.as_ref().unwrap(), &statement).unwrap();
    assert!(r.liquidatable && !r.listed_as_liquidatable && !r.liquidation_consistent());
    // ... or lists a healthy one.
    let mut file = e.file.clone();
    file.liquidations = vec!["7".into()];
    let statement = EpochStatement::new(file).unwrap();
    let p = e.proof(1);
    let r = verify_inclusion::<H>(&p, p.batch_roots.as_ref().unwrap(), &statement).unwrap();
    assert!(!r.liquidatable && r.listed_as_liquidatable && !r.liquidation_consistent());
}

#[test]
fn malformed_fields_are_named() {
    let e = bn(77);
    let statement = e.statement();
    let field_of = |p: &InclusionProof| match check(p, &statement) {
        Err(InclusionError::Field { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    let mut p = e.proof(1);
    p.account.positions[1].market = "SOL".into();
    assert_eq!(field_of(&p), "account.positions[1].market");
    let mut p = e.proof(1);
    p.account.positions[1].size = "-2.0000001".into();
    assert_eq!(field_of(&p), "account.positions[1].size");
    let mut p = e.proof(1);
    p.account.quote_balance = "9223372036854.775808".into();
    assert_eq!(field_of(&p), "account.quote_balance");
    let mut p = e.proof(1);
    p.account.account_id = "007".into();
    assert_eq!(field_of(&p), "account.account_id");
    let mut p = e.proof(1);
    p.path[0].siblings[3] =
        "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001".into();
    assert_eq!(field_of(&p), "path[0].siblings[3]");
    let mut p = e.proof(1);
    p.path[0].siblings.pop();
    assert_eq!(field_of(&p), "path[0].siblings");
    let mut p = e.proof(1);
    p.path.push(p.path[0].clone());
    assert_eq!(field_of(&p), "path");
    let mut p = e.proof(1);
    p.batch = 2;
    assert_eq!(field_of(&p), "batch");
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("inclusion-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn proofs_with_a_shared_roots_file_verify() {
    let e = bn(77);
    let dir = scratch("shared");
    let roots = e.roots();
    let shared = BatchRootsFile::new::<H>(
        Backend::Groth16Bn254,
        77,
        e.commitment.accounts_commitment,
        &roots,
    );
    std::fs::write(
        dir.join(BATCH_ROOTS_FILE),
        serde_json::to_vec(&shared).unwrap(),
    )
    .unwrap();
    let mut p = e.proof(8);
    p.batch_roots = None;
    p.batch_roots_file = Some(BATCH_ROOTS_FILE.into());
    let path = dir.join("1002.json");
    std::fs::write(&path, serde_json::to_vec(&p).unwrap()).unwrap();
    let r = verify_inclusion_file(&path, &e.statement()).unwrap();
    assert_eq!((r.account_id.as_str(), r.batch), ("90001", 1));
    // A roots file of another epoch is refused by name.
    let other = BatchRootsFile::new::<H>(
        Backend::Groth16Bn254,
        78,
        e.commitment.accounts_commitment,
        &roots,
    );
    std::fs::write(
        dir.join(BATCH_ROOTS_FILE),
        serde_json::to_vec(&other).unwrap(),
    )
    .unwrap();
    assert!(
        matches!(verify_inclusion_file(&path, &e.statement()), Err(InclusionError::Field { field, .. }) if field == "epoch")
    );
    // A v1 roots file is refused by its format, before its numeric epoch is read.
    let mut v1 = serde_json::to_value(&shared).unwrap();
    v1["format"] = json!("backstop.batch-roots.v1");
    v1["epoch"] = json!(77);
    std::fs::write(dir.join(BATCH_ROOTS_FILE), serde_json::to_vec(&v1).unwrap()).unwrap();
    assert!(
        matches!(verify_inclusion_file(&path, &e.statement()), Err(InclusionError::Field { field, reason, .. }) if field == "format" && reason.contains("backstop.batch-roots.v1"))
    );
    std::fs::remove_file(dir.join(BATCH_ROOTS_FILE)).unwrap();
    assert!(matches!(
        verify_inclusion_file(&path, &e.statement()),
        Err(InclusionError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(dir);
}

/// A version 1 proof (format `backstop.inclusion.v1`, its epoch a JSON number) is
/// refused by its format, naming the version, never reinterpreted; so is a proof
/// without a format. A v2 proof with a numeric epoch is refused too.
#[test]
fn a_version_1_proof_is_refused_by_its_format() {
    let e = bn(77);
    let dir = scratch("v1");
    let path = dir.join("7.json");
    let mut v1 = serde_json::to_value(e.proof(1)).unwrap();
    v1["format"] = json!("backstop.inclusion.v1");
    v1["epoch"] = json!(77);
    std::fs::write(&path, serde_json::to_vec(&v1).unwrap()).unwrap();
    let err = verify_inclusion_file(&path, &e.statement()).unwrap_err();
    assert!(
        matches!(&err, InclusionError::Field { field, reason, .. } if field == "format" && reason.contains("\"backstop.inclusion.v1\" is not backstop.inclusion.v2")),
        "{err}"
    );
    v1.as_object_mut().unwrap().remove("format");
    std::fs::write(&path, serde_json::to_vec(&v1).unwrap()).unwrap();
    let err = verify_inclusion_file(&path, &e.statement()).unwrap_err();
    assert!(
        matches!(&err, InclusionError::Field { field, .. } if field == "format"),
        "{err}"
    );
    v1["format"] = json!("backstop.inclusion.v2");
    std::fs::write(&path, serde_json::to_vec(&v1).unwrap()).unwrap();
    let err = verify_inclusion_file(&path, &e.statement()).unwrap_err();
    assert!(err.to_string().contains("expected a string"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_check_is_generic_over_the_hash() {
    // The same proof layout over Pasta Poseidon for a halo2-pasta statement.
    let e = Epoch::<PastaPoseidon>::new(77, Backend::Halo2Pasta);
    let statement = e.statement();
    let p = e.proof(9);
    let r =
        verify_inclusion_for_statement(&p, p.batch_roots.as_ref().unwrap(), &statement).unwrap();
    assert_eq!(r.account_id, u64::MAX.to_string());
    // A BN254 proof of the same book does not pass as a Pasta one.
    let mut bn = bn(77).proof(9);
    bn.backend = Backend::Halo2Pasta;
    assert!(
        verify_inclusion_for_statement(&bn, bn.batch_roots.as_ref().unwrap(), &statement).is_err()
    );
}

// ---------------------------------------------------------------------------
// Test vectors for third-party implementations (docs/INCLUSION.md).
// ---------------------------------------------------------------------------

fn vectors_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inclusion_vectors.json")
}

/// The risk model v2 vectors: maintenance brackets, collateral assets, a debt.
fn vectors_v2_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inclusion_vectors_v2.json")
}

/// The catalogue's worked risk model v2 book (`docs/SPEC.md` §2.2): BTC in three
/// brackets, ETH flat, WBTC and USDT collateral, one account borrowing USDT.
fn v2_epoch() -> Epoch<H> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../circuits/tests/bad_snapshots/valid_v2");
    Epoch::of(
        backstop_circuits::snapshot::load(&dir).unwrap(),
        Backend::Groth16Bn254,
    )
}

/// The vectors of `e`: the epoch's statement, and for the accounts at `indices`
/// every intermediate value of the check (lanes, words, salts, leaf, root, and the
/// account's values in common units: `TV`, `MV' = 10000·MV`, `MR' = 10000·MR`),
/// and the proof itself.
fn vectors_of(e: &Epoch<H>, indices: &[usize], description: &str) -> Value {
    let s = secret_element::<H>(&secret());
    let params = e.snapshot.params();
    let epoch = params.epoch();
    let scales = backstop_circuits::native::Scales::new(params);
    let lane = |v: i64| backstop_circuits::native::commit::lane(v).to_string();
    let accounts: Vec<Value> = indices
        .iter()
        .map(|&i| {
            let a = &e.snapshot.accounts()[i];
            let salt = account_salt::<H>(s, epoch, a.id());
            let leaf_salt = owner_salt::<H>(salt, a.owner());
            let words = leaf_words(Some(a), params.markets().len(), params.assets().len());
            let mut lanes = vec![a.id().get().to_string(), lane(a.quote_balance().get())];
            lanes.extend(a.sizes().iter().map(|z| lane(z.get())));
            lanes.extend(a.amounts().iter().map(|x| lane(x.get())));
            let risk = backstop_circuits::native::account_risk(&scales, a);
            let proof = e.proof(i);
            let mut v = json!({
                "account_id": a.id().to_string(),
                "lanes": lanes,
                "words": words.iter().map(|w| format!("0x{w:064x}")).collect::<Vec<_>>(),
                "salt": H::to_hex(&salt),
                "owner": a.owner().map(|o| o.to_string()),
                "leaf_salt": H::to_hex(&leaf_salt),
                "leaf": H::to_hex(&leaf::<H>(leaf_salt, &words)),
                "batch": i / B as usize,
                "batch_root": H::to_hex(&e.commitment.batches[i / B as usize].root()),
                "common_exponent": scales.exponent,
                "total_value_common_units": risk.total_value.to_string(),
                "margin_value_bps_common_units": risk.margin_value_bps.to_string(),
                "requirement_bps_common_units": risk.requirement_bps.to_string(),
                "liquidatable": risk.liquidatable,
                "proof": proof,
            });
            // The waterfall (SPEC §2.4): the account's fee, haircut at the published
            // rate and what remains, fees and what remains in 10^-(E+4) units.
            if let Some(ppb) = e.file.haircut_ppb {
                let cut = backstop_circuits::native::waterfall::haircut(risk.haircut_base, ppb);
                let remains = risk.haircut_base - ethnum::I256::from(10_000) * cut;
                v["liquidation_fee_bps_common_units"] = json!(risk.liquidation_fee.to_string());
                v["haircut_common_units"] = json!(cut.to_string());
                v["equity_after_bps_common_units"] = json!(remains.to_string());
            }
            v
        })
        .collect();
    json!({
        "description": description,
        "venue_secret_hex": SECRET_HEX,
        "secret_element": H::to_hex(&s),
        "tags": {
            "backstop.salt.v1": H::to_hex(&tag::<H>(tags::SALT)),
            "backstop.owner.v1": H::to_hex(&tag::<H>(tags::OWNER)),
            "backstop.accounts.v1": H::to_hex(&tag::<H>(tags::ACCOUNTS)),
        },
        "a_0": H::to_hex(&backstop_circuits::native::commit::accounts_chain_start::<H>(epoch)),
        "batch_roots": e.roots().iter().map(H::to_hex).collect::<Vec<_>>(),
        "accounts_commitment": e.file.accounts_commitment,
        "statement": e.file,
        "accounts": accounts,
    })
}

/// The risk model v1 vectors: ten accounts in two markets.
fn vectors() -> Value {
    vectors_of(
        &bn(77),
        &[1, 2, 5, 9],
        "Backstop inclusion test vectors (docs/INCLUSION.md): BN254 Poseidon with circomlib's parameters; circomlibjs 0.1.7 poseidon([...]) reproduces every hash. Regenerate: BACKSTOP_REGENERATE_VECTORS=1 cargo test -p backstop-verifier --test inclusion",
    )
}

/// The risk model v2 vectors: every account of the worked book.
fn vectors_v2() -> Value {
    vectors_of(
        &v2_epoch(),
        &[0, 1, 2],
        "Backstop inclusion test vectors, risk model v2 (docs/INCLUSION.md, docs/SPEC.md §2.2): maintenance brackets, collateral assets (amount lanes after the sizes), a debt; BN254 Poseidon with circomlib's parameters. Regenerate: BACKSTOP_REGENERATE_VECTORS=1 cargo test -p backstop-verifier --test inclusion",
    )
}

/// The waterfall vectors (SPEC §2.4): the committed `waterfall-socialized` fixture,
/// with a fee payer, an account that only pays the haircut and an underwater one.
fn vectors_waterfall_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inclusion_vectors_waterfall.json")
}

fn vectors_waterfall() -> Value {
    let dir = backstop_fixtures::data_dir().join("waterfall-socialized/snapshot");
    let e = Epoch::of(
        backstop_circuits::snapshot::load(&dir).unwrap(),
        Backend::Groth16Bn254,
    );
    let scales = backstop_circuits::native::Scales::new(e.snapshot.params());
    let risks: Vec<_> = (e.snapshot.accounts().iter())
        .map(|a| backstop_circuits::native::account_risk(&scales, a))
        .collect();
    let first = |f: &dyn Fn(&backstop_circuits::native::AccountRisk) -> bool| {
        risks.iter().position(f).unwrap()
    };
    let indices = [
        first(&|r| r.liquidation_fee.is_positive()),
        first(&|r| !r.liquidatable && r.haircut_base.is_positive()),
        first(&|r| r.bad_debt.is_positive()),
    ];
    vectors_of(
        &e,
        &indices,
        "Backstop inclusion test vectors, the default waterfall (docs/INCLUSION.md, docs/SPEC.md §2.4): a liquidated account's fee, every account's haircut at the published rate; BN254 Poseidon with circomlib's parameters. Regenerate: BACKSTOP_REGENERATE_VECTORS=1 cargo test -p backstop-verifier --test inclusion",
    )
}

/// `generated` equals the committed file at `path` (rewritten first when
/// BACKSTOP_REGENERATE_VECTORS is set), and every committed proof verifies.
fn check_committed_vectors(generated: &Value, path: &Path) {
    if std::env::var_os("BACKSTOP_REGENERATE_VECTORS").is_some() {
        let mut text = serde_json::to_string_pretty(generated).unwrap();
        text.push('\n');
        std::fs::write(path, text).unwrap();
    }
    let committed: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(
        &committed, generated,
        "regenerate with BACKSTOP_REGENERATE_VECTORS=1"
    );
    let statement: StatementFile = serde_json::from_value(committed["statement"].clone()).unwrap();
    let statement = EpochStatement::new(statement).unwrap();
    for a in committed["accounts"].as_array().unwrap() {
        let p: InclusionProof = serde_json::from_value(a["proof"].clone()).unwrap();
        check(&p, &statement).unwrap();
    }
}

#[test]
fn committed_waterfall_vectors_are_reproduced() {
    let v = vectors_waterfall();
    let accounts = v["accounts"].as_array().unwrap();
    assert!(accounts[0]["liquidation_fee_bps_common_units"] != json!("0"));
    assert!(accounts[1]["haircut_common_units"] != json!("0"));
    check_committed_vectors(&v, &vectors_waterfall_path());
}

#[test]
fn committed_vectors_are_reproduced() {
    check_committed_vectors(&vectors(), &vectors_path());
}

#[test]
fn committed_risk_model_v2_vectors_are_reproduced() {
    let v = vectors_v2();
    // The book exercises what it is for: a bracket beyond the first, a held asset
    // and a debt.
    assert_ne!(v["statement"]["markets"][0]["tiers"], Value::Null);
    let balances: Vec<&Value> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["proof"]["account"]["balances"].as_array().unwrap())
        .collect();
    assert!(
        balances
            .iter()
            .any(|b| b["amount"].as_str().unwrap().starts_with('-'))
    );
    assert!(
        balances
            .iter()
            .any(|b| !b["amount"].as_str().unwrap().starts_with('-'))
    );
    check_committed_vectors(&v, &vectors_v2_path());
}

/// `scripts/node`, with circomlibjs installed (by `npm ci` if missing).
fn node_dir_with_circomlibjs() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node");
    let ok = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        ok("node"),
        "this test runs scripts/node/verify-inclusion.mjs and needs Node.js (`node` on PATH)"
    );
    if !dir.join("node_modules/circomlibjs/package.json").is_file() {
        assert!(
            ok("npm"),
            "circomlibjs is not installed in scripts/node and `npm` is not on PATH to install it"
        );
        let out = Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "npm ci in scripts/node failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// Runs `verify-inclusion.mjs` on `proof` (written to `dir/proof.json`) and the
/// statement at `statement_path`: its exit code and printed JSON.
fn node_verify(
    node_dir: &Path,
    dir: &Path,
    statement_path: &Path,
    proof: &Value,
) -> (Option<i32>, Value) {
    let path = dir.join("proof.json");
    std::fs::write(&path, serde_json::to_vec(proof).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(node_dir.join("verify-inclusion.mjs"))
        .arg(&path)
        .arg(statement_path)
        .output()
        .unwrap();
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), result)
}

/// The script includes every account of `vectors` and computes the same leaf, root
/// and values.
fn node_agrees_on_every_account(vectors: &Value, run: impl Fn(&Value) -> (Option<i32>, Value)) {
    for a in vectors["accounts"].as_array().unwrap() {
        let (code, result) = run(&a["proof"]);
        assert_eq!(code, Some(0), "{result}");
        assert_eq!(result["leaf"], a["leaf"]);
        assert_eq!(result["batch_root"], a["batch_root"]);
        for key in [
            "common_exponent",
            "total_value_common_units",
            "margin_value_bps_common_units",
            "requirement_bps_common_units",
            "liquidatable",
        ] {
            assert_eq!(result[key], a[key], "{}: {key}", a["account_id"]);
        }
        // The waterfall, when the statement publishes one (SPEC §2.4).
        for key in [
            "liquidation_fee_bps_common_units",
            "haircut_common_units",
            "equity_after_bps_common_units",
        ] {
            assert_eq!(result[key], a[key], "{}: {key}", a["account_id"]);
        }
    }
}

/// The waterfall: the script recomputes each account's fee and haircut from its
/// leaf and the published rate, as the Rust engine does.
#[test]
fn circomlibjs_script_agrees_on_the_waterfall() {
    let node_dir = node_dir_with_circomlibjs();
    let committed: Value =
        serde_json::from_slice(&std::fs::read(vectors_waterfall_path()).unwrap()).unwrap();
    let dir = scratch("node-waterfall");
    let statement_path = dir.join("statement.json");
    std::fs::write(
        &statement_path,
        serde_json::to_vec(&committed["statement"]).unwrap(),
    )
    .unwrap();
    let run = |proof: &Value| node_verify(&node_dir, &dir, &statement_path, proof);
    node_agrees_on_every_account(&committed, run);
    let _ = std::fs::remove_dir_all(dir);
}

/// Risk model v2: the script reads the collateral balances as lanes after the sizes,
/// the brackets and the haircuts, and agrees with the Rust engine on every value; a
/// changed amount is not included, and a liquidation set that lies is caught.
#[test]
fn circomlibjs_script_agrees_on_risk_model_v2() {
    let node_dir = node_dir_with_circomlibjs();
    let committed: Value =
        serde_json::from_slice(&std::fs::read(vectors_v2_path()).unwrap()).unwrap();
    let dir = scratch("node-v2");
    let statement_path = dir.join("statement.json");
    let write_statement = |statement: &Value| {
        std::fs::write(&statement_path, serde_json::to_vec(statement).unwrap()).unwrap();
    };
    write_statement(&committed["statement"]);
    let run = |proof: &Value| node_verify(&node_dir, &dir, &statement_path, proof);
    node_agrees_on_every_account(&committed, run);
    // The holder of a collateral amount: another amount is another leaf.
    let holder = committed["accounts"][0]["proof"].clone();
    let mut p = holder.clone();
    p["account"]["balances"][0]["amount"] = json!("0.25000001");
    assert_eq!(run(&p).0, Some(1));
    let mut p = holder.clone();
    p["account"]["balances"] = json!([]);
    assert_eq!(run(&p).0, Some(1));
    // Account 2 is liquidatable: a set that leaves it out is wrong about it.
    assert_eq!(committed["statement"]["liquidations"], json!(["2"]));
    let mut statement = committed["statement"].clone();
    statement["liquidations"] = json!([]);
    write_statement(&statement);
    let (code, result) = run(&committed["accounts"][1]["proof"]);
    assert_eq!(code, Some(3), "{result}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn circomlibjs_script_agrees() {
    let node_dir = node_dir_with_circomlibjs();
    let committed: Value = serde_json::from_slice(&std::fs::read(vectors_path()).unwrap()).unwrap();
    let dir = scratch("node");
    let statement_path = dir.join("statement.json");
    std::fs::write(
        &statement_path,
        serde_json::to_vec(&committed["statement"]).unwrap(),
    )
    .unwrap();
    let run = |proof: &Value| node_verify(&node_dir, &dir, &statement_path, proof);
    node_agrees_on_every_account(&committed, run);
    // A changed balance, a wrong salt: not included (exit 1).
    let mut p = committed["accounts"][0]["proof"].clone();
    p["account"]["quote_balance"] = json!("25000.000001");
    assert_eq!(run(&p).0, Some(1));
    let mut p = committed["accounts"][0]["proof"].clone();
    p["salt"] = committed["accounts"][1]["salt"].clone();
    assert_eq!(run(&p).0, Some(1));
    // A liquidation set that lies about a healthy account: exit 3.
    let mut statement = committed["statement"].clone();
    statement["liquidations"] = json!(["7"]);
    std::fs::write(&statement_path, serde_json::to_vec(&statement).unwrap()).unwrap();
    let (code, result) = run(&committed["accounts"][0]["proof"]);
    assert_eq!(code, Some(3), "{result}");
    assert_eq!(result["liquidation_status_consistent"], json!(false));
    let _ = std::fs::remove_dir_all(dir);
}
