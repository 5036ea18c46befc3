//! The Groth16 path's assignment: [`crate::assignment`] over BN254.

use crate::hash::Bn254Poseidon;
use crate::native::commit::RunningState;
use crate::witness::BatchWitness;
use ark_bn254::Fr;

#[cfg(test)]
pub(crate) type SlotAssignment = crate::assignment::SlotAssignment<Fr>;
pub(crate) type StateAssignment = crate::assignment::StateAssignment<Fr>;
pub(crate) type BatchAssignment = crate::assignment::BatchAssignment<Fr>;

impl From<&RunningState<Fr>> for StateAssignment {
    fn from(s: &RunningState<Fr>) -> Self {
        Self::from_state::<Bn254Poseidon>(s)
    }
}

impl From<&BatchWitness<Fr>> for BatchAssignment {
    fn from(w: &BatchWitness<Fr>) -> Self {
        Self::from_witness::<Bn254Poseidon>(w)
    }
}
