//! The default waterfall, exactly (`docs/SPEC.md` §2.4): liquidation fees, the
//! insurance fund's draw and the socialized-loss haircut.
//!
//! Fees are fractions of the common unit `10^-E` (a rate in bps of a notional), so
//! every waterfall amount is carried multiplied by `10^4` (units of `10^-(E+4)`
//! quote), like `MR'` and `MV'`: no division happens except the haircut's floor,
//! which [`haircut`] computes exactly. The R1CS twin is `crate::r1cs::waterfall`.

use crate::bounds::BPS_DENOMINATOR;
use ethnum::I256;

/// `10^9`: the haircut rate's denominator (parts per billion), and its largest value.
pub const HAIRCUT_PPB_MAX: u32 = 1_000_000_000;

/// `10^13 = 10^4 · 10^9`: an account's haircut is `⌊E'' · h / 10^13⌋` whole common
/// units for a base `E'' = 10^4 · E'` and a rate `h` in ppb.
pub fn haircut_divisor() -> I256 {
    I256::from(BPS_DENOMINATOR) * I256::from(HAIRCUT_PPB_MAX)
}

/// One account's liquidation fee, times `10^4` (`fee' = 10^4 · fee_i`):
/// `min(Σ_m n_m · lf_m, 10^4 · max(EQ, 0))` if the account is liquidatable, else 0.
/// `fee_notional_bps` is `Σ_m n_m · lf_m` (notionals in common units, rates in bps)
/// and `liability` is `max(EQ, 0)`.
pub fn liquidation_fee(fee_notional_bps: I256, liability: I256, liquidatable: bool) -> I256 {
    if liquidatable {
        fee_notional_bps.min(I256::from(BPS_DENOMINATOR) * liability)
    } else {
        I256::ZERO
    }
}

/// An account's haircut base times `10^4`: `E'' = 10^4 · max(EQ − fee, 0)`. As the
/// fee is at most `max(EQ, 0)`, this is `10^4 · max(EQ, 0) − fee'` exactly.
pub fn haircut_base(liability: I256, fee_bps: I256) -> I256 {
    I256::from(BPS_DENOMINATOR) * liability - fee_bps
}

/// An account's haircut at rate `h` (ppb), in whole common units:
/// `⌊E'' · h / 10^13⌋ = ⌊E' · h / 10^9⌋`.
pub fn haircut(base_bps: I256, ppb: u32) -> I256 {
    // Both factors are non-negative, so truncating division is the floor.
    base_bps * I256::from(ppb) / haircut_divisor()
}

/// The epoch's waterfall (`docs/SPEC.md` §2.4). Amounts are in units of
/// `10^-(E+4)` quote (`10^4` times the common unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waterfall {
    /// `F' = Σ_i fee'_i`.
    pub liquidation_fees: I256,
    /// `10^4 · insurance_fund · f_q`: the fund before the epoch's fees.
    pub insurance_fund: I256,
    /// `draw' = min(10^4 · D, fund' + F')`.
    pub insurance_draw: I256,
    /// `deficit' = 10^4 · D − draw'`: the bad debt the fund could not cover.
    pub deficit: I256,
    /// `fund' + F' − draw'`.
    pub insurance_fund_after: I256,
    /// `h`: the least rate in ppb whose haircuts cover the deficit (`10^9` on a
    /// shortfall, 0 without a deficit).
    pub haircut_ppb: u32,
    /// Even `h = 10^9` (every base taken whole) leaves part of the deficit.
    pub shortfall: bool,
}

/// What the waterfall reads of the accounts: `F'` and the haircut bases `E''_i` (an
/// account whose base is 0 may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaterfallInputs {
    /// `Σ_i fee'_i`.
    pub liquidation_fees: I256,
    /// `E''_i` of every account with a positive base.
    pub bases: Vec<I256>,
}

impl WaterfallInputs {
    /// Adds one account's fee and base.
    pub fn push(&mut self, fee_bps: I256, base_bps: I256) {
        self.liquidation_fees += fee_bps;
        if base_bps > I256::ZERO {
            self.bases.push(base_bps);
        }
    }

    /// `Σ_i ⌊E''_i · h / 10^13⌋`: the haircuts at rate `h`, in common units.
    pub fn haircuts_at(&self, ppb: u32) -> I256 {
        self.bases.iter().map(|b| haircut(*b, ppb)).sum()
    }
}

/// Whether haircuts summing to `haircuts` (common units) cover `deficit'`
/// (`10^-(E+4)` units): `10^4 · Σ ≥ deficit'`.
pub fn covers(haircuts: I256, deficit_bps: I256) -> bool {
    I256::from(BPS_DENOMINATOR) * haircuts >= deficit_bps
}

/// Runs the waterfall over bad debt `D` and the fund (both `10^-E` units, as §2.3
/// computes them) and the accounts' fees and bases.
pub fn waterfall(bad_debt: I256, insurance_fund: I256, inputs: &WaterfallInputs) -> Waterfall {
    let scale = I256::from(BPS_DENOMINATOR);
    let debt = scale * bad_debt;
    let fund = scale * insurance_fund;
    let available = fund + inputs.liquidation_fees;
    let draw = debt.min(available);
    let deficit = debt - draw;
    let (haircut_ppb, shortfall) = haircut_rate(deficit, inputs);
    Waterfall {
        liquidation_fees: inputs.liquidation_fees,
        insurance_fund: fund,
        insurance_draw: draw,
        deficit,
        insurance_fund_after: available - draw,
        haircut_ppb,
        shortfall,
    }
}

/// The least `h ∈ [0, 10^9]` whose haircuts cover `deficit'`, and whether even
/// `10^9` falls short (then `h = 10^9`). The haircut sum never decreases with `h`,
/// so a binary search finds it.
fn haircut_rate(deficit_bps: I256, inputs: &WaterfallInputs) -> (u32, bool) {
    if deficit_bps <= I256::ZERO {
        return (0, false);
    }
    if !covers(inputs.haircuts_at(HAIRCUT_PPB_MAX), deficit_bps) {
        return (HAIRCUT_PPB_MAX, true);
    }
    // Invariant: `hi` covers, `lo` does not (0 covers nothing of a positive deficit).
    let (mut lo, mut hi) = (0u32, HAIRCUT_PPB_MAX);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if covers(inputs.haircuts_at(mid), deficit_bps) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (hi, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(v: i128) -> I256 {
        I256::from(v)
    }

    fn inputs(fees: i128, bases: &[i128]) -> WaterfallInputs {
        let mut out = WaterfallInputs {
            liquidation_fees: i(fees),
            ..WaterfallInputs::default()
        };
        for b in bases {
            out.push(I256::ZERO, i(*b));
        }
        out
    }

    #[test]
    fn fee_is_capped_by_the_remaining_equity_and_charged_only_when_liquidatable() {
        assert_eq!(liquidation_fee(i(500), i(1), true), i(500));
        assert_eq!(liquidation_fee(i(50_000), i(2), true), i(20_000));
        assert_eq!(liquidation_fee(i(500), i(0), true), i(0));
        assert_eq!(liquidation_fee(i(500), i(100), false), i(0));
        assert_eq!(haircut_base(i(2), i(20_000)), i(0));
        assert_eq!(haircut_base(i(3), i(500)), i(29_500));
    }

    #[test]
    fn haircut_floors_in_whole_common_units() {
        // E' = 2.95 units: at 10^9 ppb the whole 2 units, at half 1.
        assert_eq!(haircut(i(29_500), HAIRCUT_PPB_MAX), i(2));
        assert_eq!(haircut(i(29_500), HAIRCUT_PPB_MAX / 2), i(1));
        assert_eq!(haircut(i(29_500), 338_983_050), i(0));
        assert_eq!(haircut(i(29_500), 338_983_051), i(1));
    }

    #[test]
    fn covered_by_the_fund_needs_no_haircut() {
        let w = waterfall(i(10), i(7), &inputs(40_000, &[1_000_000]));
        assert_eq!(w.insurance_draw, i(100_000));
        assert_eq!(w.deficit, i(0));
        assert_eq!(w.insurance_fund_after, i(10_000));
        assert_eq!((w.haircut_ppb, w.shortfall), (0, false));
    }

    #[test]
    fn least_rate_covers_and_one_less_does_not() {
        let bases = inputs(0, &[1_000_000_000, 3_000_000_000, 70_000]);
        let w = waterfall(i(12), i(0), &bases);
        assert_eq!(w.deficit, i(120_000));
        assert!(!w.shortfall);
        assert!(covers(bases.haircuts_at(w.haircut_ppb), w.deficit));
        assert!(!covers(bases.haircuts_at(w.haircut_ppb - 1), w.deficit));
    }

    #[test]
    fn shortfall_takes_everything() {
        let bases = inputs(0, &[25_000, 9_999]);
        let w = waterfall(i(5), i(1), &bases);
        assert_eq!(w.deficit, i(40_000));
        assert_eq!((w.haircut_ppb, w.shortfall), (HAIRCUT_PPB_MAX, true));
        // Two units are covered from 0.8 · 2.5 on: not a shortfall.
        let w = waterfall(i(3), i(1), &bases);
        assert_eq!((w.haircut_ppb, w.shortfall), (800_000_000, false));
        assert!(!covers(bases.haircuts_at(799_999_999), w.deficit));
    }
}
