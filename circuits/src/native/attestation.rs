//! Margin attestations, natively: the claim, the roots tree, the accounts chain over
//! the batch roots and the public input (`docs/INCLUSION.md`, "Margin attestations").
//! The circuit that proves a claim is [`crate::r1cs::attestation`]; the verifier
//! needs only this module.
//!
//! # The claim
//!
//! A trader (or the venue on its behalf) proves that *some* account inside an
//! epoch's accounts commitment `a_K` has, at the epoch's published prices,
//!
//! ```text
//! MV ≥ R · MR          with R = r / 10^4, r ∈ [0, 2^32)         (ratio claim)
//! TV ≥ X · f_q         with X ∈ [0, 2^128) minimal quote units   (equity claim)
//! ```
//!
//! exactly, on integers in common units (`docs/SPEC.md` §2.2, §3): since
//! `MR = MR' / 10^4` and `MV = MV' / 10^4`, the ratio claim is `10^4 · MV' ≥ r · MR'`.
//! Under risk model v1 (no collateral assets) `MV' = 10^4 · TV`, so it is
//! `10^8 · TV ≥ r · MR'`, the claim as it always was; under risk model v2 `MV'`
//! counts each held asset at its collateral ratio and each debt in full, `MR'` is
//! the tiered requirement, and the equity claim stays on `TV`, the equity at full
//! value (`EQ`). `R = 1` is exactly "not liquidatable" (`MV' ≥ MR'`). `X = 0` is "no
//! equity claim": the ratio claim already implies `TV ≥ 0`, because `MR' ≥ 0` and
//! `MV' ≤ 10^4 · TV` (a haircut only lowers a holding).
//! The account's id, balance, positions, amounts, salt, batch and slot stay hidden.
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

use crate::bounds::RESERVE_BITS;
use crate::decimal::{DecimalError, parse_unsigned_scaled};
use crate::hash::FieldHasher;
use crate::native::commit::{
    BatchSize, PathStep, TREE_ARITY, accounts_chain_start, accounts_chain_step, tag,
};
use crate::native::risk::AccountRisk;
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
    /// The account has another number of collateral amounts than the parameters
    /// have assets.
    #[error("account {id} has {got} collateral amounts but the epoch has {expected} assets")]
    Assets {
        /// The account.
        id: u64,
        /// Amounts given.
        got: usize,
        /// Assets in the epoch.
        expected: usize,
    },
    /// The parameters have no attestation circuit.
    #[error("no attestation circuit for these parameters: {reason}")]
    Shape {
        /// Why.
        reason: String,
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

/// What is attested: `MV ≥ (ratio / 10^4) · MR` (`MV = TV` under risk model v1)
/// and `TV ≥ min_equity · f_q`.
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

    /// Whether the claim holds for an account (`docs/SPEC.md` §2.2, common units):
    /// `10^4·MV' ≥ r·MR'` and `TV ≥ X·f_q`; `Ok(())` or the reason it fails. Without
    /// collateral assets `MV' = 10^4·TV`, so the ratio claim is risk model v1's
    /// `10^8·TV ≥ r·MR'`.
    pub fn check(&self, risk: &AccountRisk, quote_scale: I256) -> Result<(), String> {
        let lhs = risk.margin_value_bps * I256::from(10u64.pow(RATIO_DECIMALS));
        let rhs = I256::from(self.ratio) * risk.requirement_bps;
        if lhs < rhs {
            return Err(format!(
                "10^4·MV' = {lhs} < r·MR' = {rhs} (margin value below {} times the maintenance \
                 requirement; MV' = 10^4·TV without collateral assets)",
                self.ratio_text()
            ));
        }
        let floor = I256::from(self.min_equity) * quote_scale;
        if risk.total_value < floor {
            return Err(format!(
                "TV = {} < X·f_q = {floor} (common units)",
                risk.total_value
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Bn254Poseidon;
    use crate::native::commit::root_from_path;
    use ark_bn254::Fr;

    type H = Bn254Poseidon;

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
}
