//! Risk model v2 in the native engine (`docs/SPEC.md` §2.2, §2.3): maintenance
//! brackets, collateral assets with haircuts and per-asset reserves, worked by hand
//! and checked by properties.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::parse_scaled;
use backstop_circuits::model::{
    Account, AccountId, Amount, Asset, Balance, EpochParams, MarginBps, Market, Price, RatioBps,
    Size, Snapshot, Tier,
};
use backstop_circuits::native::risk::{Bracket, bracket_of};
use backstop_circuits::native::{Scales, account_risk, evaluate};
use backstop_circuits::snapshot;
use backstop_circuits::statement::PublicOutputs;
use ethnum::I256;
use proptest::prelude::*;
use std::path::Path;

fn ten(e: u32) -> I256 {
    I256::from(10u8).pow(e)
}

/// `v` quote written with `decimals` places, in common units of `10^-e`.
fn common(v: &str, e: u32) -> I256 {
    let places = v.split('.').nth(1).map_or(0, str::len) as u32;
    I256::from(parse_scaled(v, places).unwrap()) * ten(e - places)
}

fn valid_v2() -> Snapshot {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_snapshots/valid_v2");
    snapshot::load(&dir).unwrap()
}

/// The catalogue's `valid_v2` book, by hand (E = 10). BTC brackets: 5% from 0, 10%
/// from 50,000, 25% from 250,000 quote; cum_1 = 50,000 · 5% = 2,500 and
/// cum_2 = 2,500 + 250,000 · 15% = 40,000. WBTC at 65,000.5 counts 90%, USDT at
/// 0.9998 counts 95%.
#[test]
fn the_worked_book() {
    let s = valid_v2();
    let scales = Scales::new(s.params());
    let e = scales.exponent;
    assert_eq!(e, 10);
    let bps = I256::from(10_000);
    let risks: Vec<_> = s
        .accounts()
        .iter()
        .map(|a| account_risk(&scales, a))
        .collect();

    // Account 1: 1,000.50 quote, 0.5 BTC (notional 32,500.25: first bracket), 0.25 WBTC.
    let r = &risks[0];
    assert_eq!(r.requirement_bps, common("32500.25", e) * I256::from(500));
    assert_eq!(
        r.margin_value_bps,
        common("33500.75", e) * bps + common("16250.125", e) * I256::from(9_000)
    );
    assert_eq!(r.total_value, common("49750.875", e));
    assert!(!r.liquidatable);

    // Account 2: −20 quote, −1.25 ETH (flat 10%), −150.5 USDT borrowed: the debt
    // counts in full, not at 95%.
    let r = &risks[1];
    assert_eq!(r.requirement_bps, common("3750", e) * I256::from(1_000));
    let usdt_debt = common("-150.4699", e);
    assert_eq!(r.total_value, common("-3770", e) + usdt_debt);
    assert_eq!(r.margin_value_bps, r.total_value * bps);
    assert!(r.liquidatable);
    assert_eq!(r.bad_debt, -r.total_value);

    // Account 3: 4 BTC, notional 260,002: the third bracket,
    // MR = 260,002 · 25% − 40,000 = 25,000.5 (= max(13,000.1, 23,500.2, 25,000.5)).
    let r = &risks[2];
    assert_eq!(r.requirement_bps, common("25000.5", e) * bps);
    let wbtc = common("65000.5", e);
    let usdt = common("2499.5", e);
    assert_eq!(r.total_value, common("260002", e) + wbtc + usdt);
    assert_eq!(
        r.margin_value_bps,
        common("260002", e) * bps + wbtc * I256::from(9_000) + usdt * I256::from(9_500)
    );

    let eval = evaluate(&s);
    assert_eq!(eval.liquidations, [AccountId::new(2)]);
    assert_eq!(eval.bad_debt, -risks[1].total_value);
    assert_eq!(
        eval.total_liabilities,
        risks[0].total_value + risks[2].total_value
    );
    // Reserves: 1,000,000.50 quote, 12.5 WBTC and 100,000 USDT at their prices.
    assert_eq!(eval.reserves, common("1000000.50", e));
    assert_eq!(
        eval.asset_reserves,
        common("812506.25", e) + common("99980", e)
    );
    assert!(eval.solvent);
    // Owed: 1.25 WBTC of 12.5, 2,500 USDT of 100,000 (the borrowed 150.5 is not owed).
    assert_eq!(
        eval.asset_owed,
        [I256::from(125_000_000), I256::from(2_500_000_000u64)]
    );
    assert_eq!(eval.asset_solvency, [true, true]);
    let printed =
        serde_json::to_string(&PublicOutputs::from_evaluation(s.params(), &eval)).unwrap();
    assert!(
        printed.ends_with(r#""asset_solvency":{"WBTC":true,"USDT":true}}"#),
        "{printed}"
    );
}

/// A venue holding less of one asset than it owes is insolvent in that asset while
/// solvent in total value.
#[test]
fn asset_insolvency_is_per_asset() {
    let s = valid_v2();
    let p = s.params();
    let wbtc = &p.assets()[0];
    let short = Asset::new(
        wbtc.symbol(),
        wbtc.price(),
        wbtc.price_decimals(),
        wbtc.amount_decimals(),
        wbtc.collateral_ratio_bps(),
        124_999_999, // one minimal unit less than the 1.25 WBTC owed
    )
    .unwrap();
    let params = p
        .clone()
        .with_assets(vec![short, p.assets()[1].clone()])
        .unwrap();
    let t = Snapshot::new(params, s.accounts().to_vec()).unwrap();
    let eval = evaluate(&t);
    assert_eq!(eval.asset_solvency, [false, true]);
    assert!(eval.solvent);
}

fn flat_market(bps: i128) -> Market {
    Market::new(
        "BTC",
        Price::new(100).unwrap(),
        0,
        0,
        MarginBps::new(bps).unwrap(),
    )
    .unwrap()
}

/// A collateral crash liquidates through the haircut alone: no position moves.
#[test]
fn a_haircut_liquidates_without_a_perp_move() {
    let asset = |price: i128| {
        Asset::new(
            "ETH",
            Price::new(price).unwrap(),
            0,
            0,
            RatioBps::new(8_000).unwrap(),
            0,
        )
        .unwrap()
    };
    // Short 1 BTC at 100 (MR 10), −100 quote of proceeds taken, 3 ETH as collateral.
    let book = |price: i128| {
        let params = EpochParams::new(1, 0, 0, 0, vec![flat_market(1_000)])
            .unwrap()
            .with_assets(vec![asset(price)])
            .unwrap();
        let account = Account::new(
            AccountId::new(1),
            Balance::new(100).unwrap(),
            vec![Size::new(-1).unwrap()],
        )
        .with_amounts(vec![Amount::new(3).unwrap()]);
        Snapshot::new(params, vec![account]).unwrap()
    };
    // ETH at 5: MV = 100 − 100 + 3 · 5 · 0.8 = 12 ≥ 10.
    let calm = book(5);
    let r = account_risk(&Scales::new(calm.params()), &calm.accounts()[0]);
    assert_eq!(r.margin_value_bps, I256::from(120_000));
    assert!(!r.liquidatable);
    // ETH at 4: MV = 9.6 < 10, although the equity 12 is above the requirement.
    let crash = book(4);
    let r = account_risk(&Scales::new(crash.params()), &crash.accounts()[0]);
    assert_eq!(r.margin_value_bps, I256::from(96_000));
    assert_eq!(r.total_value, I256::from(12));
    assert!(r.liquidatable);
}

/// The bracket of a notional exactly at a floor is that floor's; one minimal unit
/// below it is the one before, and the requirement is continuous across.
#[test]
fn a_floor_belongs_to_its_bracket() {
    let market = flat_market(100)
        .with_tiers(vec![
            Tier::new(1_000, MarginBps::new(300).unwrap()).unwrap(),
            Tier::new(5_000, MarginBps::new(1_000).unwrap()).unwrap(),
        ])
        .unwrap();
    let params = EpochParams::new(1, 0, 0, 0, vec![market]).unwrap();
    let scales = Scales::new(&params);
    let brackets = &scales.brackets[0];
    for (t, floor) in [(1usize, 1_000i64), (2, 5_000)] {
        let at = I256::from(floor);
        assert_eq!(bracket_of(brackets, at), Some(&brackets[t]));
        assert_eq!(bracket_of(brackets, at - I256::ONE), Some(&brackets[t - 1]));
        assert_eq!(
            brackets[t].requirement_bps(at),
            brackets[t - 1].requirement_bps(at),
            "continuous at {floor}"
        );
    }
    // Positions of 10, 50 and 49.99 BTC at 100 (size decimals 0: whole units).
    let mr = |size: i128| {
        let params = params.clone();
        let a = Account::new(
            AccountId::new(1),
            Balance::default(),
            vec![Size::new(size).unwrap()],
        );
        let s = Snapshot::new(params, vec![a]).unwrap();
        account_risk(&Scales::new(s.params()), &s.accounts()[0]).requirement_bps
    };
    // n = 1,000: 3% − cum (1,000 · 2% = 20): 30 − 20 = 10 = 1% of 1,000.
    assert_eq!(mr(10), I256::from(100_000));
    assert_eq!(mr(-10), I256::from(100_000));
    // n = 5,000: 10% − (20 + 5,000 · 7% = 370) = 130 = 3% of 5,000 − 20.
    assert_eq!(mr(50), I256::from(1_300_000));
}

#[test]
fn brackets_are_validated() {
    let tier = |floor: u128, bps: i128| Tier::new(floor, MarginBps::new(bps).unwrap()).unwrap();
    assert!(Tier::new(0, MarginBps::new(1).unwrap()).is_err());
    assert!(Tier::new(1 << 64, MarginBps::new(1).unwrap()).is_err());
    assert!(Tier::new(u128::from(u64::MAX), MarginBps::new(1).unwrap()).is_ok());
    assert!(
        flat_market(100).with_tiers(vec![tier(10, 100)]).is_ok(),
        "equal rates"
    );
    assert!(flat_market(100).with_tiers(vec![tier(10, 99)]).is_err());
    assert!(
        flat_market(100)
            .with_tiers(vec![tier(10, 200), tier(10, 300)])
            .is_err()
    );
    let seven: Vec<Tier> = (1..=7).map(|i| tier(i, 100)).collect();
    assert!(flat_market(100).with_tiers(seven.clone()).is_ok());
    let eight: Vec<Tier> = (1..=8).map(|i| tier(i, 100)).collect();
    assert!(flat_market(100).with_tiers(eight).is_err());
}

/// Random brackets: `(floors, rates)` with floors strictly increasing from above 0 and
/// rates non-decreasing from the first.
fn brackets_strategy() -> impl Strategy<Value = (u16, Vec<(u64, u16)>)> {
    (
        0u16..=10_000,
        prop::collection::vec((1u64..1 << 40, 0u16..=2_000), 0..7),
    )
        .prop_map(|(first, steps)| {
            let mut floor = 0u64;
            let mut rate = first;
            let tiers = steps
                .into_iter()
                .map(|(df, dr)| {
                    floor += df;
                    rate = (rate + dr).min(10_000);
                    (floor, rate)
                })
                .collect();
            (first, tiers)
        })
}

fn scales_of(first: u16, tiers: &[(u64, u16)]) -> Scales {
    let market = flat_market(first.into())
        .with_tiers(
            tiers
                .iter()
                .map(|&(f, r)| Tier::new(f.into(), MarginBps::new(r.into()).unwrap()).unwrap())
                .collect(),
        )
        .unwrap();
    Scales::new(&EpochParams::new(1, 0, 0, 0, vec![market]).unwrap())
}

/// The largest linear piece at `n`.
fn max_piece(brackets: &[Bracket], n: I256) -> I256 {
    brackets.iter().map(|b| b.requirement_bps(n)).max().unwrap()
}

proptest! {
    /// The bracket formula is the maximum over brackets of their linear pieces, it
    /// is continuous at every floor, and it never decreases with the notional.
    #[test]
    fn tiered_requirement_is_the_max_of_the_pieces(
        (first, tiers) in brackets_strategy(),
        n in 0u64..1 << 44,
    ) {
        let scales = scales_of(first, &tiers);
        let brackets = &scales.brackets[0];
        let n = I256::from(n);
        let mr = bracket_of(brackets, n).unwrap().requirement_bps(n);
        prop_assert_eq!(mr, max_piece(brackets, n));
        prop_assert!(mr >= I256::ZERO);
        let next = I256::ONE + n;
        prop_assert!(bracket_of(brackets, next).unwrap().requirement_bps(next) >= mr);
        for t in 1..brackets.len() {
            let f = brackets[t].floor;
            prop_assert_eq!(brackets[t].requirement_bps(f), brackets[t - 1].requirement_bps(f));
        }
    }

    /// Σ EQ = L − D over a book with collateral (debts included), and the outputs do
    /// not depend on the order the accounts are given in.
    #[test]
    fn equity_adds_up_and_order_does_not_matter(
        rows in prop::collection::vec(
            (-1_000_000i64..1_000_000, -1_000i64..1_000, -1_000i64..1_000, -1_000i64..1_000),
            1..40,
        ),
        ratio in 0u16..=10_000,
        rotate in 0usize..40,
    ) {
        let market = flat_market(500)
            .with_tiers(vec![Tier::new(20_000, MarginBps::new(900).unwrap()).unwrap()])
            .unwrap();
        let assets = vec![
            Asset::new("ETH", Price::new(37).unwrap(), 0, 0, RatioBps::new(ratio.into()).unwrap(), 5_000).unwrap(),
            Asset::new("USD1", Price::new(1).unwrap(), 0, 0, RatioBps::new(10_000).unwrap(), 0).unwrap(),
        ];
        let params = EpochParams::new(1, 0, 0, 0, vec![market]).unwrap().with_assets(assets).unwrap();
        let accounts: Vec<Account> = rows
            .iter()
            .enumerate()
            .map(|(i, &(q, s, a, b))| {
                Account::new(AccountId::new(i as u64), Balance::new(q.into()).unwrap(), vec![Size::new(s.into()).unwrap()])
                    .with_amounts(vec![Amount::new(a.into()).unwrap(), Amount::new(b.into()).unwrap()])
            })
            .collect();
        let s = Snapshot::new(params.clone(), accounts.clone()).unwrap();
        let scales = Scales::new(s.params());
        let sum = s.accounts().iter().fold(I256::ZERO, |acc, a| acc + account_risk(&scales, a).total_value);
        let eval = evaluate(&s);
        prop_assert_eq!(sum, eval.total_liabilities - eval.bad_debt);
        let mut shuffled = accounts;
        let k = rotate % shuffled.len();
        shuffled.rotate_left(k);
        shuffled.reverse();
        prop_assert_eq!(evaluate(&Snapshot::new(params, shuffled).unwrap()), eval);
    }
}
