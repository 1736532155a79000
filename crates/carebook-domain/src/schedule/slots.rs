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
    // Starts of the booked appointments, in order, for the daily cap.
    let mut booked_starts: Vec<Timestamp> = match q.daily_cap {
        Some(_) => q.booked.iter().map(|b| b.start).collect(),
        None => vec![],
    };
    booked_starts.sort_unstable();
    let ctx = Day {
        time_off: &time_off,
        busy: &busy,
        booked_starts: &booked_starts,
        earliest: add(q.now, q.min_notice),
        latest: add(q.now, q.horizon),
        step: q.step_minutes.clamp(1, 24 * 60) as i32,
    };
    let mut out = vec![];
    let mut date = q.from;
    while date <= q.to {
        out.push(one_day(q, &ctx, date));
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    out
}

/// What every day of one search shares.
struct Day<'a> {
    time_off: &'a [Span],
    busy: &'a [Span],
    booked_starts: &'a [Timestamp],
    earliest: Timestamp,
    latest: Timestamp,
    step: i32,
}

/// Converts between the day's clock minutes and instants. Most days have no clock change:
/// then both directions are plain arithmetic from local midnight; days with a change ask the
/// time zone for every conversion.
struct Clock<'a> {
    tz: &'a TimeZone,
    date: Date,
    /// Local midnight, when no transition falls within the day.
    steady_midnight: Option<Timestamp>,
}

impl<'a> Clock<'a> {
    fn new(tz: &'a TimeZone, date: Date) -> Self {
        let at_midnight = |d: Date| {
            tz.to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .compatible()
                .ok()
        };
        let steady_midnight = match (
            at_midnight(date),
            date.tomorrow().ok().and_then(at_midnight),
        ) {
            (Some(m), Some(next)) => {
                let probe = m.checked_sub(SignedDuration::from_secs(1)).unwrap_or(m);
                let change = tz.following(probe).next().map(|t| t.timestamp());
                change.is_none_or(|c| c >= next).then_some(m)
            }
            _ => None,
        };
        Self {
            tz,
            date,
            steady_midnight,
        }
    }

    /// The instant of a grid minute (see [`instant_of`] for gaps and folds).
    fn instant(&self, minute: i32) -> Option<Timestamp> {
        match self.steady_midnight {
            Some(m) => m
                .checked_add(SignedDuration::from_mins(i64::from(minute)))
                .ok(),
            None => instant_of(
                self.tz,
                self.date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0),
            ),
        }
    }

    /// How many of `sorted` fall on this local date: two binary searches on a steady day, a
    /// time-zone lookup each on a day with a clock change.
    fn count_on_day(&self, sorted: &[Timestamp]) -> usize {
        match self.steady_midnight {
            Some(m) => {
                let next = add(m, SignedDuration::from_hours(24));
                sorted.partition_point(|t| *t < next) - sorted.partition_point(|t| *t < m)
            }
            None => sorted
                .iter()
                .filter(|t| t.to_zoned(self.tz.clone()).date() == self.date)
                .count(),
        }
    }

    /// Minutes since local midnight at which `t` shows on the clock (24:00 after the day).
    fn minute(&self, t: Timestamp) -> i32 {
        if let Some(m) = self.steady_midnight {
            return (t.duration_since(m).as_secs() / 60).clamp(0, 24 * 60) as i32;
        }
        let z = t.to_zoned(self.tz.clone());
        if z.date() > self.date {
            24 * 60
        } else if z.date() < self.date {
            0
        } else {
            i32::from(z.hour()) * 60 + i32::from(z.minute())
        }
    }
}

fn one_day(q: &SlotQuery<'_>, ctx: &Day<'_>, date: Date) -> DayOutcome {
    let empty = |reason| DayOutcome {
        date,
        slots: vec![],
        reason: Some(reason),
    };
    let day = q.overrides.iter().find(|(d, _)| *d == date).map(|(_, o)| o);
    let windows = working_windows(q.tz, date, q.rules, day);
    let clock = Clock::new(q.tz, date);
    if let Some(cap) = q.daily_cap
        && !windows.is_empty()
        && clock.count_on_day(ctx.booked_starts) >= cap as usize
    {
        return empty(NoSlotReason::DailyCapReached);
    }
    let mut slots = vec![];
    let mut refusals = vec![];
    let mut last: Option<Timestamp> = None;
    for w in &windows {
        // Only grid times whose clock reading lies within the window can start inside it.
        let first = clock.minute(w.start);
        let end = clock.minute(w.end);
        let mut minute = (first + ctx.step - 1) / ctx.step * ctx.step;
        while minute <= end && minute < 24 * 60 {
            let grid = minute;
            minute += ctx.step;
            let Some(start) = clock.instant(grid) else {
                continue;
            };
            if last.is_some_and(|l| start <= l) {
                continue;
            }
            let Some(service) = Span::new(start, add(start, q.duration)) else {
                continue;
            };
            if !w.contains(&service) {
                continue;
            }
            last = Some(start);
            let buffered = Span {
                start: sub(start, q.buffer_before),
                end: add(service.end, q.buffer_after),
            };
            let refusal = if hits(ctx.time_off, &service) {
                Some(Refusal::Leave)
            } else if start < ctx.earliest {
                Some(Refusal::Soon)
            } else if start > ctx.latest {
                Some(Refusal::Beyond)
            } else if hits(ctx.busy, &buffered) {
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
