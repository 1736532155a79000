//! Free start times for one provider and one service over a range of local dates.
//!
//! Start times lie on the clinic's grid of wall-clock times (every `step_minutes` from
//! midnight). A start is offered when the service fits inside working time, does not touch
//! approved time off, its buffered span does not overlap any booked appointment's buffered
//! span, it respects the minimum notice and the booking horizon, and the provider's daily cap
//! is not reached. A day with nothing free says why.

use super::span::{Span, merge};
use super::windows::{DayOverride, WeeklyRule, instant_of, working_windows};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// One booked appointment as the slot search sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Booked {
    pub start: Timestamp,
    /// Its span widened by its service's buffers.
    pub busy: Span,
}

#[derive(Clone, Debug)]
pub struct SlotQuery<'a> {
    pub tz: &'a TimeZone,
    /// First and last local dates searched, inclusive.
    pub from: Date,
    pub to: Date,
    pub rules: &'a [WeeklyRule],
    pub overrides: &'a [(Date, DayOverride)],
    /// Approved time off only.
    pub time_off: &'a [Span],
    /// Active appointments (statuses that hold time).
    pub booked: &'a [Booked],
    pub duration: SignedDuration,
    pub buffer_before: SignedDuration,
    pub buffer_after: SignedDuration,
    pub step_minutes: u32,
    pub min_notice: SignedDuration,
    /// How far ahead bookings open: the latest start is `now + horizon`.
    pub horizon: SignedDuration,
    pub daily_cap: Option<u32>,
    pub now: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Why a day offers nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoSlotReason {
    /// No working hours that day long enough for the service.
    NotWorking,
    /// Approved time off covers every possible start.
    OnLeave,
    /// The provider's daily appointment cap is reached.
    DailyCapReached,
    /// Every possible start collides with a booked appointment (or a mix of reasons).
    FullyBooked,
    /// Every possible start is sooner than the minimum notice allows.
    TooSoon,
    /// Every possible start lies beyond the booking horizon.
    BeyondBookingWindow,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayOutcome {
    pub date: Date,
    pub slots: Vec<Slot>,
    /// Set exactly when `slots` is empty.
    pub reason: Option<NoSlotReason>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Leave,
    Soon,
    Beyond,
    Busy,
}

/// Whether `span` overlaps any of `sorted`, which are merged (disjoint and in order).
fn hits(sorted: &[Span], span: &Span) -> bool {
    let i = sorted.partition_point(|s| s.end <= span.start);
    sorted.get(i).is_some_and(|s| s.start < span.end)
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(t)
}

fn sub(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(t)
}

pub fn free_slots(q: &SlotQuery<'_>) -> Vec<DayOutcome> {
    let time_off = merge(q.time_off.to_vec());
    let busy = merge(q.booked.iter().map(|b| b.busy).collect());
    let earliest = add(q.now, q.min_notice);
    let latest = add(q.now, q.horizon);
    let step = q.step_minutes.clamp(1, 24 * 60) as i32;
    let mut out = vec![];
    let mut date = q.from;
    while date <= q.to {
        out.push(one_day(q, date, &time_off, &busy, earliest, latest, step));
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn one_day(
    q: &SlotQuery<'_>,
    date: Date,
    time_off: &[Span],
    busy: &[Span],
    earliest: Timestamp,
    latest: Timestamp,
    step: i32,
) -> DayOutcome {
    let empty = |reason| DayOutcome {
        date,
        slots: vec![],
        reason: Some(reason),
    };
    let day = q.overrides.iter().find(|(d, _)| *d == date).map(|(_, o)| o);
    let windows = working_windows(q.tz, date, q.rules, day);
    if let Some(cap) = q.daily_cap {
        let booked = q
            .booked
            .iter()
            .filter(|b| b.start.to_zoned(q.tz.clone()).date() == date)
            .count();
        if !windows.is_empty() && booked >= cap as usize {
            return empty(NoSlotReason::DailyCapReached);
        }
    }
    let mut slots = vec![];
    let mut refusals = vec![];
    let mut minute = 0;
    while minute < 24 * 60 {
        let local = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        minute += step;
        let Some(start) = instant_of(q.tz, local) else {
            continue;
        };
        let Some(service) = Span::new(start, add(start, q.duration)) else {
            continue;
        };
        if !windows.iter().any(|w| w.contains(&service)) {
            continue;
        }
        let buffered = Span {
            start: sub(start, q.buffer_before),
            end: add(service.end, q.buffer_after),
        };
        let refusal = if hits(time_off, &service) {
            Some(Refusal::Leave)
        } else if start < earliest {
            Some(Refusal::Soon)
        } else if start > latest {
            Some(Refusal::Beyond)
        } else if hits(busy, &buffered) {
            Some(Refusal::Busy)
        } else {
            None
        };
        match refusal {
            None => slots.push(Slot {
                start,
                end: service.end,
            }),
            Some(r) => refusals.push(r),
        }
    }
    if !slots.is_empty() {
        return DayOutcome {
            date,
            slots,
            reason: None,
        };
    }
    let all = |r: Refusal| !refusals.is_empty() && refusals.iter().all(|x| *x == r);
    empty(if refusals.is_empty() {
        NoSlotReason::NotWorking
    } else if all(Refusal::Leave) {
        NoSlotReason::OnLeave
    } else if all(Refusal::Soon) {
        NoSlotReason::TooSoon
    } else if all(Refusal::Beyond) {
        NoSlotReason::BeyondBookingWindow
    } else {
        NoSlotReason::FullyBooked
    })
}
