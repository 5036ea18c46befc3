//! circomlib's Poseidon over BN254 as an R1CS gadget: [`poseidon`] computes in
//! constraints exactly what
//! [`Bn254Poseidon::hash`](crate::hash::FieldHasher::hash) computes natively.
//!
//! # Algebra
//!
//! For `n` inputs the width is `t = n + 1` and the state starts as
//! `s = [0, in_1, …, in_n]`. Each of the `R_F + R_P` rounds (`R_F = 8` full,
//! `R_P` partial, in the order `R_F/2` full, `R_P` partial, `R_F/2` full) does
//!
//! | step | native | constraints |
//! | --- | --- | --- |
//! | round constants | `x_i = s_i + c_{r,i}` | 0 (affine) |
//! | S-box (full round: every `i`; partial: `i = 0`) | `y_i = x_i^5` | 3 per S-box |
//! | other elements of a partial round | `y_i = x_i` | 0 |
//! | MDS | `s'_i = Σ_j M_ij · y_j` | 0 (affine) |
//!
//! and the hash is `s_0` after the last round. An S-box is the three constraints
//! `x·x = a`, `a·a = b`, `b·x = y` (`a`, `b`, `y` new witnesses); three is the
//! minimum, since one rank-1 constraint at most doubles the degree
//! (`x → x² → x⁴`, then `x⁴ · x`). The S-box input `x` is *not* a witness: it is
//! an affine combination of earlier witnesses, used directly as the `A` and `B`
//! sides of the constraints.
//!
//! # Representation: a per-width "program"
//!
//! Every state element is an affine form `k + Σ_j m_j · z_j` over *slots* `z`: the
//! inputs, then the S-box outputs in order. The coefficients of these forms do not
//! depend on the inputs, so they are computed once per width (symbolically, from
//! [`Bn254Poseidon::round_constants`] and [`Bn254Poseidon::mds`]) and cached: for
//! each S-box the affine form of its input, and the affine form of the output.
//! Synthesis then only substitutes the inputs' variables, registers each S-box
//! input as one symbolic linear combination (stored once, referenced by its three
//! uses), allocates three witnesses and adds three constraints. No intermediate
//! state element is ever registered with the constraint system, and no linear
//! combination refers to another (unless an input is itself a symbolic linear
//! combination), so `finalize` has nothing to inline.
//!
//! Constant folding: an S-box whose input has no variable is evaluated natively.
//! The first round's element 0 is always the constant `0 + c_{0,0}`, so every hash
//! saves one S-box over the naive count; each *constant* input ([`FpVar::Constant`])
//! saves one more, and a hash of constants only is a constant (no constraints).
//!
//! # Sizes
//!
//! With all inputs variables, a hash costs `3 · (R_F · t + R_P − 1)` constraints
//! ([`poseidon_constraints`]) and as many witnesses.
//!
//! Linear combinations stay bounded. Counting terms of an S-box input `x` (the
//! constant counts as one): round 1 has `t − 1` S-boxes of 2 terms (`in_i + c`);
//! round 2 has `t` of `t` terms (round 1's element 0 was a constant); the other
//! full rounds before and after the partial rounds have `t + 1` terms (the previous
//! round's `t` outputs and the constant); partial S-box `k` (from 0) has
//! `t + k + 1` terms, since element 0 then depends on every earlier partial
//! S-box; and the first full round after the partial rounds has `t` inputs of
//! `t + R_P + 1` terms. An S-box's three constraints hold `3·|x| + 6` non-zero
//! entries (`x` on both sides of `x·x = a` and on one side of `b·x = y`), so
//! `nnz(A) + nnz(B) + nnz(C) = 3 · Σ|x| + 6 · (#S-boxes)` per hash, with
//! `Σ|x| = 2(t − 1) + t² + 5t(t + 1) + t(t + R_P + 1) + R_P(t + 1) + R_P(R_P − 1)/2`
//! (the table's last column, checked by the tests after `finalize`).
//!
//! Allocating the state as fresh witnesses after the partial rounds (`t` extra
//! constraints `s_i · 1 = w_i`) would shorten the first post-partial full round's
//! S-box inputs from `t + R_P + 1` to `t + 1` terms. Measured: at `t = 6` it saves
//! 8 % of the non-zero entries (9 186 → 8 430 per hash) for 6 more constraints and
//! witnesses (+1.9 %); at `t = 17`, 13 % (21 663 → 18 875) for 17 more (+2.8 %);
//! synthesis time is unchanged. It is not done: in Groth16 a non-zero entry costs
//! one field multiplication in the witness map, while a constraint and a witness
//! each add FFT work and multi-scalar-multiplication terms (G1 and G2) to every
//! proof, and terms to the proving key.
//!
//! | inputs `n` | width `t` | `R_P` | S-boxes | constraints | non-zero entries (A+B+C) |
//! | ---: | ---: | ---: | ---: | ---: | ---: |
//! | 1 | 2 | 56 | 71 | 213 | 6 012 |
//! | 2 | 3 | 57 | 80 | 240 | 6 720 |
//! | 3 | 4 | 56 | 87 | 261 | 7 080 |
//! | 4 | 5 | 60 | 99 | 297 | 8 523 |
//! | 5 | 6 | 60 | 107 | 321 | 9 186 |
//! | 6 | 7 | 63 | 118 | 354 | 10 593 |
//! | 7 | 8 | 64 | 127 | 381 | 11 604 |
//! | 8 | 9 | 63 | 134 | 402 | 12 165 |
//! | 9 | 10 | 60 | 139 | 417 | 12 258 |
//! | 10 | 11 | 66 | 153 | 459 | 14 706 |
//! | 11 | 12 | 60 | 155 | 465 | 14 046 |
//! | 12 | 13 | 65 | 168 | 504 | 16 368 |
//! | 13 | 14 | 70 | 181 | 543 | 18 867 |
//! | 14 | 15 | 60 | 179 | 537 | 17 043 |
//! | 15 | 16 | 64 | 191 | 573 | 19 284 |
//! | 16 | 17 | 68 | 203 | 609 | 21 663 |
//!
//! Synthesis of 1000 width-6 hashes (release build) takes about 0.21 s in
//! Groth16's proving mode (witness values computed) and 0.12 s in setup mode;
//! `finalize` then has nothing to inline (4 ms).

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, Zero};
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

use crate::hash::{Bn254Poseidon, MAX_HASH_INPUTS};
use crate::native::commit::tag;

/// The number of constraints (and of witnesses) [`poseidon`] adds for `n_inputs`
/// inputs that are all variables: `3 · (8 · t + R_P(t) − 1)` with `t = n_inputs + 1`
/// (one S-box of the first round always acts on a constant). Each constant input
/// saves 3.
///
/// # Panics
/// Panics if `n_inputs` is not in `1..=16`.
#[must_use]
pub fn poseidon_constraints(n_inputs: usize) -> usize {
    let t = width(n_inputs);
    3 * (Bn254Poseidon::FULL_ROUNDS * t + Bn254Poseidon::partial_rounds(t) - 1)
}

/// Hashes `inputs` (1 to 16 field elements) with circomlib's Poseidon: the
/// result's value is [`Bn254Poseidon::hash`](crate::hash::FieldHasher::hash) of the inputs' values.
///
/// Costs [`poseidon_constraints`]`(inputs.len())` constraints when every input is
/// a variable (fewer with constant inputs, see the module docs). The inputs may
/// be any [`FpVar`]s, including symbolic linear combinations.
///
/// # Errors
/// Returns the constraint system's error if allocating a witness fails (for
/// example [`SynthesisError::MissingCS`] if `cs` is `None` and no input carries a
/// constraint system).
///
/// # Panics
/// Panics if `inputs.len()` is not in `1..=16`.
pub fn poseidon(
    cs: ConstraintSystemRef<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let program = program(width(inputs.len()));
    let cs = cs.or(inputs.cs());
    let mut slots: Vec<Slot> = Vec::with_capacity(inputs.len() + program.sboxes.len());
    slots.extend(inputs.iter().map(Slot::from));
    for input in &program.sboxes {
        let slot = match substitute(&cs, input, &slots)? {
            Slot::Constant(x) => Slot::Constant(pow5(x)),
            Slot::Var { var, value } => sbox(&cs, var, value)?,
        };
        slots.push(slot);
    }
    Ok(match substitute(&cs, &program.output, &slots)? {
        Slot::Constant(value) => FpVar::Constant(value),
        Slot::Var { var, value } => FpVar::Var(AllocatedFp::new(value, var, cs)),
    })
}

/// The chained absorb `acc ← H(acc, chunk…)` over chunks of at most 15 inputs: the
/// gadget of [`absorb_chain`](crate::native::commit::absorb_chain)
/// (`docs/SPEC.md` §5.0), at the cost of one [`poseidon`] per chunk.
///
/// # Errors
/// As [`poseidon`].
pub(crate) fn absorb(
    cs: &ConstraintSystemRef<Fr>,
    mut acc: FpVar<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    for chunk in inputs.chunks(MAX_HASH_INPUTS - 1) {
        let mut buf = Vec::with_capacity(chunk.len() + 1);
        buf.push(acc);
        buf.extend_from_slice(chunk);
        acc = poseidon(cs.clone(), &buf)?;
    }
    Ok(acc)
}

/// The field element of a domain tag as a circuit constant (`docs/SPEC.md` §5.0).
pub(crate) fn tag_const(name: &str) -> FpVar<Fr> {
    FpVar::Constant(tag::<Bn254Poseidon>(name))
}

/// The width for `n_inputs` inputs.
///
/// # Panics
/// Panics if `n_inputs` is not in `1..=16`.
fn width(n_inputs: usize) -> usize {
    assert!(
        (1..=MAX_HASH_INPUTS).contains(&n_inputs),
        "Poseidon takes 1..={MAX_HASH_INPUTS} inputs, got {n_inputs}"
    );
    n_inputs + 1
}

/// `x^5`.
fn pow5(x: Fr) -> Fr {
    x.square().square() * x
}

/// A slot's content during synthesis: a constant, or a variable (possibly a
/// symbolic linear combination) with its value (`None` in setup mode).
#[derive(Clone, Copy, Debug)]
enum Slot {
    Constant(Fr),
    Var { var: Variable, value: Option<Fr> },
}

impl From<&FpVar<Fr>> for Slot {
    fn from(v: &FpVar<Fr>) -> Self {
        match v {
            FpVar::Constant(c) => Slot::Constant(*c),
            FpVar::Var(a) => Slot::Var {
                var: a.variable,
                value: a.value().ok(),
            },
        }
    }
}

/// Evaluates `form` on `slots`: a constant if no variable slot has a non-zero
/// coefficient, otherwise a new symbolic linear combination and its value.
fn substitute(
    cs: &ConstraintSystemRef<Fr>,
    form: &Affine,
    slots: &[Slot],
) -> Result<Slot, SynthesisError> {
    let mut constant = form.constant;
    let mut terms = Vec::with_capacity(form.terms.len() + 1);
    let mut value = Some(Fr::ZERO);
    for &(slot, coeff) in &form.terms {
        match slots[slot] {
            Slot::Constant(c) => constant += coeff * c,
            Slot::Var { var, value: v } => {
                terms.push((coeff, var));
                value = value.zip(v).map(|(acc, v)| acc + coeff * v);
            }
        }
    }
    if terms.is_empty() {
        return Ok(Slot::Constant(constant));
    }
    if !constant.is_zero() {
        terms.push((constant, Variable::One));
    }
    let var = cs.new_lc(|| LinearCombination(terms))?;
    Ok(Slot::Var {
        var,
        value: value.map(|v| v + constant),
    })
}

/// `y = x^5` for a variable `x`: witnesses `a = x²`, `b = a²`, `y = b·x`, one
/// constraint each.
fn sbox(
    cs: &ConstraintSystemRef<Fr>,
    x: Variable,
    value: Option<Fr>,
) -> Result<Slot, SynthesisError> {
    let a_value = value.map(|x| x.square());
    let b_value = a_value.map(|a| a.square());
    let y_value = b_value.zip(value).map(|(b, x)| b * x);
    let a = cs.new_witness_variable(|| a_value.ok_or(SynthesisError::AssignmentMissing))?;
    cs.enforce_r1cs_constraint(|| x.into(), || x.into(), || a.into())?;
    let b = cs.new_witness_variable(|| b_value.ok_or(SynthesisError::AssignmentMissing))?;
    cs.enforce_r1cs_constraint(|| a.into(), || a.into(), || b.into())?;
    let y = cs.new_witness_variable(|| y_value.ok_or(SynthesisError::AssignmentMissing))?;
    cs.enforce_r1cs_constraint(|| b.into(), || x.into(), || y.into())?;
    Ok(Slot::Var {
        var: y,
        value: y_value,
    })
}

/// An affine form `constant + Σ coeff · slot` over the slots (inputs `0..n`, then
/// S-box output `k` in slot `n + k`).
#[derive(Debug)]
struct Affine {
    constant: Fr,
    terms: Box<[(usize, Fr)]>,
}

/// The permutation of one width, in terms of slots: each S-box's input, in
/// order, and the hash output. See the module docs.
#[derive(Debug)]
struct Program {
    sboxes: Box<[Affine]>,
    output: Affine,
}

/// The cached program of width `t` (index `t - 2`).
fn program(t: usize) -> &'static Program {
    static PROGRAMS: [OnceLock<Program>; MAX_HASH_INPUTS] =
        [const { OnceLock::new() }; MAX_HASH_INPUTS];
    PROGRAMS[t - 2].get_or_init(|| Program::build(t))
}

/// A state element while building a [`Program`]: `constant + Σ coeffs[j] ·
/// slot(window + j)`, dense over the slots from `window` on.
#[derive(Clone, Debug)]
struct Form {
    constant: Fr,
    coeffs: Vec<Fr>,
}

impl Form {
    /// The form as an [`Affine`] over absolute slots, dropping zero coefficients.
    fn to_affine(&self, window: usize) -> Affine {
        Affine {
            constant: self.constant,
            terms: self
                .coeffs
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_zero())
                .map(|(j, c)| (window + j, *c))
                .collect(),
        }
    }
}

impl Program {
    /// Runs the permutation of width `t` symbolically, round by round, exactly
    /// as [`Bn254Poseidon::permute`] specifies it.
    fn build(t: usize) -> Self {
        let n = t - 1;
        let round_constants = Bn254Poseidon::round_constants(t);
        let mds = Bn254Poseidon::mds(t);
        let half_full = Bn254Poseidon::FULL_ROUNDS / 2;
        let partial = Bn254Poseidon::partial_rounds(t);

        // Slots `window..next_slot` are the only ones the state may depend on.
        let mut window = 0;
        let mut next_slot = n;
        let mut state: Vec<Form> = (0..t)
            .map(|i| {
                let mut coeffs = vec![Fr::ZERO; n];
                if i > 0 {
                    coeffs[i - 1] = Fr::ONE;
                }
                Form {
                    constant: Fr::ZERO,
                    coeffs,
                }
            })
            .collect();
        let mut sboxes = Vec::new();

        for (round, constants) in round_constants.chunks_exact(t).enumerate() {
            let full = round < half_full || round >= half_full + partial;
            for (s, c) in state.iter_mut().zip(constants) {
                s.constant += c;
            }
            let round_start = next_slot;
            let sboxed = if full { t } else { 1 };
            for i in 0..sboxed {
                if state[i].coeffs.iter().all(Zero::is_zero) {
                    state[i].constant = pow5(state[i].constant);
                    continue;
                }
                sboxes.push(state[i].to_affine(window));
                for s in &mut state {
                    s.coeffs.push(Fr::ZERO);
                }
                let len = state[i].coeffs.len();
                state[i] = Form {
                    constant: Fr::ZERO,
                    coeffs: vec![Fr::ZERO; len],
                };
                state[i].coeffs[next_slot - window] = Fr::ONE;
                next_slot += 1;
            }
            if full {
                // After a full round every element is a constant or one of this
                // round's outputs: drop the older slots from the window.
                let drop = round_start - window;
                for s in &mut state {
                    debug_assert!(s.coeffs[..drop].iter().all(Zero::is_zero));
                    s.coeffs.drain(..drop);
                }
                window = round_start;
            }
            state = mds
                .chunks_exact(t)
                .map(|row| {
                    let mut out = Form {
                        constant: Fr::ZERO,
                        coeffs: vec![Fr::ZERO; next_slot - window],
                    };
                    for (m, s) in row.iter().zip(&state) {
                        out.constant += *m * s.constant;
                        for (o, c) in out.coeffs.iter_mut().zip(&s.coeffs) {
                            *o += *m * c;
                        }
                    }
                    out
                })
                .collect();
        }

        Program {
            sboxes: sboxes.into_boxed_slice(),
            output: state[0].to_affine(window),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program's S-box count matches [`poseidon_constraints`] at every width.
    #[test]
    fn program_sizes() {
        for n in 1..=MAX_HASH_INPUTS {
            assert_eq!(3 * program(n + 1).sboxes.len(), poseidon_constraints(n));
        }
    }
}
