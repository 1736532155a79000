//! Notifications for the clinic's staff: the history of a patient's and an appointment's
//! messages, the patient's notification preferences (staff set them at the desk, patients
//! their own through `/me/notification-preferences`), and how the clinic's messages go out.
//!
//! Preferences have their own narrow route rather than a general `PATCH /patients/{id}`:
//! opting in or out is a consent decision, so it is its own audit action
//! (`patient.notification_preferences`) that a privacy review can find, and the same body
//! serves the patient and the desk; contact details carry other rules (verification of a
//! changed email) and get their own route when that work comes.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::meta::{Change, RequestMeta};
use crate::notification_views::*;
use crate::routes::patients::visible_patient;
use crate::scope::Scope;
use crate::state::AppState;
use crate::views::{LanguageCode, PageParams, double_option, split_page};
use axum::extract::State;
use carebook_domain::{Email, ValidationError};
use carebook_store::StoreTx;
use carebook_store::channels::NotificationFilter;
use carebook_store::models::{PageRequest, Patient};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(patient_notifications))
        .routes(routes!(appointment_notifications))
        .routes(routes!(update_patient_preferences))
        .routes(routes!(my_preferences, update_my_preferences))
        .routes(routes!(get_settings, update_settings))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    pub channel: Option<ChannelName>,
    #[serde(rename = "type")]
    pub kind: Option<NotificationType>,
    pub status: Option<NotificationStatus>,
    /// Created at or after (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Created before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

async fn history(
    tx: &mut dyn StoreTx,
    mut filter: NotificationFilter,
    q: HistoryParams,
) -> ApiResult<NotificationPage> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(ApiError::invalid_parameter("to", "must be after `from`"));
    }
    filter.channel = q.channel.map(|c| c.as_str().to_owned());
    filter.kind = q.kind.map(|k| k.as_str().to_owned());
    filter.status = q.status.map(|s| s.as_str().to_owned());
    filter.from = q.from;
    filter.to = q.to;
    let rows = tx
        .list_notifications(
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (rows, next_cursor) = split_page(rows, limit, |n| n.id.to_string());
    Ok(NotificationPage {
        items: rows.iter().map(NotificationView::from).collect(),
        next_cursor,
    })
}

/// A patient's messages, newest first (clinic staff see their clinic's).
#[utoipa::path(get, path = "/api/v1/patients/{id}/notifications", tag = "notifications", params(("id" = Uuid, Path), HistoryParams), responses((status = 200, body = NotificationPage)))]
async fn patient_notifications(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Json<NotificationPage>> {
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    visible_patient(tx.as_mut(), &scope, id).await?;
    let filter = NotificationFilter {
        patient_id: Some(id),
        clinic_id: scope.clinic,
        ..Default::default()
    };
    Ok(Json(history(tx.as_mut(), filter, q).await?))
}

/// The messages about an appointment, newest first.
#[utoipa::path(get, path = "/api/v1/appointments/{id}/notifications", tag = "notifications", params(("id" = Uuid, Path), HistoryParams), responses((status = 200, body = NotificationPage)))]
async fn appointment_notifications(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Json<NotificationPage>> {
    let mut tx = state.store.read().await?;
    crate::routes::appointments::visible(tx.as_mut(), &p, id).await?;
    let filter = NotificationFilter {
        appointment_id: Some(id),
        ..Default::default()
    };
    Ok(Json(history(tx.as_mut(), filter, q).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePreferences {
    /// Nothing is sent at all (every message is recorded as skipped).
    pub notification_opt_out: Option<bool>,
    pub email_opt_out: Option<bool>,
    pub sms_opt_out: Option<bool>,
    pub push_opt_out: Option<bool>,
    pub preferred_language: Option<LanguageCode>,
}

async fn save_preferences(
    mut tx: Box<dyn StoreTx>,
    p: &Principal,
    meta: &RequestMeta,
    mut patient: Patient,
    b: UpdatePreferences,
    now: Timestamp,
) -> ApiResult<PreferencesView> {
    let before = PreferencesView::from(&patient);
    patient.notification_opt_out = b
        .notification_opt_out
        .unwrap_or(patient.notification_opt_out);
    let o = &mut patient.channel_opt_outs;
    o.email = b.email_opt_out.unwrap_or(o.email);
    o.sms = b.sms_opt_out.unwrap_or(o.sms);
    o.push = b.push_opt_out.unwrap_or(o.push);
    if let Some(l) = b.preferred_language {
        patient.preferred_language = l.as_str().to_owned();
    }
    patient.updated_at = now;
    tx.update_patient(&patient).await?;
    let after = PreferencesView::from(&patient);
    let change = Change::new(
        "patient.notification_preferences",
        "patient",
        Some(patient.id),
    )
    .old(&before)
    .new_values(&after);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Set a patient's opt-outs and language (at the desk, with the patient's say-so).
#[utoipa::path(patch, path = "/api/v1/patients/{id}/notification-preferences", tag = "notifications", params(("id" = Uuid, Path)), request_body = UpdatePreferences, responses((status = 200, body = PreferencesView)))]
async fn update_patient_preferences(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdatePreferences>,
) -> ApiResult<Json<PreferencesView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let patient = visible_patient(tx.as_mut(), &scope, id).await?;
    Ok(Json(
        save_preferences(tx, &p, &meta, patient, b, now).await?,
    ))
}

async fn own_patient(tx: &mut dyn StoreTx, p: &Principal) -> ApiResult<Patient> {
    tx.get_patient_by_user(p.user_id)
        .await?
        .filter(|pt| pt.is_active)
        .ok_or_else(|| ApiError::new(Code::InvalidState, "this account has no patient record"))
}

/// My notification preferences.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "me", responses((status = 200, body = PreferencesView)))]
async fn my_preferences(
    State(state): State<AppState>,
    p: Principal,
) -> ApiResult<Json<PreferencesView>> {
    let mut tx = state.store.read().await?;
    Ok(Json(PreferencesView::from(
        &own_patient(tx.as_mut(), &p).await?,
    )))
}

/// Opt in or out of notifications, or of one channel, and choose their language.
#[utoipa::path(patch, path = "/api/v1/me/notification-preferences", tag = "me", request_body = UpdatePreferences, responses((status = 200, body = PreferencesView)))]
async fn update_my_preferences(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<UpdatePreferences>,
) -> ApiResult<Json<PreferencesView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let patient = own_patient(tx.as_mut(), &p).await?;
    Ok(Json(
        save_preferences(tx, &p, &meta, patient, b, now).await?,
    ))
}

/// A clinic's notification settings (the defaults until an administrator sets them).
#[utoipa::path(get, path = "/api/v1/clinics/{id}/notification-settings", tag = "clinics", params(("id" = Uuid, Path)), responses((status = 200, body = NotificationSettingsView)))]
async fn get_settings(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NotificationSettingsView>> {
    let mut tx = state.store.read().await?;
    tx.get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    Ok(Json(NotificationSettingsView::from(
        &tx.notification_settings(id).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNotificationSettings {
    /// The channels to try, in order, each at most once (default `push`, `sms`, `email`).
    pub channel_order: Option<Vec<ChannelName>>,
    /// `Clinic Name <no-reply@clinic.example>` or a bare address; `null`: the server's.
    #[serde(default, deserialize_with = "double_option")]
    pub email_from: Option<Option<String>>,
}

/// A sender: `Name <address>` or `address`, with a valid address and a plain name.
fn parse_sender(s: &str) -> Result<String, ValidationError> {
    let field = "email_from";
    let s = s.trim();
    let bad = || ValidationError::new(field, "give `Name <address>` or an address");
    if s.len() > 320 || s.chars().any(|c| c.is_control() || c == '"') {
        return Err(bad());
    }
    let (name, address) = match s.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, address)) => (name.trim(), address.trim()),
        None => ("", s),
    };
    if name.contains(['<', '>', ',', ';', '@']) {
        return Err(bad());
    }
    let address = Email::parse(field, address)?;
    Ok(if name.is_empty() {
        address.as_str().to_owned()
    } else {
        format!("{name} <{}>", address.as_str())
    })
}

/// Change how a clinic's messages go out: the channel order and its email sender.
#[utoipa::path(patch, path = "/api/v1/clinics/{id}/notification-settings", tag = "clinics", params(("id" = Uuid, Path)), request_body = UpdateNotificationSettings, responses((status = 200, body = NotificationSettingsView)))]
async fn update_settings(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateNotificationSettings>,
) -> ApiResult<Json<NotificationSettingsView>> {
    if !p.can_see_clinic(Some(id)) {
        return Err(ApiError::forbidden("you can only change your own clinic"));
    }
    let mut errors = vec![];
    let order = b
        .channel_order
        .map(|o| {
            let names: Vec<&str> = o.iter().map(|c| c.as_str()).collect();
            carebook_domain::channels::parse_order(&names)
        })
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let from = b
        .email_from
        .map(|f| {
            f.filter(|s| !s.trim().is_empty())
                .map(|s| parse_sender(&s))
                .transpose()
        })
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    tx.get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let mut s = tx.notification_settings(id).await?;
    let before = NotificationSettingsView::from(&s);
    if let Some(o) = order {
        s.channel_order = o;
    }
    if let Some(f) = from {
        s.email_from = f;
    }
    s.updated_by_user_id = Some(p.user_id);
    tx.save_notification_settings(&s, now).await?;
    s.updated_at = Some(now);
    let after = NotificationSettingsView::from(&s);
    let change = Change::new("clinic.notification_settings.update", "clinic", Some(id))
        .clinic(Some(id))
        .old(&before)
        .new_values(&after);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(after))
}

#[cfg(test)]
mod tests {
    use super::parse_sender;

    #[test]
    fn senders_parse_to_one_form() {
        assert_eq!(
            parse_sender("Nairobi West <No-Reply@Clinic.Example>").ok(),
            Some("Nairobi West <no-reply@clinic.example>".to_owned())
        );
        assert_eq!(
            parse_sender("desk@clinic.example").ok(),
            Some("desk@clinic.example".to_owned())
        );
        assert!(parse_sender("a <b>").is_err());
        assert!(parse_sender("x@y.z\r\nBcc: all@evil.example").is_err());
        assert!(parse_sender("A, B <a@b.example>").is_err());
    }
}
