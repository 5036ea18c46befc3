//! The margin attestation circuit: one committed account is healthy by a margin,
//! revealing nothing else (`docs/INCLUSION.md`, "Margin attestations").
//!
//! The claim, the roots tree, the accounts chain over the batch roots and the public
//! input `x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context)` are defined natively
//! in [`crate::native::attestation`] (re-exported here), which is all a verifier
//! needs; the shape is [`AttestationShape`]. This module proves a claim:
//!
//! - [`AttestationWitness`] (`witness.rs`), built natively from one account's
//!   inclusion data;
//! - [`AttestationCircuit`] (`circuit.rs`), which evaluates the account exactly as
//!   the batch circuit does (`r1cs/account.rs`, and under risk model v2
//!   `r1cs/brackets.rs` and `r1cs/collateral.rs`) and opens its leaf to `T` at a
//!   hidden position.
//!
//! # Constraints
//!
//! 7,862 at `M = 8` and 6,862 at `M = 2` (pinned by `tests::shape_is_pinned`, and
//! the matrices themselves by `tests::risk_model_v1_matrices_are_pinned`; the
//! names of the blocks are listed in [`crate::r1cs::names`]):
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
//! | parameters hash (as in the batch circuit) | 1,224 |
//! | public input hash, two equalities | 380 |
//!
//! # Risk model v2
//!
//! A shape with `T > 1` brackets or `A > 0` assets
//! ([`AttestationShape::for_params`]) attests `10^4·MV' ≥ r·MR'` and `TV ≥ X·f_q`:
//!
//! - the parameters hash absorbs the derived values of
//!   [`crate::native::risk::RiskParams::hashed`] after the markets' (witnesses
//!   bound by the hash, no range checks, `docs/SPEC.md` §5.5), from which the
//!   brackets' thresholds, per-size-unit rates `ur_t` and `cum'_t`, and each asset's
//!   `hv_c = 10^4·uv_c − lv_c`, are linear;
//! - each market's requirement is the batch circuit's one-hot bracket gadget
//!   (`r1cs/brackets.rs`, namespace `account.market[m]`) with rates per size unit;
//! - each amount is the batch circuit's collateral gadget without the held total
//!   (`r1cs/collateral.rs::asset_value`, namespace `account.holding[c]`), its lane
//!   packed into the leaf after the sizes.
//!
//! Why the one-hot gadget rather than one bit `b_t = [|size| ≥ s_t]` per threshold
//! (`MR'_m = |size|·ur_m + Σ_t b_t·(|size|·δur_t − δcum_t)`, 68 constraints per
//! threshold: a bit, a signed difference, its 64-bit range, two products): per
//! market the one-hot gadget costs `(T + 1) + (4T − 1) + 128 + 1` against
//! `68·(T − 1)`, 149 against 204 at `T = 4` and 169 against 476 at `T = 8` (the
//! per-threshold form is cheaper only at `T ≤ 3`, by 71 at `T = 2`), and it is the
//! batch circuit's own, so both circuits select brackets alike.
//!
//! | shape | constraints |
//! | --- | ---: |
//! | `M = 8, T = 4, A = 4` | 12,645 |
//! | `M = 8, T = 4, A = 0` | 11,799 |
//! | `M = 8, T = 1, A = 4` | 8,501 |
//! | `M = 2, T = 3, A = 2` | 7,986 |
//!
//! At `M = 8, T = 4, A = 4`, against 7,862: brackets `8 × 149` (the flat `mr`
//! product replaced), assets `4 × 68`, and the rest (about 3,300) the parameters
//! hash over 85 more values and the leaf's fifth word (pinned by
//! `tests::risk_model_v2_shape_is_pinned`).

mod circuit;
mod witness;

pub use circuit::{AttestationCircuit, constraint_count};
pub use witness::{AttestationInputs, AttestationWitness};

#[cfg(test)]
mod tests;
