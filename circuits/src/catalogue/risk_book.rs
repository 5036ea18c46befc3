//! The risk model v2 book both backends' risk tests prove (`docs/SPEC.md` §2.2,
//! §8.1, §8.2): accounts below, at and above each bracket floor, a debt, a holding
//! liquidated through its haircut alone, bad debt.

use proptest::prelude::*;

use crate::model::{
    Account, AccountId, Amount, Asset, Balance, EpochParams, FeeBps, MarginBps, Market, Price,
    RatioBps, Size, Snapshot, Tier,
};

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
/// The risk book's parameters with liquidation fees of 100 and 250 bps.
pub(crate) fn with_fees(p: &EpochParams) -> EpochParams {
    let markets = (p.markets().iter())
        .zip([100, 250])
        .map(|(m, f)| m.clone().with_liquidation_fee(FeeBps::new(f).unwrap()))
        .collect();
    EpochParams::new(
        p.epoch(),
        p.quote_decimals(),
        p.reserves(),
        p.insurance_fund(),
        markets,
    )
    .unwrap()
    .with_assets(p.assets().to_vec())
    .unwrap()
}

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

/// Random risk model v2 books: 1–2 markets with up to 4 random brackets, 0–2
/// assets (at least one bracket or asset), 1–13 accounts crossing the floors.
pub(crate) fn random_book() -> impl Strategy<Value = Snapshot> {
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
