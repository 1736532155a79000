//! The waitlist's rows and its half of the repository interface.
//!
//! An entry's offer holds its slot as an appointment in status `offered` (see migration 0006),
//! so the store's overlap rules keep everyone else off it. These operations only move entries
//! and offers between their states, each under the state it expects, so two workers or two
//! clicks racing on the same entry change it once.

use crate::error::StoreResult;
use async_trait::async_trait;
use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use carebook_domain::waitlist::{EntryStatus, OfferStatus, Requested};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub service_id: Uuid,
    /// `None`: any provider who delivers the service.
    pub provider_id: Option<Uuid>,
    pub mode: Option<String>,
    pub requested_from: Option<Date>,
    pub requested_to: Option<Date>,
    pub priority: Priority,
    /// 1-based, within the priority, among the clinic's open entries.
    pub position: u32,
    pub notes: Option<String>,
    pub status: EntryStatus,
    /// The booking it became.
    pub appointment_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub assigned_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub close_reason: Option<String>,
}

impl WaitlistEntry {
    pub fn requested(&self) -> Requested {
        Requested {
            from: self.requested_from,
            to: self.requested_to,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WaitlistOffer {
    pub id: Uuid,
    pub entry_id: Uuid,
    /// The `offered` appointment that holds the slot.
    pub appointment_id: Uuid,
    pub provider_id: Uuid,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub status: OfferStatus,
    pub offered_at: Timestamp,
    pub expires_at: Timestamp,
    pub responded_at: Option<Timestamp>,
}

/// Which entries a list shows; all filters optional.
#[derive(Debug, Clone, Default)]
pub struct WaitlistFilter {
    pub clinic_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    /// Empty: the open ones (waiting and offered).
    pub statuses: Vec<EntryStatus>,
}

/// A change to an entry's state, applied only if it is in one of `from`.
#[derive(Debug, Clone)]
pub struct EntryTransition {
    pub id: Uuid,
    pub from: Vec<EntryStatus>,
    pub to: EntryStatus,
    /// Set with `assigned`.
    pub appointment_id: Option<Uuid>,
    /// Set with `cancelled` and `expired`.
    pub reason: Option<String>,
    pub now: Timestamp,
}

#[async_trait]
pub trait WaitlistTx: Send {
    /// Adds the entry at the end of its priority (its `position` is computed); `false` when the
    /// patient already has an open entry for the service.
    async fn insert_waitlist_entry(&mut self, e: &WaitlistEntry) -> StoreResult<bool>;
    async fn get_waitlist_entry(&mut self, id: Uuid) -> StoreResult<Option<WaitlistEntry>>;
    /// Reads the entry and holds it against concurrent writers until commit.
    async fn lock_waitlist_entry(&mut self, id: Uuid) -> StoreResult<Option<WaitlistEntry>>;
    /// Entries in queue order (open ones) or newest first (when only closed statuses are
    /// asked for), skipping `offset`.
    async fn list_waitlist(
        &mut self,
        f: &WaitlistFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<WaitlistEntry>>;
    /// The clinic's waiting entries that time of `provider_id` on local dates `dates` may
    /// suit (the provider delivers their service, their dates overlap), in queue order.
    async fn waiting_entries_for(
        &mut self,
        clinic_id: Uuid,
        provider_id: Option<Uuid>,
        dates: (Date, Date),
    ) -> StoreResult<Vec<WaitlistEntry>>;
    /// How many entries are open across all clinics: (waiting, offered).
    async fn waitlist_depth(&mut self) -> StoreResult<(u64, u64)>;
    /// Whether the clinic has any waiting entry (a freed slot needs no matching otherwise).
    async fn has_waiting_entries(&mut self, clinic_id: Uuid) -> StoreResult<bool>;
    async fn transition_waitlist_entry(
        &mut self,
        t: &EntryTransition,
    ) -> StoreResult<Option<WaitlistEntry>>;
    /// Writes priority, position, notes, mode and requested dates.
    async fn update_waitlist_entry(&mut self, e: &WaitlistEntry) -> StoreResult<()>;
    /// Renumbers the clinic's open entries of `priority` 1, 2, 3… in their current order.
    async fn renumber_waitlist(&mut self, clinic_id: Uuid, priority: Priority) -> StoreResult<()>;
    /// Moves the entry to `position` in its priority, shifting the others down.
    async fn move_waitlist_entry(&mut self, e: &WaitlistEntry, position: u32) -> StoreResult<()>;
    /// Waiting entries whose requested dates end before `before` (a date no clinic has reached).
    async fn waiting_entries_ending_before(
        &mut self,
        before: Date,
        limit: u32,
    ) -> StoreResult<Vec<WaitlistEntry>>;
    /// How many entries of the clinic's service were assigned at or after `since`.
    async fn waitlist_assignments_since(
        &mut self,
        clinic_id: Uuid,
        service_id: Uuid,
        since: Timestamp,
    ) -> StoreResult<u32>;

    async fn insert_waitlist_offer(&mut self, o: &WaitlistOffer) -> StoreResult<()>;
    async fn get_waitlist_offer(&mut self, id: Uuid) -> StoreResult<Option<WaitlistOffer>>;
    async fn open_offer_of(&mut self, entry_id: Uuid) -> StoreResult<Option<WaitlistOffer>>;
    async fn offers_of(&mut self, entry_id: Uuid) -> StoreResult<Vec<WaitlistOffer>>;
    /// Closes an open offer; `None` when it was no longer open.
    async fn close_waitlist_offer(
        &mut self,
        id: Uuid,
        to: OfferStatus,
        now: Timestamp,
    ) -> StoreResult<Option<WaitlistOffer>>;
    /// Turns an `offered` appointment into a booking in `to`; `None` when it is not offered.
    async fn accept_offered_appointment(
        &mut self,
        id: Uuid,
        to: AppointmentStatus,
        hold_expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<Option<crate::scheduling::Appointment>>;
}
