//! Appointment reminders: when each is due, when it is too late to send, and what it says.
//!
//! A clinic has two: the day-before reminder (`reminder_24h`) and the same-day one
//! (`reminder_2h`), each with its own lead time and switch. One whose moment passed more than
//! the grace period ago is not sent at all: nobody wants "your appointment is in two hours"
//! at 3 a.m. the next day, or a day-before reminder an hour before the visit.

use crate::identity::Language;
use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Timestamp};

/// How late a reminder may still go out after its moment (a worker that was down, a queue
/// that was behind).
pub const GRACE: SignedDuration = SignedDuration::from_mins(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderKind {
    DayBefore,
    SameDay,
}

impl ReminderKind {
    pub const ALL: [ReminderKind; 2] = [Self::DayBefore, Self::SameDay];

    /// The notification type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DayBefore => "reminder_24h",
            Self::SameDay => "reminder_2h",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A clinic's reminders: each kind's lead time, or `None` when switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderPolicy {
    pub day_before: Option<SignedDuration>,
    pub same_day: Option<SignedDuration>,
}

impl ReminderPolicy {
    fn lead(&self, kind: ReminderKind) -> Option<SignedDuration> {
        match kind {
            ReminderKind::DayBefore => self.day_before,
            ReminderKind::SameDay => self.same_day,
        }
    }
}

/// Whether a reminder due at `due` is too late to send at `now`.
pub fn is_stale(due: Timestamp, now: Timestamp) -> bool {
    due.checked_add(GRACE).is_ok_and(|latest| now > latest)
}

/// The reminders of an appointment starting at `start`, each with when it is due, planned at
/// `now`: switched-off kinds and stale ones are left out.
pub fn plan(
    start: Timestamp,
    now: Timestamp,
    policy: &ReminderPolicy,
) -> Vec<(ReminderKind, Timestamp)> {
    ReminderKind::ALL
        .into_iter()
        .filter_map(|k| {
            let due = start.checked_sub(policy.lead(k)?).ok()?;
            (!is_stale(due, now) && due < start).then_some((k, due))
        })
        .collect()
}

/// What a reminder names.
#[derive(Debug, Clone)]
pub struct ReminderFacts<'a> {
    pub patient: &'a str,
    pub provider: &'a str,
    pub clinic: &'a str,
    /// The start on the clinic's wall clock.
    pub date: Date,
    pub time: Time,
    pub video: bool,
}

pub(crate) fn weekday(lang: Language, d: Weekday) -> &'static str {
    use Weekday::*;
    match (lang, d) {
        (Language::En, Monday) => "Monday",
        (Language::En, Tuesday) => "Tuesday",
        (Language::En, Wednesday) => "Wednesday",
        (Language::En, Thursday) => "Thursday",
        (Language::En, Friday) => "Friday",
        (Language::En, Saturday) => "Saturday",
        (Language::En, Sunday) => "Sunday",
        (Language::Sw, Monday) => "Jumatatu",
        (Language::Sw, Tuesday) => "Jumanne",
        (Language::Sw, Wednesday) => "Jumatano",
        (Language::Sw, Thursday) => "Alhamisi",
        (Language::Sw, Friday) => "Ijumaa",
        (Language::Sw, Saturday) => "Jumamosi",
        (Language::Sw, Sunday) => "Jumapili",
    }
}

pub(crate) fn month(lang: Language, m: i8) -> &'static str {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const SW: [&str; 12] = [
        "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba",
        "Oktoba", "Novemba", "Desemba",
    ];
    let i = usize::try_from(m - 1).unwrap_or(0).min(11);
    match lang {
        Language::En => EN[i],
        Language::Sw => SW[i],
    }
}

/// The subject and body of a reminder in the patient's language.
pub fn message(kind: ReminderKind, lang: Language, f: &ReminderFacts<'_>) -> (String, String) {
    let date = format!(
        "{} {} {} {}",
        weekday(lang, f.date.weekday()),
        f.date.day(),
        month(lang, f.date.month()),
        f.date.year()
    );
    let time = format!("{:02}:{:02}", f.time.hour(), f.time.minute());
    match lang {
        Language::En => {
            let when = match kind {
                ReminderKind::DayBefore => "Reminder of your appointment",
                ReminderKind::SameDay => "Your appointment is today",
            };
            let how = if f.video {
                " It is a video consultation: you will receive the link before it starts."
            } else {
                ""
            };
            (
                format!("{when} at {}", f.clinic),
                format!(
                    "Hello {},\n\nThis is a reminder of your appointment with {} at {} on {date} at {time}.{how}\n\nIf you cannot come, please let the clinic know.\n",
                    f.patient, f.provider, f.clinic
                ),
            )
        }
        Language::Sw => {
            let when = match kind {
                ReminderKind::DayBefore => "Kumbukumbu ya miadi yako",
                ReminderKind::SameDay => "Miadi yako ni leo",
            };
            let how = if f.video {
                " Ni mashauriano kwa video: utapokea kiungo kabla ya kuanza."
            } else {
                ""
            };
            (
                format!("{when} katika {}", f.clinic),
                format!(
                    "Habari {},\n\nHii ni kumbukumbu ya miadi yako na {} katika {} {date}, saa {time}.{how}\n\nIkiwa hutaweza kufika, tafadhali ijulishe kliniki.\n",
                    f.patient, f.provider, f.clinic
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn policy() -> ReminderPolicy {
        ReminderPolicy {
            day_before: Some(SignedDuration::from_hours(24)),
            same_day: Some(SignedDuration::from_hours(2)),
        }
    }

    #[test]
    fn both_reminders_when_booked_early() {
        let start = t("2026-12-03T10:00:00Z");
        assert_eq!(
            plan(start, t("2026-12-01T09:00:00Z"), &policy()),
            vec![
                (ReminderKind::DayBefore, t("2026-12-02T10:00:00Z")),
                (ReminderKind::SameDay, t("2026-12-03T08:00:00Z")),
            ]
        );
    }

    #[test]
    fn late_bookings_skip_what_is_already_too_late() {
        let start = t("2026-12-03T10:00:00Z");
        // Booked 23 h before: the day-before moment passed an hour ago, beyond the grace.
        assert_eq!(
            plan(start, t("2026-12-02T11:00:00Z"), &policy()),
            vec![(ReminderKind::SameDay, t("2026-12-03T08:00:00Z"))]
        );
        // Inside the grace period it still goes out.
        assert_eq!(plan(start, t("2026-12-02T10:20:00Z"), &policy()).len(), 2);
        // Booked 90 minutes before: nothing.
        assert!(plan(start, t("2026-12-03T08:31:00Z"), &policy()).is_empty());
        assert!(is_stale(
            t("2026-12-03T08:00:00Z"),
            t("2026-12-03T08:30:01Z")
        ));
        assert!(!is_stale(
            t("2026-12-03T08:00:00Z"),
            t("2026-12-03T08:30:00Z")
        ));
    }

    #[test]
    fn switched_off_kinds_are_not_planned() {
        let p = ReminderPolicy {
            day_before: None,
            ..policy()
        };
        let got = plan(t("2026-12-03T10:00:00Z"), t("2026-12-01T09:00:00Z"), &p);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, ReminderKind::SameDay);
        for k in ReminderKind::ALL {
            assert_eq!(ReminderKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn messages_speak_the_patients_language_on_the_clinics_clock() {
        let f = ReminderFacts {
            patient: "Amina",
            provider: "Dr. Mwangi",
            clinic: "Nairobi West",
            date: date(2026, 11, 26),
            time: time(10, 0, 0, 0),
            video: false,
        };
        let (subject, body) = message(ReminderKind::DayBefore, Language::En, &f);
        assert_eq!(subject, "Reminder of your appointment at Nairobi West");
        assert!(
            body.contains("with Dr. Mwangi at Nairobi West on Thursday 26 November 2026 at 10:00."),
            "{body}"
        );
        let (subject, body) = message(ReminderKind::SameDay, Language::Sw, &f);
        assert_eq!(subject, "Miadi yako ni leo katika Nairobi West");
        assert!(
            body.contains("Alhamisi 26 Novemba 2026, saa 10:00"),
            "{body}"
        );
        let video = ReminderFacts { video: true, ..f };
        assert!(
            message(ReminderKind::SameDay, Language::En, &video)
                .1
                .contains("video")
        );
    }
}
