//! The HTTP API (axum). Every `/v1` route and `/metrics` need the operator's bearer
//! token, except an inclusion proof, which its account's inclusion token also opens
//! ([`super::auth`]). What each route reveals is in `docs/SPEC.md` §10.
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /v1/epochs[?backend=groth16\|halo2]` | submit a JSON snapshot to prove with that backend (default groth16): 201 new job, 200 same job, 409 other content or backend, 400 bad snapshot or unknown backend, 413 too large (body, or memory to parse it) |
//! | `GET /v1/epochs/{epoch}` | the job's state, batches done/total, timings, each batch's attempts and last error |
//! | `POST /v1/epochs/{epoch}/requeue` | queue a failed epoch again: 200, 409 not failed or inputs deleted |
//! | `GET /v1/epochs/{epoch}/statement` | `statement.json` (once verified) |
//! | `GET /v1/epochs/{epoch}/proofs` | the batch proofs, hex, and for Groth16 the verifying key (halo2: its hash and `k`; verifiers derive the key) |
//! | `GET /v1/epochs/{epoch}/inclusion/{account}` | the account's inclusion proof |
//! | `GET /v1/epochs/{epoch}/calldata` | the epoch contract's `submitEpoch` calldata (Groth16 risk model v1 only: 409 for halo2 and for risk model v2) |
//! | `GET /metrics` | Prometheus counters (operator token) |
//! | `GET /livez`, `/readyz` | liveness, readiness (database and artifact store); no token |
//!
//! Every other route answers 503 at once beyond `--max-concurrent-requests` in
//! flight, and 408 after `--request-timeout-ms` ([`crate::limits`]).

use crate::artifacts::EpochKeys;
use crate::auth::{account_token, bearer, tokens_equal};
use crate::backends::{job_shape, parse_backend, split_job_shape};
use crate::intake;
use crate::limits::{Guard, HttpLimits, guard_request};
use crate::metrics::Metrics;
use crate::store::{EpochRow, NewEpoch, Requeued, Submitted, state};
use crate::{Service, ServiceError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use backstop_circuits::snapshot::{SnapshotError, parse_json, to_json};
use backstop_circuits::statement::{Backend, EpochStatement};
use backstop_prover::export::onchain::{submit_calldata, submit_epoch_function};
use backstop_verifier::artifacts::{STATEMENT_FILE, VERIFYING_KEY_FILE, decode_proof};
use backstop_verifier::inclusion::{BATCH_ROOTS_FILE, BatchRootsFile, InclusionProof};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// The API's shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    svc: Arc<Service>,
    token: Arc<str>,
}

/// An API error: a status and a JSON body `{"error": …}`.
#[derive(Debug)]
pub enum ApiError {
    /// 401.
    Unauthorized,
    /// 404 with what is missing.
    NotFound(String),
    /// 409 with why.
    Conflict(String),
    /// 400 with the snapshot's file/row/field error.
    Snapshot(SnapshotError),
    /// 400 with why.
    BadRequest(String),
    /// 500.
    Internal(ServiceError),
}

/// The longest piece of a submitted body an error echoes back.
const ECHO_LIMIT: usize = 512;

/// `text` cut to [`ECHO_LIMIT`] bytes (at a character boundary) and marked as cut:
/// an error that quotes a submitted value (a 64 MiB string, say) never sends the
/// value back whole.
fn clip(text: &str) -> String {
    if text.len() <= ECHO_LIMIT {
        return text.to_owned();
    }
    let mut end = ECHO_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self::Internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "missing or wrong bearer token"}),
            ),
            Self::NotFound(what) => (StatusCode::NOT_FOUND, json!({ "error": what })),
            Self::Conflict(why) => (StatusCode::CONFLICT, json!({ "error": why })),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, json!({ "error": why })),
            Self::Snapshot(e) => (
                StatusCode::BAD_REQUEST,
                json!({
                    "error": clip(&format!("invalid snapshot: {e}")),
                    "file": e.file,
                    "row": e.row,
                    "field": e.field.as_deref().map(clip),
                }),
            ),
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error (see the server log)"}),
                )
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The router, with the HTTP limits of [`crate::limits`] and [`crate::intake`].
pub fn router(svc: Arc<Service>, token: String, limits: &HttpLimits) -> Router {
    let state = AppState {
        svc,
        token: token.into(),
    };
    let submission = post(submit)
        .route_layer(from_fn_with_state(
            Arc::new(Semaphore::new(1)),
            intake::one_submission_at_a_time,
        ))
        .layer(Extension(ParseBudget(limits.max_parse_bytes)));
    let operator = Router::new()
        .route("/v1/epochs", submission)
        .route("/v1/epochs/{epoch}", get(status))
        .route("/v1/epochs/{epoch}/requeue", post(requeue))
        .route("/v1/epochs/{epoch}/statement", get(statement))
        .route("/v1/epochs/{epoch}/proofs", get(proofs))
        .route("/v1/epochs/{epoch}/calldata", get(calldata))
        // Counts of epochs and batches by state: the operator's, not the public's.
        .route("/metrics", get(metrics))
        .route_layer(from_fn_with_state(state.clone(), require_operator));
    // Every route but the probes: at most --max-concurrent-requests in flight, each
    // within --request-timeout-ms (checked before the token, so floods count).
    let limited = Router::new()
        .merge(operator)
        .route("/v1/epochs/{epoch}/inclusion/{account}", get(inclusion))
        .route_layer(from_fn_with_state(Guard::new(limits), guard_request));
    Router::new()
        .merge(limited)
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(from_fn(log_request))
        .with_state(state)
}

/// Logs each request by its route pattern (never the account id in the path).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %route, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

fn presented(headers: &HeaderMap) -> Option<&str> {
    bearer(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
}

async fn require_operator(
    State(st): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match presented(request.headers()) {
        Some(t) if tokens_equal(t, &st.token) => Ok(next.run(request).await),
        _ => Err(ApiError::Unauthorized),
    }
}

/// An epoch's job as `GET /v1/epochs/{epoch}` shows it.
#[derive(Debug, Serialize)]
pub struct EpochStatus {
    /// The epoch id.
    pub epoch: i64,
    /// queued, proving, verifying, verified or failed.
    pub state: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// The proof system: `groth16-bn254` or `halo2-pasta`.
    pub backend: Backend,
    /// The circuit shape.
    pub shape: String,
    /// Batches proven.
    pub batches_done: i64,
    /// `K`.
    pub batches_total: i64,
    /// Unix ms of submission.
    pub submitted_at_ms: i64,
    /// Unix ms of the first claim.
    pub started_at_ms: Option<i64>,
    /// Unix ms of verification or failure.
    pub finished_at_ms: Option<i64>,
    /// Submission to verification, seconds.
    pub total_seconds: Option<f64>,
    /// Seconds spent proving, summed over batches.
    pub prove_seconds: f64,
    /// Times an operator requeued it after a failure.
    pub requeues: i64,
    /// Claims of its verification (more than one: a verifier died or timed out).
    pub verification_attempts: i64,
    /// Whether its snapshot is still stored (a failed epoch can be requeued
    /// only while it is).
    pub inputs_stored: bool,
    /// Each batch: state, claims, proofs stored and its last error.
    pub batches: Vec<BatchStatus>,
}

/// One batch task.
#[derive(Debug, Serialize)]
pub struct BatchStatus {
    /// The batch index.
    pub batch: i64,
    /// queued, leased, done or cancelled.
    pub state: String,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// How many proofs of it were stored (write-once: 1 when done).
    pub proofs_stored: i64,
    /// The worker that holds or last held it.
    pub worker: Option<String>,
    /// Claims made after the previous holder's lease ran out.
    pub reclaims: i64,
    /// The error its last failed attempt was released with (cleared when proven).
    pub last_error: Option<String>,
}

async fn epoch_status(svc: &Service, row: &EpochRow) -> Result<EpochStatus, ApiError> {
    let tasks = svc.store.tasks(row.epoch).await?;
    let done = tasks
        .iter()
        .filter(|t| t.state == super::store::task_state::DONE)
        .count() as i64;
    let (backend, shape) = split_job_shape(&row.shape);
    Ok(EpochStatus {
        epoch: row.epoch,
        state: row.state.clone(),
        reason: row.reason.clone(),
        backend,
        shape: shape.to_owned(),
        batches_done: done,
        batches_total: row.batch_count,
        submitted_at_ms: row.submitted_ms,
        started_at_ms: row.started_ms,
        finished_at_ms: row.finished_ms,
        total_seconds: row
            .finished_ms
            .map(|f| (f - row.submitted_ms) as f64 / 1000.0),
        prove_seconds: tasks.iter().map(|t| t.prove_ms).sum::<i64>() as f64 / 1000.0,
        requeues: row.requeues,
        verification_attempts: row.final_attempts,
        inputs_stored: !row.inputs_deleted,
        batches: tasks
            .into_iter()
            .map(|t| BatchStatus {
                batch: t.batch,
                state: t.state,
                attempts: t.attempts,
                proofs_stored: t.proofs_stored,
                worker: t.worker,
                reclaims: t.reclaims,
                last_error: t.last_error,
            })
            .collect(),
    })
}

fn epoch_id(epoch: u64) -> Result<i64, ApiError> {
    i64::try_from(epoch).map_err(|_| ApiError::NotFound(format!("no epoch {epoch}")))
}

async fn find(svc: &Service, epoch: u64) -> Result<EpochRow, ApiError> {
    svc.store
        .epoch(epoch_id(epoch)?)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no epoch {epoch}")))
}

async fn find_verified(svc: &Service, epoch: u64) -> Result<EpochRow, ApiError> {
    let row = find(svc, epoch).await?;
    if row.state != state::VERIFIED {
        return Err(ApiError::NotFound(format!(
            "epoch {epoch} is {}, not verified: nothing is published yet",
            row.state
        )));
    }
    Ok(row)
}

/// `--max-parse-bytes`, for [`submit`].
#[derive(Debug, Clone, Copy)]
struct ParseBudget(u64);

/// The backend a submission's query string names: `backend=groth16` (the
/// default) or `backend=halo2`; anything else is refused, naming it.
fn submission_backend(query: Option<&str>) -> Result<Backend, ApiError> {
    let mut backend = Backend::Groth16Bn254;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("backend", value)) => {
                backend = parse_backend(value).map_err(ApiError::BadRequest)?;
            }
            _ => {
                let name = pair.split('=').next().unwrap_or(pair);
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter {name:?}: POST /v1/epochs takes backend=groth16 or backend=halo2"
                )));
            }
        }
    }
    Ok(backend)
}

async fn submit(
    State(st): State<AppState>,
    Extension(ParseBudget(budget)): Extension<ParseBudget>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let svc = &st.svc;
    let backend = submission_backend(query.as_deref())?;
    // Bounded memory: the body is refused (413) before parsing if parsing it could
    // take more than --max-parse-bytes (see crate::intake). Parsing blocks this
    // thread for up to seconds: tell the runtime so that other requests move on.
    let parse = || -> Result<Result<_, SnapshotError>, intake::Refusal> {
        intake::check(&body, budget)?;
        Ok(parse_json(&body, "snapshot.json"))
    };
    let parsed = match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(parse),
        _ => parse(),
    };
    let snapshot = match parsed {
        Ok(parsed) => parsed.map_err(ApiError::Snapshot)?,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let epoch = snapshot.params().epoch();
    let epoch_i = i64::try_from(epoch).map_err(|_| {
        ApiError::BadRequest(format!(
            "epoch {epoch} is too large for this service (at most {})",
            i64::MAX
        ))
    })?;
    if let Err(e) = svc.shape.check_params(snapshot.params()) {
        // Name the shape the snapshot needs, and for risk model v2 how keys for it
        // are made.
        let needed = backstop_circuits::shape::CircuitShape::for_params(
            svc.shape.batch_size().get() as u64,
            snapshot.params(),
        )
        .map(|shape| {
            if shape.is_risk_model_v2() {
                format!(
                    "; the snapshot uses risk model v2 (maintenance brackets or collateral \
                         assets) and needs keys for shape {} (`backstop setup --brackets {} \
                         --assets {}`)",
                    shape.id(),
                    shape.brackets(),
                    shape.assets()
                )
            } else {
                format!("; the snapshot needs keys for shape {}", shape.id())
            }
        })
        .unwrap_or_default();
        return Err(ApiError::BadRequest(format!(
            "this service proves shape {} and cannot prove the snapshot: {e}{needed}",
            svc.shape.id()
        )));
    }
    let canonical = to_json(&snapshot);
    let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
    let shape = job_shape(backend, svc.shape);
    let conflict = || {
        ApiError::Conflict(format!(
            "epoch {epoch} was already submitted with a different snapshot"
        ))
    };
    let other_backend = |row: &EpochRow| {
        ApiError::Conflict(format!(
            "epoch {epoch} was already submitted with this snapshot for the {} backend, not {backend}",
            split_job_shape(&row.shape).0
        ))
    };
    // Fast path: a repeated submission stores nothing (and derives no keys).
    if let Some(row) = svc.store.epoch(epoch_i).await? {
        if row.content_hash != hash {
            return Err(conflict());
        }
        if split_job_shape(&row.shape).0 != backend {
            return Err(other_backend(&row));
        }
        let status = epoch_status(svc, &row).await?;
        return Ok((StatusCode::OK, axum::Json(status)).into_response());
    }
    // The job records the key it is proven with: for halo2, derived now if this
    // process has not yet (once per process).
    let fence = match backend {
        Backend::Groth16Bn254 => svc.fence.clone(),
        Backend::Halo2Pasta => {
            svc.halo2.keys().await?;
            svc.fence_for(backend).ok_or_else(|| {
                ServiceError::Task("the halo2 keys vanished after being derived".into())
            })?
        }
    };
    let new = NewEpoch {
        epoch: epoch_i,
        content_hash: hash.clone(),
        shape,
        secret_id: fence.secret_id,
        key_id: fence.key_id,
        batch_count: svc
            .shape
            .batch_size()
            .batch_count(snapshot.accounts().len()) as i64,
        retain_inputs: svc.retain_inputs,
    };
    // The snapshot is stored (content-addressed) before the job exists, so a
    // worker never claims a task whose snapshot is missing.
    let key = EpochKeys(epoch_i).snapshot(&hash);
    let artifacts = svc.artifacts.clone();
    let key2 = key.clone();
    tokio::task::spawn_blocking(move || artifacts.put(&key2, canonical.as_bytes()))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    crate::faults::point("submit.after_snapshot");
    let outcome = svc.store.submit(&new).await?;
    crate::faults::point("submit.after_insert");
    let code = match outcome {
        Submitted::Created => {
            Metrics::inc(&svc.metrics.epochs_submitted);
            tracing::info!(epoch, batches = new.batch_count, "epoch submitted");
            StatusCode::CREATED
        }
        Submitted::Existing => {
            let row = find(svc, epoch).await?;
            if split_job_shape(&row.shape).0 != backend {
                return Err(other_backend(&row));
            }
            StatusCode::OK
        }
        Submitted::Conflict => {
            // Ours lost: remove our copy (the winner's has another name).
            let _ = svc.artifacts.delete(&key);
            return Err(conflict());
        }
    };
    let row = find(svc, epoch).await?;
    let status = epoch_status(svc, &row).await?;
    Ok((code, axum::Json(status)).into_response())
}

async fn status(
    State(st): State<AppState>,
    Path(epoch): Path<u64>,
) -> Result<axum::Json<EpochStatus>, ApiError> {
    let row = find(&st.svc, epoch).await?;
    Ok(axum::Json(epoch_status(&st.svc, &row).await?))
}

async fn requeue(
    State(st): State<AppState>,
    Path(epoch): Path<u64>,
) -> Result<axum::Json<EpochStatus>, ApiError> {
    let svc = &st.svc;
    match svc.store.requeue(epoch_id(epoch)?).await? {
        None => Err(ApiError::NotFound(format!("no epoch {epoch}"))),
        Some(Requeued::NotFailed(current)) => Err(ApiError::Conflict(format!(
            "epoch {epoch} is {current}: only a failed epoch is requeued"
        ))),
        Some(Requeued::InputsDeleted) => Err(ApiError::Conflict(format!(
            "epoch {epoch} failed and its snapshot was deleted after the retention period: \
             it cannot be proven again"
        ))),
        Some(Requeued::Requeued) => {
            tracing::info!(epoch, "failed epoch requeued by the operator");
            let row = find(svc, epoch).await?;
            Ok(axum::Json(epoch_status(svc, &row).await?))
        }
    }
}

fn artifact(svc: &Service, key: &str) -> Result<Vec<u8>, ApiError> {
    svc.artifacts
        .get(key)?
        .ok_or_else(|| ApiError::NotFound(format!("{key} is missing from the artifact store")))
}

async fn statement(
    State(st): State<AppState>,
    Path(epoch): Path<u64>,
) -> Result<Response, ApiError> {
    let row = find_verified(&st.svc, epoch).await?;
    let bytes = artifact(&st.svc, &EpochKeys(row.epoch).public_file(STATEMENT_FILE))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// Groth16: `{epoch, backend, verifying_key, proofs}`, the key and each batch's
/// proof in hex. halo2: `{epoch, backend, verifying_key_hash, k, proofs}`, each
/// proof the batch's transcript in hex; there is no key file (verifiers derive
/// the key from the statement's shape, `backstop verify --params DIR`).
async fn proofs(State(st): State<AppState>, Path(epoch): Path<u64>) -> Result<Response, ApiError> {
    let row = find_verified(&st.svc, epoch).await?;
    let keys = EpochKeys(row.epoch);
    let proofs = (0..row.batch_count)
        .map(|b| artifact(&st.svc, &keys.proof(b)).map(hex::encode))
        .collect::<Result<Vec<_>, _>>()?;
    let body = match split_job_shape(&row.shape).0 {
        Backend::Groth16Bn254 => {
            let vk = artifact(&st.svc, &keys.public_file(VERIFYING_KEY_FILE))?;
            json!({
                "epoch": epoch,
                "backend": Backend::Groth16Bn254,
                "verifying_key": hex::encode(vk),
                "proofs": proofs,
            })
        }
        Backend::Halo2Pasta => {
            let statement =
                EpochStatement::from_json(&artifact(&st.svc, &keys.public_file(STATEMENT_FILE))?)
                    .map_err(|e| ServiceError::Task(format!("stored statement.json: {e}")))?;
            json!({
                "epoch": epoch,
                "backend": Backend::Halo2Pasta,
                "verifying_key_hash": statement.file().verifying_key_hash,
                "k": backstop_circuits::halo2::Halo2BatchCircuit::k(statement.shape()),
                "proofs": proofs,
            })
        }
    };
    Ok(axum::Json(body).into_response())
}

async fn calldata(
    State(st): State<AppState>,
    Path(epoch): Path<u64>,
) -> Result<Response, ApiError> {
    let row = find(&st.svc, epoch).await?;
    let backend = split_job_shape(&row.shape).0;
    if backend != Backend::Groth16Bn254 {
        return Err(ApiError::Conflict(format!(
            "epoch {epoch} is proven with {backend}, which has no on-chain verifier: \
             calldata exists for groth16 epochs only (verify a halo2 epoch off chain \
             with `backstop verify`)"
        )));
    }
    let row = find_verified(&st.svc, epoch).await?;
    let svc = st.svc.clone();
    let (bytes, function) =
        tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), ApiError> {
            let keys = EpochKeys(row.epoch);
            let statement =
                EpochStatement::from_json(&artifact(&svc, &keys.public_file(STATEMENT_FILE))?)
                    .map_err(|e| ServiceError::Task(format!("stored statement.json: {e}")))?;
            let proofs = (0..row.batch_count)
                .map(|b| {
                    let bytes = artifact(&svc, &keys.proof(b))?;
                    decode_proof(&bytes).map_err(|e| {
                        ApiError::from(ServiceError::Task(format!(
                            "stored proof of batch {b}: {e}"
                        )))
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let function = submit_epoch_function(statement.shape());
            Ok((
                submit_calldata(&statement, &proofs).map_err(ServiceError::from)?,
                function,
            ))
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    Ok(axum::Json(json!({
        "epoch": epoch,
        "function": function,
        "calldata": format!("0x{}", hex::encode(bytes)),
    }))
    .into_response())
}

async fn inclusion(
    State(st): State<AppState>,
    Path((epoch, account)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let allowed = match presented(&headers) {
        Some(t) => {
            tokens_equal(t, &st.token) || tokens_equal(t, &account_token(&st.svc.secret, account))
        }
        None => false,
    };
    if !allowed {
        return Err(ApiError::Unauthorized);
    }
    let row = find_verified(&st.svc, epoch).await?;
    let keys = EpochKeys(row.epoch);
    let not_found = || ApiError::NotFound(format!("account {account} is not in epoch {epoch}"));
    let bytes = st
        .svc
        .artifacts
        .get(&keys.inclusion_file(&format!("{account}.json")))?
        .ok_or_else(not_found)?;
    let mut proof: InclusionProof = serde_json::from_slice(&bytes)
        .map_err(|e| ServiceError::Config(format!("stored inclusion proof: {e}")))?;
    // Self-contained: embed the shared batch roots.
    let roots: BatchRootsFile =
        serde_json::from_slice(&artifact(&st.svc, &keys.inclusion_file(BATCH_ROOTS_FILE))?)
            .map_err(|e| ServiceError::Config(format!("stored batch roots: {e}")))?;
    proof.batch_roots = Some(roots.batch_roots);
    proof.batch_roots_file = None;
    Ok(axum::Json(proof).into_response())
}

async fn readyz(State(st): State<AppState>) -> Response {
    if let Err(e) = st.svc.store.ping().await {
        tracing::warn!(error = %e, "not ready: job store");
        return (StatusCode::SERVICE_UNAVAILABLE, "job store unreachable\n").into_response();
    }
    let artifacts = st.svc.artifacts.clone();
    let writable = tokio::task::spawn_blocking(move || artifacts.check_writable()).await;
    match writable {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: artifact store");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "artifact store not writable\n",
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready: artifact store check died");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "artifact store not writable\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let text = st.svc.metrics.render(&st.svc.store).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
