//! The batch circuit with the default waterfall (`docs/SPEC.md` §2.4, §6.4): the
//! risk model v2 book with liquidation fees, proven against the native engine, the
//! open layout's waterfall words against the verifier's, and each published value
//! of the waterfall failing at its own relation when it is a lie.

use super::assignment::BatchAssignment;
use super::names::testing::first_unsatisfied;
use super::risk_tests::{circuit, instance};
use crate::catalogue::risk_book::{BOOK, params, snapshot, with_fees};
use crate::hash::Bn254Poseidon;
use crate::model::Snapshot;
use crate::native::commit::BatchSize;
use crate::native::waterfall::HAIRCUT_PPB_MAX;
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ark_bn254::Fr;

type H = Bn254Poseidon;

/// The book with fees in batches of `b`: two batches for 8, the second with
/// padding; one for 64.
fn epoch_of(b: u64) -> (CircuitShape, Snapshot, EpochWitness<H>) {
    let book = snapshot(BOOK);
    let s = Snapshot::new(with_fees(&params()), book.accounts().to_vec()).unwrap();
    let shape = CircuitShape::for_params(b, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(b).unwrap());
    (shape, s, w)
}

fn epoch() -> (CircuitShape, Snapshot, EpochWitness<H>) {
    epoch_of(8)
}

#[test]
fn the_waterfall_book_is_socialized_and_its_batches_open_the_verifiers_inputs() {
    let (shape, _, w) = epoch();
    assert_eq!(shape.id(), "backstop.v2.B8.M2.T3.A2.W");
    let wf = &w.evaluation.waterfall;
    assert!(wf.liquidation_fees > ethnum::I256::ZERO, "a fee is charged");
    assert!(wf.deficit > ethnum::I256::ZERO, "the fund runs out");
    assert!(
        wf.haircut_ppb > 0 && wf.haircut_ppb < HAIRCUT_PPB_MAX,
        "h = {}",
        wf.haircut_ppb
    );
    for b in &w.batches {
        let a = BatchAssignment::from(b);
        assert_eq!(
            first_unsatisfied(circuit(shape, a.clone())),
            None,
            "batch {}",
            b.batch()
        );
        let expected = b.open_inputs::<H>();
        assert_eq!(expected.len(), crate::inputs::shape_input_count(&shape));
        assert_eq!(instance(shape, a), expected, "batch {}", b.batch());
    }
}

/// The epoch's one batch (B = 64: first and last, so every account is summed at
/// the published rate in this proof) with its published waterfall `[F', h,
/// shortfall]` changed by `lie`: which relation refuses it. With more batches a
/// lie about `h` that only the last batch tells is refused by the earlier batches'
/// proofs, which are verified against the same published `h`.
fn refused(lie: impl Fn(&mut [Fr; 3])) -> Option<String> {
    let (shape, _, w) = epoch_of(64);
    assert_eq!(w.batches.len(), 1);
    let mut a = BatchAssignment::from(&w.batches[0]);
    let mut published = a.waterfall.unwrap();
    lie(&mut published);
    a.waterfall = Some(published);
    first_unsatisfied(circuit(shape, a))
}

#[test]
fn each_published_waterfall_value_fails_at_its_own_relation() {
    assert_eq!(refused(|_| {}), None, "the honest control");
    let one = Fr::from(1u64);
    // h one too high: the sum at h − 1 (the honest h) covers the deficit.
    assert_eq!(
        refused(|w| w[1] += one).as_deref(),
        Some("waterfall.minimal")
    );
    // h one too low: its haircuts do not cover the deficit.
    assert_eq!(refused(|w| w[1] -= one).as_deref(), Some("waterfall.cover"));
    // A shortfall claimed while h < 10^9 covers.
    assert_eq!(
        refused(|w| w[2] = one).as_deref(),
        Some("waterfall.shortfall")
    );
    // F' one unit off: the last batch's F' is the proven sum.
    assert_eq!(
        refused(|w| w[0] += one).as_deref(),
        Some("outputs.waterfall")
    );
    // h above 10^9 (fits the 30 bits of its word).
    assert_eq!(
        refused(|w| w[1] = Fr::from(u64::from(HAIRCUT_PPB_MAX) + 1)).as_deref(),
        Some("waterfall.rate.range")
    );
}

#[test]
fn a_waterfall_shape_costs_its_gadgets_and_nothing_else_changes() {
    // Regenerate after an intended circuit change with:
    //   cargo test -p backstop-circuits --lib r1cs::waterfall_tests -- --nocapture
    let count = |s: CircuitShape| super::constraint_count(s).unwrap();
    let v1 = CircuitShape::new(64, 8).unwrap();
    let (plain, with) = (count(v1), count(v1.with_waterfall(true)));
    let per_account = (with - plain) as f64 / 64.0;
    println!("B=64 M=8: {plain} without the waterfall, {with} with ({per_account:.1}/account)");
    assert_eq!(
        plain, 96_736,
        "risk model v1 without the waterfall is unchanged"
    );
    assert_eq!(
        with, 124_696,
        "409 per account at M = 8, and the per-batch relations"
    );
}
