//! The raw assignment a batch circuit is synthesized from, over either backend's
//! field: `crate::r1cs` uses it over BN254, `crate::halo2` over Pallas.
//!
//! Honest assignments come only from a [`BatchWitness`], which the native engine
//! builds from a validated snapshot. The fields are plain field elements and lanes so
//! that the crate's soundness tests can also build *malicious* assignments (values
//! out of range, wrapped around the field, unsorted, …) that the validated domain
//! types would refuse: the circuit must reject those on its own.

use crate::hash::FieldHasher;
use crate::native::commit::{RunningState, lane};
use crate::shape::{CircuitError, CircuitShape};
use crate::witness::{BatchWitness, ParamsWitness};
use ethnum::{I256, U256};

/// Embeds a signed integer (`|v| < 2^252`) in `H`'s field.
pub(crate) fn field_from_i256<H: FieldHasher>(v: I256) -> H::F {
    let magnitude = H::from_u256(v.unsigned_abs());
    if v < 0 {
        H::from_u64(0) - magnitude
    } else {
        magnitude
    }
}

/// Whether `x` read as a signed integer (`x` or `x − p`, whichever is smaller in
/// magnitude) is non-negative: the inverse of [`field_from_i256`]'s sign.
pub(crate) fn non_negative<H: FieldHasher>(x: H::F) -> bool {
    let minus_one = H::from_u64(0) - H::from_u64(1);
    let half = U256::from_le_bytes(H::to_le_bytes(&minus_one)) >> 1;
    U256::from_le_bytes(H::to_le_bytes(&x)) <= half
}

/// The epoch parameters as field elements (`docs/SPEC.md` §5.5), as every circuit
/// reads them.
#[derive(Debug, Clone)]
pub(crate) struct ParamsAssignment<F> {
    pub(crate) epoch: F,
    pub(crate) quote_scale: F,
    pub(crate) reserves: F,
    pub(crate) insurance_fund: F,
    pub(crate) unit_value: Vec<F>,
    pub(crate) unit_requirement: Vec<F>,
    /// The descriptor `d` (`crate::descriptor`).
    pub(crate) descriptor: F,
    /// The raw values the Groth16 open layout packs (§6.4), from which its batch
    /// circuit derives the scaled ones above itself.
    pub(crate) quote_exponent: F,
    pub(crate) raw_reserves: F,
    pub(crate) raw_insurance_fund: F,
    pub(crate) prices: Vec<F>,
    pub(crate) margin_bps: Vec<F>,
    pub(crate) market_exponents: Vec<F>,
    /// Risk model v2 (§6.4): per market, its brackets after the first (`T − 1`
    /// each): the size thresholds `s_t`, rates `mm_t` and floors `floor_t`.
    pub(crate) bracket_thresholds: Vec<Vec<F>>,
    pub(crate) bracket_rates: Vec<Vec<F>>,
    pub(crate) bracket_floors: Vec<Vec<F>>,
    /// Risk model v2: per collateral asset, its price, collateral ratio (bps),
    /// exponent `E − a_c − p_c` and reserves (minimal asset units).
    pub(crate) asset_prices: Vec<F>,
    pub(crate) asset_ratios: Vec<F>,
    pub(crate) asset_exponents: Vec<F>,
    pub(crate) asset_reserves: Vec<F>,
    /// The hashed layout's derived risk model v2 values (§5.5,
    /// [`crate::native::risk::RiskParams`]): per market per bracket after the first
    /// `[δur_t, δcum_t]` (the thresholds are `bracket_thresholds`), per asset
    /// `[uv_c, lv_c]` (the reserves are `asset_reserves`), and the total reserves.
    pub(crate) bracket_deltas: Vec<Vec<[F; 2]>>,
    pub(crate) asset_values: Vec<[F; 2]>,
    pub(crate) total_reserves: F,
    /// The waterfall (`docs/SPEC.md` §2.4): per market its liquidation fee rate
    /// `lf_m` in bps (empty unless the shape has the waterfall).
    pub(crate) fee_rates: Vec<F>,
}

impl<F> ParamsAssignment<F> {
    /// The parameters of `p` as `H` embeds them.
    pub(crate) fn from_witness<H: FieldHasher<F = F>>(p: &ParamsWitness) -> Self {
        let embed = |v: &[I256]| v.iter().map(|v| field_from_i256::<H>(*v)).collect();
        Self {
            epoch: H::from_u64(p.epoch),
            quote_scale: field_from_i256::<H>(p.quote_scale),
            reserves: field_from_i256::<H>(p.reserves),
            insurance_fund: field_from_i256::<H>(p.insurance_fund),
            unit_value: embed(&p.unit_value),
            unit_requirement: embed(&p.unit_requirement),
            descriptor: H::from_u256(p.descriptor),
            quote_exponent: H::from_u64(p.raw.quote_exponent.into()),
            raw_reserves: H::from_u256(U256::from(p.raw.reserves)),
            raw_insurance_fund: H::from_u256(U256::from(p.raw.insurance_fund)),
            prices: p.raw.markets.iter().map(|m| H::from_u64(m.price)).collect(),
            margin_bps: (p.raw.markets.iter())
                .map(|m| H::from_u64(m.margin_bps.into()))
                .collect(),
            market_exponents: (p.raw.markets.iter())
                .map(|m| H::from_u64(m.exponent.into()))
                .collect(),
            bracket_thresholds: (p.raw.brackets.iter())
                .map(|bs| bs.iter().map(|b| H::from_u64(b.threshold)).collect())
                .collect(),
            bracket_rates: (p.raw.brackets.iter())
                .map(|bs| bs.iter().map(|b| H::from_u64(b.rate_bps.into())).collect())
                .collect(),
            bracket_floors: (p.raw.brackets.iter())
                .map(|bs| bs.iter().map(|b| H::from_u64(b.floor)).collect())
                .collect(),
            asset_prices: p.raw.assets.iter().map(|a| H::from_u64(a.price)).collect(),
            asset_ratios: (p.raw.assets.iter())
                .map(|a| H::from_u64(a.ratio_bps.into()))
                .collect(),
            asset_exponents: (p.raw.assets.iter())
                .map(|a| H::from_u64(a.exponent.into()))
                .collect(),
            asset_reserves: (p.raw.assets.iter())
                .map(|a| H::from_u256(U256::from(a.reserves)))
                .collect(),
            bracket_deltas: (p.risk.brackets.iter())
                .map(|bs| {
                    bs.iter()
                        .map(|[_, ur, cum]| [field_from_i256::<H>(*ur), field_from_i256::<H>(*cum)])
                        .collect()
                })
                .collect(),
            asset_values: (p.risk.assets.iter())
                .map(|[uv, lv, _]| [field_from_i256::<H>(*uv), field_from_i256::<H>(*lv)])
                .collect(),
            total_reserves: field_from_i256::<H>(p.risk.total_reserves),
            fee_rates: (p.raw.fee_rates.iter().flatten())
                .map(|r| H::from_u64((*r).into()))
                .collect(),
        }
    }
}

/// One slot: lanes exactly as they are packed into the leaf (`docs/SPEC.md` §5.2).
#[derive(Debug, Clone)]
pub(crate) struct SlotAssignment<F> {
    pub(crate) pad: bool,
    pub(crate) id: F,
    /// `balance + 2^63`: any 256-bit value, so that tests can assign out-of-range
    /// lanes (the circuits embed it modulo the field).
    pub(crate) balance_lane: U256,
    /// `size_m + 2^63` per market.
    pub(crate) size_lanes: Vec<U256>,
    /// `amount_c + 2^63` per collateral asset (risk model v2).
    pub(crate) amount_lanes: Vec<U256>,
    /// Per market, the bracket the witness selects (0 for `T = 1`).
    pub(crate) brackets: Vec<usize>,
    pub(crate) salt: F,
}

/// A running state as field elements (`docs/SPEC.md` §6.2).
#[derive(Debug, Clone)]
pub(crate) struct StateAssignment<F> {
    pub(crate) next_id: F,
    pub(crate) total_liabilities: F,
    pub(crate) bad_debt: F,
    pub(crate) liquidation_product: F,
    pub(crate) accounts: F,
    /// Per collateral asset, the held total so far (risk model v2).
    pub(crate) asset_held: Vec<F>,
    /// The waterfall's sums so far `[F', S_h, S_lo]` (a waterfall shape).
    pub(crate) waterfall: Option<[F; 3]>,
}

impl<F: Copy> StateAssignment<F> {
    /// The state as `H` embeds it.
    pub(crate) fn from_state<H: FieldHasher<F = F>>(s: &RunningState<F>) -> Self {
        Self {
            next_id: H::from_u256(U256::from(s.next_id)),
            total_liabilities: field_from_i256::<H>(s.total_liabilities),
            bad_debt: field_from_i256::<H>(s.bad_debt),
            liquidation_product: s.liquidation_product,
            accounts: s.accounts,
            asset_held: (s.asset_held.iter())
                .map(|h| field_from_i256::<H>(*h))
                .collect(),
            waterfall: (s.waterfall.as_ref()).map(|w| w.values().map(field_from_i256::<H>)),
        }
    }
}

/// Everything one batch circuit reads (`docs/SPEC.md` §6.3, §6.4).
#[derive(Debug, Clone)]
pub(crate) struct BatchAssignment<F> {
    /// The hashed layout's `x_b` (halo2's public input; the Groth16 catalogue's
    /// digest of the verifier's open inputs, `testing::open_digest`).
    pub(crate) public_input: F,
    /// The open layout's `C_{b−1}` (0 for `b = 0`) and `C_b` (§6.4); halo2 computes
    /// both inside `x_b` instead.
    pub(crate) commitment_in: F,
    pub(crate) commitment_out: F,
    pub(crate) batch: F,
    pub(crate) batch_count: F,
    pub(crate) params: ParamsAssignment<F>,
    pub(crate) accounts_commitment: F,
    pub(crate) challenge: F,
    pub(crate) liquidation_product: F,
    pub(crate) bad_debt: F,
    pub(crate) solvent: bool,
    pub(crate) insurance_covered: bool,
    /// Bit `c`: asset `c`'s published solvency (risk model v2).
    pub(crate) asset_solvency: u16,
    /// `ℓ`: 0 if `L` is hidden, `L + 1` if disclosed (`docs/SPEC.md` §6.4).
    pub(crate) disclosure: F,
    /// Per collateral asset, `ℓ_c`: 0 if its total is hidden, `h_c + 1` if
    /// disclosed (risk model v2, `docs/SPEC.md` §6.4).
    pub(crate) asset_disclosure: Vec<F>,
    /// The waterfall's published `[F', h, shortfall]` (a waterfall shape,
    /// `docs/SPEC.md` §2.4).
    pub(crate) waterfall: Option<[F; 3]>,
    pub(crate) state_in: StateAssignment<F>,
    pub(crate) blind_in: F,
    pub(crate) blind_out: F,
    pub(crate) slots: Vec<SlotAssignment<F>>,
}

impl<F: Copy> BatchAssignment<F> {
    /// The honest assignment of `w`, embedded by `H`.
    pub(crate) fn from_witness<H: FieldHasher<F = F>>(w: &BatchWitness<F>) -> Self {
        let markets = w.params.unit_value.len();
        let assets = w.params.raw.assets.len();
        let lanes = |v: &mut dyn Iterator<Item = i64>| v.map(|x| U256::from(lane(x))).collect();
        let slots = w
            .slots
            .iter()
            .map(|s| match &s.account {
                Some(a) => SlotAssignment {
                    pad: false,
                    id: H::from_u64(a.id().get()),
                    balance_lane: U256::from(lane(a.quote_balance().get())),
                    size_lanes: lanes(&mut a.sizes().iter().map(|z| z.get())),
                    amount_lanes: lanes(&mut a.amounts().iter().map(|z| z.get())),
                    brackets: (a.sizes().iter())
                        .zip(&w.params.raw.brackets)
                        .map(|(z, bs)| selected_bracket(z.get(), bs))
                        .collect(),
                    salt: s.salt,
                },
                None => SlotAssignment {
                    pad: true,
                    id: H::from_u64(0),
                    balance_lane: U256::from(lane(0)),
                    size_lanes: vec![U256::from(lane(0)); markets],
                    amount_lanes: vec![U256::from(lane(0)); assets],
                    brackets: vec![0; markets],
                    salt: s.salt,
                },
            })
            .collect();
        Self {
            public_input: w.public_input,
            commitment_in: if w.batch == 0 {
                H::from_u64(0)
            } else {
                w.commitment_in
            },
            commitment_out: w.commitment_out,
            batch: H::from_u64(w.batch),
            batch_count: H::from_u64(w.batch_count),
            params: ParamsAssignment::from_witness::<H>(&w.params),
            accounts_commitment: w.outputs.accounts_commitment,
            challenge: w.outputs.challenge,
            liquidation_product: w.outputs.liquidation_product,
            bad_debt: field_from_i256::<H>(w.outputs.bad_debt),
            solvent: w.outputs.solvent,
            insurance_covered: w.outputs.insurance_covered,
            asset_solvency: w.outputs.asset_solvency,
            disclosure: field_from_i256::<H>(w.outputs.disclosure()),
            asset_disclosure: (w.outputs.asset_disclosures().into_iter())
                .map(|l| H::from_u256(U256::from(l)))
                .collect(),
            waterfall: w.outputs.waterfall.map(|o| {
                [
                    field_from_i256::<H>(o.fees),
                    H::from_u64(o.haircut_ppb.into()),
                    H::from_u64(o.shortfall.into()),
                ]
            }),
            state_in: StateAssignment::from_state::<H>(&w.state_in),
            blind_in: w.blind_in,
            blind_out: w.blind_out,
            slots,
        }
    }

    /// Whether the assignment fits `shape`: `B` slots, `M` markets everywhere. Both
    /// backends' batch circuits refuse any other.
    pub(crate) fn check_shape(&self, shape: CircuitShape) -> Result<(), CircuitError> {
        let markets = self.params.unit_value.len();
        let fits = self.slots.len() == shape.batch_size().get()
            && markets == shape.markets()
            && self.params.unit_requirement.len() == markets
            && self.params.prices.len() == markets
            && self.params.margin_bps.len() == markets
            && self.params.market_exponents.len() == markets
            && self.slots.iter().all(|s| s.size_lanes.len() == markets);
        let brackets = shape.brackets() - 1;
        let assets = shape.assets();
        let p = &self.params;
        let fits = fits
            && [&p.bracket_thresholds, &p.bracket_rates, &p.bracket_floors]
                .iter()
                .all(|v| v.len() == markets && v.iter().all(|b| b.len() == brackets))
            && p.bracket_deltas.len() == markets
            && p.bracket_deltas.iter().all(|b| b.len() == brackets)
            && p.asset_values.len() == assets
            && [
                &p.asset_prices,
                &p.asset_ratios,
                &p.asset_exponents,
                &p.asset_reserves,
            ]
            .iter()
            .all(|v| v.len() == assets)
            && self.state_in.asset_held.len() == assets
            && self.asset_disclosure.len() == assets
            && self.waterfall.is_some() == shape.has_waterfall()
            && self.state_in.waterfall.is_some() == shape.has_waterfall()
            && p.fee_rates.len() == if shape.has_waterfall() { markets } else { 0 }
            && self.slots.iter().all(|s| {
                s.amount_lanes.len() == assets
                    && s.brackets.len() == markets
                    && s.brackets.iter().all(|t| *t <= brackets)
            });
        if fits {
            Ok(())
        } else {
            Err(CircuitError::ShapeMismatch {
                shape: shape.id(),
                got_slots: self.slots.len(),
                got_markets: markets,
                got_brackets: 1 + p.bracket_thresholds.first().map_or(0, Vec::len),
                got_assets: p.asset_prices.len(),
            })
        }
    }
}

/// The bracket of a size: the last whose threshold `|size|` reaches (`raw` are the
/// brackets after the first, whose threshold is 0). The thresholds do not decrease,
/// so this is the bracket of the notional (`crate::r1cs::brackets`).
fn selected_bracket(size: i64, raw: &[crate::witness::RawBracket]) -> usize {
    let magnitude = size.unsigned_abs();
    raw.iter()
        .rposition(|b| b.threshold <= magnitude)
        .map_or(0, |t| t + 1)
}

/// Test support: a native re-implementation of what the batch circuits compute from a
/// *raw* assignment, shared by both backends' soundness catalogues.
#[cfg(test)]
pub(crate) mod testing {
    use super::{BatchAssignment, ParamsAssignment, non_negative};
    use crate::hash::FieldHasher;
    use crate::native::commit::{
        TREE_ARITY, absorb_chain, be_word, challenge, liquidations_hash_of_words, tag, tags,
    };
    use ethnum::U256;

    /// `params_hash` over raw parameters, natively (`docs/SPEC.md` §5.5): what an
    /// attacker consistent with them would publish.
    pub(crate) fn params_hash<H: FieldHasher>(p: &ParamsAssignment<H::F>) -> H::F {
        params_hash_with::<H>(p, p.hashed_risk())
    }

    /// `params_hash` over raw market parameters and the given risk model v2
    /// values (absorbed after the markets', in [`ParamsAssignment::hashed_risk`]'s
    /// order): for a circuit that carries those values apart from `p`.
    pub(crate) fn params_hash_with<H: FieldHasher>(
        p: &ParamsAssignment<H::F>,
        risk: Vec<H::F>,
    ) -> H::F {
        let head = H::hash(&[
            tag::<H>(tags::PARAMS),
            p.epoch,
            H::from_u64(p.unit_value.len() as u64),
            p.quote_scale,
            p.reserves,
            p.insurance_fund,
            p.descriptor,
        ]);
        let mut absorbed: Vec<H::F> = p
            .unit_value
            .iter()
            .zip(&p.unit_requirement)
            .flat_map(|(v, r)| [*v, *r])
            .collect();
        absorbed.extend(risk);
        absorb_chain::<H>(head, &absorbed)
    }

    impl<F: Copy> ParamsAssignment<F> {
        /// The risk model v2 values `params_hash` absorbs after the markets'
        /// (`docs/SPEC.md` §5.5): per market per bracket after the first `s_t,
        /// δur_t, δcum_t`, per asset `uv_c, lv_c, reserves_c`, then the total
        /// reserves; nothing for risk model v1.
        pub(crate) fn hashed_risk(&self) -> Vec<F> {
            if self.bracket_thresholds.iter().all(Vec::is_empty) && self.asset_values.is_empty() {
                return Vec::new();
            }
            let mut out = Vec::new();
            for (s, d) in self.bracket_thresholds.iter().zip(&self.bracket_deltas) {
                for (s, [ur, cum]) in s.iter().zip(d) {
                    out.extend([*s, *ur, *cum]);
                }
            }
            for ([uv, lv], r) in self.asset_values.iter().zip(&self.asset_reserves) {
                out.extend([*uv, *lv, *r]);
            }
            out.push(self.total_reserves);
            out
        }
    }

    impl<F: Copy + core::ops::Mul<Output = F>> ParamsAssignment<F> {
        /// Sets market `m`'s raw parameters and the scaled ones derived from them
        /// (`uv_m = price_m·10^e_m`, `ur_m = uv_m·mm_m`), as a prover consistent with
        /// them would: both backends then read the same (possibly malicious) market.
        pub(crate) fn set_market<H: FieldHasher<F = F>>(
            &mut self,
            m: usize,
            price: U256,
            margin_bps: u64,
            exponent: u32,
        ) {
            let uv = H::from_u256(price) * H::from_u256(U256::from(10u8).pow(exponent));
            self.prices[m] = H::from_u256(price);
            self.margin_bps[m] = H::from_u64(margin_bps);
            self.market_exponents[m] = H::from_u64(exponent.into());
            self.unit_value[m] = uv;
            self.unit_requirement[m] = uv * H::from_u64(margin_bps);
        }

        /// Sets the quote exponent and the raw funds, and the scaled values derived
        /// from them (`f_q`, `reserves·f_q`, `insurance_fund·f_q`).
        pub(crate) fn set_funds<H: FieldHasher<F = F>>(
            &mut self,
            quote_exponent: u32,
            reserves: U256,
            insurance_fund: U256,
        ) {
            let f = H::from_u256(U256::from(10u8).pow(quote_exponent));
            self.quote_exponent = H::from_u64(quote_exponent.into());
            self.raw_reserves = H::from_u256(reserves);
            self.raw_insurance_fund = H::from_u256(insurance_fund);
            self.quote_scale = f;
            self.reserves = H::from_u256(reserves) * f;
            self.insurance_fund = H::from_u256(insurance_fund) * f;
        }
    }

    /// How `restamp` treats the published outputs.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Outputs {
        /// Keep what the assignment claims (the lie is in the outputs).
        Claimed,
        /// Derive them from the (possibly malicious) data, as an attacker whose outputs
        /// are consistent with its data would; only for a one-batch epoch.
        Derived,
    }

    /// What the circuit computes from a raw assignment, natively; sets the public input
    /// to the value an attacker consistent with `a` would publish.
    pub(crate) fn restamp_with<H: FieldHasher>(a: &mut BatchAssignment<H::F>, outputs: Outputs) {
        let two63 = H::from_u64(1 << 63);
        let pow = |k: u32| H::from_u256(U256::ONE << k);
        let mut next_id = a.state_in.next_id;
        let mut l = a.state_in.total_liabilities;
        let mut d = a.state_in.bad_debt;
        let mut leaves = Vec::new();
        let mut liquidated = Vec::new();
        for s in &a.slots {
            let balance = H::from_u256(s.balance_lane) - two63;
            let mut tv = balance * a.params.quote_scale;
            let mut mr = H::from_u64(0);
            for (m, lane) in s.size_lanes.iter().enumerate() {
                let size = H::from_u256(*lane) - two63;
                tv = tv + size * a.params.unit_value[m];
                let magnitude = if *lane >= U256::from(1u64 << 63) {
                    size
                } else {
                    H::from_u64(0) - size
                };
                mr = mr + magnitude * a.params.unit_requirement[m];
            }
            let liability = if !non_negative::<H>(tv) {
                H::from_u64(0)
            } else {
                tv
            };
            l = l + liability;
            d = d + liability - tv;
            if !non_negative::<H>(tv * H::from_u64(10_000) - mr) {
                liquidated.push(s.id);
            }
            if !s.pad {
                next_id = s.id + H::from_u64(1);
            }
            let mut lanes = vec![s.id, H::from_u256(s.balance_lane)];
            lanes.extend(s.size_lanes.iter().map(|v| H::from_u256(*v)));
            let mut words: Vec<H::F> = lanes
                .chunks(3)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(H::from_u64(0), |acc, (k, v)| acc + *v * pow(64 * k as u32))
                })
                .collect();
            if s.pad {
                words[0] = words[0] + pow(192);
            }
            leaves.push(absorb_chain::<H>(s.salt, &words));
        }
        while leaves.len() > 1 {
            leaves = leaves.chunks(TREE_ARITY).map(H::hash).collect();
        }
        let accounts = H::hash(&[a.state_in.accounts, leaves[0]]);
        if outputs == Outputs::Derived {
            let liq = liquidations_hash_of_words(liquidated.iter().map(be_word::<H>));
            a.accounts_commitment = accounts;
            a.challenge = challenge::<H>(a.params.descriptor, accounts, liq);
            a.liquidation_product = liquidated
                .iter()
                .fold(H::from_u64(1), |acc, id| acc * (a.challenge - *id));
            a.bad_debt = d;
            a.solvent = non_negative::<H>(a.params.reserves - l);
            a.insurance_covered = non_negative::<H>(a.params.insurance_fund - d);
            if a.disclosure != H::from_u64(0) {
                a.disclosure = l + H::from_u64(1);
            }
        }
        let p: H::F = a.state_in.liquidation_product
            * liquidated
                .iter()
                .fold(H::from_u64(1), |acc, id| acc * (a.challenge - *id));
        let commit = |blind: H::F, n: H::F, l: H::F, d: H::F, p: H::F, acc: H::F| {
            H::hash(&[tag::<H>(tags::STATE), blind, n, l, d, p, acc])
        };
        let si = a.state_in.clone();
        let c_in = commit(
            a.blind_in,
            si.next_id,
            si.total_liabilities,
            si.bad_debt,
            si.liquidation_product,
            si.accounts,
        );
        let c_out = commit(a.blind_out, next_id, l, d, p, accounts);
        a.commitment_in = if a.batch == H::from_u64(0) {
            H::from_u64(0)
        } else {
            c_in
        };
        a.commitment_out = c_out;
        a.public_input = batch_digest::<H>(a, c_in, c_out);
    }

    /// The hashed layout's `x_b = H(TAG_BATCH, params_hash, b, K, C_{b−1}, C_b, O)`
    /// of `a`'s parameters, position and outputs, with the given chain ends.
    fn batch_digest<H: FieldHasher>(a: &BatchAssignment<H::F>, c_in: H::F, c_out: H::F) -> H::F {
        let o = H::hash(&[
            tag::<H>(tags::OUTPUTS),
            a.accounts_commitment,
            a.challenge,
            a.liquidation_product,
            a.bad_debt,
            H::from_u64(u64::from(a.solvent)),
            H::from_u64(u64::from(a.insurance_covered)),
            a.disclosure,
        ]);
        H::hash(&[
            tag::<H>(tags::BATCH),
            params_hash::<H>(&a.params),
            a.batch,
            a.batch_count,
            c_in,
            c_out,
            o,
        ])
    }

    /// The Groth16 catalogue's stand-in for "the instance is the verifier's": the
    /// hashed layout's `x_b` over the open inputs the R1CS circuit assigns from `a`
    /// (`C_{b−1}` read as `C_init` of the epoch for `b = 0`, whose open input is 0).
    /// `x_b` is a Poseidon digest of every open input, so it equals the published
    /// `x_b` exactly when the instance is the published one.
    pub(crate) fn open_digest<H: FieldHasher>(a: &BatchAssignment<H::F>) -> H::F {
        let state_in = if a.batch == H::from_u64(0) {
            let start = H::hash(&[tag::<H>(tags::ACCOUNTS), a.params.epoch]);
            let one = H::from_u64(1);
            let zero = H::from_u64(0);
            H::hash(&[tag::<H>(tags::STATE), zero, zero, zero, zero, one, start])
        } else {
            a.commitment_in
        };
        batch_digest::<H>(a, state_in, a.commitment_out)
    }
}
