//! The exact native reference engine: the oracle every circuit is checked against.
//!
//! - [`risk`]: per-account total value, maintenance requirement, liquidation flag,
//!   liability and bad debt; per-epoch aggregates (`docs/SPEC.md` §2).
//! - [`waterfall`]: liquidation fees, the insurance draw and the socialized-loss
//!   haircut (`docs/SPEC.md` §2.4).
//! - [`commit`]: salts, leaves, batch roots, the accounts commitment and the chained
//!   running state (`docs/SPEC.md` §5–§6).
//! - [`attestation`]: margin attestation claims, the roots tree over the batch
//!   roots and the attestation public input (`docs/INCLUSION.md`).

pub mod attestation;
pub mod commit;
pub mod risk;
pub mod waterfall;

pub use risk::{AccountRisk, EpochEvaluation, Scales, account_risk, evaluate};
