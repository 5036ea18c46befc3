//! The `backstop` command line: argument types and one function per subcommand.

use crate::error::ProverError;
use crate::secret;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::native::commit::{BatchSize, commit_epoch};
use backstop_circuits::native::evaluate;
use backstop_circuits::snapshot;
use backstop_circuits::statement::PublicOutputs;
use backstop_fixtures::{FixtureSpec, Scenario, generate};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Zero-knowledge solvency and liquidation proofs for derivatives venues.
#[derive(Debug, Parser)]
#[command(name = "backstop", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a snapshot natively and print its public outputs as JSON.
    Evaluate {
        /// A snapshot directory (epoch.toml, accounts.csv, positions.csv) or JSON file.
        #[arg(long)]
        snapshot: PathBuf,
    },
    /// Write a seeded, generated snapshot.
    Fixtures {
        /// Scenario: calm, flash-crash, squeeze, insolvent, boundary, extremes.
        #[arg(long)]
        scenario: Scenario,
        /// Number of accounts.
        #[arg(long, default_value_t = 256)]
        accounts: usize,
        /// Number of markets.
        #[arg(long, default_value_t = 8)]
        markets: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (created; an existing snapshot directory is replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate a demo epoch, evaluate it and commit to it, printing what would be
    /// published and what stays hidden.
    Demo {
        /// Scenario of the generated book.
        #[arg(long, default_value = "flash-crash")]
        scenario: Scenario,
        /// Number of accounts.
        #[arg(long, default_value_t = 256)]
        accounts: usize,
        /// Number of markets.
        #[arg(long, default_value_t = 8)]
        markets: usize,
        /// Accounts per batch (a power of 8 from 8 to 32768).
        #[arg(long, default_value_t = 64)]
        batch_size: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep the generated snapshot in this directory (default: a temporary one).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A file holding the venue secret (64 hex characters); default: the
        /// BACKSTOP_VENUE_SECRET variable, else the public demo secret.
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), ProverError> {
    match cli.command {
        Command::Evaluate { snapshot } => cmd_evaluate(&snapshot),
        Command::Fixtures {
            scenario,
            accounts,
            markets,
            seed,
            out,
        } => cmd_fixtures(
            &FixtureSpec {
                scenario,
                accounts,
                markets,
                seed,
            },
            &out,
        ),
        Command::Demo {
            scenario,
            accounts,
            markets,
            batch_size,
            seed,
            out,
            secret_file,
        } => cmd_demo(
            &FixtureSpec {
                scenario,
                accounts,
                markets,
                seed,
            },
            batch_size,
            out.as_deref(),
            secret_file.as_deref(),
        ),
    }
}

/// The public outputs of the snapshot at `path`.
pub fn evaluate_path(path: &Path) -> Result<PublicOutputs, ProverError> {
    let snapshot = snapshot::load(path)?;
    Ok(PublicOutputs::from_evaluation(
        snapshot.params(),
        &evaluate(&snapshot),
    ))
}

fn to_json(outputs: &PublicOutputs) -> String {
    // Serializing plain strings, bools and integers cannot fail.
    serde_json::to_string(outputs).unwrap_or_default()
}

fn cmd_evaluate(path: &Path) -> Result<(), ProverError> {
    println!("{}", to_json(&evaluate_path(path)?));
    Ok(())
}

fn cmd_fixtures(spec: &FixtureSpec, out: &Path) -> Result<(), ProverError> {
    let snapshot = generate(spec)?;
    snapshot::write_dir(&snapshot, out).map_err(|e| ProverError::io(out, e))?;
    eprintln!(
        "wrote {} scenario: {} accounts, {} markets, seed {} to {}",
        spec.scenario,
        snapshot.accounts().len(),
        snapshot.params().markets().len(),
        spec.seed,
        out.display()
    );
    Ok(())
}

fn hex_le<H: FieldHasher>(f: &H::F) -> String {
    let mut bytes = H::to_le_bytes(f);
    bytes.reverse();
    format!("0x{}", hex::encode(bytes))
}

fn cmd_demo(
    spec: &FixtureSpec,
    batch_size: u64,
    out: Option<&Path>,
    secret_file: Option<&Path>,
) -> Result<(), ProverError> {
    let batch_size = BatchSize::new(batch_size).map_err(|e| ProverError::Usage(e.to_string()))?;
    let secret = secret::load(secret_file)?;
    let temp;
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => {
            temp = tempfile::tempdir().map_err(|e| ProverError::io(std::env::temp_dir(), e))?;
            temp.path().join("snapshot")
        }
    };
    cmd_fixtures(spec, &dir)?;
    let snapshot = snapshot::load(&dir)?;
    let eval = evaluate(&snapshot);
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &eval);
    let bn = commit_epoch::<Bn254Poseidon>(&snapshot, &secret, batch_size);
    let pasta = commit_epoch::<PastaPoseidon>(&snapshot, &secret, batch_size);

    println!(
        "Backstop demo: epoch {} ({} scenario)",
        eval.epoch, spec.scenario
    );
    println!(
        "  {} accounts x {} markets in {} batches of {}",
        eval.account_count,
        snapshot.params().markets().len(),
        bn.batches.len(),
        batch_size.get()
    );
    println!();
    println!("Published outputs (native engine):");
    println!("  {}", to_json(&outputs));
    println!("Commitments:");
    println!(
        "  accounts commitment (BN254 Poseidon, Groth16 path): {}",
        hex_le::<Bn254Poseidon>(&bn.accounts_commitment)
    );
    println!(
        "  accounts commitment (Pasta Poseidon, halo2 path):   {}",
        hex_le::<PastaPoseidon>(&pasta.accounts_commitment)
    );
    println!();
    println!("Revealed: the epoch's prices and margin rates, reserves, the insurance fund,");
    println!("  the commitments above, the batch count, the liquidation set, the bad debt,");
    println!("  solvent and insurance_covered.");
    println!("Hidden: every balance and position, ids outside the liquidation set, total");
    println!(
        "  liabilities (known to the venue alone: {}), the exact account count and every\n  partial sum.",
        backstop_circuits::decimal::format_scaled(
            eval.total_liabilities,
            eval.exponent,
            snapshot.params().quote_decimals()
        )
    );
    println!();
    println!("Proving: not yet available in this build (native evaluation and commitments only).");
    if out.is_some() {
        println!("Snapshot kept in {}", dir.display());
    }
    Ok(())
}
