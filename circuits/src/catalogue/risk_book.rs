//! The risk model v2 book both backends' risk tests prove (`docs/SPEC.md` §2.2,
//! §8.1, §8.2): accounts below, at and above each bracket floor, a debt, a holding
//! liquidated through its haircut alone, bad debt.

use crate::model::{
    Account, AccountId, Amount, Asset, Balance, EpochParams, MarginBps, Market, Price, RatioBps,
    Size, Snapshot, Tier,
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
