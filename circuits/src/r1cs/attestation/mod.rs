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
//!   the batch circuit does (`r1cs/account.rs`) and opens its leaf to `T` at a
//!   hidden position.
//!
//! # Constraints
//!
//! 7,862 at `M = 8` and 6,862 at `M = 2` (pinned by `tests::shape_is_pinned`; the
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

mod circuit;
mod witness;

pub use circuit::{AttestationCircuit, constraint_count};
pub use witness::{AttestationInputs, AttestationWitness};

#[cfg(test)]
mod tests;
