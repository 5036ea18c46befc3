//! The batch circuit against the native engine, and the soundness catalogue
//! (`docs/SPEC.md` §6.3): every attack is a named malicious assignment that must
//! leave the constraint system unsatisfied.

use super::assignment::BatchAssignment;
use super::batch::BatchCircuit;
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use crate::native::commit::BatchSize;
use crate::native::commit::liquidation_commitment;
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};

/// A small book: 2 markets, ids 10, 20, …; some accounts liquidatable, some underwater.
pub(crate) fn book(n: u64, markets: usize) -> Snapshot {
    let ms = (0..markets)
        .map(|i| {
            Market::new(
                &format!("M{i}"),
                Price::new(200_000 + 1_000 * i as i128).unwrap(),
                2,
                4,
                MarginBps::new(500).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let params = EpochParams::new(77, 6, 10u128.pow(15), 10u128.pow(10), ms).unwrap();
    let accounts = (0..n)
        .map(|i| {
            // Sizes between −3 and +3 units; balances from −200 to large.
            let size = (i as i128 % 7 - 3) * 10_000;
            let balance = (i as i128 * 37 % 11 - 2) * 100_000_000;
            Account::new(
                AccountId::new(10 * (i + 1)),
                Balance::new(balance).unwrap(),
                vec![Size::new(size).unwrap(); markets],
            )
        })
        .collect();
    Snapshot::new(params, accounts).unwrap()
}

pub(crate) fn epoch(n: u64, markets: usize, b: u64) -> (CircuitShape, EpochWitness<Bn254Poseidon>) {
    let shape = CircuitShape::new(b, markets).unwrap();
    let w = build_epoch::<Bn254Poseidon>(
        &book(n, markets),
        &VenueSecret::demo(),
        BatchSize::new(b).unwrap(),
    );
    (shape, w)
}

/// Synthesizes and reports satisfaction.
pub(crate) fn satisfied(shape: CircuitShape, a: BatchAssignment) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    BatchCircuit::from_assignment(shape, a)
        .unwrap()
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    cs.is_satisfied().unwrap()
}

#[test]
fn honest_batches_satisfy() {
    let (shape, w) = epoch(20, 2, 8);
    assert_eq!(w.batches.len(), 3);
    assert!(!w.evaluation.liquidations.is_empty() && w.evaluation.bad_debt > 0);
    for b in &w.batches {
        assert!(
            satisfied(shape, BatchAssignment::from(b)),
            "batch {}",
            b.batch()
        );
    }
}

#[test]
fn shape_is_pinned() {
    // Regenerate after an intended circuit change with:
    //   cargo test -p backstop-circuits --lib r1cs::tests::shape_is_pinned -- --nocapture
    let shape = CircuitShape::new(64, 8).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    BatchCircuit::blank(shape)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    let n = cs.num_constraints();
    println!(
        "B=64 M=8: {n} constraints, {:.1} per account",
        n as f64 / 64.0
    );
    assert_eq!(cs.num_instance_variables(), 2, "ONE and x_b");
    assert_eq!(n, 97_328);
}

#[test]
fn wrong_public_input_is_unsatisfied() {
    let (shape, w) = epoch(9, 2, 8);
    let mut a = BatchAssignment::from(&w.batches[0]);
    a.public_input += Fr::from(1u64);
    assert!(!satisfied(shape, a));
}

#[test]
#[ignore]
fn print_constraint_breakdown() {
    for (b, m) in [(8u64, 8usize), (64, 8), (512, 8), (64, 1), (64, 64)] {
        let shape = CircuitShape::new(b, m).unwrap();
        println!("B={b} M={m}: {}", super::constraint_count(shape).unwrap());
    }
    let d = super::breakdown(CircuitShape::new(64, 8).unwrap()).unwrap();
    println!("{d:#?}");
}

#[test]
fn breakdown_is_pinned_and_adds_up() {
    let d = super::breakdown(CircuitShape::new(64, 8).unwrap()).unwrap();
    assert_eq!(d.total, 97_328);
    assert_eq!(d.tree_node, 402);
    assert_eq!(d.tree_nodes, 9);
    assert_eq!(d.per_account_marginal, 1410.0);
    assert_eq!(d.per_batch_fixed, 3470.0);
    let account: f64 = d.per_account.iter().map(|l| l.total).sum();
    let batch: f64 = d.per_batch.iter().map(|l| l.total).sum();
    assert_eq!(account, d.per_account_marginal);
    assert_eq!(batch, d.per_batch_fixed);
    // The measured gadgets: 9 lanes of 64 bits, the signs at M = 8, the leaf.
    assert_eq!(d.per_account[0].total, 576.0);
    assert_eq!(d.per_account[3].each, 191.0);
    assert_eq!(d.per_account[4].each, 206.0);
    assert_eq!(d.per_account[5].each, 321.0);
}

#[test]
fn published_statement_reproduces_every_public_input() {
    use crate::statement::{Backend, EpochStatement, PublicOutputs, publish};
    let (shape, w) = epoch(20, 2, 8);
    let snapshot = book(20, 2);
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &w.evaluation);
    let file = publish(
        Backend::Groth16Bn254,
        shape,
        "00".repeat(32),
        snapshot.params(),
        &outputs,
        &w.commitment,
    );
    let json = serde_json::to_vec_pretty(&file).unwrap();
    let statement = EpochStatement::from_json(&json).unwrap();
    assert_eq!(statement.outputs(), outputs);
    let inputs = statement.public_inputs::<Bn254Poseidon>().unwrap();
    let expected: Vec<Fr> = w.batches.iter().map(|b| b.public_input()).collect();
    assert_eq!(inputs, expected);
    // A changed published output changes every public input.
    let mut other = file.clone();
    other.solvent = !other.solvent;
    let changed = EpochStatement::new(other)
        .unwrap()
        .public_inputs::<Bn254Poseidon>()
        .unwrap();
    assert!(changed.iter().zip(&expected).all(|(a, b)| a != b));
}

// ---------------------------------------------------------------------------
// The soundness catalogue (`docs/SPEC.md` §6.3).
//
// Each attack starts from an honest assignment, applies one lie, and — where the
// attacker would also publish a statement consistent with the lie — recomputes the
// public input with `restamp`, a native re-implementation of what the circuit
// computes from a *raw* assignment (it does not range-check anything, so it happily
// follows wrapped or out-of-range values). The control of each attack (the same
// construction without the lie) must be satisfied, so no test passes vacuously.
// ---------------------------------------------------------------------------

type H = Bn254Poseidon;

fn fr_u256(v: ethnum::U256) -> Fr {
    // Reduces modulo p: a raw lane may be anything.
    let bytes = v.to_le_bytes();
    <Fr as ark_ff::PrimeField>::from_le_bytes_mod_order(&bytes)
}

use crate::assignment::testing::Outputs;

/// The shared native restamp ([`crate::assignment::testing::restamp_with`]).
fn restamp_with(a: &mut BatchAssignment, outputs: Outputs) {
    crate::assignment::testing::restamp_with::<H>(a, outputs);
}

/// [`restamp_with`] keeping the claimed outputs.
fn restamp(a: &mut BatchAssignment) {
    restamp_with(a, Outputs::Claimed);
}

/// A one-batch epoch (so the batch is also the last) with liquidations and bad debt.
fn single() -> (CircuitShape, EpochWitness<H>) {
    let (shape, w) = epoch(7, 2, 8);
    assert_eq!(w.batches.len(), 1);
    assert!(w.evaluation.liquidations.len() >= 2);
    (shape, w)
}

fn honest(w: &EpochWitness<H>, b: usize) -> BatchAssignment {
    BatchAssignment::from(&w.batches[b])
}

#[test]
fn restamp_agrees_with_the_prover() {
    let (shape, w) = epoch(20, 2, 8);
    for b in 0..w.batches.len() {
        let mut a = honest(&w, b);
        let x = a.public_input;
        restamp(&mut a);
        assert_eq!(a.public_input, x, "batch {b}");
        assert!(satisfied(shape, a));
    }
    let (_, w) = single();
    let mut a = honest(&w, 0);
    let x = a.public_input;
    restamp_with(&mut a, Outputs::Derived);
    assert_eq!(a.public_input, x, "derived outputs equal the honest ones");
}

/// Publishes `claimed` as the liquidation set of a one-batch epoch.
fn claim_liquidations(w: &EpochWitness<H>, claimed: &[crate::model::AccountId]) -> BatchAssignment {
    use crate::native::commit::{challenge, liquidation_product};
    let mut a = honest(w, 0);
    let z = challenge::<H>(
        w.commitment.params_hash,
        w.commitment.accounts_commitment,
        liquidation_commitment::<H>(claimed),
    );
    a.challenge = z;
    a.liquidation_product = liquidation_product::<H>(z, claimed);
    restamp(&mut a);
    a
}

#[test]
fn attack_liquidatable_account_published_as_healthy() {
    let (shape, w) = single();
    let truth = w.evaluation.liquidations.clone();
    assert!(satisfied(shape, claim_liquidations(&w, &truth)), "control");
    let hidden: Vec<_> = truth[1..].to_vec();
    assert!(!satisfied(shape, claim_liquidations(&w, &hidden)));
}

#[test]
fn attack_healthy_account_published_as_liquidatable() {
    let (shape, w) = single();
    let healthy = w.batches[0]
        .slots
        .iter()
        .filter_map(|s| s.account.as_ref())
        .map(|a| a.id())
        .find(|id| !w.evaluation.liquidations.contains(id))
        .unwrap();
    let mut claimed = w.evaluation.liquidations.clone();
    claimed.push(healthy);
    claimed.sort();
    assert!(!satisfied(shape, claim_liquidations(&w, &claimed)));
}

/// Runs `lie` on slot `j`'s raw data, restamps, and checks the system.
fn lie_about_slot(j: usize, lie: impl Fn(&mut super::assignment::SlotAssignment)) -> bool {
    let (shape, w) = single();
    let mut a = honest(&w, 0);
    lie(&mut a.slots[j]);
    restamp_with(&mut a, Outputs::Derived);
    satisfied(shape, a)
}

fn lane_of(v: i128) -> ethnum::U256 {
    ethnum::U256::from((v + (1i128 << 63)) as u128)
}

#[test]
fn attack_negative_balance_wrapped_around_the_field() {
    // Control: a balance of −5 units, offset into its lane, is fine.
    assert!(lie_about_slot(2, |s| s.balance_lane = lane_of(-5)));
    // The lie: −5 written as the field element p − 5 (no offset), so the "lane" is
    // ≥ 2^64 and cannot be decomposed into 64 bits.
    let p_minus_5 = ethnum::U256::from_le_bytes(<H as FieldHasher>::to_le_bytes(&-Fr::from(5u64)));
    assert!(!lie_about_slot(2, |s| s.balance_lane = p_minus_5));
    assert!(!lie_about_slot(2, |s| s.balance_lane = p_minus_5 + lane_of(0)));
}

#[test]
fn attack_negative_size_wrapped_around_the_field() {
    assert!(lie_about_slot(3, |s| s.size_lanes[1] = lane_of(-7)));
    let p_minus_7 = ethnum::U256::from_le_bytes(<H as FieldHasher>::to_le_bytes(&-Fr::from(7u64)));
    assert!(!lie_about_slot(3, |s| s.size_lanes[1] = p_minus_7));
}

#[test]
fn attack_values_one_past_their_bounds() {
    let max = (1i128 << 63) - 1;
    // At the bounds: |v| = 2^63 − 1 is allowed for balances and sizes.
    assert!(lie_about_slot(1, |s| s.balance_lane = lane_of(max)));
    assert!(lie_about_slot(1, |s| s.balance_lane = lane_of(-max)));
    assert!(lie_about_slot(1, |s| s.size_lanes[0] = lane_of(-max)));
    // One past: −2^63 (lane 0) and +2^63 (lane 2^64).
    assert!(!lie_about_slot(1, |s| s.balance_lane = lane_of(-max - 1)));
    assert!(!lie_about_slot(1, |s| s.balance_lane = lane_of(max + 1)));
    assert!(!lie_about_slot(1, |s| s.size_lanes[0] = lane_of(-max - 1)));
    assert!(!lie_about_slot(1, |s| s.size_lanes[1] = lane_of(max + 1)));
}

#[test]
fn attack_wrong_price_or_margin_rate() {
    let (shape, w) = single();
    // The published parameters fix x_b; the prover evaluates with other ones.
    let mut a = honest(&w, 0);
    a.params.unit_value[0] += Fr::from(1u64);
    assert!(!satisfied(shape, a));
    let mut a = honest(&w, 0);
    a.params.unit_requirement[1] -= Fr::from(1u64);
    assert!(!satisfied(shape, a));
    let mut a = honest(&w, 0);
    a.params.quote_scale = Fr::from(10u64);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_unsorted_ids_within_a_batch() {
    let (shape, w) = single();
    let mut a = honest(&w, 0);
    a.slots.swap(1, 2);
    restamp_with(&mut a, Outputs::Derived);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_repeated_id_within_a_batch() {
    let (shape, w) = single();
    let mut a = honest(&w, 0);
    a.slots[3].id = a.slots[2].id;
    restamp_with(&mut a, Outputs::Derived);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_repeated_id_across_the_chain() {
    // Batch 1 starts with an id already used in batch 0.
    let (shape, w) = epoch(20, 2, 8);
    let last_of_batch_0 = w.batches[0].slots[7].account.as_ref().unwrap().id().get();
    let mut control = honest(&w, 1);
    restamp(&mut control);
    assert!(satisfied(shape, control));
    let mut a = honest(&w, 1);
    a.slots[0].id = Fr::from(last_of_batch_0);
    restamp(&mut a);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_id_at_or_above_two_to_the_64() {
    // The last real id must stay below 2^64: its successor bound is checked.
    let (shape, w) = single();
    let mut a = honest(&w, 0);
    let last_real = a.slots.iter().rposition(|s| !s.pad).unwrap();
    a.slots[last_real].id = fr_u256(ethnum::U256::ONE << 64);
    restamp_with(&mut a, Outputs::Derived);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_padding_leaf_holding_funds() {
    let (shape, w) = single();
    let pad = w.batches[0]
        .slots
        .iter()
        .position(|s| s.account.is_none())
        .unwrap();
    assert!(lie_about_slot(pad, |_| ()), "control");
    assert!(!lie_about_slot(pad, |s| s.balance_lane = lane_of(1_000)));
    assert!(!lie_about_slot(pad, |s| s.size_lanes[1] = lane_of(-1)));
    assert!(!lie_about_slot(pad, |s| s.id = Fr::from(999u64)));
    let _ = shape;
}

#[test]
fn attack_padding_before_a_real_account_or_outside_the_last_batch() {
    let (shape, w) = single();
    // A real account marked as padding in the middle of the batch (its data zeroed).
    let mut a = honest(&w, 0);
    a.slots[1].pad = true;
    a.slots[1].id = Fr::from(0u64);
    a.slots[1].balance_lane = lane_of(0);
    a.slots[1].size_lanes = vec![lane_of(0); 2];
    restamp_with(&mut a, Outputs::Derived);
    assert!(!satisfied(shape, a));
    // A padding slot in a batch that is not the last.
    let (shape, w) = epoch(20, 2, 8);
    let mut a = honest(&w, 0);
    let s = &mut a.slots[7];
    s.pad = true;
    s.id = Fr::from(0u64);
    s.balance_lane = lane_of(0);
    s.size_lanes = vec![lane_of(0); 2];
    restamp(&mut a);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_batch_dropped_repeated_or_reordered() {
    let (shape, w) = epoch(30, 2, 8);
    assert_eq!(w.batches.len(), 4);
    let x: Vec<Fr> = w.batches.iter().map(|b| b.public_input()).collect();
    // Batch 2's witness presented as batch 1 (batch 1 dropped).
    let mut a = honest(&w, 2);
    a.batch = Fr::from(1u64);
    a.public_input = x[1];
    assert!(!satisfied(shape, a));
    // Batch 1's witness presented again as batch 2 (repeated).
    let mut a = honest(&w, 1);
    a.batch = Fr::from(2u64);
    a.public_input = x[2];
    assert!(!satisfied(shape, a));
    // Batches 1 and 2 swapped.
    let mut a = honest(&w, 2);
    a.public_input = x[1];
    assert!(!satisfied(shape, a));
    // A non-last batch claiming to be the last (K = b + 1) cannot open the outputs.
    let mut a = honest(&w, 1);
    a.batch_count = Fr::from(2u64);
    restamp(&mut a);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_tampered_chain_commitment() {
    let (shape, w) = epoch(20, 2, 8);
    // Carrying less liability into batch 1 than batch 0 committed to.
    let mut a = honest(&w, 1);
    a.state_in.total_liabilities -= Fr::from(1u64);
    assert!(!satisfied(shape, a.clone()));
    // Even with a restamped public input, the verifier's x_1 uses the published C_0.
    restamp(&mut a);
    let published = w.batches[1].public_input();
    assert_ne!(a.public_input, published);
    a.public_input = published;
    assert!(!satisfied(shape, a));
    // Another blinding for the same state.
    let mut a = honest(&w, 1);
    a.blind_in += Fr::from(1u64);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_totals_that_do_not_match_the_accounts() {
    let (shape, w) = single();
    let mut a = honest(&w, 0);
    a.bad_debt -= Fr::from(1u64);
    restamp(&mut a);
    assert!(!satisfied(shape, a));
    let mut a = honest(&w, 0);
    a.insurance_covered = !a.insurance_covered;
    restamp(&mut a);
    assert!(!satisfied(shape, a));
    let mut a = honest(&w, 0);
    a.solvent = !a.solvent;
    restamp(&mut a);
    assert!(!satisfied(shape, a));
}

#[test]
fn attack_leaf_that_does_not_open_to_the_committed_root() {
    let (shape, w) = single();
    // The published accounts commitment stays; the prover's leaf differs.
    let mut control = honest(&w, 0);
    restamp(&mut control);
    assert!(satisfied(shape, control));
    let mut a = honest(&w, 0);
    a.slots[4].salt += Fr::from(1u64);
    restamp(&mut a);
    assert!(!satisfied(shape, a));
    let mut a = honest(&w, 0);
    a.slots[4].balance_lane += ethnum::U256::ONE;
    restamp(&mut a);
    assert!(!satisfied(shape, a));
}
