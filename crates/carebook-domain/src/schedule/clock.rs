//! Wall-clock times as people write them in schedules: `HH:MM`, 24-hour, in the clinic's zone.

use crate::ValidationError;
use jiff::civil::Time;

/// Parses `HH:MM` (00:00–23:59) strictly: no seconds, no single-digit hours.
pub fn parse_clock(field: &'static str, s: &str) -> Result<Time, ValidationError> {
    let bad = || ValidationError::new(field, "must be a time HH:MM, 00:00 to 23:59");
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let h: i8 = s[..2].parse().map_err(|_| bad())?;
    let m: i8 = s[3..].parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// Parses a span of two clock times; the end must come after the start (spans do not cross
/// midnight: split a night shift into two days).
pub fn parse_clock_span(
    field: &'static str,
    start: &str,
    end: &str,
) -> Result<(Time, Time), ValidationError> {
    let s = parse_clock(field, start)?;
    let e = parse_clock(field, end)?;
    if e <= s {
        return Err(ValidationError::new(field, "must end after it starts"));
    }
    Ok((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn clock_times() {
        assert_eq!(parse_clock("t", "09:30"), Ok(time(9, 30, 0, 0)));
        assert_eq!(parse_clock("t", "23:59"), Ok(time(23, 59, 0, 0)));
        for bad in [
            "9:30", "24:00", "12:60", "12-30", "12:3a", "", "12:30:00", "+1:30",
        ] {
            assert!(parse_clock("t", bad).is_err(), "{bad}");
        }
        assert!(parse_clock_span("t", "10:00", "10:00").is_err());
        assert!(parse_clock_span("t", "10:00", "09:00").is_err());
        assert!(parse_clock_span("t", "09:00", "10:00").is_ok());
    }
}
