//! The batch circuit on risk model v2 (`docs/SPEC.md` §2.2, §2.3, §6.4): maintenance
//! brackets and collateral assets against the native engine, the open layout's
//! extra words against the verifier's, and each new relation failing at its own
//! name when an attacker who writes the witness vector breaks it.

use super::assignment::BatchAssignment;
use super::batch::BatchCircuit;
use super::names::testing::{Probe, first_unsatisfied};
use crate::assignment::field_from_i256;
use crate::catalogue::lane_of;
use crate::hash::Bn254Poseidon;
use crate::model::{
    Account, AccountId, Amount, Asset, Balance, EpochParams, MarginBps, Market, Price, RatioBps,
    Size, Snapshot, Tier,
};
use crate::native::commit::BatchSize;
use crate::native::{Scales, account_risk};
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ark_bn254::Fr;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ethnum::I256;

type H = Bn254Poseidon;

/// Market `TIER` (E = 0, one size unit worth 1,000 quote): 5% from 0, 10% from
/// 50,000 and 25% from 250,000 quote, so size thresholds 0, 50 and 250; market
/// `FLAT` at a flat 10% (padded to three brackets); assets `WBTC` (65,000 quote,
/// counted at 90%, reserves 3) and `USDT` (1 quote, 95%, reserves 10^6).
pub(crate) fn params() -> EpochParams {
    let bps = |v: i128| MarginBps::new(v).unwrap();
    let tiered = Market::new("TIER", Price::new(1_000).unwrap(), 0, 0, bps(500))
        .unwrap()
        .with_tiers(vec![
            Tier::new(50_000, bps(1_000)).unwrap(),
            Tier::new(250_000, bps(2_500)).unwrap(),
        ])
        .unwrap();
    let flat = Market::new("FLAT", Price::new(3_000).unwrap(), 0, 0, bps(1_000)).unwrap();
    let ratio = |v: i128| RatioBps::new(v).unwrap();
    let assets = vec![
        Asset::new("WBTC", Price::new(65_000).unwrap(), 0, 0, ratio(9_000), 3).unwrap(),
        Asset::new(
            "USDT",
            Price::new(1).unwrap(),
            0,
            0,
            ratio(9_500),
            1_000_000,
        )
        .unwrap(),
    ];
    EpochParams::new(9, 0, 10_000_000, 1_000, vec![tiered, flat])
        .unwrap()
        .with_assets(assets)
        .unwrap()
}

/// `(balance, [TIER, FLAT], [WBTC, USDT])` per account, ids 1, 2, ….
pub(crate) const BOOK: &[(i128, [i128; 2], [i128; 2])] = &[
    (10_000, [49, 0], [0, 0]),     // below the first floor
    (10_000, [50, 0], [0, 0]),     // exactly at 50,000: the second bracket
    (10_000, [-51, 2], [0, 100]),  // above it, short
    (60_000, [250, 0], [0, 0]),    // exactly at 250,000: the third bracket
    (70_000, [-251, -1], [1, 0]),  // above it, with one WBTC held
    (-60_000, [1, 0], [1, 0]),     // liquidated through the haircut alone
    (1_000, [0, 0], [1, -60_000]), // a debt counts in full
    (-90_000, [10, 0], [0, 0]),    // bad debt
    (0, [0, 0], [0, 5_000]),
    (500, [1, 1], [0, 0]),
];

pub(crate) fn snapshot(book: &[(i128, [i128; 2], [i128; 2])]) -> Snapshot {
    let accounts = book
        .iter()
        .enumerate()
        .map(|(i, (balance, sizes, amounts))| {
            Account::new(
                AccountId::new(i as u64 + 1),
                Balance::new(*balance).unwrap(),
                sizes.iter().map(|s| Size::new(*s).unwrap()).collect(),
            )
            .with_amounts(amounts.iter().map(|a| Amount::new(*a).unwrap()).collect())
        })
        .collect();
    Snapshot::new(params(), accounts).unwrap()
}

/// The book in batches of 8 (two batches, the second with padding).
fn epoch() -> (CircuitShape, Snapshot, EpochWitness<H>) {
    let s = snapshot(BOOK);
    let shape = CircuitShape::for_params(8, s.params()).unwrap();
    let w = build_epoch::<H>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    (shape, s, w)
}

fn circuit(shape: CircuitShape, a: BatchAssignment) -> BatchCircuit {
    BatchCircuit::from_assignment(shape, a).unwrap()
}

/// The instance a circuit assigns itself (without the leading one).
fn instance(shape: CircuitShape, a: BatchAssignment) -> Vec<Fr> {
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
    assert_eq!(v2, 197_364, "M = 8, T = 4, A = 4: under 4,000 per account");
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
    // halo2 does not prove risk model v2 yet, and says so.
    let (shape, s, _) = epoch();
    let pasta = build_epoch::<crate::hash::PastaPoseidon>(
        &s,
        &VenueSecret::demo(),
        BatchSize::new(8).unwrap(),
    );
    assert!(matches!(
        crate::halo2::Halo2BatchCircuit::new(shape, &pasta.batches[0]),
        Err(crate::shape::CircuitError::Unsupported { .. })
    ));
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
    use proptest::prelude::*;

    /// A market: price, decimals, first rate, and tiers as (floor step, rate step).
    type MarketSpec = (u64, u32, u32, u16, Vec<(u64, u16)>);
    /// An asset: price, decimals, ratio, reserves.
    type AssetSpec = (u64, u32, u32, u16, u64);

    fn market(i: usize, (price, pd, sd, first, steps): &MarketSpec) -> Market {
        let mut tiers = Vec::new();
        let (mut floor, mut rate) = (0u128, *first);
        for (df, dr) in steps {
            floor += u128::from(*df) + 1;
            rate = (rate + dr).min(10_000);
            tiers.push(Tier::new(floor, MarginBps::new(rate.into()).unwrap()).unwrap());
        }
        Market::new(
            &format!("M{i}"),
            Price::new((*price).into()).unwrap(),
            *pd,
            *sd,
            MarginBps::new((*first).into()).unwrap(),
        )
        .unwrap()
        .with_tiers(tiers)
        .unwrap()
    }

    fn asset(i: usize, (price, pd, ad, ratio, reserves): &AssetSpec) -> Asset {
        Asset::new(
            &format!("A{i}"),
            Price::new((*price).into()).unwrap(),
            *pd,
            *ad,
            RatioBps::new((*ratio).into()).unwrap(),
            (*reserves).into(),
        )
        .unwrap()
    }

    fn market_spec() -> impl Strategy<Value = MarketSpec> {
        (
            0u64..5_000,
            0u32..4,
            0u32..4,
            0u16..2_000,
            prop::collection::vec((0u64..200_000, 0u16..3_000), 0..4),
        )
    }

    fn asset_spec() -> impl Strategy<Value = AssetSpec> {
        (
            0u64..100_000,
            0u32..4,
            0u32..6,
            0u16..=10_000,
            0u64..2_000_000,
        )
    }

    /// Accounts: balance, sizes, amounts (magnitudes small enough that positions
    /// cross the random floors).
    fn accounts_spec(
        markets: usize,
        assets: usize,
    ) -> impl Strategy<Value = Vec<(i64, Vec<i64>, Vec<i64>)>> {
        prop::collection::vec(
            (
                -200_000i64..200_000,
                prop::collection::vec(-3_000i64..3_000, markets),
                prop::collection::vec(-1_000_000i64..1_000_000, assets),
            ),
            1..14,
        )
    }

    fn book() -> impl Strategy<Value = Snapshot> {
        (
            prop::collection::vec(market_spec(), 1..3),
            prop::collection::vec(asset_spec(), 0..3),
        )
            .prop_filter("risk model v2", |(ms, assets)| {
                !assets.is_empty() || ms.iter().any(|m| !m.4.is_empty())
            })
            .prop_flat_map(|(ms, assets)| {
                let (m, a) = (ms.len(), assets.len());
                (Just(ms), Just(assets), accounts_spec(m, a))
            })
            .prop_map(|(ms, assets, accounts)| {
                let markets = ms.iter().enumerate().map(|(i, m)| market(i, m)).collect();
                let assets = assets
                    .iter()
                    .enumerate()
                    .map(|(i, a)| asset(i, a))
                    .collect();
                let params = EpochParams::new(3, 2, 50_000_000, 1_000_000, markets)
                    .unwrap()
                    .with_assets(assets)
                    .unwrap();
                let accounts = accounts
                    .iter()
                    .enumerate()
                    .map(|(i, (b, sizes, amounts))| {
                        Account::new(
                            AccountId::new(3 * i as u64 + 1),
                            Balance::new((*b).into()).unwrap(),
                            sizes
                                .iter()
                                .map(|s| Size::new((*s).into()).unwrap())
                                .collect(),
                        )
                        .with_amounts(
                            amounts
                                .iter()
                                .map(|x| Amount::new((*x).into()).unwrap())
                                .collect(),
                        )
                    })
                    .collect();
                Snapshot::new(params, accounts).unwrap()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Native = Groth16 circuit on random risk model v2 books: every batch is
        /// satisfied with the native witness, and its instance is the verifier's
        /// open inputs of the native outputs (liquidation set, bad debt, solvency
        /// and per-asset solvency, all opened by the last batch).
        #[test]
        fn the_circuit_agrees_with_the_native_engine(s in book()) {
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
