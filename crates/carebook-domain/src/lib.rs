//! Carebook's pure rules.
//!
//! Nothing here performs I/O or reads a clock: every function that depends on the time takes
//! `now` as a parameter, so rules can be tested on any instant (a DST transition, a lockout
//! expiry) without sleeping. CI checks that this crate depends on no database or HTTP crate.

pub mod access;
pub mod audit;
pub mod channels;
pub mod identity;
pub mod lockout;
pub mod reminders;
pub mod schedule;
pub mod secret;
pub mod totp;
pub mod waitlist;

pub use access::{Access, Permission, Role};
pub use identity::{Email, Language, Password, PersonName, ValidationError};
