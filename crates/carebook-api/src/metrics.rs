//! Prometheus metrics: request counts and latencies per route and status. One recorder per
//! process, installed on first use.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus handle (None if another recorder was installed first).
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

pub async fn track(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = matched
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let mut res = next.run(req).await;
    let took = start.elapsed();
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("carebook_http_requests_total", &labels).increment(1);
    metrics::histogram!("carebook_http_request_duration_seconds", &labels[..2])
        .record(took.as_secs_f64());
    // The time spent in the server (authentication, handler, database, serialisation of the
    // body), for clients and load tests to tell it from the network.
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={:.3}", took.as_secs_f64() * 1000.0)) {
        res.headers_mut().insert(SERVER_TIMING, v);
    }
    res
}

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");
