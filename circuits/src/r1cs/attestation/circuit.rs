//! The attestation circuit: synthesis of the claim over one account, opened through
//! [`ATTEST_DEPTH`] levels to the tree root `T`.

use super::witness::{AttestationAssignment, AttestationWitness};
use crate::bounds::{BPS_DENOMINATOR, LANE_OFFSET};
use crate::hash::{Bn254Poseidon, FieldHasher, MAX_HASH_INPUTS};
use crate::native::attestation::{
    ATTEST_DEPTH, MIN_EQUITY_BITS, RATIO_BITS, RATIO_DECIMALS, TAG_ATTEST,
};
use crate::native::commit::{PathStep, TREE_ARITY, tag, tags};
use crate::r1cs::bits::{alloc_bits_le, enforce_nonzero, enforce_range};
use crate::r1cs::poseidon::poseidon;
use crate::shape::AttestationShape;
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ethnum::U256;

/// The attestation circuit. [`AttestationCircuit::blank`] is for key generation.
#[derive(Debug, Clone)]
pub struct AttestationCircuit {
    shape: AttestationShape,
    assignment: Option<AttestationAssignment>,
}

impl AttestationCircuit {
    /// The circuit of a shape with no witness: for setup and constraint counting.
    pub fn blank(shape: AttestationShape) -> Self {
        Self {
            shape,
            assignment: None,
        }
    }

    /// The circuit for an honest witness.
    pub fn new(witness: &AttestationWitness) -> Self {
        Self {
            shape: witness.shape,
            assignment: Some(witness.assignment.clone()),
        }
    }

    /// Any assignment of the right shape (the soundness tests use this).
    #[cfg(test)]
    pub(crate) fn from_assignment(
        shape: AttestationShape,
        assignment: AttestationAssignment,
    ) -> Self {
        debug_assert_eq!(assignment.unit_value.len(), shape.markets());
        Self {
            shape,
            assignment: Some(assignment),
        }
    }

    /// The shape.
    pub fn shape(&self) -> AttestationShape {
        self.shape
    }
}

/// A field constant `2^k`.
pub(super) fn pow2(k: u32) -> Fr {
    Bn254Poseidon::from_u256(U256::ONE << k)
}

/// `absorb(acc, inputs)`: chained Poseidon over chunks of 15 (`docs/SPEC.md` §5.0).
fn absorb(
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

/// One level of an 8-ary path at a hidden position (`docs/SPEC.md` §5.3): the
/// parent `H(c_0, …, c_7)` where the node sits at `position` and the siblings fill
/// the other places in order.
///
/// The position is a one-hot vector `s_0..s_7` (8 booleanity constraints and
/// `Σ s = 1`); with `before_j = Σ_{i<j} s_i` (linear), child `j` is
/// `sib_j + s_j·(node − sib_j) + before_j·(sib_{j−1} − sib_j)`, which is `sib_j`
/// for `j < p`, the node for `j = p`, and `sib_{j−1}` for `j > p` (14 products per
/// level: one each for `j = 0` and `j = 7`, where one term vanishes).
fn path_level(
    cs: &ConstraintSystemRef<Fr>,
    node: &FpVar<Fr>,
    step: Option<&PathStep<Fr>>,
) -> Result<FpVar<Fr>, SynthesisError> {
    let missing = || SynthesisError::AssignmentMissing;
    let selectors = (0..TREE_ARITY)
        .map(|j| {
            Boolean::new_witness(cs.clone(), || {
                step.map(|s| s.position as usize == j).ok_or(missing())
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let siblings = (0..TREE_ARITY - 1)
        .map(|k| FpVar::new_witness(cs.clone(), || step.map(|s| s.siblings[k]).ok_or(missing())))
        .collect::<Result<Vec<_>, _>>()?;
    let one_hot = selectors
        .iter()
        .fold(FpVar::zero(), |acc, s| acc + FpVar::from(s.clone()));
    one_hot.enforce_equal(&FpVar::one())?;
    let mut children = Vec::with_capacity(TREE_ARITY);
    let mut before = FpVar::zero();
    for (j, s) in selectors.iter().enumerate() {
        let s = FpVar::from(s.clone());
        let child = if j == 0 {
            &siblings[0] + &s * (node - &siblings[0])
        } else if j == TREE_ARITY - 1 {
            // before_7 = 1 − s_7.
            &siblings[j - 1] + &s * (node - &siblings[j - 1])
        } else {
            &siblings[j] + &s * (node - &siblings[j]) + &before * (&siblings[j - 1] - &siblings[j])
        };
        children.push(child);
        before += &s;
    }
    poseidon(cs.clone(), &children)
}

impl ConstraintSynthesizer<Fr> for AttestationCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let shape = self.shape;
        let markets = shape.markets();
        let a = self.assignment.as_ref();
        let missing = || SynthesisError::AssignmentMissing;
        let witness = |f: &dyn Fn(&AttestationAssignment) -> Fr| {
            FpVar::new_witness(cs.clone(), || a.map(f).ok_or(missing()))
        };
        let public_input =
            FpVar::new_input(cs.clone(), || a.map(|a| a.public_input).ok_or(missing()))?;

        // Parameters, bound through params_hash (SPEC §5.5): the verifier derives
        // them from validated published values, so they need no range checks here.
        let epoch = witness(&|a| a.epoch)?;
        let quote_scale = witness(&|a| a.quote_scale)?;
        let reserves = witness(&|a| a.reserves)?;
        let insurance_fund = witness(&|a| a.insurance_fund)?;
        let mut unit_value = Vec::with_capacity(markets);
        let mut unit_requirement = Vec::with_capacity(markets);
        let mut per_market = Vec::with_capacity(2 * markets);
        for m in 0..markets {
            let uv = witness(&|a| a.unit_value[m])?;
            let ur = witness(&|a| a.unit_requirement[m])?;
            per_market.push(uv.clone());
            per_market.push(ur.clone());
            unit_value.push(uv);
            unit_requirement.push(ur);
        }
        let head = poseidon(
            cs.clone(),
            &[
                FpVar::constant(tag::<Bn254Poseidon>(tags::PARAMS)),
                epoch,
                FpVar::constant(Fr::from(markets as u64)),
                quote_scale.clone(),
                reserves,
                insurance_fund,
            ],
        )?;
        let params_hash = absorb(&cs, head, &per_market)?;

        // The claim: r < 2^32, X < 2^128 (range-checked by their bits).
        let (_, ratio) = alloc_bits_le(
            cs.clone(),
            a.map(|a| a.ratio & ((U256::ONE << RATIO_BITS) - 1)),
            RATIO_BITS as usize,
            AllocationMode::Witness,
        )?;
        let (_, min_equity) = alloc_bits_le(
            cs.clone(),
            a.map(|a| a.min_equity & ((U256::ONE << MIN_EQUITY_BITS) - 1)),
            MIN_EQUITY_BITS as usize,
            AllocationMode::Witness,
        )?;
        let context = witness(&|a| a.context)?;
        let accounts_commitment = witness(&|a| a.accounts_commitment)?;
        let tree_root = witness(&|a| a.tree_root)?;

        // SPEC §5.2: lanes, each 64 bits; signed lanes ≠ 0 (|v| < 2^63). Only the
        // low 64 bits of a raw lane can be assigned: a wider value changes the leaf.
        let low64 = |v: U256| v & U256::from(u64::MAX);
        let (_, id) = alloc_bits_le(
            cs.clone(),
            a.map(|a| low64(a.id)),
            64,
            AllocationMode::Witness,
        )?;
        let (_, balance_lane) = alloc_bits_le(
            cs.clone(),
            a.map(|a| low64(a.balance_lane)),
            64,
            AllocationMode::Witness,
        )?;
        enforce_nonzero(cs.clone(), &balance_lane)?;
        let mut size_lanes = Vec::with_capacity(markets);
        let mut size_signs = Vec::with_capacity(markets);
        for m in 0..markets {
            let (bits, lane) = alloc_bits_le(
                cs.clone(),
                a.map(|a| low64(a.size_lanes[m])),
                64,
                AllocationMode::Witness,
            )?;
            enforce_nonzero(cs.clone(), &lane)?;
            // lane ≥ 2^63 ⇔ size ≥ 0.
            size_signs.push(bits[63].clone());
            size_lanes.push(lane);
        }

        // SPEC §2.2: TV = balance·f_q + Σ size_m·uv_m, MR' = Σ |size_m|·ur_m.
        let offset = FpVar::constant(Fr::from(LANE_OFFSET));
        let mut tv = (&balance_lane - &offset) * &quote_scale;
        let mut requirement = FpVar::zero();
        for m in 0..markets {
            let size = &size_lanes[m] - &offset;
            tv += &size * &unit_value[m];
            let sign = FpVar::from(size_signs[m].clone()).double()? - Fr::ONE;
            requirement += (&sign * &size) * &unit_requirement[m];
        }

        // The ratio claim: 10^4·10^4·TV − r·MR' ≥ 0. The slack lies in
        // (−2^n, 2^n) with n = ratio_slack_bits ≤ 252, so a negative slack is a field
        // element above r − 2^n > 2^n: no n-bit decomposition.
        let scale = Fr::from(10u64.pow(RATIO_DECIMALS) * BPS_DENOMINATOR);
        let ratio_slack = &tv * scale - &ratio * &requirement;
        enforce_range(cs.clone(), &ratio_slack, shape.ratio_slack_bits() as usize)?;
        // The equity claim: TV − X·f_q ≥ 0, the slack in (−2^188, tv_bound).
        let equity_slack = &tv - &min_equity * &quote_scale;
        enforce_range(
            cs.clone(),
            &equity_slack,
            shape.equity_slack_bits() as usize,
        )?;

        // SPEC §5.2: the leaf of a real account (no padding flag).
        let mut lanes = Vec::with_capacity(markets + 2);
        lanes.push(id);
        lanes.push(balance_lane);
        lanes.extend(size_lanes);
        let words: Vec<FpVar<Fr>> = lanes
            .chunks(3)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(FpVar::zero(), |w, (k, l)| w + l * pow2(64 * k as u32))
            })
            .collect();
        let salt = witness(&|a| a.salt)?;
        let mut node = absorb(&cs, salt, &words)?;

        // SPEC §5.3 and the roots tree: 11 levels up to T.
        for level in 0..ATTEST_DEPTH as usize {
            let step = a
                .map(|a| a.path.get(level))
                .map(|s| s.ok_or(missing()))
                .transpose()?;
            node = path_level(&cs, &node, step)?;
        }
        node.enforce_equal(&tree_root)?;

        // x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context).
        let x = poseidon(
            cs.clone(),
            &[
                FpVar::constant(tag::<Bn254Poseidon>(TAG_ATTEST)),
                accounts_commitment,
                tree_root,
                params_hash,
                ratio,
                min_equity,
                context,
            ],
        )?;
        x.enforce_equal(&public_input)?;
        Ok(())
    }
}

/// The number of constraints of the attestation circuit of `shape`.
pub fn constraint_count(shape: AttestationShape) -> Result<usize, SynthesisError> {
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal, SynthesisMode};
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    AttestationCircuit::blank(shape).generate_constraints(cs.clone())?;
    cs.finalize();
    Ok(cs.num_constraints())
}
