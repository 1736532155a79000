//! The provider directory (doctors and specialists, seed 000-004's providers, doctors and
//! specialists merged): profiles, where each provider works and on what terms, and which
//! services they deliver. Everyone signed in can search it; administrators keep it.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::fields::{labels, line, money, text};
use crate::meta::{Change, RequestMeta};
use crate::schedule_enums::{
    ConsultationMode, EngagementStatus, ProviderStatus, VerificationStatus, store_modes,
};
use crate::schedule_views::*;
use crate::state::AppState;
use crate::views::{PageParams, double_option, split_page};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::{Role, ValidationError};
use carebook_store::StoreTx;
use carebook_store::models::PageRequest;
use carebook_store::scheduling::*;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(get_provider, update_provider))
        .routes(routes!(add_engagement, update_engagement))
        .routes(routes!(link_service, unlink_service))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProviderSearch {
    /// Works at this clinic.
    pub clinic_id: Option<Uuid>,
    /// Delivers this service.
    pub service_id: Option<Uuid>,
    pub specialization_id: Option<Uuid>,
    /// Speaks this language (a code such as `en` or `sw`).
    pub language: Option<String>,
    /// Offers this consultation mode.
    pub mode: Option<ConsultationMode>,
    /// Part of the provider's name.
    pub q: Option<String>,
    /// Include deactivated providers (default false).
    pub include_inactive: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn language_code(field: &'static str, v: &str) -> Result<String, ValidationError> {
    let v = v.trim().to_lowercase();
    if (2..=3).contains(&v.len()) && v.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(v)
    } else {
        Err(ValidationError::new(
            field,
            "must be a language code such as en or sw",
        ))
    }
}

fn year(now: jiff::Timestamp) -> i16 {
    now.to_zoned(jiff::tz::TimeZone::UTC).year()
}

/// Search the directory by clinic, service, specialization, language, mode and name.
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers", params(ProviderSearch), responses((status = 200, body = ProviderPage)))]
async fn list_providers(
    State(state): State<AppState>,
    Query(q): Query<ProviderSearch>,
) -> ApiResult<Json<ProviderPage>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let language = q
        .language
        .as_deref()
        .map(|l| language_code("language", l))
        .transpose()
        .map_err(|e| ApiError::invalid_parameter("language", e.message))?;
    let filter = ProviderFilter {
        clinic_id: q.clinic_id,
        service_id: q.service_id,
        specialization_id: q.specialization_id,
        language,
        mode: q.mode.map(|m| m.as_str().to_owned()),
        query: q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        include_inactive: q.include_inactive.unwrap_or(false),
    };
    let rows = state
        .store
        .read()
        .await?
        .search_providers(
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (rows, next_cursor) = split_page(rows, limit, |l| l.provider.id.to_string());
    let y = year(state.now());
    Ok(Json(ProviderPage {
        items: rows.iter().map(|l| ProviderView::new(l, y)).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecializationLink {
    pub id: Uuid,
    #[serde(default)]
    pub is_primary: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProvider {
    /// The provider's account; its role must be `provider`.
    pub user_id: Uuid,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub photo_url: Option<String>,
    /// Unique across the network.
    pub license_number: Option<String>,
    pub registration_number: Option<String>,
    #[schema(minimum = 1900, maximum = 2200)]
    pub practice_start_year: Option<i32>,
    #[serde(default)]
    pub qualifications: Vec<String>,
    /// Default `["en"]`.
    pub languages: Option<Vec<String>>,
    #[schema(minimum = 0)]
    pub default_fee_minor: Option<i64>,
    pub currency: Option<String>,
    /// Default 30.
    #[schema(minimum = 1, maximum = 1440)]
    pub default_duration_minutes: Option<u32>,
    #[serde(default)]
    pub emergency_enabled: bool,
    /// Default 8 (seed 000).
    #[schema(minimum = 1, maximum = 200)]
    pub max_daily_appointments: Option<u32>,
    #[serde(default)]
    pub specializations: Vec<SpecializationLink>,
    /// Where the provider starts working; default the account's clinic.
    pub clinic_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProvider {
    #[serde(default, deserialize_with = "double_option")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub photo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub license_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub registration_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1900, maximum = 2200)]
    pub practice_start_year: Option<Option<i32>>,
    pub qualifications: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub default_fee_minor: Option<Option<i64>>,
    pub currency: Option<String>,
    #[schema(minimum = 1, maximum = 1440)]
    pub default_duration_minutes: Option<u32>,
    pub emergency_enabled: Option<bool>,
    #[schema(minimum = 1, maximum = 200)]
    pub max_daily_appointments: Option<u32>,
    /// `on_leave` takes the provider out of slot search at every clinic.
    pub status: Option<ProviderStatus>,
    pub verification_status: Option<VerificationStatus>,
    pub is_active: Option<bool>,
    /// Replaces the provider's specializations.
    pub specializations: Option<Vec<SpecializationLink>>,
}

fn check_numbers(p: &Provider, errors: &mut Vec<ValidationError>) {
    if !(1..=1440).contains(&p.default_duration_minutes) {
        errors.push(ValidationError::new(
            "default_duration_minutes",
            "must be 1 to 1440 minutes",
        ));
    }
    if !(1..=200).contains(&p.max_daily_appointments) {
        errors.push(ValidationError::new(
            "max_daily_appointments",
            "must be 1 to 200",
        ));
    }
    if p.practice_start_year
        .is_some_and(|y| !(1900..=2200).contains(&y))
    {
        errors.push(ValidationError::new(
            "practice_start_year",
            "must be a year between 1900 and 2200",
        ));
    }
}

fn languages(v: Vec<String>, errors: &mut Vec<ValidationError>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for l in v {
        match language_code("languages", &l) {
            Ok(code) if !out.contains(&code) => out.push(code),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if out.is_empty() {
        errors.push(ValidationError::new(
            "languages",
            "name at least one language",
        ));
    }
    out
}

/// Specialization links, each existing, at most one primary.
async fn specialization_links(
    tx: &mut dyn StoreTx,
    links: &[SpecializationLink],
) -> ApiResult<Vec<(Uuid, bool)>> {
    let mut out: Vec<(Uuid, bool)> = vec![];
    for l in links {
        if tx.get_specialization(l.id).await?.is_none() {
            return Err(ValidationError::new("specializations", "no such specialization").into());
        }
        if !out.iter().any(|(id, _)| *id == l.id) {
            out.push((l.id, l.is_primary));
        }
    }
    if out.iter().filter(|(_, p)| *p).count() > 1 {
        return Err(ValidationError::new("specializations", "at most one can be primary").into());
    }
    Ok(out)
}

async fn detail(tx: &mut dyn StoreTx, id: Uuid, this_year: i16) -> ApiResult<ProviderDetail> {
    let listing = tx
        .get_provider_listing(id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let specializations = tx
        .provider_specializations(id)
        .await?
        .into_iter()
        .map(|(s, is_primary)| ProviderSpecializationView {
            id: s.id,
            name: s.name,
            is_primary,
        })
        .collect();
    let clinics = tx
        .provider_clinics(id)
        .await?
        .iter()
        .map(EngagementView::from)
        .collect();
    let services = tx
        .provider_services(id)
        .await?
        .iter()
        .map(ProviderServiceView::from)
        .collect();
    Ok(ProviderDetail {
        provider: ProviderView::new(&listing, this_year),
        specializations,
        clinics,
        services,
    })
}

/// Clinic-bound administrators manage providers who work at their clinic.
async fn check_manages(tx: &mut dyn StoreTx, p: &Principal, provider_id: Uuid) -> ApiResult<()> {
    let Some(mine) = p.clinic_scope() else {
        return Ok(());
    };
    let here = crate::scope::works_at(tx, provider_id, mine).await?;
    if here {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this provider does not work at your clinic",
        ))
    }
}

/// Create a provider profile for a provider account, optionally starting at a clinic.
#[utoipa::path(post, path = "/api/v1/providers", tag = "providers", request_body = CreateProvider, responses((status = 201, body = ProviderDetail)))]
async fn create_provider(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<CreateProvider>,
) -> ApiResult<(StatusCode, Json<ProviderDetail>)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let user = tx
        .get_user(b.user_id)
        .await?
        .filter(|u| p.can_see_clinic(u.clinic_id) || u.clinic_id.is_none())
        .ok_or_else(|| {
            ApiError::validation(vec![ValidationError::new("user_id", "no such account")])
        })?;
    if user.role != Role::Provider {
        return Err(ValidationError::new("user_id", "the account's role must be provider").into());
    }
    if tx.get_provider_by_user(user.id).await?.is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            "this account already has a provider profile",
        ));
    }
    let clinic_id = b.clinic_id.or(user.clinic_id).or(p.clinic_scope());
    if let Some(c) = clinic_id {
        if !p.can_see_clinic(Some(c)) {
            return Err(ApiError::forbidden(
                "you can only add providers to your own clinic",
            ));
        }
        tx.get_clinic(c).await?.ok_or_else(|| {
            ApiError::validation(vec![ValidationError::new("clinic_id", "no such clinic")])
        })?;
    }
    let mut errors = vec![];
    let mut pr = Provider::new(Uuid::now_v7(), user.id, now);
    pr.title = line("title", b.title, 50, &mut errors);
    pr.bio = text("bio", b.bio, 4000, &mut errors);
    pr.photo_url = line("photo_url", b.photo_url, 500, &mut errors);
    pr.license_number = line("license_number", b.license_number, 64, &mut errors);
    pr.registration_number = text(
        "registration_number",
        b.registration_number,
        64,
        &mut errors,
    );
    pr.practice_start_year = b.practice_start_year;
    pr.qualifications = labels("qualifications", b.qualifications, &mut errors);
    if let Some(l) = b.languages {
        pr.languages = languages(l, &mut errors);
    }
    (pr.default_fee_minor, pr.currency) = money(
        b.default_fee_minor,
        b.currency.as_deref(),
        "USD",
        &mut errors,
    );
    pr.default_duration_minutes = b.default_duration_minutes.unwrap_or(30);
    pr.emergency_enabled = b.emergency_enabled;
    pr.max_daily_appointments = b.max_daily_appointments.unwrap_or(8);
    check_numbers(&pr, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let links = specialization_links(tx.as_mut(), &b.specializations).await?;
    tx.insert_provider(&pr).await?;
    tx.set_provider_specializations(pr.id, &links, now).await?;
    if let Some(c) = clinic_id {
        let mut pc = ProviderClinic::new(
            Uuid::now_v7(),
            pr.id,
            c,
            now.to_zoned(jiff::tz::TimeZone::UTC).date(),
            now,
        );
        pc.is_primary = true;
        tx.insert_provider_clinic(&pc).await?;
    }
    let view = detail(tx.as_mut(), pr.id, year(now)).await?;
    let change = Change::new("provider.create", "provider", Some(pr.id))
        .clinic(clinic_id)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One provider with their specializations, clinics and services.
#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "providers", params(("id" = Uuid, Path)), responses((status = 200, body = ProviderDetail)))]
async fn get_provider(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ProviderDetail>> {
    let mut tx = state.store.read().await?;
    Ok(Json(detail(tx.as_mut(), id, year(state.now())).await?))
}

/// Change a provider's profile, status, daily cap or specializations.
#[utoipa::path(patch, path = "/api/v1/providers/{id}", tag = "providers", params(("id" = Uuid, Path)), request_body = UpdateProvider, responses((status = 200, body = ProviderDetail)))]
async fn update_provider(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateProvider>,
) -> ApiResult<Json<ProviderDetail>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut pr = tx
        .get_provider(id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    check_manages(tx.as_mut(), &p, id).await?;
    let before = detail(tx.as_mut(), id, year(now)).await?;
    let mut errors = vec![];
    if let Some(v) = b.title {
        pr.title = line("title", v, 50, &mut errors);
    }
    if let Some(v) = b.bio {
        pr.bio = text("bio", v, 4000, &mut errors);
    }
    if let Some(v) = b.photo_url {
        pr.photo_url = line("photo_url", v, 500, &mut errors);
    }
    if let Some(v) = b.license_number {
        pr.license_number = line("license_number", v, 64, &mut errors);
    }
    if let Some(v) = b.registration_number {
        pr.registration_number = line("registration_number", v, 64, &mut errors);
    }
    if let Some(v) = b.practice_start_year {
        pr.practice_start_year = v;
    }
    if let Some(v) = b.qualifications {
        pr.qualifications = labels("qualifications", v, &mut errors);
    }
    if let Some(v) = b.languages {
        pr.languages = languages(v, &mut errors);
    }
    if b.default_fee_minor.is_some() || b.currency.is_some() {
        let fee = b.default_fee_minor.unwrap_or(pr.default_fee_minor);
        let cur = b.currency.or(pr.currency.clone());
        (pr.default_fee_minor, pr.currency) = money(fee, cur.as_deref(), "USD", &mut errors);
    }
    if let Some(v) = b.default_duration_minutes {
        pr.default_duration_minutes = v;
    }
    if let Some(v) = b.emergency_enabled {
        pr.emergency_enabled = v;
    }
    if let Some(v) = b.max_daily_appointments {
        pr.max_daily_appointments = v;
    }
    if let Some(v) = b.status {
        pr.status = v.as_str().to_owned();
    }
    if let Some(v) = b.verification_status {
        pr.verification_status = v.as_str().to_owned();
    }
    if let Some(v) = b.is_active {
        pr.is_active = v;
    }
    check_numbers(&pr, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if let Some(links) = &b.specializations {
        let links = specialization_links(tx.as_mut(), links).await?;
        tx.set_provider_specializations(id, &links, now).await?;
    }
    pr.updated_at = now;
    tx.update_provider(&pr).await?;
    let view = detail(tx.as_mut(), id, year(now)).await?;
    let change = Change::new("provider.update", "provider", Some(id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementTerms {
    pub is_primary: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub designation: Option<Option<String>>,
    /// The provider's fee at this clinic, in minor units of the clinic's currency by default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0)]
    pub consultation_fee_minor: Option<Option<i64>>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, maximum = 1440)]
    pub default_duration_minutes: Option<Option<u32>>,
    pub consultation_modes: Option<Vec<ConsultationMode>>,
    pub booking_enabled: Option<bool>,
    pub accepts_emergencies: Option<bool>,
    /// Overrides the provider's daily cap here; `null` uses theirs.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, maximum = 200)]
    pub max_daily_appointments: Option<Option<u32>>,
    /// `ended` closes the engagement (kept as history); `on_leave` pauses its bookings.
    pub status: Option<EngagementStatus>,
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<Date>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Option<Date>>,
}

fn apply_terms(
    pc: &mut ProviderClinic,
    t: EngagementTerms,
    clinic_currency: &str,
    today: Date,
) -> ApiResult<()> {
    let mut errors = vec![];
    if let Some(v) = t.is_primary {
        pc.is_primary = v;
    }
    if let Some(v) = t.department {
        pc.department = line("department", v, 120, &mut errors);
    }
    if let Some(v) = t.designation {
        pc.designation = line("designation", v, 120, &mut errors);
    }
    if t.consultation_fee_minor.is_some() || t.currency.is_some() {
        let fee = t
            .consultation_fee_minor
            .unwrap_or(pc.consultation_fee_minor);
        let cur = t.currency.or(pc.currency.clone());
        (pc.consultation_fee_minor, pc.currency) =
            money(fee, cur.as_deref(), clinic_currency, &mut errors);
    }
    if let Some(v) = t.default_duration_minutes {
        if v.is_some_and(|m| !(1..=1440).contains(&m)) {
            errors.push(ValidationError::new(
                "default_duration_minutes",
                "must be 1 to 1440 minutes",
            ));
        }
        pc.default_duration_minutes = v;
    }
    if let Some(v) = t.consultation_modes {
        if v.is_empty() {
            errors.push(ValidationError::new(
                "consultation_modes",
                "name at least one mode",
            ));
        }
        pc.consultation_modes = store_modes(&v);
    }
    if let Some(v) = t.booking_enabled {
        pc.booking_enabled = v;
    }
    if let Some(v) = t.accepts_emergencies {
        pc.accepts_emergencies = v;
    }
    if let Some(v) = t.max_daily_appointments {
        if v.is_some_and(|m| !(1..=200).contains(&m)) {
            errors.push(ValidationError::new(
                "max_daily_appointments",
                "must be 1 to 200",
            ));
        }
        pc.max_daily_appointments = v;
    }
    if let Some(v) = t.started_on {
        pc.started_on = v;
    }
    if let Some(v) = t.ended_on {
        pc.ended_on = v;
    }
    if let Some(v) = t.status {
        pc.status = v.as_str().to_owned();
        if v == EngagementStatus::Ended {
            pc.is_primary = false;
            if pc.ended_on.is_none() {
                pc.ended_on = Some(today.max(pc.started_on));
            }
        }
    }
    if pc.ended_on.is_some_and(|e| e < pc.started_on) {
        errors.push(ValidationError::new(
            "ended_on",
            "must not be before started_on",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Start working at a clinic, on that clinic's terms.
#[utoipa::path(post, path = "/api/v1/providers/{id}/clinics/{clinic_id}", tag = "providers", params(("id" = Uuid, Path), ("clinic_id" = Uuid, Path)), request_body = EngagementTerms, responses((status = 201, body = EngagementView)))]
async fn add_engagement(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, clinic_id)): Path<(Uuid, Uuid)>,
    Json(b): Json<EngagementTerms>,
) -> ApiResult<(StatusCode, Json<EngagementView>)> {
    if !p.can_see_clinic(Some(clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only add providers to your own clinic",
        ));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    tx.get_provider(id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let clinic = tx
        .get_clinic(clinic_id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let tz = jiff::tz::TimeZone::get(&clinic.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let today = now.to_zoned(tz).date();
    let existing = tx.provider_clinics(id).await?;
    if existing
        .iter()
        .any(|pc| pc.clinic_id == clinic_id && pc.is_live())
    {
        return Err(ApiError::new(
            Code::Conflict,
            "the provider already works at this clinic",
        ));
    }
    let mut pc = ProviderClinic::new(Uuid::now_v7(), id, clinic_id, today, now);
    apply_terms(&mut pc, b, &clinic.currency, today)?;
    if pc.is_primary {
        clear_primary(tx.as_mut(), &existing, now).await?;
    }
    tx.insert_provider_clinic(&pc).await?;
    let view = EngagementView::from(&pc);
    let change = Change::new("provider.clinic.add", "provider_clinic", Some(pc.id))
        .clinic(Some(pc.clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A provider has one primary clinic: marking a new one clears the others.
async fn clear_primary(
    tx: &mut dyn StoreTx,
    engagements: &[ProviderClinic],
    now: jiff::Timestamp,
) -> ApiResult<()> {
    for other in engagements.iter().filter(|e| e.is_primary) {
        let mut o = other.clone();
        o.is_primary = false;
        o.updated_at = now;
        tx.update_provider_clinic(&o).await?;
    }
    Ok(())
}

/// Change the terms of a provider's live engagement at a clinic, or end it.
#[utoipa::path(patch, path = "/api/v1/providers/{id}/clinics/{clinic_id}", tag = "providers", params(("id" = Uuid, Path), ("clinic_id" = Uuid, Path)), request_body = EngagementTerms, responses((status = 200, body = EngagementView)))]
async fn update_engagement(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, clinic_id)): Path<(Uuid, Uuid)>,
    Json(b): Json<EngagementTerms>,
) -> ApiResult<Json<EngagementView>> {
    if !p.can_see_clinic(Some(clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only change engagements at your own clinic",
        ));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let engagements = tx.provider_clinics(id).await?;
    let mut pc = engagements
        .iter()
        .find(|pc| pc.clinic_id == clinic_id && pc.is_live())
        .cloned()
        .ok_or_else(|| ApiError::not_found("engagement"))?;
    let clinic = tx
        .get_clinic(clinic_id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let tz = jiff::tz::TimeZone::get(&clinic.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let before = EngagementView::from(&pc);
    let becomes_primary = b.is_primary == Some(true) && !pc.is_primary;
    apply_terms(&mut pc, b, &clinic.currency, now.to_zoned(tz).date())?;
    if becomes_primary {
        let others: Vec<ProviderClinic> =
            engagements.into_iter().filter(|e| e.id != pc.id).collect();
        clear_primary(tx.as_mut(), &others, now).await?;
    }
    pc.updated_at = now;
    tx.update_provider_clinic(&pc).await?;
    let view = EngagementView::from(&pc);
    let change = Change::new("provider.clinic.update", "provider_clinic", Some(pc.id))
        .clinic(Some(clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceLink {
    /// The provider's own fee for the service; `null`: the usual fee.
    #[schema(minimum = 0)]
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// Let a provider deliver a service (of a clinic where they work), or change the terms.
#[utoipa::path(put, path = "/api/v1/providers/{id}/services/{service_id}", tag = "providers", params(("id" = Uuid, Path), ("service_id" = Uuid, Path)), request_body = ServiceLink, responses((status = 200, body = ProviderServiceView)))]
async fn link_service(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, service_id)): Path<(Uuid, Uuid)>,
    Json(b): Json<ServiceLink>,
) -> ApiResult<Json<ProviderServiceView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    tx.get_provider(id)
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let service = tx
        .get_service(service_id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    if !p.can_see_clinic(Some(service.clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only change your own clinic's services",
        ));
    }
    let works_there = crate::scope::works_at(tx.as_mut(), id, service.clinic_id).await?;
    if !works_there {
        return Err(ApiError::new(
            Code::InvalidState,
            "the provider does not work at the service's clinic",
        ));
    }
    if let Some(required) = service.required_specialization_id {
        let has = tx
            .provider_specializations(id)
            .await?
            .iter()
            .any(|(s, _)| s.id == required);
        if !has {
            return Err(ApiError::new(
                Code::InvalidState,
                "the service requires a specialization the provider does not have",
            ));
        }
    }
    let mut errors = vec![];
    let currency = service.currency.clone().unwrap_or_else(|| "USD".into());
    let (fee_minor, currency) = money(b.fee_minor, b.currency.as_deref(), &currency, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let previous = tx
        .provider_services(id)
        .await?
        .into_iter()
        .find(|ps| ps.service_id == service_id);
    let ps = ProviderService {
        provider_id: id,
        service_id,
        fee_minor,
        currency,
        is_active: b.is_active.unwrap_or(true),
        created_at: previous.as_ref().map_or(now, |x| x.created_at),
    };
    tx.set_provider_service(&ps).await?;
    let view = ProviderServiceView::from(&ps);
    let mut change = Change::new("provider.service.set", "provider", Some(id))
        .clinic(Some(service.clinic_id))
        .new_values(&view);
    if let Some(prev) = &previous {
        change = change.old(&ProviderServiceView::from(prev));
    }
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Stop a provider delivering a service; existing appointments stay.
#[utoipa::path(delete, path = "/api/v1/providers/{id}/services/{service_id}", tag = "providers", params(("id" = Uuid, Path), ("service_id" = Uuid, Path)), responses((status = 204)))]
async fn unlink_service(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, service_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let service = tx
        .get_service(service_id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    if !p.can_see_clinic(Some(service.clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only change your own clinic's services",
        ));
    }
    let previous = tx
        .provider_services(id)
        .await?
        .into_iter()
        .find(|ps| ps.service_id == service_id)
        .ok_or_else(|| ApiError::not_found("provider service"))?;
    tx.remove_provider_service(id, service_id).await?;
    let change = Change::new("provider.service.remove", "provider", Some(id))
        .clinic(Some(service.clinic_id))
        .old(&ProviderServiceView::from(&previous));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
