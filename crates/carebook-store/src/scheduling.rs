//! Scheduling rows: providers, services, their clinics, and appointments.

use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

/// A doctor or specialist (the seeds' providers, doctors and specialists), linked to a user.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub photo_url: Option<String>,
    pub license_number: Option<String>,
    pub registration_number: Option<String>,
    /// Years of experience are counted from this year.
    pub practice_start_year: Option<i32>,
    pub qualifications: Vec<String>,
    /// Languages spoken, as lower-case codes (`en`, `sw`, `fr`…).
    pub languages: Vec<String>,
    pub default_fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub default_duration_minutes: u32,
    pub emergency_enabled: bool,
    pub max_daily_appointments: u32,
    /// `available`, `on_leave` or `busy`.
    pub status: String,
    /// `pending`, `verified` or `rejected` (seed 004's credential check).
    pub verification_status: String,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Provider {
    /// A new, active provider profile with the seeds' defaults (30 minutes, 8 a day).
    pub fn new(id: Uuid, user_id: Uuid, now: Timestamp) -> Self {
        Self {
            id,
            user_id,
            title: None,
            bio: None,
            photo_url: None,
            license_number: None,
            registration_number: None,
            practice_start_year: None,
            qualifications: vec![],
            languages: vec!["en".to_owned()],
            default_fee_minor: None,
            currency: None,
            default_duration_minutes: 30,
            emergency_enabled: false,
            max_daily_appointments: 8,
            status: "available".to_owned(),
            verification_status: "pending".to_owned(),
            is_active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A provider as the directory shows it: the profile with the account's name.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderListing {
    pub provider: Provider,
    pub name: String,
    pub email: String,
    pub user_clinic_id: Option<Uuid>,
}

/// A field of medicine (seed 001's specializations, seed 003's specialties).
#[derive(Debug, Clone, Serialize)]
pub struct Specialization {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Something a clinic offers, with how long it takes and the buffers around it.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub billing_code: Option<String>,
    pub required_specialization_id: Option<Uuid>,
    /// `in_person` and/or `video`.
    pub modes: Vec<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Service {
    /// A new, active, in-person service without fee or buffers.
    pub fn new(id: Uuid, clinic_id: Uuid, name: &str, minutes: u32, now: Timestamp) -> Self {
        Self {
            id,
            clinic_id,
            name: name.to_owned(),
            description: None,
            category: None,
            duration_minutes: minutes,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            fee_minor: None,
            currency: None,
            billing_code: None,
            required_specialization_id: None,
            modes: vec!["in_person".to_owned()],
            is_active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Where a provider works: the rich junction of seed 001 (per-clinic fee, duration,
/// department, designation, primary flag, status and dates).
#[derive(Debug, Clone, Serialize)]
pub struct ProviderClinic {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub clinic_id: Uuid,
    /// `active`, `on_leave` or `ended`; ended engagements stay as history.
    pub status: String,
    pub is_primary: bool,
    pub department: Option<String>,
    pub designation: Option<String>,
    pub consultation_fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub default_duration_minutes: Option<u32>,
    pub consultation_modes: Vec<String>,
    pub booking_enabled: bool,
    pub accepts_emergencies: bool,
    pub max_daily_appointments: Option<u32>,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProviderClinic {
    /// Not ended: the provider works there (possibly on leave).
    pub fn is_live(&self) -> bool {
        self.status != "ended"
    }

    /// A new active engagement taking in-person bookings from `started_on`.
    pub fn new(
        id: Uuid,
        provider_id: Uuid,
        clinic_id: Uuid,
        started_on: Date,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            provider_id,
            clinic_id,
            status: "active".to_owned(),
            is_primary: false,
            department: None,
            designation: None,
            consultation_fee_minor: None,
            currency: None,
            default_duration_minutes: None,
            consultation_modes: vec!["in_person".to_owned()],
            booking_enabled: true,
            accepts_emergencies: true,
            max_daily_appointments: None,
            started_on,
            ended_on: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Who can deliver what, with an optional fee of their own.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderService {
    pub provider_id: Uuid,
    pub service_id: Uuid,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
}

/// Directory search: every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct ProviderFilter {
    /// Works at this clinic (a live engagement).
    pub clinic_id: Option<Uuid>,
    /// Delivers this service.
    pub service_id: Option<Uuid>,
    pub specialization_id: Option<Uuid>,
    /// Speaks this language code.
    pub language: Option<String>,
    /// Offers this consultation mode at one of its clinics.
    pub mode: Option<String>,
    /// Case-insensitive substring of the provider's name.
    pub query: Option<String>,
    pub include_inactive: bool,
}

/// Which appointments to list. Lists run in start order.
#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    pub clinic_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    /// Starts at or after.
    pub from: Option<Timestamp>,
    /// Starts before.
    pub to: Option<Timestamp>,
    /// On or after this clinic-local date.
    pub from_date: Option<Date>,
    /// On or before this clinic-local date.
    pub to_date: Option<Date>,
    pub statuses: Vec<AppointmentStatus>,
    /// An appointment number, or a case-insensitive substring of the patient's name, or a
    /// substring of their phone.
    pub query: Option<String>,
    /// The caller's visibility: only this clinic's appointments, or (with `or_provider`) the
    /// appointments that provider delivers anywhere. `None`: every clinic.
    pub scope_clinic: Option<Uuid>,
    pub or_provider: Option<Uuid>,
    /// Newest first instead of oldest first (a patient's past appointments).
    pub descending: bool,
}

/// An appointment with the names a day sheet shows.
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentListing {
    pub appointment: Appointment,
    pub patient_name: String,
    pub patient_phone: Option<String>,
    pub provider_name: String,
    pub service_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appointment {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub service_id: Option<Uuid>,
    pub status: AppointmentStatus,
    pub priority: Priority,
    pub mode: String,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub busy_start_at: Timestamp,
    pub busy_end_at: Timestamp,
    /// The clinic-local date of the start (the daily cap counts by it).
    pub local_date: Date,
    pub over_daily_cap: bool,
    pub reason_for_visit: Option<String>,
    pub notes: Option<String>,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    /// Until when an unpaid booking (`pending_payment`) holds its slot.
    pub hold_expires_at: Option<Timestamp>,
    pub assigned_from_waitlist: bool,
    pub booked_by_user_id: Option<Uuid>,
    pub confirmed_at: Option<Timestamp>,
    pub checked_in_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub cancelled_by: Option<Uuid>,
    pub cancellation_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Appointment {
    /// A new `scheduled`, standard-priority, in-person appointment of `[start, end)` on the
    /// clinic-local `local_date`, holding exactly that time (set `busy_*` for buffers) and with
    /// its number still to be given by the booking.
    pub fn new(
        clinic_id: Uuid,
        patient_id: Uuid,
        provider_id: Uuid,
        start: Timestamp,
        end: Timestamp,
        local_date: Date,
        now: Timestamp,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            clinic_id,
            number: String::new(),
            patient_id,
            provider_id,
            service_id: None,
            status: AppointmentStatus::Scheduled,
            priority: Priority::Standard,
            mode: "in_person".to_owned(),
            start_at: start,
            end_at: end,
            busy_start_at: start,
            busy_end_at: end,
            local_date,
            over_daily_cap: false,
            reason_for_visit: None,
            notes: None,
            fee_minor: None,
            currency: None,
            hold_expires_at: None,
            assigned_from_waitlist: false,
            booked_by_user_id: None,
            confirmed_at: None,
            checked_in_at: None,
            started_at: None,
            completed_at: None,
            cancelled_at: None,
            cancelled_by: None,
            cancellation_reason: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A booking to place. The caller has already checked it against the rules (the domain's
/// `check_booking`); the store makes it atomic against every concurrent writer.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub appointment: Appointment,
    /// The clinic-local date of booking, in the appointment number.
    pub booked_on: Date,
    /// The provider's daily cap, or `None` for an emergency allowed past it.
    pub daily_cap: Option<u32>,
}

/// How a booking attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingOutcome {
    /// Booked, with its number.
    Booked { number: String },
    /// Another active appointment of the provider overlaps the buffered span.
    ProviderBusy,
    /// The patient already has an active appointment at that time.
    PatientBusy,
    /// The provider's day is full.
    DailyCapReached,
}

impl BookingOutcome {
    pub fn is_booked(&self) -> bool {
        matches!(self, BookingOutcome::Booked { .. })
    }
}

/// The statuses that hold a provider's time, as an SQL list (a literal, for `concat!`).
macro_rules! active_statuses {
    () => {
        "('offered', 'pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress')"
    };
}
pub(crate) use active_statuses;

/// A weekly rule as stored: clock times are `HH:MM` text in the clinic's zone.
#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityRule {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub provider_id: Uuid,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub day_of_week: u8,
    pub start_time: String,
    pub end_time: String,
    pub breaks: Vec<ClockSpan>,
    pub is_working_day: bool,
    pub mode: String,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    pub is_active: bool,
    pub notes: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A span of clock times, `HH:MM` to `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClockSpan {
    pub start: String,
    pub end: String,
}

fn clock(s: &str) -> Option<jiff::civil::Time> {
    let (h, m) = s.split_once(':')?;
    jiff::civil::Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

impl AvailabilityRule {
    /// The rule as the slot search reads it; `None` for inactive or non-working rules.
    pub fn to_weekly(&self) -> Option<carebook_domain::schedule::WeeklyRule> {
        use jiff::civil::Weekday;
        if !self.is_active || !self.is_working_day {
            return None;
        }
        let weekday = match self.day_of_week {
            1 => Weekday::Monday,
            2 => Weekday::Tuesday,
            3 => Weekday::Wednesday,
            4 => Weekday::Thursday,
            5 => Weekday::Friday,
            6 => Weekday::Saturday,
            7 => Weekday::Sunday,
            _ => return None,
        };
        Some(carebook_domain::schedule::WeeklyRule {
            weekday,
            start: clock(&self.start_time)?,
            end: clock(&self.end_time)?,
            breaks: self
                .breaks
                .iter()
                .filter_map(|b| Some((clock(&b.start)?, clock(&b.end)?)))
                .collect(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        })
    }
}

/// A date that does not follow the weekly rules: `unavailable` without times closes the day,
/// `unavailable` with times takes those hours out, and `available` rows give the day's hours
/// instead of the weekly ones.
#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityException {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub provider_id: Uuid,
    pub date: Date,
    pub kind: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub reason: Option<String>,
    pub created_by_user_id: Option<Uuid>,
    pub created_at: Timestamp,
}

/// The day overrides of a set of exception rows, one per date.
pub fn day_overrides(
    rows: &[AvailabilityException],
) -> Vec<(Date, carebook_domain::schedule::DayOverride)> {
    use carebook_domain::schedule::DayOverride;
    let span = |r: &&AvailabilityException| {
        Some((
            clock(r.start_time.as_deref()?)?,
            clock(r.end_time.as_deref()?)?,
        ))
    };
    let mut dates: Vec<Date> = rows.iter().map(|r| r.date).collect();
    dates.sort();
    dates.dedup();
    dates
        .into_iter()
        .map(|d| {
            let of_day: Vec<&AvailabilityException> = rows.iter().filter(|r| r.date == d).collect();
            let closed = of_day
                .iter()
                .any(|r| r.kind == "unavailable" && r.start_time.is_none());
            let hours: Vec<_> = of_day
                .iter()
                .filter(|r| r.kind == "available")
                .filter_map(span)
                .collect();
            let gaps: Vec<_> = of_day
                .iter()
                .filter(|r| r.kind == "unavailable")
                .filter_map(span)
                .collect();
            let day = if closed {
                DayOverride::Closed
            } else if !hours.is_empty() {
                // Replacement hours, less any hours taken out the same day.
                let mut windows = hours;
                for &(gs, ge) in &gaps {
                    windows = windows
                        .into_iter()
                        .flat_map(|(a, b)| {
                            if ge <= a || gs >= b {
                                vec![(a, b)]
                            } else {
                                [(a, gs), (ge, b)]
                                    .into_iter()
                                    .filter(|(x, y)| x < y)
                                    .collect()
                            }
                        })
                        .collect();
                }
                DayOverride::Hours(windows)
            } else {
                DayOverride::Without(gaps)
            };
            (d, day)
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeOff {
    pub id: Uuid,
    pub provider_id: Uuid,
    /// `None`: away from every clinic.
    pub clinic_id: Option<Uuid>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: Option<String>,
    /// `requested`, `approved`, `rejected` or `cancelled`; only approved time off removes slots.
    pub status: String,
    pub requested_by_user_id: Option<Uuid>,
    pub decided_by_user_id: Option<Uuid>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An active appointment as the slot search reads it: the time it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BookedSpan {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub start_at: Timestamp,
    /// With the service's buffers.
    pub busy_start_at: Timestamp,
    pub busy_end_at: Timestamp,
}

/// A provider who can be booked for a service at a clinic, with the engagement's terms and
/// the provider's name.
#[derive(Debug, Clone)]
pub struct EligibleProvider {
    pub provider: Provider,
    pub engagement: ProviderClinic,
    pub name: String,
    /// The provider's own fee for the service, when set: minor units and currency.
    pub service_fee: Option<(i64, String)>,
}

/// Everything the slot search needs about one provider at one clinic over a period.
#[derive(Debug, Clone, Default)]
pub struct ScheduleFacts {
    pub rules: Vec<AvailabilityRule>,
    pub exceptions: Vec<AvailabilityException>,
    /// Approved time off at this clinic or at all clinics.
    pub time_off: Vec<TimeOff>,
    /// Active appointments of the provider at any clinic (one person, one place).
    pub bookings: Vec<BookedSpan>,
}

/// A new time for an existing appointment.
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub id: Uuid,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub busy_start_at: Timestamp,
    pub busy_end_at: Timestamp,
    pub local_date: Date,
    pub status: AppointmentStatus,
    /// The provider's daily cap on the new date, or `None` when it may be exceeded.
    pub daily_cap: Option<u32>,
    pub now: Timestamp,
}

/// A clinic's booking rules; clinics without a row use [`BookingSettings::defaults`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingSettings {
    pub clinic_id: Uuid,
    pub slot_granularity_minutes: u32,
    pub min_notice_minutes: u32,
    pub booking_horizon_days: u32,
    pub cancellation_notice_minutes: u32,
    pub patient_self_booking: bool,
    pub requires_prepayment: bool,
    pub payment_hold_minutes: u32,
    /// The day-before reminder: on, and how long before the start.
    pub reminder_24h_enabled: bool,
    pub reminder_24h_lead_minutes: u32,
    /// The same-day reminder.
    pub reminder_2h_enabled: bool,
    pub reminder_2h_lead_minutes: u32,
    /// How long a waitlist offer holds its slot for the patient to accept.
    pub waitlist_offer_ttl_minutes: u32,
    pub updated_at: Option<Timestamp>,
    pub updated_by_user_id: Option<Uuid>,
}

impl BookingSettings {
    pub fn defaults(clinic_id: Uuid) -> Self {
        Self {
            clinic_id,
            slot_granularity_minutes: 15,
            min_notice_minutes: 60,
            booking_horizon_days: 60,
            cancellation_notice_minutes: 24 * 60,
            patient_self_booking: true,
            requires_prepayment: false,
            payment_hold_minutes: 15,
            reminder_24h_enabled: true,
            reminder_24h_lead_minutes: 24 * 60,
            reminder_2h_enabled: true,
            reminder_2h_lead_minutes: 120,
            waitlist_offer_ttl_minutes: 120,
            updated_at: None,
            updated_by_user_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carebook_domain::schedule::DayOverride;
    use jiff::civil::{date, time};

    fn row(d: Date, kind: &str, span: Option<(&str, &str)>) -> AvailabilityException {
        AvailabilityException {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            provider_id: Uuid::nil(),
            date: d,
            kind: kind.into(),
            start_time: span.map(|s| s.0.into()),
            end_time: span.map(|s| s.1.into()),
            reason: None,
            created_by_user_id: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn exception_rows_combine_per_date() {
        let (a, b, c, e) = (
            date(2026, 12, 1),
            date(2026, 12, 2),
            date(2026, 12, 3),
            date(2026, 12, 4),
        );
        let got = day_overrides(&[
            row(a, "unavailable", None),
            row(a, "available", Some(("09:00", "10:00"))),
            row(b, "available", Some(("08:00", "12:00"))),
            row(b, "unavailable", Some(("10:00", "10:30"))),
            row(c, "unavailable", Some(("14:00", "16:00"))),
            row(e, "available", Some(("18:00", "20:00"))),
        ]);
        let t = |h, m| time(h, m, 0, 0);
        assert_eq!(
            got,
            vec![
                (a, DayOverride::Closed),
                (
                    b,
                    DayOverride::Hours(vec![(t(8, 0), t(10, 0)), (t(10, 30), t(12, 0))])
                ),
                (c, DayOverride::Without(vec![(t(14, 0), t(16, 0))])),
                (e, DayOverride::Hours(vec![(t(18, 0), t(20, 0))])),
            ]
        );
    }
}
