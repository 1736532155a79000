//! Slot search cost, without any I/O.
//!
//! - `provider_week_40_appointments`: one provider, Monday–Saturday hours with a lunch break,
//!   40 booked appointments, a 30-minute service with buffers on a 15-minute grid, one week.
//! - `any_provider_200x7`: the same search for 200 providers (the compute part of an
//!   "any provider" search; the database fetch is measured with the API).
//!
//! Run: `cargo bench -p carebook-domain --bench slots`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::schedule::*;
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::{Time, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::hint::black_box;

fn hm(h: i8, m: i8) -> Time {
    Time::new(h, m, 0, 0).unwrap()
}

fn rules() -> Vec<WeeklyRule> {
    let mut r: Vec<WeeklyRule> = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ]
    .into_iter()
    .map(|weekday| WeeklyRule {
        weekday,
        start: hm(8, 0),
        end: hm(17, 0),
        breaks: vec![(hm(12, 30), hm(13, 30))],
        valid_from: None,
        valid_until: None,
    })
    .collect();
    r.push(WeeklyRule {
        weekday: Weekday::Saturday,
        start: hm(9, 0),
        end: hm(13, 0),
        breaks: vec![],
        valid_from: None,
        valid_until: None,
    });
    r
}

/// 40 appointments spread over the week's working hours, `seed` shifting them per provider.
fn booked(tz: &TimeZone, seed: usize) -> Vec<Booked> {
    (0..40)
        .map(|i| {
            let day = date(2026, 11, 30)
                .checked_add(jiff::Span::new().days((i % 6) as i64))
                .unwrap();
            let minute = 8 * 60 + ((i * 7 + seed) % 32) as i64 * 15;
            let start =
                day.to_zoned(tz.clone()).unwrap().timestamp() + SignedDuration::from_mins(minute);
            let end = start + SignedDuration::from_mins(30);
            Booked {
                start,
                busy: Span::new(
                    start - SignedDuration::from_mins(5),
                    end + SignedDuration::from_mins(10),
                )
                .unwrap(),
            }
        })
        .collect()
}

fn query<'a>(tz: &'a TimeZone, rules: &'a [WeeklyRule], booked: &'a [Booked]) -> SlotQuery<'a> {
    SlotQuery {
        tz,
        from: date(2026, 11, 30),
        to: date(2026, 12, 6),
        rules,
        overrides: &[],
        time_off: &[],
        booked,
        duration: SignedDuration::from_mins(30),
        buffer_before: SignedDuration::from_mins(5),
        buffer_after: SignedDuration::from_mins(10),
        step_minutes: 15,
        min_notice: SignedDuration::from_hours(2),
        horizon: SignedDuration::from_hours(24 * 60),
        daily_cap: Some(12),
        now: "2026-11-29T00:00:00Z".parse::<Timestamp>().unwrap(),
    }
}

fn bench(c: &mut Criterion) {
    let tz = TimeZone::get("Africa/Nairobi").unwrap();
    let rules = rules();
    let one = booked(&tz, 0);
    let q = query(&tz, &rules, &one);
    assert!(
        free_slots(&q).iter().any(|d| !d.slots.is_empty()),
        "the scenario offers slots"
    );
    c.bench_function("provider_week_40_appointments", |b| {
        b.iter(|| free_slots(black_box(&q)))
    });

    let many: Vec<Vec<Booked>> = (0..200).map(|p| booked(&tz, p)).collect();
    c.bench_function("any_provider_200x7", |b| {
        b.iter(|| {
            let mut n = 0;
            for bk in &many {
                n += free_slots(black_box(&query(&tz, &rules, bk)))
                    .iter()
                    .map(|d| d.slots.len())
                    .sum::<usize>();
            }
            n
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
