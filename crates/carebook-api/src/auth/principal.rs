//! The signed-in caller, put in the request by the access middleware after it has checked the
//! token, loaded the account and found it active.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use carebook_domain::Role;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
    pub clinic_id: Option<Uuid>,
}

impl Principal {
    /// The clinic this caller is confined to, or `None` when it sees every clinic (roles that
    /// span clinics, and staff not bound to a clinic such as a network administrator).
    pub fn clinic_scope(&self) -> Option<Uuid> {
        if self.role.spans_clinics() {
            None
        } else {
            self.clinic_id
        }
    }

    /// Whether a row of `clinic_id` is visible to this caller.
    pub fn can_see_clinic(&self, clinic_id: Option<Uuid>) -> bool {
        match self.clinic_scope() {
            None => true,
            Some(mine) => clinic_id == Some(mine),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("sign in first"))
    }
}
