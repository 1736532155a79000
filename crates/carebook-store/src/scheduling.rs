//! Scheduling rows: providers, services, their clinics, and appointments.

use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub license_number: Option<String>,
    pub default_duration_minutes: u32,
    pub emergency_enabled: bool,
    pub max_daily_appointments: u32,
    pub status: String,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub name: String,
    pub category: Option<String>,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderClinic {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub clinic_id: Uuid,
    pub status: String,
    pub is_primary: bool,
    pub booking_enabled: bool,
    pub accepts_emergencies: bool,
    pub max_daily_appointments: Option<u32>,
    pub started_on: Date,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
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
    pub notes: Option<String>,
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
        "('pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress')"
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

/// Everything the slot search needs about one provider at one clinic over a period.
#[derive(Debug, Clone, Default)]
pub struct ScheduleFacts {
    pub rules: Vec<AvailabilityRule>,
    pub exceptions: Vec<AvailabilityException>,
    /// Approved time off at this clinic or at all clinics.
    pub time_off: Vec<TimeOff>,
    /// Active appointments of the provider at any clinic (one person, one place).
    pub bookings: Vec<Appointment>,
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
