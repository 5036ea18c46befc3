#![allow(clippy::unwrap_used, clippy::panic)]
//! The R1CS gadgets of `backstop_circuits::r1cs` against their native
//! computations: values, exact constraint counts, and malicious witnesses.
//!
//! Malicious-witness tests synthesize honestly in a constraint system that does not
//! cache linear-combination values (as Groth16's prover does), finalize it, then
//! overwrite witness assignments and re-check satisfaction; every linear
//! combination is then re-evaluated from the tampered witnesses.

use ark_bn254::{Bn254, Fr};
use ark_ff::{AdditiveGroup, Field, PrimeField, UniformRand};
use ark_groth16::{Groth16, prepare_verifying_key};
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use ark_std::rand::SeedableRng;
use ark_std::rand::rngs::StdRng;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, MAX_HASH_INPUTS};
use backstop_circuits::r1cs::bits::{
    MAX_BITS, alloc_bits_le, enforce_leq, enforce_nonzero, enforce_range, is_negative, to_bits_le,
};
use backstop_circuits::r1cs::poseidon::{poseidon, poseidon_constraints};
use ethnum::{I256, U256};

// ---------------------------------------------------------------- helpers

/// The field element of a signed integer (`v` or `r − |v|`).
fn fr(v: I256) -> Fr {
    let m = Fr::from_le_bytes_mod_order(&v.unsigned_abs().to_le_bytes());
    if v < 0 { -m } else { m }
}

fn pow2(bits: u32) -> I256 {
    I256::ONE << bits
}

/// `r − 1`, i.e. the field element of −1.
fn p_minus_1() -> Fr {
    -Fr::ONE
}

/// A constraint system that, like Groth16's prover, does not cache the values
/// of linear combinations, so that tampered witnesses propagate.
fn tamperable_cs() -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    cs
}

fn witness(cs: &ConstraintSystemRef<Fr>, v: Fr) -> FpVar<Fr> {
    FpVar::new_witness(cs.clone(), || Ok(v)).unwrap()
}

fn witness_value(cs: &ConstraintSystemRef<Fr>, index: usize) -> Fr {
    cs.borrow().unwrap().assignments.witness_assignment[index]
}

fn set_witness(cs: &ConstraintSystemRef<Fr>, index: usize, value: Fr) {
    cs.borrow_mut().unwrap().assignments.witness_assignment[index] = value;
}

/// Every assignment of `candidates` to the witnesses `indices` that satisfies
/// `cs` (which must be finalized and tamperable).
fn satisfying_assignments(
    cs: &ConstraintSystemRef<Fr>,
    indices: &[usize],
    candidates: &[Fr],
) -> Vec<Vec<Fr>> {
    let saved: Vec<Fr> = indices.iter().map(|&i| witness_value(cs, i)).collect();
    let mut found = Vec::new();
    let total = candidates.len().pow(indices.len() as u32);
    for mut code in 0..total {
        let assignment: Vec<Fr> = indices
            .iter()
            .map(|_| {
                let c = candidates[code % candidates.len()];
                code /= candidates.len();
                c
            })
            .collect();
        for (&i, &v) in indices.iter().zip(&assignment) {
            set_witness(cs, i, v);
        }
        if cs.is_satisfied().unwrap() {
            found.push(assignment);
        }
    }
    for (&i, &v) in indices.iter().zip(&saved) {
        set_witness(cs, i, v);
    }
    found
}

const BIT_CANDIDATES: [Fr; 2] = [Fr::ZERO, Fr::ONE];

// ---------------------------------------------------------------- to_bits_le

fn bits_of(v: U256, n: usize) -> Vec<bool> {
    (0..n)
        .map(|i| (v >> i as u32) & U256::ONE == U256::ONE)
        .collect()
}

#[test]
fn to_bits_le_boundaries() {
    let u64_max = U256::from(u64::MAX);
    for (v, n) in [
        (U256::ZERO, 64),
        (U256::ONE, 64),
        (U256::from(i64::MAX as u64), 64),
        (U256::from(1u128 << 63), 64),
        (u64_max, 64),
        (U256::ONE, 1),
        (U256::ZERO, 0),
        ((U256::ONE << 252) - U256::ONE, 252),
    ] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, fr(v.as_i256()));
        let bits = to_bits_le(cs.clone(), &x, n).unwrap();
        assert_eq!(bits.value().unwrap(), bits_of(v, n), "{v}");
        assert_eq!(cs.num_constraints(), n + 1, "{v}");
        assert!(cs.is_satisfied().unwrap(), "{v}");
    }
    // One past the top, and r − 1 (the field's −1), have no n-bit decomposition.
    for (v, n) in [
        (fr(I256::from(1u128 << 64)), 64),
        (fr(I256::ONE), 0),
        (p_minus_1(), 64),
        (p_minus_1(), 252),
        (fr(pow2(252)), 252),
    ] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, v);
        to_bits_le(cs.clone(), &x, n).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "{v} in {n} bits");
    }
}

#[test]
fn to_bits_le_constants() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let bits = to_bits_le(cs.clone(), &FpVar::Constant(Fr::from(5u64)), 4).unwrap();
    assert_eq!(bits.value().unwrap(), [true, false, true, false]);
    assert!(bits.iter().all(|b| b.is_constant()));
    assert_eq!(cs.num_constraints(), 0);
    assert_eq!(
        to_bits_le(cs, &FpVar::Constant(Fr::from(16u64)), 4),
        Err(SynthesisError::Unsatisfiable)
    );
}

/// With candidate bits in {0, 1, 2, −1}, the only satisfying assignment of 4
/// bits for 5 is its binary expansion, and 16 (out of range) has none.
#[test]
fn to_bits_le_malicious_bits() {
    let candidates = [Fr::ZERO, Fr::ONE, Fr::from(2u64), p_minus_1()];
    for v in [5u64, 16] {
        let cs = tamperable_cs();
        let x = witness(&cs, Fr::from(v));
        to_bits_le(cs.clone(), &x, 4).unwrap();
        cs.finalize();
        let found = satisfying_assignments(&cs, &[1, 2, 3, 4], &candidates);
        if v == 5 {
            assert_eq!(found, vec![vec![Fr::ONE, Fr::ZERO, Fr::ONE, Fr::ZERO]]);
        } else {
            assert!(found.is_empty());
        }
    }
}

// ---------------------------------------------------------------- alloc_bits_le

#[test]
fn alloc_bits_le_lanes() {
    let lane_values = [
        U256::ZERO,
        U256::ONE,
        U256::from(i64::MAX as u64),
        U256::from(1u64 << 63),
        U256::from(u64::MAX),
    ];
    for v in lane_values {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (bits, packed) =
            alloc_bits_le(cs.clone(), Some(v), 64, AllocationMode::Witness).unwrap();
        assert_eq!(bits.value().unwrap(), bits_of(v, 64));
        assert_eq!(packed.value().unwrap(), fr(v.as_i256()));
        assert_eq!(
            cs.num_constraints(),
            64,
            "a 64-bit lane costs 64 constraints"
        );
        assert_eq!(cs.num_witness_variables(), 64);
        // The packed value is usable as-is and equals the native embedding.
        packed
            .enforce_equal(&FpVar::Constant(fr(v.as_i256())))
            .unwrap();
        assert!(cs.is_satisfied().unwrap());
    }
    let top = (U256::ONE << 252) - U256::ONE;
    let cs = ConstraintSystem::<Fr>::new_ref();
    let (_, packed) =
        alloc_bits_le(cs.clone(), Some(top), MAX_BITS, AllocationMode::Witness).unwrap();
    assert_eq!(packed.value().unwrap(), fr(top.as_i256()));
    assert!(cs.is_satisfied().unwrap());
}

#[test]
fn alloc_bits_le_modes_and_refusals() {
    // Out of range: no bits represent it.
    let cs = ConstraintSystem::<Fr>::new_ref();
    let over = U256::from(u64::MAX) + 1;
    assert_eq!(
        alloc_bits_le(cs.clone(), Some(over), 64, AllocationMode::Witness).map(drop),
        Err(SynthesisError::Unsatisfiable)
    );
    // Public bits.
    let (bits, packed) =
        alloc_bits_le(cs.clone(), Some(U256::from(6u8)), 3, AllocationMode::Input).unwrap();
    assert_eq!(bits.value().unwrap(), [false, true, true]);
    assert_eq!(packed.value().unwrap(), Fr::from(6u64));
    assert_eq!(cs.num_instance_variables(), 1 + 3);
    // Constants: no constraints.
    let before = cs.num_constraints();
    let (bits, packed) = alloc_bits_le(
        cs.clone(),
        Some(U256::from(6u8)),
        3,
        AllocationMode::Constant,
    )
    .unwrap();
    assert!(bits.iter().all(|b| b.is_constant()) && packed.is_constant());
    assert_eq!(cs.num_constraints(), before);
    assert!(cs.is_satisfied().unwrap());
    // Setup mode: no value, same shape.
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    let (_, packed) = alloc_bits_le(cs.clone(), None, 64, AllocationMode::Witness).unwrap();
    assert!(packed.value().is_err());
    assert_eq!(cs.num_constraints(), 64);
}

/// Bits whose weighted sum is right but which are not all boolean (such as
/// `(−1, 2, 0)` for 3) are rejected: only the binary expansion satisfies.
#[test]
fn alloc_bits_le_malicious_bits() {
    let cs = tamperable_cs();
    let (_, packed) = alloc_bits_le(
        cs.clone(),
        Some(U256::from(3u8)),
        3,
        AllocationMode::Witness,
    )
    .unwrap();
    packed
        .enforce_equal(&FpVar::Constant(Fr::from(3u64)))
        .unwrap();
    cs.finalize();
    let candidates = [Fr::ZERO, Fr::ONE, Fr::from(2u64), p_minus_1()];
    let found = satisfying_assignments(&cs, &[0, 1, 2], &candidates);
    assert_eq!(found, vec![vec![Fr::ONE, Fr::ONE, Fr::ZERO]]);
}

// ---------------------------------------------------------------- is_negative

/// Native: `v < 0` on `[−2^bits, 2^bits)`; anything else must be unsatisfiable.
fn check_is_negative(v: I256, bits: usize) {
    let in_range = v >= -pow2(bits as u32) && v < pow2(bits as u32);
    let cs = ConstraintSystem::<Fr>::new_ref();
    let x = witness(&cs, fr(v));
    let negative = is_negative(cs.clone(), &x, bits).unwrap();
    assert_eq!(
        cs.num_constraints(),
        bits + 1,
        "exactly bits + 1 constraints"
    );
    assert_eq!(
        cs.is_satisfied().unwrap(),
        in_range,
        "v = {v}, bits = {bits}"
    );
    if in_range {
        assert_eq!(negative.value().unwrap(), v < 0, "v = {v}, bits = {bits}");
    }
    // The same on a constant: natively decided, or refused.
    let constant = is_negative(cs, &FpVar::Constant(fr(v)), bits);
    if in_range {
        assert_eq!(constant.unwrap().value().unwrap(), v < 0);
    } else {
        assert_eq!(constant, Err(SynthesisError::Unsatisfiable));
    }
}

#[test]
fn is_negative_boundaries() {
    for bits in [1usize, 8, 63, 64, 194, 209, 226, 227, MAX_BITS - 1] {
        let top = pow2(bits as u32);
        for v in [
            I256::ZERO,
            I256::ONE,
            I256::MINUS_ONE,
            top - 1,
            -(top - 1),
            -top,
            top,
            top + 1,
            -top - 1,
        ] {
            check_is_negative(v, bits);
        }
    }
    // The spec's 64-bit lane bounds: |v| < 2^63 with `bits = 63`.
    for v in [i64::MAX, i64::MIN + 1, i64::MIN] {
        check_is_negative(I256::from(v), 63);
    }
    // r − 1 is −1.
    let cs = ConstraintSystem::<Fr>::new_ref();
    let x = witness(&cs, p_minus_1());
    assert!(is_negative(cs.clone(), &x, 64).unwrap().value().unwrap());
    assert!(cs.is_satisfied().unwrap());
}

/// The strict bound `|v| < 2^63` of the spec: `is_negative` accepts `−2^63`
/// (as negative); one `enforce_nonzero(v + 2^63)` refuses it.
#[test]
fn strict_bound_excludes_minus_two_pow_bits() {
    for (v, expected) in [(i64::MIN, false), (i64::MIN + 1, true), (i64::MAX, true)] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, fr(I256::from(v)));
        let negative = is_negative(cs.clone(), &x, 63).unwrap();
        enforce_nonzero(cs.clone(), &(&x + fr(pow2(63)))).unwrap();
        assert_eq!(cs.num_constraints(), 64 + 1);
        assert_eq!(cs.is_satisfied().unwrap(), expected, "{v}");
        assert_eq!(negative.value().unwrap(), v < 0);
    }
}

#[test]
fn is_negative_exhaustive_small() {
    for v in -20..20 {
        check_is_negative(I256::from(v), 3);
    }
}

/// No choice of the bit witnesses classifies an in-range value wrongly, and none
/// satisfies an out-of-range one (bits = 3, every integer in [−12, 12]).
#[test]
fn is_negative_malicious_bits() {
    for v in -12i32..=12 {
        let cs = tamperable_cs();
        let x = witness(&cs, fr(I256::from(v)));
        let negative = is_negative(cs.clone(), &x, 3).unwrap();
        cs.finalize();
        // Witness 0 is v; 1..=3 are bits 1..=3 of v + 8 (bit 3 is "v ≥ 0").
        let found = satisfying_assignments(&cs, &[1, 2, 3], &BIT_CANDIDATES);
        if (-8..8).contains(&v) {
            assert_eq!(found.len(), 1, "v = {v}");
            let sign_bit = found[0][2];
            assert_eq!(sign_bit == Fr::ZERO, v < 0, "v = {v}");
            assert_eq!(negative.value().unwrap(), v < 0);
        } else {
            assert!(found.is_empty(), "v = {v} must be unsatisfiable");
        }
    }
}

// ---------------------------------------------------------------- enforce_range / enforce_leq

#[test]
fn enforce_range_boundaries() {
    for bits in [1usize, 63, 64, MAX_BITS] {
        let top = pow2(bits as u32);
        for v in [I256::ZERO, I256::ONE, top - 1, top, I256::MINUS_ONE] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = witness(&cs, fr(v));
            enforce_range(cs.clone(), &x, bits).unwrap();
            assert_eq!(cs.num_constraints(), bits);
            let expected = v >= 0 && v < top;
            assert_eq!(
                cs.is_satisfied().unwrap(),
                expected,
                "v = {v}, bits = {bits}"
            );
            let constant = enforce_range(cs, &FpVar::Constant(fr(v)), bits);
            assert_eq!(constant.is_ok(), expected);
        }
    }
}

#[test]
fn enforce_leq_boundaries() {
    let max = pow2(64) - 1;
    let pairs = [
        (I256::ZERO, I256::ZERO),
        (I256::ZERO, I256::ONE),
        (I256::ONE, I256::ZERO),
        (I256::ZERO, max),
        (max, I256::ZERO),
        (max, max),
        (max - 1, max),
        (max, max - 1),
    ];
    for (a, b) in pairs {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (x, y) = (witness(&cs, fr(a)), witness(&cs, fr(b)));
        enforce_leq(cs.clone(), &x, &y, 64).unwrap();
        assert_eq!(cs.num_constraints(), 64);
        assert_eq!(cs.is_satisfied().unwrap(), a <= b, "{a} <= {b}");
        let constant = enforce_leq(cs, &FpVar::Constant(fr(a)), &FpVar::Constant(fr(b)), 64);
        assert_eq!(constant.is_ok(), a <= b);
    }
}

/// With 4-bit operands, no witness proves `a ≤ b` when `a > b`.
#[test]
fn enforce_leq_malicious_bits() {
    for (a, b) in [(3u64, 9u64), (9, 3), (15, 0), (7, 7)] {
        let cs = tamperable_cs();
        let (x, y) = (witness(&cs, Fr::from(a)), witness(&cs, Fr::from(b)));
        enforce_leq(cs.clone(), &x, &y, 4).unwrap();
        cs.finalize();
        let found = satisfying_assignments(&cs, &[2, 3, 4], &BIT_CANDIDATES);
        assert_eq!(found.len(), usize::from(a <= b), "{a} <= {b}");
    }
}

// ---------------------------------------------------------------- enforce_nonzero

#[test]
fn enforce_nonzero_values() {
    for (v, expected) in [
        (Fr::ONE, true),
        (p_minus_1(), true),
        (Fr::from(u64::MAX), true),
        (Fr::ZERO, false),
    ] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, v);
        enforce_nonzero(cs.clone(), &x).unwrap();
        assert_eq!(cs.num_constraints(), 1);
        assert_eq!(cs.is_satisfied().unwrap(), expected, "{v}");
        assert_eq!(enforce_nonzero(cs, &FpVar::Constant(v)).is_ok(), expected);
    }
    // A wrong inverse is rejected; for v = 0 no inverse works.
    let cs = tamperable_cs();
    let x = witness(&cs, Fr::from(7u64));
    enforce_nonzero(cs.clone(), &x).unwrap();
    cs.finalize();
    assert!(cs.is_satisfied().unwrap());
    set_witness(&cs, 1, Fr::from(7u64));
    assert!(!cs.is_satisfied().unwrap());
    set_witness(&cs, 0, Fr::ZERO);
    for inv in [Fr::ZERO, Fr::ONE, p_minus_1()] {
        set_witness(&cs, 1, inv);
        assert!(!cs.is_satisfied().unwrap());
    }
}

// ---------------------------------------------------------------- poseidon

fn edge_inputs(n: usize) -> Vec<Vec<Fr>> {
    vec![
        vec![Fr::ZERO; n],
        vec![p_minus_1(); n],
        (0..n)
            .map(|i| [Fr::ZERO, Fr::ONE, p_minus_1()][i % 3])
            .collect(),
        (0..n).map(|i| Fr::from(u64::MAX - i as u64)).collect(),
    ]
}

#[test]
fn poseidon_matches_native_at_every_width() {
    let mut rng = StdRng::seed_from_u64(0x6261_636b);
    for n in 1..=MAX_HASH_INPUTS {
        let mut cases = edge_inputs(n);
        cases.push((0..n).map(|_| Fr::rand(&mut rng)).collect());
        for inputs in cases {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<_> = inputs.iter().map(|v| witness(&cs, *v)).collect();
            let out = poseidon(cs.clone(), &vars).unwrap();
            assert_eq!(
                out.value().unwrap(),
                Bn254Poseidon::hash(&inputs),
                "n = {n}"
            );
            assert_eq!(cs.num_constraints(), poseidon_constraints(n), "n = {n}");
            assert_eq!(cs.num_witness_variables(), n + poseidon_constraints(n));
            assert!(cs.is_satisfied().unwrap(), "n = {n}");
        }
    }
}

#[test]
fn poseidon_constraint_counts() {
    // 3 · (8t + R_P − 1): the first round's S-box on element 0 acts on a constant.
    let expected = [
        213, 240, 261, 297, 321, 354, 381, 402, 417, 459, 465, 504, 543, 537, 573, 609,
    ];
    for (n, count) in (1..=MAX_HASH_INPUTS).zip(expected) {
        assert_eq!(poseidon_constraints(n), count, "n = {n}");
        let t = n + 1;
        assert_eq!(count, 3 * (8 * t + Bn254Poseidon::partial_rounds(t) - 1));
    }
}

/// The non-zero entries of one hash's matrices match the module docs' formula
/// `3 · Σ|x| + 6 · #S-boxes`.
#[test]
fn poseidon_matrix_sizes() {
    for n in 1..=MAX_HASH_INPUTS {
        let (t, rp) = (n + 1, Bn254Poseidon::partial_rounds(n + 1));
        let cs = tamperable_cs();
        let vars: Vec<_> = (0..n).map(|i| witness(&cs, Fr::from(i as u64))).collect();
        let _hash = poseidon(cs.clone(), &vars).unwrap();
        cs.finalize();
        let nnz: usize = cs
            .to_matrices()
            .unwrap()
            .values()
            .flatten()
            .map(|m| m.iter().map(Vec::len).sum::<usize>())
            .sum();
        let terms = 2 * (t - 1)
            + t * t
            + 5 * t * (t + 1)
            + t * (t + rp + 1)
            + rp * (t + 1)
            + rp * (rp - 1) / 2;
        assert_eq!(nnz, 3 * terms + 6 * poseidon_constraints(n) / 3, "n = {n}");
    }
}

/// Public inputs, symbolic linear combinations and constants are all accepted;
/// each constant input saves one S-box (3 constraints).
#[test]
fn poseidon_input_kinds() {
    let values = [Fr::from(3u64), Fr::from(4u64), Fr::from(5u64)];
    let native = Bn254Poseidon::hash(&values);

    let cs = ConstraintSystem::<Fr>::new_ref();
    let a = FpVar::new_input(cs.clone(), || Ok(values[0])).unwrap();
    let b = witness(&cs, Fr::ONE);
    let c = &b + &b + Fr::from(2u64); // a symbolic linear combination worth 4
    let out = poseidon(cs.clone(), &[a, c, FpVar::Constant(values[2])]).unwrap();
    assert_eq!(out.value().unwrap(), native);
    assert_eq!(cs.num_constraints(), poseidon_constraints(3) - 3);
    assert!(cs.is_satisfied().unwrap());
    cs.finalize();
    assert!(cs.is_satisfied().unwrap());

    // Constants only: a constant, no constraints.
    let cs = ConstraintSystem::<Fr>::new_ref();
    let constants: Vec<_> = values.iter().map(|v| FpVar::Constant(*v)).collect();
    let out = poseidon(cs.clone(), &constants).unwrap();
    assert!(matches!(out, FpVar::Constant(h) if h == native));
    assert_eq!(cs.num_constraints(), 0);
}

#[test]
fn poseidon_setup_mode_has_the_same_shape() {
    for n in [1, 2, 5, 16] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let vars: Vec<_> = (0..n)
            .map(|_| {
                FpVar::new_witness(cs.clone(), || -> Result<Fr, _> { unreachable!() }).unwrap()
            })
            .collect();
        let out = poseidon(cs.clone(), &vars).unwrap();
        assert!(out.value().is_err());
        assert_eq!(cs.num_constraints(), poseidon_constraints(n));
    }
}

/// S-box witnesses are pinned: changing any one of them (every 7th witness,
/// which covers the three roles `x²`, `x⁴`, `x⁵`, and the last) breaks a
/// constraint that `which_is_unsatisfied` names; and the output cannot be claimed
/// as native + 1.
#[test]
fn poseidon_tampered_witnesses() {
    let inputs = [Fr::from(1u64), Fr::from(2u64)];
    let cs = tamperable_cs();
    let vars: Vec<_> = inputs.iter().map(|v| witness(&cs, *v)).collect();
    let out = poseidon(cs.clone(), &vars).unwrap();
    cs.finalize();
    assert!(cs.is_satisfied().unwrap());
    let total = cs.num_witness_variables();
    assert_eq!(total, 2 + 240);
    for index in (0..total).step_by(7).chain([total - 1]) {
        let honest = witness_value(&cs, index);
        set_witness(&cs, index, honest + Fr::ONE);
        let unsatisfied = cs.which_is_unsatisfied().unwrap();
        assert!(
            unsatisfied
                .as_deref()
                .is_some_and(|s| s.starts_with("R1CS")),
            "witness {index}: {unsatisfied:?}"
        );
        set_witness(&cs, index, honest);
    }
    assert!(cs.is_satisfied().unwrap());

    let cs = ConstraintSystem::<Fr>::new_ref();
    let vars: Vec<_> = inputs.iter().map(|v| witness(&cs, *v)).collect();
    let out2 = poseidon(cs.clone(), &vars).unwrap();
    assert_eq!(out2.value().unwrap(), out.value().unwrap());
    out2.enforce_equal(&FpVar::Constant(Bn254Poseidon::hash(&inputs) + Fr::ONE))
        .unwrap();
    assert!(!cs.is_satisfied().unwrap());
    assert!(cs.which_is_unsatisfied().unwrap().is_some());
}

// ---------------------------------------------------------------- Groth16 round trip

/// `H(a, b) = h` with `h` public, `a` a 64-bit lane and `b` negative, `|b| < 2^63`.
#[derive(Clone, Debug)]
struct HashPreimage {
    a: Option<u64>,
    b: Option<i64>,
    h: Option<Fr>,
}

impl ConstraintSynthesizer<Fr> for HashPreimage {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let h = FpVar::new_input(cs.clone(), || {
            self.h.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let (_, a) = alloc_bits_le(
            cs.clone(),
            self.a.map(U256::from),
            64,
            AllocationMode::Witness,
        )?;
        let b = FpVar::new_witness(cs.clone(), || {
            self.b
                .map(|b| fr(I256::from(b)))
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        is_negative(cs.clone(), &b, 63)?.enforce_equal(&Boolean::TRUE)?;
        poseidon(cs, &[a, b])?.enforce_equal(&h)
    }
}

#[test]
fn groth16_round_trip() {
    let mut rng = StdRng::seed_from_u64(7);
    let (a, b) = (u64::MAX, -5i64);
    let h = Bn254Poseidon::hash(&[Fr::from(a), fr(I256::from(b))]);
    let blank = HashPreimage {
        a: None,
        b: None,
        h: None,
    };
    let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(blank, &mut rng).unwrap();
    let circuit = HashPreimage {
        a: Some(a),
        b: Some(b),
        h: Some(h),
    };
    let proof =
        Groth16::<Bn254>::create_random_proof_with_reduction(circuit, &pk, &mut rng).unwrap();
    let pvk = prepare_verifying_key(&pk.vk);
    assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, &[h]).unwrap());
    assert!(!Groth16::<Bn254>::verify_proof(&pvk, &proof, &[h + Fr::ONE]).unwrap());
}

// ---------------------------------------------------------------- measurements

/// Synthesis time and matrix sizes for 1000 width-6 hashes; run with
/// `cargo test --release -p backstop-circuits --test r1cs_gadgets -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn measure_poseidon_synthesis() {
    use std::time::Instant;
    let mut rng = StdRng::seed_from_u64(1);
    for n in 1..=MAX_HASH_INPUTS {
        let hashes = if n == 5 { 1000 } else { 100 };
        let inputs: Vec<Vec<Fr>> = (0..hashes)
            .map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect())
            .collect();
        for mode in ["prove", "setup"] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            cs.set_optimization_goal(OptimizationGoal::Constraints);
            cs.set_mode(if mode == "setup" {
                SynthesisMode::Setup
            } else {
                SynthesisMode::Prove {
                    construct_matrices: true,
                    generate_lc_assignments: false,
                }
            });
            let start = Instant::now();
            for row in &inputs {
                let vars: Vec<_> = row
                    .iter()
                    .map(|v| FpVar::new_witness(cs.clone(), || Ok(*v)).unwrap())
                    .collect();
                let _hash = poseidon(cs.clone(), &vars).unwrap();
            }
            let synth = start.elapsed();
            let start = Instant::now();
            cs.finalize();
            let fin = start.elapsed();
            let matrices = cs.to_matrices().unwrap();
            let nnz: usize = matrices
                .values()
                .flatten()
                .map(|m| m.iter().map(Vec::len).sum::<usize>())
                .sum();
            println!(
                "n = {n:2} t = {:2} {mode:5}: {hashes} hashes synthesized in {synth:?} \
                 (+ finalize {fin:?}); {} constraints, nnz(A+B+C) = {} ({} per hash)",
                n + 1,
                cs.num_constraints(),
                nnz,
                nnz / hashes
            );
        }
    }
}
