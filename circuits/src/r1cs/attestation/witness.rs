//! The witness of the attestation circuit: built natively from one account's
//! inclusion data, refusing false claims and accounts that do not open to the roots.

use crate::assignment::ParamsAssignment;
use crate::hash::Bn254Poseidon;
use crate::model::{Account, EpochParams};
use crate::native::attestation::{
    AttestationClaim, AttestationError, attestation_public_input, attestation_tree_root,
    chain_roots, roots_tree_path,
};
use crate::native::commit::{
    BatchSize, PathStep, lane, leaf, leaf_words, params_hash, root_from_path,
};
use crate::native::risk::{RiskParams, Scales, account_risk, bracket_of};
use crate::r1cs::params::HashedRisk;
use crate::shape::AttestationShape;
use crate::witness::ParamsWitness;
use ark_bn254::Fr;
use ethnum::{I256, U256};

/// Everything the attestation circuit reads, as raw field elements and lanes so
/// that the tests can also build malicious assignments.
#[derive(Debug, Clone)]
pub(crate) struct AttestationAssignment {
    pub(crate) public_input: Fr,
    pub(crate) accounts_commitment: Fr,
    pub(crate) tree_root: Fr,
    pub(crate) params: ParamsAssignment<Fr>,
    /// `r`; only values below `2^32` can be assigned to its bits.
    pub(crate) ratio: U256,
    /// `X`; only values below `2^128` can be assigned to its bits.
    pub(crate) min_equity: U256,
    pub(crate) context: Fr,
    pub(crate) id: U256,
    pub(crate) balance_lane: U256,
    pub(crate) size_lanes: Vec<U256>,
    /// `amount_c + 2^63` per collateral asset (risk model v2).
    pub(crate) amount_lanes: Vec<U256>,
    /// Per market, the bracket the witness selects (read only when `T > 1`).
    pub(crate) brackets: Vec<usize>,
    /// The risk model v2 parameters `params_hash` absorbs (empty for v1).
    pub(crate) risk: HashedRisk,
    pub(crate) salt: Fr,
    /// [`ATTEST_DEPTH`](crate::native::attestation::ATTEST_DEPTH) steps, leaf to `T`.
    pub(crate) path: Vec<PathStep<Fr>>,
}

/// An honest attestation witness, built from validated data by
/// [`AttestationWitness::new`], which refuses false claims and accounts that do not
/// open to the roots.
#[derive(Debug, Clone)]
pub struct AttestationWitness {
    pub(super) assignment: AttestationAssignment,
    pub(super) shape: AttestationShape,
}

/// The native inputs of [`AttestationWitness::new`]: one account's inclusion data.
#[derive(Debug, Clone, Copy)]
pub struct AttestationInputs<'a> {
    /// The epoch's validated public parameters.
    pub params: &'a EpochParams,
    /// The account (its sizes in the order of the parameters' markets, its amounts
    /// in the order of their assets).
    pub account: &'a Account,
    /// Its salt (`docs/SPEC.md` §5.1).
    pub salt: Fr,
    /// `B`.
    pub batch_size: BatchSize,
    /// Its batch.
    pub batch: usize,
    /// Its path within the batch (`log8 B` steps).
    pub batch_path: &'a [PathStep<Fr>],
    /// All `K` batch roots of the epoch.
    pub batch_roots: &'a [Fr],
    /// The claim.
    pub claim: AttestationClaim,
    /// The counterparty's context element.
    pub context: Fr,
}

impl AttestationWitness {
    /// Checks the inputs natively (the leaf opens to its batch root, the claim
    /// holds) and builds the witness.
    pub fn new(inputs: AttestationInputs<'_>) -> Result<Self, AttestationError> {
        let AttestationInputs {
            params,
            account,
            salt,
            batch_size,
            batch,
            batch_path,
            batch_roots,
            claim,
            context,
        } = inputs;
        type H = Bn254Poseidon;
        let markets = params.markets().len();
        let id = account.id().get();
        if account.sizes().len() != markets {
            return Err(AttestationError::Markets {
                id,
                got: account.sizes().len(),
                expected: markets,
            });
        }
        if account.amounts().len() != params.assets().len() {
            return Err(AttestationError::Assets {
                id,
                got: account.amounts().len(),
                expected: params.assets().len(),
            });
        }
        let shape = AttestationShape::for_params(params).map_err(|e| AttestationError::Shape {
            reason: e.to_string(),
        })?;
        if batch_path.len() != batch_size.depth() as usize {
            return Err(AttestationError::PathLength {
                got: batch_path.len(),
                expected: batch_size.depth() as usize,
                batch_size: batch_size.get(),
            });
        }
        let batch_root = *batch_roots.get(batch).ok_or(AttestationError::Batch {
            batch,
            count: batch_roots.len(),
        })?;
        let words = leaf_words(Some(account), markets, account.amounts().len());
        if root_from_path::<H>(leaf::<H>(salt, &words), batch_path) != batch_root {
            return Err(AttestationError::NotIncluded { id, batch });
        }
        let scales = Scales::new(params);
        let risk = account_risk(&scales, account);
        claim
            .check(&risk, scales.quote)
            .map_err(|reason| AttestationError::ClaimFalse { id, reason })?;
        // The bracket of each position's notional (the first, floor 0, always applies).
        let brackets = (account.sizes().iter())
            .zip(&scales.unit_value)
            .zip(&scales.brackets)
            .map(|((size, uv), bs)| {
                let notional = I256::from(size.get()).abs() * *uv;
                bracket_of(bs, notional)
                    .and_then(|b| bs.iter().position(|x| x == b))
                    .unwrap_or(0)
            })
            .collect();
        let mut path = batch_path.to_vec();
        path.extend(roots_tree_path::<H>(batch_size, batch_roots, batch)?);
        let tree_root = attestation_tree_root::<H>(batch_size, batch_roots)?;
        let accounts_commitment = chain_roots::<H>(params.epoch(), batch_roots);
        let public_input = attestation_public_input::<H>(
            accounts_commitment,
            tree_root,
            params_hash::<H>(params),
            &claim,
            context,
        );
        let lane_of = |v: i64| U256::from(lane(v));
        let assignment = AttestationAssignment {
            public_input,
            accounts_commitment,
            tree_root,
            params: ParamsAssignment::from_witness::<H>(&ParamsWitness::new(params)),
            ratio: U256::from(claim.ratio),
            min_equity: U256::from(claim.min_equity),
            context,
            id: U256::from(id),
            balance_lane: lane_of(account.quote_balance().get()),
            size_lanes: account.sizes().iter().map(|s| lane_of(s.get())).collect(),
            amount_lanes: account.amounts().iter().map(|a| lane_of(a.get())).collect(),
            brackets,
            risk: HashedRisk::new(&RiskParams::new(params, shape.brackets())),
            salt,
            path,
        };
        Ok(Self { assignment, shape })
    }

    /// The public input `x` this witness satisfies.
    pub fn public_input(&self) -> Fr {
        self.assignment.public_input
    }
    /// The shape.
    pub fn shape(&self) -> AttestationShape {
        self.shape
    }
}
