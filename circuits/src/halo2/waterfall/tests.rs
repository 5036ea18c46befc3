//! The waterfall chip on its own: a small circuit of one rate block, a few
//! accounts and the epoch block, against the native reference
//! ([`crate::native::waterfall`]); each lie asserts the exact gate constraints or
//! range-check lookups MockProver reports.

use super::*;
use crate::halo2::layout::Columns;
use crate::halo2::range::{RangeCheckConfig, words};
use crate::halo2::tests::{Failure, gate, lookup, reduce};
use crate::halo2::trace::lane_shift;
use crate::native::waterfall::{WaterfallInputs, waterfall};
use halo2_proofs::circuit::{SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::plonk::{Circuit, Error as PlonkError};
use std::collections::BTreeSet;

fn i(v: i128) -> I256 {
    I256::from(v)
}

const PPB: i128 = HAIRCUT_PPB_MAX as i128;

/// `uf_m = uv_m·lf_m` of the three test markets: `(2, 500 bps)`, `(3, 250 bps)`,
/// `(1, 1 bp)`; three markets, so the second notional block has a padding half.
fn fee_units() -> Vec<I256> {
    vec![i(1000), i(750), i(1)]
}

/// One account of a case: signed sizes, liability, liquidatable.
type Spec<S> = (S, i128, bool);

/// An epoch of accounts, with the prover's choices.
#[derive(Clone, Debug)]
struct Case {
    sizes: Vec<Vec<i64>>,
    accounts: Vec<AccountValues>,
    /// `[h, h_lo]`.
    rates: [I256; 2],
    /// The rate block's `z`, if not `[h = 0]`.
    zero: Option<bool>,
    epoch: EpochValues,
    /// The published `(F', shortfall)`, if not the epoch's.
    published: Option<(I256, bool)>,
}

impl Case {
    /// The honest case, checked against [`waterfall`].
    fn honest<S: AsRef<[i64]>>(specs: &[Spec<S>], bad_debt: i128, fund: i128) -> Self {
        let mut inputs = WaterfallInputs::default();
        let account = |(sizes, liability, liquidatable): &Spec<S>, h: u32| {
            let abs = (sizes.as_ref().iter())
                .map(|s| I256::from(s.unsigned_abs()))
                .collect();
            AccountValues::honest(abs, fee_units(), i(*liability), *liquidatable, h)
        };
        for spec in specs {
            let a = account(spec, 0);
            inputs.push(a.fee, a.base());
        }
        let w = waterfall(i(bad_debt), i(fund), &inputs);
        let h = I256::from(w.haircut_ppb);
        let accounts: Vec<_> = specs.iter().map(|s| account(s, w.haircut_ppb)).collect();
        let mut case = Self {
            sizes: specs.iter().map(|s| s.0.as_ref().to_vec()).collect(),
            accounts,
            rates: rates(h),
            zero: None,
            published: None,
            epoch: EpochValues::honest(true, i(bad_debt), i(fund), I256::ZERO, [I256::ZERO; 2], h),
        };
        case.restamp();
        case.epoch = EpochValues::honest(
            true,
            i(bad_debt),
            i(fund),
            case.epoch.fees,
            case.epoch.haircuts,
            h,
        );
        // The chip's honest values are the native waterfall's.
        assert_eq!(case.epoch.fees, w.liquidation_fees);
        assert_eq!(case.epoch.deficit, w.deficit);
        assert_eq!(
            case.epoch.bad_debt * i(10_000) - case.epoch.deficit,
            w.insurance_draw
        );
        assert_eq!(case.epoch.cover_sign, !w.shortfall);
        assert_eq!(case.epoch.haircuts[0], inputs.haircuts_at(w.haircut_ppb));
        case
    }

    /// The sums the epoch block reads, from the accounts' (possibly lying)
    /// choices.
    fn restamp(&mut self) {
        self.epoch.fees = self.accounts.iter().map(|a| a.fee).sum();
        self.epoch.haircuts = [0, 1].map(|k| self.accounts.iter().map(|a| a.quotient[k]).sum());
        self.epoch.rate = self.rates[0];
    }

    fn rate(&self) -> I256 {
        self.rates[0]
    }

    fn rate_trace(&self) -> RateTrace {
        let mut t = RateTrace::new(self.rates[0]);
        t.rate_lo = field(self.rates[1]);
        if let Some(z) = self.zero {
            t.zero = z;
            if z {
                t.inverse = Fp::ZERO;
            }
        }
        t
    }

    /// Moves the rate to `h` with honest haircuts at it and the cover sign it
    /// gives, everything else kept.
    fn at_rate(&mut self, h: I256) {
        self.at_rates(rates(h));
    }

    /// [`Case::at_rate`] with any `h_lo`.
    fn at_rates(&mut self, rs: [I256; 2]) {
        self.rates = rs;
        for a in &mut self.accounts {
            a.quotient = a.floors(rs);
        }
        self.restamp();
        self.epoch.cover_sign = native::covers(self.epoch.haircuts[0], self.epoch.deficit);
    }

    fn failures(&self) -> BTreeSet<Failure> {
        let prover = MockProver::run(11, &WaterfallCircuit(self.clone()), vec![]).unwrap();
        match prover.verify() {
            Ok(()) => BTreeSet::new(),
            Err(fs) => fs.iter().map(reduce).collect(),
        }
    }

    #[track_caller]
    fn assert_fails(&self, expected: &[Failure]) {
        let expected: BTreeSet<Failure> = expected.iter().cloned().collect();
        let got = self.failures();
        assert_eq!(got, expected, "\nexpected {expected:#?}\ngot {got:#?}");
    }

    #[track_caller]
    fn assert_satisfied(&self) {
        self.assert_fails(&[]);
    }
}

/// The case's rate block, accounts and epoch block, with every input in one
/// advice column (in the batch circuit they are the margin chip's and the frame's
/// cells).
#[derive(Clone, Debug)]
struct WaterfallCircuit(Case);

impl Circuit<Fp> for WaterfallCircuit {
    type Config = (Column<Advice>, RangeCheckConfig, WaterfallConfig);
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
        let inputs = meta.advice_column();
        meta.enable_equality(inputs);
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let range: Vec<_> = (0..Columns::RISK_V2.range)
            .map(|_| meta.advice_column())
            .collect();
        let range = RangeCheckConfig::configure(meta, &range);
        let grid: Vec<_> = (0..Columns::RISK_V2.margin)
            .map(|_| meta.advice_column())
            .collect();
        (inputs, range, WaterfallConfig::configure(meta, &grid))
    }

    fn synthesize(
        &self,
        (column, range, config): Self::Config,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), PlonkError> {
        let case = &self.0;
        let layouter = &mut layouter;
        let mut range = RangeCheckChip::construct(range);
        range.load_table(layouter, &WIDTHS.iter().map(|b| words(*b).1).collect())?;
        let chip = WaterfallChip::construct(config);

        // The inputs: uf_m, per account the lanes' r and s, the liability and
        // s_ok, then 0 (the sums before the epoch), is_last, D and the fund.
        let mut values = fee_units().into_iter().map(field).collect::<Vec<_>>();
        for (sizes, a) in case.sizes.iter().zip(&case.accounts) {
            for v in sizes {
                let sign = *v >= 0;
                values.push(field(I256::from(*v)) + if sign { Fp::ZERO } else { lane_shift() });
                values.push(bit(sign));
            }
            // L before and after the account: liability = L_out − L_in.
            values.push(field(i(7)));
            values.push(field(i(7) + a.liability));
            values.push(bit(!a.liquidatable));
        }
        // The published F' and shortfall: the epoch's own (the lies below are
        // told in the trace, not in what is published).
        values.extend([
            Fp::ZERO,
            bit(case.epoch.is_last),
            field(case.epoch.bad_debt),
            field(case.epoch.fund),
            field(case.published.map_or(case.epoch.fees, |p| p.0)),
            bit(case.published.map_or(case.epoch.trace().shortfall, |p| p.1)),
        ]);
        let cells = layouter.assign_region(
            || "inputs",
            |mut region| {
                (values.iter().enumerate())
                    .map(|(row, v)| {
                        region.assign_advice(|| "input", column, row, || Value::known(*v))
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
        )?;
        let markets = fee_units().len();
        let uf = cells[..markets].to_vec();
        let mut next = markets;

        let rate = chip.assign_rate(layouter, &mut range, Some(&case.rate_trace()))?;
        let tail = &cells[cells.len() - 6..];
        let mut fees = tail[0].clone();
        let mut haircuts = [tail[0].clone(), tail[0].clone()];
        let (mut f, mut s) = (I256::ZERO, [I256::ZERO; 2]);
        for (index, a) in case.accounts.iter().enumerate() {
            let lanes = (0..markets)
                .map(|m| [cells[next + 2 * m].clone(), cells[next + 2 * m + 1].clone()])
                .collect();
            next += 2 * markets;
            let inputs = AccountInputs {
                lanes,
                fee_units: uf.clone(),
                liabilities: [cells[next].clone(), cells[next + 1].clone()],
                margin_sign: cells[next + 2].clone(),
                rate: rate.clone(),
                fees: fees.clone(),
                haircuts: haircuts.clone(),
            };
            next += 3;
            let (trace, f_out, s_out) = a.trace(case.rates, f, s);
            (f, s) = (f_out, s_out);
            let out = chip.assign_account(layouter, &mut range, index, Some(&trace), &inputs)?;
            fees = out.fees;
            haircuts = out.haircuts;
        }
        let inputs = EpochInputs {
            is_last: tail[1].clone(),
            bad_debt: tail[2].clone(),
            fund: tail[3].clone(),
            fees,
            haircuts,
            rate,
            published: [tail[4].clone(), tail[5].clone()],
        };
        chip.assign_epoch(layouter, &mut range, Some(&case.epoch.trace()), &inputs)?;
        Ok(())
    }
}

fn check(name: &str, bits: usize) -> Failure {
    lookup(&format!("range check: {name} ({bits} bits)"))
}

// ---------------------------------------------------------------------------
// Fixtures (markets: uf = 1000, 750, 1).
// ---------------------------------------------------------------------------

/// Nobody liquidatable, no bad debt: no fees, `h = 0`.
fn zero_fees() -> Case {
    Case::honest(&[(&[3, -2, 1], 100, false), (&[0, 0, 0], 0, false)], 0, 5)
}

/// Fees (one under its cap, one at a zero cap, one capped) and the fund cover
/// the bad debt together: `h = 0`.
fn fees_cover() -> Case {
    Case::honest(
        &[
            (&[1, -1, 5], 1, true),
            (&[-4, 2, 0], 0, true),
            (&[10, 10, 0], 1, true),
        ],
        2,
        1,
    )
}

/// `h* = 123,456,789` covers exactly (a base of `10^13`, so `q = h`, and
/// `deficit' = 10^4·h*`) and `h* − 1` misses by one common unit.
fn exact_cover() -> Case {
    Case::honest(
        &[(&[0, 0, 0], 1_000_000_000, false), (&[-7, 0, 2], 0, true)],
        123_456_789,
        0,
    )
}

/// A fee of 9,999 makes `deficit' = 10^4·(h* − 1) + 1`: `h*` covers and `h* − 1`
/// misses by one `10^-(E+4)` unit (the minimality window is exactly 0).
fn miss_by_one() -> Case {
    Case::honest(
        &[(&[0, 0, 0], 1_000_000_000, false), (&[9, 1, 249], 1, true)],
        123_456_789,
        0,
    )
}

/// The native reference's shortfall: bases 25,000 and 9,999 (through fees of
/// 5,000 and 1) leave `deficit' = 34,999` and `10^4·S = 20,000` at `10^9`.
fn shortfall() -> Case {
    Case::honest(&[(&[5, 0, 0], 3, true), (&[0, 0, 1], 1, true)], 5, 1)
}

/// The native reference's least rate: bases `10^9`, `3·10^9`, 70,000 and
/// `deficit' = 120,000`.
fn least_rate() -> Case {
    Case::honest(
        &[
            (&[0, 0, 0], 100_000, false),
            (&[1, -1, 1], 300_000, false),
            (&[0, 0, 0], 7, false),
        ],
        12,
        0,
    )
}

// ---------------------------------------------------------------------------
// Honest cases.
// ---------------------------------------------------------------------------

#[test]
fn layout_per_account() {
    assert_eq!(lookups_per_account(), 81);
    let rows = WaterfallRows::of(Columns::RISK_V2.margin);
    assert_eq!(
        rows,
        WaterfallRows {
            notional: 1,
            account: 3,
            rate: 1,
            epoch: 3
        }
    );
    assert_eq!(rows.account_region(8), 7);
    assert_eq!(rows.account_region(3), 5);
}

#[test]
fn zero_fees_need_no_haircut() {
    let case = zero_fees();
    assert_eq!(case.epoch.fees, I256::ZERO);
    assert_eq!(case.rate(), I256::ZERO);
    case.assert_satisfied();
}

#[test]
fn fees_and_fund_cover_the_debt_at_rate_zero() {
    let case = fees_cover();
    // 1,755 under the cap, 0 at a zero cap, 10,000 capped from 17,500.
    let fees: Vec<I256> = case.accounts.iter().map(|a| a.fee).collect();
    assert_eq!(fees, vec![i(1755), i(0), i(10_000)]);
    assert!(case.epoch.fund * i(10_000) < case.epoch.bad_debt * i(10_000));
    assert_eq!((case.rate(), case.epoch.deficit), (I256::ZERO, I256::ZERO));
    case.assert_satisfied();
}

#[test]
fn least_rate_matches_the_native_reference() {
    let case = least_rate();
    assert!(case.rate() > I256::ZERO && case.rate() < i(PPB));
    assert!(case.epoch.cover_sign);
    case.assert_satisfied();
}

#[test]
fn exact_cover_and_a_miss_by_one_common_unit() {
    let case = exact_cover();
    assert_eq!(case.rate(), i(123_456_789));
    assert_eq!(case.epoch.deficit, i(10_000) * case.epoch.haircuts[0]);
    assert_eq!(case.epoch.haircuts[1], case.epoch.haircuts[0] - I256::ONE);
    case.assert_satisfied();
}

#[test]
fn a_miss_by_one_unit_of_ten_to_the_minus_e_plus_4() {
    let case = miss_by_one();
    assert_eq!(case.rate(), i(123_456_789));
    assert_eq!(
        case.epoch.deficit,
        i(10_000) * case.epoch.haircuts[1] + I256::ONE
    );
    case.assert_satisfied();
}

#[test]
fn a_shortfall_takes_every_base_whole() {
    let case = shortfall();
    assert_eq!(case.rate(), i(PPB));
    assert_eq!(case.epoch.deficit, i(34_999));
    assert_eq!(case.epoch.haircuts[0], i(2));
    assert!(!case.epoch.cover_sign);
    case.assert_satisfied();
}

/// `h = 10^9` without a shortfall: every base taken whole covers exactly and
/// `10^9 − 1` misses by one unit, so the minimality check applies at `10^9`.
#[test]
fn the_whole_base_as_the_least_covering_rate() {
    let case = Case::honest(&[(&[0, 0, 0], 1_000_000_000, false)], 1_000_000_000, 0);
    assert_eq!(case.rate(), i(PPB));
    assert!(case.epoch.cover_sign);
    assert_eq!(case.epoch.deficit, i(10_000) * case.epoch.haircuts[0]);
    case.assert_satisfied();
    // Claiming a shortfall instead: the cover window refuses it.
    let mut lie = case.clone();
    lie.epoch.cover_sign = false;
    lie.assert_fails(&[check("waterfall cover", EPOCH_BITS)]);
}

/// A batch before the last lays out the same blocks; the epoch's implications
/// are void there, so partial sums that do not (yet) cover are no contradiction.
#[test]
fn a_batch_before_the_last_is_not_bound_by_the_rate_rules() {
    let mut case = exact_cover();
    case.epoch.is_last = false;
    case.at_rate(i(5));
    case.assert_satisfied();
}

// ---------------------------------------------------------------------------
// Lies.
// ---------------------------------------------------------------------------

#[test]
fn published_fees_off_by_one() {
    let mut case = fees_cover();
    let shortfall = case.epoch.trace().shortfall;
    case.published = Some((case.epoch.fees + I256::ONE, shortfall));
    case.assert_fails(&[gate("waterfall outputs", "published fees")]);
    // Only the last batch opens its sums into the published values.
    case.epoch.is_last = false;
    case.assert_satisfied();
}

#[test]
fn published_shortfall_denied() {
    let mut case = shortfall();
    assert!(case.epoch.trace().shortfall);
    case.published = Some((case.epoch.fees, false));
    case.assert_fails(&[gate("waterfall outputs", "published shortfall")]);
}

#[test]
fn a_fee_above_the_remaining_equity() {
    // The capped account (nf' = 17,500 > cap = 10,000) charged its whole notional fee.
    let mut case = fees_cover();
    case.accounts[2].fee = i(17_500);
    case.restamp();
    case.assert_fails(&[gate("waterfall fee", "fee")]);
    // ... claiming nf' ≤ cap to pass `fee`: the cap's sign window is negative.
    case.accounts[2].fee_sign = true;
    case.assert_fails(&[check("waterfall slot 2 fee cap", FEE_WINDOW_BITS)]);
}

#[test]
fn a_fee_charged_to_a_healthy_account() {
    let mut case = zero_fees();
    let notional = case.accounts[0].notional();
    assert_eq!(notional, i(4501));
    case.accounts[0].fee = notional;
    case.restamp();
    case.assert_fails(&[gate("waterfall fee", "fee")]);
}

#[test]
fn a_draw_above_the_fund() {
    // The shortfall epoch: the fund and fees (15,001) drawn as 15,002.
    let mut case = shortfall();
    case.epoch.deficit -= I256::ONE;
    assert_eq!(case.epoch.trace().draw, field(i(15_002)));
    case.assert_fails(&[gate("waterfall deficit", "deficit is the positive part")]);
}

#[test]
fn a_deficit_understated() {
    let mut case = exact_cover();
    case.epoch.deficit -= I256::ONE;
    case.assert_fails(&[gate("waterfall deficit", "deficit is the positive part")]);
    // ... or hidden behind a negative sign: the window is out of range, and the
    // positive rate is no longer the least for a deficit of 0.
    let mut case = exact_cover();
    case.epoch.deficit_sign = false;
    case.epoch.deficit = I256::ZERO;
    case.assert_fails(&[
        check("waterfall deficit", EPOCH_BITS),
        check("waterfall minimal", EPOCH_BITS),
    ]);
}

#[test]
fn a_rate_one_too_high() {
    for mut case in [exact_cover(), miss_by_one(), least_rate()] {
        let h = case.rate();
        case.at_rate(h + I256::ONE);
        assert!(case.epoch.cover_sign);
        case.assert_fails(&[check("waterfall minimal", EPOCH_BITS)]);
    }
}

#[test]
fn a_rate_one_too_low() {
    for mut case in [exact_cover(), miss_by_one(), least_rate()] {
        let h = case.rate();
        case.at_rate(h - I256::ONE);
        assert!(!case.epoch.cover_sign);
        case.assert_fails(&[gate(
            "waterfall shortfall rate",
            "shortfall takes the whole base",
        )]);
        // ... claiming it covers: the cover window is negative.
        case.epoch.cover_sign = true;
        case.assert_fails(&[check("waterfall cover", EPOCH_BITS)]);
    }
}

#[test]
fn a_haircut_rounded_up() {
    // At 10^9 the base 25,000 gives q = 2, r = 5·10^12: q = 3 leaves r < 0.
    let mut case = shortfall();
    case.accounts[0].quotient[0] += I256::ONE;
    case.restamp();
    case.assert_fails(&[check("waterfall slot 0 remainder at h", REMAINDER_BITS)]);
    // Rounded down, r = 1.5·10^13 still fits 44 bits: the bound 10^13 − 1 − r
    // refuses it.
    let mut case = shortfall();
    case.accounts[0].quotient[0] -= I256::ONE;
    case.restamp();
    case.assert_fails(&[check("waterfall slot 0 remainder gap at h", REMAINDER_BITS)]);
    // The same at h_lo.
    let mut case = shortfall();
    case.accounts[0].quotient[1] += I256::ONE;
    case.restamp();
    case.assert_fails(&[check("waterfall slot 0 remainder at h_lo", REMAINDER_BITS)]);
}

#[test]
fn a_shortfall_claimed_while_a_lower_rate_covers() {
    // The least rate's epoch, its h kept, flagged as a shortfall.
    let mut case = least_rate();
    case.epoch.cover_sign = false;
    case.assert_fails(&[
        check("waterfall cover", EPOCH_BITS),
        gate("waterfall shortfall rate", "shortfall takes the whole base"),
    ]);
    // Every base taken whole (h = 10^9) as a claimed shortfall.
    let mut case = least_rate();
    case.at_rate(i(PPB));
    case.epoch.cover_sign = false;
    case.assert_fails(&[check("waterfall cover", EPOCH_BITS)]);
    // ... or not claimed: 10^9 − 1 covers too.
    let mut case = least_rate();
    case.at_rate(i(PPB));
    assert!(case.epoch.cover_sign);
    case.assert_fails(&[check("waterfall minimal", EPOCH_BITS)]);
}

#[test]
fn a_rate_above_ten_to_the_nine() {
    let mut case = shortfall();
    case.at_rate(i(PPB + 1));
    assert!(!case.epoch.cover_sign);
    case.assert_fails(&[
        check("waterfall rate headroom", RATE_BITS),
        gate("waterfall shortfall rate", "shortfall takes the whole base"),
    ]);
}

#[test]
fn a_lower_rate_that_is_not_h_minus_one() {
    // h one too high with h_lo = h − 2 (which misses) would pass the
    // minimality check: `lower rate` refuses it.
    let mut case = least_rate();
    let h = case.rate();
    case.at_rates([h + I256::ONE, h - I256::ONE]);
    case.assert_fails(&[gate("waterfall rate", "lower rate")]);
}

#[test]
fn a_positive_rate_flagged_as_zero() {
    // z = 1 would void the minimality check (and make h_lo = h).
    let mut case = least_rate();
    let h = case.rate();
    case.at_rates([h + I256::ONE, h + I256::ONE]);
    case.zero = Some(true);
    case.epoch.zero = true;
    case.assert_fails(&[gate("waterfall rate", "zero rate flag")]);
    // A zero rate flagged as positive (so h_lo = −1; one empty account, so no
    // haircut breaks): 1 − z = h·inv has no solution, and the minimality check,
    // no longer void, fails on a deficit of 0.
    let mut case = Case::honest(&[(&[0, 0, 0], 0, false)], 0, 0);
    case.zero = Some(false);
    case.epoch.zero = false;
    case.rates = [I256::ZERO, -I256::ONE];
    case.assert_fails(&[
        gate("waterfall rate", "zero rate inverse"),
        check("waterfall minimal", EPOCH_BITS),
    ]);
}

#[test]
fn a_notional_fee_understated() {
    // One contract of market 0 left out of nf' (1,755 → 755), and the fee with it.
    let mut case = fees_cover();
    case.accounts[0].sizes[0] -= I256::ONE;
    case.accounts[0].fee = case.accounts[0].notional();
    assert_eq!(case.accounts[0].fee, i(755));
    case.restamp();
    case.assert_fails(&[gate(
        "waterfall fee notional (first)",
        "fee notional accumulates",
    )]);
}

/// The chip's gates keep the batch circuit's degree (9, set by
/// `Halo2BatchConfig::configure`): placing it there changes no domain.
#[test]
fn gates_fit_the_batch_circuit_degree() {
    let mut cs = ConstraintSystem::<Fp>::default();
    let _ = WaterfallCircuit::configure(&mut cs);
    println!("waterfall test circuit degree {}", cs.degree());
    assert!(cs.degree() <= 9);
}

/// Random books (a fixed-seed generator): every honest epoch satisfies, and
/// whenever the rate lies strictly between 0 and `10^9`, one more fails at
/// `waterfall minimal` and one less at `waterfall shortfall rate`.
#[test]
fn random_books_agree_with_the_native_reference() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut kinds = [0usize; 3];
    for _ in 0..24 {
        let mut specs: Vec<Spec<Vec<i64>>> = Vec::new();
        let mut total = 0i128;
        for _ in 0..3 {
            let sizes = (0..3).map(|_| next(41) as i64 - 20).collect();
            let liability = match next(3) {
                0 => 0,
                1 => next(10) as i128,
                _ => next(1_000_000_000) as i128,
            };
            total += liability;
            specs.push((sizes, liability, next(2) == 0));
        }
        let bad_debt = next(total as u64 + 20) as i128;
        let fund = next(5) as i128;
        let case = Case::honest(&specs, bad_debt, fund);
        case.assert_satisfied();
        let h = case.rate();
        if h == I256::ZERO {
            kinds[0] += 1;
        } else if h == i(PPB) {
            kinds[2] += 1;
        } else {
            kinds[1] += 1;
            let mut up = case.clone();
            up.at_rate(h + I256::ONE);
            up.assert_fails(&[check("waterfall minimal", EPOCH_BITS)]);
            let mut down = case.clone();
            down.at_rate(h - I256::ONE);
            down.assert_fails(&[gate(
                "waterfall shortfall rate",
                "shortfall takes the whole base",
            )]);
        }
    }
    println!("rate 0, least rate, shortfall: {kinds:?}");
    assert!(kinds.iter().all(|k| *k > 0), "{kinds:?}");
}
