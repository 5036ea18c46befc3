//! Snapshot input formats: the directory form and the JSON form (`docs/SPEC.md`).
//!
//! # Directory form
//!
//! - `epoch.toml`: `epoch` (an integer, or a string of decimal digits for values
//!   above `i64::MAX`), `quote_decimals` (integer), `reserves` and `insurance_fund`
//!   (decimal strings in quote units), and one `[[markets]]` table per market with
//!   `symbol`, `price` (decimal string), `price_decimals`, `size_decimals` and
//!   `maintenance_margin_bps` (integers) and optional `tiers` (risk model v2: an
//!   array of `{ notional_floor = "50000", maintenance_margin_bps = 100 }`, floors in
//!   quote units), and optional `[[assets]]` tables (risk model v2) with `symbol`,
//!   `price` and `reserves` (decimal strings), `price_decimals`, `amount_decimals`
//!   and `collateral_ratio_bps` (integers). Unknown keys are refused.
//! - `accounts.csv`: header `account_id,quote_balance`, one row per account.
//! - `positions.csv` (optional): header `account_id,market,size`, at most one row
//!   per account and market; a missing row means size zero.
//! - `balances.csv` (optional, risk model v2): header `account_id,asset,amount`, at
//!   most one row per account and asset; a missing row means amount zero.
//!
//! # JSON form
//!
//! One document with the parameters above plus `accounts`, each with
//! `account_id`, `quote_balance` and optional `positions` (`market`, `size`). See
//! [`parse_json`].
//!
//! # Values
//!
//! Amounts are exact decimal strings `[-]digits[.digits]` ([`crate::decimal`]) with
//! at most the declared number of decimals (extra trailing zeros are accepted,
//! nothing is ever rounded); JSON and TOML numbers are refused for amounts. Ids are
//! `u64` in canonical plain decimal (no sign, no leading zeros). Nothing is trimmed.
//!
//! Every refusal is a [`SnapshotError`] naming the file, the row and the field; no
//! input makes the parsers panic.

mod dir;
mod error;
mod fields;
mod json;
#[cfg(test)]
mod json_reference;
mod stream;
mod tree;
mod write;

#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod tests;

pub use dir::{load_dir, parse_dir_contents, parse_dir_files};
pub use error::{Reason, SnapshotError};
pub use json::{load_json_file, parse_json};
pub use write::{to_json, write_dir};

use crate::model::Snapshot;
use std::path::Path;

/// File name of the epoch parameters in a snapshot directory.
pub const EPOCH_TOML: &str = "epoch.toml";
/// File name of the accounts in a snapshot directory.
pub const ACCOUNTS_CSV: &str = "accounts.csv";
/// File name of the positions in a snapshot directory.
pub const POSITIONS_CSV: &str = "positions.csv";
/// The required first line of `accounts.csv`.
pub const ACCOUNTS_HEADER: &str = "account_id,quote_balance";
/// The header of `accounts.csv` with owner commitments (`docs/SPEC.md` §4.2, §5.2).
pub const ACCOUNTS_OWNER_HEADER: &str = "account_id,quote_balance,owner";
/// The required first line of `positions.csv`.
pub const POSITIONS_HEADER: &str = "account_id,market,size";
/// File name of the asset balances in a snapshot directory (risk model v2).
pub const BALANCES_CSV: &str = "balances.csv";
/// The required first line of `balances.csv`.
pub const BALANCES_HEADER: &str = "account_id,asset,amount";

/// Loads a snapshot from a directory ([`load_dir`]) or a JSON file
/// ([`load_json_file`]), whichever `path` is.
pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
    let meta =
        std::fs::metadata(path).map_err(|e| SnapshotError::new(path.display().to_string(), e))?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        load_json_file(path)
    }
}
