//! The epoch parameters in the R1CS circuits (`docs/SPEC.md` §5.5): witnesses bound
//! to the public input through `params_hash`, computed exactly as
//! [`params_hash`](crate::native::commit::params_hash) computes it natively. The
//! verifier derives the parameters from validated published values, so they need no
//! range checks in the circuits.

use super::poseidon::{absorb, poseidon, tag_const};
use crate::assignment::ParamsAssignment;
use crate::native::commit::tags;
use ark_bn254::Fr;
use ark_r1cs_std::alloc::AllocVar;
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
    /// `params_hash = absorb(H(TAG_PARAMS, epoch, M, f_q, reserves·f_q,
    /// insurance_fund·f_q, d), uv_0, ur_0, …)`, `d` the descriptor of the raw
    /// parameters.
    pub(crate) hash: FpVar<Fr>,
}

impl ParamVars {
    /// Allocates the parameters of `markets` markets (`values` is `None` in setup
    /// mode) and hashes them, in the namespace `params.hash` (1,224 constraints at
    /// `M = 8`).
    pub(crate) fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        values: Option<&ParamsAssignment<Fr>>,
        markets: usize,
    ) -> Result<Self, SynthesisError> {
        let witness = |f: &dyn Fn(&ParamsAssignment<Fr>) -> Fr| {
            FpVar::new_witness(cs.clone(), || {
                values.map(f).ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let epoch = witness(&|p| p.epoch)?;
        let quote_scale = witness(&|p| p.quote_scale)?;
        let reserves = witness(&|p| p.reserves)?;
        let insurance_fund = witness(&|p| p.insurance_fund)?;
        let descriptor = witness(&|p| p.descriptor)?;
        let mut unit_value = Vec::with_capacity(markets);
        let mut unit_requirement = Vec::with_capacity(markets);
        let mut per_market = Vec::with_capacity(2 * markets);
        for m in 0..markets {
            let uv = witness(&|p| p.unit_value[m])?;
            let ur = witness(&|p| p.unit_requirement[m])?;
            per_market.push(uv.clone());
            per_market.push(ur.clone());
            unit_value.push(uv);
            unit_requirement.push(ur);
        }
        let _ns = ns!(cs, "params.hash");
        let head = poseidon(
            cs.clone(),
            &[
                tag_const(tags::PARAMS),
                epoch,
                FpVar::constant(Fr::from(markets as u64)),
                quote_scale.clone(),
                reserves.clone(),
                insurance_fund.clone(),
                descriptor,
            ],
        )?;
        let hash = absorb(cs, head, &per_market)?;
        Ok(Self {
            quote_scale,
            reserves,
            insurance_fund,
            unit_value,
            unit_requirement,
            hash,
        })
    }
}
