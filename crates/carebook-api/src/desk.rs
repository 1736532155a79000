//! The booking desk: what slot search, booking, rescheduling and status changes share,
//! whichever route (front desk or patient) they come from.
//!
//! Each operation reads the facts inside the caller's write transaction, asks the domain
//! (`free_slots`, `check_booking`, `transition`) and hands the result to the store, whose
//! constraints make it atomic against concurrent writers. The domain answer gives the precise
//! refusal and the alternatives; the store's answer is the one that holds under a race.

use crate::error::{ApiError, ApiResult, Code};
use crate::schedule_enums::{ConsultationMode, RuleMode, modes_of, reason_name};
use crate::schedule_views::local;
use carebook_domain::schedule::booking::{BookingRefusal, check_booking};
use carebook_domain::schedule::lifecycle::{
    Action, Actor, AppointmentStatus, Priority, TransitionError, transition,
};
use carebook_domain::schedule::{Booked, NoSlotReason, Slot, SlotQuery, Span, WeeklyRule};
use carebook_domain::schedule::{DayOutcome, DayOverride, free_slots};
use carebook_store::StoreTx;
use carebook_store::models::Clinic;
use carebook_store::scheduling::*;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use uuid::Uuid;

/// How many free starts a refusal offers instead.
pub const ALTERNATIVES: usize = 5;
/// How far ahead a refusal looks for alternatives.
const ALTERNATIVE_DAYS: i64 = 14;

/// Everything about a service and its clinic that bookings of it need.
pub struct ServiceTerms {
    pub service: Service,
    pub clinic: Clinic,
    pub tz: TimeZone,
    pub settings: BookingSettings,
}

impl ServiceTerms {
    pub async fn load(tx: &mut dyn StoreTx, service_id: Uuid) -> ApiResult<Self> {
        let service = tx
            .get_service(service_id)
            .await?
            .ok_or_else(|| ApiError::not_found("service"))?;
        let clinic = tx
            .get_clinic(service.clinic_id)
            .await?
            .ok_or_else(|| ApiError::not_found("clinic"))?;
        let tz = TimeZone::get(&clinic.timezone)
            .map_err(|e| ApiError::internal(format!("clinic time zone: {e}")))?;
        let settings = tx.booking_settings(clinic.id).await?;
        Ok(Self {
            service,
            clinic,
            tz,
            settings,
        })
    }

    /// Refuses bookings of an inactive service or at a clinic that is not open for them.
    pub fn check_bookable(&self) -> ApiResult<()> {
        if !self.service.is_active {
            return Err(ApiError::new(
                Code::NotBookable,
                "this service is not offered any more",
            ));
        }
        if self.clinic.status != "active" {
            return Err(ApiError::new(
                Code::NotBookable,
                format!("the clinic is {}", self.clinic.status.replace('_', " ")),
            ));
        }
        Ok(())
    }

    /// The mode asked for, or the service's first; it must be one the service offers.
    pub fn mode(&self, asked: Option<ConsultationMode>) -> ApiResult<ConsultationMode> {
        let offered = modes_of(&self.service.modes);
        match asked {
            Some(m) if offered.contains(&m) => Ok(m),
            Some(m) => Err(ApiError::new(
                Code::NotBookable,
                format!("this service is not offered as `{}`", m.as_str()),
            )),
            None => offered.first().copied().ok_or_else(|| {
                ApiError::new(Code::NotBookable, "this service has no consultation mode")
            }),
        }
    }

    pub fn local_date(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }
}

/// A provider who can be booked for the service, with the terms of their engagement.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub provider: Provider,
    pub engagement: ProviderClinic,
    pub name: String,
    pub service_fee: Option<(i64, String)>,
}

impl Candidate {
    pub fn daily_cap(&self) -> u32 {
        self.engagement
            .max_daily_appointments
            .unwrap_or(self.provider.max_daily_appointments)
    }

    pub fn takes_emergencies(&self) -> bool {
        self.provider.emergency_enabled && self.engagement.accepts_emergencies
    }

    fn offers(&self, mode: Option<ConsultationMode>) -> bool {
        mode.is_none_or(|m| modes_of(&self.engagement.consultation_modes).contains(&m))
    }
}

/// The providers bookable for the service at its clinic in `mode`, optionally only one.
/// Patients booking online (`online`) see only providers whose credentials are verified.
pub async fn candidates(
    tx: &mut dyn StoreTx,
    terms: &ServiceTerms,
    provider_id: Option<Uuid>,
    mode: Option<ConsultationMode>,
    online: bool,
) -> ApiResult<Vec<Candidate>> {
    let all = tx
        .eligible_providers(terms.clinic.id, terms.service.id, provider_id)
        .await?;
    Ok(all
        .into_iter()
        .map(|e| Candidate {
            provider: e.provider,
            engagement: e.engagement,
            name: e.name,
            service_fee: e.service_fee,
        })
        .filter(|c| provider_id.is_none_or(|id| c.provider.id == id))
        .filter(|c| c.offers(mode))
        .filter(|c| !online || c.provider.verification_status == "verified")
        .collect())
}

/// A provider's facts in the form the slot search reads.
#[derive(Debug, Default)]
pub struct Prepared {
    rules: Vec<WeeklyRule>,
    overrides: Vec<(Date, DayOverride)>,
    time_off: Vec<Span>,
    booked: Vec<Booked>,
}

impl Prepared {
    /// `except` leaves out one appointment (the one being rescheduled).
    pub fn new(f: &ScheduleFacts, mode: Option<ConsultationMode>, except: Option<Uuid>) -> Self {
        Self {
            rules: f
                .rules
                .iter()
                .filter(|r| RuleMode::parse(&r.mode).is_none_or(|m| m.serves(mode)))
                .filter_map(AvailabilityRule::to_weekly)
                .collect(),
            overrides: day_overrides(&f.exceptions),
            time_off: f
                .time_off
                .iter()
                .filter_map(|t| Span::new(t.starts_at, t.ends_at))
                .collect(),
            booked: f
                .bookings
                .iter()
                .filter(|a| Some(a.id) != except)
                .map(|a| Booked {
                    start: a.start_at,
                    busy: Span {
                        start: a.busy_start_at,
                        end: a.busy_end_at,
                    },
                })
                .collect(),
        }
    }

    pub fn query<'a>(
        &'a self,
        terms: &'a ServiceTerms,
        cap: Option<u32>,
        dates: (Date, Date),
        now: Timestamp,
    ) -> SlotQuery<'a> {
        let s = &terms.service;
        let st = &terms.settings;
        let mins = |m: u32| SignedDuration::from_mins(i64::from(m));
        SlotQuery {
            tz: &terms.tz,
            from: dates.0,
            to: dates.1,
            rules: &self.rules,
            overrides: &self.overrides,
            time_off: &self.time_off,
            booked: &self.booked,
            duration: mins(s.duration_minutes),
            buffer_before: mins(s.buffer_before_minutes),
            buffer_after: mins(s.buffer_after_minutes),
            step_minutes: st.slot_granularity_minutes,
            min_notice: mins(st.min_notice_minutes),
            horizon: SignedDuration::from_hours(i64::from(st.booking_horizon_days) * 24),
            daily_cap: cap,
            now,
        }
    }
}

/// The first instant of local date `d` in `tz` (midnight, or the moment clocks jump to when
/// midnight falls in a gap).
pub fn local_midnight(tz: &TimeZone, d: Date) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .ok()
}

/// The instants that bound local dates `from..=to` in `tz`, with a day's margin for buffers.
pub fn instants_of(tz: &TimeZone, from: Date, to: Date) -> (Timestamp, Timestamp) {
    let at = |d: Date| local_midnight(tz, d).unwrap_or(Timestamp::UNIX_EPOCH);
    let day = SignedDuration::from_hours(24);
    let start = at(from).checked_sub(day).unwrap_or(Timestamp::MIN);
    let end = to
        .tomorrow()
        .map(at)
        .unwrap_or(Timestamp::MAX)
        .checked_add(day)
        .unwrap_or(Timestamp::MAX);
    (start, end)
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// One provider's days in a search.
pub struct ProviderDays {
    pub candidate: Candidate,
    pub days: Vec<DayOutcome>,
}

/// Free starts of every candidate over local dates `from..=to`, read in one round of queries.
pub async fn search(
    tx: &mut dyn StoreTx,
    terms: &ServiceTerms,
    candidates: Vec<Candidate>,
    mode: Option<ConsultationMode>,
    dates: (Date, Date),
    now: Timestamp,
) -> ApiResult<Vec<ProviderDays>> {
    let span = instants_of(&terms.tz, dates.0, dates.1);
    let facts = if candidates.len() == 1 {
        let id = candidates[0].provider.id;
        vec![(
            id,
            tx.schedule_facts(id, terms.clinic.id, dates, span).await?,
        )]
    } else {
        tx.service_schedule_facts(terms.clinic.id, terms.service.id, dates, span)
            .await?
    };
    let empty = ScheduleFacts::default();
    Ok(candidates
        .into_iter()
        .map(|c| {
            let f = facts
                .iter()
                .find(|(id, _)| *id == c.provider.id)
                .map_or(&empty, |(_, f)| f);
            let days = if c.provider.status == "on_leave" {
                all_days(dates, NoSlotReason::OnLeave)
            } else {
                let prepared = Prepared::new(f, mode, None);
                free_slots(&prepared.query(terms, Some(c.daily_cap()), dates, now))
            };
            ProviderDays { candidate: c, days }
        })
        .collect())
}

fn all_days(dates: (Date, Date), reason: NoSlotReason) -> Vec<DayOutcome> {
    let mut out = vec![];
    let mut d = dates.0;
    while d <= dates.1 {
        out.push(DayOutcome {
            date: d,
            slots: vec![],
            reason: Some(reason),
        });
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    out
}

/// A booking to make.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub patient_id: Uuid,
    pub service_id: Uuid,
    /// `None`: the first provider free at that time.
    pub provider_id: Option<Uuid>,
    pub start: Timestamp,
    pub mode: Option<ConsultationMode>,
    pub priority: Priority,
    pub reason_for_visit: Option<String>,
    pub notes: Option<String>,
    /// `None`: the system (a waitlist offer).
    pub booked_by: Option<Uuid>,
    /// A patient booking for themselves: only verified providers.
    pub online: bool,
    /// A booking for a waitlist entry: a hold for its offer, or the entry's assignment.
    pub waitlist: Option<FromWaitlist>,
}

/// How a booking comes from the waitlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromWaitlist {
    /// An offer's hold, in status `offered` until `until`; no reminders until it is accepted.
    Hold { until: Timestamp },
    /// Staff assigned the entry this time: an ordinary booking, marked as from the waitlist.
    Assigned,
}

/// Books inside `tx` (which the caller audits and commits) for `patient` (the request's),
/// and returns the appointment with the names a view shows.
pub async fn book(
    tx: &mut dyn StoreTx,
    terms: &ServiceTerms,
    req: &BookingRequest,
    patient: &carebook_store::models::Patient,
    now: Timestamp,
) -> ApiResult<AppointmentListing> {
    terms.check_bookable()?;
    let mode = terms.mode(req.mode)?;
    let mut pool = candidates(tx, terms, req.provider_id, Some(mode), req.online).await?;
    if pool.is_empty() {
        return Err(ApiError::new(
            Code::NotBookable,
            match req.provider_id {
                Some(_) => "this provider does not take bookings for this service here",
                None => "nobody takes bookings for this service here",
            },
        ));
    }
    let s = &terms.service;
    let end = req
        .start
        .checked_add(SignedDuration::from_mins(i64::from(s.duration_minutes)))
        .map_err(|_| ApiError::new(Code::ValidationFailed, "start is out of range"))?;
    let patient_busy: Vec<Span> = tx
        .patient_bookings(req.patient_id, req.start, end)
        .await?
        .iter()
        .filter_map(|a| Span::new(a.start_at, a.end_at))
        .collect();
    let date = terms.local_date(req.start);
    // The least loaded provider first when any will do.
    let mut loads = vec![0; pool.len()];
    if pool.len() > 1 {
        for (i, c) in pool.iter().enumerate() {
            loads[i] = tx.provider_day_load(c.provider.id, date).await?;
        }
    }
    // Equally loaded providers in random order, so concurrent "any provider" bookings of the
    // same time spread over them instead of all racing for the first.
    let tiebreak: Vec<u32> = (0..pool.len()).map(|_| rand::random()).collect();
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by_key(|&i| (loads[i], tiebreak[i]));
    let mut first_refusal = None;
    let mut chosen = None;
    for &i in &order {
        let c = &pool[i];
        let decision = if c.provider.status == "on_leave" {
            Err(BookingRefusal::DayUnavailable(NoSlotReason::OnLeave))
        } else {
            let span = instants_of(&terms.tz, date, date);
            let facts = tx
                .schedule_facts(c.provider.id, terms.clinic.id, (date, date), span)
                .await?;
            let prepared = Prepared::new(&facts, Some(mode), None);
            let q = prepared.query(terms, Some(c.daily_cap()), (date, date), now);
            check_booking(
                &q,
                req.start,
                req.priority,
                c.takes_emergencies(),
                &patient_busy,
            )
        };
        match decision {
            Ok(plan) => {
                chosen = Some((i, plan));
                break;
            }
            Err(BookingRefusal::PatientBusy) => {
                return Err(ApiError::new(
                    Code::PatientBusy,
                    "the patient already has an appointment at that time",
                ));
            }
            Err(r) => {
                first_refusal.get_or_insert(r);
            }
        }
    }
    let Some((i, plan)) = chosen else {
        let refusal = first_refusal.unwrap_or(BookingRefusal::OutsideWorkingHours);
        return Err(
            refused_with_alternatives(tx, terms, pool, mode, &refusal, req.start, now).await,
        );
    };
    let c = pool.swap_remove(i);
    let (fee_minor, currency) = fee(&c, s);
    let hold = match req.waitlist {
        Some(FromWaitlist::Hold { until }) => Some(until),
        _ => None,
    };
    let appointment = Appointment {
        service_id: Some(s.id),
        status: if hold.is_some() {
            AppointmentStatus::Offered
        } else if terms.settings.requires_prepayment {
            AppointmentStatus::PendingPayment
        } else {
            AppointmentStatus::Scheduled
        },
        priority: req.priority,
        mode: mode.as_str().to_owned(),
        busy_start_at: plan.busy.start,
        busy_end_at: plan.busy.end,
        over_daily_cap: plan.over_daily_cap,
        reason_for_visit: req.reason_for_visit.clone(),
        notes: req.notes.clone(),
        fee_minor,
        currency,
        hold_expires_at: hold.or_else(|| {
            terms.settings.requires_prepayment.then(|| {
                now.checked_add(SignedDuration::from_mins(i64::from(
                    terms.settings.payment_hold_minutes,
                )))
                .unwrap_or(now)
            })
        }),
        assigned_from_waitlist: req.waitlist.is_some(),
        booked_by_user_id: req.booked_by,
        ..Appointment::new(
            terms.clinic.id,
            req.patient_id,
            c.provider.id,
            plan.start,
            plan.end,
            date,
            now,
        )
    };
    // Registered at the clinic before the booking's writes begin: the booking takes the
    // clinic's number counter, and everything after that waits for this transaction.
    tx.link_patient_clinic(req.patient_id, terms.clinic.id, now)
        .await?;
    let outcome = tx
        .book_appointment(&NewAppointment {
            appointment: appointment.clone(),
            booked_on: terms.local_date(now),
            daily_cap: (!plan.over_daily_cap).then(|| c.daily_cap()),
        })
        .await?;
    let refusal = match outcome {
        BookingOutcome::Booked { number } => {
            let appointment = Appointment {
                number,
                ..appointment
            };
            if hold.is_none() {
                carebook_jobs::reminders::plan(tx, &appointment, &terms.settings, now).await?;
            }
            return Ok(AppointmentListing {
                appointment,
                patient_name: patient.name.clone(),
                patient_phone: patient.phone.clone(),
                provider_name: c.name.clone(),
                service_name: Some(s.name.clone()),
            });
        }
        // Another booking committed between our read and our insert.
        BookingOutcome::ProviderBusy => BookingRefusal::SlotTaken,
        BookingOutcome::PatientBusy => BookingRefusal::PatientBusy,
        BookingOutcome::DailyCapReached => BookingRefusal::DailyCapReached,
    };
    // The transaction can no longer commit, but it can still read.
    Err(refused_with_alternatives(tx, terms, vec![c], mode, &refusal, req.start, now).await)
}

/// [`refused`] after searching the next two weeks of `pool` for alternatives.
async fn refused_with_alternatives(
    tx: &mut dyn StoreTx,
    terms: &ServiceTerms,
    pool: Vec<Candidate>,
    mode: ConsultationMode,
    refusal: &BookingRefusal,
    start: Timestamp,
    now: Timestamp,
) -> ApiError {
    let date = terms.local_date(start);
    let dates = (date, add_days(date, ALTERNATIVE_DAYS));
    match search(tx, terms, pool, Some(mode), dates, now).await {
        Ok(days) => refused(refusal, &days, start, &terms.tz),
        Err(e) => e,
    }
}

/// Whether a refusal may be worth retrying in a new transaction: an "any provider" booking
/// whose chosen provider was taken by a concurrent booking may still find another one free.
pub fn lost_a_race(req: &BookingRequest, e: &ApiError) -> bool {
    req.provider_id.is_none()
        && e.code == Code::SlotUnavailable
        && e.details.get("reason").and_then(|r| r.as_str()) == Some("slot_taken")
}

/// How many times an "any provider" booking is tried.
pub const ANY_PROVIDER_ATTEMPTS: usize = 3;

/// Runs `attempt` (one booking in its own transaction) again while an "any provider"
/// booking loses its provider to a concurrent one, up to [`ANY_PROVIDER_ATTEMPTS`] times.
pub async fn retrying<T, F, Fut>(req: &BookingRequest, mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if tries < ANY_PROVIDER_ATTEMPTS && lost_a_race(req, &e) => tries += 1,
            other => return other,
        }
    }
}

/// The fee of a booking: the provider's own for the service, else their fee at the clinic,
/// else the service's, else their default.
fn fee(c: &Candidate, s: &Service) -> (Option<i64>, Option<String>) {
    match &c.service_fee {
        Some((minor, currency)) => (Some(*minor), Some(currency.clone())),
        None if c.engagement.consultation_fee_minor.is_some() => (
            c.engagement.consultation_fee_minor,
            c.engagement.currency.clone(),
        ),
        None if s.fee_minor.is_some() => (s.fee_minor, s.currency.clone()),
        None => (c.provider.default_fee_minor, c.provider.currency.clone()),
    }
}

/// The 409 for a refused booking, with the next free starts of the searched providers.
pub fn refused(
    r: &BookingRefusal,
    days: &[ProviderDays],
    after: Timestamp,
    tz: &TimeZone,
) -> ApiError {
    let mut free: Vec<(Slot, Uuid)> = days
        .iter()
        .flat_map(|pd| {
            pd.days
                .iter()
                .flat_map(|d| d.slots.iter())
                .filter(|s| s.start >= after)
                .map(|s| (*s, pd.candidate.provider.id))
        })
        .collect();
    free.sort_by_key(|(s, id)| (s.start, *id));
    free.dedup_by_key(|(s, _)| s.start);
    free.truncate(ALTERNATIVES);
    let alternatives: Vec<_> = free
        .iter()
        .map(|(s, id)| {
            json!({"start": s.start.to_string(), "end": s.end.to_string(),
                   "local_start": local(s.start, tz), "provider_id": id})
        })
        .collect();
    let (code, message, reason) = match r {
        BookingRefusal::SlotTaken => (
            Code::SlotUnavailable,
            "that time is already booked".to_owned(),
            "slot_taken",
        ),
        BookingRefusal::PatientBusy => (
            Code::PatientBusy,
            "the patient already has an appointment at that time".to_owned(),
            "patient_busy",
        ),
        BookingRefusal::DailyCapReached => (
            Code::DailyCapReached,
            "the provider's day is fully booked (daily appointment cap)".to_owned(),
            "daily_cap_reached",
        ),
        BookingRefusal::OutsideWorkingHours => (
            Code::SlotUnavailable,
            "that start is not a bookable time (outside working hours or off the clinic's slot grid)"
                .to_owned(),
            "outside_working_hours",
        ),
        BookingRefusal::DayUnavailable(reason) => {
            let name = reason_name(*reason);
            let code = if *reason == NoSlotReason::DailyCapReached {
                Code::DailyCapReached
            } else {
                Code::SlotUnavailable
            };
            (
                code,
                format!("nothing can be booked that day: {}", name.replace('_', " ")),
                name,
            )
        }
    };
    ApiError::new(code, message)
        .with_details(json!({"reason": reason, "alternatives": alternatives}))
}

/// Moves an appointment to `start` (same provider and service), inside `tx`.
pub async fn reschedule(
    tx: &mut dyn StoreTx,
    appointment: &Appointment,
    start: Timestamp,
    actor: Actor,
    now: Timestamp,
) -> ApiResult<Appointment> {
    let service_id = appointment.service_id.ok_or_else(|| {
        ApiError::new(
            Code::InvalidState,
            "an appointment without a service cannot be moved; book a new one",
        )
    })?;
    let terms = ServiceTerms::load(tx, service_id).await?;
    let cutoff = SignedDuration::from_mins(i64::from(terms.settings.cancellation_notice_minutes));
    let to = transition(
        appointment.status,
        Action::Reschedule,
        actor,
        appointment.start_at,
        cutoff,
        None,
        now,
    )
    .map_err(transition_error)?;
    terms.check_bookable()?;
    let mode = ConsultationMode::parse(&appointment.mode);
    let online = actor == Actor::Patient;
    let c = candidates(tx, &terms, Some(appointment.provider_id), mode, online)
        .await?
        .pop()
        .ok_or_else(|| {
            ApiError::new(
                Code::NotBookable,
                "the provider no longer takes bookings for this service here",
            )
        })?;
    let date = terms.local_date(start);
    let dates = (date, add_days(date, ALTERNATIVE_DAYS));
    let span = instants_of(&terms.tz, dates.0, dates.1);
    let facts = tx
        .schedule_facts(c.provider.id, terms.clinic.id, dates, span)
        .await?;
    let prepared = Prepared::new(&facts, mode, Some(appointment.id));
    let q = prepared.query(&terms, Some(c.daily_cap()), dates, now);
    let end = start
        .checked_add(SignedDuration::from_mins(i64::from(
            terms.service.duration_minutes,
        )))
        .map_err(|_| ApiError::new(Code::ValidationFailed, "start is out of range"))?;
    let patient_busy: Vec<Span> = tx
        .patient_bookings(appointment.patient_id, start, end)
        .await?
        .iter()
        .filter(|a| a.id != appointment.id)
        .filter_map(|a| Span::new(a.start_at, a.end_at))
        .collect();
    let days = vec![ProviderDays {
        candidate: c.clone(),
        days: free_slots(&q),
    }];
    let plan = check_booking(
        &q,
        start,
        appointment.priority,
        c.takes_emergencies(),
        &patient_busy,
    )
    .map_err(|r| refused(&r, &days, start, &terms.tz))?;
    let outcome = tx
        .reschedule_appointment(&Reschedule {
            id: appointment.id,
            start_at: plan.start,
            end_at: plan.end,
            busy_start_at: plan.busy.start,
            busy_end_at: plan.busy.end,
            local_date: date,
            status: to,
            daily_cap: (!plan.over_daily_cap).then(|| c.daily_cap()),
            now,
        })
        .await?;
    let refusal = match outcome {
        BookingOutcome::Booked { .. } => {
            let moved = tx
                .get_appointment(appointment.id)
                .await?
                .ok_or_else(|| ApiError::not_found("appointment"))?;
            // The old time's reminders go; the new time's come; the old time is free.
            carebook_jobs::reminders::cancel(tx, moved.id, now).await?;
            carebook_jobs::reminders::plan(tx, &moved, &terms.settings, now).await?;
            carebook_jobs::waitlist::slot_freed(
                tx,
                appointment.clinic_id,
                appointment.provider_id,
                appointment.busy_start_at,
                appointment.busy_end_at,
                now,
            )
            .await?;
            return Ok(moved);
        }
        BookingOutcome::ProviderBusy => BookingRefusal::SlotTaken,
        BookingOutcome::PatientBusy => BookingRefusal::PatientBusy,
        BookingOutcome::DailyCapReached => BookingRefusal::DailyCapReached,
    };
    Err(refused(&refusal, &days, start, &terms.tz))
}

/// Applies a lifecycle action other than rescheduling, inside `tx`.
pub async fn act(
    tx: &mut dyn StoreTx,
    appointment: &Appointment,
    action: Action,
    actor: Actor,
    by: Uuid,
    reason: Option<&str>,
    now: Timestamp,
) -> ApiResult<Appointment> {
    if action == Action::Reschedule {
        return Err(ApiError::new(
            Code::ValidationFailed,
            "reschedule with POST …/reschedule and a new start",
        ));
    }
    let settings = tx.booking_settings(appointment.clinic_id).await?;
    let cutoff = SignedDuration::from_mins(i64::from(settings.cancellation_notice_minutes));
    let to = transition(
        appointment.status,
        action,
        actor,
        appointment.start_at,
        cutoff,
        reason,
        now,
    )
    .map_err(transition_error)?;
    let changed = if to == AppointmentStatus::Cancelled {
        let reason = reason.map(str::trim).unwrap_or_default();
        tx.cancel_appointment(appointment.id, Some(by), reason, now)
            .await?
    } else {
        tx.set_appointment_status(appointment.id, appointment.status, to, now)
            .await?
    };
    let changed = changed.ok_or_else(|| {
        ApiError::new(
            Code::Conflict,
            "the appointment changed meanwhile; read it again",
        )
    })?;
    if to.is_final() {
        carebook_jobs::reminders::cancel(tx, changed.id, now).await?;
    }
    if matches!(to, AppointmentStatus::Cancelled | AppointmentStatus::NoShow) {
        carebook_jobs::waitlist::slot_freed(
            tx,
            changed.clinic_id,
            changed.provider_id,
            changed.busy_start_at,
            changed.busy_end_at,
            now,
        )
        .await?;
    }
    Ok(changed)
}

/// The 409 (or 403) of a refused lifecycle step.
pub fn transition_error(e: TransitionError) -> ApiError {
    let name = |a: Action| a.as_str().to_owned();
    match e {
        TransitionError::NotAllowed {
            from,
            action,
            allowed,
        } => ApiError::new(
            Code::InvalidTransition,
            format!(
                "an appointment that is {} cannot {}",
                from.as_str().replace('_', " "),
                action.as_str().replace('_', " ")
            ),
        )
        .with_details(json!({
            "status": from.as_str(),
            "action": action.as_str(),
            "allowed_actions": allowed.into_iter().map(name).collect::<Vec<_>>(),
        })),
        TransitionError::StaffOnly { action } => ApiError::forbidden(format!(
            "only clinic staff can {}",
            action.as_str().replace('_', " ")
        )),
        TransitionError::NoShowBeforeStart { start_at } => ApiError::new(
            Code::NotStartedYet,
            "a no-show can be recorded only after the start time",
        )
        .with_details(json!({ "start_at": start_at.to_string() })),
        TransitionError::PastCancellationCutoff { cutoff_at } => ApiError::new(
            Code::CancellationCutoffPassed,
            "it is too late to change this appointment online; call the clinic",
        )
        .with_details(json!({ "cutoff_at": cutoff_at.to_string() })),
        TransitionError::ReasonRequired => {
            ApiError::validation(vec![carebook_domain::ValidationError::new(
                "reason",
                "say why the appointment is cancelled",
            )])
        }
    }
}

/// Clinic time zones, looked up once per request.
#[derive(Default)]
pub struct Zones(std::collections::HashMap<Uuid, TimeZone>);

impl Zones {
    pub async fn of(&mut self, tx: &mut dyn StoreTx, clinic_id: Uuid) -> ApiResult<TimeZone> {
        if let Some(tz) = self.0.get(&clinic_id) {
            return Ok(tz.clone());
        }
        let tz = match tx.get_clinic(clinic_id).await? {
            Some(c) => TimeZone::get(&c.timezone).unwrap_or(TimeZone::UTC),
            None => TimeZone::UTC,
        };
        self.0.insert(clinic_id, tz.clone());
        Ok(tz)
    }

    pub async fn view(
        &mut self,
        tx: &mut dyn StoreTx,
        l: &AppointmentListing,
    ) -> ApiResult<crate::schedule_views::AppointmentView> {
        let tz = self.of(tx, l.appointment.clinic_id).await?;
        Ok(crate::schedule_views::AppointmentView::new(l, &tz))
    }
}

/// The listing of one appointment, as a view.
pub async fn appointment_view(
    tx: &mut dyn StoreTx,
    id: Uuid,
) -> ApiResult<crate::schedule_views::AppointmentView> {
    let l = tx
        .get_appointment_listing(id)
        .await?
        .ok_or_else(|| ApiError::not_found("appointment"))?;
    Zones::default().view(tx, &l).await
}

/// Cursors of appointment lists: the last row's start (epoch microseconds) and id.
pub fn appointment_cursor(a: &Appointment) -> String {
    format!("{}_{}", a.start_at.as_microsecond(), a.id)
}

pub fn parse_appointment_cursor(c: Option<&str>) -> ApiResult<Option<(Timestamp, Uuid)>> {
    let Some(c) = c else { return Ok(None) };
    let bad = || ApiError::invalid_parameter("cursor", "is not a cursor from a previous page");
    let (t, id) = c.split_once('_').ok_or_else(bad)?;
    let t = Timestamp::from_microsecond(t.parse().map_err(|_| bad())?).map_err(|_| bad())?;
    Ok(Some((t, id.parse().map_err(|_| bad())?)))
}
