//! The halo2 batch circuit with the default waterfall (`docs/SPEC.md` §2.4, §8.4):
//! the risk model v2 book with liquidation fees against the native engine and the
//! verifier's `x_b`, and each published waterfall value, when it is a lie, failing
//! at its own gate or range check (and at the public input, since `O` absorbs it).

use super::{Failure, H, failures, gate, instance_mismatch, lookup};
use crate::catalogue::risk_book::{BOOK, params, snapshot, with_fees};
use crate::halo2::assignment::BatchAssignment;
use crate::halo2::circuit::Halo2BatchCircuit;
use crate::halo2::waterfall::{EPOCH_BITS, RATE_BITS};
use crate::model::Snapshot;
use crate::native::commit::BatchSize;
use crate::native::waterfall::HAIRCUT_PPB_MAX;
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ff::Field;
use pasta_curves::pallas::Base as Fp;
use std::collections::BTreeSet;

/// The book with fees in batches of `b`: two batches for 8, one for 64.
fn epoch_of(b: u64) -> (CircuitShape, EpochWitness<H>) {
    let book = snapshot(BOOK);
    let s = Snapshot::new(with_fees(&params()), book.accounts().to_vec()).unwrap();
    let shape = CircuitShape::for_params(b, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(b).unwrap());
    (shape, w)
}

fn check(name: &str, bits: usize) -> Failure {
    lookup(&format!("range check: {name} ({bits} bits)"))
}

#[test]
fn honest_waterfall_batches_satisfy_with_the_verifiers_input() {
    let (shape, w) = epoch_of(8);
    assert_eq!(shape.id(), "backstop.v2.B8.M2.T3.A2.W");
    assert_eq!(w.batches.len(), 2);
    let wf = &w.evaluation.waterfall;
    assert!(wf.liquidation_fees > ethnum::I256::ZERO, "a fee is charged");
    assert!(
        wf.haircut_ppb > 0 && wf.haircut_ppb < HAIRCUT_PPB_MAX,
        "socialized: h = {}",
        wf.haircut_ppb
    );
    for b in &w.batches {
        // The instance is the native x_b: the parameters hash with uf_m, O with
        // F', h and shortfall, the state commitments with F', S and S_lo.
        let circuit = Halo2BatchCircuit::new(shape, b).unwrap();
        assert_eq!(circuit.public_inputs(), vec![vec![b.public_input()]]);
        circuit
            .mock_prover(super::k_of(shape), circuit.public_inputs())
            .unwrap()
            .assert_satisfied();
    }
}

/// The one batch of `B = 64` (first and last) with its published `[F', h,
/// shortfall]` changed by `lie`, its trace computed at the published `h` as a
/// prover would: the failures MockProver reports.
fn refused(lie: impl Fn(&mut [Fp; 3])) -> BTreeSet<Failure> {
    let (shape, w) = epoch_of(64);
    assert_eq!(w.batches.len(), 1);
    let mut a = BatchAssignment::from(&w.batches[0]);
    let mut published = a.waterfall.unwrap();
    lie(&mut published);
    a.waterfall = Some(published);
    failures(shape, a)
}

/// `own` and the public input: every lie moves `O`, which the verifier forms from
/// the published values.
#[track_caller]
fn assert_refused_at(got: BTreeSet<Failure>, own: &[Failure]) {
    let mut expected: BTreeSet<Failure> = own.iter().cloned().collect();
    expected.extend(instance_mismatch());
    assert_eq!(got, expected, "\nexpected {expected:#?}\ngot {got:#?}");
}

#[test]
fn a_rate_one_too_high_is_not_the_least() {
    let got = refused(|p| p[1] += Fp::ONE);
    assert_refused_at(got, &[check("waterfall minimal", EPOCH_BITS)]);
}

#[test]
fn a_rate_one_too_low_does_not_cover() {
    // h − 1 misses the deficit, so the cover sign says shortfall, which is neither
    // published nor allowed below 10^9.
    let got = refused(|p| p[1] -= Fp::ONE);
    assert_refused_at(
        got,
        &[
            gate("waterfall shortfall rate", "shortfall takes the whole base"),
            gate("waterfall outputs", "published shortfall"),
        ],
    );
}

#[test]
fn published_fees_off_by_one() {
    let got = refused(|p| p[0] += Fp::ONE);
    assert_refused_at(got, &[gate("waterfall outputs", "published fees")]);
}

#[test]
fn a_shortfall_claimed_while_the_rate_covers() {
    let got = refused(|p| p[2] = Fp::ONE);
    assert_refused_at(got, &[gate("waterfall outputs", "published shortfall")]);
}

#[test]
fn a_rate_above_ten_to_the_nine() {
    let got = refused(|p| p[1] = Fp::from(u64::from(HAIRCUT_PPB_MAX) + 1));
    let failures: Vec<_> = got.iter().cloned().collect();
    assert!(
        got.contains(&check("waterfall rate headroom", RATE_BITS)),
        "{failures:#?}"
    );
}
