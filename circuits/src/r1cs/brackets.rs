//! Maintenance brackets in R1CS (risk model v2, `docs/SPEC.md` §2.2): `MR'_m =
//! n · mm_t − cum'_t` for a position of notional `n = |size| · uv` (common units)
//! in bracket `t`, the last whose floor is at most `n`. The native twin is
//! [`crate::native::risk::bracket_of`] and [`Bracket::requirement_bps`].
//!
//! The batch circuit uses it for every market of a shape with `T > 1` brackets
//! (`docs/SPEC.md` §8.2, namespace `account[j].market[m]`), and so does the
//! attestation circuit (namespace `account.market[m]`), with rates per minimal size
//! unit ([`BracketVars::rates_per_size_unit`]); it is also tested here on its own.
//!
//! # The bracket is selected on the size, not the notional
//!
//! Bracket `t` applies iff `floor_t ≤ n < floor_{t+1}`. Comparing notionals would
//! take range checks as wide as `n` (up to about `2^127` common units). As `uv ≥ 0`
//! is public and `|size|` an integer, for `uv > 0`
//! `floor ≤ |size| · uv ⇔ |size| ≥ ⌈floor / uv⌉`, so the verifier derives one
//! *size threshold* `s_t` per bracket from the published parameters
//! ([`size_thresholds`]) and the circuit compares the 64-bit `|size|` with them.
//! Thresholds are clamped to `2^63`, which no `|size| < 2^63` reaches; with
//! `uv = 0` every threshold but the first is `2^63`, as `n = 0` lies in the first
//! bracket. `s_0 = 0`, and the thresholds do not decrease (the floors increase).
//!
//! # Constraints (`T` brackets)
//!
//! | name | constraints | relation |
//! | --- | --- | --- |
//! | `bracket.select` | `T + 1` | one bit per bracket, exactly one set |
//! | `bracket.pick` | `4T − 1` | `lo = Σ sel_t·s_t`, `hi = Σ sel_t·s_{t+1}` (`s_T = 2^63`, free), `mm = Σ sel_t·mm_t`, `cum = Σ sel_t·cum'_t` |
//! | `bracket.lo` | 64 | `|size| − lo ∈ [0, 2^64)`: `s_t ≤ |size|` |
//! | `bracket.hi` | 64 | `hi − 1 − |size| ∈ [0, 2^64)`: `|size| < s_{t+1}` |
//! | `bracket.mr` | 2 | `n = |size|·uv`, `MR' = n·mm − cum` |
//!
//! Soundness: with the selection one-hot, `lo = s_t` and `hi = s_{t+1}` for the
//! selected `t`. The caller guarantees `|size| ∈ [0, 2^63)` (the size lane's range
//! check), and `0 ≤ s_t ≤ 2^63`, so `|size| − lo ∈ (−2^63, 2^63)` and
//! `hi − 1 − |size| ∈ [−2^63, 2^63)`: each has a 64-bit decomposition iff it is
//! not negative ([`super::bits::enforce_range`]). So exactly the bracket with
//! `s_t ≤ |size| < s_{t+1}` satisfies the system, which is the bracket of `n`.

use super::bits::enforce_range;
use super::names::indexed;
use crate::native::risk::Bracket;
use ark_bn254::Fr;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
use ethnum::I256;

/// Bits of the range checks on sizes: `|size| < 2^63` and thresholds `≤ 2^63`.
const SIZE_BITS: usize = 64;

/// The clamp of every threshold: no `|size| < 2^63` reaches it.
pub const UNREACHABLE: u64 = 1 << 63;

/// The size threshold of each bracket of a market whose minimal size unit is worth
/// `unit_value` common units: the least `|size|` whose notional reaches the
/// bracket's floor, clamped to `2^63` (`docs/SPEC.md` §2.2). The first bracket's
/// floor is 0, so its threshold is 0.
///
/// Native: `s_t = min(⌈floor_t / uv⌉, 2^63)` for `uv > 0`; `s_0 = 0` and
/// `s_t = 2^63` for `t > 0` when `uv = 0`.
pub fn size_thresholds(brackets: &[Bracket], unit_value: I256) -> Vec<u64> {
    brackets
        .iter()
        .map(|b| {
            if b.floor <= I256::ZERO {
                0
            } else if unit_value <= I256::ZERO {
                UNREACHABLE
            } else {
                let ceil = (b.floor + unit_value - 1) / unit_value;
                if ceil >= I256::from(UNREACHABLE) {
                    UNREACHABLE
                } else {
                    ceil.as_u64()
                }
            }
        })
        .collect()
}

/// A market's brackets as the circuit reads them: per bracket its size threshold,
/// rate (bps) and `cum'` (10000 times its maintenance amount), in order.
#[derive(Debug)]
pub struct BracketVars {
    /// `s_t`.
    pub threshold: Vec<FpVar<Fr>>,
    /// `mm_t`.
    pub rate_bps: Vec<FpVar<Fr>>,
    /// `cum'_t`.
    pub cum_bps: Vec<FpVar<Fr>>,
    /// How the rates are read. `false` (the batch circuit's packed layout): `mm_t`
    /// in bps, applied to the notional `n = |size|·uv_m`. `true` (the hashed layout
    /// of the attestation circuit, `docs/SPEC.md` §5.5): `ur_t = uv_m·mm_t`, already
    /// per minimal size unit, applied to `|size|` itself; `MR'_m = |size|·ur_t −
    /// cum'_t` is the same value. The selection and its checks do not change.
    pub rates_per_size_unit: bool,
}

/// `MR'_m = n · mm_t − cum'_t` with `n = magnitude · unit_value` and `t` the bracket
/// the witness `selected` names (the honest one is the bracket of `n`; see the
/// module docs for why no other satisfies the system). `magnitude` must be
/// `|size| ∈ [0, 2^63)`. Returns `(n, MR'_m)`.
pub fn requirement(
    cs: &ConstraintSystemRef<Fr>,
    magnitude: &FpVar<Fr>,
    unit_value: &FpVar<Fr>,
    brackets: &BracketVars,
    selected: Option<usize>,
) -> Result<(FpVar<Fr>, FpVar<Fr>), SynthesisError> {
    let count = brackets.threshold.len();
    let select = {
        let _ns = ns!(cs, "bracket.select");
        let bits = (0..count)
            .map(|t| {
                Boolean::new_witness(cs.clone(), || {
                    selected
                        .map(|s| s == t)
                        .ok_or(SynthesisError::AssignmentMissing)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sum = bits
            .iter()
            .fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
        sum.enforce_equal(&FpVar::one())?;
        bits.into_iter().map(FpVar::from).collect::<Vec<_>>()
    };
    let (lo, hi, rate, cum) = {
        let _ns = ns!(cs, "bracket.pick");
        let mut lo = FpVar::zero();
        let mut hi = FpVar::zero();
        let mut rate = FpVar::zero();
        let mut cum = FpVar::zero();
        for (t, sel) in select.iter().enumerate() {
            let _ns = indexed(cs, "t", t);
            lo += sel * &brackets.threshold[t];
            hi += match brackets.threshold.get(t + 1) {
                Some(next) => sel * next,
                None => sel * FpVar::constant(Fr::from(UNREACHABLE)),
            };
            rate += sel * &brackets.rate_bps[t];
            cum += sel * &brackets.cum_bps[t];
        }
        (lo, hi, rate, cum)
    };
    {
        let _ns = ns!(cs, "bracket.lo");
        enforce_range(cs.clone(), &(magnitude - &lo), SIZE_BITS)?;
    }
    {
        let _ns = ns!(cs, "bracket.hi");
        enforce_range(cs.clone(), &(hi - FpVar::one() - magnitude), SIZE_BITS)?;
    }
    let _ns = ns!(cs, "bracket.mr");
    let notional = magnitude * unit_value;
    let requirement = &notional * &rate - cum;
    Ok((notional, requirement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::field_from_i256;
    use crate::hash::Bn254Poseidon;
    use crate::native::risk::bracket_of;
    use crate::r1cs::names::testing::first_unsatisfied;
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
    use proptest::prelude::*;

    fn fr(v: I256) -> Fr {
        field_from_i256::<Bn254Poseidon>(v)
    }

    /// A market's brackets from floors (common units, the first 0) and rates (bps),
    /// with `cum'` as `native::risk` derives it.
    fn brackets(floors: &[i128], rates: &[i128]) -> Vec<Bracket> {
        let mut out: Vec<Bracket> = Vec::new();
        for (&floor, &rate) in floors.iter().zip(rates) {
            let (floor, rate_bps) = (I256::from(floor), I256::from(rate));
            let cum_bps = out.last().map_or(I256::ZERO, |before| {
                before.cum_bps + floor * (rate_bps - before.rate_bps)
            });
            out.push(Bracket {
                floor,
                rate_bps,
                cum_bps,
            });
        }
        out
    }

    /// One position's requirement through the gadget: a size, a unit value, the
    /// brackets, the bracket the witness selects and the `MR'` it claims.
    struct Position {
        size: i64,
        unit_value: I256,
        brackets: Vec<Bracket>,
        selected: usize,
        claimed: I256,
    }

    impl Position {
        /// The honest witness: the native bracket and requirement.
        fn honest(size: i64, unit_value: i128, brackets: Vec<Bracket>) -> Self {
            let unit_value = I256::from(unit_value);
            let notional = I256::from(size).abs() * unit_value;
            let b = bracket_of(&brackets, notional).expect("the first floor is 0");
            let selected = brackets.iter().position(|x| x == b).unwrap();
            let claimed = b.requirement_bps(notional);
            Self {
                size,
                unit_value,
                brackets,
                selected,
                claimed,
            }
        }
    }

    impl ConstraintSynthesizer<Fr> for Position {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let thresholds = size_thresholds(&self.brackets, self.unit_value);
            let input = |v: Fr| FpVar::new_input(cs.clone(), || Ok(v));
            let vars = BracketVars {
                threshold: thresholds
                    .iter()
                    .map(|&s| input(Fr::from(s)))
                    .collect::<Result<_, _>>()?,
                rate_bps: self
                    .brackets
                    .iter()
                    .map(|b| input(fr(b.rate_bps)))
                    .collect::<Result<_, _>>()?,
                cum_bps: self
                    .brackets
                    .iter()
                    .map(|b| input(fr(b.cum_bps)))
                    .collect::<Result<_, _>>()?,
                rates_per_size_unit: false,
            };
            let unit_value = input(fr(self.unit_value))?;
            let magnitude =
                FpVar::new_witness(cs.clone(), || Ok(Fr::from(self.size.unsigned_abs())))?;
            let (_, mr) = requirement(&cs, &magnitude, &unit_value, &vars, Some(self.selected))?;
            let _ns = ns!(cs, "claim");
            mr.enforce_equal(&FpVar::constant(fr(self.claimed)))
        }
    }

    /// Floors 0, 50,000 and 250,000 common units at 50, 100 and 250 bps; one size
    /// unit worth 1,000 (thresholds 0, 50 and 250).
    fn tiers() -> Vec<Bracket> {
        brackets(&[0, 50_000, 250_000], &[50, 100, 250])
    }

    #[test]
    fn thresholds_are_the_least_sizes_reaching_each_floor() {
        assert_eq!(size_thresholds(&tiers(), I256::from(1_000)), [0, 50, 250]);
        // 50,000 / 3 = 16,666.67: a size of 16,667 is the first to reach it.
        assert_eq!(
            size_thresholds(&tiers(), I256::from(3)),
            [0, 16_667, 83_334]
        );
        // A price of 0: every notional is 0, in the first bracket.
        assert_eq!(
            size_thresholds(&tiers(), I256::ZERO),
            [0, UNREACHABLE, UNREACHABLE]
        );
        // A floor no size below 2^63 reaches.
        let far = brackets(&[0, i128::MAX / 2], &[50, 100]);
        assert_eq!(size_thresholds(&far, I256::ONE), [0, UNREACHABLE]);
    }

    #[test]
    fn honest_positions_satisfy_at_and_around_every_floor() {
        for size in [
            0,
            1,
            49,
            50,
            51,
            249,
            250,
            251,
            -50,
            -250,
            i64::MAX,
            -i64::MAX,
        ] {
            let p = Position::honest(size, 1_000, tiers());
            assert_eq!(first_unsatisfied(p), None, "size {size}");
        }
    }

    /// Each lie fails at its own relation.
    #[test]
    fn wrong_brackets_fail_at_their_relation() {
        let lie = |size: i64, selected: usize, claimed: I256| Position {
            selected,
            claimed,
            ..Position::honest(size, 1_000, tiers())
        };
        let requirement = |size: i64, t: usize| {
            tiers()[t].requirement_bps(I256::from(size).abs() * I256::from(1_000))
        };
        // Exactly at a floor, the bracket below claimed: its upper side fails.
        assert_eq!(
            first_unsatisfied(lie(50, 0, requirement(50, 0))).as_deref(),
            Some("bracket.hi")
        );
        // One unit below a floor, the bracket above claimed: its lower side fails.
        assert_eq!(
            first_unsatisfied(lie(49, 1, requirement(49, 1))).as_deref(),
            Some("bracket.lo")
        );
        // One unit above a floor, the bracket below claimed.
        assert_eq!(
            first_unsatisfied(lie(251, 1, requirement(251, 1))).as_deref(),
            Some("bracket.hi")
        );
        // A short position in the top bracket claimed in the first.
        assert_eq!(
            first_unsatisfied(lie(-300, 0, requirement(-300, 0))).as_deref(),
            Some("bracket.hi")
        );
        // The right bracket and a requirement off by one.
        assert_eq!(
            first_unsatisfied(lie(60, 1, requirement(60, 1) - 1)).as_deref(),
            Some("claim")
        );
    }

    /// A selection that is not one bit set fails at `bracket.select`: none set, or
    /// two set (whose picks would add two brackets' thresholds).
    #[test]
    fn a_selection_not_one_hot_fails_at_select() {
        struct Raw(Vec<bool>);
        impl ConstraintSynthesizer<Fr> for Raw {
            fn generate_constraints(
                self,
                cs: ConstraintSystemRef<Fr>,
            ) -> Result<(), SynthesisError> {
                let _ns = ns!(cs, "bracket.select");
                let bits = self
                    .0
                    .iter()
                    .map(|&b| Boolean::new_witness(cs.clone(), || Ok(b)))
                    .collect::<Result<Vec<_>, _>>()?;
                let sum = bits
                    .iter()
                    .fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
                sum.enforce_equal(&FpVar::one())
            }
        }
        assert_eq!(first_unsatisfied(Raw(vec![false, true, false])), None);
        for bits in [vec![false; 3], vec![true, true, false]] {
            assert_eq!(
                first_unsatisfied(Raw(bits)).as_deref(),
                Some("bracket.select")
            );
        }
    }

    #[test]
    fn constraint_count_is_as_documented() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        Position::honest(100, 1_000, tiers())
            .generate_constraints(cs.clone())
            .unwrap();
        // T = 3: select 4, pick 4·3 − 1, lo 64, hi 64, mr 2, and the test's claim 1.
        assert_eq!(cs.num_constraints(), 4 + 11 + 64 + 64 + 2 + 1);
        assert!(cs.is_satisfied().unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The gadget's requirement is the native one on random brackets, sizes
        /// and prices, and a selection of any other bracket is refused.
        #[test]
        fn gadget_matches_native(
            size in any::<i64>().prop_filter("|size| < 2^63", |s| *s != i64::MIN),
            unit_value in 0i128..=1_000_000_000_000,
            steps in proptest::collection::vec((1i128..=1i128 << 70, 0i128..=500), 0..7),
            first_rate in 0i128..=2_000,
            other in 0usize..8,
        ) {
            let mut floors = vec![0i128];
            let mut rates = vec![first_rate];
            for (gap, rise) in steps {
                floors.push(floors.last().unwrap() + gap);
                rates.push((rates.last().unwrap() + rise).min(10_000));
            }
            let honest = Position::honest(size, unit_value, brackets(&floors, &rates));
            let selected = honest.selected;
            let count = honest.brackets.len();
            prop_assert_eq!(first_unsatisfied(honest), None);
            let other = other % count;
            let p = Position::honest(size, unit_value, brackets(&floors, &rates));
            let lie = Position { selected: other, ..p };
            // Another bracket is refused unless it has the same size range (an empty
            // bracket between equal thresholds cannot be selected either).
            if other != selected {
                let verdict = first_unsatisfied(lie);
                prop_assert!(
                    matches!(verdict.as_deref(), Some("bracket.lo" | "bracket.hi")),
                    "bracket {} instead of {}: {:?}", other, selected, verdict
                );
            }
        }
    }
}
