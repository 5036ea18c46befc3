//! The files of inclusion proofs: `PROOF.json` ([`InclusionProof`]) and the
//! shared `batch-roots.json` ([`BatchRootsFile`]), the error naming the field at
//! fault, reading them, and writing them (the prover's side). The checks are in
//! the parent module.

use backstop_circuits::decimal::{format_scaled, parse_scaled};
use backstop_circuits::hash::FieldHasher;
use backstop_circuits::model::{Account, AccountId, Amount, Balance, EpochParams, Size};
use backstop_circuits::native::commit::PathStep;
use backstop_circuits::statement::{Backend, PublishedShape};
use ethnum::I256;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The `format` of an inclusion proof.
pub const INCLUSION_FORMAT: &str = "backstop.inclusion.v2";
/// The `format` of a shared batch-roots file.
pub const BATCH_ROOTS_FORMAT: &str = "backstop.batch-roots.v2";
/// The name of the shared batch-roots file `backstop inclusion prove --all` writes.
pub const BATCH_ROOTS_FILE: &str = "batch-roots.json";

/// One position as published in an inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionData {
    /// The market's symbol.
    pub market: String,
    /// The signed size, an exact decimal in size units.
    pub size: String,
}

/// One collateral balance as published in an inclusion proof (risk model v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceData {
    /// The asset's symbol.
    pub asset: String,
    /// The signed amount, an exact decimal in asset units (negative: borrowed).
    pub amount: String,
}

/// The account's own data, in the snapshot's notation (`docs/SPEC.md` §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountData {
    /// The id, as a decimal string.
    pub account_id: String,
    /// The quote balance, an exact decimal in quote units.
    pub quote_balance: String,
    /// Non-zero positions, in market order; a market not listed is a zero size.
    pub positions: Vec<PositionData>,
    /// Risk model v2: non-zero collateral balances, in asset order; an asset not
    /// listed is a zero amount. Absent without any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<BalanceData>,
}

/// One level of a path, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathStepData {
    /// The node's position `0..7` among its parent's children.
    pub position: u8,
    /// The other seven children, in order, `0x` + 64 hex digits each.
    pub siblings: Vec<String>,
}

/// `PROOF.json`: one account's inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// [`INCLUSION_FORMAT`].
    pub format: String,
    /// The proof system of the epoch (which fixes the hash).
    pub backend: Backend,
    /// The epoch id, a decimal string (a JSON number would lose precision above
    /// 2^53 in JavaScript).
    #[serde(with = "backstop_circuits::json::u64_string")]
    pub epoch: u64,
    /// The epoch's circuit shape (`B`, `M`).
    pub shape: PublishedShape,
    /// The accounts commitment the venue claims; checked against `statement.json`.
    pub accounts_commitment: String,
    /// The account's data.
    pub account: AccountData,
    /// The account's salt `H(TAG_SALT, secret, epoch, id)`.
    pub salt: String,
    /// The account's owner commitment, if the venue bound the leaf to one
    /// (`docs/SPEC.md` §5.2): the leaf then absorbs `H(TAG_OWNER, salt, o_hi, o_lo)`
    /// instead of the salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The batch index `b`.
    pub batch: u64,
    /// The slot within the batch, `0..B` (the path's positions, read base 8).
    pub slot: u64,
    /// Leaf to batch root, `log8 B` levels.
    pub path: Vec<PathStepData>,
    /// All `K` batch roots, in order, unless they are in `batch_roots_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_roots: Option<Vec<String>>,
    /// A [`BatchRootsFile`] relative to this proof's directory, instead of `batch_roots`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_roots_file: Option<String>,
}

/// `batch-roots.json`: the `K` batch roots of an epoch, shared by bulk proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRootsFile {
    /// [`BATCH_ROOTS_FORMAT`].
    pub format: String,
    /// The proof system of the epoch.
    pub backend: Backend,
    /// The epoch id, a decimal string.
    #[serde(with = "backstop_circuits::json::u64_string")]
    pub epoch: u64,
    /// The accounts commitment these roots chain to.
    pub accounts_commitment: String,
    /// `root_0 … root_{K−1}`.
    pub batch_roots: Vec<String>,
}

/// Why an inclusion proof was refused. Every variant names the field or file at fault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InclusionError {
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The proof (or the batch-roots file) is malformed.
    #[error("{file}: field {field}: {reason}")]
    Field {
        /// The file (or "inclusion proof").
        file: String,
        /// The field, e.g. `path[1].siblings[3]`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The proof is for another epoch than the statement.
    #[error("the proof is for epoch {proof}, the statement for epoch {statement}")]
    Epoch {
        /// The proof's epoch.
        proof: u64,
        /// The statement's epoch.
        statement: u64,
    },
    /// The proof names another backend or circuit shape than the statement.
    #[error("the proof's {field} {proof} does not match the statement's {statement}")]
    Mismatch {
        /// `backend` or `shape`.
        field: &'static str,
        /// The proof's value.
        proof: String,
        /// The statement's value.
        statement: String,
    },
    /// The proof binds the account to another owner commitment than the one given,
    /// or to none.
    #[error(
        "the leaf is bound to owner {bound}, not to your owner commitment {expected}: \
         this proof does not show that the account is yours"
    )]
    Owner {
        /// The owner commitment the user gave.
        expected: String,
        /// The proof's (`none` if it binds no owner).
        bound: String,
    },
    /// The account's data, salt and path do not lead to its batch root.
    #[error(
        "account {account}: its data, salt and path give batch root {computed}, but batch {batch}'s root is {expected}: \
         the balance, a position, a collateral amount, the salt or a sibling differs from what the venue committed to"
    )]
    NotInBatch {
        /// The account id.
        account: u64,
        /// The batch index.
        batch: u64,
        /// The root recomputed from the leaf.
        computed: String,
        /// The root in the proof's list.
        expected: String,
    },
    /// The batch roots do not chain to the published accounts commitment.
    #[error(
        "the batch roots chain to {computed}, but the published accounts commitment is {published}: \
         this account is NOT shown to be in the committed epoch"
    )]
    NotInCommitment {
        /// `a_K` recomputed from the roots.
        computed: String,
        /// `statement.json`'s `accounts_commitment`.
        published: String,
    },
}

pub(super) fn field(file: &str, field: impl Into<String>, reason: impl ToString) -> InclusionError {
    InclusionError::Field {
        file: file.to_owned(),
        field: field.into(),
        reason: reason.to_string(),
    }
}

pub(super) const PROOF: &str = "inclusion proof";

/// Reads and parses an inclusion proof file.
pub fn read_proof(path: &Path) -> Result<InclusionProof, InclusionError> {
    let bytes = std::fs::read(path).map_err(|error| InclusionError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let name = path.display().to_string();
    check_format(&bytes, &name, INCLUSION_FORMAT)?;
    serde_json::from_slice(&bytes).map_err(|e| field(&name, "(document)", e))
}

/// Reads a document's `format` before anything else, so that a proof of another
/// version is refused by its version, never reinterpreted.
fn check_format(bytes: &[u8], file: &str, expected: &str) -> Result<(), InclusionError> {
    #[derive(Deserialize)]
    struct Format {
        format: Option<String>,
    }
    let found = serde_json::from_slice::<Format>(bytes)
        .map_err(|e| field(file, "(document)", e))?
        .format;
    match found {
        Some(f) if f == expected => Ok(()),
        Some(f) => Err(field(
            file,
            "format",
            format!("{f:?} is not {expected}; this verifier reads only {expected}"),
        )),
        None => Err(field(file, "format", "missing")),
    }
}

/// The batch roots of a proof: its own list, or the shared file it names, resolved
/// relative to `proof_dir`.
pub fn resolve_batch_roots(
    proof: &InclusionProof,
    proof_dir: &Path,
) -> Result<Vec<String>, InclusionError> {
    match (&proof.batch_roots, &proof.batch_roots_file) {
        (Some(roots), None) => Ok(roots.clone()),
        (None, Some(name)) => {
            let path = proof_dir.join(name);
            let bytes = std::fs::read(&path).map_err(|error| InclusionError::Io {
                path: path.clone(),
                error,
            })?;
            let file_name = path.display().to_string();
            check_format(&bytes, &file_name, BATCH_ROOTS_FORMAT)?;
            let file: BatchRootsFile =
                serde_json::from_slice(&bytes).map_err(|e| field(&file_name, "(document)", e))?;
            if file.epoch != proof.epoch || file.backend != proof.backend {
                return Err(field(
                    &file_name,
                    "epoch",
                    format!(
                        "epoch {} ({}) is not the proof's epoch {} ({})",
                        file.epoch, file.backend, proof.epoch, proof.backend
                    ),
                ));
            }
            Ok(file.batch_roots)
        }
        _ => Err(field(
            PROOF,
            "batch_roots",
            "exactly one of batch_roots and batch_roots_file must be given",
        )),
    }
}

pub(super) fn element<H: FieldHasher>(
    file: &str,
    name: &str,
    text: &str,
) -> Result<H::F, InclusionError> {
    H::from_hex(text).ok_or_else(|| {
        field(
            file,
            name,
            "not 0x + 64 hex digits encoding a canonical field element",
        )
    })
}

/// Parses the account data of a proof against the epoch's markets: exact decimals
/// within the declared places and the bounds of `docs/SPEC.md` §3, known markets,
/// at most one position per market.
pub fn parse_account(data: &AccountData, params: &EpochParams) -> Result<Account, InclusionError> {
    let canonical = !data.account_id.is_empty()
        && data.account_id.bytes().all(|b| b.is_ascii_digit())
        && (data.account_id.len() == 1 || !data.account_id.starts_with('0'));
    let id = canonical
        .then(|| data.account_id.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| field(PROOF, "account.account_id", "not a canonical u64"))?;
    let balance = parse_scaled(&data.quote_balance, params.quote_decimals())
        .map_err(|e| field(PROOF, "account.quote_balance", e))
        .and_then(|v| Balance::new(v).map_err(|e| field(PROOF, "account.quote_balance", e)))?;
    let mut sizes = vec![Size::ZERO; params.markets().len()];
    let mut seen = vec![false; params.markets().len()];
    for (i, p) in data.positions.iter().enumerate() {
        let name = format!("account.positions[{i}]");
        let m = params.market_index(&p.market).ok_or_else(|| {
            field(
                PROOF,
                format!("{name}.market"),
                format!("{:?} is not a market of the epoch", p.market),
            )
        })?;
        if std::mem::replace(&mut seen[m], true) {
            return Err(field(
                PROOF,
                format!("{name}.market"),
                format!("a second position in {}", p.market),
            ));
        }
        let decimals = params.markets()[m].size_decimals();
        sizes[m] = parse_scaled(&p.size, decimals)
            .map_err(|e| field(PROOF, format!("{name}.size"), e))
            .and_then(|v| Size::new(v).map_err(|e| field(PROOF, format!("{name}.size"), e)))?;
    }
    let mut amounts = vec![Amount::ZERO; params.assets().len()];
    let mut seen = vec![false; params.assets().len()];
    for (i, b) in data.balances.iter().enumerate() {
        let name = format!("account.balances[{i}]");
        let c = params.asset_index(&b.asset).ok_or_else(|| {
            field(
                PROOF,
                format!("{name}.asset"),
                format!("{:?} is not a collateral asset of the epoch", b.asset),
            )
        })?;
        if std::mem::replace(&mut seen[c], true) {
            return Err(field(
                PROOF,
                format!("{name}.asset"),
                format!("a second balance of {}", b.asset),
            ));
        }
        let decimals = params.assets()[c].amount_decimals();
        amounts[c] = parse_scaled(&b.amount, decimals)
            .map_err(|e| field(PROOF, format!("{name}.amount"), e))
            .and_then(|v| Amount::new(v).map_err(|e| field(PROOF, format!("{name}.amount"), e)))?;
    }
    Ok(Account::new(AccountId::new(id), balance, sizes).with_amounts(amounts))
}

/// The account's data in the snapshot's notation: exact decimals, trailing zeros
/// removed, only non-zero positions, in market order.
pub fn account_data(account: &Account, params: &EpochParams) -> AccountData {
    AccountData {
        account_id: account.id().to_string(),
        quote_balance: format_scaled(
            I256::from(account.quote_balance().get()),
            params.quote_decimals(),
            0,
        ),
        positions: account
            .sizes()
            .iter()
            .zip(params.markets())
            .filter(|(s, _)| s.get() != 0)
            .map(|(s, m)| PositionData {
                market: m.symbol().to_owned(),
                size: format_scaled(I256::from(s.get()), m.size_decimals(), 0),
            })
            .collect(),
        balances: account
            .amounts()
            .iter()
            .zip(params.assets())
            .filter(|(a, _)| a.get() != 0)
            .map(|(a, c)| BalanceData {
                asset: c.symbol().to_owned(),
                amount: format_scaled(I256::from(a.get()), c.amount_decimals(), 0),
            })
            .collect(),
    }
}

/// Where the batch roots of a new proof go.
#[derive(Debug, Clone, Copy)]
pub enum RootsPlacement<'a, F> {
    /// Inside the proof.
    Embedded(&'a [F]),
    /// In a shared [`BatchRootsFile`] of this name beside the proof.
    SharedFile(&'a str),
}

/// Everything needed to write one account's proof.
#[derive(Debug, Clone, Copy)]
pub struct ProofParts<'a, H: FieldHasher> {
    /// The epoch's backend.
    pub backend: Backend,
    /// The epoch's shape.
    pub shape: &'a PublishedShape,
    /// The epoch's parameters.
    pub params: &'a EpochParams,
    /// The accounts commitment `a_K`.
    pub accounts_commitment: H::F,
    /// The account.
    pub account: &'a Account,
    /// Its salt (the venue's, before any owner binding).
    pub salt: H::F,
    /// Its batch.
    pub batch: u64,
    /// Its slot within the batch.
    pub slot: u64,
    /// Its path to the batch root.
    pub path: &'a [PathStep<H::F>],
    /// The batch roots.
    pub roots: RootsPlacement<'a, H::F>,
}

impl InclusionProof {
    /// Assembles a proof (the prover's side; nothing is checked here).
    pub fn new<H: FieldHasher>(parts: ProofParts<'_, H>) -> Self {
        let (batch_roots, batch_roots_file) = match parts.roots {
            RootsPlacement::Embedded(roots) => (Some(roots.iter().map(H::to_hex).collect()), None),
            RootsPlacement::SharedFile(name) => (None, Some(name.to_owned())),
        };
        Self {
            format: INCLUSION_FORMAT.to_owned(),
            backend: parts.backend,
            epoch: parts.params.epoch(),
            shape: parts.shape.clone(),
            accounts_commitment: H::to_hex(&parts.accounts_commitment),
            account: account_data(parts.account, parts.params),
            salt: H::to_hex(&parts.salt),
            owner: parts.account.owner().map(|o| o.to_string()),
            batch: parts.batch,
            slot: parts.slot,
            path: parts
                .path
                .iter()
                .map(|s| PathStepData {
                    position: s.position,
                    siblings: s.siblings.iter().map(H::to_hex).collect(),
                })
                .collect(),
            batch_roots,
            batch_roots_file,
        }
    }
}

impl BatchRootsFile {
    /// The shared roots of an epoch.
    pub fn new<H: FieldHasher>(
        backend: Backend,
        epoch: u64,
        accounts_commitment: H::F,
        roots: &[H::F],
    ) -> Self {
        Self {
            format: BATCH_ROOTS_FORMAT.to_owned(),
            backend,
            epoch,
            accounts_commitment: H::to_hex(&accounts_commitment),
            batch_roots: roots.iter().map(H::to_hex).collect(),
        }
    }
}
