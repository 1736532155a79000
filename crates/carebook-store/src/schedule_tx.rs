//! The scheduling half of the repository interface: the catalog, the provider directory,
//! availability, patients and appointment lists. [`StoreTx`](crate::StoreTx) includes it, so
//! every transaction offers both halves; bring this trait into scope to call its methods.
//!
//! Bookings, reschedules and status changes, which must be atomic against concurrent writers,
//! stay on `StoreTx` beside the other writes that carry invariants.

use crate::error::StoreResult;
use crate::models::{PageRequest, Patient, PatientFilter};
use crate::scheduling::*;
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use uuid::Uuid;

#[async_trait]
pub trait ScheduleTx: Send {
    // Specializations
    async fn insert_specialization(&mut self, s: &Specialization) -> StoreResult<()>;
    async fn update_specialization(&mut self, s: &Specialization) -> StoreResult<()>;
    async fn get_specialization(&mut self, id: Uuid) -> StoreResult<Option<Specialization>>;
    async fn list_specializations(
        &mut self,
        include_inactive: bool,
    ) -> StoreResult<Vec<Specialization>>;

    // Services
    /// Writes every mutable column of the service.
    async fn update_service(&mut self, s: &Service) -> StoreResult<()>;

    // Providers
    async fn get_provider(&mut self, id: Uuid) -> StoreResult<Option<Provider>>;
    /// The provider with its account's name and email.
    async fn get_provider_listing(&mut self, id: Uuid) -> StoreResult<Option<ProviderListing>>;
    /// Writes every mutable column of the provider.
    async fn update_provider(&mut self, p: &Provider) -> StoreResult<()>;
    async fn search_providers(
        &mut self,
        f: &ProviderFilter,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<ProviderListing>>;
    /// The provider's specializations, each with its primary flag.
    async fn provider_specializations(
        &mut self,
        provider_id: Uuid,
    ) -> StoreResult<Vec<(Specialization, bool)>>;
    /// Replaces the provider's specializations (id, primary).
    async fn set_provider_specializations(
        &mut self,
        provider_id: Uuid,
        ids: &[(Uuid, bool)],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Every engagement of the provider, ended ones included, newest first.
    async fn provider_clinics(&mut self, provider_id: Uuid) -> StoreResult<Vec<ProviderClinic>>;
    /// Writes every mutable column of the engagement.
    async fn update_provider_clinic(&mut self, pc: &ProviderClinic) -> StoreResult<()>;
    async fn provider_services(&mut self, provider_id: Uuid) -> StoreResult<Vec<ProviderService>>;
    /// Links a provider to a service, or updates the link.
    async fn set_provider_service(&mut self, ps: &ProviderService) -> StoreResult<()>;
    /// Unlinks; false when there was no link.
    async fn remove_provider_service(
        &mut self,
        provider_id: Uuid,
        service_id: Uuid,
    ) -> StoreResult<bool>;

    // Availability
    async fn list_availability_rules(
        &mut self,
        provider_id: Uuid,
        clinic_id: Option<Uuid>,
    ) -> StoreResult<Vec<AvailabilityRule>>;
    async fn get_availability_rule(&mut self, id: Uuid) -> StoreResult<Option<AvailabilityRule>>;
    /// Writes every mutable column of the rule.
    async fn update_availability_rule(&mut self, r: &AvailabilityRule) -> StoreResult<()>;
    async fn delete_availability_rule(&mut self, id: Uuid) -> StoreResult<bool>;
    /// Exceptions of the provider (at one clinic or all), on or after `from`.
    async fn list_availability_exceptions(
        &mut self,
        provider_id: Uuid,
        clinic_id: Option<Uuid>,
        from: Option<Date>,
    ) -> StoreResult<Vec<AvailabilityException>>;
    async fn get_availability_exception(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<AvailabilityException>>;
    async fn delete_availability_exception(&mut self, id: Uuid) -> StoreResult<bool>;
    /// The provider's time off, newest first, optionally of one status.
    async fn list_time_off(
        &mut self,
        provider_id: Uuid,
        status: Option<&str>,
    ) -> StoreResult<Vec<TimeOff>>;
    async fn get_time_off(&mut self, id: Uuid) -> StoreResult<Option<TimeOff>>;
    /// Withdraws requested or approved time off (status `cancelled`); `None` when it is
    /// neither any more.
    async fn withdraw_time_off(&mut self, id: Uuid, now: Timestamp)
    -> StoreResult<Option<TimeOff>>;
    /// [`ScheduleFacts`] of every provider who delivers the service, at the clinic, in one
    /// round of queries: what an "any provider" search reads.
    async fn service_schedule_facts(
        &mut self,
        clinic_id: Uuid,
        service_id: Uuid,
        dates: (Date, Date),
        span: (Timestamp, Timestamp),
    ) -> StoreResult<Vec<(Uuid, ScheduleFacts)>>;

    // Patients
    async fn get_patient(&mut self, id: Uuid) -> StoreResult<Option<Patient>>;
    /// Writes every mutable column of the patient (contact details, language, opt-out).
    async fn update_patient(&mut self, p: &Patient) -> StoreResult<()>;
    async fn search_patients(
        &mut self,
        f: &PatientFilter,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<Patient>>;
    /// Active appointments of the patient overlapping `[from, to)`.
    async fn patient_bookings(
        &mut self,
        patient_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<Appointment>>;

    // Appointment views
    /// Appointments in start order (or reverse), after the `(start_at, id)` cursor.
    async fn list_appointments(
        &mut self,
        f: &AppointmentFilter,
        page: PageRequest<(Timestamp, Uuid)>,
    ) -> StoreResult<Vec<AppointmentListing>>;
    async fn get_appointment_listing(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<AppointmentListing>>;
    /// Unpaid bookings whose hold ran out before `now`, oldest first.
    async fn expired_payment_holds(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Appointment>>;
}
