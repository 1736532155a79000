//! The signed-in account's own profile, password and two-factor authentication.

use crate::auth::{Principal, password, secrets};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Json;
use crate::meta::{Change, RequestMeta};
use crate::routes::auth::{parse_phone, send_email_verification};
use crate::state::AppState;
use crate::views::{LanguageCode, UserView, double_option};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::secret::{digest, normalise_recovery_code};
use carebook_domain::{Password, PersonName, ValidationError, totp};
use carebook_store::StoreTx;
use carebook_store::models::User;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(resend_verification))
        .routes(routes!(mfa_enroll))
        .routes(routes!(mfa_confirm))
        .routes(routes!(mfa_disable))
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    /// The permissions of the account's role, for UIs that show or hide actions.
    pub permissions: Vec<String>,
}

async fn load(state: &AppState, p: &Principal) -> ApiResult<User> {
    state
        .store
        .read()
        .await?
        .get_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

fn me_view(u: &User) -> MeView {
    MeView {
        user: UserView::from(u),
        permissions: u
            .role
            .permissions()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
    }
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses((status = 200, body = MeView)))]
async fn get_me(State(state): State<AppState>, p: Principal) -> ApiResult<Json<MeView>> {
    Ok(Json(me_view(&load(&state, &p).await?)))
}

/// Name, phone and language changes, accepted alike by `/me` and `/users/{id}`.
pub struct ProfileChanges {
    name: Option<PersonName>,
    phone: Option<Option<String>>,
    language: Option<LanguageCode>,
}

impl ProfileChanges {
    /// Parses every field, reporting all problems at once.
    pub fn parse(
        name: Option<&str>,
        phone: Option<&Option<String>>,
        language: Option<LanguageCode>,
    ) -> ApiResult<Self> {
        let mut errors = vec![];
        let name = name
            .map(|n| PersonName::parse("name", n))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let phone = phone
            .map(|p| parse_phone(p.as_deref()))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Self {
            name,
            phone,
            language,
        })
    }

    pub fn apply(self, user: &mut User) {
        if let Some(n) = self.name {
            user.name = n.as_str().to_owned();
        }
        if let Some(ph) = self.phone {
            user.phone = ph;
        }
        if let Some(l) = self.language {
            user.preferred_language = l.as_str().to_owned();
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[schema(min_length = 1, max_length = 150)]
    pub name: Option<String>,
    /// `null` removes the phone number.
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    pub preferred_language: Option<LanguageCode>,
}

/// Change the signed-in account's name, phone or language.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = UpdateMe, responses((status = 200, body = MeView)))]
async fn update_me(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(body): Json<UpdateMe>,
) -> ApiResult<Json<MeView>> {
    let changes = ProfileChanges::parse(
        body.name.as_deref(),
        body.phone.as_ref(),
        body.preferred_language,
    )?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    let before = UserView::from(&user);
    changes.apply(&mut user);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let change = Change::new("user.update_self", "user", Some(user.id))
        .clinic(user.clinic_id)
        .old(&before)
        .new_values(&UserView::from(&user));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(me_view(&user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(format = Password)]
    pub current_password: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Change the password. Every other session (refresh token) is signed out.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = ChangePassword, responses((status = 204, description = "Password changed")))]
async fn change_password(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(body): Json<ChangePassword>,
) -> ApiResult<StatusCode> {
    let new = Password::parse("new_password", &body.new_password)?;
    let user = load(&state, &p).await?;
    if !password::verify(body.current_password, user.password_hash.clone()).await {
        return Err(ValidationError::new("current_password", "is not the current password").into());
    }
    let hash = password::hash(new.expose().to_owned()).await?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    user.password_hash = Some(hash);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let revoked = tx
        .revoke_user_refresh_tokens(user.id, "password_changed", now)
        .await?;
    let change = Change::new("user.password_changed", "user", Some(user.id))
        .clinic(user.clinic_id)
        .new_values(&json!({ "sessions_revoked": revoked }));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a new email verification link.
#[utoipa::path(post, path = "/api/v1/me/email-verification", tag = "me", responses((status = 202, body = crate::routes::auth::Accepted)))]
async fn resend_verification(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
) -> ApiResult<(StatusCode, Json<crate::routes::auth::Accepted>)> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if user.email_verified_at.is_some() {
        return Err(ApiError::new(
            Code::InvalidState,
            "the email address is already confirmed",
        ));
    }
    send_email_verification(tx.as_mut(), &state, &user, now).await?;
    let change =
        Change::new("user.email_verification_sent", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(crate::routes::auth::Accepted {
            status: "accepted".into(),
            message: "A verification link is on its way.".into(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct MfaEnrollment {
    /// The TOTP secret in base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI to show as a QR code.
    pub otpauth_uri: String,
}

/// Start enrolling in two-factor authentication. Nothing changes at sign-in until the first
/// code is confirmed.
#[utoipa::path(post, path = "/api/v1/me/mfa/enroll", tag = "me", responses((status = 200, body = MfaEnrollment)))]
async fn mfa_enroll(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
) -> ApiResult<Json<MfaEnrollment>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if user.mfa_enabled {
        return Err(ApiError::new(
            Code::InvalidState,
            "two-factor authentication is already on; disable it first to enrol a new device",
        ));
    }
    let secret = totp::encode_secret(&secrets::totp_secret());
    user.mfa_secret = Some(secret.clone());
    user.mfa_last_used_step = None;
    user.updated_at = now;
    tx.update_user(&user).await?;
    let change =
        Change::new("user.mfa_enroll_started", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(MfaEnrollment {
        otpauth_uri: totp::otpauth_uri(&state.config.mfa_issuer, &user.email, &secret),
        secret,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCode {
    /// A 6-digit authenticator code (or, to disable, a recovery code).
    #[schema(min_length = 6, max_length = 16)]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes for when the authenticator is lost. Shown once; store them safely.
    pub recovery_codes: Vec<String>,
}

/// Checks a TOTP code (never the same time step twice) or a recovery code (each once). On a
/// TOTP match the user's last used step is advanced; the caller saves the user.
pub async fn check_mfa(
    tx: &mut dyn StoreTx,
    user: &mut User,
    code: &str,
    now: Timestamp,
) -> ApiResult<bool> {
    let Some(secret) = user.mfa_secret.as_deref().and_then(totp::decode_secret) else {
        return Ok(false);
    };
    if let Some(step) = totp::verify(&secret, code, now, user.mfa_last_used_step) {
        user.mfa_last_used_step = Some(step);
        return Ok(true);
    }
    let normalised = normalise_recovery_code(code);
    if normalised.len() == 10 {
        return Ok(tx
            .use_recovery_code(user.id, &digest(&normalised), now)
            .await?);
    }
    Ok(false)
}

/// Confirm enrolment with the first code from the authenticator; returns recovery codes.
#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "me", request_body = MfaCode, responses((status = 200, body = RecoveryCodes)))]
async fn mfa_confirm(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(body): Json<MfaCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if user.mfa_enabled || user.mfa_secret.is_none() {
        return Err(ApiError::new(
            Code::InvalidState,
            "start with /api/v1/me/mfa/enroll",
        ));
    }
    let secret = user
        .mfa_secret
        .as_deref()
        .and_then(totp::decode_secret)
        .unwrap_or_default();
    let Some(step) = totp::verify(&secret, &body.code, now, user.mfa_last_used_step) else {
        return Err(
            ValidationError::new("code", "is wrong or expired; check the device's clock").into(),
        );
    };
    user.mfa_enabled = true;
    user.mfa_last_used_step = Some(step);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let codes: Vec<String> = (0..10).map(|_| secrets::recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| digest(&normalise_recovery_code(c)))
        .collect();
    tx.replace_recovery_codes(user.id, &hashes, now).await?;
    let change = Change::new("user.mfa_enabled", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Turn two-factor authentication off, proven with a current code or a recovery code.
#[utoipa::path(post, path = "/api/v1/me/mfa/disable", tag = "me", request_body = MfaCode, responses((status = 204, description = "MFA disabled")))]
async fn mfa_disable(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(body): Json<MfaCode>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(p.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if !user.mfa_enabled {
        return Err(ApiError::new(
            Code::InvalidState,
            "two-factor authentication is not on",
        ));
    }
    if !check_mfa(tx.as_mut(), &mut user, &body.code, now).await? {
        return Err(ValidationError::new("code", "is wrong, expired or already used").into());
    }
    user.mfa_enabled = false;
    user.mfa_secret = None;
    user.mfa_last_used_step = None;
    user.updated_at = now;
    tx.update_user(&user).await?;
    tx.replace_recovery_codes(user.id, &[], now).await?;
    let change = Change::new("user.mfa_disabled", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
