//! The default waterfall's gates (`docs/SPEC.md` §2.4, §8.4): liquidation fees,
//! the insurance fund's draw and the least covering haircut rate, as a chip of the
//! waterfall shapes' batch circuits (risk model v1 or v2). The native reference,
//! which every test matches exactly, is [`crate::native::waterfall`].
//!
//! [`super::Halo2BatchCircuit`] lays out the rate block before `O` (which absorbs
//! its `h`), each account's part after its margin region, and the epoch block
//! after `batch outputs`; `F'`, `S`, `S_lo` travel in the running state and the
//! published `F'`, `h`, `shortfall` in `O` (see "Placement").
//!
//! # Semantics
//!
//! All amounts are integers; waterfall amounts are carried `×10^4` like `MR'`
//! (units of `10^-(E+4)` quote). Per account, with `|size_m|` from the market's lane
//! and the hashed per-market `uf_m = uv_m · lf_m` (`lf_m ≤ 10^4` bps):
//!
//! ```text
//! nf'   = Σ_m |size_m| · uf_m                      the notional fee
//! cap   = 10^4 · liability                         liability = max(TV, 0)
//! fee'  = liquidatable ? min(nf', cap) : 0
//! base' = cap − fee'                               ≥ 0, as fee' ≤ cap
//! base' · h    = 10^13 · q    + r,    0 ≤ r    < 10^13   (q    = ⌊base'·h/10^13⌋)
//! base' · h_lo = 10^13 · q_lo + r_lo, 0 ≤ r_lo < 10^13
//! ```
//!
//! per batch `h ∈ [0, 10^9]` and `h_lo = h − 1 + [h = 0]`, and over the epoch
//! (`F' = Σ fee'`, `S = Σ q`, `S_lo = Σ q_lo`; enforced in the last batch):
//!
//! ```text
//! D'        = 10^4 · D,   avail = 10^4 · fund + F'
//! deficit'  = max(D' − avail, 0),   draw' = D' − deficit' = min(D', avail)
//! shortfall = ¬[10^4 · S ≥ deficit']
//! shortfall ⇒ h = 10^9
//! (h ≠ 0 ∧ ¬shortfall) ⇒ 10^4 · S_lo < deficit'
//! ```
//!
//! As `S` never decreases with `h`, these pin `h` to the native
//! [`crate::native::waterfall::waterfall`]'s rate: 0 without a deficit (a positive
//! `h` would need `10^4·S_lo < 0`), `10^9` on a shortfall, and otherwise the least
//! covering rate (`h` covers, `h − 1` does not).
//!
//! # Widths (`docs/SPEC.md` §3)
//!
//! The gates are shape-independent, so every width is the global bound's
//! ([`crate::bounds::TV_BITS`] `= 194`: `|TV| < 2^194`); `10^4 < 2^14`, at most
//! `2^32` accounts. Each width is the bound rounded up to whole 10-bit words
//! where that costs no lookup, so that the range table gains no short width.
//!
//! | value | bound | check |
//! | --- | --- | --- |
//! | `cap − nf'` | `cap < 10^4·2^194`; `nf' ≤ 10^4·Σ_m \|size_m\|·uv_m < 10^4·2^194` (`lf_m ≤ 10^4`) | sign window, [`FEE_WINDOW_BITS`] `= 210` |
//! | `q`, `q_lo` | `q ≤ base'/10^4 ≤ liability < 2^194` (`h ≤ 10^9`) | [`HAIRCUT_BITS`] `= 194` |
//! | `r`, `10^13 − 1 − r` | `0 ≤ r < 10^13 < 2^44` exactly | [`REMAINDER_BITS`] `= 44`, both |
//! | `h`, `10^9 − h` | `h ∈ [0, 10^9]`, `10^9 < 2^30` | [`RATE_BITS`] `= 30`, both |
//! | `D' − avail` | `D' = 10^4·D < 2^240` (`D < 2^226`); `F' ≤ 10^4·L < 2^240`; `10^4·fund·f_q < 2^202` | sign window, [`EPOCH_BITS`] `= 250` |
//! | `10^4·S − deficit'` | `S ≤ L < 2^226`, `deficit' < 2^240` | sign window, 250 |
//! | `deficit' − 10^4·S_lo − 1` | in `[−2^240 − 1, 2^240)`; a negative one is a field element above `2^253` | 250 |
//!
//! No product wraps the field (`p > 2^254`): `base'·h < 2^208·2^30 = 2^238`,
//! `10^13·q + r < 2^44·2^194 + 2^44 < 2^239`, so the haircut equation is an
//! integer equation and, with `r ∈ [0, 10^13)` and `q ∈ [0, 2^194)`, Euclidean
//! division: `q` is exactly the floor. The sign windows are the sign gadget of
//! [`super::range`] (`u = v + (1 − s)·2^n ∈ [0, 2^n)`, `s = 1 ⇔ v ≥ 0`).
//!
//! # Layout (on a `W`-wide advice grid, row-major like [`super::margin`])
//!
//! Per account one region: `⌈M/2⌉` *notional blocks* (two markets each), then the
//! *waterfall account block*. Per batch one *rate block*, and one *epoch block*.
//!
//! ## Notional block (7 cells: 1 row at `W = 8`)
//!
//! | 0 | 1 | 2 | 3 | 4 | 5 | 6 |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | `r_a` (copy) | `s_a` (copy) | `uf_a` (copy) | `r_b` (copy) | `s_b` (copy) | `uf_b` (copy; the constant 0 past the last market) | `nf` through this block |
//!
//! `r`, `s` are the market lane's magnitude part and sign (`|size| = (2s − 1)·v`,
//! `v = r − (1 − s)·(2^63 − 1)`, the margin chip's lane encoding).
//!
//! ## Waterfall account block (21 cells: 3 rows at `W = 8`)
//!
//! | cells | |
//! | --- | --- |
//! | 0–5 | `L_in` (copy), `s_ok` (copy of the slack sign: 1 = healthy), `c_f`, `u_f` (210-bit check), `fee'`, `base'` |
//! | 6–13 | `h` (copy), `h_lo` (copy), `q`, `r`, `g = 10^13 − 1 − r`, `q_lo`, `r_lo`, `g_lo` (checks: `q`, `q_lo` 194 bits; `r`, `g`, `r_lo`, `g_lo` 44 bits) |
//! | 14–19 | `F'_in` (copy), `F'_out`, `S_in` (copy), `S_out`, `S_lo,in` (copy), `S_lo,out` |
//! | 20 | `L_out` (copy): `liability = max(TV, 0) = L_out − L_in`, as the margin chip's `liabilities` constraint makes it |
//!
//! ## Rate block (5 cells) and epoch block (19 cells: 3 rows at `W = 8`)
//!
//! Rate: `h`, `h_lo`, `z = [h = 0]`, `inv`, `10^9 − h` (checks: `h` and `10^9 − h`,
//! 30 bits). Epoch: `is_last`, `D`, `fund·f_q`, `F'`, `S`, `S_lo` (copies of the
//! final sums), `h`, `z` (copies), `s_def`, `u_def`, `deficit'`, `draw'`,
//! `fund'_after`, `c`, `u_cov`, `shortfall`, `u_min` (checks: the three windows, 250
//! bits), then the published `F'` and `shortfall` (copies of the cells `O`
//! absorbs).
//!
//! ## Gates
//!
//! | gate | constraint | relation |
//! | --- | --- | --- |
//! | `waterfall fee notional (first)`, `waterfall fee notional` | `fee notional accumulates` | `nf = nf_prev + \|a\|·uf_a + \|b\|·uf_b` (`nf_prev = 0` in the first block) |
//! | `waterfall fee cap` | `fee cap sign is boolean`, `fee cap window` | `u_f = cap − nf' + (1 − c_f)·2^210`: `c_f = [nf' ≤ cap]` |
//! | `waterfall fee` | `fee` | `fee' = (1 − s_ok)·(c_f·nf' + (1 − c_f)·cap)` |
//! | | `haircut base` | `base' = cap − fee'` |
//! | | `fees accumulate` | `F'_out = F'_in + fee'` |
//! | `waterfall haircut` | `haircut at h`, `haircut at h_lo` | `base'·h = 10^13·q + r` (and at `h_lo`) |
//! | | `remainder bound at h`, `remainder bound at h_lo` | `g = 10^13 − 1 − r` |
//! | | `haircuts at h accumulate`, `haircuts at h_lo accumulate` | `S_out = S_in + q` |
//! | `waterfall rate` | `zero rate flag`, `zero rate inverse` | `h·z = 0`, `1 − z = h·inv`: `z = [h = 0]` |
//! | | `lower rate` | `h_lo = h − 1 + z` |
//! | | `rate headroom` | the cell `10^9 − h` |
//! | `waterfall deficit` | `deficit sign is boolean`, `deficit window` | `u_def = D' − avail + (1 − s_def)·2^250` |
//! | | `deficit is the positive part` | `deficit' = s_def·(D' − avail)` |
//! | | `draw`, `fund after` | `draw' = D' − deficit'`, `fund'_after = avail − draw'` |
//! | `waterfall cover` | `cover sign is boolean`, `cover window` | `u_cov = 10^4·S − deficit' + (1 − c)·2^250` |
//! | | `shortfall` | `shortfall = 1 − c` |
//! | `waterfall shortfall rate` | `shortfall takes the whole base` | `is_last·shortfall·(h − 10^9) = 0` |
//! | `waterfall minimal` | `one rate less does not cover` | `u_min = is_last·(1 − z)·(1 − shortfall)·(deficit' − 10^4·S_lo − 1)`, `u_min ∈ [0, 2^250)` |
//! | `waterfall outputs` | `published fees`, `published shortfall` | `is_last·(F' − F'_pub) = 0`, `is_last·(shortfall − shortfall_pub) = 0` |
//!
//! The copies `L_in`, `L_out`, `s_ok`, `r`, `s` come from cells the margin chip
//! constrains (`account`: `s_ok` boolean, `L_out − L_in = s_tv·TV`; the lanes' sign
//! bits are boolean and their `r` range-checked); `uf_m` is a hashed parameter
//! (`docs/SPEC.md` §5.5), derived by the verifier from the validated `lf_m ≤ 10^4`.
//!
//! # Cost per account
//!
//! | | `M = 8` | general |
//! | --- | --- | --- |
//! | grid rows (`W = 8`) | 4 + 3 = 7 | `⌈M/2⌉ + 3` |
//! | range-check lookups | 81 (`u_f` 21, `q` and `q_lo` 20 each, four remainders 5 each) | 81 |
//! | running-sum rows (6 columns) | 13.5 | 13.5 |
//!
//! Per batch: the rate block (1 row, 6 lookups) and the epoch block (3 rows, 75
//! lookups).
//!
//! # Placement (`docs/SPEC.md` §8.4)
//!
//! - **Region.** Each account's notional blocks and account block are a region of
//!   their own after the account's margin region, on the same grid; their gates
//!   read only their own blocks, so the circuits without the waterfall are
//!   untouched. `uf_m` is absorbed into the parameters hash after everything else
//!   (`crate::native::commit::batch_params_hash`).
//! - **State and outputs.** `F'`, `S`, `S_lo` join the running state `C_b` (§6.2)
//!   after the per-asset totals; `F'`, `h`, `shortfall` join `O` (§6.4) after
//!   everything else; the epoch block copies `is_last`, the final `D` and
//!   `insurance_fund·f_q`.
//! - **Columns.** The running sums are the binding resource under risk model v2:
//!   307 + 81 = 388 lookups per account, 64.7 rows over 6 columns, so `B = 512`
//!   would no longer fit `k = 15`; with a seventh running-sum column
//!   (`Columns::WATERFALL_V2`) an account is 55.4 rows and `k = 15` is kept. Under
//!   risk model v1 the 4-wide grid binds (37 rows per account) with 6 running
//!   sums (`Columns::WATERFALL_V1`, 31.8 rows of lookups).
//! - **Measured** before placement (this chip's account part as its own region
//!   after each margin region, with blank inputs; rows by
//!   `Halo2BatchCircuit::rows` at `M = 8`, `T = 4`, `A = 4`; the placed layouts
//!   are pinned by `waterfall_layout_is_pinned`: 3,591 and 28,423 rows):
//!
//!   | running sums | `B = 8` | `B = 64` | `B = 512` |
//!   | --- | --- | --- | --- |
//!   | today, without the waterfall (6) | 1,276 (`k = 11`) | 3,302 (`k = 12`) | 26,225 (`k = 15`) |
//!   | 6 | 1,276 (`k = 11`) | 4,179 (`k = 13`) | 33,150 (`k = 16`) |
//!   | 7 | 1,276 (`k = 11`) | 3,584 (`k = 12`) | 28,416 (`k = 15`) |
//!
//!   Hence 7 running sums for risk model v2 with the waterfall (31 advice
//!   columns).
//! - **Cheaper variants** (not done). `q_lo` could be checked as `q − q_lo`
//!   (`≤ ⌈base'/10^13⌉ < 2^166`, 17 words instead of 20). The check `r_lo ≥ 0`
//!   is not needed for soundness (rounding `q_lo` up only makes the minimality
//!   check harder to pass; rounding it down is what `10^13 − 1 − r_lo ≥ 0`
//!   refuses), but the spec asks for the exact floor. Both together would be 73
//!   lookups per account, which might just fit 6 running sums at `B = 512`
//!   (about 32,480 of 32,758 usable rows: too close to plan on).

use super::layout::{Grid, grid_rows, query_grid};
use super::margin::{known, signed_value};
use super::poseidon::Cell;
use super::range::{RangeCheckChip, bit, pow2};
use crate::bounds::{BPS_DENOMINATOR, TV_BITS};
use crate::hash::{FieldHasher, PastaPoseidon};
use crate::native::waterfall::{self as native, HAIRCUT_PPB_MAX};
use ethnum::I256;
use ff::Field;
use halo2_proofs::circuit::Layouter;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Constraints, Error, Expression, Selector,
};
use pasta_curves::pallas::Base as Fp;

/// Width of `h` and `10^9 − h` (`10^9 < 2^30`).
pub const RATE_BITS: usize = 30;
/// Width of a remainder `r` and of `10^13 − 1 − r` (`10^13 < 2^44`).
pub const REMAINDER_BITS: usize = 44;
/// Width of a haircut `q ≤ liability < 2^194`.
pub const HAIRCUT_BITS: usize = TV_BITS as usize;
/// Width of the fee cap's sign window: `|cap − nf'| < 10^4·2^194 < 2^208`,
/// rounded up to whole 10-bit words (21 either way), so that its last word is
/// a full one and the range table needs no new short width.
pub const FEE_WINDOW_BITS: usize = 210;
/// Width of the epoch's sign windows: `|D' − avail| < 2^240 + 2^202 < 2^241`
/// (`D, L < 2^32·2^194`, `10^4 < 2^14`, `fund·f_q < 2^188`), rounded up to whole
/// words likewise (25 either way). A sign window may be wider than its value's
/// bound as long as `2^n < p − 2^n` (`n ≤ 252`): a negative value `v` then
/// leaves `p − |v| > 2^n` out of range.
pub const EPOCH_BITS: usize = 250;

const _: () = assert!(FEE_WINDOW_BITS >= TV_BITS as usize + 14);
const _: () = assert!(EPOCH_BITS > TV_BITS as usize + 32 + 14);
const _: () = assert!(TV_BITS as usize + 32 + 14 > 202);
const _: () = assert!(EPOCH_BITS <= super::range::MAX_BITS);

/// Every width the chip's range checks use.
pub const WIDTHS: [usize; 5] = [
    RATE_BITS,
    REMAINDER_BITS,
    HAIRCUT_BITS,
    FEE_WINDOW_BITS,
    EPOCH_BITS,
];

/// Cells of a notional block (two markets).
pub mod notional {
    #![allow(missing_docs)]
    pub const MAGNITUDE_A: usize = 0;
    pub const SIGN_A: usize = 1;
    pub const FEE_UNIT_A: usize = 2;
    pub const MAGNITUDE_B: usize = 3;
    pub const SIGN_B: usize = 4;
    pub const FEE_UNIT_B: usize = 5;
    /// `nf'` through this block.
    pub const NOTIONAL: usize = 6;
    pub const CELLS: usize = 7;
}

/// Cells of the waterfall account block.
pub mod account {
    #![allow(missing_docs)]
    /// `L` before the account (the margin chip's cell).
    pub const LIABILITY: usize = 0;
    /// The margin slack's sign `s_ok` (1 = healthy).
    pub const MARGIN_SIGN: usize = 1;
    pub const FEE_SIGN: usize = 2;
    pub const FEE_WINDOW: usize = 3;
    pub const FEE: usize = 4;
    pub const BASE: usize = 5;
    pub const RATE: usize = 6;
    pub const RATE_LO: usize = 7;
    pub const QUOTIENT: usize = 8;
    pub const REMAINDER: usize = 9;
    pub const REMAINDER_GAP: usize = 10;
    pub const QUOTIENT_LO: usize = 11;
    pub const REMAINDER_LO: usize = 12;
    pub const REMAINDER_GAP_LO: usize = 13;
    pub const FEES_IN: usize = 14;
    pub const FEES_OUT: usize = 15;
    pub const HAIRCUTS_IN: usize = 16;
    pub const HAIRCUTS_OUT: usize = 17;
    pub const HAIRCUTS_LO_IN: usize = 18;
    pub const HAIRCUTS_LO_OUT: usize = 19;
    /// `L` after the account (the margin chip's cell): with `L` before it in
    /// [`LIABILITY`], `liability = L_out − L_in`.
    pub const LIABILITIES_OUT: usize = 20;
    pub const CELLS: usize = 21;
}

/// Cells of the rate block.
pub mod rate {
    #![allow(missing_docs)]
    pub const RATE: usize = 0;
    pub const RATE_LO: usize = 1;
    pub const ZERO: usize = 2;
    pub const INVERSE: usize = 3;
    pub const HEADROOM: usize = 4;
    pub const CELLS: usize = 5;
}

/// Cells of the epoch block.
pub mod epoch {
    #![allow(missing_docs)]
    pub const IS_LAST: usize = 0;
    pub const BAD_DEBT: usize = 1;
    pub const FUND: usize = 2;
    pub const FEES: usize = 3;
    pub const HAIRCUTS: usize = 4;
    pub const HAIRCUTS_LO: usize = 5;
    pub const RATE: usize = 6;
    pub const ZERO: usize = 7;
    pub const DEFICIT_SIGN: usize = 8;
    pub const DEFICIT_WINDOW: usize = 9;
    pub const DEFICIT: usize = 10;
    pub const DRAW: usize = 11;
    pub const FUND_AFTER: usize = 12;
    pub const COVER_SIGN: usize = 13;
    pub const COVER_WINDOW: usize = 14;
    pub const SHORTFALL: usize = 15;
    pub const MINIMAL_WINDOW: usize = 16;
    /// The published `F'` (the cell `O` absorbs).
    pub const PUBLISHED_FEES: usize = 17;
    /// The published `shortfall` (the cell `O` absorbs).
    pub const PUBLISHED_SHORTFALL: usize = 18;
    pub const CELLS: usize = 19;
}

/// The rows each block takes on a grid of a given width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaterfallRows {
    /// A notional block.
    pub notional: usize,
    /// The waterfall account block.
    pub account: usize,
    /// The rate block.
    pub rate: usize,
    /// The epoch block.
    pub epoch: usize,
}

impl WaterfallRows {
    /// The blocks' rows on a grid `width` columns wide.
    pub const fn of(width: usize) -> Self {
        Self {
            notional: grid_rows(width, notional::CELLS),
            account: grid_rows(width, account::CELLS),
            rate: grid_rows(width, rate::CELLS),
            epoch: grid_rows(width, epoch::CELLS),
        }
    }

    /// Rows of one account's waterfall part with `markets` markets.
    pub const fn account_region(self, markets: usize) -> usize {
        markets.div_ceil(2) * self.notional + self.account
    }
}

/// Range-check lookups per account: `u_f`, `q`, `q_lo` and four remainders.
pub const fn lookups_per_account() -> usize {
    super::range::words(FEE_WINDOW_BITS).0
        + 2 * super::range::words(HAIRCUT_BITS).0
        + 4 * super::range::words(REMAINDER_BITS).0
}

/// `10^4` as a field constant.
fn bps() -> Expression<Fp> {
    Expression::Constant(Fp::from(BPS_DENOMINATOR))
}

/// `10^13 = 10^4 · 10^9`, the haircut's divisor.
fn divisor() -> Fp {
    Fp::from(BPS_DENOMINATOR * u64::from(HAIRCUT_PPB_MAX))
}

/// `|v| = (2s − 1)·v` of a lane's cells `r`, `s`.
fn magnitude(r: Expression<Fp>, s: Expression<Fp>) -> Expression<Fp> {
    let v = signed_value(r, s.clone());
    (s * Expression::Constant(Fp::from(2)) - Expression::Constant(Fp::ONE)) * v
}

/// Configuration of the waterfall chip.
#[derive(Clone, Debug)]
pub struct WaterfallConfig {
    advice: Vec<Column<Advice>>,
    rows: WaterfallRows,
    q_notional_first: Selector,
    q_notional: Selector,
    q_account: Selector,
    q_rate: Selector,
    q_epoch: Selector,
}

impl WaterfallConfig {
    /// Configures the gates of the module docs on the grid `advice` (equality
    /// enabled). The caller's constraint system must have a constants column (the
    /// zero fee unit past an odd market count).
    pub fn configure(meta: &mut ConstraintSystem<Fp>, advice: &[Column<Advice>]) -> Self {
        for column in advice {
            meta.enable_equality(*column);
        }
        let config = Self {
            advice: advice.to_vec(),
            rows: WaterfallRows::of(advice.len()),
            q_notional_first: meta.selector(),
            q_notional: meta.selector(),
            q_account: meta.selector(),
            q_rate: meta.selector(),
            q_epoch: meta.selector(),
        };
        let advice = &config.advice.clone();
        let one = || Expression::Constant(Fp::ONE);
        let notional_rows = config.rows.notional as i32;

        // SPEC §2.4: nf' = Σ_m |size_m|·uf_m, two markets per block.
        for (name, selector, first) in [
            (
                "waterfall fee notional (first)",
                config.q_notional_first,
                true,
            ),
            ("waterfall fee notional", config.q_notional, false),
        ] {
            meta.create_gate(name, |meta| {
                use notional::*;
                let q = meta.query_selector(selector);
                let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
                let a = magnitude(c(meta, MAGNITUDE_A), c(meta, SIGN_A)) * c(meta, FEE_UNIT_A);
                let b = magnitude(c(meta, MAGNITUDE_B), c(meta, SIGN_B)) * c(meta, FEE_UNIT_B);
                let nf = c(meta, NOTIONAL);
                let previous = if first {
                    Expression::Constant(Fp::ZERO)
                } else {
                    query_grid(meta, advice, -notional_rows, NOTIONAL)
                };
                Constraints::with_selector(q, [("fee notional accumulates", nf - previous - a - b)])
            });
        }

        // The account block's cells, and nf' from the last notional block above it.
        let account_cells = |meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fp>| {
            let cells: Vec<Expression<Fp>> = (0..account::CELLS)
                .map(|i| query_grid(meta, advice, 0, i))
                .collect();
            let nf = query_grid(meta, advice, -notional_rows, notional::NOTIONAL);
            (cells, nf)
        };

        // SPEC §2.4: c_f = [nf' ≤ cap] by the sign gadget on cap − nf' (210 bits).
        meta.create_gate("waterfall fee cap", |meta| {
            use account::*;
            let q = meta.query_selector(config.q_account);
            let (c, nf) = account_cells(meta);
            let cap = (c[LIABILITIES_OUT].clone() - c[LIABILITY].clone()) * bps();
            let sign = c[FEE_SIGN].clone();
            Constraints::with_selector(
                q,
                [
                    (
                        "fee cap sign is boolean",
                        sign.clone() * (one() - sign.clone()),
                    ),
                    (
                        "fee cap window",
                        c[FEE_WINDOW].clone()
                            - (cap - nf)
                            - (one() - sign) * Expression::Constant(pow2(FEE_WINDOW_BITS)),
                    ),
                ],
            )
        });

        // SPEC §2.4: fee' = liquidatable ? min(nf', cap) : 0, base' = cap − fee'.
        meta.create_gate("waterfall fee", |meta| {
            use account::*;
            let q = meta.query_selector(config.q_account);
            let (c, nf) = account_cells(meta);
            let cap = (c[LIABILITIES_OUT].clone() - c[LIABILITY].clone()) * bps();
            let sign = c[FEE_SIGN].clone();
            let liquidatable = one() - c[MARGIN_SIGN].clone();
            let least = sign.clone() * nf + (one() - sign) * cap.clone();
            let fee = c[FEE].clone();
            Constraints::with_selector(
                q,
                [
                    ("fee", fee.clone() - liquidatable * least),
                    ("haircut base", c[BASE].clone() - (cap - fee.clone())),
                    (
                        "fees accumulate",
                        c[FEES_OUT].clone() - c[FEES_IN].clone() - fee,
                    ),
                ],
            )
        });

        // SPEC §2.4: q = ⌊base'·h / 10^13⌋ exactly: base'·h = 10^13·q + r with
        // r, 10^13 − 1 − r ∈ [0, 2^44) and q ∈ [0, 2^194); the same at h_lo.
        meta.create_gate("waterfall haircut", |meta| {
            use account::*;
            let q = meta.query_selector(config.q_account);
            let (c, _) = account_cells(meta);
            let base = c[BASE].clone();
            let d = Expression::Constant(divisor());
            let mut constraints = Vec::with_capacity(6);
            for (rate, quotient, remainder, gap, s_in, s_out, names) in [
                (
                    RATE,
                    QUOTIENT,
                    REMAINDER,
                    REMAINDER_GAP,
                    HAIRCUTS_IN,
                    HAIRCUTS_OUT,
                    [
                        "haircut at h",
                        "remainder bound at h",
                        "haircuts at h accumulate",
                    ],
                ),
                (
                    RATE_LO,
                    QUOTIENT_LO,
                    REMAINDER_LO,
                    REMAINDER_GAP_LO,
                    HAIRCUTS_LO_IN,
                    HAIRCUTS_LO_OUT,
                    [
                        "haircut at h_lo",
                        "remainder bound at h_lo",
                        "haircuts at h_lo accumulate",
                    ],
                ),
            ] {
                constraints.push((
                    names[0],
                    base.clone() * c[rate].clone()
                        - d.clone() * c[quotient].clone()
                        - c[remainder].clone(),
                ));
                constraints.push((
                    names[1],
                    c[gap].clone() - (d.clone() - one() - c[remainder].clone()),
                ));
                constraints.push((
                    names[2],
                    c[s_out].clone() - c[s_in].clone() - c[quotient].clone(),
                ));
            }
            Constraints::with_selector(q, constraints)
        });

        // SPEC §2.4: h_lo = h − 1 + [h = 0]; 10^9 − h is checked with h in 30 bits.
        meta.create_gate("waterfall rate", |meta| {
            use rate::*;
            let q = meta.query_selector(config.q_rate);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (h, h_lo, z) = (c(meta, RATE), c(meta, RATE_LO), c(meta, ZERO));
            let (inv, headroom) = (c(meta, INVERSE), c(meta, HEADROOM));
            Constraints::with_selector(
                q,
                [
                    ("zero rate flag", h.clone() * z.clone()),
                    ("zero rate inverse", one() - z.clone() - h.clone() * inv),
                    ("lower rate", h_lo - (h.clone() - one() + z)),
                    (
                        "rate headroom",
                        headroom - (Expression::Constant(Fp::from(u64::from(HAIRCUT_PPB_MAX))) - h),
                    ),
                ],
            )
        });

        // The epoch block's cells.
        let epoch_cells = |meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fp>| {
            (0..epoch::CELLS)
                .map(|i| query_grid(meta, advice, 0, i))
                .collect::<Vec<_>>()
        };

        // SPEC §2.4: deficit' = max(10^4·D − (10^4·fund + F'), 0), draw' = D' − deficit'.
        meta.create_gate("waterfall deficit", |meta| {
            use epoch::*;
            let q = meta.query_selector(config.q_epoch);
            let c = epoch_cells(meta);
            let debt = c[BAD_DEBT].clone() * bps();
            let available = c[FUND].clone() * bps() + c[FEES].clone();
            let excess = debt.clone() - available.clone();
            let sign = c[DEFICIT_SIGN].clone();
            Constraints::with_selector(
                q,
                [
                    (
                        "deficit sign is boolean",
                        sign.clone() * (one() - sign.clone()),
                    ),
                    (
                        "deficit window",
                        c[DEFICIT_WINDOW].clone()
                            - excess.clone()
                            - (one() - sign.clone()) * Expression::Constant(pow2(EPOCH_BITS)),
                    ),
                    (
                        "deficit is the positive part",
                        c[DEFICIT].clone() - sign * excess,
                    ),
                    ("draw", c[DRAW].clone() - (debt - c[DEFICIT].clone())),
                    (
                        "fund after",
                        c[FUND_AFTER].clone() - (available - c[DRAW].clone()),
                    ),
                ],
            )
        });

        // SPEC §2.4: c = [10^4·S ≥ deficit'], shortfall = ¬c.
        meta.create_gate("waterfall cover", |meta| {
            use epoch::*;
            let q = meta.query_selector(config.q_epoch);
            let c = epoch_cells(meta);
            let surplus = c[HAIRCUTS].clone() * bps() - c[DEFICIT].clone();
            let sign = c[COVER_SIGN].clone();
            Constraints::with_selector(
                q,
                [
                    (
                        "cover sign is boolean",
                        sign.clone() * (one() - sign.clone()),
                    ),
                    (
                        "cover window",
                        c[COVER_WINDOW].clone()
                            - surplus
                            - (one() - sign.clone()) * Expression::Constant(pow2(EPOCH_BITS)),
                    ),
                    ("shortfall", c[SHORTFALL].clone() - (one() - sign)),
                ],
            )
        });

        // SPEC §2.4 (last batch): a shortfall takes every base whole.
        meta.create_gate("waterfall shortfall rate", |meta| {
            use epoch::*;
            let q = meta.query_selector(config.q_epoch);
            let c = epoch_cells(meta);
            let whole = Expression::Constant(Fp::from(u64::from(HAIRCUT_PPB_MAX)));
            Constraints::with_selector(
                q,
                [(
                    "shortfall takes the whole base",
                    c[IS_LAST].clone() * c[SHORTFALL].clone() * (c[RATE].clone() - whole),
                )],
            )
        });

        // SPEC §2.4 (last batch): a covering h ≠ 0 is the least, h − 1 misses:
        // u_min = deficit' − 10^4·S_lo − 1 ∈ [0, 2^250) when it applies.
        meta.create_gate("waterfall minimal", |meta| {
            use epoch::*;
            let q = meta.query_selector(config.q_epoch);
            let c = epoch_cells(meta);
            let applies =
                c[IS_LAST].clone() * (one() - c[ZERO].clone()) * (one() - c[SHORTFALL].clone());
            let miss = c[DEFICIT].clone() - c[HAIRCUTS_LO].clone() * bps() - one();
            Constraints::with_selector(
                q,
                [(
                    "one rate less does not cover",
                    c[MINIMAL_WINDOW].clone() - applies * miss,
                )],
            )
        });

        // SPEC §6.4 (last batch): the published F' and shortfall are the epoch's.
        meta.create_gate("waterfall outputs", |meta| {
            use epoch::*;
            let q = meta.query_selector(config.q_epoch);
            let c = epoch_cells(meta);
            let is_last = c[IS_LAST].clone();
            Constraints::with_selector(
                q,
                [
                    (
                        "published fees",
                        is_last.clone() * (c[FEES].clone() - c[PUBLISHED_FEES].clone()),
                    ),
                    (
                        "published shortfall",
                        is_last * (c[SHORTFALL].clone() - c[PUBLISHED_SHORTFALL].clone()),
                    ),
                ],
            )
        });

        config
    }

    /// The rows of the chip's blocks on its grid.
    pub fn rows(&self) -> WaterfallRows {
        self.rows
    }
}

/// An integer as a field element (a negative one as `p − |v|`).
pub fn field(v: I256) -> Fp {
    let x = PastaPoseidon::from_u256(v.unsigned_abs());
    if v < I256::ZERO { -x } else { x }
}

/// The witness of one account's waterfall block, as field elements.
#[derive(Clone, Debug)]
pub struct AccountTrace {
    /// `nf'` through each notional block.
    pub notional: Vec<Fp>,
    /// `c_f = [nf' ≤ cap]`.
    pub fee_sign: bool,
    /// `u_f`.
    pub fee_window: Fp,
    /// `fee'`.
    pub fee: Fp,
    /// `base'`.
    pub base: Fp,
    /// `[q, q_lo]`.
    pub quotient: [Fp; 2],
    /// `[r, r_lo]`.
    pub remainder: [Fp; 2],
    /// `[10^13 − 1 − r, 10^13 − 1 − r_lo]`.
    pub remainder_gap: [Fp; 2],
    /// `F'` after the account.
    pub fees_out: Fp,
    /// `[S, S_lo]` after the account.
    pub haircuts_out: [Fp; 2],
}

/// One account's waterfall as integers: the inputs and the prover's choices
/// (`fee_sign`, `fee`, `quotient`), from which [`AccountValues::trace`] derives
/// every other cell exactly as the gates relate them (so a dishonest choice shows
/// as the constraint or range check it breaks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountValues {
    /// `|size_m|` per market.
    pub sizes: Vec<I256>,
    /// `uf_m = uv_m·lf_m` per market.
    pub fee_units: Vec<I256>,
    /// `max(TV, 0)`.
    pub liability: I256,
    /// `MV' < MR'`.
    pub liquidatable: bool,
    /// `c_f`.
    pub fee_sign: bool,
    /// `fee'`.
    pub fee: I256,
    /// `[q, q_lo]`.
    pub quotient: [I256; 2],
}

/// `[h, h_lo]` of a rate `h`: `h_lo = h − 1 + [h = 0]`.
pub fn rates(h: I256) -> [I256; 2] {
    let lo = if h == I256::ZERO { h } else { h - I256::ONE };
    [h, lo]
}

impl AccountValues {
    /// The honest values at rate `h` (`native::liquidation_fee`,
    /// `native::haircut_base`, `native::haircut`).
    pub fn honest(
        sizes: Vec<I256>,
        fee_units: Vec<I256>,
        liability: I256,
        liquidatable: bool,
        h: u32,
    ) -> Self {
        let mut v = Self {
            sizes,
            fee_units,
            liability,
            liquidatable,
            fee_sign: false,
            fee: I256::ZERO,
            quotient: [I256::ZERO; 2],
        };
        let nf = v.notional();
        v.fee_sign = nf <= v.cap();
        v.fee = native::liquidation_fee(nf, liability, liquidatable);
        v.quotient = v.floors(rates(I256::from(h)));
        v
    }

    /// `nf' = Σ_m |size_m|·uf_m`.
    pub fn notional(&self) -> I256 {
        (self.sizes.iter().zip(&self.fee_units))
            .map(|(s, u)| *s * *u)
            .sum()
    }

    /// `10^4 · liability`.
    pub fn cap(&self) -> I256 {
        I256::from(BPS_DENOMINATOR) * self.liability
    }

    /// `base' = cap − fee'`.
    pub fn base(&self) -> I256 {
        native::haircut_base(self.liability, self.fee)
    }

    /// The honest `[q, q_lo]` of this base at the rates `[h, h_lo]` (a
    /// non-negative base).
    pub fn floors(&self, rates: [I256; 2]) -> [I256; 2] {
        rates.map(|r| self.base() * r / native::haircut_divisor())
    }

    /// The trace at the rates `[h, h_lo]` after `fees_in` and `[S, S_lo]` =
    /// `haircuts_in`, and the sums after the account.
    pub fn trace(
        &self,
        rs: [I256; 2],
        fees_in: I256,
        haircuts_in: [I256; 2],
    ) -> (AccountTrace, I256, [I256; 2]) {
        let mut notional = Vec::new();
        let mut nf = I256::ZERO;
        for pair in self.sizes.chunks(2).zip(self.fee_units.chunks(2)) {
            nf += pair
                .0
                .iter()
                .zip(pair.1)
                .map(|(s, u)| *s * *u)
                .sum::<I256>();
            notional.push(field(nf));
        }
        let window = self.cap() - nf
            + if self.fee_sign {
                I256::ZERO
            } else {
                I256::ONE << FEE_WINDOW_BITS as u32
            };
        let base = self.base();
        let d = native::haircut_divisor();
        let remainder = [0, 1].map(|i| base * rs[i] - d * self.quotient[i]);
        let fees_out = fees_in + self.fee;
        let haircuts_out = [0, 1].map(|i| haircuts_in[i] + self.quotient[i]);
        let trace = AccountTrace {
            notional,
            fee_sign: self.fee_sign,
            fee_window: field(window),
            fee: field(self.fee),
            base: field(base),
            quotient: self.quotient.map(field),
            remainder: remainder.map(field),
            remainder_gap: remainder.map(|r| field(d - I256::ONE - r)),
            fees_out: field(fees_out),
            haircuts_out: haircuts_out.map(field),
        };
        (trace, fees_out, haircuts_out)
    }
}

/// The rate block's witness.
#[derive(Clone, Debug)]
pub struct RateTrace {
    /// `h`.
    pub rate: Fp,
    /// `h_lo`.
    pub rate_lo: Fp,
    /// `[h = 0]`.
    pub zero: bool,
    /// `h^{-1}` (0 for `h = 0`).
    pub inverse: Fp,
    /// `10^9 − h`.
    pub headroom: Fp,
}

impl RateTrace {
    /// The rate block of `h` (any integer: a rate above `10^9` fails its check).
    pub fn new(h: I256) -> Self {
        let [rate, rate_lo] = rates(h).map(field);
        Self {
            rate,
            rate_lo,
            zero: h == I256::ZERO,
            inverse: rate.invert().unwrap_or(Fp::ZERO),
            headroom: field(I256::from(HAIRCUT_PPB_MAX) - h),
        }
    }
}

/// The epoch block's witness.
#[derive(Clone, Debug)]
pub struct EpochTrace {
    /// `s_def = [D' ≥ avail]`.
    pub deficit_sign: bool,
    /// `u_def`.
    pub deficit_window: Fp,
    /// `deficit'`.
    pub deficit: Fp,
    /// `draw'`.
    pub draw: Fp,
    /// `fund'_after`.
    pub fund_after: Fp,
    /// `c = [10^4·S ≥ deficit']`.
    pub cover_sign: bool,
    /// `u_cov`.
    pub cover_window: Fp,
    /// `shortfall`.
    pub shortfall: bool,
    /// `u_min`.
    pub minimal_window: Fp,
}

/// The epoch's waterfall as integers: the inputs (`D`, `fund·f_q`, the sums, `h`,
/// `is_last`) and the prover's choices (`deficit_sign`, `deficit`, `cover_sign`),
/// from which [`EpochValues::trace`] derives the other cells as the gates relate
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochValues {
    /// Whether this is the last batch.
    pub is_last: bool,
    /// `D`, common units.
    pub bad_debt: I256,
    /// `insurance_fund·f_q`, common units.
    pub fund: I256,
    /// `F'`.
    pub fees: I256,
    /// `[S, S_lo]`.
    pub haircuts: [I256; 2],
    /// `h`.
    pub rate: I256,
    /// `z = [h = 0]` as the rate block holds it.
    pub zero: bool,
    /// `s_def`.
    pub deficit_sign: bool,
    /// `deficit'`.
    pub deficit: I256,
    /// `c`.
    pub cover_sign: bool,
}

impl EpochValues {
    /// The honest choices for these inputs.
    pub fn honest(
        is_last: bool,
        bad_debt: I256,
        fund: I256,
        fees: I256,
        haircuts: [I256; 2],
        rate: I256,
    ) -> Self {
        let mut v = Self {
            is_last,
            bad_debt,
            fund,
            fees,
            haircuts,
            rate,
            zero: rate == I256::ZERO,
            deficit_sign: false,
            deficit: I256::ZERO,
            cover_sign: false,
        };
        let excess = v.excess();
        v.deficit_sign = excess >= I256::ZERO;
        v.deficit = excess.max(I256::ZERO);
        v.cover_sign = native::covers(haircuts[0], v.deficit);
        v
    }

    /// `10^4·D − (10^4·fund + F')`.
    pub fn excess(&self) -> I256 {
        self.debt() - self.available()
    }

    fn debt(&self) -> I256 {
        I256::from(BPS_DENOMINATOR) * self.bad_debt
    }

    fn available(&self) -> I256 {
        I256::from(BPS_DENOMINATOR) * self.fund + self.fees
    }

    /// The epoch block's trace.
    pub fn trace(&self) -> EpochTrace {
        let shift = |sign: bool| {
            if sign {
                I256::ZERO
            } else {
                I256::ONE << EPOCH_BITS as u32
            }
        };
        let bps = I256::from(BPS_DENOMINATOR);
        let draw = self.debt() - self.deficit;
        let applies = self.is_last && !self.zero && self.cover_sign;
        let minimal = if applies {
            self.deficit - bps * self.haircuts[1] - I256::ONE
        } else {
            I256::ZERO
        };
        EpochTrace {
            deficit_sign: self.deficit_sign,
            deficit_window: field(self.excess() + shift(self.deficit_sign)),
            deficit: field(self.deficit),
            draw: field(draw),
            fund_after: field(self.available() - draw),
            cover_sign: self.cover_sign,
            cover_window: field(bps * self.haircuts[0] - self.deficit + shift(self.cover_sign)),
            shortfall: !self.cover_sign,
            minimal_window: field(minimal),
        }
    }
}

/// Cells an account's waterfall part copies in.
#[derive(Clone, Debug)]
pub struct AccountInputs {
    /// Per market, the size lane's `[r, s]`.
    pub lanes: Vec<[Cell; 2]>,
    /// Per market, `uf_m`.
    pub fee_units: Vec<Cell>,
    /// `[L_in, L_out]`, the margin chip's liabilities around the account:
    /// `max(TV, 0) = L_out − L_in`.
    pub liabilities: [Cell; 2],
    /// The margin slack's sign `s_ok` (1 = healthy).
    pub margin_sign: Cell,
    /// The rate block.
    pub rate: RateCells,
    /// `F'` so far.
    pub fees: Cell,
    /// `[S, S_lo]` so far.
    pub haircuts: [Cell; 2],
}

/// Cells an account's waterfall part hands on.
#[derive(Clone, Debug)]
pub struct AccountCells {
    /// `fee'`.
    pub fee: Cell,
    /// `base'`.
    pub base: Cell,
    /// `F'` after the account.
    pub fees: Cell,
    /// `[S, S_lo]` after the account.
    pub haircuts: [Cell; 2],
}

/// The rate block's cells.
#[derive(Clone, Debug)]
pub struct RateCells {
    /// `h`.
    pub rate: Cell,
    /// `h_lo`.
    pub rate_lo: Cell,
    /// `[h = 0]`.
    pub zero: Cell,
}

/// Cells the epoch block copies in.
#[derive(Clone, Debug)]
pub struct EpochInputs {
    /// `is_last`.
    pub is_last: Cell,
    /// `D`.
    pub bad_debt: Cell,
    /// `insurance_fund·f_q`.
    pub fund: Cell,
    /// `F'` of the epoch.
    pub fees: Cell,
    /// `[S, S_lo]` of the epoch.
    pub haircuts: [Cell; 2],
    /// The rate block.
    pub rate: RateCells,
    /// The published `[F', shortfall]` (the cells `O` absorbs).
    pub published: [Cell; 2],
}

/// The epoch block's output cells.
#[derive(Clone, Debug)]
pub struct EpochCells {
    /// `deficit'`.
    pub deficit: Cell,
    /// `draw'`.
    pub draw: Cell,
    /// `fund'_after`.
    pub fund_after: Cell,
    /// The shortfall flag.
    pub shortfall: Cell,
}

/// The waterfall chip.
#[derive(Clone, Debug)]
pub struct WaterfallChip {
    config: WaterfallConfig,
}

impl WaterfallChip {
    /// Constructs the chip.
    pub fn construct(config: WaterfallConfig) -> Self {
        Self { config }
    }

    /// Lays out the rate block of `h` (`t` is `None` for key generation) and
    /// range-checks `h` and `10^9 − h` in 30 bits.
    ///
    /// # Errors
    /// The layouter's and the range chip's errors.
    pub fn assign_rate(
        &self,
        layouter: &mut impl Layouter<Fp>,
        range: &mut RangeCheckChip,
        t: Option<&RateTrace>,
    ) -> Result<RateCells, Error> {
        let (cells, headroom) = layouter.assign_region(
            || "waterfall rate",
            |mut region| {
                use rate::*;
                let region = &mut region;
                let g = Grid(&self.config.advice);
                self.config.q_rate.enable(region, 0)?;
                let rate = g.put(region, 0, RATE, "h", known(t, |t| t.rate))?;
                let rate_lo = g.put(region, 0, RATE_LO, "h_lo", known(t, |t| t.rate_lo))?;
                let zero = g.put(region, 0, ZERO, "z", known(t, |t| bit(t.zero)))?;
                g.put(region, 0, INVERSE, "inv", known(t, |t| t.inverse))?;
                let headroom = g.put(region, 0, HEADROOM, "10^9 − h", known(t, |t| t.headroom))?;
                Ok((
                    RateCells {
                        rate,
                        rate_lo,
                        zero,
                    },
                    headroom,
                ))
            },
        )?;
        range.copy_check(layouter, "waterfall rate", &cells.rate, RATE_BITS)?;
        range.copy_check(layouter, "waterfall rate headroom", &headroom, RATE_BITS)?;
        Ok(cells)
    }

    /// Lays out the waterfall part of slot `index` (`t` is `None` for key
    /// generation) and its range checks.
    ///
    /// # Errors
    /// [`Error::Synthesis`] if the inputs' or the trace's market counts differ;
    /// the layouter's and the range chip's errors.
    pub fn assign_account(
        &self,
        layouter: &mut impl Layouter<Fp>,
        range: &mut RangeCheckChip,
        index: usize,
        t: Option<&AccountTrace>,
        inputs: &AccountInputs,
    ) -> Result<AccountCells, Error> {
        let markets = inputs.lanes.len();
        let pairs = markets.div_ceil(2);
        if markets == 0
            || inputs.fee_units.len() != markets
            || t.is_some_and(|t| t.notional.len() != pairs)
        {
            return Err(Error::Synthesis);
        }
        let rows = self.config.rows;
        let (cells, checks) = layouter.assign_region(
            || format!("waterfall slot {index}"),
            |mut region| {
                let region = &mut region;
                let g = Grid(&self.config.advice);
                for p in 0..pairs {
                    use notional::*;
                    let row = p * rows.notional;
                    if p == 0 {
                        self.config.q_notional_first.enable(region, row)?;
                    } else {
                        self.config.q_notional.enable(region, row)?;
                    }
                    for (k, [r, s, u]) in [
                        [MAGNITUDE_A, SIGN_A, FEE_UNIT_A],
                        [MAGNITUDE_B, SIGN_B, FEE_UNIT_B],
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        let m = 2 * p + k;
                        if m < markets {
                            g.copy(region, row, r, "r", &inputs.lanes[m][0])?;
                            g.copy(region, row, s, "s", &inputs.lanes[m][1])?;
                            g.copy(region, row, u, "uf", &inputs.fee_units[m])?;
                        } else {
                            // Past the last market: uf = 0 (a constant), so the
                            // half adds nothing whatever r and s hold.
                            g.put(region, row, r, "r", known(t, |_| Fp::ZERO))?;
                            g.put(region, row, s, "s", known(t, |_| Fp::ZERO))?;
                            let (row, column) = g.at(u);
                            region.assign_advice_from_constant(
                                || "uf = 0",
                                self.config.advice[column],
                                row + p * rows.notional,
                                Fp::ZERO,
                            )?;
                        }
                    }
                    g.put(region, row, NOTIONAL, "nf", known(t, |t| t.notional[p]))?;
                }

                use account::*;
                let base = pairs * rows.notional;
                self.config.q_account.enable(region, base)?;
                g.copy(region, base, LIABILITY, "L_in", &inputs.liabilities[0])?;
                g.copy(
                    region,
                    base,
                    LIABILITIES_OUT,
                    "L_out",
                    &inputs.liabilities[1],
                )?;
                g.copy(region, base, MARGIN_SIGN, "s_ok", &inputs.margin_sign)?;
                g.put(region, base, FEE_SIGN, "c_f", known(t, |t| bit(t.fee_sign)))?;
                let fee_window =
                    g.put(region, base, FEE_WINDOW, "u_f", known(t, |t| t.fee_window))?;
                let fee = g.put(region, base, FEE, "fee'", known(t, |t| t.fee))?;
                let base_cell = g.put(region, base, BASE, "base'", known(t, |t| t.base))?;
                g.copy(region, base, RATE, "h", &inputs.rate.rate)?;
                g.copy(region, base, RATE_LO, "h_lo", &inputs.rate.rate_lo)?;
                let mut checks = vec![("fee cap", fee_window, FEE_WINDOW_BITS)];
                for (i, (quotient, remainder, gap)) in [
                    (QUOTIENT, REMAINDER, REMAINDER_GAP),
                    (QUOTIENT_LO, REMAINDER_LO, REMAINDER_GAP_LO),
                ]
                .into_iter()
                .enumerate()
                {
                    let q = g.put(region, base, quotient, "q", known(t, |t| t.quotient[i]))?;
                    let r = g.put(region, base, remainder, "r", known(t, |t| t.remainder[i]))?;
                    let gap = g.put(region, base, gap, "g", known(t, |t| t.remainder_gap[i]))?;
                    checks.push((
                        if i == 0 {
                            "haircut at h"
                        } else {
                            "haircut at h_lo"
                        },
                        q,
                        HAIRCUT_BITS,
                    ));
                    checks.push((
                        if i == 0 {
                            "remainder at h"
                        } else {
                            "remainder at h_lo"
                        },
                        r,
                        REMAINDER_BITS,
                    ));
                    checks.push((
                        if i == 0 {
                            "remainder gap at h"
                        } else {
                            "remainder gap at h_lo"
                        },
                        gap,
                        REMAINDER_BITS,
                    ));
                }
                g.copy(region, base, FEES_IN, "F'_in", &inputs.fees)?;
                let fees = g.put(region, base, FEES_OUT, "F'_out", known(t, |t| t.fees_out))?;
                g.copy(region, base, HAIRCUTS_IN, "S_in", &inputs.haircuts[0])?;
                let s = g.put(
                    region,
                    base,
                    HAIRCUTS_OUT,
                    "S_out",
                    known(t, |t| t.haircuts_out[0]),
                )?;
                g.copy(region, base, HAIRCUTS_LO_IN, "S_lo_in", &inputs.haircuts[1])?;
                let s_lo = g.put(
                    region,
                    base,
                    HAIRCUTS_LO_OUT,
                    "S_lo_out",
                    known(t, |t| t.haircuts_out[1]),
                )?;
                Ok((
                    AccountCells {
                        fee,
                        base: base_cell,
                        fees,
                        haircuts: [s, s_lo],
                    },
                    checks,
                ))
            },
        )?;
        for (name, cell, bits) in checks {
            range.copy_check(
                layouter,
                &format!("waterfall slot {index} {name}"),
                &cell,
                bits,
            )?;
        }
        Ok(cells)
    }

    /// Lays out the epoch block (`t` is `None` for key generation) and its three
    /// 250-bit checks.
    ///
    /// # Errors
    /// The layouter's and the range chip's errors.
    pub fn assign_epoch(
        &self,
        layouter: &mut impl Layouter<Fp>,
        range: &mut RangeCheckChip,
        t: Option<&EpochTrace>,
        inputs: &EpochInputs,
    ) -> Result<EpochCells, Error> {
        let (cells, windows) = layouter.assign_region(
            || "waterfall epoch",
            |mut region| {
                use epoch::*;
                let region = &mut region;
                let g = Grid(&self.config.advice);
                self.config.q_epoch.enable(region, 0)?;
                g.copy(region, 0, IS_LAST, "is_last", &inputs.is_last)?;
                g.copy(region, 0, BAD_DEBT, "D", &inputs.bad_debt)?;
                g.copy(region, 0, FUND, "fund", &inputs.fund)?;
                g.copy(region, 0, FEES, "F'", &inputs.fees)?;
                g.copy(region, 0, HAIRCUTS, "S", &inputs.haircuts[0])?;
                g.copy(region, 0, HAIRCUTS_LO, "S_lo", &inputs.haircuts[1])?;
                g.copy(region, 0, RATE, "h", &inputs.rate.rate)?;
                g.copy(region, 0, ZERO, "z", &inputs.rate.zero)?;
                g.copy(region, 0, PUBLISHED_FEES, "F'_pub", &inputs.published[0])?;
                let published_shortfall = &inputs.published[1];
                g.copy(
                    region,
                    0,
                    PUBLISHED_SHORTFALL,
                    "shortfall_pub",
                    published_shortfall,
                )?;
                g.put(
                    region,
                    0,
                    DEFICIT_SIGN,
                    "s_def",
                    known(t, |t| bit(t.deficit_sign)),
                )?;
                let u_def = g.put(
                    region,
                    0,
                    DEFICIT_WINDOW,
                    "u_def",
                    known(t, |t| t.deficit_window),
                )?;
                let deficit = g.put(region, 0, DEFICIT, "deficit'", known(t, |t| t.deficit))?;
                let draw = g.put(region, 0, DRAW, "draw'", known(t, |t| t.draw))?;
                let fund_after = g.put(
                    region,
                    0,
                    FUND_AFTER,
                    "fund'_after",
                    known(t, |t| t.fund_after),
                )?;
                g.put(region, 0, COVER_SIGN, "c", known(t, |t| bit(t.cover_sign)))?;
                let u_cov = g.put(
                    region,
                    0,
                    COVER_WINDOW,
                    "u_cov",
                    known(t, |t| t.cover_window),
                )?;
                let shortfall = g.put(
                    region,
                    0,
                    SHORTFALL,
                    "shortfall",
                    known(t, |t| bit(t.shortfall)),
                )?;
                let u_min = g.put(
                    region,
                    0,
                    MINIMAL_WINDOW,
                    "u_min",
                    known(t, |t| t.minimal_window),
                )?;
                Ok((
                    EpochCells {
                        deficit,
                        draw,
                        fund_after,
                        shortfall,
                    },
                    [
                        ("waterfall deficit", u_def),
                        ("waterfall cover", u_cov),
                        ("waterfall minimal", u_min),
                    ],
                ))
            },
        )?;
        for (name, cell) in windows {
            range.copy_check(layouter, name, &cell, EPOCH_BITS)?;
        }
        Ok(cells)
    }
}

#[cfg(test)]
mod tests;
