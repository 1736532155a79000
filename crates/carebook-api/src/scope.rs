//! What a signed-in caller may see and act on in scheduling, beyond what the permission table
//! says: staff of a clinic see that clinic only (unless their role spans clinics), a provider
//! also sees the appointments they deliver at other clinics, and providers change only their
//! own schedule.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use carebook_domain::Role;
use carebook_store::StoreTx;
use carebook_store::scheduling::Appointment;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Scope {
    pub user_id: Uuid,
    pub role: Role,
    /// The one clinic the caller is confined to; `None`: every clinic.
    pub clinic: Option<Uuid>,
    /// The caller's own provider profile, when they are a provider.
    pub own_provider: Option<Uuid>,
}

impl Scope {
    pub async fn of(tx: &mut dyn StoreTx, p: &Principal) -> ApiResult<Scope> {
        let own_provider = if p.role == Role::Provider {
            tx.get_provider_by_user(p.user_id).await?.map(|pr| pr.id)
        } else {
            None
        };
        Ok(Scope {
            user_id: p.user_id,
            role: p.role,
            clinic: p.clinic_scope(),
            own_provider,
        })
    }

    pub fn sees_clinic(&self, clinic_id: Uuid) -> bool {
        self.clinic.is_none_or(|mine| mine == clinic_id)
    }

    /// A 404 for rows of clinics the caller cannot see: their existence is not revealed.
    pub fn check_clinic(&self, clinic_id: Uuid, what: &str) -> ApiResult<()> {
        if self.sees_clinic(clinic_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(what))
        }
    }

    pub fn sees_appointment(&self, a: &Appointment) -> bool {
        self.sees_clinic(a.clinic_id) || self.own_provider == Some(a.provider_id)
    }

    /// Whether the caller may change this provider's schedule at `clinic_id` (every clinic
    /// when `None`): providers only their own; clinic staff only at their clinic, where the
    /// provider works; network staff anywhere.
    pub async fn may_manage_provider(
        &self,
        tx: &mut dyn StoreTx,
        provider_id: Uuid,
        clinic_id: Option<Uuid>,
    ) -> ApiResult<()> {
        if self.role == Role::Provider {
            return if self.own_provider == Some(provider_id) {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    "providers change only their own schedule",
                ))
            };
        }
        let Some(mine) = self.clinic else {
            return Ok(());
        };
        if clinic_id.is_some_and(|c| c != mine) {
            return Err(ApiError::forbidden(
                "you can only change schedules at your own clinic",
            ));
        }
        if works_at(tx, provider_id, mine).await? {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this provider does not work at your clinic",
            ))
        }
    }

    /// Whether the caller may see this provider's schedule: the provider themselves, anyone
    /// unconfined, or staff of a clinic where the provider works.
    pub async fn may_see_provider(
        &self,
        tx: &mut dyn StoreTx,
        provider_id: Uuid,
    ) -> ApiResult<bool> {
        if self.own_provider == Some(provider_id) {
            return Ok(true);
        }
        let Some(mine) = self.clinic else {
            return Ok(true);
        };
        Ok(tx
            .provider_clinics(provider_id)
            .await?
            .iter()
            .any(|pc| pc.clinic_id == mine))
    }
}

/// Whether the provider has a live engagement (not ended) at the clinic.
pub async fn works_at(tx: &mut dyn StoreTx, provider_id: Uuid, clinic_id: Uuid) -> ApiResult<bool> {
    Ok(tx
        .provider_clinics(provider_id)
        .await?
        .iter()
        .any(|pc| pc.clinic_id == clinic_id && pc.is_live()))
}
