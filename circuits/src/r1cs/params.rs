//! The epoch parameters in the R1CS circuits (`docs/SPEC.md` §5.5): in the batch
//! circuit unpacked from the packed public inputs of the open layout (§6.4) and
//! scaled there, or, in the attestation circuit, witnesses bound to its public input
//! through `params_hash`, computed exactly as
//! [`params_hash`](crate::native::commit::params_hash) computes it natively. Either
//! way the verifier derives the inputs from validated published values, so the
//! derived parameters need no range checks of their own; the packed parts are
//! range-checked to their widths so that a word has one reading only.

use super::assignment::BatchAssignment;
use super::bits::alloc_bits_le;
use super::brackets::BracketVars;
use super::collateral::AssetVars;
use super::poseidon::{absorb, poseidon, tag_const};
use crate::assignment::{ParamsAssignment, field_from_i256};
use crate::bounds::BPS_DENOMINATOR;
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::inputs::{
    BATCH_BITS, BATCH_COUNT_BITS, EXPONENT_BITS, FUND_BITS, MARGIN_BITS, Packed, U64_BITS, pack,
    packed_words, with_offsets,
};
use crate::native::commit::tags;
use crate::native::risk::RiskParams;
use crate::shape::AttestationShape;
use crate::shape::CircuitShape;
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
use ethnum::I256;
use ethnum::U256;

/// The epoch parameters as circuit variables.
pub(crate) struct ParamVars {
    pub(crate) quote_scale: FpVar<Fr>,
    pub(crate) reserves: FpVar<Fr>,
    pub(crate) insurance_fund: FpVar<Fr>,
    pub(crate) unit_value: Vec<FpVar<Fr>>,
    pub(crate) unit_requirement: Vec<FpVar<Fr>>,
    pub(crate) epoch: FpVar<Fr>,
    /// Risk model v2: per market its `T` brackets (empty lists for `T = 1`).
    pub(crate) brackets: Vec<BracketVars>,
    /// Risk model v2: per collateral asset, `uv_c` and `hv_c = uv_c·ratio_bps_c`.
    pub(crate) assets: Vec<AssetVars>,
    /// Per collateral asset, `reserves_c` in minimal asset units.
    pub(crate) asset_reserves: Vec<FpVar<Fr>>,
    /// `reserves·f_q + Σ_c reserves_c·uv_c`: every reserve's value (`reserves` alone
    /// without assets).
    pub(crate) reserves_value: FpVar<Fr>,
    /// The waterfall (`docs/SPEC.md` §2.4): per market `uf_m = uv_m·lf_m`, a
    /// liquidated minimal size unit's fee times `10^4` (empty without the waterfall).
    pub(crate) unit_fees: Vec<FpVar<Fr>>,
}

/// The waterfall's published values, unpacked (a waterfall shape).
pub(crate) struct WaterfallVars {
    /// `F'`, in 240 bits.
    pub(crate) fees: FpVar<Fr>,
    /// `h` (ppb), in 30 bits (and at most `10^9` by `waterfall.rate.range`).
    pub(crate) ppb: FpVar<Fr>,
    /// `shortfall`.
    pub(crate) shortfall: Boolean<Fr>,
}

/// The open layout's packed words, unpacked: the parameters, scaled, and the other
/// packed values (`docs/SPEC.md` §6.4).
pub(crate) struct PackedVars {
    pub(crate) params: ParamVars,
    pub(crate) solvent: Boolean<Fr>,
    pub(crate) insurance_covered: Boolean<Fr>,
    /// Per collateral asset, its published solvency (risk model v2).
    pub(crate) asset_solvent: Vec<Boolean<Fr>>,
    /// Per collateral asset, its disclosure word `ℓ_c`, in 96 bits (risk model v2).
    pub(crate) asset_disclosure: Vec<FpVar<Fr>>,
    pub(crate) batch: FpVar<Fr>,
    pub(crate) batch_count: FpVar<Fr>,
    /// The waterfall's published values (a waterfall shape).
    pub(crate) waterfall: Option<WaterfallVars>,
}

impl ParamVars {
    /// Allocates the packed words of the open layout (`docs/SPEC.md` §6.4) as the
    /// first `2 + ⌈M/3⌉` public inputs, and unpacks them: every part is allocated bit
    /// by bit at its width and each word is enforced equal to its parts' sum
    /// (namespace `params.unpack`: the parts' bits, plus 1 per word); every word is
    /// below `2^249`, so the parts are the verifier's. Then derives the scaled
    /// parameters (namespace `params.scale`): `10^e` from the 5 bits of each
    /// exponent `e` as `Π (1 + e_i·(10^(2^i) − 1))` (4 constraints),
    /// `reserves·f_q`, `insurance_fund·f_q`, `uv_m = price_m·f_m`,
    /// `ur_m = uv_m·mm_m`; for risk model v2 (namespace `params.risk`) each
    /// bracket's `cum'_t = cum'_{t−1} + floor_t·f_q·(mm_t − mm_{t−1})` (2 per
    /// bracket), and per asset `uv_c = price_c·f_c`, `hv_c = uv_c·ratio_c` and
    /// `reserves_c·uv_c` (3, plus 4 for `f_c`).
    pub(crate) fn alloc_packed(
        cs: &ConstraintSystemRef<Fr>,
        a: Option<&BatchAssignment>,
        shape: &CircuitShape,
    ) -> Result<PackedVars, SynthesisError> {
        let markets = shape.markets();
        let extra = shape.brackets() - 1;
        let native = a.map(native_parts);
        let word_values = native.as_ref().map(|p| {
            packed_words(p)
                .iter()
                .map(|w| pack::<Bn254Poseidon>(w))
                .collect::<Vec<_>>()
        });
        let words = (0..crate::inputs::shape_word_count(shape))
            .map(|i| {
                FpVar::new_input(cs.clone(), || {
                    word_values
                        .as_ref()
                        .map(|w| w[i])
                        .ok_or(SynthesisError::AssignmentMissing)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let parts = {
            let _ns = ns!(cs, "params.unpack");
            let part = |f: &dyn Fn(&Packed<Fr>) -> Fr, bits: u32| {
                let value = native.as_ref().map(|p| to_u256(f(p)));
                alloc_bits_le(cs.clone(), value, bits as usize, AllocationMode::Witness)
            };
            let flag = |f: &dyn Fn(&Packed<Fr>) -> Fr| part(f, 1);
            let (_, reserves) = part(&|p| p.reserves, FUND_BITS)?;
            let (_, epoch) = part(&|p| p.epoch, U64_BITS)?;
            let quote_exponent = part(&|p| p.quote_exponent, EXPONENT_BITS)?;
            let (solvent, _) = flag(&|p| p.solvent)?;
            let (covered, _) = flag(&|p| p.insurance_covered)?;
            let (_, insurance_fund) = part(&|p| p.insurance_fund, FUND_BITS)?;
            let (_, batch) = part(&|p| p.batch, BATCH_BITS)?;
            let (_, batch_count) = part(&|p| p.batch_count, BATCH_COUNT_BITS)?;
            let mut market_parts = Vec::with_capacity(markets);
            for m in 0..markets {
                let (_, price) = part(&|p| p.markets[m][0], U64_BITS)?;
                let (_, margin) = part(&|p| p.markets[m][1], MARGIN_BITS)?;
                let exponent = part(&|p| p.markets[m][2], EXPONENT_BITS)?;
                market_parts.push((price, margin, exponent));
            }
            let mut bracket_parts = Vec::with_capacity(markets * extra);
            for i in 0..markets * extra {
                let (_, threshold) = part(&|p| p.brackets[i][0], crate::inputs::THRESHOLD_BITS)?;
                let (_, rate) = part(&|p| p.brackets[i][1], MARGIN_BITS)?;
                let (_, floor) = part(&|p| p.brackets[i][2], crate::inputs::FLOOR_BITS)?;
                bracket_parts.push([threshold, rate, floor]);
            }
            let mut asset_parts = Vec::with_capacity(shape.assets());
            for c in 0..shape.assets() {
                let (_, price) = part(&|p| p.assets[c][0], U64_BITS)?;
                let (_, ratio) = part(&|p| p.assets[c][1], MARGIN_BITS)?;
                let exponent = part(&|p| p.assets[c][2], EXPONENT_BITS)?;
                let (_, reserves) = part(&|p| p.assets[c][3], crate::inputs::ASSET_RESERVE_BITS)?;
                let (ok, _) = flag(&|p| p.assets[c][4])?;
                asset_parts.push((price, ratio, exponent, reserves, ok[0].clone()));
            }
            // SPEC §6.4: each ℓ_c in 96 bits (the range check of the disclosure word;
            // the honest ℓ_c = h_c + 1 ≤ 2^95).
            let mut disclosure_parts = Vec::with_capacity(shape.assets());
            for c in 0..shape.assets() {
                let (_, l) = part(
                    &|p| p.asset_disclosures[c],
                    crate::inputs::ASSET_DISCLOSURE_BITS,
                )?;
                disclosure_parts.push(l);
            }
            // The waterfall (SPEC §2.4, §6.4): F' (240), h (30), shortfall (1) and
            // each market's fee rate (14).
            let waterfall_parts = if shape.has_waterfall() {
                let get =
                    |i: usize| move |p: &Packed<Fr>| p.waterfall.map_or(Fr::from(0u64), |w| w[i]);
                let (_, fees) = part(&get(0), crate::inputs::WATERFALL_FEES_BITS)?;
                let (_, ppb) = part(&get(1), crate::inputs::HAIRCUT_BITS)?;
                let (short, short_fp) = flag(&get(2))?;
                Some((fees, ppb, short[0].clone(), short_fp))
            } else {
                None
            };
            let mut fee_parts = Vec::with_capacity(markets);
            if shape.has_waterfall() {
                for m in 0..markets {
                    let (_, rate) = part(&|p| p.fee_rates[m], MARGIN_BITS)?;
                    fee_parts.push(rate);
                }
            }
            let vars = Packed {
                reserves: reserves.clone(),
                epoch: epoch.clone(),
                quote_exponent: quote_exponent.1.clone(),
                solvent: FpVar::from(solvent[0].clone()),
                insurance_covered: FpVar::from(covered[0].clone()),
                insurance_fund: insurance_fund.clone(),
                batch: batch.clone(),
                batch_count: batch_count.clone(),
                markets: (market_parts.iter())
                    .map(|(p, mm, e)| [p.clone(), mm.clone(), e.1.clone()])
                    .collect(),
                brackets: bracket_parts.clone(),
                assets: (asset_parts.iter())
                    .map(|(p, r, e, res, ok)| {
                        [
                            p.clone(),
                            r.clone(),
                            e.1.clone(),
                            res.clone(),
                            FpVar::from(ok.clone()),
                        ]
                    })
                    .collect(),
                asset_disclosures: disclosure_parts,
                waterfall: (waterfall_parts.as_ref())
                    .map(|(f, h, _, s)| [f.clone(), h.clone(), s.clone()]),
                fee_rates: fee_parts,
            };
            for (word, parts) in words.iter().zip(packed_words(&vars)) {
                let mut sum = FpVar::zero();
                for (part, at) in with_offsets(&parts) {
                    sum += part * Bn254Poseidon::from_u256(U256::ONE << at);
                }
                sum.enforce_equal(word)?;
            }
            (
                vars,
                solvent,
                covered,
                quote_exponent.0,
                market_parts,
                bracket_parts,
                asset_parts,
                waterfall_parts,
            )
        };
        let (
            vars,
            solvent,
            covered,
            quote_bits,
            market_parts,
            bracket_parts,
            asset_parts,
            waterfall_parts,
        ) = parts;

        let (quote_scale, reserves, insurance_fund, unit_value, unit_requirement) = {
            let _ns = ns!(cs, "params.scale");
            let quote_scale = power_of_ten(&quote_bits)?;
            let reserves = &vars.reserves * &quote_scale;
            let insurance_fund = &vars.insurance_fund * &quote_scale;
            let mut unit_value = Vec::with_capacity(markets);
            let mut unit_requirement = Vec::with_capacity(markets);
            for (price, margin, (bits, _)) in &market_parts {
                let uv = price * power_of_ten(bits)?;
                unit_requirement.push(&uv * margin);
                unit_value.push(uv);
            }
            (
                quote_scale,
                reserves,
                insurance_fund,
                unit_value,
                unit_requirement,
            )
        };

        // The waterfall (SPEC §2.4): uf_m = uv_m·lf_m, one product per market.
        let unit_fees = {
            let _ns = ns!(cs, "params.waterfall");
            (unit_value.iter())
                .zip(&vars.fee_rates)
                .map(|(uv, lf)| uv * lf)
                .collect()
        };

        // Risk model v2 (SPEC §2.2, §6.4): the brackets (the first at floor 0 and
        // the market's own rate; s_0 = 0, cum'_0 = 0) and the assets.
        let _ns = ns!(cs, "params.risk");
        let mut brackets = Vec::with_capacity(markets);
        if extra > 0 {
            for (m, (_, margin, _)) in market_parts.iter().enumerate() {
                let mut b = BracketVars {
                    threshold: vec![FpVar::zero()],
                    rate_bps: vec![margin.clone()],
                    cum_bps: vec![FpVar::zero()],
                    rates_per_size_unit: false,
                };
                for [threshold, rate, floor] in &bracket_parts[m * extra..(m + 1) * extra] {
                    let step = floor * &quote_scale;
                    let last = b.rate_bps.len() - 1;
                    let cum = &b.cum_bps[last] + step * (rate - &b.rate_bps[last]);
                    b.threshold.push(threshold.clone());
                    b.rate_bps.push(rate.clone());
                    b.cum_bps.push(cum);
                }
                brackets.push(b);
            }
        }
        let mut assets = Vec::with_capacity(asset_parts.len());
        let mut asset_reserves = Vec::with_capacity(asset_parts.len());
        let mut reserves_value = reserves.clone();
        for (price, ratio, (bits, _), raw_reserves, _) in &asset_parts {
            let unit_value = price * power_of_ten(bits)?;
            reserves_value += raw_reserves * &unit_value;
            assets.push(AssetVars {
                haircut_value: &unit_value * ratio,
                unit_value,
            });
            asset_reserves.push(raw_reserves.clone());
        }
        Ok(PackedVars {
            params: Self {
                quote_scale,
                reserves,
                insurance_fund,
                unit_value,
                unit_requirement,
                epoch: vars.epoch,
                brackets,
                assets,
                asset_reserves,
                reserves_value,
                unit_fees,
            },
            solvent: solvent[0].clone(),
            insurance_covered: covered[0].clone(),
            asset_solvent: asset_parts.into_iter().map(|(.., ok)| ok).collect(),
            asset_disclosure: vars.asset_disclosures,
            batch: vars.batch,
            batch_count: vars.batch_count,
            waterfall: waterfall_parts.map(|(fees, ppb, shortfall, _)| WaterfallVars {
                fees,
                ppb,
                shortfall,
            }),
        })
    }

    /// Allocates the parameters as witnesses and hashes them, in the namespace
    /// `params.hash` (1,224 constraints at `M = 8`): the attestation circuit's
    /// `params_hash = absorb(H(TAG_PARAMS, epoch, M, f_q, reserves·f_q,
    /// insurance_fund·f_q, d), uv_0, ur_0, …)`, followed for a risk model v2 shape
    /// by the values of [`crate::native::risk::RiskParams::hashed`] (one absorb over
    /// them all, as natively): per market its `T − 1` brackets `[s_t, δur_t,
    /// δcum_t]`, per asset `[uv_c, lv_c, reserves_c]`, then the total reserves.
    ///
    /// From those it derives, linearly (no constraint), what the shared gadgets
    /// read: per market the brackets with `s_0 = 0`, `ur_t = ur_m + Σ_{k≤t} δur_k`
    /// (rates per minimal size unit) and `cum'_t = Σ_{k≤t} δcum_k`; per asset
    /// `hv_c = 10000·uv_c − lv_c = uv_c·ratio_c`. Like every parameter, they need
    /// no range check: the verifier derives the hashed values (§5.5).
    pub(crate) fn alloc_hashed(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        risk: Option<&HashedRisk>,
        shape: &AttestationShape,
    ) -> Result<(Self, FpVar<Fr>), SynthesisError> {
        let markets = shape.markets();
        let mut params = Self::alloc_mode(cs, values, markets, AllocationMode::Witness)?;
        let descriptor = FpVar::new_witness(cs.clone(), || {
            values
                .map(|p| p.descriptor)
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        let mut absorbed: Vec<_> = params
            .unit_value
            .iter()
            .zip(&params.unit_requirement)
            .flat_map(|(v, r)| [v.clone(), r.clone()])
            .collect();
        if shape.is_risk_model_v2() {
            let hashed = HashedRiskVars::alloc(cs, risk, shape)?;
            absorbed.extend(hashed.flat());
            params.derive_risk(hashed);
        }
        let _ns = ns!(cs, "params.hash");
        let head = poseidon(
            cs.clone(),
            &[
                tag_const(tags::PARAMS),
                params.epoch.clone(),
                FpVar::constant(Fr::from(markets as u64)),
                params.quote_scale.clone(),
                params.reserves.clone(),
                params.insurance_fund.clone(),
                descriptor,
            ],
        )?;
        let hash = absorb(cs, head, &absorbed)?;
        Ok((params, hash))
    }

    /// The brackets and assets of the hashed layout (see [`Self::alloc_hashed`]).
    fn derive_risk(&mut self, hashed: HashedRiskVars) {
        let extra = hashed.brackets.first().map_or(0, Vec::len);
        if extra > 0 {
            self.brackets = (hashed.brackets.into_iter())
                .zip(&self.unit_requirement)
                .map(|(steps, first_rate)| {
                    let mut b = BracketVars {
                        threshold: vec![FpVar::zero()],
                        rate_bps: vec![first_rate.clone()],
                        cum_bps: vec![FpVar::zero()],
                        rates_per_size_unit: true,
                    };
                    for [threshold, rate_step, cum_step] in steps {
                        let rate = &b.rate_bps[b.rate_bps.len() - 1] + rate_step;
                        let cum = &b.cum_bps[b.cum_bps.len() - 1] + cum_step;
                        b.threshold.push(threshold);
                        b.rate_bps.push(rate);
                        b.cum_bps.push(cum);
                    }
                    b
                })
                .collect();
        }
        let bps = Fr::from(BPS_DENOMINATOR);
        for [unit_value, haircut, reserves] in hashed.assets {
            self.assets.push(AssetVars {
                haircut_value: &unit_value * bps - haircut,
                unit_value,
            });
            self.asset_reserves.push(reserves);
        }
        self.reserves_value = hashed.total_reserves;
    }

    fn alloc_mode(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        markets: usize,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let witness = |f: &dyn Fn(&ParamsAssignment<Fr>) -> Fr| {
            FpVar::new_variable(
                cs.clone(),
                || values.map(f).ok_or(SynthesisError::AssignmentMissing),
                mode,
            )
        };
        let epoch = witness(&|p| p.epoch)?;
        let quote_scale = witness(&|p| p.quote_scale)?;
        let reserves = witness(&|p| p.reserves)?;
        let insurance_fund = witness(&|p| p.insurance_fund)?;
        let mut unit_value = Vec::with_capacity(markets);
        let mut unit_requirement = Vec::with_capacity(markets);
        for m in 0..markets {
            unit_value.push(witness(&|p| p.unit_value[m])?);
            unit_requirement.push(witness(&|p| p.unit_requirement[m])?);
        }
        Ok(Self {
            reserves_value: reserves.clone(),
            quote_scale,
            reserves,
            insurance_fund,
            unit_value,
            unit_requirement,
            epoch,
            brackets: Vec::new(),
            assets: Vec::new(),
            asset_reserves: Vec::new(),
            unit_fees: Vec::new(),
        })
    }
}

/// The packed parts of an assignment, as the verifier would pack them.
fn native_parts(a: &BatchAssignment) -> Packed<Fr> {
    let p = &a.params;
    Packed {
        reserves: p.raw_reserves,
        epoch: p.epoch,
        quote_exponent: p.quote_exponent,
        solvent: Fr::from(a.solvent),
        insurance_covered: Fr::from(a.insurance_covered),
        insurance_fund: p.raw_insurance_fund,
        batch: a.batch,
        batch_count: a.batch_count,
        markets: (0..p.prices.len())
            .map(|m| [p.prices[m], p.margin_bps[m], p.market_exponents[m]])
            .collect(),
        brackets: (0..p.bracket_thresholds.len())
            .flat_map(|m| {
                (0..p.bracket_thresholds[m].len()).map(move |t| {
                    [
                        p.bracket_thresholds[m][t],
                        p.bracket_rates[m][t],
                        p.bracket_floors[m][t],
                    ]
                })
            })
            .collect(),
        assets: (0..p.asset_prices.len())
            .map(|c| {
                [
                    p.asset_prices[c],
                    p.asset_ratios[c],
                    p.asset_exponents[c],
                    p.asset_reserves[c],
                    Fr::from((a.asset_solvency >> c) & 1),
                ]
            })
            .collect(),
        asset_disclosures: a.asset_disclosure.clone(),
        waterfall: a.waterfall,
        fee_rates: p.fee_rates.clone(),
    }
}

fn to_u256(x: Fr) -> U256 {
    U256::from_le_bytes(Bn254Poseidon::to_le_bytes(&x))
}

/// `10^e` for the exponent with little-endian bits `bits`:
/// `Π_i (1 + e_i·(10^(2^i) − 1))`, one constraint per bit after the first.
fn power_of_ten(bits: &[Boolean<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let mut power = FpVar::one();
    let mut ten = Fr::from(10u64);
    for (i, bit) in bits.iter().enumerate() {
        let factor = FpVar::from(bit.clone()) * (ten - Fr::ONE) + Fr::ONE;
        power = if i == 0 { factor } else { power * factor };
        ten = ten * ten;
    }
    Ok(power)
}

/// The risk model v2 values `params_hash` absorbs after the markets'
/// ([`crate::native::risk::RiskParams::hashed`]), as field elements: the attestation
/// circuit's witnesses.
#[derive(Debug, Clone)]
pub(crate) struct HashedRisk {
    /// Per market, its `T − 1` brackets after the first: `[s_t, δur_t, δcum_t]`.
    pub(crate) brackets: Vec<Vec<[Fr; 3]>>,
    /// Per asset: `[uv_c, lv_c, reserves_c]`.
    pub(crate) assets: Vec<[Fr; 3]>,
    /// `reserves·f_q + Σ_c reserves_c·uv_c`.
    pub(crate) total_reserves: Fr,
}

impl HashedRisk {
    /// The values of `risk`, embedded.
    pub(crate) fn new(risk: &RiskParams) -> Self {
        let fr = |v: &I256| field_from_i256::<Bn254Poseidon>(*v);
        Self {
            brackets: (risk.brackets.iter())
                .map(|bs| bs.iter().map(|b| b.each_ref().map(fr)).collect())
                .collect(),
            assets: risk.assets.iter().map(|a| a.each_ref().map(fr)).collect(),
            total_reserves: fr(&risk.total_reserves),
        }
    }

    /// In the order `params_hash` absorbs them (nothing for risk model v1): what
    /// the tests' native re-hash of a raw assignment absorbs.
    #[cfg(test)]
    pub(crate) fn hashed(&self) -> Vec<Fr> {
        if self.brackets.iter().all(Vec::is_empty) && self.assets.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Fr> = self.brackets.iter().flatten().flatten().copied().collect();
        out.extend(self.assets.iter().flatten().copied());
        out.push(self.total_reserves);
        out
    }
}

/// [`HashedRisk`] as witnesses.
struct HashedRiskVars {
    brackets: Vec<Vec<[FpVar<Fr>; 3]>>,
    assets: Vec<[FpVar<Fr>; 3]>,
    total_reserves: FpVar<Fr>,
}

impl HashedRiskVars {
    /// Allocates the values of a risk model v2 `shape` (`None` in setup mode).
    fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        risk: Option<&HashedRisk>,
        shape: &AttestationShape,
    ) -> Result<Self, SynthesisError> {
        let witness = |f: &dyn Fn(&HashedRisk) -> Option<Fr>| {
            FpVar::new_witness(cs.clone(), || {
                risk.and_then(f).ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let triple = |f: &dyn Fn(&HashedRisk) -> Option<[Fr; 3]>| {
            Ok::<_, SynthesisError>([
                witness(&|r| f(r).map(|v| v[0]))?,
                witness(&|r| f(r).map(|v| v[1]))?,
                witness(&|r| f(r).map(|v| v[2]))?,
            ])
        };
        let brackets = (0..shape.markets())
            .map(|m| {
                (0..shape.brackets() - 1)
                    .map(|t| triple(&|r| r.brackets.get(m)?.get(t).copied()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let assets = (0..shape.assets())
            .map(|c| triple(&|r| r.assets.get(c).copied()))
            .collect::<Result<Vec<_>, _>>()?;
        let total_reserves = witness(&|r| Some(r.total_reserves))?;
        Ok(Self {
            brackets,
            assets,
            total_reserves,
        })
    }

    /// In the order `params_hash` absorbs them.
    fn flat(&self) -> Vec<FpVar<Fr>> {
        let mut out: Vec<FpVar<Fr>> = self.brackets.iter().flatten().flatten().cloned().collect();
        out.extend(self.assets.iter().flatten().cloned());
        out.push(self.total_reserves.clone());
        out
    }
}
