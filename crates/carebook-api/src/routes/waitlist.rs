//! The clinic's waitlist for staff: who is waiting for what, in order, with each entry's
//! place and estimated wait; adding, reordering and cancelling entries, answering an offer on
//! a patient's behalf (they phoned), and assigning an entry a time by hand.
//!
//! Freed time is offered by the worker on its own (see `crate::waitlist`); these routes are
//! what the front desk does around that.

use crate::auth::Principal;
use crate::desk::ServiceTerms;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::fields::text;
use crate::meta::{Change, RequestMeta};
use crate::schedule_enums::{ConsultationMode, PriorityName};
use crate::schedule_views::AppointmentView;
use crate::scope::Scope;
use crate::state::AppState;
use crate::waitlist::{self as desk, OfferView, WaitlistEntryView};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::ValidationError;
use carebook_domain::schedule::lifecycle::Priority;
use carebook_domain::waitlist::EntryStatus;
use carebook_store::StoreTx;
use carebook_store::models::Patient;
use carebook_store::waitlist::{WaitlistEntry, WaitlistFilter};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_waitlist, add_to_waitlist))
        .routes(routes!(get_entry, update_entry))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
        .routes(routes!(cancel_entry))
        .routes(routes!(assign_entry))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistParams {
    /// Network staff: one clinic (clinic staff always see their own).
    pub clinic_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    /// Comma-separated statuses; default `waiting,offered` (the queue, in order). With closed
    /// statuses the list is newest first.
    pub status: Option<String>,
    /// 1-200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of entries; pass `next_cursor` as `cursor` for the next (null at the end).
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistPage {
    pub items: Vec<WaitlistEntryView>,
    pub next_cursor: Option<String>,
}

pub fn parse_statuses(s: Option<&str>) -> ApiResult<Vec<EntryStatus>> {
    let Some(s) = s else { return Ok(vec![]) };
    s.split(',')
        .map(|x| {
            EntryStatus::parse(x.trim()).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "status",
                    format!("`{x}` is not one of waiting, offered, assigned, cancelled, expired"),
                )
            })
        })
        .collect()
}

/// The waitlist in queue order: priority, then position, then when each entry joined.
#[utoipa::path(get, path = "/api/v1/waitlist", tag = "waitlist", params(WaitlistParams), responses((status = 200, body = WaitlistPage)))]
async fn list_waitlist(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<WaitlistParams>,
) -> ApiResult<Json<WaitlistPage>> {
    let limit = crate::views::PageParams {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let offset: u32 = match q.cursor.as_deref() {
        None => 0,
        Some(c) => c.parse().map_err(|_| {
            ApiError::invalid_parameter("cursor", "is not a cursor from a previous page")
        })?,
    };
    let statuses = parse_statuses(q.status.as_deref())?;
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let clinic_id = match (scope.clinic, q.clinic_id) {
        (Some(mine), Some(asked)) if mine != asked => return Err(ApiError::not_found("clinic")),
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    let mut rows = tx
        .list_waitlist(
            &WaitlistFilter {
                clinic_id,
                patient_id: q.patient_id,
                service_id: q.service_id,
                provider_id: q.provider_id,
                statuses,
            },
            offset,
            limit + 1,
        )
        .await?;
    let next_cursor = (rows.len() > limit as usize).then(|| (offset + limit).to_string());
    rows.truncate(limit as usize);
    let items = desk::views(tx.as_mut(), &rows, state.now()).await?;
    Ok(Json(WaitlistPage { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddToWaitlist {
    pub patient_id: Uuid,
    pub service_id: Uuid,
    /// Leave out for any provider who delivers the service.
    pub provider_id: Option<Uuid>,
    pub mode: Option<ConsultationMode>,
    /// Local dates of the clinic; leave both out for the first available time.
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_to: Option<Date>,
    /// Default `standard`.
    pub priority: Option<PriorityName>,
    pub notes: Option<String>,
}

/// What joining needs, checked the same way for staff and patients.
pub struct Joining {
    pub service_id: Uuid,
    pub provider_id: Option<Uuid>,
    pub mode: Option<ConsultationMode>,
    pub requested_from: Option<Date>,
    pub requested_to: Option<Date>,
    pub priority: Priority,
    pub notes: Option<String>,
}

/// Adds `patient` to the waitlist in `tx` as `p`, asks the worker to look for a free time for
/// them at once, audits it and commits. `online`: the patient joins by themselves.
pub async fn join_and_commit(
    mut tx: Box<dyn StoreTx>,
    p: &Principal,
    meta: &RequestMeta,
    patient: &Patient,
    j: Joining,
    online: bool,
    now: Timestamp,
) -> ApiResult<WaitlistEntryView> {
    let entry = join(tx.as_mut(), patient, j, p.user_id, online, now).await?;
    let view = desk::view(tx.as_mut(), entry.id, now).await?;
    let change = Change::new("waitlist.add", "waitlist_entry", Some(entry.id))
        .clinic(Some(entry.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(view)
}

async fn join(
    tx: &mut dyn StoreTx,
    patient: &Patient,
    j: Joining,
    by: Uuid,
    online: bool,
    now: Timestamp,
) -> ApiResult<WaitlistEntry> {
    let terms = ServiceTerms::load(tx, j.service_id).await?;
    terms.check_bookable()?;
    let mode = terms.mode(j.mode)?;
    let today = terms.local_date(now);
    let mut errors = vec![];
    if let (Some(f), Some(t)) = (j.requested_from, j.requested_to)
        && f > t
    {
        errors.push(ValidationError::new(
            "requested_to",
            "must not be before requested_from",
        ));
    }
    if j.requested_to.is_some_and(|t| t < today) {
        errors.push(ValidationError::new(
            "requested_to",
            "is in the past on the clinic's calendar",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let pool = crate::desk::candidates(tx, &terms, j.provider_id, Some(mode), online).await?;
    if pool.is_empty() {
        return Err(ApiError::new(
            Code::NotBookable,
            match j.provider_id {
                Some(_) => "this provider does not take bookings for this service here",
                None => "nobody takes bookings for this service here",
            },
        ));
    }
    let entry = WaitlistEntry {
        id: Uuid::now_v7(),
        clinic_id: terms.clinic.id,
        patient_id: patient.id,
        service_id: j.service_id,
        provider_id: j.provider_id,
        mode: j.mode.map(|m| m.as_str().to_owned()),
        requested_from: j.requested_from,
        requested_to: j.requested_to,
        priority: j.priority,
        position: 1,
        notes: j.notes,
        status: EntryStatus::Waiting,
        appointment_id: None,
        created_by_user_id: Some(by),
        created_at: now,
        updated_at: now,
        assigned_at: None,
        closed_at: None,
        close_reason: None,
    };
    tx.link_patient_clinic(patient.id, terms.clinic.id, now)
        .await?;
    if !tx.insert_waitlist_entry(&entry).await? {
        return Err(ApiError::new(
            Code::AlreadyWaiting,
            "the patient is already on the waitlist for this service",
        ));
    }
    let horizon = SignedDuration::from_hours(i64::from(terms.settings.booking_horizon_days) * 24);
    carebook_jobs::waitlist::entry_added(tx, &entry, horizon, now).await?;
    Ok(entry)
}

/// Put a patient on the waitlist for a service (any provider, or one).
#[utoipa::path(post, path = "/api/v1/waitlist", tag = "waitlist", request_body = AddToWaitlist, responses((status = 201, body = WaitlistEntryView)))]
async fn add_to_waitlist(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<AddToWaitlist>,
) -> ApiResult<(StatusCode, Json<WaitlistEntryView>)> {
    let mut errors = vec![];
    let notes = text("notes", b.notes, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let service = tx
        .get_service(b.service_id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    scope.check_clinic(service.clinic_id, "service")?;
    let patient = tx
        .get_patient(b.patient_id)
        .await?
        .filter(|pt| pt.is_active)
        .ok_or_else(|| ApiError::not_found("patient"))?;
    let view = join_and_commit(
        tx,
        &p,
        &meta,
        &patient,
        Joining {
            service_id: b.service_id,
            provider_id: b.provider_id,
            mode: b.mode,
            requested_from: b.requested_from,
            requested_to: b.requested_to,
            priority: b.priority.map(Priority::from).unwrap_or(Priority::Standard),
            notes,
        },
        false,
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// An entry with every offer it has had.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntryDetail {
    pub entry: WaitlistEntryView,
    /// Oldest first.
    pub offers: Vec<OfferView>,
}

async fn visible(tx: &mut dyn StoreTx, p: &Principal, id: Uuid) -> ApiResult<WaitlistEntry> {
    let scope = Scope::of(tx, p).await?;
    let e = tx
        .get_waitlist_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    scope.check_clinic(e.clinic_id, "waitlist entry")?;
    Ok(e)
}

/// One entry, with its offers.
#[utoipa::path(get, path = "/api/v1/waitlist/{id}", tag = "waitlist", params(("id" = Uuid, Path)), responses((status = 200, body = WaitlistEntryDetail)))]
async fn get_entry(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WaitlistEntryDetail>> {
    let mut tx = state.store.read().await?;
    let e = visible(tx.as_mut(), &p, id).await?;
    Ok(Json(detail(tx.as_mut(), &e, state.now()).await?))
}

pub async fn detail(
    tx: &mut dyn StoreTx,
    e: &WaitlistEntry,
    now: Timestamp,
) -> ApiResult<WaitlistEntryDetail> {
    let tz = crate::desk::Zones::default().of(tx, e.clinic_id).await?;
    let offers = tx
        .offers_of(e.id)
        .await?
        .iter()
        .map(|o| OfferView::new(o, &tz))
        .collect();
    let entry = desk::views(tx, std::slice::from_ref(e), now)
        .await?
        .remove(0);
    Ok(WaitlistEntryDetail { entry, offers })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEntry {
    pub priority: Option<PriorityName>,
    /// New place within the priority (1 = first); the others move down.
    #[schema(minimum = 1)]
    pub position: Option<u32>,
    pub notes: Option<String>,
    pub mode: Option<ConsultationMode>,
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_to: Option<Date>,
}

/// Change an open entry: priority, place in line, notes, mode or requested dates.
#[utoipa::path(patch, path = "/api/v1/waitlist/{id}", tag = "waitlist", params(("id" = Uuid, Path)), request_body = UpdateEntry, responses((status = 200, body = WaitlistEntryView)))]
async fn update_entry(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateEntry>,
) -> ApiResult<Json<WaitlistEntryView>> {
    let mut errors = vec![];
    let notes = text("notes", b.notes, 2000, &mut errors);
    if b.position == Some(0) {
        errors.push(ValidationError::new("position", "starts at 1"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    visible(tx.as_mut(), &p, id).await?;
    let before = desk::open_entry(tx.as_mut(), id).await?;
    let old_view = desk::view(tx.as_mut(), id, now).await?;
    let mut e = before.clone();
    if let Some(pr) = b.priority {
        e.priority = pr.into();
    }
    e.notes = notes.or(e.notes);
    if let Some(m) = b.mode {
        let terms = ServiceTerms::load(tx.as_mut(), e.service_id).await?;
        e.mode = Some(terms.mode(Some(m))?.as_str().to_owned());
    }
    e.requested_from = b.requested_from.or(e.requested_from);
    e.requested_to = b.requested_to.or(e.requested_to);
    if let (Some(f), Some(t)) = (e.requested_from, e.requested_to)
        && f > t
    {
        return Err(ApiError::validation(vec![ValidationError::new(
            "requested_to",
            "must not be before requested_from",
        )]));
    }
    let moved_priority = e.priority != before.priority;
    if moved_priority {
        // Joins the end of its new priority unless a position is given.
        e.position = u32::MAX / 2;
    }
    e.updated_at = now;
    tx.update_waitlist_entry(&e).await?;
    if moved_priority {
        tx.renumber_waitlist(e.clinic_id, before.priority).await?;
        tx.renumber_waitlist(e.clinic_id, e.priority).await?;
    }
    if let Some(pos) = b.position {
        tx.move_waitlist_entry(&e, pos).await?;
    }
    let view = desk::view(tx.as_mut(), id, now).await?;
    let change = Change::new("waitlist.update", "waitlist_entry", Some(id))
        .clinic(Some(e.clinic_id))
        .old(&old_view)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// The entry and the booking it became.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    pub entry: WaitlistEntryView,
    pub appointment: AppointmentView,
}

/// Accept the entry's open offer on the patient's behalf: the held time becomes their booking.
#[utoipa::path(post, path = "/api/v1/waitlist/{id}/accept", tag = "waitlist", params(("id" = Uuid, Path)), responses((status = 200, body = Assignment)))]
async fn accept_offer(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Assignment>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    visible(tx.as_mut(), &p, id).await?;
    let e = desk::open_entry(tx.as_mut(), id).await?;
    Ok(Json(accept_and_commit(tx, &p, &meta, &e, now).await?))
}

/// Accepts the open offer of `e` (held in `tx`), audits it as `p` and commits.
pub async fn accept_and_commit(
    mut tx: Box<dyn StoreTx>,
    p: &Principal,
    meta: &RequestMeta,
    e: &WaitlistEntry,
    now: Timestamp,
) -> ApiResult<Assignment> {
    let (entry, booked) = desk::accept(tx.as_mut(), e, now).await?;
    let out = assignment(tx.as_mut(), &entry, booked.id, now).await?;
    let change = Change::new("waitlist.accept", "waitlist_entry", Some(e.id))
        .clinic(Some(entry.clinic_id))
        .new_values(&out);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(out)
}

/// What else can be done with an open entry: decline its offer, or take it off the list.
pub enum Answer {
    Decline,
    Cancel(String),
}

/// Declines the open offer of `e` or cancels `e` (held in `tx`), audits it as `p` and commits.
pub async fn answer_and_commit(
    mut tx: Box<dyn StoreTx>,
    p: &Principal,
    meta: &RequestMeta,
    e: &WaitlistEntry,
    answer: Answer,
    now: Timestamp,
) -> ApiResult<WaitlistEntryView> {
    let (entry, action) = match answer {
        Answer::Decline => (
            desk::decline(tx.as_mut(), e, now).await?,
            "waitlist.decline",
        ),
        Answer::Cancel(reason) => (
            desk::cancel(tx.as_mut(), e, &reason, now).await?,
            "waitlist.cancel",
        ),
    };
    let view = desk::view(tx.as_mut(), entry.id, now).await?;
    let change = Change::new(action, "waitlist_entry", Some(e.id))
        .clinic(Some(entry.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn assignment(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    appointment_id: Uuid,
    now: Timestamp,
) -> ApiResult<Assignment> {
    Ok(Assignment {
        entry: desk::views(tx, std::slice::from_ref(entry), now)
            .await?
            .remove(0),
        appointment: crate::desk::appointment_view(tx, appointment_id).await?,
    })
}

/// Decline the entry's open offer on the patient's behalf: the time goes to the next in line;
/// the entry keeps its place.
#[utoipa::path(post, path = "/api/v1/waitlist/{id}/decline", tag = "waitlist", params(("id" = Uuid, Path)), responses((status = 200, body = WaitlistEntryView)))]
async fn decline_offer(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WaitlistEntryView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    visible(tx.as_mut(), &p, id).await?;
    let e = desk::open_entry(tx.as_mut(), id).await?;
    Ok(Json(
        answer_and_commit(tx, &p, &meta, &e, Answer::Decline, now).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelEntry {
    pub reason: Option<String>,
}

/// Take an entry off the waitlist (an open offer is withdrawn and its time goes on).
#[utoipa::path(post, path = "/api/v1/waitlist/{id}/cancel", tag = "waitlist", params(("id" = Uuid, Path)), request_body = CancelEntry, responses((status = 200, body = WaitlistEntryView)))]
async fn cancel_entry(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<CancelEntry>,
) -> ApiResult<Json<WaitlistEntryView>> {
    let mut errors = vec![];
    let reason = text("reason", b.reason, 500, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    visible(tx.as_mut(), &p, id).await?;
    let e = desk::open_entry(tx.as_mut(), id).await?;
    let reason = reason.unwrap_or_else(|| "cancelled by the clinic".to_owned());
    Ok(Json(
        answer_and_commit(tx, &p, &meta, &e, Answer::Cancel(reason), now).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignEntry {
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
    /// Default: the entry's provider, or whoever is free then.
    pub provider_id: Option<Uuid>,
}

/// Book the entry a time by hand (the booking is marked as from the waitlist).
#[utoipa::path(post, path = "/api/v1/waitlist/{id}/assign", tag = "waitlist", params(("id" = Uuid, Path)), request_body = AssignEntry, responses((status = 200, body = Assignment)))]
async fn assign_entry(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<AssignEntry>,
) -> ApiResult<Json<Assignment>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    visible(tx.as_mut(), &p, id).await?;
    let e = desk::open_entry(tx.as_mut(), id).await?;
    let (entry, booked) =
        desk::assign(tx.as_mut(), &e, b.provider_id, b.start_at, p.user_id, now).await?;
    let out = assignment(tx.as_mut(), &entry, booked.id, now).await?;
    let change = Change::new("waitlist.assign", "waitlist_entry", Some(id))
        .clinic(Some(entry.clinic_id))
        .new_values(&out);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(out))
}
