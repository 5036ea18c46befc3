//! The raw assignment a batch circuit is synthesized from.
//!
//! Honest assignments come only from a [`BatchWitness`], which the native engine
//! builds from a validated snapshot. The fields are plain field elements and lanes so
//! that the crate's soundness tests can also build *malicious* assignments (values
//! out of range, wrapped around the field, unsorted, …) that the validated domain
//! types would refuse: the circuit must reject those on its own.

use crate::hash::{Bn254Poseidon, FieldHasher};
use crate::native::commit::{RunningState, lane};
use crate::witness::BatchWitness;
use ark_bn254::Fr;
use ethnum::{I256, U256};

/// Embeds a signed integer (|v| < 2^252) in the field.
pub(crate) fn fr_from_i256(v: I256) -> Fr {
    let magnitude = Bn254Poseidon::from_u256(v.unsigned_abs());
    if v < 0 { -magnitude } else { magnitude }
}

/// One slot: lanes exactly as they are packed into the leaf (`docs/SPEC.md` §5.2).
#[derive(Debug, Clone)]
pub(crate) struct SlotAssignment {
    pub(crate) pad: bool,
    pub(crate) id: Fr,
    /// `balance + 2^63`; only the low 64 bits can be assigned to the lane's bits.
    pub(crate) balance_lane: U256,
    /// `size_m + 2^63` per market.
    pub(crate) size_lanes: Vec<U256>,
    pub(crate) salt: Fr,
}

/// A running state as field elements (`docs/SPEC.md` §6.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateAssignment {
    pub(crate) next_id: Fr,
    pub(crate) total_liabilities: Fr,
    pub(crate) bad_debt: Fr,
    pub(crate) liquidation_product: Fr,
    pub(crate) accounts: Fr,
}

impl From<&RunningState<Fr>> for StateAssignment {
    fn from(s: &RunningState<Fr>) -> Self {
        Self {
            next_id: Bn254Poseidon::from_u256(U256::from(s.next_id)),
            total_liabilities: fr_from_i256(s.total_liabilities),
            bad_debt: fr_from_i256(s.bad_debt),
            liquidation_product: s.liquidation_product,
            accounts: s.accounts,
        }
    }
}

/// Everything one batch circuit reads (`docs/SPEC.md` §6.3, §6.4).
#[derive(Debug, Clone)]
pub(crate) struct BatchAssignment {
    pub(crate) public_input: Fr,
    pub(crate) batch: Fr,
    pub(crate) batch_count: Fr,
    pub(crate) epoch: Fr,
    pub(crate) quote_scale: Fr,
    pub(crate) reserves: Fr,
    pub(crate) insurance_fund: Fr,
    pub(crate) unit_value: Vec<Fr>,
    pub(crate) unit_requirement: Vec<Fr>,
    pub(crate) accounts_commitment: Fr,
    pub(crate) challenge: Fr,
    pub(crate) liquidation_product: Fr,
    pub(crate) bad_debt: Fr,
    pub(crate) solvent: bool,
    pub(crate) insurance_covered: bool,
    pub(crate) state_in: StateAssignment,
    pub(crate) blind_in: Fr,
    pub(crate) blind_out: Fr,
    pub(crate) slots: Vec<SlotAssignment>,
}

impl From<&BatchWitness<Fr>> for BatchAssignment {
    fn from(w: &BatchWitness<Fr>) -> Self {
        let markets = w.params.unit_value.len();
        let slots = w
            .slots
            .iter()
            .map(|s| match &s.account {
                Some(a) => SlotAssignment {
                    pad: false,
                    id: Bn254Poseidon::from_u64(a.id().get()),
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
                    id: Bn254Poseidon::from_u64(0),
                    balance_lane: U256::from(lane(0)),
                    size_lanes: vec![U256::from(lane(0)); markets],
                    salt: s.salt,
                },
            })
            .collect();
        Self {
            public_input: w.public_input,
            batch: Bn254Poseidon::from_u64(w.batch),
            batch_count: Bn254Poseidon::from_u64(w.batch_count),
            epoch: Bn254Poseidon::from_u64(w.params.epoch),
            quote_scale: fr_from_i256(w.params.quote_scale),
            reserves: fr_from_i256(w.params.reserves),
            insurance_fund: fr_from_i256(w.params.insurance_fund),
            unit_value: w
                .params
                .unit_value
                .iter()
                .map(|v| fr_from_i256(*v))
                .collect(),
            unit_requirement: w
                .params
                .unit_requirement
                .iter()
                .map(|v| fr_from_i256(*v))
                .collect(),
            accounts_commitment: w.outputs.accounts_commitment,
            challenge: w.outputs.challenge,
            liquidation_product: w.outputs.liquidation_product,
            bad_debt: fr_from_i256(w.outputs.bad_debt),
            solvent: w.outputs.solvent,
            insurance_covered: w.outputs.insurance_covered,
            state_in: StateAssignment::from(&w.state_in),
            blind_in: w.blind_in,
            blind_out: w.blind_out,
            slots,
        }
    }
}
