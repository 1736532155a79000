//! The appointment lifecycle: one transition table over the union of the seeds' statuses, the
//! guards that depend on time and on who acts, and appointment numbers.
//!
//! ```text
//! pending_payment ─pay──────────▶ confirmed
//! scheduled ─confirm─▶ confirmed ─check_in─▶ checked_in ─start─▶ in_progress ─complete─▶ completed
//! scheduled ─check_in─▶ checked_in          confirmed ─start (video)─▶ in_progress
//! checked_in ─complete─▶ completed (a short visit recorded at checkout)
//! pending_payment | scheduled | confirmed | checked_in ─cancel─▶ cancelled
//! scheduled | confirmed ─no_show (after the start time)─▶ no_show
//! offered: a freed slot held for a waitlist entry; the waitlist accepts it (▶ scheduled or
//!          pending_payment) or cancels it, never the lifecycle actions below
//! ```

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Held for a waitlist entry until its patient accepts or the offer runs out.
    Offered,
    PendingPayment,
    Scheduled,
    Confirmed,
    CheckedIn,
    InProgress,
    Completed,
    Cancelled,
    NoShow,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 9] = [
        Self::Offered,
        Self::PendingPayment,
        Self::Scheduled,
        Self::Confirmed,
        Self::CheckedIn,
        Self::InProgress,
        Self::Completed,
        Self::Cancelled,
        Self::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::PendingPayment => "pending_payment",
            Self::Scheduled => "scheduled",
            Self::Confirmed => "confirmed",
            Self::CheckedIn => "checked_in",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Statuses that hold the provider's time: only these conflict with a new booking.
    pub fn holds_time(self) -> bool {
        matches!(
            self,
            Self::Offered
                | Self::PendingPayment
                | Self::Scheduled
                | Self::Confirmed
                | Self::CheckedIn
                | Self::InProgress
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::NoShow)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The payment a clinic requires before confirmation arrived.
    Pay,
    Confirm,
    CheckIn,
    Start,
    Complete,
    Cancel,
    MarkNoShow,
    Reschedule,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Self::Pay,
        Self::Confirm,
        Self::CheckIn,
        Self::Start,
        Self::Complete,
        Self::Cancel,
        Self::MarkNoShow,
        Self::Reschedule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::Confirm => "confirm",
            Self::CheckIn => "check_in",
            Self::Start => "start",
            Self::Complete => "complete",
            Self::Cancel => "cancel",
            Self::MarkNoShow => "mark_no_show",
            Self::Reschedule => "reschedule",
        }
    }
}

/// The transition table: the status an action leads to, or `None` when it does not apply.
pub fn next_status(from: AppointmentStatus, action: Action) -> Option<AppointmentStatus> {
    use Action::*;
    use AppointmentStatus as S;
    match (from, action) {
        (S::PendingPayment, Pay) => Some(S::Confirmed),
        (S::Scheduled, Confirm) => Some(S::Confirmed),
        (S::Scheduled | S::Confirmed, CheckIn) => Some(S::CheckedIn),
        (S::Confirmed | S::CheckedIn, Start) => Some(S::InProgress),
        (S::CheckedIn | S::InProgress, Complete) => Some(S::Completed),
        (S::PendingPayment | S::Scheduled | S::Confirmed | S::CheckedIn, Cancel) => {
            Some(S::Cancelled)
        }
        (S::Scheduled | S::Confirmed, MarkNoShow) => Some(S::NoShow),
        // A new time keeps an unpaid booking unpaid; a confirmed one needs confirming again.
        (S::PendingPayment, Reschedule) => Some(S::PendingPayment),
        (S::Scheduled | S::Confirmed, Reschedule) => Some(S::Scheduled),
        _ => None,
    }
}

/// The actions open from a status, for error messages and UIs.
pub fn allowed_actions(from: AppointmentStatus) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| next_status(from, *a).is_some())
        .collect()
}

/// Who asks for a transition: the rules for patients are stricter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff,
    Patient,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransitionError {
    NotAllowed {
        from: AppointmentStatus,
        action: Action,
        allowed: Vec<Action>,
    },
    /// Only staff confirm payments, check in, start and complete visits, or mark no-shows.
    StaffOnly { action: Action },
    /// A no-show can be recorded only once the start time has passed.
    NoShowBeforeStart { start_at: Timestamp },
    /// Patients cancel or reschedule only until the clinic's cutoff before the start.
    PastCancellationCutoff { cutoff_at: Timestamp },
    /// Cancelling needs a reason.
    ReasonRequired,
}

/// Applies the table and the guards for `action` on an appointment starting at `start_at`.
pub fn transition(
    from: AppointmentStatus,
    action: Action,
    actor: Actor,
    start_at: Timestamp,
    cancellation_cutoff: SignedDuration,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<AppointmentStatus, TransitionError> {
    let to = next_status(from, action).ok_or_else(|| TransitionError::NotAllowed {
        from,
        action,
        allowed: allowed_actions(from),
    })?;
    let patient_may = matches!(
        action,
        Action::Cancel | Action::Reschedule | Action::Confirm
    );
    if actor == Actor::Patient && !patient_may {
        return Err(TransitionError::StaffOnly { action });
    }
    if action == Action::MarkNoShow && now < start_at {
        return Err(TransitionError::NoShowBeforeStart { start_at });
    }
    if action == Action::Cancel && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired);
    }
    if actor == Actor::Patient && matches!(action, Action::Cancel | Action::Reschedule) {
        let cutoff_at = start_at
            .checked_sub(cancellation_cutoff)
            .unwrap_or(start_at);
        if now > cutoff_at {
            return Err(TransitionError::PastCancellationCutoff { cutoff_at });
        }
    }
    Ok(to)
}

/// Booking priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Standard,
    Urgent,
    Emergency,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Self::Standard, Self::Urgent, Self::Emergency];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Urgent => "urgent",
            Self::Emergency => "emergency",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Whether a booking may go beyond the provider's daily cap: only emergencies, and only with
/// providers who take them. The booking records that it did.
pub fn may_exceed_daily_cap(priority: Priority, emergency_enabled: bool) -> bool {
    priority == Priority::Emergency && emergency_enabled
}

/// `APT-YYYYMMDD-NNN`: the clinic-local date of booking and the day's counter, with at least
/// three digits and more when a clinic books over 999 in a day.
pub fn appointment_number(local_date: Date, counter: u32) -> String {
    format!("APT-{}-{counter:03}", local_date.strftime("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppointmentStatus as S;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn final_statuses_allow_nothing_and_free_the_time() {
        for s in S::ALL {
            // An offer leaves through the waitlist (accept, decline, expiry), not these actions.
            let via_lifecycle = s != S::Offered;
            assert_eq!(
                s.is_final(),
                via_lifecycle && allowed_actions(s).is_empty(),
                "{s:?}"
            );
            assert_eq!(S::parse(s.as_str()), Some(s));
            if s.is_final() {
                assert!(!s.holds_time());
            }
        }
        assert!(S::PendingPayment.holds_time() && S::InProgress.holds_time());
        assert!(
            S::Offered.holds_time(),
            "an offer keeps others off its slot"
        );
        assert!(allowed_actions(S::Offered).is_empty());
    }

    #[test]
    fn every_active_status_can_reach_a_final_one() {
        for s in S::ALL
            .into_iter()
            .filter(|s| !s.is_final() && *s != S::Offered)
        {
            let mut seen = vec![s];
            let mut frontier = vec![s];
            while let Some(x) = frontier.pop() {
                for a in Action::ALL {
                    if let Some(y) = next_status(x, a)
                        && !seen.contains(&y)
                    {
                        seen.push(y);
                        frontier.push(y);
                    }
                }
            }
            assert!(
                seen.contains(&S::Completed) || seen.contains(&S::Cancelled),
                "{s:?}"
            );
        }
    }

    #[test]
    fn happy_path_and_refusals_list_what_is_allowed() {
        let start = t("2026-12-01T09:00:00Z");
        let before = t("2026-11-30T09:00:00Z");
        let cutoff = SignedDuration::from_hours(24);
        let go = |from, a, who, now| {
            transition(
                from,
                a,
                who,
                start,
                cutoff,
                Some("patient is travelling"),
                now,
            )
        };
        assert_eq!(
            go(S::Scheduled, Action::Confirm, Actor::Patient, before),
            Ok(S::Confirmed)
        );
        assert_eq!(
            go(S::Confirmed, Action::CheckIn, Actor::Staff, start),
            Ok(S::CheckedIn)
        );
        assert_eq!(
            go(S::CheckedIn, Action::Start, Actor::Staff, start),
            Ok(S::InProgress)
        );
        assert_eq!(
            go(S::InProgress, Action::Complete, Actor::Staff, start),
            Ok(S::Completed)
        );
        match go(S::Completed, Action::Cancel, Actor::Staff, start) {
            Err(TransitionError::NotAllowed { allowed, .. }) => assert!(allowed.is_empty()),
            other => panic!("{other:?}"),
        }
        match go(S::Scheduled, Action::Complete, Actor::Staff, start) {
            Err(TransitionError::NotAllowed { allowed, .. }) => {
                assert_eq!(
                    allowed,
                    vec![
                        Action::Confirm,
                        Action::CheckIn,
                        Action::Cancel,
                        Action::MarkNoShow,
                        Action::Reschedule
                    ]
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            go(S::PendingPayment, Action::Pay, Actor::Staff, before),
            Ok(S::Confirmed)
        );
        assert_eq!(
            go(S::Confirmed, Action::Reschedule, Actor::Staff, before),
            Ok(S::Scheduled)
        );
    }

    #[test]
    fn guards() {
        let start = t("2026-12-01T09:00:00Z");
        let cutoff = SignedDuration::from_hours(24);
        let no_show = |now| {
            transition(
                S::Confirmed,
                Action::MarkNoShow,
                Actor::Staff,
                start,
                cutoff,
                None,
                t(now),
            )
        };
        assert_eq!(
            no_show("2026-12-01T08:59:59Z"),
            Err(TransitionError::NoShowBeforeStart { start_at: start })
        );
        assert_eq!(no_show("2026-12-01T09:00:00Z"), Ok(S::NoShow));
        let cancel = |who, reason, now| {
            transition(
                S::Scheduled,
                Action::Cancel,
                who,
                start,
                cutoff,
                reason,
                t(now),
            )
        };
        assert_eq!(
            cancel(Actor::Staff, None, "2026-11-30T10:00:00Z"),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            cancel(Actor::Staff, Some("  "), "2026-11-30T10:00:00Z"),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            cancel(Actor::Patient, Some("ill"), "2026-11-30T09:00:00Z"),
            Ok(S::Cancelled),
            "exactly at the cutoff"
        );
        assert_eq!(
            cancel(Actor::Patient, Some("ill"), "2026-11-30T09:00:01Z"),
            Err(TransitionError::PastCancellationCutoff {
                cutoff_at: t("2026-11-30T09:00:00Z")
            })
        );
        assert_eq!(
            cancel(Actor::Staff, Some("ill"), "2026-12-01T08:00:00Z"),
            Ok(S::Cancelled),
            "staff are not bound by it"
        );
        let check_in = transition(
            S::Confirmed,
            Action::CheckIn,
            Actor::Patient,
            start,
            cutoff,
            None,
            start,
        );
        assert_eq!(
            check_in,
            Err(TransitionError::StaffOnly {
                action: Action::CheckIn
            })
        );
    }

    #[test]
    fn numbers_and_emergencies() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        let d = jiff::civil::date(2026, 3, 8);
        assert_eq!(appointment_number(d, 7), "APT-20260308-007");
        assert_eq!(appointment_number(d, 1234), "APT-20260308-1234");
        assert!(may_exceed_daily_cap(Priority::Emergency, true));
        assert!(!may_exceed_daily_cap(Priority::Emergency, false));
        assert!(!may_exceed_daily_cap(Priority::Urgent, true));
    }
}
