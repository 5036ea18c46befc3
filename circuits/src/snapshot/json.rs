//! The single-document JSON form (used by the HTTP service).

use super::error::{Reason, SnapshotError};
use super::fields::{Field, parse_amount, parse_balance, parse_params, parse_size};
use super::stream::{Skeleton, Stopped, stream_elements};
use crate::model::{
    Account, AccountId, Amount, EpochParams, ModelError, OwnerCommitment, Size, Snapshot,
};
use std::collections::HashMap;
use std::path::Path;

/// Keys of the JSON document.
pub(crate) const DOC_KEYS: [&str; 7] = [
    "epoch",
    "quote_decimals",
    "reserves",
    "insurance_fund",
    "markets",
    "assets",
    "accounts",
];
/// Keys of one account.
pub(crate) const ACCOUNT_KEYS: [&str; 5] = [
    "account_id",
    "quote_balance",
    "positions",
    "balances",
    "owner",
];
/// Keys of one position.
pub(crate) const POSITION_KEYS: [&str; 2] = ["market", "size"];
/// Keys of one asset balance (risk model v2).
pub(crate) const BALANCE_KEYS: [&str; 2] = ["asset", "amount"];

/// Reads a JSON snapshot file; errors name the file by its file name.
pub fn load_json_file(path: &Path) -> Result<Snapshot, SnapshotError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = std::fs::read(path).map_err(|e| SnapshotError::new(name.as_str(), e))?;
    parse_json(&bytes, &name)
}

/// Parses a JSON snapshot document; `source` is the file name used in errors.
///
/// Risk model v2 adds optional `tiers` to a market, `assets` at the top level and
/// `balances` (`asset`, `amount`) to an account.
///
/// Amounts (`reserves`, `insurance_fund`, `price`, `quote_balance`, `size`,
/// `notional_floor`, `amount`) must be
/// decimal strings; `epoch` and `account_id` may be integers or strings of decimal
/// digits; decimals and `maintenance_margin_bps` are integers; an account's optional
/// `owner` is `0x` + 64 lowercase hex digits. Unknown and repeated
/// keys are refused. Errors carry a path such as `accounts[3].positions[0].size` and,
/// as row, the index of the market or account (`None` at the top level).
///
/// The document is parsed twice and never held whole as a tree: first everything
/// but the accounts, which are only counted, then the accounts one at a time, each
/// read and dropped before the next is parsed (see `stream.rs`). What it refuses,
/// and the error it reports first, are as if it had parsed the whole tree first:
/// the syntax, then the document's keys, the parameters, each account in order.
///
/// Never panics, whatever the bytes.
pub fn parse_json(bytes: &[u8], source: &str) -> Result<Snapshot, SnapshotError> {
    std::str::from_utf8(bytes).map_err(|e| {
        SnapshotError::new(
            source,
            Reason::NotUtf8 {
                offset: e.valid_up_to(),
            },
        )
    })?;
    let syntax = |e: serde_json::Error| SnapshotError::new(source, Reason::Syntax(e.to_string()));
    // Pass 1: everything but the accounts, which are counted.
    let skeleton = Skeleton::parse(bytes, &DOC_KEYS, "accounts").map_err(syntax)?;
    let doc = Field::root(source, &skeleton.tree).object(&DOC_KEYS)?;
    let params = parse_params(&doc)?;

    let accounts_field = doc.require("accounts")?;
    // An array (kept empty: its elements come in pass 2).
    accounts_field.elements(true)?;
    let count = skeleton.elements;
    let mut accounts = Vec::with_capacity(count);
    let mut first_index: HashMap<u64, u64> = HashMap::with_capacity(count);
    // Pass 2: one account's tree at a time.
    stream_elements(bytes, "accounts", |i, item| {
        let element = accounts_field.element(i, item, true);
        accounts.push(parse_account(&element, i, &params, &mut first_index)?);
        Ok(())
    })
    .map_err(|stopped| match stopped {
        Stopped::By(e) => e,
        Stopped::Json(e) => syntax(e),
    })?;
    Snapshot::new(params, accounts).map_err(|e| match e {
        ModelError::Empty | ModelError::TooManyAccounts(_) => accounts_field.err(e),
        e => SnapshotError::new(source, e),
    })
}

/// Reads account `i` of the document; `first_index` holds the index of every id
/// read before it.
fn parse_account(
    element: &Field<'_>,
    i: usize,
    params: &EpochParams,
    first_index: &mut HashMap<u64, u64>,
) -> Result<Account, SnapshotError> {
    let quote_decimals = params.quote_decimals();
    let market_count = params.markets().len();
    let a = element.object(&ACCOUNT_KEYS)?;
    let id_field = a.require("account_id")?;
    let id = id_field.u64_value()?;
    if let Some(&first_row) = first_index.get(&id) {
        return Err(id_field.err(Reason::DuplicateAccount { id, first_row }));
    }
    first_index.insert(id, i as u64);
    let balance_field = a.require("quote_balance")?;
    let balance =
        parse_balance(balance_field.amount()?, quote_decimals).map_err(|r| balance_field.err(r))?;
    let mut sizes = vec![Size::ZERO; market_count];
    if let Some(positions) = a.get("positions") {
        let markets: Vec<&str> = params.markets().iter().map(|m| m.symbol()).collect();
        let keyed = Keyed {
            keys: &POSITION_KEYS,
            symbols: &markets,
            unknown: Reason::UnknownMarket,
            duplicate: |account, market, first_row| Reason::DuplicatePosition {
                account,
                market,
                first_row,
            },
        };
        keyed_elements(&positions, &keyed, id, |market, size_field| {
            let decimals = params
                .markets()
                .get(market)
                .map_or(0, |m| m.size_decimals());
            let size = parse_size(size_field.amount()?, decimals).map_err(|r| size_field.err(r))?;
            if let Some(slot) = sizes.get_mut(market) {
                *slot = size;
            }
            Ok(())
        })?;
    }
    let mut amounts = vec![Amount::ZERO; params.assets().len()];
    if let Some(balances) = a.get("balances") {
        let assets: Vec<&str> = params.assets().iter().map(|c| c.symbol()).collect();
        let keyed = Keyed {
            keys: &BALANCE_KEYS,
            symbols: &assets,
            unknown: Reason::UnknownAsset,
            duplicate: |account, asset, first_row| Reason::DuplicateBalance {
                account,
                asset,
                first_row,
            },
        };
        keyed_elements(&balances, &keyed, id, |asset, amount_field| {
            let decimals = params
                .assets()
                .get(asset)
                .map_or(0, |c| c.amount_decimals());
            let amount =
                parse_amount(amount_field.amount()?, decimals).map_err(|r| amount_field.err(r))?;
            if let Some(slot) = amounts.get_mut(asset) {
                *slot = amount;
            }
            Ok(())
        })?;
    }
    let owner = match a.get("owner") {
        None => None,
        Some(f) => {
            let text = f.str("a string")?;
            Some(OwnerCommitment::parse(text).ok_or_else(|| f.err(Reason::NotOwner(text.into())))?)
        }
    };
    Ok(Account::new(AccountId::new(id), balance, sizes)
        .with_amounts(amounts)
        .with_owner(owner))
}

/// An account's per-symbol list (`positions`, `balances`): the keys of an element
/// (symbol key first, value key second), the declared symbols and the two refusals.
pub(crate) struct Keyed<'a> {
    pub(crate) keys: &'a [&'a str; 2],
    pub(crate) symbols: &'a [&'a str],
    pub(crate) unknown: fn(String) -> Reason,
    pub(crate) duplicate: fn(u64, String, u64) -> Reason,
}

/// Reads account `account`'s per-symbol list: at most one element per declared
/// symbol, each handed to `value` with its symbol's index and value field, in order
/// (so the first defect is the one reported).
pub(crate) fn keyed_elements<'a>(
    list: &Field<'a>,
    keyed: &Keyed<'_>,
    account: u64,
    mut value: impl FnMut(usize, Field<'a>) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let [symbol_key, value_key] = *keyed.keys;
    let mut seen: HashMap<usize, u64> = HashMap::new();
    for (j, element) in list.elements(false)?.iter().enumerate() {
        let e = element.object(keyed.keys)?;
        let symbol_field = e.require(symbol_key)?;
        let symbol = symbol_field.str("a string")?;
        let k = keyed
            .symbols
            .iter()
            .position(|s| *s == symbol)
            .ok_or_else(|| symbol_field.err((keyed.unknown)(symbol.into())))?;
        if let Some(&first_row) = seen.get(&k) {
            return Err(symbol_field.err((keyed.duplicate)(account, symbol.into(), first_row)));
        }
        seen.insert(k, j as u64);
        value(k, e.require(value_key)?)?;
    }
    Ok(())
}
