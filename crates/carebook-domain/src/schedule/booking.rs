//! Whether a requested appointment can be booked, decided from the same facts as the slot
//! search, so "offered" and "bookable" can never disagree. The store then enforces the result
//! atomically (an exclusion constraint on PostgreSQL, one writer on SQLite); this rule gives the
//! precise reason and the alternatives when it says no.

use super::lifecycle::{Priority, may_exceed_daily_cap};
use super::slots::{NoSlotReason, Slot, SlotQuery, free_slots};
use super::span::Span;
use jiff::{SignedDuration, Timestamp};

/// Why a booking is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookingRefusal {
    /// Another appointment (with its buffers) holds part of that time.
    SlotTaken,
    /// The patient already has an appointment at that time.
    PatientBusy,
    /// The provider's daily cap is reached (and this is not an emergency they accept).
    DailyCapReached,
    /// The start is not on the clinic's grid or not inside working hours.
    OutsideWorkingHours,
    /// Why the whole day is unavailable, when it is.
    DayUnavailable(NoSlotReason),
}

/// What a successful check fixes for the new appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookingPlan {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The span the provider is busy, buffers included; what the store's constraint guards.
    pub busy: Span,
    /// The booking is an emergency that went beyond the daily cap; it is recorded as such.
    pub over_daily_cap: bool,
}

/// Checks a booking at `start` against the provider's day (`q` covers at least the start's
/// local date) and the patient's own active appointments.
pub fn check_booking(
    q: &SlotQuery<'_>,
    start: Timestamp,
    priority: Priority,
    emergency_enabled: bool,
    patient_busy: &[Span],
) -> Result<BookingPlan, BookingRefusal> {
    let end = start
        .checked_add(q.duration)
        .map_err(|_| BookingRefusal::OutsideWorkingHours)?;
    let busy = Span::new(
        start.checked_sub(q.buffer_before).unwrap_or(start),
        end.checked_add(q.buffer_after).unwrap_or(end),
    )
    .ok_or(BookingRefusal::OutsideWorkingHours)?;
    let service = Span { start, end };
    if patient_busy.iter().any(|p| p.overlaps(&service)) {
        return Err(BookingRefusal::PatientBusy);
    }
    let date = start.to_zoned(q.tz.clone()).date();
    let capped = SlotQuery {
        from: date,
        to: date,
        ..q.clone()
    };
    let day = free_slots(&capped).remove(0);
    let offered = |d: &super::slots::DayOutcome| d.slots.iter().any(|s| s.start == start);
    if offered(&day) {
        return Ok(BookingPlan {
            start,
            end,
            busy,
            over_daily_cap: false,
        });
    }
    if day.reason == Some(NoSlotReason::DailyCapReached) {
        if !may_exceed_daily_cap(priority, emergency_enabled) {
            return Err(BookingRefusal::DailyCapReached);
        }
        let uncapped = SlotQuery {
            daily_cap: None,
            ..capped
        };
        if offered(&free_slots(&uncapped).remove(0)) {
            return Ok(BookingPlan {
                start,
                end,
                busy,
                over_daily_cap: true,
            });
        }
    }
    if q.booked.iter().any(|b| b.busy.overlaps(&busy)) {
        return Err(BookingRefusal::SlotTaken);
    }
    Err(match day.reason {
        Some(reason) => BookingRefusal::DayUnavailable(reason),
        None => BookingRefusal::OutsideWorkingHours,
    })
}

/// Up to `n` free starts at or after `after` within the query's dates: what a refusal offers.
pub fn alternatives(q: &SlotQuery<'_>, after: Timestamp, n: usize) -> Vec<Slot> {
    free_slots(q)
        .into_iter()
        .flat_map(|d| d.slots)
        .filter(|s| s.start >= after)
        .take(n)
        .collect()
}

/// The span a booked appointment holds, given its service's buffers.
pub fn busy_span(
    start: Timestamp,
    duration: SignedDuration,
    before: SignedDuration,
    after: SignedDuration,
) -> Option<Span> {
    Span::new(
        start.checked_sub(before).ok()?,
        start.checked_add(duration).ok()?.checked_add(after).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Booked, WeeklyRule};
    use jiff::civil::{Time, Weekday, date};
    use jiff::tz::TimeZone;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    struct Fixture {
        tz: TimeZone,
        rules: Vec<WeeklyRule>,
        booked: Vec<Booked>,
    }

    impl Fixture {
        fn new() -> Self {
            let rules = vec![WeeklyRule {
                weekday: Weekday::Monday,
                start: Time::new(9, 0, 0, 0).unwrap(),
                end: Time::new(12, 0, 0, 0).unwrap(),
                breaks: vec![],
                valid_from: None,
                valid_until: None,
            }];
            Self {
                tz: TimeZone::get("Africa/Nairobi").unwrap(),
                rules,
                booked: vec![],
            }
        }

        fn book(&mut self, start: &str) {
            let s = at(start);
            let busy = busy_span(
                s,
                SignedDuration::from_mins(30),
                SignedDuration::from_mins(5),
                SignedDuration::from_mins(10),
            )
            .unwrap();
            self.booked.push(Booked { start: s, busy });
        }

        fn query(&self, cap: Option<u32>) -> SlotQuery<'_> {
            SlotQuery {
                tz: &self.tz,
                from: date(2026, 11, 30),
                to: date(2026, 12, 7),
                rules: &self.rules,
                overrides: &[],
                time_off: &[],
                booked: &self.booked,
                duration: SignedDuration::from_mins(30),
                buffer_before: SignedDuration::from_mins(5),
                buffer_after: SignedDuration::from_mins(10),
                step_minutes: 15,
                min_notice: SignedDuration::ZERO,
                horizon: SignedDuration::from_hours(24 * 30),
                daily_cap: cap,
                now: at("2026-11-29T00:00:00Z"),
            }
        }
    }

    // Nairobi is UTC+3: 09:00 local is 06:00Z.
    #[test]
    fn buffers_count_in_conflicts() {
        let mut f = Fixture::new();
        f.book("2026-11-30T06:00:00Z"); // 09:00-09:30, busy 08:55-09:40
        let q = f.query(None);
        let plan = check_booking(
            &q,
            at("2026-11-30T06:45:00Z"),
            Priority::Standard,
            false,
            &[],
        )
        .unwrap();
        assert_eq!(
            plan.busy,
            Span::new(at("2026-11-30T06:40:00Z"), at("2026-11-30T07:25:00Z")).unwrap()
        );
        assert_eq!(
            check_booking(
                &q,
                at("2026-11-30T06:30:00Z"),
                Priority::Standard,
                false,
                &[]
            ),
            Err(BookingRefusal::SlotTaken),
            "09:30 starts inside the first booking's clean-up time"
        );
        let next = alternatives(&q, at("2026-11-30T06:30:00Z"), 2);
        assert_eq!(next[0].start, at("2026-11-30T06:45:00Z"));
    }

    #[test]
    fn the_patient_cannot_be_in_two_places() {
        let f = Fixture::new();
        let q = f.query(None);
        let own = [Span::new(at("2026-11-30T06:15:00Z"), at("2026-11-30T06:45:00Z")).unwrap()];
        assert_eq!(
            check_booking(
                &q,
                at("2026-11-30T06:30:00Z"),
                Priority::Standard,
                false,
                &own
            ),
            Err(BookingRefusal::PatientBusy)
        );
    }

    #[test]
    fn the_cap_yields_only_to_accepted_emergencies() {
        let mut f = Fixture::new();
        f.book("2026-11-30T06:00:00Z");
        f.book("2026-11-30T07:00:00Z");
        let q = f.query(Some(2));
        let t = at("2026-11-30T08:00:00Z");
        assert_eq!(
            check_booking(&q, t, Priority::Standard, true, &[]),
            Err(BookingRefusal::DailyCapReached)
        );
        assert_eq!(
            check_booking(&q, t, Priority::Emergency, false, &[]),
            Err(BookingRefusal::DailyCapReached)
        );
        let plan = check_booking(&q, t, Priority::Emergency, true, &[]).unwrap();
        assert!(plan.over_daily_cap);
        assert_eq!(
            check_booking(
                &q,
                at("2026-11-30T06:15:00Z"),
                Priority::Emergency,
                true,
                &[]
            ),
            Err(BookingRefusal::SlotTaken),
            "an emergency passes the cap, never another booking"
        );
    }

    #[test]
    fn off_grid_outside_hours_and_closed_days() {
        let f = Fixture::new();
        let q = f.query(None);
        assert_eq!(
            check_booking(
                &q,
                at("2026-11-30T06:07:00Z"),
                Priority::Standard,
                false,
                &[]
            ),
            Err(BookingRefusal::OutsideWorkingHours)
        );
        assert_eq!(
            check_booking(
                &q,
                at("2026-11-30T08:45:00Z"),
                Priority::Standard,
                false,
                &[]
            ),
            Err(BookingRefusal::OutsideWorkingHours),
            "would end after 12:00"
        );
        assert_eq!(
            check_booking(
                &q,
                at("2026-12-01T06:00:00Z"),
                Priority::Standard,
                false,
                &[]
            ),
            Err(BookingRefusal::DayUnavailable(NoSlotReason::NotWorking)),
            "Tuesday"
        );
    }
}
