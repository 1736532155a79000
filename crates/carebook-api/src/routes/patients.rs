//! Patients as the front desk sees them: people who can be seen at several clinics, found by
//! name, email or phone among those registered at the caller's clinic, and registered at the
//! desk when they walk in without an account.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::meta::{Change, RequestMeta};
use crate::schedule_views::{PatientPage, PatientView};
use crate::scope::Scope;
use crate::state::AppState;
use crate::views::{LanguageCode, PageParams, split_page};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::{Email, PersonName, ValidationError};
use carebook_store::StoreTx;
use carebook_store::models::{PageRequest, Patient, PatientFilter};
use carebook_store::scheduling::AppointmentFilter;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patients, create_patient))
        .routes(routes!(get_patient))
}

/// A patient the caller may see (registered at their clinic, unless they see every clinic),
/// or 404.
pub async fn visible_patient(tx: &mut dyn StoreTx, scope: &Scope, id: Uuid) -> ApiResult<Patient> {
    let patient = tx
        .get_patient(id)
        .await?
        .ok_or_else(|| ApiError::not_found("patient"))?;
    let Some(mine) = scope.clinic else {
        return Ok(patient);
    };
    if tx.patient_clinic_ids(id).await?.contains(&mine) {
        return Ok(patient);
    }
    // A provider also sees the patients they treat at their other clinics.
    if let Some(own) = scope.own_provider {
        let filter = AppointmentFilter {
            patient_id: Some(id),
            provider_id: Some(own),
            ..Default::default()
        };
        let treated = tx
            .list_appointments(
                &filter,
                PageRequest {
                    after: None,
                    limit: 1,
                },
            )
            .await?;
        if !treated.is_empty() {
            return Ok(patient);
        }
    }
    Err(ApiError::not_found("patient"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Part of the name or email, or of the phone number.
    pub q: Option<String>,
    /// Registered at this clinic (clinic staff always search their own).
    pub clinic_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Find patients.
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", params(PatientSearch), responses((status = 200, body = PatientPage)))]
async fn list_patients(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<PatientSearch>,
) -> ApiResult<Json<PatientPage>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let clinic_id = match (scope.clinic, q.clinic_id) {
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::forbidden(
                "you can only search your own clinic's patients",
            ));
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    let filter = PatientFilter {
        clinic_id,
        query: q.q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    let rows = tx
        .search_patients(
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (rows, next_cursor) = split_page(rows, limit, |pt| pt.id.to_string());
    Ok(Json(PatientPage {
        items: rows.iter().map(PatientView::from).collect(),
        next_cursor,
    }))
}

/// Gender as patients state it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Other,
    PreferNotToSay,
}

impl Gender {
    fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other => "other",
            Gender::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePatient {
    #[schema(min_length = 1, max_length = 150)]
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<Date>,
    pub gender: Option<Gender>,
    pub preferred_language: Option<LanguageCode>,
    #[serde(default)]
    pub notification_opt_out: bool,
    /// Where the patient is registered; default (and for clinic staff, always) the caller's
    /// clinic.
    pub clinic_id: Option<Uuid>,
}

/// Register a patient at the desk (no account: they can sign up later).
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", request_body = CreatePatient, responses((status = 201, body = PatientView)))]
async fn create_patient(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(b): Json<CreatePatient>,
) -> ApiResult<(StatusCode, Json<PatientView>)> {
    let now = state.now();
    let mut errors = vec![];
    let name = PersonName::parse("name", &b.name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = b
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|e| Email::parse("email", e).map_err(|e| errors.push(e)).ok());
    let phone = crate::routes::auth::parse_phone(b.phone.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let gender = b.gender.map(|g| g.as_str().to_owned());
    if b.date_of_birth
        .is_some_and(|d| d > now.to_zoned(jiff::tz::TimeZone::UTC).date())
    {
        errors.push(ValidationError::new(
            "date_of_birth",
            "must not be in the future",
        ));
    }
    let clinic_id = match (p.clinic_scope(), b.clinic_id) {
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::forbidden(
                "you can only register patients at your own clinic",
            ));
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked.or(p.clinic_id),
    };
    let Some(clinic_id) = clinic_id else {
        errors.push(ValidationError::new(
            "clinic_id",
            "say where the patient is registered",
        ));
        return Err(ApiError::validation(errors));
    };
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let patient = Patient {
        id: Uuid::now_v7(),
        user_id: None,
        name: name.as_str().to_owned(),
        email: email.map(|e| e.as_str().to_owned()),
        phone,
        date_of_birth: b.date_of_birth,
        gender,
        preferred_language: b.preferred_language.unwrap_or_default().as_str().to_owned(),
        notification_opt_out: b.notification_opt_out,
        channel_opt_outs: Default::default(),
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.write().await?;
    tx.get_clinic(clinic_id).await?.ok_or_else(|| {
        ApiError::validation(vec![ValidationError::new("clinic_id", "no such clinic")])
    })?;
    tx.insert_patient(&patient).await?;
    tx.link_patient_clinic(patient.id, clinic_id, now).await?;
    let view = PatientView::from(&patient);
    let change = Change::new("patient.create", "patient", Some(patient.id))
        .clinic(Some(clinic_id))
        .new_values(&view);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One patient.
#[utoipa::path(get, path = "/api/v1/patients/{id}", tag = "patients", params(("id" = Uuid, Path)), responses((status = 200, body = PatientView)))]
async fn get_patient(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PatientView>> {
    let mut tx = state.store.read().await?;
    let scope = Scope::of(tx.as_mut(), &p).await?;
    let patient = visible_patient(tx.as_mut(), &scope, id).await?;
    Ok(Json(PatientView::from(&patient)))
}
