//! The per-account chip: lanes, total value, maintenance requirement, the two
//! signs, liability, bad debt, the liquidation product, id order, the padding rules
//! and the leaf words (`docs/SPEC.md` §2.2, §5.2, §6.1–§6.3).
//!
//! Each account is one region over the margin grid's advice columns (`W` of them,
//! [`super::layout::Columns::margin`]): `M + 1` *lane blocks* (the balance, then one
//! per market) followed by one *account block*, each laid out row-major (cell `i`
//! of a block at row `i / W`, column `i % W` of the block; [`BlockRows`]). Every
//! gate queries cells at fixed rotations from its selector's row, so the same gates
//! serve every market count.
//!
//! The tables below show the risk model v1 grid, `W = 4`; the risk model v2
//! circuit's grid is 8 wide (a lane or bracket block is 1 row, the account block 3).
//!
//! # Lane block (8 cells, 2 rows at `W = 4`)
//!
//! | row | column 0 | column 1 | column 2 | column 3 |
//! | --- | --- | --- | --- | --- |
//! | 0 | `r`: magnitude part (63-bit check) | `s`: sign bit | `k`: `f_q` (balance) or `uv_m` (copy) | `q`: `ur_m` (copy); the id (copy) in the balance lane |
//! | 1 | `tv`: `TV` through this lane | `mr`: `MR'` through this lane | `w`: a leaf word, in the lane where it starts | `pad` (copy) |
//!
//! The lane's signed value is `v = r − (1 − s)·(2^63 − 1)` and its packed lane
//! `ℓ = v + 2^63 = r + 1 + s·(2^63 − 1)`; with `r ∈ [0, 2^63)` this is exactly
//! `v ∈ (−2^63, 2^63)`, i.e. `ℓ ∈ [1, 2^64)` (the symmetric sign gadget of
//! [`super::range`]). Gates on the first row of a lane block:
//!
//! - `balance lane` (lane 0): `s` boolean, `pad·v = 0`, `tv = v·k`, `mr = 0`;
//! - `market lane` (lanes `1..=M`): `s` boolean, `pad·v = 0`,
//!   `tv = tv_prev + v·k`, `mr = mr_prev + (2s − 1)·v·q` (`|size|·ur`), where
//!   `tv_prev`, `mr_prev` are the previous lane block's;
//! - `leaf word 0` (lane 0): `w = id + 2^64·ℓ_0 + 2^128·ℓ_1 + 2^192·pad`;
//! - `leaf word (n lanes)` for `n = 3, 2, 1` (the lane where word `k ≥ 1` starts,
//!   lane `3k − 1`): `w = ℓ_j + 2^64·ℓ_{j+1} + 2^128·ℓ_{j+2}`, missing lanes 0.
//!
//! # Account block (19 cells, 5 rows at `W = 4`)
//!
//! | row | column 0 | column 1 | column 2 | column 3 |
//! | --- | --- | --- | --- | --- |
//! | 0 | `id` | `pad` | `salt` | `prev_pad` (copy) |
//! | 1 | `next_id_in` (copy) | `next_id_out` | `gap` (64-bit check) | `may_pad` (copy) |
//! | 2 | `L_in` (copy) | `L_out` | `D_in` (copy) | `D_out` |
//! | 3 | `P_in` (copy) | `P_out` | `z` (copy) | `s_tv` |
//! | 4 | `u_tv` (`tv_bits` check) | `s_ok` | `u_sl` (`slack_bits` check) | |
//!
//! The fixed columns `shift_0` and `shift_1` hold `2^tv_bits` and `2^slack_bits`
//! on row 0 (halo2 0.4 queries fixed columns on the current row only).
//!
//! The gate `account`, on row 0, reads `TV` and `MR'` from the last lane block
//! (rotation −1) and enforces, with `real = 1 − pad`:
//!
//! | constraint | relation | SPEC |
//! | --- | --- | --- |
//! | `pad is boolean` | `pad·(1 − pad) = 0` | §6.1 |
//! | `padding only in the last batch, after slot 0` | `pad·(1 − may_pad) = 0`, `may_pad` the batch's `is_last` but the constant 0 in slot 0 (so `N ≥ 1`) | §6.1 |
//! | `no real slot after padding` | `prev_pad·(1 − pad) = 0` | §6.1 |
//! | `padding id is 0` | `pad·id = 0` | §6.1 |
//! | `id gap` | `gap = real·(id − next_id_in)` (checked in `[0, 2^64)`) | §6.3 (2) |
//! | `next id` | `next_id_out = next_id_in + real·(id + 1 − next_id_in)` | §6.2 |
//! | `TV sign is boolean`, `TV sign window` | `u_tv = TV + (1 − s_tv)·2^tv_bits` | §2.2 |
//! | `slack sign is boolean`, `slack sign window` | `u_sl = 10000·TV − MR' + (1 − s_ok)·2^slack_bits` | §2.2 |
//! | `liabilities` | `L_out = L_in + s_tv·TV` | §2.2, §6.2 |
//! | `bad debt` | `D_out = D_in + s_tv·TV − TV` | §2.2, §6.2 |
//! | `liquidation product` | `P_out = P_in·(1 + (1 − s_ok)·(z − id − 1))` | §6.2 |
//!
//! # Worked example
//!
//! One market with `uv = 3`, `ur = 3·500`, `f_q = 1`; an account with balance −10
//! and size +2 (`M = 1`, 2 lane blocks then the account block):
//!
//! | lane | `r` | `s` | `v` | `k` | `q` | `tv` | `mr` |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | balance | `2^63 − 11` | 0 | −10 | 1 | id | −10 | 0 |
//! | market 0 | 2 | 1 | 2 | 3 | 1500 | −4 | 3000 |
//!
//! so `TV = −4`, `s_tv = 0`, `u_tv = 2^tv_bits − 4`; the slack
//! `10000·(−4) − 3000 = −43000` gives `s_ok = 0` (liquidatable); `L` is unchanged,
//! `D` grows by 4 and `P` is multiplied by `z − id`. Word 0 is
//! `id + 2^64·(2^63 − 10) + 2^128·(2^63 + 2)`.
//!
//! # Risk model v2 (`docs/SPEC.md` §8.1)
//!
//! The risk model v2 circuit (a shape with `T > 1` brackets or `A > 0` assets)
//! has these gates too, after the others, and its region is, top to bottom (rows
//! at `W = 8`):
//!
//! | blocks | rows each | gate |
//! | --- | --- | --- |
//! | `M·(T − 1)` bracket blocks, market by market: `r`, `s` (copies of the size lane's), `b_t`, `u_t` (64-bit check), `s_t`, `δur_t`, `δcum_t` (copies), `acc` | 1 (as many as a lane block) | `first bracket`, then `bracket`: `b` boolean, `u = b·(|size| − s_t) + (1 − b)·(s_t − 1 − |size|)`, `acc = acc_prev + b·(|size|·δur_t − δcum_t)` |
//! | the balance lane | 1 | `balance lane (brackets)`: `MR'` starts at the last block's `acc` (`balance lane` without brackets) |
//! | `M` market lanes, then `A` asset lanes (`k = uv_c`, `q = lv_c`) | 1 | `market lane`; `asset lane`: `TV += v·uv_c`, `MR' += s·v·lv_c` |
//! | the account block | 3 | `account`, unchanged |
//! | `A` holding blocks: `h_in` (copy), `h_out`, `r`, `s` (copies of the asset lane's) | 1 | `asset held`: `h_out = h_in + s·v` |
//!
//! So `MR'` through the last lane is the tiered requirement plus the held amounts'
//! haircuts, and the account gate's slack `10000·TV − MR'` is `MV' − MR'`.
//!
//! Per risk model v1 account this is `(M + 1)·2 + 5` rows (23 at `M = 8`),
//! placed beside the Poseidon and range-check columns; the range checks of `r`
//! (`M + 1` of 63 bits), `gap` (64), `u_tv` and `u_sl` are copies into
//! [`super::range::RangeCheckChip`] regions.

use super::layout::{Columns, Grid, grid_rows, query_grid};
use super::poseidon::Cell;
use super::range::{bit, pow2};
use super::trace::{AccountTrace, lane_shift};
use crate::bounds::BPS_DENOMINATOR;
use crate::native::commit::PADDING_FLAG_BIT;
use ff::Field;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Constraints, Error, Expression, Fixed, Selector,
};
use pasta_curves::pallas::Base as Fp;

/// Cells of a lane block, in layout order.
pub mod lane {
    /// `r`, the range-checked magnitude part.
    pub const MAGNITUDE: usize = 0;
    /// `s`, the sign bit.
    pub const SIGN: usize = 1;
    /// `f_q` or `uv_m`.
    pub const FACTOR: usize = 2;
    /// `ur_m`; in the balance lane, the account id.
    pub const REQUIREMENT: usize = 3;
    /// `TV` through this lane.
    pub const TV: usize = 4;
    /// `MR'` through this lane.
    pub const MR: usize = 5;
    /// A leaf word starting at this lane.
    pub const WORD: usize = 6;
    /// The account's padding flag.
    pub const PAD: usize = 7;
    /// Cells per lane block.
    pub const CELLS: usize = 8;
}

/// Cells of the account block, in layout order.
pub mod account {
    #![allow(missing_docs)]
    pub const ID: usize = 0;
    pub const PAD: usize = 1;
    pub const SALT: usize = 2;
    pub const PREV_PAD: usize = 3;
    pub const NEXT_ID_IN: usize = 4;
    pub const NEXT_ID_OUT: usize = 5;
    pub const GAP: usize = 6;
    pub const MAY_PAD: usize = 7;
    pub const LIABILITIES_IN: usize = 8;
    pub const LIABILITIES_OUT: usize = 9;
    pub const BAD_DEBT_IN: usize = 10;
    pub const BAD_DEBT_OUT: usize = 11;
    pub const PRODUCT_IN: usize = 12;
    pub const PRODUCT_OUT: usize = 13;
    pub const CHALLENGE: usize = 14;
    pub const TV_SIGN: usize = 15;
    pub const TV_WINDOW: usize = 16;
    pub const SLACK_SIGN: usize = 17;
    pub const SLACK_WINDOW: usize = 18;
    /// Cells of the account block.
    pub const CELLS: usize = 19;
}

/// Cells of a bracket block (risk model v2), in layout order.
pub mod bracket {
    /// `r` of the market's lane (copy).
    pub const MAGNITUDE: usize = 0;
    /// `s` of the market's lane (copy).
    pub const SIGN: usize = 1;
    /// `b_t = [|size| ≥ s_t]`.
    pub const BIT: usize = 2;
    /// `u_t`, the window that proves `b_t` (64-bit check).
    pub const WINDOW: usize = 3;
    /// `s_t` (copy).
    pub const THRESHOLD: usize = 4;
    /// `δur_t` (copy).
    pub const RATE_STEP: usize = 5;
    /// `δcum_t` (copy).
    pub const AMOUNT_STEP: usize = 6;
    /// The brackets' part of `MR'` through this block.
    pub const ACC: usize = 7;
    /// Cells per bracket block.
    pub const CELLS: usize = 8;
}

/// Cells of a holding block (risk model v2), in layout order.
pub mod holding {
    /// `h_c` before the account (copy).
    pub const HELD_IN: usize = 0;
    /// `h_c` after it.
    pub const HELD_OUT: usize = 1;
    /// `r` of the asset's lane (copy).
    pub const MAGNITUDE: usize = 2;
    /// `s` of the asset's lane (copy).
    pub const SIGN: usize = 3;
    /// Cells per holding block.
    pub const CELLS: usize = 4;
}

/// The rows each block takes on a grid of a given width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRows {
    /// A lane block.
    pub lane: usize,
    /// The account block.
    pub account: usize,
    /// A bracket block (risk model v2): as many as a lane block's, so that the
    /// balance lane reads the last one at the same rotation as a lane reads the
    /// previous lane.
    pub bracket: usize,
    /// A holding block (risk model v2).
    pub holding: usize,
}

impl BlockRows {
    /// The blocks' rows on a grid `width` columns wide.
    pub const fn of(width: usize) -> Self {
        Self {
            lane: grid_rows(width, lane::CELLS),
            account: grid_rows(width, account::CELLS),
            bracket: grid_rows(width, bracket::CELLS),
            holding: grid_rows(width, holding::CELLS),
        }
    }

    /// Rows of one account's region with `markets` markets, `brackets` brackets
    /// per market and `assets` collateral assets.
    pub const fn account_region(self, markets: usize, brackets: usize, assets: usize) -> usize {
        markets * (brackets - 1) * self.bracket
            + (markets + assets + 1) * self.lane
            + self.account
            + assets * self.holding
    }
}

// Both configurations' grids keep a bracket block as tall as a lane block.
const _: () = assert!(
    BlockRows::of(Columns::RISK_V1.margin).bracket == BlockRows::of(Columns::RISK_V1.margin).lane
);
const _: () = assert!(
    BlockRows::of(Columns::RISK_V2.margin).bracket == BlockRows::of(Columns::RISK_V2.margin).lane
);

/// Configuration of the margin chip.
#[derive(Clone, Debug)]
pub struct MarginConfig {
    advice: Vec<Column<Advice>>,
    rows: BlockRows,
    shifts: [Column<Fixed>; 2],
    q_balance: Selector,
    q_market: Selector,
    q_word0: Selector,
    /// `q_word[n − 1]`: a word of `n` lanes.
    q_word: [Selector; 3],
    q_account: Selector,
    /// The risk model v2 gates' selectors (`None` in the risk model v1 circuit,
    /// which has none of those gates).
    v2: Option<RiskV2Selectors>,
}

/// Risk model v2: the balance lane after bracket blocks, the first and later
/// bracket blocks, asset lanes and holding blocks.
#[derive(Clone, Copy, Debug)]
struct RiskV2Selectors {
    q_balance_brackets: Selector,
    q_bracket_first: Selector,
    q_bracket: Selector,
    q_asset: Selector,
    q_held: Selector,
}

/// `v = r − (1 − s)·(2^63 − 1)`, a lane's signed value from its cells.
pub(crate) fn signed_value(r: Expression<Fp>, s: Expression<Fp>) -> Expression<Fp> {
    r - (Expression::Constant(Fp::ONE) - s) * Expression::Constant(lane_shift())
}

/// `ℓ = r + 1 + s·(2^63 − 1)` of the lane block starting `base` rows away.
fn packed_lane(
    meta: &mut halo2_proofs::plonk::VirtualCells<'_, Fp>,
    advice: &[Column<Advice>],
    base: i32,
) -> Expression<Fp> {
    let r = query_grid(meta, advice, base, lane::MAGNITUDE);
    let s = query_grid(meta, advice, base, lane::SIGN);
    r + Expression::Constant(Fp::ONE) + s * Expression::Constant(lane_shift())
}

impl MarginConfig {
    /// Configures the gates of the module docs on the grid `advice` (equality
    /// enabled) and the fixed columns `shifts` (halo2 queries fixed columns on the
    /// current row only, so the two shifts sit side by side); the risk model v2
    /// gates only if `risk_model_v2`, after the others (so that the risk model v1
    /// circuit is exactly the circuit that predates risk model v2).
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        advice: &[Column<Advice>],
        shifts: [Column<Fixed>; 2],
        risk_model_v2: bool,
    ) -> Self {
        for column in advice {
            meta.enable_equality(*column);
        }
        let rows = BlockRows::of(advice.len());
        let mut config = Self {
            advice: advice.to_vec(),
            rows,
            shifts,
            q_balance: meta.selector(),
            q_market: meta.selector(),
            q_word0: meta.selector(),
            q_word: [meta.selector(), meta.selector(), meta.selector()],
            q_account: meta.selector(),
            v2: None,
        };
        let v2 = risk_model_v2.then(|| RiskV2Selectors {
            q_balance_brackets: meta.selector(),
            q_bracket_first: meta.selector(),
            q_bracket: meta.selector(),
            q_asset: meta.selector(),
            q_held: meta.selector(),
        });
        let one = || Expression::Constant(Fp::ONE);
        let lane_rows = rows.lane as i32;
        let advice = &config.advice.clone();

        // SPEC §5.2, §2.2: the balance lane; under risk model v2 with brackets,
        // MR' starts at the bracket blocks' part (the last block, one block up).
        let balance_lanes = [("balance lane", config.q_balance, false)]
            .into_iter()
            .chain(v2.map(|v2| ("balance lane (brackets)", v2.q_balance_brackets, true)));
        for (name, selector, after_brackets) in balance_lanes {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(selector);
                let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
                let (r, s, k) = (
                    c(meta, lane::MAGNITUDE),
                    c(meta, lane::SIGN),
                    c(meta, lane::FACTOR),
                );
                let (tv, mr, pad) = (c(meta, lane::TV), c(meta, lane::MR), c(meta, lane::PAD));
                let v = signed_value(r, s.clone());
                let mr_start = if after_brackets {
                    let acc = query_grid(meta, advice, -lane_rows, bracket::ACC);
                    ("MR' starts at the brackets' part", mr - acc)
                } else {
                    ("MR' starts at 0", mr)
                };
                Constraints::with_selector(
                    q,
                    [
                        ("sign is boolean", s.clone() * (one() - s)),
                        // SPEC §6.1: a padding slot's balance is 0 (lane 2^63).
                        ("padding lane holds 2^63", pad * v.clone()),
                        // SPEC §2.2: TV = balance·f_q + …
                        ("TV starts with the balance", tv - v * k),
                        mr_start,
                    ],
                )
            });
        }

        // SPEC §2.2 (risk model v2), §8.1: one bracket t ≥ 1 of one market. With
        // |size| = (2s − 1)·v of the market's lane, b = [|size| ≥ s_t] is proven
        // by u = b·(|size| − s_t) + (1 − b)·(s_t − 1 − |size|) ∈ [0, 2^64), and
        // the brackets add b·(|size|·δur_t − δcum_t) to MR'.
        let brackets = v2.iter().flat_map(|v2| {
            [
                ("first bracket", v2.q_bracket_first, true),
                ("bracket", v2.q_bracket, false),
            ]
        });
        for (name, selector, first) in brackets {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(selector);
                let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
                let (r, s, b) = (
                    c(meta, bracket::MAGNITUDE),
                    c(meta, bracket::SIGN),
                    c(meta, bracket::BIT),
                );
                let (u, threshold) = (c(meta, bracket::WINDOW), c(meta, bracket::THRESHOLD));
                let (rate, amount, acc) = (
                    c(meta, bracket::RATE_STEP),
                    c(meta, bracket::AMOUNT_STEP),
                    c(meta, bracket::ACC),
                );
                let previous = if first {
                    Expression::Constant(Fp::ZERO)
                } else {
                    query_grid(meta, advice, -lane_rows, bracket::ACC)
                };
                let v = signed_value(r, s.clone());
                let magnitude = (s * Expression::Constant(Fp::from(2)) - one()) * v;
                let reached = magnitude.clone() - threshold.clone();
                let below = threshold - one() - magnitude.clone();
                Constraints::with_selector(
                    q,
                    [
                        ("bracket bit is boolean", b.clone() * (one() - b.clone())),
                        (
                            "bracket window",
                            u - b.clone() * reached - (one() - b.clone()) * below,
                        ),
                        (
                            "MR' bracket step",
                            acc - previous - b * (magnitude * rate - amount),
                        ),
                    ],
                )
            });
        }

        // SPEC §6.2 (risk model v2): h_c ← h_c + max(amount_c, 0) = h_c + s·v.
        if let Some(v2) = v2 {
            meta.create_gate("asset held", |meta| {
                let q = meta.query_selector(v2.q_held);
                let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
                let (h_in, h_out) = (c(meta, holding::HELD_IN), c(meta, holding::HELD_OUT));
                let (r, s) = (c(meta, holding::MAGNITUDE), c(meta, holding::SIGN));
                let v = signed_value(r, s.clone());
                Constraints::with_selector(q, [("held total", h_out - h_in - s * v)])
            });
        }

        // SPEC §5.2, §2.2: a market lane (TV += size·uv_m, MR' += |size|·ur_m) or,
        // under risk model v2, an asset lane (TV += amount·uv_c at full value,
        // MR' += s·amount·lv_c: the haircut a held amount, s = 1, loses from MV'; a
        // debt, s = 0, counts in full), so that 10000·TV − MR' is MV' − MR'.
        let lanes = [("market lane", config.q_market, false)]
            .into_iter()
            .chain(v2.map(|v2| ("asset lane", v2.q_asset, true)));
        for (name, selector, asset) in lanes {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(selector);
                let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
                let (r, s, k) = (
                    c(meta, lane::MAGNITUDE),
                    c(meta, lane::SIGN),
                    c(meta, lane::FACTOR),
                );
                let (q_factor, tv, mr) = (
                    c(meta, lane::REQUIREMENT),
                    c(meta, lane::TV),
                    c(meta, lane::MR),
                );
                let pad = c(meta, lane::PAD);
                let tv_prev = query_grid(meta, advice, -lane_rows, lane::TV);
                let mr_prev = query_grid(meta, advice, -lane_rows, lane::MR);
                let v = signed_value(r, s.clone());
                let (mr_name, mr_term) = if asset {
                    ("haircut accumulates", s.clone() * v.clone() * q_factor)
                } else {
                    // |size| = (2s − 1)·size, exact for every v ∈ (−2^63, 2^63).
                    let magnitude =
                        (s.clone() * Expression::Constant(Fp::from(2)) - one()) * v.clone();
                    ("MR' accumulates", magnitude * q_factor)
                };
                Constraints::with_selector(
                    q,
                    [
                        ("sign is boolean", s.clone() * (one() - s)),
                        // SPEC §6.1: a padding slot's sizes and amounts are 0.
                        ("padding lane holds 2^63", pad * v.clone()),
                        ("TV accumulates", tv - tv_prev - v * k),
                        (mr_name, mr - mr_prev - mr_term),
                    ],
                )
            });
        }

        // SPEC §5.2: word 0 = id + 2^64·ℓ_bal + 2^128·ℓ_0 + 2^192·pad.
        meta.create_gate("leaf word 0", |meta| {
            let q = meta.query_selector(config.q_word0);
            let w = query_grid(meta, advice, 0, lane::WORD);
            let id = query_grid(meta, advice, 0, lane::REQUIREMENT);
            let pad = query_grid(meta, advice, 0, lane::PAD);
            let l0 = packed_lane(meta, advice, 0);
            let l1 = packed_lane(meta, advice, lane_rows);
            let packed = id
                + l0 * Expression::Constant(pow2(64))
                + l1 * Expression::Constant(pow2(128))
                + pad * Expression::Constant(pow2(PADDING_FLAG_BIT as usize));
            Constraints::with_selector(q, [("word 0", w - packed)])
        });

        // SPEC §5.2: word k ≥ 1 packs the lanes 3k − 1 … 3k + 1 that exist.
        for (n, name) in [
            (1, "leaf word (1 lane)"),
            (2, "leaf word (2 lanes)"),
            (3, "leaf word (3 lanes)"),
        ] {
            meta.create_gate(name, |meta| {
                let q = meta.query_selector(config.q_word[n - 1]);
                let w = query_grid(meta, advice, 0, lane::WORD);
                let packed = (0..n).fold(Expression::Constant(Fp::ZERO), |acc, i| {
                    acc + packed_lane(meta, advice, i as i32 * lane_rows)
                        * Expression::Constant(pow2(64 * i))
                });
                Constraints::with_selector(q, [("word", w - packed)])
            });
        }

        // SPEC §2.2, §6.1–§6.3: the account.
        meta.create_gate("account", |meta| {
            use account::*;
            let q = meta.query_selector(config.q_account);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (id, pad, prev_pad) = (c(meta, ID), c(meta, PAD), c(meta, PREV_PAD));
            let (next_in, next_out, gap) =
                (c(meta, NEXT_ID_IN), c(meta, NEXT_ID_OUT), c(meta, GAP));
            let may_pad = c(meta, MAY_PAD);
            let (l_in, l_out) = (c(meta, LIABILITIES_IN), c(meta, LIABILITIES_OUT));
            let (d_in, d_out) = (c(meta, BAD_DEBT_IN), c(meta, BAD_DEBT_OUT));
            let (p_in, p_out, z) = (
                c(meta, PRODUCT_IN),
                c(meta, PRODUCT_OUT),
                c(meta, CHALLENGE),
            );
            let (s_tv, u_tv) = (c(meta, TV_SIGN), c(meta, TV_WINDOW));
            let (s_ok, u_sl) = (c(meta, SLACK_SIGN), c(meta, SLACK_WINDOW));
            let tv = query_grid(meta, advice, -lane_rows, lane::TV);
            let mr = query_grid(meta, advice, -lane_rows, lane::MR);
            let tv_shift = meta.query_fixed(shifts[0]);
            let slack_shift = meta.query_fixed(shifts[1]);
            let real = one() - pad.clone();
            let slack = tv.clone() * Expression::Constant(Fp::from(BPS_DENOMINATOR)) - mr;
            let liability = s_tv.clone() * tv.clone();
            let liquidatable = one() - s_ok.clone();
            Constraints::with_selector(
                q,
                [
                    ("pad is boolean", pad.clone() * (one() - pad.clone())),
                    // SPEC §6.1: padding only in the last batch, never before a real slot.
                    // Slot 0 is never padding (its `may_pad` is the constant 0): the
                    // last batch holds a real account, so N ≥ 1.
                    (
                        "padding only in the last batch, after slot 0",
                        pad.clone() * (one() - may_pad),
                    ),
                    ("no real slot after padding", prev_pad * real.clone()),
                    ("padding id is 0", pad * id.clone()),
                    // SPEC §6.3 (2): real ids strictly increase (gap checked in [0, 2^64)).
                    (
                        "id gap",
                        gap - real.clone() * (id.clone() - next_in.clone()),
                    ),
                    (
                        "next id",
                        next_out - next_in.clone() - real * (id.clone() + one() - next_in),
                    ),
                    // SPEC §2.2, §3: the sign of TV, u_tv checked in [0, 2^tv_bits).
                    ("TV sign is boolean", s_tv.clone() * (one() - s_tv.clone())),
                    (
                        "TV sign window",
                        u_tv - tv.clone() - (one() - s_tv.clone()) * tv_shift,
                    ),
                    // SPEC §2.2: liquidatable ⇔ 10000·TV − MR' < 0.
                    (
                        "slack sign is boolean",
                        s_ok.clone() * (one() - s_ok.clone()),
                    ),
                    (
                        "slack sign window",
                        u_sl - slack - liquidatable.clone() * slack_shift,
                    ),
                    // SPEC §2.2: liability max(TV, 0), bad debt max(−TV, 0).
                    ("liabilities", l_out - l_in - liability.clone()),
                    ("bad debt", d_out - d_in - liability + tv),
                    // SPEC §6.2: P ← P·(1 + liq·(z − id − 1)).
                    (
                        "liquidation product",
                        p_out - p_in * (one() + liquidatable * (z - id - one())),
                    ),
                ],
            )
        });
        config.v2 = v2;
        config
    }
}

/// Cells an account region copies in.
#[derive(Debug, Clone)]
pub struct AccountInputs {
    /// The running state before this account (`docs/SPEC.md` §6.2).
    pub next_id: Cell,
    /// `L` so far.
    pub liabilities: Cell,
    /// `D` so far.
    pub bad_debt: Cell,
    /// `P` so far.
    pub product: Cell,
    /// The previous slot's padding flag (a constant 0 before the first slot).
    pub prev_pad: Cell,
    /// Whether this slot may be padding: the batch's `is_last`, but a constant 0
    /// in slot 0 (`docs/SPEC.md` §6.1: the last batch holds a real account).
    pub may_pad: Cell,
    /// The challenge `z`.
    pub challenge: Cell,
    /// `f_q`.
    pub quote_scale: Cell,
    /// `uv_m` per market.
    pub unit_value: Vec<Cell>,
    /// `ur_m` per market.
    pub unit_requirement: Vec<Cell>,
    /// Risk model v2: per market, per bracket after the first, `[s_t, δur_t,
    /// δcum_t]` (empty lists for `T = 1`).
    pub brackets: Vec<Vec<[Cell; 3]>>,
    /// Risk model v2: per asset `[uv_c, lv_c]`.
    pub assets: Vec<[Cell; 2]>,
    /// Risk model v2: per asset, `h_c` before this account.
    pub held: Vec<Cell>,
    /// `2^tv_bits`.
    pub tv_shift: Fp,
    /// `2^slack_bits`.
    pub slack_shift: Fp,
}

/// Cells an account region hands on.
#[derive(Debug, Clone)]
pub struct AccountCells {
    /// The padding flag.
    pub pad: Cell,
    /// The salt (first input of the leaf hash).
    pub salt: Cell,
    /// The leaf words.
    pub words: Vec<Cell>,
    /// Per lane (balance, sizes, amounts), `r` (63-bit checks).
    pub magnitudes: Vec<Cell>,
    /// Per lane, its sign bit `s`.
    pub signs: Vec<Cell>,
    /// The margin slack's sign `s_ok` (1 = healthy).
    pub slack_sign: Cell,
    /// Per market and bracket after the first, `u_t` (64-bit checks).
    pub bracket_windows: Vec<Cell>,
    /// Per asset, `h_c` after this account.
    pub held: Vec<Cell>,
    /// `real·(id − next_id)` (64-bit check).
    pub gap: Cell,
    /// `u_tv` (`tv_bits` check).
    pub tv_window: Cell,
    /// `u_sl` (`slack_bits` check).
    pub slack_window: Cell,
    /// The running state after this account.
    pub next_id: Cell,
    /// `L` after this account.
    pub liabilities: Cell,
    /// `D` after this account.
    pub bad_debt: Cell,
    /// `P` after this account.
    pub product: Cell,
}

/// A known value, or unknown without a witness.
pub(crate) fn known<T>(t: Option<&T>, f: impl FnOnce(&T) -> Fp) -> Value<Fp> {
    t.map_or_else(Value::unknown, |t| Value::known(f(t)))
}

/// The margin chip.
#[derive(Debug, Clone)]
pub struct MarginChip {
    config: MarginConfig,
}

impl MarginChip {
    /// Constructs the chip.
    pub fn construct(config: MarginConfig) -> Self {
        Self { config }
    }

    /// Lays out slot `index` of a batch; `t` is its trace (`None` for key
    /// generation). The region holds, top to bottom: the bracket blocks (risk
    /// model v2, `M·(T − 1)` of them, market by market), the lane blocks (balance,
    /// sizes, amounts), the account block and the holding blocks (one per asset).
    ///
    /// # Errors
    /// [`Error::Synthesis`] if the inputs or the trace do not fit the inputs'
    /// market, bracket and asset counts; the layouter's errors.
    pub(crate) fn assign_account(
        &self,
        layouter: &mut impl Layouter<Fp>,
        index: usize,
        t: Option<&AccountTrace>,
        inputs: &AccountInputs,
    ) -> Result<AccountCells, Error> {
        let markets = inputs.unit_value.len();
        let steps = inputs.brackets.first().map_or(0, Vec::len);
        let assets = inputs.assets.len();
        if inputs.unit_requirement.len() != markets
            || inputs.brackets.len() != markets
            || inputs.brackets.iter().any(|b| b.len() != steps)
            || inputs.held.len() != assets
        {
            return Err(Error::Synthesis);
        }
        // The risk model v1 circuit has no bracket or asset gates: such an account
        // does not fit it.
        let v2 = self.config.v2;
        if v2.is_none() && (steps > 0 || assets > 0) {
            return Err(Error::Synthesis);
        }
        let v2 = || v2.ok_or(Error::Synthesis);
        let lanes = markets + assets + 1;
        let words = (lanes + 1).div_ceil(3);
        if t.is_some_and(|t| {
            t.lanes.len() != lanes
                || t.words.len() != words
                || t.brackets.len() != markets * steps
                || t.held.len() != assets
        }) {
            return Err(Error::Synthesis);
        }
        layouter.assign_region(
            || format!("account {index}"),
            |mut region| {
                use account::*;
                let region = &mut region;
                let g = Grid(&self.config.advice);
                let rows = self.config.rows;
                let first_lane = markets * steps * rows.bracket;
                let base = first_lane + lanes * rows.lane;
                self.config.q_account.enable(region, base)?;
                region.assign_fixed(
                    || "2^tv_bits",
                    self.config.shifts[0],
                    base,
                    || Value::known(inputs.tv_shift),
                )?;
                region.assign_fixed(
                    || "2^slack_bits",
                    self.config.shifts[1],
                    base,
                    || Value::known(inputs.slack_shift),
                )?;
                let id = g.put(region, base, ID, "id", known(t, |t| t.id))?;
                let pad = g.put(region, base, PAD, "pad", known(t, |t| bit(t.pad)))?;
                let salt = g.put(region, base, SALT, "salt", known(t, |t| t.salt))?;
                g.copy(region, base, PREV_PAD, "prev_pad", &inputs.prev_pad)?;
                g.copy(region, base, NEXT_ID_IN, "next_id_in", &inputs.next_id)?;
                let next_id = g.put(
                    region,
                    base,
                    NEXT_ID_OUT,
                    "next_id_out",
                    known(t, |t| t.next_id_out),
                )?;
                let gap = g.put(region, base, GAP, "gap", known(t, |t| t.gap))?;
                g.copy(region, base, MAY_PAD, "may_pad", &inputs.may_pad)?;
                g.copy(region, base, LIABILITIES_IN, "L_in", &inputs.liabilities)?;
                let liabilities = g.put(
                    region,
                    base,
                    LIABILITIES_OUT,
                    "L_out",
                    known(t, |t| t.liabilities_out),
                )?;
                g.copy(region, base, BAD_DEBT_IN, "D_in", &inputs.bad_debt)?;
                let bad_debt = g.put(
                    region,
                    base,
                    BAD_DEBT_OUT,
                    "D_out",
                    known(t, |t| t.bad_debt_out),
                )?;
                g.copy(region, base, PRODUCT_IN, "P_in", &inputs.product)?;
                let product = g.put(
                    region,
                    base,
                    PRODUCT_OUT,
                    "P_out",
                    known(t, |t| t.product_out),
                )?;
                g.copy(region, base, CHALLENGE, "z", &inputs.challenge)?;
                g.put(region, base, TV_SIGN, "s_tv", known(t, |t| bit(t.tv_sign)))?;
                let tv_window =
                    g.put(region, base, TV_WINDOW, "u_tv", known(t, |t| t.tv_window))?;
                let slack_sign = g.put(
                    region,
                    base,
                    SLACK_SIGN,
                    "s_ok",
                    known(t, |t| bit(t.slack_sign)),
                )?;
                let slack_window = g.put(
                    region,
                    base,
                    SLACK_WINDOW,
                    "u_sl",
                    known(t, |t| t.slack_window),
                )?;

                let mut magnitudes = Vec::with_capacity(lanes);
                let mut signs = Vec::with_capacity(lanes);
                let mut word_cells = Vec::with_capacity(words);
                for j in 0..lanes {
                    let row = first_lane + j * rows.lane;
                    let l = t.map(|t| &t.lanes[j]);
                    if j == 0 {
                        if steps > 0 {
                            v2()?.q_balance_brackets.enable(region, row)?;
                        } else {
                            self.config.q_balance.enable(region, row)?;
                        }
                        g.copy(region, row, lane::FACTOR, "f_q", &inputs.quote_scale)?;
                        g.copy(region, row, lane::REQUIREMENT, "id", &id)?;
                    } else if j <= markets {
                        self.config.q_market.enable(region, row)?;
                        g.copy(region, row, lane::FACTOR, "uv", &inputs.unit_value[j - 1])?;
                        g.copy(
                            region,
                            row,
                            lane::REQUIREMENT,
                            "ur",
                            &inputs.unit_requirement[j - 1],
                        )?;
                    } else {
                        let [uv, lv] = &inputs.assets[j - markets - 1];
                        v2()?.q_asset.enable(region, row)?;
                        g.copy(region, row, lane::FACTOR, "uv_c", uv)?;
                        g.copy(region, row, lane::REQUIREMENT, "lv_c", lv)?;
                    }
                    magnitudes.push(g.put(
                        region,
                        row,
                        lane::MAGNITUDE,
                        "r",
                        known(l, |l| l.magnitude),
                    )?);
                    signs.push(g.put(region, row, lane::SIGN, "s", known(l, |l| bit(l.sign)))?);
                    g.put(region, row, lane::TV, "tv", known(l, |l| l.tv))?;
                    g.put(region, row, lane::MR, "mr", known(l, |l| l.mr))?;
                    g.copy(region, row, lane::PAD, "pad", &pad)?;
                    // Word k starts at lane 0 (k = 0) or lane 3k − 1.
                    if j == 0 || j % 3 == 2 {
                        let k = (j + 1) / 3;
                        if j == 0 {
                            self.config.q_word0.enable(region, row)?;
                        } else {
                            let n = (lanes - j).min(3);
                            self.config.q_word[n - 1].enable(region, row)?;
                        }
                        word_cells.push(g.put(
                            region,
                            row,
                            lane::WORD,
                            "word",
                            known(t, |t| t.words[k]),
                        )?);
                    }
                }

                // Risk model v2: the bracket blocks, market by market, each reading
                // its market's lane (copies of r and s).
                let mut bracket_windows = Vec::with_capacity(markets * steps);
                for (n, (m, step)) in (0..markets)
                    .flat_map(|m| (0..steps).map(move |step| (m, step)))
                    .enumerate()
                {
                    let row = n * rows.bracket;
                    let bt = t.map(|t| &t.brackets[n]);
                    if n == 0 {
                        v2()?.q_bracket_first.enable(region, row)?;
                    } else {
                        v2()?.q_bracket.enable(region, row)?;
                    }
                    let [threshold, rate, amount] = &inputs.brackets[m][step];
                    g.copy(region, row, bracket::MAGNITUDE, "r", &magnitudes[m + 1])?;
                    g.copy(region, row, bracket::SIGN, "s", &signs[m + 1])?;
                    g.put(region, row, bracket::BIT, "b", known(bt, |b| bit(b.bit)))?;
                    bracket_windows.push(g.put(
                        region,
                        row,
                        bracket::WINDOW,
                        "u",
                        known(bt, |b| b.window),
                    )?);
                    g.copy(region, row, bracket::THRESHOLD, "s_t", threshold)?;
                    g.copy(region, row, bracket::RATE_STEP, "δur", rate)?;
                    g.copy(region, row, bracket::AMOUNT_STEP, "δcum", amount)?;
                    g.put(region, row, bracket::ACC, "acc", known(bt, |b| b.acc))?;
                }

                // Risk model v2: the holding blocks, after the account block.
                let mut held = Vec::with_capacity(assets);
                for c in 0..assets {
                    let row = base + rows.account + c * rows.holding;
                    v2()?.q_held.enable(region, row)?;
                    g.copy(region, row, holding::HELD_IN, "h_in", &inputs.held[c])?;
                    held.push(g.put(
                        region,
                        row,
                        holding::HELD_OUT,
                        "h_out",
                        known(t, |t| t.held[c]),
                    )?);
                    let lane = markets + 1 + c;
                    g.copy(region, row, holding::MAGNITUDE, "r", &magnitudes[lane])?;
                    g.copy(region, row, holding::SIGN, "s", &signs[lane])?;
                }
                Ok(AccountCells {
                    pad,
                    salt,
                    words: word_cells,
                    magnitudes,
                    signs,
                    slack_sign,
                    bracket_windows,
                    held,
                    gap,
                    tv_window,
                    slack_window,
                    next_id,
                    liabilities,
                    bad_debt,
                    product,
                })
            },
        )
    }
}
