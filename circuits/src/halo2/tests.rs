//! The halo2 batch circuit against the native engine, and the soundness catalogue
//! (`docs/SPEC.md` §6.3, described once in [`crate::catalogue`], shared with the
//! Groth16 tests) on Pasta: every attack is a named malicious assignment, with a
//! satisfied control, and each asserts the exact gate constraints, lookups or
//! equalities MockProver reports.

use super::Halo2BatchConfig;
use super::assignment::{BatchAssignment, SlotAssignment};
use super::circuit::Halo2BatchCircuit;
use super::layout::Columns;
use super::poseidon::{self, PoseidonConfig, PoseidonPool};
use super::range::{RangeCheckChip, RangeCheckConfig, pow2, words};
use crate::assignment::testing::{Outputs, restamp_with};
use crate::catalogue::{
    self, Attack, Lane, Output, Relation, epoch, honest, lane_of, minus, single,
};
use crate::hash::{FieldHasher, PastaPoseidon};
use crate::native::commit::{BatchSize, absorb_chain};
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::build_epoch;
use ethnum::U256;
use ff::Field;
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::plonk::{
    Advice, Circuit, Column, ConstraintSystem, Error as PlonkError, Instance,
};
use pasta_curves::pallas::Base as Fp;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

type H = PastaPoseidon;

mod risk;
mod waterfall;

/// `k` per shape, computed once.
fn k_of(shape: CircuitShape) -> u32 {
    static CACHE: OnceLock<Mutex<HashMap<CircuitShape, u32>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(k) = cache.lock().unwrap().get(&shape) {
        return *k;
    }
    let k = Halo2BatchCircuit::k(shape);
    cache.lock().unwrap().insert(shape, k);
    k
}

/// What MockProver reports, reduced to names: the gate and constraint, the region
/// of a failed lookup, or the column kind and region of a broken equality.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Failure {
    /// `(gate, constraint)`.
    Gate(String, String),
    /// The region of the range check whose lookup failed.
    Lookup(String),
    /// `(column kind, region)` of a cell whose copy differs (`"outside"` for the
    /// instance column).
    Permutation(String, String),
    Other(String),
}

fn between(s: &str, open: &str, close: &str) -> String {
    let start = s.find(open).map_or(0, |i| i + open.len());
    let end = s.rfind(close).unwrap_or(s.len());
    s[start..end.max(start)].to_owned()
}

fn region_of(location: &FailureLocation) -> String {
    match location {
        FailureLocation::InRegion { region, .. } => between(&region.to_string(), "('", "')"),
        FailureLocation::OutsideRegion { .. } => "outside".to_owned(),
    }
}

pub(super) fn reduce(f: &VerifyFailure) -> Failure {
    match f {
        VerifyFailure::ConstraintNotSatisfied { constraint, .. } => {
            // "Constraint i ('name') in gate g ('gate')"
            let text = constraint.to_string();
            let (head, gate) = text.split_once(" in gate ").unwrap_or((&text, ""));
            Failure::Gate(between(gate, "('", "')"), between(head, "('", "')"))
        }
        VerifyFailure::Lookup { location, .. } => Failure::Lookup(region_of(location)),
        VerifyFailure::Permutation { column, location } => {
            let kind = between(&column.to_string(), "Column('", "',");
            Failure::Permutation(kind, region_of(location))
        }
        other => Failure::Other(other.to_string()),
    }
}

/// Runs MockProver on `a` with the public input it carries; the reduced failures
/// (empty when satisfied).
fn failures(shape: CircuitShape, a: BatchAssignment) -> BTreeSet<Failure> {
    circuit_failures(&Halo2BatchCircuit::from_assignment(shape, a).unwrap())
}

/// [`failures`] of a circuit built any way (a tampered trace).
fn circuit_failures(circuit: &Halo2BatchCircuit) -> BTreeSet<Failure> {
    let shape = circuit.shape();
    let prover = circuit
        .mock_prover(k_of(shape), circuit.public_inputs())
        .unwrap();
    match prover.verify() {
        Ok(()) => BTreeSet::new(),
        Err(fs) => fs.iter().map(reduce).collect(),
    }
}

fn satisfied(shape: CircuitShape, a: BatchAssignment) -> bool {
    failures(shape, a).is_empty()
}

pub(super) fn gate(g: &str, c: &str) -> Failure {
    Failure::Gate(g.to_owned(), c.to_owned())
}

pub(super) fn lookup(region: &str) -> Failure {
    Failure::Lookup(region.to_owned())
}

/// The public input differs from the `x_b` the circuit computes: the equality
/// between the instance cell and the final hash output breaks.
fn instance_mismatch() -> BTreeSet<Failure> {
    [
        Failure::Permutation("Instance".to_owned(), "outside".to_owned()),
        Failure::Permutation("Advice".to_owned(), "permute state".to_owned()),
    ]
    .into()
}

/// Asserts the exact set of failures.
#[track_caller]
fn assert_fails(shape: CircuitShape, a: BatchAssignment, expected: &[Failure]) {
    let got = failures(shape, a);
    let expected: BTreeSet<Failure> = expected.iter().cloned().collect();
    assert_eq!(got, expected, "\nexpected {expected:#?}\ngot {got:#?}");
}

#[track_caller]
fn assert_instance_mismatch(shape: CircuitShape, a: BatchAssignment) {
    let expected: Vec<Failure> = instance_mismatch().into_iter().collect();
    assert_fails(shape, a, &expected);
}

#[test]
fn honest_batches_satisfy() {
    let (shape, w) = epoch::<H>(20, 2, 8);
    assert_eq!(w.batches.len(), 3);
    assert!(!w.evaluation.liquidations.is_empty() && w.evaluation.bad_debt > 0);
    for b in &w.batches {
        let circuit = Halo2BatchCircuit::new(shape, b).unwrap();
        assert_eq!(circuit.public_inputs(), vec![vec![b.public_input()]]);
        let prover = circuit
            .mock_prover(k_of(shape), circuit.public_inputs())
            .unwrap();
        prover.assert_satisfied();
    }
}

#[test]
fn a_witness_of_another_shape_is_refused() {
    let (_, w) = epoch::<H>(20, 2, 8);
    let other = CircuitShape::new(8, 3).unwrap();
    assert!(Halo2BatchCircuit::new(other, &w.batches[0]).is_err());
    let other = CircuitShape::new(64, 2).unwrap();
    assert!(Halo2BatchCircuit::new(other, &w.batches[0]).is_err());
    assert_eq!(
        Halo2BatchCircuit::blank(other).public_inputs(),
        vec![Vec::<Fp>::new()]
    );
}

/// `k` is exact: MockProver accepts an honest batch at `k` and runs out of rows at
/// `k − 1`.
#[test]
fn k_is_the_smallest_that_fits() {
    for (n, b, m) in [(5u64, 8u64, 1usize), (8, 8, 3), (7, 8, 8), (60, 64, 2)] {
        let (shape, w) = epoch::<H>(n, m, b);
        let k = Halo2BatchCircuit::k(shape);
        let circuit = Halo2BatchCircuit::new(shape, &w.batches[0]).unwrap();
        circuit
            .mock_prover(k, circuit.public_inputs())
            .unwrap()
            .assert_satisfied();
        let smaller = circuit.mock_prover(k - 1, circuit.public_inputs());
        assert!(
            matches!(
                smaller,
                Err(halo2_proofs::plonk::Error::NotEnoughRowsAvailable { .. })
            ),
            "B={b} M={m} fits in k − 1 = {}",
            k - 1
        );
    }
}

// ---------------------------------------------------------------------------
// The gadgets on their own.
// ---------------------------------------------------------------------------

/// `H(inputs)` or `absorb(inputs[0], inputs[1..])` through a [`PoseidonPool`],
/// exposed as the only instance.
#[derive(Debug, Clone)]
struct HashCircuit {
    inputs: Vec<Fp>,
    absorb: bool,
}

impl Circuit<Fp> for HashCircuit {
    type Config = (Column<Advice>, Column<Instance>, Vec<PoseidonConfig>);
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
        let advice = meta.advice_column();
        meta.enable_equality(advice);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        (
            advice,
            instance,
            (0..Columns::RISK_V1.poseidon)
                .map(|_| poseidon::configure(meta))
                .collect(),
        )
    }

    fn synthesize(
        &self,
        config: Self::Config,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), PlonkError> {
        let (advice, instance, chips) = config;
        let cells = layouter.assign_region(
            || "inputs",
            |mut region| {
                self.inputs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| region.assign_advice(|| "x", advice, i, || Value::known(*v)))
                    .collect::<Result<Vec<_>, _>>()
            },
        )?;
        let mut pool = PoseidonPool::new(chips);
        let out = if self.absorb {
            pool.absorb(&mut layouter, cells[0].clone(), &cells[1..])?
        } else {
            pool.hash(&mut layouter, &cells)?
        };
        layouter.constrain_instance(out.cell(), instance, 0)
    }
}

#[test]
fn poseidon_matches_the_native_hash_for_every_length() {
    let xs: Vec<Fp> = (1..=40u64)
        .map(|i| Fp::from(i * 7919) - Fp::from(3))
        .collect();
    for n in 1..=16 {
        let circuit = HashCircuit {
            inputs: xs[..n].to_vec(),
            absorb: false,
        };
        let native = H::hash(&xs[..n]);
        MockProver::run(10, &circuit, vec![vec![native]])
            .unwrap()
            .assert_satisfied();
        let wrong = MockProver::run(10, &circuit, vec![vec![native + Fp::ONE]]).unwrap();
        assert!(wrong.verify().is_err(), "H of {n}");
    }
    // Chained absorb: nothing, one chunk, exactly 15, 16 (a second chunk), 39.
    for n in [0usize, 1, 14, 15, 16, 39] {
        let circuit = HashCircuit {
            inputs: xs[..n + 1].to_vec(),
            absorb: true,
        };
        let native = absorb_chain::<H>(xs[0], &xs[1..n + 1]);
        MockProver::run(11, &circuit, vec![vec![native]])
            .unwrap()
            .assert_satisfied();
    }
}

/// Range checks of `(value, bits)` pairs, one region each.
#[derive(Debug, Clone)]
struct RangeCircuit {
    checks: Vec<(Fp, usize)>,
}

impl Circuit<Fp> for RangeCircuit {
    type Config = (Column<Advice>, RangeCheckConfig);
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
        let advice = meta.advice_column();
        meta.enable_equality(advice);
        let columns: Vec<_> = (0..Columns::RISK_V1.range)
            .map(|_| meta.advice_column())
            .collect();
        (advice, RangeCheckConfig::configure(meta, &columns))
    }

    fn synthesize(
        &self,
        config: Self::Config,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), PlonkError> {
        let (advice, range) = config;
        let mut chip = RangeCheckChip::construct(range);
        let widths = self.checks.iter().map(|(_, bits)| words(*bits).1).collect();
        chip.load_table(&mut layouter, &widths)?;
        for (i, (v, bits)) in self.checks.iter().enumerate() {
            let cell = layouter.assign_region(
                || "value",
                |mut region| region.assign_advice(|| "v", advice, 0, || Value::known(*v)),
            )?;
            chip.copy_check(&mut layouter, &format!("check {i}"), &cell, *bits)?;
        }
        Ok(())
    }
}

/// The strict range check at its edges: `0` and `2^n − 1` pass, `2^n`, `2^(n+1)`,
/// `−1` and `2^252` fail, for widths around the word size and every width the
/// circuit uses; and the worked example of [`super::range`].
#[test]
fn range_checks_are_strict_at_every_width() {
    let widths = [1usize, 3, 9, 10, 11, 20, 23, 63, 64, 65, 190, 205, 222, 252];
    let mut good = vec![(Fp::from(5_550_087u64), 23)];
    for &n in &widths {
        good.push((Fp::ZERO, n));
        good.push((pow2(n) - Fp::ONE, n));
    }
    let circuit = RangeCircuit { checks: good };
    MockProver::run(12, &circuit, vec![])
        .unwrap()
        .assert_satisfied();
    let mut bad = vec![(pow2(23), 23)];
    for &n in &widths {
        bad.push((pow2(n), n));
        bad.push((pow2(n + 1), n));
        bad.push((-Fp::ONE, n));
        if n < 252 {
            bad.push((pow2(252), n));
        }
    }
    let expected: BTreeSet<Failure> = (0..bad.len())
        .map(|i| lookup(&format!("range check: check {i} ({} bits)", bad[i].1)))
        .collect();
    let circuit = RangeCircuit { checks: bad };
    let got: BTreeSet<Failure> = match MockProver::run(12, &circuit, vec![]).unwrap().verify() {
        Ok(()) => BTreeSet::new(),
        Err(fs) => fs.iter().map(reduce).collect(),
    };
    assert_eq!(got, expected);
}

/// `name: N` in the `Debug` form of a pinned constraint system.
fn pinned_number(pinned: &str, name: &str) -> usize {
    let rest = &pinned[pinned.find(&format!("{name}: ")).unwrap() + name.len() + 2..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap()]
        .parse()
        .unwrap()
}

/// Checks and prints the column counts of the risk model v1 or v2 circuit, with or
/// without the waterfall.
fn print_columns(risk_model_v2: bool, waterfall: bool) {
    let mut cs = ConstraintSystem::<Fp>::default();
    let _ = Halo2BatchConfig::configure(&mut cs, risk_model_v2, waterfall);
    let columns = Columns::of(risk_model_v2, waterfall);
    let pinned = format!("{:?}", cs.pinned());
    let advice = pinned_number(&pinned, "num_advice_columns");
    let fixed = pinned_number(&pinned, "num_fixed_columns");
    let selectors = pinned_number(&pinned, "num_selectors");
    let lookups = pinned.matches("input_expressions").count();
    assert_eq!(advice, columns.advice());
    let expected = match (risk_model_v2, waterfall) {
        (false, false) => 32,
        (true, false) => 30,
        (false, true) => 34,
        (true, true) => 31,
    };
    assert_eq!(advice, expected);
    assert_eq!(pinned_number(&pinned, "num_instance_columns"), 1);
    assert_eq!(lookups, columns.range);
    assert_eq!(cs.degree(), 9);
    println!(
        "advice {advice}, fixed {fixed} (+ {selectors} selectors before compression), \
         lookups {lookups}, degree {}, blinding rows {}",
        cs.degree(),
        cs.blinding_factors() + 1
    );
}

/// The layout is pinned: columns, lookups and rows for the shapes the report
/// quotes. Regenerate after an intended change with
/// `cargo test -p backstop-circuits --lib halo2::tests::layout_is_pinned -- --nocapture`.
#[test]
fn layout_is_pinned() {
    print_columns(false, false);
    let mut seen = Vec::new();
    for (b, m) in [(8u64, 8usize), (64, 8), (512, 8), (8, 1), (8, 64)] {
        let shape = CircuitShape::new(b, m).unwrap();
        let rows = Halo2BatchCircuit::rows(shape).unwrap();
        let k = Halo2BatchCircuit::k(shape);
        println!("B={b} M={m}: {rows} rows, k = {k}");
        seen.push((b, m, rows, k));
    }
    // B = 8 is bound by the range table (1,085 rows at M = 8), larger batches by
    // the running-sum columns: 110 lookups per account at M = 8 over 4 columns.
    assert_eq!(
        seen,
        vec![
            (8, 8, 1086, 11),
            (64, 8, 1814, 11),
            (512, 8, 14101, 14),
            (8, 1, 1726, 11),
            (8, 64, 1338, 11)
        ]
    );
    let marginal = (14101.0 - 1814.0) / 448.0;
    println!("marginal rows per account at M = 8: {marginal:.1}");
}

/// The risk model v2 layout of issue 17's target shape (`M = 8`, 4 brackets per
/// market, 4 assets): its own columns ([`Columns::RISK_V2`]), `docs/SPEC.md` §8.1.
#[test]
fn risk_model_v2_layout_is_pinned() {
    print_columns(true, false);
    let mut seen = Vec::new();
    for b in [8u64, 64, 512] {
        let shape = CircuitShape::with_risk(b, 8, 4, 4).unwrap();
        let rows = Halo2BatchCircuit::rows(shape).unwrap();
        let k = Halo2BatchCircuit::k(shape);
        println!("{}: {rows} rows, k = {k}", shape.id());
        seen.push((b, rows, k));
    }
    // The per-asset disclosure words (SPEC §6.4) add their 96-bit checks' short
    // width (6) to the range table (64 rows, which only B = 8 sees) and 9 rows of
    // checks to the frame.
    assert_eq!(seen, vec![(8, 1276, 11), (64, 3302, 12), (512, 26225, 15)]);
    let marginal = (seen[2].1 - seen[1].1) as f64 / 448.0;
    println!("marginal rows per account: {marginal:.1}");
}

/// The waterfall circuits' layouts (`docs/SPEC.md` §8.4; [`Columns::WATERFALL_V1`],
/// [`Columns::WATERFALL_V2`]): risk model v1 at `M = 8`, and v2 at issue 17's
/// target shape (`M = 8`, `T = 4`, `A = 4`).
#[test]
fn waterfall_layout_is_pinned() {
    print_columns(false, true);
    print_columns(true, true);
    let mut seen = Vec::new();
    for b in [8u64, 64, 512] {
        for shape in [
            CircuitShape::new(b, 8).unwrap().with_waterfall(true),
            CircuitShape::with_risk(b, 8, 4, 4)
                .unwrap()
                .with_waterfall(true),
        ] {
            let rows = Halo2BatchCircuit::rows(shape).unwrap();
            let k = Halo2BatchCircuit::k(shape);
            println!("{}: {rows} rows, k = {k}", shape.id());
            seen.push((shape.id(), rows, k));
        }
    }
    // v1: 37 rows per account on the 4-wide grid (23 margin, 8 notional, 6 for
    // the fee and haircuts) set the height, above the 191 lookups over 6 running
    // sums (31.8 rows); v2: 388 lookups over 7 running sums (55.4 rows).
    let pinned = [
        ("backstop.v2.B8.M8.W", 1086, 11),
        ("backstop.v2.B8.M8.T4.A4.W", 1276, 11),
        ("backstop.v2.B64.M8.W", 2395, 12),
        ("backstop.v2.B64.M8.T4.A4.W", 3591, 12),
        ("backstop.v2.B512.M8.W", 18971, 15),
        ("backstop.v2.B512.M8.T4.A4.W", 28423, 15),
    ];
    let pinned: Vec<(String, usize, u32)> = (pinned.iter())
        .map(|(id, rows, k)| (id.to_string(), *rows, *k))
        .collect();
    assert_eq!(seen, pinned);
}

/// The differential test: for every committed fixture (3–8 markets, `B = 8`), a
/// verifier's `x_b`, computed from the published statement alone, is accepted by
/// MockProver for every batch, so the circuit and the native engine agree on all
/// of them (values at the bounds included: see the `extremes` fixture).
#[test]
fn every_fixture_agrees_with_the_native_engine() {
    use crate::statement::{Backend, EpochStatement, PublicOutputs, publish};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/data");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path().join("snapshot"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "fixtures in {}", root.display());
    let mut batches = 0;
    let mut v2 = 0;
    let mut count = 0;
    for dir in dirs {
        let snapshot = crate::snapshot::load_dir(&dir).unwrap();
        if snapshot.params().has_waterfall() {
            // The waterfall scenarios: the halo2 circuit does not prove the
            // waterfall yet (SPEC §2.4); Groth16 does.
            continue;
        }
        count += 1;
        v2 += usize::from(snapshot.params().uses_risk_model_v2());
        let markets = snapshot.params().markets().len();
        assert!((2..=8).contains(&markets));
        let shape = CircuitShape::for_params(8, snapshot.params()).unwrap();
        let w = build_epoch::<H>(&snapshot, &VenueSecret::demo(), BatchSize::new(8).unwrap());
        let outputs = PublicOutputs::from_evaluation(snapshot.params(), &w.evaluation);
        let file = publish(
            Backend::Halo2Pasta,
            shape,
            "00".repeat(32),
            snapshot.params(),
            &outputs,
            &w.commitment,
        );
        let statement = EpochStatement::from_json(&serde_json::to_vec(&file).unwrap()).unwrap();
        let xs = statement.public_inputs::<H>().unwrap();
        assert_eq!(xs.len(), w.batches.len());
        for (b, batch) in w.batches.iter().enumerate() {
            let circuit = Halo2BatchCircuit::new(shape, batch).unwrap();
            let prover = circuit
                .mock_prover(k_of(shape), vec![xs[b].clone()])
                .unwrap();
            assert_eq!(prover.verify(), Ok(()), "{} batch {b}", dir.display());
            batches += 1;
        }
    }
    assert_eq!(
        (count, v2),
        (9, 3),
        "six risk model v1 fixtures and three v2 (and the waterfall's, not here)"
    );
    // Every batch of B = 8 of the nine committed books.
    assert_eq!(batches, 44);
}

// ---------------------------------------------------------------------------
// The soundness catalogue (`docs/SPEC.md` §6.3): the attacks of
// [`crate::catalogue`] over Pasta, each relation mapped to the gate constraint,
// range-check lookup or equality MockProver reports. Every control must be
// satisfied, and every lie must fail exactly at the failures of its relations.
// ---------------------------------------------------------------------------

/// The region name of slot `j`'s range check `what` (`balance lane`,
/// `size lane m`, `id gap`, `TV sign`, `slack sign`) at `bits` bits.
fn check(j: usize, what: &str, bits: u32) -> Failure {
    lookup(&format!("range check: slot {j} {what} ({bits} bits)"))
}

/// What MockProver reports when `r` breaks. A signed lane is checked as a sign and
/// a 63-bit magnitude (`super::margin`), which refuses both a lane at or above
/// `2^64` and the lane 0 (`−2^63`) in its magnitude check.
fn failures_of(r: Relation) -> Vec<Failure> {
    let lane_check = |slot: usize, lane: Lane| match lane {
        Lane::Balance => check(slot, "balance lane", 63),
        Lane::Size(m) => check(slot, &format!("size lane {m}"), 63),
    };
    match r {
        Relation::LaneRange { slot, lane } | Relation::LaneNonzero { slot, lane } => {
            vec![lane_check(slot, lane)]
        }
        Relation::PaddingEmpty { lane, .. } => vec![match lane {
            Some(Lane::Balance) => gate("balance lane", "padding lane holds 2^63"),
            Some(Lane::Size(_)) => gate("market lane", "padding lane holds 2^63"),
            None => gate("account", "padding id is 0"),
        }],
        Relation::PaddingBeforeReal { .. } => vec![gate("account", "no real slot after padding")],
        Relation::PaddingNotLast { .. } | Relation::FirstSlotReal => {
            vec![gate(
                "account",
                "padding only in the last batch, after slot 0",
            )]
        }
        Relation::IdOrder { slot } => vec![check(slot, "id gap", 64)],
        Relation::IdBound => vec![lookup("range check: final id bound (65 bits)")],
        Relation::Opens(output) => vec![gate(
            "batch outputs",
            match output {
                Output::AccountsCommitment => "accounts commitment",
                Output::LiquidationProduct => "liquidation product",
                Output::BadDebt => "bad debt",
                Output::Solvent => "solvent",
                Output::InsuranceCovered => "insurance covered",
            },
        )],
        Relation::DisclosedLiabilities => {
            vec![gate("batch outputs", "disclosed liabilities")]
        }
        Relation::PublicInput => instance_mismatch().into_iter().collect(),
    }
}

/// Every control satisfied; every lie failing exactly at its relations.
#[track_caller]
fn assert_attack(attack: Attack<Fp>) {
    for control in attack.controls {
        assert_eq!(
            failures(control.shape, control.assignment),
            BTreeSet::new(),
            "{}: control '{}'",
            attack.name,
            control.name
        );
    }
    for lie in attack.lies {
        let expected: BTreeSet<Failure> =
            lie.fails_at.iter().flat_map(|r| failures_of(*r)).collect();
        let got = failures(lie.case.shape, lie.case.assignment);
        assert_eq!(got, expected, "{}: lie '{}'", attack.name, lie.case.name);
    }
}

/// The native restamp the lies use agrees with the prover on honest batches
/// ([`catalogue::restamped_honest`] asserts the equality), which satisfy.
#[test]
fn restamp_agrees_with_the_prover() {
    for case in catalogue::restamped_honest::<H>() {
        assert!(satisfied(case.shape, case.assignment), "{}", case.name);
    }
}

#[test]
fn wrong_public_input_is_unsatisfied() {
    let (shape, w) = epoch::<H>(9, 2, 8);
    assert!(satisfied(shape, honest(&w, 0)), "control");
    let mut a = honest(&w, 0);
    a.public_input += Fp::from(1u64);
    assert_instance_mismatch(shape, a);
}

catalogue::attacks!(tests, assert_attack, H);

/// Beside [`catalogue::negative_balance_wrapped_around_the_field`]: the raw
/// 256-bit lane `p − 5 + 2^63` is, in this field, the honest lane `2^63 − 5` (it
/// differs from it only as a 256-bit integer): the same leaf, the same balance −5,
/// accepted. (The Groth16 circuit takes a raw
/// lane's low 64 bits, so no test there gives it this value.)
#[test]
fn a_raw_lane_congruent_to_an_honest_one_is_that_lane() {
    let (shape, w) = single::<H>();
    let mut a = honest(&w, 0);
    let slot: &mut SlotAssignment = &mut a.slots[2];
    slot.balance_lane = minus::<H>(5) + lane_of(0);
    restamp_with::<H>(&mut a, Outputs::Derived);
    assert_eq!(fp_u256(a.slots[2].balance_lane), fp_u256(lane_of(-5)));
    assert_fails(shape, a, &[]);
}

fn fp_u256(v: U256) -> Fp {
    H::from_u256(v)
}
