//! The default waterfall in R1CS (`docs/SPEC.md` §2.4, issue 18): each account's
//! liquidation fee, haircut base and haircuts at the rate `h` and one step below,
//! the rate's range, and the last batch's insurance draw, deficit, cover and
//! minimality. The native twin is [`crate::native::waterfall`], which these gadgets
//! match exactly (every division is an exact floor, proven with its remainder).
//!
//! Amounts are in units of `10^-(E+4)` quote (`10^4` times the common unit, like
//! `MR'`) except the haircuts, which are whole common units.
//!
//! # The relations
//!
//! Per account, from `|size_m|` (`< 2^63`, the lanes' magnitudes), the per-market
//! fee unit `uf_m = uv_m · lf_m` (`< 2^138`, derived by the batch circuit), the
//! liability `max(TV, 0)` (`< 2^194`) and the liquidation flag:
//!
//! - `nf' = Σ_m |size_m| · uf_m` (`< 2^6 · 2^63 · 2^138 = 2^207`), `cap = 10^4 ·
//!   liability` (`< 2^208`);
//! - `fee' = liquidatable ? min(nf', cap) : 0`, `base' = cap − fee'`;
//! - `q_h = ⌊base' · h / 10^13⌋` and `q_lo = ⌊base' · h_lo / 10^13⌋`.
//!
//! The fee is a witness bit `k` ("capped"; `k ⇒ liquidatable`): `fee' = p + k·(cap
//! − p)` with `p = liquidatable · nf'`. Both cases of the `min` are then one range
//! check of `y = k ? nf' − cap : base'` (`y = cap − p − 2·k·(cap − p)`, linear in the
//! two products): `y ≥ 0` says the fee is at most the remaining equity when it is
//! not capped, and that the cap is due (`nf' ≥ cap`) when it is. That range check is
//! the split `y = 10^13 · B1 + B0` with `B1 < 2^165` and `0 ≤ B0 < 10^13` exactly,
//! and the haircuts reuse it: for `k = 0`, `base' = y`, so
//!
//! ```text
//! base' · h = 10^13 · (B1 · h + t) + s    where    B0 · h = 10^13 · t + s,
//! ```
//!
//! and `q_h = B1 · h + t` is the floor once `0 ≤ s < 10^13` (exactly) and `t < 2^30`
//! (`t ≤ B0 · h / 10^13 < h ≤ 10^9`). `q_h` needs no range check of its own: it is
//! `B1 · h + t`, an integer below `2^165 · 10^9 + 2^30 < 2^195.1` by construction, and
//! both sides of the identity above are below `2^239`, so it holds over the integers
//! and `q_h` is the exact floor (hence `q_h ≤ base' / 10^4 ≤ liability < 2^194`). For
//! `k = 1` the rate is zeroed (`h_k = (1 − k) · h`), so `q_h = q_lo = 0` for a base of
//! 0.
//!
//! One step below, `B0 · (h − Δ) = 10^13 · (t − e) + (s − B0·Δ + 10^13·e)` with `Δ =
//! [h ≠ 0]` (also zeroed by `k`) and a borrow bit `e`; as `s, B0·Δ ∈ [0, 10^13)`, the
//! new remainder is in `[0, 10^13)` iff `e = [s < B0·Δ]`, which is the sign of one
//! number below `10^13` in absolute value (44 bits): `q_lo = q_h − B1·Δ − e`. So the
//! second floor costs 49 constraints instead of a second product, quotient range and
//! remainder check (283).
//!
//! Per batch, the public rate `h` (ppb): `0 ≤ h ≤ 10^9` and `h_lo = h − 1 + [h = 0]`.
//!
//! In the last batch only (every relation below is multiplied by `is_last`), from the
//! bad debt `D` (`< 2^226`, common units), the fund `insurance_fund · f_q` (`<
//! 2^188`), `F' = Σ fee'` (`< 2^32 · 2^208 = 2^240`), `S_h = Σ q_h`, `S_lo = Σ q_lo`
//! (`< 2^32 · 2^194 = 2^226`, taken `< 2^227`) and the public `shortfall` bit:
//!
//! - `D' = 10^4 · D` (`< 2^240`), `avail = 10^4 · fund + F'` (`< 2^241`),
//!   `deficit' = max(D' − avail, 0)`, `draw' = D' − deficit' = min(D', avail)` and
//!   `fund_after' = avail − draw'`;
//! - `shortfall ⇒ h = 10^9`;
//! - `shortfall = [10^4 · S_h < deficit']` (the public bit is the sign: ¬shortfall
//!   is "the haircuts at `h` cover the deficit");
//! - `(h ≠ 0 ∧ ¬shortfall) ⇒ 10^4 · S_lo < deficit'` (no smaller rate covers; with
//!   `deficit' = 0` this refuses every `h > 0`, and `h = 0` with `deficit' > 0`
//!   covers nothing, so it needs `shortfall`, which needs `h = 10^9`).
//!
//! So `h` is the native [`crate::native::waterfall::waterfall`]'s rate: the least
//! covering one, `10^9` on a shortfall, 0 without a deficit.
//!
//! # Widths
//!
//! The field is `r ≈ 2^253.6`. Every range check below is on an integer whose
//! honest value fits the width and whose dishonest values stay inside `(−2^242,
//! 2^242)`, where a negative integer is a field element `≥ r − 2^242 > 2^241`, with
//! no decomposition in the width: so the check decides the integer relation.
//!
//! | value | range | why |
//! | --- | --- | --- |
//! | `B1` | `[0, 2^165)` | `y < 2^208 < 10^13 · 2^165 ≈ 2^208.19`; then `y = 10^13·B1 + B0 < 2^209` holds over the integers |
//! | `B0`, `s` | `[0, 10^13)` exactly | the remainders of the floors: `v = v_0 + 2^13·v_1` with `v_0 < 2^13`, `v_1 < 2^31`, `5^13 − 1 − v_1 < 2^31` (75 constraints; `10^13 = 2^13 · 5^13`) |
//! | `t` | `[0, 2^30)` | `t ≤ B0 · h / 10^13 < h ≤ 10^9 < 2^30`; `B0 · h < 2^74` holds over the integers |
//! | borrow check | `[0, 2^44)` | `s − B0·Δ` and `B0·Δ − s − 1` lie in `(−10^13 − 1, 10^13)`, `10^13 < 2^44` |
//! | `h`, `10^9 − h` | `[0, 2^30)` | `10^9 < 2^30` |
//! | `D' − avail` (+ `2^241` if negative) | `[0, 2^241)` | `D' − avail ∈ (−2^241, 2^240)` |
//! | `10^4·S_h − deficit'` (+ `2^241` if short) | `[0, 2^241)` | `10^4 · S_h < 2^241`, `deficit' < 2^240` |
//! | `deficit' − 10^4·S_lo − 1` | `[0, 2^240)` | honest: `< deficit' < 2^240`; otherwise `> −2^241 − 1` |
//!
//! Preconditions (the caller's, from the account gadget and the parameters):
//! `0 ≤ |size_m| < 2^63`, `0 ≤ uf_m < 2^138`, `M ≤ 64`, `0 ≤ liability < 2^194`,
//! `D < 2^226`, `fund < 2^188`, at most `2^32` accounts summed into `F'`, `S_h`,
//! `S_lo` (so the sums' bounds follow from the per-account outputs, which are exact).
//!
//! # Names and constraints
//!
//! Each account (inside the caller's namespace, e.g. `account[j]`), `M` markets:
//!
//! | name | constraints | relation |
//! | --- | --- | --- |
//! | `waterfall.fee.notional` | `M` | `nf' = Σ_m abs(size_m) · uf_m` |
//! | `waterfall.fee` | 4 | `k` a bit, `k · (1 − liquidatable) = 0`, `p = liquidatable · nf'`, `k · (cap − p)` |
//! | `waterfall.fee.cap` | 240 | `y = 10^13·B1 + B0`, `B1 < 2^165`, `B0 < 10^13`: the fee is at most the remaining equity, and a capped fee is due |
//! | `waterfall.haircut.at` | 108 | `h_k = (1 − k)·h`, `B1·h_k`, `t < 2^30`, `B0·h_k = 10^13·t + s` with `s < 10^13` |
//! | `waterfall.haircut.below` | 49 | `Δ_k = (1 − k)·Δ`, `B1·Δ_k`, `B0·Δ_k`, the borrow bit `e` and its 44-bit sign check |
//!
//! Per batch:
//!
//! | name | constraints | relation |
//! | --- | --- | --- |
//! | `waterfall.rate.range` | 60 | `0 ≤ h ≤ 10^9` |
//! | `waterfall.rate.below` | 2 | `[h = 0]`, so `Δ = [h ≠ 0]` and `h_lo = h − Δ` |
//! | `waterfall.deficit` | 244 | the sign of `is_last · (D' − avail)` (a witness bit, 241-bit check) and `deficit'` |
//! | `waterfall.shortfall` | 2 | `is_last · shortfall · (10^9 − h) = 0` |
//! | `waterfall.cover` | 242 | `is_last · (10^4·S_h − deficit' + 2^241·shortfall) ∈ [0, 2^241)` |
//! | `waterfall.minimal` | 243 | `is_last · [h ≠ 0] · ¬shortfall · (deficit' − 10^4·S_lo − 1) ∈ [0, 2^240)` |
//!
//! # Cost
//!
//! Per account at `M = 8`: **409 constraints** (`M + 4 + 240 + 108 + 49`, pinned by
//! `tests::constraint_counts_are_pinned`), against the issue's target of 500. The
//! straightforward design costs 785 (`M + 211 + 2 · 283`): a 209-bit sign of `cap −
//! nf'` for the `min` (plus the `min` and the gating, 2), then at each of `h` and
//! `h_lo` the product `base' · h = 10^13 · q + r` (1), a 194-bit quotient range and
//! two 44-bit remainder checks. The savings, none of which weakens a relation: the
//! `min`'s sign is folded into the range check of the
//! haircut's split (a capped fee's `nf' − cap` takes the base's place, its rate
//! zeroed); the quotient's range is split into `B1` (165 bits, shared by both rates)
//! and `t` (30 bits); the floor one step below is derived from the one at `h` with a
//! borrow bit (49 constraints); exact `< 10^13` checks cost 75 through `10^13 = 2^13 ·
//! 5^13` instead of 88. Per batch: 62 for the rate and 731 for the last batch's
//! relations (synthesized in every batch, multiplied by `is_last`).

use super::bits::{alloc_bits_le, enforce_range, pow2};
use crate::assignment::non_negative;
use crate::bounds::BPS_DENOMINATOR;
use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::native::waterfall::{HAIRCUT_PPB_MAX, haircut_base, liquidation_fee};
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
use ethnum::{I256, U256};

/// `10^13 = 10^4 · 10^9`: the haircut's divisor.
const DIVISOR: u64 = 10_000_000_000_000;
/// `5^13`: `10^13 = 2^13 · 5^13`.
const FIVE_POW_13: u64 = 1_220_703_125;
/// The low part of an exact `< 10^13` check.
const DIVISOR_TWOS: usize = 13;
/// The high part's range (`5^13 < 2^31`).
const DIVISOR_FIVES_BITS: usize = 31;
/// `B1 = ⌊y / 10^13⌋ < 2^208 / 10^13 < 2^165`.
const SPLIT_HIGH_BITS: usize = 165;
/// The rate and `t = ⌊B0 · h / 10^13⌋ ≤ h`: `10^9 < 2^30`.
const RATE_BITS: usize = 30;
/// The borrow check: numbers in `(−10^13 − 1, 10^13)`, `10^13 < 2^44`.
const BORROW_BITS: usize = 44;
/// `D' − avail ∈ (−2^241, 2^240)` and `10^4·S_h − deficit' ∈ (−2^240, 2^241)`.
const SIGN_BITS: usize = 241;
/// `deficit' − 10^4·S_lo − 1 < deficit' < 2^240`.
const MINIMAL_BITS: usize = 240;

/// One account's inputs to the waterfall, as the batch circuit has them.
#[derive(Debug)]
pub struct AccountInputs<'a> {
    /// `|size_m|` per market, each `< 2^63` (the lane's magnitude).
    pub magnitudes: &'a [FpVar<Fr>],
    /// `uf_m = uv_m · lf_m` per market, each `< 2^138`.
    pub unit_fees: &'a [FpVar<Fr>],
    /// `max(TV, 0) < 2^194`.
    pub liability: &'a FpVar<Fr>,
    /// `MV' < MR'`.
    pub liquidatable: &'a Boolean<Fr>,
}

/// One account's waterfall amounts.
#[derive(Debug, Clone)]
pub struct AccountWaterfall {
    /// `fee' = liquidatable ? min(nf', cap) : 0` (`10^-(E+4)` units), `< 2^208`.
    pub fee: FpVar<Fr>,
    /// `base' = 10^4 · liability − fee'`, in `[0, 2^208)`.
    pub base: FpVar<Fr>,
    /// `⌊base' · h / 10^13⌋` (common units), `≤ liability < 2^194`.
    pub haircut_at: FpVar<Fr>,
    /// `⌊base' · h_lo / 10^13⌋`.
    pub haircut_below: FpVar<Fr>,
}

/// The prover's advice for one account: the witnesses that are not computed by the
/// constraints themselves. [`AccountAdvice::honest`] derives it; any other advice
/// makes the system unsatisfiable or changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountAdvice {
    /// `k`: the fee is capped (the account is liquidatable and `nf' > cap`).
    pub capped: bool,
    /// `B1 = ⌊y / 10^13⌋` (masked to 165 bits when assigned).
    pub split_high: U256,
    /// `t = ⌊B0 · h_k / 10^13⌋` (masked to 30 bits when assigned).
    pub floor_low: u64,
    /// `e`: one step below, the low remainder borrows (`s < B0 · Δ_k`).
    pub borrow: bool,
}

impl AccountAdvice {
    /// The honest advice for an account with `nf' = notional_fee`, `liability` and
    /// its flag, at rate `ppb` (through [`crate::native::waterfall`]).
    pub fn honest(notional_fee: I256, liability: I256, liquidatable: bool, ppb: u32) -> Self {
        let cap = I256::from(BPS_DENOMINATOR) * liability;
        let capped = liquidatable && notional_fee > cap;
        let fee = liquidation_fee(notional_fee, liability, liquidatable);
        let y = if capped {
            notional_fee - cap
        } else {
            haircut_base(liability, fee)
        };
        // A negative y has no split at all (the system is unsatisfiable whatever
        // the advice): 0 stands in for it.
        let y = if y < I256::ZERO {
            U256::ZERO
        } else {
            y.as_u256()
        };
        let divisor = U256::from(DIVISOR);
        let (high, low) = (y / divisor, y % divisor);
        let (rate, step) = if capped {
            (0, 0)
        } else {
            (ppb, u32::from(ppb != 0))
        };
        let part = low * U256::from(rate);
        let (floor, rem) = (part / divisor, part % divisor);
        Self {
            capped,
            split_high: high,
            floor_low: floor.as_u64(),
            borrow: rem < low * U256::from(step),
        }
    }
}

impl AccountAdvice {
    /// The honest advice from the assigned values (`None` in setup mode, or for a
    /// rate outside `u32`, which the rate's range check refuses anyway).
    fn from_values(
        notional: &FpVar<Fr>,
        inputs: &AccountInputs<'_>,
        rate: &RateVars,
    ) -> Option<Self> {
        let ppb = value_of(&rate.ppb)?;
        if ppb < I256::ZERO || ppb > I256::from(u32::MAX) {
            return None;
        }
        let ppb = ppb.as_u32();
        Some(Self::honest(
            value_of(notional)?,
            value_of(inputs.liability)?,
            inputs.liquidatable.value().ok()?,
            ppb,
        ))
    }
}

/// The rate's variables.
#[derive(Debug, Clone)]
pub struct RateVars {
    /// `h` (ppb).
    pub ppb: FpVar<Fr>,
    /// `Δ = [h ≠ 0]`.
    pub step: Boolean<Fr>,
    /// `h_lo = h − Δ`.
    pub below: FpVar<Fr>,
}

/// The last batch's inputs.
#[derive(Debug)]
pub struct EpochInputs<'a> {
    /// `D` (common units), `< 2^226`.
    pub bad_debt: &'a FpVar<Fr>,
    /// `insurance_fund · f_q` (common units), `< 2^188`.
    pub insurance_fund: &'a FpVar<Fr>,
    /// `F' = Σ fee'`, `< 2^240`.
    pub fees: &'a FpVar<Fr>,
    /// `S_h = Σ q_h`, `< 2^227`.
    pub haircuts_at: &'a FpVar<Fr>,
    /// `S_lo = Σ q_lo`, `< 2^227`.
    pub haircuts_below: &'a FpVar<Fr>,
    /// The public shortfall bit.
    pub shortfall: &'a Boolean<Fr>,
    /// Whether this is the last batch (the relations hold only there).
    pub is_last: &'a Boolean<Fr>,
}

/// The prover's advice for the last batch's relations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochAdvice {
    /// `D' < avail`: the fund and the fees more than cover the bad debt (the sign
    /// of `is_last · (D' − avail)`).
    pub surplus: bool,
}

impl EpochAdvice {
    /// The honest advice, from `D`, the fund (common units) and `F'`.
    pub fn honest(bad_debt: I256, insurance_fund: I256, fees: I256) -> Self {
        let scale = I256::from(BPS_DENOMINATOR);
        Self {
            surplus: scale * bad_debt < scale * insurance_fund + fees,
        }
    }
}

/// The last batch's waterfall amounts (meaningful when `is_last`; `deficit'` is 0
/// in other batches).
#[derive(Debug, Clone)]
pub struct EpochWaterfall {
    /// `deficit' = max(D' − avail, 0)`.
    pub deficit: FpVar<Fr>,
    /// `draw' = min(D', avail) = D' − deficit'`.
    pub draw: FpVar<Fr>,
    /// `fund_after' = avail − draw'`.
    pub fund_after: FpVar<Fr>,
}

/// The integer a field element stands for (`x` or `x − r`, whichever is smaller
/// in magnitude).
fn integer(x: Fr) -> I256 {
    let magnitude = |v: Fr| U256::from_le_bytes(Bn254Poseidon::to_le_bytes(&v)).as_i256();
    if non_negative::<Bn254Poseidon>(x) {
        magnitude(x)
    } else {
        -magnitude(-x)
    }
}

/// A field element's value as an integer, if assigned.
fn value_of(v: &FpVar<Fr>) -> Option<I256> {
    v.value().ok().map(integer)
}

/// The low `n` bits of a value (a witness allocated bit by bit takes only those:
/// wider advice changes the value instead of failing synthesis).
fn masked(v: U256, n: usize) -> U256 {
    v & ((U256::ONE << n as u32) - U256::ONE)
}

/// Enforces `0 ≤ v < 10^13` exactly, for `v` whose integer is in `(−2^209, 2^209)`
/// (75 constraints): `v = v_0 + 2^13 · v_1` with `v_0` allocated in 13 bits and
/// `v_1 = (v − v_0) / 2^13` checked in `[0, 2^31)` with `5^13 − 1 − v_1` (a number
/// below `2^31` or negative, so wrapped far above it). Then `v ∈ [0, 2^13 · 5^13)`
/// over the integers. An out-of-range `v` makes `v_1` a field element outside the
/// window: unsatisfiable.
fn enforce_below_divisor(
    cs: &ConstraintSystemRef<Fr>,
    v: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    let low_value = v.value().ok().map(|x| {
        masked(
            U256::from_le_bytes(Bn254Poseidon::to_le_bytes(&x)),
            DIVISOR_TWOS,
        )
    });
    let (_, low) = alloc_bits_le(cs.clone(), low_value, DIVISOR_TWOS, AllocationMode::Witness)?;
    let inverse = pow2(DIVISOR_TWOS).inverse().expect("2^13 ≠ 0");
    let high = (v - &low) * inverse;
    enforce_range(cs.clone(), &high, DIVISOR_FIVES_BITS)?;
    let slack = FpVar::constant(Fr::from(FIVE_POW_13 - 1)) - &high;
    enforce_range(cs.clone(), &slack, DIVISOR_FIVES_BITS)
}

/// The rate gadget (`waterfall.rate.range`, `waterfall.rate.below`; 62
/// constraints): `0 ≤ h ≤ 10^9`, `Δ = [h ≠ 0]`, `h_lo = h − Δ`.
pub fn rate(cs: &ConstraintSystemRef<Fr>, ppb: &FpVar<Fr>) -> Result<RateVars, SynthesisError> {
    let _ns = ns!(cs, "waterfall");
    {
        let _ns = ns!(cs, "rate.range");
        enforce_range(cs.clone(), ppb, RATE_BITS)?;
        let headroom = FpVar::constant(Fr::from(HAIRCUT_PPB_MAX)) - ppb;
        enforce_range(cs.clone(), &headroom, RATE_BITS)?;
    }
    let _ns = ns!(cs, "rate.below");
    let step = !ppb.is_zero()?;
    let below = ppb - FpVar::from(step.clone());
    Ok(RateVars {
        ppb: ppb.clone(),
        step,
        below,
    })
}

/// One account's fee, base and haircuts (see the module docs; `M + 401`
/// constraints). `advice` is `None` in setup mode, or to derive the honest advice
/// from the assigned values.
pub fn account(
    cs: &ConstraintSystemRef<Fr>,
    inputs: &AccountInputs<'_>,
    rate: &RateVars,
    advice: Option<&AccountAdvice>,
) -> Result<AccountWaterfall, SynthesisError> {
    assert_eq!(inputs.magnitudes.len(), inputs.unit_fees.len());
    let _ns = ns!(cs, "waterfall");
    let missing = || SynthesisError::AssignmentMissing;
    let bps = Fr::from(BPS_DENOMINATOR);
    let divisor = Fr::from(DIVISOR);

    // nf' = Σ |size_m| · uf_m < 2^6 · 2^63 · 2^138 = 2^207.
    let notional = {
        let _ns = ns!(cs, "fee.notional");
        inputs
            .magnitudes
            .iter()
            .zip(inputs.unit_fees)
            .fold(FpVar::zero(), |sum, (n, uf)| sum + n * uf)
    };
    let derived = match advice {
        Some(a) => Some(a.clone()),
        None => AccountAdvice::from_values(&notional, inputs, rate),
    };
    let advice = derived.as_ref();

    // fee' = p + k·(cap − p), p = liquidatable · nf', k ⇒ liquidatable.
    let cap = inputs.liability * bps;
    let liquidatable = FpVar::from(inputs.liquidatable.clone());
    let (capped, charged, excess) = {
        let _ns = ns!(cs, "fee");
        let capped =
            Boolean::new_witness(cs.clone(), || advice.map(|a| a.capped).ok_or(missing()))?;
        let k = FpVar::from(capped.clone());
        k.mul_equals(&(FpVar::one() - &liquidatable), &FpVar::zero())?;
        let charged = &liquidatable * &notional;
        let excess = &k * (&cap - &charged);
        (k, charged, excess)
    };
    let fee = &charged + &excess;
    let base = &cap - &fee;

    // y = k ? nf' − cap : base' = 10^13 · B1 + B0, B1 < 2^165, B0 < 10^13.
    let (high, low) = {
        let _ns = ns!(cs, "fee.cap");
        let y = &base - &excess;
        let (_, high) = alloc_bits_le(
            cs.clone(),
            advice.map(|a| masked(a.split_high, SPLIT_HIGH_BITS)),
            SPLIT_HIGH_BITS,
            AllocationMode::Witness,
        )?;
        let low = y - &high * divisor;
        enforce_below_divisor(cs, &low)?;
        (high, low)
    };

    // base'·h = 10^13·(B1·h + t) + s with B0·h = 10^13·t + s, s < 10^13, t < 2^30.
    let open = FpVar::one() - &capped;
    let (haircut_at, rem) = {
        let _ns = ns!(cs, "haircut.at");
        let rate_k = &open * &rate.ppb;
        let whole = &high * &rate_k;
        let (_, floor) = alloc_bits_le(
            cs.clone(),
            advice.map(|a| masked(U256::from(a.floor_low), RATE_BITS)),
            RATE_BITS,
            AllocationMode::Witness,
        )?;
        let rem = &low * &rate_k - &floor * divisor;
        enforce_below_divisor(cs, &rem)?;
        (whole + floor, rem)
    };

    // One step below: B0·(h − Δ) = 10^13·(t − e) + (s − B0·Δ + 10^13·e), and the
    // new remainder is in [0, 10^13) iff e = [s < B0·Δ].
    let haircut_below = {
        let _ns = ns!(cs, "haircut.below");
        let step_k = &open * FpVar::from(rate.step.clone());
        let whole_step = &high * &step_k;
        let part_step = &low * &step_k;
        let borrow =
            Boolean::new_witness(cs.clone(), || advice.map(|a| a.borrow).ok_or(missing()))?;
        let e = FpVar::from(borrow);
        // e = 0: s − B0·Δ ≥ 0; e = 1: B0·Δ − s − 1 ≥ 0.
        let kept = &rem - &part_step;
        let borrowed = &part_step - &rem - Fr::ONE;
        let checked = &kept + &e * (borrowed - &kept);
        enforce_range(cs.clone(), &checked, BORROW_BITS)?;
        &haircut_at - whole_step - e
    };

    Ok(AccountWaterfall {
        fee,
        base,
        haircut_at,
        haircut_below,
    })
}

/// The last batch's relations (`waterfall.deficit`, `waterfall.shortfall`,
/// `waterfall.cover`, `waterfall.minimal`; 731 constraints), each multiplied by
/// `is_last`. `advice` is `None` in setup mode, or to derive the honest advice from
/// the assigned values.
pub fn epoch(
    cs: &ConstraintSystemRef<Fr>,
    inputs: &EpochInputs<'_>,
    rate: &RateVars,
    advice: Option<&EpochAdvice>,
) -> Result<EpochWaterfall, SynthesisError> {
    let _ns = ns!(cs, "waterfall");
    let missing = || SynthesisError::AssignmentMissing;
    let bps = Fr::from(BPS_DENOMINATOR);
    let last = FpVar::from(inputs.is_last.clone());
    let shortfall = FpVar::from(inputs.shortfall.clone());

    // D' = 10^4·D < 2^240, avail = 10^4·fund + F' < 2^241.
    let debt = inputs.bad_debt * bps;
    let available = inputs.insurance_fund * bps + inputs.fees;

    // deficit' = max(D' − avail, 0): the gap's sign is the witness bit `surplus`,
    // and gap + 2^241·surplus ∈ [0, 2^241).
    let deficit = {
        let _ns = ns!(cs, "deficit");
        let gap = &last * (&debt - &available);
        let derived = match advice {
            Some(a) => Some(a.surplus),
            None => value_of(&gap).map(|g| g < I256::ZERO),
        };
        let surplus = FpVar::from(Boolean::new_witness(cs.clone(), || {
            derived.ok_or(missing())
        })?);
        enforce_range(cs.clone(), &(&gap + &surplus * pow2(SIGN_BITS)), SIGN_BITS)?;
        (FpVar::one() - surplus) * gap
    };

    // shortfall ⇒ h = 10^9.
    {
        let _ns = ns!(cs, "shortfall");
        let claimed = FpVar::from(inputs.is_last & inputs.shortfall);
        let short_of_max = FpVar::constant(Fr::from(HAIRCUT_PPB_MAX)) - &rate.ppb;
        claimed.mul_equals(&short_of_max, &FpVar::zero())?;
    }

    // shortfall = [10^4·S_h < deficit']: 10^4·S_h − deficit' + 2^241·shortfall ∈
    // [0, 2^241).
    {
        let _ns = ns!(cs, "cover");
        let margin = inputs.haircuts_at * bps - &deficit + &shortfall * pow2(SIGN_BITS);
        enforce_range(cs.clone(), &(&last * margin), SIGN_BITS)?;
    }

    // (h ≠ 0 ∧ ¬shortfall) ⇒ 10^4·S_lo < deficit'.
    {
        let _ns = ns!(cs, "minimal");
        let open = FpVar::from(inputs.is_last & &rate.step & !inputs.shortfall);
        let missed = &deficit - inputs.haircuts_below * bps - Fr::ONE;
        enforce_range(cs.clone(), &(open * missed), MINIMAL_BITS)?;
    }

    let draw = &debt - &deficit;
    let fund_after = &available - &draw;
    Ok(EpochWaterfall {
        deficit,
        draw,
        fund_after,
    })
}

#[cfg(test)]
mod tests;
