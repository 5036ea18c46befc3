//! The performance report: what `backstop-benches report` measures, in which order,
//! and how it is written (`docs/PERFORMANCE.md` and `docs/performance.json`, each
//! written to a temporary sibling and renamed into place).
//!
//! Peak memory is the `VmHWM` of a fresh child process (this binary, re-run with a
//! hidden `child-*` subcommand) that does only the work measured, so nothing else
//! the report holds counts. Every other figure is measured in this process.

use crate::BenchError;
use crate::groth16::{self, Dissection, KernelBound};
use crate::halo2::Halo2Run;
use crate::machine::{Clocks, Machine, clocked, load_average, median, timed, utc_now};
use crate::workload::{self, MARKETS};
use ark_bn254::Fr;
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::native::evaluate;
use backstop_circuits::r1cs::{Breakdown, breakdown, constraint_count};
use backstop_circuits::shape::AttestationShape;
use backstop_prover::attest::AttestationKeys;
use backstop_prover::groth16::{prove_epoch, write_epoch_dir};
use backstop_prover::inclusion::VenueEpoch;
use backstop_prover::keys::Groth16Keys;
use backstop_prover::output::write_file_atomically;
use backstop_verifier::artifacts::{proof_bytes, verifying_key_bytes};
use backstop_verifier::inclusion::{
    ChainedRoots, read_proof, resolve_batch_roots, verify_inclusion_chained,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub mod anvil;
mod measure;

use measure::first_batch;
pub use measure::{measure, parse_gas};

/// The JSON format tag.
pub const FORMAT: &str = "backstop-performance/1";
/// Peak memory target for one prover process, MiB (4 GiB).
pub const MEMORY_TARGET_MIB: f64 = 4096.0;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `quick` (CI smoke sizes) or `full`.
    pub mode: String,
    /// Groth16 batch sizes.
    pub batch_sizes: Vec<u64>,
    /// Proof repetitions per batch size (the median is reported).
    pub prove_reps: usize,
    /// halo2 batch sizes.
    pub halo2_batch_sizes: Vec<u64>,
    /// The batch size of the scaling runs, the inclusion proofs and the 10^6 projection.
    pub scaling_batch_size: u64,
    /// Epoch sizes whose proving is measured.
    pub scaling_proven: Vec<usize>,
    /// Further epoch sizes whose witness is measured and whose proving is
    /// extrapolated from the per-batch time.
    pub scaling_extrapolated: Vec<usize>,
    /// Accounts of the inclusion run.
    pub inclusion_accounts: usize,
    /// Inclusion proofs verified (single thread).
    pub inclusion_verified: usize,
    /// Run the on-chain gas test (`cargo test -p backstop-cli --test onchain`).
    pub gas: bool,
    /// Where `PERFORMANCE.md` and `performance.json` go.
    pub out_dir: PathBuf,
    /// The command line, as recorded in the report.
    pub command: String,
}

impl Options {
    /// The full report (about an hour on 2 cores, most of it proving the 10^5-account epoch).
    pub fn full(out_dir: PathBuf) -> Self {
        Self {
            mode: "full".into(),
            batch_sizes: vec![64, 512],
            prove_reps: 3,
            halo2_batch_sizes: vec![64, 512],
            scaling_batch_size: 512,
            scaling_proven: vec![1_000, 10_000, 100_000],
            scaling_extrapolated: Vec::new(),
            inclusion_accounts: 100_000,
            inclusion_verified: 20_000,
            gas: true,
            out_dir,
            command: "report".into(),
        }
    }

    /// Tiny sizes: checks that every measurement runs (CI smoke, under a minute).
    pub fn quick(out_dir: PathBuf) -> Self {
        Self {
            mode: "quick".into(),
            batch_sizes: vec![8],
            prove_reps: 1,
            halo2_batch_sizes: vec![8],
            scaling_batch_size: 8,
            scaling_proven: vec![8, 16],
            scaling_extrapolated: vec![1_000],
            inclusion_accounts: 1_000,
            inclusion_verified: 200,
            gas: false,
            out_dir,
            command: "report --quick".into(),
        }
    }
}

/// A shape's constraint count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShapeCount {
    /// `B`.
    pub batch_size: usize,
    /// `M`.
    pub markets: usize,
    /// Constraints.
    pub constraints: usize,
    /// Per account.
    pub per_account: f64,
}

/// A halo2 layout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Halo2Layout {
    /// `B`.
    pub batch_size: usize,
    /// Rows used.
    pub rows: usize,
    /// `k`.
    pub k: u32,
    /// Rows per account.
    pub rows_per_account: f64,
}

/// Groth16 at one batch size.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Groth16Batch {
    /// `B`.
    pub batch_size: usize,
    /// Constraints.
    pub constraints: usize,
    /// Key generation (in a child process).
    pub setup_s: f64,
    /// Its peak memory.
    pub setup_peak_rss_mib: Option<f64>,
    /// Loading the keys from disk.
    pub key_load_s: f64,
    /// `proving_key.bin` bytes.
    pub proving_key_bytes: u64,
    /// Compressed verifying key bytes.
    pub verifying_key_bytes: usize,
    /// Compressed proof bytes.
    pub proof_bytes: usize,
    /// Each proof of one batch (`prove_batch`), wall and CPU.
    pub proofs: Vec<Clocks>,
    /// Median wall time of a proof.
    pub prove_s: f64,
    /// Median CPU time of a proof.
    pub prove_cpu_s: f64,
    /// The proof dissected into its steps.
    pub dissection: Dissection,
    /// The kernels alone on random inputs.
    pub kernels: KernelBound,
    /// Median verification of one batch proof, ms.
    pub verify_ms: f64,
    /// Peak memory of a process that loads the keys and proves one batch.
    pub prove_peak_rss_mib: Option<f64>,
    /// Peak memory of a process that proves `cores` batches in parallel
    /// (`prove_epoch`, as `backstop prove` does).
    pub epoch_peak_rss_mib: Option<f64>,
}

impl Groth16Batch {
    /// `prove_s / kernels.total()`: the ratio.
    pub fn ratio_random(&self) -> f64 {
        self.prove_s / self.kernels.total()
    }
    /// The kernels with the proof's own scalars (its MSMs, the random-input FFTs).
    pub fn kernel_actual_s(&self) -> f64 {
        self.dissection.msm.total() + self.kernels.fft_total()
    }
    /// `prove_s / kernel_actual_s()`.
    pub fn ratio_actual(&self) -> f64 {
        self.prove_s / self.kernel_actual_s()
    }
    /// Accounts per second of one batch on the whole machine.
    pub fn accounts_per_s(&self) -> f64 {
        self.batch_size as f64 / self.prove_s
    }
}

/// One epoch size of the scaling runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScalingPoint {
    /// Accounts.
    pub accounts: usize,
    /// Batches `K`.
    pub batches: usize,
    /// Native evaluation (`evaluate`).
    pub native_s: f64,
    /// Witness building (`build_epoch`: commitments, evaluation, witnesses).
    pub witness_s: f64,
    /// `prove_epoch` (witness and every batch, batches in parallel), if measured.
    pub prove: Option<Clocks>,
    /// Verifying the written epoch directory (`verify_epoch_dir`), ms, if proven.
    pub verify_epoch_ms: Option<f64>,
    /// Proving time: measured, or extrapolated from the per-batch fit.
    pub prove_s: f64,
    /// Whether `prove_s` was measured.
    pub measured: bool,
}

/// The scaling runs and the 10^6 projection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scaling {
    /// `B`.
    pub batch_size: usize,
    /// The points.
    pub points: Vec<ScalingPoint>,
    /// Least-squares fit of the measured `prove_s − witness_s` against `K`: seconds per batch.
    pub per_batch_s: f64,
    /// Its intercept.
    pub intercept_s: f64,
    /// Witness building per account (largest point).
    pub witness_per_account_s: f64,
    /// `(workers, seconds)` for 10^6 accounts, each worker a machine like this one.
    pub million: Vec<(usize, f64)>,
}

/// Inclusion proofs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inclusion {
    /// Accounts (one proof each).
    pub accounts: usize,
    /// `B`.
    pub batch_size: usize,
    /// `prove_all`: every proof written as JSON, with the shared roots file.
    pub prove_s: f64,
    /// Proofs per second.
    pub proofs_per_s: f64,
    /// Mean proof file size.
    pub bytes_per_proof: f64,
    /// Proofs verified (roots chained once), one thread.
    pub verified: usize,
    /// Their verification time.
    pub verify_s: f64,
    /// Verifications per second.
    pub verifies_per_s: f64,
}

/// Margin attestations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attestation {
    /// `M`.
    pub markets: usize,
    /// Constraints.
    pub constraints: usize,
    /// Single-party setup.
    pub setup_s: f64,
    /// Proving (with the prover's own check).
    pub prove_s: f64,
    /// Verifying, ms.
    pub verify_ms: f64,
    /// Proof bytes.
    pub proof_bytes: usize,
}

/// `submitEpoch` gas for `K` batches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubmitGas {
    /// `K`.
    pub batches: u64,
    /// Liquidated ids.
    pub liquidations: u64,
    /// Transaction gas.
    pub total: u64,
    /// Without the 21,000 base and calldata.
    pub execution: u64,
}

/// The on-chain figures, from `cli/tests/onchain.rs::gas_report`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Gas {
    /// Whether the test ran in this report run.
    pub measured: bool,
    /// Why not, or the command that ran.
    pub note: String,
    /// `verifyProof` per batch: (total, execution).
    pub verify: Vec<(u64, u64)>,
    /// `verifyBatch` of `K` proofs: (K, total, execution).
    #[serde(default)]
    pub verify_batch: Vec<(u64, u64, u64)>,
    /// `submitEpoch`.
    pub submit: Vec<SubmitGas>,
    /// The deployment line as printed.
    pub deployment: String,
    /// The figures from a real node (`backstop-benches anvil-gas`), if measured.
    #[serde(default)]
    pub anvil: Option<AnvilGas>,
}

/// Gas read from anvil's receipts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AnvilGas {
    /// The command, the node's version and the shape.
    pub note: String,
    /// One row per deployment or submission.
    pub rows: Vec<AnvilRow>,
}

/// One deployment or submission on anvil.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AnvilRow {
    /// What was sent.
    pub what: String,
    /// `K` (0 for the deployment).
    pub batches: u64,
    /// Liquidated ids.
    pub liquidations: u64,
    /// Transactions.
    pub transactions: u64,
    /// The receipts' `gasUsed`, summed.
    pub gas_used: u64,
    /// Of calls: `gasUsed` − 21,000 − the calldata cost (EIP-2028), summed.
    pub execution: u64,
    /// Calldata bytes, summed.
    pub calldata_bytes: u64,
    /// The largest single transaction's `gasUsed`.
    pub max_transaction: u64,
}

/// A target of the issue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target {
    /// What.
    pub name: String,
    /// The target as stated.
    pub target: String,
    /// The measured figure.
    pub measured: String,
    /// Met?
    pub met: Option<bool>,
    /// By how much, and what would close a miss.
    pub note: String,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// [`FORMAT`].
    pub format: String,
    /// `full` or `quick`.
    pub mode: String,
    /// The arguments the report ran with.
    pub command: String,
    /// Where.
    pub machine: Machine,
    /// The run's wall time.
    pub duration_s: f64,
    /// The breakdown at the largest batch size.
    pub breakdown: Breakdown,
    /// The breakdown of the risk model v2 shape of the targets (`B = 512`, `M = 8`,
    /// 4 brackets per market, 4 assets); absent from reports made before it.
    #[serde(default)]
    pub risk_v2: Option<Breakdown>,
    /// The breakdown of the waterfall shape of issue 18's target (`B = 512`,
    /// `M = 8`, risk model v1 with the waterfall, `docs/SPEC.md` §8.3); absent from
    /// reports made before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waterfall: Option<Breakdown>,
    /// Groth16 on that shape, one batch (`backstop-benches risk-v2 --record`);
    /// absent until recorded.
    #[serde(default)]
    pub risk_v2_proving: Option<crate::risk_v2::RiskV2Run>,
    /// Groth16 on that shape, a whole epoch through `prove_epoch` and
    /// `verify_groth16` (`backstop-benches risk-v2 --accounts N --record`); absent
    /// until recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_v2_epoch: Option<crate::risk_v2::RiskV2Epoch>,
    /// halo2 on that shape, one batch (`backstop-benches risk-v2 --halo2
    /// --record`); absent until recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_v2_halo2: Option<crate::risk_v2::RiskV2Halo2>,
    /// Groth16 on that shape with the waterfall (`.W`), one batch
    /// (`backstop-benches risk-v2 --waterfall --record`); absent until recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waterfall_proving: Option<crate::risk_v2::RiskV2Run>,
    /// halo2 on that shape with the waterfall, one batch (`backstop-benches
    /// risk-v2 --waterfall --halo2 --record`); absent until recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waterfall_halo2: Option<crate::risk_v2::RiskV2Halo2>,
    /// Totals per shape.
    pub totals: Vec<ShapeCount>,
    /// halo2 layouts.
    pub halo2_layouts: Vec<Halo2Layout>,
    /// Groth16 per batch size.
    pub groth16: Vec<Groth16Batch>,
    /// halo2 per batch size (or the error that stopped it).
    pub halo2: Vec<Result<Halo2Run, String>>,
    /// Scaling.
    pub scaling: Scaling,
    /// Inclusion proofs.
    pub inclusion: Inclusion,
    /// Attestations.
    pub attestation: Attestation,
    /// Gas.
    pub gas: Gas,
    /// The recommended batch size.
    pub recommended_batch_size: usize,
    /// The targets.
    pub targets: Vec<Target>,
    /// What was re-measured after the run (`gas`, `constraints`), newest last.
    #[serde(default)]
    pub notes: Vec<String>,
}

fn say(msg: &str) {
    eprintln!("[{}] [load {}] {msg}", utc_now(), load_average());
}

/// Runs this binary with a hidden `child-*` subcommand and parses the JSON line it
/// prints last.
pub fn run_child<T: DeserializeOwned>(args: &[String]) -> Result<T, BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError::io("current executable", e))?;
    let command = format!("{} {}", exe.display(), args.join(" "));
    let out = Command::new(&exe)
        .args(args)
        .output()
        .map_err(|e| BenchError::io(&exe, e))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(BenchError::Child {
            command,
            reason: format!("{}: {tail}", out.status),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| BenchError::Child {
        command,
        reason: format!("unreadable output {line:?}: {e}"),
    })
}

/// What `child-setup` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SetupChild {
    /// Seconds.
    pub setup_s: f64,
    /// Peak memory, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// What `child-prove` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProveChild {
    /// Batches proven.
    pub batches: usize,
    /// Seconds of `prove_epoch`.
    pub prove_s: f64,
    /// Peak memory, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// `child-setup`: makes the keys of `B` into `dir`.
pub fn child_setup(batch_size: u64, dir: &Path) -> Result<SetupChild, BenchError> {
    let shape = workload::shape(batch_size)?;
    let (keys, setup_s) = timed(|| Groth16Keys::setup(shape).map_err(BenchError::from));
    let keys = keys?;
    keys.save(dir, constraint_count(shape)?)?;
    Ok(SetupChild {
        setup_s,
        peak_rss_mib: crate::machine::peak_rss_mib(),
    })
}

/// `child-prove`: loads the keys of `B` from `dir` and proves a `calm` book of
/// `accounts` with `prove_epoch`.
pub fn child_prove(batch_size: u64, dir: &Path, accounts: usize) -> Result<ProveChild, BenchError> {
    let shape = workload::shape(batch_size)?;
    let keys = Groth16Keys::load(dir, shape)?;
    let snapshot = workload::snapshot(accounts)?;
    let (proof, prove_s) = timed(|| {
        prove_epoch(&snapshot, &workload::secret(), &keys, &|_| {}).map_err(BenchError::from)
    });
    let proof = proof?;
    Ok(ProveChild {
        batches: proof.proofs.len(),
        prove_s,
        peak_rss_mib: crate::machine::peak_rss_mib(),
    })
}

/// What `dissect` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DissectOutput {
    /// `B`.
    pub batch_size: u64,
    /// `prove_batch`, wall and CPU.
    pub prove: Clocks,
    /// The proof step by step.
    pub dissection: Dissection,
    /// The kernels on random inputs.
    pub kernels: KernelBound,
    /// The machine's load when done.
    pub load: String,
}

/// Setup, one proof, its dissection and the kernel bound at one batch size.
pub fn dissect(batch_size: u64) -> Result<DissectOutput, BenchError> {
    let shape = workload::shape(batch_size)?;
    say(&format!("B = {batch_size}: setup"));
    let keys = Groth16Keys::setup(shape)?;
    let snapshot = workload::snapshot(batch_size as usize)?;
    let epoch = workload::epoch_bn254(&snapshot, shape);
    let witness = first_batch(&epoch)?;
    say("prove");
    let (proof, prove) = clocked(|| groth16::prove(&keys, &witness));
    proof?;
    say("dissect");
    let dissection = groth16::dissect(&keys, &witness)?;
    say("kernels");
    let kernels = groth16::kernel_bound(keys.proving_key(), dissection.sizes)?;
    Ok(DissectOutput {
        batch_size,
        prove,
        dissection,
        kernels,
        load: load_average(),
    })
}

/// Measures and writes `PERFORMANCE.md` and `performance.json` into `opts.out_dir`.
pub fn run(opts: &Options) -> Result<Report, BenchError> {
    let report = measure(opts)?;
    let json = serde_json::to_vec_pretty(&report).map_err(|e| BenchError::Other(e.to_string()))?;
    write_file_atomically(&opts.out_dir.join("performance.json"), &json)?;
    write_file_atomically(
        &opts.out_dir.join("PERFORMANCE.md"),
        crate::render::markdown(&report).as_bytes(),
    )?;
    say(&format!(
        "wrote {} and {}",
        opts.out_dir.join("PERFORMANCE.md").display(),
        opts.out_dir.join("performance.json").display()
    ));
    Ok(report)
}

/// Re-renders `PERFORMANCE.md` (and rewrites `performance.json` with re-checked
/// targets) from a `performance.json` already measured.
pub fn rerender(json: &Path, out_dir: &Path) -> Result<(), BenchError> {
    rewrite(json, out_dir, |_| {})
}

/// Re-measures only the on-chain gas (the ignored `gas_report` test, deterministic on
/// any machine) into the report of `json`, then rewrites both files like
/// [`rerender`]: for a contract change without rerunning the whole report.
pub fn regas(json: &Path, out_dir: &Path) -> Result<(), BenchError> {
    let gas = measure::measure_gas();
    if !gas.measured {
        return Err(BenchError::Other(gas.note));
    }
    rewrite(json, out_dir, |report| {
        let anvil = report.gas.anvil.take();
        report.gas = gas;
        report.gas.anvil = anvil;
        let note = "On-chain gas re-measured after the run (`backstop-benches gas`).";
        if !report.notes.iter().any(|n| n == note) {
            report.notes.push(note.to_owned());
        }
    })
}

/// Measures the gas of real transactions on anvil (deployment, `submitEpoch` for
/// epochs of `ks` batches, the largest again in chunks of `chunk`) into the report of
/// `json` ([`anvil::measure`]).
pub fn reanvil(json: &Path, out_dir: &Path, ks: &[u64], chunk: usize) -> Result<(), BenchError> {
    let measured = anvil::measure(ks, chunk)?;
    // docs/ONCHAIN.md shows the same table between its markers.
    let onchain = out_dir.join("ONCHAIN.md");
    if let Ok(text) = std::fs::read_to_string(&onchain) {
        const BEGIN: &str = "<!-- anvil-gas:begin (backstop-benches anvil-gas) -->\n";
        const END: &str = "<!-- anvil-gas:end -->";
        if let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) {
            let table = crate::render::anvil_markdown(&measured);
            let updated = format!("{}{BEGIN}{table}{}", &text[..a], &text[b..]);
            write_file_atomically(&onchain, updated.as_bytes())?;
        }
    }
    rewrite(json, out_dir, |report| {
        report.gas.anvil = Some(measured);
        let note = "Gas on a real node re-measured after the run (`backstop-benches anvil-gas`).";
        if !report.notes.iter().any(|n| n == note) {
            report.notes.push(note.to_owned());
        }
    })
}

/// Re-counts only the constraints (deterministic: synthesis in setup mode) into the
/// report of `json`: the breakdown, every total and each Groth16 row's count, for a
/// circuit change without rerunning the whole report. The timings stay as measured;
/// the rendered report says so when a count changed.
pub fn recount(json: &Path, out_dir: &Path) -> Result<(), BenchError> {
    let bytes = std::fs::read(json).map_err(|e| BenchError::io(json, e))?;
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| BenchError::Other(format!("{}: {e}", json.display())))?;
    let shape = |b: usize, m: usize| {
        backstop_circuits::shape::CircuitShape::new(b as u64, m).map_err(BenchError::from)
    };
    let fresh = breakdown(shape(
        report.breakdown.batch_size,
        report.breakdown.markets,
    )?)?;
    let risk_v2 = Some(breakdown(risk_v2_shape()?)?);
    let waterfall = Some(breakdown(waterfall_shape()?)?);
    let mut totals = report.totals.clone();
    for t in &mut totals {
        t.constraints = constraint_count(shape(t.batch_size, t.markets)?)?;
        t.per_account = t.constraints as f64 / t.batch_size as f64;
    }
    let mut groth16 = report.groth16.clone();
    let mut moved = Vec::new();
    for g in &mut groth16 {
        let n = constraint_count(shape(g.batch_size, MARKETS)?)?;
        if n != g.constraints {
            moved.push(format!("B = {}: {} → {n}", g.batch_size, g.constraints));
        }
        g.constraints = n;
    }
    rewrite(json, out_dir, |r| {
        r.breakdown = fresh;
        r.risk_v2 = risk_v2;
        r.waterfall = waterfall;
        r.totals = totals;
        r.groth16 = groth16;
        if !moved.is_empty() {
            r.notes.push(format!(
                "Constraint counts re-counted after a circuit change ({}); the timings \
                 were measured on the earlier circuit.",
                moved.join(", ")
            ));
        }
    })
}

/// Measures halo2 on risk model v2 at `batch_size`, one batch
/// ([`crate::risk_v2::run_halo2`]), and records it into the report of `json`.
pub fn record_risk_v2_halo2(
    json: &Path,
    out_dir: &Path,
    batch_size: u64,
    waterfall: bool,
) -> Result<(), BenchError> {
    let run = crate::risk_v2::run_halo2(batch_size, waterfall)?;
    rewrite(json, out_dir, |report| {
        let note = if waterfall {
            report.waterfall_halo2 = Some(run);
            "halo2 with the waterfall measured after the run \
             (`backstop-benches risk-v2 --waterfall --halo2 --record`)."
        } else {
            report.risk_v2_halo2 = Some(run);
            "halo2 on risk model v2 measured after the run \
             (`backstop-benches risk-v2 --halo2 --record`)."
        };
        if !report.notes.iter().any(|n| n == note) {
            report.notes.push(note.to_owned());
        }
    })
}

/// Measures Groth16 on risk model v2 at `batch_size`, one batch
/// ([`crate::risk_v2::run`]) or, with `accounts`, a whole epoch
/// ([`crate::risk_v2::epoch`]), and records it into the report of `json` (machine
/// figures: the run's load is kept).
pub fn record_risk_v2(
    json: &Path,
    out_dir: &Path,
    batch_size: u64,
    accounts: Option<usize>,
    waterfall: bool,
) -> Result<(), BenchError> {
    let (batch, epoch) = match accounts {
        None => (Some(crate::risk_v2::run(batch_size, waterfall)?), None),
        Some(n) => (None, Some(crate::risk_v2::epoch(batch_size, n)?)),
    };
    rewrite(json, out_dir, |report| {
        let note = if let (true, Some(run)) = (waterfall, &batch) {
            report.waterfall_proving = Some(run.clone());
            "Groth16 with the waterfall measured after the run \
             (`backstop-benches risk-v2 --waterfall --record`)."
        } else if let Some(run) = batch {
            report.risk_v2_proving = Some(run);
            "Groth16 on risk model v2 measured after the run \
             (`backstop-benches risk-v2 --record`)."
        } else {
            report.risk_v2_epoch = epoch;
            "A whole risk model v2 epoch measured after the run \
             (`backstop-benches risk-v2 --accounts N --record`)."
        };
        if !report.notes.iter().any(|n| n == note) {
            report.notes.push(note.to_owned());
        }
    })
}

/// The risk model v2 shape of issue 17's targets: `B = 512`, `M = 8`, 4 brackets
/// per market, 4 collateral assets.
pub(crate) fn risk_v2_shape() -> Result<backstop_circuits::shape::CircuitShape, BenchError> {
    backstop_circuits::shape::CircuitShape::with_risk(512, MARKETS, 4, 4).map_err(BenchError::from)
}

/// The waterfall shape of issue 18's target: `B = 512`, `M = 8`, flat rates, no
/// assets, the waterfall.
pub(crate) fn waterfall_shape() -> Result<backstop_circuits::shape::CircuitShape, BenchError> {
    (backstop_circuits::shape::CircuitShape::new(512, MARKETS))
        .map(|s| s.with_waterfall(true))
        .map_err(BenchError::from)
}

fn rewrite(
    json: &Path,
    out_dir: &Path,
    change: impl FnOnce(&mut Report),
) -> Result<(), BenchError> {
    let bytes = std::fs::read(json).map_err(|e| BenchError::io(json, e))?;
    let mut report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| BenchError::Other(format!("{}: {e}", json.display())))?;
    change(&mut report);
    report.recommended_batch_size = crate::render::recommend(&report);
    report.targets = crate::render::targets(&report);
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| BenchError::Other(e.to_string()))?;
    write_file_atomically(&out_dir.join("performance.json"), &bytes)?;
    write_file_atomically(
        &out_dir.join("PERFORMANCE.md"),
        crate::render::markdown(&report).as_bytes(),
    )?;
    Ok(())
}
