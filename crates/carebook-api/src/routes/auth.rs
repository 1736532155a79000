//! Signing in and out, token refresh, patient self-registration, password reset and email
//! verification. These routes are public and rate limited per client address.

use crate::auth::{jwt, password, secrets};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Json;
use crate::meta::{Change, RequestMeta};
use crate::routes::me::check_mfa;
use crate::state::AppState;
use crate::views::{LanguageCode, UserView};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::secret::digest;
use carebook_domain::{Email, Password, PersonName, Role, ValidationError};
use carebook_store::StoreTx;
use carebook_store::models::*;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(register))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(confirm_email))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// The 6-digit authenticator code, or a recovery code, when the account uses MFA.
    pub mfa_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for `Authorization: Bearer …`; short-lived.
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque token for `/auth/refresh`; each use returns a new one and retires the old.
    pub refresh_token: String,
    #[schema(value_type = String, format = DateTime)]
    pub refresh_expires_at: Timestamp,
    pub user: UserView,
}

/// Opens a session: an access token and a refresh token of a new (or continued) family.
async fn issue_session(
    tx: &mut dyn StoreTx,
    state: &AppState,
    user: &User,
    family_id: Uuid,
    meta: &RequestMeta,
    now: Timestamp,
) -> ApiResult<TokenResponse> {
    let raw = secrets::token();
    let expires_at = now
        .checked_add(state.config.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    tx.insert_refresh_token(&RefreshToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        family_id,
        token_hash: digest(&raw),
        created_at: now,
        expires_at,
        used_at: None,
        revoked_at: None,
        revoked_reason: None,
        ip: meta.ip.map(|i| i.to_string()),
        user_agent: meta.user_agent.clone(),
    })
    .await?;
    let access = jwt::issue(
        &state.config.jwt_secret,
        user.id,
        user.role.as_str(),
        now,
        state.config.access_token_ttl,
    )
    .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: state.config.access_token_ttl.as_secs(),
        refresh_token: raw,
        refresh_expires_at: expires_at,
        user: UserView::from(user),
    })
}

fn invalid_credentials() -> ApiError {
    ApiError::new(Code::InvalidCredentials, "the email or password is wrong")
}

fn locked(until: Timestamp, now: Timestamp) -> ApiError {
    let wait = u64::try_from((until - now).get_seconds().max(1)).unwrap_or(1);
    ApiError::new(
        Code::AccountLocked,
        "too many failed attempts; the account is locked for a while",
    )
    .with_details(json!({ "locked_until": until.to_string() }))
    .retry_after(wait)
}

/// Records a failed attempt against a known account (password or MFA code), locking it when
/// the policy says so, in a committed transaction of its own. Returns the error to answer.
async fn record_failure(
    state: &AppState,
    meta: &RequestMeta,
    user_id: Uuid,
    reason: &str,
    answer: ApiError,
) -> ApiResult<ApiError> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let Some(mut user) = tx.lock_user(user_id).await? else {
        return Ok(invalid_credentials());
    };
    let after = state
        .config
        .lockout
        .register_failure(user.failed_login_attempts, now);
    user.failed_login_attempts = after.failed_attempts;
    user.locked_until = after.locked_until.or(user.locked_until);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let outcome = match after.locked_until {
        Some(until) => json!({ "reason": reason, "locked_until": until }),
        None => json!({ "reason": reason, "failed_login_attempts": user.failed_login_attempts }),
    };
    let change = Change::new("auth.login_failed", "user", Some(user.id))
        .clinic(user.clinic_id)
        .new_values(&outcome);
    tx.append_audit(&meta.audit(None, change, now)).await?;
    tx.commit().await?;
    Ok(match after.locked_until {
        Some(until) => locked(until, now),
        None => answer,
    })
}

/// A failed attempt that touches no account row (unknown email, locked or inactive account).
async fn record_refusal(
    state: &AppState,
    meta: &RequestMeta,
    user: Option<&User>,
    email: &str,
    reason: &str,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let change = Change::new("auth.login_failed", "user", user.map(|u| u.id))
        .clinic(user.and_then(|u| u.clinic_id))
        .new_values(&json!({ "email": email, "reason": reason }));
    tx.append_audit(&meta.audit(None, change, now)).await?;
    tx.commit().await?;
    Ok(())
}

/// Sign in with email and password (and a one-time code when MFA is on).
///
/// Five failures in a row (wrong password or wrong code) lock the account for 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse)))]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let email = Email::parse("email", &body.email)?;
    let user = state
        .store
        .read()
        .await?
        .find_user_by_email(email.as_str())
        .await?;
    let now = state.now();
    if let Some(u) = &user
        && state.config.lockout.is_locked(u.locked_until, now)
    {
        record_refusal(&state, &meta, Some(u), email.as_str(), "locked").await?;
        return Err(locked(u.locked_until.unwrap_or(now), now));
    }
    let ok = password::verify(
        body.password,
        user.as_ref().and_then(|u| u.password_hash.clone()),
    )
    .await;
    let Some(user) = user else {
        record_refusal(&state, &meta, None, email.as_str(), "unknown_account").await?;
        return Err(invalid_credentials());
    };
    if !ok {
        return Err(record_failure(
            &state,
            &meta,
            user.id,
            "bad_password",
            invalid_credentials(),
        )
        .await?);
    }
    if !user.is_active {
        record_refusal(&state, &meta, Some(&user), email.as_str(), "inactive").await?;
        return Err(ApiError::new(
            Code::AccountInactive,
            "the account has been deactivated",
        ));
    }

    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = tx
        .lock_user(user.id)
        .await?
        .ok_or_else(invalid_credentials)?;
    if user.mfa_enabled {
        let Some(code) = body.mfa_code.as_deref() else {
            return Err(ApiError::new(
                Code::MfaRequired,
                "enter the code from your authenticator app",
            )
            .with_details(json!({ "field": "mfa_code" })));
        };
        if !check_mfa(tx.as_mut(), &mut user, code, now).await? {
            drop(tx);
            let answer = ApiError::new(
                Code::InvalidMfaCode,
                "the code is wrong, expired or already used",
            );
            return Err(record_failure(&state, &meta, user.id, "bad_mfa_code", answer).await?);
        }
    }
    user.failed_login_attempts = 0;
    user.locked_until = None;
    user.last_login_at = Some(now);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let session = issue_session(tx.as_mut(), &state, &user, Uuid::now_v7(), &meta, now).await?;
    let actor = Some((user.id, user.role.as_str()));
    tx.append_audit(&meta.audit_as(
        actor,
        Change::new("auth.login", "user", Some(user.id)).clinic(user.clinic_id),
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(Json(session))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and a new refresh token.
///
/// Each refresh token works once. Presenting one that was already used means it was copied:
/// every token of its family is revoked and the user must sign in again.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse)))]
async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let now = state.now();
    let invalid = || {
        ApiError::new(
            Code::InvalidRefreshToken,
            "the refresh token is unknown, expired or revoked",
        )
    };
    let mut tx = state.store.write().await?;
    let token = tx
        .lock_refresh_token_by_hash(&digest(body.refresh_token.trim()))
        .await?
        .ok_or_else(invalid)?;
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(invalid());
    }
    if token.used_at.is_some() {
        let revoked = tx
            .revoke_refresh_family(token.family_id, "reuse_detected", now)
            .await?;
        let change = Change::new("auth.refresh_reuse", "user", Some(token.user_id))
            .new_values(&json!({ "family_id": token.family_id, "revoked": revoked }));
        tx.append_audit(&meta.audit(None, change, now)).await?;
        tx.commit().await?;
        return Err(ApiError::new(
            Code::RefreshTokenReused,
            "this refresh token was already used; sign in again",
        ));
    }
    let user = tx.lock_user(token.user_id).await?.ok_or_else(invalid)?;
    if !user.is_active {
        return Err(ApiError::new(
            Code::AccountInactive,
            "the account has been deactivated",
        ));
    }
    tx.mark_refresh_token_used(token.id, now).await?;
    let session = issue_session(tx.as_mut(), &state, &user, token.family_id, &meta, now).await?;
    let actor = Some((user.id, user.role.as_str()));
    let change = Change::new("auth.refresh", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit_as(actor, change, now)).await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// Sign out: revokes the refresh token's whole family. Idempotent.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Signed out")))]
async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    if let Some(token) = tx
        .lock_refresh_token_by_hash(&digest(body.refresh_token.trim()))
        .await?
        && token.revoked_at.is_none()
    {
        tx.revoke_refresh_family(token.family_id, "logout", now)
            .await?;
        let role = tx.get_user(token.user_id).await?.map(|u| u.role.as_str());
        let change = Change::new("auth.logout", "user", Some(token.user_id));
        tx.append_audit(&meta.audit_as(role.map(|r| (token.user_id, r)), change, now))
            .await?;
        tx.commit().await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Slug of the clinic the patient registers with.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 63)]
    pub clinic: String,
    #[schema(min_length = 1, max_length = 150)]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: String,
    /// Optional `+`, then 6-15 digits; spaces, dots, hyphens and brackets are ignored.
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<jiff::civil::Date>,
    pub preferred_language: Option<LanguageCode>,
}

/// Patient self-registration, where the clinic allows it. Sends an email verification link.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = UserView)))]
async fn register(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let mut errors = vec![];
    let name = PersonName::parse("name", &body.name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = Email::parse("email", &body.email)
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse("password", &body.password)
        .map_err(|e| errors.push(e))
        .ok();
    let phone = parse_phone(body.phone.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let now = state.now();
    if let Some(dob) = body.date_of_birth {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        if dob > today || dob.year() < 1900 {
            errors.push(ValidationError::new(
                "date_of_birth",
                "must be a past date after 1900",
            ));
        }
    }
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let clinic = state
        .store
        .read()
        .await?
        .get_clinic_by_slug(body.clinic.trim())
        .await?
        .ok_or_else(|| ApiError::not_found("clinic"))?;
    if !clinic.patient_self_registration || clinic.status != "active" {
        return Err(ApiError::new(
            Code::SelfRegistrationDisabled,
            "this clinic does not accept online registration; please contact the front desk",
        ));
    }
    let hash = password::hash(password.expose().to_owned()).await?;
    let lang = body
        .preferred_language
        .unwrap_or_default()
        .as_str()
        .to_owned();

    let mut user = User::new(
        Uuid::now_v7(),
        email.as_str().to_owned(),
        name.as_str().to_owned(),
        Role::Patient,
        None,
        now,
    );
    user.password_hash = Some(hash);
    user.phone = phone.clone();
    user.preferred_language = lang.clone();
    let patient = Patient {
        id: Uuid::now_v7(),
        user_id: Some(user.id),
        name: user.name.clone(),
        email: Some(user.email.clone()),
        phone,
        date_of_birth: body.date_of_birth,
        gender: None,
        preferred_language: lang,
        notification_opt_out: false,
        channel_opt_outs: Default::default(),
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.write().await?;
    tx.insert_user(&user).await?;
    tx.insert_patient(&patient).await?;
    tx.link_patient_clinic(patient.id, clinic.id, now).await?;
    send_email_verification(tx.as_mut(), &state, &user, now).await?;
    let change = Change::new("user.register", "user", Some(user.id))
        .clinic(Some(clinic.id))
        .new_values(&json!({ "user": UserView::from(&user), "patient_id": patient.id }));
    tx.append_audit(&meta.audit_as(Some((user.id, "patient")), change, now))
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// A phone number: optional `+`, then 6–15 digits; spaces, dots, hyphens and brackets are
/// removed.
pub fn parse_phone(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let (plus, rest) = match raw.strip_prefix('+') {
        Some(r) => ("+", r),
        None => ("", raw),
    };
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    if (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(Some(format!("{plus}{digits}")))
    } else {
        Err(ValidationError::new(
            "phone",
            "must be a phone number: optional +, then 6-15 digits",
        ))
    }
}

/// Creates a single-use token and puts the message carrying it in the outbox.
pub async fn send_one_time_link(
    tx: &mut dyn StoreTx,
    state: &AppState,
    user: &User,
    purpose: TokenPurpose,
    now: Timestamp,
) -> ApiResult<()> {
    let raw = secrets::token();
    let (ttl, path, kind, subject, intro) = match purpose {
        TokenPurpose::PasswordReset => (
            state.config.password_reset_ttl,
            "reset-password",
            "password_reset",
            "Set your Carebook password",
            "Use this link to set a new password for your Carebook account",
        ),
        TokenPurpose::EmailVerification => (
            state.config.email_verification_ttl,
            "verify-email",
            "email_verification",
            "Confirm your email address",
            "Use this link to confirm the email address of your Carebook account",
        ),
    };
    let token = AuthToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        purpose,
        token_hash: digest(&raw),
        created_at: now,
        expires_at: now.checked_add(ttl).map_err(ApiError::internal)?,
        used_at: None,
    };
    tx.insert_auth_token(&token).await?;
    let link = format!(
        "{}/{path}?token={raw}",
        state.config.public_url.trim_end_matches('/')
    );
    let body = format!(
        "Hello {},\n\n{intro}:\n\n{link}\n\nThe link works once and expires at {} (UTC). If you did not ask for it, ignore this message.\n",
        user.name,
        token.expires_at.strftime("%Y-%m-%d %H:%M")
    );
    let n = Notification::pending_email(
        Uuid::now_v7(),
        user.id,
        &user.email,
        kind,
        subject.into(),
        body,
        format!("{kind}:{}", token.id),
        now,
    );
    tx.insert_notification(&n).await?;
    Ok(())
}

pub async fn send_email_verification(
    tx: &mut dyn StoreTx,
    state: &AppState,
    user: &User,
    now: Timestamp,
) -> ApiResult<()> {
    send_one_time_link(tx, state, user, TokenPurpose::EmailVerification, now).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`.
    pub status: String,
    pub message: String,
}

/// Ask for a password reset link by email. The answer is the same whether or not the address
/// has an account, so it cannot be used to find out who is a patient.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/request", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 202, body = Accepted)))]
async fn request_password_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<PasswordResetRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let email = Email::parse("email", &body.email)?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    if let Some(user) = tx.find_user_by_email(email.as_str()).await?
        && user.is_active
    {
        send_one_time_link(tx.as_mut(), &state, &user, TokenPurpose::PasswordReset, now).await?;
        let change = Change::new("auth.password_reset_requested", "user", Some(user.id))
            .clinic(user.clinic_id);
        tx.append_audit(&meta.audit(None, change, now)).await?;
        tx.commit().await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "accepted".into(),
            message: "If an account uses this address, a reset link is on its way.".into(),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    pub token: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Set a new password with the token from the reset link. Signs out every session and lifts
/// a lockout.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password changed")))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    let password = Password::parse("new_password", &body.new_password)?;
    let hash = password::hash(password.expose().to_owned()).await?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = take_token(tx.as_mut(), TokenPurpose::PasswordReset, &body.token, now).await?;
    user.password_hash = Some(hash);
    user.failed_login_attempts = 0;
    user.locked_until = None;
    // The link reached the mailbox, which proves the address.
    user.email_verified_at = user.email_verified_at.or(Some(now));
    user.updated_at = now;
    tx.update_user(&user).await?;
    let revoked = tx
        .revoke_user_refresh_tokens(user.id, "password_reset", now)
        .await?;
    let change = Change::new("auth.password_reset", "user", Some(user.id))
        .clinic(user.clinic_id)
        .new_values(&json!({ "sessions_revoked": revoked }));
    tx.append_audit(&meta.audit(None, change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Consumes a one-time token (and its unused siblings); returns the locked user.
async fn take_token(
    tx: &mut dyn StoreTx,
    purpose: TokenPurpose,
    raw: &str,
    now: Timestamp,
) -> ApiResult<User> {
    let invalid = || {
        ApiError::new(
            Code::InvalidToken,
            "this link is invalid, expired or already used; ask for a new one",
        )
    };
    let token = tx
        .lock_auth_token_by_hash(purpose, &digest(raw.trim()))
        .await?
        .ok_or_else(invalid)?;
    if token.used_at.is_some() || token.expires_at <= now {
        return Err(invalid());
    }
    let user = tx.lock_user(token.user_id).await?.ok_or_else(invalid)?;
    if !user.is_active {
        return Err(invalid());
    }
    tx.use_auth_tokens(user.id, purpose, now).await?;
    Ok(user)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerificationConfirm {
    pub token: String,
}

/// Confirm an email address with the token from the verification link.
#[utoipa::path(post, path = "/api/v1/auth/email-verification/confirm", tag = "auth", request_body = EmailVerificationConfirm,
    responses((status = 204, description = "Email confirmed")))]
async fn confirm_email(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(body): Json<EmailVerificationConfirm>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = take_token(
        tx.as_mut(),
        TokenPurpose::EmailVerification,
        &body.token,
        now,
    )
    .await?;
    user.email_verified_at = Some(now);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let change = Change::new("user.email_verified", "user", Some(user.id)).clinic(user.clinic_id);
    tx.append_audit(&meta.audit_as(Some((user.id, user.role.as_str())), change, now))
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
