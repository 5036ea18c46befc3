//! The raw assignment a halo2 batch circuit is synthesized from: the Pasta twin of
//! the Groth16 path's assignment (`crate::r1cs`), with the same fields.
//!
//! Honest assignments come only from a [`BatchWitness`]; the fields are plain field
//! elements and raw lanes so that the soundness tests can build *malicious*
//! assignments (lanes out of range or wrapped around the field, unsorted ids, …)
//! that the validated domain types would refuse: the circuit must reject those on
//! its own.

use crate::hash::{FieldHasher, PastaPoseidon};
use crate::native::commit::{RunningState, lane};
use crate::witness::BatchWitness;
use ethnum::{I256, U256};
use pasta_curves::pallas::Base as Fp;

/// Embeds a signed integer (`|v| < 2^252`) in the field.
pub(crate) fn fp_from_i256(v: I256) -> Fp {
    let magnitude = PastaPoseidon::from_u256(v.unsigned_abs());
    if v < 0 { -magnitude } else { magnitude }
}

/// One slot: lanes exactly as they are packed into the leaf (`docs/SPEC.md` §5.2).
#[derive(Debug, Clone)]
pub(crate) struct SlotAssignment {
    pub(crate) pad: bool,
    pub(crate) id: Fp,
    /// `balance + 2^63`, any 256-bit value (embedded modulo `p`).
    pub(crate) balance_lane: U256,
    /// `size_m + 2^63` per market.
    pub(crate) size_lanes: Vec<U256>,
    pub(crate) salt: Fp,
}

/// A running state as field elements (`docs/SPEC.md` §6.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateAssignment {
    pub(crate) next_id: Fp,
    pub(crate) total_liabilities: Fp,
    pub(crate) bad_debt: Fp,
    pub(crate) liquidation_product: Fp,
    pub(crate) accounts: Fp,
}

impl From<&RunningState<Fp>> for StateAssignment {
    fn from(s: &RunningState<Fp>) -> Self {
        Self {
            next_id: PastaPoseidon::from_u256(U256::from(s.next_id)),
            total_liabilities: fp_from_i256(s.total_liabilities),
            bad_debt: fp_from_i256(s.bad_debt),
            liquidation_product: s.liquidation_product,
            accounts: s.accounts,
        }
    }
}

/// Everything one batch circuit reads (`docs/SPEC.md` §6.3, §6.4).
#[derive(Debug, Clone)]
pub(crate) struct BatchAssignment {
    pub(crate) public_input: Fp,
    pub(crate) batch: Fp,
    pub(crate) batch_count: Fp,
    pub(crate) epoch: Fp,
    pub(crate) quote_scale: Fp,
    pub(crate) reserves: Fp,
    pub(crate) insurance_fund: Fp,
    pub(crate) unit_value: Vec<Fp>,
    pub(crate) unit_requirement: Vec<Fp>,
    pub(crate) accounts_commitment: Fp,
    pub(crate) challenge: Fp,
    pub(crate) liquidation_product: Fp,
    pub(crate) bad_debt: Fp,
    pub(crate) solvent: bool,
    pub(crate) insurance_covered: bool,
    pub(crate) state_in: StateAssignment,
    pub(crate) blind_in: Fp,
    pub(crate) blind_out: Fp,
    pub(crate) slots: Vec<SlotAssignment>,
}

impl From<&BatchWitness<Fp>> for BatchAssignment {
    fn from(w: &BatchWitness<Fp>) -> Self {
        let markets = w.params.unit_value.len();
        let slots = w
            .slots
            .iter()
            .map(|s| match &s.account {
                Some(a) => SlotAssignment {
                    pad: false,
                    id: PastaPoseidon::from_u64(a.id().get()),
                    balance_lane: U256::from(lane(a.quote_balance().get())),
                    size_lanes: a
                        .sizes()
                        .iter()
                        .map(|z| U256::from(lane(z.get())))
                        .collect(),
                    salt: s.salt,
                },
                None => SlotAssignment {
                    pad: true,
                    id: PastaPoseidon::from_u64(0),
                    balance_lane: U256::from(lane(0)),
                    size_lanes: vec![U256::from(lane(0)); markets],
                    salt: s.salt,
                },
            })
            .collect();
        Self {
            public_input: w.public_input,
            batch: PastaPoseidon::from_u64(w.batch),
            batch_count: PastaPoseidon::from_u64(w.batch_count),
            epoch: PastaPoseidon::from_u64(w.params.epoch),
            quote_scale: fp_from_i256(w.params.quote_scale),
            reserves: fp_from_i256(w.params.reserves),
            insurance_fund: fp_from_i256(w.params.insurance_fund),
            unit_value: w
                .params
                .unit_value
                .iter()
                .map(|v| fp_from_i256(*v))
                .collect(),
            unit_requirement: w
                .params
                .unit_requirement
                .iter()
                .map(|v| fp_from_i256(*v))
                .collect(),
            accounts_commitment: w.outputs.accounts_commitment,
            challenge: w.outputs.challenge,
            liquidation_product: w.outputs.liquidation_product,
            bad_debt: fp_from_i256(w.outputs.bad_debt),
            solvent: w.outputs.solvent,
            insurance_covered: w.outputs.insurance_covered,
            state_in: StateAssignment::from(&w.state_in),
            blind_in: w.blind_in,
            blind_out: w.blind_out,
            slots,
        }
    }
}
