//! Named bounds of the statement, with the overflow argument (`docs/SPEC.md` §3).
//!
//! Every bound below is enforced when a [`crate::model::Snapshot`] is built, and the
//! circuits range-check the same widths. The argument that nothing wraps the field:
//!
//! - scale factors `f_q = 10^(E - q)`, `f_m = 10^(E - s_m - p_m)` and
//!   `f_c = 10^(E - a_c - p_c)` are at most `10^MAX_SCALE_EXPONENT = 10^18 < 2^60`;
//! - `|balance · f_q| < 2^63 · 2^60 = 2^123`;
//! - `|size_m · price_m · f_m| < 2^63 · 2^64 · 2^60 = 2^187`, and there are at most
//!   `2^6` markets; likewise `|amount_c · price_c · f_c| < 2^187` for at most `2^4`
//!   collateral assets; so `|TV| < 2^123 + 2^193 + 2^191 < 2^194` ([`TV_BITS`]);
//! - a tiered requirement is at most its position's notional times its bracket's
//!   rate, so still `MR' = Σ_m 10000 · MR_m < 2^6 · 2^187 · 2^14 = 2^207`; the
//!   cumulative maintenance amounts `cum'_t = Σ floor_k · f_q · (mm_k − mm_{k−1})`
//!   are below `2^64 · 2^60 · 2^14 = 2^138`;
//! - the margin value `MV' = 10000 · (balance · f_q + Σ_m size_m · price_m · f_m)
//!   + Σ_c amount_c · price_c · f_c · w'_c` (`w'_c` the ratio in bps, or 10000 for
//!   a debt) is below `2^14 · (2^123 + 2^193) + 2^4 · 2^187 · 2^14 < 2^208.2`, and
//!   `10000 · |TV| < 2^208`, so the margin slack `MV' − MR'` lies in `(−2^209, 2^209)`
//!   ([`SLACK_BITS`]);
//! - totals over at most `2^32` accounts: `L, D < 2^32 · 2^194 = 2^226` ([`TOTAL_BITS`]);
//!   `reserves · f_q, insurance_fund · f_q < 2^128 · 2^60 = 2^188`; an asset's
//!   reserves are below `2^96` units ([`ASSET_RESERVE_BITS`]), so their value
//!   `reserves_c · price_c · f_c < 2^96 · 2^124 = 2^220` and the venue's total
//!   reserves `reserves · f_q + Σ_c reserves_c · price_c · f_c < 2^188 + 2^224 < 2^225`;
//!   an asset's total owed `Σ_i max(amount_{i,c}, 0) < 2^32 · 2^63 = 2^95`.
//!
//! The BN254 scalar field and the Pallas base field both have order above 2^253, so
//! every intermediate value, including its negation, has a unique representative.

/// Maximum number of markets `M`.
pub const MAX_MARKETS: usize = 64;
/// Maximum number of accounts `N` in one epoch.
pub const MAX_ACCOUNTS: u64 = 1 << 32;
/// `|quote_balance| < 2^63` minimal quote units (so `i64::MIN` is refused).
pub const BALANCE_BITS: u32 = 63;
/// `|size| < 2^63` minimal size units (so `i64::MIN` is refused).
pub const SIZE_BITS: u32 = 63;
/// `0 ≤ price < 2^64` minimal price units.
pub const PRICE_BITS: u32 = 64;
/// `0 ≤ maintenance_margin_bps ≤ 10000`.
pub const MAX_MM_BPS: u16 = 10_000;
/// The denominator of margin rates.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// `0 ≤ reserves, insurance_fund < 2^128` minimal quote units.
pub const RESERVE_BITS: u32 = 128;
/// Each of `quote_decimals`, `size_decimals`, `price_decimals` is at most 18.
pub const MAX_DECIMALS: u32 = 18;
/// Every scale factor `10^(E - …)` has exponent at most 18 (so it is below 2^60).
pub const MAX_SCALE_EXPONENT: u32 = 18;
/// Bits of `|TV|` in common units: `|TV| < 2^194`.
pub const TV_BITS: u32 = 194;
/// Bits of `|10000 · TV − MR'|`: below `2^209`.
pub const SLACK_BITS: u32 = 209;
/// Bits of the epoch totals `L` and `D`: below `2^226`.
pub const TOTAL_BITS: u32 = 226;
/// Maximum number of collateral assets (risk model v2, `docs/SPEC.md` §2).
pub const MAX_ASSETS: usize = 16;
/// Maximum number of maintenance brackets per market, the first included.
pub const MAX_BRACKETS: usize = 8;
/// `|amount| < 2^63` minimal asset units (so `i64::MIN` is refused).
pub const AMOUNT_BITS: u32 = 63;
/// `0 < notional_floor < 2^64` minimal quote units.
pub const FLOOR_BITS: u32 = 64;
/// `0 ≤ reserves_c < 2^96` minimal units of an asset: more than any asset's supply
/// in its smallest unit, and small enough that their value stays below `2^225`.
pub const ASSET_RESERVE_BITS: u32 = 96;
/// Bits of a per-asset total `h_c = Σ_i max(amount_{i,c}, 0)`: at most `2^32`
/// accounts of less than `2^63` units each, so `h_c < 2^95`.
pub const ASSET_TOTAL_BITS: u32 = 95;
/// Bits of a per-asset disclosure word `ℓ_c` (0 or `h_c + 1 ≤ 2^95`, `docs/SPEC.md`
/// §6.4): below `2^96`.
pub const ASSET_DISCLOSURE_BITS: u32 = ASSET_TOTAL_BITS + 1;
/// Bits of the venue's total reserves value in common units: below `2^225`.
pub const RESERVES_VALUE_BITS: u32 = 225;
/// A signed 64-bit lane is stored offset by `2^63` so that it is in `[0, 2^64)`.
pub const LANE_OFFSET: u64 = 1 << 63;

#[cfg(test)]
mod tests {
    use super::*;
    use ethnum::I256;

    fn pow2(bits: u32) -> I256 {
        I256::ONE << bits
    }

    /// The overflow argument of the module docs, recomputed with exact integers.
    #[test]
    fn bounds_compose_without_overflow() {
        let f_max = I256::from(10u64.pow(MAX_SCALE_EXPONENT));
        assert!(f_max < pow2(60));
        let bal = pow2(BALANCE_BITS) * f_max;
        let notional = pow2(SIZE_BITS) * pow2(PRICE_BITS) * f_max;
        let tv = bal + I256::from(MAX_MARKETS as u64) * notional;
        assert!(tv < pow2(TV_BITS));
        let assets = I256::from(MAX_ASSETS as u64) * pow2(AMOUNT_BITS) * pow2(PRICE_BITS) * f_max;
        let tv = tv + assets;
        assert!(tv < pow2(TV_BITS));
        let mr = I256::from(MAX_MARKETS as u64) * notional * I256::from(MAX_MM_BPS);
        // MV' ≤ 10000 · (balance and positions) + the assets at their full weight.
        let mv = I256::from(BPS_DENOMINATOR) * tv;
        assert!(mv + mr < pow2(SLACK_BITS));
        let cum = pow2(FLOOR_BITS) * f_max * I256::from(MAX_MM_BPS);
        assert!(cum < pow2(138));
        let reserves = pow2(RESERVE_BITS) * f_max
            + I256::from(MAX_ASSETS as u64) * pow2(ASSET_RESERVE_BITS) * pow2(PRICE_BITS) * f_max;
        assert!(reserves < pow2(RESERVES_VALUE_BITS));
        assert!(I256::from(MAX_ACCOUNTS) * pow2(AMOUNT_BITS) < pow2(ASSET_RESERVE_BITS));
        // h_c ≤ 2^32·(2^63 − 1) < 2^95, so ℓ_c = h_c + 1 ≤ 2^95 < 2^96.
        assert!(I256::from(MAX_ACCOUNTS) * (pow2(AMOUNT_BITS) - 1) < pow2(ASSET_TOTAL_BITS));
        assert!(pow2(ASSET_TOTAL_BITS) < pow2(ASSET_DISCLOSURE_BITS));
        assert!(I256::from(MAX_ACCOUNTS) * tv < pow2(TOTAL_BITS));
        // Both fields are larger than 2^253; twice the largest magnitude fits.
        const { assert!(SLACK_BITS < 252 && TOTAL_BITS < 252) };
    }
}
