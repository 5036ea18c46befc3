//! The public inputs of a batch proof (`docs/SPEC.md` §6.4), in both layouts:
//!
//! - **open** (Groth16): the values themselves, `16 + 2M` field elements, so that a
//!   verifier (the epoch contract above all) forms them with no hash beyond
//!   Keccak; [`open_inputs`] gives their order;
//! - **hashed** (halo2): the single digest
//!   [`batch_public_input`](crate::native::commit::batch_public_input) `x_b`.

use crate::assignment::field_from_i256;
use crate::hash::FieldHasher;
use crate::native::commit::OutputsOpening;
use crate::witness::ParamsWitness;

/// The open layout's length for `markets` markets: `epoch, f_q, reserves·f_q,
/// insurance_fund·f_q, d`, then `uv_m, ur_m` per market, then the seven outputs
/// `a_K, z, P_target, D, solvent, insurance_covered, ℓ`, then `b, K, C_{b−1}, C_b`.
pub const fn open_input_count(markets: usize) -> usize {
    OPEN_PARAMS_HEAD + 2 * markets + OPEN_OUTPUTS + OPEN_CHAIN
}

/// Parameters before the per-market pairs: `epoch, f_q, reserves·f_q,
/// insurance_fund·f_q, d`.
pub const OPEN_PARAMS_HEAD: usize = 5;
/// The outputs `a_K, z, P_target, D, solvent, insurance_covered, ℓ`.
pub const OPEN_OUTPUTS: usize = 7;
/// The chain position `b, K, C_{b−1}, C_b`: the only inputs that differ between
/// the batches of an epoch.
pub const OPEN_CHAIN: usize = 4;

/// Batch `b`'s public inputs in the open layout (`docs/SPEC.md` §6.4):
/// `state_in` is `C_{b−1}` for `b > 0` and ignored for `b = 0`, whose input is 0
/// (the circuit opens the first batch's state as `S_init` itself, §6.2).
pub fn open_inputs<H: FieldHasher>(
    params: &ParamsWitness,
    batch: u64,
    batch_count: u64,
    state_in: H::F,
    state_out: H::F,
    outputs: &OutputsOpening<H::F>,
) -> Vec<H::F> {
    let mut v = Vec::with_capacity(open_input_count(params.unit_value.len()));
    v.push(H::from_u64(params.epoch));
    v.push(field_from_i256::<H>(params.quote_scale));
    v.push(field_from_i256::<H>(params.reserves));
    v.push(field_from_i256::<H>(params.insurance_fund));
    v.push(H::from_u256(params.descriptor));
    for (uv, ur) in params.unit_value.iter().zip(&params.unit_requirement) {
        v.push(field_from_i256::<H>(*uv));
        v.push(field_from_i256::<H>(*ur));
    }
    v.push(outputs.accounts_commitment);
    v.push(outputs.challenge);
    v.push(outputs.liquidation_product);
    v.push(field_from_i256::<H>(outputs.bad_debt));
    v.push(H::from_u64(outputs.solvent.into()));
    v.push(H::from_u64(outputs.insurance_covered.into()));
    v.push(field_from_i256::<H>(outputs.disclosure()));
    v.push(H::from_u64(batch));
    v.push(H::from_u64(batch_count));
    v.push(if batch == 0 { H::from_u64(0) } else { state_in });
    v.push(state_out);
    v
}
