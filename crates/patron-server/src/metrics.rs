//! Prometheus metrics at `GET /metrics`, recorded through the `metrics` facade and rendered
//! by `metrics-exporter-prometheus`:
//!
//! - `patron_http_requests_total{method, route, status}` and
//!   `patron_http_request_duration_seconds{method, route}` (route templates, never raw paths);
//! - `patron_password_hash_queue_depth` (hashes waiting for a slot) and
//!   `patron_password_hash_wait_seconds` (how long they waited);
//! - `patron_otp_sends_total{outcome, reason}` (`sent`, or `refused` with the budget or rule);
//! - `patron_outbox_messages`, `patron_jobs`, `patron_lifecycle_events` `{status}` and
//!   `patron_db_pool_connections{state}`, read from the database at each scrape.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;
use crate::error::ApiError;

/// Upper bounds of latency buckets, seconds: 1 ms to about 16 s.
const LATENCY_BUCKETS: [f64; 15] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (one per process, shared by every server
/// it runs).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows nothing");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "patron_http_requests_total",
        "HTTP requests answered, by route template and status."
    );
    describe_histogram!(
        "patron_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route template."
    );
    describe_gauge!(
        "patron_password_hash_queue_depth",
        "Password hashes and checks waiting for a hashing slot."
    );
    describe_histogram!(
        "patron_password_hash_wait_seconds",
        Unit::Seconds,
        "Time a password hash or check waited for a slot."
    );
    describe_counter!(
        "patron_otp_sends_total",
        "One-time password sends: sent, or refused with the reason."
    );
    describe_gauge!(
        "patron_outbox_messages",
        "Customer messages waiting (pending) or given up (failed)."
    );
    describe_gauge!("patron_jobs", "Background jobs pending, running or failed.");
    describe_gauge!(
        "patron_lifecycle_events",
        "Lifecycle events waiting (pending) or given up (failed)."
    );
    describe_gauge!(
        "patron_db_pool_connections",
        "Database connections of this node's pool, idle or in use."
    );
}

/// Middleware (on routed requests): counts the request and times it under its route
/// template.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    // (Route layers see only matched requests; the router's fallbacks count the others.)
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    counter!("patron_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    histogram!("patron_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A request no route matched (404) or whose method the route does not take (405): counted
/// under the route `unmatched`, so probing and broken clients show up without their paths
/// becoming labels.
pub fn unmatched(method: &axum::http::Method, status: axum::http::StatusCode) {
    counter!(
        "patron_http_requests_total",
        "method" => method_label(method),
        "route" => "unmatched",
        "status" => status.as_u16().to_string()
    )
    .increment(1);
}

/// The `method` label: a standard method's name, `OTHER` for any other token a client
/// sends (each would otherwise start a series of its own).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    STANDARD
        .iter()
        .find(|(known, _)| known == method)
        .map_or("OTHER", |(_, name)| name)
}

/// `GET /metrics`: the database's backlogs read now, then everything in the Prometheus
/// text format.
pub async fn scrape(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let backlogs = state
        .stores
        .health
        .backlogs()
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    let count = |value: i64| value as f64;
    for (name, status, value) in [
        ("patron_outbox_messages", "pending", backlogs.outbox_pending),
        ("patron_outbox_messages", "failed", backlogs.outbox_failed),
        ("patron_jobs", "pending", backlogs.jobs_pending),
        ("patron_jobs", "running", backlogs.jobs_running),
        ("patron_jobs", "failed", backlogs.jobs_failed),
        (
            "patron_lifecycle_events",
            "pending",
            backlogs.events_pending,
        ),
        ("patron_lifecycle_events", "failed", backlogs.events_failed),
    ] {
        gauge!(name, "status" => status).set(count(value));
    }
    let in_use = backlogs.pool_size.saturating_sub(backlogs.pool_idle);
    gauge!("patron_db_pool_connections", "state" => "idle").set(f64::from(backlogs.pool_idle));
    gauge!("patron_db_pool_connections", "state" => "in_use").set(f64::from(in_use));
    let handle = handle();
    handle.run_upkeep();
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    ))
}
