//! Hand-worked cases and properties of the exact native engine (`docs/SPEC.md` §2–§3).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::parse_scaled;
use backstop_circuits::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use backstop_circuits::native::{Scales, account_risk, evaluate};
use backstop_circuits::statement::PublicOutputs;
use ethnum::I256;
use proptest::prelude::*;

/// USDC quote (6 decimals); BTC price in cents, size in satoshi, 50 bps;
/// ETH price 2 decimals, size 6 decimals, 100 bps. `E = 10`, `f_q = 10^4`,
/// `f_BTC = 1`, `f_ETH = 10^2`.
fn params(btc_price: &str, eth_price: &str) -> EpochParams {
    let btc = Market::new(
        "BTC",
        Price::new(parse_scaled(btc_price, 2).unwrap()).unwrap(),
        2,
        8,
        MarginBps::new(50).unwrap(),
    )
    .unwrap();
    let eth = Market::new(
        "ETH",
        Price::new(parse_scaled(eth_price, 2).unwrap()).unwrap(),
        2,
        6,
        MarginBps::new(100).unwrap(),
    )
    .unwrap();
    EpochParams::new(9, 6, 1_000_000_000_000, 10_000_000_000, vec![btc, eth]).unwrap()
}

fn account(id: u64, balance: &str, btc: &str, eth: &str) -> Account {
    Account::new(
        AccountId::new(id),
        Balance::new(parse_scaled(balance, 6).unwrap()).unwrap(),
        vec![
            Size::new(parse_scaled(btc, 8).unwrap()).unwrap(),
            Size::new(parse_scaled(eth, 6).unwrap()).unwrap(),
        ],
    )
}

/// Common units are 10^-10 quote here.
fn usdc(s: &str) -> I256 {
    I256::from(parse_scaled(s, 10).unwrap())
}

#[test]
fn long_with_cash_is_healthy() {
    let p = params("60000", "3000");
    let r = account_risk(&Scales::new(&p), &account(1, "1000", "1", "0"));
    // TV = 1000 + 1 · 60000 = 61000; MR = 60000 · 0.5% = 300.
    assert_eq!(r.total_value, usdc("61000"));
    assert_eq!(r.requirement_bps, usdc("300") * 10_000);
    assert!(!r.liquidatable);
    assert_eq!((r.liability, r.bad_debt), (usdc("61000"), I256::ZERO));
}

#[test]
fn short_exactly_at_requirement_is_healthy_and_one_unit_below_is_not() {
    let p = params("60000", "3000");
    let s = Scales::new(&p);
    // Short 1 BTC with 60300 cash: TV = 300 = MR exactly.
    let at = account_risk(&s, &account(1, "60300", "-1", "0"));
    assert_eq!(at.total_value, usdc("300"));
    assert_eq!(at.total_value * 10_000, at.requirement_bps);
    assert_eq!(at.margin_slack(), I256::ZERO);
    assert!(!at.liquidatable, "equality is healthy (SPEC §2.2)");
    // One minimal quote unit (10^-6) less: liquidatable.
    let below = account_risk(&s, &account(1, "60299.999999", "-1", "0"));
    assert!(below.liquidatable);
    assert_eq!(below.margin_slack(), -usdc("0.000001") * 10_000);
    // One minimal unit more: healthy with positive slack.
    let above = account_risk(&s, &account(1, "60300.000001", "-1", "0"));
    assert!(!above.liquidatable);
}

#[test]
fn cross_margin_nets_markets() {
    let p = params("60000", "3000");
    // Long 0.5 BTC (30000), short 10 ETH (-30000), cash 500:
    // TV = 500; MR = 30000·0.5% + 30000·1% = 150 + 300 = 450.
    let r = account_risk(&Scales::new(&p), &account(2, "500", "0.5", "-10"));
    assert_eq!(r.total_value, usdc("500"));
    assert_eq!(r.requirement_bps, usdc("450") * 10_000);
    assert!(!r.liquidatable);
    // Cash 449.999999 would be below 450 but TV is cash here: 449.999999 < 450.
    let r = account_risk(&Scales::new(&p), &account(2, "449.999999", "0.5", "-10"));
    assert!(r.liquidatable);
}

#[test]
fn underwater_account_has_bad_debt_and_no_liability() {
    let p = params("60000", "3000");
    // Long 1 BTC bought on credit: balance -61000, TV = -1000.
    let r = account_risk(&Scales::new(&p), &account(3, "-61000", "1", "0"));
    assert_eq!(r.total_value, usdc("-1000"));
    assert!(r.liquidatable);
    assert_eq!((r.liability, r.bad_debt), (I256::ZERO, usdc("1000")));
}

#[test]
fn no_positions_means_no_requirement() {
    let p = params("60000", "3000");
    let s = Scales::new(&p);
    let zero = account_risk(&s, &account(4, "0", "0", "0"));
    assert_eq!(zero.requirement_bps, I256::ZERO);
    assert!(
        !zero.liquidatable,
        "0 < 0 is false: an empty account is healthy"
    );
    let negative = account_risk(&s, &account(5, "-0.000001", "0", "0"));
    assert!(
        negative.liquidatable,
        "negative cash is below a zero requirement"
    );
    assert_eq!(negative.bad_debt, usdc("0.000001"));
}

#[test]
fn maximum_magnitudes_are_exact() {
    // Price 2^64 - 1, sizes ±(2^63 - 1), balance ±(2^63 - 1), mm 10000 bps.
    let max = Market::new(
        "MAX",
        Price::new(u64::MAX.into()).unwrap(),
        0,
        0,
        MarginBps::new(10_000).unwrap(),
    )
    .unwrap();
    let p = EpochParams::new(1, 18, u128::MAX, u128::MAX, vec![max]).unwrap();
    let s = Scales::new(&p);
    assert_eq!(p.common_exponent(), 18);
    let big = i64::MAX;
    let a = Account::new(
        AccountId::new(u64::MAX),
        Balance::new(big.into()).unwrap(),
        vec![Size::new((-big).into()).unwrap()],
    );
    let r = account_risk(&s, &a);
    // E = 18: f_q = 1 and f_MAX = 10^18, the largest scale allowed.
    assert_eq!(s.quote, I256::ONE);
    let notional = I256::from(big) * I256::from(u64::MAX) * I256::from(10u64.pow(18));
    assert_eq!(r.total_value, I256::from(big) - notional);
    assert_eq!(r.requirement_bps, notional * 10_000);
    assert!(r.liquidatable);
}

#[test]
fn published_outputs_are_exact_decimals() {
    let p = params("60000", "3000");
    let s = Snapshot::new(
        p.clone(),
        vec![
            account(10, "1000", "1", "0"),
            account(7, "-61000.5", "1", "0"),
            // Short one satoshi with no cash: TV = -0.00000001 · 60000 = -0.0006.
            account(8, "0", "-0.00000001", "0"),
        ],
    )
    .unwrap();
    let out = PublicOutputs::from_evaluation(&p, &evaluate(&s));
    assert_eq!(out.liquidations, vec!["7", "8"]);
    // D = 1000.5 + 0.0006, written with the quote's 6 places.
    assert_eq!(out.bad_debt, "1000.500600");
    assert!(out.solvent && out.insurance_covered);
}

#[test]
fn bad_debt_keeps_digits_finer_than_the_quote() {
    // Quote with 2 decimals, notional with 10: a bad debt of 0.0000000001 quote is
    // published exactly, not rounded to 0.00.
    let m = Market::new(
        "X",
        Price::new(1).unwrap(),
        5,
        5,
        MarginBps::new(0).unwrap(),
    )
    .unwrap();
    let p = EpochParams::new(3, 2, 0, 0, vec![m]).unwrap();
    let a = Account::new(
        AccountId::new(1),
        Balance::new(0).unwrap(),
        vec![Size::new(-1).unwrap()],
    );
    let s = Snapshot::new(p.clone(), vec![a]).unwrap();
    let out = PublicOutputs::from_evaluation(&p, &evaluate(&s));
    assert_eq!(out.bad_debt, "0.0000000001");
    assert!(
        !out.insurance_covered,
        "an empty insurance fund does not cover it"
    );
    assert!(out.solvent);
}

fn arb_account() -> impl Strategy<Value = Account> {
    (
        any::<u64>(),
        -(i64::MAX)..=i64::MAX,
        prop::collection::vec(-(i64::MAX)..=i64::MAX, 2),
    )
        .prop_map(|(id, bal, sizes)| {
            Account::new(
                AccountId::new(id),
                Balance::new(bal.into()).unwrap(),
                sizes
                    .into_iter()
                    .map(|s| Size::new(s.into()).unwrap())
                    .collect(),
            )
        })
}

fn arb_params() -> impl Strategy<Value = EpochParams> {
    (
        any::<u64>(),
        any::<u64>(),
        0u16..=10_000,
        0u16..=10_000,
        0u32..=8,
    )
        .prop_map(|(p0, p1, m0, m1, q)| {
            let m = |sym, price: u64, mm: u16| {
                Market::new(
                    sym,
                    Price::new(price.into()).unwrap(),
                    4,
                    6,
                    MarginBps::new(mm.into()).unwrap(),
                )
                .unwrap()
            };
            EpochParams::new(
                1,
                q,
                1 << 100,
                1 << 90,
                vec![m("A", p0, m0), m("B", p1, m1)],
            )
            .unwrap()
        })
}

proptest! {
    /// `Σ TV = L − D`, and liquidation agrees with the slack's sign.
    #[test]
    fn totals_balance(params in arb_params(), accounts in prop::collection::vec(arb_account(), 1..40)) {
        let scales = Scales::new(&params);
        let mut sum = I256::ZERO;
        for a in &accounts {
            let r = account_risk(&scales, a);
            prop_assert_eq!(r.liquidatable, r.margin_slack() < 0);
            prop_assert_eq!(r.total_value, r.liability - r.bad_debt);
            sum += r.total_value;
        }
        if let Ok(s) = Snapshot::new(params, accounts) {
            let e = evaluate(&s);
            prop_assert_eq!(sum, e.total_liabilities - e.bad_debt);
        }
    }

    /// The order of the input rows changes nothing.
    #[test]
    fn permutation_invariant(params in arb_params(), accounts in prop::collection::vec(arb_account(), 1..30), seed in any::<u64>()) {
        let mut shuffled = accounts.clone();
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let a = Snapshot::new(params.clone(), accounts).map(|s| evaluate(&s));
        let b = Snapshot::new(params, shuffled).map(|s| evaluate(&s));
        prop_assert_eq!(a, b);
    }

    /// Declaring one more quote decimal and scaling every balance by 10 changes no
    /// published output: the engine is exact, not precision-dependent.
    #[test]
    fn rescaling_the_quote_changes_nothing(accounts in prop::collection::vec(arb_account(), 1..20)) {
        let mk = |q: u32| {
            let m = Market::new("A", Price::new(12_345).unwrap(), 2, 3, MarginBps::new(250).unwrap()).unwrap();
            EpochParams::new(4, q, 10u128.pow(q + 3), 10u128.pow(q), vec![m]).unwrap()
        };
        let shrink = |a: &Account, div: i64| Account::new(a.id(), Balance::new((a.quote_balance().get() / div).into()).unwrap(), vec![a.sizes()[0]]);
        let base: Vec<Account> = accounts.iter().map(|a| shrink(a, 100)).collect();
        let scaled: Vec<Account> = base.iter().map(|a| Account::new(a.id(), Balance::new(i128::from(a.quote_balance().get()) * 10).unwrap(), vec![a.sizes()[0]])).collect();
        if let (Ok(s1), Ok(s2)) = (Snapshot::new(mk(4), base), Snapshot::new(mk(5), scaled)) {
            let o1 = PublicOutputs::from_evaluation(s1.params(), &evaluate(&s1));
            let o2 = PublicOutputs::from_evaluation(s2.params(), &evaluate(&s2));
            prop_assert_eq!(o1.liquidations, o2.liquidations);
            prop_assert_eq!(o1.solvent, o2.solvent);
            prop_assert_eq!(o1.insurance_covered, o2.insurance_covered);
            // Same value, written with at least 5 rather than 4 places.
            prop_assert_eq!(parse_scaled(&o1.bad_debt, 12).unwrap(), parse_scaled(&o2.bad_debt, 12).unwrap());
        }
    }
}
