//! Scheduling rules: a provider's weekly hours in the clinic's time zone, days that differ,
//! time off and existing appointments, turned into the free start times a patient can book.
//!
//! Everything here is pure: the caller passes the rules, the busy time and `now`.

pub mod booking;
mod clock;
pub mod lifecycle;
mod slots;
mod span;
mod windows;

pub use clock::{parse_clock, parse_clock_span};
pub use slots::{Booked, DayOutcome, NoSlotReason, Slot, SlotQuery, free_slots};
pub use span::Span;
pub use windows::{DayOverride, WeeklyRule, instant_of, working_windows};
