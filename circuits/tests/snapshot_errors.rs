//! The catalogue of bad snapshot inputs under `tests/bad_snapshots/`, one directory
//! per defect (in the style of PSE Summa's bad-input catalogue): each must be refused
//! with exactly the file, row, field and reason listed here.
//!
//! A case directory holds either the three files of the directory form or one
//! `snapshot.json`. `valid` and `valid_json` must load.

#![allow(clippy::unwrap_used, clippy::panic)]

use backstop_circuits::decimal::DecimalError;
use backstop_circuits::model::ModelError;
use backstop_circuits::snapshot::{Reason, SnapshotError, load, to_json, write_dir};
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

struct Case {
    name: &'static str,
    file: &'static str,
    row: Option<u64>,
    field: Option<&'static str>,
    reason: fn(&Reason) -> bool,
    pattern: &'static str,
}

macro_rules! case {
    ($name:literal, $file:literal, $row:expr, $field:expr, $($pat:tt)+) => {
        Case {
            name: $name,
            file: $file,
            row: $row,
            field: $field,
            reason: |r| matches!(r, $($pat)+),
            pattern: stringify!($($pat)+),
        }
    };
}

fn cases() -> Vec<Case> {
    use DecimalError as D;
    use ModelError as M;
    use Reason as R;
    vec![
        // epoch.toml
        case!(
            "missing_epoch_toml",
            "epoch.toml",
            None,
            None,
            R::Io {
                kind: ErrorKind::NotFound,
                ..
            }
        ),
        case!(
            "epoch_toml_syntax_error",
            "epoch.toml",
            Some(3),
            None,
            R::Syntax(_)
        ),
        case!(
            "epoch_toml_not_utf8",
            "epoch.toml",
            Some(7),
            None,
            R::NotUtf8 { offset: 99 }
        ),
        case!(
            "epoch_toml_unknown_key",
            "epoch.toml",
            Some(11),
            Some("markets[0].maintenance_margin"),
            R::UnknownField
        ),
        case!(
            "epoch_toml_unknown_top_level_key",
            "epoch.toml",
            Some(5),
            Some("quote_currency"),
            R::UnknownField
        ),
        case!(
            "epoch_toml_missing_field",
            "epoch.toml",
            None,
            Some("insurance_fund"),
            R::MissingField
        ),
        case!(
            "epoch_toml_missing_market_field",
            "epoch.toml",
            Some(13),
            Some("markets[1].price"),
            R::MissingField
        ),
        case!(
            "epoch_toml_missing_markets",
            "epoch.toml",
            None,
            Some("markets"),
            R::MissingField
        ),
        case!("epoch_negative", "epoch.toml", Some(1), Some("epoch"), R::NotU64(v) if v == "-1"),
        case!("epoch_too_large", "epoch.toml", Some(1), Some("epoch"), R::NotU64(v) if v == "18446744073709551616"),
        case!(
            "quote_decimals_too_large",
            "epoch.toml",
            Some(2),
            Some("quote_decimals"),
            R::Model(M::OutOfBounds {
                field: "quote_decimals",
                ..
            })
        ),
        case!(
            "quote_decimals_as_string",
            "epoch.toml",
            Some(2),
            Some("quote_decimals"),
            R::WrongType {
                expected: "an integer",
                found: "a string"
            }
        ),
        case!(
            "price_decimals_too_large",
            "epoch.toml",
            Some(9),
            Some("markets[0].price_decimals"),
            R::Model(M::OutOfBounds {
                field: "price_decimals",
                ..
            })
        ),
        case!(
            "size_decimals_negative",
            "epoch.toml",
            Some(10),
            Some("markets[0].size_decimals"),
            R::Model(M::OutOfBounds {
                field: "size_decimals",
                ..
            })
        ),
        case!(
            "margin_bps_too_large",
            "epoch.toml",
            Some(11),
            Some("markets[0].maintenance_margin_bps"),
            R::Model(M::OutOfBounds {
                field: "maintenance_margin_bps",
                ..
            })
        ),
        case!(
            "price_negative",
            "epoch.toml",
            Some(8),
            Some("markets[0].price"),
            R::Decimal(D::Negative(_))
        ),
        case!(
            "price_too_large",
            "epoch.toml",
            Some(8),
            Some("markets[0].price"),
            R::Model(M::OutOfBounds { field: "price", .. })
        ),
        case!(
            "price_too_many_decimals",
            "epoch.toml",
            Some(8),
            Some("markets[0].price"),
            R::Decimal(D::TooManyDecimals { decimals: 2, .. })
        ),
        case!(
            "price_as_number",
            "epoch.toml",
            Some(8),
            Some("markets[0].price"),
            R::WrongType {
                expected: "a decimal string",
                found: "a non-integer number"
            }
        ),
        case!(
            "reserves_as_integer",
            "epoch.toml",
            Some(3),
            Some("reserves"),
            R::WrongType {
                expected: "a decimal string",
                found: "an integer"
            }
        ),
        case!(
            "reserves_too_large",
            "epoch.toml",
            Some(3),
            Some("reserves"),
            R::Decimal(D::OutOfBounds { .. })
        ),
        case!(
            "reserves_negative",
            "epoch.toml",
            Some(3),
            Some("reserves"),
            R::Decimal(D::Negative(_))
        ),
        case!(
            "insurance_fund_too_many_decimals",
            "epoch.toml",
            Some(4),
            Some("insurance_fund"),
            R::Decimal(D::TooManyDecimals { decimals: 2, .. })
        ),
        case!(
            "insurance_fund_negative",
            "epoch.toml",
            Some(4),
            Some("insurance_fund"),
            R::Decimal(D::Negative(_))
        ),
        case!(
            "no_markets",
            "epoch.toml",
            Some(5),
            Some("markets"),
            R::Model(M::MarketCount(0))
        ),
        case!(
            "too_many_markets",
            "epoch.toml",
            Some(6),
            Some("markets"),
            R::Model(M::MarketCount(65))
        ),
        case!("duplicate_market", "epoch.toml", Some(14), Some("markets[1].symbol"), R::Model(M::DuplicateMarket(s)) if s == "BTC"),
        case!(
            "invalid_symbol",
            "epoch.toml",
            Some(7),
            Some("markets[0].symbol"),
            R::Model(M::InvalidSymbol(_))
        ),
        case!(
            "scale_spread_quote",
            "epoch.toml",
            Some(2),
            Some("quote_decimals"),
            R::Model(M::QuoteScaleSpread { exponent: 19 })
        ),
        case!(
            "scale_spread_market",
            "epoch.toml",
            Some(13),
            Some("markets[1]"),
            R::Model(M::ScaleSpread { exponent: 28, .. })
        ),
        // accounts.csv
        case!(
            "missing_accounts_csv",
            "accounts.csv",
            None,
            None,
            R::Io {
                kind: ErrorKind::NotFound,
                ..
            }
        ),
        case!("accounts_empty_file", "accounts.csv", Some(1), None, R::WrongHeader { found, .. } if found.is_empty()),
        case!("accounts_wrong_header", "accounts.csv", Some(1), None, R::WrongHeader { found, .. } if found == "account,quote_balance"),
        case!(
            "accounts_header_whitespace",
            "accounts.csv",
            Some(1),
            None,
            R::WrongHeader { .. }
        ),
        case!(
            "accounts_too_few_columns",
            "accounts.csv",
            Some(3),
            None,
            R::ColumnCount {
                expected: 2,
                found: 1
            }
        ),
        case!(
            "accounts_too_many_columns",
            "accounts.csv",
            Some(2),
            None,
            R::ColumnCount {
                expected: 2,
                found: 3
            }
        ),
        case!(
            "accounts_blank_line",
            "accounts.csv",
            Some(3),
            None,
            R::BlankLine
        ),
        case!("accounts_leading_whitespace", "accounts.csv", Some(2), Some("account_id"), R::NotU64(v) if v == " 1"),
        case!(
            "accounts_trailing_whitespace",
            "accounts.csv",
            Some(2),
            Some("quote_balance"),
            R::Decimal(D::Malformed(_))
        ),
        case!(
            "accounts_id_not_a_number",
            "accounts.csv",
            Some(3),
            Some("account_id"),
            R::NotU64(_)
        ),
        case!(
            "accounts_id_negative",
            "accounts.csv",
            Some(3),
            Some("account_id"),
            R::NotU64(_)
        ),
        case!(
            "accounts_id_too_large",
            "accounts.csv",
            Some(3),
            Some("account_id"),
            R::NotU64(_)
        ),
        case!("accounts_id_leading_zero", "accounts.csv", Some(3), Some("account_id"), R::NotU64(v) if v == "02"),
        case!(
            "accounts_quoted_value",
            "accounts.csv",
            Some(3),
            Some("account_id"),
            R::NotU64(_)
        ),
        case!(
            "accounts_duplicate_id",
            "accounts.csv",
            Some(4),
            Some("account_id"),
            R::DuplicateAccount {
                id: 1,
                first_row: 2
            }
        ),
        case!(
            "accounts_balance_too_many_decimals",
            "accounts.csv",
            Some(7),
            Some("quote_balance"),
            R::Decimal(D::TooManyDecimals { decimals: 2, .. })
        ),
        case!(
            "accounts_balance_too_large",
            "accounts.csv",
            Some(3),
            Some("quote_balance"),
            R::Model(M::OutOfBounds {
                field: "quote_balance",
                ..
            })
        ),
        case!(
            "accounts_balance_i64_min",
            "accounts.csv",
            Some(3),
            Some("quote_balance"),
            R::Model(M::OutOfBounds {
                field: "quote_balance",
                ..
            })
        ),
        case!(
            "accounts_balance_malformed",
            "accounts.csv",
            Some(3),
            Some("quote_balance"),
            R::Decimal(D::Malformed(_))
        ),
        case!(
            "accounts_balance_empty",
            "accounts.csv",
            Some(3),
            Some("quote_balance"),
            R::Decimal(D::Empty)
        ),
        case!(
            "accounts_not_utf8",
            "accounts.csv",
            Some(4),
            None,
            R::NotUtf8 { offset: 44 }
        ),
        case!(
            "accounts_no_accounts",
            "accounts.csv",
            None,
            None,
            R::Model(M::Empty)
        ),
        // positions.csv
        case!("positions_empty_file", "positions.csv", Some(1), None, R::WrongHeader { found, .. } if found.is_empty()),
        case!(
            "positions_wrong_header",
            "positions.csv",
            Some(1),
            None,
            R::WrongHeader { .. }
        ),
        case!(
            "positions_column_count",
            "positions.csv",
            Some(3),
            None,
            R::ColumnCount {
                expected: 3,
                found: 2
            }
        ),
        case!(
            "positions_blank_line",
            "positions.csv",
            Some(4),
            None,
            R::BlankLine
        ),
        case!(
            "positions_account_id_invalid",
            "positions.csv",
            Some(3),
            Some("account_id"),
            R::NotU64(_)
        ),
        case!(
            "positions_unknown_account",
            "positions.csv",
            Some(3),
            Some("account_id"),
            R::UnknownAccount(99)
        ),
        case!("positions_unknown_market", "positions.csv", Some(3), Some("market"), R::UnknownMarket(m) if m == "SOL"),
        case!("positions_market_whitespace", "positions.csv", Some(3), Some("market"), R::UnknownMarket(m) if m == "ETH "),
        case!("positions_duplicate", "positions.csv", Some(5), Some("market"), R::DuplicatePosition { account: 3, first_row: 4, market } if market == "BTC"),
        case!(
            "positions_size_too_many_decimals",
            "positions.csv",
            Some(2),
            Some("size"),
            R::Decimal(D::TooManyDecimals { decimals: 8, .. })
        ),
        case!(
            "positions_size_too_large",
            "positions.csv",
            Some(2),
            Some("size"),
            R::Model(M::OutOfBounds { field: "size", .. })
        ),
        case!(
            "positions_size_malformed",
            "positions.csv",
            Some(2),
            Some("size"),
            R::Decimal(D::Malformed(_))
        ),
        case!(
            "positions_not_utf8",
            "positions.csv",
            Some(3),
            None,
            R::NotUtf8 { .. }
        ),
        // JSON form
        case!(
            "json_syntax_error",
            "snapshot.json",
            None,
            None,
            R::Syntax(_)
        ),
        case!(
            "json_not_utf8",
            "snapshot.json",
            None,
            None,
            R::NotUtf8 { .. }
        ),
        case!(
            "json_unknown_field",
            "snapshot.json",
            Some(1),
            Some("accounts[1].balance"),
            R::UnknownField
        ),
        case!(
            "json_duplicate_key",
            "snapshot.json",
            None,
            Some("quote_decimals"),
            R::DuplicateField
        ),
        case!(
            "json_missing_field",
            "snapshot.json",
            None,
            Some("insurance_fund"),
            R::MissingField
        ),
        case!(
            "json_amount_as_number",
            "snapshot.json",
            Some(0),
            Some("accounts[0].quote_balance"),
            R::WrongType {
                expected: "a decimal string",
                ..
            }
        ),
        case!("json_account_id_negative", "snapshot.json", Some(1), Some("accounts[1].account_id"), R::NotU64(v) if v == "-2"),
        case!(
            "json_duplicate_account",
            "snapshot.json",
            Some(2),
            Some("accounts[2].account_id"),
            R::DuplicateAccount {
                id: 1,
                first_row: 0
            }
        ),
        case!(
            "json_margin_bps_too_large",
            "snapshot.json",
            Some(1),
            Some("markets[1].maintenance_margin_bps"),
            R::Model(M::OutOfBounds { .. })
        ),
        case!(
            "json_unknown_market",
            "snapshot.json",
            Some(1),
            Some("accounts[1].positions[0].market"),
            R::UnknownMarket(_)
        ),
        case!(
            "json_duplicate_position",
            "snapshot.json",
            Some(0),
            Some("accounts[0].positions[1].market"),
            R::DuplicatePosition {
                account: 1,
                first_row: 0,
                ..
            }
        ),
        case!(
            "json_size_too_many_decimals",
            "snapshot.json",
            Some(1),
            Some("accounts[1].positions[0].size"),
            R::Decimal(D::TooManyDecimals { decimals: 6, .. })
        ),
        case!(
            "json_no_accounts",
            "snapshot.json",
            None,
            Some("accounts"),
            R::Model(M::Empty)
        ),
        // Risk model v2: maintenance brackets, collateral assets, balances.csv.
        case!(
            "tiers_floor_not_increasing",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[1]"),
            R::Model(M::TierFloorNotIncreasing { index: 1, .. })
        ),
        case!(
            "tiers_rate_decreasing",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[1]"),
            R::Model(M::TierRateDecreasing { index: 1, .. })
        ),
        case!(
            "tiers_rate_below_first",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[0]"),
            R::Model(M::TierRateDecreasing { index: 0, .. })
        ),
        case!(
            "tiers_floor_zero",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[0].notional_floor"),
            R::Model(M::OutOfBounds {
                field: "notional_floor",
                ..
            })
        ),
        case!(
            "tiers_floor_too_large",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[1].notional_floor"),
            R::Model(M::OutOfBounds {
                field: "notional_floor",
                ..
            })
        ),
        case!(
            "tiers_too_many",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers"),
            R::Model(M::TierCount { count: 9, .. })
        ),
        case!(
            "tiers_unknown_key",
            "epoch.toml",
            Some(12),
            Some("markets[0].tiers[0].rate"),
            R::UnknownField
        ),
        case!(
            "asset_ratio_too_large",
            "epoch.toml",
            Some(34),
            Some("assets[1].collateral_ratio_bps"),
            R::Model(M::OutOfBounds {
                field: "collateral_ratio_bps",
                ..
            })
        ),
        case!(
            "asset_duplicate_symbol",
            "epoch.toml",
            Some(30),
            Some("assets[1].symbol"),
            R::Model(M::DuplicateAsset(s)) if s == "WBTC"
        ),
        case!(
            "asset_reserves_too_large",
            "epoch.toml",
            Some(27),
            Some("assets[0].reserves"),
            R::Model(M::OutOfBounds {
                field: "reserves",
                ..
            })
        ),
        case!(
            "asset_amount_decimals_too_large",
            "epoch.toml",
            Some(33),
            Some("assets[1].amount_decimals"),
            R::Model(M::OutOfBounds {
                field: "amount_decimals",
                ..
            })
        ),
        case!(
            "assets_too_many",
            "epoch.toml",
            Some(21),
            Some("assets"),
            R::Model(M::AssetCount(17))
        ),
        case!(
            "balances_unknown_asset",
            "balances.csv",
            Some(3),
            Some("asset"),
            R::UnknownAsset(s) if s == "USDC"
        ),
        case!(
            "balances_duplicate",
            "balances.csv",
            Some(6),
            Some("asset"),
            R::DuplicateBalance {
                account: 1,
                first_row: 2,
                ..
            }
        ),
        case!(
            "balances_amount_too_many_decimals",
            "balances.csv",
            Some(3),
            Some("amount"),
            R::Decimal(D::TooManyDecimals { .. })
        ),
        case!(
            "balances_amount_too_large",
            "balances.csv",
            Some(5),
            Some("amount"),
            R::Model(M::OutOfBounds {
                field: "amount",
                ..
            })
        ),
        case!(
            "balances_unknown_account",
            "balances.csv",
            Some(6),
            Some("account_id"),
            R::UnknownAccount(9)
        ),
        case!(
            "balances_wrong_header",
            "balances.csv",
            Some(1),
            None,
            R::WrongHeader { .. }
        ),
        case!(
            "json_balance_duplicate",
            "snapshot.json",
            Some(2),
            Some("accounts[2].balances[2].asset"),
            R::DuplicateBalance {
                account: 3,
                first_row: 0,
                ..
            }
        ),
    ]
}

fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_snapshots")
}

/// Loads a case directory: its `snapshot.json` if it has one, else the directory.
fn load_case(dir: &Path) -> Result<backstop_circuits::model::Snapshot, SnapshotError> {
    let json = dir.join("snapshot.json");
    load(if json.exists() { &json } else { dir })
}

#[test]
fn every_bad_input_is_refused_precisely() {
    let mut failures = Vec::new();
    for case in cases() {
        match load_case(&catalogue().join(case.name)) {
            Ok(_) => failures.push(format!("{}: loaded", case.name)),
            Err(e) => {
                let got = (e.file.as_str(), e.row, e.field.as_deref());
                let want = (case.file, case.row, case.field);
                if got != want || !(case.reason)(&e.reason) {
                    failures.push(format!(
                        "{}: got {got:?} {:?}\n    want {want:?} {}\n    ({e})",
                        case.name, e.reason, case.pattern
                    ));
                }
                // The message names the file first.
                assert!(e.to_string().starts_with(case.file), "{e}");
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn catalogue_and_table_agree() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(catalogue())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !["valid", "valid_json", "valid_v2", "valid_v2_json"].contains(&n.as_str()))
        .collect();
    let listed: BTreeSet<String> = cases().iter().map(|c| c.name.to_owned()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn valid_snapshots_load_and_agree() {
    let dir = load_case(&catalogue().join("valid")).unwrap();
    let json = load_case(&catalogue().join("valid_json")).unwrap();
    assert_eq!(dir, json);
    assert_eq!(dir.accounts().len(), 3);
    assert_eq!(dir.params().markets().len(), 2);
    // Canonical writers round-trip.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("snapshot-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    write_dir(&dir, &out.join("snap")).unwrap();
    assert_eq!(load(&out.join("snap")).unwrap(), dir);
    std::fs::write(out.join("snapshot.json"), to_json(&dir)).unwrap();
    assert_eq!(load(&out.join("snapshot.json")).unwrap(), dir);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn valid_risk_model_v2_snapshots_load_and_agree() {
    let dir = load_case(&catalogue().join("valid_v2")).unwrap();
    let json = load_case(&catalogue().join("valid_v2_json")).unwrap();
    assert_eq!(dir, json);
    let p = dir.params();
    assert!(p.uses_risk_model_v2());
    let floors: Vec<u64> = p.markets()[0]
        .tiers()
        .iter()
        .map(|t| t.notional_floor())
        .collect();
    assert_eq!(floors, [5_000_000, 25_000_000], "quote units of 10^-2");
    assert!(p.markets()[1].tiers().is_empty());
    assert_eq!(p.assets().len(), 2);
    assert_eq!(p.assets()[0].reserves(), 1_250_000_000);
    assert_eq!(p.assets()[1].price().get(), 9_998);
    // E = max(2, 8 + 2, 6 + 2, 8 + 2, 6 + 4) = 10.
    assert_eq!(p.common_exponent(), 10);
    let amounts: Vec<Vec<i64>> = dir
        .accounts()
        .iter()
        .map(|a| a.amounts().iter().map(|v| v.get()).collect())
        .collect();
    assert_eq!(
        amounts,
        [
            vec![25_000_000, 0],
            vec![0, -150_500_000],
            vec![100_000_000, 2_500_000_000]
        ]
    );
    // Canonical writers round-trip, balances.csv included.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("snapshot-errors-v2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    write_dir(&dir, &out.join("snap")).unwrap();
    assert!(out.join("snap/balances.csv").exists());
    assert_eq!(load(&out.join("snap")).unwrap(), dir);
    std::fs::write(out.join("snapshot.json"), to_json(&dir)).unwrap();
    assert_eq!(load(&out.join("snapshot.json")).unwrap(), dir);
    // A risk model v1 snapshot is written without balances.csv, as before.
    let v1 = load_case(&catalogue().join("valid")).unwrap();
    write_dir(&v1, &out.join("v1")).unwrap();
    assert!(!out.join("v1/balances.csv").exists());
    assert!(!to_json(&v1).contains("assets"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn display_names_file_row_and_field() {
    let e = load_case(&catalogue().join("accounts_balance_too_many_decimals")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "accounts.csv row 7, field quote_balance: \"1.2345\" has more than 2 decimal places \
         (would need rounding)"
    );
    let e = load_case(&catalogue().join("accounts_duplicate_id")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "accounts.csv row 4, field account_id: duplicate account id 1 (first in row 2)"
    );
    let e = load_case(&catalogue().join("json_size_too_many_decimals")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "snapshot.json row 1, field accounts[1].positions[0].size: \"-1.2500001\" has more than 6 \
         decimal places (would need rounding)"
    );
    // A wrong accounts.csv header names both headers the file may have.
    let e = load_case(&catalogue().join("accounts_wrong_header")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "accounts.csv row 1: expected header \"account_id,quote_balance\" or \
         \"account_id,quote_balance,owner\", found \"account,quote_balance\""
    );
}

#[test]
fn a_file_is_not_a_snapshot_dir() {
    let e =
        backstop_circuits::snapshot::load_dir(&catalogue().join("valid/epoch.toml")).unwrap_err();
    assert!(e.file.ends_with("epoch.toml"));
    assert!(matches!(
        e.reason,
        Reason::Io {
            kind: ErrorKind::NotADirectory,
            ..
        }
    ));
}
