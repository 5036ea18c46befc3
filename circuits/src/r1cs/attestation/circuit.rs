//! The attestation circuit: synthesis of the claim over one account, opened through
//! [`ATTEST_DEPTH`] levels to the tree root `T`.

use super::witness::{AttestationAssignment, AttestationWitness};
use crate::bounds::BPS_DENOMINATOR;
use crate::native::attestation::{
    ATTEST_DEPTH, MIN_EQUITY_BITS, RATIO_BITS, RATIO_DECIMALS, TAG_ATTEST,
};
use crate::native::commit::{PathStep, TREE_ARITY};
use crate::r1cs::account::{SignedLanes, alloc_lane};
use crate::r1cs::bits::{alloc_bits_le, enforce_range};
use crate::r1cs::collateral::asset_value;
use crate::r1cs::names::indexed;
use crate::r1cs::params::ParamVars;
use crate::r1cs::poseidon::{poseidon, tag_const};
use crate::shape::AttestationShape;
use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_relations::ns;
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
        debug_assert_eq!(assignment.params.unit_value.len(), shape.markets());
        debug_assert_eq!(assignment.amount_lanes.len(), shape.assets());
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
    let position = ns!(cs, "position");
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
    drop(position);
    let select = ns!(cs, "select");
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
    drop(select);
    let _ns = ns!(cs, "node");
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

        // Parameters, bound through params_hash (SPEC §5.5); for risk model v2 the
        // derived brackets and assets too.
        let (params, params_hash) =
            ParamVars::alloc_hashed(&cs, a.map(|a| &a.params), a.map(|a| &a.risk), &shape)?;

        // The claim: r < 2^32, X < 2^128 (range-checked by their bits; only the low
        // bits of a raw value can be assigned).
        let claim_bits = |value: Option<U256>, bits: u32| {
            let value = value.map(|v| v & ((U256::ONE << bits) - 1));
            alloc_bits_le(cs.clone(), value, bits as usize, AllocationMode::Witness)
        };
        let (_, ratio) = {
            let _ns = ns!(cs, "claim.ratio.range");
            claim_bits(a.map(|a| a.ratio), RATIO_BITS)?
        };
        let (_, min_equity) = {
            let _ns = ns!(cs, "claim.equity.range");
            claim_bits(a.map(|a| a.min_equity), MIN_EQUITY_BITS)?
        };
        let context = witness(&|a| a.context)?;
        let accounts_commitment = witness(&|a| a.accounts_commitment)?;
        let tree_root = witness(&|a| a.tree_root)?;

        // SPEC §5.2: lanes, each 64 bits; signed lanes ≠ 0 (|v| < 2^63). Only the
        // low 64 bits of a raw lane can be assigned: a wider value changes the leaf.
        // SPEC §2.2: TV = balance·f_q + Σ size_m·uv_m (+ Σ amount_c·uv_c), MR' =
        // Σ |size_m|·ur_m (with brackets Σ |size_m|·ur_t − cum'_t, SPEC §8.2), and
        // MV' = 10^4·(balance·f_q + Σ size_m·uv_m) + Σ amount_c·uv_c·w'_c, the
        // haircut by the amount lane's own sign bit (`r1cs/collateral.rs`).
        let account = ns!(cs, "account");
        let (_, id) = {
            let _ns = ns!(cs, "id.range");
            alloc_lane(&cs, a.map(|a| a.id))?
        };
        let mut lanes =
            SignedLanes::alloc(&cs, a.map(|a| (a.balance_lane, &a.size_lanes[..])), markets)?;
        let mut holdings = Vec::with_capacity(shape.assets());
        for (c, asset) in params.assets.iter().enumerate() {
            let _ns = indexed(&cs, "holding", c);
            let lane = a
                .map(|a| a.amount_lanes.get(c).copied().ok_or(missing()))
                .transpose()?;
            let terms = asset_value(&cs, lane, asset)?;
            lanes.amounts.push(terms.lane.clone());
            holdings.push(terms);
        }
        let selected = a.map(|a| &a.brackets[..]);
        let margin = lanes.margin(&cs, &params, selected)?;
        let (perp, requirement) = (margin.perp, margin.requirement);
        drop(account);
        let scale = Fr::from(10u64.pow(RATIO_DECIMALS));
        let (tv, scaled_margin) = if holdings.is_empty() {
            // MV' = 10^4·TV: 10^4·MV' = 10^8·TV, risk model v1's claim unchanged.
            let scaled = &perp * (scale * Fr::from(BPS_DENOMINATOR));
            (perp, scaled)
        } else {
            let mut tv = perp.clone();
            let mut margin_value = &perp * Fr::from(BPS_DENOMINATOR);
            for terms in &holdings {
                tv += &terms.value;
                margin_value += &terms.margin_bps;
            }
            (tv, margin_value * scale)
        };

        // The ratio claim: 10^4·MV' − r·MR' ≥ 0. The slack lies in (−2^n, 2^n) with
        // n = ratio_slack_bits ≤ 252, so a negative slack is a field element above
        // r − 2^n > 2^n: no n-bit decomposition.
        {
            let _ns = ns!(cs, "claim.ratio.slack");
            let ratio_slack = scaled_margin - &ratio * &requirement;
            enforce_range(cs.clone(), &ratio_slack, shape.ratio_slack_bits() as usize)?;
        }
        // The equity claim: TV − X·f_q ≥ 0, the slack in (−2^188, tv_bound).
        {
            let _ns = ns!(cs, "claim.equity.slack");
            let equity_slack = &tv - &min_equity * &params.quote_scale;
            enforce_range(
                cs.clone(),
                &equity_slack,
                shape.equity_slack_bits() as usize,
            )?;
        }

        // SPEC §5.2: the leaf of a real account (no padding flag).
        let mut node = {
            let _ns = ns!(cs, "account");
            lanes.leaf(&cs, id, None, a.map(|a| a.salt))?
        };

        // SPEC §5.3 and the roots tree: 11 levels up to T.
        for level in 0..ATTEST_DEPTH as usize {
            let _ns = indexed(&cs, "path", level);
            let step = a
                .map(|a| a.path.get(level))
                .map(|s| s.ok_or(missing()))
                .transpose()?;
            node = path_level(&cs, &node, step)?;
        }
        {
            let _ns = ns!(cs, "path.root");
            node.enforce_equal(&tree_root)?;
        }

        // x = H(TAG_ATTEST, a_K, T, params_hash, r, X, context).
        let _ns = ns!(cs, "public_input");
        let x = poseidon(
            cs.clone(),
            &[
                tag_const(TAG_ATTEST),
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
