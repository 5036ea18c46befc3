//! The halo2 path's assignment: [`crate::assignment`] over the Pallas base field.

use crate::hash::PastaPoseidon;
use crate::native::commit::RunningState;
use crate::witness::BatchWitness;
use pasta_curves::pallas::Base as Fp;

#[cfg(test)]
pub(crate) type SlotAssignment = crate::assignment::SlotAssignment<Fp>;
pub(crate) type StateAssignment = crate::assignment::StateAssignment<Fp>;
pub(crate) type BatchAssignment = crate::assignment::BatchAssignment<Fp>;

impl From<&RunningState<Fp>> for StateAssignment {
    fn from(s: &RunningState<Fp>) -> Self {
        Self::from_state::<PastaPoseidon>(s)
    }
}

impl From<&BatchWitness<Fp>> for BatchAssignment {
    fn from(w: &BatchWitness<Fp>) -> Self {
        Self::from_witness::<PastaPoseidon>(w)
    }
}
