//! The API's integration tests: one binary, the app in process, a fresh database per test, and
//! every story run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod bad_input;
mod booking_races;
mod concurrency;
mod documents;
mod helpers;
mod identity;
mod jobs;
mod matrix;
mod notifications;
mod reminders;
mod sched;
mod scheduling;
mod scoping;
mod waitlist;
