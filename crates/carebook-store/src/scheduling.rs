//! Scheduling rows: providers, services, their clinics, and appointments.

use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub license_number: Option<String>,
    pub default_duration_minutes: u32,
    pub emergency_enabled: bool,
    pub max_daily_appointments: u32,
    pub status: String,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub name: String,
    pub category: Option<String>,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderClinic {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub clinic_id: Uuid,
    pub status: String,
    pub is_primary: bool,
    pub booking_enabled: bool,
    pub accepts_emergencies: bool,
    pub max_daily_appointments: Option<u32>,
    pub started_on: Date,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appointment {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub number: String,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub service_id: Option<Uuid>,
    pub status: AppointmentStatus,
    pub priority: Priority,
    pub mode: String,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
    pub busy_start_at: Timestamp,
    pub busy_end_at: Timestamp,
    /// The clinic-local date of the start (the daily cap counts by it).
    pub local_date: Date,
    pub over_daily_cap: bool,
    pub notes: Option<String>,
    pub booked_by_user_id: Option<Uuid>,
    pub cancelled_at: Option<Timestamp>,
    pub cancelled_by: Option<Uuid>,
    pub cancellation_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A booking to place. The caller has already checked it against the rules (the domain's
/// `check_booking`); the store makes it atomic against every concurrent writer.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub appointment: Appointment,
    /// The clinic-local date of booking, in the appointment number.
    pub booked_on: Date,
    /// The provider's daily cap, or `None` for an emergency allowed past it.
    pub daily_cap: Option<u32>,
}

/// How a booking attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingOutcome {
    /// Booked, with its number.
    Booked { number: String },
    /// Another active appointment of the provider overlaps the buffered span.
    ProviderBusy,
    /// The patient already has an active appointment at that time.
    PatientBusy,
    /// The provider's day is full.
    DailyCapReached,
}

impl BookingOutcome {
    pub fn is_booked(&self) -> bool {
        matches!(self, BookingOutcome::Booked { .. })
    }
}

/// The statuses that hold a provider's time, as an SQL list (a literal, for `concat!`).
macro_rules! active_statuses {
    () => {
        "('pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress')"
    };
}
pub(crate) use active_statuses;
