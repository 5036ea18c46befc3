//! [`Halo2BatchCircuit`]: batch `b` of an epoch (`docs/SPEC.md` §6.3) over the
//! Pallas base field, with one public input `x_b` (§6.4).

use super::assignment::BatchAssignment;
use super::frame::{FrameChip, FrameConfig, InputValues, OutputValues, inputs};
use super::layout::{Columns, RowCounter, smallest_k};
use super::margin::{AccountInputs, MarginChip, MarginConfig, known};
use super::poseidon::{self, Cell, PoseidonConfig, PoseidonPool};
use super::range::{RangeCheckChip, RangeCheckConfig, bit, pow2, words};
use super::trace::BatchTrace;
use super::waterfall::{self, WaterfallChip, WaterfallConfig};
use crate::bounds::{ASSET_DISCLOSURE_BITS, SIZE_BITS};
use crate::hash::PastaPoseidon;
use crate::native::commit::{TREE_ARITY, tag, tags};
use crate::shape::{CircuitError, CircuitShape};
use crate::witness::BatchWitness;
use ff::Field;
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::plonk::{
    self, Circuit, Column, ConstraintSystem, Error, Fixed, FloorPlanner, Instance, ProvingKey,
    VerifyingKey,
};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Challenge255, TranscriptWrite};
use pasta_curves::pallas::Base as Fp;
use pasta_curves::vesta;
use rand_core10::Rng;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

/// Width of the id-gap check (`docs/SPEC.md` §6.3 (2)).
const GAP_BITS: usize = 64;
/// Width of the final id bound `2^64 − next_id ∈ [0, 2^65)`.
const ID_BOUND_BITS: usize = 65;
/// Width of a bracket bit's window (risk model v2, `docs/SPEC.md` §8.1).
const BRACKET_BITS: usize = 64;
/// Width of a lane's magnitude part `r ∈ [0, 2^63)`.
const LANE_BITS: usize = SIZE_BITS as usize;

/// The column layout of the risk model v1 or v2 circuit ([`Columns::of`]); within
/// a risk model only synthesis depends on the shape.
#[derive(Clone, Debug)]
pub struct Halo2BatchConfig {
    instance: Column<Instance>,
    constants: Column<Fixed>,
    poseidon: Vec<PoseidonConfig>,
    range: RangeCheckConfig,
    margin: MarginConfig,
    frame: FrameConfig,
    /// The waterfall's gates (a waterfall shape's circuit only).
    waterfall: Option<WaterfallConfig>,
}

impl Halo2BatchConfig {
    /// Configures the risk model v1 circuit, or the risk model v2 one (its own
    /// column counts, and the bracket, asset and holding gates after the others),
    /// with the waterfall's gates on the margin grid after all of them if
    /// `waterfall` (`docs/SPEC.md` §2.4; its own column counts).
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        risk_model_v2: bool,
        waterfall: bool,
    ) -> Self {
        let columns = Columns::of(risk_model_v2, waterfall);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let poseidon = (0..columns.poseidon)
            .map(|_| poseidon::configure(meta))
            .collect();
        let range_columns: Vec<_> = (0..columns.range).map(|_| meta.advice_column()).collect();
        let range = RangeCheckConfig::configure(meta, &range_columns);
        let margin_columns: Vec<_> = (0..columns.margin).map(|_| meta.advice_column()).collect();
        let shifts = [meta.fixed_column(), meta.fixed_column()];
        let margin = MarginConfig::configure(meta, &margin_columns, shifts, risk_model_v2);
        let frame = FrameConfig::configure(meta, &margin_columns, shifts[0], risk_model_v2);
        let waterfall = waterfall.then(|| WaterfallConfig::configure(meta, &margin_columns));
        // Pow5's gates have degree 6, so the quotient is computed on the 8n-point
        // extended domain anyway; degree 9 keeps that domain (quotient degree 8)
        // but lets the permutation argument take 7 columns per product instead of
        // 4 (7 grand products for the 46 equality columns instead of 12) and lets
        // halo2 merge more selectors into each fixed column: fewer committed
        // polynomials per proof (measured: about 17% less prover CPU time at B = 64).
        meta.set_minimum_degree(9);
        Self {
            instance,
            constants,
            poseidon,
            range,
            margin,
            frame,
            waterfall,
        }
    }
}

/// A [`Halo2BatchCircuit`] as the risk model v1 (`V2 = false`) or v2 circuit,
/// without or with the waterfall (`W`): what `halo2_proofs` configures, proves
/// and verifies. `Circuit::configure` gets no shape and halo2_proofs 0.4 has no
/// circuit parameters, so the risk model and the waterfall are this type's
/// parameters; synthesis refuses a shape of another circuit.
/// [`Halo2BatchCircuit`]'s `keygen_vk`, `keygen_pk`, `create_proof`, `rows` and
/// `k` choose it from the shape.
#[derive(Debug, Clone)]
pub struct ByRiskModel<'a, const V2: bool, const W: bool>(pub Cow<'a, Halo2BatchCircuit>);

impl<const V2: bool, const W: bool> Circuit<Fp> for ByRiskModel<'_, V2, W> {
    type Config = Halo2BatchConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        Self(Cow::Owned(Halo2BatchCircuit::blank(self.0.shape)))
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> Halo2BatchConfig {
        Halo2BatchConfig::configure(meta, V2, W)
    }

    fn synthesize(
        &self,
        config: Halo2BatchConfig,
        layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        if self.0.shape.is_risk_model_v2() != V2 || self.0.shape.has_waterfall() != W {
            return Err(Error::Synthesis);
        }
        self.0.synthesize(config, layouter)
    }
}

/// Runs `$body` with `$c` bound to `$circuit` (a `Cow` of a
/// [`Halo2BatchCircuit`]) as the [`ByRiskModel`] of its shape's risk model and
/// waterfall.
macro_rules! by_risk_model {
    ($circuit:expr, |$c:ident| $body:expr) => {{
        let circuit: Cow<'_, Halo2BatchCircuit> = $circuit;
        match (
            circuit.shape.is_risk_model_v2(),
            circuit.shape.has_waterfall(),
        ) {
            (true, false) => {
                let $c = ByRiskModel::<true, false>(circuit);
                $body
            }
            (false, false) => {
                let $c = ByRiskModel::<false, false>(circuit);
                $body
            }
            (true, true) => {
                let $c = ByRiskModel::<true, true>(circuit);
                $body
            }
            (false, true) => {
                let $c = ByRiskModel::<false, true>(circuit);
                $body
            }
        }
    }};
}

/// The halo2 batch circuit for a [`CircuitShape`]: [`Halo2BatchCircuit::blank`]
/// for key generation, [`Halo2BatchCircuit::new`] for proving, with `x_b` in the
/// single instance column at row 0 ([`Halo2BatchCircuit::public_inputs`]) and
/// `2^`[`Halo2BatchCircuit::k`] rows.
///
/// It enforces the relations of the Groth16 circuit ([`crate::r1cs::BatchCircuit`])
/// step by step; see the module docs of [`super::margin`], [`super::frame`],
/// [`super::range`] and [`super::poseidon`] for the gates.
///
/// Columns (every shape of a risk model; [`ByRiskModel`]): 1 instance;
/// `4·poseidon + range + margin` advice ([`Columns`]: 6 Poseidon chips, 4 running
/// sums and a 4-wide margin grid, 32 advice, for risk model v1; 4, 6 and 8, 30
/// advice, for v2); `6·poseidon` round-constant, `range` tag, 2 shift, 1 constants
/// and 2 table columns (45 fixed for v1, 35 for v2), plus halo2's compressed
/// selectors; `range` lookups. A waterfall shape's circuit has its own counts
/// ([`Columns::WATERFALL_V1`], [`Columns::WATERFALL_V2`]) and the waterfall chip's
/// gates. Within a circuit only synthesis (and so the fixed columns' content)
/// depends on the shape.
#[derive(Debug, Clone)]
pub struct Halo2BatchCircuit {
    shape: CircuitShape,
    trace: Option<BatchTrace>,
}

impl Halo2BatchCircuit {
    /// The circuit of a shape with no witness (key generation, row counting).
    pub fn blank(shape: CircuitShape) -> Self {
        Self { shape, trace: None }
    }

    /// The circuit for one batch of an epoch built by
    /// [`crate::witness::build_epoch`] with [`PastaPoseidon`].
    ///
    /// # Errors
    /// [`CircuitError::ShapeMismatch`] if the witness has another batch size or
    /// market count.
    pub fn new(shape: CircuitShape, witness: &BatchWitness<Fp>) -> Result<Self, CircuitError> {
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
            trace: Some(BatchTrace::new(shape, assignment)),
        })
    }

    /// Any assignment, with a trace whose haircuts follow `haircut(slot, asset,
    /// sign)` instead of the amounts' signs (see [`BatchTrace::build`]).
    #[cfg(test)]
    pub(crate) fn with_haircuts(
        shape: CircuitShape,
        assignment: BatchAssignment,
        haircut: impl Fn(usize, usize, bool) -> bool,
    ) -> Result<Self, CircuitError> {
        assignment.check_shape(shape)?;
        Ok(Self {
            shape,
            trace: Some(BatchTrace::build(shape, assignment, haircut)),
        })
    }

    /// The trace, for the soundness tests to write lies into.
    #[cfg(test)]
    pub(crate) fn trace_mut(&mut self) -> Option<&mut BatchTrace> {
        self.trace.as_mut()
    }

    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }

    /// The instance columns: `[[x_b]]` (an empty column for a blank circuit).
    pub fn public_inputs(&self) -> Vec<Vec<Fp>> {
        vec![
            self.trace
                .as_ref()
                .map(|t| vec![t.a.public_input])
                .unwrap_or_default(),
        ]
    }

    /// The rows the layout of `shape` occupies: one past the highest row any
    /// cell, selector, copy, constant or table entry uses. Measured by laying out
    /// the blank circuit with the floor planner (0.3 s at `B = 512`, 2.4 s at
    /// `B = 4096`, in release), then memoized per shape.
    ///
    /// # Errors
    /// Synthesis errors of the blank circuit (none for a valid shape).
    pub fn rows(shape: CircuitShape) -> Result<usize, Error> {
        static CACHE: OnceLock<Mutex<HashMap<CircuitShape, usize>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(rows) = cache.lock().ok().and_then(|c| c.get(&shape).copied()) {
            return Ok(rows);
        }
        let mut cs = ConstraintSystem::default();
        let config =
            Halo2BatchConfig::configure(&mut cs, shape.is_risk_model_v2(), shape.has_waterfall());
        let constants = vec![config.constants];
        let mut counter = RowCounter::default();
        by_risk_model!(Cow::Owned(Self::blank(shape)), |c| {
            SimpleFloorPlanner::synthesize(&mut counter, &c, config, constants)
        })?;
        if let Ok(mut c) = cache.lock() {
            c.insert(shape, counter.rows);
        }
        Ok(counter.rows)
    }

    /// The smallest `k` whose `2^k` rows, minus halo2's blinding rows, hold the
    /// layout of `shape` (pinned by a test: MockProver succeeds at `k` and fails
    /// at `k − 1`). Returns 0 if the blank circuit cannot be laid out, which no
    /// valid shape does.
    pub fn k(shape: CircuitShape) -> u32 {
        let cs = Self::constraint_system(shape);
        Self::rows(shape).map_or(0, |rows| smallest_k(&cs, rows))
    }

    /// The constraint system of `shape`'s circuit (its risk model's).
    pub fn constraint_system(shape: CircuitShape) -> ConstraintSystem<Fp> {
        let mut cs = ConstraintSystem::default();
        let _ =
            Halo2BatchConfig::configure(&mut cs, shape.is_risk_model_v2(), shape.has_waterfall());
        cs
    }

    /// `halo2_proofs::plonk::keygen_vk` for `shape`'s circuit.
    ///
    /// # Errors
    /// halo2's key generation errors (`params` too small for the shape's `k`).
    pub fn keygen_vk(
        params: &Params<vesta::Affine>,
        shape: CircuitShape,
    ) -> Result<VerifyingKey<vesta::Affine>, Error> {
        by_risk_model!(Cow::Owned(Self::blank(shape)), |c| plonk::keygen_vk(
            params, &c
        ))
    }

    /// `halo2_proofs::plonk::keygen_pk` for `shape`'s circuit.
    ///
    /// # Errors
    /// halo2's key generation errors.
    pub fn keygen_pk(
        params: &Params<vesta::Affine>,
        vk: VerifyingKey<vesta::Affine>,
        shape: CircuitShape,
    ) -> Result<ProvingKey<vesta::Affine>, Error> {
        by_risk_model!(Cow::Owned(Self::blank(shape)), |c| plonk::keygen_pk(
            params, vk, &c
        ))
    }

    /// `halo2_proofs::plonk::create_proof` of this batch against its own public
    /// input ([`Self::public_inputs`]), with keys of its shape.
    ///
    /// # Errors
    /// halo2's proving errors (an unsatisfied circuit, keys of another shape).
    pub fn create_proof<R, T>(
        &self,
        params: &Params<vesta::Affine>,
        pk: &ProvingKey<vesta::Affine>,
        rng: R,
        transcript: &mut T,
    ) -> Result<(), Error>
    where
        R: Rng,
        T: TranscriptWrite<vesta::Affine, Challenge255<vesta::Affine>>,
    {
        let instances = self.public_inputs();
        let columns: Vec<&[Fp]> = instances.iter().map(Vec::as_slice).collect();
        by_risk_model!(Cow::Borrowed(self), |c| plonk::create_proof(
            params,
            pk,
            &[c],
            &[columns.as_slice()],
            rng,
            transcript
        ))
    }

    /// halo2's `MockProver` on this batch with the instance columns `instance`.
    ///
    /// # Errors
    /// Synthesis errors.
    #[cfg(test)]
    pub(crate) fn mock_prover(
        &self,
        k: u32,
        instance: Vec<Vec<Fp>>,
    ) -> Result<halo2_proofs::dev::MockProver<Fp>, Error> {
        by_risk_model!(Cow::Borrowed(self), |c| halo2_proofs::dev::MockProver::run(
            k, &c, instance
        ))
    }

    /// The short widths the range table needs for this shape.
    fn table_widths(shape: CircuitShape) -> BTreeSet<usize> {
        [
            LANE_BITS,
            GAP_BITS,
            ID_BOUND_BITS,
            shape.tv_bits() as usize,
            shape.slack_bits() as usize,
            shape.solvency_bits() as usize,
        ]
        .into_iter()
        .chain((shape.assets() > 0).then_some(shape.asset_solvency_bits() as usize))
        .chain((shape.assets() > 0).then_some(ASSET_DISCLOSURE_BITS as usize))
        .chain(
            shape
                .has_waterfall()
                .then_some(waterfall::WIDTHS)
                .into_iter()
                .flatten(),
        )
        .map(|bits| words(bits).1)
        .collect()
    }
}

/// A field constant of a domain tag (`docs/SPEC.md` §5.0).
fn tag_value(name: &str) -> Fp {
    tag::<PastaPoseidon>(name)
}

impl Halo2BatchCircuit {
    /// Lays out the batch on `config` (its risk model's, [`ByRiskModel`]).
    fn synthesize(
        &self,
        config: Halo2BatchConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        let shape = self.shape;
        let markets = shape.markets();
        let steps = shape.brackets() - 1;
        let assets = shape.assets();
        let v2 = shape.is_risk_model_v2();
        let t = self.trace.as_ref();
        if t.is_some_and(|t| !t.fits(shape)) {
            return Err(Error::Synthesis);
        }
        let a = t.map(|t| &t.a);
        let layouter = &mut layouter;
        let mut pool = PoseidonPool::new(config.poseidon.clone());
        let mut range = RangeCheckChip::construct(config.range.clone());
        let margin = MarginChip::construct(config.margin.clone());
        let frame = FrameChip::construct(config.frame.clone());
        let w = shape.has_waterfall();
        let waterfall = config.waterfall.clone().map(WaterfallChip::construct);
        if waterfall.is_some() != w {
            return Err(Error::Synthesis);
        }
        let wt = t.and_then(|t| t.waterfall.as_ref());
        range.load_table(layouter, &Self::table_widths(shape))?;

        // The frame's witnesses (SPEC §5.5, §6.2, §6.4).
        let values = InputValues {
            witnesses: vec![
                known(a, |a| a.batch),
                known(a, |a| a.batch_count),
                known(t, |t| t.last_inverse),
                known(t, |t| bit(t.is_last)),
                known(a, |a| bit(a.solvent)),
                known(a, |a| bit(a.insurance_covered)),
                known(a, |a| a.params.epoch),
                known(a, |a| a.params.quote_scale),
                known(a, |a| a.params.reserves),
                known(a, |a| a.params.insurance_fund),
                known(a, |a| a.accounts_commitment),
                known(a, |a| a.challenge),
                known(a, |a| a.liquidation_product),
                known(a, |a| a.bad_debt),
                known(a, |a| a.state_in.next_id),
                known(a, |a| a.state_in.total_liabilities),
                known(a, |a| a.state_in.bad_debt),
                known(a, |a| a.state_in.liquidation_product),
                known(a, |a| a.state_in.accounts),
                known(a, |a| a.blind_in),
                known(a, |a| a.blind_out),
                known(a, |a| a.params.descriptor),
                known(a, |a| a.disclosure),
            ],
            market_params: (0..markets)
                .flat_map(|m| {
                    [
                        known(a, |a| a.params.unit_value[m]),
                        known(a, |a| a.params.unit_requirement[m]),
                    ]
                })
                // Risk model v2 (SPEC §5.5): RiskParams::hashed, in its order.
                .chain((0..markets).flat_map(|m| {
                    (0..steps).flat_map(move |i| {
                        [
                            known(a, |a| a.params.bracket_thresholds[m][i]),
                            known(a, |a| a.params.bracket_deltas[m][i][0]),
                            known(a, |a| a.params.bracket_deltas[m][i][1]),
                        ]
                    })
                }))
                .chain((0..assets).flat_map(|c| {
                    [
                        known(a, |a| a.params.asset_values[c][0]),
                        known(a, |a| a.params.asset_values[c][1]),
                        known(a, |a| a.params.asset_reserves[c]),
                    ]
                }))
                .chain(v2.then(|| known(a, |a| a.params.total_reserves)))
                // SPEC §6.2: the totals h_c carried in; §6.4: the published flags.
                .chain((0..assets).map(|c| known(a, |a| a.state_in.asset_held[c])))
                .chain((0..assets).map(|c| known(a, |a| bit((a.asset_solvency >> c) & 1 == 1))))
                // SPEC §6.4: the per-asset disclosure words ℓ_c.
                .chain((0..assets).map(|c| known(a, |a| a.asset_disclosure[c])))
                // The waterfall (SPEC §2.4, §5.5): uf_m = uv_m·lf_m, hashed after all
                // of the above; the published F' and shortfall (§6.4); F', S, S_lo
                // carried in (§6.2).
                .chain((0..if w { markets } else { 0 }).map(|m| {
                    known(a, |a| {
                        a.params.unit_value[m]
                            * a.params.fee_rates.get(m).copied().unwrap_or(Fp::ZERO)
                    })
                }))
                .chain(
                    (w.then_some([0, 2]).into_iter().flatten())
                        .map(|i| known(a, |a| a.waterfall.map_or(Fp::ZERO, |o| o[i]))),
                )
                .chain(
                    (0..if w { 3 } else { 0 })
                        .map(|i| known(a, |a| a.state_in.waterfall.map_or(Fp::ZERO, |s| s[i]))),
                )
                .collect(),
            tag_params: tag_value(tags::PARAMS),
            markets: Fp::from(markets as u64),
            tag_outputs: tag_value(tags::OUTPUTS),
            tag_state: tag_value(tags::STATE),
            tag_batch: tag_value(tags::BATCH),
        };
        let cells = frame.assign_inputs(layouter, &values)?;
        let c = |i: usize| cells.get(i).cloned();

        // SPEC §5.5: params_hash = absorb(H(TAG_PARAMS, epoch, M, f_q, reserves·f_q,
        // insurance_fund·f_q, d), uv_0, ur_0, …).
        let head = pool.hash(
            layouter,
            &[
                c(inputs::TAG_PARAMS)?,
                c(inputs::EPOCH)?,
                c(inputs::MARKETS)?,
                c(inputs::QUOTE_SCALE)?,
                c(inputs::RESERVES)?,
                c(inputs::INSURANCE)?,
                c(inputs::DESCRIPTOR)?,
            ],
        )?;
        // Risk model v2: the absorbed values after the markets', then h_c and the
        // flags (the cells' order of InputValues::market_params).
        let hashed = 2 * markets + 3 * markets * steps + 3 * assets + usize::from(v2);
        let range_of = |from: usize, n: usize| -> Result<Vec<Cell>, Error> {
            (from..from + n)
                .map(|i| c(inputs::MARKET_PARAMS + i))
                .collect()
        };
        let absorbed = range_of(0, hashed)?;
        let held_in = range_of(hashed, assets)?;
        let flags = range_of(hashed + assets, assets)?;
        let asset_disclosures = range_of(hashed + 2 * assets, assets)?;
        let fee_units = range_of(hashed + 3 * assets, if w { markets } else { 0 })?;
        let waterfall_in = range_of(hashed + 3 * assets + fee_units.len(), if w { 5 } else { 0 })?;
        let (published, sums_in) = waterfall_in.split_at(waterfall_in.len().min(2));
        let risk = &absorbed[2 * markets..];
        let bracket_cells: Vec<Vec<[Cell; 3]>> = (0..markets)
            .map(|m| {
                (0..steps)
                    .map(|i| {
                        let at = 3 * (m * steps + i);
                        [risk[at].clone(), risk[at + 1].clone(), risk[at + 2].clone()]
                    })
                    .collect()
            })
            .collect();
        let asset_cells: Vec<[Cell; 3]> = (0..assets)
            .map(|k| {
                let at = 3 * (markets * steps + k);
                [risk[at].clone(), risk[at + 1].clone(), risk[at + 2].clone()]
            })
            .collect();
        let total_reserves = risk.last().filter(|_| v2).cloned();
        let params_hash = pool.absorb(layouter, head, &absorbed)?;
        // The waterfall (SPEC §5.5): absorb(params_hash, uf_0, …, uf_{M−1}).
        let params_hash = pool.absorb(layouter, params_hash, &fee_units)?;

        // The waterfall's rate block (SPEC §2.4): h ∈ [0, 10^9], h_lo, [h = 0].
        let rate = match &waterfall {
            Some(chip) => Some(chip.assign_rate(layouter, &mut range, wt.map(|w| &w.rate))?),
            None => None,
        };

        // SPEC §6.4: O = H(TAG_OUTPUTS, accounts_commitment, z, P_target, D, solvent,
        // insurance_covered, ℓ).
        let outputs_hash = pool.hash(
            layouter,
            &[
                c(inputs::TAG_OUTPUTS)?,
                c(inputs::ACCOUNTS_COMMITMENT)?,
                c(inputs::CHALLENGE)?,
                c(inputs::TARGET_PRODUCT)?,
                c(inputs::BAD_DEBT)?,
                c(inputs::SOLVENT)?,
                c(inputs::COVERED)?,
                c(inputs::DISCLOSURE)?,
            ],
        )?;
        // Risk model v2: O = absorb(that, asset_solvent_0, …, ℓ_0, …); the
        // waterfall: then F', h, shortfall.
        let published_rate: Vec<Cell> = rate.iter().map(|r| r.rate.clone()).collect();
        let outputs_tail = [
            flags.as_slice(),
            asset_disclosures.as_slice(),
            published.get(..1).unwrap_or_default(),
            published_rate.as_slice(),
            published.get(1..).unwrap_or_default(),
        ]
        .concat();
        let outputs_hash = pool.absorb(layouter, outputs_hash, &outputs_tail)?;

        // SPEC §6.2: open C_{b−1} = H(TAG_STATE, blind, next_id, L, D, P, a), and
        // with assets absorb(that, h_0, …).
        let commitment_in = pool.hash(
            layouter,
            &[
                c(inputs::TAG_STATE)?,
                c(inputs::BLIND_IN)?,
                c(inputs::NEXT_ID_IN)?,
                c(inputs::LIABILITIES_IN)?,
                c(inputs::BAD_DEBT_IN)?,
                c(inputs::PRODUCT_IN)?,
                c(inputs::ACCOUNTS_IN)?,
            ],
        )?;
        let commitment_in = pool.absorb(
            layouter,
            commitment_in,
            &[held_in.as_slice(), sums_in].concat(),
        )?;
        let mut fees = sums_in.first().cloned();
        let mut haircuts = sums_in.get(1..3).map(|s| [s[0].clone(), s[1].clone()]);

        // The accounts (SPEC §2.2, §5.2, §6.1–§6.3).
        let tv_bits = shape.tv_bits() as usize;
        let slack_bits = shape.slack_bits() as usize;
        let mut account_inputs = AccountInputs {
            next_id: c(inputs::NEXT_ID_IN)?,
            liabilities: c(inputs::LIABILITIES_IN)?,
            bad_debt: c(inputs::BAD_DEBT_IN)?,
            product: c(inputs::PRODUCT_IN)?,
            prev_pad: c(inputs::ZERO)?,
            // SPEC §6.1: slot 0 is real (N ≥ 1); later slots may pad in the last batch.
            may_pad: c(inputs::ZERO)?,
            challenge: c(inputs::CHALLENGE)?,
            quote_scale: c(inputs::QUOTE_SCALE)?,
            unit_value: (0..markets)
                .map(|m| cells.unit_value(m).cloned())
                .collect::<Result<_, _>>()?,
            unit_requirement: (0..markets)
                .map(|m| cells.unit_requirement(m).cloned())
                .collect::<Result<_, _>>()?,
            brackets: bracket_cells,
            assets: (asset_cells.iter())
                .map(|[uv, lv, _]| [uv.clone(), lv.clone()])
                .collect(),
            held: held_in.clone(),
            tv_shift: pow2(tv_bits),
            slack_shift: pow2(slack_bits),
        };
        let batch_size = shape.batch_size().get();
        let mut leaves = Vec::with_capacity(batch_size);
        for j in 0..batch_size {
            let account = t.map(|t| &t.accounts[j]);
            let out = margin.assign_account(layouter, j, account, &account_inputs)?;
            // SPEC §5.2: every balance, size and amount lane in [1, 2^64).
            for (lane, r) in out.magnitudes.iter().enumerate() {
                let name = if lane == 0 {
                    format!("slot {j} balance lane")
                } else if lane <= markets {
                    format!("slot {j} size lane {}", lane - 1)
                } else {
                    format!("slot {j} amount lane {}", lane - markets - 1)
                };
                range.copy_check(layouter, &name, r, LANE_BITS)?;
            }
            // SPEC §8.1 (risk model v2): each bracket bit's window in [0, 2^64).
            for (n, u) in out.bracket_windows.iter().enumerate() {
                let name = format!("slot {j} bracket {}.{}", n / steps, n % steps + 1);
                range.copy_check(layouter, &name, u, BRACKET_BITS)?;
            }
            // SPEC §6.3 (2): id − next_id ∈ [0, 2^64) for a real slot.
            range.copy_check(layouter, &format!("slot {j} id gap"), &out.gap, GAP_BITS)?;
            // SPEC §2.2: the signs of TV and of the margin slack.
            range.copy_check(
                layouter,
                &format!("slot {j} TV sign"),
                &out.tv_window,
                tv_bits,
            )?;
            range.copy_check(
                layouter,
                &format!("slot {j} slack sign"),
                &out.slack_window,
                slack_bits,
            )?;
            // SPEC §2.4: the account's fee and haircuts.
            if let (Some(chip), Some(rate), Some(f), Some(s)) =
                (&waterfall, &rate, &fees, &haircuts)
            {
                let inputs = waterfall::AccountInputs {
                    lanes: (1..=markets)
                        .map(|m| [out.magnitudes[m].clone(), out.signs[m].clone()])
                        .collect(),
                    fee_units: fee_units.clone(),
                    liabilities: [account_inputs.liabilities.clone(), out.liabilities.clone()],
                    margin_sign: out.slack_sign.clone(),
                    rate: rate.clone(),
                    fees: f.clone(),
                    haircuts: s.clone(),
                };
                let w_out = chip.assign_account(
                    layouter,
                    &mut range,
                    j,
                    wt.map(|w| &w.accounts[j]),
                    &inputs,
                )?;
                fees = Some(w_out.fees);
                haircuts = Some(w_out.haircuts);
            }
            // SPEC §5.2: leaf = absorb(salt, words).
            leaves.push(pool.absorb(layouter, out.salt.clone(), &out.words)?);
            account_inputs.next_id = out.next_id;
            account_inputs.liabilities = out.liabilities;
            account_inputs.bad_debt = out.bad_debt;
            account_inputs.product = out.product;
            account_inputs.prev_pad = out.pad;
            account_inputs.held = out.held;
            account_inputs.may_pad = c(inputs::IS_LAST)?;
        }

        // SPEC §5.3: the batch root; §5.4: a_{b+1} = H(a_b, root_b).
        let mut level = leaves;
        while level.len() > 1 {
            level = level
                .chunks(TREE_ARITY)
                .map(|children| pool.hash(layouter, children))
                .collect::<Result<_, _>>()?;
        }
        let root = level.pop().ok_or(Error::Synthesis)?;
        let accounts_out = pool.hash(layouter, &[c(inputs::ACCOUNTS_IN)?, root])?;

        // SPEC §6.2: C_b = H(TAG_STATE, blind_b, S_b).
        let commitment_out = pool.hash(
            layouter,
            &[
                c(inputs::TAG_STATE)?,
                c(inputs::BLIND_OUT)?,
                account_inputs.next_id.clone(),
                account_inputs.liabilities.clone(),
                account_inputs.bad_debt.clone(),
                account_inputs.product.clone(),
                accounts_out.clone(),
            ],
        )?;
        let sums_out: Vec<Cell> = fees
            .iter()
            .cloned()
            .chain(haircuts.iter().flatten().cloned())
            .collect();
        let commitment_out = pool.absorb(
            layouter,
            commitment_out,
            &[account_inputs.held.as_slice(), sums_out.as_slice()].concat(),
        )?;

        // SPEC §6.3: the final id bound, solvency, and the last batch's opening.
        let solvency_bits = shape.solvency_bits() as usize;
        let out_values = OutputValues {
            id_bound: known(t, |t| t.id_bound),
            solvent_sign: known(t, |t| bit(t.solvent_sign)),
            solvency_window: known(t, |t| t.solvency_window),
            covered_sign: known(t, |t| bit(t.covered_sign)),
            insurance_window: known(t, |t| t.insurance_window),
        };
        // Risk model v2: L is compared with reserves·f_q + Σ_c reserves_c·uv_c.
        let reserves = match &total_reserves {
            Some(cell) => cell.clone(),
            None => c(inputs::RESERVES)?,
        };
        let copies = [
            c(inputs::IS_LAST)?,
            reserves,
            c(inputs::INSURANCE)?,
            c(inputs::ACCOUNTS_COMMITMENT)?,
            c(inputs::BAD_DEBT)?,
            c(inputs::TARGET_PRODUCT)?,
            c(inputs::SOLVENT)?,
            c(inputs::COVERED)?,
            account_inputs.next_id.clone(),
            account_inputs.liabilities.clone(),
            account_inputs.bad_debt.clone(),
            account_inputs.product.clone(),
            accounts_out,
            c(inputs::DISCLOSURE)?,
        ];
        let out = frame.assign_outputs(layouter, &copies, out_values, pow2(solvency_bits))?;
        range.copy_check(layouter, "final id bound", &out.id_bound, ID_BOUND_BITS)?;
        range.copy_check(
            layouter,
            "solvency sign",
            &out.solvency_window,
            solvency_bits,
        )?;
        range.copy_check(
            layouter,
            "insurance sign",
            &out.insurance_window,
            solvency_bits,
        )?;

        // SPEC §6.3 (risk model v2): each asset's solvency, opened by the last batch.
        // SPEC §6.4: and its disclosure word, 0 or the final h_c + 1, in 96 bits.
        for (k, (((asset, held), flag), disclosure)) in asset_cells
            .iter()
            .zip(&account_inputs.held)
            .zip(&flags)
            .zip(&asset_disclosures)
            .enumerate()
        {
            range.copy_check(
                layouter,
                &format!("asset {k} disclosure"),
                disclosure,
                ASSET_DISCLOSURE_BITS as usize,
            )?;
            let window = frame.assign_asset(
                layouter,
                k,
                [&c(inputs::IS_LAST)?, &asset[2], held, flag, disclosure],
                known(t, |t| bit(t.asset_signs[k])),
                known(t, |t| t.asset_windows[k]),
            )?;
            range.copy_check(
                layouter,
                &format!("asset {k} sign"),
                &window,
                shape.asset_solvency_bits() as usize,
            )?;
        }

        // SPEC §2.4, §6.3: the deficit, the cover, the shortfall and the least
        // rate over the epoch's sums, opened into the published values by the last
        // batch.
        if let (Some(chip), Some(rate), Some(f), Some(s)) = (&waterfall, rate, fees, haircuts) {
            let inputs = waterfall::EpochInputs {
                is_last: c(inputs::IS_LAST)?,
                bad_debt: account_inputs.bad_debt.clone(),
                fund: c(inputs::INSURANCE)?,
                fees: f,
                haircuts: s,
                rate,
                published: [published[0].clone(), published[1].clone()],
            };
            chip.assign_epoch(layouter, &mut range, wt.map(|w| &w.epoch), &inputs)?;
        }

        // SPEC §6.4: x_b = H(TAG_BATCH, params_hash, b, K, C_{b−1}, C_b, O), the
        // single public input.
        let x = pool.hash(
            layouter,
            &[
                c(inputs::TAG_BATCH)?,
                params_hash,
                c(inputs::BATCH)?,
                c(inputs::BATCH_COUNT)?,
                commitment_in,
                commitment_out,
                outputs_hash,
            ],
        )?;
        layouter.constrain_instance(x.cell(), config.instance, 0)?;
        Ok(())
    }
}
