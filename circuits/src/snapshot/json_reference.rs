//! The JSON form's parser as it was before [`super::parse_json`] streamed the
//! accounts: the whole document parsed into one tree, then walked. Kept to test
//! that the streaming parser accepts and refuses exactly as it did
//! (`super::json_tests`).

use super::error::{Reason, SnapshotError};
use super::fields::{Field, parse_amount, parse_balance, parse_params, parse_size};
use super::json::{ACCOUNT_KEYS, BALANCE_KEYS, DOC_KEYS, Keyed, POSITION_KEYS, keyed_elements};
use super::tree::Item;
use crate::model::{Account, AccountId, Amount, ModelError, OwnerCommitment, Size, Snapshot};
use std::collections::HashMap;

/// [`super::parse_json`] over one tree of the whole document.
pub(crate) fn parse_json_whole(bytes: &[u8], source: &str) -> Result<Snapshot, SnapshotError> {
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
                let size =
                    parse_size(size_field.amount()?, decimals).map_err(|r| size_field.err(r))?;
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
                let amount = parse_amount(amount_field.amount()?, decimals)
                    .map_err(|r| amount_field.err(r))?;
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
