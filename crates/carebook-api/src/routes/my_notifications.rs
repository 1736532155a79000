//! The signed-in account's devices and inbox.
//!
//! A device registers its push token here; registering a token again (the app restarted, or
//! another account signed in on the same device) reactivates it and moves it to the caller,
//! so a shared tablet never receives the previous user's messages. The inbox holds the
//! in-app and push messages delivered to the account, and to the patient record linked to
//! it, with their read state.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::meta::{Change, RequestMeta};
use crate::notification_views::*;
use crate::state::AppState;
use crate::views::{PageParams, split_page};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::ValidationError;
use carebook_store::StoreTx;
use carebook_store::channels::{Inbox, PushToken};
use carebook_store::models::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, register_token))
        .routes(routes!(remove_token))
        .routes(routes!(inbox))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_unread))
        .routes(routes!(mark_all_read))
}

/// A device's operating system.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Android,
    Ios,
    Web,
}

impl Platform {
    fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Web => "web",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterToken {
    /// The registration token the push service gave the app.
    #[schema(min_length = 1, max_length = 4096)]
    pub token: String,
    pub platform: Platform,
    /// e.g. "Amina's phone".
    #[schema(max_length = 200)]
    pub device_name: Option<String>,
}

/// My registered devices, newest first (`include_inactive` adds the deactivated ones).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    pub include_inactive: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/me/push-tokens", tag = "me", params(TokenParams), responses((status = 200, body = Vec<PushTokenView>)))]
async fn list_tokens(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<TokenParams>,
) -> ApiResult<Json<Vec<PushTokenView>>> {
    let mut tx = state.store.read().await?;
    let tokens = tx
        .push_tokens_of(p.user_id, q.include_inactive.unwrap_or(false))
        .await?;
    Ok(Json(tokens.iter().map(PushTokenView::from).collect()))
}

/// Register this device for push messages (idempotent on the token).
#[utoipa::path(post, path = "/api/v1/me/push-tokens", tag = "me", request_body = RegisterToken, responses((status = 201, body = PushTokenView), (status = 200, body = PushTokenView, description = "The token was registered before: it is active again and the caller's")))]
async fn register_token(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<RegisterToken>,
) -> ApiResult<(StatusCode, Json<PushTokenView>)> {
    let mut errors = vec![];
    let token = b.token.trim().to_owned();
    if token.is_empty()
        || token.len() > 4096
        || token.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        errors.push(ValidationError::new(
            "token",
            "must be 1-4096 characters without spaces",
        ));
    }
    let device_name = crate::fields::line("device_name", b.device_name, 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let fresh = PushToken {
        id: Uuid::now_v7(),
        user_id: p.user_id,
        token,
        platform: b.platform.as_str().to_owned(),
        device_name,
        is_active: true,
        last_used_at: Some(now),
        created_at: now,
        deactivated_at: None,
        deactivation_reason: None,
    };
    let mut tx = state.store.write().await?;
    let saved = tx.register_push_token(&fresh).await?;
    let created = saved.id == fresh.id;
    let view = PushTokenView::from(&saved);
    let action = if created {
        "push_token.register"
    } else {
        "push_token.reregister"
    };
    let change = Change::new(action, "push_token", Some(saved.id)).new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Remove one of my devices: it gets no more push messages.
#[utoipa::path(delete, path = "/api/v1/me/push-tokens/{id}", tag = "me", params(("id" = Uuid, Path)), responses((status = 204)))]
async fn remove_token(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let existing = tx
        .get_push_token(id)
        .await?
        .filter(|t| t.user_id == p.user_id)
        .ok_or_else(|| ApiError::not_found("push token"))?;
    if !tx.delete_push_token(p.user_id, id).await? {
        return Err(ApiError::not_found("push token"));
    }
    let change = Change::new("push_token.remove", "push_token", Some(id))
        .old(&PushTokenView::from(&existing));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn inbox_of(tx: &mut dyn StoreTx, p: &Principal) -> ApiResult<Inbox> {
    let patient = tx.get_patient_by_user(p.user_id).await?;
    Ok(Inbox {
        user_id: p.user_id,
        patient_id: patient.map(|pt| pt.id),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Only unread messages.
    pub unread: Option<bool>,
    #[serde(rename = "type")]
    pub kind: Option<NotificationType>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// My messages, newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "me", params(InboxParams), responses((status = 200, body = InboxPage)))]
async fn inbox(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<InboxParams>,
) -> ApiResult<Json<InboxPage>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let mut tx = state.store.read().await?;
    let inbox = inbox_of(tx.as_mut(), &p).await?;
    let rows = tx
        .inbox(
            inbox,
            q.unread.unwrap_or(false),
            q.kind.map(|k| k.as_str()),
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let unread = tx.unread_count(inbox).await?;
    let (rows, next_cursor) = split_page(rows, limit, |n| n.id.to_string());
    Ok(Json(InboxPage {
        items: rows.iter().map(InboxItem::from).collect(),
        next_cursor,
        unread,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

/// How many of my messages are unread (for a badge).
#[utoipa::path(get, path = "/api/v1/me/notifications/unread-count", tag = "me", responses((status = 200, body = UnreadCount)))]
async fn unread_count(State(state): State<AppState>, p: Principal) -> ApiResult<Json<UnreadCount>> {
    let mut tx = state.store.read().await?;
    let inbox = inbox_of(tx.as_mut(), &p).await?;
    Ok(Json(UnreadCount {
        unread: tx.unread_count(inbox).await?,
    }))
}

async fn set_read(state: &AppState, p: &Principal, id: Uuid, read: bool) -> ApiResult<InboxItem> {
    let mut tx = state.store.write().await?;
    let inbox = inbox_of(tx.as_mut(), p).await?;
    let n = tx
        .mark_read(inbox, id, read, state.now())
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    tx.commit().await?;
    Ok(InboxItem::from(&n))
}

/// Mark one of my messages read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = InboxItem)))]
async fn mark_read(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InboxItem>> {
    Ok(Json(set_read(&state, &p, id, true).await?))
}

/// Mark one of my messages unread again.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/unread", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = InboxItem)))]
async fn mark_unread(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InboxItem>> {
    Ok(Json(set_read(&state, &p, id, false).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many messages were unread and are read now.
    pub marked: u64,
}

/// Mark all my messages read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "me", responses((status = 200, body = MarkedRead)))]
async fn mark_all_read(State(state): State<AppState>, p: Principal) -> ApiResult<Json<MarkedRead>> {
    let mut tx = state.store.write().await?;
    let inbox = inbox_of(tx.as_mut(), &p).await?;
    let marked = tx.mark_all_read(inbox, state.now()).await?;
    tx.commit().await?;
    Ok(Json(MarkedRead { marked }))
}
