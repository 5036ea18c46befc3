//! The native trace: every witness cell of a batch circuit computed from a raw
//! [`BatchAssignment`], exactly as the gates relate them. Synthesis only copies
//! these values into cells; the gates check them.
//!
//! Nothing here range-checks or rejects anything: a malicious assignment yields a
//! trace that violates some constraint, which is how the soundness tests observe it.

use super::assignment::BatchAssignment;
use super::range::{bit, pow2};
use super::waterfall;
use crate::assignment::non_negative;
use crate::bounds::{BPS_DENOMINATOR, LANE_OFFSET};
use crate::hash::{FieldHasher, PastaPoseidon};
use crate::native::commit::PADDING_FLAG_BIT;
use crate::shape::CircuitShape;
use ethnum::{I256, U256};
use ff::{Field, PrimeField};
use pasta_curves::pallas::Base as Fp;

/// `2^63 − 1`, the shift of a negative lane's magnitude part (see
/// [`super::range`], "symmetric variant").
pub(crate) fn lane_shift() -> Fp {
    Fp::from(LANE_OFFSET - 1)
}

/// One signed lane (balance or size) of an account.
#[derive(Debug, Clone)]
pub(crate) struct LaneTrace {
    /// `v + (1 − s)·(2^63 − 1)`, range-checked to 63 bits.
    pub(crate) magnitude: Fp,
    /// `v ≥ 0`, read as `ℓ ≥ 2^63` for the lane `ℓ` (its canonical field
    /// representative); any choice is sound, this one is complete.
    pub(crate) sign: bool,
    /// `TV` through this lane.
    pub(crate) tv: Fp,
    /// `MR'` through this lane.
    pub(crate) mr: Fp,
}

/// One bracket block (risk model v2): bracket `t ≥ 1` of one market.
#[derive(Debug, Clone)]
pub(crate) struct BracketTrace {
    /// `b_t`: the selected bracket is `t` or above.
    pub(crate) bit: bool,
    /// `b·(|size| − s_t) + (1 − b)·(s_t − 1 − |size|)`.
    pub(crate) window: Fp,
    /// The brackets' part of `MR'` through this block.
    pub(crate) acc: Fp,
}

/// One slot of a batch.
#[derive(Debug, Clone)]
pub(crate) struct AccountTrace {
    pub(crate) id: Fp,
    pub(crate) pad: bool,
    pub(crate) salt: Fp,
    /// Balance lane first, then one per market, then one per asset.
    pub(crate) lanes: Vec<LaneTrace>,
    /// Per market, per bracket after the first (risk model v2).
    pub(crate) brackets: Vec<BracketTrace>,
    /// Per asset, `h_c` after this account (risk model v2).
    pub(crate) held: Vec<Fp>,
    pub(crate) words: Vec<Fp>,
    pub(crate) next_id_out: Fp,
    pub(crate) gap: Fp,
    pub(crate) liabilities_out: Fp,
    pub(crate) bad_debt_out: Fp,
    pub(crate) product_out: Fp,
    pub(crate) tv_sign: bool,
    pub(crate) tv_window: Fp,
    pub(crate) slack_sign: bool,
    pub(crate) slack_window: Fp,
}

/// A whole batch.
#[derive(Debug, Clone)]
pub(crate) struct BatchTrace {
    pub(crate) a: BatchAssignment,
    pub(crate) accounts: Vec<AccountTrace>,
    /// `(K − b − 1)^{-1}`, or 0.
    pub(crate) last_inverse: Fp,
    pub(crate) is_last: bool,
    /// `2^64 − next_id` after the batch.
    pub(crate) id_bound: Fp,
    pub(crate) solvent_sign: bool,
    pub(crate) solvency_window: Fp,
    pub(crate) covered_sign: bool,
    pub(crate) insurance_window: Fp,
    /// Per asset (risk model v2): `h_c ≤ reserves_c` after the batch, and its window.
    pub(crate) asset_signs: Vec<bool>,
    pub(crate) asset_windows: Vec<Fp>,
    /// The waterfall's blocks (a waterfall shape).
    pub(crate) waterfall: Option<WaterfallTrace>,
}

/// The waterfall's blocks of a batch (`docs/SPEC.md` §2.4), at the published
/// rate `h`.
#[derive(Debug, Clone)]
pub(crate) struct WaterfallTrace {
    pub(crate) rate: waterfall::RateTrace,
    pub(crate) accounts: Vec<waterfall::AccountTrace>,
    pub(crate) epoch: waterfall::EpochTrace,
}

/// A field element as the integer it stands for: its canonical representative
/// if that is at most `(p − 1)/2`, else minus that of its negation.
pub(crate) fn integer(x: Fp) -> I256 {
    if non_negative::<PastaPoseidon>(x) {
        U256::from_le_bytes(x.to_repr()).as_i256()
    } else {
        -U256::from_le_bytes((-x).to_repr()).as_i256()
    }
}

impl BatchTrace {
    /// Whether every length matches `shape` (synthesis indexes the trace by it).
    pub(crate) fn fits(&self, shape: CircuitShape) -> bool {
        let markets = shape.markets();
        let assets = shape.assets();
        let steps = markets * (shape.brackets() - 1);
        self.a.params.unit_value.len() == markets
            && self.a.params.unit_requirement.len() == markets
            && self.accounts.len() == shape.batch_size().get()
            && self.asset_signs.len() == assets
            && self.waterfall.is_some() == shape.has_waterfall()
            && self.a.waterfall.is_some() == shape.has_waterfall()
            && self.a.state_in.waterfall.is_some() == shape.has_waterfall()
            && (!shape.has_waterfall() || self.a.params.fee_rates.len() == markets)
            && self
                .waterfall
                .as_ref()
                .is_none_or(|w| w.accounts.len() == shape.batch_size().get())
            && self.accounts.iter().all(|t| {
                t.lanes.len() == markets + assets + 1
                    && t.words.len() == shape.leaf_words()
                    && t.brackets.len() == steps
                    && t.held.len() == assets
            })
    }

    /// The trace of `a` for `shape` (whose lengths the caller has checked).
    pub(crate) fn new(shape: CircuitShape, a: BatchAssignment) -> Self {
        Self::build(shape, a, |_, _, sign| sign)
    }

    /// The trace of `a`, with `haircut(slot, asset, sign)` deciding whether an
    /// asset lane's amount loses its haircut in `MR'` (honestly: its sign). The
    /// soundness tests pass another rule to write a haircut on a debt, or none on a
    /// holding, into an otherwise consistent trace.
    pub(crate) fn build(
        shape: CircuitShape,
        a: BatchAssignment,
        haircut: impl Fn(usize, usize, bool) -> bool,
    ) -> Self {
        let offset = Fp::from(LANE_OFFSET);
        let tv_shift = pow2(shape.tv_bits() as usize);
        let slack_shift = pow2(shape.slack_bits() as usize);
        let solvency_shift = pow2(shape.solvency_bits() as usize);
        let bps = Fp::from(BPS_DENOMINATOR);
        let mut next_id = a.state_in.next_id;
        let mut liabilities = a.state_in.total_liabilities;
        let mut bad_debt = a.state_in.bad_debt;
        let mut product = a.state_in.liquidation_product;
        let mut held = a.state_in.asset_held.clone();
        let markets = a.params.unit_value.len();
        let mut accounts = Vec::with_capacity(a.slots.len());
        // The waterfall at the published h (SPEC §2.4), in integers.
        let rate = a.waterfall.map(|o| integer(o[1]));
        let fee_units: Vec<I256> = (a.params.unit_value.iter().zip(&a.params.fee_rates))
            .map(|(uv, lf)| integer(*uv * lf))
            .collect();
        let mut sums = a
            .state_in
            .waterfall
            .map(|s| (integer(s[0]), [integer(s[1]), integer(s[2])]));
        let mut waterfall_accounts = Vec::new();
        for (index, slot) in a.slots.iter().enumerate() {
            let raw: Vec<(U256, Fp, Fp)> =
                core::iter::once((slot.balance_lane, a.params.quote_scale, Fp::ZERO))
                    .chain(
                        slot.size_lanes
                            .iter()
                            .zip(a.params.unit_value.iter().zip(&a.params.unit_requirement))
                            .map(|(l, (uv, ur))| (*l, *uv, *ur)),
                    )
                    .chain(
                        (slot.amount_lanes.iter())
                            .zip(&a.params.asset_values)
                            .map(|(l, [uv, lv])| (*l, *uv, *lv)),
                    )
                    .collect();
            // The circuit sees a lane as a field element: the sign is read from its
            // canonical representative.
            let signed: Vec<(Fp, bool)> = raw
                .iter()
                .map(|(lane, _, _)| {
                    let value = PastaPoseidon::from_u256(*lane);
                    let sign = U256::from_le_bytes(value.to_repr()) >= U256::from(LANE_OFFSET);
                    (value - offset, sign)
                })
                .collect();
            // Risk model v2: b_t = [the selected bracket is t or above], per market.
            let mut brackets = Vec::new();
            let mut acc = Fp::ZERO;
            for (m, thresholds) in a.params.bracket_thresholds.iter().enumerate() {
                let (v, sign) = signed[m + 1];
                let size = (bit(sign).double() - Fp::ONE) * v;
                for (step, (threshold, [rate, amount])) in thresholds
                    .iter()
                    .zip(&a.params.bracket_deltas[m])
                    .enumerate()
                {
                    let reached = slot.brackets[m] > step;
                    let window = if reached {
                        size - threshold
                    } else {
                        *threshold - Fp::ONE - size
                    };
                    acc += bit(reached) * (size * rate - amount);
                    brackets.push(BracketTrace {
                        bit: reached,
                        window,
                        acc,
                    });
                }
            }
            let mut lanes = Vec::with_capacity(raw.len());
            let (mut tv, mut mr) = (Fp::ZERO, acc);
            for (j, ((_, factor, requirement), (v, sign))) in raw.iter().zip(&signed).enumerate() {
                let (v, sign) = (*v, *sign);
                let magnitude = v + bit(!sign) * lane_shift();
                tv += v * factor;
                if j > markets {
                    // An asset: a held amount loses its haircut.
                    mr += bit(haircut(index, j - markets - 1, sign)) * v * requirement;
                } else if j > 0 {
                    mr += (bit(sign).double() - Fp::ONE) * v * requirement;
                }
                lanes.push(LaneTrace {
                    magnitude,
                    sign,
                    tv,
                    mr,
                });
            }
            for (h, (v, sign)) in held.iter_mut().zip(&signed[markets + 1..]) {
                *h += bit(*sign) * v;
            }
            // SPEC §5.2: words of three lanes, the padding flag at bit 192 of word 0.
            let lane_values: Vec<Fp> = core::iter::once(slot.id)
                .chain(raw.iter().map(|(l, _, _)| PastaPoseidon::from_u256(*l)))
                .collect();
            let mut words: Vec<Fp> = lane_values
                .chunks(3)
                .map(|c| c.iter().enumerate().map(|(k, v)| *v * pow2(64 * k)).sum())
                .collect();
            if slot.pad {
                words[0] += pow2(PADDING_FLAG_BIT as usize);
            }
            let real = bit(!slot.pad);
            let tv_sign = non_negative::<PastaPoseidon>(tv);
            let slack = tv * bps - mr;
            let slack_sign = non_negative::<PastaPoseidon>(slack);
            let liability = tv * bit(tv_sign);
            if let (Some(h), Some((fees, haircuts))) = (rate, sums.as_mut()) {
                let sizes = (1..=markets)
                    .map(|m| {
                        let (v, sign) = signed[m];
                        integer((bit(sign).double() - Fp::ONE) * v)
                    })
                    .collect();
                let mut values = waterfall::AccountValues::honest(
                    sizes,
                    fee_units.clone(),
                    integer(liability),
                    !slack_sign,
                    0,
                );
                values.quotient = values.floors(waterfall::rates(h));
                let (trace, f, s) = values.trace(waterfall::rates(h), *fees, *haircuts);
                (*fees, *haircuts) = (f, s);
                waterfall_accounts.push(trace);
            }
            let next_id_out = next_id + real * (slot.id + Fp::ONE - next_id);
            let factor = bit(!slack_sign) * (a.challenge - slot.id - Fp::ONE);
            let t = AccountTrace {
                id: slot.id,
                pad: slot.pad,
                salt: slot.salt,
                lanes,
                brackets,
                held: held.clone(),
                words,
                next_id_out,
                gap: real * (slot.id - next_id),
                liabilities_out: liabilities + liability,
                bad_debt_out: bad_debt + liability - tv,
                product_out: product * (Fp::ONE + factor),
                tv_sign,
                tv_window: tv + bit(!tv_sign) * tv_shift,
                slack_sign,
                slack_window: slack + bit(!slack_sign) * slack_shift,
            };
            next_id = t.next_id_out;
            liabilities = t.liabilities_out;
            bad_debt = t.bad_debt_out;
            product = t.product_out;
            accounts.push(t);
        }
        let t = a.batch_count - a.batch - Fp::ONE;
        let reserves = if shape.is_risk_model_v2() {
            a.params.total_reserves
        } else {
            a.params.reserves
        };
        let solvency = reserves - liabilities;
        let asset_shift = pow2(shape.asset_solvency_bits() as usize);
        let (asset_signs, asset_windows) = (a.params.asset_reserves.iter())
            .zip(&held)
            .map(|(reserves, h)| {
                let gap = *reserves - h;
                let sign = non_negative::<PastaPoseidon>(gap);
                (sign, gap + bit(!sign) * asset_shift)
            })
            .unzip();
        let insurance = a.params.insurance_fund - bad_debt;
        let (solvent_sign, covered_sign) = (
            non_negative::<PastaPoseidon>(solvency),
            non_negative::<PastaPoseidon>(insurance),
        );
        let is_last = t.is_zero_vartime();
        let waterfall = rate.zip(sums).map(|(h, (fees, haircuts))| {
            let epoch = waterfall::EpochValues::honest(
                is_last,
                integer(bad_debt),
                integer(a.params.insurance_fund),
                fees,
                haircuts,
                h,
            );
            WaterfallTrace {
                rate: waterfall::RateTrace::new(h),
                accounts: waterfall_accounts,
                epoch: epoch.trace(),
            }
        });
        Self {
            last_inverse: Option::from(t.invert()).unwrap_or(Fp::ZERO),
            is_last,
            id_bound: pow2(64) - next_id,
            solvent_sign,
            solvency_window: solvency + bit(!solvent_sign) * solvency_shift,
            covered_sign,
            insurance_window: insurance + bit(!covered_sign) * solvency_shift,
            asset_signs,
            asset_windows,
            waterfall,
            accounts,
            a,
        }
    }
}
