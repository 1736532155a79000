//! What the scheduling API shows: response bodies built from store rows. Times are RFC 3339
//! instants; `local_*` fields repeat them on the clinic's wall clock, which is what the front
//! desk and the patient read.

use crate::schedule_enums::*;
use carebook_domain::schedule::lifecycle::allowed_actions;
use carebook_store::models::Patient;
use carebook_store::scheduling::*;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A clinic-local wall-clock time, `YYYY-MM-DDTHH:MM`.
pub fn local(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .datetime()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpecializationView {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub description: Option<String>,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Specialization> for SpecializationView {
    fn from(s: &Specialization) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            parent_id: s.parent_id,
            description: s.description.clone(),
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub duration_minutes: u32,
    /// Time kept free before the appointment (preparation).
    pub buffer_before_minutes: u32,
    /// Time kept free after the appointment (cleaning, notes).
    pub buffer_after_minutes: u32,
    /// Fee in minor units of `currency` (cents, shillings × 100).
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub billing_code: Option<String>,
    pub required_specialization_id: Option<Uuid>,
    pub modes: Vec<ConsultationMode>,
    /// Inactive services cannot be booked.
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Service> for ServiceView {
    fn from(s: &Service) -> Self {
        Self {
            id: s.id,
            clinic_id: s.clinic_id,
            name: s.name.clone(),
            description: s.description.clone(),
            category: s.category.clone(),
            duration_minutes: s.duration_minutes,
            buffer_before_minutes: s.buffer_before_minutes,
            buffer_after_minutes: s.buffer_after_minutes,
            fee_minor: s.fee_minor,
            currency: s.currency.clone(),
            billing_code: s.billing_code.clone(),
            required_specialization_id: s.required_specialization_id,
            modes: modes_of(&s.modes),
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A provider in the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// e.g. `Dr.`
    pub title: Option<String>,
    pub bio: Option<String>,
    pub photo_url: Option<String>,
    pub license_number: Option<String>,
    pub registration_number: Option<String>,
    pub practice_start_year: Option<i32>,
    /// Whole years since `practice_start_year`.
    pub years_of_experience: Option<i32>,
    pub qualifications: Vec<String>,
    /// Language codes, e.g. `en`, `sw`.
    pub languages: Vec<String>,
    pub default_fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub default_duration_minutes: u32,
    /// Takes emergency bookings beyond the daily cap.
    pub emergency_enabled: bool,
    pub max_daily_appointments: u32,
    pub status: ProviderStatus,
    pub verification_status: VerificationStatus,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl ProviderView {
    pub fn new(l: &ProviderListing, this_year: i16) -> Self {
        let p = &l.provider;
        Self {
            id: p.id,
            user_id: p.user_id,
            name: l.name.clone(),
            title: p.title.clone(),
            bio: p.bio.clone(),
            photo_url: p.photo_url.clone(),
            license_number: p.license_number.clone(),
            registration_number: p.registration_number.clone(),
            practice_start_year: p.practice_start_year,
            years_of_experience: p
                .practice_start_year
                .map(|y| (i32::from(this_year) - y).max(0)),
            qualifications: p.qualifications.clone(),
            languages: p.languages.clone(),
            default_fee_minor: p.default_fee_minor,
            currency: p.currency.clone(),
            default_duration_minutes: p.default_duration_minutes,
            emergency_enabled: p.emergency_enabled,
            max_daily_appointments: p.max_daily_appointments,
            status: ProviderStatus::parse(&p.status).unwrap_or(ProviderStatus::Busy),
            verification_status: VerificationStatus::parse(&p.verification_status)
                .unwrap_or(VerificationStatus::Pending),
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A provider with where they work, what they deliver and their fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderDetail {
    #[serde(flatten)]
    pub provider: ProviderView,
    pub specializations: Vec<ProviderSpecializationView>,
    pub clinics: Vec<EngagementView>,
    pub services: Vec<ProviderServiceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderSpecializationView {
    pub id: Uuid,
    pub name: String,
    pub is_primary: bool,
}

/// Where a provider works, with the terms that apply there.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementView {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub clinic_id: Uuid,
    pub status: EngagementStatus,
    pub is_primary: bool,
    pub department: Option<String>,
    pub designation: Option<String>,
    pub consultation_fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub default_duration_minutes: Option<u32>,
    pub consultation_modes: Vec<ConsultationMode>,
    pub booking_enabled: bool,
    pub accepts_emergencies: bool,
    /// Overrides the provider's own daily cap at this clinic.
    pub max_daily_appointments: Option<u32>,
    #[schema(value_type = String, format = Date)]
    pub started_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&ProviderClinic> for EngagementView {
    fn from(pc: &ProviderClinic) -> Self {
        Self {
            id: pc.id,
            provider_id: pc.provider_id,
            clinic_id: pc.clinic_id,
            status: EngagementStatus::parse(&pc.status).unwrap_or(EngagementStatus::Ended),
            is_primary: pc.is_primary,
            department: pc.department.clone(),
            designation: pc.designation.clone(),
            consultation_fee_minor: pc.consultation_fee_minor,
            currency: pc.currency.clone(),
            default_duration_minutes: pc.default_duration_minutes,
            consultation_modes: modes_of(&pc.consultation_modes),
            booking_enabled: pc.booking_enabled,
            accepts_emergencies: pc.accepts_emergencies,
            max_daily_appointments: pc.max_daily_appointments,
            started_on: pc.started_on,
            ended_on: pc.ended_on,
            created_at: pc.created_at,
            updated_at: pc.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderServiceView {
    pub service_id: Uuid,
    /// The provider's own fee for it, when it differs from the service's.
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub is_active: bool,
}

impl From<&ProviderService> for ProviderServiceView {
    fn from(ps: &ProviderService) -> Self {
        Self {
            service_id: ps.service_id,
            fee_minor: ps.fee_minor,
            currency: ps.currency.clone(),
            is_active: ps.is_active,
        }
    }
}

/// Clock times `HH:MM` in the clinic's zone.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSpanView {
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "12:30")]
    pub start: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "13:30")]
    pub end: String,
}

/// Weekly hours of a provider at a clinic.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityRuleView {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub provider_id: Uuid,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub day_of_week: u8,
    pub start_time: String,
    pub end_time: String,
    pub breaks: Vec<ClockSpanView>,
    /// A rule with `false` records a day off without deleting the rule.
    pub is_working_day: bool,
    pub mode: RuleMode,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
    pub is_active: bool,
    pub notes: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&AvailabilityRule> for AvailabilityRuleView {
    fn from(r: &AvailabilityRule) -> Self {
        Self {
            id: r.id,
            clinic_id: r.clinic_id,
            provider_id: r.provider_id,
            day_of_week: r.day_of_week,
            start_time: r.start_time.clone(),
            end_time: r.end_time.clone(),
            breaks: r
                .breaks
                .iter()
                .map(|b| ClockSpanView {
                    start: b.start.clone(),
                    end: b.end.clone(),
                })
                .collect(),
            is_working_day: r.is_working_day,
            mode: RuleMode::parse(&r.mode).unwrap_or(RuleMode::Any),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            is_active: r.is_active,
            notes: r.notes.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionView {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub provider_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub kind: ExceptionKind,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub reason: Option<String>,
    pub created_by_user_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&AvailabilityException> for ExceptionView {
    fn from(e: &AvailabilityException) -> Self {
        Self {
            id: e.id,
            clinic_id: e.clinic_id,
            provider_id: e.provider_id,
            date: e.date,
            kind: ExceptionKind::parse(&e.kind).unwrap_or(ExceptionKind::Unavailable),
            start_time: e.start_time.clone(),
            end_time: e.end_time.clone(),
            reason: e.reason.clone(),
            created_by_user_id: e.created_by_user_id,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeOffView {
    pub id: Uuid,
    pub provider_id: Uuid,
    /// `null`: away from every clinic.
    pub clinic_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub reason: Option<String>,
    pub status: TimeOffStatus,
    pub requested_by_user_id: Option<Uuid>,
    pub decided_by_user_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&TimeOff> for TimeOffView {
    fn from(t: &TimeOff) -> Self {
        Self {
            id: t.id,
            provider_id: t.provider_id,
            clinic_id: t.clinic_id,
            starts_at: t.starts_at,
            ends_at: t.ends_at,
            reason: t.reason.clone(),
            status: TimeOffStatus::parse(&t.status).unwrap_or(TimeOffStatus::Cancelled),
            requested_by_user_id: t.requested_by_user_id,
            decided_by_user_id: t.decided_by_user_id,
            decided_at: t.decided_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientView {
    pub id: Uuid,
    /// The patient's own account, when they have one.
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<Date>,
    pub gender: Option<String>,
    pub preferred_language: String,
    pub notification_opt_out: bool,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    pub push_opt_out: bool,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Patient> for PatientView {
    fn from(p: &Patient) -> Self {
        Self {
            id: p.id,
            user_id: p.user_id,
            name: p.name.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            date_of_birth: p.date_of_birth,
            gender: p.gender.clone(),
            preferred_language: p.preferred_language.clone(),
            notification_opt_out: p.notification_opt_out,
            email_opt_out: p.channel_opt_outs.email,
            sms_opt_out: p.channel_opt_outs.sms,
            push_opt_out: p.channel_opt_outs.push,
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: Uuid,
    /// `APT-YYYYMMDD-NNN`, unique per clinic.
    pub number: String,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub patient_phone: Option<String>,
    pub provider_id: Uuid,
    pub provider_name: String,
    pub service_id: Option<Uuid>,
    pub service_name: Option<String>,
    pub status: AppointmentStatusName,
    pub priority: PriorityName,
    pub mode: ConsultationMode,
    #[schema(value_type = String, format = DateTime)]
    pub start_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end_at: Timestamp,
    /// The start on the clinic's wall clock, `YYYY-MM-DDTHH:MM`.
    pub local_start: String,
    pub local_end: String,
    /// The clinic-local date (what the daily cap counts).
    #[schema(value_type = String, format = Date)]
    pub local_date: Date,
    /// The time the provider is held, the service's buffers included.
    #[schema(value_type = String, format = DateTime)]
    pub busy_start_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub busy_end_at: Timestamp,
    /// An emergency booked beyond the provider's daily cap.
    pub over_daily_cap: bool,
    pub reason_for_visit: Option<String>,
    pub notes: Option<String>,
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    /// Until when an unpaid booking holds its slot.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub hold_expires_at: Option<Timestamp>,
    pub assigned_from_waitlist: bool,
    pub booked_by_user_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_in_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
    pub cancelled_by: Option<Uuid>,
    pub cancellation_reason: Option<String>,
    /// The lifecycle actions open from the current status.
    pub allowed_actions: Vec<ActionName>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl AppointmentView {
    pub fn new(l: &AppointmentListing, tz: &TimeZone) -> Self {
        let a = &l.appointment;
        Self {
            id: a.id,
            number: a.number.clone(),
            clinic_id: a.clinic_id,
            patient_id: a.patient_id,
            patient_name: l.patient_name.clone(),
            patient_phone: l.patient_phone.clone(),
            provider_id: a.provider_id,
            provider_name: l.provider_name.clone(),
            service_id: a.service_id,
            service_name: l.service_name.clone(),
            status: a.status.into(),
            priority: a.priority.into(),
            mode: ConsultationMode::parse(&a.mode).unwrap_or(ConsultationMode::InPerson),
            start_at: a.start_at,
            end_at: a.end_at,
            local_start: local(a.start_at, tz),
            local_end: local(a.end_at, tz),
            local_date: a.local_date,
            busy_start_at: a.busy_start_at,
            busy_end_at: a.busy_end_at,
            over_daily_cap: a.over_daily_cap,
            reason_for_visit: a.reason_for_visit.clone(),
            notes: a.notes.clone(),
            fee_minor: a.fee_minor,
            currency: a.currency.clone(),
            hold_expires_at: a.hold_expires_at,
            assigned_from_waitlist: a.assigned_from_waitlist,
            booked_by_user_id: a.booked_by_user_id,
            confirmed_at: a.confirmed_at,
            checked_in_at: a.checked_in_at,
            started_at: a.started_at,
            completed_at: a.completed_at,
            cancelled_at: a.cancelled_at,
            cancelled_by: a.cancelled_by,
            cancellation_reason: a.cancellation_reason.clone(),
            allowed_actions: allowed_actions(a.status)
                .into_iter()
                .map(Into::into)
                .collect(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A clinic's booking rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingSettingsView {
    pub clinic_id: Uuid,
    /// Starts are offered every this many minutes from midnight, clinic time.
    pub slot_granularity_minutes: u32,
    /// The earliest start is this long after now.
    pub min_notice_minutes: u32,
    /// Bookings open this many days ahead (a rolling window).
    pub booking_horizon_days: u32,
    /// Patients cancel or reschedule only until this long before the start.
    pub cancellation_notice_minutes: u32,
    pub patient_self_booking: bool,
    /// New bookings wait in `pending_payment` until paid.
    pub requires_prepayment: bool,
    /// How long an unpaid booking holds its slot.
    pub payment_hold_minutes: u32,
    /// The day-before reminder, and how long before the start it goes out.
    pub reminder_24h_enabled: bool,
    pub reminder_24h_lead_minutes: u32,
    /// The same-day reminder.
    pub reminder_2h_enabled: bool,
    pub reminder_2h_lead_minutes: u32,
    /// How long a waitlist offer holds its slot for the patient to accept.
    pub waitlist_offer_ttl_minutes: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
    pub updated_by_user_id: Option<Uuid>,
}

impl From<&BookingSettings> for BookingSettingsView {
    fn from(s: &BookingSettings) -> Self {
        Self {
            clinic_id: s.clinic_id,
            slot_granularity_minutes: s.slot_granularity_minutes,
            min_notice_minutes: s.min_notice_minutes,
            booking_horizon_days: s.booking_horizon_days,
            cancellation_notice_minutes: s.cancellation_notice_minutes,
            patient_self_booking: s.patient_self_booking,
            requires_prepayment: s.requires_prepayment,
            payment_hold_minutes: s.payment_hold_minutes,
            reminder_24h_enabled: s.reminder_24h_enabled,
            reminder_24h_lead_minutes: s.reminder_24h_lead_minutes,
            reminder_2h_enabled: s.reminder_2h_enabled,
            reminder_2h_lead_minutes: s.reminder_2h_lead_minutes,
            waitlist_offer_ttl_minutes: s.waitlist_offer_ttl_minutes,
            updated_at: s.updated_at,
            updated_by_user_id: s.updated_by_user_id,
        }
    }
}

macro_rules! page_type {
    ($name:ident, $item:ty) => {
        /// One page of results; pass `next_cursor` as `cursor` for the next page (null at the end).
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next_cursor: Option<String>,
        }
    };
}
page_type!(ProviderPage, ProviderView);
page_type!(PatientPage, PatientView);
page_type!(AppointmentPage, AppointmentView);
