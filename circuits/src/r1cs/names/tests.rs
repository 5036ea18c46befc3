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
        "params.unpack",
        "params.scale",
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
            n => Some(n),
        };
        assert_eq!(probe.tamper(name).as_deref(), expected, "{name}");
    }
}

/// Every open input (SPEC §6.4) enters a constraint of its own block: moving any of
/// them by `2^40` (more than a range check's low bit can absorb) fails where it is
/// read. A packed word is read by its unpacking alone.
#[test]
fn each_public_input_fails_where_it_is_read() {
    use crate::inputs::{open_input_count, packed_word_count};
    let (shape, a) = single();
    let honest = crate::r1cs::tests::instance_of(&a);
    let probe = Probe::new(BatchCircuit::from_assignment(shape, a).unwrap());
    let m = 2;
    let mut expected = vec!["params.unpack"; packed_word_count(m)];
    expected.extend([
        "outputs.open", // a_K
        "account[0].liquidation",
        "outputs.open", // P_target
        "outputs.open", // D
        "outputs.liabilities",
        "public_input", // C_{−1}
        "public_input", // C_0
    ]);
    assert_eq!(expected.len(), open_input_count(m));
    for (i, name) in expected.iter().enumerate() {
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
    // The scales below come from exponents of 31, which the 5-bit exponents hold but
    // no verifier packs (it validates every exponent ≤ 18, SPEC §3): the sign blocks
    // must catch the values such parameters give on their own.
    (
        // |TV| ≈ 2^229 ≥ 2^194.
        (
            "a unit value of (2^64 − 1)·10^31 and a size of 2^62",
            Outputs::Derived,
            |a| {
                let price = U256::from(u64::MAX);
                a.params.set_market::<H>(0, price, 10_000, 31);
                a.slots[0].size_lanes[0] = lane_of(1i128 << 62);
            },
        ),
        "account[0].tv.sign",
    ),
    (
        // Two opposite sizes of 2^62 at that unit value: TV stays small, MR' ≈ 2^244.
        (
            "a long and a short of 2^62 at a unit value of (2^64 − 1)·10^31",
            Outputs::Derived,
            |a| {
                let price = U256::from(u64::MAX);
                a.params.set_market::<H>(0, price, 16_383, 31);
                a.params.set_market::<H>(1, price, 16_383, 31);
                a.slots[0].size_lanes[0] = lane_of(1i128 << 62);
                a.slots[0].size_lanes[1] = lane_of(-(1i128 << 62));
            },
        ),
        "account[0].slack.sign",
    ),
    (
        ("reserves of (2^128 − 1)·10^31", Outputs::Derived, |a| {
            let insurance = U256::from_le_bytes(H::to_le_bytes(&a.params.raw_insurance_fund));
            a.params
                .set_funds::<H>(31, U256::from(u128::MAX), insurance);
        }),
        "solvency.reserves",
    ),
    (
        (
            "an insurance fund of (2^128 − 1)·10^31",
            Outputs::Derived,
            |a| {
                let reserves = U256::from_le_bytes(H::to_le_bytes(&a.params.raw_reserves));
                a.params.set_funds::<H>(31, reserves, U256::from(u128::MAX));
            },
        ),
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
