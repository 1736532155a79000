//! Providers' schedules: weekly hours per clinic (with breaks, modes and validity ranges),
//! date exceptions that close a day, take hours out or give other hours, and time off with its
//! approval workflow. Providers keep their own; the front desk and administrators keep their
//! clinic's. Approving time off lists the appointments it overlaps, for the desk to move.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::fields::text;
use crate::meta::{Change, RequestMeta};
use crate::schedule_enums::{ExceptionKind, RuleMode, TimeOffStatus};
use crate::schedule_views::*;
use crate::scope::Scope;
use crate::state::AppState;
use crate::views::double_option;
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::ValidationError;
use carebook_domain::schedule::parse_clock_span;
use carebook_store::StoreTx;
use carebook_store::scheduling::*;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_availability))
        .routes(routes!(create_rule))
        .routes(routes!(update_rule, delete_rule))
        .routes(routes!(create_exception))
        .routes(routes!(delete_exception))
        .routes(routes!(list_time_off, request_time_off))
        .routes(routes!(approve_time_off))
        .routes(routes!(reject_time_off))
        .routes(routes!(withdraw_time_off))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityParams {
    /// Only this clinic's hours.
    pub clinic_id: Option<Uuid>,
    /// Exceptions on or after this date (default: a week ago).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    pub provider_id: Uuid,
    pub rules: Vec<AvailabilityRuleView>,
    pub exceptions: Vec<ExceptionView>,
}

async fn visible(tx: &mut dyn StoreTx, p: &Principal, provider_id: Uuid) -> ApiResult<Scope> {
    tx.get_provider(provider_id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let scope = Scope::of(tx, p).await?;
    if !scope.may_see_provider(tx, provider_id).await? {
        return Err(ApiError::not_found("provider"));
    }
    Ok(scope)
}

/// A provider's weekly hours and date exceptions.
#[utoipa::path(get, path = "/api/v1/providers/{id}/availability", tag = "availability", params(("id" = Uuid, Path), AvailabilityParams), responses((status = 200, body = AvailabilityView)))]
async fn get_availability(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<AvailabilityParams>,
) -> ApiResult<Json<AvailabilityView>> {
    let mut tx = state.store.read().await?;
    visible(tx.as_mut(), &p, id).await?;
    let from = q.from.unwrap_or_else(|| {
        let today = state.now().to_zoned(TimeZone::UTC).date();
        today
            .checked_sub(jiff::Span::new().days(7))
            .unwrap_or(today)
    });
    let rules = tx.list_availability_rules(id, q.clinic_id).await?;
    let exceptions = tx
        .list_availability_exceptions(id, q.clinic_id, Some(from))
        .await?;
    Ok(Json(AvailabilityView {
        provider_id: id,
        rules: rules.iter().map(AvailabilityRuleView::from).collect(),
        exceptions: exceptions.iter().map(ExceptionView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    pub clinic_id: Uuid,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub day_of_week: u8,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start_time: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub end_time: String,
    #[serde(default)]
    pub breaks: Vec<ClockSpanView>,
    /// Default true; false records a regular day off.
    pub is_working_day: Option<bool>,
    /// Default `any`.
    pub mode: Option<RuleMode>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
    pub notes: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRule {
    #[schema(minimum = 1, maximum = 7)]
    pub day_of_week: Option<u8>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub breaks: Option<Vec<ClockSpanView>>,
    pub is_working_day: Option<bool>,
    pub mode: Option<RuleMode>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<Option<Date>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Option<Date>>,
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    pub notes: Option<Option<String>>,
}

/// Checks a rule's times: the hours, breaks inside them and apart, the validity range.
fn validate_rule(r: &AvailabilityRule, mut errors: Vec<ValidationError>) -> ApiResult<()> {
    if !(1..=7).contains(&r.day_of_week) {
        errors.push(ValidationError::new(
            "day_of_week",
            "must be 1 (Monday) to 7 (Sunday)",
        ));
    }
    match parse_clock_span("start_time", &r.start_time, &r.end_time) {
        Err(e) => errors.push(e),
        Ok((start, end)) => {
            let mut spans = vec![];
            for b in &r.breaks {
                match parse_clock_span("breaks", &b.start, &b.end) {
                    Err(e) => errors.push(e),
                    Ok((bs, be)) if bs < start || be > end => errors.push(ValidationError::new(
                        "breaks",
                        "each break must lie within the working hours",
                    )),
                    Ok(span) => spans.push(span),
                }
            }
            spans.sort();
            if spans.windows(2).any(|w| w[1].0 < w[0].1) {
                errors.push(ValidationError::new("breaks", "breaks must not overlap"));
            }
        }
    }
    if let (Some(f), Some(u)) = (r.valid_from, r.valid_until)
        && u < f
    {
        errors.push(ValidationError::new(
            "valid_until",
            "must not be before valid_from",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The provider must work at the clinic to have hours there.
async fn check_works_at(tx: &mut dyn StoreTx, provider_id: Uuid, clinic_id: Uuid) -> ApiResult<()> {
    let here = crate::scope::works_at(tx, provider_id, clinic_id).await?;
    if here {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidState,
            "the provider does not work at this clinic",
        ))
    }
}

/// Add weekly hours at a clinic.
#[utoipa::path(post, path = "/api/v1/providers/{id}/availability-rules", tag = "availability", params(("id" = Uuid, Path)), request_body = CreateRule, responses((status = 201, body = AvailabilityRuleView)))]
async fn create_rule(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<CreateRule>,
) -> ApiResult<(StatusCode, Json<AvailabilityRuleView>)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let scope = visible(tx.as_mut(), &p, id).await?;
    scope
        .may_manage_provider(tx.as_mut(), id, Some(b.clinic_id))
        .await?;
    check_works_at(tx.as_mut(), id, b.clinic_id).await?;
    let mut errors = vec![];
    let r = AvailabilityRule {
        id: Uuid::now_v7(),
        clinic_id: b.clinic_id,
        provider_id: id,
        day_of_week: b.day_of_week,
        start_time: b.start_time.trim().to_owned(),
        end_time: b.end_time.trim().to_owned(),
        breaks: b
            .breaks
            .into_iter()
            .map(|s| ClockSpan {
                start: s.start,
                end: s.end,
            })
            .collect(),
        is_working_day: b.is_working_day.unwrap_or(true),
        mode: b.mode.unwrap_or(RuleMode::Any).as_str().to_owned(),
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        is_active: true,
        notes: text("notes", b.notes, 500, &mut errors),
        created_at: now,
        updated_at: now,
    };
    validate_rule(&r, errors)?;
    tx.insert_availability_rule(&r).await?;
    new_hours(tx.as_mut(), &r, now).await?;
    let view = AvailabilityRuleView::from(&r);
    let change = Change::new("availability.rule.create", "availability_rule", Some(r.id))
        .clinic(Some(r.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn own_rule(
    tx: &mut dyn StoreTx,
    p: &Principal,
    provider_id: Uuid,
    rule_id: Uuid,
) -> ApiResult<AvailabilityRule> {
    let scope = visible(tx, p, provider_id).await?;
    let r = tx
        .get_availability_rule(rule_id)
        .await?
        .filter(|r| r.provider_id == provider_id)
        .ok_or_else(|| ApiError::not_found("availability rule"))?;
    scope
        .may_manage_provider(tx, provider_id, Some(r.clinic_id))
        .await?;
    Ok(r)
}

/// Change weekly hours.
#[utoipa::path(patch, path = "/api/v1/providers/{id}/availability-rules/{rule_id}", tag = "availability", params(("id" = Uuid, Path), ("rule_id" = Uuid, Path)), request_body = UpdateRule, responses((status = 200, body = AvailabilityRuleView)))]
async fn update_rule(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, rule_id)): Path<(Uuid, Uuid)>,
    Json(b): Json<UpdateRule>,
) -> ApiResult<Json<AvailabilityRuleView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut r = own_rule(tx.as_mut(), &p, id, rule_id).await?;
    let before = AvailabilityRuleView::from(&r);
    let mut errors = vec![];
    if let Some(v) = b.day_of_week {
        r.day_of_week = v;
    }
    if let Some(v) = b.start_time {
        r.start_time = v.trim().to_owned();
    }
    if let Some(v) = b.end_time {
        r.end_time = v.trim().to_owned();
    }
    if let Some(v) = b.breaks {
        r.breaks = v
            .into_iter()
            .map(|s| ClockSpan {
                start: s.start,
                end: s.end,
            })
            .collect();
    }
    if let Some(v) = b.is_working_day {
        r.is_working_day = v;
    }
    if let Some(v) = b.mode {
        r.mode = v.as_str().to_owned();
    }
    if let Some(v) = b.valid_from {
        r.valid_from = v;
    }
    if let Some(v) = b.valid_until {
        r.valid_until = v;
    }
    if let Some(v) = b.is_active {
        r.is_active = v;
    }
    if let Some(v) = b.notes {
        r.notes = text("notes", v, 500, &mut errors);
    }
    validate_rule(&r, errors)?;
    r.updated_at = now;
    tx.update_availability_rule(&r).await?;
    new_hours(tx.as_mut(), &r, now).await?;
    let view = AvailabilityRuleView::from(&r);
    let change = Change::new("availability.rule.update", "availability_rule", Some(r.id))
        .clinic(Some(r.clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Remove weekly hours; booked appointments stay.
#[utoipa::path(delete, path = "/api/v1/providers/{id}/availability-rules/{rule_id}", tag = "availability", params(("id" = Uuid, Path), ("rule_id" = Uuid, Path)), responses((status = 204)))]
async fn delete_rule(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, rule_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let r = own_rule(tx.as_mut(), &p, id, rule_id).await?;
    tx.delete_availability_rule(r.id).await?;
    let change = Change::new("availability.rule.delete", "availability_rule", Some(r.id))
        .clinic(Some(r.clinic_id))
        .old(&AvailabilityRuleView::from(&r));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateException {
    pub clinic_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub kind: ExceptionKind,
    /// With `end_time`: the hours taken out (`unavailable`) or given (`available`). Without
    /// times, `unavailable` closes the whole day.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub reason: Option<String>,
}

/// Close a date, take hours out of it, or give it other hours.
#[utoipa::path(post, path = "/api/v1/providers/{id}/exceptions", tag = "availability", params(("id" = Uuid, Path)), request_body = CreateException, responses((status = 201, body = ExceptionView)))]
async fn create_exception(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<CreateException>,
) -> ApiResult<(StatusCode, Json<ExceptionView>)> {
    let now = state.now();
    let mut errors = vec![];
    let times = match (&b.start_time, &b.end_time) {
        (Some(s), Some(e)) => match parse_clock_span("start_time", s.trim(), e.trim()) {
            Ok(_) => Some((s.trim().to_owned(), e.trim().to_owned())),
            Err(err) => {
                errors.push(err);
                None
            }
        },
        (None, None) => None,
        _ => {
            errors.push(ValidationError::new(
                "end_time",
                "give both start_time and end_time, or neither",
            ));
            None
        }
    };
    if b.kind == ExceptionKind::Available && times.is_none() && errors.is_empty() {
        errors.push(ValidationError::new(
            "start_time",
            "extra hours need start_time and end_time",
        ));
    }
    let reason = text("reason", b.reason, 500, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = state.store.write().await?;
    let scope = visible(tx.as_mut(), &p, id).await?;
    scope
        .may_manage_provider(tx.as_mut(), id, Some(b.clinic_id))
        .await?;
    check_works_at(tx.as_mut(), id, b.clinic_id).await?;
    let e = AvailabilityException {
        id: Uuid::now_v7(),
        clinic_id: b.clinic_id,
        provider_id: id,
        date: b.date,
        kind: b.kind.as_str().to_owned(),
        start_time: times.as_ref().map(|t| t.0.clone()),
        end_time: times.map(|t| t.1),
        reason,
        created_by_user_id: Some(p.user_id),
        created_at: now,
    };
    tx.insert_availability_exception(&e).await?;
    crate::waitlist::provider_day_freed(tx.as_mut(), e.provider_id, e.clinic_id, e.date, now)
        .await?;
    let view = ExceptionView::from(&e);
    let change = Change::new(
        "availability.exception.create",
        "availability_exception",
        Some(e.id),
    )
    .clinic(Some(e.clinic_id))
    .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Remove a date exception: the weekly hours apply again that day.
#[utoipa::path(delete, path = "/api/v1/providers/{id}/exceptions/{exception_id}", tag = "availability", params(("id" = Uuid, Path), ("exception_id" = Uuid, Path)), responses((status = 204)))]
async fn delete_exception(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, exception_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let scope = visible(tx.as_mut(), &p, id).await?;
    let e = tx
        .get_availability_exception(exception_id)
        .await?
        .filter(|e| e.provider_id == id)
        .ok_or_else(|| ApiError::not_found("exception"))?;
    scope
        .may_manage_provider(tx.as_mut(), id, Some(e.clinic_id))
        .await?;
    tx.delete_availability_exception(e.id).await?;
    crate::waitlist::provider_day_freed(tx.as_mut(), e.provider_id, e.clinic_id, e.date, now)
        .await?;
    let change = Change::new(
        "availability.exception.delete",
        "availability_exception",
        Some(e.id),
    )
    .clinic(Some(e.clinic_id))
    .old(&ExceptionView::from(&e));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeOffParams {
    pub status: Option<TimeOffStatus>,
}

/// A provider's time off, newest first.
#[utoipa::path(get, path = "/api/v1/providers/{id}/time-off", tag = "availability", params(("id" = Uuid, Path), TimeOffParams), responses((status = 200, body = Vec<TimeOffView>)))]
async fn list_time_off(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<TimeOffParams>,
) -> ApiResult<Json<Vec<TimeOffView>>> {
    let mut tx = state.store.read().await?;
    visible(tx.as_mut(), &p, id).await?;
    let rows = tx.list_time_off(id, q.status.map(|s| s.as_str())).await?;
    Ok(Json(rows.iter().map(TimeOffView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestTimeOff {
    /// Away from this clinic only; `null`: from every clinic.
    pub clinic_id: Option<Uuid>,
    /// Part of a day (or several): the exact instants.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    /// Whole days instead, inclusive, on the clinic's calendar (the primary clinic's when
    /// `clinic_id` is null).
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    pub reason: Option<String>,
}

/// Ask for time off (whole days or part of a day). It removes slots once approved.
#[utoipa::path(post, path = "/api/v1/providers/{id}/time-off", tag = "availability", params(("id" = Uuid, Path)), request_body = RequestTimeOff, responses((status = 201, body = TimeOffView)))]
async fn request_time_off(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<RequestTimeOff>,
) -> ApiResult<(StatusCode, Json<TimeOffView>)> {
    let now = state.now();
    let mut errors = vec![];
    let reason = text("reason", b.reason, 500, &mut errors);
    let mut tx = state.store.write().await?;
    let scope = visible(tx.as_mut(), &p, id).await?;
    scope
        .may_manage_provider(tx.as_mut(), id, b.clinic_id)
        .await?;
    let engagements = tx.provider_clinics(id).await?;
    let calendar_clinic = b.clinic_id.or_else(|| {
        engagements
            .iter()
            .find(|e| e.is_primary && e.is_live())
            .or_else(|| engagements.iter().find(|e| e.is_live()))
            .map(|e| e.clinic_id)
    });
    if let Some(c) = b.clinic_id
        && !engagements.iter().any(|e| e.clinic_id == c && e.is_live())
    {
        return Err(ApiError::new(
            Code::InvalidState,
            "the provider does not work at this clinic",
        ));
    }
    let tz = match calendar_clinic {
        Some(c) => tx
            .get_clinic(c)
            .await?
            .and_then(|c| TimeZone::get(&c.timezone).ok())
            .unwrap_or(TimeZone::UTC),
        None => TimeZone::UTC,
    };
    let span = match (b.starts_at, b.ends_at, b.start_date, b.end_date) {
        (Some(s), Some(e), None, None) => Some((s, e)),
        (None, None, Some(s), Some(e)) if e >= s => match (
            crate::desk::local_midnight(&tz, s),
            e.tomorrow()
                .ok()
                .and_then(|d| crate::desk::local_midnight(&tz, d)),
        ) {
            (Some(a), Some(z)) => Some((a, z)),
            _ => None,
        },
        (None, None, Some(_), Some(_)) => {
            errors.push(ValidationError::new(
                "end_date",
                "must not be before start_date",
            ));
            None
        }
        _ => {
            errors.push(ValidationError::new(
                "starts_at",
                "give starts_at and ends_at, or start_date and end_date",
            ));
            None
        }
    };
    if let Some((s, e)) = span
        && e <= s
    {
        errors.push(ValidationError::new("ends_at", "must be after starts_at"));
    }
    let Some((starts_at, ends_at)) = span.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let t = TimeOff {
        id: Uuid::now_v7(),
        provider_id: id,
        clinic_id: b.clinic_id,
        starts_at,
        ends_at,
        reason,
        status: "requested".into(),
        requested_by_user_id: Some(p.user_id),
        decided_by_user_id: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
    };
    tx.insert_time_off(&t).await?;
    let view = TimeOffView::from(&t);
    let change = Change::new("time_off.request", "time_off", Some(t.id))
        .clinic(t.clinic_id)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeOffDecision {
    pub time_off: TimeOffView,
    /// Appointments the approved time off overlaps: they are not cancelled automatically;
    /// the front desk moves or cancels them.
    pub affected_appointments: Vec<AppointmentView>,
}

async fn decide(
    state: &AppState,
    p: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    to: TimeOffStatus,
) -> ApiResult<Json<TimeOffDecision>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let t = tx
        .get_time_off(id)
        .await?
        .ok_or_else(|| ApiError::not_found("time off"))?;
    let scope = visible(tx.as_mut(), p, t.provider_id).await?;
    scope
        .may_manage_provider(tx.as_mut(), t.provider_id, t.clinic_id)
        .await?;
    let before = TimeOffView::from(&t);
    let (decided, affected) = tx
        .decide_time_off(id, to.as_str(), Some(p.user_id), now)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidState,
                format!(
                    "only requested time off can be decided; this is {}",
                    t.status
                ),
            )
        })?;
    let mut views = vec![];
    for a in &affected {
        if let Some(l) = tx.get_appointment_listing(a.id).await? {
            let tz = match tx.get_clinic(a.clinic_id).await? {
                Some(c) => TimeZone::get(&c.timezone).unwrap_or(TimeZone::UTC),
                None => TimeZone::UTC,
            };
            views.push(AppointmentView::new(&l, &tz));
        }
    }
    if to != TimeOffStatus::Approved {
        crate::waitlist::provider_time_freed(
            tx.as_mut(),
            decided.provider_id,
            decided.clinic_id,
            decided.starts_at,
            decided.ends_at,
            now,
        )
        .await?;
    }
    let view = TimeOffView::from(&decided);
    let action = if to == TimeOffStatus::Approved {
        "time_off.approve"
    } else {
        "time_off.reject"
    };
    let change = Change::new(action, "time_off", Some(id))
        .clinic(decided.clinic_id)
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(TimeOffDecision {
        time_off: view,
        affected_appointments: views,
    }))
}

/// Approve requested time off; the answer lists the appointments it overlaps.
#[utoipa::path(post, path = "/api/v1/time-off/{id}/approve", tag = "availability", params(("id" = Uuid, Path)), responses((status = 200, body = TimeOffDecision)))]
async fn approve_time_off(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<TimeOffDecision>> {
    decide(&state, &p, &meta, id, TimeOffStatus::Approved).await
}

/// Reject requested time off.
#[utoipa::path(post, path = "/api/v1/time-off/{id}/reject", tag = "availability", params(("id" = Uuid, Path)), responses((status = 200, body = TimeOffDecision)))]
async fn reject_time_off(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<TimeOffDecision>> {
    decide(&state, &p, &meta, id, TimeOffStatus::Rejected).await
}

/// Withdraw requested or approved time off; its slots open again.
#[utoipa::path(post, path = "/api/v1/time-off/{id}/withdraw", tag = "availability", params(("id" = Uuid, Path)), responses((status = 200, body = TimeOffView)))]
async fn withdraw_time_off(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<TimeOffView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let t = tx
        .get_time_off(id)
        .await?
        .ok_or_else(|| ApiError::not_found("time off"))?;
    let scope = visible(tx.as_mut(), &p, t.provider_id).await?;
    scope
        .may_manage_provider(tx.as_mut(), t.provider_id, t.clinic_id)
        .await?;
    let before = TimeOffView::from(&t);
    let done = tx.withdraw_time_off(id, now).await?.ok_or_else(|| {
        ApiError::new(
            Code::InvalidState,
            format!(
                "only requested or approved time off can be withdrawn; this is {}",
                t.status
            ),
        )
    })?;
    crate::waitlist::provider_time_freed(
        tx.as_mut(),
        done.provider_id,
        done.clinic_id,
        done.starts_at,
        done.ends_at,
        now,
    )
    .await?;
    let view = TimeOffView::from(&done);
    let change = Change::new("time_off.withdraw", "time_off", Some(id))
        .clinic(done.clinic_id)
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// New or changed weekly hours may open time the waitlist is waiting for: the next two weeks
/// are matched.
async fn new_hours(tx: &mut dyn StoreTx, r: &AvailabilityRule, now: Timestamp) -> ApiResult<()> {
    if !r.is_active || !r.is_working_day {
        return Ok(());
    }
    let until = now
        .checked_add(crate::waitlist::NEW_HOURS_WINDOW)
        .unwrap_or(now);
    crate::waitlist::provider_time_freed(tx, r.provider_id, Some(r.clinic_id), now, until, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(start: &str, end: &str, breaks: &[(&str, &str)]) -> AvailabilityRule {
        AvailabilityRule {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            provider_id: Uuid::nil(),
            day_of_week: 1,
            start_time: start.into(),
            end_time: end.into(),
            breaks: breaks
                .iter()
                .map(|(s, e)| ClockSpan {
                    start: (*s).into(),
                    end: (*e).into(),
                })
                .collect(),
            is_working_day: true,
            mode: "any".into(),
            valid_from: None,
            valid_until: None,
            is_active: true,
            notes: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn rules_keep_breaks_inside_and_apart() {
        assert!(validate_rule(&rule("09:00", "17:00", &[("12:00", "13:00")]), vec![]).is_ok());
        assert!(validate_rule(&rule("09:00", "17:00", &[("08:00", "09:30")]), vec![]).is_err());
        assert!(
            validate_rule(
                &rule("09:00", "17:00", &[("12:00", "13:00"), ("12:30", "14:00")]),
                vec![]
            )
            .is_err()
        );
        assert!(validate_rule(&rule("17:00", "09:00", &[]), vec![]).is_err());
        assert!(carebook_domain::schedule::parse_clock("t", "9:00").is_err());
    }
}
