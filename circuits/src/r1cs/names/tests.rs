//! The names of the batch circuit's constraints (the attestation circuit's are tested
//! beside it): every constraint is named, a witness tampered with inside a block is
//! caught first by that block, and the checking blocks catch the malicious
//! assignments they exist for, by name.

use super::testing::{Probe, first_unsatisfied};
use crate::assignment::testing::{Outputs, restamp_with};
use crate::catalogue::{epoch, lane_of};
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::r1cs::assignment::BatchAssignment;
use crate::r1cs::batch::BatchCircuit;
use ark_bn254::Fr;
use ethnum::U256;

type H = Bn254Poseidon;

/// The blocks of one slot, in order.
const ACCOUNT: [&str; 17] = [
    "padding.order",
    "lane.balance.range",
    "lane.balance.nonzero",
    "lane.size[0].range",
    "lane.size[0].nonzero",
    "lane.size[1].range",
    "lane.size[1].nonzero",
    "padding.empty",
    "id.order",
    "tv",
    "mr.abs",
    "mr",
    "tv.sign",
    "slack.sign",
    "liability",
    "liquidation",
    "leaf",
];

/// The names before the slots and after them.
const FRAME: ([&str; 5], [&str; 9]) = (
    [
        "params.descriptor",
        "outputs.flags",
        "batch.is_last",
        "batch.is_first",
        "chain.state_in",
    ],
    [
        "tree",
        "chain.accounts",
        "id.bound",
        "chain.state_out",
        "solvency.reserves",
        "solvency.insurance",
        "outputs.open",
        "outputs.liabilities",
        "public_input",
    ],
);

/// Every name of the batch circuit at `B = 8`, `M = 2`, in the order of synthesis.
fn batch_names() -> Vec<String> {
    let (before, after) = FRAME;
    let slots = (0..8).flat_map(|j| ACCOUNT.map(|n| format!("account[{j}].{n}")));
    let names = before.into_iter().map(String::from).chain(slots);
    names.chain(after.into_iter().map(String::from)).collect()
}

/// The one batch of a 7-account epoch (slot 7 is padding), honest.
fn single() -> (crate::shape::CircuitShape, BatchAssignment) {
    let (shape, w) = crate::catalogue::single::<H>();
    (shape, BatchAssignment::from(&w.batches[0]))
}

#[test]
fn every_constraint_of_the_batch_circuit_is_named() {
    let (shape, a) = single();
    assert_eq!(
        first_unsatisfied(BatchCircuit::from_assignment(shape, a.clone()).unwrap()),
        None
    );
    let probe = Probe::new(BatchCircuit::from_assignment(shape, a).unwrap());
    assert_eq!(probe.names(), batch_names());
}

#[test]
fn a_witness_tampered_with_in_a_block_fails_at_its_name() {
    let (shape, a) = single();
    let probe = Probe::new(BatchCircuit::from_assignment(shape, a).unwrap());
    // The blocks outside the slots, the first real slot and the padding slot 7.
    for name in batch_names().iter().filter(|n| {
        !n.starts_with("account[") || n.starts_with("account[0]") || n.starts_with("account[7]")
    }) {
        let expected = match name.as_str() {
            // Only checks on earlier witnesses: for a real slot, `pad · id = 0` holds
            // whatever the id, which the id order then catches; no witness of its own.
            "account[0].padding.empty" => Some("account[0].id.order"),
            "outputs.open" => None,
            // The flags are public inputs, checked boolean on their own (below).
            "outputs.flags" => None,
            n => Some(n),
        };
        assert_eq!(probe.tamper(name).as_deref(), expected, "{name}");
    }
}

/// The open inputs (SPEC §6.4) the circuit reads as booleans are checked boolean,
/// and every other input enters a constraint of its own block: moving any of them
/// by `2^40` (more than a range check's low bit can absorb) fails where it is read.
#[test]
fn each_public_input_fails_where_it_is_read() {
    use crate::inputs::{OPEN_PARAMS_HEAD, open_input_count};
    let (shape, a) = single();
    let honest = crate::r1cs::tests::instance_of(&a);
    let probe = Probe::new(BatchCircuit::from_assignment(shape, a).unwrap());
    let m = 2;
    let outputs = OPEN_PARAMS_HEAD + 2 * m;
    let solvent = outputs + 4;
    for flag in [solvent, solvent + 1] {
        assert_eq!(
            probe
                .with_input(flag, honest[flag] + Fr::from(2u64))
                .as_deref(),
            Some("outputs.flags"),
            "input {flag}"
        );
    }
    let mut expected = vec![
        "public_input",      // epoch: a_0 of batch 0
        "account[0].tv",     // f_q
        "solvency.reserves", // reserves·f_q
        "solvency.insurance",
        "params.descriptor",
    ];
    for _ in 0..m {
        expected.extend(["account[0].tv", "account[0].mr"]);
    }
    expected.extend([
        "outputs.open", // a_K
        "account[0].liquidation",
        "outputs.open",  // P_target
        "outputs.open",  // D
        "outputs.flags", // solvent, insurance_covered: checked apart, above
        "outputs.flags",
        "outputs.liabilities",
        "batch.is_last", // b
        "batch.is_last", // K
        "public_input",  // C_{−1}
        "public_input",  // C_0
    ]);
    assert_eq!(expected.len(), open_input_count(m));
    for (i, name) in expected.iter().enumerate() {
        if i == solvent || i == solvent + 1 {
            continue;
        }
        assert_eq!(
            probe
                .with_input(i, honest[i] + Fr::from(1u64 << 40))
                .as_deref(),
            Some(*name),
            "input {i}"
        );
    }
}

/// A lie told about the one-batch epoch of [`single`], and how the attacker restamps.
type Lie = (&'static str, Outputs, fn(&mut BatchAssignment));

/// Each checking block's own attack, and the block expected to catch it.
const LIES: [(Lie, &str); 12] = [
    (
        ("a padding slot holding funds", Outputs::Derived, |a| {
            a.slots[7].balance_lane = lane_of(1_000)
        }),
        "account[7].padding.empty",
    ),
    (
        ("a balance of −2^63", Outputs::Derived, |a| {
            a.slots[1].balance_lane = lane_of(-(1i128 << 63))
        }),
        "account[1].lane.balance.nonzero",
    ),
    (
        ("a size of −2^63", Outputs::Derived, |a| {
            a.slots[2].size_lanes[1] = lane_of(-(1i128 << 63))
        }),
        "account[2].lane.size[1].nonzero",
    ),
    (
        ("unsorted ids", Outputs::Derived, |a| a.slots.swap(1, 2)),
        "account[2].id.order",
    ),
    (
        // Its gap is in range, its successor is not.
        ("the last real id at 2^64", Outputs::Derived, |a| {
            a.slots[6].id = H::from_u256(U256::ONE << 64)
        }),
        "id.bound",
    ),
    (
        // |TV| ≥ 2^190: no published parameter gives it.
        ("a unit value of 2^200", Outputs::Derived, |a| {
            a.params.unit_value[0] = H::from_u256(U256::ONE << 200)
        }),
        "account[0].tv.sign",
    ),
    (
        // |10000·TV − MR'| ≥ 2^205 with TV in range.
        ("a unit requirement of 2^210", Outputs::Derived, |a| {
            a.params.unit_requirement[0] = H::from_u256(U256::ONE << 210)
        }),
        "account[0].slack.sign",
    ),
    (
        ("reserves of 2^240", Outputs::Derived, |a| {
            a.params.reserves = H::from_u256(U256::ONE << 240)
        }),
        "solvency.reserves",
    ),
    (
        ("an insurance fund of 2^240", Outputs::Derived, |a| {
            a.params.insurance_fund = H::from_u256(U256::ONE << 240)
        }),
        "solvency.insurance",
    ),
    (
        ("less bad debt published", Outputs::Claimed, |a| {
            a.bad_debt -= Fr::from(1u64)
        }),
        "outputs.open",
    ),
    (
        ("the solvency flag flipped", Outputs::Claimed, |a| {
            a.solvent = !a.solvent
        }),
        "outputs.open",
    ),
    (
        // ℓ = 5 where L is not 4.
        ("liabilities of 4 disclosed", Outputs::Claimed, |a| {
            a.disclosure = Fr::from(5u64)
        }),
        "outputs.liabilities",
    ),
];

#[test]
fn each_checking_block_catches_its_attack_by_name() {
    for ((lie, outputs, tell), expected) in LIES {
        let (shape, mut a) = single();
        tell(&mut a);
        restamp_with::<H>(&mut a, outputs);
        let circuit = BatchCircuit::from_assignment(shape, a).unwrap();
        assert_eq!(
            first_unsatisfied(circuit).as_deref(),
            Some(expected),
            "{lie}"
        );
    }
    // A padding slot in a batch that is not the last (its data zeroed).
    let (shape, w) = epoch::<H>(20, 2, 8);
    let mut a = BatchAssignment::from(&w.batches[0]);
    let s = &mut a.slots[7];
    s.pad = true;
    s.id = Fr::from(0u64);
    s.balance_lane = lane_of(0);
    s.size_lanes = vec![lane_of(0); 2];
    restamp_with::<H>(&mut a, Outputs::Claimed);
    assert_eq!(
        first_unsatisfied(BatchCircuit::from_assignment(shape, a).unwrap()).as_deref(),
        Some("account[7].padding.order")
    );
    // Another public input: C_b, or (batch 0) a nonzero C_{−1}.
    let (shape, mut a) = single();
    a.commitment_out += Fr::from(1u64);
    assert_eq!(
        first_unsatisfied(BatchCircuit::from_assignment(shape, a).unwrap()).as_deref(),
        Some("public_input")
    );
    let (shape, mut a) = single();
    a.commitment_in = Fr::from(1u64);
    assert_eq!(
        first_unsatisfied(BatchCircuit::from_assignment(shape, a).unwrap()).as_deref(),
        Some("public_input")
    );
}
