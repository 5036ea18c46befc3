//! The attestation circuit against the native engine, and its soundness
//! catalogue: every attack is a named malicious assignment with a satisfied
//! control.

use super::witness::AttestationAssignment;
use super::*;
use crate::assignment::testing::params_hash as raw_params_hash;
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::model::Snapshot;
use crate::native::attestation::*;
use crate::native::commit::{
    BatchSize, BatchTree, absorb_chain, commit_epoch, leaf_salt, params_hash, root_from_path,
    secret_element, tag,
};
use crate::native::risk::{Scales, account_risk};
use crate::r1cs::bits::pow2;
use crate::r1cs::names::testing::{Probe, first_unsatisfied};
use crate::secret::VenueSecret;
use crate::shape::AttestationShape;
use ark_bn254::Fr;
use ark_ff::Zero;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError,
};
use ethnum::{I256, U256};

type H = Bn254Poseidon;

/// `absorb_chain` over the leaf words, natively: the leaf of a raw assignment (for
/// the tests' restamping).
fn raw_leaf(a: &AttestationAssignment) -> Fr {
    let mut lanes = vec![a.id, a.balance_lane];
    lanes.extend(a.size_lanes.iter().copied());
    let fr = |v: U256| Bn254Poseidon::from_u256(v);
    let words: Vec<Fr> = lanes
        .chunks(3)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(Fr::zero(), |w, (k, l)| w + fr(*l) * pow2(64 * k))
        })
        .collect();
    absorb_chain::<Bn254Poseidon>(a.salt, &words)
}

/// The shared book ([`crate::catalogue::book_with`]) at `epoch`: `n` accounts, 2
/// markets, ids 10, 20, …, the second market half the first's size, reversed.
fn book(epoch: u64, n: u64) -> Snapshot {
    crate::catalogue::book_with(epoch, n, 2, |size, m| if m == 0 { size } else { -size / 2 })
}

/// Everything an attester of account `index` of `book(epoch, 20)` holds, at `B = 8`.
struct Fixture {
    snapshot: Snapshot,
    roots: Vec<Fr>,
    trees: Vec<BatchTree<H>>,
    salts: Vec<Fr>,
}

fn fixture(epoch: u64) -> Fixture {
    let snapshot = book(epoch, 20);
    let secret = VenueSecret::demo();
    let c = commit_epoch::<H>(&snapshot, &secret, BatchSize::new(8).unwrap());
    let s = secret_element::<H>(&secret);
    let salts = snapshot
        .accounts()
        .iter()
        .map(|a| leaf_salt::<H>(s, epoch, a))
        .collect();
    Fixture {
        roots: c.batches.iter().map(|t| t.root()).collect(),
        trees: c.batches,
        snapshot,
        salts,
    }
}

fn witness(
    f: &Fixture,
    index: usize,
    claim: AttestationClaim,
) -> Result<AttestationWitness, AttestationError> {
    let path = f.trees[index / 8].path(index % 8);
    AttestationWitness::new(AttestationInputs {
        params: f.snapshot.params(),
        account: &f.snapshot.accounts()[index],
        salt: f.salts[index],
        batch_size: BatchSize::new(8).unwrap(),
        batch: index / 8,
        batch_path: &path,
        batch_roots: &f.roots,
        claim,
        context: Fr::from(42u64),
    })
}

fn satisfied(a: AttestationAssignment) -> bool {
    let shape = AttestationShape::new(a.params.unit_value.len()).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    match AttestationCircuit::from_assignment(shape, a).generate_constraints(cs.clone()) {
        Ok(()) => {}
        Err(SynthesisError::Unsatisfiable) => return false,
        Err(e) => panic!("synthesis failed: {e}"),
    }
    cs.finalize();
    cs.is_satisfied().unwrap()
}

/// What an attacker consistent with its (lying) assignment would publish: the
/// public input over the assignment's own claimed values.
fn restamp(a: &mut AttestationAssignment) {
    let fr = |v: U256| Bn254Poseidon::from_u256(v);
    a.public_input = H::hash(&[
        tag::<H>(TAG_ATTEST),
        a.accounts_commitment,
        a.tree_root,
        raw_params_hash::<H>(&a.params),
        fr(a.ratio),
        fr(a.min_equity),
        a.context,
    ]);
}

/// Re-roots a (possibly lying) assignment: recomputes `T` from its leaf and path,
/// as an attacker who controls the roots it hands the verifier would.
fn reroot(a: &mut AttestationAssignment) {
    a.tree_root = root_from_path::<H>(raw_leaf(a), &a.path);
    restamp(a);
}

/// `R = 1`, no equity claim.
const AT_PAR: AttestationClaim = AttestationClaim {
    ratio: 10_000,
    min_equity: 0,
};

/// Account index 5 (id 60: 700 quote, long 2 M0, short 1 M1), at `R = 1`, no equity claim: honest.
fn honest() -> (Fixture, AttestationAssignment) {
    let f = fixture(77);
    let w = witness(&f, 5, AT_PAR).unwrap();
    (f, w.assignment)
}

fn risk_of(f: &Fixture, index: usize) -> crate::native::AccountRisk {
    account_risk(
        &Scales::new(f.snapshot.params()),
        &f.snapshot.accounts()[index],
    )
}

#[test]
fn shape_is_pinned() {
    // Regenerate after an intended circuit change with:
    //   cargo test -p backstop-circuits --lib attestation::tests::shape_is_pinned -- --nocapture
    for (m, expected) in [(2usize, 6_862usize), (8, 7_862)] {
        let shape = AttestationShape::new(m).unwrap();
        let n = constraint_count(shape).unwrap();
        println!("{}: {n} constraints", shape.id());
        assert_eq!(n, expected, "{}", shape.id());
    }
    let wide = AttestationShape::new(64).unwrap();
    assert!(wide.ratio_slack_bits() <= 252 && wide.equity_slack_bits() <= 252);
    assert_eq!(
        AttestationShape::new(8).unwrap().id(),
        "backstop.attest.v1.M8"
    );
}

#[test]
fn honest_attestation_satisfies_and_matches_the_native_public_input() {
    let (f, a) = honest();
    let native = attestation_public_input::<H>(
        chain_roots::<H>(77, &f.roots),
        attestation_tree_root::<H>(BatchSize::new(8).unwrap(), &f.roots).unwrap(),
        params_hash::<H>(f.snapshot.params()),
        &AT_PAR,
        Fr::from(42u64),
    );
    assert_eq!(a.public_input, native);
    let mut restamped = a.clone();
    restamp(&mut restamped);
    assert_eq!(
        restamped.public_input, native,
        "restamp agrees with the prover"
    );
    assert!(satisfied(a));
    // Every healthy account of every batch, the last one with padding.
    for i in [0usize, 7, 8, 19] {
        if !risk_of(&f, i).liquidatable {
            let w = witness(&f, i, AT_PAR).unwrap();
            assert!(satisfied(w.assignment), "account index {i}");
        }
    }
}

#[test]
fn attack_account_below_the_ratio() {
    let (f, _) = honest();
    let risk = risk_of(&f, 5);
    assert!(risk.requirement_bps > 0);
    // The largest provable ratio r* = floor(10^8·TV / MR'): r* is fine (control),
    // r* + 1 is a false claim.
    let best = (risk.total_value * I256::from(100_000_000u64) / risk.requirement_bps).as_u32();
    let at = witness(
        &f,
        5,
        AttestationClaim {
            ratio: best,
            min_equity: 0,
        },
    )
    .unwrap();
    assert!(satisfied(at.assignment.clone()));
    // The prover refuses the false claim by name ...
    let lie = AttestationClaim {
        ratio: best + 1,
        min_equity: 0,
    };
    assert!(matches!(
        witness(&f, 5, lie),
        Err(AttestationError::ClaimFalse { id: 60, .. })
    ));
    // ... and an assignment that makes it anyway is unsatisfied.
    let mut a = at.assignment;
    a.ratio = U256::from(best + 1);
    restamp(&mut a);
    caught_at(&a, "claim.ratio.slack");
    assert!(!satisfied(a));
}

#[test]
fn attack_equity_below_the_minimum() {
    let (f, _) = honest();
    let risk = risk_of(&f, 5);
    let q = Scales::new(f.snapshot.params()).quote;
    // TV in minimal quote units (floor): X = that is fine, one more is not.
    let best = (risk.total_value / q).as_u128();
    let at = witness(
        &f,
        5,
        AttestationClaim {
            ratio: 0,
            min_equity: best,
        },
    )
    .unwrap();
    assert!(satisfied(at.assignment.clone()));
    let mut a = at.assignment;
    a.min_equity = U256::from(best + 1);
    restamp(&mut a);
    caught_at(&a, "claim.equity.slack");
    assert!(!satisfied(a));
}

#[test]
fn attack_liquidatable_or_underwater_account() {
    let f = fixture(77);
    let (i, _) = f
        .snapshot
        .accounts()
        .iter()
        .enumerate()
        .find(|(i, _)| risk_of(&f, *i).liquidatable)
        .unwrap();
    // Ratio 0 still claims TV ≥ 0; a liquidatable account fails R = 1.
    let claim = AT_PAR;
    assert!(witness(&f, i, claim).is_err());
    let (_, mut a) = honest();
    let other = &f.snapshot.accounts()[i];
    a.id = U256::from(other.id().get());
    a.balance_lane = U256::from(crate::native::commit::lane(other.quote_balance().get()));
    a.size_lanes = other
        .sizes()
        .iter()
        .map(|s| U256::from(crate::native::commit::lane(s.get())))
        .collect();
    a.salt = f.salts[i];
    a.path = {
        let mut p = f.trees[i / 8].path(i % 8);
        p.extend(roots_tree_path::<H>(BatchSize::new(8).unwrap(), &f.roots, i / 8).unwrap());
        p
    };
    restamp(&mut a);
    assert_eq!(
        root_from_path::<H>(raw_leaf(&a), &a.path),
        a.tree_root,
        "a real member"
    );
    assert!(!satisfied(a));
}

#[test]
fn attack_wrong_path() {
    let (_, a) = honest();
    // A swapped sibling at the batch level and at the roots-tree level.
    for level in [0usize, 1] {
        let mut b = a.clone();
        b.path[level].siblings.swap(0, 1);
        caught_at(&b, "path.root");
        assert!(!satisfied(b), "level {level}");
    }
    // Another position: the node moved among its siblings.
    let mut b = a.clone();
    b.path[0].position = (b.path[0].position + 1) % 8;
    assert!(!satisfied(b));
    // A position that is not one-hot cannot even be expressed: 8 is no slot.
    let mut b = a.clone();
    b.path[1].position = 8;
    caught_at(&b, "path[1].position");
    assert!(!satisfied(b));
}

#[test]
fn attack_wrong_salt() {
    let (f, a) = honest();
    let mut b = a.clone();
    b.salt += Fr::from(1u64);
    assert!(!satisfied(b));
    // Another account's salt with this account's data.
    let mut b = a;
    b.salt = f.salts[4];
    assert!(!satisfied(b));
}

#[test]
fn attack_changed_account_data() {
    let (_, a) = honest();
    let mut b = a.clone();
    b.balance_lane += U256::from(1_000_000u64);
    assert!(!satisfied(b), "balance raised");
    let mut b = a.clone();
    b.size_lanes[1] += U256::ONE;
    assert!(!satisfied(b), "size changed");
    let mut b = a;
    b.id += U256::ONE;
    assert!(!satisfied(b), "id changed");
}

#[test]
fn attack_values_out_of_range() {
    let (_, a) = honest();
    // A richer account invented with a lane ≥ 2^64: the attacker re-roots the tree
    // to its own leaf (as if it controlled the roots), but the lane's bits hold only
    // its low 64 bits, so the leaf the circuit computes differs.
    let mut b = a.clone();
    b.balance_lane += U256::ONE << 64;
    reroot(&mut b);
    assert!(!satisfied(b), "balance lane 2^64 above");
    // Control: the same re-rooting with an in-range lane is satisfied (which is why
    // the verifier must take the roots from the chain to a_K, never from the prover).
    let mut b = a.clone();
    b.balance_lane += U256::from(5u64);
    reroot(&mut b);
    assert!(satisfied(b));
    // −2^63 (lane 0) is refused.
    let mut b = a.clone();
    b.size_lanes[0] = U256::ZERO;
    reroot(&mut b);
    caught_at(&b, "account.lane.size[0].nonzero");
    assert!(!satisfied(b), "size −2^63");
    // A negative balance wrapped around the field.
    let mut b = a.clone();
    b.balance_lane = U256::from_le_bytes(H::to_le_bytes(&-Fr::from(5u64)));
    reroot(&mut b);
    assert!(!satisfied(b), "wrapped balance");
    // A ratio or equity bound too wide for its bits wraps to another claim.
    let mut b = a.clone();
    b.ratio += U256::ONE << 32;
    restamp(&mut b);
    assert!(!satisfied(b), "r ≥ 2^32");
    let mut b = a;
    b.min_equity = U256::ONE << 128;
    restamp(&mut b);
    assert!(!satisfied(b), "X ≥ 2^128");
}

#[test]
fn attack_another_epochs_commitment() {
    let (_, a) = honest();
    let other = fixture(78);
    let w = witness(&other, 5, AT_PAR).unwrap();
    // The account of epoch 77 against epoch 78's tree root and commitment.
    let mut b = a.clone();
    b.tree_root = w.assignment.tree_root;
    b.accounts_commitment = w.assignment.accounts_commitment;
    restamp(&mut b);
    assert!(!satisfied(b));
    // Epoch 78's public input with epoch 77's witness.
    let mut b = a.clone();
    b.public_input = w.assignment.public_input;
    assert!(!satisfied(b));
    // Prices of epoch 78 (a different params hash) under epoch 77's x.
    let mut b = a;
    b.params.epoch = Fr::from(78u64);
    assert!(!satisfied(b));
}

#[test]
fn attack_wrong_public_input_or_context() {
    let (_, a) = honest();
    let mut b = a.clone();
    b.public_input += Fr::from(1u64);
    caught_at(&b, "public_input");
    assert!(!satisfied(b));
    let mut b = a;
    b.context = Fr::from(43u64);
    caught_at(&b, "public_input");
    assert!(!satisfied(b), "another counterparty's context");
}

// ---------------------------------------------------------------------------
// The names of the constraints (`crate::r1cs::names`).
// ---------------------------------------------------------------------------

/// The names of the attestation circuit at `M = 2` before its path, in order.
const BEFORE_PATH: [&str; 16] = [
    "params.hash",
    "claim.ratio.range",
    "claim.equity.range",
    "account.id.range",
    "account.lane.balance.range",
    "account.lane.balance.nonzero",
    "account.lane.size[0].range",
    "account.lane.size[0].nonzero",
    "account.lane.size[1].range",
    "account.lane.size[1].nonzero",
    "account.tv",
    "account.mr.abs",
    "account.mr",
    "claim.ratio.slack",
    "claim.equity.slack",
    "account.leaf",
];

/// Every name of the attestation circuit at `M = 2`, in the order of synthesis.
fn attestation_names() -> Vec<String> {
    let levels = (0..ATTEST_DEPTH)
        .flat_map(|l| ["position", "select", "node"].map(|n| format!("path[{l}].{n}")));
    let end = ["path.root", "public_input"];
    BEFORE_PATH
        .iter()
        .map(ToString::to_string)
        .chain(levels)
        .chain(end.map(String::from))
        .collect()
}

/// Checks that the first constraint `a` leaves unsatisfied is one of block `name`.
fn caught_at(a: &AttestationAssignment, name: &str) {
    let shape = AttestationShape::new(a.params.unit_value.len()).unwrap();
    let circuit = AttestationCircuit::from_assignment(shape, a.clone());
    assert_eq!(first_unsatisfied(circuit).as_deref(), Some(name));
}

#[test]
fn every_constraint_is_named_and_a_tampered_witness_fails_at_its_name() {
    let (_, a) = honest();
    let shape = AttestationShape::new(2).unwrap();
    assert_eq!(
        first_unsatisfied(AttestationCircuit::from_assignment(shape, a.clone())),
        None
    );
    let probe = Probe::new(AttestationCircuit::from_assignment(shape, a));
    assert_eq!(probe.names(), attestation_names());
    for name in attestation_names() {
        assert_eq!(probe.tamper(&name).as_deref(), Some(name.as_str()));
    }
}

/// The risk model v1 attestation circuit is exactly the one before risk model v2
/// (so v1 keys stay valid): its R1CS matrices are pinned by their Keccak-256.
#[test]
fn risk_model_v1_matrices_are_pinned() {
    use ark_relations::gr1cs::SynthesisMode;
    use sha3::{Digest, Keccak256};
    for (m, expected) in [(2usize, "c19054ae5cc0a5c70f624030595d5d38a8ddab0b1e62160f406b29b250560263"), (8, "af0ae0bd34fa5f70f9be7e1d344ef6453fcb0feea8892f2da15a3d9924daa359")] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        AttestationCircuit::blank(AttestationShape::new(m).unwrap())
            .generate_constraints(cs.clone())
            .unwrap();
        cs.finalize();
        let matrices = cs.to_matrices().unwrap();
        let text = format!(
            "{} {} {:?}",
            cs.num_instance_variables(),
            cs.num_witness_variables(),
            matrices
        );
        let digest = hex::encode(Keccak256::digest(text.as_bytes()));
        println!("M = {m}: {digest}");
        assert_eq!(digest, expected, "M = {m}");
    }
}
