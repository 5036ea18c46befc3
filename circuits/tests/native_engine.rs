//! Hand-worked cases and properties of the exact native engine (`docs/SPEC.md` §2–§3).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::parse_scaled;
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use backstop_circuits::native::commit::{BatchSize, commit_epoch};
use backstop_circuits::native::{Scales, account_risk, evaluate};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::snapshot::{self, write_dir};
use backstop_circuits::statement::PublicOutputs;
use ethnum::I256;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A scratch directory under Cargo's per-target temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "native-engine-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a snapshot directory from the files' text.
fn write_snapshot_files(dir: &Path, epoch_toml: &str, accounts_csv: &str, positions_csv: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(snapshot::EPOCH_TOML), epoch_toml).unwrap();
    std::fs::write(dir.join(snapshot::ACCOUNTS_CSV), accounts_csv).unwrap();
    std::fs::write(dir.join(snapshot::POSITIONS_CSV), positions_csv).unwrap();
}

const HAND_EPOCH_TOML: &str = r#"epoch = 12
quote_decimals = 6
reserves = "61799.999999"
insurance_fund = "1000.5"

[[markets]]
symbol = "BTC"
price = "60000"
price_decimals = 2
size_decimals = 8
maintenance_margin_bps = 50

[[markets]]
symbol = "ETH"
price = "3000.00"
price_decimals = 2
size_decimals = 6
maintenance_margin_bps = 100
"#;

/// Rows deliberately out of id order.
const HAND_ACCOUNTS_CSV: &str = "account_id,quote_balance
30,1000
10,-61000.5
20,500
40,60299.999999
50,0
5,-0.000001
";

const HAND_POSITIONS_CSV: &str = "account_id,market,size
40,BTC,-1
20,ETH,-10
10,BTC,1
30,BTC,1
20,BTC,0.5
";

/// A hand-written snapshot directory, loaded by the loader, against totals worked
/// out by hand from SPEC §2–§3 (nothing below comes from the engine).
///
/// `E = max(6, 2 + 8, 2 + 6) = 10`; in quote units:
///
/// | id | balance | positions | TV | MR | liquidatable | liability | bad debt |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | 5 | −0.000001 | — | −0.000001 | 0 | yes (`TV < 0 = MR`) | 0 | 0.000001 |
/// | 10 | −61000.5 | 1 BTC | −1000.5 | 300 | yes | 0 | 1000.5 |
/// | 20 | 500 | 0.5 BTC, −10 ETH | 500 | 150 + 300 = 450 | no | 500 | 0 |
/// | 30 | 1000 | 1 BTC | 61000 | 300 | no | 61000 | 0 |
/// | 40 | 60299.999999 | −1 BTC | 299.999999 | 300 | yes (one unit short) | 299.999999 | 0 |
/// | 50 | 0 | — | 0 | 0 | no (`0 < 0` is false) | 0 | 0 |
///
/// `L = 61000 + 500 + 299.999999 = 61799.999999` = reserves: solvent at equality.
/// `D = 1000.5 + 0.000001 = 1000.500001` > insurance fund 1000.5: not covered, by
/// one minimal unit. `Σ TV = 60799.499998 = L − D`.
#[test]
fn hand_written_snapshot_has_the_hand_computed_totals() {
    let scratch = Scratch::new();
    let dir = scratch.path().join("hand");
    write_snapshot_files(&dir, HAND_EPOCH_TOML, HAND_ACCOUNTS_CSV, HAND_POSITIONS_CSV);
    let s = snapshot::load(&dir).unwrap();
    let e = evaluate(&s);
    // Common units are 10^-10 quote.
    assert_eq!(e.exponent, 10);
    assert_eq!(e.total_liabilities, usdc("61799.999999"));
    assert_eq!(e.total_liabilities, I256::from(617_999_999_990_000i64));
    assert_eq!(e.bad_debt, usdc("1000.500001"));
    assert_eq!(e.bad_debt, I256::from(10_005_000_010_000i64));
    assert_eq!(e.total_liabilities - e.bad_debt, usdc("60799.499998"));
    assert_eq!(e.reserves, usdc("61799.999999"));
    assert_eq!(e.insurance_fund, usdc("1000.5"));
    let ids: Vec<u64> = e.liquidations.iter().map(|id| id.get()).collect();
    assert_eq!(ids, vec![5, 10, 40]);
    assert!(e.solvent, "L == reserves is solvent");
    assert!(!e.insurance_covered, "D is one unit above the fund");
    assert_eq!(e.account_count, 6);
    let out = PublicOutputs::from_evaluation(s.params(), &e);
    assert_eq!(out.epoch, 12);
    assert_eq!(out.liquidations, vec!["5", "10", "40"]);
    assert_eq!(out.bad_debt, "1000.500001");
    assert!(out.solvent && !out.insurance_covered);
}

/// The same hand-written rows in every order (all 720 orders of the six
/// account rows, the position rows rotated with them) load to the same snapshot
/// and evaluate to the same outputs and commitments as the rows sorted by id.
#[test]
fn hand_written_snapshot_rows_in_any_order_give_the_same_outputs_and_commitments() {
    let scratch = Scratch::new();
    let sorted_dir = scratch.path().join("sorted");
    let mut accounts: Vec<&str> = HAND_ACCOUNTS_CSV.lines().skip(1).collect();
    let mut positions: Vec<&str> = HAND_POSITIONS_CSV.lines().skip(1).collect();
    let by_id = |line: &&str| line.split(',').next().unwrap().parse::<u64>().unwrap();
    let mut sorted_accounts = accounts.clone();
    sorted_accounts.sort_by_key(by_id);
    let mut sorted_positions = positions.clone();
    sorted_positions.sort_by_key(by_id);
    write_snapshot_files(
        &sorted_dir,
        HAND_EPOCH_TOML,
        &csv(snapshot::ACCOUNTS_HEADER, &sorted_accounts),
        &csv(snapshot::POSITIONS_HEADER, &sorted_positions),
    );
    let reference = Loaded::new(&sorted_dir);
    let mut orders = 0;
    permutations(&mut accounts, 0, &mut |order| {
        positions.rotate_left(1);
        let dir = scratch.path().join(format!("order-{orders}"));
        write_snapshot_files(
            &dir,
            HAND_EPOCH_TOML,
            &csv(snapshot::ACCOUNTS_HEADER, order),
            &csv(snapshot::POSITIONS_HEADER, &positions),
        );
        let loaded = Loaded::new(&dir);
        assert_eq!(loaded, reference, "{order:?} {positions:?}");
        std::fs::remove_dir_all(&dir).unwrap();
        orders += 1;
    });
    assert_eq!(orders, 720);
}

fn csv(header: &str, rows: &[&str]) -> String {
    let mut out = format!("{header}\n");
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out
}

/// Heap's algorithm: calls `f` with every order of `items`.
fn permutations<'a>(items: &mut Vec<&'a str>, k: usize, f: &mut impl FnMut(&[&'a str])) {
    if k == items.len() {
        f(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, f);
        items.swap(k, i);
    }
}

/// What a loaded snapshot directory gives: the snapshot, its evaluation, and its
/// commitments at `B = 8` (demo secret).
#[derive(Debug, PartialEq, Eq)]
struct Loaded {
    snapshot: Snapshot,
    evaluation: backstop_circuits::native::EpochEvaluation,
    accounts_commitment: String,
    state_commitments: Vec<String>,
}

impl Loaded {
    fn new(dir: &Path) -> Self {
        use backstop_circuits::hash::FieldHasher;
        let snapshot = snapshot::load(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let c = commit_epoch::<Bn254Poseidon>(
            &snapshot,
            &VenueSecret::demo(),
            BatchSize::new(8).unwrap(),
        );
        Self {
            evaluation: evaluate(&snapshot),
            accounts_commitment: Bn254Poseidon::to_hex(&c.accounts_commitment),
            state_commitments: c
                .state_commitments
                .iter()
                .map(Bn254Poseidon::to_hex)
                .collect(),
            snapshot,
        }
    }
}

/// The rows of `dir`'s `name` (a CSV file) in a shuffled order that differs from
/// the file's whenever there are two rows or more.
fn shuffle_csv_rows(dir: &Path, name: &str, seed: u64) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_owned();
    let rows: Vec<&str> = lines.collect();
    let mut shuffled = rows.clone();
    let mut x = seed | 1;
    for i in (1..shuffled.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        shuffled.swap(i, (x % (i as u64 + 1)) as usize);
    }
    if shuffled == rows && rows.len() >= 2 {
        shuffled.swap(0, 1);
    }
    std::fs::write(&path, csv(&header, &shuffled)).unwrap();
}

/// `Σ TV`, `L`, `D`, the liquidation set and the two flags of a snapshot, computed
/// here from SPEC §2–§3 with nothing of the engine: `E`, the scales, `TV` and `MR'`
/// from the raw integers.
struct Independent {
    sum_tv: I256,
    liabilities: I256,
    bad_debt: I256,
    liquidations: Vec<u64>,
    solvent: bool,
    covered: bool,
}

fn independent(params: &EpochParams, accounts: &[Account]) -> Independent {
    let ten = |e: u32| I256::from(10u8).pow(e);
    let q = params.quote_decimals();
    let e = params
        .markets()
        .iter()
        .map(|m| m.price_decimals() + m.size_decimals())
        .fold(q, u32::max);
    let f_q = ten(e - q);
    let mut out = Independent {
        sum_tv: I256::ZERO,
        liabilities: I256::ZERO,
        bad_debt: I256::ZERO,
        liquidations: Vec::new(),
        solvent: false,
        covered: false,
    };
    for a in accounts {
        let mut tv = I256::from(a.quote_balance().get()) * f_q;
        let mut mr_bps = I256::ZERO;
        for (m, size) in params.markets().iter().zip(a.sizes()) {
            let f_m = ten(e - m.price_decimals() - m.size_decimals());
            let notional = I256::from(size.get()) * I256::from(m.price().get()) * f_m;
            tv += notional;
            mr_bps += notional.abs() * I256::from(m.maintenance_margin_bps().get());
        }
        out.sum_tv += tv;
        if tv > 0 {
            out.liabilities += tv;
        } else {
            out.bad_debt -= tv;
        }
        if tv * 10_000 < mr_bps {
            out.liquidations.push(a.id().get());
        }
    }
    out.liquidations.sort_unstable();
    out.solvent = out.liabilities <= I256::from(params.reserves()) * f_q;
    out.covered = out.bad_debt <= I256::from(params.insurance_fund()) * f_q;
    out
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
        any::<u64>(),
    )
        .prop_map(|(p0, p1, m0, m1, q, epoch)| {
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
                epoch,
                q,
                1 << 100,
                1 << 90,
                vec![m("A", p0, m0), m("B", p1, m1)],
            )
            .unwrap()
        })
}

proptest! {
    /// The engine's totals, liquidation set and flags equal the ones computed here
    /// from SPEC §2–§3 on the raw inputs (`independent`), at any epoch; and
    /// `Σ TV = L − D`.
    #[test]
    fn totals_balance(params in arb_params(), accounts in prop::collection::vec(arb_account(), 1..40)) {
        let scales = Scales::new(&params);
        for a in &accounts {
            let r = account_risk(&scales, a);
            prop_assert_eq!(r.liquidatable, r.margin_slack() < 0);
            prop_assert_eq!(r.total_value, r.liability - r.bad_debt);
        }
        let want = independent(&params, &accounts);
        prop_assert_eq!(want.sum_tv, want.liabilities - want.bad_debt);
        if let Ok(s) = Snapshot::new(params, accounts) {
            let e = evaluate(&s);
            prop_assert_eq!(e.total_liabilities, want.liabilities);
            prop_assert_eq!(e.bad_debt, want.bad_debt);
            prop_assert_eq!(e.total_liabilities - e.bad_debt, want.sum_tv);
            let ids: Vec<u64> = e.liquidations.iter().map(|id| id.get()).collect();
            prop_assert_eq!(ids, want.liquidations);
            prop_assert_eq!(e.solvent, want.solvent);
            prop_assert_eq!(e.insurance_covered, want.covered);
        }
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

proptest! {
    // Each case writes and loads two snapshot directories and commits to both.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The order of the input rows changes nothing: a snapshot written canonically,
    /// and the same directory with its `accounts.csv` and `positions.csv` rows
    /// shuffled, load (through the loader) to the same snapshot, evaluation and
    /// commitments, at any epoch.
    #[test]
    fn permutation_invariant(params in arb_params(), accounts in prop::collection::vec(arb_account(), 1..30), seed in any::<u64>()) {
        let Ok(s) = Snapshot::new(params, accounts) else {
            return Ok(());
        };
        let scratch = Scratch::new();
        let canonical = scratch.path().join("canonical");
        write_dir(&s, &canonical).unwrap();
        let shuffled = scratch.path().join("shuffled");
        write_dir(&s, &shuffled).unwrap();
        shuffle_csv_rows(&shuffled, snapshot::ACCOUNTS_CSV, seed);
        shuffle_csv_rows(&shuffled, snapshot::POSITIONS_CSV, seed.rotate_left(17));
        let a = Loaded::new(&canonical);
        let b = Loaded::new(&shuffled);
        prop_assert_eq!(&a.snapshot, &s);
        prop_assert_eq!(a, b);
    }
}
