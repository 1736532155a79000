//! Staff accounts, managed by administrators: create, read, change, deactivate, unlock, and
//! link external identities. Nobody can create or manage an account whose role holds a
//! permission they lack, and clinic-bound staff see only their clinic's accounts.

use crate::auth::{Principal, password};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Json, Path, Query};
use crate::meta::{Change, RequestMeta};
use crate::routes::auth::{parse_phone, send_one_time_link};
use crate::routes::me::ProfileChanges;
use crate::state::AppState;
use crate::views::{
    IdentityView, LanguageCode, PageParams, RoleName, UserPage, UserView, double_option, split_page,
};
use axum::extract::State;
use axum::http::StatusCode;
use carebook_domain::access::{may_grant, may_manage};
use carebook_domain::{Email, Password, PersonName, Role, ValidationError};
use carebook_store::StoreTx;
use carebook_store::models::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(reactivate_user))
        .routes(routes!(unlock_user))
        .routes(routes!(list_identities, link_identity))
        .routes(routes!(unlink_identity))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub role: Option<RoleName>,
    pub clinic_id: Option<Uuid>,
    /// Case-insensitive part of the name or email.
    pub q: Option<String>,
    /// Include deactivated accounts.
    pub include_inactive: Option<bool>,
}

/// List accounts visible to the caller, oldest first.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery, PageParams), responses((status = 200, body = UserPage)))]
async fn list_users(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<UserQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<UserPage>> {
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let clinic_id = match (p.clinic_scope(), q.clinic_id) {
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::forbidden(
                "you can only list your clinic's accounts",
            ));
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    let filter = UserFilter {
        clinic_id,
        role: q.role.map(Role::from),
        query: q
            .q
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().chars().take(100).collect()),
        include_inactive: q.include_inactive.unwrap_or(false),
    };
    let users = state
        .store
        .read()
        .await?
        .list_users(
            &filter,
            PageRequest {
                after,
                limit: limit + 1,
            },
        )
        .await?;
    let (users, next_cursor) = split_page(users, limit, |u| u.id.to_string());
    Ok(Json(UserPage {
        items: users.iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 150)]
    pub name: String,
    /// A staff role; patients register themselves.
    pub role: RoleName,
    /// Home clinic; defaults to the creator's clinic.
    pub clinic_id: Option<Uuid>,
    pub phone: Option<String>,
    /// Initial password. When absent, the new user gets an email link to set one.
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: Option<String>,
    pub preferred_language: Option<LanguageCode>,
}

/// Create a staff account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser, responses((status = 201, body = UserView)))]
async fn create_user(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let mut errors = vec![];
    let email = Email::parse("email", &body.email)
        .map_err(|e| errors.push(e))
        .ok();
    let name = PersonName::parse("name", &body.name)
        .map_err(|e| errors.push(e))
        .ok();
    let phone = parse_phone(body.phone.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let pw = body
        .password
        .as_deref()
        .map(|s| Password::parse("password", s))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let role = Role::from(body.role);
    if !role.is_staff() {
        errors.push(ValidationError::new(
            "role",
            "must be a staff role; patients and family members sign up themselves",
        ));
    }
    let (Some(email), Some(name)) = (email, name) else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if !may_grant(p.role, role) {
        return Err(ApiError::forbidden(format!(
            "you cannot create a `{role}` account: it holds permissions you do not have"
        )));
    }
    let clinic_id = match (p.clinic_scope(), body.clinic_id) {
        (Some(mine), Some(asked)) if asked != mine => {
            return Err(ApiError::forbidden(
                "you can only create accounts for your clinic",
            ));
        }
        (Some(mine), _) => Some(mine),
        (None, asked) => asked,
    };
    let hash = match pw {
        Some(pw) => Some(password::hash(pw.expose().to_owned()).await?),
        None => None,
    };
    let now = state.now();
    let mut user = User::new(
        Uuid::now_v7(),
        email.as_str().to_owned(),
        name.as_str().to_owned(),
        role,
        clinic_id,
        now,
    );
    user.phone = phone;
    user.password_hash = hash;
    user.preferred_language = body
        .preferred_language
        .unwrap_or_default()
        .as_str()
        .to_owned();
    let mut tx = state.store.write().await?;
    if let Some(c) = clinic_id
        && tx.get_clinic(c).await?.is_none()
    {
        return Err(ValidationError::new("clinic_id", "no such clinic").into());
    }
    tx.insert_user(&user).await?;
    if user.password_hash.is_none() {
        send_one_time_link(tx.as_mut(), &state, &user, TokenPurpose::PasswordReset, now).await?;
    }
    let change = Change::new("user.create", "user", Some(user.id))
        .clinic(user.clinic_id)
        .new_values(&UserView::from(&user));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Loads a user the caller may see, as 404 otherwise (no hint that it exists elsewhere).
async fn visible_user(
    tx: &mut dyn StoreTx,
    p: &Principal,
    id: Uuid,
    lock: bool,
) -> ApiResult<User> {
    let user = if lock {
        tx.lock_user(id).await?
    } else {
        tx.get_user(id).await?
    };
    match user {
        Some(u) if p.can_see_clinic(u.clinic_id) => Ok(u),
        _ => Err(ApiError::not_found("user")),
    }
}

/// A user the caller may change: visible, and with no more administrative power than the
/// caller.
async fn manageable_user(tx: &mut dyn StoreTx, p: &Principal, id: Uuid) -> ApiResult<User> {
    let user = visible_user(tx, p, id, true).await?;
    if !may_manage(p.role, user.role) {
        return Err(ApiError::forbidden(format!(
            "you cannot manage a `{}` account",
            user.role
        )));
    }
    Ok(user)
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), responses((status = 200, body = UserView)))]
async fn get_user(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    let mut tx = state.store.read().await?;
    Ok(Json(UserView::from(
        &visible_user(tx.as_mut(), &p, id, false).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 150)]
    pub name: Option<String>,
    /// `null` removes the phone number.
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    pub role: Option<RoleName>,
    /// `null` makes the account network-wide (only for callers who see every clinic).
    #[serde(default, deserialize_with = "double_option")]
    pub clinic_id: Option<Option<Uuid>>,
    pub preferred_language: Option<LanguageCode>,
}

/// Change an account's name, phone, role, clinic or language.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UpdateUser, responses((status = 200, body = UserView)))]
async fn update_user(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    let changes = ProfileChanges::parse(
        body.name.as_deref(),
        body.phone.as_ref(),
        body.preferred_language,
    )?;
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = manageable_user(tx.as_mut(), &p, id).await?;
    let before = UserView::from(&user);
    if let Some(role) = body.role.map(Role::from) {
        if !may_grant(p.role, role) {
            return Err(ApiError::forbidden(format!(
                "you cannot grant the `{role}` role"
            )));
        }
        if role.is_staff() != user.role.is_staff() {
            return Err(ValidationError::new(
                "role",
                "cannot turn a staff account into a patient account or back",
            )
            .into());
        }
        user.role = role;
    }
    if let Some(clinic) = body.clinic_id {
        if p.clinic_scope().is_some() && clinic != p.clinic_scope() {
            return Err(ApiError::forbidden("you can only assign your own clinic"));
        }
        if let Some(c) = clinic
            && tx.get_clinic(c).await?.is_none()
        {
            return Err(ValidationError::new("clinic_id", "no such clinic").into());
        }
        user.clinic_id = clinic;
    }
    changes.apply(&mut user);
    user.updated_at = now;
    tx.update_user(&user).await?;
    let change = Change::new("user.update", "user", Some(user.id))
        .clinic(user.clinic_id)
        .old(&before)
        .new_values(&UserView::from(&user));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(Json(UserView::from(&user)))
}

/// Deactivate an account: it can no longer sign in and its sessions end. History is kept.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", params(("id" = Uuid, Path)), responses((status = 200, body = UserView)))]
async fn deactivate_user(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    if id == p.user_id {
        return Err(ApiError::new(
            Code::InvalidState,
            "you cannot deactivate your own account",
        ));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = manageable_user(tx.as_mut(), &p, id).await?;
    if user.is_active {
        user.is_active = false;
        user.deactivated_at = Some(now);
        user.updated_at = now;
        tx.update_user(&user).await?;
        let revoked = tx
            .revoke_user_refresh_tokens(user.id, "deactivated", now)
            .await?;
        let change = Change::new("user.deactivate", "user", Some(user.id))
            .clinic(user.clinic_id)
            .new_values(&json!({ "sessions_revoked": revoked }));
        tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
        tx.commit().await?;
    }
    Ok(Json(UserView::from(&user)))
}

/// Reactivate a deactivated account.
#[utoipa::path(post, path = "/api/v1/users/{id}/reactivate", tag = "users", params(("id" = Uuid, Path)), responses((status = 200, body = UserView)))]
async fn reactivate_user(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = manageable_user(tx.as_mut(), &p, id).await?;
    if !user.is_active {
        user.is_active = true;
        user.deactivated_at = None;
        user.updated_at = now;
        tx.update_user(&user).await?;
        let change = Change::new("user.reactivate", "user", Some(user.id)).clinic(user.clinic_id);
        tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
        tx.commit().await?;
    }
    Ok(Json(UserView::from(&user)))
}

/// Lift a sign-in lockout and reset the failure count.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", params(("id" = Uuid, Path)), responses((status = 200, body = UserView)))]
async fn unlock_user(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let mut user = manageable_user(tx.as_mut(), &p, id).await?;
    if user.locked_until.is_some() || user.failed_login_attempts > 0 {
        let before = json!({ "locked_until": user.locked_until, "failed_login_attempts": user.failed_login_attempts });
        user.locked_until = None;
        user.failed_login_attempts = 0;
        user.updated_at = now;
        tx.update_user(&user).await?;
        let change = Change::new("user.unlock", "user", Some(user.id))
            .clinic(user.clinic_id)
            .old(&before);
        tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
        tx.commit().await?;
    }
    Ok(Json(UserView::from(&user)))
}

/// External identities linked to an account.
#[utoipa::path(get, path = "/api/v1/users/{id}/identities", tag = "users", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<IdentityView>)))]
async fn list_identities(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<IdentityView>>> {
    let mut tx = state.store.read().await?;
    let user = visible_user(tx.as_mut(), &p, id, false).await?;
    let list = tx.list_external_identities(user.id).await?;
    Ok(Json(list.iter().map(IdentityView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIdentity {
    /// e.g. `firebase`, or an OpenID Connect issuer URL.
    #[schema(min_length = 1, max_length = 255)]
    pub issuer: String,
    /// The account's id at the issuer.
    #[schema(min_length = 1, max_length = 255)]
    pub subject: String,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
}

/// Link an external identity (such as a Firebase uid) to an account.
#[utoipa::path(post, path = "/api/v1/users/{id}/identities", tag = "users", params(("id" = Uuid, Path)), request_body = LinkIdentity, responses((status = 201, body = IdentityView)))]
async fn link_identity(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(body): Json<LinkIdentity>,
) -> ApiResult<(StatusCode, Json<IdentityView>)> {
    let mut errors = vec![];
    let issuer = body.issuer.trim();
    let subject = body.subject.trim();
    if issuer.is_empty() || issuer.len() > 255 || issuer.chars().any(char::is_control) {
        errors.push(ValidationError::new(
            "issuer",
            "must be 1-255 printable characters",
        ));
    }
    if subject.is_empty() || subject.len() > 255 || subject.chars().any(char::is_control) {
        errors.push(ValidationError::new(
            "subject",
            "must be 1-255 printable characters",
        ));
    }
    let email = body
        .email
        .as_deref()
        .map(|e| Email::parse("email", e))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = state.now();
    let mut tx = state.store.write().await?;
    let user = manageable_user(tx.as_mut(), &p, id).await?;
    let ident = ExternalIdentity {
        id: Uuid::now_v7(),
        user_id: user.id,
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        email: email.map(|e| e.as_str().to_owned()),
        created_at: now,
        last_used_at: None,
    };
    tx.insert_external_identity(&ident).await?;
    let change = Change::new("user.identity_linked", "user", Some(user.id))
        .clinic(user.clinic_id)
        .new_values(&IdentityView::from(&ident));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(IdentityView::from(&ident))))
}

/// Remove a linked external identity.
#[utoipa::path(delete, path = "/api/v1/users/{id}/identities/{identity_id}", tag = "users", params(("id" = Uuid, Path), ("identity_id" = Uuid, Path)), responses((status = 204, description = "Unlinked")))]
async fn unlink_identity(
    State(state): State<AppState>,
    p: Principal,
    meta: RequestMeta,
    Path((id, identity_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let mut tx = state.store.write().await?;
    let user = manageable_user(tx.as_mut(), &p, id).await?;
    let removed = tx
        .delete_external_identity(user.id, identity_id)
        .await?
        .ok_or_else(|| ApiError::not_found("identity"))?;
    let change = Change::new("user.identity_unlinked", "user", Some(user.id))
        .clinic(user.clinic_id)
        .old(&IdentityView::from(&removed));
    tx.append_audit(&meta.audit(Some(&p), change, now)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
