//! The shapes of the circuits and the bit widths derived from them (`docs/SPEC.md`
//! §3, §8): [`CircuitShape`] (batch size and market count) for the batch circuits,
//! [`AttestationShape`] (market count) for the attestation circuit.
//!
//! A proving key is made for one shape; its id ([`CircuitShape::id`],
//! [`AttestationShape::id`]) is stored with the keys, so loading keys of another shape
//! is a clear error rather than a failed proof.

use crate::bounds::{
    ASSET_RESERVE_BITS, BPS_DENOMINATOR, MAX_ACCOUNTS, MAX_ASSETS, MAX_BRACKETS, MAX_MARKETS,
    MAX_SCALE_EXPONENT, RESERVE_BITS,
};
use crate::model::{EpochParams, pow10};
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
    /// Bracket count outside `1..=8`.
    #[error("a circuit shape needs between 1 and {MAX_BRACKETS} brackets per market, got {0}")]
    Brackets(usize),
    /// Asset count above 16.
    #[error("a circuit shape has at most {MAX_ASSETS} collateral assets, got {0}")]
    Assets(usize),
    /// Parameters the shape cannot prove.
    #[error(
        "shape {shape} cannot prove these parameters: they have {markets} markets, \
         at most {brackets} brackets in a market, {assets} collateral assets and \
         {waterfall}waterfall"
    )]
    Params {
        /// The shape's id.
        shape: String,
        /// `M` of the parameters.
        markets: usize,
        /// The most brackets of any market, the first included.
        brackets: usize,
        /// The parameters' asset count.
        assets: usize,
        /// `""` if the parameters have the waterfall, `"no "` otherwise.
        waterfall: &'static str,
    },
}

/// Why a batch circuit (of either backend) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// The witness was built for another shape.
    #[error(
        "witness of {got_slots} slots × {got_markets} markets ({got_brackets} brackets, \
         {got_assets} assets) does not fit shape {shape}"
    )]
    ShapeMismatch {
        /// The circuit shape's id.
        shape: String,
        /// Slots in the witness.
        got_slots: usize,
        /// Markets in the witness.
        got_markets: usize,
        /// Brackets per market in the witness, the first included.
        got_brackets: usize,
        /// Collateral assets in the witness.
        got_assets: usize,
    },
}

/// Batch size `B`, market count `M`, brackets per market `T` and collateral asset
/// count `A` of a batch circuit. `T = 1, A = 0` is risk model v1 (flat margin rates,
/// one quote balance), whose circuit is exactly the one before risk model v2. A
/// shape proves parameters whose largest bracket count is exactly `T` (a market
/// with fewer is padded with brackets no size reaches, `docs/SPEC.md` §6.4) and
/// which declare exactly `A` assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CircuitShape {
    batch_size: BatchSize,
    markets: usize,
    brackets: usize,
    assets: usize,
    /// The shape proves the default waterfall (`docs/SPEC.md` §2.4).
    waterfall: bool,
}

fn bit_length(v: I256) -> u32 {
    256 - v.leading_zeros()
}

/// `(2^63 − 1) · (2^64 − 1) · 10^18`: the largest `|size_m · uv_m|`.
fn max_notional() -> I256 {
    I256::from(i64::MAX) * I256::from(u64::MAX) * pow10(MAX_SCALE_EXPONENT)
}

/// `|TV| ≤ (2^63 − 1)·10^18 + (M + A)·(2^63 − 1)·(2^64 − 1)·10^18` for `M` markets
/// and `A` collateral assets (an amount's value is bounded as a position's).
fn tv_bound(markets: usize, assets: usize) -> I256 {
    I256::from(i64::MAX) * pow10(MAX_SCALE_EXPONENT)
        + I256::from((markets + assets) as u64) * max_notional()
}

/// `1 ≤ M ≤ 64`.
fn check_markets(markets: usize) -> Result<(), ShapeError> {
    if markets == 0 || markets > MAX_MARKETS {
        return Err(ShapeError::Markets(markets));
    }
    Ok(())
}

impl CircuitShape {
    /// Validates a shape of risk model v1: `T = 1`, `A = 0`.
    pub fn new(batch_size: u64, markets: usize) -> Result<Self, ShapeError> {
        Self::with_risk(batch_size, markets, 1, 0)
    }
    /// Validates a shape with `brackets` per market (`1..=8`) and `assets`
    /// collateral assets (`0..=16`).
    pub fn with_risk(
        batch_size: u64,
        markets: usize,
        brackets: usize,
        assets: usize,
    ) -> Result<Self, ShapeError> {
        let batch_size = BatchSize::new(batch_size)?;
        check_markets(markets)?;
        if brackets == 0 || brackets > MAX_BRACKETS {
            return Err(ShapeError::Brackets(brackets));
        }
        if assets > MAX_ASSETS {
            return Err(ShapeError::Assets(assets));
        }
        Ok(Self {
            batch_size,
            markets,
            brackets,
            assets,
            waterfall: false,
        })
    }
    /// The same shape, proving the default waterfall or not (`docs/SPEC.md` §2.4).
    pub fn with_waterfall(mut self, waterfall: bool) -> Self {
        self.waterfall = waterfall;
        self
    }
    /// The least shape of batch size `batch_size` that proves `params`: its markets,
    /// its largest bracket count, its assets and whether it has the waterfall.
    pub fn for_params(batch_size: u64, params: &EpochParams) -> Result<Self, ShapeError> {
        Self::with_risk(
            batch_size,
            params.markets().len(),
            brackets_of(params),
            params.assets().len(),
        )
        .map(|s| s.with_waterfall(params.has_waterfall()))
    }
    /// Whether this shape proves `params`: the same markets and assets, and `T`
    /// the largest bracket count of a market.
    pub fn check_params(&self, params: &EpochParams) -> Result<(), ShapeError> {
        let brackets = brackets_of(params);
        if params.markets().len() == self.markets
            && params.assets().len() == self.assets
            && brackets == self.brackets
            && params.has_waterfall() == self.waterfall
        {
            Ok(())
        } else {
            Err(ShapeError::Params {
                shape: self.id(),
                markets: params.markets().len(),
                brackets,
                assets: params.assets().len(),
                waterfall: if params.has_waterfall() { "" } else { "no " },
            })
        }
    }
    /// `B`.
    pub fn batch_size(&self) -> BatchSize {
        self.batch_size
    }
    /// `M`.
    pub fn markets(&self) -> usize {
        self.markets
    }
    /// `T`: brackets per market, the first included (1: flat rates).
    pub fn brackets(&self) -> usize {
        self.brackets
    }
    /// `A`: collateral assets.
    pub fn assets(&self) -> usize {
        self.assets
    }
    /// Whether the shape proves the default waterfall (`docs/SPEC.md` §2.4).
    pub fn has_waterfall(&self) -> bool {
        self.waterfall
    }
    /// Whether the shape proves risk model v2 (`T > 1` or `A > 0`).
    pub fn is_risk_model_v2(&self) -> bool {
        self.brackets > 1 || self.assets > 0
    }
    /// A stable identifier, e.g. `backstop.v2.B64.M8`, with `.T4` and `.A4` appended
    /// for risk model v2 (`T > 1`, `A > 0`) and `.W` for the waterfall.
    pub fn id(&self) -> String {
        let mut id = format!(
            "backstop.v{STATEMENT_VERSION}.B{}.M{}",
            self.batch_size.get(),
            self.markets
        );
        if self.brackets > 1 {
            id.push_str(&format!(".T{}", self.brackets));
        }
        if self.assets > 0 {
            id.push_str(&format!(".A{}", self.assets));
        }
        if self.waterfall {
            id.push_str(".W");
        }
        id
    }
    /// The bound `|TV| ≤ (2^63 − 1)·10^18 + (M + A)·(2^63 − 1)·(2^64 − 1)·10^18`.
    pub fn tv_bound(&self) -> I256 {
        tv_bound(self.markets, self.assets)
    }
    /// Bits of `|TV|`: `|TV| < 2^tv_bits` (190 for `M = 8`).
    pub fn tv_bits(&self) -> u32 {
        bit_length(self.tv_bound())
    }
    /// Bits of the margin slack `|MV' − MR'|` (205 for `M = 8`, `A = 0`): `|MV'| ≤
    /// 10000·tv_bound` (an asset counts at most at full value) and a tiered `MR'_m`
    /// is at most the notional times its rate.
    pub fn slack_bits(&self) -> u32 {
        let requirement =
            I256::from(self.markets as u64) * max_notional() * I256::from(BPS_DENOMINATOR);
        bit_length(self.tv_bound() * I256::from(BPS_DENOMINATOR) + requirement)
    }
    /// Bits of the solvency differences `reserves·f_q + Σ_c reserves_c·uv_c − L`
    /// and `insurance_fund·f_q − D`, with `L, D ≤ 2^32 · tv_bound` (the verifier
    /// checks `K·B ≤ 2^32`), `reserves·f_q < 2^128 · 10^18` and each
    /// `reserves_c·uv_c < 2^96 · 2^64 · 10^18`.
    pub fn solvency_bits(&self) -> u32 {
        let totals = I256::from(MAX_ACCOUNTS) * self.tv_bound();
        let f = pow10(MAX_SCALE_EXPONENT);
        let reserves = (I256::ONE << RESERVE_BITS) * f
            + I256::from(self.assets as u64)
                * (I256::ONE << ASSET_RESERVE_BITS)
                * (I256::ONE << 64)
                * f;
        bit_length(totals.max(reserves))
    }
    /// Bits of an asset's solvency difference `reserves_c − Σ_i max(amount_{i,c}, 0)`:
    /// `reserves_c < 2^96` and the total held `< 2^32 · 2^63 = 2^95`.
    pub fn asset_solvency_bits(&self) -> u32 {
        ASSET_SOLVENCY_BITS
    }
    /// Lanes per leaf: the id, the balance, `M` sizes and `A` amounts.
    pub fn leaf_lanes(&self) -> usize {
        self.markets + self.assets + 2
    }
    /// Words per leaf: `⌈(M + A + 2) / 3⌉`.
    pub fn leaf_words(&self) -> usize {
        self.leaf_lanes().div_ceil(3)
    }
}

/// Bits of an asset's solvency difference, the same for every shape
/// ([`CircuitShape::asset_solvency_bits`]).
pub(crate) const ASSET_SOLVENCY_BITS: u32 = ASSET_RESERVE_BITS + 1;

/// The most brackets of any market of `params`, the first included.
pub(crate) fn brackets_of(params: &EpochParams) -> usize {
    params
        .markets()
        .iter()
        .map(|m| 1 + m.tiers().len())
        .max()
        .unwrap_or(1)
}

/// The shape of an attestation circuit: the number of markets `M`, and for risk
/// model v2 the brackets per market `T` and the collateral assets `A` (the tree
/// depth is [`crate::native::attestation::ATTEST_DEPTH`] for every batch size).
/// `T = 1, A = 0` is the risk model v1 circuit, unchanged (same constraints, same
/// id). Like a batch shape, an attestation shape proves parameters whose largest
/// bracket count is exactly `T` and which declare exactly `A` assets
/// ([`AttestationShape::for_params`]): `params_hash` pads every market's brackets to
/// that `T` (`docs/SPEC.md` §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttestationShape {
    /// `M`, 1 to 64 (unchecked when built by the crate from validated parameters).
    pub(crate) markets: usize,
    /// `T`, 1 to 8.
    pub(crate) brackets: usize,
    /// `A`, 0 to 16.
    pub(crate) assets: usize,
}

impl AttestationShape {
    /// Validates a risk model v1 shape, `1 ≤ M ≤ 64` (`T = 1`, `A = 0`).
    pub fn new(markets: usize) -> Result<Self, ShapeError> {
        Self::with_risk(markets, 1, 0)
    }
    /// Validates a shape of `1 ≤ M ≤ 64` markets, `1 ≤ T ≤ 8` brackets per market
    /// and `0 ≤ A ≤ 16` collateral assets.
    pub fn with_risk(markets: usize, brackets: usize, assets: usize) -> Result<Self, ShapeError> {
        check_markets(markets)?;
        if brackets == 0 || brackets > MAX_BRACKETS {
            return Err(ShapeError::Brackets(brackets));
        }
        if assets > MAX_ASSETS {
            return Err(ShapeError::Assets(assets));
        }
        Ok(Self {
            markets,
            brackets,
            assets,
        })
    }
    /// The shape that attests accounts under `params`: its markets, its largest
    /// bracket count and its assets.
    pub fn for_params(params: &EpochParams) -> Result<Self, ShapeError> {
        Self::with_risk(
            params.markets().len(),
            brackets_of(params),
            params.assets().len(),
        )
    }
    /// `M`.
    pub fn markets(&self) -> usize {
        self.markets
    }
    /// `T`: brackets per market, the first included (1: flat rates).
    pub fn brackets(&self) -> usize {
        self.brackets
    }
    /// `A`: collateral assets.
    pub fn assets(&self) -> usize {
        self.assets
    }
    /// Whether the shape attests under risk model v2 (`T > 1` or `A > 0`): the
    /// ratio claim is then on the margin value `MV` (`docs/INCLUSION.md` §5).
    pub fn is_risk_model_v2(&self) -> bool {
        self.brackets > 1 || self.assets > 0
    }
    /// A stable identifier, e.g. `backstop.attest.v1.M8`, with `.T4` and `.A4`
    /// appended for risk model v2 (`T > 1`, `A > 0`), as batch shapes
    /// ([`CircuitShape::id`]).
    pub fn id(&self) -> String {
        let mut id = format!("backstop.attest.v1.M{}", self.markets);
        if self.brackets > 1 {
            id.push_str(&format!(".T{}", self.brackets));
        }
        if self.assets > 0 {
            id.push_str(&format!(".A{}", self.assets));
        }
        id
    }
    /// Bits of the ratio slack `|10^4·MV' − r·MR'|` (239 at `M = 64`, `A = 0`),
    /// where `|MV'| ≤ 10^4·tv_bound` ([`CircuitShape::slack_bits`]: a held asset
    /// counts at most at full value) and a tiered `MR'_m ≤ n_m·10^4`; without assets
    /// `10^4·MV' = 10^8·TV`.
    pub fn ratio_slack_bits(&self) -> u32 {
        let tv = tv_bound(self.markets, self.assets)
            * I256::from(10u64.pow(RATIO_DECIMALS) * BPS_DENOMINATOR);
        let requirement = I256::from((1u64 << RATIO_BITS) - 1)
            * I256::from(self.markets as u64)
            * max_notional()
            * I256::from(BPS_DENOMINATOR);
        bit_length(tv + requirement)
    }
    /// Bits of the equity slack `TV − X·f_q ∈ (−2^188, tv_bound)`.
    pub fn equity_slack_bits(&self) -> u32 {
        let floor = (I256::ONE << MIN_EQUITY_BITS) * pow10(MAX_SCALE_EXPONENT);
        bit_length(tv_bound(self.markets, self.assets).max(floor))
    }
    /// Lanes per leaf: the id, the balance, `M` sizes and `A` amounts.
    pub fn leaf_lanes(&self) -> usize {
        self.markets + self.assets + 2
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

    #[test]
    fn risk_model_v2_widths() {
        let s = CircuitShape::with_risk(512, 8, 4, 4).unwrap();
        assert_eq!(s.id(), "backstop.v2.B512.M8.T4.A4");
        assert!(s.is_risk_model_v2() && !CircuitShape::new(512, 8).unwrap().is_risk_model_v2());
        assert_eq!(s.leaf_words(), 5);
        // The widest shape stays inside the bounds of SPEC §3.
        let widest = CircuitShape::with_risk(8, 64, 8, 16).unwrap();
        assert!(widest.tv_bits() <= crate::bounds::TV_BITS);
        assert!(widest.slack_bits() <= crate::bounds::SLACK_BITS);
        assert!(widest.solvency_bits() <= crate::bounds::TOTAL_BITS);
        assert!(CircuitShape::with_risk(8, 8, 0, 0).is_err());
        assert!(CircuitShape::with_risk(8, 8, 9, 0).is_err());
        assert!(CircuitShape::with_risk(8, 8, 1, 17).is_err());
    }
}
