//! Differential test of both proof systems against the native engine: every committed
//! fixture and one hand-computed book are proven with Groth16 (`B = 8`) and halo2
//! (`B = 64`), and a few generated books with Groth16, all with the library, written
//! as epoch directories and verified. The risk model v2 fixtures (`tiers`,
//! `collateral`, `asset-insolvent`) are proven with both backends too, each with
//! keys of the fixture's own shape.
//!
//! What each comparison establishes:
//!
//! - `hand_computed_book`: the outputs both backends publish equal outputs worked
//!   out by hand from SPEC §2–§3 (independent of the engine).
//! - `committed_*`: the published outputs equal the fixture's `expected.json`. That
//!   file was written by the native engine itself (`fixtures/examples/regenerate`),
//!   so this is a **regression** check (the engine, and both backends, still give
//!   what the engine gave when the fixture was committed), not evidence that the
//!   engine is right.
//! - Public inputs: the ones the verifier computes from `statement.json` alone
//!   equal the ones the prover's witnesses carry. Both sides are the same native
//!   encoders (`native::commit`), so that equality is a **round trip** through the
//!   published file (serialization, parsing, nothing lost). The independent side is
//!   the batch circuit: synthesized from each batch's private witness, it recomputes
//!   `x_b` in-circuit (R1CS Poseidon gadgets, not the native hash) and must be
//!   satisfied with the statement's `x_b` and unsatisfied with any other; and each
//!   proof must verify against the statement's `x_b`.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::model::{EpochParams, Snapshot};
use backstop_circuits::native::evaluate;
use backstop_circuits::r1cs::BatchCircuit;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::snapshot;
use backstop_circuits::statement::{Backend, PublicOutputs};
use backstop_circuits::witness::{BatchWitness, build_epoch};
use backstop_fixtures::{EXPECTED_FILE, FixtureSpec, SNAPSHOT_DIR, Scenario, data_dir, generate};
use backstop_prover::groth16::{prove_epoch, write_epoch_dir};
use backstop_prover::halo2::Halo2Keys;
use backstop_prover::keys::Groth16Keys;
use backstop_verifier::artifacts::{GROTH16_PROOF_BYTES, proof_path};
use backstop_verifier::{read_statement, verify_epoch_dir};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

const BATCH_SIZE: u64 = 8;
/// The largest market count of the books below (the `extremes` fixture has 8).
const MAX_MARKETS: usize = 8;

fn secret() -> VenueSecret {
    VenueSecret::from_hex("5ca1ab1e0ddba11dec0de5eedfacade0123456789abcdef0fedcba9876543210")
        .unwrap()
}

/// One key pair per market count, made on first use and shared by the tests.
fn keys(markets: usize) -> &'static Groth16Keys {
    static KEYS: [OnceLock<Groth16Keys>; MAX_MARKETS + 1] = [const { OnceLock::new() }; 9];
    assert!(
        (1..=MAX_MARKETS).contains(&markets),
        "{markets} markets: extend MAX_MARKETS"
    );
    KEYS[markets].get_or_init(|| {
        let started = Instant::now();
        let keys = Groth16Keys::setup(CircuitShape::new(BATCH_SIZE, markets).unwrap()).unwrap();
        eprintln!(
            "setup of {} took {:.1} s",
            keys.shape().id(),
            started.elapsed().as_secs_f64()
        );
        keys
    })
}

/// Keys for a risk model v2 shape (brackets or collateral assets), made on first use
/// and shared by the tests.
fn v2_keys(shape: CircuitShape) -> &'static Groth16Keys {
    static KEYS: std::sync::Mutex<Vec<&'static Groth16Keys>> = std::sync::Mutex::new(Vec::new());
    let mut made = KEYS.lock().unwrap();
    if let Some(keys) = made.iter().find(|k| k.shape() == shape) {
        return keys;
    }
    let started = Instant::now();
    let keys: &'static Groth16Keys = Box::leak(Box::new(Groth16Keys::setup(shape).unwrap()));
    eprintln!(
        "setup of {} took {:.1} s",
        shape.id(),
        started.elapsed().as_secs_f64()
    );
    made.push(keys);
    keys
}

/// Synthesizes the batch circuit from `witness` with `x` as its public input in
/// place of the witness's own, and reports whether every constraint holds: the
/// circuit recomputes `x_b` from the private witness.
fn circuit_accepts(shape: CircuitShape, witness: &BatchWitness<Fr>, xs: &[Vec<Fr>]) -> Vec<bool> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    // No cached values of linear combinations: each is evaluated from the
    // variables' assignments when checked, so the replaced inputs are what counts.
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    BatchCircuit::new(shape, witness)
        .unwrap()
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    xs.iter()
        .map(|x| {
            {
                let mut inner = cs.borrow_mut().unwrap();
                let instance = &mut inner.assignments.instance_assignment;
                assert_eq!(instance.len(), 1 + x.len(), "ONE and the open inputs");
                instance[1..].copy_from_slice(x);
            }
            cs.is_satisfied().unwrap()
        })
        .collect()
}

/// Proves `snapshot` at `B = 8`, writes and verifies the epoch directory, and checks
/// the published outputs against the native engine and `expected`, if given (hand
/// computed, or a golden regression file).
fn prove_and_check(label: &str, snapshot: &Snapshot, expected: Option<&PublicOutputs>) {
    let markets = snapshot.params().markets().len();
    let shape = CircuitShape::for_params(BATCH_SIZE, snapshot.params()).unwrap();
    let keys = if shape.is_risk_model_v2() || shape.has_waterfall() {
        v2_keys(shape)
    } else {
        keys(markets)
    };
    let secret = secret();
    let started = Instant::now();
    let proof = prove_epoch(snapshot, &secret, keys, &|_| {})
        .unwrap_or_else(|e| panic!("{label}: proving failed: {e}"));
    let prove_seconds = started.elapsed().as_secs_f64();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    write_epoch_dir(&dir, &proof, keys).unwrap();

    let native = PublicOutputs::from_evaluation(snapshot.params(), &evaluate(snapshot));
    let statement = read_statement(&dir).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(statement.outputs(), native, "{label}: statement vs native");
    if let Some(expected) = expected {
        assert_eq!(
            &statement.outputs(),
            expected,
            "{label}: statement vs expected"
        );
    }
    assert_eq!(
        statement.file(),
        &proof.statement,
        "{label}: written statement"
    );

    // The published parameters are the snapshot's, exactly.
    assert_eq!(statement.params(), snapshot.params(), "{label}: parameters");
    assert_eq!(statement.shape(), keys.shape(), "{label}: shape");
    assert_eq!(statement.file().backend, Backend::Groth16Bn254);
    assert_eq!(
        statement.file().verifying_key_hash,
        keys.verifying_key_hash(),
        "{label}"
    );
    let n = snapshot.accounts().len() as u64;
    let k = n.div_ceil(BATCH_SIZE);
    assert_eq!(statement.file().batch_count, k, "{label}: K");
    assert_eq!(
        statement.file().state_commitments.len() as u64,
        k,
        "{label}"
    );
    let ids: Vec<u64> = statement.liquidations().iter().map(|id| id.get()).collect();
    let native_ids: Vec<u64> = evaluate(snapshot)
        .liquidations
        .iter()
        .map(|id| id.get())
        .collect();
    assert_eq!(ids, native_ids, "{label}: liquidation set");

    // Round trip: the verifier's public inputs (from statement.json alone) are the
    // ones the prover's witnesses carry (the same native encoders on both sides),
    // and the commitments are the native ones.
    let witness = build_epoch::<Bn254Poseidon>(snapshot, &secret, keys.shape().batch_size());
    let inputs = statement.public_inputs::<Bn254Poseidon>().unwrap();
    let expected_inputs: Vec<_> = witness
        .batches
        .iter()
        .map(|w| w.open_inputs::<Bn254Poseidon>())
        .collect();
    assert_eq!(inputs, expected_inputs, "{label}: public inputs");
    // Independent: the batch circuit, synthesized from each batch's private witness,
    // accepts the statement's inputs, and refuses them with either end of the chain
    // moved (`C_{b−1}`, `C_b`: the inputs every batch reads whatever its accounts;
    // which block reads each of the others is tested input by input in
    // `backstop_circuits::r1cs::names`).
    for (b, (w, x)) in witness.batches.iter().zip(&inputs).enumerate() {
        let n = x.len();
        let mut candidates = vec![x.clone()];
        for i in [n - 2, n - 1] {
            let mut other = x.clone();
            other[i] += Fr::from(1u64);
            candidates.push(other);
        }
        let accepted = circuit_accepts(keys.shape(), w, &candidates);
        assert_eq!(
            accepted,
            [true, false, false],
            "{label}: batch {b}: the statement's inputs, C_(b-1) + 1, C_b + 1"
        );
    }
    assert_eq!(
        statement.file().accounts_commitment,
        Bn254Poseidon::to_hex(&witness.commitment.accounts_commitment),
        "{label}: accounts commitment"
    );
    let states: Vec<String> = witness.commitment.state_commitments[1..]
        .iter()
        .map(Bn254Poseidon::to_hex)
        .collect();
    assert_eq!(statement.file().state_commitments, states, "{label}");

    for b in 0..k {
        let bytes = std::fs::read(proof_path(&dir, b)).unwrap();
        assert_eq!(bytes.len(), GROTH16_PROOF_BYTES, "{label}: batch {b}");
    }
    let trusted = verify_epoch_dir(&dir, Some(&keys.proving_key().vk))
        .unwrap_or_else(|e| panic!("{label}: verification with the trusted key failed: {e}"));
    assert!(trusted.trusted_key);
    assert_eq!(trusted.statement.outputs(), native, "{label}");
    let own = verify_epoch_dir(&dir, None)
        .unwrap_or_else(|e| panic!("{label}: verification with the directory's key failed: {e}"));
    assert!(!own.trusted_key);
    eprintln!(
        "{label}: {n} accounts, {} markets, {k} batches proven in {prove_seconds:.1} s",
        markets
    );
}

/// Where the halo2 tests cache IPA parameters (shared by the tests of this binary).
fn halo2_params_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// One set of halo2 keys per shape, at `B = 64` (the fixtures hold at most 64
/// accounts: one batch each; `k = 11` for risk model v1).
fn halo2_keys(params: &EpochParams) -> &'static Halo2Keys {
    static KEYS: std::sync::Mutex<Vec<&'static Halo2Keys>> = std::sync::Mutex::new(Vec::new());
    let shape = CircuitShape::for_params(HALO2_BATCH_SIZE, params).unwrap();
    let mut made = KEYS.lock().unwrap();
    if let Some(keys) = made.iter().find(|k| k.shape() == shape) {
        return keys;
    }
    let keys: &'static Halo2Keys = Box::leak(Box::new(
        Halo2Keys::load(halo2_params_dir(), shape).unwrap(),
    ));
    made.push(keys);
    keys
}

const HALO2_BATCH_SIZE: u64 = 64;

/// Proves `snapshot` with halo2, verifies the epoch directory, and returns its
/// statement's outputs after checking its public inputs against the witnesses.
fn prove_halo2(label: &str, snapshot: &Snapshot) -> PublicOutputs {
    let keys = halo2_keys(snapshot.params());
    let started = Instant::now();
    let proof = backstop_prover::halo2::prove_epoch(snapshot, &secret(), keys, &|_| {})
        .unwrap_or_else(|e| panic!("{label}: halo2 proving failed: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    backstop_prover::halo2::write_epoch_dir(&dir, &proof).unwrap();
    let verified = backstop_verifier::halo2::verify_epoch_dir(&dir, halo2_params_dir())
        .unwrap_or_else(|e| panic!("{label}: halo2 verification failed: {e}"));
    let statement = verified.statement;
    assert_eq!(statement.file().backend, Backend::Halo2Pasta, "{label}");
    assert_eq!(statement.params(), snapshot.params(), "{label}: parameters");
    let witness = build_epoch::<PastaPoseidon>(snapshot, &secret(), keys.shape().batch_size());
    let expected_inputs: Vec<_> = witness
        .batches
        .iter()
        .map(|w| vec![w.public_input()])
        .collect();
    assert_eq!(
        statement.public_inputs::<PastaPoseidon>().unwrap(),
        expected_inputs,
        "{label}: halo2 public inputs"
    );
    assert_eq!(
        statement.file().accounts_commitment,
        PastaPoseidon::to_hex(&witness.commitment.accounts_commitment),
        "{label}: halo2 accounts commitment"
    );
    eprintln!(
        "{label}: halo2, {} batches proven in {seconds:.1} s",
        statement.file().batch_count
    );
    statement.outputs()
}

/// Native engine, Groth16 (`B = 8`) and halo2 (`B = 64`) publish the outputs of the
/// fixture's `expected.json`: a regression record the native engine wrote when the
/// fixture was committed (not an independent computation; see the module docs).
fn committed(scenario: Scenario) {
    let dir = data_dir().join(scenario.name());
    let snapshot = snapshot::load(&dir.join(SNAPSHOT_DIR)).unwrap();
    let golden: PublicOutputs =
        serde_json::from_slice(&std::fs::read(dir.join(EXPECTED_FILE)).unwrap()).unwrap();
    prove_and_check(scenario.name(), &snapshot, Some(&golden));
    let halo2 = prove_halo2(scenario.name(), &snapshot);
    assert_eq!(
        halo2,
        golden,
        "{}: halo2 vs golden and Groth16",
        scenario.name()
    );
}

/// Risk model v2: native = Groth16 = halo2 = golden.
#[test]
fn committed_tiers() {
    committed(Scenario::Tiers);
}

#[test]
fn committed_collateral() {
    committed(Scenario::Collateral);
}

#[test]
fn committed_asset_insolvent() {
    committed(Scenario::AssetInsolvent);
}

/// The waterfall fixtures (`docs/SPEC.md` §2.4): native = Groth16 = halo2 =
/// golden, the waterfall included.
fn committed_waterfall(scenario: Scenario) {
    let dir = data_dir().join(scenario.name());
    let golden: PublicOutputs =
        serde_json::from_slice(&std::fs::read(dir.join(EXPECTED_FILE)).unwrap()).unwrap();
    assert!(
        golden.haircut_ppb.is_some(),
        "{scenario}: waterfall in the golden"
    );
    committed(scenario);
}

#[test]
fn committed_waterfall_covered() {
    committed_waterfall(Scenario::WaterfallCovered);
}

#[test]
fn committed_waterfall_socialized() {
    committed_waterfall(Scenario::WaterfallSocialized);
}

#[test]
fn committed_waterfall_shortfall() {
    committed_waterfall(Scenario::WaterfallShortfall);
}

#[test]
fn committed_waterfall_boundary() {
    committed_waterfall(Scenario::WaterfallBoundary);
}

#[test]
fn committed_calm() {
    committed(Scenario::Calm);
}

#[test]
fn committed_flash_crash() {
    committed(Scenario::FlashCrash);
}

#[test]
fn committed_squeeze() {
    committed(Scenario::Squeeze);
}

#[test]
fn committed_insolvent() {
    committed(Scenario::Insolvent);
}

#[test]
fn committed_boundary() {
    committed(Scenario::Boundary);
}

/// Eight markets, every bound value: epoch `2^64 − 1`, ids 0 and `2^64 − 1`,
/// balances and sizes `±(2^63 − 1)`, prices 0 and `2^64 − 1`, `E = 36`.
#[test]
fn committed_extremes() {
    committed(Scenario::Extremes);
}

/// A six-account, two-market book written by hand (rows out of id order), the
/// same as `circuits/tests/native_engine.rs`'s, whose outputs were worked out by
/// hand from SPEC §2–§3 (`E = 10`, in quote units):
///
/// | id | balance | positions | TV | MR | liquidatable | bad debt |
/// | --- | --- | --- | --- | --- | --- | --- |
/// | 5 | −0.000001 | — | −0.000001 | 0 | yes | 0.000001 |
/// | 10 | −61000.5 | 1 BTC | −1000.5 | 300 | yes | 1000.5 |
/// | 20 | 500 | 0.5 BTC, −10 ETH | 500 | 450 | no | 0 |
/// | 30 | 1000 | 1 BTC | 61000 | 300 | no | 0 |
/// | 40 | 60299.999999 | −1 BTC | 299.999999 | 300 | yes | 0 |
/// | 50 | 0 | — | 0 | 0 | no | 0 |
///
/// `L = 61799.999999` = reserves (solvent at equality); `D = 1000.500001`, one
/// minimal unit above the insurance fund (not covered).
#[test]
fn hand_computed_book() {
    let epoch_toml = r#"epoch = 12
quote_decimals = 6
reserves = "61799.999999"
insurance_fund = "1000.5"

[[markets]]
symbol = "BTC"
price = "60000"
price_decimals = 2
size_decimals = 8
maintenance_margin_bps = 50

[[markets]]
symbol = "ETH"
price = "3000.00"
price_decimals = 2
size_decimals = 6
maintenance_margin_bps = 100
"#;
    let accounts = "account_id,quote_balance\n30,1000\n10,-61000.5\n20,500\n40,60299.999999\n50,0\n5,-0.000001\n";
    let positions =
        "account_id,market,size\n40,BTC,-1\n20,ETH,-10\n10,BTC,1\n30,BTC,1\n20,BTC,0.5\n";
    let snapshot = snapshot::parse_dir_contents(
        epoch_toml.as_bytes(),
        accounts.as_bytes(),
        Some(positions.as_bytes()),
    )
    .unwrap();
    let by_hand: PublicOutputs = serde_json::from_str(
        r#"{"epoch": "12", "liquidations": ["5", "10", "40"], "bad_debt": "1000.500001",
            "solvent": true, "insurance_covered": false}"#,
    )
    .unwrap();
    prove_and_check("hand-computed book", &snapshot, Some(&by_hand));
    assert_eq!(
        prove_halo2("hand-computed book", &snapshot),
        by_hand,
        "halo2 vs hand-computed"
    );
}

#[test]
fn every_committed_fixture_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut covered: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
    covered.sort();
    assert_eq!(names, covered, "a committed fixture without a test above");
}

fn generated(scenario: Scenario, accounts: usize, seed: u64) {
    let spec = FixtureSpec {
        scenario,
        accounts,
        markets: 2,
        seed,
    };
    let snapshot = generate(&spec).unwrap();
    assert_eq!(snapshot.accounts().len(), accounts);
    prove_and_check(
        &format!("generated {scenario} ({accounts} accounts, seed {seed})"),
        &snapshot,
        None,
    );
}

/// 21 accounts: two full batches and a last one with three padding slots.
#[test]
fn generated_flash_crash() {
    generated(Scenario::FlashCrash, 21, 20_260_117);
}

/// 24 accounts: three full batches, no padding.
#[test]
fn generated_insolvent() {
    generated(Scenario::Insolvent, 24, 7_919);
}

/// Exact-boundary accounts (`10000·TV == MR'`, `TV = ±1`, solvency at equality).
#[test]
fn generated_boundary() {
    generated(Scenario::Boundary, 23, 424_242);
}

/// One account: `K = 1`, the first batch is also the last, seven padding slots.
#[test]
fn generated_single_account() {
    generated(Scenario::Squeeze, 1, 99);
}
