//! The raw assignment a batch circuit is synthesized from, over either backend's
//! field: `crate::r1cs` uses it over BN254, `crate::halo2` over Pallas.
//!
//! Honest assignments come only from a [`BatchWitness`], which the native engine
//! builds from a validated snapshot. The fields are plain field elements and lanes so
//! that the crate's soundness tests can also build *malicious* assignments (values
//! out of range, wrapped around the field, unsorted, …) that the validated domain
//! types would refuse: the circuit must reject those on its own.

use crate::hash::FieldHasher;
use crate::native::commit::{RunningState, lane};
use crate::witness::BatchWitness;
use ethnum::{I256, U256};

/// Embeds a signed integer (`|v| < 2^252`) in `H`'s field.
pub(crate) fn field_from_i256<H: FieldHasher>(v: I256) -> H::F {
    let magnitude = H::from_u256(v.unsigned_abs());
    if v < 0 {
        H::from_u64(0) - magnitude
    } else {
        magnitude
    }
}

/// One slot: lanes exactly as they are packed into the leaf (`docs/SPEC.md` §5.2).
#[derive(Debug, Clone)]
pub(crate) struct SlotAssignment<F> {
    pub(crate) pad: bool,
    pub(crate) id: F,
    /// `balance + 2^63`: any 256-bit value, so that tests can assign out-of-range
    /// lanes (the circuits embed it modulo the field).
    pub(crate) balance_lane: U256,
    /// `size_m + 2^63` per market.
    pub(crate) size_lanes: Vec<U256>,
    pub(crate) salt: F,
}

/// A running state as field elements (`docs/SPEC.md` §6.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateAssignment<F> {
    pub(crate) next_id: F,
    pub(crate) total_liabilities: F,
    pub(crate) bad_debt: F,
    pub(crate) liquidation_product: F,
    pub(crate) accounts: F,
}

impl<F: Copy> StateAssignment<F> {
    /// The state as `H` embeds it.
    pub(crate) fn from_state<H: FieldHasher<F = F>>(s: &RunningState<F>) -> Self {
        Self {
            next_id: H::from_u256(U256::from(s.next_id)),
            total_liabilities: field_from_i256::<H>(s.total_liabilities),
            bad_debt: field_from_i256::<H>(s.bad_debt),
            liquidation_product: s.liquidation_product,
            accounts: s.accounts,
        }
    }
}

/// Everything one batch circuit reads (`docs/SPEC.md` §6.3, §6.4).
#[derive(Debug, Clone)]
pub(crate) struct BatchAssignment<F> {
    pub(crate) public_input: F,
    pub(crate) batch: F,
    pub(crate) batch_count: F,
    pub(crate) epoch: F,
    pub(crate) quote_scale: F,
    pub(crate) reserves: F,
    pub(crate) insurance_fund: F,
    pub(crate) unit_value: Vec<F>,
    pub(crate) unit_requirement: Vec<F>,
    pub(crate) accounts_commitment: F,
    pub(crate) challenge: F,
    pub(crate) liquidation_product: F,
    pub(crate) bad_debt: F,
    pub(crate) solvent: bool,
    pub(crate) insurance_covered: bool,
    pub(crate) state_in: StateAssignment<F>,
    pub(crate) blind_in: F,
    pub(crate) blind_out: F,
    pub(crate) slots: Vec<SlotAssignment<F>>,
}

impl<F: Copy> BatchAssignment<F> {
    /// The honest assignment of `w`, embedded by `H`.
    pub(crate) fn from_witness<H: FieldHasher<F = F>>(w: &BatchWitness<F>) -> Self {
        let markets = w.params.unit_value.len();
        let slots = w
            .slots
            .iter()
            .map(|s| match &s.account {
                Some(a) => SlotAssignment {
                    pad: false,
                    id: H::from_u64(a.id().get()),
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
                    id: H::from_u64(0),
                    balance_lane: U256::from(lane(0)),
                    size_lanes: vec![U256::from(lane(0)); markets],
                    salt: s.salt,
                },
            })
            .collect();
        Self {
            public_input: w.public_input,
            batch: H::from_u64(w.batch),
            batch_count: H::from_u64(w.batch_count),
            epoch: H::from_u64(w.params.epoch),
            quote_scale: field_from_i256::<H>(w.params.quote_scale),
            reserves: field_from_i256::<H>(w.params.reserves),
            insurance_fund: field_from_i256::<H>(w.params.insurance_fund),
            unit_value: w
                .params
                .unit_value
                .iter()
                .map(|v| field_from_i256::<H>(*v))
                .collect(),
            unit_requirement: w
                .params
                .unit_requirement
                .iter()
                .map(|v| field_from_i256::<H>(*v))
                .collect(),
            accounts_commitment: w.outputs.accounts_commitment,
            challenge: w.outputs.challenge,
            liquidation_product: w.outputs.liquidation_product,
            bad_debt: field_from_i256::<H>(w.outputs.bad_debt),
            solvent: w.outputs.solvent,
            insurance_covered: w.outputs.insurance_covered,
            state_in: StateAssignment::from_state::<H>(&w.state_in),
            blind_in: w.blind_in,
            blind_out: w.blind_out,
            slots,
        }
    }
}
