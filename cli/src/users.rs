//! Commands for users and auditors (`docs/INCLUSION.md`):
//!
//! - `backstop inclusion prove` (the venue: one account's inclusion proof, or every
//!   account's with `--all`) and `backstop inclusion verify` (the account's owner);
//! - `backstop attest` and `backstop verify-attestation`: a Groth16 proof that a
//!   committed account is healthy by a margin, revealing nothing else;
//! - `backstop audit`: verify an epoch and print what was proven, what was
//!   revealed and what the proofs do not cover.
//!
//! The checking logic lives in `backstop_verifier` (`inclusion`, `attestation`,
//! `audit`), usable without this crate.

use crate::error::CliError;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::model::OwnerCommitment;
use backstop_circuits::native::attestation::{AttestationClaim, attestation_tree_root};
use backstop_circuits::native::commit::BatchSize;
use backstop_circuits::r1cs::attestation::{AttestationInputs, AttestationWitness};
use backstop_circuits::shape::AttestationShape;
use backstop_circuits::snapshot;
use backstop_circuits::statement::{Backend, EpochStatement};
use backstop_prover::ProverError;
use backstop_prover::attest::{AttestationKeys, public_input_hex};
use backstop_prover::inclusion::VenueEpoch;
use backstop_prover::output::write_json_file;
use backstop_prover::secret;
use backstop_verifier::attestation::{
    ATTESTATION_FORMAT, AttestationFile, ClaimData, context_element, statement_sha256,
    verify_attestation,
};
use backstop_verifier::audit::{Format, audit_epoch};
use backstop_verifier::inclusion::{
    ChainedRoots, InclusionProof, InclusionReport, open_proof, owner_commitment_from_secret,
    read_proof, resolve_batch_roots, verify_inclusion_for_statement,
};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `println!` through [`print_out`].
macro_rules! out {
    ($($t:tt)*) => {
        print_out(&format!($($t)*))
    };
}

/// The users' and auditors' subcommands (flattened into `backstop`).
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Inclusion proofs: a user's evidence that their account is in an epoch.
    #[command(subcommand)]
    Inclusion(InclusionCommand),
    /// Owner commitments: bind an account's leaf to something only its owner holds.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// Prove that a committed account has TV >= R·MR (and TV >= X), revealing
    /// nothing else: a small Groth16 proof for a counterparty.
    Attest {
        /// The published epoch directory.
        #[arg(long)]
        epoch: PathBuf,
        /// The account owner's inclusion proof (holds everything needed); or use
        /// --snapshot and --account (the venue, with its secret).
        #[arg(long, conflicts_with_all = ["snapshot", "account"])]
        inclusion: Option<PathBuf>,
        /// The epoch's snapshot (with --account).
        #[arg(long, requires = "account")]
        snapshot: Option<PathBuf>,
        /// The account id (with --snapshot).
        #[arg(long, requires = "snapshot")]
        account: Option<u64>,
        /// R: the claim is TV >= R · MR (a decimal with at most 4 places, e.g. 1.5);
        /// under risk model v2 MV >= R · MR, the margin value against the tiered
        /// requirement.
        #[arg(long)]
        min_margin_ratio: String,
        /// X in quote units: also claim TV >= X (equity at full value).
        #[arg(long)]
        min_equity: Option<String>,
        /// A text chosen by the counterparty (e.g. a nonce), bound into the proof.
        #[arg(long, default_value = "")]
        context: String,
        /// Attestation keys directory (default backstop-keys/<shape id>, e.g.
        /// backstop.attest.v1.M8 for 8 markets, backstop.attest.v1.M8.T4.A4 with 4
        /// brackets and 4 assets;
        /// made by a loud single-party setup if empty).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// A file holding the venue secret (with --snapshot).
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// The attestation file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a margin attestation against a published epoch; exit 0 only if it holds.
    VerifyAttestation {
        /// The attestation file.
        file: PathBuf,
        /// The published epoch directory.
        #[arg(long)]
        epoch: PathBuf,
        /// The trusted attestation verifying key (verifying_key.bin of the
        /// attestation keys); default: the key inside the file, which proves nothing
        /// against whoever made it.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verify everything verifiable about an epoch and print a report: what was
    /// proven, what was revealed, the checks, and what the proofs do not cover.
    Audit {
        /// The epoch and the keys to check it with.
        #[command(flatten)]
        epoch: crate::commands::EpochToCheck,
        /// An external attestation of the reserves (JSON with a "reserves" field),
        /// shown and matched against the statement's reserves figure.
        #[arg(long)]
        reserves_attestation: Option<PathBuf>,
        /// Output format: text, json or markdown.
        #[arg(long, default_value = "text", value_parser = parse_format)]
        format: Format,
    },
}

/// `backstop inclusion …`.
#[derive(Debug, Subcommand)]
pub enum InclusionCommand {
    /// Write an account's inclusion proof (the venue; needs the venue secret).
    Prove {
        /// The epoch's snapshot.
        #[arg(long)]
        snapshot: PathBuf,
        /// The published epoch directory.
        #[arg(long)]
        epoch: PathBuf,
        /// The account id.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        account: Option<u64>,
        /// Every account: writes OUT/ID.json for every account and OUT/batch-roots.json.
        #[arg(long, requires = "out")]
        all: bool,
        /// The proof file (default stdout), or with --all the directory to write.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A file holding the venue secret (64 hex characters).
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
    /// Check an inclusion proof against a published epoch; exit 0 only if the
    /// account is included and the liquidation set is right about it.
    Verify {
        /// The proof file.
        proof: PathBuf,
        /// The published epoch directory.
        #[arg(long)]
        epoch: PathBuf,
        /// Also verify the epoch's batch proofs (with the directory's key, or --key).
        #[arg(long)]
        check_proofs: bool,
        /// The trusted epoch verifying key, with --check-proofs (a keys directory or
        /// its verifying_key.bin, with the keys.json recording its shape beside it).
        #[arg(long, requires = "check_proofs")]
        key: Option<PathBuf>,
        /// Where halo2's IPA parameters are cached, with --check-proofs on a halo2
        /// epoch (generated there if missing).
        #[arg(long, default_value = backstop_verifier::halo2::DEFAULT_PARAMS_DIR)]
        params: PathBuf,
        /// Your owner commitment (0x + 64 hex digits): the leaf must be bound to it.
        #[arg(long, conflicts_with = "owner_secret_file")]
        owner: Option<String>,
        /// A file holding your owner secret: its commitment
        /// (`backstop owner commitment`) must be the leaf's owner.
        #[arg(long)]
        owner_secret_file: Option<PathBuf>,
        /// The trusted venue address (0x + 40 hex digits): the statement must be
        /// signed by it. With --check-proofs and without it, the signature is checked
        /// against the venue the statement names.
        #[arg(long)]
        venue_key: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `backstop owner …`.
#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Print the owner commitment of a secret (give it to the venue for the
    /// `owner` column of accounts.csv; keep the secret).
    Commitment {
        /// A file holding your owner secret (any bytes; one trailing newline is
        /// ignored).
        #[arg(long)]
        owner_secret_file: PathBuf,
    },
}

/// `--format`: the report formats are the verifier's own ([`Format`]).
fn parse_format(name: &str) -> Result<Format, String> {
    name.parse()
}

/// Runs one of [`UsersCommand`].
pub fn run(command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::Inclusion(InclusionCommand::Prove {
            snapshot,
            epoch,
            account,
            all,
            out,
            secret_file,
        }) => cmd_inclusion_prove(
            &snapshot,
            &epoch,
            account,
            all,
            out.as_deref(),
            secret_file.as_deref(),
        ),
        UsersCommand::Inclusion(InclusionCommand::Verify {
            proof,
            epoch,
            check_proofs,
            key,
            params,
            owner,
            owner_secret_file,
            venue_key,
            json,
        }) => cmd_inclusion_verify(
            &proof,
            &epoch,
            check_proofs.then_some(EpochProofs {
                key: key.as_deref(),
                params: &params,
            }),
            &OwnerCheck {
                owner: owner.as_deref(),
                secret_file: owner_secret_file.as_deref(),
                venue_key: venue_key.as_deref(),
            },
            json,
        ),
        UsersCommand::Owner(OwnerCommand::Commitment { owner_secret_file }) => {
            out!("{}", read_owner_secret(&owner_secret_file)?);
            Ok(())
        }
        UsersCommand::Attest {
            epoch,
            inclusion,
            snapshot,
            account,
            min_margin_ratio,
            min_equity,
            context,
            keys,
            secret_file,
            out,
        } => {
            let source = match (inclusion, snapshot, account) {
                (Some(p), None, None) => Source::Proof(p),
                (None, Some(s), Some(a)) => Source::Snapshot {
                    snapshot: s,
                    account: a,
                    secret_file,
                },
                _ => {
                    return Err(CliError::Usage(
                        "attest needs --inclusion PROOF.json, or --snapshot DIR with --account ID"
                            .into(),
                    ));
                }
            };
            cmd_attest(&AttestArgs {
                epoch_dir: &epoch,
                source,
                ratio: &min_margin_ratio,
                min_equity: min_equity.as_deref(),
                context: &context,
                keys: keys.as_deref(),
                out: &out,
            })
        }
        UsersCommand::VerifyAttestation {
            file,
            epoch,
            key,
            json,
        } => cmd_verify_attestation(&file, &epoch, key.as_deref(), json),
        UsersCommand::Audit {
            epoch,
            reserves_attestation,
            format,
        } => cmd_audit(
            &epoch.epoch_dir,
            epoch.key.as_deref(),
            &epoch.params,
            reserves_attestation.as_deref(),
            &epoch.venue_expectation()?,
            format,
        ),
    }
}

fn read_statement(epoch_dir: &Path) -> Result<(EpochStatement, Vec<u8>), ProverError> {
    Ok(backstop_verifier::read_statement_and_bytes(epoch_dir)?)
}

/// What the venue asks of its epoch: one account's inclusion proof, or every
/// account's written into a directory.
enum InclusionJob<'a> {
    One(u64),
    All(&'a Path),
}

/// What an [`InclusionJob`] made.
enum InclusionMade {
    One(Box<InclusionProof>),
    All(usize),
}

/// Runs `job` on the epoch as the venue recomputes it, with the hash of the
/// statement's backend.
fn venue_inclusion(
    snapshot_path: &Path,
    epoch_dir: &Path,
    secret_file: Option<&Path>,
    job: InclusionJob<'_>,
) -> Result<InclusionMade, ProverError> {
    fn run<H: FieldHasher>(
        snapshot: &backstop_circuits::model::Snapshot,
        statement: &EpochStatement,
        secret: &backstop_circuits::secret::VenueSecret,
        snapshot_path: &Path,
        job: InclusionJob<'_>,
    ) -> Result<InclusionMade, ProverError> {
        let venue = VenueEpoch::<H>::new(snapshot, statement, secret, snapshot_path)?;
        Ok(match job {
            InclusionJob::One(account) => {
                InclusionMade::One(Box::new(venue.prove_one(account, snapshot_path)?))
            }
            InclusionJob::All(out) => InclusionMade::All(venue.prove_all(out)?),
        })
    }
    let snapshot = snapshot::load(snapshot_path)?;
    let (statement, _) = read_statement(epoch_dir)?;
    let secret = secret::load(secret_file)?;
    match statement.file().backend {
        Backend::Groth16Bn254 => {
            run::<Bn254Poseidon>(&snapshot, &statement, &secret, snapshot_path, job)
        }
        Backend::Halo2Pasta => {
            run::<PastaPoseidon>(&snapshot, &statement, &secret, snapshot_path, job)
        }
    }
}

/// One account's inclusion proof, with every batch root embedded, made by the
/// venue from the snapshot and the secret.
pub fn prove_inclusion(
    snapshot_path: &Path,
    epoch_dir: &Path,
    account: u64,
    secret_file: Option<&Path>,
) -> Result<InclusionProof, ProverError> {
    match venue_inclusion(
        snapshot_path,
        epoch_dir,
        secret_file,
        InclusionJob::One(account),
    )? {
        InclusionMade::One(proof) => Ok(*proof),
        InclusionMade::All(_) => unreachable!("a one-account job makes one proof"),
    }
}

/// Every account's inclusion proof into `out`; returns the number written.
pub fn prove_all_inclusions(
    snapshot_path: &Path,
    epoch_dir: &Path,
    out: &Path,
    secret_file: Option<&Path>,
) -> Result<usize, ProverError> {
    match venue_inclusion(
        snapshot_path,
        epoch_dir,
        secret_file,
        InclusionJob::All(out),
    )? {
        InclusionMade::All(n) => Ok(n),
        InclusionMade::One(_) => unreachable!("an all-accounts job counts its proofs"),
    }
}

fn cmd_inclusion_prove(
    snapshot_path: &Path,
    epoch_dir: &Path,
    account: Option<u64>,
    all: bool,
    out: Option<&Path>,
    secret_file: Option<&Path>,
) -> Result<(), CliError> {
    match (all, account, out) {
        (true, _, Some(out)) => {
            let started = Instant::now();
            let n = prove_all_inclusions(snapshot_path, epoch_dir, out, secret_file)?;
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "wrote {n} inclusion proofs and {} to {} in {seconds:.2} s ({:.0} proofs/s)",
                backstop_verifier::inclusion::BATCH_ROOTS_FILE,
                out.display(),
                n as f64 / seconds.max(1e-9)
            );
            Ok(())
        }
        (false, Some(id), out) => {
            let proof = prove_inclusion(snapshot_path, epoch_dir, id, secret_file)?;
            match out {
                Some(path) => {
                    write_json_file(path, &proof)?;
                    eprintln!(
                        "wrote the inclusion proof of account {id} to {}",
                        path.display()
                    );
                }
                None => out!(
                    "{}",
                    serde_json::to_string_pretty(&proof)
                        .map_err(|e| CliError::Usage(e.to_string()))?
                ),
            }
            Ok(())
        }
        _ => Err(CliError::Usage(
            "inclusion prove needs --account ID, or --all with --out DIR".into(),
        )),
    }
}

fn describe(report: &InclusionReport) -> String {
    let mut text = format!(
        "INCLUDED: account {} is in epoch {}'s accounts commitment {} (batch {}, slot {}, index {})\n",
        report.account_id,
        report.epoch,
        report.accounts_commitment,
        report.batch,
        report.slot,
        report.index,
    );
    if !report.balances.is_empty() {
        let balances: Vec<String> = report
            .balances
            .iter()
            .map(|b| format!("{} {}", b.amount, b.asset))
            .collect();
        text.push_str(&format!(
            "  collateral balances committed: {}\n",
            balances.join(", ")
        ));
    }
    match &report.margin_value {
        // Risk model v2 with assets: liquidation compares the margin value.
        Some(mv) => {
            let health = if report.liquidatable {
                "LIQUIDATABLE (MV < MR)"
            } else {
                "healthy (MV >= MR)"
            };
            text.push_str(&format!(
                "  at the published prices: total value {}, margin value {} (collateral at its \
                 ratio, debts in full), maintenance requirement {} (quote units): {health}",
                report.total_value, mv, report.maintenance_requirement
            ));
        }
        None => {
            let health = if report.liquidatable {
                "LIQUIDATABLE (TV < MR)"
            } else {
                "healthy (TV >= MR)"
            };
            text.push_str(&format!(
                "  at the published prices: total value {}, maintenance requirement {} (quote \
                 units): {health}",
                report.total_value, report.maintenance_requirement
            ));
        }
    }
    if let Some(w) = &report.waterfall {
        text.push_str(&format!(
            "\n  default waterfall (SPEC §2.4): liquidation fee {}, haircut {} at the published \
             rate of {} ppb, equity after {} (quote units)",
            w.liquidation_fee, w.haircut, w.haircut_ppb, w.equity_after
        ));
    }
    text
}

/// What `inclusion verify --check-proofs` checks the epoch's batch proofs with.
struct EpochProofs<'a> {
    /// The trusted Groth16 key (default: the directory's own).
    key: Option<&'a Path>,
    /// The halo2 IPA parameter cache.
    params: &'a Path,
}

/// Who `inclusion verify` checks: the owner (by commitment or secret file) and the
/// venue.
struct OwnerCheck<'a> {
    owner: Option<&'a str>,
    secret_file: Option<&'a Path>,
    venue_key: Option<&'a str>,
}

/// The owner commitment of the secret in `path` (never printed or logged).
fn read_owner_secret(path: &Path) -> Result<OwnerCommitment, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("--owner-secret-file {}: {e}", path.display())))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CliError::Usage(format!(
            "--owner-secret-file {}: the file is empty",
            path.display()
        )));
    }
    Ok(owner_commitment_from_secret(&bytes))
}

impl OwnerCheck<'_> {
    /// The owner commitment to check the leaf against, if one was given.
    fn expected(&self) -> Result<Option<OwnerCommitment>, CliError> {
        match (self.owner, self.secret_file) {
            (Some(text), _) => OwnerCommitment::parse(text.trim())
                .map(Some)
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "--owner {text:?}: not an owner commitment, 0x + 64 lowercase hex digits"
                    ))
                }),
            (None, Some(path)) => read_owner_secret(path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

fn cmd_inclusion_verify(
    proof_path: &Path,
    epoch_dir: &Path,
    check_proofs: Option<EpochProofs<'_>>,
    who: &OwnerCheck<'_>,
    json: bool,
) -> Result<(), CliError> {
    let expected_owner = who.expected()?;
    let (statement, _) = read_statement(epoch_dir)?;
    let report = backstop_verifier::inclusion::verify_inclusion_file(proof_path, &statement)?;
    if let Some(owner) = &expected_owner {
        report.check_owner(owner)?;
    }
    if check_proofs.is_some() || who.venue_key.is_some() {
        let trusted = who
            .venue_key
            .map(backstop_verifier::venue::parse_venue)
            .transpose()?;
        backstop_verifier::venue::check_signature(&statement, trusted)?;
    }
    if let Some(with) = &check_proofs {
        // Either backend, as `backstop verify` does.
        let key = with
            .key
            .map(backstop_verifier::read_trusted_key)
            .transpose()?;
        backstop_verifier::verify_epoch(epoch_dir, key.as_ref(), with.params)?;
    }
    let check_proofs = check_proofs.is_some();
    let consistent = report.liquidation_consistent();
    if json {
        let value = serde_json::json!({
            "included": true,
            "liquidation_status_consistent": consistent,
            "epoch_proofs_checked": check_proofs,
            "owner_checked": expected_owner.is_some(),
            "report": report,
        });
        out!("{value}");
    } else {
        out!("{}", describe(&report));
        out!(
            "  liquidation status: {}",
            match (consistent, report.listed_as_liquidatable) {
                (true, true) => "consistent (the published liquidation set lists it)",
                (true, false) => "consistent (the published liquidation set does not list it)",
                (false, _) => "WRONG (see below)",
            }
        );
        match (&report.owner, expected_owner.is_some()) {
            (Some(o), true) => out!("  owner: the leaf is bound to your owner commitment {o}"),
            (Some(o), false) => out!(
                "  owner: the leaf is bound to owner commitment {o}; pass --owner-secret-file to check it is yours"
            ),
            (None, _) => out!(
                "  owner: the leaf is bound to no owner commitment (another owner with the same balance and positions could be shown this leaf)"
            ),
        }
        if check_proofs {
            out!("  the epoch's batch proofs verify, and the venue's signature");
        } else {
            out!(
                "  note: this checked the account against statement.json; check the epoch's proofs too (backstop audit, or --check-proofs)"
            );
        }
    }
    if report.demo_secret {
        eprintln!(
            "WARNING: this epoch's salts come from the PUBLIC DEMO venue secret: your leaf hides nothing"
        );
    }
    if !consistent {
        let err = CliError::LiquidationMismatch {
            account: report.account_id.clone(),
            actual: if report.liquidatable {
                "liquidatable"
            } else {
                "healthy"
            },
            listed: if report.listed_as_liquidatable {
                "lists it as liquidatable"
            } else {
                "does not list it"
            },
        };
        eprintln!("!!! {err} !!!");
        return Err(err);
    }
    Ok(())
}

/// Where `attest` gets the account's data.
#[derive(Debug)]
enum Source {
    /// The owner's inclusion proof.
    Proof(PathBuf),
    /// The venue's snapshot and secret.
    Snapshot {
        snapshot: PathBuf,
        account: u64,
        secret_file: Option<PathBuf>,
    },
}

struct AttestArgs<'a> {
    epoch_dir: &'a Path,
    source: Source,
    ratio: &'a str,
    min_equity: Option<&'a str>,
    context: &'a str,
    keys: Option<&'a Path>,
    out: &'a Path,
}

fn attestation_error(e: impl ToString) -> ProverError {
    ProverError::Attestation(e.to_string())
}

/// Makes a margin attestation file (see `backstop attest`).
fn cmd_attest(args: &AttestArgs<'_>) -> Result<(), CliError> {
    let (statement, statement_bytes) = read_statement(args.epoch_dir)?;
    if statement.file().backend != Backend::Groth16Bn254 {
        return Err(
            attestation_error("margin attestations exist for groth16-bn254 epochs only").into(),
        );
    }
    let (proof, roots) = match &args.source {
        Source::Proof(path) => {
            let proof = read_proof(path)?;
            let dir = path.parent().unwrap_or_else(|| Path::new("."));
            let roots = resolve_batch_roots(&proof, dir)?;
            (proof, roots)
        }
        Source::Snapshot {
            snapshot,
            account,
            secret_file,
        } => {
            let proof =
                prove_inclusion(snapshot, args.epoch_dir, *account, secret_file.as_deref())?;
            let roots = proof.batch_roots.clone().unwrap_or_default();
            (proof, roots)
        }
    };
    // The account must be in the published epoch before anything is claimed about it.
    verify_inclusion_for_statement(&proof, &roots, &statement)?;
    let opened = open_proof::<Bn254Poseidon>(&proof, &statement)?;
    let chained = ChainedRoots::new::<Bn254Poseidon>(&roots, &statement)?;
    let params = statement.params();
    let claim = AttestationClaim::parse(args.ratio, args.min_equity, params.quote_decimals())
        .map_err(attestation_error)?;
    let batch_size =
        BatchSize::new(statement.file().shape.batch_size).map_err(attestation_error)?;
    let witness = AttestationWitness::new(AttestationInputs {
        params,
        account: &opened.account,
        salt: opened.salt,
        batch_size,
        batch: proof.batch as usize,
        batch_path: &opened.path,
        batch_roots: chained.roots(),
        claim,
        context: context_element(args.context),
    })
    .map_err(attestation_error)?;
    // M, and under risk model v2 the brackets T and assets A, of the parameters.
    let shape = AttestationShape::for_params(params).map_err(attestation_error)?;
    let keys = AttestationKeys::load_or_setup(shape, args.keys)?;
    let started = Instant::now();
    let proof_bytes = keys.prove(&witness)?;
    let seconds = started.elapsed().as_secs_f64();
    let tree_root = attestation_tree_root::<Bn254Poseidon>(batch_size, chained.roots())
        .map_err(attestation_error)?;
    let file = AttestationFile {
        format: ATTESTATION_FORMAT.to_owned(),
        backend: Backend::Groth16Bn254,
        epoch: params.epoch(),
        statement_sha256: statement_sha256(&statement_bytes),
        accounts_commitment: statement.file().accounts_commitment.clone(),
        claim: ClaimData {
            min_margin_ratio: claim.ratio_text(),
            min_equity: args
                .min_equity
                .map(|_| claim.min_equity_text(params.quote_decimals())),
        },
        context: args.context.to_owned(),
        batch_size: batch_size.get() as u64,
        batch_roots: roots,
        tree_root: Bn254Poseidon::to_hex(&tree_root),
        public_input: public_input_hex(&witness),
        shape: shape.id(),
        proof: hex::encode(&proof_bytes),
        verifying_key: hex::encode(keys.verifying_key_bytes()),
        verifying_key_hash: keys.verifying_key_hash().to_owned(),
        setup: backstop_prover::keys::SINGLE_PARTY_SETUP.to_owned(),
    };
    write_json_file(args.out, &file)?;
    eprintln!(
        "wrote the attestation ({} >= {} x MR{}) to {} ({} proof bytes, proved in {seconds:.2} s)",
        if shape.is_risk_model_v2() { "MV" } else { "TV" },
        file.claim.min_margin_ratio,
        file.claim
            .min_equity
            .as_ref()
            .map(|x| format!(", TV >= {x}"))
            .unwrap_or_default(),
        args.out.display(),
        proof_bytes.len()
    );
    Ok(())
}

fn cmd_verify_attestation(
    path: &Path,
    epoch_dir: &Path,
    key: Option<&Path>,
    json: bool,
) -> Result<(), CliError> {
    let (statement, statement_bytes) = read_statement(epoch_dir)?;
    let bytes = std::fs::read(path).map_err(|e| ProverError::io(path, e))?;
    let file: AttestationFile = serde_json::from_slice(&bytes)
        .map_err(|e| ProverError::Attestation(format!("{}: {e}", path.display())))?;
    let key = key.map(backstop_verifier::read_verifying_key).transpose()?;
    let started = Instant::now();
    let report = verify_attestation(&file, &statement, &statement_bytes, key.as_ref())
        .map_err(|e| ProverError::Attestation(format!("{}: {e}", path.display())))?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let value = serde_json::json!({
            "verified": true,
            "verify_seconds": seconds,
            "report": report,
        });
        out!("{value}");
    } else {
        out!("VERIFIED: {}", report.claim_sentence());
        if !report.context.is_empty() {
            out!("  context: {:?}", report.context);
        }
        if !report.trusted_key {
            out!(
                "  note: checked with the verifying key inside the attestation, made by a single-party setup: \
                 whoever made it could forge this; pass --key with a key from a setup you trust"
            );
        }
    }
    Ok(())
}

fn cmd_audit(
    epoch_dir: &Path,
    key: Option<&Path>,
    params: &Path,
    reserves: Option<&Path>,
    venue: &backstop_verifier::audit::VenueExpectation,
    format: Format,
) -> Result<(), CliError> {
    let key = key.map(backstop_verifier::read_trusted_key).transpose()?;
    let report = audit_epoch(epoch_dir, key.as_ref(), params, reserves, venue);
    print_out(&report.render(format));
    if report.ok() {
        Ok(())
    } else {
        Err(CliError::Audit(match &report.failure {
            Some(f) => format!("the epoch does not verify: {f}"),
            None => "the reserves attestation does not match the statement's reserves".into(),
        }))
    }
}

/// Prints `text` and a newline to stdout; a closed pipe (`… | head`) is not an
/// error worth a panic.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}
