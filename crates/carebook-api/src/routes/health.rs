//! Liveness, readiness and metrics for operators and orchestrators.

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    pub status: String,
    /// `postgres` or `sqlite` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        database: None,
    })
}

/// The process can serve requests: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> ApiResult<axum::Json<Health>> {
    let check = async {
        let mut tx = state.store.read().await?;
        tx.ping().await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), check).await {
        Ok(Ok(())) => Ok(axum::Json(Health {
            status: "ok".into(),
            database: Some(state.store.backend().as_str().into()),
        })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                Code::Unavailable,
                "the database is not reachable",
            ))
        }
        Err(_) => Err(ApiError::new(
            Code::Unavailable,
            "the database did not answer in time",
        )),
    }
}

/// Prometheus metrics in the text exposition format: requests by route and status, their
/// latency, the job queue's depth (`carebook_jobs`, by state) and the age of its oldest due
/// job (`carebook_jobs_oldest_due_seconds`), and the open waitlist entries
/// (`carebook_waitlist_entries`, waiting or offered).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.now();
    let stats = async {
        let mut tx = state.store.read().await?;
        let q = tx.queue_stats(now).await?;
        let w = tx.waitlist_depth().await?;
        Ok::<_, carebook_store::StoreError>((q, w))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), stats).await {
        Ok(Ok((q, (waiting, offered)))) => {
            for (status, n) in [("waiting", waiting), ("offered", offered)] {
                metrics::gauge!("carebook_waitlist_entries", "status" => status).set(n as f64);
            }
            for (status, n) in [
                ("queued", q.queued),
                ("due", q.due),
                ("running", q.running),
                ("dead", q.dead),
            ] {
                metrics::gauge!("carebook_jobs", "status" => status).set(n as f64);
            }
            let age = q
                .oldest_due
                .map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
            metrics::gauge!("carebook_jobs_oldest_due_seconds").set(age);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "queue metrics unavailable"),
        Err(_) => tracing::warn!("queue metrics timed out"),
    }
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
