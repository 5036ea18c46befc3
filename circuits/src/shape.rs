//! The shapes of the circuits and the bit widths derived from them (`docs/SPEC.md`
//! §3, §8): [`CircuitShape`] (batch size and market count) for the batch circuits,
//! [`AttestationShape`] (market count) for the attestation circuit.
//!
//! A proving key is made for one shape; its id ([`CircuitShape::id`],
//! [`AttestationShape::id`]) is stored with the keys, so loading keys of another shape
//! is a clear error rather than a failed proof.

use crate::bounds::{BPS_DENOMINATOR, MAX_ACCOUNTS, MAX_MARKETS, MAX_SCALE_EXPONENT, RESERVE_BITS};
use crate::model::pow10;
use crate::native::attestation::{MIN_EQUITY_BITS, RATIO_BITS, RATIO_DECIMALS};
use crate::native::commit::{BatchSize, LayoutError};
use ethnum::I256;
use thiserror::Error;

/// The version of the statement encoding; part of every shape id.
pub const STATEMENT_VERSION: u32 = 2;

/// Why a shape was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// Not a valid batch size.
    #[error(transparent)]
    BatchSize(#[from] LayoutError),
    /// Market count outside `1..=64`.
    #[error("a circuit shape needs between 1 and {MAX_MARKETS} markets, got {0}")]
    Markets(usize),
}

/// Why a batch circuit (of either backend) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// The witness was built for another shape.
    #[error("witness of {got_slots} slots × {got_markets} markets does not fit shape {shape}")]
    ShapeMismatch {
        /// The circuit shape's id.
        shape: String,
        /// Slots in the witness.
        got_slots: usize,
        /// Markets in the witness.
        got_markets: usize,
    },
}

/// Batch size `B` and market count `M` of a batch circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CircuitShape {
    batch_size: BatchSize,
    markets: usize,
}

fn bit_length(v: I256) -> u32 {
    256 - v.leading_zeros()
}

/// `(2^63 − 1) · (2^64 − 1) · 10^18`: the largest `|size_m · uv_m|`.
fn max_notional() -> I256 {
    I256::from(i64::MAX) * I256::from(u64::MAX) * pow10(MAX_SCALE_EXPONENT)
}

/// `|TV| ≤ (2^63 − 1)·10^18 + M·(2^63 − 1)·(2^64 − 1)·10^18` for `M` markets.
fn tv_bound(markets: usize) -> I256 {
    I256::from(i64::MAX) * pow10(MAX_SCALE_EXPONENT) + I256::from(markets as u64) * max_notional()
}

/// `1 ≤ M ≤ 64`.
fn check_markets(markets: usize) -> Result<(), ShapeError> {
    if markets == 0 || markets > MAX_MARKETS {
        return Err(ShapeError::Markets(markets));
    }
    Ok(())
}

impl CircuitShape {
    /// Validates a shape.
    pub fn new(batch_size: u64, markets: usize) -> Result<Self, ShapeError> {
        let batch_size = BatchSize::new(batch_size)?;
        check_markets(markets)?;
        Ok(Self {
            batch_size,
            markets,
        })
    }
    /// `B`.
    pub fn batch_size(&self) -> BatchSize {
        self.batch_size
    }
    /// `M`.
    pub fn markets(&self) -> usize {
        self.markets
    }
    /// A stable identifier, e.g. `backstop.v2.B64.M8`.
    pub fn id(&self) -> String {
        format!(
            "backstop.v{STATEMENT_VERSION}.B{}.M{}",
            self.batch_size.get(),
            self.markets
        )
    }
    /// The bound `|TV| ≤ (2^63 − 1)·10^18 + M·(2^63 − 1)·(2^64 − 1)·10^18`.
    pub fn tv_bound(&self) -> I256 {
        tv_bound(self.markets)
    }
    /// Bits of `|TV|`: `|TV| < 2^tv_bits` (190 for `M = 8`).
    pub fn tv_bits(&self) -> u32 {
        bit_length(self.tv_bound())
    }
    /// Bits of the margin slack `|10000·TV − MR'|` (205 for `M = 8`).
    pub fn slack_bits(&self) -> u32 {
        let requirement =
            I256::from(self.markets as u64) * max_notional() * I256::from(BPS_DENOMINATOR);
        bit_length(self.tv_bound() * I256::from(BPS_DENOMINATOR) + requirement)
    }
    /// Bits of the solvency differences `reserves·f_q − L` and
    /// `insurance_fund·f_q − D`, with `L, D ≤ 2^32 · tv_bound` (the verifier checks
    /// `K·B ≤ 2^32`) and `reserves·f_q < 2^128 · 10^18`.
    pub fn solvency_bits(&self) -> u32 {
        let totals = I256::from(MAX_ACCOUNTS) * self.tv_bound();
        let reserves = (I256::ONE << RESERVE_BITS) * pow10(MAX_SCALE_EXPONENT);
        bit_length(totals.max(reserves))
    }
    /// Words per leaf: `⌈(M + 2) / 3⌉`.
    pub fn leaf_words(&self) -> usize {
        (self.markets + 2).div_ceil(3)
    }
}

/// The shape of an attestation circuit: the number of markets `M` (the tree depth is
/// [`crate::native::attestation::ATTEST_DEPTH`] for every batch size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttestationShape {
    /// `M`, 1 to 64 (unchecked when built by the crate from validated parameters).
    pub(crate) markets: usize,
}

impl AttestationShape {
    /// Validates `1 ≤ M ≤ 64`.
    pub fn new(markets: usize) -> Result<Self, ShapeError> {
        check_markets(markets)?;
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
    /// Bits of the ratio slack `|10^8·TV − r·MR'|` (239 at `M = 64`), with `|TV|`
    /// bounded as in the batch circuit ([`CircuitShape::tv_bound`]).
    pub fn ratio_slack_bits(&self) -> u32 {
        let tv = tv_bound(self.markets) * I256::from(10u64.pow(RATIO_DECIMALS) * BPS_DENOMINATOR);
        let requirement = I256::from((1u64 << RATIO_BITS) - 1)
            * I256::from(self.markets as u64)
            * max_notional()
            * I256::from(BPS_DENOMINATOR);
        bit_length(tv + requirement)
    }
    /// Bits of the equity slack `TV − X·f_q ∈ (−2^188, tv_bound)`.
    pub fn equity_slack_bits(&self) -> u32 {
        let floor = (I256::ONE << MIN_EQUITY_BITS) * pow10(MAX_SCALE_EXPONENT);
        bit_length(tv_bound(self.markets).max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_for_eight_markets() {
        let s = CircuitShape::new(64, 8).unwrap();
        assert_eq!(s.id(), "backstop.v2.B64.M8");
        assert_eq!(
            (s.tv_bits(), s.slack_bits(), s.solvency_bits()),
            (190, 205, 222)
        );
        assert_eq!(s.leaf_words(), 4);
        // Every width stays far below the fields' 253 bits (SPEC §3).
        let widest = CircuitShape::new(8, 64).unwrap();
        assert!(widest.slack_bits() <= 209 && widest.solvency_bits() <= 226);
        assert!(CircuitShape::new(64, 0).is_err() && CircuitShape::new(63, 8).is_err());
    }
}
