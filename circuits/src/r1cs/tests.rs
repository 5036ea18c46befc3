//! The batch circuit against the native engine, and the soundness catalogue
//! (`docs/SPEC.md` §6.3, described once in [`crate::catalogue`]): every attack is a
//! named malicious assignment that must leave the constraint system unsatisfied at
//! the named constraint its relation maps to, beside a satisfied control.

use super::account::LANE_BITS;
use super::assignment::{BatchAssignment, SlotAssignment};
use super::batch::BatchCircuit;
use super::bits::pow2;
use super::names::testing::{Probe, first_unsatisfied};
use crate::assignment::testing::open_digest;
use crate::catalogue::{self, Attack, Lane, LaneWrite, Relation, epoch, honest};
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::shape::CircuitShape;
use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use ethnum::U256;

type H = Bn254Poseidon;

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
    let (shape, w) = epoch::<H>(20, 2, 8);
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
    assert_eq!(
        cs.num_instance_variables(),
        1 + crate::inputs::open_input_count(8),
        "ONE and the open inputs"
    );
    assert_eq!(n, 96_736);
}

#[test]
fn wrong_public_input_is_unsatisfied() {
    let (shape, w) = epoch::<H>(9, 2, 8);
    let mut a = BatchAssignment::from(&w.batches[0]);
    a.commitment_out += Fr::from(1u64);
    assert!(!satisfied(shape, a));
}

/// The open inputs of an assignment, as the verifier orders them.
pub(crate) fn instance_of(a: &BatchAssignment) -> Vec<Fr> {
    let shape = CircuitShape::new(a.slots.len() as u64, a.params.unit_value.len()).unwrap();
    instance(shape, a.clone())
}

/// The instance of batch `b`'s synthesized circuit (without the leading one).
fn instance(shape: CircuitShape, a: BatchAssignment) -> Vec<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    BatchCircuit::from_assignment(shape, a)
        .unwrap()
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    let mut v = cs.instance_assignment().unwrap().to_vec();
    v.remove(0);
    v
}

/// The catalogue's verdict on an assignment in the open layout: the first
/// unsatisfied constraint, else `public_input` if the instance the circuit assigns
/// is not the verifier's (whose hashed digest `x_b` the assignment carries as
/// `public_input`, [`open_digest`]).
pub(crate) fn verdict(shape: CircuitShape, a: BatchAssignment) -> Option<String> {
    let published = a.public_input;
    let digest = open_digest::<H>(&a);
    first_unsatisfied(circuit(shape, a))
        .or_else(|| (digest != published).then(|| "public_input".to_owned()))
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
    assert_eq!(d.total, 96_736);
    assert_eq!(d.tree_node, 402);
    assert_eq!(d.tree_nodes, 9);
    assert_eq!(d.per_account_marginal, 1410.0);
    assert_eq!(d.per_batch_fixed, 2878.0);
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

/// The statement a verifier reads gives every batch's public input: the batch
/// circuit, synthesized from each batch's witness (its own in-circuit hashing of
/// the parameters, states and outputs, independent of the native encoders), is
/// satisfied under the `x_b` the statement gives and not under `x_b + 1`. The
/// equality with the witness's own `x_b` is a round trip through the same native
/// functions (published, parsed, re-encoded), kept as such.
#[test]
fn published_statement_reproduces_every_public_input() {
    use crate::statement::{Backend, EpochStatement, PublicOutputs, publish};
    let (shape, w) = epoch::<H>(20, 2, 8);
    let snapshot = catalogue::book(20, 2);
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
    let inputs = statement.public_inputs::<H>().unwrap();
    assert_eq!(inputs.len(), w.batches.len());
    for (b, x) in inputs.iter().enumerate() {
        assert_eq!(x.len(), crate::inputs::open_input_count(2));
        let a = honest(&w, b);
        assert!(satisfied(shape, a.clone()), "batch {b}");
        assert_eq!(&instance(shape, a.clone()), x, "batch {b}'s instance");
        // One more on any input: the instance is no longer the statement's.
        for i in 0..x.len() {
            let mut other = x.clone();
            other[i] += Fr::from(1u64);
            assert_ne!(instance(shape, a.clone()), other);
        }
    }
    // The round trip.
    let expected: Vec<Vec<Fr>> = w.batches.iter().map(|b| b.open_inputs::<H>()).collect();
    assert_eq!(inputs, expected);
    // A changed published output changes every batch's inputs.
    let mut other = file.clone();
    other.solvent = !other.solvent;
    let changed = EpochStatement::new(other)
        .unwrap()
        .public_inputs::<H>()
        .unwrap();
    assert!(changed.iter().zip(&expected).all(|(a, b)| a != b));
}

// ---------------------------------------------------------------------------
// The soundness catalogue (`docs/SPEC.md` §6.3): the attacks of
// [`crate::catalogue`] over BN254, each relation mapped to the name of the
// arkworks namespace of its constraints (`super::names`). Every control must be
// satisfied, and every lie's first unsatisfied constraint must be exactly the one
// of its first relation.
// ---------------------------------------------------------------------------

fn lane_name(lane: Lane) -> String {
    match lane {
        Lane::Balance => "balance".to_owned(),
        Lane::Size(m) => format!("size[{m}]"),
    }
}

/// The namespace of the constraints enforcing `r` in the batch circuit.
fn constraint_name(r: Relation) -> String {
    match r {
        Relation::LaneRange { slot, lane } => {
            format!("account[{slot}].lane.{}.range", lane_name(lane))
        }
        Relation::LaneNonzero { slot, lane } => {
            format!("account[{slot}].lane.{}.nonzero", lane_name(lane))
        }
        Relation::PaddingEmpty { slot, .. } => format!("account[{slot}].padding.empty"),
        Relation::PaddingBeforeReal { slot } | Relation::PaddingNotLast { slot } => {
            format!("account[{slot}].padding.order")
        }
        Relation::FirstSlotReal => "account[0].padding.order".to_owned(),
        Relation::IdOrder { slot } => format!("account[{slot}].id.order"),
        Relation::IdBound => "id.bound".to_owned(),
        Relation::Opens(_) => "outputs.open".to_owned(),
        Relation::DisclosedLiabilities => "outputs.liabilities".to_owned(),
        Relation::PublicInput => "public_input".to_owned(),
    }
}

fn circuit(shape: CircuitShape, a: BatchAssignment) -> BatchCircuit {
    BatchCircuit::from_assignment(shape, a).unwrap()
}

/// Writes `value` into slot `slot`'s `lane` after synthesis of `base`, as an
/// attacker filling the witness vector would: the lane is `Σ b_i·2^i` over its 64
/// bit witnesses (it is no variable of its own), so the attacker sets bits 1…63 to
/// those of `value`'s canonical representative and puts the rest in bit 0, which
/// makes the sum `value`. Returns the first unsatisfied constraint's name.
fn write_lane(
    shape: CircuitShape,
    base: &BatchAssignment,
    slot: usize,
    lane: Lane,
    value: Fr,
) -> Option<String> {
    let probe = Probe::new(circuit(shape, base.clone()));
    // The lane's bits are the first witnesses allocated under its namespace (the
    // nonzero check's inverse comes after them).
    let block = format!("account[{slot}].lane.{}", lane_name(lane));
    let witnesses = probe.witnesses_under(&block);
    assert!(
        witnesses.len() > LANE_BITS,
        "{block}: {} witnesses",
        witnesses.len()
    );
    let bits = &witnesses[..LANE_BITS];
    let canonical = U256::from_le_bytes(H::to_le_bytes(&value));
    let mut rest = value;
    let mut values = Vec::with_capacity(LANE_BITS);
    for (i, &w) in bits.iter().enumerate().skip(1) {
        let bit = Fr::from(((canonical >> i as u32) & U256::ONE).as_u64());
        rest -= bit * pow2(i);
        values.push((w, bit));
    }
    values.push((bits[0], rest));
    probe.with_witnesses(&values)
}

/// A lie told after synthesis (see [`catalogue::LaneWrite`]): the same write of
/// the base's own lane value must be satisfied (the write is faithful), the lie's
/// value not.
fn after_synthesis(shape: CircuitShape, write: &LaneWrite<Fr>) -> Option<String> {
    let slot: &SlotAssignment = &write.base.slots[write.slot];
    let own = match write.lane {
        Lane::Balance => slot.balance_lane,
        Lane::Size(m) => slot.size_lanes[m],
    };
    assert_eq!(
        write_lane(
            shape,
            &write.base,
            write.slot,
            write.lane,
            H::from_u256(own)
        ),
        None,
        "the base's own lane, written back"
    );
    write_lane(shape, &write.base, write.slot, write.lane, write.value)
}

/// Every control satisfied; every lie unsatisfied first at its relation's name.
#[track_caller]
fn assert_attack(attack: Attack<Fr>) {
    for control in attack.controls {
        assert_eq!(
            verdict(control.shape, control.assignment),
            None,
            "{}: control '{}'",
            attack.name,
            control.name
        );
    }
    for lie in attack.lies {
        let got = match &lie.after_synthesis {
            Some(write) => after_synthesis(lie.case.shape, write),
            None => verdict(lie.case.shape, lie.case.assignment),
        };
        assert_eq!(
            got,
            Some(constraint_name(lie.fails_at[0])),
            "{}: lie '{}'",
            attack.name,
            lie.case.name
        );
    }
}

/// The native restamp the lies use agrees with the prover on honest batches
/// ([`catalogue::restamped_honest`] asserts the equality), which satisfy.
#[test]
fn restamp_agrees_with_the_prover() {
    for case in catalogue::restamped_honest::<H>() {
        assert!(satisfied(case.shape, case.assignment), "{}", case.name);
    }
}

catalogue::attacks!(tests, assert_attack, H);
