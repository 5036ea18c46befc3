//! The error of every snapshot parser: which file, row and field, and why.

use crate::decimal::DecimalError;
use crate::model::ModelError;
use thiserror::Error;

/// A refused snapshot input: the file, the row and the field at fault, and the reason.
///
/// `row` is the 1-based line number for `epoch.toml`, `accounts.csv` and
/// `positions.csv` (the CSV header is line 1). For the JSON form it is the 0-based
/// index of the market or account the error is in (the `i` of `markets[i]` or
/// `accounts[i]`), or `None` for a top-level field. `field` is the CSV column name
/// (`quote_balance`), or for TOML and JSON a path such as `markets[1].price` or
/// `accounts[3].positions[0].size`.
///
/// Displays as `accounts.csv row 7, field quote_balance: "1.2345" has more than 2
/// decimal places (would need rounding)`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
#[error("{}", self.render())]
pub struct SnapshotError {
    /// The file name (`epoch.toml`, `accounts.csv`, `positions.csv`, the name of the
    /// JSON document given by the caller, or a directory path for an unreadable
    /// directory).
    pub file: String,
    /// The row: a 1-based line number (TOML, CSV) or a 0-based array index (JSON).
    pub row: Option<u64>,
    /// The field: a CSV column name or a TOML/JSON path.
    pub field: Option<String>,
    /// Why the input was refused.
    pub reason: Reason,
}

impl SnapshotError {
    /// An error in `file` with no row or field yet.
    pub(crate) fn new(file: impl Into<String>, reason: impl Into<Reason>) -> Self {
        Self {
            file: file.into(),
            row: None,
            field: None,
            reason: reason.into(),
        }
    }

    /// Attaches a row.
    pub(crate) fn at_row(mut self, row: Option<u64>) -> Self {
        self.row = row;
        self
    }

    /// Attaches a field.
    pub(crate) fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    fn render(&self) -> String {
        let mut out = self.file.clone();
        if let Some(row) = self.row {
            out.push_str(&format!(" row {row}"));
        }
        if let Some(field) = &self.field {
            out.push_str(&format!(", field {field}"));
        }
        out.push_str(&format!(": {}", self.reason));
        out
    }
}

/// Why a snapshot input was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Reason {
    /// The file or directory could not be read (missing, permissions, not a directory).
    #[error("cannot read: {message}")]
    Io {
        /// The kind of IO error.
        kind: std::io::ErrorKind,
        /// The IO error, printed.
        message: String,
    },
    /// The bytes are not UTF-8; `offset` is the byte offset of the first invalid byte
    /// in the file.
    #[error("not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid byte in the file.
        offset: usize,
    },
    /// An owner commitment that is not `0x` + 64 lowercase hex digits.
    #[error("{0:?} is not an owner commitment (0x + 64 lowercase hex digits, or empty for none)")]
    NotOwner(String),
    /// The TOML or JSON document does not parse.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A key that the format does not define (keys are never ignored, so that a
    /// typo cannot pass silently).
    #[error("unknown field")]
    UnknownField,
    /// The same key twice in one JSON object.
    #[error("duplicate field")]
    DuplicateField,
    /// A required key is absent.
    #[error("missing field")]
    MissingField,
    /// A value of the wrong type, such as an amount written as a number instead of
    /// a decimal string.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the format requires.
        expected: &'static str,
        /// What the input has.
        found: &'static str,
    },
    /// The first line of a CSV file is not the required header.
    #[error("expected header {}, found {found:?}", one_of(expected))]
    WrongHeader {
        /// The headers the file may have.
        expected: &'static [&'static str],
        /// The first line as found (empty for an empty file).
        found: String,
    },
    /// A CSV row with the wrong number of comma-separated columns.
    #[error("expected {expected} columns, found {found}")]
    ColumnCount {
        /// Columns required.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// An empty line in a CSV file (other than the single newline ending the file).
    #[error("blank line")]
    BlankLine,
    /// An account id or epoch that is not a `u64` in canonical plain decimal.
    #[error(
        "{0:?} is not a u64 in plain decimal (digits only, no sign, no leading zeros, \
         at most 18446744073709551615)"
    )]
    NotU64(String),
    /// A value refused by the exact decimal parser.
    #[error(transparent)]
    Decimal(#[from] DecimalError),
    /// A value or snapshot refused by the model's bounds.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The same account id twice. `first_row` is where it first appeared (a line
    /// number in CSV, an index into `accounts` in JSON).
    #[error("duplicate account id {id} (first in row {first_row})")]
    DuplicateAccount {
        /// The repeated id.
        id: u64,
        /// Row of the first occurrence.
        first_row: u64,
    },
    /// Two positions for the same account and market. `first_row` is where the pair
    /// first appeared (a line number in CSV, an index into the account's
    /// `positions` in JSON).
    #[error(
        "duplicate position of account {account} in market {market:?} (first in row {first_row})"
    )]
    DuplicatePosition {
        /// The account.
        account: u64,
        /// The market symbol.
        market: String,
        /// Row of the first occurrence.
        first_row: u64,
    },
    /// A position of an account id that `accounts.csv` does not list.
    #[error("account {0} is not listed in accounts.csv")]
    UnknownAccount(u64),
    /// A position in a market that the epoch parameters do not declare.
    #[error("market {0:?} is not declared in the epoch parameters")]
    UnknownMarket(String),
    /// A balance in an asset that the epoch parameters do not declare.
    #[error("asset {0:?} is not declared in the epoch parameters")]
    UnknownAsset(String),
    /// Two balances for the same account and asset. `first_row` is where the pair
    /// first appeared (a line number in CSV, an index into the account's `balances`
    /// in JSON).
    #[error("duplicate balance of account {account} in asset {asset:?} (first in row {first_row})")]
    DuplicateBalance {
        /// The account.
        account: u64,
        /// The asset symbol.
        asset: String,
        /// Row of the first occurrence.
        first_row: u64,
    },
}

impl From<std::io::Error> for Reason {
    fn from(e: std::io::Error) -> Self {
        Reason::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// `"a"`, or `"a" or "b"`: the headers a file may have, quoted.
fn one_of(headers: &[&str]) -> String {
    headers
        .iter()
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(" or ")
}
