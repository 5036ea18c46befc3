//! Inclusion proofs: one account's evidence that it is inside an epoch's accounts
//! commitment, and the check its owner runs (`docs/INCLUSION.md`).
//!
//! An [`InclusionProof`] holds the account's own data (balance and positions as
//! exact decimal strings), its salt, its path to its batch root (per level the
//! position `0..7` and the seven siblings, `docs/SPEC.md` §5.3), its batch index,
//! and the `K` batch roots, which let the owner recompute the accounts chain
//! `a_0 → a_K` (§5.4). The batch roots reveal nothing, since every leaf is salted;
//! they are either inside the proof (`batch_roots`) or, for proofs written in bulk,
//! in one shared [`BatchRootsFile`] beside them (`batch_roots_file`).
//!
//! [`verify_inclusion`] recomputes the leaf (padding flag 0), the path, the chain,
//! compares `a_K` with the published statement's `accounts_commitment`, and
//! evaluates the account natively at the published prices to say whether the
//! published liquidation set is right about it. It is generic over the
//! [`FieldHasher`], so the halo2/Pasta backend reuses it unchanged;
//! [`verify_inclusion_for_statement`] picks the hash from the statement's backend.
//!
//! The proof files, their error and their reading and writing are in `format`
//! (re-exported here).

mod format;

pub use format::{
    AccountData, BATCH_ROOTS_FILE, BATCH_ROOTS_FORMAT, BalanceData, BatchRootsFile,
    INCLUSION_FORMAT, InclusionError, InclusionProof, PathStepData, PositionData, ProofParts,
    RootsPlacement, account_data, parse_account, read_proof, resolve_batch_roots,
};

use backstop_circuits::decimal::format_scaled;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::model::{Account, OwnerCommitment};
use backstop_circuits::native::commit::{
    PathStep, TREE_ARITY, account_salt, accounts_chain_start, accounts_chain_step, leaf,
    leaf_words, owner_salt, root_from_path, secret_element,
};
use backstop_circuits::native::risk::{Scales, account_risk};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::statement::{Backend, EpochStatement};
use format::{PROOF, element, field};
use serde::Serialize;
use std::path::Path;

/// The domain of owner commitments derived from a secret ([`owner_commitment_from_secret`]).
pub const OWNER_SECRET_DOMAIN: &[u8] = b"backstop.owner-secret.v1";

/// The owner commitment of an owner's secret (`docs/SPEC.md` §5.2):
/// `keccak256("backstop.owner-secret.v1" ‖ secret)`, the secret being a file's bytes
/// with one trailing newline (`\n` or `\r\n`) removed. The owner gives the venue
/// this commitment, never the secret; `backstop owner commitment` prints it.
pub fn owner_commitment_from_secret(secret: &[u8]) -> OwnerCommitment {
    use sha3::{Digest, Keccak256};
    let secret = secret.strip_suffix(b"\n").unwrap_or(secret);
    let secret = secret.strip_suffix(b"\r").unwrap_or(secret);
    let mut h = Keccak256::new();
    h.update(OWNER_SECRET_DOMAIN);
    h.update(secret);
    OwnerCommitment(h.finalize().into())
}

/// What a successful inclusion check established about one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InclusionReport {
    /// The account id.
    pub account_id: String,
    /// The epoch (a decimal string in JSON).
    #[serde(serialize_with = "backstop_circuits::json::u64_string::serialize")]
    pub epoch: u64,
    /// The accounts commitment the account is in.
    pub accounts_commitment: String,
    /// The batch index.
    pub batch: u64,
    /// The slot `j` within the batch, `0..B`.
    pub slot: u64,
    /// The account's index in the epoch, `b·B + j` (its place in id order).
    pub index: u64,
    /// `TV` in quote units, exact.
    pub total_value: String,
    /// `MR` in quote units, exact (tiered under risk model v2).
    pub maintenance_requirement: String,
    /// Risk model v2 with collateral assets: the margin value `MV` in quote units,
    /// exact (held assets at their collateral ratio, debts in full); absent without
    /// assets, where `MV = TV`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_value: Option<String>,
    /// Risk model v2: the account's collateral balances as its leaf commits them
    /// (non-zero ones, in asset order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<BalanceData>,
    /// Whether the account is liquidatable at the published prices (`MV < MR`;
    /// `TV < MR` without assets).
    pub liquidatable: bool,
    /// Whether the published liquidation set lists the account.
    pub listed_as_liquidatable: bool,
    /// The salt is the one the public demo secret gives: the leaf hides nothing.
    pub demo_secret: bool,
    /// The owner commitment the leaf is bound to (`docs/SPEC.md` §5.2), if any.
    pub owner: Option<String>,
    /// The account's part of the default waterfall (`docs/SPEC.md` §2.4), if the
    /// statement publishes one: recomputed from the leaf and the published rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waterfall: Option<AccountWaterfall>,
}

/// One account's part of the default waterfall, in quote units, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountWaterfall {
    /// The liquidation fee it paid: `min(Σ_m n_m · lf_m / 10^4, max(TV, 0))` if
    /// liquidatable, else 0.
    pub liquidation_fee: String,
    /// Its haircut at the published rate: `⌊E' · h / 10^9⌋` whole common units,
    /// `E' = max(TV − fee, 0)`.
    pub haircut: String,
    /// The published rate `h` (ppb).
    pub haircut_ppb: u32,
    /// What remains of its equity: `max(TV, 0) − fee − haircut`.
    pub equity_after: String,
}

impl InclusionReport {
    /// Whether the published liquidation set is right about this account.
    pub fn liquidation_consistent(&self) -> bool {
        self.liquidatable == self.listed_as_liquidatable
    }

    /// Checks that the leaf is bound to `expected`, the owner commitment its owner
    /// recomputed from what only they hold: a leaf bound to another owner, or to
    /// none, is not shown to be theirs (two owners cannot share one leaf).
    pub fn check_owner(&self, expected: &OwnerCommitment) -> Result<(), InclusionError> {
        let expected = expected.to_string();
        if self.owner.as_deref() == Some(expected.as_str()) {
            Ok(())
        } else {
            Err(InclusionError::Owner {
                expected,
                bound: self.owner.clone().unwrap_or_else(|| "none".into()),
            })
        }
    }
}

/// The parsed, hash-typed content of a proof.
#[derive(Debug, Clone)]
pub struct OpenedProof<F> {
    /// The account.
    pub account: Account,
    /// The salt its leaf absorbs: the venue's salt, bound to the owner commitment
    /// if the proof names one ([`owner_salt`]).
    pub salt: F,
    /// The venue's salt, as written in the proof.
    pub venue_salt: F,
    /// Its path to the batch root.
    pub path: Vec<PathStep<F>>,
}

/// Batch roots checked once against a statement: `K` of them, canonical field
/// elements, chaining from `a_0` to the published accounts commitment (§5.4).
/// Checking many proofs that share the roots (an auditor going through a bulk
/// output) pays the `K` chain hashes once.
#[derive(Debug, Clone)]
pub struct ChainedRoots<F> {
    roots: Vec<F>,
}

impl<F: Copy + Eq> ChainedRoots<F> {
    /// Parses `roots` and checks their chain to `statement`'s accounts commitment.
    pub fn new<H: FieldHasher<F = F>>(
        roots: &[String],
        statement: &EpochStatement,
    ) -> Result<Self, InclusionError> {
        let file = statement.file();
        let k = file.batch_count;
        if roots.len() as u64 != k {
            return Err(field(
                PROOF,
                "batch_roots",
                format!("{} roots, the statement has {k} batches", roots.len()),
            ));
        }
        let roots = roots
            .iter()
            .enumerate()
            .map(|(i, r)| element::<H>(PROOF, &format!("batch_roots[{i}]"), r))
            .collect::<Result<Vec<_>, _>>()?;
        let published = element::<H>(
            "statement.json",
            "accounts_commitment",
            &file.accounts_commitment,
        )?;
        let chained = roots
            .iter()
            .fold(accounts_chain_start::<H>(file.epoch), |acc, r| {
                accounts_chain_step::<H>(acc, *r)
            });
        if chained != published {
            return Err(InclusionError::NotInCommitment {
                computed: H::to_hex(&chained),
                published: file.accounts_commitment.clone(),
            });
        }
        Ok(Self { roots })
    }

    /// The roots, `root_0 … root_{K−1}`.
    pub fn roots(&self) -> &[F] {
        &self.roots
    }
}

/// Parses a proof's field elements and account data and checks it against the
/// statement's epoch, backend and shape. Nothing cryptographic yet.
pub fn open_proof<H: FieldHasher>(
    proof: &InclusionProof,
    statement: &EpochStatement,
) -> Result<OpenedProof<H::F>, InclusionError> {
    let file = statement.file();
    if proof.format != INCLUSION_FORMAT {
        return Err(field(
            PROOF,
            "format",
            format!("expected {INCLUSION_FORMAT}, got {:?}", proof.format),
        ));
    }
    if proof.epoch != file.epoch {
        return Err(InclusionError::Epoch {
            proof: proof.epoch,
            statement: file.epoch,
        });
    }
    if proof.backend != file.backend {
        return Err(InclusionError::Mismatch {
            field: "backend",
            proof: proof.backend.to_string(),
            statement: file.backend.to_string(),
        });
    }
    if proof.shape != file.shape {
        return Err(InclusionError::Mismatch {
            field: "shape",
            proof: proof.shape.id.clone(),
            statement: file.shape.id.clone(),
        });
    }
    let shape = statement.shape();
    let depth = shape.batch_size().depth() as usize;
    let b = shape.batch_size().get() as u64;
    let k = file.batch_count;
    if proof.path.len() != depth {
        return Err(field(
            PROOF,
            "path",
            format!("{} levels, batches of {b} need {depth}", proof.path.len()),
        ));
    }
    if proof.batch >= k {
        return Err(field(
            PROOF,
            "batch",
            format!("{} is not below the batch count {k}", proof.batch),
        ));
    }
    let mut path = Vec::with_capacity(depth);
    let mut slot = 0u64;
    for (level, step) in proof.path.iter().enumerate().rev() {
        if step.position as usize >= TREE_ARITY {
            return Err(field(
                PROOF,
                format!("path[{level}].position"),
                "must be 0..7",
            ));
        }
        slot = slot * TREE_ARITY as u64 + u64::from(step.position);
    }
    if slot != proof.slot {
        return Err(field(
            PROOF,
            "slot",
            format!(
                "{} does not match the path's positions ({slot})",
                proof.slot
            ),
        ));
    }
    for (level, step) in proof.path.iter().enumerate() {
        if step.siblings.len() != TREE_ARITY - 1 {
            return Err(field(
                PROOF,
                format!("path[{level}].siblings"),
                "need exactly 7 siblings",
            ));
        }
        let mut siblings = [H::from_u64(0); TREE_ARITY - 1];
        for (i, s) in step.siblings.iter().enumerate() {
            siblings[i] = element::<H>(PROOF, &format!("path[{level}].siblings[{i}]"), s)?;
        }
        path.push(PathStep {
            position: step.position,
            siblings,
        });
    }
    let owner = match &proof.owner {
        None => None,
        Some(text) => Some(
            OwnerCommitment::parse(text)
                .ok_or_else(|| field(PROOF, "owner", "not 0x + 64 lowercase hex digits"))?,
        ),
    };
    let venue_salt = element::<H>(PROOF, "salt", &proof.salt)?;
    Ok(OpenedProof {
        account: parse_account(&proof.account, statement.params())?.with_owner(owner),
        salt: owner_salt::<H>(venue_salt, owner),
        venue_salt,
        path,
    })
}

/// Checks an inclusion proof against a validated statement with the hash `H`
/// (Bn254 Poseidon for `groth16-bn254`, Pasta Poseidon for `halo2-pasta`):
///
/// 1. the batch roots chain `a_0 = H(TAG_ACCOUNTS, epoch)`, `a_{b+1} = H(a_b, root_b)`
///    to the statement's `accounts_commitment` (§5.4),
/// 2. the leaf of the account's data with its salt (bound to the proof's owner
///    commitment, if it names one) and padding flag 0 (§5.2),
/// 3. up the path to a batch root equal to `batch_roots[batch]` (§5.3);
///
/// then evaluates the account at the published prices and compares with the
/// published liquidation set (see [`InclusionReport::liquidation_consistent`]).
/// `roots` are the proof's batch roots ([`resolve_batch_roots`]).
pub fn verify_inclusion<H: FieldHasher>(
    proof: &InclusionProof,
    roots: &[String],
    statement: &EpochStatement,
) -> Result<InclusionReport, InclusionError> {
    // The proof's own fields first, so that a proof of another epoch says so.
    open_proof::<H>(proof, statement)?;
    let chained = ChainedRoots::new::<H>(roots, statement)?;
    verify_inclusion_chained::<H>(proof, &chained, statement)
}

/// [`verify_inclusion`] with roots already checked against `statement`
/// ([`ChainedRoots::new`]).
pub fn verify_inclusion_chained<H: FieldHasher>(
    proof: &InclusionProof,
    roots: &ChainedRoots<H::F>,
    statement: &EpochStatement,
) -> Result<InclusionReport, InclusionError> {
    let file = statement.file();
    let opened = open_proof::<H>(proof, statement)?;
    let params = statement.params();
    let account = &opened.account;
    let id = account.id().get();
    let words = leaf_words(Some(account), params.markets().len(), params.assets().len());
    let computed_root = root_from_path::<H>(leaf::<H>(opened.salt, &words), &opened.path);
    let batch_root = roots.roots()[proof.batch as usize];
    if computed_root != batch_root {
        return Err(InclusionError::NotInBatch {
            account: id,
            batch: proof.batch,
            computed: H::to_hex(&computed_root),
            expected: H::to_hex(&batch_root),
        });
    }
    if proof.accounts_commitment != file.accounts_commitment {
        return Err(InclusionError::Mismatch {
            field: "accounts_commitment",
            proof: proof.accounts_commitment.clone(),
            statement: file.accounts_commitment.clone(),
        });
    }
    let scales = Scales::new(params);
    let risk = account_risk(&scales, account);
    let demo = account_salt::<H>(
        secret_element::<H>(&VenueSecret::demo()),
        params.epoch(),
        account.id(),
    );
    let q = params.quote_decimals();
    Ok(InclusionReport {
        account_id: id.to_string(),
        epoch: params.epoch(),
        accounts_commitment: file.accounts_commitment.clone(),
        batch: proof.batch,
        slot: proof.slot,
        index: proof.batch * statement.shape().batch_size().get() as u64 + proof.slot,
        total_value: format_scaled(risk.total_value, scales.exponent, q),
        maintenance_requirement: format_scaled(risk.requirement_bps, scales.exponent + 4, q),
        margin_value: (!params.assets().is_empty())
            .then(|| format_scaled(risk.margin_value_bps, scales.exponent + 4, q)),
        balances: account_data(account, params).balances,
        liquidatable: risk.liquidatable,
        listed_as_liquidatable: statement
            .liquidations()
            .binary_search(&account.id())
            .is_ok(),
        demo_secret: demo == opened.venue_salt,
        owner: account.owner().map(|o| o.to_string()),
        waterfall: file.haircut_ppb.map(|ppb| {
            use backstop_circuits::native::waterfall::{AMOUNT_EXTRA_DECIMALS, haircut};
            let cut = haircut(risk.haircut_base, ppb);
            let scale = ethnum::I256::from(10_000);
            let e = scales.exponent + AMOUNT_EXTRA_DECIMALS;
            AccountWaterfall {
                liquidation_fee: format_scaled(risk.liquidation_fee, e, q),
                haircut: format_scaled(cut, scales.exponent, q),
                haircut_ppb: ppb,
                equity_after: format_scaled(risk.haircut_base - scale * cut, e, q),
            }
        }),
    })
}

/// [`verify_inclusion`] with the hash of the statement's backend.
pub fn verify_inclusion_for_statement(
    proof: &InclusionProof,
    roots: &[String],
    statement: &EpochStatement,
) -> Result<InclusionReport, InclusionError> {
    match statement.file().backend {
        Backend::Groth16Bn254 => verify_inclusion::<Bn254Poseidon>(proof, roots, statement),
        Backend::Halo2Pasta => verify_inclusion::<PastaPoseidon>(proof, roots, statement),
    }
}

/// Reads `proof_path` (and the batch-roots file it may name) and checks it against
/// `statement` ([`verify_inclusion_for_statement`]).
pub fn verify_inclusion_file(
    proof_path: &Path,
    statement: &EpochStatement,
) -> Result<InclusionReport, InclusionError> {
    let proof = read_proof(proof_path)?;
    let dir = proof_path.parent().unwrap_or_else(|| Path::new("."));
    let roots = resolve_batch_roots(&proof, dir)?;
    verify_inclusion_for_statement(&proof, &roots, statement)
}
