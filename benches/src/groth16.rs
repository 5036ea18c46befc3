//! Groth16 proving measured three ways, in the same process:
//!
//! - [`prove`]: the prover's own [`backstop_prover::groth16::prove_batch`];
//! - [`dissect`]: the same steps as `ark_groth16`'s `create_proof_with_reduction`
//!   (synthesis in prove mode, the R1CS-to-QAP witness map, five MSMs), each timed;
//! - [`kernel_bound`]: the kernels alone on random inputs of the same sizes: the
//!   seven FFTs of the witness map (three IFFTs, three coset FFTs, one coset IFFT
//!   over the evaluation domain) and the five MSMs (`A`, `B` in G1 and in G2 over
//!   every variable but the constant one, `L` over the witness, `H` over the
//!   domain) with the proving key's bases and uniformly random scalars.
//!
//! arkworks 0.6's MSM sorts scalars by size (0, 1, 8, 16, 32, 64 bits, full) and
//! handles small ones much faster; a witness that is mostly bits makes the real
//! MSMs far cheaper than random ones, so [`Dissection`] also gives the kernel time
//! with the proof's actual scalars.

use crate::BenchError;
use crate::machine::timed;
use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::VariableBaseMSM;
use ark_ff::{BigInteger, FftField, PrimeField, UniformRand};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::{Groth16, Proof, ProvingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal,
    R1CS_PREDICATE_LABEL, SynthesisMode,
};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::r1cs::BatchCircuit;
use backstop_circuits::witness::BatchWitness;
use backstop_prover::groth16::prove_batch;
use backstop_prover::keys::Groth16Keys;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::hint::black_box;

type BigInt = <Fr as PrimeField>::BigInt;

/// Proves one batch with the prover's code path.
pub fn prove(keys: &Groth16Keys, witness: &BatchWitness<Fr>) -> Result<Proof<Bn254>, BenchError> {
    Ok(prove_batch(keys, witness)?)
}

/// Verifies one proof against its public inputs.
pub fn verify(
    pvk: &ark_groth16::PreparedVerifyingKey<Bn254>,
    proof: &Proof<Bn254>,
    public_inputs: &[Fr],
) -> Result<(), BenchError> {
    match Groth16::<Bn254>::verify_proof(pvk, proof, public_inputs) {
        Ok(true) => Ok(()),
        Ok(false) => Err(BenchError::Verify(
            "a measured proof does not verify".into(),
        )),
        Err(e) => Err(BenchError::Verify(e.to_string())),
    }
}

/// The sizes that set a proof's kernels.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sizes {
    /// R1CS constraints.
    pub constraints: usize,
    /// Instance variables, the constant one included.
    pub instance: usize,
    /// Witness variables.
    pub witness: usize,
    /// The evaluation domain (a power of two ≥ constraints + instance).
    pub domain: usize,
}

/// The five MSMs of a proof, in seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct MsmTimes {
    /// `A`: G1, every variable but the constant.
    pub a_g1: f64,
    /// `B` in G1.
    pub b_g1: f64,
    /// `B` in G2.
    pub b_g2: f64,
    /// `L`: G1, the witness variables.
    pub l_g1: f64,
    /// `H`: G1, the domain.
    pub h_g1: f64,
}

impl MsmTimes {
    /// Their sum.
    pub fn total(&self) -> f64 {
        self.a_g1 + self.b_g1 + self.b_g2 + self.l_g1 + self.h_g1
    }
}

/// One proof, step by step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dissection {
    /// The sizes.
    pub sizes: Sizes,
    /// Circuit synthesis in prove mode with matrices, and `finalize` (inlining the
    /// linear combinations), as `create_proof_with_reduction` does.
    pub synthesis_s: f64,
    /// `to_matrices`: the constraint system's matrices, rebuilt for every proof.
    pub to_matrices_s: f64,
    /// The R1CS-to-QAP witness map from the matrices: evaluating them at the
    /// assignment, seven FFTs, pointwise products, the division by the vanishing
    /// polynomial.
    pub witness_map_s: f64,
    /// Converting scalars to their integer form for the MSMs.
    pub conversions_s: f64,
    /// The MSMs with the proof's own scalars.
    pub msm: MsmTimes,
    /// Witness values that are 0 or 1.
    pub witness_bits: usize,
    /// Witness values wider than 64 bits (and not the negation of a small one).
    pub witness_wide: usize,
    /// The sum of the steps.
    pub total_s: f64,
    /// Synthesis of the assignment alone (no constraints or matrices kept).
    pub assignment_only_s: f64,
    /// Whether it gives exactly the assignment of the full synthesis.
    pub assignment_only_matches: bool,
    /// A whole proof from matrices computed beforehand: assignment-only synthesis,
    /// then `create_proof_with_reduction_and_matrices`.
    pub precomputed_prove_s: f64,
    /// Whether that proof verified.
    pub precomputed_verified: bool,
}

fn prove_cs(construct_matrices: bool) -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices,
        generate_lc_assignments: false,
    });
    cs
}

/// Runs the steps of a proof one by one (the proof itself is not assembled), then
/// a proof from precomputed matrices.
pub fn dissect(keys: &Groth16Keys, witness: &BatchWitness<Fr>) -> Result<Dissection, BenchError> {
    let pk = keys.proving_key();
    let circuit = BatchCircuit::new(keys.shape(), witness)?;
    let (cs, synthesis_s) = timed(|| -> Result<_, BenchError> {
        let cs = prove_cs(true);
        circuit.generate_constraints(cs.clone())?;
        cs.finalize();
        Ok(cs)
    });
    let cs = cs?;
    let (matrices, to_matrices_s) = timed(|| cs.to_matrices());
    let mut matrices = matrices?;
    let r1cs = matrices
        .remove(R1CS_PREDICATE_LABEL)
        .ok_or_else(|| BenchError::Other("no R1CS matrices".into()))?;
    let num_inputs = cs.num_instance_variables();
    let num_constraints = cs.num_constraints();
    let instance = cs.instance_assignment()?;
    let witness_values = cs.witness_assignment()?;
    let full: Vec<Fr> = instance.iter().chain(&witness_values).copied().collect();
    let sizes = Sizes {
        constraints: num_constraints,
        instance: num_inputs,
        witness: witness_values.len(),
        domain: domain(num_constraints + num_inputs)?.size(),
    };
    drop(cs);
    let (h, witness_map_s) = timed(|| {
        LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
            &r1cs,
            num_inputs,
            num_constraints,
            &full,
        )
    });
    let h = h?;
    let ((h, aux, all), conversions_s) = timed(|| {
        let h: Vec<BigInt> = h.par_iter().map(|s| s.into_bigint()).collect();
        let aux: Vec<BigInt> = witness_values.par_iter().map(|s| s.into_bigint()).collect();
        let all: Vec<BigInt> = instance
            .iter()
            .skip(1)
            .map(|s| s.into_bigint())
            .chain(aux.iter().copied())
            .collect();
        (h, aux, all)
    });
    let witness_bits = aux.iter().filter(|s| s.num_bits() <= 1).count();
    let witness_wide = aux
        .iter()
        .filter(|s| {
            let mut neg = Fr::MODULUS;
            neg.sub_with_borrow(s);
            s.num_bits() > 64 && neg.num_bits() > 64
        })
        .count();
    let msm = msms(pk, &h, &aux, &all);
    drop((h, aux, all));
    let total_s = synthesis_s + to_matrices_s + witness_map_s + conversions_s + msm.total();

    // The same proof from matrices known beforehand (in a prover: built once per key).
    let circuit = BatchCircuit::new(keys.shape(), witness)?;
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let (fast, precomputed_prove_s) = timed(|| -> Result<_, BenchError> {
        let (assignment, assignment_only_s) = timed(|| -> Result<_, BenchError> {
            let cs = prove_cs(false);
            circuit.generate_constraints(cs.clone())?;
            cs.finalize();
            let mut a = cs.instance_assignment()?;
            a.extend(cs.witness_assignment()?);
            Ok(a)
        });
        let assignment = assignment?;
        let proof = Groth16::<Bn254, LibsnarkReduction>::create_proof_with_reduction_and_matrices(
            pk,
            r,
            s,
            &r1cs,
            num_inputs,
            num_constraints,
            &assignment,
        )?;
        Ok((assignment, assignment_only_s, proof))
    });
    let (assignment, assignment_only_s, proof) = fast?;
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    let precomputed_verified =
        verify(&pvk, &proof, &witness.open_inputs::<Bn254Poseidon>()).is_ok();
    Ok(Dissection {
        sizes,
        synthesis_s,
        to_matrices_s,
        witness_map_s,
        conversions_s,
        msm,
        witness_bits,
        witness_wide,
        total_s,
        assignment_only_s,
        assignment_only_matches: assignment == full,
        precomputed_prove_s,
        precomputed_verified,
    })
}

fn domain(size: usize) -> Result<GeneralEvaluationDomain<Fr>, BenchError> {
    GeneralEvaluationDomain::<Fr>::new(size)
        .ok_or_else(|| BenchError::Other(format!("no evaluation domain of size {size}")))
}

fn tail<T>(v: &[T]) -> &[T] {
    v.get(1..).unwrap_or(&[])
}

/// Times the five MSMs of a proof with the proving key's bases and these scalars
/// (`all`: every variable but the constant one; `aux`: the witness; `h`: the
/// quotient's coefficients).
fn msms(pk: &ProvingKey<Bn254>, h: &[BigInt], aux: &[BigInt], all: &[BigInt]) -> MsmTimes {
    let (_, h_g1) = timed(|| black_box(G1Projective::msm_bigint(&pk.h_query, h)));
    let (_, l_g1) = timed(|| black_box(G1Projective::msm_bigint(&pk.l_query, aux)));
    let (_, a_g1) = timed(|| black_box(G1Projective::msm_bigint(tail(&pk.a_query), all)));
    let (_, b_g1) = timed(|| black_box(G1Projective::msm_bigint(tail(&pk.b_g1_query), all)));
    let (_, b_g2) = timed(|| black_box(G2Projective::msm_bigint(tail(&pk.b_g2_query), all)));
    MsmTimes {
        a_g1,
        b_g1,
        b_g2,
        l_g1,
        h_g1,
    }
}

/// The kernels of one proof alone, on random inputs of the proof's sizes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KernelBound {
    /// The sizes.
    pub sizes: Sizes,
    /// The seven FFTs over the domain, each in seconds (IFFT ×3, coset FFT ×3,
    /// coset IFFT).
    pub ffts_s: Vec<f64>,
    /// The five MSMs with random scalars.
    pub msm_random: MsmTimes,
}

impl KernelBound {
    /// The seven FFTs together.
    pub fn fft_total(&self) -> f64 {
        self.ffts_s.iter().sum()
    }
    /// FFTs plus MSMs on random scalars: the bound the issue asks for.
    pub fn total(&self) -> f64 {
        self.fft_total() + self.msm_random.total()
    }
}

/// Times the kernels of a proof of `sizes` with `pk`'s bases.
pub fn kernel_bound(pk: &ProvingKey<Bn254>, sizes: Sizes) -> Result<KernelBound, BenchError> {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let d = domain(sizes.constraints + sizes.instance)?;
    let coset = d
        .get_coset(Fr::GENERATOR)
        .ok_or_else(|| BenchError::Other("no coset of the evaluation domain".into()))?;
    let n = d.size();
    let mut random = |len: usize| -> Vec<Fr> { (0..len).map(|_| Fr::rand(&mut rng)).collect() };
    let mut vectors = [random(n), random(n), random(n), random(n)];
    let mut ffts_s = Vec::with_capacity(7);
    for v in vectors.iter_mut().take(3) {
        ffts_s.push(timed(|| d.ifft_in_place(v)).1);
    }
    for v in vectors.iter_mut().take(3) {
        ffts_s.push(timed(|| coset.fft_in_place(v)).1);
    }
    ffts_s.push(timed(|| coset.ifft_in_place(&mut vectors[3])).1);
    black_box(&vectors);
    drop(vectors);
    let scalars = |len: usize, rng: &mut ChaCha20Rng| -> Vec<BigInt> {
        (0..len).map(|_| Fr::rand(rng).into_bigint()).collect()
    };
    let h = scalars(pk.h_query.len(), &mut rng);
    let aux = scalars(pk.l_query.len(), &mut rng);
    let all = scalars(pk.a_query.len().saturating_sub(1), &mut rng);
    let msm_random = msms(pk, &h, &aux, &all);
    Ok(KernelBound {
        sizes: Sizes { domain: n, ..sizes },
        ffts_s,
        msm_random,
    })
}
