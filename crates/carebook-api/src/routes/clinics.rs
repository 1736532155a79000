//! Clinics, the tenants of Carebook. Every signed-in user can read the directory; the network
//! creates clinics; a clinic's administrators change their own clinic.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::fields::{labels, line};
use crate::meta::{Change, RequestMeta};
use crate::schedule_views::BookingSettingsView;
use crate::state::AppState;
use crate::views::{
    ClinicPage, ClinicStatus, ClinicView, OpeningHoursView, PageParams, double_option, split_page,
};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::ValidationError;
use carebook_domain::identity::parse_slug;
use carebook_domain::schedule::parse_clock_span;
use carebook_store::models::{Clinic, ClinicProfile, OpeningHours, PageRequest};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clinics, create_clinic))
        .routes(routes!(get_clinic, update_clinic))
        .routes(routes!(get_booking_settings, update_booking_settings))
}

/// The clinic directory.
#[utoipa::path(get, path = "/api/v1/clinics", tag = "clinics", params(PageParams), responses((status = 200, body = ClinicPage)))]
async fn list_clinics(
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<ClinicPage>> {
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let clinics = state
        .store
        .read()
        .await?
        .list_clinics(
            None,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (clinics, next_cursor) = split_page(clinics, limit, |c| c.id.to_string());
    Ok(Json(ClinicPage {
        items: clinics.iter().map(ClinicView::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClinic {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// URL name: lower-case letters, digits and hyphens.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 63)]
    pub slug: String,
    /// IANA time zone, e.g. `Africa/Nairobi`.
    pub timezone: String,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[schema(min_length = 2, max_length = 2)]
    pub country: Option<String>,
    pub postal_code: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub status: Option<ClinicStatus>,
    pub patient_self_registration: Option<bool>,
    /// ISO 4217 code, default `USD`.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    #[serde(default)]
    pub opening_hours: Vec<OpeningHoursView>,
    #[serde(default)]
    pub amenities: Vec<String>,
    #[serde(default)]
    pub accepted_insurance: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClinic {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub address_line: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub website: Option<Option<String>>,
    pub status: Option<ClinicStatus>,
    pub patient_self_registration: Option<bool>,
    pub currency: Option<String>,
    pub opening_hours: Option<Vec<OpeningHoursView>>,
    pub amenities: Option<Vec<String>>,
    pub accepted_insurance: Option<Vec<String>>,
}

/// The clinic's opening hours, amenities and insurers, checked.
fn profile(
    hours: Vec<OpeningHoursView>,
    amenities: Vec<String>,
    insurance: Vec<String>,
    errors: &mut Vec<ValidationError>,
) -> ClinicProfile {
    let mut opening_hours = vec![];
    for h in hours {
        if !(1..=7).contains(&h.day_of_week) {
            errors.push(ValidationError::new(
                "opening_hours",
                "day_of_week must be 1 (Monday) to 7 (Sunday)",
            ));
        }
        if let Err(e) = parse_clock_span("opening_hours", &h.opens, &h.closes) {
            errors.push(e);
        }
        opening_hours.push(OpeningHours {
            day_of_week: h.day_of_week,
            opens: h.opens,
            closes: h.closes,
        });
    }
    opening_hours.sort_by(|a, b| (a.day_of_week, &a.opens).cmp(&(b.day_of_week, &b.opens)));
    ClinicProfile {
        opening_hours,
        amenities: labels("amenities", amenities, errors),
        accepted_insurance: labels("accepted_insurance", insurance, errors),
    }
}

/// Checks every field of a clinic after a create or an update, collecting all problems.
fn validate(c: &Clinic) -> Result<(), ApiError> {
    let mut errors = vec![];
    if c.name.trim().is_empty() || c.name.chars().count() > 200 {
        errors.push(ValidationError::new("name", "must be 1-200 characters"));
    }
    if let Err(e) = parse_slug("slug", &c.slug) {
        errors.push(e);
    }
    if jiff::tz::TimeZone::get(&c.timezone).is_err() {
        errors.push(ValidationError::new(
            "timezone",
            "must be an IANA time zone such as Africa/Nairobi",
        ));
    }
    if c.latitude
        .is_some_and(|v| !(-90.0..=90.0).contains(&v) || !v.is_finite())
    {
        errors.push(ValidationError::new(
            "latitude",
            "must be between -90 and 90",
        ));
    }
    if c.longitude
        .is_some_and(|v| !(-180.0..=180.0).contains(&v) || !v.is_finite())
    {
        errors.push(ValidationError::new(
            "longitude",
            "must be between -180 and 180",
        ));
    }
    if c.latitude.is_some() != c.longitude.is_some() {
        errors.push(ValidationError::new(
            "latitude",
            "latitude and longitude go together",
        ));
    }
    if c.currency.len() != 3 || !c.currency.chars().all(|ch| ch.is_ascii_uppercase()) {
        errors.push(ValidationError::new(
            "currency",
            "must be an ISO 4217 code such as KES or USD",
        ));
    }
    if let Some(country) = &c.country
        && (country.len() != 2 || !country.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        errors.push(ValidationError::new(
            "country",
            "must be an ISO 3166-1 alpha-2 code such as KE",
        ));
    }
    if let Some(email) = &c.email
        && let Err(e) = carebook_domain::Email::parse("email", email)
    {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Create a clinic.
#[utoipa::path(post, path = "/api/v1/clinics", tag = "clinics", request_body = CreateClinic, responses((status = 201, body = ClinicView)))]
async fn create_clinic(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<CreateClinic>,
) -> ApiResult<(StatusCode, Json<ClinicView>)> {
    let now = state.now();
    let mut errors = vec![];
    let clinic = Clinic {
        id: Uuid::now_v7(),
        name: b.name.trim().to_owned(),
        slug: b.slug.trim().to_owned(),
        timezone: b.timezone.trim().to_owned(),
        address_line: line("address_line", b.address_line, 300, &mut errors),
        city: line("city", b.city, 120, &mut errors),
        region: line("region", b.region, 120, &mut errors),
        country: line("country", b.country, 2, &mut errors).map(|c| c.to_uppercase()),
        postal_code: line("postal_code", b.postal_code, 20, &mut errors),
        latitude: b.latitude,
        longitude: b.longitude,
        phone: crate::routes::auth::parse_phone(b.phone.as_deref())
            .map_err(|e| errors.push(e))
            .ok()
            .flatten(),
        email: line("email", b.email, 254, &mut errors).map(|e| e.to_lowercase()),
        website: line("website", b.website, 300, &mut errors),
        status: b.status.unwrap_or(ClinicStatus::Active).as_str().to_owned(),
        patient_self_registration: b.patient_self_registration.unwrap_or(false),
        currency: b
            .currency
            .unwrap_or_else(|| "USD".into())
            .trim()
            .to_uppercase(),
        profile: ClinicProfile::default(),
        created_at: now,
        updated_at: now,
    };
    let mut clinic = clinic;
    clinic.profile = profile(
        b.opening_hours,
        b.amenities,
        b.accepted_insurance,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    validate(&clinic)?;
    let mut tx = state.store.write().await?;
    tx.insert_clinic(&clinic).await?;
    let change = Change::new("clinic.create", "clinic", Some(clinic.id))
        .clinic(Some(clinic.id))
        .new_values(&ClinicView::from(&clinic));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ClinicView::from(&clinic))))
}

/// One clinic.
#[utoipa::path(get, path = "/api/v1/clinics/{id}", tag = "clinics", params(("id" = Uuid, Path)), responses((status = 200, body = ClinicView)))]
async fn get_clinic(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ClinicView>> {
    let clinic = state
        .store
        .read()
        .await?
        .get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    Ok(Json(ClinicView::from(&clinic)))
}

/// Change a clinic's details or settings (clinic-bound administrators: their own clinic).
#[utoipa::path(patch, path = "/api/v1/clinics/{id}", tag = "clinics", params(("id" = Uuid, Path)), request_body = UpdateClinic, responses((status = 200, body = ClinicView)))]
async fn update_clinic(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateClinic>,
) -> ApiResult<Json<ClinicView>> {
    if !p.can_see_clinic(Some(id)) {
        return Err(ApiError::forbidden("you can only change your own clinic"));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut c = tx
        .get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let before = ClinicView::from(&c);
    let mut errors = vec![];
    if let Some(v) = b.name {
        c.name = v.trim().to_owned();
    }
    if let Some(v) = b.slug {
        c.slug = v.trim().to_owned();
    }
    if let Some(v) = b.timezone {
        c.timezone = v.trim().to_owned();
    }
    if let Some(v) = b.address_line {
        c.address_line = line("address_line", v, 300, &mut errors);
    }
    if let Some(v) = b.city {
        c.city = line("city", v, 120, &mut errors);
    }
    if let Some(v) = b.region {
        c.region = line("region", v, 120, &mut errors);
    }
    if let Some(v) = b.country {
        c.country = line("country", v, 2, &mut errors).map(|s| s.to_uppercase());
    }
    if let Some(v) = b.postal_code {
        c.postal_code = line("postal_code", v, 20, &mut errors);
    }
    if let Some(v) = b.latitude {
        c.latitude = v;
    }
    if let Some(v) = b.longitude {
        c.longitude = v;
    }
    if let Some(v) = b.phone {
        c.phone = crate::routes::auth::parse_phone(v.as_deref())
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
    }
    if let Some(v) = b.email {
        c.email = line("email", v, 254, &mut errors).map(|e| e.to_lowercase());
    }
    if let Some(v) = b.website {
        c.website = line("website", v, 300, &mut errors);
    }
    if let Some(v) = b.status {
        c.status = v.as_str().to_owned();
    }
    if let Some(v) = b.patient_self_registration {
        c.patient_self_registration = v;
    }
    if let Some(v) = b.currency {
        c.currency = v.trim().to_uppercase();
    }
    if b.opening_hours.is_some() || b.amenities.is_some() || b.accepted_insurance.is_some() {
        let old = c.profile.clone();
        c.profile = profile(
            b.opening_hours.unwrap_or_else(|| {
                old.opening_hours
                    .iter()
                    .map(|o| OpeningHoursView {
                        day_of_week: o.day_of_week,
                        opens: o.opens.clone(),
                        closes: o.closes.clone(),
                    })
                    .collect()
            }),
            b.amenities.unwrap_or(old.amenities),
            b.accepted_insurance.unwrap_or(old.accepted_insurance),
            &mut errors,
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    validate(&c)?;
    c.updated_at = now;
    tx.update_clinic(&c).await?;
    let change = Change::new("clinic.update", "clinic", Some(c.id))
        .clinic(Some(c.id))
        .old(&before)
        .new_values(&ClinicView::from(&c));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(ClinicView::from(&c)))
}

/// A clinic's booking rules (the defaults until an administrator sets them).
#[utoipa::path(get, path = "/api/v1/clinics/{id}/booking-settings", tag = "clinics", params(("id" = Uuid, Path)), responses((status = 200, body = BookingSettingsView)))]
async fn get_booking_settings(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BookingSettingsView>> {
    let mut tx = state.store.read().await?;
    tx.get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    Ok(Json(BookingSettingsView::from(
        &tx.booking_settings(id).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBookingSettings {
    /// 5-240 minutes.
    #[schema(minimum = 5, maximum = 240)]
    pub slot_granularity_minutes: Option<u32>,
    /// 0-43200 minutes (30 days).
    #[schema(minimum = 0, maximum = 43200)]
    pub min_notice_minutes: Option<u32>,
    /// 1-730 days.
    #[schema(minimum = 1, maximum = 730)]
    pub booking_horizon_days: Option<u32>,
    /// 0-43200 minutes.
    #[schema(minimum = 0, maximum = 43200)]
    pub cancellation_notice_minutes: Option<u32>,
    pub patient_self_booking: Option<bool>,
    pub requires_prepayment: Option<bool>,
    /// 1-1440 minutes.
    #[schema(minimum = 1, maximum = 1440)]
    pub payment_hold_minutes: Option<u32>,
    pub reminder_24h_enabled: Option<bool>,
    /// 60-10080 minutes (one hour to a week) before the start.
    #[schema(minimum = 60, maximum = 10080)]
    pub reminder_24h_lead_minutes: Option<u32>,
    pub reminder_2h_enabled: Option<bool>,
    /// 15-1440 minutes before the start.
    #[schema(minimum = 15, maximum = 1440)]
    pub reminder_2h_lead_minutes: Option<u32>,
    /// 5-10080 minutes: how long a waitlist offer holds its slot.
    #[schema(minimum = 5, maximum = 10080)]
    pub waitlist_offer_ttl_minutes: Option<u32>,
}

fn within(
    field: &'static str,
    v: Option<u32>,
    range: std::ops::RangeInclusive<u32>,
    errors: &mut Vec<ValidationError>,
) -> Option<u32> {
    let v = v?;
    if range.contains(&v) {
        Some(v)
    } else {
        errors.push(ValidationError::new(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
        None
    }
}

/// Change a clinic's booking rules: slot grid, notice, booking window, cancellation cutoff,
/// self-booking and prepayment.
#[utoipa::path(patch, path = "/api/v1/clinics/{id}/booking-settings", tag = "clinics", params(("id" = Uuid, Path)), request_body = UpdateBookingSettings, responses((status = 200, body = BookingSettingsView)))]
async fn update_booking_settings(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateBookingSettings>,
) -> ApiResult<Json<BookingSettingsView>> {
    if !p.can_see_clinic(Some(id)) {
        return Err(ApiError::forbidden("you can only change your own clinic"));
    }
    let mut errors = vec![];
    let grid = within(
        "slot_granularity_minutes",
        b.slot_granularity_minutes,
        5..=240,
        &mut errors,
    );
    let notice = within(
        "min_notice_minutes",
        b.min_notice_minutes,
        0..=43_200,
        &mut errors,
    );
    let horizon = within(
        "booking_horizon_days",
        b.booking_horizon_days,
        1..=730,
        &mut errors,
    );
    let cutoff = within(
        "cancellation_notice_minutes",
        b.cancellation_notice_minutes,
        0..=43_200,
        &mut errors,
    );
    let hold = within(
        "payment_hold_minutes",
        b.payment_hold_minutes,
        1..=1440,
        &mut errors,
    );
    let lead_24h = within(
        "reminder_24h_lead_minutes",
        b.reminder_24h_lead_minutes,
        60..=10_080,
        &mut errors,
    );
    let lead_2h = within(
        "reminder_2h_lead_minutes",
        b.reminder_2h_lead_minutes,
        15..=1440,
        &mut errors,
    );
    let offer_ttl = within(
        "waitlist_offer_ttl_minutes",
        b.waitlist_offer_ttl_minutes,
        5..=10_080,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    tx.get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let mut s = tx.booking_settings(id).await?;
    let before = BookingSettingsView::from(&s);
    s.slot_granularity_minutes = grid.unwrap_or(s.slot_granularity_minutes);
    s.min_notice_minutes = notice.unwrap_or(s.min_notice_minutes);
    s.booking_horizon_days = horizon.unwrap_or(s.booking_horizon_days);
    s.cancellation_notice_minutes = cutoff.unwrap_or(s.cancellation_notice_minutes);
    s.patient_self_booking = b.patient_self_booking.unwrap_or(s.patient_self_booking);
    s.requires_prepayment = b.requires_prepayment.unwrap_or(s.requires_prepayment);
    s.payment_hold_minutes = hold.unwrap_or(s.payment_hold_minutes);
    s.reminder_24h_enabled = b.reminder_24h_enabled.unwrap_or(s.reminder_24h_enabled);
    s.reminder_24h_lead_minutes = lead_24h.unwrap_or(s.reminder_24h_lead_minutes);
    s.reminder_2h_enabled = b.reminder_2h_enabled.unwrap_or(s.reminder_2h_enabled);
    s.reminder_2h_lead_minutes = lead_2h.unwrap_or(s.reminder_2h_lead_minutes);
    s.waitlist_offer_ttl_minutes = offer_ttl.unwrap_or(s.waitlist_offer_ttl_minutes);
    s.updated_by_user_id = Some(p.user_id);
    tx.save_booking_settings(&s, now).await?;
    s.updated_at = Some(now);
    let after = BookingSettingsView::from(&s);
    let change = Change::new("clinic.booking_settings.update", "clinic", Some(id))
        .clinic(Some(id))
        .old(&before)
        .new_values(&after);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(after))
}
