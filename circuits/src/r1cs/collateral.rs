//! Collateral assets in R1CS (risk model v2, `docs/SPEC.md` §2.2): an account's
//! signed amount of one asset as a lane, its value at full price (for `TV`), 10000
//! times its margin value (the collateral ratio for a held amount, in full for a
//! debt: for `MV'`) and its held amount `max(amount, 0)` (for the asset's total
//! against its reserves). The native twin is
//! [`crate::native::risk::asset_contribution`].
//!
//! The batch circuit uses it for every asset of a shape with `A > 0` assets
//! (`docs/SPEC.md` §8.2, namespace `account[j].holding[c]`), and the attestation
//! circuit without the held amount ([`asset_value`], namespace
//! `account.holding[c]`, with `hv_c = 10000·uv_c − lv_c` from its hashed
//! parameters); it is also tested here on its own.
//!
//! # Constraints (one asset)
//!
//! | name | constraints | relation |
//! | --- | --- | --- |
//! | `asset.lane.range` | 64 | `lane = amount + 2^63 ∈ [0, 2^64)` |
//! | `asset.lane.nonzero` | 1 | `lane ≠ 0`, so `|amount| < 2^63` |
//! | `asset.value` | 1 | `v = amount · uv_c` |
//! | `asset.margin` | 2 | `w = amount · hv_c`, `MV'_c = 10000·v + s·(w − 10000·v)` |
//! | `asset.held` | 1 | `h = s · amount` |
//!
//! `s` is bit 63 of the lane, 1 iff `amount ≥ 0`, and `hv_c = uv_c · ratio_bps_c`
//! is public (derived by the verifier from the published parameters). So a held
//! amount counts at `uv_c · ratio_bps_c` and a debt at `uv_c · 10000`; for a
//! zero amount both are 0, as natively. The sign is the lane's own bit: no witness
//! can apply the haircut to a debt or skip it on a holding without breaking the
//! lane's decomposition.

use super::account::signed_lane;
use crate::bounds::{BPS_DENOMINATOR, LANE_OFFSET};
use ark_bn254::Fr;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
use ethnum::U256;

/// An asset's public values as the circuit reads them.
#[derive(Debug)]
pub struct AssetVars {
    /// `uv_c = price_c · f_c`: one minimal unit's value in common units.
    pub unit_value: FpVar<Fr>,
    /// `hv_c = uv_c · ratio_bps_c`.
    pub haircut_value: FpVar<Fr>,
}

/// One asset amount's terms.
#[derive(Debug)]
pub struct AssetTerms {
    /// The lane `amount + 2^63` (for the leaf).
    pub lane: FpVar<Fr>,
    /// `amount · uv_c`, added to `TV`.
    pub value: FpVar<Fr>,
    /// `amount · uv_c · w'_c`, added to `MV'`.
    pub margin_bps: FpVar<Fr>,
    /// `max(amount, 0)`, added to the asset's total.
    pub held: FpVar<Fr>,
}

/// One asset amount's terms without its held amount: what the attestation circuit
/// reads (it carries no per-asset totals, so it skips `asset.held`).
#[derive(Debug)]
pub struct AssetValue {
    /// The lane `amount + 2^63` (for the leaf).
    pub lane: FpVar<Fr>,
    /// `amount · uv_c`, added to `TV`.
    pub value: FpVar<Fr>,
    /// `amount · uv_c · w'_c`, added to `MV'`.
    pub margin_bps: FpVar<Fr>,
}

/// Allocates an amount's lane from its raw value (`amount + 2^63`; `None` in
/// setup mode) and computes its terms (see the module docs).
pub fn asset_terms(
    cs: &ConstraintSystemRef<Fr>,
    lane_value: Option<U256>,
    asset: &AssetVars,
) -> Result<AssetTerms, SynthesisError> {
    let (valued, held_sign, amount) = valued(cs, lane_value, asset)?;
    let held = {
        let _ns = ns!(cs, "asset.held");
        &held_sign * &amount
    };
    Ok(AssetTerms {
        lane: valued.lane,
        value: valued.value,
        margin_bps: valued.margin_bps,
        held,
    })
}

/// [`asset_terms`] without `asset.held`: the lane (`asset.lane.range`,
/// `asset.lane.nonzero`), the value (`asset.value`) and the margin term
/// (`asset.margin`), 68 constraints.
pub fn asset_value(
    cs: &ConstraintSystemRef<Fr>,
    lane_value: Option<U256>,
    asset: &AssetVars,
) -> Result<AssetValue, SynthesisError> {
    valued(cs, lane_value, asset).map(|(v, ..)| v)
}

/// The lane, value and margin term, with the lane's sign bit `s` (1 iff held) and
/// the signed amount.
fn valued(
    cs: &ConstraintSystemRef<Fr>,
    lane_value: Option<U256>,
    asset: &AssetVars,
) -> Result<(AssetValue, FpVar<Fr>, FpVar<Fr>), SynthesisError> {
    let (bits, lane) = {
        let _ns = ns!(cs, "asset.lane");
        signed_lane(cs, lane_value)?
    };
    let held_sign = FpVar::from(bits[63].clone());
    let amount = &lane - FpVar::constant(Fr::from(LANE_OFFSET));
    let value = {
        let _ns = ns!(cs, "asset.value");
        &amount * &asset.unit_value
    };
    let margin_bps = {
        let _ns = ns!(cs, "asset.margin");
        let haircut = &amount * &asset.haircut_value;
        let full = &value * Fr::from(BPS_DENOMINATOR);
        &full + &held_sign * (haircut - &full)
    };
    Ok((
        AssetValue {
            lane,
            value,
            margin_bps,
        },
        held_sign,
        amount,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::field_from_i256;
    use crate::hash::Bn254Poseidon;
    use crate::native::risk::asset_contribution;
    use crate::r1cs::names::testing::{Probe, first_unsatisfied};
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::eq::EqGadget;
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
    use ethnum::I256;
    use proptest::prelude::*;

    fn fr(v: I256) -> Fr {
        field_from_i256::<Bn254Poseidon>(v)
    }

    /// One amount through the gadget, its terms checked against claimed values.
    struct Holding {
        amount: i64,
        unit_value: I256,
        ratio_bps: I256,
        /// `(value, margin_bps, held)`.
        claimed: (I256, I256, I256),
    }

    impl Holding {
        /// The native terms.
        fn honest(amount: i64, unit_value: i128, ratio_bps: i128) -> Self {
            let (unit_value, ratio_bps) = (I256::from(unit_value), I256::from(ratio_bps));
            let (value, margin) = asset_contribution(I256::from(amount), unit_value, ratio_bps);
            Self {
                amount,
                unit_value,
                ratio_bps,
                claimed: (value, margin, I256::from(amount.max(0))),
            }
        }
    }

    impl ConstraintSynthesizer<Fr> for Holding {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let input = |v: I256| FpVar::new_input(cs.clone(), || Ok(fr(v)));
            let asset = AssetVars {
                unit_value: input(self.unit_value)?,
                haircut_value: input(self.unit_value * self.ratio_bps)?,
            };
            let lane = U256::from(self.amount.wrapping_sub(i64::MIN) as u64);
            let terms = asset_terms(&cs, Some(lane), &asset)?;
            let _ns = ns!(cs, "claim");
            let (value, margin, held) = self.claimed;
            terms.value.enforce_equal(&FpVar::constant(fr(value)))?;
            terms
                .margin_bps
                .enforce_equal(&FpVar::constant(fr(margin)))?;
            terms.held.enforce_equal(&FpVar::constant(fr(held)))
        }
    }

    #[test]
    fn holdings_and_debts_match_native() {
        for amount in [0, 1, -1, 1_000, -1_000, i64::MAX, -i64::MAX] {
            for (uv, ratio) in [(7, 9_000), (7, 10_000), (7, 0), (0, 5_000)] {
                let h = Holding::honest(amount, uv, ratio);
                assert_eq!(first_unsatisfied(h), None, "{amount} at {uv}, {ratio}");
            }
        }
    }

    /// The haircut on a debt, or no haircut on a holding, are claims the gadget
    /// does not make: they fail at the claim, as the gadget's own terms are the
    /// native ones.
    #[test]
    fn a_haircut_on_a_debt_or_none_on_a_holding_is_not_the_gadgets() {
        let debt = Holding::honest(-1_000, 7, 9_000);
        let lie = Holding {
            claimed: (debt.claimed.0, debt.claimed.0 * 9_000, debt.claimed.2),
            ..debt
        };
        assert_eq!(first_unsatisfied(lie).as_deref(), Some("claim"));
        let holding = Holding::honest(1_000, 7, 9_000);
        let lie = Holding {
            claimed: (
                holding.claimed.0,
                holding.claimed.0 * 10_000,
                holding.claimed.2,
            ),
            ..holding
        };
        assert_eq!(first_unsatisfied(lie).as_deref(), Some("claim"));
    }

    /// Every block's own witnesses, tampered with, fail at that block: the lane's
    /// bits (among them the sign that picks the haircut), its inverse, and each
    /// product.
    #[test]
    fn each_relation_fails_at_its_own_name() {
        for amount in [-1_000, 1_000] {
            let probe = Probe::new(Holding::honest(amount, 7, 9_000));
            let names: Vec<String> = probe
                .names()
                .into_iter()
                .filter(|n| *n != "claim")
                .map(str::to_owned)
                .collect();
            assert_eq!(
                names,
                [
                    "asset.lane.range",
                    "asset.lane.nonzero",
                    "asset.value",
                    "asset.margin",
                    "asset.held"
                ]
            );
            for name in &names {
                assert_eq!(
                    probe.tamper(name).as_deref(),
                    Some(name.as_str()),
                    "{amount}"
                );
            }
        }
    }

    /// The amount `−2^63` (lane 0) is refused at `asset.lane.nonzero`.
    #[test]
    fn the_lane_of_minus_two_to_the_63_is_refused() {
        let h = Holding {
            amount: i64::MIN,
            unit_value: I256::ONE,
            ratio_bps: I256::ONE,
            claimed: (I256::ZERO, I256::ZERO, I256::ZERO),
        };
        assert_eq!(first_unsatisfied(h).as_deref(), Some("asset.lane.nonzero"));
    }

    #[test]
    fn constraint_count_is_as_documented() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        Holding::honest(-5, 7, 9_000)
            .generate_constraints(cs.clone())
            .unwrap();
        // range 64, nonzero 1, value 1, margin 2, held 1, and the test's 3 claims.
        assert_eq!(cs.num_constraints(), 64 + 1 + 1 + 2 + 1 + 3);
        assert!(cs.is_satisfied().unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn gadget_matches_native(
            amount in any::<i64>().prop_filter("|amount| < 2^63", |a| *a != i64::MIN),
            unit_value in 0i128..=1i128 << 100,
            ratio in 0i128..=10_000,
        ) {
            prop_assert_eq!(first_unsatisfied(Holding::honest(amount, unit_value, ratio)), None);
        }
    }
}
