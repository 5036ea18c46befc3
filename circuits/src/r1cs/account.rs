//! One account in the R1CS circuits (`docs/SPEC.md` §2.2, §5.2): its lanes, its
//! total value `TV` and maintenance requirement `MR'`, and its leaf. The batch circuit
//! and the attestation circuit both evaluate and encode an account through this
//! module, so they cannot drift apart on the leaf encoding or the margin arithmetic.
//!
//! Constraints at `M` markets: `64·(M + 1)` for the signed lanes' bits and `M + 1`
//! for `lane ≠ 0` ([`SignedLanes::alloc`]); `3M + 1` products for `TV` and `MR'`
//! ([`SignedLanes::margin`]); the leaf's Poseidon hashes ([`SignedLanes::leaf`]: 321
//! at `M = 8`). Each block is named (see [`super::names`]).

use super::bits::{alloc_bits_le, enforce_nonzero, pow2};
use super::brackets::requirement;
use super::names::indexed;
use super::params::ParamVars;
use super::poseidon::absorb;
use crate::bounds::LANE_OFFSET;
use crate::native::commit::PADDING_FLAG_BIT;
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
use ethnum::U256;

/// Bits of a lane (and of the batch circuit's id-gap range check).
pub(crate) const LANE_BITS: usize = 64;

/// Allocates a 64-bit lane bit by bit (64 constraints) from the low 64 bits of a raw
/// value: only those can be assigned, so a wider raw value changes the lane, and so
/// the leaf, instead of failing synthesis.
pub(crate) fn alloc_lane(
    cs: &ConstraintSystemRef<Fr>,
    value: Option<U256>,
) -> Result<(Vec<Boolean<Fr>>, FpVar<Fr>), SynthesisError> {
    alloc_bits_le(
        cs.clone(),
        value.map(|v| v & U256::from(u64::MAX)),
        LANE_BITS,
        AllocationMode::Witness,
    )
}

/// A signed lane `v + 2^63`, 64 bits (`.range`) and not 0 (`.nonzero`), so that
/// `|v| < 2^63`.
pub(crate) fn signed_lane(
    cs: &ConstraintSystemRef<Fr>,
    value: Option<U256>,
) -> Result<(Vec<Boolean<Fr>>, FpVar<Fr>), SynthesisError> {
    let (bits, lane) = {
        let _ns = ns!(cs, "range");
        alloc_lane(cs, value)?
    };
    let _ns = ns!(cs, "nonzero");
    enforce_nonzero(cs.clone(), &lane)?;
    Ok((bits, lane))
}

/// What [`SignedLanes::margin`] computes.
pub(crate) struct Margin {
    /// `balance·f_q + Σ size_m·uv_m`.
    pub(crate) perp: FpVar<Fr>,
    /// `MR'`.
    pub(crate) requirement: FpVar<Fr>,
    /// `|size_m|` per market, each `< 2^63`.
    pub(crate) magnitudes: Vec<FpVar<Fr>>,
}

/// An account's signed lanes, each `v + 2^63`: the quote balance and one size per
/// market.
pub(crate) struct SignedLanes {
    /// The balance lane.
    pub(crate) balance: FpVar<Fr>,
    /// One size lane per market.
    pub(crate) sizes: Vec<FpVar<Fr>>,
    /// Bit 63 of each size lane: `lane ≥ 2^63 ⇔ size ≥ 0`.
    size_signs: Vec<Boolean<Fr>>,
    /// One amount lane per collateral asset (risk model v2), packed after the sizes.
    pub(crate) amounts: Vec<FpVar<Fr>>,
}

impl SignedLanes {
    /// Allocates the balance lane (namespace `lane.balance`) and the size lanes
    /// (`lane.size[m]`) from their raw values (`None` in setup mode).
    pub(crate) fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<(U256, &[U256])>,
        markets: usize,
    ) -> Result<Self, SynthesisError> {
        let (_, balance) = {
            let _ns = ns!(cs, "lane.balance");
            signed_lane(cs, values.map(|(balance, _)| balance))?
        };
        let mut lanes = Vec::with_capacity(markets);
        let mut size_signs = Vec::with_capacity(markets);
        for m in 0..markets {
            let _ns = indexed(cs, "lane.size", m);
            let (bits, lane) = signed_lane(cs, values.map(|(_, sizes)| sizes[m]))?;
            size_signs.push(bits[63].clone());
            lanes.push(lane);
        }
        Ok(Self {
            balance,
            sizes: lanes,
            size_signs,
            amounts: Vec::new(),
        })
    }

    /// `TV = balance·f_q + Σ size_m·uv_m` and `MR' = Σ |size_m|·ur_m` in common
    /// units (`docs/SPEC.md` §2.2): `3M + 1` products, named `tv` (`TV`'s products),
    /// `mr.abs` (`|size_m| = (2·s_m − 1)·size_m`, `s_m` the sign bit) and `mr`.
    ///
    /// With maintenance brackets (risk model v2: `params.brackets` not empty),
    /// `MR' = Σ_m (n_m·mm_t − cum'_t)` instead, each market's term from the bracket
    /// gadget ([`super::brackets::requirement`], namespace `market[m]`) on the
    /// bracket `selected[m]` names (`None` in setup mode).
    ///
    /// Returns `TV` (the balance's and the positions' part), `MR'` and the
    /// magnitudes `|size_m|` (each `< 2^63`), which the waterfall's fee reads.
    pub(crate) fn margin(
        &self,
        cs: &ConstraintSystemRef<Fr>,
        params: &ParamVars,
        selected: Option<&[usize]>,
    ) -> Result<Margin, SynthesisError> {
        let offset = FpVar::constant(Fr::from(LANE_OFFSET));
        let balance = &self.balance - &offset;
        let mut tv = {
            let _ns = ns!(cs, "tv");
            &balance * &params.quote_scale
        };
        let mut requirement_bps = FpVar::zero();
        let mut magnitudes = Vec::with_capacity(self.sizes.len());
        for (m, lane) in self.sizes.iter().enumerate() {
            let size = lane - &offset;
            {
                let _ns = ns!(cs, "tv");
                tv += &size * &params.unit_value[m];
            }
            let sign = FpVar::from(self.size_signs[m].clone()).double()? - Fr::ONE;
            let magnitude = {
                let _ns = ns!(cs, "mr.abs");
                &sign * &size
            };
            magnitudes.push(magnitude.clone());
            if let Some(brackets) = params.brackets.get(m) {
                let _ns = indexed(cs, "market", m);
                let chosen = selected.map(|s| s[m]);
                // Rates per minimal size unit (the hashed layout) apply to |size|.
                let unit = if brackets.rates_per_size_unit {
                    FpVar::one()
                } else {
                    params.unit_value[m].clone()
                };
                let (_, term) = requirement(cs, &magnitude, &unit, brackets, chosen)?;
                requirement_bps += term;
                continue;
            }
            let _ns = ns!(cs, "mr");
            requirement_bps += &magnitude * &params.unit_requirement[m];
        }
        Ok(Margin {
            perp: tv,
            requirement: requirement_bps,
            magnitudes,
        })
    }

    /// The leaf `absorb(salt, words)` (`docs/SPEC.md` §5.2), named `leaf`: the lanes
    /// `id, balance, size_0, …, amount_0, …` packed three to a word, with the padding flag at bit
    /// 192 of word 0 when `padding` is given (the batch circuit's slots; an
    /// attestation opens a real account). `salt` is `None` in setup mode.
    pub(crate) fn leaf(
        self,
        cs: &ConstraintSystemRef<Fr>,
        id: FpVar<Fr>,
        padding: Option<&FpVar<Fr>>,
        salt: Option<Fr>,
    ) -> Result<FpVar<Fr>, SynthesisError> {
        let _ns = ns!(cs, "leaf");
        let mut lanes = Vec::with_capacity(self.sizes.len() + self.amounts.len() + 2);
        lanes.push(id);
        lanes.push(self.balance);
        lanes.extend(self.sizes);
        lanes.extend(self.amounts);
        let mut words: Vec<FpVar<Fr>> = lanes
            .chunks(3)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(FpVar::zero(), |w, (k, l)| w + l * pow2(64 * k))
            })
            .collect();
        if let Some(pad) = padding {
            words[0] += pad * pow2(PADDING_FLAG_BIT as usize);
        }
        let salt =
            FpVar::new_witness(cs.clone(), || salt.ok_or(SynthesisError::AssignmentMissing))?;
        absorb(cs, salt, &words)
    }
}
