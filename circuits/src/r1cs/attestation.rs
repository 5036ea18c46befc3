//! The margin attestation circuit: one committed account is healthy by a margin,
//! revealing nothing else (`docs/INCLUSION.md`, "Margin attestations").
//!
//! # The claim
//!
//! A trader (or the venue on its behalf) proves that *some* account inside an
//! epoch's accounts commitment `a_K` has, at the epoch's published prices,
//!
//! ```text
//! TV ≥ R · MR          with R = r / 10^4, r ∈ [0, 2^32)         (ratio claim)
//! TV ≥ X · f_q         with X ∈ [0, 2^128) minimal quote units   (equity claim)
//! ```
//!
//! exactly, on integers in common units (`docs/SPEC.md` §2.2, §3): since
//! `MR = MR' / 10000`, the ratio claim is `10^4 · 10^4 · TV ≥ r · MR'`. `X = 0` is
//! "no equity claim": the ratio claim already implies `TV ≥ 0`, because `MR' ≥ 0`.
//! The account's id, balance, positions, salt, batch and slot stay hidden.
//!
//! # The attestation tree
//!
//! The accounts commitment is a linear chain over the batch roots (§5.4), whose
//! length `K` changes from epoch to epoch; a circuit cannot follow it at a fixed
//! size without revealing the batch. So the verifier, given the `K` batch roots
//! (they reveal nothing: leaves are salted), checks natively that they chain to the
//! published `a_K`, and computes the root `T` of the **roots tree**: the complete
//! 8-ary tree of depth `11 − log8 B` whose leaves are `root_0 … root_{K−1}`
//! followed by zeros (and whose nodes are `H(c_0, …, c_7)`, as in §5.3). Hung under
//! it, the batch trees make one complete 8-ary tree of depth exactly
//! [`ATTEST_DEPTH`]` = 11` over `8^11 = 2^33 ≥ K·B` slots, for every batch size, so
//! the circuit depends on `M` alone: it opens one account leaf to `T` through 11
//! levels, at a hidden position.
//!
//! # Public input
//!
//! One field element, computed by the verifier from the published statement, the
//! claim and the roots:
//!
//! ```text
//! x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context)
//! ```
//!
//! with `TAG_ATTEST = int("backstop.attest.v1")` (`docs/SPEC.md` §5.0) and `context`
//! a field element chosen by the counterparty (for example a hash of a nonce), so
//! that an attestation made for one counterparty cannot be passed off as fresh to
//! another. Everything else is a witness.
//!
//! # Constraints
//!
//! 7,835 at `M = 8` and 6,835 at `M = 2` (pinned by `tests::shape_is_pinned`):
//!
//! | part | constraints at `M = 8` |
//! | --- | --- |
//! | id, balance and size lanes, 64 bits each, signed lanes `≠ 0` | 649 |
//! | `TV`, `MR'`: products and absolute values (`3M + 1`) | 25 |
//! | `r` (32 bits), `X` (128 bits), `r·MR'`, `X·f_q` | 162 |
//! | ratio slack `≥ 0` ([`AttestationShape::ratio_slack_bits`]: 236) | 236 |
//! | equity slack `≥ 0` ([`AttestationShape::equity_slack_bits`]: 190) | 190 |
//! | leaf: Poseidon over the salt and 4 words | 321 |
//! | 11 path levels: one-hot position (9), child selection (14), node (402) | 4,675 |
//! | parameters hash (as in the batch circuit) | 1,197 |
//! | public input hash, two equalities | 380 |

use super::assignment::fr_from_i256;
use super::bits::{alloc_bits_le, enforce_nonzero, enforce_range};
use super::poseidon::poseidon;
use crate::bounds::{BPS_DENOMINATOR, LANE_OFFSET, MAX_MARKETS, MAX_SCALE_EXPONENT, RESERVE_BITS};
use crate::decimal::{DecimalError, parse_unsigned_scaled};
use crate::hash::{Bn254Poseidon, FieldHasher, MAX_HASH_INPUTS};
use crate::model::{Account, EpochParams};
use crate::native::commit::{
    BatchSize, PathStep, TREE_ARITY, accounts_chain_start, accounts_chain_step, leaf, leaf_words,
    params_hash, root_from_path, tag, tags,
};
use crate::native::risk::{Scales, account_risk};
use crate::shape::CircuitShape;
use crate::witness::ParamsWitness;
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ethnum::{I256, U256};
use thiserror::Error;

/// The domain tag of the attestation public input.
pub const TAG_ATTEST: &str = "backstop.attest.v1";
/// Depth of the attestation tree (batch tree and roots tree together):
/// `8^11 = 2^33 ≥ 2^32 ≥ K·B` slots.
pub const ATTEST_DEPTH: u32 = 11;
/// Decimal places of the ratio `R`: `r = R · 10^4`.
pub const RATIO_DECIMALS: u32 = 4;
/// `r < 2^32`, i.e. `R < 429 496.7296`.
pub const RATIO_BITS: u32 = 32;
/// `X < 2^128` minimal quote units, the bound of reserves (`docs/SPEC.md` §3).
pub const MIN_EQUITY_BITS: u32 = RESERVE_BITS;

/// Why an attestation could not be built or its claim parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The ratio is not a decimal with at most 4 places below 429496.7296.
    #[error("min margin ratio {value:?}: {reason}")]
    Ratio {
        /// The text given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The minimum equity is not a non-negative decimal in quote units.
    #[error("min equity {value:?}: {reason}")]
    MinEquity {
        /// The text given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The account has another number of markets than the parameters.
    #[error("account {id} has {got} sizes but the epoch has {expected} markets")]
    Markets {
        /// The account.
        id: u64,
        /// Sizes given.
        got: usize,
        /// Markets in the epoch.
        expected: usize,
    },
    /// The batch index is not below the number of batch roots.
    #[error("batch {batch} is not below the number of batch roots {count}")]
    Batch {
        /// The batch index.
        batch: usize,
        /// `K`.
        count: usize,
    },
    /// Too many batch roots for the batch size (`K·B ≤ 2^32`).
    #[error("{count} batch roots of {batch_size} slots exceed 2^32 slots")]
    TooManyBatches {
        /// `K`.
        count: usize,
        /// `B`.
        batch_size: usize,
    },
    /// The path within the batch does not have `log8 B` steps.
    #[error("the path within the batch has {got} steps, batches of {batch_size} need {expected}")]
    PathLength {
        /// Steps given.
        got: usize,
        /// `log8 B`.
        expected: usize,
        /// `B`.
        batch_size: usize,
    },
    /// The account, salt and path do not open to the batch's root.
    #[error("account {id}: its data, salt and path do not open to batch root {batch}")]
    NotIncluded {
        /// The account.
        id: u64,
        /// The batch index.
        batch: usize,
    },
    /// The claim is false for this account: no proof exists.
    #[error("account {id} does not satisfy the claim: {reason}")]
    ClaimFalse {
        /// The account.
        id: u64,
        /// Which part fails, with the exact values.
        reason: String,
    },
}

/// What is attested: `TV ≥ (ratio / 10^4) · MR` and `TV ≥ min_equity · f_q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttestationClaim {
    /// `r = R · 10^4`, below `2^32`.
    pub ratio: u32,
    /// `X` in minimal quote units (0: no equity claim), below `2^128`.
    pub min_equity: u128,
}

impl AttestationClaim {
    /// Parses `R` (a decimal with at most 4 places, e.g. `"1.5"`) and `X` (quote
    /// units, at most `quote_decimals` places), exactly.
    pub fn parse(
        ratio: &str,
        min_equity: Option<&str>,
        quote_decimals: u32,
    ) -> Result<Self, AttestationError> {
        let bound = "0 <= R < 429496.7296, at most 4 decimal places";
        let r = parse_unsigned_scaled(ratio, RATIO_DECIMALS, bound)
            .map_err(|e| AttestationError::Ratio {
                value: ratio.to_owned(),
                reason: e.to_string(),
            })
            .and_then(|r| {
                u32::try_from(r).map_err(|_| AttestationError::Ratio {
                    value: ratio.to_owned(),
                    reason: bound.to_owned(),
                })
            })?;
        let x = match min_equity {
            None => 0,
            Some(text) => {
                parse_unsigned_scaled(text, quote_decimals, "0 <= X < 2^128 minimal quote units")
                    .map_err(|e: DecimalError| AttestationError::MinEquity {
                        value: text.to_owned(),
                        reason: e.to_string(),
                    })?
            }
        };
        Ok(Self {
            ratio: r,
            min_equity: x,
        })
    }

    /// `R` as an exact decimal string (`"1.5"`).
    pub fn ratio_text(&self) -> String {
        crate::decimal::format_scaled(I256::from(self.ratio), RATIO_DECIMALS, 0)
    }

    /// `X` as an exact decimal string in quote units.
    pub fn min_equity_text(&self, quote_decimals: u32) -> String {
        crate::decimal::format_scaled(I256::from(self.min_equity), quote_decimals, 0)
    }

    /// Whether the claim holds for an account's `TV` and `MR'` (common units):
    /// `Ok(())` or the reason it fails.
    pub fn check(
        &self,
        total_value: I256,
        requirement_bps: I256,
        quote_scale: I256,
    ) -> Result<(), String> {
        let lhs = total_value * I256::from(10u64.pow(RATIO_DECIMALS)) * I256::from(BPS_DENOMINATOR);
        let rhs = I256::from(self.ratio) * requirement_bps;
        if lhs < rhs {
            return Err(format!(
                "10^8·TV = {lhs} < r·MR' = {rhs} (TV below {} times the maintenance requirement)",
                self.ratio_text()
            ));
        }
        let floor = I256::from(self.min_equity) * quote_scale;
        if total_value < floor {
            return Err(format!(
                "TV = {total_value} < X·f_q = {floor} (common units)"
            ));
        }
        Ok(())
    }
}

/// The node of an empty subtree of height `h` above the batch roots: 0 for a missing
/// batch root, `H(z, …, z)` above.
fn empty_node<H: FieldHasher>(height: u32) -> H::F {
    (0..height).fold(H::from_u64(0), |z, _| H::hash(&[z; TREE_ARITY]))
}

/// The depth of the roots tree for batches of `B`: `11 − log8 B`.
pub fn roots_tree_depth(batch_size: BatchSize) -> u32 {
    ATTEST_DEPTH - batch_size.depth()
}

/// The levels of the roots tree over `roots` (level 0 the roots themselves, the
/// last the root alone); missing nodes are the empty nodes of their height.
/// `roots.len() ≤ 8^(11 − log8 B)` is the caller's to check ([`attestation_tree_root`]).
fn roots_tree_levels<H: FieldHasher>(batch_size: BatchSize, roots: &[H::F]) -> Vec<Vec<H::F>> {
    let depth = roots_tree_depth(batch_size);
    let mut levels = vec![roots.to_vec()];
    let mut empty = H::from_u64(0);
    for _ in 0..depth {
        let below = &levels[levels.len() - 1];
        let next = below
            .chunks(TREE_ARITY)
            .map(|c| {
                let mut children = [empty; TREE_ARITY];
                children[..c.len()].copy_from_slice(c);
                H::hash(&children)
            })
            .collect::<Vec<_>>();
        let next = if next.is_empty() {
            vec![H::hash(&[empty; TREE_ARITY])]
        } else {
            next
        };
        empty = H::hash(&[empty; TREE_ARITY]);
        levels.push(next);
    }
    levels
}

fn check_roots(batch_size: BatchSize, count: usize) -> Result<(), AttestationError> {
    let capacity = 1u128 << (3 * roots_tree_depth(batch_size));
    if count == 0 || count as u128 > capacity {
        return Err(AttestationError::TooManyBatches {
            count,
            batch_size: batch_size.get(),
        });
    }
    Ok(())
}

/// `T`: the root of the roots tree over the batch roots (see the module docs).
pub fn attestation_tree_root<H: FieldHasher>(
    batch_size: BatchSize,
    roots: &[H::F],
) -> Result<H::F, AttestationError> {
    check_roots(batch_size, roots.len())?;
    let levels = roots_tree_levels::<H>(batch_size, roots);
    Ok(levels[levels.len() - 1][0])
}

/// The path from batch root `batch` to `T`, `11 − log8 B` steps.
pub fn roots_tree_path<H: FieldHasher>(
    batch_size: BatchSize,
    roots: &[H::F],
    batch: usize,
) -> Result<Vec<PathStep<H::F>>, AttestationError> {
    check_roots(batch_size, roots.len())?;
    if batch >= roots.len() {
        return Err(AttestationError::Batch {
            batch,
            count: roots.len(),
        });
    }
    let levels = roots_tree_levels::<H>(batch_size, roots);
    let mut index = batch;
    let mut steps = Vec::with_capacity(levels.len() - 1);
    for (height, level) in levels[..levels.len() - 1].iter().enumerate() {
        let empty = empty_node::<H>(height as u32);
        let base = index - index % TREE_ARITY;
        let position = (index % TREE_ARITY) as u8;
        let mut siblings = [empty; TREE_ARITY - 1];
        let mut k = 0;
        for j in 0..TREE_ARITY {
            if j != position as usize {
                siblings[k] = level.get(base + j).copied().unwrap_or(empty);
                k += 1;
            }
        }
        steps.push(PathStep { position, siblings });
        index /= TREE_ARITY;
    }
    Ok(steps)
}

/// The accounts commitment `a_K` of `roots` (`docs/SPEC.md` §5.4).
pub fn chain_roots<H: FieldHasher>(epoch: u64, roots: &[H::F]) -> H::F {
    roots
        .iter()
        .fold(accounts_chain_start::<H>(epoch), |acc, r| {
            accounts_chain_step::<H>(acc, *r)
        })
}

/// The attestation's public input `x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context)`.
pub fn attestation_public_input<H: FieldHasher>(
    accounts_commitment: H::F,
    tree_root: H::F,
    params_hash: H::F,
    claim: &AttestationClaim,
    context: H::F,
) -> H::F {
    H::hash(&[
        tag::<H>(TAG_ATTEST),
        accounts_commitment,
        tree_root,
        params_hash,
        H::from_u64(claim.ratio.into()),
        H::from_u256(U256::from(claim.min_equity)),
        context,
    ])
}

/// The shape of an attestation circuit: the number of markets `M` (the tree depth is
/// [`ATTEST_DEPTH`] for every batch size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttestationShape {
    markets: usize,
}

/// `(2^63 − 1) · (2^64 − 1) · 10^18`: the largest `|size_m · uv_m|`.
fn max_notional() -> I256 {
    I256::from(i64::MAX) * I256::from(u64::MAX) * I256::from(10u64.pow(MAX_SCALE_EXPONENT))
}

fn bit_length(v: I256) -> u32 {
    256 - v.leading_zeros()
}

impl AttestationShape {
    /// Validates `1 ≤ M ≤ 64`.
    pub fn new(markets: usize) -> Result<Self, crate::shape::ShapeError> {
        if markets == 0 || markets > MAX_MARKETS {
            return Err(crate::shape::ShapeError::Markets(markets));
        }
        Ok(Self { markets })
    }
    /// `M`.
    pub fn markets(&self) -> usize {
        self.markets
    }
    /// A stable identifier, e.g. `backstop.attest.v1.M8`.
    pub fn id(&self) -> String {
        format!("backstop.attest.v1.M{}", self.markets)
    }
    /// `|TV| < tv_bound`, as for the batch circuit.
    fn tv_bound(&self) -> I256 {
        // Any batch size: the bound depends on M alone.
        CircuitShape::new(8, self.markets).map_or(I256::MAX, |s| s.tv_bound())
    }
    /// Bits of the ratio slack `|10^8·TV − r·MR'|` (239 at `M = 64`).
    pub fn ratio_slack_bits(&self) -> u32 {
        let tv = self.tv_bound() * I256::from(10u64.pow(RATIO_DECIMALS) * BPS_DENOMINATOR);
        let requirement = I256::from((1u64 << RATIO_BITS) - 1)
            * I256::from(self.markets as u64)
            * max_notional()
            * I256::from(BPS_DENOMINATOR);
        bit_length(tv + requirement)
    }
    /// Bits of the equity slack `TV − X·f_q ∈ (−2^188, tv_bound)`.
    pub fn equity_slack_bits(&self) -> u32 {
        let floor = (I256::ONE << MIN_EQUITY_BITS) * I256::from(10u64.pow(MAX_SCALE_EXPONENT));
        bit_length(self.tv_bound().max(floor))
    }
}

/// Everything the attestation circuit reads, as raw field elements and lanes so
/// that the tests can also build malicious assignments.
#[derive(Debug, Clone)]
pub(crate) struct AttestationAssignment {
    pub(crate) public_input: Fr,
    pub(crate) accounts_commitment: Fr,
    pub(crate) tree_root: Fr,
    pub(crate) epoch: Fr,
    pub(crate) quote_scale: Fr,
    pub(crate) reserves: Fr,
    pub(crate) insurance_fund: Fr,
    pub(crate) unit_value: Vec<Fr>,
    pub(crate) unit_requirement: Vec<Fr>,
    /// `r`; only values below `2^32` can be assigned to its bits.
    pub(crate) ratio: U256,
    /// `X`; only values below `2^128` can be assigned to its bits.
    pub(crate) min_equity: U256,
    pub(crate) context: Fr,
    pub(crate) id: U256,
    pub(crate) balance_lane: U256,
    pub(crate) size_lanes: Vec<U256>,
    pub(crate) salt: Fr,
    /// [`ATTEST_DEPTH`] steps, leaf to `T`.
    pub(crate) path: Vec<PathStep<Fr>>,
}

/// An honest attestation witness, built from validated data by
/// [`AttestationWitness::new`], which refuses false claims and accounts that do not
/// open to the roots.
#[derive(Debug, Clone)]
pub struct AttestationWitness {
    assignment: AttestationAssignment,
    shape: AttestationShape,
}

/// The native inputs of [`AttestationWitness::new`]: one account's inclusion data.
#[derive(Debug, Clone, Copy)]
pub struct AttestationInputs<'a> {
    /// The epoch's validated public parameters.
    pub params: &'a EpochParams,
    /// The account (its sizes in the order of the parameters' markets).
    pub account: &'a Account,
    /// Its salt (`docs/SPEC.md` §5.1).
    pub salt: Fr,
    /// `B`.
    pub batch_size: BatchSize,
    /// Its batch.
    pub batch: usize,
    /// Its path within the batch (`log8 B` steps).
    pub batch_path: &'a [PathStep<Fr>],
    /// All `K` batch roots of the epoch.
    pub batch_roots: &'a [Fr],
    /// The claim.
    pub claim: AttestationClaim,
    /// The counterparty's context element.
    pub context: Fr,
}

impl AttestationWitness {
    /// Checks the inputs natively (the leaf opens to its batch root, the claim
    /// holds) and builds the witness.
    pub fn new(inputs: AttestationInputs<'_>) -> Result<Self, AttestationError> {
        let AttestationInputs {
            params,
            account,
            salt,
            batch_size,
            batch,
            batch_path,
            batch_roots,
            claim,
            context,
        } = inputs;
        type H = Bn254Poseidon;
        let markets = params.markets().len();
        let id = account.id().get();
        if account.sizes().len() != markets {
            return Err(AttestationError::Markets {
                id,
                got: account.sizes().len(),
                expected: markets,
            });
        }
        if batch_path.len() != batch_size.depth() as usize {
            return Err(AttestationError::PathLength {
                got: batch_path.len(),
                expected: batch_size.depth() as usize,
                batch_size: batch_size.get(),
            });
        }
        let batch_root = *batch_roots.get(batch).ok_or(AttestationError::Batch {
            batch,
            count: batch_roots.len(),
        })?;
        let words = leaf_words(Some(account), markets);
        if root_from_path::<H>(leaf::<H>(salt, &words), batch_path) != batch_root {
            return Err(AttestationError::NotIncluded { id, batch });
        }
        let scales = Scales::new(params);
        let risk = account_risk(&scales, account);
        claim
            .check(risk.total_value, risk.requirement_bps, scales.quote)
            .map_err(|reason| AttestationError::ClaimFalse { id, reason })?;
        let mut path = batch_path.to_vec();
        path.extend(roots_tree_path::<H>(batch_size, batch_roots, batch)?);
        let tree_root = attestation_tree_root::<H>(batch_size, batch_roots)?;
        let accounts_commitment = chain_roots::<H>(params.epoch(), batch_roots);
        let p = ParamsWitness::new(params);
        let public_input = attestation_public_input::<H>(
            accounts_commitment,
            tree_root,
            params_hash::<H>(params),
            &claim,
            context,
        );
        let lane = |v: i64| U256::from(crate::native::commit::lane(v));
        let assignment = AttestationAssignment {
            public_input,
            accounts_commitment,
            tree_root,
            epoch: H::from_u64(p.epoch),
            quote_scale: fr_from_i256(p.quote_scale),
            reserves: fr_from_i256(p.reserves),
            insurance_fund: fr_from_i256(p.insurance_fund),
            unit_value: p.unit_value.iter().map(|v| fr_from_i256(*v)).collect(),
            unit_requirement: p
                .unit_requirement
                .iter()
                .map(|v| fr_from_i256(*v))
                .collect(),
            ratio: U256::from(claim.ratio),
            min_equity: U256::from(claim.min_equity),
            context,
            id: U256::from(id),
            balance_lane: lane(account.quote_balance().get()),
            size_lanes: account.sizes().iter().map(|s| lane(s.get())).collect(),
            salt,
            path,
        };
        Ok(Self {
            assignment,
            shape: AttestationShape { markets },
        })
    }

    /// The public input `x` this witness satisfies.
    pub fn public_input(&self) -> Fr {
        self.assignment.public_input
    }
    /// The shape.
    pub fn shape(&self) -> AttestationShape {
        self.shape
    }
}

/// The attestation circuit. [`AttestationCircuit::blank`] is for key generation.
#[derive(Debug, Clone)]
pub struct AttestationCircuit {
    shape: AttestationShape,
    assignment: Option<AttestationAssignment>,
}

impl AttestationCircuit {
    /// The circuit of a shape with no witness: for setup and constraint counting.
    pub fn blank(shape: AttestationShape) -> Self {
        Self {
            shape,
            assignment: None,
        }
    }

    /// The circuit for an honest witness.
    pub fn new(witness: &AttestationWitness) -> Self {
        Self {
            shape: witness.shape,
            assignment: Some(witness.assignment.clone()),
        }
    }

    /// Any assignment of the right shape (the soundness tests use this).
    #[cfg(test)]
    pub(crate) fn from_assignment(
        shape: AttestationShape,
        assignment: AttestationAssignment,
    ) -> Self {
        debug_assert_eq!(assignment.unit_value.len(), shape.markets);
        Self {
            shape,
            assignment: Some(assignment),
        }
    }

    /// The shape.
    pub fn shape(&self) -> AttestationShape {
        self.shape
    }
}

/// A field constant `2^k`.
fn pow2(k: u32) -> Fr {
    Bn254Poseidon::from_u256(U256::ONE << k)
}

/// `absorb(acc, inputs)`: chained Poseidon over chunks of 15 (`docs/SPEC.md` §5.0).
fn absorb(
    cs: &ConstraintSystemRef<Fr>,
    mut acc: FpVar<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    for chunk in inputs.chunks(MAX_HASH_INPUTS - 1) {
        let mut buf = Vec::with_capacity(chunk.len() + 1);
        buf.push(acc);
        buf.extend_from_slice(chunk);
        acc = poseidon(cs.clone(), &buf)?;
    }
    Ok(acc)
}

/// One level of an 8-ary path at a hidden position (`docs/SPEC.md` §5.3): the
/// parent `H(c_0, …, c_7)` where the node sits at `position` and the siblings fill
/// the other places in order.
///
/// The position is a one-hot vector `s_0..s_7` (8 booleanity constraints and
/// `Σ s = 1`); with `before_j = Σ_{i<j} s_i` (linear), child `j` is
/// `sib_j + s_j·(node − sib_j) + before_j·(sib_{j−1} − sib_j)`, which is `sib_j`
/// for `j < p`, the node for `j = p`, and `sib_{j−1}` for `j > p` (14 products per
/// level: one each for `j = 0` and `j = 7`, where one term vanishes).
fn path_level(
    cs: &ConstraintSystemRef<Fr>,
    node: &FpVar<Fr>,
    step: Option<&PathStep<Fr>>,
) -> Result<FpVar<Fr>, SynthesisError> {
    let missing = || SynthesisError::AssignmentMissing;
    let selectors = (0..TREE_ARITY)
        .map(|j| {
            Boolean::new_witness(cs.clone(), || {
                step.map(|s| s.position as usize == j).ok_or(missing())
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let siblings = (0..TREE_ARITY - 1)
        .map(|k| FpVar::new_witness(cs.clone(), || step.map(|s| s.siblings[k]).ok_or(missing())))
        .collect::<Result<Vec<_>, _>>()?;
    let one_hot = selectors
        .iter()
        .fold(FpVar::zero(), |acc, s| acc + FpVar::from(s.clone()));
    one_hot.enforce_equal(&FpVar::one())?;
    let mut children = Vec::with_capacity(TREE_ARITY);
    let mut before = FpVar::zero();
    for (j, s) in selectors.iter().enumerate() {
        let s = FpVar::from(s.clone());
        let child = if j == 0 {
            &siblings[0] + &s * (node - &siblings[0])
        } else if j == TREE_ARITY - 1 {
            // before_7 = 1 − s_7.
            &siblings[j - 1] + &s * (node - &siblings[j - 1])
        } else {
            &siblings[j] + &s * (node - &siblings[j]) + &before * (&siblings[j - 1] - &siblings[j])
        };
        children.push(child);
        before += &s;
    }
    poseidon(cs.clone(), &children)
}

impl ConstraintSynthesizer<Fr> for AttestationCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let shape = self.shape;
        let markets = shape.markets;
        let a = self.assignment.as_ref();
        let missing = || SynthesisError::AssignmentMissing;
        let witness = |f: &dyn Fn(&AttestationAssignment) -> Fr| {
            FpVar::new_witness(cs.clone(), || a.map(f).ok_or(missing()))
        };
        let public_input =
            FpVar::new_input(cs.clone(), || a.map(|a| a.public_input).ok_or(missing()))?;

        // Parameters, bound through params_hash (SPEC §5.5): the verifier derives
        // them from validated published values, so they need no range checks here.
        let epoch = witness(&|a| a.epoch)?;
        let quote_scale = witness(&|a| a.quote_scale)?;
        let reserves = witness(&|a| a.reserves)?;
        let insurance_fund = witness(&|a| a.insurance_fund)?;
        let mut unit_value = Vec::with_capacity(markets);
        let mut unit_requirement = Vec::with_capacity(markets);
        let mut per_market = Vec::with_capacity(2 * markets);
        for m in 0..markets {
            let uv = witness(&|a| a.unit_value[m])?;
            let ur = witness(&|a| a.unit_requirement[m])?;
            per_market.push(uv.clone());
            per_market.push(ur.clone());
            unit_value.push(uv);
            unit_requirement.push(ur);
        }
        let head = poseidon(
            cs.clone(),
            &[
                FpVar::constant(tag::<Bn254Poseidon>(tags::PARAMS)),
                epoch,
                FpVar::constant(Fr::from(markets as u64)),
                quote_scale.clone(),
                reserves,
                insurance_fund,
            ],
        )?;
        let params_hash = absorb(&cs, head, &per_market)?;

        // The claim: r < 2^32, X < 2^128 (range-checked by their bits).
        let (_, ratio) = alloc_bits_le(
            cs.clone(),
            a.map(|a| a.ratio & ((U256::ONE << RATIO_BITS) - 1)),
            RATIO_BITS as usize,
            AllocationMode::Witness,
        )?;
        let (_, min_equity) = alloc_bits_le(
            cs.clone(),
            a.map(|a| a.min_equity & ((U256::ONE << MIN_EQUITY_BITS) - 1)),
            MIN_EQUITY_BITS as usize,
            AllocationMode::Witness,
        )?;
        let context = witness(&|a| a.context)?;
        let accounts_commitment = witness(&|a| a.accounts_commitment)?;
        let tree_root = witness(&|a| a.tree_root)?;

        // SPEC §5.2: lanes, each 64 bits; signed lanes ≠ 0 (|v| < 2^63). Only the
        // low 64 bits of a raw lane can be assigned: a wider value changes the leaf.
        let low64 = |v: U256| v & U256::from(u64::MAX);
        let (_, id) = alloc_bits_le(
            cs.clone(),
            a.map(|a| low64(a.id)),
            64,
            AllocationMode::Witness,
        )?;
        let (_, balance_lane) = alloc_bits_le(
            cs.clone(),
            a.map(|a| low64(a.balance_lane)),
            64,
            AllocationMode::Witness,
        )?;
        enforce_nonzero(cs.clone(), &balance_lane)?;
        let mut size_lanes = Vec::with_capacity(markets);
        let mut size_signs = Vec::with_capacity(markets);
        for m in 0..markets {
            let (bits, lane) = alloc_bits_le(
                cs.clone(),
                a.map(|a| low64(a.size_lanes[m])),
                64,
                AllocationMode::Witness,
            )?;
            enforce_nonzero(cs.clone(), &lane)?;
            // lane ≥ 2^63 ⇔ size ≥ 0.
            size_signs.push(bits[63].clone());
            size_lanes.push(lane);
        }

        // SPEC §2.2: TV = balance·f_q + Σ size_m·uv_m, MR' = Σ |size_m|·ur_m.
        let offset = FpVar::constant(Fr::from(LANE_OFFSET));
        let mut tv = (&balance_lane - &offset) * &quote_scale;
        let mut requirement = FpVar::zero();
        for m in 0..markets {
            let size = &size_lanes[m] - &offset;
            tv += &size * &unit_value[m];
            let sign = FpVar::from(size_signs[m].clone()).double()? - Fr::ONE;
            requirement += (&sign * &size) * &unit_requirement[m];
        }

        // The ratio claim: 10^4·10^4·TV − r·MR' ≥ 0. The slack lies in
        // (−2^n, 2^n) with n = ratio_slack_bits ≤ 252, so a negative slack is a field
        // element above r − 2^n > 2^n: no n-bit decomposition.
        let scale = Fr::from(10u64.pow(RATIO_DECIMALS) * BPS_DENOMINATOR);
        let ratio_slack = &tv * scale - &ratio * &requirement;
        enforce_range(cs.clone(), &ratio_slack, shape.ratio_slack_bits() as usize)?;
        // The equity claim: TV − X·f_q ≥ 0, the slack in (−2^188, tv_bound).
        let equity_slack = &tv - &min_equity * &quote_scale;
        enforce_range(
            cs.clone(),
            &equity_slack,
            shape.equity_slack_bits() as usize,
        )?;

        // SPEC §5.2: the leaf of a real account (no padding flag).
        let mut lanes = Vec::with_capacity(markets + 2);
        lanes.push(id);
        lanes.push(balance_lane);
        lanes.extend(size_lanes);
        let words: Vec<FpVar<Fr>> = lanes
            .chunks(3)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(FpVar::zero(), |w, (k, l)| w + l * pow2(64 * k as u32))
            })
            .collect();
        let salt = witness(&|a| a.salt)?;
        let mut node = absorb(&cs, salt, &words)?;

        // SPEC §5.3 and the roots tree: 11 levels up to T.
        for level in 0..ATTEST_DEPTH as usize {
            let step = a
                .map(|a| a.path.get(level))
                .map(|s| s.ok_or(missing()))
                .transpose()?;
            node = path_level(&cs, &node, step)?;
        }
        node.enforce_equal(&tree_root)?;

        // x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context).
        let x = poseidon(
            cs.clone(),
            &[
                FpVar::constant(tag::<Bn254Poseidon>(TAG_ATTEST)),
                accounts_commitment,
                tree_root,
                params_hash,
                ratio,
                min_equity,
                context,
            ],
        )?;
        x.enforce_equal(&public_input)?;
        Ok(())
    }
}

/// The number of constraints of the attestation circuit of `shape`.
pub fn constraint_count(shape: AttestationShape) -> Result<usize, SynthesisError> {
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    AttestationCircuit::blank(shape).generate_constraints(cs.clone())?;
    cs.finalize();
    Ok(cs.num_constraints())
}

#[cfg(test)]
mod tests {
    //! The attestation circuit against the native engine, and its soundness
    //! catalogue: every attack is a named malicious assignment with a satisfied
    //! control.

    use super::*;
    use crate::model::{AccountId, Balance, MarginBps, Market, Price, Size, Snapshot};
    use crate::native::commit::absorb_chain;
    use crate::native::commit::{BatchTree, account_salt, commit_epoch, secret_element};
    use crate::secret::VenueSecret;
    use ark_ff::Zero;
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal};

    type H = Bn254Poseidon;

    /// `absorb_chain` over the leaf words, natively: the leaf of a raw assignment (for
    /// the tests' restamping).
    fn raw_leaf(a: &AttestationAssignment) -> Fr {
        let mut lanes = vec![a.id, a.balance_lane];
        lanes.extend(a.size_lanes.iter().copied());
        let fr = |v: U256| Bn254Poseidon::from_u256(v);
        let words: Vec<Fr> = lanes
            .chunks(3)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(Fr::zero(), |w, (k, l)| w + fr(*l) * pow2(64 * k as u32))
            })
            .collect();
        absorb_chain::<Bn254Poseidon>(a.salt, &words)
    }

    /// A small book: `n` accounts, 2 markets, ids 10, 20, …
    fn book(epoch: u64, n: u64) -> Snapshot {
        let ms = (0..2)
            .map(|i| {
                Market::new(
                    &format!("M{i}"),
                    Price::new(200_000 + 1_000 * i as i128).unwrap(),
                    2,
                    4,
                    MarginBps::new(500).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let params = EpochParams::new(epoch, 6, 10u128.pow(15), 10u128.pow(10), ms).unwrap();
        let accounts = (0..n)
            .map(|i| {
                let size = (i as i128 % 7 - 3) * 10_000;
                let balance = (i as i128 * 37 % 11 - 2) * 100_000_000;
                Account::new(
                    AccountId::new(10 * (i + 1)),
                    Balance::new(balance).unwrap(),
                    vec![Size::new(size).unwrap(), Size::new(-size / 2).unwrap()],
                )
            })
            .collect();
        Snapshot::new(params, accounts).unwrap()
    }

    /// Everything an attester of account `index` of `book(epoch, 20)` holds, at `B = 8`.
    struct Fixture {
        snapshot: Snapshot,
        roots: Vec<Fr>,
        trees: Vec<BatchTree<H>>,
        salts: Vec<Fr>,
    }

    fn fixture(epoch: u64) -> Fixture {
        let snapshot = book(epoch, 20);
        let secret = VenueSecret::demo();
        let c = commit_epoch::<H>(&snapshot, &secret, BatchSize::new(8).unwrap());
        let s = secret_element::<H>(&secret);
        let salts = snapshot
            .accounts()
            .iter()
            .map(|a| account_salt::<H>(s, epoch, a.id()))
            .collect();
        Fixture {
            roots: c.batches.iter().map(|t| t.root()).collect(),
            trees: c.batches,
            snapshot,
            salts,
        }
    }

    fn witness(
        f: &Fixture,
        index: usize,
        claim: AttestationClaim,
    ) -> Result<AttestationWitness, AttestationError> {
        let path = f.trees[index / 8].path(index % 8);
        AttestationWitness::new(AttestationInputs {
            params: f.snapshot.params(),
            account: &f.snapshot.accounts()[index],
            salt: f.salts[index],
            batch_size: BatchSize::new(8).unwrap(),
            batch: index / 8,
            batch_path: &path,
            batch_roots: &f.roots,
            claim,
            context: Fr::from(42u64),
        })
    }

    fn satisfied(a: AttestationAssignment) -> bool {
        let shape = AttestationShape::new(a.unit_value.len()).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        match AttestationCircuit::from_assignment(shape, a).generate_constraints(cs.clone()) {
            Ok(()) => {}
            Err(SynthesisError::Unsatisfiable) => return false,
            Err(e) => panic!("synthesis failed: {e}"),
        }
        cs.finalize();
        cs.is_satisfied().unwrap()
    }

    /// What an attacker consistent with its (lying) assignment would publish: the
    /// public input over the assignment's own claimed values.
    fn restamp(a: &mut AttestationAssignment) {
        let fr = |v: U256| Bn254Poseidon::from_u256(v);
        a.public_input = H::hash(&[
            tag::<H>(TAG_ATTEST),
            a.accounts_commitment,
            a.tree_root,
            {
                let head = H::hash(&[
                    tag::<H>(tags::PARAMS),
                    a.epoch,
                    Fr::from(a.unit_value.len() as u64),
                    a.quote_scale,
                    a.reserves,
                    a.insurance_fund,
                ]);
                let per: Vec<Fr> = a
                    .unit_value
                    .iter()
                    .zip(&a.unit_requirement)
                    .flat_map(|(v, r)| [*v, *r])
                    .collect();
                absorb_chain::<H>(head, &per)
            },
            fr(a.ratio),
            fr(a.min_equity),
            a.context,
        ]);
    }

    /// Re-roots a (possibly lying) assignment: recomputes `T` from its leaf and path,
    /// as an attacker who controls the roots it hands the verifier would.
    fn reroot(a: &mut AttestationAssignment) {
        a.tree_root = root_from_path::<H>(raw_leaf(a), &a.path);
        restamp(a);
    }

    /// Account index 5 (id 60: 700 quote, long 2 M0, short 1 M1), at `R = 1`, no equity claim: honest.
    fn honest() -> (Fixture, AttestationAssignment) {
        let f = fixture(77);
        let w = witness(
            &f,
            5,
            AttestationClaim {
                ratio: 10_000,
                min_equity: 0,
            },
        )
        .unwrap();
        (f, w.assignment)
    }

    fn risk_of(f: &Fixture, index: usize) -> crate::native::AccountRisk {
        account_risk(
            &Scales::new(f.snapshot.params()),
            &f.snapshot.accounts()[index],
        )
    }

    #[test]
    fn shape_is_pinned() {
        // Regenerate after an intended circuit change with:
        //   cargo test -p backstop-circuits --lib attestation::tests::shape_is_pinned -- --nocapture
        for (m, expected) in [(2usize, 6_835usize), (8, 7_835)] {
            let shape = AttestationShape::new(m).unwrap();
            let n = constraint_count(shape).unwrap();
            println!("{}: {n} constraints", shape.id());
            assert_eq!(n, expected, "{}", shape.id());
        }
        let wide = AttestationShape::new(64).unwrap();
        assert!(wide.ratio_slack_bits() <= 252 && wide.equity_slack_bits() <= 252);
        assert_eq!(
            AttestationShape::new(8).unwrap().id(),
            "backstop.attest.v1.M8"
        );
    }

    #[test]
    fn honest_attestation_satisfies_and_matches_the_native_public_input() {
        let (f, a) = honest();
        let native = attestation_public_input::<H>(
            chain_roots::<H>(77, &f.roots),
            attestation_tree_root::<H>(BatchSize::new(8).unwrap(), &f.roots).unwrap(),
            params_hash::<H>(f.snapshot.params()),
            &AttestationClaim {
                ratio: 10_000,
                min_equity: 0,
            },
            Fr::from(42u64),
        );
        assert_eq!(a.public_input, native);
        let mut restamped = a.clone();
        restamp(&mut restamped);
        assert_eq!(
            restamped.public_input, native,
            "restamp agrees with the prover"
        );
        assert!(satisfied(a));
        // Every healthy account of every batch, the last one with padding.
        for i in [0usize, 7, 8, 19] {
            if !risk_of(&f, i).liquidatable {
                let w = witness(
                    &f,
                    i,
                    AttestationClaim {
                        ratio: 10_000,
                        min_equity: 0,
                    },
                )
                .unwrap();
                assert!(satisfied(w.assignment), "account index {i}");
            }
        }
    }

    #[test]
    fn roots_tree_matches_a_full_tree() {
        // K = 3 batch roots of B = 8: T is the root of the full depth-11 tree whose
        // level-1 nodes are the roots followed by zeros.
        let roots: Vec<Fr> = (1..=3u64).map(Fr::from).collect();
        let b = BatchSize::new(8).unwrap();
        let t = attestation_tree_root::<H>(b, &roots).unwrap();
        for (i, r) in roots.iter().enumerate() {
            let path = roots_tree_path::<H>(b, &roots, i).unwrap();
            assert_eq!(path.len(), 10);
            assert_eq!(root_from_path::<H>(*r, &path), t);
        }
        assert!(roots_tree_path::<H>(b, &roots, 3).is_err());
        let big = BatchSize::new(32_768).unwrap();
        assert_eq!(roots_tree_depth(big), 6);
        assert!(attestation_tree_root::<H>(b, &[]).is_err());
    }

    #[test]
    fn claim_parsing_is_exact() {
        let c = AttestationClaim::parse("1.5", Some("250.25"), 6).unwrap();
        assert_eq!((c.ratio, c.min_equity), (15_000, 250_250_000));
        assert_eq!(c.ratio_text(), "1.5");
        assert_eq!(c.min_equity_text(6), "250.25");
        assert_eq!(AttestationClaim::parse("2", None, 6).unwrap().min_equity, 0);
        for bad in ["1.23456", "-1", "1e3", "429496.7296", ""] {
            assert!(AttestationClaim::parse(bad, None, 6).is_err(), "{bad}");
        }
        assert!(AttestationClaim::parse("429496.7295", None, 6).is_ok());
        assert!(AttestationClaim::parse("1", Some("0.0000001"), 6).is_err());
    }

    #[test]
    fn attack_account_below_the_ratio() {
        let (f, _) = honest();
        let risk = risk_of(&f, 5);
        assert!(risk.requirement_bps > 0);
        // The largest provable ratio r* = floor(10^8·TV / MR'): r* is fine (control),
        // r* + 1 is a false claim.
        let best = (risk.total_value * I256::from(100_000_000u64) / risk.requirement_bps).as_u32();
        let at = witness(
            &f,
            5,
            AttestationClaim {
                ratio: best,
                min_equity: 0,
            },
        )
        .unwrap();
        assert!(satisfied(at.assignment.clone()));
        // The prover refuses the false claim by name ...
        let lie = AttestationClaim {
            ratio: best + 1,
            min_equity: 0,
        };
        assert!(matches!(
            witness(&f, 5, lie),
            Err(AttestationError::ClaimFalse { id: 60, .. })
        ));
        // ... and an assignment that makes it anyway is unsatisfied.
        let mut a = at.assignment;
        a.ratio = U256::from(best + 1);
        restamp(&mut a);
        assert!(!satisfied(a));
    }

    #[test]
    fn attack_equity_below_the_minimum() {
        let (f, _) = honest();
        let risk = risk_of(&f, 5);
        let q = Scales::new(f.snapshot.params()).quote;
        // TV in minimal quote units (floor): X = that is fine, one more is not.
        let best = (risk.total_value / q).as_u128();
        let at = witness(
            &f,
            5,
            AttestationClaim {
                ratio: 0,
                min_equity: best,
            },
        )
        .unwrap();
        assert!(satisfied(at.assignment.clone()));
        let mut a = at.assignment;
        a.min_equity = U256::from(best + 1);
        restamp(&mut a);
        assert!(!satisfied(a));
    }

    #[test]
    fn attack_liquidatable_or_underwater_account() {
        let f = fixture(77);
        let (i, _) = f
            .snapshot
            .accounts()
            .iter()
            .enumerate()
            .find(|(i, _)| risk_of(&f, *i).liquidatable)
            .unwrap();
        // Ratio 0 still claims TV ≥ 0; a liquidatable account fails R = 1.
        let claim = AttestationClaim {
            ratio: 10_000,
            min_equity: 0,
        };
        assert!(witness(&f, i, claim).is_err());
        let (_, mut a) = honest();
        let other = &f.snapshot.accounts()[i];
        a.id = U256::from(other.id().get());
        a.balance_lane = U256::from(crate::native::commit::lane(other.quote_balance().get()));
        a.size_lanes = other
            .sizes()
            .iter()
            .map(|s| U256::from(crate::native::commit::lane(s.get())))
            .collect();
        a.salt = f.salts[i];
        a.path = {
            let mut p = f.trees[i / 8].path(i % 8);
            p.extend(roots_tree_path::<H>(BatchSize::new(8).unwrap(), &f.roots, i / 8).unwrap());
            p
        };
        restamp(&mut a);
        assert_eq!(
            root_from_path::<H>(raw_leaf(&a), &a.path),
            a.tree_root,
            "a real member"
        );
        assert!(!satisfied(a));
    }

    #[test]
    fn attack_wrong_path() {
        let (_, a) = honest();
        // A swapped sibling at the batch level and at the roots-tree level.
        for level in [0usize, 1] {
            let mut b = a.clone();
            b.path[level].siblings.swap(0, 1);
            assert!(!satisfied(b), "level {level}");
        }
        // Another position: the node moved among its siblings.
        let mut b = a.clone();
        b.path[0].position = (b.path[0].position + 1) % 8;
        assert!(!satisfied(b));
        // A position that is not one-hot cannot even be expressed: 8 is no slot.
        let mut b = a.clone();
        b.path[1].position = 8;
        assert!(!satisfied(b));
    }

    #[test]
    fn attack_wrong_salt() {
        let (f, a) = honest();
        let mut b = a.clone();
        b.salt += Fr::from(1u64);
        assert!(!satisfied(b));
        // Another account's salt with this account's data.
        let mut b = a;
        b.salt = f.salts[4];
        assert!(!satisfied(b));
    }

    #[test]
    fn attack_changed_account_data() {
        let (_, a) = honest();
        let mut b = a.clone();
        b.balance_lane += U256::from(1_000_000u64);
        assert!(!satisfied(b), "balance raised");
        let mut b = a.clone();
        b.size_lanes[1] += U256::ONE;
        assert!(!satisfied(b), "size changed");
        let mut b = a;
        b.id += U256::ONE;
        assert!(!satisfied(b), "id changed");
    }

    #[test]
    fn attack_values_out_of_range() {
        let (_, a) = honest();
        // A richer account invented with a lane ≥ 2^64: the attacker re-roots the tree
        // to its own leaf (as if it controlled the roots), but the lane's bits hold only
        // its low 64 bits, so the leaf the circuit computes differs.
        let mut b = a.clone();
        b.balance_lane += U256::ONE << 64;
        reroot(&mut b);
        assert!(!satisfied(b), "balance lane 2^64 above");
        // Control: the same re-rooting with an in-range lane is satisfied (which is why
        // the verifier must take the roots from the chain to a_K, never from the prover).
        let mut b = a.clone();
        b.balance_lane += U256::from(5u64);
        reroot(&mut b);
        assert!(satisfied(b));
        // −2^63 (lane 0) is refused.
        let mut b = a.clone();
        b.size_lanes[0] = U256::ZERO;
        reroot(&mut b);
        assert!(!satisfied(b), "size −2^63");
        // A negative balance wrapped around the field.
        let mut b = a.clone();
        b.balance_lane = U256::from_le_bytes(H::to_le_bytes(&-Fr::from(5u64)));
        reroot(&mut b);
        assert!(!satisfied(b), "wrapped balance");
        // A ratio or equity bound too wide for its bits wraps to another claim.
        let mut b = a.clone();
        b.ratio += U256::ONE << 32;
        restamp(&mut b);
        assert!(!satisfied(b), "r ≥ 2^32");
        let mut b = a;
        b.min_equity = U256::ONE << 128;
        restamp(&mut b);
        assert!(!satisfied(b), "X ≥ 2^128");
    }

    #[test]
    fn attack_another_epochs_commitment() {
        let (_, a) = honest();
        let other = fixture(78);
        let w = witness(
            &other,
            5,
            AttestationClaim {
                ratio: 10_000,
                min_equity: 0,
            },
        )
        .unwrap();
        // The account of epoch 77 against epoch 78's tree root and commitment.
        let mut b = a.clone();
        b.tree_root = w.assignment.tree_root;
        b.accounts_commitment = w.assignment.accounts_commitment;
        restamp(&mut b);
        assert!(!satisfied(b));
        // Epoch 78's public input with epoch 77's witness.
        let mut b = a.clone();
        b.public_input = w.assignment.public_input;
        assert!(!satisfied(b));
        // Prices of epoch 78 (a different params hash) under epoch 77's x.
        let mut b = a;
        b.epoch = Fr::from(78u64);
        assert!(!satisfied(b));
    }

    #[test]
    fn attack_wrong_public_input_or_context() {
        let (_, a) = honest();
        let mut b = a.clone();
        b.public_input += Fr::from(1u64);
        assert!(!satisfied(b));
        let mut b = a;
        b.context = Fr::from(43u64);
        assert!(!satisfied(b), "another counterparty's context");
    }
}
