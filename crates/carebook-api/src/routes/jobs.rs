//! The background queue for operators: the dead letters (jobs whose attempts ran out or that
//! failed for good) with their errors, and a retry that queues one again with fresh attempts.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::meta::{Change, RequestMeta};
use crate::state::AppState;
use axum::extract::State;
use carebook_store::jobs::Job;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dead_jobs))
        .routes(routes!(retry_job))
}

/// Job state.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatusName {
    Queued,
    Running,
    Succeeded,
    Dead,
    Cancelled,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    /// e.g. `send_notification`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub idempotency_key: String,
    pub status: JobStatusName,
    #[schema(value_type = String, format = DateTime)]
    pub run_at: Timestamp,
    pub attempts: u32,
    pub max_attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

impl From<&Job> for JobView {
    fn from(j: &Job) -> Self {
        use carebook_store::jobs::JobStatus as S;
        Self {
            id: j.id,
            kind: j.kind.clone(),
            payload: j.payload.clone(),
            idempotency_key: j.idempotency_key.clone(),
            status: match j.status {
                S::Queued => JobStatusName::Queued,
                S::Running => JobStatusName::Running,
                S::Succeeded => JobStatusName::Succeeded,
                S::Dead => JobStatusName::Dead,
                S::Cancelled => JobStatusName::Cancelled,
            },
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error.clone(),
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadParams {
    /// How many, most recent first (1-200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The dead letters, most recent first.
#[utoipa::path(get, path = "/api/v1/jobs/dead", tag = "operations", params(DeadParams), responses((status = 200, body = Vec<JobView>)))]
async fn dead_jobs(
    State(state): State<AppState>,
    Query(q): Query<DeadParams>,
) -> ApiResult<Json<Vec<JobView>>> {
    let limit = crate::views::PageParams {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let jobs = state.store.read().await?.dead_jobs(limit).await?;
    Ok(Json(jobs.iter().map(JobView::from).collect()))
}

/// Queue a dead job again, with fresh attempts, to run now.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "operations", params(("id" = Uuid, Path)), responses((status = 200, body = JobView)))]
async fn retry_job(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<JobView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let before = tx
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    if !tx.revive_job(id, now).await? {
        return Err(ApiError::new(
            Code::InvalidState,
            "only dead jobs can be retried",
        ));
    }
    let after = tx
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    let view = JobView::from(&after);
    let change = Change::new("job.retry", "job", Some(id))
        .old(&JobView::from(&before))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}
