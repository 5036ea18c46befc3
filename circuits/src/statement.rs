//! The published outputs of an epoch (`docs/SPEC.md` §2.3, §7).
//!
//! [`PublicOutputs`] is what `backstop evaluate` prints and what every proving
//! backend publishes: the same JSON object, byte for byte, so that the native engine,
//! Groth16 and halo2 can be compared by equality.

use crate::decimal::format_scaled;
use crate::model::EpochParams;
use crate::native::EpochEvaluation;
use serde::{Deserialize, Serialize};

/// The epoch's public outputs. Nothing per-account except the liquidation set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicOutputs {
    /// The epoch id.
    pub epoch: u64,
    /// Ids of liquidatable accounts, ascending, as decimal strings (u64 does not fit
    /// a JSON number exactly in every reader).
    pub liquidations: Vec<String>,
    /// Total bad debt `D` in quote units, exact (at least `quote_decimals` places,
    /// more only where the value needs them).
    pub bad_debt: String,
    /// `L ≤ reserves`.
    pub solvent: bool,
    /// `D ≤ insurance_fund`.
    pub insurance_covered: bool,
}

impl PublicOutputs {
    /// The published outputs of an evaluation.
    pub fn from_evaluation(params: &EpochParams, eval: &EpochEvaluation) -> Self {
        Self {
            epoch: eval.epoch,
            liquidations: eval.liquidations.iter().map(|id| id.to_string()).collect(),
            bad_debt: format_scaled(eval.bad_debt, eval.exponent, params.quote_decimals()),
            solvent: eval.solvent,
            insurance_covered: eval.insurance_covered,
        }
    }
}
