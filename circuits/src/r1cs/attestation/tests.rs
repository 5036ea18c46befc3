//! The attestation circuit against the native engine, and its soundness
//! catalogue: every attack is a named malicious assignment with a satisfied
//! control.

use super::witness::AttestationAssignment;
use super::*;
use crate::assignment::testing::params_hash_with;
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
    lanes.extend(a.amount_lanes.iter().copied());
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
    fixture_of(book(epoch, 20))
}

/// Everything an attester of any account of `snapshot` holds, at `B = 8`.
fn fixture_of(snapshot: Snapshot) -> Fixture {
    let epoch = snapshot.params().epoch();
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

/// The shape an assignment is for: `M` markets, `T` brackets, `A` assets.
fn shape_of(a: &AttestationAssignment) -> AttestationShape {
    let brackets = a.risk.brackets.first().map_or(0, Vec::len) + 1;
    AttestationShape::with_risk(a.params.unit_value.len(), brackets, a.amount_lanes.len()).unwrap()
}

fn satisfied(a: AttestationAssignment) -> bool {
    let shape = shape_of(&a);
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

/// `params_hash` over an assignment's raw parameters, the risk model v2 values
/// included (`docs/SPEC.md` §5.5): what an attacker consistent with them would
/// publish.
fn raw_params_hash(a: &AttestationAssignment) -> Fr {
    params_hash_with::<H>(&a.params, a.risk.hashed())
}

/// What an attacker consistent with its (lying) assignment would publish: the
/// public input over the assignment's own claimed values.
fn restamp(a: &mut AttestationAssignment) {
    let fr = |v: U256| Bn254Poseidon::from_u256(v);
    a.public_input = H::hash(&[
        tag::<H>(TAG_ATTEST),
        a.accounts_commitment,
        a.tree_root,
        raw_params_hash(a),
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
    let shape = shape_of(a);
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
    for (m, expected) in [
        (
            2usize,
            "c19054ae5cc0a5c70f624030595d5d38a8ddab0b1e62160f406b29b250560263",
        ),
        (
            8,
            "af0ae0bd34fa5f70f9be7e1d344ef6453fcb0feea8892f2da15a3d9924daa359",
        ),
    ] {
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

// ---------------------------------------------------------------------------
// Risk model v2 (`docs/SPEC.md` §2.2, §8.2): maintenance brackets and collateral
// assets. The ratio claim is `10^4·MV' ≥ r·MR'` with `MR'` tiered and `MV'` with
// the haircuts; the equity claim stays on `TV`.
// ---------------------------------------------------------------------------

use crate::catalogue::risk_book::{BOOK, snapshot as v2_snapshot};

/// Healthy accounts over the batch circuit's risk model v2 parameters
/// (`r1cs/risk_tests.rs`: `TIER` with floors at 50 and 250 size units and rates 5%,
/// 10%, 25%; `FLAT` at 10%, padded to three brackets; `WBTC` at 90%, `USDT` at
/// 95%): `(balance, [TIER, FLAT], [WBTC, USDT])`, ids 1, 2, ….
const HEALTHY: &[(i128, [i128; 2], [i128; 2])] = &[
    (100_000, [49, 0], [0, 0]),      // one unit below the first floor
    (100_000, [50, 0], [0, 0]),      // exactly at it: the second bracket
    (100_000, [-51, 2], [0, 100]),   // above it, short
    (100_000, [250, 0], [0, 0]),     // exactly at the second floor
    (500_000, [-251, -1], [1, 0]),   // above it, one WBTC held (at 90%)
    (100_000, [1, 0], [1, -60_000]), // a USDT debt, counted in full
    (-60_000, [1, 0], [1, 0]),       // healthy at full value, liquidatable through the haircut
];

fn healthy() -> Fixture {
    fixture_of(v2_snapshot(HEALTHY))
}

/// The assignment `a` (of the same epoch) carrying account `index` of `f` instead:
/// its lanes, brackets, salt and path, as an attacker holding that account's
/// inclusion data would write it, and restamped.
fn transplant(f: &Fixture, mut a: AttestationAssignment, index: usize) -> AttestationAssignment {
    let account = &f.snapshot.accounts()[index];
    let lane = |v: i64| U256::from(crate::native::commit::lane(v));
    let scales = Scales::new(f.snapshot.params());
    a.id = U256::from(account.id().get());
    a.balance_lane = lane(account.quote_balance().get());
    a.size_lanes = account.sizes().iter().map(|s| lane(s.get())).collect();
    a.amount_lanes = account.amounts().iter().map(|s| lane(s.get())).collect();
    a.brackets = (account.sizes().iter())
        .zip(&scales.unit_value)
        .zip(&scales.brackets)
        .map(|((s, uv), bs)| {
            let n = I256::from(s.get()).abs() * *uv;
            let b = crate::native::risk::bracket_of(bs, n).unwrap();
            bs.iter().position(|x| x == b).unwrap()
        })
        .collect();
    a.salt = f.salts[index];
    a.path = {
        let mut p = f.trees[index / 8].path(index % 8);
        p.extend(roots_tree_path::<H>(BatchSize::new(8).unwrap(), &f.roots, index / 8).unwrap());
        p
    };
    restamp(&mut a);
    a
}

/// No claim beyond `MV' ≥ 0`.
const ANY: AttestationClaim = AttestationClaim {
    ratio: 0,
    min_equity: 0,
};

/// The largest provable ratio `r* = ⌊10^4·MV' / MR'⌋` (capped below `2^32`), or
/// `None` if even `r = 0` is false (`MV' < 0`).
fn best_ratio(risk: &crate::native::AccountRisk) -> Option<u32> {
    let lhs = risk.margin_value_bps * I256::from(10_000u64);
    if lhs < 0 {
        return None;
    }
    if risk.requirement_bps == 0 {
        return Some(u32::MAX);
    }
    Some(
        (lhs / risk.requirement_bps)
            .min(I256::from(u32::MAX))
            .as_u32(),
    )
}

#[test]
fn risk_model_v2_shape_is_pinned() {
    // Regenerate after an intended circuit change with:
    //   cargo test -p backstop-circuits --lib attestation::tests::risk_model_v2_shape_is_pinned -- --nocapture
    let pinned = [
        ((2usize, 3usize, 2usize), 7_986usize),
        ((8, 4, 0), 11_799),
        ((8, 1, 4), 8_501),
        ((8, 4, 1), 12_164),
        ((8, 4, 4), 12_645),
    ];
    let counts: Vec<_> = pinned
        .iter()
        .map(|&((m, t, c), _)| {
            let shape = AttestationShape::with_risk(m, t, c).unwrap();
            let n = constraint_count(shape).unwrap();
            println!("{}: {n} constraints", shape.id());
            n
        })
        .collect();
    assert_eq!(counts, pinned.map(|(_, n)| n));
    let shape = AttestationShape::with_risk(8, 4, 4).unwrap();
    assert_eq!(shape.id(), "backstop.attest.v1.M8.T4.A4");
    assert!(shape.is_risk_model_v2() && !AttestationShape::new(8).unwrap().is_risk_model_v2());
    assert_eq!(
        AttestationShape::with_risk(8, 1, 3).unwrap().id(),
        "backstop.attest.v1.M8.A3"
    );
    let widest = AttestationShape::with_risk(64, 8, 16).unwrap();
    assert!(widest.ratio_slack_bits() <= 252 && widest.equity_slack_bits() <= 252);
    assert!(AttestationShape::with_risk(8, 0, 0).is_err());
    assert!(AttestationShape::with_risk(8, 9, 0).is_err());
    assert!(AttestationShape::with_risk(8, 1, 17).is_err());
    let params = v2_snapshot(HEALTHY).params().clone();
    assert_eq!(
        AttestationShape::for_params(&params).unwrap().id(),
        "backstop.attest.v1.M2.T3.A2"
    );
}

/// The circuit against the native engine on risk model v2 books: the batch
/// circuit's book, the healthy book above and the committed fixtures `tiers` and
/// `collateral`. For every account, the largest ratio the native engine allows is
/// provable and the next one is refused by the prover and by the circuit, at
/// `claim.ratio.slack` (so the circuit's `⌊10^4·MV'/MR'⌋` is the native one); `r* ≥
/// 10^4` exactly for the accounts the engine does not liquidate; the equity bound
/// is exact likewise; and the public input is the verifier's.
#[test]
fn risk_model_v2_agrees_with_the_native_engine_on_every_account() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data");
    let mut books = vec![
        ("BOOK", v2_snapshot(BOOK)),
        ("HEALTHY", v2_snapshot(HEALTHY)),
    ];
    for name in ["tiers", "collateral"] {
        let s = crate::snapshot::load_dir(&root.join(name).join("snapshot")).unwrap();
        assert!(s.params().uses_risk_model_v2(), "{name}");
        books.push((name, s));
    }
    for (name, snapshot) in books {
        let f = fixture_of(snapshot);
        let scales = Scales::new(f.snapshot.params());
        let shape = AttestationShape::for_params(f.snapshot.params()).unwrap();
        assert!(shape.is_risk_model_v2(), "{name}");
        let b = BatchSize::new(8).unwrap();
        let (mut proven, mut refused) = (0, 0);
        for (i, account) in f.snapshot.accounts().iter().enumerate() {
            let risk = account_risk(&scales, account);
            let at = |ratio: u32, min_equity: u128| {
                witness(&f, i, AttestationClaim { ratio, min_equity })
            };
            let Some(best) = best_ratio(&risk) else {
                assert!(risk.liquidatable || risk.requirement_bps == 0);
                assert!(matches!(at(0, 0), Err(AttestationError::ClaimFalse { .. })));
                refused += 1;
                continue;
            };
            assert_eq!(risk.liquidatable, best < 10_000, "{name} account {i}");
            let w = at(best, 0).unwrap();
            assert_eq!(w.shape(), shape);
            if i == 0 {
                let native = attestation_public_input::<H>(
                    chain_roots::<H>(f.snapshot.params().epoch(), &f.roots),
                    attestation_tree_root::<H>(b, &f.roots).unwrap(),
                    params_hash::<H>(f.snapshot.params()),
                    &AttestationClaim {
                        ratio: best,
                        min_equity: 0,
                    },
                    Fr::from(42u64),
                );
                assert_eq!(w.public_input(), native, "{name}: the verifier's x");
            }
            assert!(satisfied(w.assignment.clone()), "{name} account {i} at r*");
            if best < u32::MAX {
                assert!(matches!(
                    at(best + 1, 0),
                    Err(AttestationError::ClaimFalse { .. })
                ));
                let mut lie = w.assignment.clone();
                lie.ratio = U256::from(best + 1);
                restamp(&mut lie);
                if i < 3 {
                    caught_at(&lie, "claim.ratio.slack");
                } else {
                    assert!(!satisfied(lie), "{name} account {i} at r* + 1");
                }
            }
            // The equity claim on TV at full value: X = ⌊TV / f_q⌋ holds, X + 1 not.
            if i < 3 && risk.total_value >= 0 {
                let x = (risk.total_value / scales.quote).as_u128();
                let w = at(0, x).unwrap();
                assert!(satisfied(w.assignment.clone()));
                assert!(at(0, x + 1).is_err());
                let mut lie = w.assignment;
                lie.min_equity = U256::from(x + 1);
                restamp(&mut lie);
                caught_at(&lie, "claim.equity.slack");
            }
            proven += 1;
        }
        println!("{name}: {proven} accounts attested at r*, {refused} with MV' < 0");
        assert!(proven > 0, "{name}");
    }
}

#[test]
fn attack_v2_wrong_bracket_around_a_floor() {
    let f = healthy();
    let base = witness(&f, 0, ANY).unwrap().assignment;
    // TIER sizes 49, 50, −51, 250, −251: brackets 0, 1, 1, 2, 2.
    let honest: Vec<_> = (0..5).map(|i| transplant(&f, base.clone(), i)).collect();
    assert_eq!(
        honest.iter().map(|a| a.brackets[0]).collect::<Vec<_>>(),
        [0, 1, 1, 2, 2]
    );
    for a in &honest {
        assert!(satisfied(a.clone()), "control: the honest bracket");
    }
    let cases = [
        // One unit below the floor, in the bracket above: |size| < s_t.
        (0, 1, "lo"),
        // Exactly at a floor, in the bracket below: |size| ≥ s_{t+1}.
        (1, 0, "hi"),
        (3, 1, "hi"),
        // Above a floor, in the bracket below, and in a bracket above.
        (2, 0, "hi"),
        (2, 2, "lo"),
        (4, 1, "hi"),
    ];
    for (i, t, part) in cases {
        let mut lie = honest[i].clone();
        lie.brackets[0] = t;
        caught_at(&lie, &format!("account.market[0].bracket.{part}"));
    }
    // FLAT has padding brackets (threshold 2^63): no size is in them.
    let mut lie = honest[2].clone();
    lie.brackets[1] = 1;
    caught_at(&lie, "account.market[1].bracket.lo");
}

/// A claim false under the tiered requirement but true under the flat first
/// bracket's rate: account 4 (long 250 TIER, exactly at the 250,000 floor) at
/// `r* + 1`. Claiming the first bracket fails at its upper bound; dropping the
/// brackets from the hashed parameters changes `params_hash`.
#[test]
fn attack_v2_claim_true_only_under_the_flat_rate() {
    let f = healthy();
    let risk = risk_of(&f, 3);
    let best = best_ratio(&risk).unwrap();
    let flat = I256::from(250 * 1_000 * 500);
    assert!(risk.requirement_bps > flat);
    assert!(
        I256::from(best + 1) * flat <= risk.margin_value_bps * 10_000,
        "true under the flat rate"
    );
    let lie_claim = AttestationClaim {
        ratio: best + 1,
        min_equity: 0,
    };
    assert!(matches!(
        witness(&f, 3, lie_claim),
        Err(AttestationError::ClaimFalse { id: 4, .. })
    ));
    let mut a = witness(&f, 3, ANY).unwrap().assignment;
    a.ratio = U256::from(best + 1);
    restamp(&mut a);
    // Control: in its own bracket the claim fails at the claim.
    caught_at(&a, "claim.ratio.slack");
    // In the first bracket (flat 5%): caught at the bracket's upper bound.
    let mut lie = a.clone();
    lie.brackets[0] = 0;
    caught_at(&lie, "account.market[0].bracket.hi");
    // The tiers removed from the parameters (δur = δcum = 0): the claim holds
    // in-circuit, but the parameters are not the epoch's.
    let mut lie = a;
    for step in &mut lie.risk.brackets[0] {
        step[1] = Fr::zero();
        step[2] = Fr::zero();
    }
    let x = lie.public_input;
    restamp(&mut lie);
    assert!(satisfied(lie.clone()), "the attacker's own parameters");
    lie.public_input = x;
    caught_at(&lie, "public_input");
}

/// The haircut follows the amount lane's own sign bit: applied to a debt or
/// skipped on a holding, the margin term's product breaks `asset.margin`. Account 5
/// holds one WBTC (90%), account 6 owes 60,000 USDT (in full, not at 95%); account
/// 7 is healthy at full value and liquidatable through its haircut alone.
#[test]
fn attack_v2_haircut_on_a_debt_or_skipped_on_a_holding() {
    let f = healthy();
    let fr = |v: i128| crate::assignment::field_from_i256::<H>(I256::from(v));
    for (index, asset, lie, amount) in [
        // Skipped on the holding: the product s·(w − 10000·v) is 0 instead of
        // 1·(65,000·9,000 − 65,000·10,000).
        (4usize, 0usize, fr(0), 1i128),
        // Applied to the debt: s·(w − 10000·v) would be −60,000·(9,500 − 10,000).
        (5, 1, fr(-60_000 * (9_500 - 10_000)), -60_000),
    ] {
        let a = witness(&f, index, ANY).unwrap().assignment;
        assert_eq!(
            a.amount_lanes[asset],
            U256::from(crate::native::commit::lane(amount as i64))
        );
        let probe = Probe::new(AttestationCircuit::from_assignment(shape_of(&a), a));
        let name = format!("account.holding[{asset}].asset.margin");
        let v = probe.witnesses_under(&name);
        assert_eq!(v.len(), 2);
        assert_eq!(probe.with_witnesses(&[(v[1], lie)]), Some(name));
    }
    // Account 7: 10^4·TV ≥ MR' (true at full value), MV' < 0 ≤ MR' (false with the
    // haircut): no claim at all can be made about it.
    let risk = risk_of(&f, 6);
    assert!(risk.total_value * 10_000 >= risk.requirement_bps && risk.liquidatable);
    assert!(matches!(
        witness(&f, 6, ANY),
        Err(AttestationError::ClaimFalse { id: 7, .. })
    ));
    let base = witness(&f, 0, ANY).unwrap().assignment;
    caught_at(&transplant(&f, base, 6), "claim.ratio.slack");
}

#[test]
fn attack_v2_asset_lane_out_of_range_or_changed() {
    let f = healthy();
    let a = witness(&f, 4, ANY).unwrap().assignment;
    // −2^63 (lane 0), re-rooted to the attacker's own leaf: refused by the lane.
    let mut b = a.clone();
    b.amount_lanes[1] = U256::ZERO;
    reroot(&mut b);
    caught_at(&b, "account.holding[1].asset.lane.nonzero");
    // A lane at or above 2^64: only its low 64 bits can be assigned, so the
    // circuit's leaf is not the re-rooted one.
    let mut b = a.clone();
    b.amount_lanes[0] += U256::ONE << 64;
    reroot(&mut b);
    caught_at(&b, "path.root");
    // A holding of −5 wrapped around the field: its low 64 bits read as a debt of
    // about 3.4·10^18 WBTC, which sinks the claim before the leaf is reached.
    let mut b = a.clone();
    b.amount_lanes[0] = U256::from_le_bytes(H::to_le_bytes(&-Fr::from(5u64)));
    reroot(&mut b);
    caught_at(&b, "claim.ratio.slack");
    // A smaller debt or a larger holding than committed.
    let mut b = a.clone();
    b.amount_lanes[0] += U256::ONE;
    restamp(&mut b);
    caught_at(&b, "path.root");
    // Control: an in-range lane re-rooted is satisfied (the roots must come from
    // the chain to a_K, never from the prover).
    let mut b = a;
    b.amount_lanes[1] += U256::from(7u64);
    reroot(&mut b);
    assert!(satisfied(b));
}

/// Every block of the risk model v2 circuit is named, the new ones among them,
/// and a tampered witness fails at its own name.
#[test]
fn every_v2_constraint_is_named_and_a_tampered_witness_fails_at_its_name() {
    let f = healthy();
    let a = witness(&f, 4, ANY).unwrap().assignment;
    let probe = Probe::new(AttestationCircuit::from_assignment(shape_of(&a), a));
    let names = probe.names();
    for name in [
        "account.holding[0].asset.lane.range",
        "account.holding[0].asset.lane.nonzero",
        "account.holding[0].asset.value",
        "account.holding[0].asset.margin",
        "account.holding[1].asset.margin",
        "account.market[0].bracket.select",
        "account.market[0].bracket.pick.t[1]",
        "account.market[0].bracket.lo",
        "account.market[0].bracket.hi",
        "account.market[0].bracket.mr",
        "account.market[1].bracket.hi",
    ] {
        assert!(names.contains(&name), "{name} is a block");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.contains("asset.held") || n.contains("account.mr") && !n.contains("mr.abs")),
        "no held totals and no flat requirement: {names:?}"
    );
    for name in names {
        assert_eq!(probe.tamper(name).as_deref(), Some(name), "{name}");
    }
}

/// Measures the risk model v2 attestation circuit at `M = 8, T = 4, A = 4`: its
/// constraints and one Groth16 setup, proof and verification (seeded; one run). For
/// `docs/PERFORMANCE.md`, in release:
///   cargo test --release -p backstop-circuits --lib attestation::tests::measure_risk_model_v2 -- --ignored --nocapture
#[test]
#[ignore = "a measurement: run it in release"]
fn measure_risk_model_v2_attestation() {
    use crate::model::{
        Account, AccountId, Amount, Asset, Balance, EpochParams, MarginBps, Market, Price,
        RatioBps, Size, Tier,
    };
    use ark_groth16::{Groth16, prepare_verifying_key};
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;
    use std::time::Instant;
    let bps = |v: i128| MarginBps::new(v).unwrap();
    let markets = (0..8)
        .map(|m| {
            Market::new(
                &format!("M{m}"),
                Price::new(1_000 + m).unwrap(),
                0,
                0,
                bps(500),
            )
            .unwrap()
            .with_tiers(vec![
                Tier::new(50_000, bps(1_000)).unwrap(),
                Tier::new(250_000, bps(2_000)).unwrap(),
                Tier::new(1_000_000, bps(3_000)).unwrap(),
            ])
            .unwrap()
        })
        .collect();
    let assets = (0..4)
        .map(|c| {
            let ratio = RatioBps::new(9_000 + 250 * c).unwrap();
            Asset::new(
                &format!("A{c}"),
                Price::new(100 + c).unwrap(),
                0,
                0,
                ratio,
                1 << 40,
            )
            .unwrap()
        })
        .collect();
    let params = EpochParams::new(5, 0, 1 << 60, 1 << 40, markets)
        .unwrap()
        .with_assets(assets)
        .unwrap();
    let accounts = (0..8u64)
        .map(|i| {
            let sizes = (0..8).map(|m| Size::new((i as i128 + 1) * 40 * (m + 1) - 150).unwrap());
            let amounts = (0..4).map(|c| Amount::new(1_000 * (c + 1) - 2_500).unwrap());
            Account::new(
                AccountId::new(i + 1),
                Balance::new(10_000_000).unwrap(),
                sizes.collect(),
            )
            .with_amounts(amounts.collect())
        })
        .collect();
    let f = fixture_of(Snapshot::new(params, accounts).unwrap());
    let w = witness(&f, 7, AT_PAR).unwrap();
    let shape = w.shape();
    assert_eq!(shape.id(), "backstop.attest.v1.M8.T4.A4");
    println!(
        "{}: {} constraints",
        shape.id(),
        constraint_count(shape).unwrap()
    );
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let pk = Groth16::<ark_bn254::Bn254>::generate_random_parameters_with_reduction(
        AttestationCircuit::blank(shape),
        &mut rng,
    )
    .unwrap();
    println!("setup {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    let started = Instant::now();
    let proof = Groth16::<ark_bn254::Bn254>::create_random_proof_with_reduction(
        AttestationCircuit::new(&w),
        &pk,
        &mut rng,
    )
    .unwrap();
    println!("prove {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    let pvk = prepare_verifying_key(&pk.vk);
    let started = Instant::now();
    let ok = Groth16::<ark_bn254::Bn254>::verify_proof(&pvk, &proof, &[w.public_input()]).unwrap();
    println!("verify {:.2} ms", started.elapsed().as_secs_f64() * 1e3);
    assert!(ok);
    let wrong = w.public_input() + Fr::from(1u64);
    assert!(!Groth16::<ark_bn254::Bn254>::verify_proof(&pvk, &proof, &[wrong]).unwrap());
}
