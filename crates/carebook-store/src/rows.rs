//! Reading rows the same way on both backends. Each backend implements [`RowExt`] for its row
//! type (PostgreSQL reads `timestamptz`, SQLite reads epoch microseconds); the mapping from a
//! row to a model is then written once.

use crate::error::{StoreError, StoreResult};
use crate::models::*;
use crate::scheduling::*;
use carebook_domain::Role;
use carebook_domain::audit::{AuditRecord, ChainedRecord};
use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::Value;
use uuid::Uuid;

pub(crate) trait RowExt {
    fn uuid(&self, col: &str) -> StoreResult<Uuid>;
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>>;
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, col: &str) -> StoreResult<bool>;
    fn opt_float(&self, col: &str) -> StoreResult<Option<f64>>;
    fn ts(&self, col: &str) -> StoreResult<Timestamp>;
    fn opt_ts(&self, col: &str) -> StoreResult<Option<Timestamp>>;
    fn opt_date(&self, col: &str) -> StoreResult<Option<Date>>;
    fn opt_json(&self, col: &str) -> StoreResult<Option<Value>>;
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

pub(crate) fn user<R: RowExt>(r: &R) -> StoreResult<User> {
    Ok(User {
        id: r.uuid("id")?,
        email: r.text("email")?,
        name: r.text("name")?,
        phone: r.opt_text("phone")?,
        password_hash: r.opt_text("password_hash")?,
        role: r
            .text("role")?
            .parse::<Role>()
            .map_err(StoreError::corrupt)?,
        clinic_id: r.opt_uuid("clinic_id")?,
        is_active: r.flag("is_active")?,
        email_verified_at: r.opt_ts("email_verified_at")?,
        last_login_at: r.opt_ts("last_login_at")?,
        failed_login_attempts: count(r.int("failed_login_attempts")?),
        locked_until: r.opt_ts("locked_until")?,
        mfa_enabled: r.flag("mfa_enabled")?,
        mfa_secret: r.opt_text("mfa_secret")?,
        mfa_last_used_step: r.opt_int("mfa_last_used_step")?,
        preferred_language: r.text("preferred_language")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        deactivated_at: r.opt_ts("deactivated_at")?,
    })
}

pub(crate) fn clinic<R: RowExt>(r: &R) -> StoreResult<Clinic> {
    Ok(Clinic {
        id: r.uuid("id")?,
        name: r.text("name")?,
        slug: r.text("slug")?,
        timezone: r.text("timezone")?,
        address_line: r.opt_text("address_line")?,
        city: r.opt_text("city")?,
        region: r.opt_text("region")?,
        country: r.opt_text("country")?,
        postal_code: r.opt_text("postal_code")?,
        latitude: r.opt_float("latitude")?,
        longitude: r.opt_float("longitude")?,
        phone: r.opt_text("phone")?,
        email: r.opt_text("email")?,
        website: r.opt_text("website")?,
        status: r.text("status")?,
        patient_self_registration: r.flag("patient_self_registration")?,
        currency: r.text("currency")?,
        profile: ClinicProfile {
            opening_hours: json_of(r, "opening_hours")?,
            amenities: json_of(r, "amenities")?,
            accepted_insurance: json_of(r, "accepted_insurance")?,
        },
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// A JSON column decoded into `T`; a missing value is `T::default()`.
pub(crate) fn json_of<R: RowExt, T: serde::de::DeserializeOwned + Default>(
    r: &R,
    col: &str,
) -> StoreResult<T> {
    match r.opt_json(col)? {
        Some(v) => serde_json::from_value(v).map_err(StoreError::corrupt),
        None => Ok(T::default()),
    }
}

fn opt_count<R: RowExt>(r: &R, col: &str) -> StoreResult<Option<u32>> {
    r.opt_int(col)?
        .map(u32::try_from)
        .transpose()
        .map_err(StoreError::corrupt)
}

pub(crate) fn patient<R: RowExt>(r: &R) -> StoreResult<Patient> {
    Ok(Patient {
        id: r.uuid("id")?,
        user_id: r.opt_uuid("user_id")?,
        name: r.text("name")?,
        email: r.opt_text("email")?,
        phone: r.opt_text("phone")?,
        date_of_birth: r.opt_date("date_of_birth")?,
        gender: r.opt_text("gender")?,
        preferred_language: r.text("preferred_language")?,
        notification_opt_out: r.flag("notification_opt_out")?,
        channel_opt_outs: ChannelOptOuts {
            email: r.flag("email_opt_out")?,
            sms: r.flag("sms_opt_out")?,
            push: r.flag("push_opt_out")?,
        },
        is_active: r.flag("is_active")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) fn refresh_token<R: RowExt>(r: &R) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        family_id: r.uuid("family_id")?,
        token_hash: r.text("token_hash")?,
        created_at: r.ts("created_at")?,
        expires_at: r.ts("expires_at")?,
        used_at: r.opt_ts("used_at")?,
        revoked_at: r.opt_ts("revoked_at")?,
        revoked_reason: r.opt_text("revoked_reason")?,
        ip: r.opt_text("ip")?,
        user_agent: r.opt_text("user_agent")?,
    })
}

pub(crate) fn auth_token<R: RowExt>(r: &R) -> StoreResult<AuthToken> {
    let purpose = match r.text("purpose")?.as_str() {
        "password_reset" => TokenPurpose::PasswordReset,
        "email_verification" => TokenPurpose::EmailVerification,
        other => return Err(StoreError::corrupt(format!("token purpose {other}"))),
    };
    Ok(AuthToken {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        purpose,
        token_hash: r.text("token_hash")?,
        created_at: r.ts("created_at")?,
        expires_at: r.ts("expires_at")?,
        used_at: r.opt_ts("used_at")?,
    })
}

pub(crate) fn external_identity<R: RowExt>(r: &R) -> StoreResult<ExternalIdentity> {
    Ok(ExternalIdentity {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        issuer: r.text("issuer")?,
        subject: r.text("subject")?,
        email: r.opt_text("email")?,
        created_at: r.ts("created_at")?,
        last_used_at: r.opt_ts("last_used_at")?,
    })
}

pub(crate) fn notification<R: RowExt>(r: &R) -> StoreResult<Notification> {
    Ok(Notification {
        id: r.uuid("id")?,
        clinic_id: r.opt_uuid("clinic_id")?,
        recipient_user_id: r.opt_uuid("recipient_user_id")?,
        recipient_patient_id: r.opt_uuid("recipient_patient_id")?,
        channel: r.text("channel")?,
        kind: r.text("type")?,
        status: r.text("status")?,
        destination: r.opt_text("destination")?,
        subject: r.opt_text("subject")?,
        body: r.text("body")?,
        body_preview: r.text("body_preview")?,
        appointment_id: r.opt_uuid("appointment_id")?,
        waitlist_entry_id: r.opt_uuid("waitlist_entry_id")?,
        attempts: count(r.int("attempts")?),
        last_error: r.opt_text("last_error")?,
        idempotency_key: r.text("idempotency_key")?,
        created_at: r.ts("created_at")?,
        sent_at: r.opt_ts("sent_at")?,
        read_at: r.opt_ts("read_at")?,
    })
}

fn date_of<R: RowExt>(r: &R, col: &str) -> StoreResult<Date> {
    r.opt_date(col)?
        .ok_or_else(|| StoreError::corrupt(format!("{col} is null")))
}

pub(crate) fn appointment<R: RowExt>(r: &R) -> StoreResult<Appointment> {
    let status = r.text("status")?;
    let priority = r.text("priority")?;
    Ok(Appointment {
        id: r.uuid("id")?,
        clinic_id: r.uuid("clinic_id")?,
        number: r.text("number")?,
        patient_id: r.uuid("patient_id")?,
        provider_id: r.uuid("provider_id")?,
        service_id: r.opt_uuid("service_id")?,
        status: AppointmentStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("status {status}")))?,
        priority: Priority::parse(&priority)
            .ok_or_else(|| StoreError::corrupt(format!("priority {priority}")))?,
        mode: r.text("mode")?,
        start_at: r.ts("start_at")?,
        end_at: r.ts("end_at")?,
        busy_start_at: r.ts("busy_start_at")?,
        busy_end_at: r.ts("busy_end_at")?,
        local_date: date_of(r, "local_date")?,
        over_daily_cap: r.flag("over_daily_cap")?,
        reason_for_visit: r.opt_text("reason_for_visit")?,
        notes: r.opt_text("notes")?,
        fee_minor: r.opt_int("fee_minor")?,
        currency: r.opt_text("currency")?,
        hold_expires_at: r.opt_ts("hold_expires_at")?,
        assigned_from_waitlist: r.flag("assigned_from_waitlist")?,
        booked_by_user_id: r.opt_uuid("booked_by_user_id")?,
        confirmed_at: r.opt_ts("confirmed_at")?,
        checked_in_at: r.opt_ts("checked_in_at")?,
        started_at: r.opt_ts("started_at")?,
        completed_at: r.opt_ts("completed_at")?,
        cancelled_at: r.opt_ts("cancelled_at")?,
        cancelled_by: r.opt_uuid("cancelled_by")?,
        cancellation_reason: r.opt_text("cancellation_reason")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) fn waitlist_entry<R: RowExt>(r: &R) -> StoreResult<crate::waitlist::WaitlistEntry> {
    let status = r.text("status")?;
    let priority = r.text("priority")?;
    Ok(crate::waitlist::WaitlistEntry {
        id: r.uuid("id")?,
        clinic_id: r.uuid("clinic_id")?,
        patient_id: r.uuid("patient_id")?,
        service_id: r.uuid("service_id")?,
        provider_id: r.opt_uuid("provider_id")?,
        mode: r.opt_text("mode")?,
        requested_from: r.opt_date("requested_from")?,
        requested_to: r.opt_date("requested_to")?,
        priority: Priority::parse(&priority)
            .ok_or_else(|| StoreError::corrupt(format!("priority {priority}")))?,
        position: count_of(r, "position")?,
        notes: r.opt_text("notes")?,
        status: carebook_domain::waitlist::EntryStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("waitlist status {status}")))?,
        appointment_id: r.opt_uuid("appointment_id")?,
        created_by_user_id: r.opt_uuid("created_by_user_id")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        assigned_at: r.opt_ts("assigned_at")?,
        closed_at: r.opt_ts("closed_at")?,
        close_reason: r.opt_text("close_reason")?,
    })
}

pub(crate) fn waitlist_offer<R: RowExt>(r: &R) -> StoreResult<crate::waitlist::WaitlistOffer> {
    let status = r.text("status")?;
    Ok(crate::waitlist::WaitlistOffer {
        id: r.uuid("id")?,
        entry_id: r.uuid("entry_id")?,
        appointment_id: r.uuid("appointment_id")?,
        provider_id: r.uuid("provider_id")?,
        start_at: r.ts("start_at")?,
        end_at: r.ts("end_at")?,
        status: carebook_domain::waitlist::OfferStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("offer status {status}")))?,
        offered_at: r.ts("offered_at")?,
        expires_at: r.ts("expires_at")?,
        responded_at: r.opt_ts("responded_at")?,
    })
}

pub(crate) fn job<R: RowExt>(r: &R) -> StoreResult<crate::jobs::Job> {
    let status = r.text("status")?;
    Ok(crate::jobs::Job {
        id: r.uuid("id")?,
        kind: r.text("kind")?,
        payload: r.opt_json("payload")?.unwrap_or(Value::Null),
        idempotency_key: r.text("idempotency_key")?,
        status: crate::jobs::JobStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("job status {status}")))?,
        run_at: r.ts("run_at")?,
        attempts: count_of(r, "attempts")?,
        max_attempts: count_of(r, "max_attempts")?,
        locked_by: r.opt_text("locked_by")?,
        locked_until: r.opt_ts("locked_until")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        finished_at: r.opt_ts("finished_at")?,
    })
}

pub(crate) fn booked_span<R: RowExt>(r: &R) -> StoreResult<BookedSpan> {
    Ok(BookedSpan {
        id: r.uuid("id")?,
        provider_id: r.uuid("provider_id")?,
        start_at: r.ts("start_at")?,
        busy_start_at: r.ts("busy_start_at")?,
        busy_end_at: r.ts("busy_end_at")?,
    })
}

pub(crate) fn provider<R: RowExt>(r: &R) -> StoreResult<Provider> {
    Ok(Provider {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        title: r.opt_text("title")?,
        bio: r.opt_text("bio")?,
        photo_url: r.opt_text("photo_url")?,
        license_number: r.opt_text("license_number")?,
        registration_number: r.opt_text("registration_number")?,
        practice_start_year: r
            .opt_int("practice_start_year")?
            .map(i32::try_from)
            .transpose()
            .map_err(StoreError::corrupt)?,
        qualifications: json_of(r, "qualifications")?,
        languages: json_of(r, "languages")?,
        default_fee_minor: r.opt_int("default_fee_minor")?,
        currency: r.opt_text("currency")?,
        default_duration_minutes: count_of(r, "default_duration_minutes")?,
        emergency_enabled: r.flag("emergency_enabled")?,
        max_daily_appointments: count_of(r, "max_daily_appointments")?,
        status: r.text("status")?,
        verification_status: r.text("verification_status")?,
        is_active: r.flag("is_active")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn count_of<R: RowExt>(r: &R, col: &str) -> StoreResult<u32> {
    u32::try_from(r.int(col)?).map_err(StoreError::corrupt)
}

pub(crate) fn service<R: RowExt>(r: &R) -> StoreResult<Service> {
    Ok(Service {
        id: r.uuid("id")?,
        clinic_id: r.uuid("clinic_id")?,
        name: r.text("name")?,
        description: r.opt_text("description")?,
        category: r.opt_text("category")?,
        duration_minutes: count_of(r, "duration_minutes")?,
        buffer_before_minutes: count_of(r, "buffer_before_minutes")?,
        buffer_after_minutes: count_of(r, "buffer_after_minutes")?,
        fee_minor: r.opt_int("fee_minor")?,
        currency: r.opt_text("currency")?,
        billing_code: r.opt_text("billing_code")?,
        required_specialization_id: r.opt_uuid("required_specialization_id")?,
        modes: json_of(r, "modes")?,
        is_active: r.flag("is_active")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// A provider_clinics row; `p` is the column prefix (`pc_` when read beside a provider row).
pub(crate) fn provider_clinic_with<R: RowExt>(r: &R, p: &str) -> StoreResult<ProviderClinic> {
    let c = |name: &str| format!("{p}{name}");
    Ok(ProviderClinic {
        id: r.uuid(&c("id"))?,
        provider_id: r.uuid(&c("provider_id"))?,
        clinic_id: r.uuid(&c("clinic_id"))?,
        status: r.text(&c("status"))?,
        is_primary: r.flag(&c("is_primary"))?,
        department: r.opt_text(&c("department"))?,
        designation: r.opt_text(&c("designation"))?,
        consultation_fee_minor: r.opt_int(&c("consultation_fee_minor"))?,
        currency: r.opt_text(&c("currency"))?,
        default_duration_minutes: opt_count(r, &c("default_duration_minutes"))?,
        consultation_modes: json_of(r, &c("consultation_modes"))?,
        booking_enabled: r.flag(&c("booking_enabled"))?,
        accepts_emergencies: r.flag(&c("accepts_emergencies"))?,
        max_daily_appointments: opt_count(r, &c("max_daily_appointments"))?,
        started_on: date_of(r, &c("started_on"))?,
        ended_on: r.opt_date(&c("ended_on"))?,
        created_at: r.ts(&c("created_at"))?,
        updated_at: r.ts(&c("updated_at"))?,
    })
}

/// A provider_clinics row read with the `pc_` prefix beside a provider row.
pub(crate) fn provider_clinic<R: RowExt>(r: &R) -> StoreResult<ProviderClinic> {
    provider_clinic_with(r, "pc_")
}

pub(crate) fn specialization<R: RowExt>(r: &R) -> StoreResult<Specialization> {
    Ok(Specialization {
        id: r.uuid("id")?,
        name: r.text("name")?,
        parent_id: r.opt_uuid("parent_id")?,
        description: r.opt_text("description")?,
        is_active: r.flag("is_active")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) fn provider_service<R: RowExt>(r: &R) -> StoreResult<ProviderService> {
    Ok(ProviderService {
        provider_id: r.uuid("provider_id")?,
        service_id: r.uuid("service_id")?,
        fee_minor: r.opt_int("fee_minor")?,
        currency: r.opt_text("currency")?,
        is_active: r.flag("is_active")?,
        created_at: r.ts("created_at")?,
    })
}

/// A provider row joined with its account's `user_name`, `user_email`, `user_clinic_id`.
pub(crate) fn provider_listing<R: RowExt>(r: &R) -> StoreResult<ProviderListing> {
    Ok(ProviderListing {
        provider: provider(r)?,
        name: r.text("user_name")?,
        email: r.text("user_email")?,
        user_clinic_id: r.opt_uuid("user_clinic_id")?,
    })
}

/// An appointment row joined with `patient_name`, `patient_phone`, `provider_name` and
/// `service_name`.
pub(crate) fn appointment_listing<R: RowExt>(r: &R) -> StoreResult<AppointmentListing> {
    Ok(AppointmentListing {
        appointment: appointment(r)?,
        patient_name: r.text("patient_name")?,
        patient_phone: r.opt_text("patient_phone")?,
        provider_name: r.text("provider_name")?,
        service_name: r.opt_text("service_name")?,
    })
}

pub(crate) fn booking_settings<R: RowExt>(r: &R) -> StoreResult<BookingSettings> {
    Ok(BookingSettings {
        clinic_id: r.uuid("clinic_id")?,
        slot_granularity_minutes: count_of(r, "slot_granularity_minutes")?,
        min_notice_minutes: count_of(r, "min_notice_minutes")?,
        booking_horizon_days: count_of(r, "booking_horizon_days")?,
        cancellation_notice_minutes: count_of(r, "cancellation_notice_minutes")?,
        patient_self_booking: r.flag("patient_self_booking")?,
        requires_prepayment: r.flag("requires_prepayment")?,
        payment_hold_minutes: count_of(r, "payment_hold_minutes")?,
        reminder_24h_enabled: r.flag("reminder_24h_enabled")?,
        reminder_24h_lead_minutes: count_of(r, "reminder_24h_lead_minutes")?,
        reminder_2h_enabled: r.flag("reminder_2h_enabled")?,
        reminder_2h_lead_minutes: count_of(r, "reminder_2h_lead_minutes")?,
        waitlist_offer_ttl_minutes: count_of(r, "waitlist_offer_ttl_minutes")?,
        updated_at: Some(r.ts("updated_at")?),
        updated_by_user_id: r.opt_uuid("updated_by_user_id")?,
    })
}

pub(crate) fn availability_rule<R: RowExt>(r: &R) -> StoreResult<AvailabilityRule> {
    let breaks = match r.opt_json("breaks")? {
        Some(v) => serde_json::from_value(v).map_err(StoreError::corrupt)?,
        None => vec![],
    };
    Ok(AvailabilityRule {
        id: r.uuid("id")?,
        clinic_id: r.uuid("clinic_id")?,
        provider_id: r.uuid("provider_id")?,
        day_of_week: u8::try_from(r.int("day_of_week")?).map_err(StoreError::corrupt)?,
        start_time: r.text("start_time")?,
        end_time: r.text("end_time")?,
        breaks,
        is_working_day: r.flag("is_working_day")?,
        mode: r.text("mode")?,
        valid_from: r.opt_date("valid_from")?,
        valid_until: r.opt_date("valid_until")?,
        is_active: r.flag("is_active")?,
        notes: r.opt_text("notes")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) fn availability_exception<R: RowExt>(r: &R) -> StoreResult<AvailabilityException> {
    Ok(AvailabilityException {
        id: r.uuid("id")?,
        clinic_id: r.uuid("clinic_id")?,
        provider_id: r.uuid("provider_id")?,
        date: date_of(r, "date")?,
        kind: r.text("kind")?,
        start_time: r.opt_text("start_time")?,
        end_time: r.opt_text("end_time")?,
        reason: r.opt_text("reason")?,
        created_by_user_id: r.opt_uuid("created_by_user_id")?,
        created_at: r.ts("created_at")?,
    })
}

pub(crate) fn time_off<R: RowExt>(r: &R) -> StoreResult<TimeOff> {
    Ok(TimeOff {
        id: r.uuid("id")?,
        provider_id: r.uuid("provider_id")?,
        clinic_id: r.opt_uuid("clinic_id")?,
        starts_at: r.ts("starts_at")?,
        ends_at: r.ts("ends_at")?,
        reason: r.opt_text("reason")?,
        status: r.text("status")?,
        requested_by_user_id: r.opt_uuid("requested_by_user_id")?,
        decided_by_user_id: r.opt_uuid("decided_by_user_id")?,
        decided_at: r.opt_ts("decided_at")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) fn audit<R: RowExt>(r: &R) -> StoreResult<ChainedRecord> {
    Ok(ChainedRecord {
        seq: r.int("seq")?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
        record: AuditRecord {
            id: r.uuid("id")?,
            occurred_at: r.ts("occurred_at")?,
            actor_user_id: r.opt_uuid("actor_user_id")?,
            actor_role: r.opt_text("actor_role")?,
            action: r.text("action")?,
            entity_type: r.text("entity_type")?,
            entity_id: r.opt_text("entity_id")?,
            clinic_id: r.opt_uuid("clinic_id")?,
            old_values: r.opt_json("old_values")?,
            new_values: r.opt_json("new_values")?,
            ip: r.opt_text("ip")?,
            user_agent: r.opt_text("user_agent")?,
            request_id: r.opt_text("request_id")?,
        },
    })
}

/// Implements [`RowExt`] for a backend's row type given how it decodes times and dates.
macro_rules! impl_row_ext {
    ($row:ty, ts: $ts_ty:ty => $ts_fn:path, date: $date_ty:ty => $date_fn:path) => {
        impl $crate::rows::RowExt for $row {
            fn uuid(&self, col: &str) -> StoreResult<uuid::Uuid> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_uuid(&self, col: &str) -> StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn text(&self, col: &str) -> StoreResult<String> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> StoreResult<i64> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn flag(&self, col: &str) -> StoreResult<bool> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_float(&self, col: &str) -> StoreResult<Option<f64>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn ts(&self, col: &str) -> StoreResult<jiff::Timestamp> {
                let v: $ts_ty = sqlx::Row::try_get(self, col)?;
                $ts_fn(v)
            }
            fn opt_ts(&self, col: &str) -> StoreResult<Option<jiff::Timestamp>> {
                let v: Option<$ts_ty> = sqlx::Row::try_get(self, col)?;
                v.map($ts_fn).transpose()
            }
            fn opt_date(&self, col: &str) -> StoreResult<Option<jiff::civil::Date>> {
                let v: Option<$date_ty> = sqlx::Row::try_get(self, col)?;
                v.map($date_fn).transpose()
            }
            fn opt_json(&self, col: &str) -> StoreResult<Option<serde_json::Value>> {
                let v: Option<sqlx::types::Json<serde_json::Value>> =
                    sqlx::Row::try_get(self, col)?;
                Ok(v.map(|j| j.0))
            }
        }
    };
}
pub(crate) use impl_row_ext;
