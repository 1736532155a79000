//! Appointments at the front desk: booking, the lifecycle (confirm, check in, start, complete,
//! no-show, cancel, pay), rescheduling, and the views staff work from: search, the clinic's day
//! sheet, a provider's agenda and a patient's upcoming and past visits.

use crate::auth::Principal;
use crate::desk::{self, BookingRequest, ServiceTerms, Zones};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::fields::text;
use crate::meta::{Change, RequestMeta};
use crate::schedule_enums::{ActionName, ConsultationMode, PriorityName};
use crate::schedule_views::{AppointmentPage, AppointmentView};
use crate::scope::Scope;
use crate::state::AppState;
use crate::views::PageParams;
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::schedule::lifecycle::{Actor, AppointmentStatus, Priority};
use carebook_store::StoreTx;
use carebook_store::models::PageRequest;
use carebook_store::scheduling::{AppointmentFilter, AppointmentListing};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_appointments, create_appointment))
        .routes(routes!(get_appointment))
        .routes(routes!(apply_action))
        .routes(routes!(reschedule_appointment))
        .routes(routes!(day_sheet))
        .routes(routes!(provider_agenda))
        .routes(routes!(patient_appointments))
}

/// Comma-separated statuses, e.g. `scheduled,confirmed`.
pub fn parse_statuses(s: Option<&str>) -> ApiResult<Vec<AppointmentStatus>> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(vec![]);
    };
    s.split(',')
        .map(|x| {
            AppointmentStatus::parse(x.trim()).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "status",
                    format!("`{}` is not an appointment status", x.trim()),
                )
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppointmentSearch {
    pub clinic_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    /// On or after this clinic-local date.
    #[param(value_type = Option<String>, format = Date)]
    pub from_date: Option<Date>,
    /// On or before this clinic-local date.
    #[param(value_type = Option<String>, format = Date)]
    pub to_date: Option<Date>,
    /// Comma-separated statuses, e.g. `scheduled,confirmed`.
    pub status: Option<String>,
    /// An appointment number (or part of one), or part of the patient's name or phone.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

async fn page_of(
    tx: &mut dyn StoreTx,
    filter: &AppointmentFilter,
    limit: u32,
    after: Option<(Timestamp, Uuid)>,
) -> ApiResult<AppointmentPage> {
    let mut rows = tx
        .list_appointments(
            filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|l| desk::appointment_cursor(&l.appointment))
    } else {
        None
    };
    Ok(AppointmentPage {
        items: views(tx, &rows).await?,
        next_cursor,
    })
}

pub async fn views(
    tx: &mut dyn StoreTx,
    rows: &[AppointmentListing],
) -> ApiResult<Vec<AppointmentView>> {
    let mut zones = Zones::default();
    let mut out = Vec::with_capacity(rows.len());
    for l in rows {
        out.push(zones.view(tx, l).await?);
    }
    Ok(out)
}

/// Search appointments (by number, patient name or phone) with filters; in start order.
#[utoipa::path(get, path = "/api/v1/appointments", tag = "appointments", params(AppointmentSearch), responses((status = 200, body = AppointmentPage)))]
async fn list_appointments(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AppointmentSearch>,
) -> ApiResult<Json<AppointmentPage>> {
    let page = PageParams {
        limit: q.limit,
        cursor: None,
    };
    let limit = page.limit()?;
    let after = desk::parse_appointment_cursor(q.cursor.as_deref())?;
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let filter = AppointmentFilter {
        clinic_id: q.clinic_id,
        provider_id: q.provider_id,
        patient_id: q.patient_id,
        from_date: q.from_date,
        to_date: q.to_date,
        statuses: parse_statuses(q.status.as_deref())?,
        query: q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        scope_clinic: scope.clinic,
        or_provider: scope.own_provider,
        ..Default::default()
    };
    Ok(Json(page_of(tx.as_mut(), &filter, limit, after).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppointment {
    pub patient_id: Uuid,
    pub service_id: Uuid,
    /// Leave out to book whichever provider of the service is free at that time.
    pub provider_id: Option<Uuid>,
    /// The start, an RFC 3339 instant such as `2026-12-01T09:00:00+03:00`.
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
    /// Default: the service's first mode.
    pub mode: Option<ConsultationMode>,
    /// Default `standard`.
    pub priority: Option<PriorityName>,
    pub reason_for_visit: Option<String>,
    pub notes: Option<String>,
}

/// Book an appointment. A refused time answers 409 with the reason and the next free starts.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "appointments", request_body = CreateAppointment, responses((status = 201, body = AppointmentView)))]
async fn create_appointment(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<CreateAppointment>,
) -> ApiResult<(StatusCode, Json<AppointmentView>)> {
    let mut errors = vec![];
    let reason_for_visit = text("reason_for_visit", b.reason_for_visit, 1000, &mut errors);
    let notes = text("notes", b.notes, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let req = BookingRequest {
        patient_id: b.patient_id,
        service_id: b.service_id,
        provider_id: b.provider_id,
        start: b.start_at,
        mode: b.mode,
        priority: b.priority.map(Priority::from).unwrap_or(Priority::Standard),
        reason_for_visit,
        notes,
        booked_by: Some(p.user_id),
        waitlist: None,
        online: false,
    };
    let view = desk::retrying(&req, || book_once(&state, &p, &meta, &req)).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn book_once(
    state: &AppState,
    p: &Principal,
    meta: &RequestMeta,
    req: &BookingRequest,
) -> ApiResult<AppointmentView> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let scope = Scope::of(tx.as_mut(), p).await?;
    let terms = ServiceTerms::load(tx.as_mut(), req.service_id).await?;
    let books_self = scope.own_provider.is_some() && scope.own_provider == req.provider_id;
    if !scope.sees_clinic(terms.clinic.id) && !books_self {
        return Err(ApiError::forbidden("you can only book at your own clinic"));
    }
    let patient = tx
        .get_patient(req.patient_id)
        .await?
        .filter(|pt| pt.is_active)
        .ok_or_else(|| {
            ApiError::validation(vec![carebook_domain::ValidationError::new(
                "patient_id",
                "no such patient",
            )])
        })?;
    let booked = desk::book(tx.as_mut(), &terms, req, &patient, now).await?;
    let view = AppointmentView::new(&booked, &terms.tz);
    let a = &booked.appointment;
    let change = Change::new("appointment.book", "appointment", Some(a.id))
        .clinic(Some(a.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(view)
}

/// An appointment the caller may see, or 404.
pub(crate) async fn visible(
    tx: &mut dyn StoreTx,
    p: &Principal,
    id: Uuid,
) -> ApiResult<carebook_store::scheduling::Appointment> {
    let scope = Scope::of(tx, p).await?;
    tx.get_appointment(id)
        .await?
        .filter(|a| scope.sees_appointment(a))
        .ok_or_else(|| ApiError::not_found("appointment"))
}

/// One appointment.
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "appointments", params(("id" = Uuid, Path)), responses((status = 200, body = AppointmentView)))]
async fn get_appointment(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AppointmentView>> {
    let mut tx = state.store.read().await?;
    visible(tx.as_mut(), &p, id).await?;
    Ok(Json(desk::appointment_view(tx.as_mut(), id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// `reschedule` has its own route.
    pub action: ActionName,
    /// Required to cancel.
    pub reason: Option<String>,
}

/// Move an appointment through its day: `confirm`, `check_in`, `start`, `complete`,
/// `mark_no_show` (after the start), `cancel` (with a reason) or `pay` (a payment taken at the
/// desk). A step the status does not allow answers 409 with the allowed ones.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/actions", tag = "appointments", params(("id" = Uuid, Path)), request_body = ActionRequest, responses((status = 200, body = AppointmentView)))]
async fn apply_action(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<ActionRequest>,
) -> ApiResult<Json<AppointmentView>> {
    let now = state.now();
    let mut errors = vec![];
    let reason = text("reason", b.reason, 500, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = state.store.write().await?;
    let a = visible(tx.as_mut(), &p, id).await?;
    let before = desk::appointment_view(tx.as_mut(), id).await?;
    let action = b.action.into();
    desk::act(
        tx.as_mut(),
        &a,
        action,
        Actor::Staff,
        p.user_id,
        reason.as_deref(),
        now,
    )
    .await?;
    let view = desk::appointment_view(tx.as_mut(), id).await?;
    let change = Change::new(action_name(action), "appointment", Some(id))
        .clinic(Some(a.clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// The audit action of a lifecycle step.
pub fn action_name(a: carebook_domain::schedule::lifecycle::Action) -> &'static str {
    use carebook_domain::schedule::lifecycle::Action::*;
    match a {
        Pay => "appointment.pay",
        Confirm => "appointment.confirm",
        CheckIn => "appointment.check_in",
        Start => "appointment.start",
        Complete => "appointment.complete",
        Cancel => "appointment.cancel",
        MarkNoShow => "appointment.no_show",
        Reschedule => "appointment.reschedule",
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// The new start; the provider and service stay.
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
}

/// Move an appointment to another time with the same provider, atomically: the old time is
/// released only if the new one is taken.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/reschedule", tag = "appointments", params(("id" = Uuid, Path)), request_body = RescheduleRequest, responses((status = 200, body = AppointmentView)))]
async fn reschedule_appointment(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<RescheduleRequest>,
) -> ApiResult<Json<AppointmentView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let a = visible(tx.as_mut(), &p, id).await?;
    let before = desk::appointment_view(tx.as_mut(), id).await?;
    desk::reschedule(tx.as_mut(), &a, b.start_at, Actor::Staff, now).await?;
    let view = desk::appointment_view(tx.as_mut(), id).await?;
    let change = Change::new("appointment.reschedule", "appointment", Some(id))
        .clinic(Some(a.clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaySheetParams {
    /// The clinic-local date (default: today at the clinic).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<Date>,
    pub provider_id: Option<Uuid>,
    /// Comma-separated statuses, e.g. `scheduled,confirmed,checked_in`.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderDay {
    pub provider_id: Uuid,
    pub provider_name: String,
    pub appointments: Vec<AppointmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DaySheet {
    pub clinic_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub timezone: String,
    /// How many appointments of each status the sheet holds.
    #[schema(value_type = Object)]
    pub counts: BTreeMap<String, u32>,
    /// Each provider's appointments, in start order.
    pub providers: Vec<ProviderDay>,
}

/// The front desk's day sheet: a clinic's appointments of one day, by provider.
#[utoipa::path(get, path = "/api/v1/clinics/{id}/day-sheet", tag = "appointments", params(("id" = Uuid, Path), DaySheetParams), responses((status = 200, body = DaySheet)))]
async fn day_sheet(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<DaySheetParams>,
) -> ApiResult<Json<DaySheet>> {
    let statuses = parse_statuses(q.status.as_deref())?;
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    scope.check_clinic(id, "clinic")?;
    let clinic = tx
        .get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let tz = jiff::tz::TimeZone::get(&clinic.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let date = q
        .date
        .unwrap_or_else(|| state.now().to_zoned(tz.clone()).date());
    let filter = AppointmentFilter {
        clinic_id: Some(id),
        provider_id: q.provider_id,
        from_date: Some(date),
        to_date: Some(date),
        statuses,
        ..Default::default()
    };
    let rows = tx
        .list_appointments(
            &filter,
            PageRequest {
                after: None,
                limit: 5000,
            },
        )
        .await?;
    let mut counts = BTreeMap::new();
    let mut providers: Vec<ProviderDay> = vec![];
    for l in &rows {
        let v = AppointmentView::new(l, &tz);
        *counts
            .entry(l.appointment.status.as_str().to_owned())
            .or_insert(0) += 1;
        match providers
            .iter_mut()
            .find(|pd| pd.provider_id == l.appointment.provider_id)
        {
            Some(pd) => pd.appointments.push(v),
            None => providers.push(ProviderDay {
                provider_id: l.appointment.provider_id,
                provider_name: l.provider_name.clone(),
                appointments: vec![v],
            }),
        }
    }
    providers.sort_by(|a, b| {
        a.provider_name
            .cmp(&b.provider_name)
            .then(a.provider_id.cmp(&b.provider_id))
    });
    Ok(Json(DaySheet {
        clinic_id: id,
        date,
        timezone: clinic.timezone,
        counts,
        providers,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaParams {
    /// First clinic-local date (default: today, UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last clinic-local date, inclusive (default: six days after `from`; at most 62 days).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    /// Comma-separated statuses.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agenda {
    pub provider_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// At every clinic, in start order.
    pub appointments: Vec<AppointmentView>,
}

/// A provider's agenda across their clinics.
#[utoipa::path(get, path = "/api/v1/providers/{id}/agenda", tag = "appointments", params(("id" = Uuid, Path), AgendaParams), responses((status = 200, body = Agenda)))]
async fn provider_agenda(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<AgendaParams>,
) -> ApiResult<Json<Agenda>> {
    let statuses = parse_statuses(q.status.as_deref())?;
    let from = q
        .from
        .unwrap_or_else(|| state.now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let to = match q.to {
        Some(t) => t,
        None => from
            .checked_add(jiff::Span::new().days(6))
            .map_err(|_| ApiError::invalid_parameter("from", "is out of range"))?,
    };
    if to < from || (to - from).get_days() > 61 {
        return Err(ApiError::invalid_parameter(
            "to",
            "must be 0 to 61 days after from",
        ));
    }
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    tx.get_provider(id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    if !scope.may_see_provider(tx.as_mut(), id).await? {
        return Err(ApiError::not_found("provider"));
    }
    let filter = AppointmentFilter {
        provider_id: Some(id),
        from_date: Some(from),
        to_date: Some(to),
        statuses,
        scope_clinic: scope.clinic,
        or_provider: scope.own_provider,
        ..Default::default()
    };
    let rows = tx
        .list_appointments(
            &filter,
            PageRequest {
                after: None,
                limit: 5000,
            },
        )
        .await?;
    Ok(Json(Agenda {
        provider_id: id,
        from,
        to,
        appointments: views(tx.as_mut(), &rows).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientAppointments {
    pub patient_id: Uuid,
    /// Appointments still to come (or under way), soonest first.
    pub upcoming: Vec<AppointmentView>,
    /// Earlier and finished appointments, most recent first (the last 50).
    pub past: Vec<AppointmentView>,
}

/// A patient's upcoming and past appointments (those the caller may see).
pub async fn patient_history(
    tx: &mut dyn StoreTx,
    patient_id: Uuid,
    scope: Option<&Scope>,
    now: Timestamp,
) -> ApiResult<PatientAppointments> {
    let base = AppointmentFilter {
        patient_id: Some(patient_id),
        scope_clinic: scope.and_then(|s| s.clinic),
        or_provider: scope.and_then(|s| s.own_provider),
        ..Default::default()
    };
    let active: Vec<AppointmentStatus> = AppointmentStatus::ALL
        .into_iter()
        .filter(|s| s.holds_time())
        .collect();
    let under_way = |s: AppointmentStatus| {
        matches!(
            s,
            AppointmentStatus::CheckedIn | AppointmentStatus::InProgress
        )
    };
    let upcoming = tx
        .list_appointments(
            &AppointmentFilter {
                statuses: active,
                from: Some(
                    now.checked_sub(jiff::SignedDuration::from_hours(24))
                        .unwrap_or(now),
                ),
                ..base.clone()
            },
            PageRequest {
                after: None,
                limit: 200,
            },
        )
        .await?
        .into_iter()
        .filter(|l| l.appointment.end_at > now || under_way(l.appointment.status))
        .collect::<Vec<_>>();
    let upcoming_ids: Vec<Uuid> = upcoming.iter().map(|l| l.appointment.id).collect();
    // Everything else: finished, cancelled, missed, or over and awaiting its no-show.
    let past = tx
        .list_appointments(
            &AppointmentFilter {
                descending: true,
                ..base
            },
            PageRequest {
                after: None,
                limit: 50 + upcoming_ids.len() as u32,
            },
        )
        .await?
        .into_iter()
        .filter(|l| !upcoming_ids.contains(&l.appointment.id))
        .take(50)
        .collect::<Vec<_>>();
    Ok(PatientAppointments {
        patient_id,
        upcoming: views(tx, &upcoming).await?,
        past: views(tx, &past).await?,
    })
}

/// A patient's upcoming and past appointments.
#[utoipa::path(get, path = "/api/v1/patients/{id}/appointments", tag = "appointments", params(("id" = Uuid, Path)), responses((status = 200, body = PatientAppointments)))]
async fn patient_appointments(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PatientAppointments>> {
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    crate::routes::patients::visible_patient(tx.as_mut(), &scope, id).await?;
    Ok(Json(
        patient_history(tx.as_mut(), id, Some(&scope), state.now()).await?,
    ))
}
