//! The batch frame: the witnesses every batch reads once, whether the batch is the
//! last, and the last batch's opening of its final state into the published
//! outputs (`docs/SPEC.md` §6.3, §6.4).
//!
//! Two regions on the margin chip's columns, laid out row-major like the margin
//! chip's blocks (cell `i` at row `i / W`, column `i % W` of a `W`-wide grid; the
//! table shows the risk model v1 grid, `W = 4`), and in the risk model v2 circuit
//! one `asset solvency` block per asset.
//!
//! # `batch inputs` (first region of the batch)
//!
//! Cells: `b`, `K`, `inv`, `is_last`, `solvent`, `insurance_covered` (the gate's),
//! then the epoch, `f_q`, `reserves·f_q`, `insurance_fund·f_q`, the published
//! accounts commitment, `z`, `P_target`, `D`, the opening of `S_{b−1}` (`next_id`,
//! `L`, `D`, `P`, `a_b`), both blindings, the descriptor `d`, the disclosure word `ℓ`
//! (§6.4), the constants (a zero, the tags, `M`) and
//! `uv_0, ur_0, …, uv_{M−1}, ur_{M−1}`. The gate `batch inputs` enforces
//!
//! | constraint | relation |
//! | --- | --- |
//! | `is_last: inverse` | `(K − b − 1)·inv = 1 − is_last` |
//! | `is_last: zero` | `(K − b − 1)·is_last = 0` |
//! | `published solvent is boolean` | `solvent·(1 − solvent) = 0` |
//! | `published insurance_covered is boolean` | likewise |
//!
//! so `is_last = 1 ⇔ b = K − 1` (if `K − b − 1 ≠ 0` the second forces
//! `is_last = 0`; if it is 0 the first forces `is_last = 1`).
//!
//! # `batch outputs` (after the accounts)
//!
//! | row | column 0 | column 1 | column 2 | column 3 |
//! | --- | --- | --- | --- | --- |
//! | 0 | `is_last` (copy) | `reserves·f_q` (copy) | `insurance_fund·f_q` (copy) | accounts commitment (copy) |
//! | 1 | published `D` (copy) | `P_target` (copy) | `solvent` (copy) | `insurance_covered` (copy) |
//! | 2 | `next_id` after the batch (copy) | `L` (copy) | `D` (copy) | `P` (copy) |
//! | 3 | `a_{b+1}` (copy of the chain hash) | `ℓ` (copy) | `u_id` (65-bit check) | `s_sol` |
//! | 4 | `u_sol` (`solvency_bits` check) | `s_cov` | `u_cov` (`solvency_bits` check) | |
//!
//! The fixed column `shift` holds `2^solvency_bits` on row 0. The gate
//! `batch outputs`:
//!
//! | constraint | relation | SPEC |
//! | --- | --- | --- |
//! | `id bound` | `u_id = 2^64 − next_id` (checked in `[0, 2^65)`: every id `< 2^64`) | §6.3 (2) |
//! | `solvent sign is boolean`, `solvency window` | `u_sol = reserves·f_q − L + (1 − s_sol)·2^solvency_bits` | §2.3 |
//! | `covered sign is boolean`, `insurance window` | `u_cov = insurance_fund·f_q − D + (1 − s_cov)·2^solvency_bits` | §2.3 |
//! | `accounts commitment` | `is_last·(a_{b+1} − accounts_commitment) = 0` | §6.3 |
//! | `bad debt` | `is_last·(D − D_published) = 0` | §6.3 |
//! | `liquidation product` | `is_last·(P − P_target) = 0` | §6.3, §5.6 |
//! | `solvent` | `is_last·(s_sol − solvent) = 0` | §6.3 |
//! | `insurance covered` | `is_last·(s_cov − insurance_covered) = 0` | §6.3 |
//! | `disclosed liabilities` | `is_last·ℓ·(ℓ − L − 1) = 0` | §6.4 |
//!
//! # `asset solvency` (risk model v2, one block per asset after `batch outputs`)
//!
//! | row | column 0 | column 1 | column 2 | column 3 |
//! | --- | --- | --- | --- | --- |
//! | 0 | `is_last` (copy) | `reserves_c` (copy) | final `h_c` (copy) | published flag (copy) |
//! | 1 | `s_c` | `u_c` (`ASSET_SOLVENCY_BITS` check) | `ℓ_c` (copy; 96-bit check) | |
//!
//! | gate | constraint | relation | SPEC |
//! | --- | --- | --- | --- |
//! | `asset solvency` | `published asset flag is boolean`, `asset sign is boolean` | bits | §2.3 |
//! | `asset solvency` | `asset window` | `u_c = reserves_c − h_c + (1 − s_c)·2^97` | §2.3 |
//! | `asset solvency` | `asset solvent` | `is_last·(s_c − flag) = 0` | §6.3 |
//! | `asset disclosure` | `disclosed asset total` | `is_last·ℓ_c·(ℓ_c − h_c − 1) = 0` | §6.4 |
//!
//! `ℓ_c` is the cell `O` absorbs: 0 keeps the total hidden, any other value must be
//! the final `h_c + 1`.
//!
//! Worked example: the last batch (`b = 2`, `K = 3`: `K − b − 1 = 0`, `inv = 0`,
//! `is_last = 1`) with `L = 7`, `reserves·f_q = 5`: `s_sol = 0`,
//! `u_sol = 5 − 7 + 2^solvency_bits`, and the published `solvent` must be 0. In
//! batch 0 of the same epoch (`K − b − 1 = 2`, `inv = 1/2`, `is_last = 0`) the six
//! relations gated by `is_last` are void.

use super::layout::{Grid, query_grid};
use super::poseidon::Cell;
use super::range::pow2;
use ff::Field;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Constraints, Error, Expression, Fixed, Selector,
};
use pasta_curves::pallas::Base as Fp;

/// Cells of the `batch inputs` region, in layout order.
pub mod inputs {
    #![allow(missing_docs)]
    pub const BATCH: usize = 0;
    pub const BATCH_COUNT: usize = 1;
    pub const LAST_INVERSE: usize = 2;
    pub const IS_LAST: usize = 3;
    pub const SOLVENT: usize = 4;
    pub const COVERED: usize = 5;
    pub const EPOCH: usize = 6;
    pub const QUOTE_SCALE: usize = 7;
    pub const RESERVES: usize = 8;
    pub const INSURANCE: usize = 9;
    pub const ACCOUNTS_COMMITMENT: usize = 10;
    pub const CHALLENGE: usize = 11;
    pub const TARGET_PRODUCT: usize = 12;
    pub const BAD_DEBT: usize = 13;
    pub const NEXT_ID_IN: usize = 14;
    pub const LIABILITIES_IN: usize = 15;
    pub const BAD_DEBT_IN: usize = 16;
    pub const PRODUCT_IN: usize = 17;
    pub const ACCOUNTS_IN: usize = 18;
    pub const BLIND_IN: usize = 19;
    pub const BLIND_OUT: usize = 20;
    /// The descriptor `d` (SPEC §5.5).
    pub const DESCRIPTOR: usize = 21;
    /// `ℓ`: 0 if `L` is hidden, `L + 1` if disclosed (SPEC §6.4).
    pub const DISCLOSURE: usize = 22;
    pub const ZERO: usize = 23;
    pub const TAG_PARAMS: usize = 24;
    pub const MARKETS: usize = 25;
    pub const TAG_OUTPUTS: usize = 26;
    pub const TAG_STATE: usize = 27;
    pub const TAG_BATCH: usize = 28;
    /// `uv_m` is cell `MARKET_PARAMS + 2m`, `ur_m` cell `MARKET_PARAMS + 2m + 1`.
    pub const MARKET_PARAMS: usize = 29;
}

/// Cells of the `batch outputs` region, in layout order.
pub mod outputs {
    #![allow(missing_docs)]
    pub const IS_LAST: usize = 0;
    pub const RESERVES: usize = 1;
    pub const INSURANCE: usize = 2;
    pub const ACCOUNTS_COMMITMENT: usize = 3;
    pub const BAD_DEBT: usize = 4;
    pub const TARGET_PRODUCT: usize = 5;
    pub const SOLVENT: usize = 6;
    pub const COVERED: usize = 7;
    pub const NEXT_ID: usize = 8;
    pub const LIABILITIES_OUT: usize = 9;
    pub const BAD_DEBT_OUT: usize = 10;
    pub const PRODUCT_OUT: usize = 11;
    pub const ACCOUNTS_OUT: usize = 12;
    /// `ℓ` (copy of the input cell).
    pub const DISCLOSURE: usize = 13;
    pub const ID_BOUND: usize = 14;
    pub const SOLVENT_SIGN: usize = 15;
    pub const SOLVENCY_WINDOW: usize = 16;
    pub const COVERED_SIGN: usize = 17;
    pub const INSURANCE_WINDOW: usize = 18;
    /// Cells of the region.
    pub const CELLS: usize = 19;
}

/// Cells of an `asset solvency` block (risk model v2), one per asset after
/// `batch outputs`.
pub mod asset_outputs {
    #![allow(missing_docs)]
    pub const IS_LAST: usize = 0;
    pub const RESERVES: usize = 1;
    pub const HELD: usize = 2;
    pub const FLAG: usize = 3;
    pub const SIGN: usize = 4;
    pub const WINDOW: usize = 5;
    /// `ℓ_c` (copy of the input cell that `O` absorbs): 0 if the total is hidden,
    /// `h_c + 1` if disclosed (SPEC §6.4).
    pub const DISCLOSURE: usize = 6;
    /// Cells of the block.
    pub const CELLS: usize = 7;
}

/// Configuration of the frame chip (on the margin chip's columns).
#[derive(Clone, Debug)]
pub struct FrameConfig {
    advice: Vec<Column<Advice>>,
    shift: Column<Fixed>,
    q_inputs: Selector,
    q_outputs: Selector,
    /// Risk model v2 only: the `asset solvency` gate's selector.
    q_asset: Option<Selector>,
}

impl FrameConfig {
    /// Configures the gates of the module docs (equality on `advice` is enabled
    /// by the margin chip); `asset solvency` only if `risk_model_v2`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        advice: &[Column<Advice>],
        shift: Column<Fixed>,
        risk_model_v2: bool,
    ) -> Self {
        let mut config = Self {
            advice: advice.to_vec(),
            shift,
            q_inputs: meta.selector(),
            q_outputs: meta.selector(),
            q_asset: None,
        };
        let one = || Expression::Constant(Fp::ONE);
        meta.create_gate("batch inputs", |meta| {
            use inputs::*;
            let q = meta.query_selector(config.q_inputs);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (b, k, inv) = (c(meta, BATCH), c(meta, BATCH_COUNT), c(meta, LAST_INVERSE));
            let (is_last, solvent, covered) =
                (c(meta, IS_LAST), c(meta, SOLVENT), c(meta, COVERED));
            // SPEC §6.3: the last batch is b = K − 1.
            let t = k - b - one();
            Constraints::with_selector(
                q,
                [
                    (
                        "is_last: inverse",
                        t.clone() * inv - (one() - is_last.clone()),
                    ),
                    ("is_last: zero", t * is_last),
                    (
                        "published solvent is boolean",
                        solvent.clone() * (one() - solvent),
                    ),
                    (
                        "published insurance_covered is boolean",
                        covered.clone() * (one() - covered),
                    ),
                ],
            )
        });
        meta.create_gate("batch outputs", |meta| {
            use outputs::*;
            let q = meta.query_selector(config.q_outputs);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (is_last, reserves, insurance) =
                (c(meta, IS_LAST), c(meta, RESERVES), c(meta, INSURANCE));
            let (acc, d_pub, p_target) = (
                c(meta, ACCOUNTS_COMMITMENT),
                c(meta, BAD_DEBT),
                c(meta, TARGET_PRODUCT),
            );
            let (solvent, covered, next_id) =
                (c(meta, SOLVENT), c(meta, COVERED), c(meta, NEXT_ID));
            let (l, d, p, a) = (
                c(meta, LIABILITIES_OUT),
                c(meta, BAD_DEBT_OUT),
                c(meta, PRODUCT_OUT),
                c(meta, ACCOUNTS_OUT),
            );
            let (id_bound, s_sol, u_sol) = (
                c(meta, ID_BOUND),
                c(meta, SOLVENT_SIGN),
                c(meta, SOLVENCY_WINDOW),
            );
            let (s_cov, u_cov) = (c(meta, COVERED_SIGN), c(meta, INSURANCE_WINDOW));
            let disclosure = c(meta, DISCLOSURE);
            let shift = meta.query_fixed(shift);
            Constraints::with_selector(
                q,
                [
                    // SPEC §6.3 (2): next_id ≤ 2^64 (u_id checked in [0, 2^65)).
                    (
                        "id bound",
                        id_bound - (Expression::Constant(pow2(64)) - next_id),
                    ),
                    // SPEC §2.3: solvent ⇔ L ≤ reserves·f_q; covered ⇔ D ≤ insurance·f_q.
                    (
                        "solvent sign is boolean",
                        s_sol.clone() * (one() - s_sol.clone()),
                    ),
                    (
                        "solvency window",
                        u_sol - (reserves - l.clone()) - (one() - s_sol.clone()) * shift.clone(),
                    ),
                    (
                        "covered sign is boolean",
                        s_cov.clone() * (one() - s_cov.clone()),
                    ),
                    (
                        "insurance window",
                        u_cov - (insurance - d.clone()) - (one() - s_cov.clone()) * shift,
                    ),
                    // SPEC §6.3: the last batch opens its final state into the outputs.
                    ("accounts commitment", is_last.clone() * (a - acc)),
                    ("bad debt", is_last.clone() * (d - d_pub)),
                    ("liquidation product", is_last.clone() * (p - p_target)),
                    ("solvent", is_last.clone() * (s_sol - solvent)),
                    ("insurance covered", is_last.clone() * (s_cov - covered)),
                    // SPEC §6.4: ℓ = 0 (L hidden) or ℓ = L + 1 (L disclosed).
                    (
                        "disclosed liabilities",
                        is_last * disclosure.clone() * (disclosure - l - one()),
                    ),
                ],
            )
        });
        // SPEC §2.3, §6.3 (risk model v2): asset_solvent_c ⇔ h_c ≤ reserves_c,
        // u = reserves_c − h_c + (1 − s)·2^97 checked in [0, 2^97), opened by the
        // last batch into the published flag.
        let Some(q_asset) = risk_model_v2.then(|| meta.selector()) else {
            return config;
        };
        config.q_asset = Some(q_asset);
        meta.create_gate("asset solvency", |meta| {
            use asset_outputs::*;
            let q = meta.query_selector(q_asset);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (is_last, reserves, held) = (c(meta, IS_LAST), c(meta, RESERVES), c(meta, HELD));
            let (flag, sign, window) = (c(meta, FLAG), c(meta, SIGN), c(meta, WINDOW));
            let shift = Expression::Constant(pow2(crate::shape::ASSET_SOLVENCY_BITS as usize));
            Constraints::with_selector(
                q,
                [
                    (
                        "published asset flag is boolean",
                        flag.clone() * (one() - flag.clone()),
                    ),
                    (
                        "asset sign is boolean",
                        sign.clone() * (one() - sign.clone()),
                    ),
                    (
                        "asset window",
                        window - (reserves - held) - (one() - sign.clone()) * shift,
                    ),
                    ("asset solvent", is_last * (sign - flag)),
                ],
            )
        });
        // SPEC §6.4 (risk model v2): a disclosed per-asset total is the final h_c:
        // is_last·ℓ_c·(ℓ_c − h_c − 1) = 0 on the same block (ℓ_c is range-checked
        // to 96 bits by the caller).
        meta.create_gate("asset disclosure", |meta| {
            use asset_outputs::*;
            let q = meta.query_selector(q_asset);
            let c = |meta: &mut _, i| query_grid(meta, advice, 0, i);
            let (is_last, held, disclosure) =
                (c(meta, IS_LAST), c(meta, HELD), c(meta, DISCLOSURE));
            Constraints::with_selector(
                q,
                [(
                    "disclosed asset total",
                    is_last * disclosure.clone() * (disclosure - held - one()),
                )],
            )
        });
        config
    }
}

/// Values of the `batch inputs` region (all known, or all unknown for key
/// generation), in the order of [`inputs`].
#[derive(Debug, Clone)]
pub(crate) struct InputValues {
    /// Cells `BATCH ..= DISCLOSURE` (the constants are not witnesses).
    pub(crate) witnesses: Vec<Value<Fp>>,
    /// `uv_0, ur_0, …`, then (risk model v2) the values `params_hash` absorbs
    /// after them ([`crate::native::risk::RiskParams::hashed`]), the totals `h_c`
    /// carried in and the published asset flags: every cell from
    /// [`inputs::MARKET_PARAMS`] on.
    pub(crate) market_params: Vec<Value<Fp>>,
    /// The constants: tags and `M`.
    pub(crate) tag_params: Fp,
    pub(crate) markets: Fp,
    pub(crate) tag_outputs: Fp,
    pub(crate) tag_state: Fp,
    pub(crate) tag_batch: Fp,
}

/// The assigned `batch inputs` cells, indexed as in [`inputs`].
#[derive(Debug, Clone)]
pub struct InputCells(pub Vec<Cell>);

impl InputCells {
    /// Cell `i` of [`inputs`].
    pub fn get(&self, i: usize) -> Result<&Cell, Error> {
        self.0.get(i).ok_or(Error::Synthesis)
    }
    /// `uv_m`.
    pub fn unit_value(&self, m: usize) -> Result<&Cell, Error> {
        self.get(inputs::MARKET_PARAMS + 2 * m)
    }
    /// `ur_m`.
    pub fn unit_requirement(&self, m: usize) -> Result<&Cell, Error> {
        self.get(inputs::MARKET_PARAMS + 2 * m + 1)
    }
}

/// Values of the `batch outputs` region computed in the circuit (all known or all
/// unknown): `u_id`, `s_sol`, `u_sol`, `s_cov`, `u_cov`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputValues {
    pub(crate) id_bound: Value<Fp>,
    pub(crate) solvent_sign: Value<Fp>,
    pub(crate) solvency_window: Value<Fp>,
    pub(crate) covered_sign: Value<Fp>,
    pub(crate) insurance_window: Value<Fp>,
}

/// Cells of the `batch outputs` region that are range-checked.
#[derive(Debug, Clone)]
pub struct OutputCells {
    /// `2^64 − next_id` (65-bit check).
    pub id_bound: Cell,
    /// `u_sol` (`solvency_bits` check).
    pub solvency_window: Cell,
    /// `u_cov` (`solvency_bits` check).
    pub insurance_window: Cell,
}

/// The frame chip.
#[derive(Debug, Clone)]
pub struct FrameChip {
    config: FrameConfig,
}

impl FrameChip {
    /// Constructs the chip.
    pub fn construct(config: FrameConfig) -> Self {
        Self { config }
    }

    /// Lays out `batch inputs`.
    ///
    /// # Errors
    /// [`Error::Synthesis`] if `values` has the wrong number of witnesses; the
    /// layouter's errors.
    pub(crate) fn assign_inputs(
        &self,
        layouter: &mut impl Layouter<Fp>,
        values: &InputValues,
    ) -> Result<InputCells, Error> {
        if values.witnesses.len() != inputs::DISCLOSURE + 1 {
            return Err(Error::Synthesis);
        }
        layouter.assign_region(
            || "batch inputs",
            |mut region| {
                let region = &mut region;
                let g = Grid(&self.config.advice);
                self.config.q_inputs.enable(region, 0)?;
                let mut cells =
                    Vec::with_capacity(inputs::MARKET_PARAMS + values.market_params.len());
                for (i, v) in values.witnesses.iter().enumerate() {
                    cells.push(g.put(region, 0, i, "input", *v)?);
                }
                for (i, c) in [
                    (inputs::ZERO, Fp::ZERO),
                    (inputs::TAG_PARAMS, values.tag_params),
                    (inputs::MARKETS, values.markets),
                    (inputs::TAG_OUTPUTS, values.tag_outputs),
                    (inputs::TAG_STATE, values.tag_state),
                    (inputs::TAG_BATCH, values.tag_batch),
                ] {
                    let (row, column) = g.at(i);
                    cells.push(region.assign_advice_from_constant(
                        || "constant",
                        self.config.advice[column],
                        row,
                        c,
                    )?);
                }
                for (m, v) in values.market_params.iter().enumerate() {
                    cells.push(g.put(
                        region,
                        0,
                        inputs::MARKET_PARAMS + m,
                        "market parameter",
                        *v,
                    )?);
                }
                Ok(InputCells(cells))
            },
        )
    }

    /// Lays out `batch outputs`: `copies` are the cells of [`outputs`]
    /// `IS_LAST ..= DISCLOSURE` in order.
    ///
    /// # Errors
    /// [`Error::Synthesis`] if `copies` has the wrong length; the layouter's errors.
    pub(crate) fn assign_outputs(
        &self,
        layouter: &mut impl Layouter<Fp>,
        copies: &[Cell],
        values: OutputValues,
        solvency_shift: Fp,
    ) -> Result<OutputCells, Error> {
        if copies.len() != outputs::DISCLOSURE + 1 {
            return Err(Error::Synthesis);
        }
        layouter.assign_region(
            || "batch outputs",
            |mut region| {
                use outputs::*;
                let region = &mut region;
                let g = Grid(&self.config.advice);
                self.config.q_outputs.enable(region, 0)?;
                region.assign_fixed(
                    || "2^solvency_bits",
                    self.config.shift,
                    0,
                    || Value::known(solvency_shift),
                )?;
                for (i, cell) in copies.iter().enumerate() {
                    g.copy(region, 0, i, "copy", cell)?;
                }
                let id_bound = g.put(region, 0, ID_BOUND, "u_id", values.id_bound)?;
                g.put(region, 0, SOLVENT_SIGN, "s_sol", values.solvent_sign)?;
                let solvency_window =
                    g.put(region, 0, SOLVENCY_WINDOW, "u_sol", values.solvency_window)?;
                g.put(region, 0, COVERED_SIGN, "s_cov", values.covered_sign)?;
                let insurance_window = g.put(
                    region,
                    0,
                    INSURANCE_WINDOW,
                    "u_cov",
                    values.insurance_window,
                )?;
                Ok(OutputCells {
                    id_bound,
                    solvency_window,
                    insurance_window,
                })
            },
        )
    }

    /// Lays out asset `c`'s `asset solvency` block (gates `asset solvency` and
    /// `asset disclosure`): `copies` are `is_last`, `reserves_c`, the final `h_c`,
    /// the published flag and the disclosure word `ℓ_c`; returns the window
    /// (`ASSET_SOLVENCY_BITS` check).
    ///
    /// # Errors
    /// The layouter's errors.
    pub(crate) fn assign_asset(
        &self,
        layouter: &mut impl Layouter<Fp>,
        c: usize,
        copies: [&Cell; 5],
        sign: Value<Fp>,
        window: Value<Fp>,
    ) -> Result<Cell, Error> {
        layouter.assign_region(
            || format!("asset solvency {c}"),
            |mut region| {
                use asset_outputs::*;
                let region = &mut region;
                let g = Grid(&self.config.advice);
                let q_asset = self.config.q_asset.ok_or(Error::Synthesis)?;
                q_asset.enable(region, 0)?;
                let [is_last, reserves, held, flag, disclosure] = copies;
                for (i, cell) in [
                    (IS_LAST, is_last),
                    (RESERVES, reserves),
                    (HELD, held),
                    (FLAG, flag),
                    (DISCLOSURE, disclosure),
                ] {
                    g.copy(region, 0, i, "copy", cell)?;
                }
                g.put(region, 0, SIGN, "s_c", sign)?;
                g.put(region, 0, WINDOW, "u_c", window)
            },
        )
    }
}
