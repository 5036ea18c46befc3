//! `backstop inclusion`, `backstop attest`, `backstop verify-attestation` and
//! `backstop audit` end to end, as real processes on real files.
//!
//! One small epoch (a seeded flash-crash book of 7 accounts in 2 markets, `B = 8`:
//! one batch with a padding slot; multi-batch epochs are covered by
//! `verifier/tests/inclusion.rs`) is proven once by the CLI and shared; attestation
//! keys for `M = 2` are made once, and two attestations. Each tampering works on
//! its own copy.
//!
//! `inclusion_rate_100k_accounts` (ignored; run it in release) measures the rate of
//! `inclusion prove --all` and of verifying every proof, for 100k accounts × 8 markets.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::model::{Account, AccountId, Balance, Snapshot};
use backstop_circuits::native::attestation::{AttestationClaim, AttestationError};
use backstop_circuits::native::commit::{BatchSize, account_salt, commit_epoch, secret_element};
use backstop_circuits::native::{Scales, account_risk, evaluate};
use backstop_circuits::r1cs::attestation::{
    AttestationCircuit, AttestationInputs, AttestationWitness,
};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::AttestationShape;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::snapshot;
use backstop_circuits::statement::{Backend, PublicOutputs, publish};
use backstop_prover::attest::AttestationKeys;
use backstop_verifier::attestation::{context_element, public_input_for};
use backstop_verifier::inclusion::{
    BATCH_ROOTS_FILE, BatchRootsFile, ChainedRoots, read_proof, verify_inclusion_chained,
    verify_inclusion_file,
};
use backstop_verifier::read_statement;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

mod common;
use common::{backstop, ok, refused, s, text};

const SECRET_HEX: &str = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";

/// A scratch root under Cargo's per-target temporary directory; leftovers of runs
/// older than an hour are removed.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(parent).unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(parent).unwrap().flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago);
            if stale && entry.file_name().to_string_lossy().starts_with("users-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        tempfile::Builder::new()
            .prefix("users-")
            .tempdir_in(parent)
            .unwrap()
            .keep()
    })
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shared proven epoch.
struct Epoch {
    snapshot: PathBuf,
    epoch: PathBuf,
    keys: PathBuf,
    secret: PathBuf,
    /// Ids in order, and the liquidated ones.
    ids: Vec<u64>,
    liquidated: Vec<u64>,
    /// The one account bound to an owner commitment (the first healthy one), and
    /// its owner's secret file.
    owned: u64,
    owner_secret: PathBuf,
}

fn epoch() -> &'static Epoch {
    static EPOCH: OnceLock<Epoch> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let dir = root().join("shared");
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret.hex");
        std::fs::write(&secret, format!("{SECRET_HEX}\n")).unwrap();
        let snap = dir.join("snapshot");
        ok(
            &backstop(&[
                "fixtures",
                "--scenario",
                "flash-crash",
                "--accounts",
                "7",
                "--markets",
                "2",
                "--seed",
                "5",
                "--out",
                s(&snap),
            ]),
            "fixtures",
        );
        // The first healthy account is bound to its owner (SPEC §5.2): the owner's
        // commitment, from `backstop owner commitment`, in the `owner` column.
        let eval = evaluate(&snapshot::load(&snap).unwrap());
        let owned = snapshot::load(&snap)
            .unwrap()
            .accounts()
            .iter()
            .map(|a| a.id())
            .find(|id| !eval.liquidations.contains(id))
            .unwrap()
            .get();
        let owner_secret = dir.join("owner.secret");
        std::fs::write(&owner_secret, "the owner's own secret\n").unwrap();
        let out = backstop(&[
            "owner",
            "commitment",
            "--owner-secret-file",
            s(&owner_secret),
        ]);
        ok(&out, "owner commitment");
        let commitment = text(&out.stdout).trim().to_owned();
        let csv = std::fs::read_to_string(snap.join("accounts.csv")).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("account_id,quote_balance"));
        let mut bound = String::from("account_id,quote_balance,owner\n");
        for line in lines {
            let id: u64 = line.split(',').next().unwrap().parse().unwrap();
            let owner = if id == owned { commitment.as_str() } else { "" };
            bound.push_str(&format!("{line},{owner}\n"));
        }
        std::fs::write(snap.join("accounts.csv"), bound).unwrap();
        let keys = dir.join("keys");
        let epoch_dir = dir.join("epoch");
        ok(
            &backstop(&[
                "prove",
                "--snapshot",
                s(&snap),
                "--out",
                s(&epoch_dir),
                "--batch-size",
                "8",
                "--keys",
                s(&keys),
                "--secret-file",
                s(&secret),
                "--json",
            ]),
            "prove",
        );
        let snapshot = snapshot::load(&snap).unwrap();
        let eval = evaluate(&snapshot);
        assert!(!eval.liquidations.is_empty(), "the book has liquidations");
        Epoch {
            snapshot: snap,
            epoch: epoch_dir,
            keys,
            secret,
            ids: snapshot.accounts().iter().map(|a| a.id().get()).collect(),
            liquidated: eval.liquidations.iter().map(|a| a.get()).collect(),
            owned,
            owner_secret,
        }
    })
}

/// Attestation keys for `M = 2`, made once by the first `attest`.
fn attestation_keys() -> &'static Path {
    static KEYS: OnceLock<PathBuf> = OnceLock::new();
    KEYS.get_or_init(|| root().join("attestation-keys"))
}

fn prove_inclusion(account: u64, out: &Path) -> Output {
    let e = epoch();
    backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.epoch),
        "--account",
        &account.to_string(),
        "--secret-file",
        s(&e.secret),
        "--out",
        s(out),
    ])
}

fn verify_inclusion(proof: &Path, epoch_dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["inclusion", "verify", s(proof), "--epoch", s(epoch_dir)];
    args.extend_from_slice(extra);
    backstop(&args)
}

/// A copy of the shared epoch directory with a modified `statement.json`.
fn epoch_copy(name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let e = epoch();
    let dir = scratch(name).join("epoch");
    std::fs::create_dir_all(dir.join("proofs")).unwrap();
    for entry in std::fs::read_dir(&e.epoch).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    for entry in std::fs::read_dir(e.epoch.join("proofs")).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join("proofs").join(entry.file_name())).unwrap();
    }
    let path = dir.join("statement.json");
    let mut statement: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut statement);
    std::fs::write(&path, serde_json::to_vec_pretty(&statement).unwrap()).unwrap();
    dir
}

#[test]
fn inclusion_proofs_verify_for_healthy_and_liquidated_accounts() {
    let e = epoch();
    let dir = scratch("round-trip");
    for &id in [e.ids[0], e.liquidated[0], *e.ids.last().unwrap()].iter() {
        let proof = dir.join(format!("{id}.json"));
        ok(&prove_inclusion(id, &proof), "inclusion prove");
        let out = verify_inclusion(&proof, &e.epoch, &["--json"]);
        ok(&out, "inclusion verify");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["included"], Value::Bool(true));
        assert_eq!(v["liquidation_status_consistent"], Value::Bool(true));
        assert_eq!(
            v["report"]["liquidatable"],
            Value::Bool(e.liquidated.contains(&id)),
            "account {id}"
        );
    }
    // Text output, with the epoch's proofs checked too; and stdout when no --out.
    let proof = dir.join(format!("{}.json", e.ids[0]));
    let out = verify_inclusion(&proof, &e.epoch, &["--check-proofs"]);
    ok(&out, "inclusion verify --check-proofs");
    assert!(text(&out.stdout).starts_with("INCLUDED: account"));
    assert!(text(&out.stdout).contains("the epoch's batch proofs verify"));
    let out = backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.epoch),
        "--account",
        &e.ids[1].to_string(),
        "--secret-file",
        s(&e.secret),
    ]);
    ok(&out, "inclusion prove to stdout");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "backstop.inclusion.v2");
    assert_eq!(
        v["epoch"],
        Value::String(v["epoch"].as_str().unwrap().to_owned())
    );
    assert_eq!(v["batch_roots"].as_array().unwrap().len(), 1);
}

/// Owner binding end to end (SPEC §5.2): the owner's secret file checks their
/// leaf; another owner's secret, or a commitment given by hand, is refused naming
/// both commitments; an unbound account refuses any owner check; the statement and
/// the audit say the binding is partial.
#[test]
fn inclusion_verify_checks_the_owner() {
    let e = epoch();
    let dir = scratch("owner");
    let proof = dir.join("owned.json");
    ok(&prove_inclusion(e.owned, &proof), "inclusion prove");
    let secret = s(&e.owner_secret);
    let out = verify_inclusion(&proof, &e.epoch, &["--owner-secret-file", secret]);
    ok(&out, "inclusion verify --owner-secret-file");
    assert!(
        text(&out.stdout).contains("owner: the leaf is bound to your owner commitment"),
        "{}",
        text(&out.stdout)
    );
    let out = backstop(&["owner", "commitment", "--owner-secret-file", secret]);
    let mine = text(&out.stdout).trim().to_owned();
    ok(
        &verify_inclusion(&proof, &e.epoch, &["--owner", &mine]),
        "--owner",
    );
    let other = dir.join("other.secret");
    std::fs::write(&other, "another owner's secret").unwrap();
    for extra in [
        vec!["--owner-secret-file", s(&other)],
        vec![
            "--owner",
            "0x1111111111111111111111111111111111111111111111111111111111111111",
        ],
    ] {
        let out = verify_inclusion(&proof, &e.epoch, &extra);
        refused(
            &out,
            "another owner",
            "this proof does not show that the account is yours",
        );
        assert!(text(&out.stderr).contains(&mine), "{}", text(&out.stderr));
    }
    // An unbound account: an owner check is refused, naming none.
    let plain = dir.join("plain.json");
    let unbound = *e.ids.iter().find(|&&i| i != e.owned).unwrap();
    ok(&prove_inclusion(unbound, &plain), "inclusion prove");
    let out = verify_inclusion(&plain, &e.epoch, &["--owner-secret-file", secret]);
    refused(&out, "an unbound leaf", "the leaf is bound to owner none");
    let out = verify_inclusion(&plain, &e.epoch, &[]);
    ok(&out, "inclusion verify without an owner");
    assert!(text(&out.stdout).contains("bound to no owner commitment"));
    // The secret is never printed.
    let out = verify_inclusion(&proof, &e.epoch, &["--owner-secret-file", secret]);
    assert!(!text(&out.stdout).contains("the owner's own secret"));
    assert!(!text(&out.stderr).contains("the owner's own secret"));
    // The statement and the audit say the binding is partial.
    let statement: Value =
        serde_json::from_slice(&std::fs::read(e.epoch.join("statement.json")).unwrap()).unwrap();
    assert_eq!(statement["owner_binding"], "partial");
    let out = backstop(&["audit", s(&e.epoch), "--format", "text"]);
    assert!(
        text(&out.stdout).contains("Owner binding: partial"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("used for some accounts only"));
}

#[test]
fn inclusion_prove_refuses_an_unknown_account_or_the_wrong_secret() {
    let e = epoch();
    let dir = scratch("refusals");
    let missing = (1..).find(|i| !e.ids.contains(i)).unwrap();
    refused(
        &prove_inclusion(missing, &dir.join("p.json")),
        "unknown account",
        &format!("account {missing} is not in the snapshot"),
    );
    assert!(!dir.join("p.json").exists());
    // The demo secret does not reproduce the epoch's commitment.
    let out = backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.epoch),
        "--account",
        &e.ids[0].to_string(),
    ]);
    refused(&out, "demo secret", "wrong secret");
    // Neither --account nor --all.
    let out = backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.epoch),
    ]);
    assert!(!out.status.success());
}

#[test]
fn inclusion_prove_all_writes_every_account() {
    let e = epoch();
    let out_dir = scratch("all").join("proofs");
    let out = backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.epoch),
        "--all",
        "--out",
        s(&out_dir),
        "--secret-file",
        s(&e.secret),
    ]);
    ok(&out, "inclusion prove --all");
    assert!(text(&out.stderr).contains("proofs/s"));
    let files = std::fs::read_dir(&out_dir).unwrap().count();
    assert_eq!(
        files,
        e.ids.len() + 1,
        "one per account and batch-roots.json"
    );
    let statement = read_statement(&e.epoch).unwrap();
    for id in &e.ids {
        let r = verify_inclusion_file(&out_dir.join(format!("{id}.json")), &statement).unwrap();
        assert!(r.liquidation_consistent());
    }
    ok(
        &verify_inclusion(&out_dir.join(format!("{}.json", e.ids[3])), &e.epoch, &[]),
        "verify a bulk proof",
    );
    // Running again replaces the directory.
    ok(
        &backstop(&[
            "inclusion",
            "prove",
            "--snapshot",
            s(&e.snapshot),
            "--epoch",
            s(&e.epoch),
            "--all",
            "--out",
            s(&out_dir),
            "--secret-file",
            s(&e.secret),
        ]),
        "inclusion prove --all again",
    );
}

#[test]
fn inclusion_verify_refuses_tampering_and_flags_a_lying_venue() {
    let e = epoch();
    let dir = scratch("tamper");
    let healthy = *e.ids.iter().find(|i| !e.liquidated.contains(i)).unwrap();
    let proof = dir.join("healthy.json");
    ok(&prove_inclusion(healthy, &proof), "inclusion prove");
    let original: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    let write = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut v = original.clone();
        edit(&mut v);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        path
    };
    let bad = write("balance.json", &|v| {
        let b = v["account"]["quote_balance"].as_str().unwrap();
        let other = if b == "1" { "2" } else { "1" };
        v["account"]["quote_balance"] = Value::String(other.into());
    });
    refused(
        &verify_inclusion(&bad, &e.epoch, &[]),
        "changed balance",
        "differs from what the venue committed to",
    );
    let bad = write("salt.json", &|v| {
        v["salt"] = v["path"][0]["siblings"][0].clone();
    });
    refused(
        &verify_inclusion(&bad, &e.epoch, &[]),
        "wrong salt",
        "the salt",
    );
    let bad = write("epoch.json", &|v| {
        let next = v["epoch"].as_str().unwrap().parse::<u64>().unwrap() + 1;
        v["epoch"] = Value::from(next.to_string());
    });
    refused(
        &verify_inclusion(&bad, &e.epoch, &[]),
        "another epoch",
        "is for epoch",
    );

    // The venue publishes a liquidation set that lists a healthy account, and one
    // that omits a liquidatable one: the owner's check fails loudly.
    let lying = epoch_copy("lying-list", |st| {
        st["liquidations"] = Value::Array(vec![Value::String(healthy.to_string())]);
    });
    let out = verify_inclusion(&proof, &lying, &[]);
    refused(
        &out,
        "listed healthy account",
        "LIQUIDATION SET IS WRONG ABOUT ACCOUNT",
    );
    assert!(text(&out.stdout).contains("INCLUDED"), "still included");
    let liquidated = e.liquidated[0];
    let lproof = dir.join("liquidated.json");
    ok(&prove_inclusion(liquidated, &lproof), "inclusion prove");
    let omitting = epoch_copy("lying-omit", |st| {
        let list = st["liquidations"].as_array_mut().unwrap();
        list.retain(|id| id.as_str() != Some(liquidated.to_string().as_str()));
    });
    refused(
        &verify_inclusion(&lproof, &omitting, &[]),
        "omitted liquidatable account",
        "it is liquidatable, but the published liquidation set does not list it",
    );
}

fn attest(args: &[&str]) -> Output {
    let e = epoch();
    let mut all = vec![
        "attest",
        "--epoch",
        s(&e.epoch),
        "--keys",
        s(attestation_keys()),
    ];
    all.extend_from_slice(args);
    backstop(&all)
}

/// A healthy account, its inclusion proof, and two attestations: by its owner from
/// the inclusion proof (R = 1, X = 0.000001, a context), and by the venue from the
/// snapshot (R = 0.5).
struct Attested {
    proof: PathBuf,
    file: PathBuf,
    venue_file: PathBuf,
}

fn attested() -> &'static Attested {
    static A: OnceLock<Attested> = OnceLock::new();
    A.get_or_init(|| {
        let e = epoch();
        let dir = root().join("attested");
        std::fs::create_dir_all(&dir).unwrap();
        let proof = dir.join("inclusion.json");
        let healthy = *e.ids.iter().find(|i| !e.liquidated.contains(i)).unwrap();
        ok(&prove_inclusion(healthy, &proof), "inclusion prove");
        let file = dir.join("attestation.json");
        let out = attest(&[
            "--inclusion",
            s(&proof),
            "--min-margin-ratio",
            "1",
            "--min-equity",
            "0.000001",
            "--context",
            "counterparty nonce 1",
            "--out",
            s(&file),
        ]);
        ok(&out, "attest");
        let venue_file = dir.join("venue-attestation.json");
        let out = attest(&[
            "--snapshot",
            s(&e.snapshot),
            "--account",
            &healthy.to_string(),
            "--secret-file",
            s(&e.secret),
            "--min-margin-ratio",
            "0.5",
            "--out",
            s(&venue_file),
        ]);
        ok(&out, "attest from the snapshot");
        Attested {
            proof,
            file,
            venue_file,
        }
    })
}

#[test]
fn attestation_verifies_with_the_trusted_key() {
    let e = epoch();
    let a = attested();
    let key = attestation_keys().join("verifying_key.bin");
    let out = backstop(&[
        "verify-attestation",
        s(&a.file),
        "--epoch",
        s(&e.epoch),
        "--key",
        s(&key),
        "--json",
    ]);
    ok(&out, "verify-attestation");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["trusted_key"], Value::Bool(true));
    assert_eq!(v["report"]["min_margin_ratio"], "1");
    assert_eq!(v["report"]["min_equity"], "0.000001");
    // The file reveals no account data: no id, balance or salt of the account.
    let file = std::fs::read_to_string(&a.file).unwrap();
    let proof: Value = serde_json::from_slice(&std::fs::read(&a.proof).unwrap()).unwrap();
    for secret in [&proof["salt"], &proof["account"]["quote_balance"]] {
        assert!(!file.contains(secret.as_str().unwrap()), "{secret} leaked");
    }
    assert!(!file.contains(&format!(
        "\"{}\"",
        proof["account"]["account_id"].as_str().unwrap()
    )));
    // Without --key: verified, with a note about the untrusted key.
    let out = backstop(&["verify-attestation", s(&a.file), "--epoch", s(&e.epoch)]);
    ok(&out, "verify-attestation (own key)");
    assert!(text(&out.stdout).contains("pass --key"));
    // The venue's route: snapshot and secret.
    ok(
        &backstop(&[
            "verify-attestation",
            s(&a.venue_file),
            "--epoch",
            s(&e.epoch),
            "--key",
            s(&key),
        ]),
        "verify-attestation of the venue's attestation",
    );
}

/// `backstop attest` refuses a false claim before proving: the native check of
/// `AttestationWitness::new` (`TV >= R·MR`, `TV >= X`), so no file is written. This
/// does not exercise the circuit; `a_false_claim_has_no_proof_that_verifies_for_the_epoch`
/// goes around this check.
#[test]
fn attest_refuses_a_false_claim_before_proving() {
    let e = epoch();
    let dir = scratch("false-claim");
    let lproof = dir.join("liquidated.json");
    ok(
        &prove_inclusion(e.liquidated[0], &lproof),
        "inclusion prove",
    );
    let out = attest(&[
        "--inclusion",
        s(&lproof),
        "--min-margin-ratio",
        "1",
        "--out",
        s(&dir.join("a.json")),
    ]);
    refused(
        &out,
        "liquidatable account at R = 1",
        "does not satisfy the claim",
    );
    assert!(!dir.join("a.json").exists());
    // A healthy account, but a ratio above its own.
    let out = attest(&[
        "--inclusion",
        s(&attested().proof),
        "--min-margin-ratio",
        "400000",
        "--out",
        s(&dir.join("a.json")),
    ]);
    refused(&out, "ratio too high", "does not satisfy the claim");
    let out = attest(&[
        "--inclusion",
        s(&attested().proof),
        "--min-margin-ratio",
        "1.00001",
        "--out",
        s(&dir.join("a.json")),
    ]);
    refused(&out, "five decimal places", "min margin ratio");
}

/// A false claim, going around the CLI with the library: a liquidatable account
/// claims `R = 1`.
///
/// 1. Its true data and the published roots: `AttestationWitness::new` refuses to
///    build the witness (the same native check the CLI meets), so the library
///    proves nothing.
/// 2. The attacker lies to that check: the same account (id, positions, salt) with
///    a balance that makes the claim true, and the batch roots recomputed over the
///    lie. The witness builds and satisfies the attestation circuit for its own
///    public input; but the circuit itself is unsatisfied with the public input a
///    verifier computes for this claim on the published epoch (the circuit binds
///    the leaf, through its path, to the roots-tree root inside `x`).
/// 3. The proof of that witness, in an attestation file for the published epoch,
///    does not verify.
///
/// What this cannot reach from outside the circuits crate: a witness whose claim
/// is false for the very values the circuit range-checks (`TV < R·MR` with the true
/// leaf). `AttestationWitness::new` is the only constructor and checks the claim
/// natively; the circuit's refusal of such an assignment is tested by the soundness
/// catalogue in `circuits/src/r1cs/attestation.rs` (`attack_account_below_the_ratio`,
/// `attack_liquidatable_or_underwater_account`) on crate-private assignments.
#[test]
fn a_false_claim_has_no_proof_that_verifies_for_the_epoch() {
    type H = Bn254Poseidon;
    let e = epoch();
    let a = attested(); // made the attestation keys
    let dir = scratch("false-claim-library");
    let snapshot = snapshot::load(&e.snapshot).unwrap();
    let params = snapshot.params();
    let secret = VenueSecret::from_hex(SECRET_HEX).unwrap();
    let batch_size = BatchSize::new(8).unwrap();
    let statement = read_statement(&e.epoch).unwrap();
    let claim = AttestationClaim::parse("1", None, params.quote_decimals()).unwrap();
    let context = "counterparty nonce 3";
    let id = e.liquidated[0];
    let index = snapshot
        .accounts()
        .iter()
        .position(|acc| acc.id().get() == id)
        .unwrap();
    assert_eq!(index / 8, 0, "one batch");
    let salt = account_salt::<H>(
        secret_element::<H>(&secret),
        params.epoch(),
        AccountId::new(id),
    );
    let true_account = &snapshot.accounts()[index];
    assert!(
        account_risk(&Scales::new(params), true_account).liquidatable,
        "the account is liquidatable: R = 1 is false"
    );

    // 1. The true data: no witness.
    let honest = commit_epoch::<H>(&snapshot, &secret, batch_size);
    let roots: Vec<_> = honest.batches.iter().map(|t| t.root()).collect();
    assert_eq!(
        H::to_hex(&honest.accounts_commitment),
        statement.file().accounts_commitment,
        "the shared epoch's commitment"
    );
    let refused_witness = AttestationWitness::new(AttestationInputs {
        params,
        account: true_account,
        salt,
        batch_size,
        batch: 0,
        batch_path: &honest.batches[0].path(index),
        batch_roots: &roots,
        claim,
        context: context_element(context),
    });
    assert!(
        matches!(refused_witness, Err(AttestationError::ClaimFalse { id: i, .. }) if i == id),
        "{refused_witness:?}"
    );

    // 2. The lie: a balance that makes the claim true, roots recomputed over it.
    let mut accounts = snapshot.accounts().to_vec();
    accounts[index] = Account::new(
        AccountId::new(id),
        Balance::new(i64::MAX.into()).unwrap(),
        true_account.sizes().to_vec(),
    );
    let lie = Snapshot::new(params.clone(), accounts).unwrap();
    assert!(!account_risk(&Scales::new(params), &lie.accounts()[index]).liquidatable);
    let forged = commit_epoch::<H>(&lie, &secret, batch_size);
    let forged_roots: Vec<_> = forged.batches.iter().map(|t| t.root()).collect();
    let witness = AttestationWitness::new(AttestationInputs {
        params,
        account: &lie.accounts()[index],
        salt,
        batch_size,
        batch: 0,
        batch_path: &forged.batches[0].path(index),
        batch_roots: &forged_roots,
        claim,
        context: context_element(context),
    })
    .expect("the lie passes the native check");
    // The public input a verifier computes for this claim on the published epoch.
    let published_roots: Vec<String> = roots.iter().map(H::to_hex).collect();
    let (x, tree_root) = public_input_for(&statement, &claim, context, &published_roots).unwrap();
    assert_ne!(witness.public_input(), x);
    assert!(
        satisfied_with_instance(&witness, witness.public_input()),
        "control: the lie's witness satisfies the circuit for its own public input"
    );
    assert!(
        !satisfied_with_instance(&witness, x),
        "the circuit accepts the lie's witness for the published epoch's public input"
    );

    // 3. Its proof, for the published epoch.
    let keys =
        AttestationKeys::load(attestation_keys(), AttestationShape::new(2).unwrap()).unwrap();
    let proof = keys.prove(&witness).expect("proves for the forged roots");

    // The attacker's attestation file for the published epoch: refused.
    let mut file: Value = serde_json::from_slice(&std::fs::read(&a.file).unwrap()).unwrap();
    file["claim"]["min_margin_ratio"] = Value::String(claim.ratio_text());
    file["claim"]["min_equity"] = Value::Null;
    file["context"] = Value::String(context.to_owned());
    file["batch_roots"] = serde_json::to_value(&published_roots).unwrap();
    file["tree_root"] = Value::String(H::to_hex(&tree_root));
    file["public_input"] = Value::String(H::to_hex(&x));
    file["proof"] = Value::String(hex::encode(&proof));
    let path = dir.join("false-claim.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    let out = backstop(&[
        "verify-attestation",
        s(&path),
        "--epoch",
        s(&e.epoch),
        "--key",
        s(&attestation_keys().join("verifying_key.bin")),
    ]);
    refused(&out, "false claim, forged data", "NOT proven");
}

/// Synthesizes the attestation circuit for `witness` with the public input `x` in
/// place of the witness's own, and reports whether every constraint holds.
fn satisfied_with_instance(witness: &AttestationWitness, x: Fr) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    // No cached values of linear combinations: each is evaluated from the
    // variables' assignments when checked, so the replaced `x` is what counts.
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    AttestationCircuit::new(witness)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    {
        let mut inner = cs.borrow_mut().unwrap();
        let instance = &mut inner.assignments.instance_assignment;
        assert_eq!(instance.len(), 2, "ONE and x");
        assert_eq!(instance[1], witness.public_input());
        instance[1] = x;
    }
    cs.is_satisfied().unwrap()
}

#[test]
fn a_tampered_attestation_is_refused() {
    let e = epoch();
    let a = attested();
    let dir = scratch("attest-tamper");
    let original: Value = serde_json::from_slice(&std::fs::read(&a.file).unwrap()).unwrap();
    let key = attestation_keys().join("verifying_key.bin");
    let check = |name: &str, epoch_dir: &Path, edit: &dyn Fn(&mut Value)| {
        let mut v = original.clone();
        edit(&mut v);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        backstop(&[
            "verify-attestation",
            s(&path),
            "--epoch",
            s(epoch_dir),
            "--key",
            s(&key),
        ])
    };
    // A stronger claim with the file's public input recomputed by the attacker is
    // still refused: the proof does not verify.
    let statement = read_statement(&e.epoch).unwrap();
    let out = check("ratio.json", &e.epoch, &|v| {
        v["claim"]["min_margin_ratio"] = Value::String("2".into());
        let claim = AttestationClaim::parse("2", Some("0.000001"), 6).unwrap();
        let roots: Vec<String> = serde_json::from_value(v["batch_roots"].clone()).unwrap();
        let context = v["context"].as_str().unwrap().to_owned();
        let (x, _) = public_input_for(&statement, &claim, &context, &roots).unwrap();
        v["public_input"] = Value::String(Bn254Poseidon::to_hex(&x));
    });
    refused(
        &out,
        "stronger claim, public input recomputed",
        "NOT proven",
    );
    let out = check("ratio2.json", &e.epoch, &|v| {
        v["claim"]["min_margin_ratio"] = Value::String("2".into());
    });
    refused(&out, "stronger claim", "public_input");
    let out = check("context.json", &e.epoch, &|v| {
        v["context"] = Value::String("counterparty nonce 2".into());
    });
    refused(&out, "another context", "public_input");
    let out = check("roots.json", &e.epoch, &|v| {
        v["batch_roots"][0] = v["tree_root"].clone();
    });
    refused(&out, "forged roots", "chain to");
    // Another epoch: the statement differs.
    let other = epoch_copy("attest-other-epoch", |st| {
        st["insurance_fund"] = Value::String("1".into());
    });
    refused(
        &check("same.json", &other, &|_| {}),
        "another statement",
        "not about this epoch",
    );
    // The epoch's batch key is not the attestation key.
    let out = backstop(&[
        "verify-attestation",
        s(&a.file),
        "--epoch",
        s(&e.epoch),
        "--key",
        s(&e.keys.join("verifying_key.bin")),
    ]);
    refused(&out, "wrong key", "key hash");
    // The proof of another attestation (R = 0.5) under this one's claim.
    let other: Value = serde_json::from_slice(&std::fs::read(&a.venue_file).unwrap()).unwrap();
    let other_proof = other["proof"].clone();
    let out = check("proof.json", &e.epoch, &|v| {
        v["proof"] = other_proof.clone()
    });
    refused(&out, "another proof", "NOT proven");
}

#[test]
fn audit_reports_in_every_format() {
    let e = epoch();
    let key = e.keys.join("verifying_key.bin");
    let out = backstop(&["audit", s(&e.epoch), "--key", s(&key), "--format", "json"]);
    ok(&out, "audit --format json");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], Value::Bool(true));
    assert_eq!(v["trusted_key"], Value::Bool(true));
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["status"] == "passed"), "{checks:?}");
    assert!(checks.iter().any(|c| {
        c["detail"]
            .as_str()
            .unwrap()
            .contains("1 of 1 Groth16 proofs verified")
    }));
    let not_covered = v["not_covered"].to_string();
    for topic in [
        "Reserves",
        "Trusted setup",
        "inclusion proof",
        "venue secret",
        "Prices",
    ] {
        assert!(not_covered.contains(topic), "{topic} missing");
    }
    let out = backstop(&["audit", s(&e.epoch), "--format", "markdown"]);
    ok(&out, "audit --format markdown");
    let md = text(&out.stdout);
    assert!(md.starts_with("# Backstop audit: epoch"));
    assert!(
        md.contains("## What the proofs do not cover") && md.contains("| batch proofs | PASSED |")
    );
    assert!(md.contains("the epoch directory's own copy"));
    let out = backstop(&["audit", s(&e.epoch)]);
    ok(&out, "audit (text)");
    assert!(text(&out.stdout).contains("Result: VERIFIED"));
}

#[test]
fn audit_shows_the_reserves_attestation_and_fails_on_tampering() {
    let e = epoch();
    let dir = scratch("audit");
    let statement: Value =
        serde_json::from_slice(&std::fs::read(e.epoch.join("statement.json")).unwrap()).unwrap();
    let reserves = statement["reserves"].as_str().unwrap();
    let good = dir.join("reserves.json");
    std::fs::write(
        &good,
        format!(r#"{{"issuer":"Example Custody","as_of":"2024-05-01","reserves":"{reserves}"}}"#),
    )
    .unwrap();
    let out = backstop(&["audit", s(&e.epoch), "--reserves-attestation", s(&good)]);
    ok(&out, "audit with a matching reserves attestation");
    let t = text(&out.stdout);
    assert!(t.contains("Example Custody") && t.contains("NOT verified by Backstop"));
    assert!(t.contains("matches the statement's reserves exactly"));
    let bad = dir.join("bad-reserves.json");
    std::fs::write(&bad, r#"{"issuer":"Example Custody","reserves":"1"}"#).unwrap();
    let out = backstop(&["audit", s(&e.epoch), "--reserves-attestation", s(&bad)]);
    refused(&out, "mismatching reserves", "MISMATCH");
    // A tampered statement: the audit fails and says where.
    let tampered = epoch_copy("audit-tampered", |st| {
        st["solvent"] = Value::Bool(!st["solvent"].as_bool().unwrap());
    });
    let out = backstop(&["audit", s(&tampered), "--format", "json"]);
    refused(&out, "tampered statement", "does not verify");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], Value::Bool(false));
    assert!(v["proven"].as_array().unwrap().is_empty());
    assert!(v["checks"].to_string().contains("failed"));
}

/// `inclusion prove --all` and verifying every proof, for 100k accounts × 8 markets
/// (run in release: `cargo test --release -p backstop-cli --test users -- --ignored --nocapture`).
#[test]
#[ignore]
fn inclusion_rate_100k_accounts() {
    use backstop_fixtures::{FixtureSpec, Scenario, generate};
    let n = std::env::var("BACKSTOP_RATE_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000usize);
    let b: u64 = std::env::var("BACKSTOP_RATE_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let dir = scratch("rate");
    let started = Instant::now();
    let snapshot = generate(&FixtureSpec {
        scenario: Scenario::Calm,
        accounts: n,
        markets: 8,
        seed: 3,
    })
    .unwrap();
    let snap = dir.join("snapshot");
    snapshot::write_dir(&snapshot, &snap).unwrap();
    println!(
        "generated and wrote the snapshot in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let secret = VenueSecret::from_hex(SECRET_HEX).unwrap();
    std::fs::write(dir.join("secret.hex"), SECRET_HEX).unwrap();
    // Only statement.json is read by inclusion proving: publish it natively.
    let started = Instant::now();
    let c = commit_epoch::<Bn254Poseidon>(&snapshot, &secret, BatchSize::new(b).unwrap());
    let commit_seconds = started.elapsed().as_secs_f64();
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &evaluate(&snapshot));
    let file = publish(
        Backend::Groth16Bn254,
        CircuitShape::new(b, 8).unwrap(),
        "00".repeat(32),
        snapshot.params(),
        &outputs,
        &c,
    );
    let epoch_dir = dir.join("epoch");
    std::fs::create_dir_all(&epoch_dir).unwrap();
    std::fs::write(
        epoch_dir.join("statement.json"),
        serde_json::to_vec_pretty(&file).unwrap(),
    )
    .unwrap();
    let out_dir = dir.join("proofs");
    let started = Instant::now();
    ok(
        &backstop(&[
            "inclusion",
            "prove",
            "--snapshot",
            s(&snap),
            "--epoch",
            s(&epoch_dir),
            "--all",
            "--out",
            s(&out_dir),
            "--secret-file",
            s(&dir.join("secret.hex")),
        ]),
        "inclusion prove --all",
    );
    let prove_seconds = started.elapsed().as_secs_f64();
    let bytes: u64 = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let statement = read_statement(&epoch_dir).unwrap();
    // One owner's check: the proof, the shared roots file and the K-hash chain.
    let started = Instant::now();
    let first = out_dir.join(format!("{}.json", snapshot.accounts()[0].id()));
    verify_inclusion_file(&first, &statement).unwrap();
    let one_seconds = started.elapsed().as_secs_f64();
    // Everyone's, as an auditor would: the roots file parsed and chained once.
    let started = Instant::now();
    let roots: BatchRootsFile =
        serde_json::from_slice(&std::fs::read(out_dir.join(BATCH_ROOTS_FILE)).unwrap()).unwrap();
    let chained = ChainedRoots::new::<Bn254Poseidon>(&roots.batch_roots, &statement).unwrap();
    for a in snapshot.accounts() {
        let proof = read_proof(&out_dir.join(format!("{}.json", a.id()))).unwrap();
        verify_inclusion_chained::<Bn254Poseidon>(&proof, &chained, &statement).unwrap();
    }
    let verify_seconds = started.elapsed().as_secs_f64();
    println!(
        "{n} accounts x 8 markets, B = {b}: native commit {commit_seconds:.2} s; \
         inclusion prove --all {prove_seconds:.2} s ({:.0} proofs/s, CLI incl. snapshot load, {:.1} MB written); \
         one owner's check {:.1} ms; verify all (one thread, roots chained once) {verify_seconds:.2} s ({:.0} proofs/s)",
        n as f64 / prove_seconds,
        bytes as f64 / 1e6,
        one_seconds * 1e3,
        n as f64 / verify_seconds
    );
    // A margin attestation (M = 8) for the first healthy account: setup, prove, verify.
    let eval = evaluate(&snapshot);
    let healthy = snapshot
        .accounts()
        .iter()
        .find(|a| !eval.liquidations.contains(&a.id()))
        .unwrap();
    let keys = dir.join("attestation-keys");
    let started = Instant::now();
    ok(
        &backstop(&[
            "attest",
            "--epoch",
            s(&epoch_dir),
            "--inclusion",
            s(&out_dir.join(format!("{}.json", healthy.id()))),
            "--min-margin-ratio",
            "0",
            "--keys",
            s(&keys),
            "--out",
            s(&dir.join("attestation.json")),
        ]),
        "attest (with setup)",
    );
    let first_attest = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let out = backstop(&[
        "attest",
        "--epoch",
        s(&epoch_dir),
        "--inclusion",
        s(&out_dir.join(format!("{}.json", healthy.id()))),
        "--min-margin-ratio",
        "0",
        "--keys",
        s(&keys),
        "--out",
        s(&dir.join("attestation.json")),
    ]);
    ok(&out, "attest");
    let attest_seconds = started.elapsed().as_secs_f64();
    let attest_said = text(&out.stderr).trim().to_owned();
    let started = Instant::now();
    let out = backstop(&[
        "verify-attestation",
        s(&dir.join("attestation.json")),
        "--epoch",
        s(&epoch_dir),
        "--key",
        s(&keys.join("verifying_key.bin")),
        "--json",
    ]);
    ok(&out, "verify-attestation");
    let verify_attestation = started.elapsed().as_secs_f64();
    println!(
        "attestation M = 8: first attest (with setup) {first_attest:.2} s, attest {attest_seconds:.2} s ({}), \
         verify-attestation {verify_attestation:.3} s (process), file {} bytes; {}",
        attest_said,
        std::fs::metadata(dir.join("attestation.json"))
            .unwrap()
            .len(),
        text(&out.stdout).trim()
    );
    let _ = std::fs::remove_dir_all(dir);
}
