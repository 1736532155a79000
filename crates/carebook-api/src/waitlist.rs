//! The waitlist desk: matching freed time to waiting entries, and what patients and staff do
//! with an entry (join, accept or decline its offer, assign, cancel), shared by both sets of
//! routes.
//!
//! A freed slot is matched by the `waitlist_match` job ([`MatchFreedSlots`]): in one write
//! transaction per offer it walks the clinic's waiting entries in queue order, searches the
//! freed span for a start that suits the first one (its service, provider, mode and dates),
//! and books a hold for it through the same booking desk as every other booking, in status
//! `offered`. The store's overlap rules make that hold exclusive; the entry moves from
//! `waiting` to `offered` under that same condition, so no entry holds two offers and no slot
//! is offered twice. The job repeats until nothing more suits, so one long cancellation can
//! fill several entries.

use crate::desk::{self, BookingRequest, Candidate, FromWaitlist, ServiceTerms};
use crate::error::{ApiError, ApiResult, Code};
use crate::schedule_enums::{ConsultationMode, PriorityName};
use crate::schedule_views::local;
use carebook_domain::schedule::lifecycle::AppointmentStatus;
use carebook_domain::waitlist::{
    EntryStatus, OfferFacts, OfferStatus, assigned_message, estimated_wait, offer_expiry,
    offer_message,
};
use carebook_jobs::channels::{PatientMessage, notify_patient};
use carebook_jobs::queue::{Clock, Failure, Handler};
use carebook_jobs::waitlist::{FreedSlot, language_of, release_offer};
use carebook_store::jobs::Job;
use carebook_store::models::Patient;
use carebook_store::scheduling::Appointment;
use carebook_store::waitlist::{EntryTransition, WaitlistEntry, WaitlistFilter, WaitlistOffer};
use carebook_store::{Store, StoreTx};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use utoipa::ToSchema;
use uuid::Uuid;

/// How many offers one freed span may produce (a long cancellation frees several starts).
const MAX_OFFERS_PER_JOB: usize = 50;
/// How many times a match starts again after losing a race for a start.
const MATCH_RETRIES: usize = 3;
/// The history the estimated wait is drawn from.
pub const ESTIMATE_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 30);

/// The `waitlist_match` job.
pub struct MatchFreedSlots {
    store: Store,
    clock: Clock,
}

impl MatchFreedSlots {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }
}

#[async_trait::async_trait]
impl Handler for MatchFreedSlots {
    async fn run(&self, job: &Job) -> Result<(), Failure> {
        let slot: FreedSlot = serde_json::from_value(job.payload.clone())
            .map_err(|e| Failure::Permanent(format!("payload: {e}")))?;
        let mut lost_races = 0;
        let mut offers = 0;
        while offers < MAX_OFFERS_PER_JOB {
            match offer_one(&self.store, &slot, (self.clock)()).await {
                Ok(Some(_)) => offers += 1,
                Ok(None) => return Ok(()),
                Err(e) if e.code == Code::Internal || e.code == Code::Unavailable => {
                    return Err(Failure::Transient(e.message));
                }
                // A concurrent booking took the start between the search and the hold; the
                // next search sees it.
                Err(_) if lost_races < MATCH_RETRIES => lost_races += 1,
                Err(e) => return Err(Failure::Transient(e.message)),
            }
        }
        Ok(())
    }
}

/// One offer from `slot`, in its own transaction: the first waiting entry in queue order that
/// a free start in the span suits gets a hold on it. `None` when nothing suits anyone.
pub async fn offer_one(
    store: &Store,
    slot: &FreedSlot,
    now: Timestamp,
) -> ApiResult<Option<WaitlistOffer>> {
    let mut tx = store.write().await?;
    let entries = match slot.entry_id {
        Some(id) => tx
            .get_waitlist_entry(id)
            .await?
            .filter(|e| e.status == EntryStatus::Waiting)
            .into_iter()
            .collect(),
        None => {
            let tz = desk::Zones::default()
                .of(tx.as_mut(), slot.clinic_id)
                .await?;
            let day = |t: Timestamp| t.to_zoned(tz.clone()).date();
            let last = slot
                .to
                .checked_sub(SignedDuration::from_micros(1))
                .unwrap_or(slot.to);
            let dates = (day(slot.from.max(now)), day(last.max(now)));
            tx.waiting_entries_for(slot.clinic_id, slot.provider_id, dates)
                .await?
        }
    };
    let mut terms_of: HashMap<Uuid, Option<ServiceTerms>> = HashMap::new();
    for entry in entries {
        if slot.skip_entry == Some(entry.id) {
            continue;
        }
        if let Entry::Vacant(v) = terms_of.entry(entry.service_id) {
            let terms = ServiceTerms::load(tx.as_mut(), entry.service_id)
                .await
                .ok()
                .filter(|t| t.check_bookable().is_ok());
            v.insert(terms);
        }
        let Some(terms) = terms_of.get(&entry.service_id).and_then(|t| t.as_ref()) else {
            continue;
        };
        let patient = tx
            .get_patient(entry.patient_id)
            .await?
            .ok_or_else(|| ApiError::not_found("patient"))?;
        // An entry the patient made themselves is offered what they could book online.
        let online =
            entry.created_by_user_id.is_some() && entry.created_by_user_id == patient.user_id;
        let Some((candidate, start, end)) =
            first_fit(tx.as_mut(), terms, &entry, slot, online, now).await?
        else {
            continue;
        };
        let Some(until) = offer_expiry(
            now,
            SignedDuration::from_mins(i64::from(terms.settings.waitlist_offer_ttl_minutes)),
            start,
        ) else {
            continue;
        };
        let req = BookingRequest {
            online,
            ..booking_for(
                &entry,
                Some(candidate.provider.id),
                start,
                None,
                FromWaitlist::Hold { until },
            )
        };
        let hold = desk::book(tx.as_mut(), terms, &req, &patient, now).await?;
        let offered = tx
            .transition_waitlist_entry(&EntryTransition {
                id: entry.id,
                from: vec![EntryStatus::Waiting],
                to: EntryStatus::Offered,
                appointment_id: None,
                reason: None,
                now,
            })
            .await?;
        if offered.is_none() {
            // Changed meanwhile (cancelled, assigned): start again with what is there now.
            return Err(ApiError::new(Code::Conflict, "the entry changed meanwhile"));
        }
        let offer = WaitlistOffer {
            id: Uuid::now_v7(),
            entry_id: entry.id,
            appointment_id: hold.appointment.id,
            provider_id: candidate.provider.id,
            start_at: start,
            end_at: end,
            status: OfferStatus::Open,
            offered_at: now,
            expires_at: until,
            responded_at: None,
        };
        tx.insert_waitlist_offer(&offer).await?;
        carebook_jobs::waitlist::schedule_expiry(tx.as_mut(), &offer, now).await?;
        let facts = facts(terms, &patient, &candidate.name, start, until);
        let (subject, body) = offer_message(language_of(&patient), &facts);
        notify_patient(
            tx.as_mut(),
            &PatientMessage {
                clinic_id: entry.clinic_id,
                patient_id: patient.id,
                kind: "waitlist_offer".into(),
                subject,
                body,
                appointment_id: Some(hold.appointment.id),
                waitlist_entry_id: Some(entry.id),
                key: format!("waitlist_offer:{}", offer.id),
            },
            now,
        )
        .await?;
        tx.append_audit(&carebook_jobs::system_record(
            now,
            "waitlist.offer",
            "waitlist_entry",
            Some(entry.id.to_string()),
            Some(entry.clinic_id),
            json!({
                "offer_id": offer.id,
                "appointment_id": offer.appointment_id,
                "provider_id": offer.provider_id,
                "start_at": start.to_string(),
                "expires_at": until.to_string(),
                "status": "offered",
            }),
        ))
        .await?;
        tx.commit().await?;
        return Ok(Some(offer));
    }
    Ok(None)
}

/// The earliest free start in the slot's span that suits the entry and was not offered to it
/// before, with the provider who has it.
async fn first_fit(
    tx: &mut dyn StoreTx,
    terms: &ServiceTerms,
    entry: &WaitlistEntry,
    slot: &FreedSlot,
    online: bool,
    now: Timestamp,
) -> ApiResult<Option<(Candidate, Timestamp, Timestamp)>> {
    let Ok(mode) = terms.mode(entry.mode.as_deref().and_then(ConsultationMode::parse)) else {
        return Ok(None);
    };
    let provider = entry.provider_id.or(slot.provider_id);
    if let (Some(wanted), Some(freed)) = (entry.provider_id, slot.provider_id)
        && wanted != freed
    {
        return Ok(None);
    }
    let pool = desk::candidates(tx, terms, provider, Some(mode), online).await?;
    if pool.is_empty() || slot.to <= slot.from {
        return Ok(None);
    }
    let last = slot
        .to
        .checked_sub(SignedDuration::from_micros(1))
        .unwrap_or(slot.to);
    let Some(dates) = entry
        .requested()
        .clamp((terms.local_date(slot.from.max(now)), terms.local_date(last)))
    else {
        return Ok(None);
    };
    // A time the entry was offered before (declined, or left to run out) is not offered to
    // it again, nor any start overlapping it: that time goes on to the next in line.
    let before: Vec<WaitlistOffer> = tx.offers_of(entry.id).await?;
    let offered_before = |provider: Uuid, s: &carebook_domain::schedule::Slot| {
        before
            .iter()
            .any(|o| o.provider_id == provider && o.start_at < s.end && s.start < o.end_at)
    };
    let mut starts: Vec<(Timestamp, Timestamp, usize)> = vec![];
    let days = desk::search(tx, terms, pool, Some(mode), dates, now).await?;
    for (i, pd) in days.iter().enumerate() {
        for s in pd.days.iter().flat_map(|d| d.slots.iter()) {
            if s.start >= slot.from
                && s.start < slot.to
                && !offered_before(pd.candidate.provider.id, s)
            {
                starts.push((s.start, s.end, i));
            }
        }
    }
    starts.sort();
    for (start, end, i) in starts {
        // The patient may be busy then (another booking, another entry's offer).
        if tx
            .patient_bookings(entry.patient_id, start, end)
            .await?
            .is_empty()
        {
            return Ok(Some((days[i].candidate.clone(), start, end)));
        }
    }
    Ok(None)
}

/// The booking an entry asks for, at `start` with `provider_id` (or whoever is free).
fn booking_for(
    entry: &WaitlistEntry,
    provider_id: Option<Uuid>,
    start: Timestamp,
    booked_by: Option<Uuid>,
    how: FromWaitlist,
) -> BookingRequest {
    BookingRequest {
        patient_id: entry.patient_id,
        service_id: entry.service_id,
        provider_id,
        start,
        mode: entry.mode.as_deref().and_then(ConsultationMode::parse),
        priority: entry.priority,
        reason_for_visit: None,
        notes: entry.notes.clone(),
        booked_by,
        online: false,
        waitlist: Some(how),
    }
}

fn facts<'a>(
    terms: &'a ServiceTerms,
    patient: &'a Patient,
    provider: &'a str,
    start: Timestamp,
    until: Timestamp,
) -> OfferFacts<'a> {
    let at = start.to_zoned(terms.tz.clone()).datetime();
    let by = until.to_zoned(terms.tz.clone()).datetime();
    OfferFacts {
        patient: &patient.name,
        provider,
        clinic: &terms.clinic.name,
        service: &terms.service.name,
        date: at.date(),
        time: at.time(),
        until: (by.date(), by.time()),
    }
}

/// The entry, held against concurrent changes, if it is open.
pub async fn open_entry(tx: &mut dyn StoreTx, id: Uuid) -> ApiResult<WaitlistEntry> {
    let e = tx
        .lock_waitlist_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    if !e.status.is_open() {
        return Err(closed(&e));
    }
    Ok(e)
}

fn closed(e: &WaitlistEntry) -> ApiError {
    ApiError::new(
        Code::EntryClosed,
        format!("the waitlist entry is {}", e.status.as_str()),
    )
    .with_details(json!({"status": e.status.as_str()}))
}

/// Accepts the entry's open offer: the hold becomes a booking (`scheduled`, or
/// `pending_payment` where the clinic wants payment first) marked `assigned_from_waitlist`,
/// with its reminders, and the entry is assigned.
pub async fn accept(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    now: Timestamp,
) -> ApiResult<(WaitlistEntry, Appointment)> {
    let offer = tx
        .open_offer_of(entry.id)
        .await?
        .ok_or_else(|| ApiError::new(Code::OfferNotOpen, "there is no open offer to accept"))?;
    if now >= offer.expires_at {
        return Err(ApiError::new(
            Code::OfferExpired,
            "the offer ran out before it was accepted",
        )
        .with_details(json!({"expired_at": offer.expires_at.to_string()})));
    }
    let settings = tx.booking_settings(entry.clinic_id).await?;
    let (to, hold) = if settings.requires_prepayment {
        let until = now
            .checked_add(SignedDuration::from_mins(i64::from(
                settings.payment_hold_minutes,
            )))
            .unwrap_or(now);
        (AppointmentStatus::PendingPayment, Some(until))
    } else {
        (AppointmentStatus::Scheduled, None)
    };
    let conflict = || ApiError::new(Code::OfferNotOpen, "the offer changed meanwhile");
    let booked = tx
        .accept_offered_appointment(offer.appointment_id, to, hold, now)
        .await?
        .ok_or_else(conflict)?;
    tx.close_waitlist_offer(offer.id, OfferStatus::Accepted, now)
        .await?
        .ok_or_else(conflict)?;
    let assigned = assign_entry(tx, entry, booked.id, now).await?;
    carebook_jobs::reminders::plan(tx, &booked, &settings, now).await?;
    tell_assigned(tx, &assigned, &booked, now).await?;
    Ok((assigned, booked))
}

async fn assign_entry(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    appointment_id: Uuid,
    now: Timestamp,
) -> ApiResult<WaitlistEntry> {
    let assigned = tx
        .transition_waitlist_entry(&EntryTransition {
            id: entry.id,
            from: vec![EntryStatus::Waiting, EntryStatus::Offered],
            to: EntryStatus::Assigned,
            appointment_id: Some(appointment_id),
            reason: None,
            now,
        })
        .await?
        .ok_or_else(|| closed(entry))?;
    tx.renumber_waitlist(entry.clinic_id, entry.priority)
        .await?;
    Ok(assigned)
}

async fn tell_assigned(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    a: &Appointment,
    now: Timestamp,
) -> ApiResult<()> {
    let terms = ServiceTerms::load(tx, entry.service_id).await?;
    let Some(patient) = tx.get_patient(entry.patient_id).await? else {
        return Ok(());
    };
    let provider = tx
        .get_provider_listing(a.provider_id)
        .await?
        .map(|l| l.name)
        .unwrap_or_default();
    let f = facts(&terms, &patient, &provider, a.start_at, a.start_at);
    let (subject, body) = assigned_message(language_of(&patient), &f);
    notify_patient(
        tx,
        &PatientMessage {
            clinic_id: entry.clinic_id,
            patient_id: patient.id,
            kind: "waitlist_assigned".into(),
            subject,
            body,
            appointment_id: Some(a.id),
            waitlist_entry_id: Some(entry.id),
            key: format!("waitlist_assigned:{}", entry.id),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Declines the entry's open offer: its time goes to the next entry in line, and the entry
/// keeps its place for another time.
pub async fn decline(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    now: Timestamp,
) -> ApiResult<WaitlistEntry> {
    let offer = tx
        .open_offer_of(entry.id)
        .await?
        .ok_or_else(|| ApiError::new(Code::OfferNotOpen, "there is no open offer to decline"))?;
    release_offer(tx, &offer, OfferStatus::Declined, now)
        .await?
        .ok_or_else(|| ApiError::new(Code::OfferNotOpen, "the offer changed meanwhile"))
}

/// Takes the entry off the waitlist; an open offer is withdrawn and its time goes on.
pub async fn cancel(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    reason: &str,
    now: Timestamp,
) -> ApiResult<WaitlistEntry> {
    if let Some(offer) = tx.open_offer_of(entry.id).await? {
        release_offer(tx, &offer, OfferStatus::Withdrawn, now).await?;
    }
    let done = tx
        .transition_waitlist_entry(&EntryTransition {
            id: entry.id,
            from: vec![EntryStatus::Waiting],
            to: EntryStatus::Cancelled,
            appointment_id: None,
            reason: Some(reason.to_owned()),
            now,
        })
        .await?
        .ok_or_else(|| closed(entry))?;
    tx.renumber_waitlist(entry.clinic_id, entry.priority)
        .await?;
    Ok(done)
}

/// Staff book the entry a time of their choosing: an open offer is withdrawn first (its time
/// goes on to the next entry), then the booking is made like any other, marked as from the
/// waitlist, and the entry is assigned.
pub async fn assign(
    tx: &mut dyn StoreTx,
    entry: &WaitlistEntry,
    provider_id: Option<Uuid>,
    start: Timestamp,
    by: Uuid,
    now: Timestamp,
) -> ApiResult<(WaitlistEntry, Appointment)> {
    if let Some(offer) = tx.open_offer_of(entry.id).await? {
        release_offer(tx, &offer, OfferStatus::Withdrawn, now).await?;
    }
    let terms = ServiceTerms::load(tx, entry.service_id).await?;
    let patient = tx
        .get_patient(entry.patient_id)
        .await?
        .ok_or_else(|| ApiError::not_found("patient"))?;
    let req = booking_for(
        entry,
        provider_id.or(entry.provider_id),
        start,
        Some(by),
        FromWaitlist::Assigned,
    );
    let booked = desk::book(tx, &terms, &req, &patient, now).await?;
    let assigned = assign_entry(tx, entry, booked.appointment.id, now).await?;
    tell_assigned(tx, &assigned, &booked.appointment, now).await?;
    Ok((assigned, booked.appointment))
}

/// An entry as the API shows it: where it stands in line and how long it may wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntryView {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub service_id: Uuid,
    pub service_name: String,
    /// `null`: any provider who delivers the service.
    pub provider_id: Option<Uuid>,
    pub mode: Option<ConsultationMode>,
    /// Local dates of the clinic; both `null`: the first available time.
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub requested_to: Option<Date>,
    pub priority: PriorityName,
    /// Place within the priority (1 = first), as staff ordered it.
    pub position: u32,
    /// Place among everyone open for the same service at the clinic, all priorities (1 =
    /// next); `null` once the entry is closed.
    pub place_in_line: Option<u32>,
    /// Days the entry may still wait, from the clinic's assignments of the service over the
    /// last 30 days; `null` without that history or once closed.
    pub estimated_wait_days: Option<u32>,
    /// `waiting`, `offered`, `assigned`, `cancelled` or `expired`.
    pub status: String,
    pub notes: Option<String>,
    /// The booking the entry became.
    pub appointment_id: Option<Uuid>,
    /// The time held for the patient now, if any.
    pub offer: Option<OfferView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub assigned_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    pub close_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    /// The held appointment (status `offered` until answered).
    pub appointment_id: Uuid,
    pub provider_id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end_at: Timestamp,
    /// The start on the clinic's clock.
    pub local_start: String,
    /// `open`, `accepted`, `declined`, `expired` or `withdrawn`.
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub offered_at: Timestamp,
    /// Accept before this, or the time goes to the next in line.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub responded_at: Option<Timestamp>,
}

impl OfferView {
    pub fn new(o: &WaitlistOffer, tz: &TimeZone) -> Self {
        Self {
            id: o.id,
            appointment_id: o.appointment_id,
            provider_id: o.provider_id,
            start_at: o.start_at,
            end_at: o.end_at,
            local_start: local(o.start_at, tz),
            status: o.status.as_str().to_owned(),
            offered_at: o.offered_at,
            expires_at: o.expires_at,
            responded_at: o.responded_at,
        }
    }
}

/// Builds the views of `entries`, reading each line and history once.
pub async fn views(
    tx: &mut dyn StoreTx,
    entries: &[WaitlistEntry],
    now: Timestamp,
) -> ApiResult<Vec<WaitlistEntryView>> {
    let mut lines: HashMap<(Uuid, Uuid), Vec<Uuid>> = HashMap::new();
    let mut rates: HashMap<(Uuid, Uuid), u32> = HashMap::new();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    let mut services: HashMap<Uuid, String> = HashMap::new();
    let mut zones = desk::Zones::default();
    let since = now.checked_sub(ESTIMATE_WINDOW).unwrap_or(now);
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let key = (e.clinic_id, e.service_id);
        let (place, estimate) = if e.status.is_open() {
            if let Entry::Vacant(v) = lines.entry(key) {
                let line = tx
                    .list_waitlist(
                        &WaitlistFilter {
                            clinic_id: Some(e.clinic_id),
                            service_id: Some(e.service_id),
                            ..Default::default()
                        },
                        0,
                        10_000,
                    )
                    .await?;
                v.insert(line.iter().map(|x| x.id).collect());
                let n = tx
                    .waitlist_assignments_since(e.clinic_id, e.service_id, since)
                    .await?;
                rates.insert(key, n);
            }
            let place = lines[&key]
                .iter()
                .position(|id| *id == e.id)
                .map(|i| i as u32 + 1);
            let estimate = place
                .and_then(|p| estimated_wait(p, rates[&key], ESTIMATE_WINDOW))
                .map(|d| (d.as_secs() as f64 / 86_400.0).ceil().max(1.0) as u32);
            (place, estimate)
        } else {
            (None, None)
        };
        if let Entry::Vacant(v) = names.entry(e.patient_id) {
            let name = tx
                .get_patient(e.patient_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            v.insert(name);
        }
        if let Entry::Vacant(v) = services.entry(e.service_id) {
            let name = tx
                .get_service(e.service_id)
                .await?
                .map(|s| s.name)
                .unwrap_or_default();
            v.insert(name);
        }
        let tz = zones.of(tx, e.clinic_id).await?;
        let offer = match e.status {
            EntryStatus::Offered => tx
                .open_offer_of(e.id)
                .await?
                .map(|o| OfferView::new(&o, &tz)),
            _ => None,
        };
        out.push(WaitlistEntryView {
            id: e.id,
            clinic_id: e.clinic_id,
            patient_id: e.patient_id,
            patient_name: names[&e.patient_id].clone(),
            service_id: e.service_id,
            service_name: services[&e.service_id].clone(),
            provider_id: e.provider_id,
            mode: e.mode.as_deref().and_then(ConsultationMode::parse),
            requested_from: e.requested_from,
            requested_to: e.requested_to,
            priority: e.priority.into(),
            position: e.position,
            place_in_line: place,
            estimated_wait_days: estimate,
            status: e.status.as_str().to_owned(),
            notes: e.notes.clone(),
            appointment_id: e.appointment_id,
            offer,
            created_at: e.created_at,
            updated_at: e.updated_at,
            assigned_at: e.assigned_at,
            closed_at: e.closed_at,
            close_reason: e.close_reason.clone(),
        });
    }
    Ok(out)
}

/// The view of one entry, read again after a change.
pub async fn view(tx: &mut dyn StoreTx, id: Uuid, now: Timestamp) -> ApiResult<WaitlistEntryView> {
    let e = tx
        .get_waitlist_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found("waitlist entry"))?;
    Ok(views(tx, &[e], now).await?.remove(0))
}

/// How far ahead new working hours are matched against the waitlist.
pub const NEW_HOURS_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 14);

/// Records, in `tx`, that a provider's time `[from, to)` may have freed up at `clinic_id`
/// (`None`: every clinic where they work), so waiting entries are offered it.
pub async fn provider_time_freed(
    tx: &mut dyn StoreTx,
    provider_id: Uuid,
    clinic_id: Option<Uuid>,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> ApiResult<()> {
    let clinics: Vec<Uuid> = match clinic_id {
        Some(c) => vec![c],
        None => tx
            .provider_clinics(provider_id)
            .await?
            .into_iter()
            .filter(|pc| pc.is_live())
            .map(|pc| pc.clinic_id)
            .collect(),
    };
    let from = from.max(now);
    for c in clinics {
        carebook_jobs::waitlist::slot_freed(tx, c, provider_id, from, to, now).await?;
    }
    Ok(())
}

/// [`provider_time_freed`] for one local date of the clinic.
pub async fn provider_day_freed(
    tx: &mut dyn StoreTx,
    provider_id: Uuid,
    clinic_id: Uuid,
    date: Date,
    now: Timestamp,
) -> ApiResult<()> {
    let tz = desk::Zones::default().of(tx, clinic_id).await?;
    let (from, to) = desk::instants_of(&tz, date, date);
    provider_time_freed(tx, provider_id, Some(clinic_id), from, to, now).await
}
