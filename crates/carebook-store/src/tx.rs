//! The repository interface: one transaction trait that both backends implement.
//!
//! Handlers open a transaction, call these operations, append the audit record of what they
//! did, and commit; the audit row is therefore written in the same transaction as the change.
//! A transaction that wrote anything refuses to commit without an audit record.
//!
//! After any error, abandon the transaction (drop it, which rolls back): PostgreSQL refuses
//! further statements in a failed transaction, and callers must not rely on SQLite letting
//! them continue.

use crate::error::StoreResult;
use crate::models::*;
use crate::scheduling::*;
use async_trait::async_trait;
use carebook_domain::Role;
use carebook_domain::audit::{AuditRecord, ChainedRecord};
use carebook_domain::schedule::lifecycle::AppointmentStatus;
use jiff::Timestamp;
use uuid::Uuid;

#[async_trait]
pub trait StoreTx:
    crate::ScheduleTx + crate::QueueTx + crate::WaitlistTx + crate::ChannelTx + Send
{
    // Users
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    async fn get_user(&mut self, id: Uuid) -> StoreResult<Option<User>>;
    /// Reads a user and holds it against concurrent writers until commit (row lock on
    /// PostgreSQL; SQLite write transactions are already exclusive).
    async fn lock_user(&mut self, id: Uuid) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&mut self, email: &str) -> StoreResult<Option<User>>;
    async fn list_users(
        &mut self,
        filter: &UserFilter,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<User>>;
    /// Writes every mutable column of the user.
    async fn update_user(&mut self, user: &User) -> StoreResult<()>;

    // Clinics
    async fn insert_clinic(&mut self, clinic: &Clinic) -> StoreResult<()>;
    async fn get_clinic(&mut self, id: Uuid) -> StoreResult<Option<Clinic>>;
    async fn get_clinic_by_slug(&mut self, slug: &str) -> StoreResult<Option<Clinic>>;
    async fn list_clinics(
        &mut self,
        only: Option<Uuid>,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<Clinic>>;
    async fn update_clinic(&mut self, clinic: &Clinic) -> StoreResult<()>;

    // Patients
    async fn insert_patient(&mut self, patient: &Patient) -> StoreResult<()>;
    async fn get_patient_by_user(&mut self, user_id: Uuid) -> StoreResult<Option<Patient>>;
    async fn link_patient_clinic(
        &mut self,
        patient_id: Uuid,
        clinic_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn patient_clinic_ids(&mut self, patient_id: Uuid) -> StoreResult<Vec<Uuid>>;

    // Refresh tokens
    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()>;
    async fn lock_refresh_token_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<RefreshToken>>;
    async fn mark_refresh_token_used(&mut self, id: Uuid, now: Timestamp) -> StoreResult<()>;
    /// Revokes every live token of a family; returns how many.
    async fn revoke_refresh_family(
        &mut self,
        family_id: Uuid,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Revokes every live token of a user (password change, deactivation); returns how many.
    async fn revoke_user_refresh_tokens(
        &mut self,
        user_id: Uuid,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<u64>;

    // One-time tokens (password reset, email verification)
    async fn insert_auth_token(&mut self, token: &AuthToken) -> StoreResult<()>;
    async fn lock_auth_token_by_hash(
        &mut self,
        purpose: TokenPurpose,
        token_hash: &str,
    ) -> StoreResult<Option<AuthToken>>;
    /// Marks every unused token of that user and purpose as used: consuming one reset link
    /// retires the others that are still in someone's inbox.
    async fn use_auth_tokens(
        &mut self,
        user_id: Uuid,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> StoreResult<u64>;

    // MFA recovery codes
    async fn replace_recovery_codes(
        &mut self,
        user_id: Uuid,
        code_hashes: &[String],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Consumes an unused code; false when it does not exist or was used.
    async fn use_recovery_code(
        &mut self,
        user_id: Uuid,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn count_unused_recovery_codes(&mut self, user_id: Uuid) -> StoreResult<u64>;

    // External identities
    async fn insert_external_identity(&mut self, identity: &ExternalIdentity) -> StoreResult<()>;
    async fn list_external_identities(
        &mut self,
        user_id: Uuid,
    ) -> StoreResult<Vec<ExternalIdentity>>;
    async fn find_external_identity(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<ExternalIdentity>>;
    async fn delete_external_identity(
        &mut self,
        user_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<ExternalIdentity>>;

    // Notification outbox
    /// Adds a message to the outbox; one to deliver (pending, not in-app) also gets its
    /// `send_notification` job, in the same transaction.
    async fn insert_notification(&mut self, n: &Notification) -> StoreResult<()>;
    async fn get_notification(&mut self, id: Uuid) -> StoreResult<Option<Notification>>;
    /// The messages about an appointment, oldest first.
    async fn notifications_for_appointment(
        &mut self,
        appointment_id: Uuid,
    ) -> StoreResult<Vec<Notification>>;
    /// Records one delivery attempt of a pending message: `status` is `sent`, `failed` (for
    /// good), `skipped`, or `pending` again for an attempt to retry, with its error. False when
    /// the message is not pending any more (delivered or given up already). Delivery
    /// bookkeeping, like the job queue's, needs no audit record.
    async fn record_delivery(
        &mut self,
        id: Uuid,
        status: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn list_notifications_for_user(
        &mut self,
        user_id: Uuid,
    ) -> StoreResult<Vec<Notification>>;

    // Roles and permissions as seeded
    async fn role_permissions(&mut self) -> StoreResult<Vec<(String, String)>>;
    async fn roles(&mut self) -> StoreResult<Vec<(Role, String)>>;

    // Audit trail
    /// Appends one record to the hash chain; returns its sequence number.
    async fn append_audit(&mut self, record: &AuditRecord) -> StoreResult<i64>;
    async fn list_audit(
        &mut self,
        filter: &AuditFilter,
        page: PageRequest<i64>,
    ) -> StoreResult<Vec<ChainedRecord>>;
    /// Rows in chain order after `after_seq`, for verification.
    async fn audit_chain(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<ChainedRecord>>;

    // Scheduling
    async fn insert_provider(&mut self, p: &Provider) -> StoreResult<()>;
    async fn get_provider_by_user(&mut self, user_id: Uuid) -> StoreResult<Option<Provider>>;
    async fn insert_service(&mut self, s: &Service) -> StoreResult<()>;
    async fn insert_provider_clinic(&mut self, pc: &ProviderClinic) -> StoreResult<()>;
    async fn insert_provider_service(
        &mut self,
        provider_id: Uuid,
        service_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn get_service(&mut self, id: Uuid) -> StoreResult<Option<Service>>;
    async fn list_services(
        &mut self,
        clinic_id: Uuid,
        include_inactive: bool,
    ) -> StoreResult<Vec<Service>>;
    /// Providers who can be booked for a service at a clinic: active, with a live engagement
    /// there that takes bookings, and linked to the service; only `provider_id` when given.
    async fn eligible_providers(
        &mut self,
        clinic_id: Uuid,
        service_id: Uuid,
        provider_id: Option<Uuid>,
    ) -> StoreResult<Vec<EligibleProvider>>;
    /// The clinic's booking rules, or the defaults when it has set none.
    async fn booking_settings(&mut self, clinic_id: Uuid) -> StoreResult<BookingSettings>;
    /// Saves the clinic's booking rules, stamped `now`.
    async fn save_booking_settings(
        &mut self,
        s: &BookingSettings,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Places a booking atomically: the provider's buffered span and the patient's time must
    /// be free of other active appointments, the provider's day below its cap, and the number
    /// is the clinic's next for the day. Any outcome but `Booked` poisons the transaction: it
    /// can only be rolled back.
    async fn book_appointment(&mut self, new: &NewAppointment) -> StoreResult<BookingOutcome>;
    async fn get_appointment(&mut self, id: Uuid) -> StoreResult<Option<Appointment>>;
    /// Active appointments of a provider whose busy span overlaps `[from, to)`.
    async fn provider_bookings(
        &mut self,
        provider_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<Appointment>>;
    async fn insert_availability_rule(&mut self, r: &AvailabilityRule) -> StoreResult<()>;
    async fn insert_availability_exception(&mut self, e: &AvailabilityException)
    -> StoreResult<()>;
    async fn insert_time_off(&mut self, t: &TimeOff) -> StoreResult<()>;
    /// Records a decision on requested time off; `None` when it is not `requested` any more.
    /// Approving returns, with the decision, the appointments the leave overlaps (at its clinic,
    /// or everywhere for leave from every clinic), so the front desk can move them; they are
    /// not cancelled silently.
    async fn decide_time_off(
        &mut self,
        id: Uuid,
        status: &str,
        by: Option<Uuid>,
        now: Timestamp,
    ) -> StoreResult<Option<(TimeOff, Vec<Appointment>)>>;
    /// Rules, exceptions, approved time off and bookings of a provider at a clinic between two
    /// local dates (inclusive) and the instants that bound them.
    async fn schedule_facts(
        &mut self,
        provider_id: Uuid,
        clinic_id: Uuid,
        dates: (jiff::civil::Date, jiff::civil::Date),
        span: (Timestamp, Timestamp),
    ) -> StoreResult<ScheduleFacts>;
    /// Cancels an appointment that still holds time and frees its place in the day's cap;
    /// `None` when it no longer holds time.
    async fn cancel_appointment(
        &mut self,
        id: Uuid,
        by: Option<Uuid>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Appointment>>;
    /// Changes an appointment's status from `from` to `to` (the domain's transition table
    /// decided it is allowed), stamping the matching time (`confirmed_at`, `checked_in_at`,
    /// `started_at`, `completed_at`). `None` when the appointment is no longer in `from`: someone
    /// else acted first. Use `cancel_appointment` to cancel.
    async fn set_appointment_status(
        &mut self,
        id: Uuid,
        from: AppointmentStatus,
        to: AppointmentStatus,
        now: Timestamp,
    ) -> StoreResult<Option<Appointment>>;
    /// Moves an appointment that holds time to a new time in place, so exactly one slot is held
    /// at every moment; `status` is its status afterwards. Outcomes other than `Booked` (which
    /// carries the unchanged number) poison the transaction.
    async fn reschedule_appointment(&mut self, change: &Reschedule) -> StoreResult<BookingOutcome>;
    /// How many bookings hold the provider's local day (what the daily cap counts).
    async fn provider_day_load(
        &mut self,
        provider_id: Uuid,
        local_date: jiff::civil::Date,
    ) -> StoreResult<u32>;

    // Housekeeping
    /// Deletes refresh tokens that expired before `before` and one-time tokens that expired
    /// or were used before it; returns (refresh tokens, one-time tokens) removed.
    async fn purge_spent_tokens(&mut self, before: Timestamp) -> StoreResult<(u64, u64)>;

    /// Liveness of the connection (for `/readyz`).
    async fn ping(&mut self) -> StoreResult<()>;

    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
