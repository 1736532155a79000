//! What the API shows: response bodies built from store rows, and shared request pieces.
//! Secrets (hashes, TOTP secrets, message bodies) have no field here, so they cannot leak.

use carebook_domain::Role;
use carebook_store::models::{Clinic, ExternalIdentity, User};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A role name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    SuperAdmin,
    Admin,
    Moderator,
    Support,
    Receptionist,
    Provider,
    Pharmacist,
    Patient,
    FamilyMember,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Role {
        match r {
            RoleName::SuperAdmin => Role::SuperAdmin,
            RoleName::Admin => Role::Admin,
            RoleName::Moderator => Role::Moderator,
            RoleName::Support => Role::Support,
            RoleName::Receptionist => Role::Receptionist,
            RoleName::Provider => Role::Provider,
            RoleName::Pharmacist => Role::Pharmacist,
            RoleName::Patient => Role::Patient,
            RoleName::FamilyMember => Role::FamilyMember,
        }
    }
}

impl From<Role> for RoleName {
    fn from(r: Role) -> RoleName {
        match r {
            Role::SuperAdmin => RoleName::SuperAdmin,
            Role::Admin => RoleName::Admin,
            Role::Moderator => RoleName::Moderator,
            Role::Support => RoleName::Support,
            Role::Receptionist => RoleName::Receptionist,
            Role::Provider => RoleName::Provider,
            Role::Pharmacist => RoleName::Pharmacist,
            Role::Patient => RoleName::Patient,
            Role::FamilyMember => RoleName::FamilyMember,
        }
    }
}

/// A language for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum LanguageCode {
    #[default]
    En,
    Sw,
}

impl LanguageCode {
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageCode::En => "en",
            LanguageCode::Sw => "sw",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: RoleName,
    pub clinic_id: Option<Uuid>,
    pub is_active: bool,
    pub email_verified: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login_at: Option<Timestamp>,
    /// Set while the account is locked after repeated failed sign-ins.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    pub mfa_enabled: bool,
    pub preferred_language: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deactivated_at: Option<Timestamp>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            phone: u.phone.clone(),
            role: u.role.into(),
            clinic_id: u.clinic_id,
            is_active: u.is_active,
            email_verified: u.email_verified_at.is_some(),
            last_login_at: u.last_login_at,
            locked_until: u.locked_until,
            mfa_enabled: u.mfa_enabled,
            preferred_language: u.preferred_language.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            deactivated_at: u.deactivated_at,
        }
    }
}

/// Clinic status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClinicStatus {
    Active,
    Inactive,
    TemporarilyClosed,
    PermanentlyClosed,
    Suspended,
}

impl ClinicStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClinicStatus::Active => "active",
            ClinicStatus::Inactive => "inactive",
            ClinicStatus::TemporarilyClosed => "temporarily_closed",
            ClinicStatus::PermanentlyClosed => "permanently_closed",
            ClinicStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ClinicStatus::Active,
            ClinicStatus::Inactive,
            ClinicStatus::TemporarilyClosed,
            ClinicStatus::PermanentlyClosed,
            ClinicStatus::Suspended,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// IANA time zone, e.g. `Africa/Nairobi`.
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
    pub status: ClinicStatus,
    pub patient_self_registration: bool,
    /// ISO 4217 code; amounts are integer minor units of it.
    pub currency: String,
    /// When the clinic's doors are open (providers' bookable hours are their own schedules).
    pub opening_hours: Vec<OpeningHoursView>,
    pub amenities: Vec<String>,
    pub accepted_insurance: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Clinic> for ClinicView {
    fn from(c: &Clinic) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            timezone: c.timezone.clone(),
            address_line: c.address_line.clone(),
            city: c.city.clone(),
            region: c.region.clone(),
            country: c.country.clone(),
            postal_code: c.postal_code.clone(),
            latitude: c.latitude,
            longitude: c.longitude,
            phone: c.phone.clone(),
            email: c.email.clone(),
            website: c.website.clone(),
            status: ClinicStatus::parse(&c.status).unwrap_or(ClinicStatus::Inactive),
            patient_self_registration: c.patient_self_registration,
            currency: c.currency.clone(),
            opening_hours: c
                .profile
                .opening_hours
                .iter()
                .map(|o| OpeningHoursView {
                    day_of_week: o.day_of_week,
                    opens: o.opens.clone(),
                    closes: o.closes.clone(),
                })
                .collect(),
            amenities: c.profile.amenities.clone(),
            accepted_insurance: c.profile.accepted_insurance.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One opening span of a weekday, clock times in the clinic's zone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHoursView {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub day_of_week: u8,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "08:00")]
    pub opens: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub closes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// Who vouches for the identity, e.g. `firebase` or an OpenID issuer URL.
    pub issuer: String,
    /// The identity's id at the issuer (Firebase uid, OpenID `sub`).
    pub subject: String,
    pub email: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl From<&ExternalIdentity> for IdentityView {
    fn from(e: &ExternalIdentity) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            issuer: e.issuer.clone(),
            subject: e.subject.clone(),
            email: e.email.clone(),
            created_at: e.created_at,
            last_used_at: e.last_used_at,
        }
    }
}

/// Pagination query: `limit` (1–200, default 50) and the `cursor` from the previous page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Opaque cursor from `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u32, crate::error::ApiError> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n),
            Some(_) => Err(crate::error::ApiError::invalid_parameter(
                "limit",
                "must be between 1 and 200",
            )),
        }
    }
    /// The position after which the page starts, parsed from the opaque cursor.
    pub fn after<K: std::str::FromStr>(&self) -> Result<Option<K>, crate::error::ApiError> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse::<K>().map_err(|_| {
                    crate::error::ApiError::invalid_parameter(
                        "cursor",
                        "is not a cursor from a previous page",
                    )
                })
            })
            .transpose()
    }
}

/// Lists fetch `limit + 1` rows: the extra one only says whether another page follows. Returns
/// the page and the cursor of the next one (the key of the page's last row).
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(key) } else { None };
    (rows, next)
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
page_type!(UserPage, UserView);
page_type!(ClinicPage, ClinicView);
page_type!(AuditPage, crate::routes::audit::AuditEventView);

/// Distinguishes an absent field (leave unchanged) from `null` (clear it) in PATCH bodies.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
