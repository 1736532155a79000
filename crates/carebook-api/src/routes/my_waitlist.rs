//! A patient's own waitlist entries: join a clinic's waitlist for a service (where the clinic
//! takes online bookings), see each entry's place and estimated wait, accept or decline the
//! time it is offered, and leave.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path};
use crate::fields::text;
use crate::meta::RequestMeta;
use crate::routes::waitlist::{
    Answer, Assignment, Joining, accept_and_commit, answer_and_commit, join_and_commit,
};
use crate::schedule_enums::ConsultationMode;
use crate::state::AppState;
use crate::waitlist::{self as desk, WaitlistEntryView};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::schedule::lifecycle::Priority;
use carebook_domain::waitlist::EntryStatus;
use carebook_store::StoreTx;
use carebook_store::models::Patient;
use carebook_store::waitlist::{WaitlistEntry, WaitlistFilter};
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_waitlist, join_mine))
        .routes(routes!(accept_mine))
        .routes(routes!(decline_mine))
        .routes(routes!(leave_mine))
}

async fn me_as_patient(tx: &mut dyn StoreTx, p: &Principal) -> ApiResult<Patient> {
    tx.get_patient_by_user(p.user_id)
        .await?
        .filter(|pt| pt.is_active)
        .ok_or_else(|| ApiError::new(Code::InvalidState, "this account has no patient record"))
}

/// My entry, held for a change; 404 for anyone else's.
async fn mine(tx: &mut dyn StoreTx, p: &Principal, id: Uuid) -> ApiResult<WaitlistEntry> {
    let me = me_as_patient(tx, p).await?;
    let e = tx
        .get_waitlist_entry(id)
        .await?
        .filter(|e| e.patient_id == me.id)
        .ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    desk::open_entry(tx, e.id).await
}

/// My waitlist entries, open and closed, newest first.
#[utoipa::path(get, path = "/api/v1/me/waitlist", tag = "me", responses((status = 200, body = Vec<WaitlistEntryView>)))]
async fn my_waitlist(
    State(state): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<WaitlistEntryView>>> {
    let mut tx = state.store.read().await?;
    let me = me_as_patient(tx.as_mut(), &p).await?;
    let rows = tx
        .list_waitlist(
            &WaitlistFilter {
                patient_id: Some(me.id),
                statuses: EntryStatus::ALL.to_vec(),
                ..Default::default()
            },
            0,
            200,
        )
        .await?;
    Ok(Json(desk::views(tx.as_mut(), &rows, state.now()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinMine {
    pub service_id: Uuid,
    /// Leave out for any provider.
    pub provider_id: Option<Uuid>,
    pub mode: Option<ConsultationMode>,
    /// Local dates of the clinic; leave both out for the first available time.
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_to: Option<Date>,
    pub notes: Option<String>,
}

/// Join a clinic's waitlist for a service. Urgent and emergency places are given by the
/// clinic's staff.
#[utoipa::path(post, path = "/api/v1/me/waitlist", tag = "me", request_body = JoinMine, responses((status = 201, body = WaitlistEntryView)))]
async fn join_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<JoinMine>,
) -> ApiResult<(StatusCode, Json<WaitlistEntryView>)> {
    let mut errors = vec![];
    let notes = text("notes", b.notes, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let me = me_as_patient(tx.as_mut(), &p).await?;
    let settings_clinic = tx
        .get_service(b.service_id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?
        .clinic_id;
    if !tx
        .booking_settings(settings_clinic)
        .await?
        .patient_self_booking
    {
        return Err(ApiError::new(
            Code::SelfBookingDisabled,
            "this clinic keeps its waitlist by phone or at the desk",
        ));
    }
    let view = join_and_commit(
        tx,
        &p,
        &meta,
        &me,
        Joining {
            service_id: b.service_id,
            provider_id: b.provider_id,
            mode: b.mode,
            requested_from: b.requested_from,
            requested_to: b.requested_to,
            priority: Priority::Standard,
            notes,
        },
        true,
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Accept the time I was offered: it becomes my booking.
#[utoipa::path(post, path = "/api/v1/me/waitlist/{id}/accept", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = Assignment)))]
async fn accept_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Assignment>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let e = mine(tx.as_mut(), &p, id).await?;
    Ok(Json(accept_and_commit(tx, &p, &meta, &e, now).await?))
}

/// Decline the time I was offered; I keep my place for another.
#[utoipa::path(post, path = "/api/v1/me/waitlist/{id}/decline", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = WaitlistEntryView)))]
async fn decline_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WaitlistEntryView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let e = mine(tx.as_mut(), &p, id).await?;
    Ok(Json(
        answer_and_commit(tx, &p, &meta, &e, Answer::Decline, now).await?,
    ))
}

/// Leave the waitlist.
#[utoipa::path(post, path = "/api/v1/me/waitlist/{id}/cancel", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = WaitlistEntryView)))]
async fn leave_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WaitlistEntryView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let e = mine(tx.as_mut(), &p, id).await?;
    let reason = Answer::Cancel("cancelled by the patient".to_owned());
    Ok(Json(
        answer_and_commit(tx, &p, &meta, &e, reason, now).await?,
    ))
}
