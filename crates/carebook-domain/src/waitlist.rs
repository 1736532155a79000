//! Waitlist rules: the order of the queue, which entries a freed slot suits, how long an offer
//! holds its slot, the estimated wait, and the messages that tell the patient.
//!
//! The order is priority (emergency, urgent, standard), then the position staff gave the entry
//! within its priority, then when it joined. An entry waits for one service at one clinic,
//! with one provider or any, on a range of local dates or for the first available time.

use crate::Language;
use crate::reminders::{month, weekday};
use crate::schedule::lifecycle::Priority;
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Where an entry stands. `assigned`, `cancelled` and `expired` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Waiting,
    /// A freed slot is held for the entry until its patient answers or the offer runs out.
    Offered,
    Assigned,
    Cancelled,
    Expired,
}

impl EntryStatus {
    pub const ALL: [EntryStatus; 5] = [
        Self::Waiting,
        Self::Offered,
        Self::Assigned,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Assigned => "assigned",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still in the queue.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Waiting | Self::Offered)
    }
}

/// Where an offer stands. Only `open` holds a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Open,
    Accepted,
    Declined,
    Expired,
    /// Taken back by staff (the entry was cancelled or assigned another time).
    Withdrawn,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        Self::Open,
        Self::Accepted,
        Self::Declined,
        Self::Expired,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Emergencies first, then urgent, then standard.
pub fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Emergency => 0,
        Priority::Urgent => 1,
        Priority::Standard => 2,
    }
}

/// The sort key of the queue.
pub fn queue_key(priority: Priority, position: u32, created_at: Timestamp) -> (u8, u32, Timestamp) {
    (priority_rank(priority), position, created_at)
}

/// The local dates an entry asked for; `None` on either side is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requested {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Requested {
    pub fn wants(&self, d: Date) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }

    /// The entry's dates are all behind `today` (the clinic's): it expires.
    pub fn is_past(&self, today: Date) -> bool {
        self.to.is_some_and(|t| t < today)
    }

    /// `dates` narrowed to what the entry asked for, if anything is left.
    pub fn clamp(&self, dates: (Date, Date)) -> Option<(Date, Date)> {
        let from = self.from.map_or(dates.0, |f| f.max(dates.0));
        let to = self.to.map_or(dates.1, |t| t.min(dates.1));
        (from <= to).then_some((from, to))
    }
}

/// Until when an offer made `now` for a slot starting at `start` holds it: the clinic's offer
/// time, but never past the start itself. `None` when the start is already here.
pub fn offer_expiry(now: Timestamp, ttl: SignedDuration, start: Timestamp) -> Option<Timestamp> {
    let until = now.checked_add(ttl).unwrap_or(start).min(start);
    (until > now).then_some(until)
}

/// How long the entry at `place` in line (1 = next) may wait, from how many entries of the
/// same service the clinic assigned over the last `window`: `place` assignments at that rate.
/// `None` without any history to go on.
pub fn estimated_wait(
    place: u32,
    assigned_in_window: u32,
    window: SignedDuration,
) -> Option<SignedDuration> {
    if assigned_in_window == 0 || place == 0 {
        return None;
    }
    let per = window.as_secs() / i64::from(assigned_in_window);
    Some(SignedDuration::from_secs(
        per.saturating_mul(i64::from(place)),
    ))
}

/// What the offer and assignment messages say.
pub struct OfferFacts<'a> {
    pub patient: &'a str,
    pub provider: &'a str,
    pub clinic: &'a str,
    pub service: &'a str,
    /// The slot, on the clinic's clock.
    pub date: Date,
    pub time: Time,
    /// The offer's deadline, on the clinic's clock.
    pub until: (Date, Time),
}

fn when(lang: Language, d: Date, t: Time) -> String {
    format!(
        "{} {} {} {} {:02}:{:02}",
        weekday(lang, d.weekday()),
        d.day(),
        month(lang, d.month()),
        d.year(),
        t.hour(),
        t.minute()
    )
}

/// The subject and body offering a freed slot.
pub fn offer_message(lang: Language, f: &OfferFacts<'_>) -> (String, String) {
    let at = when(lang, f.date, f.time);
    let until = when(lang, f.until.0, f.until.1);
    match lang {
        Language::En => (
            format!("A time is free for you at {}", f.clinic),
            format!(
                "Hello {},\n\nA time has become free for {} with {} at {}: {at}.\nIt is held for you until {until}. Accept or decline it in the app, or call the clinic.\n",
                f.patient, f.service, f.provider, f.clinic
            ),
        ),
        Language::Sw => (
            format!("Nafasi imepatikana kwako katika {}", f.clinic),
            format!(
                "Habari {},\n\nNafasi imepatikana ya {} na {} katika {}: {at}.\nTumekuwekea hadi {until}. Ikubali au ikatae kwenye programu, au piga simu kliniki.\n",
                f.patient, f.service, f.provider, f.clinic
            ),
        ),
    }
}

/// The subject and body confirming a booking made from the waitlist.
pub fn assigned_message(lang: Language, f: &OfferFacts<'_>) -> (String, String) {
    let at = when(lang, f.date, f.time);
    match lang {
        Language::En => (
            format!("Your appointment at {} is booked", f.clinic),
            format!(
                "Hello {},\n\nYou are booked from the waitlist for {} with {} at {}: {at}.\n",
                f.patient, f.service, f.provider, f.clinic
            ),
        ),
        Language::Sw => (
            format!("Miadi yako katika {} imewekwa", f.clinic),
            format!(
                "Habari {},\n\nUmewekewa miadi kutoka orodha ya kusubiri ya {} na {} katika {}: {at}.\n",
                f.patient, f.service, f.provider, f.clinic
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn queue_order_is_priority_then_position_then_age() {
        let early = t("2026-12-01T08:00:00Z");
        let late = t("2026-12-01T09:00:00Z");
        let mut q = [
            ("standard 1 late", queue_key(Priority::Standard, 1, late)),
            ("urgent 2", queue_key(Priority::Urgent, 2, early)),
            ("standard 1 early", queue_key(Priority::Standard, 1, early)),
            ("emergency 5", queue_key(Priority::Emergency, 5, late)),
            ("urgent 1", queue_key(Priority::Urgent, 1, late)),
        ];
        q.sort_by_key(|(_, k)| *k);
        let names: Vec<_> = q.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "emergency 5",
                "urgent 1",
                "urgent 2",
                "standard 1 early",
                "standard 1 late"
            ]
        );
    }

    #[test]
    fn requested_dates_bound_what_suits_and_when_it_expires() {
        let r = Requested {
            from: Some(date(2026, 12, 3)),
            to: Some(date(2026, 12, 5)),
        };
        assert!(!r.wants(date(2026, 12, 2)));
        assert!(r.wants(date(2026, 12, 3)) && r.wants(date(2026, 12, 5)));
        assert!(!r.wants(date(2026, 12, 6)));
        assert!(!r.is_past(date(2026, 12, 5)));
        assert!(r.is_past(date(2026, 12, 6)));
        assert_eq!(
            r.clamp((date(2026, 12, 1), date(2026, 12, 4))),
            Some((date(2026, 12, 3), date(2026, 12, 4)))
        );
        assert_eq!(r.clamp((date(2026, 12, 6), date(2026, 12, 9))), None);
        let any = Requested {
            from: None,
            to: None,
        };
        assert!(any.wants(date(2030, 1, 1)) && !any.is_past(date(2030, 1, 1)));
    }

    #[test]
    fn an_offer_never_outlives_its_slot() {
        let now = t("2026-12-01T08:00:00Z");
        let two_hours = SignedDuration::from_hours(2);
        assert_eq!(
            offer_expiry(now, two_hours, t("2026-12-02T08:00:00Z")),
            Some(t("2026-12-01T10:00:00Z"))
        );
        assert_eq!(
            offer_expiry(now, two_hours, t("2026-12-01T09:00:00Z")),
            Some(t("2026-12-01T09:00:00Z"))
        );
        assert_eq!(offer_expiry(now, two_hours, now), None);
    }

    #[test]
    fn the_estimate_scales_with_place_and_needs_history() {
        let month = SignedDuration::from_hours(24 * 30);
        assert_eq!(estimated_wait(3, 0, month), None);
        // 30 assignments in 30 days: a day each.
        assert_eq!(
            estimated_wait(3, 30, month),
            Some(SignedDuration::from_hours(72))
        );
        assert_eq!(
            estimated_wait(1, 10, month),
            Some(SignedDuration::from_hours(72))
        );
    }

    #[test]
    fn messages_speak_the_patients_language_on_the_clinics_clock() {
        let f = OfferFacts {
            patient: "Amina",
            provider: "Dr Otieno",
            clinic: "Mji Clinic",
            service: "Check-up",
            date: date(2026, 12, 3),
            time: Time::new(14, 30, 0, 0).unwrap(),
            until: (date(2026, 12, 2), Time::new(9, 5, 0, 0).unwrap()),
        };
        let (s, b) = offer_message(Language::En, &f);
        assert!(s.contains("Mji Clinic"));
        assert!(b.contains("Thursday 3 December 2026 14:30"), "{b}");
        assert!(b.contains("until Wednesday 2 December 2026 09:05"), "{b}");
        let (_, b) = offer_message(Language::Sw, &f);
        assert!(b.contains("Alhamisi") && b.contains("14:30"), "{b}");
        let (_, b) = assigned_message(Language::En, &f);
        assert!(
            b.contains("booked from the waitlist") && b.contains("14:30"),
            "{b}"
        );
    }
}
