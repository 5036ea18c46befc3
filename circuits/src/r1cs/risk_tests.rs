//! The batch circuit on risk model v2 (`docs/SPEC.md` §2.2, §2.3, §6.4): maintenance
//! brackets and collateral assets against the native engine, the open layout's
//! extra words against the verifier's, and each new relation failing at its own
//! name when an attacker who writes the witness vector breaks it.

use super::assignment::BatchAssignment;
use super::batch::BatchCircuit;
use super::names::testing::{Probe, first_unsatisfied};
use crate::assignment::field_from_i256;
use crate::catalogue::lane_of;
use crate::catalogue::risk_book::{BOOK, snapshot};
use crate::hash::Bn254Poseidon;
use crate::model::{AccountId, Snapshot};
use crate::native::commit::BatchSize;
use crate::native::{Scales, account_risk};
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ark_bn254::Fr;
use ark_ff::Field;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ethnum::I256;

type H = Bn254Poseidon;

/// The book in batches of 8 (two batches, the second with padding).
fn epoch() -> (CircuitShape, Snapshot, EpochWitness<H>) {
    let s = snapshot(BOOK);
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    (shape, s, w)
}

pub(super) fn circuit(shape: CircuitShape, a: BatchAssignment) -> BatchCircuit {
    BatchCircuit::from_assignment(shape, a).unwrap()
}

/// The instance a circuit assigns itself (without the leading one).
pub(super) fn instance(shape: CircuitShape, a: BatchAssignment) -> Vec<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit(shape, a).generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    let mut v = cs.instance_assignment().unwrap().to_vec();
    v.remove(0);
    v
}

/// Batch `b`'s honest assignment.
fn honest(w: &EpochWitness<H>, b: usize) -> BatchAssignment {
    BatchAssignment::from(&w.batches[b])
}

#[test]
fn the_book_exercises_every_rule() {
    let (shape, s, w) = epoch();
    assert_eq!(shape.id(), "backstop.v2.B8.M2.T3.A2");
    let e = &w.evaluation;
    let scales = Scales::new(s.params());
    let risk = |i: usize| account_risk(&scales, &s.accounts()[i]);
    // Account 6: one WBTC at 90% against −60,000 quote and one TIER unit (MR' =
    // 1,000·500): at full value it is healthy, through the haircut it is not.
    let r = risk(5);
    assert_eq!(r.total_value, I256::from(-60_000 + 1_000 + 65_000));
    assert_eq!(
        r.margin_value_bps,
        I256::from(-590_000_000i64 + 585_000_000)
    );
    assert!(r.total_value * 10_000 >= r.requirement_bps && r.liquidatable);
    // Account 7's USDT debt counts at 10000, not at 9500: liquidatable.
    let r = risk(6);
    assert_eq!(
        r.margin_value_bps,
        I256::from(10_000_000i64 + 585_000_000 - 600_000_000)
    );
    assert!(r.liquidatable);
    // Account 4 at exactly 250,000: MR = 250,000 · 25% − 40,000 = 22,500.
    assert_eq!(risk(3).requirement_bps, I256::from(22_500i64 * 10_000));
    assert_eq!(
        e.liquidations,
        (1..=10u64)
            .filter(|i| risk(*i as usize - 1).liquidatable)
            .map(AccountId::new)
            .collect::<Vec<_>>()
    );
    assert!(e.liquidations.contains(&AccountId::new(8)) && e.bad_debt > 0);
    // 3 WBTC in reserve, 3 held; USDT held 5,100 ≤ 10^6.
    assert_eq!(e.asset_solvency, [true, true]);
}

#[test]
fn honest_batches_satisfy_and_open_the_verifiers_inputs() {
    let (shape, _, w) = epoch();
    assert_eq!(w.batches.len(), 2);
    for b in &w.batches {
        let a = BatchAssignment::from(b);
        assert_eq!(
            first_unsatisfied(circuit(shape, a.clone())),
            None,
            "batch {}",
            b.batch()
        );
        // The circuit's instance is the one the verifier forms from the published
        // values (SPEC §6.4), extra words included.
        let expected = b.open_inputs::<H>();
        assert_eq!(expected.len(), crate::inputs::shape_input_count(&shape));
        assert_eq!(instance(shape, a), expected, "batch {}", b.batch());
    }
}

#[test]
fn asset_insolvency_is_proven_and_cannot_be_denied() {
    // Two more WBTC held than the venue's 3 in reserve.
    let mut book = BOOK.to_vec();
    book[9].2[0] = 2;
    let s = snapshot(&book);
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    assert_eq!(w.evaluation.asset_solvency, [false, true]);
    assert!(w.evaluation.solvent, "solvent in total value");
    let last = honest(&w, 1);
    assert_eq!(first_unsatisfied(circuit(shape, last.clone())), None);
    // Publishing WBTC as solvent: the last batch opens its own verdict.
    let mut lie = last;
    lie.asset_solvency |= 1;
    assert_eq!(
        first_unsatisfied(circuit(shape, lie)).as_deref(),
        Some("outputs.open")
    );
}

/// The book with the totals of `symbols` disclosed (SPEC §2.3, §6.4).
fn disclosed(symbols: &[&str]) -> (CircuitShape, EpochWitness<H>) {
    let s = snapshot(BOOK).with_asset_totals_disclosed(symbols).unwrap();
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    (shape, w)
}

#[test]
fn a_disclosed_asset_total_is_the_proven_one() {
    // WBTC's total (3) disclosed, USDT's (5,100) kept hidden.
    let (shape, w) = disclosed(&["WBTC"]);
    assert_eq!(w.outputs.asset_totals[..2], [Some(3), None]);
    assert_eq!(w.outputs.asset_disclosures(), [4, 0]);
    for b in &w.batches {
        let a = honest(&w, b.batch() as usize);
        assert_eq!(a.asset_disclosure, [Fr::from(4u64), Fr::from(0u64)]);
        assert_eq!(first_unsatisfied(circuit(shape, a.clone())), None);
        // The two ℓ's are packed in one more word than with nothing disclosed; the
        // instance is still the verifier's.
        assert_eq!(instance(shape, a), b.open_inputs::<H>());
    }
    let fr = Fr::from;
    let last = honest(&w, 1);
    // A total one more or one less than the accounts', or one disclosed where the
    // statement keeps it hidden (5,100 + 2): refused by the last batch's opening.
    for (c, l) in [(0, 5u64), (0, 3), (1, 5_102), (0, 1)] {
        let mut lie = last.clone();
        lie.asset_disclosure[c] = fr(l);
        assert_eq!(
            first_unsatisfied(circuit(shape, lie)).as_deref(),
            Some(format!("outputs.asset_total[{c}]").as_str()),
            "asset {c}, ℓ = {l}"
        );
    }
    // Disclosing the true USDT total too is a statement the venue could make: it
    // satisfies the circuit, but it is another instance than the published one.
    let mut more = last.clone();
    more.asset_disclosure[1] = fr(5_101);
    assert_eq!(first_unsatisfied(circuit(shape, more.clone())), None);
    assert_ne!(instance(shape, more), w.batches[1].open_inputs::<H>());
    // ℓ_c is read in 96 bits: a disclosure word (ℓ_0 ‖ ℓ_1, the last packed word)
    // holding more than its two 96-bit parts can express does not unpack.
    let probe = Probe::new(circuit(shape, last));
    let word = crate::inputs::shape_word_count(&shape) - 1;
    let honest_inputs = w.batches[1].open_inputs::<H>();
    assert_eq!(
        honest_inputs[word],
        Fr::from(4u64),
        "ℓ_0 = 4 in the low bits, ℓ_1 = 0 above"
    );
    for extra in [192u64, 200, 248] {
        assert_eq!(
            probe
                .with_input(word, honest_inputs[word] + Fr::from(2u64).pow([extra]))
                .as_deref(),
            Some("params.unpack"),
            "2^{extra}"
        );
    }
    // Batch 0 opens nothing: a false ℓ there only moves its instance away from the
    // verifier's, which packs the published ℓ into every batch.
    let mut lie = honest(&w, 0);
    lie.asset_disclosure[0] = fr(5);
    assert_eq!(first_unsatisfied(circuit(shape, lie.clone())), None);
    assert_ne!(instance(shape, lie), w.batches[0].open_inputs::<H>());
}

#[test]
fn disclosing_totals_adds_one_word_per_two_assets() {
    use crate::inputs::shape_input_count;
    let (shape, hidden) = epoch_witness();
    let (_, shown) = disclosed(&["WBTC", "USDT"]);
    // A = 2: both ℓ's share one word, whether disclosed or not.
    assert_eq!(
        shape_input_count(&shape),
        hidden.batches[0].open_inputs::<H>().len()
    );
    assert_eq!(
        shape_input_count(&shape),
        shown.batches[0].open_inputs::<H>().len()
    );
    let four = CircuitShape::with_risk(8, 8, 4, 4).unwrap();
    let three = CircuitShape::with_risk(8, 8, 4, 3).unwrap();
    assert_eq!(shape_input_count(&four), 9 + 3 + 8 + 8 + 4 + 2);
    assert_eq!(shape_input_count(&three), 9 + 3 + 8 + 8 + 3 + 2);
}

/// `statement.json` publishes a disclosed total as `asset_totals`, and the verifier
/// derives every batch's inputs from it: the published statement gives the
/// circuit's instance, and adding, removing, changing or relabelling a total gives
/// other inputs (or is refused when read).
#[test]
fn a_published_statement_binds_its_asset_totals() {
    use crate::statement::{AssetTotals, Backend, EpochStatement, PublicOutputs, publish};
    let s = snapshot(BOOK)
        .with_asset_totals_disclosed(&["WBTC"])
        .unwrap();
    let (shape, w) = disclosed(&["WBTC"]);
    let outputs = PublicOutputs::from_evaluation(s.params(), &w.evaluation);
    let file = publish(
        Backend::Groth16Bn254,
        shape,
        "00".repeat(32),
        s.params(),
        &outputs,
        &w.commitment,
    );
    let json = serde_json::to_value(&file).unwrap();
    assert_eq!(json["asset_totals"], serde_json::json!({"WBTC": "3"}));
    let statement = EpochStatement::from_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(statement.outputs(), outputs);
    assert_eq!(statement.asset_totals(), [Some(3), None]);
    let inputs = statement.public_inputs::<H>().unwrap();
    for (b, x) in inputs.iter().enumerate() {
        assert_eq!(&instance(shape, honest(&w, b)), x, "batch {b}");
    }
    let with = |totals: &[(&str, &str)]| {
        let mut other = file.clone();
        other.asset_totals = AssetTotals(
            totals
                .iter()
                .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
                .collect(),
        );
        EpochStatement::new(other).and_then(|s| s.public_inputs::<H>())
    };
    for (what, totals) in [
        ("changed", vec![("WBTC", "4")]),
        ("removed", vec![]),
        (
            "added, with the true total",
            vec![("WBTC", "3"), ("USDT", "5100")],
        ),
        ("relabelled", vec![("USDT", "3")]),
    ] {
        let other = with(&totals).unwrap();
        assert!(
            other.iter().zip(&inputs).all(|(a, b)| a != b),
            "{what}: every batch's inputs move"
        );
    }
    // Refused when read: an undeclared asset, a second spelling, 2^95 units.
    for totals in [
        vec![("DOGE", "3")],
        vec![("WBTC", "3.0")],
        vec![("WBTC", "39614081257132168796771975168")],
    ] {
        assert!(with(&totals).is_err(), "{totals:?}");
    }
    // A repeated key is refused, not read with one of its values.
    let repeated = json.to_string().replace(
        r#""asset_totals":{"WBTC":"3"}"#,
        r#""asset_totals":{"WBTC":"3","WBTC":"4"}"#,
    );
    assert_ne!(repeated, json.to_string());
    assert!(EpochStatement::from_json(repeated.as_bytes()).is_err());
    // Without the option nothing is published.
    let (_, hidden) = epoch_witness();
    let plain = PublicOutputs::from_evaluation(snapshot(BOOK).params(), &hidden.evaluation);
    assert!(plain.asset_totals.is_empty());
    assert!(
        serde_json::to_value(&plain)
            .unwrap()
            .get("asset_totals")
            .is_none()
    );
}

fn epoch_witness() -> (CircuitShape, EpochWitness<H>) {
    let (shape, _, w) = epoch();
    (shape, w)
}

/// Sets slot `j`'s selected bracket in market 0 (`TIER`).
fn select(a: &BatchAssignment, j: usize, t: usize) -> BatchAssignment {
    let mut a = a.clone();
    a.slots[j].brackets[0] = t;
    a
}

#[test]
fn a_wrong_bracket_fails_at_its_bounds() {
    let (shape, _, w) = epoch();
    let a = honest(&w, 0);
    // Slots 0..4 hold sizes 49, 50, −51, 250, −251 in TIER: brackets 0, 1, 1, 2, 2.
    assert_eq!(
        (0..5).map(|j| a.slots[j].brackets[0]).collect::<Vec<_>>(),
        [0, 1, 1, 2, 2]
    );
    let name = |j: usize, part: &str| format!("account[{j}].market[0].bracket.{part}");
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
    for (j, t, part) in cases {
        assert_eq!(
            first_unsatisfied(circuit(shape, select(&a, j, t))),
            Some(name(j, part)),
            "slot {j} in bracket {t}"
        );
    }
    // FLAT has padding brackets (threshold 2^63): no size is in them.
    let mut padded = a.clone();
    padded.slots[2].brackets[1] = 1;
    assert_eq!(
        first_unsatisfied(circuit(shape, padded)).as_deref(),
        Some("account[2].market[1].bracket.lo")
    );
}

#[test]
fn each_new_block_fails_at_its_own_name() {
    let (shape, _, w) = epoch();
    let probe = Probe::new(circuit(shape, honest(&w, 0)));
    let names = probe.names();
    for name in [
        "params.risk",
        "account[4].holding[0].asset.lane.range",
        "account[4].holding[0].asset.lane.nonzero",
        "account[4].holding[0].asset.value",
        "account[4].holding[0].asset.margin",
        "account[4].holding[0].asset.held",
        "account[4].market[0].bracket.select",
        "account[4].market[0].bracket.pick.t[1]",
        "account[4].market[0].bracket.lo",
        "account[4].market[0].bracket.hi",
        "account[4].market[0].bracket.mr",
        "solvency.asset[0]",
        "solvency.asset[1]",
        "outputs.asset_total[0]",
        "outputs.asset_total[1]",
    ] {
        assert!(names.contains(&name), "{name} is a block");
        assert_eq!(probe.tamper(name).as_deref(), Some(name));
    }
}

#[test]
fn a_haircut_on_a_debt_or_none_on_a_holding_fails_at_asset_margin() {
    let (shape, _, w) = epoch();
    let a = honest(&w, 0);
    let probe = Probe::new(circuit(shape, a));
    // The margin block's witnesses: w = amount·hv, then s·(w − 10000·v).
    let margin = |j: usize, c: usize| {
        let v = probe.witnesses_under(&format!("account[{j}].holding[{c}].asset.margin"));
        assert_eq!(v.len(), 2);
        v[1]
    };
    let fr = |v: i128| field_from_i256::<H>(I256::from(v));
    // Account 7 (slot 6) owes 60,000 USDT: with the haircut its term would be
    // −60,000·9,500, i.e. the product s·(w − 10000·v) = −60,000·(9,500 − 10,000).
    let on_debt = probe.with_witnesses(&[(margin(6, 1), fr(-60_000 * (9_500 - 10_000)))]);
    assert_eq!(
        on_debt.as_deref(),
        Some("account[6].holding[1].asset.margin")
    );
    // Account 5 (slot 4) holds one WBTC: without the haircut the product is 0.
    let skipped = probe.with_witnesses(&[(margin(4, 0), Fr::from(0u64))]);
    assert_eq!(
        skipped.as_deref(),
        Some("account[4].holding[0].asset.margin")
    );
}

#[test]
fn out_of_range_amounts_and_padding_holdings_are_refused() {
    let (shape, _, w) = epoch();
    // −2^63: lane 0.
    let mut a = honest(&w, 0);
    a.slots[4].amount_lanes[0] = lane_of(-(1i128 << 63));
    assert_eq!(
        first_unsatisfied(circuit(shape, a)).as_deref(),
        Some("account[4].holding[0].asset.lane.nonzero")
    );
    // A padding slot (batch 1, slot 2) holding an asset.
    let mut a = honest(&w, 1);
    assert!(a.slots[2].pad);
    a.slots[2].amount_lanes[1] = lane_of(5);
    assert_eq!(
        first_unsatisfied(circuit(shape, a)).as_deref(),
        Some("account[2].padding.empty")
    );
}

#[test]
fn an_understated_asset_total_does_not_open_the_chain() {
    let (shape, _, w) = epoch();
    let mut a = honest(&w, 1);
    a.state_in.asset_held[1] -= Fr::from(1u64);
    assert_eq!(
        first_unsatisfied(circuit(shape, a)).as_deref(),
        Some("public_input")
    );
    // Batch 0 starts every total at 0.
    let mut a = honest(&w, 0);
    a.state_in.asset_held[0] = Fr::from(7u64);
    assert_eq!(
        first_unsatisfied(circuit(shape, a)).as_deref(),
        Some("public_input")
    );
}

/// Constraints of a blank circuit.
fn count(shape: CircuitShape) -> usize {
    super::constraint_count(shape).unwrap()
}

#[test]
fn risk_model_v2_shape_is_pinned() {
    // Regenerate after an intended circuit change with:
    //   cargo test -p backstop-circuits --lib r1cs::risk_tests::risk_model_v2_shape_is_pinned -- --nocapture
    let v1 = count(CircuitShape::new(64, 8).unwrap());
    let v2 = count(CircuitShape::with_risk(64, 8, 4, 4).unwrap());
    println!(
        "B=64 M=8: v1 {v1} ({:.1}/account), T=4 A=4 {v2} ({:.1}/account)",
        v1 as f64 / 64.0,
        v2 as f64 / 64.0
    );
    assert_eq!(v1, 96_736, "risk model v1 costs what it did");
    assert_eq!(v2, 197_758, "M = 8, T = 4, A = 4: under 4,000 per account");
}

#[test]
fn a_shape_refuses_parameters_it_does_not_prove() {
    let s = snapshot(BOOK);
    let v1 = CircuitShape::new(8, 2).unwrap();
    assert!(v1.check_params(s.params()).is_err());
    let more = CircuitShape::with_risk(8, 2, 4, 2).unwrap();
    assert!(more.check_params(s.params()).is_err());
    assert!(
        CircuitShape::for_params(8, s.params())
            .unwrap()
            .check_params(s.params())
            .is_ok()
    );
    // A v1 assignment does not fit a v2 shape.
    let w = build_epoch::<H>(
        &crate::catalogue::book(3, 2),
        &VenueSecret::demo(),
        BatchSize::new(8).unwrap(),
    );
    let shape = CircuitShape::with_risk(8, 2, 3, 2).unwrap();
    assert!(BatchCircuit::new(shape, &w.batches[0]).is_err());
}

#[test]
fn the_breakdown_names_the_new_gadgets() {
    //   cargo test -p backstop-circuits --lib r1cs::risk_tests::the_breakdown -- --nocapture
    let d = super::breakdown(CircuitShape::with_risk(64, 8, 4, 4).unwrap()).unwrap();
    for l in d.per_account.iter().chain(&d.per_batch) {
        println!(
            "{:>6.1} × {:>8.1} = {:>9.1}  {}",
            l.count, l.each, l.total, l.part
        );
    }
    println!(
        "per account {:.1} (marginal {:.1}), per batch {:.1}",
        d.per_account_total(),
        d.per_account_marginal,
        d.per_batch_fixed
    );
    let line = |part: &str| {
        d.per_account
            .iter()
            .chain(&d.per_batch)
            .find(|l| l.part.starts_with(part))
            .unwrap_or_else(|| panic!("a line for {part}"))
            .clone()
    };
    // The gadgets' own documented counts: 150 per market at T = 4 (brackets.rs) and
    // 69 per asset (collateral.rs).
    assert_eq!(
        (
            line("maintenance brackets").count,
            line("maintenance brackets").each
        ),
        (8.0, 150.0)
    );
    assert_eq!(
        (
            line("collateral amounts").count,
            line("collateral amounts").each
        ),
        (4.0, 69.0)
    );
    assert_eq!(line("per-asset solvency signs").count, 4.0);
    assert!(d.per_account_total() < 4_000.0);
}

mod random_books {
    use super::*;
    use crate::catalogue::risk_book::random_book;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Native = Groth16 circuit on random risk model v2 books: every batch is
        /// satisfied with the native witness, and its instance is the verifier's
        /// open inputs of the native outputs (liquidation set, bad debt, solvency
        /// and per-asset solvency, all opened by the last batch).
        #[test]
        fn the_circuit_agrees_with_the_native_engine(s in random_book()) {
            let shape = CircuitShape::for_params(8, s.params()).unwrap();
            let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
            for b in &w.batches {
                let a = BatchAssignment::from(b);
                prop_assert_eq!(first_unsatisfied(circuit(shape, a.clone())), None);
                prop_assert_eq!(instance(shape, a), b.open_inputs::<H>());
            }
        }
    }
}
