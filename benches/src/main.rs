//! `backstop-benches`: the performance report.
//!
//! ```sh
//! cargo run --release -p backstop-benches -- report          # docs/PERFORMANCE.md, docs/performance.json
//! cargo run --release -p backstop-benches -- report --quick  # tiny sizes (CI smoke)
//! cargo run --release -p backstop-benches -- gas             # only the on-chain gas, into both
//! ```

use backstop_benches::BenchError;
use backstop_benches::report::{self, Options};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(version, about = "Backstop's performance report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measures everything and writes PERFORMANCE.md and performance.json.
    Report {
        /// Tiny sizes: checks that every measurement runs (well under a minute).
        #[arg(long)]
        quick: bool,
        /// Output directory (default: the workspace's docs/).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Also run the on-chain gas test in quick mode (always run in full mode).
        #[arg(long)]
        gas: bool,
        /// Skip the on-chain gas test.
        #[arg(long, conflicts_with = "gas")]
        no_gas: bool,
        /// Groth16 batch sizes (default: 64,512; quick: 8).
        #[arg(long, value_delimiter = ',')]
        batch_sizes: Option<Vec<u64>>,
        /// Proof repetitions per batch size (default: 3; quick: 1).
        #[arg(long)]
        reps: Option<usize>,
        /// Epoch sizes proven whole (default: 1000,10000,100000; quick: 8,16).
        #[arg(long, value_delimiter = ',')]
        scaling_proven: Option<Vec<usize>>,
        /// Epoch sizes whose witness is measured and whose proving is extrapolated
        /// (default: none; quick: 1000).
        #[arg(long, value_delimiter = ',')]
        scaling_extrapolated: Option<Vec<usize>>,
    },
    /// Rewrites PERFORMANCE.md from a performance.json written by `report` (no
    /// measurement; the targets are re-checked from the recorded figures).
    Render {
        /// The performance.json to read (default: the workspace's docs/performance.json).
        #[arg(long)]
        json: Option<PathBuf>,
        /// Output directory (default: the JSON file's directory).
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Re-measures only the on-chain gas into a performance.json written by `report`
    /// and rewrites PERFORMANCE.md (after a contract change; gas does not depend on
    /// the machine).
    Gas {
        /// The performance.json to update (default: the workspace's docs/performance.json).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Measures on-chain gas on a real node (anvil from scripts/node): deploys the
    /// exported contracts of a seeded B = 8, M = 8 key from deployment.json, submits
    /// flash-crash epochs of K batches, the largest again in chunks, and writes the
    /// receipts' figures into performance.json and PERFORMANCE.md.
    AnvilGas {
        /// The performance.json to update (default: the workspace's docs/performance.json).
        #[arg(long)]
        json: Option<PathBuf>,
        /// The epoch sizes K, increasing.
        #[arg(long, value_delimiter = ',', default_value = "1,8,64,196")]
        batches: Vec<u64>,
        /// The chunk size of the chunked submission of the largest epoch.
        #[arg(long, default_value_t = 64)]
        chunk: usize,
    },
    /// Re-counts only the constraints (breakdown, totals, each Groth16 row) into a
    /// performance.json written by `report` and rewrites PERFORMANCE.md (after a
    /// circuit change; the counts do not depend on the machine, the timings stay).
    Constraints {
        /// The performance.json to update (default: the workspace's docs/performance.json).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Groth16 at one batch size only: setup, one proof, the proof dissected and the
    /// kernel bound, printed as JSON (no files written).
    Dissect {
        /// `B`.
        #[arg(long, default_value_t = 512)]
        batch_size: u64,
    },
    /// (internal) Groth16 setup of `B` into a keys directory, in a fresh process.
    #[command(hide = true)]
    ChildSetup {
        #[arg(long)]
        batch_size: u64,
        #[arg(long)]
        keys: PathBuf,
    },
    /// (internal) Loads keys and proves a book of `accounts`, in a fresh process.
    #[command(hide = true)]
    ChildProve {
        #[arg(long)]
        batch_size: u64,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        accounts: usize,
    },
    /// Groth16 on risk model v2 (M = 8, 4 brackets per market, 4 assets): setup,
    /// witness, one batch proof and its verification, printed as JSON.
    RiskV2 {
        /// `B`.
        #[arg(long, default_value_t = 512)]
        batch_size: u64,
        /// Prove a whole epoch of this many accounts instead, as `backstop prove`
        /// does (keys, witness, every batch), and verify it as `backstop verify` does.
        #[arg(long)]
        accounts: Option<usize>,
        /// Measure one batch with the halo2 circuit instead (key generation, proof,
        /// verification).
        #[arg(long, conflicts_with = "accounts")]
        halo2: bool,
        /// The book with the default waterfall (every market declares a 1%
        /// liquidation fee: a `.W` shape), one batch of either backend.
        #[arg(long, conflicts_with = "accounts")]
        waterfall: bool,
        /// Record the run into performance.json and rewrite PERFORMANCE.md.
        #[arg(long)]
        record: bool,
        /// The performance.json to update with `--record` (default: the workspace's
        /// docs/performance.json).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// (internal) halo2 keygen, prove and verify of one batch, in a fresh process.
    #[command(hide = true)]
    ChildHalo2 {
        #[arg(long)]
        batch_size: u64,
    },
}

fn json<T: serde::Serialize>(value: &T) -> Result<(), BenchError> {
    let line = serde_json::to_string(value).map_err(|e| BenchError::Other(e.to_string()))?;
    println!("{line}");
    Ok(())
}

fn run(cli: Cli) -> Result<(), BenchError> {
    match cli.command {
        Command::Report {
            quick,
            out_dir,
            gas,
            no_gas,
            batch_sizes,
            reps,
            scaling_proven,
            scaling_extrapolated,
        } => {
            let out =
                out_dir.unwrap_or_else(|| backstop_benches::machine::workspace_root().join("docs"));
            let mut opts = if quick {
                Options::quick(out)
            } else {
                Options::full(out)
            };
            opts.gas = (opts.gas || gas) && !no_gas;
            if let Some(b) = batch_sizes {
                opts.batch_sizes = b;
            }
            if let Some(r) = reps {
                opts.prove_reps = r;
            }
            if let Some(p) = scaling_proven {
                opts.scaling_proven = p;
            }
            if let Some(e) = scaling_extrapolated {
                opts.scaling_extrapolated = e;
            }
            opts.command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
            report::run(&opts).map(|_| ())
        }
        Command::ChildSetup { batch_size, keys } => json(&report::child_setup(batch_size, &keys)?),
        Command::ChildProve {
            batch_size,
            keys,
            accounts,
        } => json(&report::child_prove(batch_size, &keys, accounts)?),
        Command::Render { json, out_dir } => {
            let json = json.unwrap_or_else(|| {
                backstop_benches::machine::workspace_root().join("docs/performance.json")
            });
            let out = out_dir
                .or_else(|| json.parent().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("."));
            report::rerender(&json, &out)
        }
        Command::Gas { json } => {
            let (json, out) = report_files(json);
            report::regas(&json, &out)
        }
        Command::AnvilGas {
            json,
            batches,
            chunk,
        } => {
            let (json, out) = report_files(json);
            report::reanvil(&json, &out, &batches, chunk)
        }
        Command::Constraints { json } => {
            let (json, out) = report_files(json);
            report::recount(&json, &out)
        }
        Command::Dissect { batch_size } => json(&report::dissect(batch_size)?),
        Command::RiskV2 {
            batch_size,
            halo2: true,
            record: false,
            waterfall,
            ..
        } => json(&backstop_benches::risk_v2::run_halo2(
            batch_size, waterfall,
        )?),
        Command::RiskV2 {
            batch_size,
            halo2: true,
            json,
            waterfall,
            ..
        } => {
            let (json, out) = report_files(json);
            report::record_risk_v2_halo2(&json, &out, batch_size, waterfall)
        }
        Command::RiskV2 {
            batch_size,
            accounts: None,
            record: false,
            waterfall,
            ..
        } => json(&backstop_benches::risk_v2::run(batch_size, waterfall)?),
        Command::RiskV2 {
            batch_size,
            accounts: Some(accounts),
            record: false,
            ..
        } => json(&backstop_benches::risk_v2::epoch(batch_size, accounts)?),
        Command::RiskV2 {
            batch_size,
            accounts,
            json,
            waterfall,
            ..
        } => {
            let (json, out) = report_files(json);
            report::record_risk_v2(&json, &out, batch_size, accounts, waterfall)
        }
        Command::ChildHalo2 { batch_size } => json(&backstop_benches::halo2::run(batch_size)?),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("backstop-benches: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The performance.json to update (default: the workspace's docs/performance.json)
/// and the directory its files are rewritten in.
fn report_files(json: Option<PathBuf>) -> (PathBuf, PathBuf) {
    let json = json.unwrap_or_else(|| {
        backstop_benches::machine::workspace_root().join("docs/performance.json")
    });
    let out = json
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    (json, out)
}
