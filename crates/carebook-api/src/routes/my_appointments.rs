//! A patient's own appointments: list, book (where the clinic takes online bookings),
//! confirm, cancel and reschedule until the clinic's cutoff. Everything runs through the same
//! booking desk as the front desk's routes, with the patient's stricter rules.

use crate::auth::Principal;
use crate::desk::{self, BookingRequest, ServiceTerms};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path};
use crate::fields::text;
use crate::meta::{Change, RequestMeta};
use crate::routes::appointments::{PatientAppointments, patient_history};
use crate::schedule_enums::ConsultationMode;
use crate::schedule_views::AppointmentView;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::schedule::lifecycle::{Action, Actor, Priority};
use carebook_store::StoreTx;
use carebook_store::models::Patient;
use carebook_store::scheduling::Appointment;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_appointments, book_mine))
        .routes(routes!(confirm_mine))
        .routes(routes!(cancel_mine))
        .routes(routes!(reschedule_mine))
}

async fn me_as_patient(tx: &mut dyn StoreTx, p: &Principal) -> ApiResult<Patient> {
    tx.get_patient_by_user(p.user_id)
        .await?
        .filter(|pt| pt.is_active)
        .ok_or_else(|| ApiError::new(Code::InvalidState, "this account has no patient record"))
}

async fn mine(tx: &mut dyn StoreTx, p: &Principal, id: Uuid) -> ApiResult<Appointment> {
    let me = me_as_patient(tx, p).await?;
    tx.get_appointment(id)
        .await?
        .filter(|a| a.patient_id == me.id)
        .ok_or_else(|| ApiError::not_found("appointment"))
}

/// My upcoming and past appointments.
#[utoipa::path(get, path = "/api/v1/me/appointments", tag = "me", responses((status = 200, body = PatientAppointments)))]
async fn my_appointments(
    State(state): State<AppState>,
    p: Principal,
) -> ApiResult<Json<PatientAppointments>> {
    let mut tx = state.store.read().await?;
    let me = me_as_patient(tx.as_mut(), &p).await?;
    Ok(Json(
        patient_history(tx.as_mut(), me.id, None, state.now()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookMine {
    pub service_id: Uuid,
    /// Leave out for whichever provider is free at that time.
    pub provider_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
    pub mode: Option<ConsultationMode>,
    pub reason_for_visit: Option<String>,
    pub notes: Option<String>,
}

/// Book an appointment for myself.
#[utoipa::path(post, path = "/api/v1/me/appointments", tag = "me", request_body = BookMine, responses((status = 201, body = AppointmentView)))]
async fn book_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<BookMine>,
) -> ApiResult<(StatusCode, Json<AppointmentView>)> {
    let mut errors = vec![];
    let reason_for_visit = text("reason_for_visit", b.reason_for_visit, 1000, &mut errors);
    let notes = text("notes", b.notes, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // The patient record is fixed for the account; read it once, outside the retries.
    let me = me_as_patient(state.store.read().await?.as_mut(), &p).await?;
    let req = BookingRequest {
        patient_id: me.id,
        service_id: b.service_id,
        provider_id: b.provider_id,
        start: b.start_at,
        mode: b.mode,
        priority: Priority::Standard,
        reason_for_visit,
        notes,
        booked_by: Some(p.user_id),
        waitlist: None,
        online: true,
    };
    let view = desk::retrying(&req, || book_once(&state, &p, &meta, &me, &req)).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One booking attempt in its own transaction.
async fn book_once(
    state: &AppState,
    p: &Principal,
    meta: &RequestMeta,
    me: &Patient,
    req: &BookingRequest,
) -> ApiResult<AppointmentView> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let terms = ServiceTerms::load(tx.as_mut(), req.service_id).await?;
    if !terms.settings.patient_self_booking {
        return Err(ApiError::new(
            Code::SelfBookingDisabled,
            "this clinic takes bookings by phone or at the desk",
        ));
    }
    let booked = desk::book(tx.as_mut(), &terms, req, me, now).await?;
    let view = AppointmentView::new(&booked, &terms.tz);
    let a = &booked.appointment;
    let change = Change::new("appointment.book", "appointment", Some(a.id))
        .clinic(Some(a.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(view)
}

async fn step(
    state: &AppState,
    p: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    action: Action,
    reason: Option<String>,
) -> ApiResult<Json<AppointmentView>> {
    let now = state.now();
    let mut errors = vec![];
    let reason = text("reason", reason, 500, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = state.store.write().await?;
    let a = mine(tx.as_mut(), p, id).await?;
    let before = desk::appointment_view(tx.as_mut(), id).await?;
    desk::act(
        tx.as_mut(),
        &a,
        action,
        Actor::Patient,
        p.user_id,
        reason.as_deref(),
        now,
    )
    .await?;
    let view = desk::appointment_view(tx.as_mut(), id).await?;
    let change = Change::new(
        crate::routes::appointments::action_name(action),
        "appointment",
        Some(id),
    )
    .clinic(Some(a.clinic_id))
    .old(&before)
    .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Confirm that I will come.
#[utoipa::path(post, path = "/api/v1/me/appointments/{id}/confirm", tag = "me", params(("id" = Uuid, Path)), responses((status = 200, body = AppointmentView)))]
async fn confirm_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AppointmentView>> {
    step(&state, &p, &meta, id, Action::Confirm, None).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelMine {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Cancel my appointment (until the clinic's cancellation cutoff).
#[utoipa::path(post, path = "/api/v1/me/appointments/{id}/cancel", tag = "me", params(("id" = Uuid, Path)), request_body = CancelMine, responses((status = 200, body = AppointmentView)))]
async fn cancel_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<CancelMine>,
) -> ApiResult<Json<AppointmentView>> {
    step(&state, &p, &meta, id, Action::Cancel, Some(b.reason)).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleMine {
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
}

/// Move my appointment to another free time with the same provider (until the cutoff).
#[utoipa::path(post, path = "/api/v1/me/appointments/{id}/reschedule", tag = "me", params(("id" = Uuid, Path)), request_body = RescheduleMine, responses((status = 200, body = AppointmentView)))]
async fn reschedule_mine(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<RescheduleMine>,
) -> ApiResult<Json<AppointmentView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let a = mine(tx.as_mut(), &p, id).await?;
    if !tx.booking_settings(a.clinic_id).await?.patient_self_booking {
        return Err(ApiError::new(
            Code::SelfBookingDisabled,
            "this clinic changes bookings by phone or at the desk",
        ));
    }
    let before = desk::appointment_view(tx.as_mut(), id).await?;
    desk::reschedule(tx.as_mut(), &a, b.start_at, Actor::Patient, now).await?;
    let view = desk::appointment_view(tx.as_mut(), id).await?;
    let change = Change::new("appointment.reschedule", "appointment", Some(id))
        .clinic(Some(a.clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}
