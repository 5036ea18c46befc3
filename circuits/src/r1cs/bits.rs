//! Bit decompositions, range checks and comparisons over the BN254 scalar field.
//!
//! Each gadget's doc states the native computation it performs on integers, its
//! exact constraint count, and the precondition under which it is sound.
//!
//! # Strict decomposition
//!
//! All decompositions here have `n ≤ `[`MAX_BITS`]` = 252` bits. With every
//! `b_i ∈ {0, 1}` (one constraint `b_i · (1 − b_i) = 0` each), `Σ b_i · 2^i` is an
//! integer in `[0, 2^n)`, and `2^n ≤ 2^252 < r ≈ 2^253.6`, so no two bit vectors
//! give the same field element: a field element has an `n`-bit decomposition iff
//! its canonical representative is below `2^n`, and then exactly one. This is what
//! makes the checks below sound without the "`< r`" comparison a full 254-bit
//! decomposition would need. An out-of-range witness has no decomposition, so the
//! constraint system is unsatisfiable: no choice of bits satisfies it.
//!
//! # The free recomposition
//!
//! Recomposing `v = Σ b_i 2^i` is an equality, which costs a constraint unless one
//! side is *defined* by the other:
//! - [`alloc_bits_le`] allocates the bits first and returns `Σ b_i 2^i` as a linear
//!   combination: `n` constraints for an `n`-bit value, nothing more;
//! - the range checks ([`enforce_range`], [`enforce_leq`], [`is_negative`]) do not
//!   return bit 0, so they allocate bits `1..n` as witnesses and *define* bit 0 as
//!   the linear combination `b_0 = v − Σ_{i≥1} b_i 2^i`; its booleanity constraint
//!   `b_0 · (1 − b_0) = 0` is then also the recomposition: `n` constraints in all;
//! - [`to_bits_le`] returns every bit of an existing `v` as a [`Boolean`], so it
//!   pays `n` booleanity constraints plus 1 for the equality.

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField, Zero};
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};
use ethnum::U256;

/// The largest number of bits any gadget here decomposes into (see the module
/// docs: `2^252 < r`).
pub const MAX_BITS: usize = 252;

/// The `n` little-endian bits of `v`, as Booleans.
///
/// Native: `(0..n).map(|i| (v >> i) & 1 == 1)` for an integer `0 ≤ v < 2^n`.
///
/// Constraints: `n + 1` (booleanity of each bit, then `Σ b_i 2^i = v`); none if
/// `v` is a constant. If `v ≥ 2^n` (as the canonical representative) the system is
/// unsatisfiable. To allocate a new value from its bits, [`alloc_bits_le`] saves
/// the equality.
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if `v` is a constant that does not fit in `n`
/// bits; otherwise the constraint system's errors.
///
/// # Panics
/// Panics if `n > `[`MAX_BITS`].
pub fn to_bits_le(
    cs: ConstraintSystemRef<Fr>,
    v: &FpVar<Fr>,
    n: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    assert!(n <= MAX_BITS, "to_bits_le: {n} bits exceed {MAX_BITS}");
    let var = match v {
        FpVar::Constant(c) => {
            let bits = constant_bits(*c, n)?;
            return Ok(bits.into_iter().map(Boolean::Constant).collect());
        }
        FpVar::Var(a) => a,
    };
    let cs = cs.or(var.cs.clone());
    let value = var.value().ok().map(PrimeField::into_bigint);
    let bits = (0..n)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value
                    .map(|x| x.get_bit(i))
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let variable = var.variable;
    cs.enforce_r1cs_constraint(
        || weighted_sum(&bits, 0) - variable,
        || Variable::One.into(),
        LinearCombination::zero,
    )?;
    Ok(bits)
}

/// Allocates an `n`-bit integer bit by bit: returns its little-endian bits and its
/// value `Σ b_i 2^i` as a linear combination of them. This is how lanes are
/// allocated: a 64-bit lane costs 64 constraints, and the packed value is
/// range-checked by construction.
///
/// Native: the bits of `value`, and `value` embedded in the field, for
/// `0 ≤ value < 2^n`.
///
/// Constraints: `n` (booleanity); none for [`AllocationMode::Constant`]. `value`
/// is `None` when the assignment is unknown (setup mode).
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if `value ≥ 2^n` (no bits represent it);
/// [`SynthesisError::AssignmentMissing`] for a constant without a value;
/// otherwise the constraint system's errors.
///
/// # Panics
/// Panics if `n > `[`MAX_BITS`].
pub fn alloc_bits_le(
    cs: ConstraintSystemRef<Fr>,
    value: Option<U256>,
    n: usize,
    mode: AllocationMode,
) -> Result<(Vec<Boolean<Fr>>, FpVar<Fr>), SynthesisError> {
    assert!(n <= MAX_BITS, "alloc_bits_le: {n} bits exceed {MAX_BITS}");
    if let Some(v) = value
        && v.leading_zeros() < 256 - n as u32
    {
        return Err(SynthesisError::Unsatisfiable);
    }
    let field_value = value.map(|v| Fr::from_le_bytes_mod_order(&v.to_le_bytes()));
    if mode == AllocationMode::Constant {
        let c = field_value.ok_or(SynthesisError::AssignmentMissing)?;
        let bits = constant_bits(c, n)?;
        return Ok((
            bits.into_iter().map(Boolean::Constant).collect(),
            FpVar::Constant(c),
        ));
    }
    let bits = (0..n)
        .map(|i| {
            Boolean::new_variable(
                cs.clone(),
                || {
                    value
                        .map(|v| (v >> i as u32) & U256::ONE == U256::ONE)
                        .ok_or(SynthesisError::AssignmentMissing)
                },
                mode,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let packed = cs.new_lc(|| weighted_sum(&bits, 0))?;
    Ok((bits, FpVar::Var(AllocatedFp::new(field_value, packed, cs))))
}

/// Enforces `0 ≤ v < 2^bits` (for the canonical representative of `v`).
///
/// Native: `v < 2^bits`.
///
/// Constraints: exactly `bits` (bits `1..bits` are witnesses, bit 0 is defined by
/// the recomposition, see the module docs); none if `v` is a constant.
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if `v` is a constant out of range; otherwise
/// the constraint system's errors.
///
/// # Panics
/// Panics if `bits` is not in `1..=`[`MAX_BITS`].
pub fn enforce_range(
    cs: ConstraintSystemRef<Fr>,
    v: &FpVar<Fr>,
    bits: usize,
) -> Result<(), SynthesisError> {
    assert!(
        (1..=MAX_BITS).contains(&bits),
        "enforce_range: {bits} bits outside 1..={MAX_BITS}"
    );
    match v {
        FpVar::Constant(c) => constant_bits(*c, bits).map(drop),
        FpVar::Var(a) => {
            let cs = cs.or(a.cs.clone());
            decompose(&cs, a.variable.into(), a.value().ok(), bits).map(drop)
        }
    }
}

/// Enforces `a ≤ b` for integers `a, b ∈ [0, 2^bits)`, by range-checking `b − a`
/// to `bits` bits.
///
/// Native: `a <= b`.
///
/// Constraints: exactly `bits`. Precondition: `a` and `b` are already known to be
/// in `[0, 2^bits)` (for example allocated with [`alloc_bits_le`]). Then
/// `b − a ∈ (−2^bits, 2^bits)`, and a negative difference is the field element
/// `r − |b − a| > r − 2^bits > 2^bits`, which has no `bits`-bit decomposition: the
/// system is satisfiable iff `a ≤ b`.
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if both are constants and `a > b`; otherwise
/// the constraint system's errors.
///
/// # Panics
/// Panics if `bits` is not in `1..=`[`MAX_BITS`].
pub fn enforce_leq(
    cs: ConstraintSystemRef<Fr>,
    a: &FpVar<Fr>,
    b: &FpVar<Fr>,
    bits: usize,
) -> Result<(), SynthesisError> {
    enforce_range(cs, &(b - a), bits)
}

/// Whether the integer `v ∈ [−2^bits, 2^bits)` is negative.
///
/// Native: `v < 0`, where `v` is embedded as `v` or `r − |v|`.
///
/// Constraints: exactly `bits + 1`: `v + 2^bits ∈ [0, 2^(bits+1))` is decomposed
/// into `bits + 1` bits, bit 0 defined by the recomposition (module docs), and the
/// top bit is `v ≥ 0`; the result is its negation, which is free.
///
/// Precondition and soundness: the system is satisfiable iff `v` is the
/// embedding of an integer in `[−2^bits, 2^bits)`, and then the result is exact.
/// Any other field element (an integer `≥ 2^bits` or `< −2^bits`, or anything
/// else) makes `v + 2^bits` a field element whose canonical representative is at
/// least `2^(bits+1)`, which has no `bits + 1`-bit decomposition: no witness
/// satisfies the system, so an out-of-range value is rejected, not misclassified.
/// `v = −2^bits` is accepted, correctly, as negative: a `bits + 1`-bit window
/// holds `2^(bits+1)` integers, one more than `(−2^bits, 2^bits)`. Where the
/// strict bound `|v| < 2^bits` is part of the statement (the spec refuses a
/// balance of `−2^63`), exclude that one value separately, e.g. with
/// [`enforce_nonzero`] on `v + 2^bits` (1 constraint).
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if `v` is a constant out of range; otherwise
/// the constraint system's errors.
///
/// # Panics
/// Panics if `bits` is not in `1..`[`MAX_BITS`] (so that `bits + 1 ≤ 252`).
pub fn is_negative(
    cs: ConstraintSystemRef<Fr>,
    v: &FpVar<Fr>,
    bits: usize,
) -> Result<Boolean<Fr>, SynthesisError> {
    assert!(
        (1..MAX_BITS).contains(&bits),
        "is_negative: {bits} bits outside 1..{MAX_BITS}"
    );
    let offset = pow2(bits);
    let non_negative = match v {
        FpVar::Constant(c) => {
            let shifted = constant_bits(*c + offset, bits + 1)?;
            Boolean::Constant(shifted[bits])
        }
        FpVar::Var(a) => {
            let cs = cs.or(a.cs.clone());
            let shifted = LinearCombination::from(a.variable) + (offset, Variable::One);
            let value = a.value().ok().map(|x| x + offset);
            let mut high = decompose(&cs, shifted, value, bits + 1)?;
            high.pop().ok_or(SynthesisError::Unsatisfiable)?
        }
    };
    Ok(!non_negative)
}

/// Enforces `v ≠ 0` with the witness `v⁻¹`.
///
/// Native: `v != 0`.
///
/// Constraints: exactly 1, `v · inv = 1`, which has a solution iff `v ≠ 0`; none
/// if `v` is a constant.
///
/// # Errors
/// [`SynthesisError::Unsatisfiable`] if `v` is the constant 0; otherwise the
/// constraint system's errors.
pub fn enforce_nonzero(cs: ConstraintSystemRef<Fr>, v: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let a = match v {
        FpVar::Constant(c) if c.is_zero() => return Err(SynthesisError::Unsatisfiable),
        FpVar::Constant(_) => return Ok(()),
        FpVar::Var(a) => a,
    };
    let cs = cs.or(a.cs.clone());
    let inverse = a.value().ok().map(|x| x.inverse().unwrap_or(Fr::ZERO));
    let inv = cs.new_witness_variable(|| inverse.ok_or(SynthesisError::AssignmentMissing))?;
    let variable = a.variable;
    cs.enforce_r1cs_constraint(|| variable.into(), || inv.into(), || Variable::One.into())
}

/// `2^i` in the field (a constant of the circuits: lane weights, flag bits, offsets).
pub(crate) fn pow2(i: usize) -> Fr {
    let mut p = Fr::ONE;
    for _ in 0..i {
        p.double_in_place();
    }
    p
}

/// `Σ_k 2^(first + k) · bits[k]`.
fn weighted_sum(bits: &[Boolean<Fr>], first: usize) -> LinearCombination<Fr> {
    let mut weight = pow2(first);
    let mut terms = Vec::with_capacity(bits.len());
    for b in bits {
        terms.push((weight, b.variable()));
        weight.double_in_place();
    }
    LinearCombination(terms)
}

/// The `n` little-endian bits of the constant `c`, or
/// [`SynthesisError::Unsatisfiable`] if `c ≥ 2^n`.
fn constant_bits(c: Fr, n: usize) -> Result<Vec<bool>, SynthesisError> {
    let big = c.into_bigint();
    if big.num_bits() as usize > n {
        return Err(SynthesisError::Unsatisfiable);
    }
    Ok((0..n).map(|i| big.get_bit(i)).collect())
}

/// Enforces `lc ∈ [0, 2^n)` (`value` is its value) with exactly `n` constraints:
/// allocates bits `1..n` as Boolean witnesses and enforces that
/// `b_0 = lc − Σ_{i≥1} 2^i b_i` is a bit. Returns bits `1..n` (bit `i` at index
/// `i − 1`). An out-of-range `value` yields a non-boolean `b_0`: unsatisfiable.
fn decompose(
    cs: &ConstraintSystemRef<Fr>,
    lc: LinearCombination<Fr>,
    value: Option<Fr>,
    n: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    debug_assert!((1..=MAX_BITS).contains(&n));
    let big = value.map(PrimeField::into_bigint);
    let high = (1..n)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                big.map(|x| x.get_bit(i))
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bit0 = lc - weighted_sum(&high, 1);
    let one_minus_bit0 = LinearCombination::from(Variable::One) - &bit0;
    cs.enforce_r1cs_constraint(|| bit0, || one_minus_bit0, LinearCombination::zero)?;
    Ok(high)
}
