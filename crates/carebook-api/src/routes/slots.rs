//! Slot search: the free start times of a service, with one provider or any, over a range of
//! the clinic's dates. Computed by the domain's pure `free_slots` from the same facts a
//! booking is checked against, so a start offered here is a start that can be booked. When
//! nothing is free the answer says why.

use crate::auth::Principal;
use crate::desk::{self, ServiceTerms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::schedule_enums::{ConsultationMode, NoSlotReasonName, reason_name};
use crate::schedule_views::local;
use crate::state::AppState;
use axum::extract::State;
use carebook_domain::Role;
use carebook_domain::schedule::NoSlotReason;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// The longest range one search covers.
const MAX_DAYS: i64 = 31;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_slots))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotParams {
    pub service_id: Uuid,
    /// One provider; leave out to search every provider of the service.
    pub provider_id: Option<Uuid>,
    /// Only time offered for this consultation mode.
    pub mode: Option<ConsultationMode>,
    /// First clinic-local date (default: today at the clinic).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last clinic-local date, inclusive (default: six days after `from`; at most 31 days).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

/// Why a search found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmptyReason {
    /// Nobody delivers this service here (in this mode).
    NoProvider,
    NotWorking,
    OnLeave,
    DailyCapReached,
    FullyBooked,
    TooSoon,
    BeyondBookingWindow,
}

impl From<NoSlotReason> for EmptyReason {
    fn from(r: NoSlotReason) -> Self {
        match r {
            NoSlotReason::NotWorking => Self::NotWorking,
            NoSlotReason::OnLeave => Self::OnLeave,
            NoSlotReason::DailyCapReached => Self::DailyCapReached,
            NoSlotReason::FullyBooked => Self::FullyBooked,
            NoSlotReason::TooSoon => Self::TooSoon,
            NoSlotReason::BeyondBookingWindow => Self::BeyondBookingWindow,
        }
    }
}

/// A free start and who is free then.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeSlotView {
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    /// The start on the clinic's wall clock, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    /// The providers free at that start (a booking without a provider takes one of them).
    pub provider_ids: Vec<Uuid>,
}

/// One provider's day in the search.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// How many free starts the provider has that day (listed in `slots`).
    pub free: u32,
    /// Set when the day offers nothing.
    pub reason: Option<NoSlotReasonName>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderSlotsView {
    pub provider_id: Uuid,
    pub name: String,
    /// Free starts over the whole range.
    pub free: u32,
    pub days: Vec<DayView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotSearchView {
    pub service_id: Uuid,
    pub clinic_id: Uuid,
    /// The clinic's IANA time zone, in which `from`, `to` and `local_start` are read.
    pub timezone: String,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub duration_minutes: u32,
    /// Every free start, earliest first, with the providers free then.
    pub slots: Vec<FreeSlotView>,
    /// Each searched provider's days: how many starts are free, or why none is.
    pub providers: Vec<ProviderSlotsView>,
    /// Set when `slots` is empty: the most common reason over the searched days.
    pub reason: Option<EmptyReason>,
}

/// Free start times for a service. Patients and family members see only verified providers,
/// as they can book only those.
#[utoipa::path(get, path = "/api/v1/slots", tag = "scheduling", params(SlotParams), responses((status = 200, body = SlotSearchView)))]
async fn search_slots(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<SlotParams>,
) -> ApiResult<Json<SlotSearchView>> {
    let now = state.now();
    let mut tx = state.store.read().await?;
    let terms = ServiceTerms::load(tx.as_mut(), q.service_id).await?;
    let from = q.from.unwrap_or_else(|| terms.local_date(now));
    let to = match q.to {
        Some(t) => t,
        None => from
            .checked_add(jiff::Span::new().days(6))
            .map_err(|_| ApiError::invalid_parameter("from", "is out of range"))?,
    };
    if to < from {
        return Err(ApiError::invalid_parameter("to", "must not be before from"));
    }
    if (to - from).get_days() > MAX_DAYS as i32 - 1 {
        return Err(ApiError::invalid_parameter(
            "to",
            format!("a search covers at most {MAX_DAYS} days"),
        ));
    }
    let candidates = if terms.service.is_active && terms.clinic.status == "active" {
        let online = matches!(p.role, Role::Patient | Role::FamilyMember);
        desk::candidates(tx.as_mut(), &terms, q.provider_id, q.mode, online).await?
    } else {
        vec![]
    };
    let found = desk::search(tx.as_mut(), &terms, candidates, q.mode, (from, to), now).await?;
    let tz = &terms.tz;
    let mut merged: BTreeMap<Timestamp, (Timestamp, Vec<Uuid>)> = BTreeMap::new();
    let mut reasons: BTreeMap<&'static str, (usize, NoSlotReason)> = BTreeMap::new();
    let mut providers = vec![];
    for pd in &found {
        let id = pd.candidate.provider.id;
        let mut days = vec![];
        let mut free = 0;
        for d in &pd.days {
            for s in &d.slots {
                merged.entry(s.start).or_insert((s.end, vec![])).1.push(id);
            }
            if let Some(r) = d.reason {
                reasons.entry(reason_name(r)).or_insert((0, r)).0 += 1;
            }
            let n = d.slots.len() as u32;
            free += n;
            days.push(DayView {
                date: d.date,
                free: n,
                reason: d.reason.map(Into::into),
            });
        }
        providers.push(ProviderSlotsView {
            provider_id: id,
            name: pd.candidate.name.clone(),
            free,
            days,
        });
    }
    let slots: Vec<FreeSlotView> = merged
        .into_iter()
        .map(|(start, (end, provider_ids))| FreeSlotView {
            start,
            end,
            local_start: local(start, tz),
            provider_ids,
        })
        .collect();
    let reason = if !slots.is_empty() {
        None
    } else if found.is_empty() {
        Some(EmptyReason::NoProvider)
    } else {
        reasons
            .values()
            .max_by_key(|(n, _)| *n)
            .map(|(_, r)| EmptyReason::from(*r))
    };
    Ok(Json(SlotSearchView {
        service_id: terms.service.id,
        clinic_id: terms.clinic.id,
        timezone: terms.clinic.timezone.clone(),
        from,
        to,
        duration_minutes: terms.service.duration_minutes,
        slots,
        providers,
        reason,
    }))
}
