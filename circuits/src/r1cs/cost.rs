//! Constraint counts of the batch circuit and their breakdown by gadget, measured
//! by synthesis in setup mode (the figures of `docs/PERFORMANCE.md`).
//!
//! [`constraint_count`] synthesizes the whole blank circuit. [`breakdown`] also
//! synthesizes each gadget the circuit uses **alone**, in a fresh constraint system,
//! at the widths the shape needs, and attributes the rest to inline arithmetic:
//!
//! - per account: the lane decompositions, the lane ≠ 0 checks, the id-gap range
//!   check, the two sign gadgets and the leaf hash are measured gadgets; "inline
//!   arithmetic" (padding rules, the `next_id` update, `TV`/`MR'` products,
//!   liability, liquidation product) is the measured per-account marginal minus
//!   those, where the marginal comes from two whole-circuit counts
//!   (`B = 8` and `B = 64`) with the tree nodes taken out;
//! - per batch: the hashes (state commitments, `a_0`, the accounts chain step), the
//!   solvency signs and the final id bound are measured gadgets; the remainder
//!   (booleans, `is_first`, `is_last`, conditional equalities, less the savings of
//!   hashing constants such as domain tags) closes the whole-circuit count. The
//!   public inputs are open (`docs/SPEC.md` §6.4): no parameters, outputs or batch
//!   hash, only the unpacking and scaling of the packed words.

use super::account::LANE_BITS;
use super::batch::BatchCircuit;
use super::bits::{alloc_bits_le, enforce_nonzero, enforce_range, is_negative};
use super::brackets::{BracketVars, requirement};
use super::collateral::{AssetVars, asset_terms};
use super::poseidon::{absorb, poseidon};
use crate::native::commit::TREE_ARITY;
use crate::shape::CircuitShape;
use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use serde::{Deserialize, Serialize};

/// Width of the final bound `2^64 − next_id ∈ [0, 2^65)`.
const ID_BOUND_BITS: usize = 65;

/// The number of R1CS constraints of the batch circuit of `shape`.
///
/// # Errors
/// Synthesis errors of the blank circuit (none for a valid shape).
pub fn constraint_count(shape: CircuitShape) -> Result<usize, SynthesisError> {
    measure(|cs| BatchCircuit::blank(shape).generate_constraints(cs))
}

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// What the constraints are for.
    pub part: String,
    /// How many times the gadget occurs (per account or per batch).
    pub count: f64,
    /// Constraints of one occurrence (measured alone), or of the whole line when
    /// `count` is 1.
    pub each: f64,
    /// `count × each`.
    pub total: f64,
}

/// The constraints of the batch circuit of a shape, by gadget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// `B`.
    pub batch_size: usize,
    /// `M`.
    pub markets: usize,
    /// `T`: brackets per market (1: flat rates, risk model v1).
    #[serde(default = "one")]
    pub brackets: usize,
    /// `A`: collateral assets (0: risk model v1).
    #[serde(default)]
    pub assets: usize,
    /// The whole circuit, synthesized.
    pub total: usize,
    /// Per account, tree share excluded; sums to [`Breakdown::per_account_marginal`].
    pub per_account: Vec<CostLine>,
    /// Per account, tree excluded: measured from two whole-circuit counts.
    pub per_account_marginal: f64,
    /// One node of the 8-ary batch tree.
    pub tree_node: usize,
    /// Tree nodes per batch, `(B − 1)/7`.
    pub tree_nodes: usize,
    /// Per batch (independent of `B`); sums to [`Breakdown::per_batch_fixed`].
    pub per_batch: Vec<CostLine>,
    /// `total − B·per_account_marginal − tree_nodes·tree_node`.
    pub per_batch_fixed: f64,
}

fn one() -> usize {
    1
}

impl Breakdown {
    /// `total / B`.
    pub fn per_account_total(&self) -> f64 {
        self.total as f64 / self.batch_size as f64
    }
}

fn setup_cs() -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    cs
}

/// Constraints added by `f` in a fresh setup-mode constraint system.
fn measure(
    f: impl FnOnce(ConstraintSystemRef<Fr>) -> Result<(), SynthesisError>,
) -> Result<usize, SynthesisError> {
    let cs = setup_cs();
    f(cs.clone())?;
    cs.finalize();
    Ok(cs.num_constraints())
}

fn witnesses(cs: &ConstraintSystemRef<Fr>, n: usize) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
    (0..n)
        .map(|_| FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))))
        .collect()
}

/// The waterfall's gadgets at `m` markets, each alone: the account gadget, the
/// rate, the last batch's relations.
fn waterfall_costs(m: usize) -> Result<(usize, usize, usize), SynthesisError> {
    use super::waterfall::{AccountInputs, EpochInputs, account, epoch, rate};
    use ark_r1cs_std::boolean::Boolean;
    let rate_alone = measure(|cs| {
        let h = witnesses(&cs, 1)?;
        let _ = Boolean::new_witness(cs.clone(), || Ok(false))?;
        rate(&cs, &h[0]).map(|_| ())
    })?;
    let with_account = measure(|cs| {
        let h = witnesses(&cs, 1)?;
        let liquidatable = Boolean::new_witness(cs.clone(), || Ok(false))?;
        let r = rate(&cs, &h[0])?;
        let (magnitudes, unit_fees, liability) =
            (witnesses(&cs, m)?, witnesses(&cs, m)?, witnesses(&cs, 1)?);
        let inputs = AccountInputs {
            magnitudes: &magnitudes,
            unit_fees: &unit_fees,
            liability: &liability[0],
            liquidatable: &liquidatable,
        };
        account(&cs, &inputs, &r, None).map(|_| ())
    })?;
    let with_epoch = measure(|cs| {
        let h = witnesses(&cs, 1)?;
        let shortfall = Boolean::new_witness(cs.clone(), || Ok(false))?;
        let is_last = Boolean::new_witness(cs.clone(), || Ok(true))?;
        let r = rate(&cs, &h[0])?;
        let v = witnesses(&cs, 5)?;
        let inputs = EpochInputs {
            bad_debt: &v[0],
            insurance_fund: &v[1],
            fees: &v[2],
            haircuts_at: &v[3],
            haircuts_below: &v[4],
            shortfall: &shortfall,
            is_last: &is_last,
        };
        epoch(&cs, &inputs, &r, None).map(|_| ())
    })?;
    // The flag's boolean constraint is in `rate_alone` once, `with_epoch` twice.
    Ok((
        with_account - rate_alone,
        rate_alone - 1,
        with_epoch - rate_alone - 1,
    ))
}

/// A Poseidon hash of `n` witness inputs, alone.
fn hash_cost(n: usize) -> Result<usize, SynthesisError> {
    measure(|cs| {
        let inputs = witnesses(&cs, n)?;
        poseidon(cs, &inputs).map(|_| ())
    })
}

/// The chained absorb of `n` inputs onto a witness accumulator, alone.
fn absorb_cost(n: usize) -> Result<usize, SynthesisError> {
    measure(|cs| {
        let inputs = witnesses(&cs, n + 1)?;
        absorb(&cs, inputs[0].clone(), &inputs[1..]).map(|_| ())
    })
}

fn line(part: &str, count: f64, each: f64) -> CostLine {
    CostLine {
        part: part.to_owned(),
        count,
        each,
        total: count * each,
    }
}

/// The breakdown of the batch circuit of `shape` (see the module docs). Takes
/// about as long as three setup-mode syntheses of the circuit.
///
/// # Errors
/// Synthesis errors (none for a valid shape).
pub fn breakdown(shape: CircuitShape) -> Result<Breakdown, SynthesisError> {
    let b = shape.batch_size().get();
    let m = shape.markets();
    let total = constraint_count(shape)?;
    let tree_node = hash_cost(TREE_ARITY)?;
    let nodes = |n: usize| (n - 1) / (TREE_ARITY - 1);
    // Two whole-circuit counts give the per-account marginal.
    let small = |n: u64| -> Result<usize, SynthesisError> {
        let s = CircuitShape::with_risk(n, m, shape.brackets(), shape.assets())
            .map_err(|_| SynthesisError::Unsatisfiable)?
            .with_waterfall(shape.has_waterfall());
        // The sign widths depend on M and A only, so smaller B keeps every gadget width.
        constraint_count(s)
    };
    let (b1, b2) = (8usize, 64usize);
    let c1 = if b == b1 { total } else { small(b1 as u64)? };
    let c2 = if b == b2 { total } else { small(b2 as u64)? };
    let marginal = (c2 as f64 - c1 as f64 - (nodes(b2) - nodes(b1)) as f64 * tree_node as f64)
        / (b2 - b1) as f64;

    let lanes = (m + 1) as f64;
    let decompose = measure(|cs| {
        alloc_bits_le(cs, Some(1u64.into()), LANE_BITS, AllocationMode::Witness).map(|_| ())
    })?;
    let nonzero = measure(|cs| {
        let v = witnesses(&cs, 1)?;
        enforce_nonzero(cs, &v[0])
    })?;
    let range = |bits: usize| {
        measure(move |cs| {
            let v = witnesses(&cs, 1)?;
            enforce_range(cs, &v[0], bits)
        })
    };
    let sign = |bits: usize| {
        measure(move |cs| {
            let v = witnesses(&cs, 1)?;
            is_negative(cs, &v[0], bits).map(|_| ())
        })
    };
    let gap = range(LANE_BITS)?;
    let tv_sign = sign(shape.tv_bits() as usize)?;
    let slack_sign = sign(shape.slack_bits() as usize)?;
    let leaf = absorb_cost(shape.leaf_words())?;
    let mut per_account = vec![
        line(
            "balance and size lanes: 64-bit decompositions",
            lanes,
            decompose as f64,
        ),
        line("lanes ≠ 0", lanes, nonzero as f64),
        line("id order: 64-bit range check of the gap", 1.0, gap as f64),
        line(
            &format!("sign of TV ({} bits)", shape.tv_bits()),
            1.0,
            tv_sign as f64,
        ),
        line(
            &format!("sign of the margin slack ({} bits)", shape.slack_bits()),
            1.0,
            slack_sign as f64,
        ),
        line(
            &format!("leaf: Poseidon(salt, {} words)", shape.leaf_words()),
            1.0,
            leaf as f64,
        ),
    ];
    // Risk model v2: the bracket gadget per market (replacing the flat MR' product)
    // and the collateral gadget per asset, each measured alone.
    if shape.brackets() > 1 {
        let t = shape.brackets();
        let bracket = measure(|cs| {
            let vars = BracketVars {
                threshold: witnesses(&cs, t)?,
                rate_bps: witnesses(&cs, t)?,
                cum_bps: witnesses(&cs, t)?,
                rates_per_size_unit: false,
            };
            let v = witnesses(&cs, 2)?;
            requirement(&cs, &v[0], &v[1], &vars, None).map(|_| ())
        })?;
        per_account.push(line(
            &format!("maintenance brackets ({t} per market): select, pick, 64-bit lo/hi, MR'"),
            m as f64,
            bracket as f64,
        ));
    }
    if shape.assets() > 0 {
        let asset = measure(|cs| {
            let v = witnesses(&cs, 2)?;
            let vars = AssetVars {
                unit_value: v[0].clone(),
                haircut_value: v[1].clone(),
            };
            asset_terms(&cs, None, &vars).map(|_| ())
        })?;
        per_account.push(line(
            "collateral amounts: 64-bit lane, ≠ 0, value, margin term, held amount",
            shape.assets() as f64,
            asset as f64,
        ));
    }
    // The waterfall (SPEC §8.3): the account gadget, measured as the rate and the
    // account gadget together less the rate and the flag's own allocation.
    let waterfall = if shape.has_waterfall() {
        Some(waterfall_costs(m)?)
    } else {
        None
    };
    if let Some((account, _, _)) = waterfall {
        per_account.push(line(
            "waterfall: fee (capped at the equity), haircuts at h and h − 1 (exact floors)",
            1.0,
            account as f64,
        ));
    }
    let gadgets: f64 = per_account.iter().map(|l| l.total).sum();
    per_account.push(line(
        "inline arithmetic: padding rules, next_id update, TV and MR' products, liability, liquidation product",
        1.0,
        marginal - gadgets,
    ));

    // Per batch.
    let fixed = total as f64 - b as f64 * marginal - (nodes(b) * tree_node) as f64;
    let state = hash_cost(7)?;
    let start = hash_cost(2)?;
    let chain = hash_cost(2)?;
    let solvency_bits = shape.solvency_bits() as usize;
    let solvency = sign(solvency_bits)?;
    let id_bound = range(ID_BOUND_BITS)?;
    let packed =
        measure(|cs| super::params::ParamVars::alloc_packed(&cs, None, &shape).map(|_| ()))?;
    let mut per_batch = vec![
        line(
            "packed inputs: every part's bits, one sum per word, 10^e, scaled funds, uv and ur",
            1.0,
            packed as f64,
        ),
        line("state commitments in and out (7 inputs)", 2.0, state as f64),
        line(
            "a_0 = H(TAG_ACCOUNTS, epoch), batch 0's initial state (2 inputs)",
            1.0,
            start as f64,
        ),
        line("accounts chain step (2 inputs)", 1.0, chain as f64),
        line(
            &format!("solvency and insurance signs ({solvency_bits} bits)"),
            2.0,
            solvency as f64,
        ),
        line("next_id ≤ 2^64 (65-bit range check)", 1.0, id_bound as f64),
    ];
    if shape.assets() > 0 {
        let bits = shape.asset_solvency_bits() as usize;
        per_batch.push(line(
            &format!("per-asset solvency signs ({bits} bits)"),
            shape.assets() as f64,
            sign(bits)? as f64,
        ));
        per_batch.push(line(
            "state commitments: the per-asset totals absorbed (in and out)",
            2.0,
            absorb_cost(shape.assets())? as f64,
        ));
    }
    if let Some((_, rate, epoch)) = waterfall {
        per_batch.push(line("waterfall: 0 ≤ h ≤ 10^9 and h − 1", 1.0, rate as f64));
        per_batch.push(line(
            "waterfall: the last batch's deficit, shortfall, cover and minimality",
            1.0,
            epoch as f64,
        ));
    }
    let measured: f64 = per_batch.iter().map(|l| l.total).sum();
    per_batch.push(line(
        "remainder: input booleans, is_first, is_last, the chain ends, last-batch equalities, disclosed L, less constant hash inputs",
        1.0,
        fixed - measured,
    ));
    Ok(Breakdown {
        batch_size: b,
        markets: m,
        brackets: shape.brackets(),
        assets: shape.assets(),
        total,
        per_account,
        per_account_marginal: marginal,
        tree_node,
        tree_nodes: nodes(b),
        per_batch,
        per_batch_fixed: fixed,
    })
}
