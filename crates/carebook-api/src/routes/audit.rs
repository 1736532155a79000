//! Querying the audit trail. Clinic-bound administrators see their clinic's events.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;
use crate::views::{AuditPage, PageParams, split_page};
use axum::extract::State;
use carebook_domain::audit::ChainedRecord;
use carebook_store::models::{AuditFilter, PageRequest};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Position in the hash chain.
    pub seq: i64,
    pub id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    pub actor_user_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// e.g. `user.create`, `auth.login`, `auth.login_failed`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub clinic_id: Option<Uuid>,
    /// Values before the change (secrets redacted).
    #[schema(value_type = Option<Object>)]
    pub old_values: Option<serde_json::Value>,
    /// Values after the change (secrets redacted).
    #[schema(value_type = Option<Object>)]
    pub new_values: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<ChainedRecord> for AuditEventView {
    fn from(c: ChainedRecord) -> Self {
        let r = c.record;
        Self {
            seq: c.seq,
            id: r.id,
            occurred_at: r.occurred_at,
            actor_user_id: r.actor_user_id,
            actor_role: r.actor_role,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            clinic_id: r.clinic_id,
            old_values: r.old_values,
            new_values: r.new_values,
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            prev_hash: c.prev_hash,
            hash: c.hash,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `user` or `clinic`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
    /// Events at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Events before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditQuery, PageParams), responses((status = 200, body = AuditPage)))]
async fn list_audit_events(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<AuditPage>> {
    let limit = page.limit()?;
    let after = page.after::<i64>()?;
    let clinic_id = match (p.clinic_scope(), q.clinic_id) {
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::forbidden(
                "you can only read your clinic's audit trail",
            ));
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    let filter = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_user_id: q.actor_user_id,
        clinic_id,
        from: q.from,
        to: q.to,
    };
    let rows = state
        .store
        .read()
        .await?
        .list_audit(
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (rows, next_cursor) = split_page(rows, limit, |r| r.seq.to_string());
    Ok(Json(AuditPage {
        items: rows.into_iter().map(AuditEventView::from).collect(),
        next_cursor,
    }))
}
