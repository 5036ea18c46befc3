//! The Groth16 batch circuit: `B` accounts × `M` markets (`docs/SPEC.md` §6.3).
//!
//! The public inputs are the open layout of §6.4 (`9 + ⌈M/3⌉` values: the parameters,
//! flags, `b` and `K` packed into `2 + ⌈M/3⌉` words, the published outputs,
//! `C_{b−1}`, `C_b`), which a verifier forms with no hash of its own; the batch's state is a witness opened from `C_{b−1}` (from
//! `S_init` for batch 0) and committed to as `C_b`.
//!
//! Constraints per account at `M = 8` (the whole circuit is pinned by
//! `tests::shape_is_pinned`: 96,736 at `B = 64`, i.e. `1410·B + 402·(B − 1)/7 + 2878`):
//!
//! | part | constraints |
//! | --- | --- |
//! | balance and size lanes, 64 bits each (`M + 1`) | 576 |
//! | lanes ≠ 0, padding holds nothing, padding flag rules | 22 |
//! | id order: `id − next_id ∈ [0, 2^64)` and the update | 66 |
//! | `TV`, `MR'`: products and absolute values (`3M + 1`) | 25 |
//! | sign of `TV` (`tv_bits + 1`) | 191 |
//! | sign of the margin slack (`slack_bits + 1`) | 206 |
//! | liability, liquidation product | 3 |
//! | leaf: Poseidon over salt and 4 words (t = 6) | 321 |
//! | 8-ary tree: `(B − 1)/7` nodes of 402 | ≈ 57 |
//!
//! plus a fixed cost per batch (state commitments, `a_0`, solvency comparisons, the
//! chain ends), reported in `docs/PERFORMANCE.md`. That is the risk model v1 shape
//! (`T = 1`, `A = 0`); a risk model v2 shape adds per account the bracket gadget per
//! market (replacing the flat `mr` product) and the collateral gadget per asset, and
//! per batch the extra packed words, `cum'`, the per-asset totals in the state
//! commitment and the per-asset solvency signs (`docs/SPEC.md` §8.2; pinned by
//! `risk_tests::risk_model_v2_shape_is_pinned`). The per-account
//! lanes, `TV`, `MR'` and leaf are shared with the attestation circuit
//! (`r1cs/account.rs`); every block of constraints is named ([`super::names`]).

use super::account::{LANE_BITS, SignedLanes};
use super::assignment::{BatchAssignment, StateAssignment};
use super::bits::{enforce_range, is_negative, pow2};
use super::collateral::asset_terms;
use super::names::indexed;
use super::params::ParamVars;
use super::poseidon::{absorb, poseidon, tag_const};
use super::waterfall;
use crate::bounds::{BPS_DENOMINATOR, LANE_OFFSET};
use crate::native::commit::{TREE_ARITY, tags};
use crate::shape::{CircuitError, CircuitShape};
use crate::witness::BatchWitness;
use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_relations::ns;

/// The batch circuit. [`BatchCircuit::blank`] (no witness) is used for key
/// generation; [`BatchCircuit::new`] for proving.
#[derive(Debug, Clone)]
pub struct BatchCircuit {
    shape: CircuitShape,
    assignment: Option<BatchAssignment>,
}

impl BatchCircuit {
    /// The circuit of a shape with no witness: for setup and constraint counting.
    pub fn blank(shape: CircuitShape) -> Self {
        Self {
            shape,
            assignment: None,
        }
    }

    /// The circuit for one batch of an epoch built by [`crate::witness::build_epoch`].
    pub fn new(shape: CircuitShape, witness: &BatchWitness<Fr>) -> Result<Self, CircuitError> {
        Self::from_assignment(shape, BatchAssignment::from(witness))
    }

    /// Any assignment, honest or not (the soundness tests use this).
    pub(crate) fn from_assignment(
        shape: CircuitShape,
        assignment: BatchAssignment,
    ) -> Result<Self, CircuitError> {
        assignment.check_shape(shape)?;
        Ok(Self {
            shape,
            assignment: Some(assignment),
        })
    }

    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }
}

/// The running state as circuit variables.
struct StateVars {
    next_id: FpVar<Fr>,
    total_liabilities: FpVar<Fr>,
    bad_debt: FpVar<Fr>,
    liquidation_product: FpVar<Fr>,
    accounts: FpVar<Fr>,
    /// Per collateral asset, `Σ max(amount, 0)` so far (risk model v2).
    asset_held: Vec<FpVar<Fr>>,
    /// The waterfall's sums so far `[F', S_h, S_lo]` (a waterfall shape).
    waterfall: Option<[FpVar<Fr>; 3]>,
}

impl StateVars {
    fn alloc(
        cs: &ConstraintSystemRef<Fr>,
        s: Option<&StateAssignment>,
        assets: usize,
        waterfall: bool,
    ) -> Result<Self, SynthesisError> {
        let w = |f: fn(&StateAssignment) -> Fr| {
            FpVar::new_witness(cs.clone(), || {
                s.map(f).ok_or(SynthesisError::AssignmentMissing)
            })
        };
        Ok(Self {
            next_id: w(|s| s.next_id)?,
            total_liabilities: w(|s| s.total_liabilities)?,
            bad_debt: w(|s| s.bad_debt)?,
            liquidation_product: w(|s| s.liquidation_product)?,
            accounts: w(|s| s.accounts)?,
            asset_held: (0..assets)
                .map(|c| {
                    FpVar::new_witness(cs.clone(), || {
                        s.map(|s| s.asset_held[c])
                            .ok_or(SynthesisError::AssignmentMissing)
                    })
                })
                .collect::<Result<_, _>>()?,
            waterfall: if waterfall {
                let sum = |i: usize| {
                    FpVar::new_witness(cs.clone(), || {
                        s.and_then(|s| s.waterfall.map(|w| w[i]))
                            .ok_or(SynthesisError::AssignmentMissing)
                    })
                };
                Some([sum(0)?, sum(1)?, sum(2)?])
            } else {
                None
            },
        })
    }

    /// `C = H(TAG_STATE, blind, next_id, L, D, P, a)`, then `absorb(C, held_0, …,
    /// F', S_h, S_lo)` with the collateral assets' totals and the waterfall's sums,
    /// if any (`docs/SPEC.md` §6.2; the native twin is
    /// [`crate::native::commit::state_commitment`]).
    fn commit(
        &self,
        cs: &ConstraintSystemRef<Fr>,
        blind: &FpVar<Fr>,
    ) -> Result<FpVar<Fr>, SynthesisError> {
        let head = poseidon(
            cs.clone(),
            &[
                tag_const(tags::STATE),
                blind.clone(),
                self.next_id.clone(),
                self.total_liabilities.clone(),
                self.bad_debt.clone(),
                self.liquidation_product.clone(),
                self.accounts.clone(),
            ],
        )?;
        let tail: Vec<FpVar<Fr>> = (self.asset_held.iter())
            .chain(self.waterfall.iter().flatten())
            .cloned()
            .collect();
        if tail.is_empty() {
            return Ok(head);
        }
        absorb(cs, head, &tail)
    }
}

impl ConstraintSynthesizer<Fr> for BatchCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let shape = self.shape;
        let a = self.assignment.as_ref();
        let markets = shape.markets();
        let missing = || SynthesisError::AssignmentMissing;
        let witness = |f: &dyn Fn(&BatchAssignment) -> Fr| {
            FpVar::new_witness(cs.clone(), || a.map(f).ok_or(missing()))
        };

        // The public inputs in the open layout's order (SPEC §6.4): the packed words
        // (parameters, flags, b, K), the published outputs, then C_{b−1}, C_b. The
        // verifier forms every one of them from the published statement.
        let input = |f: &dyn Fn(&BatchAssignment) -> Fr| {
            FpVar::new_input(cs.clone(), || a.map(f).ok_or(missing()))
        };
        let packed = ParamVars::alloc_packed(&cs, a, &shape)?;
        let params = packed.params;
        let (published_solvent, published_covered) = (packed.solvent, packed.insurance_covered);
        let published_asset_solvent = packed.asset_solvent;
        let asset_disclosure = packed.asset_disclosure;
        let (batch, batch_count) = (packed.batch, packed.batch_count);
        let accounts_commitment = input(&|a| a.accounts_commitment)?;
        let challenge = input(&|a| a.challenge)?;
        let target_product = input(&|a| a.liquidation_product)?;
        let published_bad_debt = input(&|a| a.bad_debt)?;
        // ℓ: 0 if L is hidden, L + 1 if disclosed (SPEC §6.4).
        let disclosure = input(&|a| a.disclosure)?;
        let public_in = input(&|a| a.commitment_in)?;
        let public_out = input(&|a| a.commitment_out)?;

        // The last batch opens the final state (SPEC §6.3); the first opens S_init.
        let is_last = {
            let _ns = ns!(cs, "batch.is_last");
            (&batch_count - &batch - Fr::ONE).is_zero()?
        };
        let is_last_fp = FpVar::from(is_last.clone());
        let is_first = {
            let _ns = ns!(cs, "batch.is_first");
            batch.is_zero()?
        };

        // Open C_{b−1} (SPEC §6.2).
        let state_in = StateVars::alloc(
            &cs,
            a.map(|a| &a.state_in),
            shape.assets(),
            shape.has_waterfall(),
        )?;
        // The waterfall (SPEC §2.4): the published rate h, 0 ≤ h ≤ 10^9, and h_lo.
        let published_waterfall = packed.waterfall;
        let rate = match &published_waterfall {
            Some(w) => Some(waterfall::rate(&cs, &w.ppb)?),
            None => None,
        };
        let mut waterfall_sums = state_in.waterfall.clone();
        let blind_in = witness(&|a| a.blind_in)?;
        let commitment_in = {
            let _ns = ns!(cs, "chain.state_in");
            state_in.commit(&cs, &blind_in)?
        };

        let mut next_id = state_in.next_id.clone();
        let mut total_liabilities = state_in.total_liabilities.clone();
        let mut bad_debt = state_in.bad_debt.clone();
        let mut product = state_in.liquidation_product.clone();
        let mut asset_held = state_in.asset_held.clone();

        let offset = FpVar::constant(Fr::from(LANE_OFFSET));
        let bps = Fr::from(BPS_DENOMINATOR);
        let mut leaves = Vec::with_capacity(shape.batch_size().get());
        let mut previous_pad = Boolean::FALSE;
        for j in 0..shape.batch_size().get() {
            let _account = indexed(&cs, "account", j);
            let slot = a.map(|a| &a.slots[j]);
            // SPEC §6.1: padding only in the last batch, never in slot 0 (the last
            // batch holds a real account: N ≥ 1), and never before a real slot.
            let (pad_fp, real) = {
                let _ns = ns!(cs, "padding.order");
                let pad =
                    Boolean::new_witness(cs.clone(), || slot.map(|s| s.pad).ok_or(missing()))?;
                let pad_fp = FpVar::from(pad.clone());
                let real = FpVar::one() - &pad_fp;
                let may_pad = if j == 0 {
                    FpVar::zero()
                } else {
                    is_last_fp.clone()
                };
                pad_fp.mul_equals(&(FpVar::one() - may_pad), &FpVar::zero())?;
                FpVar::from(previous_pad.clone()).mul_equals(&real, &FpVar::zero())?;
                previous_pad = pad;
                (pad_fp, real)
            };

            // SPEC §5.2: lanes. Each signed lane is 64 bits and not 0 (|v| < 2^63).
            let id = FpVar::new_witness(cs.clone(), || slot.map(|s| s.id).ok_or(missing()))?;
            let mut lanes = SignedLanes::alloc(
                &cs,
                slot.map(|s| (s.balance_lane, &s.size_lanes[..])),
                markets,
            )?;
            // Risk model v2, SPEC §2.2: each collateral amount's lane, value, margin
            // term (the ratio for a held amount, in full for a debt) and held amount.
            let mut holdings = Vec::with_capacity(shape.assets());
            for (c, asset) in params.assets.iter().enumerate() {
                let _ns = indexed(&cs, "holding", c);
                let terms = asset_terms(&cs, slot.map(|s| s.amount_lanes[c]), asset)?;
                lanes.amounts.push(terms.lane.clone());
                holdings.push(terms);
            }
            // SPEC §6.1: a padding slot holds nothing: id 0, balance 0, sizes 0,
            // amounts 0.
            {
                let _ns = ns!(cs, "padding.empty");
                pad_fp.mul_equals(&id, &FpVar::zero())?;
                pad_fp.mul_equals(&(&lanes.balance - &offset), &FpVar::zero())?;
                for lane in lanes.sizes.iter().chain(&lanes.amounts) {
                    pad_fp.mul_equals(&(lane - &offset), &FpVar::zero())?;
                }
            }

            // SPEC §6.3 (2): real ids strictly increase: id − next_id ∈ [0, 2^64).
            {
                let _ns = ns!(cs, "id.order");
                let gap = &real * (&id - &next_id);
                enforce_range(cs.clone(), &gap, LANE_BITS)?;
                next_id = &next_id + &real * (&id + Fr::ONE - &next_id);
            }

            // SPEC §2.2: TV = balance·f_q + Σ size_m·uv_m (+ Σ amount_c·uv_c), MR' =
            // Σ |size_m|·ur_m (with brackets, Σ n_m·mm_t − cum'_t), and the margin
            // value MV' = 10000·(balance·f_q + Σ size_m·uv_m) + Σ amount_c·uv_c·w'_c.
            let selected = slot.map(|s| &s.brackets[..]);
            let super::account::Margin {
                perp,
                requirement,
                magnitudes,
            } = lanes.margin(&cs, &params, selected)?;
            let mut tv = perp.clone();
            let mut margin_value = &perp * bps;
            for (terms, held) in holdings.iter().zip(asset_held.iter_mut()) {
                tv += &terms.value;
                margin_value += &terms.margin_bps;
                *held += &terms.held;
            }
            let negative = {
                let _ns = ns!(cs, "tv.sign");
                is_negative(cs.clone(), &tv, shape.tv_bits() as usize)?
            };
            let slack = &margin_value - &requirement;
            let liquidatable = {
                let _ns = ns!(cs, "slack.sign");
                is_negative(cs.clone(), &slack, shape.slack_bits() as usize)?
            };

            // SPEC §2.2: liability max(TV, 0), bad debt max(−TV, 0).
            let liability = {
                let _ns = ns!(cs, "liability");
                let liability = &tv * (FpVar::one() - FpVar::from(negative));
                total_liabilities += &liability;
                bad_debt += &liability - &tv;
                liability
            };

            // SPEC §2.4: the account's liquidation fee and its haircuts at h and
            // h_lo, into F', S_h, S_lo. A padding slot's are 0 (no positions, TV 0).
            if let (Some(rate), Some([fees, at, below])) = (&rate, waterfall_sums.as_mut()) {
                let inputs = waterfall::AccountInputs {
                    magnitudes: &magnitudes,
                    unit_fees: &params.unit_fees,
                    liability: &liability,
                    liquidatable: &liquidatable,
                };
                let w = waterfall::account(&cs, &inputs, rate, None)?;
                *fees += &w.fee;
                *at += &w.haircut_at;
                *below += &w.haircut_below;
            }

            // SPEC §6.2: P ← P · (z − id) for a liquidatable account.
            {
                let _ns = ns!(cs, "liquidation");
                let factor = FpVar::from(liquidatable) * (&challenge - &id - Fr::ONE);
                product = &product * (factor + Fr::ONE);
            }

            // SPEC §5.2: words of three lanes, the padding flag at bit 192 of word 0.
            leaves.push(lanes.leaf(&cs, id, Some(&pad_fp), slot.map(|s| s.salt))?);
        }

        // SPEC §5.3: the batch root; §5.4: the accounts chain.
        let mut level = leaves;
        {
            let _ns = ns!(cs, "tree");
            while level.len() > 1 {
                level = level
                    .chunks(TREE_ARITY)
                    .map(|c| poseidon(cs.clone(), c))
                    .collect::<Result<_, _>>()?;
            }
        }
        let accounts = {
            let _ns = ns!(cs, "chain.accounts");
            poseidon(cs.clone(), &[state_in.accounts.clone(), level[0].clone()])?
        };

        // SPEC §6.3 (2): every id below 2^64, since ids increase: next_id ≤ 2^64.
        {
            let _ns = ns!(cs, "id.bound");
            enforce_range(cs.clone(), &(FpVar::constant(pow2(64)) - &next_id), 65)?;
        }

        let state_out = StateVars {
            next_id,
            total_liabilities,
            bad_debt,
            liquidation_product: product,
            accounts,
            asset_held,
            waterfall: waterfall_sums,
        };
        let blind_out = witness(&|a| a.blind_out)?;
        let commitment_out = {
            let _ns = ns!(cs, "chain.state_out");
            state_out.commit(&cs, &blind_out)?
        };

        // SPEC §6.3: the last batch opens the final state into the outputs.
        let at_least = |funds: &FpVar<Fr>, owed: &FpVar<Fr>| {
            is_negative(cs.clone(), &(funds - owed), shape.solvency_bits() as usize).map(|n| !n)
        };
        let solvent = {
            let _ns = ns!(cs, "solvency.reserves");
            at_least(&params.reserves_value, &state_out.total_liabilities)?
        };
        // Risk model v2, SPEC §2.3: per asset, reserves_c ≥ Σ_i max(amount_{i,c}, 0).
        let mut asset_solvent = Vec::with_capacity(shape.assets());
        for (c, (reserves, held)) in (params.asset_reserves.iter())
            .zip(&state_out.asset_held)
            .enumerate()
        {
            let _ns = indexed(&cs, "solvency.asset", c);
            let gap = reserves - held;
            let short = is_negative(cs.clone(), &gap, shape.asset_solvency_bits() as usize)?;
            asset_solvent.push(!short);
        }
        let covered = {
            let _ns = ns!(cs, "solvency.insurance");
            at_least(&params.insurance_fund, &state_out.bad_debt)?
        };
        {
            let _ns = ns!(cs, "outputs.open");
            state_out
                .accounts
                .conditional_enforce_equal(&accounts_commitment, &is_last)?;
            state_out
                .bad_debt
                .conditional_enforce_equal(&published_bad_debt, &is_last)?;
            state_out
                .liquidation_product
                .conditional_enforce_equal(&target_product, &is_last)?;
            solvent.conditional_enforce_equal(&published_solvent, &is_last)?;
            covered.conditional_enforce_equal(&published_covered, &is_last)?;
            for (ok, published) in asset_solvent.iter().zip(&published_asset_solvent) {
                ok.conditional_enforce_equal(published, &is_last)?;
            }
        }
        // SPEC §2.4: the last batch's draw, deficit, cover and minimality, and the
        // published F' is the final sum.
        if let (Some(rate), Some(published), Some([fees, at, below])) =
            (&rate, &published_waterfall, state_out.waterfall.as_ref())
        {
            let inputs = waterfall::EpochInputs {
                bad_debt: &state_out.bad_debt,
                insurance_fund: &params.insurance_fund,
                fees,
                haircuts_at: at,
                haircuts_below: below,
                shortfall: &published.shortfall,
                is_last: &is_last,
            };
            waterfall::epoch(&cs, &inputs, rate, None)?;
            let _ns = ns!(cs, "outputs.waterfall");
            fees.conditional_enforce_equal(&published.fees, &is_last)?;
        }
        // SPEC §6.4: a disclosed L is the proven one: is_last·ℓ·(ℓ − L − 1) = 0, so
        // ℓ = 0 (hidden: nothing is said of L) or ℓ = L + 1.
        {
            let _ns = ns!(cs, "outputs.liabilities");
            let gated = &is_last_fp * &disclosure;
            let opened = &disclosure - &state_out.total_liabilities - Fr::ONE;
            gated.mul_equals(&opened, &FpVar::zero())?;
        }
        // Risk model v2, SPEC §6.4: a disclosed per-asset total is the final one:
        // is_last·ℓ_c·(ℓ_c − h_c − 1) = 0, so ℓ_c = 0 (hidden) or ℓ_c = h_c + 1.
        // (ℓ_c is in 96 bits by its unpacking, `params.unpack`.)
        for (c, (disclosure, held)) in asset_disclosure
            .iter()
            .zip(&state_out.asset_held)
            .enumerate()
        {
            let _ns = indexed(&cs, "outputs.asset_total", c);
            let gated = &is_last_fp * disclosure;
            let opened = disclosure - held - Fr::ONE;
            gated.mul_equals(&opened, &FpVar::zero())?;
        }

        // SPEC §6.2, §6.4: the chain's ends are the public C_{b−1} and C_b. For
        // b > 0 the state carried in opens C_{b−1}; batch 0's is S_init = (0, 0, 0,
        // 1, a_0), a_0 = H(TAG_ACCOUNTS, epoch), under the input C_{−1} = 0.
        let _ns = ns!(cs, "public_input");
        commitment_in.conditional_enforce_equal(&public_in, &!is_first.clone())?;
        public_in.conditional_enforce_equal(&FpVar::zero(), &is_first)?;
        let start = poseidon(
            cs.clone(),
            &[tag_const(tags::ACCOUNTS), params.epoch.clone()],
        )?;
        let initial = [
            (&state_in.next_id, FpVar::zero()),
            (&state_in.total_liabilities, FpVar::zero()),
            (&state_in.bad_debt, FpVar::zero()),
            (&state_in.liquidation_product, FpVar::one()),
            (&state_in.accounts, start),
        ];
        for (value, expected) in initial {
            value.conditional_enforce_equal(&expected, &is_first)?;
        }
        for held in state_in
            .asset_held
            .iter()
            .chain(state_in.waterfall.iter().flatten())
        {
            held.conditional_enforce_equal(&FpVar::zero(), &is_first)?;
        }
        commitment_out.enforce_equal(&public_out)?;
        debug_assert!(cs.is_in_setup_mode() || commitment_out.value().is_ok());
        Ok(())
    }
}
