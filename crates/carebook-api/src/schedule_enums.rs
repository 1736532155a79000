//! The scheduling API's enumerations, as OpenAPI schemas. Unknown values in a request are
//! refused by serde (a 422 `invalid_body` or 400 `invalid_parameter`), so handlers only ever
//! see allowed ones.
//!
//! The domain's own enums carry no OpenAPI derive (the domain crate stays free of HTTP
//! concerns), so each gets a mirror here with conversions both ways; values the store keeps as
//! text get `as_str` and `parse`.

use carebook_domain::schedule::NoSlotReason;
use carebook_domain::schedule::lifecycle::{Action, AppointmentStatus, Priority};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An enum mirrored from the domain crate.
macro_rules! mirror {
    ($(#[$doc:meta])* $name:ident <=> $domain:ident { $($v:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }

        impl From<$name> for $domain {
            fn from(x: $name) -> Self { match x { $($name::$v => $domain::$v,)* } }
        }
        impl From<$domain> for $name {
            fn from(x: $domain) -> Self { match x { $($domain::$v => $name::$v,)* } }
        }
    };
}

/// An enum the store keeps as text; the text is the variant's snake_case name (a test
/// checks that serde and the OpenAPI schema say the same).
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($v:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s,)* } }
            pub fn parse(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|x| x.as_str() == s) }
        }
    };
}

mirror! {
    /// Where an appointment stands. `offered` (a freed slot held for a waitlist entry),
    /// `pending_payment`, `scheduled`, `confirmed`, `checked_in` and `in_progress` hold the
    /// provider's time; `completed`, `cancelled` and `no_show` are final.
    AppointmentStatusName <=> AppointmentStatus {
        Offered, PendingPayment, Scheduled, Confirmed, CheckedIn, InProgress, Completed, Cancelled, NoShow,
    }
}

mirror! {
    /// Booking priority; `emergency` may pass the provider's daily cap when they take emergencies.
    PriorityName <=> Priority { Standard, Urgent, Emergency }
}

mirror! {
    /// A step of the appointment lifecycle.
    ActionName <=> Action { Pay, Confirm, CheckIn, Start, Complete, Cancel, MarkNoShow, Reschedule }
}

mirror! {
    /// Why a day offers no free time.
    NoSlotReasonName <=> NoSlotReason {
        NotWorking, OnLeave, DailyCapReached, FullyBooked, TooSoon, BeyondBookingWindow,
    }
}

text_enum! {
    /// How a consultation takes place.
    ConsultationMode { InPerson = "in_person", Video = "video" }
}

text_enum! {
    /// Which consultations an availability rule is for.
    RuleMode { InPerson = "in_person", Video = "video", Any = "any" }
}

text_enum! {
    /// A provider's own status; `on_leave` takes them out of slot search everywhere.
    ProviderStatus { Available = "available", OnLeave = "on_leave", Busy = "busy" }
}

text_enum! {
    /// Credential check of a provider (seed 004).
    VerificationStatus { Pending = "pending", Verified = "verified", Rejected = "rejected" }
}

text_enum! {
    /// A provider's engagement at a clinic; `ended` ones stay as history.
    EngagementStatus { Active = "active", OnLeave = "on_leave", Ended = "ended" }
}

text_enum! {
    /// Time off moves from `requested` to `approved` or `rejected`; the requester can withdraw
    /// it (`cancelled`). Only approved time off removes slots.
    TimeOffStatus {
        Requested = "requested", Approved = "approved", Rejected = "rejected", Cancelled = "cancelled",
    }
}

text_enum! {
    /// `unavailable`: the date is closed (no times) or loses the given hours; `available`:
    /// the given hours replace the weekly ones that date.
    ExceptionKind { Unavailable = "unavailable", Available = "available" }
}

/// The API's name of a day's reason, as `NoSlotReasonName` serialises it.
pub fn reason_name(r: NoSlotReason) -> &'static str {
    match r {
        NoSlotReason::NotWorking => "not_working",
        NoSlotReason::OnLeave => "on_leave",
        NoSlotReason::DailyCapReached => "daily_cap_reached",
        NoSlotReason::FullyBooked => "fully_booked",
        NoSlotReason::TooSoon => "too_soon",
        NoSlotReason::BeyondBookingWindow => "beyond_booking_window",
    }
}

impl RuleMode {
    /// Whether a rule of this mode offers time for a consultation in `mode` (any mode when
    /// `None`).
    pub fn serves(self, mode: Option<ConsultationMode>) -> bool {
        match (self, mode) {
            (RuleMode::Any, _) | (_, None) => true,
            (RuleMode::InPerson, Some(m)) => m == ConsultationMode::InPerson,
            (RuleMode::Video, Some(m)) => m == ConsultationMode::Video,
        }
    }
}

/// The modes in a stored JSON list, ignoring unknown ones.
pub fn modes_of(stored: &[String]) -> Vec<ConsultationMode> {
    stored
        .iter()
        .filter_map(|m| ConsultationMode::parse(m))
        .collect()
}

/// The stored form of a list of modes, each once, in a stable order.
pub fn store_modes(modes: &[ConsultationMode]) -> Vec<String> {
    ConsultationMode::ALL
        .iter()
        .filter(|m| modes.contains(m))
        .map(|m| m.as_str().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_round_trip_and_match_the_domain_names() {
        for s in AppointmentStatus::ALL {
            let m = AppointmentStatusName::from(s);
            assert_eq!(AppointmentStatus::from(m), s);
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        for r in [
            NoSlotReason::NotWorking,
            NoSlotReason::OnLeave,
            NoSlotReason::DailyCapReached,
            NoSlotReason::FullyBooked,
            NoSlotReason::TooSoon,
            NoSlotReason::BeyondBookingWindow,
        ] {
            assert_eq!(
                serde_json::to_value(NoSlotReasonName::from(r)).unwrap(),
                serde_json::json!(reason_name(r))
            );
        }
        for a in Action::ALL {
            assert_eq!(
                serde_json::to_value(ActionName::from(a)).unwrap(),
                serde_json::json!(a.as_str())
            );
        }
        fn same<T: Serialize>(all: &[T], text: impl Fn(&T) -> &'static str) {
            for v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text(v)));
            }
        }
        same(TimeOffStatus::ALL, |v| v.as_str());
        same(ConsultationMode::ALL, |v| v.as_str());
        same(RuleMode::ALL, |v| v.as_str());
        same(ProviderStatus::ALL, |v| v.as_str());
        same(VerificationStatus::ALL, |v| v.as_str());
        same(EngagementStatus::ALL, |v| v.as_str());
        same(ExceptionKind::ALL, |v| v.as_str());
    }

    #[test]
    fn rule_modes() {
        assert!(RuleMode::Any.serves(Some(ConsultationMode::Video)));
        assert!(RuleMode::Video.serves(None));
        assert!(!RuleMode::InPerson.serves(Some(ConsultationMode::Video)));
        assert_eq!(
            store_modes(&[ConsultationMode::Video, ConsultationMode::InPerson]),
            vec!["in_person", "video"]
        );
    }
}
