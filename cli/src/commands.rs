//! The `backstop` command line: argument types and one function per subcommand.

use crate::error::CliError;
use backstop_circuits::descriptor::VenueAddress;
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::model::Snapshot;
use backstop_circuits::native::evaluate;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::snapshot;
use backstop_circuits::statement::Backend;
use backstop_circuits::statement::PublicOutputs;
use backstop_fixtures::{FixtureSpec, Scenario, generate};
use backstop_prover::ProverError;
use backstop_prover::groth16::{prove_epoch, write_epoch_dir};
use backstop_prover::halo2::Halo2Keys;
use backstop_prover::keys::{
    Groth16Keys, KEYS_FILE, SETUP_WARNING, default_keys_dir, keys_batch_size,
};
use backstop_prover::output::check_replaceable;
use backstop_prover::{secret, venue};
use backstop_verifier::halo2::DEFAULT_PARAMS_DIR;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Zero-knowledge solvency and liquidation proofs for derivatives venues.
#[derive(Debug, Parser)]
#[command(name = "backstop", version)]
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
        /// Also print asset_totals, the totals owed to users of these collateral
        /// assets (comma-separated symbols, or `all`), as `prove
        /// --disclose-asset-totals` would publish them.
        #[arg(long, value_name = "SYMBOLS")]
        disclose_asset_totals: Option<String>,
    },
    /// Write a seeded, generated snapshot.
    Fixtures {
        /// Scenario: calm, flash-crash, squeeze, insolvent, boundary, extremes, and (risk
        /// model v2) tiers, collateral, asset-insolvent.
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
    /// Make proving and verifying keys for a circuit shape (single-party setup).
    Setup {
        /// Proof system.
        #[arg(long, value_enum, default_value_t = BackendArg::Groth16)]
        backend: BackendArg,
        /// Accounts per batch (a power of 8 from 8 to 32768).
        #[arg(long, default_value_t = 64)]
        batch_size: u64,
        /// Number of markets.
        #[arg(long, default_value_t = 8)]
        markets: usize,
        /// Risk model v2: maintenance brackets per market, the first included (1 to
        /// 8; the most of any market of the snapshots to prove).
        #[arg(long, default_value_t = 1)]
        brackets: usize,
        /// Risk model v2: collateral assets (0 to 16; exactly the snapshots').
        #[arg(long, default_value_t = 0)]
        assets: usize,
        /// The default waterfall (SPEC §2.4): keys for snapshots whose markets
        /// declare liquidation_fee_bps (Groth16 only, for now).
        #[arg(long)]
        waterfall: bool,
        /// Directory to write the keys to (default: backstop-keys/<shape id>); for
        /// halo2, where the IPA parameters are cached (default:
        /// backstop-keys/halo2-params).
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Prove an epoch: write statement.json and one proof per batch.
    Prove {
        /// A snapshot directory or JSON file.
        #[arg(long)]
        snapshot: PathBuf,
        /// The epoch directory to write (atomically).
        #[arg(long)]
        out: PathBuf,
        /// Proof system.
        #[arg(long, value_enum, default_value_t = BackendArg::Groth16)]
        backend: BackendArg,
        /// Keys directory (default: backstop-keys/<shape id>); made with a loud
        /// warning by a development setup if it holds no keys. For halo2: the IPA
        /// parameters directory (default: backstop-keys/halo2-params), filled on
        /// first use.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Accounts per batch (default: the keys' batch size, else 64).
        #[arg(long)]
        batch_size: Option<u64>,
        /// A file holding the venue secret (64 hex characters).
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// A file holding the venue's signing key (64 hex characters): its address is
        /// bound into every proof and it signs statement.json; default: the
        /// BACKSTOP_VENUE_KEY variable, else the public demo key.
        #[arg(long)]
        venue_key_file: Option<PathBuf>,
        /// Publish total liabilities L in statement.json, bound by the proofs like
        /// every other field (docs/SPEC.md §6.4); by default L stays hidden.
        #[arg(long)]
        disclose_liabilities: bool,
        /// Risk model v2: publish, for these collateral assets (comma-separated
        /// symbols, or `all`), the total owed to the users holding them
        /// (`asset_totals` in statement.json, bound by the proofs; docs/SPEC.md
        /// §6.4); by default every per-asset total stays hidden.
        #[arg(long, value_name = "SYMBOLS")]
        disclose_asset_totals: Option<String>,
        /// Print one JSON object instead of progress and text.
        #[arg(long)]
        json: bool,
    },
    /// Verify an epoch directory; exit 0 only if every check holds.
    Verify {
        /// The epoch and the keys to check it with.
        #[command(flatten)]
        epoch: EpochToCheck,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Export an epoch to another tool's format.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Deploy the exported contracts and submit epochs over JSON-RPC.
    #[command(subcommand)]
    Onchain(crate::onchain::OnchainCommand),
    /// Inclusion proofs, attestations, audit.
    #[command(flatten)]
    Users(crate::users::UsersCommand),
    /// The prover service: `serve`, `worker`, `inclusion-token`.
    #[command(flatten)]
    Service(backstop_service::ServiceCommand),
    /// Generate a demo epoch, prove and verify it, and print what was proven and
    /// what was revealed.
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
        /// Proof system.
        #[arg(long, value_enum, default_value_t = BackendArg::Groth16)]
        backend: BackendArg,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for the snapshot and the epoch (default: backstop-demo).
        #[arg(long, default_value = "backstop-demo")]
        out: PathBuf,
        /// Keys directory (default: backstop-keys/<shape id>).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// A file holding the venue secret (64 hex characters); default: the
        /// BACKSTOP_VENUE_SECRET variable, else the public demo secret.
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// A file holding the venue's signing key; default: the BACKSTOP_VENUE_KEY
        /// variable, else the public demo key.
        #[arg(long)]
        venue_key_file: Option<PathBuf>,
    },
    /// Statement tools for a venue's own tooling.
    #[command(subcommand)]
    Statement(StatementCommand),
}

/// `backstop statement …`.
#[derive(Debug, Subcommand)]
pub enum StatementCommand {
    /// Sign an epoch directory's statement.json in place with the venue key (the
    /// statement must name that key's venue).
    Sign {
        /// The epoch directory.
        epoch_dir: PathBuf,
        /// A file holding the venue's signing key; default: the BACKSTOP_VENUE_KEY
        /// variable, else the public demo key.
        #[arg(long)]
        venue_key_file: Option<PathBuf>,
    },
}

/// An epoch directory and what to check it with (`verify`, `audit`).
#[derive(Debug, clap::Args)]
pub struct EpochToCheck {
    /// The epoch directory.
    pub epoch_dir: PathBuf,
    /// The trusted Groth16 verifying key (from the published setup): a keys directory
    /// or its verifying_key.bin, with the keys.json recording its shape beside it;
    /// default: the epoch directory's own copy. halo2 keys are derived from the
    /// circuit shape.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Where halo2's IPA parameters are cached (generated there if missing).
    #[arg(long, default_value = backstop_verifier::halo2::DEFAULT_PARAMS_DIR)]
    pub params: PathBuf,
    /// The trusted venue address (0x + 40 hex digits): a statement of any other
    /// venue is refused. Without it the signature is checked against the venue the
    /// statement names, which anyone could be.
    #[arg(long)]
    pub venue_key: Option<String>,
    /// The venue's previous statement: its statement.json or its epoch directory.
    /// This epoch's id must be above it.
    #[arg(long)]
    pub previous: Option<PathBuf>,
}

impl EpochToCheck {
    /// What the venue must be: the trusted address and the previous statement.
    pub fn venue_expectation(
        &self,
    ) -> Result<backstop_verifier::audit::VenueExpectation, ProverError> {
        Ok(backstop_verifier::audit::VenueExpectation {
            trusted: self
                .venue_key
                .as_deref()
                .map(backstop_verifier::venue::parse_venue)
                .transpose()?,
            previous: self.previous.clone(),
        })
    }

    /// Checks the venue's signature of a verified statement, the trusted venue and
    /// the previous statement; returns the venue and whether it was pinned.
    pub fn check_venue(
        &self,
        statement: &backstop_circuits::statement::EpochStatement,
    ) -> Result<(VenueAddress, bool), ProverError> {
        let expected = self.venue_expectation()?;
        Ok((expected.check(statement)?, expected.trusted.is_some()))
    }
}

/// Export formats.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// snarkjs's groth16 files: verification_key.json, proof_<i>.json, public_<i>.json,
    /// so that `snarkjs groth16 verify` checks each batch proof.
    Snarkjs {
        /// The epoch directory.
        epoch_dir: PathBuf,
        /// The directory to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// A Foundry project for a Groth16 verifying key: the verifier, the epoch
    /// contract, the integrator's interface, an example consumer, forge tests, a
    /// deployment script and deployment.json (docs/ONCHAIN.md).
    Solidity {
        /// The keys directory (made by `backstop setup`).
        #[arg(long)]
        keys: PathBuf,
        /// The project directory to write.
        #[arg(long)]
        out: PathBuf,
        /// A proven, signed epoch of these keys: written as the forge tests'
        /// fixture (test/EpochFixture.sol). Without it the tests that need an epoch
        /// are left out.
        #[arg(long)]
        epoch: Option<PathBuf>,
        /// The solc 0.8.37 that compiles deployment.json's creation code (else
        /// $BACKSTOP_SOLC, else `solc` on PATH; scripts/node/solc works offline).
        #[arg(long)]
        solc: Option<PathBuf>,
    },
    /// The calldata that submits an epoch to the epoch contract, as hex on stdout.
    Calldata {
        /// The epoch directory.
        epoch_dir: PathBuf,
    },
}

/// The proof systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Groth16 over BN254: small proofs, cheap on-chain verification, trusted setup.
    Groth16,
    /// halo2 with IPA over Pasta: no trusted setup, larger proofs (auditors).
    Halo2,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Groth16 => Backend::Groth16Bn254,
            BackendArg::Halo2 => Backend::Halo2Pasta,
        }
    }
}

impl BackendArg {
    fn name(self) -> &'static str {
        match self {
            BackendArg::Groth16 => "Groth16",
            BackendArg::Halo2 => "halo2",
        }
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Evaluate {
            snapshot,
            disclose_asset_totals,
        } => cmd_evaluate(&snapshot, disclose_asset_totals.as_deref()),
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
        Command::Setup {
            backend,
            batch_size,
            markets,
            brackets,
            assets,
            waterfall,
            keys,
        } => {
            let shape = CircuitShape::with_risk(batch_size, markets, brackets, assets)
                .map_err(|e| CliError::Usage(e.to_string()))?
                .with_waterfall(waterfall);
            match backend {
                BackendArg::Groth16 => {
                    let dir = keys.unwrap_or_else(|| default_keys_dir(shape));
                    let _ = setup_keys(shape, &dir, false)?;
                }
                BackendArg::Halo2 => {
                    let dir = keys.unwrap_or_else(|| PathBuf::from(DEFAULT_PARAMS_DIR));
                    let _ = halo2_keys(shape, &dir, false)?;
                }
            }
            Ok(())
        }
        Command::Prove {
            snapshot,
            out,
            backend,
            keys,
            batch_size,
            secret_file,
            venue_key_file,
            disclose_liabilities,
            disclose_asset_totals,
            json,
        } => Ok(cmd_prove(
            &ProveArgs {
                snapshot: &snapshot,
                out: &out,
                backend,
                keys_dir: keys.as_deref(),
                batch_size,
                secret_file: secret_file.as_deref(),
                venue_key_file: venue_key_file.as_deref(),
                disclose_liabilities,
                disclose_asset_totals: disclose_asset_totals.as_deref(),
            },
            json,
        )?),
        Command::Verify { epoch, json } => Ok(cmd_verify(&epoch, json)?),
        Command::Statement(StatementCommand::Sign {
            epoch_dir,
            venue_key_file,
        }) => Ok(cmd_sign(&epoch_dir, venue_key_file.as_deref())?),
        Command::Export(ExportCommand::Snarkjs { epoch_dir, out }) => {
            let summary = backstop_prover::export::snarkjs::export_snarkjs(&epoch_dir, &out)?;
            eprintln!(
                "wrote snarkjs files for {} batches of epoch {} to {}",
                summary.batch_count,
                summary.epoch,
                out.display()
            );
            Ok(())
        }
        Command::Export(ExportCommand::Solidity {
            keys,
            out,
            epoch,
            solc,
        }) => Ok(backstop_prover::export::onchain::export_solidity(
            backstop_prover::export::onchain::SolidityExport {
                keys: &keys,
                out: &out,
                epoch: epoch.as_deref(),
                solc: solc.as_deref(),
            },
        )?),
        Command::Export(ExportCommand::Calldata { epoch_dir }) => {
            let calldata = backstop_prover::export::onchain::epoch_calldata(&epoch_dir)?;
            println!("0x{}", hex::encode(calldata));
            Ok(())
        }
        Command::Onchain(command) => crate::onchain::run(command),
        Command::Users(command) => Ok(crate::users::run(command)?),
        Command::Service(command) => Ok(backstop_service::run(command)?),
        Command::Demo {
            scenario,
            accounts,
            markets,
            batch_size,
            backend,
            seed,
            out,
            keys,
            secret_file,
            venue_key_file,
        } => cmd_demo(
            &FixtureSpec {
                scenario,
                accounts,
                markets,
                seed,
            },
            batch_size,
            backend,
            &out,
            keys.as_deref(),
            secret_file.as_deref(),
            venue_key_file.as_deref(),
        ),
    }
}

/// The snapshot disclosing the per-asset totals `spec` names (`--disclose-asset-totals`:
/// comma-separated symbols, or `all`). Refused: a snapshot without collateral
/// assets, an empty list, a symbol that is no declared asset.
fn with_disclosed_totals(snapshot: Snapshot, spec: Option<&str>) -> Result<Snapshot, CliError> {
    let Some(spec) = spec else {
        return Ok(snapshot);
    };
    let declared: Vec<String> = (snapshot.params().assets().iter())
        .map(|a| a.symbol().to_owned())
        .collect();
    if declared.is_empty() {
        return Err(CliError::Usage(
            "--disclose-asset-totals: the snapshot declares no collateral assets \
             (per-asset totals exist only under risk model v2 with [[assets]])"
                .to_owned(),
        ));
    }
    let symbols: Vec<String> = if spec.trim() == "all" {
        declared
    } else {
        spec.split(',').map(|s| s.trim().to_owned()).collect()
    };
    if symbols.iter().any(String::is_empty) {
        return Err(CliError::Usage(format!(
            "--disclose-asset-totals {spec:?}: expected comma-separated asset symbols or `all`"
        )));
    }
    snapshot
        .with_asset_totals_disclosed(&symbols)
        .map_err(|e| CliError::Usage(format!("--disclose-asset-totals: {e}")))
}

fn to_json(outputs: &impl serde::Serialize) -> String {
    // Serializing plain strings, bools and integers cannot fail.
    serde_json::to_string(outputs).unwrap_or_default()
}

fn cmd_evaluate(path: &Path, disclose_asset_totals: Option<&str>) -> Result<(), CliError> {
    let snapshot = with_disclosed_totals(snapshot::load(path)?, disclose_asset_totals)?;
    let outputs = PublicOutputs::from_evaluation(snapshot.params(), &evaluate(&snapshot));
    println!("{}", to_json(&outputs));
    Ok(())
}

fn cmd_fixtures(spec: &FixtureSpec, out: &Path) -> Result<(), CliError> {
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

/// Runs the single-party setup for `shape` and saves the keys in `dir`.
fn setup_keys(shape: CircuitShape, dir: &Path, quiet: bool) -> Result<Groth16Keys, ProverError> {
    eprintln!("{SETUP_WARNING}");
    if !quiet {
        eprintln!("setting up {}…", shape.id());
    }
    let started = Instant::now();
    let (keys, constraints) = Groth16Keys::setup_and_save(shape, dir)?;
    if !quiet {
        eprintln!(
            "wrote keys for {} to {} in {:.1} s ({constraints} constraints, {:.1} per account; verifying key hash {})",
            shape.id(),
            dir.display(),
            started.elapsed().as_secs_f64(),
            constraints as f64 / shape.batch_size().get() as f64,
            keys.verifying_key_hash()
        );
    }
    Ok(keys)
}

/// Loads keys for `shape`, or makes them (loudly) if `dir` holds none.
fn keys_for(
    shape: CircuitShape,
    dir: Option<&Path>,
    quiet: bool,
) -> Result<Groth16Keys, ProverError> {
    let dir = dir.map_or_else(|| default_keys_dir(shape), Path::to_path_buf);
    if dir.join(KEYS_FILE).is_file() {
        Groth16Keys::load(&dir, shape)
    } else {
        eprintln!(
            "no keys in {}: running the development setup for {}",
            dir.display(),
            shape.id()
        );
        setup_keys(shape, &dir, quiet)
    }
}

fn progress_bar(total: u64, enabled: bool) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "proving {bar:40} {pos}/{len} batches [{elapsed_precise}, eta {eta}]",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Loads halo2 keys for `shape`, generating and caching the IPA parameters in
/// `params_dir` when missing (no trusted setup: anyone can regenerate them).
fn halo2_keys(
    shape: CircuitShape,
    params_dir: &Path,
    quiet: bool,
) -> Result<Halo2Keys, ProverError> {
    let k = Halo2BatchCircuit::k(shape);
    let cached = backstop_verifier::halo2::params_path(params_dir, k).is_file();
    if !quiet {
        eprintln!(
            "halo2 {}: 2^{k} rows ({} used), IPA parameters {} {} (transparent: no trusted setup)…",
            shape.id(),
            Halo2BatchCircuit::rows(shape).unwrap_or_default(),
            if cached {
                "cached in"
            } else {
                "generated into"
            },
            params_dir.display()
        );
    }
    let started = Instant::now();
    let keys = Halo2Keys::load(params_dir, shape)?;
    if !quiet {
        eprintln!(
            "halo2 keys for {} derived in {:.1} s (verifying key hash {})",
            shape.id(),
            started.elapsed().as_secs_f64(),
            keys.verifying_key_hash()
        );
    }
    Ok(keys)
}

/// What `prove` reports.
struct Proven {
    outputs: PublicOutputs,
    batches: usize,
    shape: CircuitShape,
    seconds: f64,
    /// The venue address bound into the proofs.
    venue: VenueAddress,
    /// Whether the public demo key signed.
    demo_venue: bool,
}

/// The arguments of `prove`.
struct ProveArgs<'a> {
    snapshot: &'a Path,
    out: &'a Path,
    backend: BackendArg,
    keys_dir: Option<&'a Path>,
    batch_size: Option<u64>,
    secret_file: Option<&'a Path>,
    venue_key_file: Option<&'a Path>,
    disclose_liabilities: bool,
    /// `--disclose-asset-totals`: comma-separated symbols or `all`.
    disclose_asset_totals: Option<&'a str>,
}

fn prove_to(args: &ProveArgs<'_>, quiet: bool) -> Result<Proven, CliError> {
    check_replaceable(args.out)?;
    let secret = secret::load(args.secret_file)?;
    let venue_key = venue::load(args.venue_key_file)?;
    let venue = venue_key.address();
    let snapshot = snapshot::load(args.snapshot)?
        .with_venue(venue)
        .with_liabilities_disclosed(args.disclose_liabilities);
    let snapshot = with_disclosed_totals(snapshot, args.disclose_asset_totals)?;
    let b = match args.backend {
        BackendArg::Groth16 => args
            .batch_size
            .or_else(|| args.keys_dir.and_then(keys_batch_size)),
        BackendArg::Halo2 => args.batch_size,
    }
    .unwrap_or(64);
    let shape = CircuitShape::for_params(b, snapshot.params())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let batches = shape.batch_size().batch_count(snapshot.accounts().len());
    let bar = || progress_bar(batches as u64, !quiet && std::io::stderr().is_terminal());
    let started;
    match args.backend {
        BackendArg::Groth16 => {
            let keys = keys_for(shape, args.keys_dir, quiet)?;
            let bar = bar();
            started = Instant::now();
            let mut proof = prove_epoch(&snapshot, &secret, &keys, &|_| bar.inc(1))?;
            bar.finish_and_clear();
            venue_key.sign(&mut proof.statement)?;
            write_epoch_dir(args.out, &proof, &keys)?;
        }
        BackendArg::Halo2 => {
            let dir = args
                .keys_dir
                .map_or_else(|| PathBuf::from(DEFAULT_PARAMS_DIR), Path::to_path_buf);
            let keys = halo2_keys(shape, &dir, quiet)?;
            let bar = bar();
            started = Instant::now();
            let mut proof =
                backstop_prover::halo2::prove_epoch(&snapshot, &secret, &keys, &|_| bar.inc(1))?;
            bar.finish_and_clear();
            venue_key.sign(&mut proof.statement)?;
            backstop_prover::halo2::write_epoch_dir(args.out, &proof)?;
        }
    }
    Ok(Proven {
        outputs: PublicOutputs::from_evaluation(snapshot.params(), &evaluate(&snapshot)),
        batches,
        shape,
        seconds: started.elapsed().as_secs_f64(),
        venue,
        demo_venue: venue_key.is_demo(),
    })
}

fn cmd_prove(args: &ProveArgs<'_>, json: bool) -> Result<(), CliError> {
    let p = prove_to(args, json)?;
    let out = args.out;
    if json {
        let report = serde_json::json!({
            "epoch_dir": out.display().to_string(),
            "backend": args.backend.name(),
            "shape": p.shape.id(),
            "batches": p.batches,
            "prove_seconds": p.seconds,
            "venue": p.venue.to_string(),
            "outputs": p.outputs,
        });
        println!("{report}");
    } else {
        println!(
            "proved epoch {} in {} {} batches of {} ({:.1} s): {}",
            p.outputs.epoch,
            p.batches,
            args.backend.name(),
            p.shape.batch_size().get(),
            p.seconds,
            out.display()
        );
        println!("signed by venue {}", p.venue);
        println!("{}", to_json(&p.outputs));
    }
    Ok(())
}

/// `backstop statement sign`: re-signs `statement.json` in place (atomically).
fn cmd_sign(epoch_dir: &Path, venue_key_file: Option<&Path>) -> Result<(), ProverError> {
    let key = venue::load(venue_key_file)?;
    let path = epoch_dir.join(backstop_verifier::artifacts::STATEMENT_FILE);
    let bytes = std::fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
    // Read as every verifier reads it: the version first, then the field at fault named
    // by its path (`markets[1].symbol`), not a bare serde error.
    let mut file = backstop_circuits::statement::EpochStatement::from_json(&bytes)
        .map_err(|e| ProverError::Refused(format!("{}: {e}", path.display())))?
        .file()
        .clone();
    key.sign(&mut file)?;
    backstop_prover::output::write_file_atomically(
        &path,
        &backstop_prover::output::json_bytes(&file),
    )?;
    eprintln!("signed {} as venue {}", path.display(), key.address());
    Ok(())
}

fn cmd_verify(epoch: &EpochToCheck, json: bool) -> Result<(), ProverError> {
    let key = epoch
        .key
        .as_deref()
        .map(backstop_verifier::read_trusted_key)
        .transpose()?;
    let started = Instant::now();
    let verified = backstop_verifier::verify_epoch(&epoch.epoch_dir, key.as_ref(), &epoch.params)?;
    let (venue, pinned) = epoch.check_venue(&verified.statement)?;
    let system = match verified.statement.file().backend {
        Backend::Groth16Bn254 => "Groth16",
        Backend::Halo2Pasta => "halo2",
    };
    let seconds = started.elapsed().as_secs_f64();
    let outputs = verified.statement.outputs();
    // SPEC §7.5: what the venue signed, and what an epoch contract records as
    // `statementHash`.
    let statement_hash = format!(
        "0x{}",
        hex::encode(backstop_verifier::venue::statement_hash(
            &verified.statement
        )?)
    );
    if json {
        let report = serde_json::json!({
            "verified": true,
            "backend": verified.statement.file().backend,
            "trusted_key": verified.trusted_key,
            "venue": venue.to_string(),
            "trusted_venue": pinned,
            "statement_hash": statement_hash,
            "batches": verified.statement.file().batch_count,
            "verify_seconds": seconds,
            "outputs": outputs,
        });
        println!("{report}");
    } else {
        println!(
            "verified: {} {system} batch proofs of epoch {} in {:.3} s",
            verified.statement.file().batch_count,
            outputs.epoch,
            seconds
        );
        println!("{}", to_json(&outputs));
        println!("signed by venue {venue}");
        println!("statement hash {statement_hash}");
        if !pinned {
            println!(
                "note: the venue was not pinned; pass --venue-key with the venue's published address to require it"
            );
        }
        if !verified.trusted_key {
            println!(
                "note: the verifying key was read from the epoch directory; pass --key with the published key to check it"
            );
        }
    }
    Ok(())
}

fn cmd_demo(
    spec: &FixtureSpec,
    batch_size: u64,
    backend: BackendArg,
    out: &Path,
    keys_dir: Option<&Path>,
    secret_file: Option<&Path>,
    venue_key_file: Option<&Path>,
) -> Result<(), CliError> {
    let snapshot_dir = out.join("snapshot");
    let epoch_dir = out.join("epoch");
    cmd_fixtures(spec, &snapshot_dir)?;
    let proven = prove_to(
        &ProveArgs {
            snapshot: &snapshot_dir,
            out: &epoch_dir,
            backend,
            keys_dir,
            batch_size: Some(batch_size),
            secret_file,
            venue_key_file,
            disclose_liabilities: false,
            disclose_asset_totals: None,
        },
        false,
    )?;
    let params_dir = match (backend, keys_dir) {
        (BackendArg::Halo2, Some(dir)) => dir.to_path_buf(),
        _ => PathBuf::from(DEFAULT_PARAMS_DIR),
    };
    let started = Instant::now();
    let verified = backstop_verifier::verify_epoch(&epoch_dir, None, &params_dir)?;
    let signer =
        backstop_verifier::venue::check_signature(&verified.statement, Some(proven.venue))?;
    let verify_seconds = started.elapsed().as_secs_f64();
    let statement = verified.statement.file();
    let snapshot = snapshot::load(&snapshot_dir)?;
    let eval = evaluate(&snapshot);

    println!(
        "Backstop demo: epoch {} ({} scenario)",
        eval.epoch, spec.scenario
    );
    println!(
        "  {} accounts x {} markets, {} {} batch proofs of {} accounts ({})",
        eval.account_count,
        snapshot.params().markets().len(),
        proven.batches,
        backend.name(),
        batch_size,
        proven.shape.id()
    );
    println!(
        "  proved in {:.1} s ({:.1} accounts/s), verified in {:.3} s",
        proven.seconds,
        eval.account_count as f64 / proven.seconds,
        verify_seconds
    );
    println!();
    println!("Proven and published (statement.json):");
    println!("  {}", to_json(&proven.outputs));
    println!("  accounts commitment {}", statement.accounts_commitment);
    println!(
        "  signed by venue {signer}{}",
        if proven.demo_venue {
            " (the PUBLIC DEMO venue key: its signature proves nothing)"
        } else {
            ""
        }
    );
    println!();
    println!("Revealed: the epoch's prices and margin rates, reserves, the insurance fund,");
    println!("  the accounts commitment, hiding commitments to the running state, the batch");
    println!("  count, the liquidation set, the bad debt, solvent and insurance_covered.");
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
    println!("Snapshot: {}", snapshot_dir.display());
    println!(
        "Epoch:    {}  (check it: backstop verify {})",
        epoch_dir.display(),
        epoch_dir.display()
    );
    Ok(())
}
