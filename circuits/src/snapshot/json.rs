//! The single-document JSON form (used by the HTTP service).

use super::error::{Reason, SnapshotError};
use super::fields::{Field, parse_amount, parse_balance, parse_params, parse_size};
use super::tree::Item;
use crate::model::{Account, AccountId, Amount, ModelError, OwnerCommitment, Size, Snapshot};
use std::collections::HashMap;
use std::path::Path;

/// Keys of the JSON document.
const DOC_KEYS: [&str; 7] = [
    "epoch",
    "quote_decimals",
    "reserves",
    "insurance_fund",
    "markets",
    "assets",
    "accounts",
];
/// Keys of one account.
const ACCOUNT_KEYS: [&str; 5] = [
    "account_id",
    "quote_balance",
    "positions",
    "balances",
    "owner",
];
/// Keys of one position.
const POSITION_KEYS: [&str; 2] = ["market", "size"];
/// Keys of one asset balance (risk model v2).
const BALANCE_KEYS: [&str; 2] = ["asset", "amount"];

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
    let tree: Item = serde_json::from_slice(bytes)
        .map_err(|e| SnapshotError::new(source, Reason::Syntax(e.to_string())))?;
    let doc = Field::root(source, &tree).object(&DOC_KEYS)?;
    let params = parse_params(&doc)?;
    let quote_decimals = params.quote_decimals();
    let market_count = params.markets().len();

    let accounts_field = doc.require("accounts")?;
    let elements = accounts_field.elements(true)?;
    let mut accounts = Vec::with_capacity(elements.len());
    let mut first_index: HashMap<u64, u64> = HashMap::with_capacity(elements.len());
    for (i, element) in elements.iter().enumerate() {
        let a = element.object(&ACCOUNT_KEYS)?;
        let id_field = a.require("account_id")?;
        let id = id_field.u64_value()?;
        if let Some(&first_row) = first_index.get(&id) {
            return Err(id_field.err(Reason::DuplicateAccount { id, first_row }));
        }
        first_index.insert(id, i as u64);
        let balance_field = a.require("quote_balance")?;
        let balance = parse_balance(balance_field.amount()?, quote_decimals)
            .map_err(|r| balance_field.err(r))?;
        let mut sizes = vec![Size::ZERO; market_count];
        if let Some(positions) = a.get("positions") {
            let mut seen: HashMap<usize, u64> = HashMap::new();
            for (j, p) in positions.elements(false)?.iter().enumerate() {
                let p = p.object(&POSITION_KEYS)?;
                let market_field = p.require("market")?;
                let symbol = market_field.str("a string")?;
                let (market, spec) = params
                    .markets()
                    .iter()
                    .enumerate()
                    .find(|(_, m)| m.symbol() == symbol)
                    .ok_or_else(|| market_field.err(Reason::UnknownMarket(symbol.into())))?;
                if let Some(&first_row) = seen.get(&market) {
                    return Err(market_field.err(Reason::DuplicatePosition {
                        account: id,
                        market: symbol.into(),
                        first_row,
                    }));
                }
                seen.insert(market, j as u64);
                let size_field = p.require("size")?;
                let size = parse_size(size_field.amount()?, spec.size_decimals())
                    .map_err(|r| size_field.err(r))?;
                if let Some(slot) = sizes.get_mut(market) {
                    *slot = size;
                }
            }
        }
        let mut amounts = vec![Amount::ZERO; params.assets().len()];
        if let Some(balances) = a.get("balances") {
            let mut seen: HashMap<usize, u64> = HashMap::new();
            for (j, b) in balances.elements(false)?.iter().enumerate() {
                let b = b.object(&BALANCE_KEYS)?;
                let asset_field = b.require("asset")?;
                let symbol = asset_field.str("a string")?;
                let (asset, spec) = params
                    .assets()
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.symbol() == symbol)
                    .ok_or_else(|| asset_field.err(Reason::UnknownAsset(symbol.into())))?;
                if let Some(&first_row) = seen.get(&asset) {
                    return Err(asset_field.err(Reason::DuplicateBalance {
                        account: id,
                        asset: symbol.into(),
                        first_row,
                    }));
                }
                seen.insert(asset, j as u64);
                let amount_field = b.require("amount")?;
                let amount = parse_amount(amount_field.amount()?, spec.amount_decimals())
                    .map_err(|r| amount_field.err(r))?;
                if let Some(slot) = amounts.get_mut(asset) {
                    *slot = amount;
                }
            }
        }
        let owner = match a.get("owner") {
            None => None,
            Some(f) => {
                let text = f.str("a string")?;
                Some(
                    OwnerCommitment::parse(text)
                        .ok_or_else(|| f.err(Reason::NotOwner(text.into())))?,
                )
            }
        };
        accounts.push(
            Account::new(AccountId::new(id), balance, sizes)
                .with_amounts(amounts)
                .with_owner(owner),
        );
    }
    Snapshot::new(params, accounts).map_err(|e| match e {
        ModelError::Empty | ModelError::TooManyAccounts(_) => accounts_field.err(e),
        e => SnapshotError::new(source, e),
    })
}
