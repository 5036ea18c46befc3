//! The directory form: `epoch.toml`, `accounts.csv` and optional `positions.csv`.

use super::error::{Reason, SnapshotError};
use super::fields::{
    Field, PARAM_KEYS, parse_amount, parse_balance, parse_params, parse_plain_u64, parse_size,
};
use super::tree::{from_toml_table, line_of};
use super::{
    ACCOUNTS_CSV, ACCOUNTS_HEADER, ACCOUNTS_OWNER_HEADER, BALANCES_CSV, BALANCES_HEADER,
    EPOCH_TOML, POSITIONS_CSV, POSITIONS_HEADER,
};
use crate::model::{
    Account, AccountId, Amount, Balance, EpochParams, OwnerCommitment, Size, Snapshot,
};
use std::collections::HashMap;
use std::path::Path;
use toml::de::DeTable;

/// Reads a snapshot directory (`docs/SPEC.md`): `epoch.toml` and `accounts.csv` are
/// required, `positions.csv` and `balances.csv` are optional (absent means no
/// positions, no asset balances).
///
/// Errors name the file only (`accounts.csv`), or the directory path if the
/// directory itself cannot be read.
pub fn load_dir(dir: &Path) -> Result<Snapshot, SnapshotError> {
    let meta =
        std::fs::metadata(dir).map_err(|e| SnapshotError::new(dir.display().to_string(), e))?;
    if !meta.is_dir() {
        return Err(SnapshotError::new(
            dir.display().to_string(),
            Reason::Io {
                kind: std::io::ErrorKind::NotADirectory,
                message: "not a directory".into(),
            },
        ));
    }
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| SnapshotError::new(name, e));
    let epoch = read(EPOCH_TOML)?;
    let accounts = read(ACCOUNTS_CSV)?;
    let optional = |name: &'static str| match std::fs::read(dir.join(name)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SnapshotError::new(name, e)),
    };
    let positions = optional(POSITIONS_CSV)?;
    let balances = optional(BALANCES_CSV)?;
    parse_dir_files(&epoch, &accounts, positions.as_deref(), balances.as_deref())
}

/// Parses the contents of the three files of a snapshot directory, without touching
/// the file system (`positions_csv: None` when the file is absent).
///
/// Never panics, whatever the bytes.
pub fn parse_dir_contents(
    epoch_toml: &[u8],
    accounts_csv: &[u8],
    positions_csv: Option<&[u8]>,
) -> Result<Snapshot, SnapshotError> {
    parse_dir_files(epoch_toml, accounts_csv, positions_csv, None)
}

/// [`parse_dir_contents`] with `balances.csv` too (`None` when absent).
///
/// Never panics, whatever the bytes.
pub fn parse_dir_files(
    epoch_toml: &[u8],
    accounts_csv: &[u8],
    positions_csv: Option<&[u8]>,
    balances_csv: Option<&[u8]>,
) -> Result<Snapshot, SnapshotError> {
    let params = parse_epoch_toml(epoch_toml)?;
    let mut table = parse_accounts(accounts_csv, &params)?;
    if let Some(bytes) = positions_csv {
        parse_positions(bytes, &params, &mut table)?;
    }
    if let Some(bytes) = balances_csv {
        parse_balances(bytes, &params, &mut table)?;
    }
    let accounts = table
        .rows
        .into_iter()
        .map(|r| {
            Account::new(AccountId::new(r.id), r.balance, r.sizes)
                .with_amounts(r.amounts)
                .with_owner(r.owner)
        })
        .collect();
    Snapshot::new(params, accounts).map_err(|e| SnapshotError::new(ACCOUNTS_CSV, e))
}

/// Parses `epoch.toml` into validated epoch parameters.
fn parse_epoch_toml(bytes: &[u8]) -> Result<EpochParams, SnapshotError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        SnapshotError::new(EPOCH_TOML, Reason::NotUtf8 { offset })
            .at_row(Some(line_of(bytes, offset)))
    })?;
    let doc = DeTable::parse(text).map_err(|e| {
        SnapshotError::new(EPOCH_TOML, Reason::Syntax(e.message().to_owned()))
            .at_row(e.span().map(|s| line_of(bytes, s.start)))
    })?;
    let tree = from_toml_table(text, doc.get_ref());
    parse_params(&Field::root(EPOCH_TOML, &tree).object(&PARAM_KEYS)?)
}

/// One line of a CSV file: its 1-based number and its text.
struct Line<'a> {
    number: u64,
    text: &'a str,
}

/// Splits a CSV file into lines of UTF-8 text.
///
/// Lines end with `\n` or `\r\n`; a single line ending at the very end of the file
/// is allowed and does not start a new line. Nothing is trimmed.
fn csv_lines<'a>(file: &'static str, bytes: &'a [u8]) -> Result<Vec<Line<'a>>, SnapshotError> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = Vec::new();
    let mut offset = 0usize;
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let number = i as u64 + 1;
        let content = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(content).map_err(|e| {
            SnapshotError::new(
                file,
                Reason::NotUtf8 {
                    offset: offset + e.valid_up_to(),
                },
            )
            .at_row(Some(number))
        })?;
        lines.push(Line { number, text });
        offset += raw.len() + 1;
    }
    Ok(lines)
}

/// Checks the header (`headers[0]`) and splits each further line into exactly `N`
/// columns; a wrong header is refused naming every header the file may have
/// (`headers`).
fn csv_rows<'a, const N: usize>(
    file: &'static str,
    bytes: &'a [u8],
    headers: &'static [&'static str],
) -> Result<Vec<(u64, [&'a str; N])>, SnapshotError> {
    let lines = csv_lines(file, bytes)?;
    let mut lines = lines.into_iter();
    let found = lines.next().map(|l| l.text).unwrap_or_default();
    if Some(&found) != headers.first() {
        return Err(SnapshotError::new(
            file,
            Reason::WrongHeader {
                expected: headers,
                found: found.to_owned(),
            },
        )
        .at_row(Some(1)));
    }
    lines
        .map(|line| {
            let located = |reason| SnapshotError::new(file, reason).at_row(Some(line.number));
            if line.text.is_empty() {
                return Err(located(Reason::BlankLine));
            }
            let columns: Vec<&str> = line.text.split(',').collect();
            let found = columns.len();
            <[&str; N]>::try_from(columns)
                .map(|c| (line.number, c))
                .map_err(|_| located(Reason::ColumnCount { expected: N, found }))
        })
        .collect()
}

/// The accounts read so far, in file order, with an index by id.
struct AccountTable {
    rows: Vec<AccountRow>,
    by_id: HashMap<u64, usize>,
}

struct AccountRow {
    id: u64,
    line: u64,
    balance: Balance,
    sizes: Vec<Size>,
    amounts: Vec<Amount>,
    owner: Option<OwnerCommitment>,
}

/// `accounts.csv` has two columns, or three with the `owner` column (an empty
/// cell is an account without an owner commitment).
fn parse_accounts(bytes: &[u8], params: &EpochParams) -> Result<AccountTable, SnapshotError> {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let with_owner =
        first_line.strip_suffix(b"\r").unwrap_or(first_line) == ACCOUNTS_OWNER_HEADER.as_bytes();
    let rows: Vec<(u64, [&str; 3])> = if with_owner {
        csv_rows::<3>(ACCOUNTS_CSV, bytes, &[ACCOUNTS_OWNER_HEADER])?
    } else {
        csv_rows::<2>(
            ACCOUNTS_CSV,
            bytes,
            &[ACCOUNTS_HEADER, ACCOUNTS_OWNER_HEADER],
        )?
        .into_iter()
        .map(|(line, [id, balance])| (line, [id, balance, ""]))
        .collect()
    };
    let mut table = AccountTable {
        rows: Vec::with_capacity(rows.len()),
        by_id: HashMap::with_capacity(rows.len()),
    };
    let markets = params.markets().len();
    for (line, [id, balance, owner]) in rows {
        let at = |field: &str, reason: Reason| {
            SnapshotError::new(ACCOUNTS_CSV, reason)
                .at_row(Some(line))
                .in_field(field)
        };
        let id = parse_plain_u64(id).ok_or_else(|| at("account_id", Reason::NotU64(id.into())))?;
        if let Some(first) = table.by_id.get(&id).and_then(|&i| table.rows.get(i)) {
            let reason = Reason::DuplicateAccount {
                id,
                first_row: first.line,
            };
            return Err(at("account_id", reason));
        }
        let balance =
            parse_balance(balance, params.quote_decimals()).map_err(|r| at("quote_balance", r))?;
        let owner = match owner {
            "" => None,
            text => Some(
                OwnerCommitment::parse(text)
                    .ok_or_else(|| at("owner", Reason::NotOwner(text.into())))?,
            ),
        };
        table.by_id.insert(id, table.rows.len());
        table.rows.push(AccountRow {
            id,
            line,
            balance,
            sizes: vec![Size::ZERO; markets],
            amounts: vec![Amount::ZERO; params.assets().len()],
            owner,
        });
    }
    Ok(table)
}

/// What a per-account, per-symbol file (`positions.csv`, `balances.csv`) holds: its
/// name, header and symbol column, the declared symbols, and its two refusals.
struct KeyedFile<'a> {
    name: &'static str,
    headers: &'static [&'static str],
    column: &'static str,
    symbols: Vec<&'a str>,
    unknown: fn(String) -> Reason,
    duplicate: fn(u64, String, u64) -> Reason,
}

/// Reads a per-account, per-symbol file: at most one row per account and symbol, of
/// listed accounts and declared symbols. Each row is handed to `value`, in order (so
/// the first defect is the one reported), with the row of its account in `table`,
/// its symbol's index and its value's text; an error `value` returns is located at
/// the row's line and `value_column`.
fn keyed_rows(
    bytes: &[u8],
    file: &KeyedFile<'_>,
    table: &mut AccountTable,
    value_column: &'static str,
    mut value: impl FnMut(&mut AccountRow, usize, &str) -> Result<(), Reason>,
) -> Result<(), SnapshotError> {
    let rows = csv_rows::<3>(file.name, bytes, file.headers)?;
    let mut seen: HashMap<(u64, usize), u64> = HashMap::new();
    for (line, [id, symbol, text]) in rows {
        let at = |field: &str, reason: Reason| {
            SnapshotError::new(file.name, reason)
                .at_row(Some(line))
                .in_field(field)
        };
        let id = parse_plain_u64(id).ok_or_else(|| at("account_id", Reason::NotU64(id.into())))?;
        let index = *table
            .by_id
            .get(&id)
            .ok_or_else(|| at("account_id", Reason::UnknownAccount(id)))?;
        let k = file
            .symbols
            .iter()
            .position(|s| *s == symbol)
            .ok_or_else(|| at(file.column, (file.unknown)(symbol.into())))?;
        if let Some(&first_row) = seen.get(&(id, k)) {
            return Err(at(
                file.column,
                (file.duplicate)(id, symbol.into(), first_row),
            ));
        }
        seen.insert((id, k), line);
        // Always present: `index` comes from the table.
        if let Some(row) = table.rows.get_mut(index) {
            value(row, k, text).map_err(|r| at(value_column, r))?;
        }
    }
    Ok(())
}

/// `positions.csv`: one size per account and market.
fn parse_positions(
    bytes: &[u8],
    params: &EpochParams,
    table: &mut AccountTable,
) -> Result<(), SnapshotError> {
    let file = KeyedFile {
        name: POSITIONS_CSV,
        headers: &[POSITIONS_HEADER],
        column: "market",
        symbols: params.markets().iter().map(|m| m.symbol()).collect(),
        unknown: Reason::UnknownMarket,
        duplicate: |account, market, first_row| Reason::DuplicatePosition {
            account,
            market,
            first_row,
        },
    };
    keyed_rows(bytes, &file, table, "size", |row, market, text| {
        let decimals = params
            .markets()
            .get(market)
            .map_or(0, |m| m.size_decimals());
        let size = parse_size(text, decimals)?;
        // Every row has one size per market.
        if let Some(slot) = row.sizes.get_mut(market) {
            *slot = size;
        }
        Ok(())
    })
}

/// `balances.csv` (risk model v2): one signed amount per account and asset.
fn parse_balances(
    bytes: &[u8],
    params: &EpochParams,
    table: &mut AccountTable,
) -> Result<(), SnapshotError> {
    let file = KeyedFile {
        name: BALANCES_CSV,
        headers: &[BALANCES_HEADER],
        column: "asset",
        symbols: params.assets().iter().map(|a| a.symbol()).collect(),
        unknown: Reason::UnknownAsset,
        duplicate: |account, asset, first_row| Reason::DuplicateBalance {
            account,
            asset,
            first_row,
        },
    };
    keyed_rows(bytes, &file, table, "amount", |row, asset, text| {
        let decimals = params
            .assets()
            .get(asset)
            .map_or(0, |c| c.amount_decimals());
        let amount = parse_amount(text, decimals)?;
        // Every row has one amount per asset.
        if let Some(slot) = row.amounts.get_mut(asset) {
            *slot = amount;
        }
        Ok(())
    })
}
