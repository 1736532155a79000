//! The catalog: specializations (network-wide) and each clinic's services with their duration,
//! buffers, fee, modes and required specialization. Every signed-in user can read it; clinic
//! administrators change their own clinic's services.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::fields::{line, money, name, text};
use crate::meta::{Change, RequestMeta};
use crate::schedule_enums::{ConsultationMode, store_modes};
use crate::schedule_views::{ServiceView, SpecializationView};
use crate::state::AppState;
use crate::views::double_option;
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::ValidationError;
use carebook_store::StoreTx;
use carebook_store::scheduling::{Service, Specialization};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_specializations, create_specialization))
        .routes(routes!(update_specialization))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Include inactive entries (default false).
    pub include_inactive: Option<bool>,
}

/// Specializations, by name.
#[utoipa::path(get, path = "/api/v1/specializations", tag = "catalog", params(ListParams), responses((status = 200, body = Vec<SpecializationView>)))]
async fn list_specializations(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Vec<SpecializationView>>> {
    let rows = state
        .store
        .read()
        .await?
        .list_specializations(q.include_inactive.unwrap_or(false))
        .await?;
    Ok(Json(rows.iter().map(SpecializationView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpecialization {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// A broader specialization this one belongs to.
    pub parent_id: Option<Uuid>,
    pub description: Option<String>,
}

async fn check_parent(
    tx: &mut dyn StoreTx,
    parent: Option<Uuid>,
    own: Option<Uuid>,
) -> ApiResult<()> {
    if let Some(pid) = parent {
        if Some(pid) == own {
            return Err(ValidationError::new("parent_id", "cannot be itself").into());
        }
        if tx.get_specialization(pid).await?.is_none() {
            return Err(ValidationError::new("parent_id", "no such specialization").into());
        }
    }
    Ok(())
}

/// Add a specialization.
#[utoipa::path(post, path = "/api/v1/specializations", tag = "catalog", request_body = CreateSpecialization, responses((status = 201, body = SpecializationView)))]
async fn create_specialization(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<CreateSpecialization>,
) -> ApiResult<(StatusCode, Json<SpecializationView>)> {
    let mut errors = vec![];
    let now = state.now();
    let s = Specialization {
        id: Uuid::now_v7(),
        name: name("name", &b.name, 120, &mut errors),
        parent_id: b.parent_id,
        description: text("description", b.description, 2000, &mut errors),
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = state.store.write().await?;
    check_parent(tx.as_mut(), s.parent_id, None).await?;
    tx.insert_specialization(&s).await?;
    let view = SpecializationView::from(&s);
    let change =
        Change::new("specialization.create", "specialization", Some(s.id)).new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSpecialization {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// Rename, regroup or retire a specialization.
#[utoipa::path(patch, path = "/api/v1/specializations/{id}", tag = "catalog", params(("id" = Uuid, Path)), request_body = UpdateSpecialization, responses((status = 200, body = SpecializationView)))]
async fn update_specialization(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateSpecialization>,
) -> ApiResult<Json<SpecializationView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut s = tx
        .get_specialization(id)
        .await?
        .ok_or_else(|| ApiError::not_found("specialization"))?;
    let before = SpecializationView::from(&s);
    let mut errors = vec![];
    if let Some(n) = b.name {
        s.name = name("name", &n, 120, &mut errors);
    }
    if let Some(d) = b.description {
        s.description = text("description", d, 2000, &mut errors);
    }
    if let Some(pid) = b.parent_id {
        s.parent_id = pid;
    }
    if let Some(a) = b.is_active {
        s.is_active = a;
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    check_parent(tx.as_mut(), s.parent_id, Some(s.id)).await?;
    s.updated_at = now;
    tx.update_specialization(&s).await?;
    let view = SpecializationView::from(&s);
    let change = Change::new("specialization.update", "specialization", Some(s.id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// A clinic's services, by name.
#[utoipa::path(get, path = "/api/v1/clinics/{id}/services", tag = "catalog", params(("id" = Uuid, Path), ListParams), responses((status = 200, body = Vec<ServiceView>)))]
async fn list_services(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Vec<ServiceView>>> {
    let mut tx = state.store.read().await?;
    tx.get_clinic(id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let rows = tx
        .list_services(id, q.include_inactive.unwrap_or(false))
        .await?;
    Ok(Json(rows.iter().map(ServiceView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: u32,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_before_minutes: Option<u32>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_after_minutes: Option<u32>,
    /// Fee in minor units; the currency defaults to the clinic's.
    #[schema(minimum = 0)]
    pub fee_minor: Option<i64>,
    pub currency: Option<String>,
    pub billing_code: Option<String>,
    pub required_specialization_id: Option<Uuid>,
    /// Default `["in_person"]`.
    pub modes: Option<Vec<ConsultationMode>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateService {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub category: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<u32>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_before_minutes: Option<u32>,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_after_minutes: Option<u32>,
    /// `null` removes the fee.
    #[serde(default, deserialize_with = "double_option")]
    pub fee_minor: Option<Option<i64>>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub billing_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub required_specialization_id: Option<Option<Uuid>>,
    pub modes: Option<Vec<ConsultationMode>>,
    /// `false` takes the service out of booking; existing appointments stay.
    pub is_active: Option<bool>,
}

/// Checks the numbers and references of a service, collecting all problems.
async fn validate_service(
    tx: &mut dyn StoreTx,
    s: &Service,
    mut errors: Vec<ValidationError>,
) -> ApiResult<()> {
    if !(1..=1440).contains(&s.duration_minutes) {
        errors.push(ValidationError::new(
            "duration_minutes",
            "must be 1 to 1440 minutes",
        ));
    }
    for (field, v) in [
        ("buffer_before_minutes", s.buffer_before_minutes),
        ("buffer_after_minutes", s.buffer_after_minutes),
    ] {
        if v > 240 {
            errors.push(ValidationError::new(field, "must be 0 to 240 minutes"));
        }
    }
    if s.modes.is_empty() {
        errors.push(ValidationError::new("modes", "name at least one mode"));
    }
    if let Some(id) = s.required_specialization_id
        && tx.get_specialization(id).await?.is_none()
    {
        errors.push(ValidationError::new(
            "required_specialization_id",
            "no such specialization",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Add a service to a clinic.
#[utoipa::path(post, path = "/api/v1/clinics/{id}/services", tag = "catalog", params(("id" = Uuid, Path)), request_body = CreateService, responses((status = 201, body = ServiceView)))]
async fn create_service(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(clinic_id): Path<Uuid>,
    Json(b): Json<CreateService>,
) -> ApiResult<(StatusCode, Json<ServiceView>)> {
    if !p.can_see_clinic(Some(clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only change your own clinic's services",
        ));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let clinic = tx
        .get_clinic(clinic_id)
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    let mut errors = vec![];
    let (fee_minor, currency) = money(
        b.fee_minor,
        b.currency.as_deref(),
        &clinic.currency,
        &mut errors,
    );
    let s = Service {
        id: Uuid::now_v7(),
        clinic_id,
        name: name("name", &b.name, 200, &mut errors),
        description: text("description", b.description, 2000, &mut errors),
        category: line("category", b.category, 100, &mut errors),
        duration_minutes: b.duration_minutes,
        buffer_before_minutes: b.buffer_before_minutes.unwrap_or(0),
        buffer_after_minutes: b.buffer_after_minutes.unwrap_or(0),
        fee_minor,
        currency,
        billing_code: line("billing_code", b.billing_code, 50, &mut errors),
        required_specialization_id: b.required_specialization_id,
        modes: store_modes(&b.modes.unwrap_or_else(|| vec![ConsultationMode::InPerson])),
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    validate_service(tx.as_mut(), &s, errors).await?;
    tx.insert_service(&s).await?;
    let view = ServiceView::from(&s);
    let change = Change::new("service.create", "service", Some(s.id))
        .clinic(Some(clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses((status = 200, body = ServiceView)))]
async fn get_service(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ServiceView>> {
    let s = state
        .store
        .read()
        .await?
        .get_service(id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    Ok(Json(ServiceView::from(&s)))
}

/// Change a service; `is_active: false` stops new bookings of it.
#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "catalog", params(("id" = Uuid, Path)), request_body = UpdateService, responses((status = 200, body = ServiceView)))]
async fn update_service(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(b): Json<UpdateService>,
) -> ApiResult<Json<ServiceView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut s = tx
        .get_service(id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    if !p.can_see_clinic(Some(s.clinic_id)) {
        return Err(ApiError::forbidden(
            "you can only change your own clinic's services",
        ));
    }
    let clinic_currency = tx
        .get_clinic(s.clinic_id)
        .await?
        .map(|c| c.currency)
        .unwrap_or_else(|| "USD".into());
    let before = ServiceView::from(&s);
    let mut errors = vec![];
    if let Some(v) = b.name {
        s.name = name("name", &v, 200, &mut errors);
    }
    if let Some(v) = b.description {
        s.description = text("description", v, 2000, &mut errors);
    }
    if let Some(v) = b.category {
        s.category = line("category", v, 100, &mut errors);
    }
    if let Some(v) = b.duration_minutes {
        s.duration_minutes = v;
    }
    if let Some(v) = b.buffer_before_minutes {
        s.buffer_before_minutes = v;
    }
    if let Some(v) = b.buffer_after_minutes {
        s.buffer_after_minutes = v;
    }
    if b.fee_minor.is_some() || b.currency.is_some() {
        let fee = b.fee_minor.unwrap_or(s.fee_minor);
        let cur = b.currency.or(s.currency.clone());
        (s.fee_minor, s.currency) = money(fee, cur.as_deref(), &clinic_currency, &mut errors);
    }
    if let Some(v) = b.billing_code {
        s.billing_code = line("billing_code", v, 50, &mut errors);
    }
    if let Some(v) = b.required_specialization_id {
        s.required_specialization_id = v;
    }
    if let Some(v) = b.modes {
        s.modes = store_modes(&v);
    }
    if let Some(v) = b.is_active {
        s.is_active = v;
    }
    s.updated_at = now;
    validate_service(tx.as_mut(), &s, errors).await?;
    tx.update_service(&s).await?;
    let view = ServiceView::from(&s);
    let change = Change::new("service.update", "service", Some(s.id))
        .clinic(Some(s.clinic_id))
        .old(&before)
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(view))
}
