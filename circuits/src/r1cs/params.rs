//! The epoch parameters in the R1CS circuits (`docs/SPEC.md` §5.5): public inputs of
//! the batch circuit (the open layout of §6.4), or, in the attestation circuit,
//! witnesses bound to its public input through `params_hash`, computed exactly as
//! [`params_hash`](crate::native::commit::params_hash) computes it natively. Either
//! way the verifier derives the parameters from validated published values, so they
//! need no range checks in the circuits.

use super::poseidon::{absorb, poseidon, tag_const};
use crate::assignment::ParamsAssignment;
use crate::native::commit::tags;
use ark_bn254::Fr;
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use ark_relations::ns;

/// The epoch parameters as circuit variables.
pub(crate) struct ParamVars {
    pub(crate) quote_scale: FpVar<Fr>,
    pub(crate) reserves: FpVar<Fr>,
    pub(crate) insurance_fund: FpVar<Fr>,
    pub(crate) unit_value: Vec<FpVar<Fr>>,
    pub(crate) unit_requirement: Vec<FpVar<Fr>>,
    pub(crate) epoch: FpVar<Fr>,
    /// The descriptor `d` of the raw parameters.
    pub(crate) descriptor: FpVar<Fr>,
}

impl ParamVars {
    /// Allocates the parameters of `markets` markets as public inputs, in the open
    /// layout's order (`docs/SPEC.md` §6.4): `epoch, f_q, reserves·f_q,
    /// insurance_fund·f_q, d, uv_0, ur_0, …`. `values` is `None` in setup mode.
    ///
    /// Every one of them enters a constraint, as a Groth16 input must (an input no
    /// constraint reads has a zero verifying-key point, and a proof would verify
    /// under any value of it): `d` alone is read by nothing else, so it is squared
    /// into a witness under `params.descriptor` (1 constraint).
    pub(crate) fn alloc_inputs(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        markets: usize,
    ) -> Result<Self, SynthesisError> {
        let params = Self::alloc_mode(cs, values, markets, AllocationMode::Input)?;
        let _ns = ns!(cs, "params.descriptor");
        let square = FpVar::new_witness(cs.clone(), || params.descriptor.value().map(|d| d * d))?;
        params.descriptor.mul_equals(&params.descriptor, &square)?;
        Ok(params)
    }

    /// Allocates the parameters as witnesses and hashes them, in the namespace
    /// `params.hash` (1,224 constraints at `M = 8`): the attestation circuit's
    /// `params_hash = absorb(H(TAG_PARAMS, epoch, M, f_q, reserves·f_q,
    /// insurance_fund·f_q, d), uv_0, ur_0, …)`.
    pub(crate) fn alloc_hashed(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        markets: usize,
    ) -> Result<(Self, FpVar<Fr>), SynthesisError> {
        let params = Self::alloc_mode(cs, values, markets, AllocationMode::Witness)?;
        let per_market: Vec<_> = params
            .unit_value
            .iter()
            .zip(&params.unit_requirement)
            .flat_map(|(v, r)| [v.clone(), r.clone()])
            .collect();
        let _ns = ns!(cs, "params.hash");
        let head = poseidon(
            cs.clone(),
            &[
                tag_const(tags::PARAMS),
                params.epoch.clone(),
                FpVar::constant(Fr::from(markets as u64)),
                params.quote_scale.clone(),
                params.reserves.clone(),
                params.insurance_fund.clone(),
                params.descriptor.clone(),
            ],
        )?;
        let hash = absorb(cs, head, &per_market)?;
        Ok((params, hash))
    }

    fn alloc_mode(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        markets: usize,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let witness = |f: &dyn Fn(&ParamsAssignment<Fr>) -> Fr| {
            FpVar::new_variable(
                cs.clone(),
                || values.map(f).ok_or(SynthesisError::AssignmentMissing),
                mode,
            )
        };
        let epoch = witness(&|p| p.epoch)?;
        let quote_scale = witness(&|p| p.quote_scale)?;
        let reserves = witness(&|p| p.reserves)?;
        let insurance_fund = witness(&|p| p.insurance_fund)?;
        let descriptor = witness(&|p| p.descriptor)?;
        let mut unit_value = Vec::with_capacity(markets);
        let mut unit_requirement = Vec::with_capacity(markets);
        for m in 0..markets {
            unit_value.push(witness(&|p| p.unit_value[m])?);
            unit_requirement.push(witness(&|p| p.unit_requirement[m])?);
        }
        Ok(Self {
            quote_scale,
            reserves,
            insurance_fund,
            unit_value,
            unit_requirement,
            epoch,
            descriptor,
        })
    }
}
