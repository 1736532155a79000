//! Slot search against a brute-force oracle that walks every minute, on days around DST
//! changes in America/New_York, Europe/London, Australia/Lord_Howe (a 30-minute shift) and
//! Africa/Nairobi (no DST). Both must offer exactly the same start instants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::schedule::*;
use jiff::civil::{Date, Time, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A zone and days on which it changes its offset (any two days for a zone without DST).
type ZoneDays = (&'static str, &'static [(i16, i8, i8)]);

/// A generated weekly rule: weekday index, start and end minute of day, breaks.
type RuleSpec = (u8, u32, u32, Vec<(u32, u32)>);

const ZONES: &[ZoneDays] = &[
    ("America/New_York", &[(2026, 3, 8), (2026, 11, 1)]),
    ("Europe/London", &[(2026, 3, 29), (2026, 10, 25)]),
    ("Australia/Lord_Howe", &[(2026, 4, 5), (2026, 10, 4)]),
    ("Africa/Nairobi", &[(2026, 3, 8), (2026, 11, 24)]),
];

const MIN: SignedDuration = SignedDuration::from_mins(1);

#[derive(Debug, Clone)]
struct Case {
    zone: usize,
    anchor: usize,
    days_before: i64,
    days: i64,
    rules: Vec<RuleSpec>,
    closed_or_hours: Option<(i64, Option<(u32, u32)>)>,
    time_off: Vec<(i64, i64)>,
    booked: Vec<(i64, i64, i64, i64)>,
    duration: i64,
    before: i64,
    after: i64,
    step: u32,
    notice: i64,
    horizon_days: i64,
    cap: Option<u32>,
    now_offset: i64,
}

fn minutes_time(m: u32) -> Time {
    let m = m.min(24 * 60 - 1);
    Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).unwrap()
}

fn case() -> impl Strategy<Value = Case> {
    let rule = (
        0u8..7,
        0u32..(22 * 4),
        2u32..(10 * 4),
        prop::collection::vec((0u32..40, 1u32..8), 0..3),
    )
        .prop_map(|(wd, start_q, len_q, breaks)| {
            let start = start_q * 15;
            let end = (start + len_q * 15).min(24 * 60 - 1);
            let breaks = breaks
                .into_iter()
                .map(|(off_q, len_q)| (start + off_q * 15, start + off_q * 15 + len_q * 15))
                .collect();
            (wd, start, end, breaks)
        });
    (
        (0..ZONES.len(), 0usize..2, 0i64..3, 1i64..4),
        prop::collection::vec(rule, 1..4),
        prop::option::of((
            0i64..4,
            prop::option::of((0u32..(20 * 4), 1u32..(6 * 4)))
                .prop_map(|o| o.map(|(s, l)| (s * 15, s * 15 + l * 15))),
        )),
        prop::collection::vec((0i64..(5 * 24 * 60), 10i64..(24 * 60)), 0..3),
        prop::collection::vec((0i64..(5 * 24 * 12), 1i64..13, 0i64..4, 0i64..4), 0..12),
        (
            1i64..19,
            0i64..5,
            0i64..5,
            prop::sample::select(vec![5u32, 10, 15, 20, 30, 60]),
        ),
        (
            0i64..(6 * 60),
            0i64..6,
            prop::option::of(0u32..6),
            0i64..(5 * 24 * 60),
        ),
    )
        .prop_map(
            |(
                (zone, anchor, days_before, days),
                rules,
                closed_or_hours,
                time_off,
                booked,
                (d5, b5, a5, step),
                (notice, horizon_days, cap, now_offset),
            )| Case {
                zone,
                anchor,
                days_before,
                days,
                rules,
                closed_or_hours,
                time_off,
                booked,
                duration: d5 * 5,
                before: b5 * 5,
                after: a5 * 5,
                step,
                notice,
                horizon_days,
                cap,
                now_offset,
            },
        )
}

struct Built {
    tz: TimeZone,
    from: Date,
    to: Date,
    rules: Vec<WeeklyRule>,
    overrides: Vec<(Date, DayOverride)>,
    time_off: Vec<Span>,
    booked: Vec<Booked>,
    now: Timestamp,
    base: Timestamp,
}

fn build(c: &Case) -> Built {
    let (name, anchors) = ZONES[c.zone];
    let tz = TimeZone::get(name).unwrap();
    let (y, m, d) = anchors[c.anchor];
    let anchor = date(y, m, d);
    let from = anchor
        .checked_sub(jiff::Span::new().days(c.days_before))
        .unwrap();
    let to = from.checked_add(jiff::Span::new().days(c.days)).unwrap();
    let base = from.to_zoned(tz.clone()).unwrap().timestamp() - SignedDuration::from_hours(24);
    let weekdays = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    let rules = c
        .rules
        .iter()
        .map(|(wd, s, e, br)| WeeklyRule {
            weekday: weekdays[*wd as usize],
            start: minutes_time(*s),
            end: minutes_time(*e),
            breaks: br
                .iter()
                .map(|(a, b)| (minutes_time(*a), minutes_time(*b)))
                .collect(),
            valid_from: None,
            valid_until: None,
        })
        .collect();
    let overrides = c
        .closed_or_hours
        .iter()
        .map(|(off, hours)| {
            let day = from.checked_add(jiff::Span::new().days(*off)).unwrap();
            // An odd offset takes the hours out of the weekly ones instead of replacing them.
            let o = match hours {
                None => DayOverride::Closed,
                Some((s, e)) if off % 2 == 1 => {
                    DayOverride::Without(vec![(minutes_time(*s), minutes_time(*e))])
                }
                Some((s, e)) => DayOverride::Hours(vec![(minutes_time(*s), minutes_time(*e))]),
            };
            (day, o)
        })
        .collect();
    let at = |mins: i64| base + SignedDuration::from_mins(mins);
    let time_off = c
        .time_off
        .iter()
        .filter_map(|(s, len)| Span::new(at(*s), at(s + len)))
        .collect();
    let booked = c
        .booked
        .iter()
        .map(|(s5, d5, b5, a5)| {
            let start = at(s5 * 5);
            let end = start + SignedDuration::from_mins(d5 * 5);
            Booked {
                start,
                busy: Span::new(
                    start - SignedDuration::from_mins(b5 * 5),
                    end + SignedDuration::from_mins(a5 * 5),
                )
                .unwrap(),
            }
        })
        .collect();
    Built {
        tz,
        from,
        to,
        rules,
        overrides,
        time_off,
        booked,
        now: at(c.now_offset),
        base,
    }
}

fn query<'a>(c: &Case, b: &'a Built) -> SlotQuery<'a> {
    SlotQuery {
        tz: &b.tz,
        from: b.from,
        to: b.to,
        rules: &b.rules,
        overrides: &b.overrides,
        time_off: &b.time_off,
        booked: &b.booked,
        duration: SignedDuration::from_mins(c.duration),
        buffer_before: SignedDuration::from_mins(c.before),
        buffer_after: SignedDuration::from_mins(c.after),
        step_minutes: c.step,
        min_notice: SignedDuration::from_mins(c.notice),
        horizon: SignedDuration::from_hours(24 * c.horizon_days),
        daily_cap: c.cap,
        now: b.now,
    }
}

/// Every minute of the searched days, checked one by one.
fn oracle(c: &Case, b: &Built) -> BTreeSet<Timestamp> {
    let q = query(c, b);
    let mut out = BTreeSet::new();
    let end = b.base + SignedDuration::from_hours(24 * (c.days + 3));
    let inside = |spans: &[Span], x: Timestamp| spans.iter().any(|s| s.start <= x && x < s.end);
    let busy: Vec<Span> = b.booked.iter().map(|k| k.busy).collect();
    let mut m = b.base;
    while m < end {
        let z = m.to_zoned(b.tz.clone());
        let (d, t) = (z.date(), z.time());
        let cand = m;
        m += MIN;
        if d < b.from || d > b.to || t.second() != 0 {
            continue;
        }
        let minute_of_day = t.hour() as u32 * 60 + t.minute() as u32;
        if !minute_of_day.is_multiple_of(c.step) {
            continue;
        }
        // The first instant showing this clock time (a repeated hour is offered once).
        if b.tz
            .to_ambiguous_timestamp(z.datetime())
            .compatible()
            .unwrap()
            != cand
        {
            continue;
        }
        let day = b.overrides.iter().find(|(x, _)| *x == d).map(|(_, o)| o);
        let windows = working_windows(&b.tz, d, &b.rules, day);
        if let Some(cap) = c.cap {
            let n = b
                .booked
                .iter()
                .filter(|k| k.start.to_zoned(b.tz.clone()).date() == d)
                .count();
            if !windows.is_empty() && n >= cap as usize {
                continue;
            }
        }
        let service: Vec<Timestamp> = (0..c.duration)
            .map(|i| cand + SignedDuration::from_mins(i))
            .collect();
        if !service.iter().all(|x| inside(&windows, *x)) {
            continue;
        }
        if service.iter().any(|x| inside(&b.time_off, *x)) {
            continue;
        }
        if cand < b.now + q.min_notice || cand > b.now + q.horizon {
            continue;
        }
        let buffered =
            (-c.before..c.duration + c.after).map(|i| cand + SignedDuration::from_mins(i));
        if buffered.into_iter().any(|x| inside(&busy, x)) {
            continue;
        }
        out.insert(cand);
    }
    out
}

proptest! {
    // PROPTEST_CASES raises the count for a longer hunt (e.g. 20000 in a release build).
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400), ..ProptestConfig::default() })]

    #[test]
    fn slot_search_equals_the_minute_by_minute_oracle(c in case()) {
        let b = build(&c);
        let days = free_slots(&query(&c, &b));
        for day in &days {
            prop_assert_eq!(day.slots.is_empty(), day.reason.is_some(), "a reason exactly when nothing is free: {:?}", day);
        }
        let got: BTreeSet<Timestamp> = days.iter().flat_map(|d| d.slots.iter().map(|s| s.start)).collect();
        let want = oracle(&c, &b);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn no_start_inside_the_spring_gap_and_none_twice_in_the_fold() {
    for (zone, spring, fall) in [
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
        ("Australia/Lord_Howe", date(2026, 10, 4), date(2026, 4, 5)),
    ] {
        let tz = TimeZone::get(zone).unwrap();
        let rules = vec![WeeklyRule {
            weekday: Weekday::Sunday,
            start: Time::midnight(),
            end: Time::new(6, 0, 0, 0).unwrap(),
            breaks: vec![],
            valid_from: None,
            valid_until: None,
        }];
        let run = |d: Date| {
            let q = SlotQuery {
                tz: &tz,
                from: d,
                to: d,
                rules: &rules,
                overrides: &[],
                time_off: &[],
                booked: &[],
                duration: SignedDuration::from_mins(15),
                buffer_before: SignedDuration::ZERO,
                buffer_after: SignedDuration::ZERO,
                step_minutes: 15,
                min_notice: SignedDuration::ZERO,
                horizon: SignedDuration::from_hours(24 * 365),
                daily_cap: None,
                now: "2026-01-01T00:00:00Z".parse().unwrap(),
            };
            free_slots(&q).remove(0).slots
        };
        let labels = |slots: &[Slot]| {
            slots
                .iter()
                .map(|s| s.start.to_zoned(tz.clone()).time())
                .collect::<Vec<_>>()
        };
        let spring_labels = labels(&run(spring));
        let gap = if zone == "America/New_York" {
            (
                Time::new(2, 0, 0, 0).unwrap(),
                Time::new(3, 0, 0, 0).unwrap(),
            )
        } else {
            (
                Time::new(2, 0, 0, 0).unwrap(),
                Time::new(2, 30, 0, 0).unwrap(),
            )
        };
        assert!(
            spring_labels.iter().all(|t| *t < gap.0 || *t >= gap.1),
            "{zone}: nothing in the gap: {spring_labels:?}"
        );
        let fall_labels = labels(&run(fall));
        let unique: BTreeSet<_> = fall_labels.iter().collect();
        assert_eq!(
            unique.len(),
            fall_labels.len(),
            "{zone}: no clock time twice: {fall_labels:?}"
        );
        assert_eq!(
            fall_labels.len(),
            6 * 4,
            "{zone}: every quarter hour of 00:00-06:00 once"
        );
    }
}
