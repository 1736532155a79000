//! The rows the store reads and writes. Secrets in them (password hashes, TOTP secrets) never
//! appear in `Debug` output, so a stray `tracing::debug!(?user)` cannot leak them.

use carebook_domain::Role;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::fmt;
use uuid::Uuid;

#[derive(Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: Role,
    pub clinic_id: Option<Uuid>,
    pub is_active: bool,
    pub email_verified_at: Option<Timestamp>,
    pub last_login_at: Option<Timestamp>,
    pub failed_login_attempts: u32,
    pub locked_until: Option<Timestamp>,
    pub mfa_enabled: bool,
    #[serde(skip)]
    pub mfa_secret: Option<String>,
    #[serde(skip)]
    pub mfa_last_used_step: Option<i64>,
    pub preferred_language: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deactivated_at: Option<Timestamp>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("clinic_id", &self.clinic_id)
            .field("is_active", &self.is_active)
            .field("mfa_enabled", &self.mfa_enabled)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A new account with the counters at rest.
    pub fn new(
        id: Uuid,
        email: String,
        name: String,
        role: Role,
        clinic_id: Option<Uuid>,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            email,
            name,
            phone: None,
            password_hash: None,
            role,
            clinic_id,
            is_active: true,
            email_verified_at: None,
            last_login_at: None,
            failed_login_attempts: 0,
            locked_until: None,
            mfa_enabled: false,
            mfa_secret: None,
            mfa_last_used_step: None,
            preferred_language: "en".to_owned(),
            created_at: now,
            updated_at: now,
            deactivated_at: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Clinic {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub status: String,
    pub patient_self_registration: bool,
    pub currency: String,
    /// What the clinic shows about itself beyond its address.
    pub profile: ClinicProfile,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Clinic {
    /// A new active clinic with no address or contacts, and patient self-registration off.
    pub fn new(name: &str, slug: &str, timezone: &str, currency: &str, now: Timestamp) -> Self {
        Self {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            slug: slug.to_owned(),
            timezone: timezone.to_owned(),
            address_line: None,
            city: None,
            region: None,
            country: None,
            postal_code: None,
            latitude: None,
            longitude: None,
            phone: None,
            email: None,
            website: None,
            status: "active".to_owned(),
            patient_self_registration: false,
            currency: currency.to_owned(),
            profile: ClinicProfile::default(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// The clinic's public opening hours (what its door says; providers' bookable hours are their
/// availability rules), amenities and accepted insurance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ClinicProfile {
    pub opening_hours: Vec<OpeningHours>,
    pub amenities: Vec<String>,
    pub accepted_insurance: Vec<String>,
}

/// One opening span of a weekday, clock times `HH:MM` in the clinic's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OpeningHours {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub day_of_week: u8,
    pub opens: String,
    pub closes: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Patient {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<Date>,
    pub gender: Option<String>,
    pub preferred_language: String,
    pub notification_opt_out: bool,
    /// Channels the patient turned off one by one (`notification_opt_out` turns off all).
    pub channel_opt_outs: ChannelOptOuts,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A patient's per-channel opt-outs (migration 0007).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChannelOptOuts {
    pub email: bool,
    pub sms: bool,
    pub push: bool,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::EmailVerification => "email_verification",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: TokenPurpose,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExternalIdentity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A message in the outbox. The notification workers send it; until then the row is the
/// observable result of, say, a password reset request.
#[derive(Clone, Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub clinic_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
    pub recipient_patient_id: Option<Uuid>,
    pub channel: String,
    pub kind: String,
    pub status: String,
    pub destination: Option<String>,
    pub subject: Option<String>,
    #[serde(skip)]
    pub body: String,
    pub body_preview: String,
    /// The appointment or waitlist entry the message is about.
    pub appointment_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub idempotency_key: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body can hold a one-time link; keep it out of logs.
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Notification {
    pub const PREVIEW_CHARS: usize = 500;

    #[allow(clippy::too_many_arguments)]
    pub fn pending_email(
        id: Uuid,
        recipient_user_id: Uuid,
        destination: &str,
        kind: &str,
        subject: String,
        body: String,
        idempotency_key: String,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            clinic_id: None,
            recipient_user_id: Some(recipient_user_id),
            recipient_patient_id: None,
            channel: "email".to_owned(),
            kind: kind.to_owned(),
            status: "pending".to_owned(),
            destination: Some(destination.to_owned()),
            subject: Some(subject),
            body_preview: body.chars().take(Self::PREVIEW_CHARS).collect(),
            body,
            appointment_id: None,
            waitlist_entry_id: None,
            attempts: 0,
            last_error: None,
            idempotency_key,
            created_at: now,
            sent_at: None,
            read_at: None,
        }
    }
}

/// A page request: items after `after` (exclusive) in ascending key order.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<K> {
    pub after: Option<K>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub clinic_id: Option<Uuid>,
    pub role: Option<Role>,
    /// Case-insensitive substring of name or email.
    pub query: Option<String>,
    pub include_inactive: bool,
}

/// Patients a caller may look for: at one clinic (or anywhere), matching a text.
#[derive(Debug, Clone, Default)]
pub struct PatientFilter {
    /// Only patients registered at this clinic.
    pub clinic_id: Option<Uuid>,
    /// Case-insensitive substring of name or email, or a substring of the phone number.
    pub query: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut u = User::new(
            Uuid::nil(),
            "a@b.io".into(),
            "A".into(),
            Role::Admin,
            None,
            now,
        );
        u.password_hash = Some("$argon2id$secret-hash".into());
        u.mfa_secret = Some("TOTPSECRETBASE32".into());
        let shown = format!("{u:?}");
        assert!(
            !shown.contains("secret-hash") && !shown.contains("TOTPSECRET"),
            "{shown}"
        );
        let n = Notification::pending_email(
            Uuid::nil(),
            Uuid::nil(),
            "a@b.io",
            "password_reset",
            "S".into(),
            "token=abc123".into(),
            "k".into(),
            now,
        );
        assert!(!format!("{n:?}").contains("abc123"));
    }
}
