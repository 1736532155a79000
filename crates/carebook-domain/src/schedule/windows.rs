//! Working time of one provider on one local date: the weekly rules (wall-clock times in the
//! clinic's zone, each with its breaks and validity range) or the date's override, turned into
//! instants. A 09:00 rule means 09:00 on the clock of that day, whatever the UTC offset.

use super::span::{Span, merge};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// Hours on one weekday, valid over a range of dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyRule {
    pub weekday: Weekday,
    pub start: Time,
    pub end: Time,
    /// Wall-clock breaks inside `[start, end)`; any number.
    pub breaks: Vec<(Time, Time)>,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
}

/// A date that does not follow the weekly rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DayOverride {
    /// No work that day (a holiday, a training day).
    Closed,
    /// These hours instead of the weekly ones.
    Hours(Vec<(Time, Time)>),
    /// The weekly hours except these spans (a meeting, an afternoon off).
    Without(Vec<(Time, Time)>),
}

/// The instant a wall-clock time names, for a slot start: `None` inside a spring-forward gap
/// (that clock time never happens), the first occurrence inside a fall-back fold (so a time is
/// never offered twice).
pub fn instant_of(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Gap { .. } => None,
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => amb.compatible().ok(),
    }
}

/// A window edge: a clock time inside a gap is taken as the moment the clocks jump to.
fn edge(tz: &TimeZone, date: Date, t: Time) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(date.to_datetime(t))
        .compatible()
        .ok()
}

/// Wall-clock intervals minus breaks.
fn minus_breaks(start: Time, end: Time, breaks: &[(Time, Time)]) -> Vec<(Time, Time)> {
    let mut parts = vec![(start, end)];
    for &(bs, be) in breaks {
        parts = parts
            .into_iter()
            .flat_map(|(s, e)| {
                if be <= s || bs >= e {
                    vec![(s, e)]
                } else {
                    [(s, bs), (be, e)]
                        .into_iter()
                        .filter(|(a, b)| a < b)
                        .collect()
                }
            })
            .collect();
    }
    parts
}

/// The working spans of `date`, merged and in order.
pub fn working_windows(
    tz: &TimeZone,
    date: Date,
    rules: &[WeeklyRule],
    day: Option<&DayOverride>,
) -> Vec<Span> {
    let weekly = || -> Vec<(Time, Time)> {
        rules
            .iter()
            .filter(|r| r.weekday == date.weekday())
            .filter(|r| {
                r.valid_from.is_none_or(|f| f <= date) && r.valid_until.is_none_or(|u| date <= u)
            })
            .flat_map(|r| minus_breaks(r.start, r.end, &r.breaks))
            .collect()
    };
    let local: Vec<(Time, Time)> = match day {
        Some(DayOverride::Closed) => vec![],
        Some(DayOverride::Hours(hours)) => hours.clone(),
        Some(DayOverride::Without(gaps)) => weekly()
            .into_iter()
            .flat_map(|(s, e)| minus_breaks(s, e, gaps))
            .collect(),
        None => weekly(),
    };
    merge(
        local
            .into_iter()
            .filter_map(|(s, e)| Span::new(edge(tz, date, s)?, edge(tz, date, e)?))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn rule(weekday: Weekday, start: Time, end: Time, breaks: Vec<(Time, Time)>) -> WeeklyRule {
        WeeklyRule {
            weekday,
            start,
            end,
            breaks,
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn breaks_split_the_day_and_rules_respect_validity() {
        let tz = TimeZone::get("Africa/Nairobi").unwrap();
        let mut r = rule(
            Weekday::Monday,
            time(9, 0, 0, 0),
            time(17, 0, 0, 0),
            vec![
                (time(12, 0, 0, 0), time(13, 0, 0, 0)),
                (time(15, 0, 0, 0), time(15, 15, 0, 0)),
            ],
        );
        let monday = date(2026, 11, 23);
        let w = working_windows(&tz, monday, std::slice::from_ref(&r), None);
        let hours: Vec<f64> = w
            .iter()
            .map(|s| s.duration().as_secs_f64() / 3600.0)
            .collect();
        assert_eq!(hours, vec![3.0, 2.0, 1.75]);
        assert!(
            working_windows(&tz, date(2026, 11, 24), std::slice::from_ref(&r), None).is_empty(),
            "Tuesday"
        );
        r.valid_until = Some(date(2026, 11, 22));
        assert!(
            working_windows(&tz, monday, std::slice::from_ref(&r), None).is_empty(),
            "rule expired"
        );
        assert!(working_windows(&tz, monday, &[], Some(&DayOverride::Closed)).is_empty());
    }

    #[test]
    fn a_day_can_lose_part_of_its_hours() {
        let tz = TimeZone::get("Africa/Nairobi").unwrap();
        let r = rule(
            Weekday::Monday,
            time(9, 0, 0, 0),
            time(17, 0, 0, 0),
            vec![(time(12, 0, 0, 0), time(13, 0, 0, 0))],
        );
        let out = DayOverride::Without(vec![(time(14, 0, 0, 0), time(16, 0, 0, 0))]);
        let w = working_windows(
            &tz,
            date(2026, 11, 23),
            std::slice::from_ref(&r),
            Some(&out),
        );
        let local: Vec<(Time, Time)> = w
            .iter()
            .map(|s| {
                (
                    s.start.to_zoned(tz.clone()).time(),
                    s.end.to_zoned(tz.clone()).time(),
                )
            })
            .collect();
        assert_eq!(
            local,
            vec![
                (time(9, 0, 0, 0), time(12, 0, 0, 0)),
                (time(13, 0, 0, 0), time(14, 0, 0, 0)),
                (time(16, 0, 0, 0), time(17, 0, 0, 0))
            ]
        );
    }

    #[test]
    fn nine_stays_nine_across_dst() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let r = rule(Weekday::Monday, time(9, 0, 0, 0), time(10, 0, 0, 0), vec![]);
        for d in [date(2026, 3, 2), date(2026, 3, 9)] {
            let w = working_windows(&tz, d, std::slice::from_ref(&r), None);
            assert_eq!(
                w[0].start.to_zoned(tz.clone()).time(),
                time(9, 0, 0, 0),
                "{d}"
            );
        }
    }

    #[test]
    fn gaps_and_folds() {
        let tz = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            instant_of(&tz, date(2026, 3, 8).at(2, 30, 0, 0)),
            None,
            "02:30 does not exist"
        );
        let fold = instant_of(&tz, date(2026, 11, 1).at(1, 30, 0, 0)).unwrap();
        assert_eq!(
            fold.to_zoned(tz.clone()).offset().seconds(),
            -4 * 3600,
            "first 01:30 (EDT)"
        );
        // A 01:00-04:00 window on the spring-forward day lasts two hours of real time.
        let r = rule(Weekday::Sunday, time(1, 0, 0, 0), time(4, 0, 0, 0), vec![]);
        let w = working_windows(&tz, date(2026, 3, 8), std::slice::from_ref(&r), None);
        assert_eq!(w[0].duration().as_secs(), 2 * 3600);
    }
}
