//! Backstop's prover service: epochs as durable jobs behind an HTTP API.
//!
//! What it is: the library behind `backstop serve` and `backstop worker` (the
//! `backstop` binary, crate `backstop-cli`, flattens [`ServiceCommand`] into its
//! subcommands). What it is not: it proves through `backstop-prover` and verifies
//! through `backstop-verifier`; it has no proving or checking logic of its own.
//!
//! * `backstop serve` ([`serve`]) runs the HTTP API ([`api`]), the job store
//!   ([`store`]: SQLite by default, PostgreSQL to scale out), the artifact store
//!   ([`artifacts`]) and `--workers` local proving loops ([`worker`]).
//! * `backstop worker --db postgres://…` ([`worker_main`]) runs proving loops on
//!   another machine against the same database and artifact store.
//!
//! An epoch is one job of `K` batch tasks. Each task is proven from the persisted
//! snapshot: the witness of every batch is rebuilt deterministically from the
//! snapshot and the venue secret (`docs/SPEC.md` §5.1), so no witness is ever
//! persisted. When every batch is proven, one process builds the statement,
//! verifies the whole epoch with the verifier, writes every inclusion proof, marks
//! the epoch verified and (unless `--retain-inputs`) deletes the snapshot.
//! How to run it: the README's "Prover service"; what it stores and reveals:
//! `docs/SPEC.md` §10.

pub mod api;
pub mod artifacts;
pub mod auth;
pub mod backends;
pub mod faults;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod store;
pub mod worker;

use artifacts::{ArtifactStore, LocalDir};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::Backend;
use backstop_prover::ProverError;
use backstop_prover::keys::{Groth16Keys, KEYS_FILE, SETUP_WARNING};
use clap::{Args, Subcommand};
use metrics::Metrics;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Fence, Store};
use thiserror::Error;

/// The service layer's errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A setting is unusable.
    #[error("{0}")]
    Config(String),
    /// A file operation failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The database refused or failed.
    #[error("database: {0}")]
    Db(Box<sqlx::Error>),
    /// Loading keys, proving or verifying failed.
    #[error("{0}")]
    Prover(Box<ProverError>),
    /// A background task died.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl ServiceError {
    /// Wraps an IO error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(Box::new(e))
    }
}

impl From<ProverError> for ServiceError {
    fn from(e: ProverError) -> Self {
        Self::Prover(Box::new(e))
    }
}

/// The service's commands.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Run the prover service: HTTP API, durable job queue and local provers.
    /// With no flags: SQLite and artifacts under ./backstop-service, listening
    /// on 127.0.0.1:8080.
    Serve(ServeArgs),
    /// Prove batch tasks from a shared job queue (`--db postgres://…`) on this
    /// machine, beside `backstop serve` elsewhere.
    Worker(WorkerArgs),
    /// Print a snapshot (directory or JSON file) in the canonical JSON form that
    /// `POST /v1/epochs` takes.
    SnapshotJson {
        /// A snapshot directory (epoch.toml, accounts.csv, positions.csv) or JSON file.
        #[arg(long)]
        snapshot: PathBuf,
    },
    /// Print the inclusion token of an account: the venue hands it to the
    /// account's owner, who presents it to `GET /v1/epochs/{epoch}/inclusion/{account}`.
    InclusionToken {
        /// The account id.
        #[arg(long)]
        account: u64,
        /// A file holding the venue secret (64 hex characters).
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
}

/// What every proving process needs.
#[derive(Debug, Clone, Args)]
pub struct ProverArgs {
    /// The job database: sqlite://PATH (created) or postgres://USER@HOST:PORT/DB.
    #[arg(long, default_value = "sqlite://backstop-service/backstop.db")]
    pub db: String,
    /// The artifact directory (shared by every worker).
    #[arg(long, default_value = "backstop-service/artifacts")]
    pub artifacts: PathBuf,
    /// The Groth16 keys directory (shared by every worker); `serve` makes
    /// development keys there if it holds none.
    #[arg(long, default_value = "backstop-service/keys")]
    pub keys: PathBuf,
    /// A file holding the venue secret (64 hex characters); default: the
    /// BACKSTOP_VENUE_SECRET variable. Without either the process refuses to start,
    /// unless --insecure-demo.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// A file holding the venue's signing key (64 hex characters), whose address the
    /// proofs bind and which signs each statement; default: the BACKSTOP_VENUE_KEY
    /// variable. Without either the process refuses to start, unless --insecure-demo.
    #[arg(long)]
    pub venue_key_file: Option<PathBuf>,
    /// Run with the PUBLIC demo venue secret and signing key where none is given:
    /// anyone can then compute every owner's inclusion token and sign as the venue.
    /// For demonstrations on loopback only.
    #[arg(long)]
    pub insecure_demo: bool,
    /// How long a claimed batch stays leased without a heartbeat (ms).
    #[arg(long, default_value_t = 15_000)]
    pub lease_ms: u64,
    /// How often a worker extends its lease while proving (ms).
    #[arg(long, default_value_t = 3_000)]
    pub heartbeat_ms: u64,
    /// How often an idle worker looks for work (ms).
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// Claims of one batch before its epoch is failed. Every claim counts,
    /// including one whose worker was killed or lost its lease.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: i64,
    /// Back-off before a batch released after an error is claimed again (ms);
    /// doubled at each further attempt, at most 64 times this.
    #[arg(long, default_value_t = 1_000)]
    pub retry_backoff_ms: u64,
    /// How long a failed epoch's snapshot is kept so that an operator can requeue
    /// it (hours); then it is deleted unless the epoch retains its inputs.
    #[arg(long, default_value_t = 168)]
    pub failed_retention_hours: u64,
    /// Temporary files a killed writer left in the artifact store, and the
    /// snapshots of submissions that never became epochs, are removed once this
    /// old (ms).
    #[arg(long, default_value_t = 3_600_000)]
    pub leftover_age_ms: u64,
    /// At SIGTERM, how long batches and verifications in progress may run on
    /// (ms); then their leases are given back unfinished and the process exits.
    #[arg(long, default_value_t = 30_000)]
    pub shutdown_grace_ms: u64,
    /// Where the halo2 IPA parameters are cached (generated there when missing;
    /// anyone can regenerate them: halo2 has no trusted setup).
    #[arg(long, default_value = "backstop-service/halo2-params")]
    pub halo2_params: PathBuf,
    /// Derive the halo2 keys at startup. Without it they are derived when first
    /// needed (the first halo2 submission, or the first halo2 epoch in the queue),
    /// so that Groth16-only deployments never spend the time or memory.
    #[arg(long)]
    pub halo2: bool,
    /// Test hook: sleep this long before proving each batch (ms), so that tests
    /// can kill a process mid-epoch. Never needed in production.
    #[arg(long, default_value_t = 0, hide = true)]
    pub batch_delay_ms: u64,
}

/// `backstop serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// What every proving process needs.
    #[command(flatten)]
    pub prover: ProverArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A file holding the API bearer token; default: the BACKSTOP_API_TOKEN
    /// variable, else backstop-service/token (generated, mode 0600, if missing).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Local proving loops (0: API and verification only, workers elsewhere).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// The largest request body accepted (bytes); larger ones are refused with 413.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// The most memory (bytes) parsing one submitted snapshot may take, bounded
    /// from the body in one pass before parsing; a snapshot over it is refused with
    /// 413. Default: 21 × --max-body-bytes + 256 KiB (1.3 GiB), which every valid
    /// snapshot within --max-body-bytes fits. Submissions are read and parsed one
    /// at a time, so they hold at most twice --max-body-bytes (the body, copied once
    /// while it is collected) plus this.
    #[arg(long)]
    pub max_parse_bytes: Option<u64>,
    /// The longest a request may take, reading its body included (ms); then it is
    /// answered 408 and its connection closed.
    #[arg(long, default_value_t = 60_000)]
    pub request_timeout_ms: u64,
    /// The longest a connection may take to send a request's headers, or stay idle
    /// between requests (ms); then it is closed.
    #[arg(long, default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Requests in flight beyond which others are refused at once with 503
    /// (`/livez` and `/readyz` are exempt).
    #[arg(long, default_value_t = 64)]
    pub max_concurrent_requests: usize,
    /// Keep each epoch's snapshot after it is verified (default: delete it).
    #[arg(long)]
    pub retain_inputs: bool,
    /// Accounts per batch for the development keys made when --keys holds none.
    #[arg(long, default_value_t = 64)]
    pub batch_size: u64,
    /// Markets for the development keys made when --keys holds none.
    #[arg(long, default_value_t = 8)]
    pub markets: usize,
    /// Risk model v2: maintenance brackets per market (the first included) for the
    /// development keys made when --keys holds none.
    #[arg(long, default_value_t = 1)]
    pub brackets: usize,
    /// Risk model v2: collateral assets for the development keys made when --keys
    /// holds none.
    #[arg(long, default_value_t = 0)]
    pub assets: usize,
    /// The default waterfall (SPEC §2.4) for the development keys made when --keys
    /// holds none.
    #[arg(long)]
    pub waterfall: bool,
}

/// `backstop worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// What every proving process needs.
    #[command(flatten)]
    pub prover: ProverArgs,
    /// Proving loops in this process.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
}

/// Timings of the proving loops.
#[derive(Debug, Clone, Copy)]
pub struct LoopConfig {
    /// Lease length.
    pub lease: Duration,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Idle poll period.
    pub poll: Duration,
    /// Attempts before failing an epoch.
    pub max_attempts: i64,
    /// Back-off after the first failed attempt (doubled per attempt, capped at 64×).
    pub retry_backoff: Duration,
    /// How long a failed epoch's inputs are kept for a requeue.
    pub failed_retention: Duration,
    /// How long work in progress may run on after SIGTERM.
    pub shutdown_grace: Duration,
    /// Age at which leftovers (temporaries, orphan snapshots) are removed.
    pub leftover_age: Duration,
    /// Test hook delay before each proof.
    pub batch_delay: Duration,
}

impl LoopConfig {
    /// The back-off after a task's `attempt`-th claim failed.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 6)).unwrap_or(6);
        self.retry_backoff.saturating_mul(1 << doublings)
    }
}

/// Everything the API and the proving loops share.
#[derive(Debug)]
pub struct Service {
    /// The job store.
    pub store: Store,
    /// The artifact store.
    pub artifacts: Arc<dyn ArtifactStore>,
    /// The Groth16 proving key (and the verifying key inside it).
    pub keys: Groth16Keys,
    /// The halo2 keys of the same shape, derived when first needed.
    pub halo2: backends::Halo2Slot,
    /// The venue secret.
    pub secret: VenueSecret,
    /// The venue's signing key (its address is bound into every proof).
    pub venue: backstop_prover::venue::VenueKey,
    /// Fingerprint of the secret: tasks are only claimed by processes holding it.
    pub secret_id: String,
    /// The shape, secret and key of the Groth16 jobs this process proves; its
    /// halo2 jobs' fence is [`Service::fence_for`].
    pub fence: Fence,
    /// The circuit shape of the keys.
    pub shape: CircuitShape,
    /// Loop timings.
    pub loops: LoopConfig,
    /// Keep inputs after verification (set on each epoch at submission).
    pub retain_inputs: bool,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// When this process last swept leftovers.
    pub last_sweep: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Service {
    /// The fence of this process's jobs of `backend`: `None` for halo2 until its
    /// keys are derived.
    pub fn fence_for(&self, backend: Backend) -> Option<Fence> {
        match backend {
            Backend::Groth16Bn254 => Some(self.fence.clone()),
            Backend::Halo2Pasta => self.halo2.fence(&self.secret_id),
        }
    }

    /// The fences of every backend this process can claim work of now.
    pub fn fences(&self) -> Vec<(Backend, Fence)> {
        [Backend::Groth16Bn254, Backend::Halo2Pasta]
            .into_iter()
            .filter_map(|b| self.fence_for(b).map(|f| (b, f)))
            .collect()
    }
}

/// Runs a service command.
pub fn run(command: ServiceCommand) -> Result<(), ServiceError> {
    match command {
        ServiceCommand::InclusionToken {
            account,
            secret_file,
        } => {
            let secret = backstop_prover::secret::load(secret_file.as_deref())?;
            println!("{}", auth::account_token(&secret, account));
            Ok(())
        }
        ServiceCommand::SnapshotJson { snapshot } => {
            let snapshot =
                backstop_circuits::snapshot::load(&snapshot).map_err(ProverError::from)?;
            print!("{}", backstop_circuits::snapshot::to_json(&snapshot));
            Ok(())
        }
        ServiceCommand::Serve(args) => run_to_end(serve(args)),
        ServiceCommand::Worker(args) => run_to_end(worker_main(args)),
    }
}

/// Runs `main` on a new runtime; then exits without waiting for proofs still
/// running on blocking threads (their leases were given back at the shutdown
/// deadline).
fn run_to_end(main: impl Future<Output = Result<(), ServiceError>>) -> Result<(), ServiceError> {
    let rt = runtime()?;
    let result = rt.block_on(main);
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

fn runtime() -> Result<tokio::runtime::Runtime, ServiceError> {
    init_tracing();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServiceError::io("tokio runtime", e))
}

fn init_tracing() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // arkworks instruments constraint synthesis with spans whose fields format the
    // whole constraint system: enabled, they make proving orders of magnitude slower.
    for quiet in [
        "r1cs=off",
        "gr1cs=off",
        "ark_relations=off",
        "ark_r1cs_std=off",
        "ark_groth16=off",
        "ark_crypto_primitives=off",
    ] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    // A second initialisation (tests calling in-process) is harmless.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Loads the keys in `dir`, or (if `setup_shape` is given and `dir` holds none)
/// runs the development setup there, loudly. The setup holds an exclusive lock on
/// a file beside `dir` (`.<name>.setup-lock`), and whoever takes it second loads the first one's keys: two
/// servers started together on one empty keys directory share one key instead of
/// each making and overwriting its own.
fn load_keys(dir: &Path, setup_shape: Option<CircuitShape>) -> Result<Groth16Keys, ServiceError> {
    if dir.join(KEYS_FILE).is_file() {
        return Ok(Groth16Keys::load_any(dir)?);
    }
    let Some(shape) = setup_shape else {
        return Err(ServiceError::Config(format!(
            "no keys in {}: point --keys at the directory `backstop serve` uses (or run `backstop setup`)",
            dir.display()
        )));
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| ServiceError::io(&parent, e))?;
    let name = dir
        .file_name()
        .map_or_else(|| "keys".to_owned(), |n| n.to_string_lossy().into_owned());
    let lock_path = parent.join(format!(".{name}.setup-lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| ServiceError::io(&lock_path, e))?;
    lock.lock().map_err(|e| ServiceError::io(&lock_path, e))?;
    let keys = if dir.join(KEYS_FILE).is_file() {
        tracing::info!(keys = %dir.display(), "keys made by another process meanwhile: using them");
        Groth16Keys::load_any(dir)?
    } else {
        eprintln!("{SETUP_WARNING}");
        tracing::warn!(keys = %dir.display(), shape = %shape.id(), "no keys: running the development setup");
        Groth16Keys::setup_and_save(shape, dir)?.0
    };
    drop(lock);
    Ok(keys)
}

/// Opens the store, artifacts, keys and secret.
async fn open(
    args: &ProverArgs,
    setup_shape: Option<CircuitShape>,
    retain_inputs: bool,
) -> Result<Arc<Service>, ServiceError> {
    if args.heartbeat_ms == 0 || args.heartbeat_ms >= args.lease_ms {
        return Err(ServiceError::Config(format!(
            "--heartbeat-ms ({}) must be positive and shorter than --lease-ms ({})",
            args.heartbeat_ms, args.lease_ms
        )));
    }
    require_venue_secrets(args)?;
    let secret = backstop_prover::secret::load(args.secret_file.as_deref())?;
    let venue = backstop_prover::venue::load(args.venue_key_file.as_deref())?;
    // The database first: a bad --db is refused before any key is made.
    let store = Store::connect(&args.db).await?;
    let keys_dir = args.keys.clone();
    let keys = tokio::task::spawn_blocking(move || load_keys(&keys_dir, setup_shape))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    let artifacts: Arc<dyn ArtifactStore> = Arc::new(LocalDir::open(&args.artifacts)?);
    let secret_id = auth::secret_id(&secret);
    let svc = Arc::new(Service {
        store,
        artifacts,
        shape: keys.shape(),
        halo2: backends::Halo2Slot::new(args.halo2_params.clone(), keys.shape()),
        fence: Fence {
            shape: keys.shape().id(),
            secret_id: secret_id.clone(),
            key_id: keys.verifying_key_hash().to_owned(),
        },
        keys,
        secret_id,
        secret,
        venue,
        loops: LoopConfig {
            lease: Duration::from_millis(args.lease_ms),
            heartbeat: Duration::from_millis(args.heartbeat_ms),
            poll: Duration::from_millis(args.poll_ms.max(10)),
            max_attempts: args.max_attempts.max(1),
            retry_backoff: Duration::from_millis(args.retry_backoff_ms),
            failed_retention: Duration::from_secs(args.failed_retention_hours.saturating_mul(3600)),
            shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
            leftover_age: Duration::from_millis(args.leftover_age_ms),
            batch_delay: Duration::from_millis(args.batch_delay_ms),
        },
        retain_inputs,
        metrics: Metrics::default(),
        last_sweep: std::sync::Mutex::new(None),
    });
    if args.halo2 {
        svc.halo2.keys().await?;
    }
    Ok(svc)
}

/// Refuses to run a service on the public demo secret or key unless
/// `--insecure-demo`: with the demo secret anyone computes every owner's inclusion
/// token, with the demo key anyone signs as the venue.
fn require_venue_secrets(args: &ProverArgs) -> Result<(), ServiceError> {
    if args.insecure_demo {
        return Ok(());
    }
    let given =
        |file: &Option<PathBuf>, var: &str| file.is_some() || std::env::var_os(var).is_some();
    let mut missing = Vec::new();
    if !given(&args.secret_file, backstop_prover::secret::SECRET_ENV) {
        missing.push("a venue secret (--secret-file or BACKSTOP_VENUE_SECRET)");
    }
    if !given(&args.venue_key_file, backstop_prover::venue::VENUE_KEY_ENV) {
        missing.push("a venue signing key (--venue-key-file or BACKSTOP_VENUE_KEY)");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Config(format!(
        "refusing to start without {}: the public demo ones would let anyone read every \
         account's inclusion proof and sign as the venue (pass --insecure-demo to run a \
         demonstration with them anyway)",
        missing.join(" and ")
    )))
}

/// `url` with any password replaced by `***` (`postgres://user:***@host/db`), for
/// logs and errors: credentials are never printed.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last '@' before the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let (userinfo, host) = rest.split_at(at);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{host}"),
        None => url.to_owned(),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `backstop serve`.
pub async fn serve(args: ServeArgs) -> Result<(), ServiceError> {
    let setup_shape =
        CircuitShape::with_risk(args.batch_size, args.markets, args.brackets, args.assets)
            .map(|s| s.with_waterfall(args.waterfall))
            .map_err(|e| ServiceError::Config(e.to_string()))?;
    let token = auth::api_token(args.token_file.as_deref())?;
    let svc = open(&args.prover, Some(setup_shape), args.retain_inputs).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| ServiceError::io(&args.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServiceError::io(&args.listen, e))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = Vec::new();
    let workers = args.workers;
    // With no local provers, one loop still verifies finished epochs.
    for i in 0..workers.max(1) {
        let id = format!("serve-{}-{}-{i}", std::process::id(), auth::random_hex(4));
        loops.push(tokio::spawn(worker::run_loop(
            svc.clone(),
            id,
            workers > 0,
            stop_rx.clone(),
        )));
    }
    let limits = limits::HttpLimits {
        max_body_bytes: args.max_body_bytes,
        max_parse_bytes: args
            .max_parse_bytes
            .unwrap_or_else(|| intake::default_budget(args.max_body_bytes)),
        request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
        max_concurrent_requests: args.max_concurrent_requests.max(1),
    };
    let app = api::router(svc.clone(), token, &limits);
    tracing::info!(%addr, db = %redact_url(&args.prover.db), workers, shape = %svc.shape.id(), "backstop serve listening");
    println!("listening on http://{addr}");
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut http_stop = stop_rx.clone();
    let header_timeout = Duration::from_millis(args.header_timeout_ms.max(1));
    let result = limits::serve(listener, app, header_timeout, async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    })
    .await
    .map_err(|e| ServiceError::io(&args.listen, e));
    stop_loops(&svc, loops).await;
    result
}

/// Waits for the proving loops to stop (each gives its work back at the shutdown
/// deadline if it has not finished by then).
async fn stop_loops(svc: &Service, loops: Vec<tokio::task::JoinHandle<()>>) {
    tracing::info!(
        grace_ms = u64::try_from(svc.loops.shutdown_grace.as_millis()).unwrap_or(u64::MAX),
        "shutting down: finishing the work in progress until the deadline"
    );
    for l in loops {
        let _ = l.await;
    }
    tracing::info!("shut down");
}

/// `backstop worker`.
pub async fn worker_main(args: WorkerArgs) -> Result<(), ServiceError> {
    let svc = open(&args.prover, None, false).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = Vec::new();
    for i in 0..args.workers.max(1) {
        let id = format!("worker-{}-{}-{i}", std::process::id(), auth::random_hex(4));
        loops.push(tokio::spawn(worker::run_loop(
            svc.clone(),
            id,
            true,
            stop_rx.clone(),
        )));
    }
    tracing::info!(db = %redact_url(&args.prover.db), workers = args.workers.max(1), shape = %svc.shape.id(), "backstop worker started");
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    stop_loops(&svc, loops).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://backstop:hunter2@db.internal:5432/backstop"),
            "postgres://backstop:***@db.internal:5432/backstop"
        );
        // A password with '@' and ':' in it, and no path.
        assert_eq!(
            redact_url("postgresql://u:p@ss:w@rd@host"),
            "postgresql://u:***@host"
        );
        for unchanged in [
            "postgres://backstop@127.0.0.1:5432/postgres",
            "sqlite://backstop-service/backstop.db",
            "sqlite:///tmp/a@b/c.db",
            "not a url",
        ] {
            assert_eq!(redact_url(unchanged), unchanged);
        }
    }
}
