//! The waterfall gadgets against [`crate::native::waterfall`]: honest books of every
//! kind are satisfied with the native amounts, and each attack fails at its own
//! relation, by name, beside a satisfied control.

use super::*;
use crate::assignment::field_from_i256;
use crate::native::waterfall::{Waterfall, WaterfallInputs, haircut, waterfall};
use crate::r1cs::names::testing::{Probe, first_unsatisfied};
use ark_r1cs_std::eq::EqGadget;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
use proptest::prelude::*;

fn fr(v: I256) -> Fr {
    field_from_i256::<Bn254Poseidon>(v)
}

fn i(v: i128) -> I256 {
    I256::from(v)
}

/// One account as the waterfall reads it.
#[derive(Debug, Clone)]
struct Account {
    /// `|size_m|`, each `< 2^63`.
    magnitudes: Vec<u64>,
    /// `max(TV, 0)`.
    liability: I256,
    liquidatable: bool,
}

/// Accounts, the per-market fee units, `D` and the fund (common units).
#[derive(Debug, Clone)]
struct Book {
    unit_fees: Vec<I256>,
    accounts: Vec<Account>,
    bad_debt: I256,
    fund: I256,
}

impl Book {
    fn notional_fee(&self, a: &Account) -> I256 {
        a.magnitudes
            .iter()
            .zip(&self.unit_fees)
            .map(|(n, uf)| I256::from(*n) * *uf)
            .sum()
    }

    /// `(fee', base')` of an account, natively.
    fn fee_and_base(&self, a: &Account) -> (I256, I256) {
        let fee = liquidation_fee(self.notional_fee(a), a.liability, a.liquidatable);
        (fee, haircut_base(a.liability, fee))
    }

    fn native(&self) -> Waterfall {
        let mut inputs = WaterfallInputs::default();
        for a in &self.accounts {
            let (fee, base) = self.fee_and_base(a);
            inputs.push(fee, base);
        }
        waterfall(self.bad_debt, self.fund, &inputs)
    }
}

/// The rate gadget, every account's gadget and the last batch's relations over a
/// book, at a claimed rate and shortfall, with the given advice; then the outputs
/// checked against the native amounts at that rate (namespace `claim`).
#[derive(Debug, Clone)]
struct Epoch {
    book: Book,
    ppb: u32,
    shortfall: bool,
    is_last: bool,
    /// Per account (`None`: the gadget derives it from the values).
    accounts: Option<Vec<AccountAdvice>>,
    epoch: Option<EpochAdvice>,
}

impl Epoch {
    /// The native rate and shortfall, honest advice.
    fn honest(book: Book) -> Self {
        let w = book.native();
        Self::at(book, w.haircut_ppb, w.shortfall)
    }

    /// Any rate and shortfall claim, with the honest advice at that rate.
    fn at(book: Book, ppb: u32, shortfall: bool) -> Self {
        let accounts = book
            .accounts
            .iter()
            .map(|a| AccountAdvice::honest(book.notional_fee(a), a.liability, a.liquidatable, ppb))
            .collect();
        let fees = book.native().liquidation_fees;
        let epoch = EpochAdvice::honest(book.bad_debt, book.fund, fees);
        Self {
            book,
            ppb,
            shortfall,
            is_last: true,
            accounts: Some(accounts),
            epoch: Some(epoch),
        }
    }

    fn with_account(mut self, j: usize, f: impl FnOnce(&mut AccountAdvice)) -> Self {
        f(&mut self.accounts.as_mut().expect("advice")[j]);
        self
    }
}

impl ConstraintSynthesizer<Fr> for Epoch {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let book = &self.book;
        let h = FpVar::new_input(cs.clone(), || Ok(Fr::from(self.ppb)))?;
        let shortfall = Boolean::new_input(cs.clone(), || Ok(self.shortfall))?;
        let is_last = Boolean::new_witness(cs.clone(), || Ok(self.is_last))?;
        let unit_fees = book
            .unit_fees
            .iter()
            .map(|uf| FpVar::new_input(cs.clone(), || Ok(fr(*uf))))
            .collect::<Result<Vec<_>, _>>()?;
        let rate = rate(&cs, &h)?;
        let mut outs = Vec::new();
        let (mut fees, mut at, mut below) = (FpVar::zero(), FpVar::zero(), FpVar::zero());
        for (j, a) in book.accounts.iter().enumerate() {
            let magnitudes = a
                .magnitudes
                .iter()
                .map(|n| FpVar::new_witness(cs.clone(), || Ok(Fr::from(*n))))
                .collect::<Result<Vec<_>, _>>()?;
            let liability = FpVar::new_witness(cs.clone(), || Ok(fr(a.liability)))?;
            let liquidatable = Boolean::new_witness(cs.clone(), || Ok(a.liquidatable))?;
            let inputs = AccountInputs {
                magnitudes: &magnitudes,
                unit_fees: &unit_fees,
                liability: &liability,
                liquidatable: &liquidatable,
            };
            let advice = self.accounts.as_ref().map(|v| &v[j]);
            let out = account(&cs, &inputs, &rate, advice)?;
            fees += &out.fee;
            at += &out.haircut_at;
            below += &out.haircut_below;
            outs.push(out);
        }
        let bad_debt = FpVar::new_witness(cs.clone(), || Ok(fr(book.bad_debt)))?;
        let fund = FpVar::new_input(cs.clone(), || Ok(fr(book.fund)))?;
        let inputs = EpochInputs {
            bad_debt: &bad_debt,
            insurance_fund: &fund,
            fees: &fees,
            haircuts_at: &at,
            haircuts_below: &below,
            shortfall: &shortfall,
            is_last: &is_last,
        };
        let out = epoch(&cs, &inputs, &rate, self.epoch.as_ref())?;

        let _ns = ns!(cs, "claim");
        let claim = |v: &FpVar<Fr>, expected: I256| v.enforce_equal(&FpVar::constant(fr(expected)));
        let below_ppb = if self.ppb == 0 { 0 } else { self.ppb - 1 };
        for (a, o) in book.accounts.iter().zip(&outs) {
            let (fee, base) = book.fee_and_base(a);
            claim(&o.fee, fee)?;
            claim(&o.base, base)?;
            claim(&o.haircut_at, haircut(base, self.ppb))?;
            claim(&o.haircut_below, haircut(base, below_ppb))?;
        }
        if self.is_last {
            let w = book.native();
            claim(&out.deficit, w.deficit)?;
            claim(&out.draw, w.insurance_draw)?;
            claim(&out.fund_after, w.insurance_fund_after)?;
        } else {
            claim(&out.deficit, I256::ZERO)?;
        }
        Ok(())
    }
}

fn account_of(magnitudes: &[u64], liability: i128, liquidatable: bool) -> Account {
    Account {
        magnitudes: magnitudes.to_vec(),
        liability: i(liability),
        liquidatable,
    }
}

/// Two markets; a capped fee, an uncapped one, a healthy account and an empty one;
/// a deficit the haircuts cover at a rate strictly inside `(0, 10^9)`.
fn book() -> Book {
    Book {
        unit_fees: vec![i(3_000), i(7)],
        accounts: vec![
            // nf' = 30,000 > cap = 20,000: fee 20,000, base 0.
            account_of(&[10, 0], 2, true),
            // nf' = 3,000 + 7,000 = 10,000 ≤ cap: fee 10,000.
            account_of(&[1, 1_000], 1_000_000, true),
            account_of(&[5, 5], 3_000_000_000, false),
            account_of(&[0, 0], 0, false),
        ],
        bad_debt: i(1_000_000_000),
        fund: i(500),
    }
}

/// One healthy account with `E' = 10^9` units (`base' = 10^13`), so `q_h = h`: a
/// debt of `D` units is covered exactly at `h = D`, and `h − 1` misses by one unit.
fn exact_book(debt: i128) -> Book {
    Book {
        unit_fees: vec![i(1)],
        accounts: vec![account_of(&[0], 1_000_000_000, false)],
        bad_debt: i(debt),
        fund: i(0),
    }
}

/// Bases of 2.5 and 0.9999 units (fees of 0.5 and 0.0001 units) against a debt of
/// `debt` units and a fund of 1 unit: `deficit' = 10^4·debt − 15,001`.
fn small_book(debt: i128) -> Book {
    Book {
        unit_fees: vec![i(1)],
        accounts: vec![account_of(&[5_000], 3, true), account_of(&[1], 1, true)],
        bad_debt: i(debt),
        fund: i(1),
    }
}

fn verdict(e: Epoch) -> Option<String> {
    first_unsatisfied(e)
}

#[test]
fn the_fixture_book_exercises_every_case() {
    let b = book();
    let w = b.native();
    assert_eq!(b.fee_and_base(&b.accounts[0]), (i(20_000), i(0)));
    assert_eq!(
        b.fee_and_base(&b.accounts[1]),
        (i(10_000), i(10_000_000_000 - 10_000))
    );
    assert_eq!(b.fee_and_base(&b.accounts[2]).0, i(0));
    assert_eq!(w.liquidation_fees, i(30_000));
    assert!(w.deficit > I256::ZERO && !w.shortfall);
    assert!(w.haircut_ppb > 0 && w.haircut_ppb < HAIRCUT_PPB_MAX);
    assert_eq!(verdict(Epoch::honest(b)), None);
}

#[test]
fn honest_books_are_satisfied_with_the_native_amounts() {
    // No deficit: h = 0 (the fund covers, or there is no debt at all).
    for debt in [0, 1, 500] {
        let b = Book {
            bad_debt: i(debt),
            ..book()
        };
        assert_eq!(b.native().haircut_ppb, 0);
        assert_eq!(verdict(Epoch::honest(b)), None, "debt {debt}");
    }
    // Shortfall: h = 10^9 still leaves part of the deficit.
    let b = small_book(5);
    assert_eq!(
        (b.native().haircut_ppb, b.native().shortfall),
        (HAIRCUT_PPB_MAX, true)
    );
    assert_eq!(verdict(Epoch::honest(b)), None);
    // Covered exactly at 10^9 (not a shortfall), and at 0.8·10^9.
    let b = exact_book(1_000_000_000);
    assert_eq!(
        (b.native().haircut_ppb, b.native().shortfall),
        (HAIRCUT_PPB_MAX, false)
    );
    assert_eq!(verdict(Epoch::honest(b)), None);
    let b = small_book(3);
    assert_eq!(b.native().haircut_ppb, 800_000_000);
    assert_eq!(verdict(Epoch::honest(b)), None);
    // The advice derived by the gadget from the values is the honest one.
    let e = Epoch {
        accounts: None,
        epoch: None,
        ..Epoch::honest(book())
    };
    assert_eq!(verdict(e), None);
}

/// `h` covers exactly (`10^4 · S_h = deficit'`) and `h − 1` misses by one unit: `h` is
/// accepted, `h − 1` fails at `cover` and `h + 1` at `minimal`.
#[test]
fn exact_cover_at_the_rate_and_one_unit_short_below() {
    let b = exact_book(123_456_789);
    let w = b.native();
    assert_eq!((w.haircut_ppb, w.shortfall), (123_456_789, false));
    assert_eq!(w.deficit, i(123_456_789 * 10_000));
    assert_eq!(verdict(Epoch::honest(b.clone())), None);
    assert_eq!(
        verdict(Epoch::at(b.clone(), 123_456_788, false)).as_deref(),
        Some("waterfall.cover")
    );
    assert_eq!(
        verdict(Epoch::at(b, 123_456_790, false)).as_deref(),
        Some("waterfall.minimal")
    );
}

#[test]
fn a_fee_above_the_remaining_equity_fails_at_fee_cap() {
    // Account 0: nf' = 30,000 above cap = 20,000; uncapped, its fee would be 30,000.
    let honest = Epoch::honest(book());
    assert!(honest.accounts.as_ref().unwrap()[0].capped);
    assert_eq!(verdict(honest.clone()), None);
    let lie = honest.with_account(0, |a| a.capped = false);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.fee.cap"));
    // Account 1: its fee capped at the equity although the notional fee is smaller.
    let lie = Epoch::honest(book()).with_account(1, |a| a.capped = true);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.fee.cap"));
}

#[test]
fn a_fee_charged_to_a_healthy_account_fails_at_fee() {
    // Account 2 is healthy: the cap charged to it (k = 1) is refused.
    let honest = Epoch::honest(book());
    assert!(!honest.accounts.as_ref().unwrap()[2].capped);
    assert_eq!(verdict(honest.clone()), None);
    let lie = honest.with_account(2, |a| a.capped = true);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.fee"));
}

#[test]
fn a_draw_above_the_fund_fails_at_deficit() {
    // D' > fund' + F': the deficit is positive; claiming a surplus would draw all of
    // D' from the fund and the fees, and make the deficit 0.
    let honest = Epoch::honest(book());
    assert_eq!(honest.epoch, Some(EpochAdvice { surplus: false }));
    assert_eq!(verdict(honest.clone()), None);
    let lie = Epoch {
        epoch: Some(EpochAdvice { surplus: true }),
        ..honest
    };
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.deficit"));
    // And the other way: a surplus denied (a deficit made up from nothing).
    let honest = Epoch::honest(Book {
        bad_debt: i(1),
        ..book()
    });
    assert_eq!(honest.epoch, Some(EpochAdvice { surplus: true }));
    assert_eq!(verdict(honest.clone()), None);
    let lie = Epoch {
        epoch: Some(EpochAdvice { surplus: false }),
        ..honest
    };
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.deficit"));
}

#[test]
fn a_rate_one_too_high_fails_at_minimal() {
    let b = book();
    let h = b.native().haircut_ppb;
    assert_eq!(verdict(Epoch::at(b.clone(), h, false)), None);
    assert_eq!(
        verdict(Epoch::at(b, h + 1, false)).as_deref(),
        Some("waterfall.minimal")
    );
    // Without a deficit, any h > 0 is refused.
    let b = Book {
        bad_debt: i(0),
        ..book()
    };
    assert_eq!(verdict(Epoch::at(b.clone(), 0, false)), None);
    assert_eq!(
        verdict(Epoch::at(b, 1, false)).as_deref(),
        Some("waterfall.minimal")
    );
}

#[test]
fn a_rate_one_too_low_fails_at_cover() {
    let b = book();
    let h = b.native().haircut_ppb;
    assert_eq!(verdict(Epoch::at(b.clone(), h, false)), None);
    assert_eq!(
        verdict(Epoch::at(b, h - 1, false)).as_deref(),
        Some("waterfall.cover")
    );
    // A deficit left uncovered at h = 0.
    let b = small_book(3);
    assert_eq!(
        verdict(Epoch::at(b, 0, false)).as_deref(),
        Some("waterfall.cover")
    );
}

#[test]
fn a_haircut_rounded_up_fails_at_its_floor() {
    // Account 1's haircut at h (B0 ≈ 10^10, so t > 0): q + 1 (its remainder s − 10^13 < 0).
    let honest = Epoch::honest(book());
    assert_eq!(verdict(honest.clone()), None);
    let lie = honest.clone().with_account(1, |a| a.floor_low += 1);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.haircut.at"));
    // Rounded down: q − 1 (its remainder s + 10^13 ≥ 10^13).
    let floor = honest.accounts.as_ref().unwrap()[1].floor_low;
    assert!(floor > 0);
    let lie = honest.clone().with_account(1, |a| a.floor_low -= 1);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.haircut.at"));
    // One step below, the borrow flipped: q_lo one off.
    let lie = honest.with_account(1, |a| a.borrow = !a.borrow);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.haircut.below"));
    // The split of the base one off: B1 + 1 (so B0 − 10^13 < 0).
    let lie = Epoch::honest(book()).with_account(1, |a| a.split_high += U256::ONE);
    assert_eq!(verdict(lie).as_deref(), Some("waterfall.fee.cap"));
}

#[test]
fn a_shortfall_claimed_while_the_rate_covers_fails() {
    // h < 10^9 covers: a shortfall needs h = 10^9.
    let b = book();
    let h = b.native().haircut_ppb;
    assert_eq!(verdict(Epoch::at(b.clone(), h, false)), None);
    assert_eq!(
        verdict(Epoch::at(b, h, true)).as_deref(),
        Some("waterfall.shortfall")
    );
    // h = 10^9 covers exactly: not a shortfall.
    let b = exact_book(1_000_000_000);
    assert_eq!(verdict(Epoch::at(b.clone(), HAIRCUT_PPB_MAX, false)), None);
    assert_eq!(
        verdict(Epoch::at(b, HAIRCUT_PPB_MAX, true)).as_deref(),
        Some("waterfall.cover")
    );
}

#[test]
fn a_shortfall_denied_when_it_holds_fails_at_cover() {
    let b = small_book(5);
    assert_eq!(verdict(Epoch::at(b.clone(), HAIRCUT_PPB_MAX, true)), None);
    assert_eq!(
        verdict(Epoch::at(b, HAIRCUT_PPB_MAX, false)).as_deref(),
        Some("waterfall.cover")
    );
}

#[test]
fn a_rate_above_one_billion_fails_at_rate_range() {
    let b = small_book(5);
    assert_eq!(verdict(Epoch::at(b.clone(), HAIRCUT_PPB_MAX, true)), None);
    assert_eq!(
        verdict(Epoch::at(b, HAIRCUT_PPB_MAX + 1, true)).as_deref(),
        Some("waterfall.rate.range")
    );
    // A negative rate wrapped around the field.
    struct Rate(Fr);
    impl ConstraintSynthesizer<Fr> for Rate {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let h = FpVar::new_input(cs.clone(), || Ok(self.0))?;
            rate(&cs, &h).map(drop)
        }
    }
    assert_eq!(first_unsatisfied(Rate(Fr::from(HAIRCUT_PPB_MAX))), None);
    assert_eq!(first_unsatisfied(Rate(Fr::from(0u64))), None);
    assert_eq!(
        first_unsatisfied(Rate(-Fr::ONE)).as_deref(),
        Some("waterfall.rate.range")
    );
}

/// Before the last batch the partial sums satisfy none of the epoch's relations,
/// and need not: they are multiplied by `is_last` (the accounts' are not).
#[test]
fn the_epoch_relations_hold_in_the_last_batch_only() {
    let b = book();
    let h = b.native().haircut_ppb;
    for (ppb, shortfall) in [(h + 1, false), (h - 1, false), (h, true), (0, false)] {
        let e = Epoch {
            is_last: false,
            epoch: Some(EpochAdvice { surplus: false }),
            ..Epoch::at(b.clone(), ppb, shortfall)
        };
        assert_eq!(verdict(e), None, "{ppb} {shortfall}");
    }
    let e = Epoch {
        is_last: false,
        ..Epoch::honest(b)
    }
    .with_account(2, |a| a.floor_low += 1);
    assert_eq!(verdict(e).as_deref(), Some("waterfall.haircut.at"));
}

/// Every block's own witnesses, tampered with, fail at that block.
#[test]
fn each_relation_fails_at_its_own_name() {
    let probe = Probe::new(Epoch::honest(book()));
    let names: Vec<String> = probe
        .names()
        .into_iter()
        .filter(|n| !n.is_empty() && *n != "claim")
        .map(str::to_owned)
        .collect();
    assert_eq!(
        names,
        [
            "waterfall.rate.range",
            "waterfall.rate.below",
            "waterfall.fee.notional",
            "waterfall.fee",
            "waterfall.fee.cap",
            "waterfall.haircut.at",
            "waterfall.haircut.below",
            "waterfall.deficit",
            "waterfall.shortfall",
            "waterfall.cover",
            "waterfall.minimal",
        ]
    );
    for name in &names {
        assert_eq!(probe.tamper(name).as_deref(), Some(name.as_str()));
    }
}

/// Constraints of the account gadget at `M` markets, the rate's and the epoch's,
/// counted in setup mode (no values: as for key generation).
fn counts(markets: usize) -> (usize, usize, usize) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    let missing = || Err::<Fr, _>(SynthesisError::AssignmentMissing);
    let fp = || FpVar::new_witness(cs.clone(), missing);
    let bit = || {
        Boolean::new_witness(cs.clone(), || {
            Err::<bool, _>(SynthesisError::AssignmentMissing)
        })
    };
    let h = FpVar::new_input(cs.clone(), missing).unwrap();
    let magnitudes: Vec<_> = (0..markets).map(|_| fp().unwrap()).collect();
    let unit_fees: Vec<_> = (0..markets).map(|_| fp().unwrap()).collect();
    let liability = fp().unwrap();
    let liquidatable = bit().unwrap();
    let (shortfall, is_last) = (bit().unwrap(), bit().unwrap());
    let sums: Vec<_> = (0..5).map(|_| fp().unwrap()).collect();
    let mut before = cs.num_constraints();
    let mut step = || {
        let n = cs.num_constraints();
        let d = n - before;
        before = n;
        d
    };
    let rate = rate(&cs, &h).unwrap();
    let rate_count = step();
    let inputs = AccountInputs {
        magnitudes: &magnitudes,
        unit_fees: &unit_fees,
        liability: &liability,
        liquidatable: &liquidatable,
    };
    account(&cs, &inputs, &rate, None).unwrap();
    let account_count = step();
    let inputs = EpochInputs {
        bad_debt: &sums[0],
        insurance_fund: &sums[1],
        fees: &sums[2],
        haircuts_at: &sums[3],
        haircuts_below: &sums[4],
        shortfall: &shortfall,
        is_last: &is_last,
    };
    epoch(&cs, &inputs, &rate, None).unwrap();
    (account_count, rate_count, step())
}

/// The cost in the module docs: 409 per account at `M = 8` (`M + 401`), 62 for the
/// rate and 731 for the last batch's relations, per batch.
#[test]
fn constraint_counts_are_pinned() {
    assert_eq!(counts(8), (409, 62, 731));
    assert_eq!(counts(2).0, 2 + 401);
    // The same in prove mode: the honest fixture (2 markets, 4 accounts) adds the
    // harness's own allocations (3 Booleans: shortfall, is_last, a flag per account)
    // and its claims (4 per account, 3 for the epoch).
    let cs = ConstraintSystem::<Fr>::new_ref();
    Epoch::honest(book())
        .generate_constraints(cs.clone())
        .unwrap();
    assert!(cs.is_satisfied().unwrap());
    assert_eq!(
        cs.num_constraints(),
        62 + 4 * (2 + 401) + 731 + (2 + 4) + (4 * 4 + 3)
    );
}

/// A number below `2^bits`, any of them (`bits ≤ 256`).
fn below_pow2(bits: u32) -> impl Strategy<Value = I256> {
    (any::<u128>(), any::<u128>()).prop_map(move |(hi, lo)| {
        let v = U256::from_words(hi, lo);
        let v = if bits >= 256 {
            v
        } else {
            v & ((U256::ONE << bits) - U256::ONE)
        };
        v.as_i256()
    })
}

/// Small, edge and wide values below `2^bits`.
fn amount(bits: u32) -> impl Strategy<Value = I256> {
    prop_oneof![
        Just(I256::ZERO),
        (0i128..1_000_000).prop_map(I256::from),
        below_pow2(bits),
        Just((I256::ONE << bits) - I256::ONE),
    ]
}

fn magnitude() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        0u64..10_000,
        0u64..(1u64 << 63),
        Just((1u64 << 63) - 1)
    ]
}

prop_compose! {
    fn random_book()(
        markets in 1usize..=3,
    )(
        unit_fees in proptest::collection::vec(amount(138), markets),
        accounts in proptest::collection::vec(
            (
                proptest::collection::vec(magnitude(), markets),
                amount(194),
                any::<bool>(),
            ),
            1..=4,
        ),
        fund in amount(188),
        permille in 0u32..=1_200,
        offset in -2i128..=2,
    ) -> Book {
        let accounts: Vec<Account> = accounts
            .into_iter()
            .map(|(magnitudes, liability, liquidatable)| Account {
                magnitudes,
                liability,
                liquidatable,
            })
            .collect();
        let mut book = Book { unit_fees, accounts, bad_debt: I256::ZERO, fund };
        // A debt around what the fund, the fees and `permille` of the bases cover, so
        // that the rate falls anywhere in [0, 10^9] and sometimes short of it.
        let w = book.native();
        let scale = I256::from(BPS_DENOMINATOR);
        let bases: I256 = book.accounts.iter().map(|a| book.fee_and_base(a).1).sum();
        let debt = book.fund
            + w.liquidation_fees / scale
            + bases / scale * I256::from(permille) / I256::from(1_000)
            + I256::from(offset);
        book.bad_debt = debt.max(I256::ZERO);
        book
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random books: the native rate is accepted with the native amounts; one step
    /// below it fails at `cover`, one step above at `minimal`.
    #[test]
    fn random_books_match_native(book in random_book()) {
        let w = book.native();
        let h = w.haircut_ppb;
        prop_assert_eq!(verdict(Epoch::honest(book.clone())), None);
        if h > 0 && !w.shortfall {
            let below = verdict(Epoch::at(book.clone(), h - 1, false));
            prop_assert_eq!(below.as_deref(), Some("waterfall.cover"));
        }
        if h < HAIRCUT_PPB_MAX {
            let above = verdict(Epoch::at(book, h + 1, false));
            prop_assert_eq!(above.as_deref(), Some("waterfall.minimal"));
        }
    }

    /// Any account at any rate: the gadget's fee, base and both floors are the
    /// native ones, with the advice given or derived.
    #[test]
    fn accounts_match_native_at_any_rate(
        book in random_book(),
        ppb in prop_oneof![Just(0u32), Just(1u32), Just(HAIRCUT_PPB_MAX), 0u32..=HAIRCUT_PPB_MAX],
        derive in any::<bool>(),
    ) {
        let e = Epoch {
            is_last: false,
            epoch: Some(EpochAdvice { surplus: false }),
            ..Epoch::at(book, ppb, false)
        };
        let e = if derive { Epoch { accounts: None, ..e } } else { e };
        prop_assert_eq!(verdict(e), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Soundness against the advice: whatever one account's advice or the epoch's,
    /// the system is either unsatisfied at a `waterfall.…` relation or its amounts
    /// are the native ones (the harness's `claim`s are never the first to fail).
    #[test]
    fn any_advice_is_refused_or_harmless(
        book in random_book(),
        ppb in 0u32..=HAIRCUT_PPB_MAX,
        j in any::<proptest::sample::Index>(),
        flip_capped in proptest::bool::weighted(0.2),
        flip_borrow in proptest::bool::weighted(0.2),
        flip_surplus in proptest::bool::weighted(0.2),
        high in prop_oneof![3 => Just(0i64), 1 => -2i64..=2],
        floor in prop_oneof![3 => Just(0i64), 1 => -2i64..=2],
    ) {
        let w = book.native();
        let honest = Epoch::at(book, w.haircut_ppb, w.shortfall);
        let mut e = Epoch { ppb, is_last: ppb == w.haircut_ppb, ..honest.clone() };
        if !e.is_last {
            e = Epoch::at(e.book.clone(), ppb, false);
            e.is_last = false;
            e.epoch = Some(EpochAdvice { surplus: flip_surplus });
        } else if flip_surplus {
            e.epoch = e.epoch.map(|a| EpochAdvice { surplus: !a.surplus });
        }
        let j = j.index(e.book.accounts.len());
        let e = e.with_account(j, |a| {
            a.capped ^= flip_capped;
            a.borrow ^= flip_borrow;
            let shifted = a.split_high.as_i256() + I256::from(high);
            a.split_high = shifted.max(I256::ZERO).as_u256();
            a.floor_low = a.floor_low.saturating_add_signed(floor);
        });
        let v = verdict(e);
        prop_assert!(
            v.as_deref().is_none_or(|n| n.starts_with("waterfall.")),
            "{:?}", v
        );
    }
}
