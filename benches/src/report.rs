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
use backstop_circuits::r1cs::attestation::AttestationShape;
use backstop_circuits::r1cs::{Breakdown, breakdown, constraint_count};
use backstop_prover::attest::AttestationKeys;
use backstop_prover::groth16::{prove_epoch, write_epoch_dir};
use backstop_prover::inclusion::VenueEpoch;
use backstop_prover::keys::Groth16Keys;
use backstop_verifier::artifacts::{proof_bytes, verifying_key_bytes};
use backstop_verifier::inclusion::{
    ChainedRoots, read_proof, resolve_batch_roots, verify_inclusion_chained,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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
    /// `submitEpoch`.
    pub submit: Vec<SubmitGas>,
    /// The deployment line as printed.
    pub deployment: String,
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

fn first_batch<F: Clone>(
    epoch: &backstop_circuits::witness::EpochWitness<impl FieldHasher<F = F>>,
) -> Result<backstop_circuits::witness::BatchWitness<F>, BenchError> {
    epoch
        .batches
        .first()
        .cloned()
        .ok_or_else(|| BenchError::Other("an epoch without batches".into()))
}

fn measure_groth16(
    opts: &Options,
    batch_size: u64,
    keys_dir: &Path,
    cores: usize,
) -> Result<(Groth16Batch, Groth16Keys), BenchError> {
    let shape = workload::shape(batch_size)?;
    let b = batch_size as usize;
    say(&format!("Groth16 B = {b}: setup (child process)"));
    let dir = keys_dir.join(format!("groth16-b{b}"));
    let dir_arg = dir.display().to_string();
    let setup: SetupChild = run_child(&[
        "child-setup".into(),
        "--batch-size".into(),
        batch_size.to_string(),
        "--keys".into(),
        dir_arg.clone(),
    ])?;
    let (keys, key_load_s) = timed(|| Groth16Keys::load(&dir, shape).map_err(BenchError::from));
    let keys = keys?;
    let pk_path = dir.join(backstop_prover::keys::PROVING_KEY_FILE);
    let proving_key_bytes = std::fs::metadata(&pk_path)
        .map_err(|e| BenchError::io(&pk_path, e))?
        .len();
    let snapshot = workload::snapshot(b)?;
    let epoch = workload::epoch_bn254(&snapshot, shape);
    let witness = first_batch(&epoch)?;
    say(&format!("Groth16 B = {b}: {} proofs", opts.prove_reps));
    let mut proofs = Vec::new();
    let mut last = None;
    for _ in 0..opts.prove_reps.max(1) {
        let (proof, clocks) = clocked(|| groth16::prove(&keys, &witness));
        last = Some(proof?);
        proofs.push(clocks);
    }
    let proof = last.ok_or_else(|| BenchError::Other("no proof".into()))?;
    let prove_s = median(&proofs.iter().map(|c| c.wall_s).collect::<Vec<_>>());
    let prove_cpu_s = median(&proofs.iter().map(|c| c.cpu_s).collect::<Vec<_>>());
    say(&format!("Groth16 B = {b}: dissected proof and kernels"));
    let dissection = groth16::dissect(&keys, &witness)?;
    let kernels = groth16::kernel_bound(keys.proving_key(), dissection.sizes)?;
    let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key().vk);
    let x: Fr = witness.public_input();
    let mut verify = Vec::new();
    for _ in 0..50 {
        let (ok, s) = timed(|| groth16::verify(&pvk, &proof, x));
        ok?;
        verify.push(s * 1e3);
    }
    say(&format!("Groth16 B = {b}: peak memory (child processes)"));
    let one: ProveChild = run_child(&[
        "child-prove".into(),
        "--batch-size".into(),
        batch_size.to_string(),
        "--keys".into(),
        dir_arg.clone(),
        "--accounts".into(),
        b.to_string(),
    ])?;
    let parallel = if cores > 1 {
        let all: ProveChild = run_child(&[
            "child-prove".into(),
            "--batch-size".into(),
            batch_size.to_string(),
            "--keys".into(),
            dir_arg,
            "--accounts".into(),
            (b * cores).to_string(),
        ])?;
        all.peak_rss_mib
    } else {
        one.peak_rss_mib
    };
    Ok((
        Groth16Batch {
            batch_size: b,
            constraints: dissection.sizes.constraints,
            setup_s: setup.setup_s,
            setup_peak_rss_mib: setup.peak_rss_mib,
            key_load_s,
            proving_key_bytes,
            verifying_key_bytes: verifying_key_bytes(&keys.proving_key().vk).len(),
            proof_bytes: proof_bytes(&proof).len(),
            proofs,
            prove_s,
            prove_cpu_s,
            dissection,
            kernels,
            verify_ms: median(&verify),
            prove_peak_rss_mib: one.peak_rss_mib,
            epoch_peak_rss_mib: parallel,
        },
        keys,
    ))
}

fn measure_scaling(
    opts: &Options,
    keys: &Groth16Keys,
    scratch: &Path,
) -> Result<Scaling, BenchError> {
    let shape = keys.shape();
    let b = shape.batch_size().get();
    let mut points = Vec::new();
    let mut sizes: Vec<(usize, bool)> = opts.scaling_proven.iter().map(|&n| (n, true)).collect();
    sizes.extend(opts.scaling_extrapolated.iter().map(|&n| (n, false)));
    for (n, prove) in sizes {
        say(&format!("scaling: {n} accounts (prove: {prove})"));
        let snapshot = workload::snapshot(n)?;
        let (eval, native_s) = timed(|| evaluate(&snapshot));
        std::hint::black_box(eval);
        let (epoch, witness_s) = timed(|| workload::epoch_bn254(&snapshot, shape));
        let batches = epoch.batches.len();
        drop(epoch);
        let (clocks, verify_epoch_ms) = if prove {
            let (proof, clocks) = clocked(|| {
                prove_epoch(&snapshot, &workload::secret(), keys, &|_| {}).map_err(BenchError::from)
            });
            let proof = proof?;
            let dir = scratch.join(format!("epoch-{n}"));
            write_epoch_dir(&dir, &proof, keys)?;
            let (verified, s) = timed(|| backstop_verifier::verify_epoch_dir(&dir, None));
            verified.map_err(|e| BenchError::Verify(e.to_string()))?;
            (Some(clocks), Some(s * 1e3))
        } else {
            (None, None)
        };
        points.push(ScalingPoint {
            accounts: n,
            batches,
            native_s,
            witness_s,
            prove_s: clocks.map_or(0.0, |c| c.wall_s),
            prove: clocks,
            verify_epoch_ms,
            measured: prove,
        });
    }
    // Least squares of (prove − witness) against K over the measured points.
    let measured: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.measured)
        .map(|p| (p.batches as f64, p.prove_s - p.witness_s))
        .collect();
    let (per_batch_s, intercept_s) = fit(&measured);
    for p in points.iter_mut().filter(|p| !p.measured) {
        p.prove_s = p.witness_s + intercept_s + per_batch_s * p.batches as f64;
    }
    let witness_per_account_s = points
        .iter()
        .max_by_key(|p| p.accounts)
        .map_or(0.0, |p| p.witness_s / p.accounts as f64);
    let million_batches = 1_000_000usize.div_ceil(b);
    let million = [1usize, 2, 4, 8, 16, 64]
        .iter()
        .map(|&w| {
            let per_worker = million_batches.div_ceil(w);
            (
                w,
                witness_per_account_s * 1e6 + intercept_s + per_batch_s * per_worker as f64,
            )
        })
        .collect();
    Ok(Scaling {
        batch_size: b,
        points,
        per_batch_s,
        intercept_s,
        witness_per_account_s,
        million,
    })
}

/// Least-squares line through `(x, y)`: (slope, intercept). One point: through 0.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.len() < 2 {
        return points.first().map_or((0.0, 0.0), |&(x, y)| {
            (if x > 0.0 { y / x } else { 0.0 }, 0.0)
        });
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        return (my / mx.max(1.0), 0.0);
    }
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

fn measure_inclusion(opts: &Options, scratch: &Path) -> Result<Inclusion, BenchError> {
    let shape = workload::shape(opts.scaling_batch_size)?;
    let n = opts.inclusion_accounts;
    say(&format!("inclusion: {n} accounts"));
    let snapshot = workload::snapshot(n)?;
    let statement = workload::statement(&snapshot, shape)?;
    let venue = VenueEpoch::<Bn254Poseidon>::new(
        &snapshot,
        &statement,
        &workload::secret(),
        Path::new("bench"),
    )?;
    let out = scratch.join("inclusion");
    let (written, prove_s) = timed(|| venue.prove_all(&out).map_err(BenchError::from));
    let written = written?;
    let mut bytes = 0u64;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&out).map_err(|e| BenchError::io(&out, e))? {
        let entry = entry.map_err(|e| BenchError::io(&out, e))?;
        let path = entry.path();
        if path.file_name().and_then(|f| f.to_str())
            == Some(backstop_verifier::inclusion::BATCH_ROOTS_FILE)
        {
            continue;
        }
        bytes += entry
            .metadata()
            .map_err(|e| BenchError::io(&path, e))?
            .len();
        files.push(path);
    }
    files.sort();
    files.truncate(opts.inclusion_verified);
    let proofs = files
        .iter()
        .map(|p| read_proof(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Verify(e.to_string()))?;
    let first = proofs
        .first()
        .ok_or_else(|| BenchError::Other("no inclusion proof written".into()))?;
    let roots = resolve_batch_roots(first, &out).map_err(|e| BenchError::Verify(e.to_string()))?;
    let (ok, verify_s) = timed(|| -> Result<(), BenchError> {
        let chained = ChainedRoots::new::<Bn254Poseidon>(&roots, &statement)
            .map_err(|e| BenchError::Verify(e.to_string()))?;
        for proof in &proofs {
            verify_inclusion_chained::<Bn254Poseidon>(proof, &chained, &statement)
                .map_err(|e| BenchError::Verify(e.to_string()))?;
        }
        Ok(())
    });
    ok?;
    let _ = std::fs::remove_dir_all(&out);
    Ok(Inclusion {
        accounts: written,
        batch_size: shape.batch_size().get(),
        prove_s,
        proofs_per_s: written as f64 / prove_s,
        bytes_per_proof: bytes as f64 / written.max(1) as f64,
        verified: proofs.len(),
        verify_s,
        verifies_per_s: proofs.len() as f64 / verify_s,
    })
}

fn measure_attestation() -> Result<Attestation, BenchError> {
    say("attestation: setup, prove, verify");
    let shape = AttestationShape::new(MARKETS)?;
    let constraints = backstop_circuits::r1cs::attestation::constraint_count(shape)?;
    let witness = workload::attestation_witness()?;
    let (keys, setup_s) = timed(|| AttestationKeys::setup(shape).map_err(BenchError::from));
    let keys = keys?;
    let (proof, prove_s) = timed(|| keys.prove(&witness).map_err(BenchError::from));
    let proof = proof?;
    let parsed = backstop_verifier::artifacts::decode_proof(&proof)
        .map_err(|e| BenchError::Verify(e.to_string()))?;
    let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key().vk);
    let mut verify = Vec::new();
    for _ in 0..20 {
        let (ok, s) = timed(|| groth16::verify(&pvk, &parsed, witness.public_input()));
        ok?;
        verify.push(s * 1e3);
    }
    Ok(Attestation {
        markets: MARKETS,
        constraints,
        setup_s,
        prove_s,
        verify_ms: median(&verify),
        proof_bytes: proof.len(),
    })
}

/// Runs the ignored gas test and parses its `gas:` lines.
fn measure_gas() -> Gas {
    say("gas: cargo test -p backstop-cli --test onchain -- --ignored gas_report");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "test",
        "-p",
        "backstop-cli",
        "--test",
        "onchain",
        "--locked",
        "--",
        "--ignored",
        "--nocapture",
        "--exact",
        "gas_report",
    ];
    let command = format!("cargo {}", args.join(" "));
    let out = Command::new(cargo)
        .args(args)
        .current_dir(crate::machine::workspace_root())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return Gas {
                note: format!(
                    "`{command}` failed ({}): not measured in this run",
                    o.status
                ),
                ..Gas::default()
            };
        }
        Err(e) => {
            return Gas {
                note: format!("`{command}` could not start ({e}): not measured in this run"),
                ..Gas::default()
            };
        }
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_gas(&text, &command)
}

fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// Parses `gas_report`'s output.
pub fn parse_gas(text: &str, command: &str) -> Gas {
    let mut gas = Gas {
        measured: true,
        note: format!(
            "`{command}` (B = 8, M = 2; one public input, so the verification gas does not depend on the shape)"
        ),
        ..Gas::default()
    };
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("gas: ")) {
        if let Some(rest) = line.strip_prefix("verifyProof") {
            // "batch {b}: {total} total, {execution} execution"
            if let [_, total, execution] = numbers(rest)[..] {
                gas.verify.push((total, execution));
            }
        } else if let Some(rest) = line.strip_prefix("submitEpoch") {
            // "K = {k} ({l} liquidations): {total} total, {exec} execution, {n} bytes of calldata"
            if let [k, l, total, execution, _] = numbers(rest)[..] {
                gas.submit.push(SubmitGas {
                    batches: k,
                    liquidations: l,
                    total,
                    execution,
                });
            }
        } else if line.starts_with("deployment") {
            gas.deployment = line.to_owned();
        }
    }
    if gas.verify.is_empty() {
        gas.measured = false;
        gas.note = format!("`{command}` printed no verification gas: not measured in this run");
    }
    gas
}

/// Runs every measurement of `opts`.
pub fn measure(opts: &Options) -> Result<Report, BenchError> {
    let started = Instant::now();
    let mut machine = Machine::describe();
    say(&format!(
        "{} report on {} × {} ({:.1} GiB)",
        opts.mode, machine.cores, machine.cpu_model, machine.memory_gib
    ));
    let scratch = tempfile::Builder::new()
        .prefix("backstop-bench-")
        .tempdir()
        .map_err(|e| BenchError::io(std::env::temp_dir(), e))?;
    let largest = opts.batch_sizes.iter().copied().max().unwrap_or(8);

    say("constraints: breakdown and totals");
    let breakdown = breakdown(workload::shape(largest)?)?;
    let mut totals = Vec::new();
    for &b in &[8u64, 64, 512] {
        if b > largest.max(64) {
            continue;
        }
        let n = if b as usize == breakdown.batch_size {
            breakdown.total
        } else {
            constraint_count(workload::shape(b)?)?
        };
        totals.push(ShapeCount {
            batch_size: b as usize,
            markets: MARKETS,
            constraints: n,
            per_account: n as f64 / b as f64,
        });
    }
    if opts.mode == "full" {
        for m in [1usize, 64] {
            let shape = backstop_circuits::shape::CircuitShape::new(64, m)?;
            let n = constraint_count(shape)?;
            totals.push(ShapeCount {
                batch_size: 64,
                markets: m,
                constraints: n,
                per_account: n as f64 / 64.0,
            });
        }
    }
    let mut halo2_layouts = Vec::new();
    for &b in &[8u64, 64, 512] {
        let shape = workload::shape(b)?;
        let rows =
            Halo2BatchCircuit::rows(shape).map_err(|e| BenchError::Halo2(format!("{e:?}")))?;
        halo2_layouts.push(Halo2Layout {
            batch_size: b as usize,
            rows,
            k: Halo2BatchCircuit::k(shape),
            rows_per_account: rows as f64 / b as f64,
        });
    }

    let mut groth16 = Vec::new();
    let mut scaling_keys = None;
    for &b in &opts.batch_sizes {
        let (run, keys) = measure_groth16(opts, b, scratch.path(), machine.cores)?;
        groth16.push(run);
        if b == opts.scaling_batch_size {
            scaling_keys = Some(keys);
        }
    }
    let scaling_keys = match scaling_keys {
        Some(k) => k,
        None => {
            let shape = workload::shape(opts.scaling_batch_size)?;
            let dir = scratch.path().join("scaling-keys");
            let _: SetupChild = run_child(&[
                "child-setup".into(),
                "--batch-size".into(),
                opts.scaling_batch_size.to_string(),
                "--keys".into(),
                dir.display().to_string(),
            ])?;
            Groth16Keys::load(&dir, shape)?
        }
    };
    let scaling = measure_scaling(opts, &scaling_keys, scratch.path())?;
    drop(scaling_keys);

    let mut halo2 = Vec::new();
    for &b in &opts.halo2_batch_sizes {
        say(&format!(
            "halo2 B = {b}: keygen, prove, verify (child process)"
        ));
        halo2.push(
            run_child::<Halo2Run>(&["child-halo2".into(), "--batch-size".into(), b.to_string()])
                .map_err(|e| e.to_string()),
        );
    }

    let inclusion = measure_inclusion(opts, scratch.path())?;
    let attestation = measure_attestation()?;
    let gas = if opts.gas {
        measure_gas()
    } else {
        Gas {
            note: "not run in quick mode (`--gas` runs it)".into(),
            ..Gas::default()
        }
    };
    machine.load_end = load_average();
    let mut report = Report {
        format: FORMAT.into(),
        mode: opts.mode.clone(),
        command: opts.command.clone(),
        machine,
        duration_s: started.elapsed().as_secs_f64(),
        breakdown,
        totals,
        halo2_layouts,
        groth16,
        halo2,
        scaling,
        inclusion,
        attestation,
        gas,
        recommended_batch_size: 0,
        targets: Vec::new(),
    };
    report.recommended_batch_size = crate::render::recommend(&report);
    report.targets = crate::render::targets(&report);
    Ok(report)
}

/// Writes `bytes` to `path` through a temporary sibling renamed into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    use std::io::Write;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| BenchError::io(parent, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| BenchError::io(parent, e))?;
    tmp.write_all(bytes).map_err(|e| BenchError::io(path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| BenchError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| BenchError::io(path, e.error))?;
    Ok(())
}

/// Measures and writes `PERFORMANCE.md` and `performance.json` into `opts.out_dir`.
pub fn run(opts: &Options) -> Result<Report, BenchError> {
    let report = measure(opts)?;
    let json = serde_json::to_vec_pretty(&report).map_err(|e| BenchError::Other(e.to_string()))?;
    write_atomically(&opts.out_dir.join("performance.json"), &json)?;
    write_atomically(
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
    let bytes = std::fs::read(json).map_err(|e| BenchError::io(json, e))?;
    let mut report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| BenchError::Other(format!("{}: {e}", json.display())))?;
    report.recommended_batch_size = crate::render::recommend(&report);
    report.targets = crate::render::targets(&report);
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| BenchError::Other(e.to_string()))?;
    write_atomically(&out_dir.join("performance.json"), &bytes)?;
    write_atomically(
        &out_dir.join("PERFORMANCE.md"),
        crate::render::markdown(&report).as_bytes(),
    )
}
