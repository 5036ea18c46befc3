//! The HTTP server's limits against slow clients and floods.
//!
//! * **Header timeout** (`--header-timeout-ms`): a connection that has not sent a
//!   request's complete headers within it is closed (slowloris on the headers, or an
//!   idle connection). `axum::serve` gives hyper no timer, which leaves hyper's
//!   header timeout inert, so [`serve`] runs hyper's HTTP/1.1 server itself.
//! * **Request timeout** (`--request-timeout-ms`): a request not answered within it,
//!   reading its body included, is answered 408 and its connection closed.
//! * **Concurrency** (`--max-concurrent-requests`): requests beyond it in flight are
//!   shed at once with 503 and `Retry-After: 1`. `/livez` and `/readyz` are exempt,
//!   so probes answer while the API is saturated.
//!
//! Submissions are also read and parsed one at a time, within bounded memory
//! ([`crate::intake`]).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// The limits of `backstop serve`'s HTTP API.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// The largest request body (bytes).
    pub max_body_bytes: usize,
    /// The most one submission's parsing may take (bytes, estimated beforehand).
    pub max_parse_bytes: u64,
    /// The longest a request may take, reading its body included.
    pub request_timeout: Duration,
    /// Requests in flight beyond which others are refused (503).
    pub max_concurrent_requests: usize,
}

/// What the request guard shares.
#[derive(Debug, Clone)]
pub struct Guard {
    slots: Arc<Semaphore>,
    max: usize,
    timeout: Duration,
}

impl Guard {
    /// A guard for `limits`.
    pub fn new(limits: &HttpLimits) -> Self {
        let max = limits
            .max_concurrent_requests
            .clamp(1, Semaphore::MAX_PERMITS);
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            timeout: limits.request_timeout,
        }
    }
}

fn refusal(status: StatusCode, error: String, limit: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "error": error, "limit": limit })),
    )
        .into_response();
    // The request may be half read: the connection cannot carry another.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Sheds requests beyond the concurrency limit (503) and bounds each request's
/// time, reading its body included (408).
pub async fn guard_request(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let Ok(_slot) = guard.slots.clone().try_acquire_owned() else {
        let mut response = refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the service is already handling {} requests (--max-concurrent-requests); retry later",
                guard.max
            ),
            "max_concurrent_requests",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    match tokio::time::timeout(guard.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => refusal(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request was not completed within {} ms (--request-timeout-ms), reading its body included",
                guard.timeout.as_millis()
            ),
            "request_timeout_ms",
        ),
    }
}

/// Serves `app` on `listener` over HTTP/1.1 until `shutdown` resolves, then lets the
/// connections finish their requests. A connection that takes longer than
/// `header_timeout` to send a request's headers is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: wait rather than spin, as axum does.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Reap finished connections as we go.
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection closed");
                        }
                        break;
                    }
                    changed = stop.changed() => {
                        conn.as_mut().graceful_shutdown();
                        if changed.is_err() {
                            // The server is gone: finish without watching further.
                            let _ = conn.as_mut().await;
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
