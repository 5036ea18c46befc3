//! Unit and property tests of the snapshot formats.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::write::{accounts_csv, epoch_toml, positions_csv};
use super::*;
use crate::decimal::DecimalError;
use crate::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, ModelError, OwnerBinding,
    OwnerCommitment, Price, Size,
};
use proptest::prelude::*;
use std::path::PathBuf;

const EPOCH: &str = r#"epoch = 7
quote_decimals = 2
reserves = "1000000.50"
insurance_fund = "0"

[[markets]]
symbol = "BTC"
price = "65000.5"
price_decimals = 2
size_decimals = 8
maintenance_margin_bps = 500

[[markets]]
symbol = "ETH"
price = "3000"
price_decimals = 2
size_decimals = 6
maintenance_margin_bps = 1000
"#;

fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "backstop-snapshot-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn parses_a_valid_directory() {
    let s = parse_dir_contents(
        EPOCH.as_bytes(),
        b"account_id,quote_balance\n17,-12.5\n3,100\n",
        Some(b"account_id,market,size\n17,ETH,-1.5\n3,BTC,0.25\n3,ETH,0\n"),
    )
    .unwrap();
    let p = s.params();
    assert_eq!(p.epoch(), 7);
    assert_eq!(p.reserves(), 100_000_050);
    assert_eq!(p.markets()[0].price().get(), 6_500_050);
    let ids: Vec<u64> = s.accounts().iter().map(|a| a.id().get()).collect();
    assert_eq!(ids, [3, 17]);
    assert_eq!(
        s.accounts()[0].sizes(),
        [Size::new(25_000_000).unwrap(), Size::ZERO]
    );
    assert_eq!(s.accounts()[1].quote_balance().get(), -1250);
    assert_eq!(
        s.accounts()[1].sizes(),
        [Size::ZERO, Size::new(-1_500_000).unwrap()]
    );
}

#[test]
fn line_endings_and_optional_positions() {
    let plain =
        parse_dir_contents(EPOCH.as_bytes(), b"account_id,quote_balance\n1,1", None).unwrap();
    let crlf = parse_dir_contents(
        EPOCH.as_bytes(),
        b"account_id,quote_balance\r\n1,1\r\n",
        Some(b"account_id,market,size\r\n"),
    )
    .unwrap();
    let header_only = parse_dir_contents(
        EPOCH.as_bytes(),
        b"account_id,quote_balance\n1,1.00\n",
        Some(b"account_id,market,size"),
    )
    .unwrap();
    assert_eq!(plain, crlf);
    assert_eq!(plain, header_only);
    // Two newlines at the end are a blank line.
    let e = parse_dir_contents(EPOCH.as_bytes(), b"account_id,quote_balance\n1,1\n\n", None)
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.row), ("accounts.csv", Some(3)));
    assert_eq!(e.reason, Reason::BlankLine);
}

#[test]
fn zero_size_rows_count_as_duplicates() {
    let e = parse_dir_contents(
        EPOCH.as_bytes(),
        b"account_id,quote_balance\n1,1\n",
        Some(b"account_id,market,size\n1,BTC,0\n1,BTC,1\n"),
    )
    .unwrap_err();
    assert_eq!(e.row, Some(3));
    assert_eq!(e.field.as_deref(), Some("market"));
    assert!(matches!(
        e.reason,
        Reason::DuplicatePosition { first_row: 2, .. }
    ));
}

#[test]
fn display_names_file_row_and_field() {
    let mut accounts = String::from("account_id,quote_balance\n");
    for i in 1..=5 {
        accounts.push_str(&format!("{i},0\n"));
    }
    accounts.push_str("6,1.2345\n");
    let e = parse_dir_contents(EPOCH.as_bytes(), accounts.as_bytes(), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "accounts.csv row 7, field quote_balance: \"1.2345\" has more than 2 decimal places \
         (would need rounding)"
    );
    let e = parse_dir_contents(b"epoch = 1\n", b"", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "epoch.toml, field quote_decimals: missing field"
    );
}

#[test]
fn toml_errors_have_lines_and_paths() {
    let bad = EPOCH.replace("size_decimals = 6", "size_decimal = 6");
    let e = parse_dir_contents(bad.as_bytes(), b"", None).unwrap_err();
    assert_eq!(e.row, Some(17));
    assert_eq!(e.field.as_deref(), Some("markets[1].size_decimal"));
    assert_eq!(e.reason, Reason::UnknownField);
    let bad = EPOCH.replace("maintenance_margin_bps = 1000\n", "");
    let e = parse_dir_contents(bad.as_bytes(), b"", None).unwrap_err();
    assert_eq!(
        (e.row, e.field.as_deref()),
        (Some(13), Some("markets[1].maintenance_margin_bps"))
    );
    assert_eq!(e.reason, Reason::MissingField);
    // A large epoch is written as a string.
    let big = EPOCH.replace("epoch = 7", "epoch = \"18446744073709551615\"");
    let s = parse_dir_contents(big.as_bytes(), b"account_id,quote_balance\n0,0\n", None).unwrap();
    assert_eq!(s.params().epoch(), u64::MAX);
}

/// The optional `owner` column (SPEC §4.2, §5.2): an empty cell is an account
/// without one, the snapshot's owner binding follows, and a malformed commitment
/// is refused naming file, row and field, in both forms.
#[test]
fn owner_commitments_are_read_and_named() {
    let o = format!("0x{}", "ab".repeat(32));
    let csv = format!("account_id,quote_balance,owner\n1,5,{o}\n2,6,\n");
    let s = parse_dir_contents(EPOCH.as_bytes(), csv.as_bytes(), None).unwrap();
    assert_eq!(s.accounts()[0].owner(), OwnerCommitment::parse(&o));
    assert_eq!(s.accounts()[1].owner(), None);
    assert_eq!(s.params().owner_binding(), OwnerBinding::Partial);
    assert_eq!(accounts_csv(&s), csv);
    let all = format!("account_id,quote_balance,owner\n1,5,{o}\n");
    let s = parse_dir_contents(EPOCH.as_bytes(), all.as_bytes(), None).unwrap();
    assert_eq!(s.params().owner_binding(), OwnerBinding::All);
    let none =
        parse_dir_contents(EPOCH.as_bytes(), b"account_id,quote_balance\n1,5\n", None).unwrap();
    assert_eq!(none.params().owner_binding(), OwnerBinding::None);
    for bad in [
        &o.to_uppercase().replace("0X", "0x")[..],
        "0xab",
        "ab",
        &o[2..],
    ] {
        let csv = format!("account_id,quote_balance,owner\n1,5,{o}\n2,6,{bad}\n");
        let e = parse_dir_contents(EPOCH.as_bytes(), csv.as_bytes(), None).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.row, e.field.as_deref()),
            (ACCOUNTS_CSV, Some(3), Some("owner")),
            "{e}"
        );
        assert!(e.to_string().contains("is not an owner commitment"), "{e}");
    }
    let json = format!(
        r#"{{"epoch": "7", "quote_decimals": 2, "reserves": "1", "insurance_fund": "0",
           "markets": [{{"symbol": "BTC", "price": "1", "price_decimals": 2,
                        "size_decimals": 8, "maintenance_margin_bps": 500}}],
           "accounts": [{{"account_id": "1", "quote_balance": "1", "owner": "{o}"}},
                        {{"account_id": "2", "quote_balance": "1", "owner": "0x12"}}]}}"#
    );
    let e = parse_json(json.as_bytes(), "snapshot.json").unwrap_err();
    assert_eq!(
        (e.row, e.field.as_deref()),
        (Some(1), Some("accounts[1].owner")),
        "{e}"
    );
}

#[test]
fn json_errors_have_paths_and_indices() {
    let doc = |accounts: &str| {
        format!(
            r#"{{"epoch": "7", "quote_decimals": 2, "reserves": "1", "insurance_fund": "0",
               "markets": [{{"symbol": "BTC", "price": "1", "price_decimals": 2,
                            "size_decimals": 8, "maintenance_margin_bps": 500}}],
               "accounts": {accounts}}}"#
        )
    };
    let ok = parse_json(
        doc(r#"[{"account_id": 5, "quote_balance": "1"}, {"account_id": "17", "quote_balance": "-12.5", "positions": [{"market": "BTC", "size": "0.25"}]}]"#).as_bytes(),
        "snapshot.json",
    )
    .unwrap();
    assert_eq!(ok.accounts()[1].sizes()[0].get(), 25_000_000);
    let cases: [(&str, Option<u64>, &str); 6] = [
        (
            r#"[{"account_id": "1", "quote_balance": 1}]"#,
            Some(0),
            "accounts[0].quote_balance",
        ),
        (
            r#"[{"account_id": "1", "quote_balance": "1"}, {"account_id": 1, "quote_balance": "1"}]"#,
            Some(1),
            "accounts[1].account_id",
        ),
        (
            r#"[{"account_id": "1", "quote_balance": "1", "positions": [{"market": "BTC", "size": "1"}, {"market": "BTC", "size": "1.000000001"}]}]"#,
            Some(0),
            "accounts[0].positions[1].market",
        ),
        (
            r#"[{"account_id": "1", "quote_balance": "1", "positions": [{"market": "BTC", "size": "1.000000001"}]}]"#,
            Some(0),
            "accounts[0].positions[0].size",
        ),
        (
            r#"[{"account_id": "01", "quote_balance": "1"}]"#,
            Some(0),
            "accounts[0].account_id",
        ),
        (r#"[]"#, None, "accounts"),
    ];
    for (accounts, row, field) in cases {
        let e = parse_json(doc(accounts).as_bytes(), "snapshot.json").unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.row, e.field.as_deref()),
            ("snapshot.json", row, Some(field)),
            "{e}"
        );
    }
    let e = parse_json(br#"{"epoch": 1, "epoch": 2}"#, "s.json").unwrap_err();
    assert_eq!(
        (e.field.as_deref(), e.reason),
        (Some("epoch"), Reason::DuplicateField)
    );
    let e = parse_json(b"{", "s.json").unwrap_err();
    assert!(matches!(e.reason, Reason::Syntax(_)));
    let e = parse_json(b"\"\xff\"", "s.json").unwrap_err();
    assert_eq!(e.reason, Reason::NotUtf8 { offset: 1 });
}

#[test]
fn write_dir_replaces_only_snapshot_dirs() {
    let s = parse_dir_contents(
        EPOCH.as_bytes(),
        b"account_id,quote_balance\n17,-12.5\n3,100\n",
        Some(b"account_id,market,size\n17,ETH,-1.5\n3,BTC,0.25\n3,ETH,0\n"),
    )
    .unwrap();
    let root = temp_dir("write");
    std::fs::create_dir_all(&root).unwrap();
    let dir = root.join("snap");
    write_dir(&s, &dir).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("positions.csv")).unwrap(),
        "account_id,market,size\n3,BTC,0.25\n17,ETH,-1.5\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("accounts.csv")).unwrap(),
        "account_id,quote_balance\n3,100\n17,-12.5\n"
    );
    assert_eq!(load_dir(&dir).unwrap(), s);
    assert_eq!(load(&dir).unwrap(), s);
    // A snapshot directory is replaced.
    write_dir(&s, &dir).unwrap();
    // Anything else is not, and is left untouched.
    std::fs::write(dir.join("notes.txt"), "keep").unwrap();
    let e = write_dir(&s, &dir).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert!(dir.join("notes.txt").exists());
    let e = write_dir(&s, &dir.join("notes.txt")).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    // No temporary directories are left behind.
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["snap"]);
    // The JSON form, through `load`.
    let json = root.join("snapshot.json");
    std::fs::write(&json, to_json(&s)).unwrap();
    assert_eq!(load(&json).unwrap(), s);
    let e = load(&root.join("absent")).unwrap_err();
    assert!(matches!(
        e.reason,
        Reason::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn io_errors_name_the_file() {
    let root = temp_dir("io");
    std::fs::create_dir_all(&root).unwrap();
    let e = load_dir(&root).unwrap_err();
    assert_eq!(e.file, "epoch.toml");
    assert!(matches!(
        e.reason,
        Reason::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
    std::fs::write(root.join("epoch.toml"), EPOCH).unwrap();
    let e = load_dir(&root).unwrap_err();
    assert_eq!(e.file, "accounts.csv");
    let e = load_dir(&root.join("epoch.toml")).unwrap_err();
    assert!(e.file.ends_with("epoch.toml"));
    assert!(matches!(
        e.reason,
        Reason::Io {
            kind: std::io::ErrorKind::NotADirectory,
            ..
        }
    ));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bounds_are_exclusive() {
    let acc = |bal: &str| {
        parse_dir_contents(
            EPOCH.as_bytes(),
            format!("account_id,quote_balance\n1,{bal}\n").as_bytes(),
            None,
        )
    };
    assert!(acc("92233720368547758.07").is_ok());
    assert!(acc("-92233720368547758.07").is_ok());
    let e = acc("-92233720368547758.08").unwrap_err();
    assert!(matches!(
        e.reason,
        Reason::Model(ModelError::OutOfBounds {
            field: "quote_balance",
            ..
        })
    ));
    let e = acc("1e3").unwrap_err();
    assert!(matches!(
        e.reason,
        Reason::Decimal(DecimalError::Malformed(_))
    ));
    let reserves = |r: &str| {
        let epoch = EPOCH.replace("\"1000000.50\"", &format!("\"{r}\""));
        parse_dir_contents(epoch.as_bytes(), b"account_id,quote_balance\n1,0\n", None)
    };
    assert_eq!(
        reserves("3402823669209384634633746074317682114.55")
            .unwrap()
            .params()
            .reserves(),
        u128::MAX
    );
    let e = reserves("3402823669209384634633746074317682114.56").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("reserves"));
    assert!(matches!(
        e.reason,
        Reason::Decimal(DecimalError::OutOfBounds { .. })
    ));
}

// ---- property tests -------------------------------------------------------------

fn market_strategy() -> impl Strategy<Value = (String, u64, u32, u32, u16)> {
    (
        "[A-Za-z0-9._/-]{1,32}",
        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 0u64..1_000_000],
        0u32..=18,
        0u32..=18,
        0u16..=10_000,
    )
}

fn amount_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        Just(i64::MAX),
        Just(-i64::MAX),
        -1_000_000i64..1_000_000,
        (-i64::MAX)..=i64::MAX,
    ]
}

prop_compose! {
    fn params_strategy()(
        epoch in any::<u64>(),
        quote_decimals in 0u32..=18,
        reserves in any::<u128>(),
        insurance in prop_oneof![Just(0u128), any::<u128>()],
        markets in prop::collection::vec(market_strategy(), 1..5),
    ) -> Option<EpochParams> {
        let mut seen = std::collections::HashSet::new();
        let markets: Option<Vec<Market>> = markets
            .into_iter()
            .filter(|m| seen.insert(m.0.clone()))
            .map(|(sym, price, pd, sd, bps)| {
                Market::new(
                    &sym,
                    Price::new(price.into()).ok()?,
                    pd,
                    sd,
                    MarginBps::new(bps.into()).ok()?,
                )
                .ok()
            })
            .collect();
        EpochParams::new(epoch, quote_decimals, reserves, insurance, markets?).ok()
    }
}

pub(super) fn snapshot_strategy() -> impl Strategy<Value = Snapshot> {
    params_strategy()
        .prop_filter_map("scale spread", |p| p)
        .prop_flat_map(|params| {
            let m = params.markets().len();
            let account = (
                prop_oneof![any::<u64>(), 0u64..100],
                amount_i64(),
                prop::collection::vec(prop_oneof![2 => Just(0i64), 1 => amount_i64()], m),
                prop::option::weighted(0.3, any::<[u8; 32]>()),
            );
            (Just(params), prop::collection::vec(account, 1..12))
        })
        .prop_filter_map("duplicate ids", |(params, accounts)| {
            let accounts = accounts
                .into_iter()
                .map(|(id, bal, sizes, owner)| {
                    let sizes = sizes
                        .into_iter()
                        .map(|s| Size::new(s.into()).ok())
                        .collect::<Option<_>>()?;
                    Some(
                        Account::new(AccountId::new(id), Balance::new(bal.into()).ok()?, sizes)
                            .with_owner(owner.map(OwnerCommitment)),
                    )
                })
                .collect::<Option<Vec<_>>>()?;
            Snapshot::new(params, accounts).ok()
        })
}

/// Flips, inserts and deletes a few bytes of a valid input.
pub(super) fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let pos = pos % bytes.len();
        match op % 3 {
            0 => bytes[pos] = byte,
            1 => bytes.insert(pos, byte),
            _ => {
                bytes.remove(pos);
            }
        }
    }
    bytes
}

pub(super) fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b",\n\r .-0123456789\"[]{}=:_eA".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dir_contents_round_trip(s in snapshot_strategy()) {
        let back = parse_dir_contents(
            epoch_toml(&s).as_bytes(),
            accounts_csv(&s).as_bytes(),
            Some(positions_csv(&s).as_bytes()),
        );
        prop_assert_eq!(back, Ok(s));
    }

    #[test]
    fn json_round_trips(s in snapshot_strategy()) {
        prop_assert_eq!(parse_json(to_json(&s).as_bytes(), "snapshot.json"), Ok(s));
    }

}

proptest! {
    // The "fuzz smoke": the entry points of the cargo-fuzz targets, in CI.
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(
        a in prop::collection::vec(any::<u8>(), 0..256),
        b in prop::collection::vec(any::<u8>(), 0..256),
        c in prop::option::of(prop::collection::vec(any::<u8>(), 0..256)),
    ) {
        let _ = parse_dir_contents(&a, &b, c.as_deref());
        let _ = parse_dir_contents(EPOCH.as_bytes(), &b, c.as_deref());
        let _ = parse_json(&a, "fuzz.json");
    }

    #[test]
    fn mutated_inputs_never_panic(
        s in snapshot_strategy(),
        which in 0usize..4,
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), interesting_byte()), 1..6),
    ) {
        let mut files = [
            epoch_toml(&s).into_bytes(),
            accounts_csv(&s).into_bytes(),
            positions_csv(&s).into_bytes(),
            to_json(&s).into_bytes(),
        ];
        files[which] = mutate(std::mem::take(&mut files[which]), &edits);
        let [epoch, accounts, positions, json] = files;
        if let Err(e) = parse_dir_contents(&epoch, &accounts, Some(&positions)) {
            let _ = e.to_string();
        }
        if let Err(e) = parse_json(&json, "fuzz.json") {
            let _ = e.to_string();
        }
    }

    /// Risk model v2 inputs (brackets, assets, `balances.csv`), mutated.
    #[test]
    fn mutated_v2_inputs_never_panic(
        which in 0usize..5,
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), interesting_byte()), 1..6),
    ) {
        let mut files = [
            V2_EPOCH.as_bytes().to_vec(),
            V2_ACCOUNTS.as_bytes().to_vec(),
            V2_POSITIONS.as_bytes().to_vec(),
            V2_BALANCES.as_bytes().to_vec(),
            V2_JSON.as_bytes().to_vec(),
        ];
        files[which] = mutate(std::mem::take(&mut files[which]), &edits);
        let [epoch, accounts, positions, balances, json] = files;
        if let Err(e) = parse_dir_files(&epoch, &accounts, Some(&positions), Some(&balances)) {
            let _ = e.to_string();
        }
        if let Err(e) = parse_json(&json, "fuzz.json") {
            let _ = e.to_string();
        }
    }
}

const V2_EPOCH: &str = include_str!("../../tests/bad_snapshots/valid_v2/epoch.toml");
const V2_ACCOUNTS: &str = include_str!("../../tests/bad_snapshots/valid_v2/accounts.csv");
const V2_POSITIONS: &str = include_str!("../../tests/bad_snapshots/valid_v2/positions.csv");
const V2_BALANCES: &str = include_str!("../../tests/bad_snapshots/valid_v2/balances.csv");
pub(super) const V2_JSON: &str =
    include_str!("../../tests/bad_snapshots/valid_v2_json/snapshot.json");

#[test]
fn the_v2_inputs_the_mutations_start_from_are_valid() {
    let dir = parse_dir_files(
        V2_EPOCH.as_bytes(),
        V2_ACCOUNTS.as_bytes(),
        Some(V2_POSITIONS.as_bytes()),
        Some(V2_BALANCES.as_bytes()),
    )
    .unwrap();
    assert_eq!(parse_json(V2_JSON.as_bytes(), "v2.json").unwrap(), dir);
}

#[test]
fn write_dir_round_trips() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(32));
    let root = temp_dir("prop");
    std::fs::create_dir_all(&root).unwrap();
    let dir = root.join("snap");
    runner
        .run(&snapshot_strategy(), |s| {
            write_dir(&s, &dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(load_dir(&dir), Ok(s));
            Ok(())
        })
        .unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}
