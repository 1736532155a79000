//! The roles and their permissions, as seeded in the database.

use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::RoleName;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_roles))
}

#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub name: RoleName,
    pub description: String,
    /// Staff with this role see every clinic.
    pub spans_clinics: bool,
    pub permissions: Vec<String>,
}

/// Every role with its permissions.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", responses((status = 200, body = Vec<RoleView>)))]
async fn list_roles(State(state): State<AppState>) -> ApiResult<Json<Vec<RoleView>>> {
    let mut tx = state.store.read().await?;
    let grants = tx.role_permissions().await?;
    let roles = tx.roles().await?;
    Ok(Json(
        roles
            .into_iter()
            .map(|(role, description)| RoleView {
                name: role.into(),
                description,
                spans_clinics: role.spans_clinics(),
                permissions: grants
                    .iter()
                    .filter(|(r, _)| r == role.as_str())
                    .map(|(_, p)| p.clone())
                    .collect(),
            })
            .collect(),
    ))
}
