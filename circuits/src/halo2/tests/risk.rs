//! The halo2 batch circuit on risk model v2 (`docs/SPEC.md` §2.2, §2.3, §8.1): the
//! book of [`crate::catalogue::risk_book`] against the native engine and the
//! verifier's `x_b`, and the soundness catalogue's risk model v2 attacks, each
//! failing at its own gate or range check (and, where the lie changes what the
//! batch commits to, at the public input the verifier forms).

use super::{Failure, H, circuit_failures, failures, gate, instance_mismatch, k_of, lookup};
use crate::catalogue::lane_of;
use crate::catalogue::risk_book::{BOOK, snapshot};
use crate::halo2::assignment::BatchAssignment;
use crate::halo2::circuit::Halo2BatchCircuit;
use crate::native::commit::BatchSize;
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ff::Field;
use pasta_curves::pallas::Base as Fp;
use std::collections::BTreeSet;

/// The book in batches of 8 (two batches, the second with padding).
fn epoch(book: &[(i128, [i128; 2], [i128; 2])]) -> (CircuitShape, EpochWitness<H>) {
    let s = snapshot(book);
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    (shape, w)
}

fn honest(w: &EpochWitness<H>, b: usize) -> BatchAssignment {
    BatchAssignment::from(&w.batches[b])
}

/// The failures, checked to be exactly `own` plus, if `changes_statement`, the
/// instance mismatch of a batch whose commitments or outputs moved.
#[track_caller]
fn assert_fails_at(got: BTreeSet<Failure>, own: &[Failure], changes_statement: bool) {
    let mut expected: BTreeSet<Failure> = own.iter().cloned().collect();
    if changes_statement {
        expected.extend(instance_mismatch());
    }
    assert_eq!(got, expected, "\nexpected {expected:#?}\ngot {got:#?}");
}

#[test]
fn honest_batches_satisfy_with_the_verifiers_input() {
    let (shape, w) = epoch(BOOK);
    assert_eq!(shape.id(), "backstop.v2.B8.M2.T3.A2");
    assert_eq!(w.batches.len(), 2);
    for b in &w.batches {
        // The instance is the native x_b (params hash with the risk values, O with
        // the asset flags, state commitments with the held totals), which the
        // verifier recomputes from the statement.
        let circuit = Halo2BatchCircuit::new(shape, b).unwrap();
        assert_eq!(circuit.public_inputs(), vec![vec![b.public_input()]]);
        circuit
            .mock_prover(k_of(shape), circuit.public_inputs())
            .unwrap()
            .assert_satisfied();
    }
}

#[test]
fn asset_insolvency_is_proven_and_cannot_be_denied() {
    // Two more WBTC held than the venue's 3 in reserve.
    let mut book = BOOK.to_vec();
    book[9].2[0] = 2;
    let (shape, w) = epoch(&book);
    assert_eq!(w.evaluation.asset_solvency, [false, true]);
    assert!(w.evaluation.solvent, "solvent in total value");
    let last = honest(&w, 1);
    assert!(failures(shape, last.clone()).is_empty());
    // Publishing WBTC as solvent: the last batch opens its own verdict, and O moves.
    let mut lie = last;
    lie.asset_solvency |= 1;
    assert_fails_at(
        failures(shape, lie),
        &[gate("asset solvency", "asset solvent")],
        true,
    );
    // In batch 0 (not the last) the flag is not opened: only O moves.
    let mut lie = honest(&w, 0);
    lie.asset_solvency |= 1;
    assert_fails_at(failures(shape, lie), &[], true);
}

#[test]
fn a_disclosed_asset_total_is_the_proven_one() {
    // WBTC's total (3) disclosed, USDT's (5,100) kept hidden.
    let s = snapshot(BOOK)
        .with_asset_totals_disclosed(&["WBTC"])
        .unwrap();
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    for b in &w.batches {
        // O absorbs ℓ_0 = 4 and ℓ_1 = 0 after the flags; the instance is the
        // verifier's x_b.
        let circuit = Halo2BatchCircuit::new(shape, b).unwrap();
        assert_eq!(circuit.public_inputs(), vec![vec![b.public_input()]]);
        assert!(failures(shape, honest(&w, b.batch() as usize)).is_empty());
    }
    let own = gate("asset disclosure", "disclosed asset total");
    // A total one more or one less than the accounts', or a hidden total disclosed
    // falsely: the last batch's opening fails, and O moves.
    for (c, l) in [(0, 5u64), (0, 3), (1, 5_102)] {
        let mut lie = honest(&w, 1);
        lie.asset_disclosure[c] = Fp::from(l);
        assert_fails_at(failures(shape, lie), std::slice::from_ref(&own), true);
    }
    // ℓ_c at or beyond 2^96 fails its range check.
    let mut wide = honest(&w, 1);
    wide.asset_disclosure[0] = Fp::from(2).pow([96]) + Fp::from(4);
    assert_fails_at(
        failures(shape, wide),
        &[
            lookup("range check: asset 0 disclosure (96 bits)"),
            own.clone(),
        ],
        true,
    );
    // In batch 0 (not the last) ℓ is not opened: only O moves.
    let mut lie = honest(&w, 0);
    lie.asset_disclosure[0] = Fp::from(5);
    assert_fails_at(failures(shape, lie), &[], true);
}

/// Sets slot `j`'s selected bracket in market `m`.
fn select(a: &BatchAssignment, j: usize, m: usize, t: usize) -> BatchAssignment {
    let mut a = a.clone();
    a.slots[j].brackets[m] = t;
    a
}

#[test]
fn a_wrong_bracket_fails_at_its_window() {
    let (shape, w) = epoch(BOOK);
    let a = honest(&w, 0);
    // Slots 0..4 hold sizes 49, 50, −51, 250, −251 in TIER: brackets 0, 1, 1, 2, 2.
    assert_eq!(
        (0..5).map(|j| a.slots[j].brackets[0]).collect::<Vec<_>>(),
        [0, 1, 1, 2, 2]
    );
    let window = |j: usize, m: usize, t: usize| {
        lookup(&format!("range check: slot {j} bracket {m}.{t} (64 bits)"))
    };
    let cases = [
        // One unit below the floor, in the bracket above: b_1 = 1 with |size| < s_1.
        (0, 1, vec![window(0, 0, 1)]),
        // Exactly at a floor, in the bracket below: b_t = 0 with |size| ≥ s_t.
        (1, 0, vec![window(1, 0, 1)]),
        (3, 1, vec![window(3, 0, 2)]),
        // Above a floor, in the bracket below, and in a bracket above.
        (2, 0, vec![window(2, 0, 1)]),
        (2, 2, vec![window(2, 0, 2)]),
        (4, 1, vec![window(4, 0, 2)]),
    ];
    for (j, t, own) in cases {
        let got = failures(shape, select(&a, j, 0, t));
        // A lower bracket may also make a liquidatable account healthy, which moves
        // the liquidation product and so the statement; the window fails either way.
        let moved = got.contains(&instance_mismatch().into_iter().next().unwrap());
        assert_fails_at(got, &own, moved);
    }
    // FLAT has padding brackets (threshold 2^63): no size reaches them.
    assert_fails_at(
        failures(shape, select(&a, 2, 1, 1)),
        &[window(2, 1, 1)],
        false,
    );
}

#[test]
fn a_haircut_on_a_debt_or_none_on_a_holding_fails_at_the_asset_lane() {
    let (shape, w) = epoch(BOOK);
    let a = honest(&w, 0);
    let haircut = gate("asset lane", "haircut accumulates");
    // Slot 6 owes 60,000 USDT: the haircut on the debt lifts its margin value above
    // its requirement (healthy), which moves the published set too.
    let on_debt =
        Halo2BatchCircuit::with_haircuts(shape, a.clone(), |j, c, sign| sign || (j, c) == (6, 1))
            .unwrap();
    assert_fails_at(
        circuit_failures(&on_debt),
        std::slice::from_ref(&haircut),
        true,
    );
    // Slot 4 holds one WBTC and stays liquidatable without its haircut.
    let skipped =
        Halo2BatchCircuit::with_haircuts(shape, a, |j, c, sign| sign && (j, c) != (4, 0)).unwrap();
    assert_fails_at(circuit_failures(&skipped), &[haircut], false);
}

#[test]
fn out_of_range_amounts_and_padding_holdings_are_refused() {
    let (shape, w) = epoch(BOOK);
    // −2^63: lane 0, whose magnitude part wraps below 0.
    let mut a = honest(&w, 0);
    a.slots[4].amount_lanes[0] = lane_of(-(1i128 << 63));
    assert_fails_at(
        failures(shape, a),
        &[lookup("range check: slot 4 amount lane 0 (63 bits)")],
        true,
    );
    // 2^64: above every lane.
    let mut a = honest(&w, 0);
    a.slots[4].amount_lanes[0] = ethnum::U256::ONE << 64;
    assert_fails_at(
        failures(shape, a),
        &[lookup("range check: slot 4 amount lane 0 (63 bits)")],
        true,
    );
    // A padding slot (batch 1, slot 2) holding an asset.
    let mut a = honest(&w, 1);
    assert!(a.slots[2].pad);
    a.slots[2].amount_lanes[1] = lane_of(5);
    // (The leaf moves too, so the last batch's a_K no longer opens the published
    // accounts commitment.)
    assert_fails_at(
        failures(shape, a),
        &[
            gate("asset lane", "padding lane holds 2^63"),
            gate("batch outputs", "accounts commitment"),
        ],
        true,
    );
}

#[test]
fn an_understated_asset_total_is_refused() {
    let (shape, w) = epoch(BOOK);
    // Carried in: C_{b−1} no longer opens.
    let mut a = honest(&w, 1);
    a.state_in.asset_held[1] -= Fp::ONE;
    assert_fails_at(failures(shape, a), &[], true);
    // Batch 0 starts every total at 0 (C_init).
    let mut a = honest(&w, 0);
    a.state_in.asset_held[0] = Fp::from(7);
    assert_fails_at(failures(shape, a), &[], true);
    // Counted low within the batch: the last slot's total, one below.
    let mut circuit = Halo2BatchCircuit::new(shape, &w.batches[0]).unwrap();
    let trace = circuit.trace_mut().unwrap();
    let last = trace.accounts.len() - 1;
    trace.accounts[last].held[1] -= Fp::ONE;
    // The attacker keeps the asset's sign window consistent with the lower total.
    trace.asset_windows[1] += Fp::ONE;
    assert_fails_at(
        circuit_failures(&circuit),
        &[gate("asset held", "held total")],
        true,
    );
}

mod random_books {
    use super::*;
    use crate::catalogue::risk_book::random_book;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        /// Native = halo2 circuit on random risk model v2 books: every batch
        /// satisfies MockProver with the native witness and the native `x_b` (the
        /// verifier's), which opens the native outputs.
        #[test]
        fn the_circuit_agrees_with_the_native_engine(s in random_book()) {
            let shape = CircuitShape::for_params(8, s.params()).unwrap();
            let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
            for b in &w.batches {
                let circuit = Halo2BatchCircuit::new(shape, b).unwrap();
                let prover =
                    circuit.mock_prover(k_of(shape), circuit.public_inputs()).unwrap();
                prop_assert_eq!(prover.verify(), Ok(()));
            }
        }
    }
}
