//! Every route and what it requires, in one table, enforced by one middleware.
//!
//! The middleware looks up the matched route in [`ROUTES`]; a route missing from the table is
//! refused (default deny), and a test checks that the table and the router list the same
//! routes. For protected routes it verifies the access token, loads the account (so a
//! deactivation or role change takes effect at once), checks the permission and hands the
//! handler a [`Principal`].

use crate::auth::{Principal, jwt};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use carebook_domain::access::Decision;
use carebook_domain::{Access, Permission as P};

#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Counted by the login/token rate limiter.
    pub rate_limited: bool,
}

const fn route(method: Method, path: &'static str, access: Access) -> Route {
    Route {
        method,
        path,
        access,
        rate_limited: false,
    }
}

const fn limited(method: Method, path: &'static str) -> Route {
    Route {
        method,
        path,
        access: Access::Public,
        rate_limited: true,
    }
}

/// A signed-in route that checks a secret (a password or a code): rate limited like login, so
/// a stolen access token cannot be used to guess the account's password.
const fn guarded(method: Method, path: &'static str) -> Route {
    Route {
        method,
        path,
        access: Access::Authenticated,
        rate_limited: true,
    }
}

const PUBLIC: Access = Access::Public;
const SIGNED_IN: Access = Access::Authenticated;
const fn needs(p: P) -> Access {
    Access::Permission(p)
}

pub const ROUTES: &[Route] = &[
    route(Method::GET, "/healthz", PUBLIC),
    route(Method::GET, "/readyz", PUBLIC),
    route(Method::GET, "/metrics", PUBLIC),
    route(Method::GET, "/api/openapi.json", PUBLIC),
    limited(Method::POST, "/api/v1/auth/login"),
    limited(Method::POST, "/api/v1/auth/refresh"),
    limited(Method::POST, "/api/v1/auth/logout"),
    limited(Method::POST, "/api/v1/auth/register"),
    limited(Method::POST, "/api/v1/auth/password-reset/request"),
    limited(Method::POST, "/api/v1/auth/password-reset/confirm"),
    limited(Method::POST, "/api/v1/auth/email-verification/confirm"),
    route(Method::GET, "/api/v1/me", SIGNED_IN),
    route(Method::PATCH, "/api/v1/me", SIGNED_IN),
    guarded(Method::POST, "/api/v1/me/password"),
    route(Method::POST, "/api/v1/me/email-verification", SIGNED_IN),
    route(Method::POST, "/api/v1/me/mfa/enroll", SIGNED_IN),
    guarded(Method::POST, "/api/v1/me/mfa/confirm"),
    guarded(Method::POST, "/api/v1/me/mfa/disable"),
    route(Method::GET, "/api/v1/users", needs(P::UsersRead)),
    route(Method::POST, "/api/v1/users", needs(P::UsersCreate)),
    route(Method::GET, "/api/v1/users/{id}", needs(P::UsersRead)),
    route(Method::PATCH, "/api/v1/users/{id}", needs(P::UsersUpdate)),
    route(
        Method::POST,
        "/api/v1/users/{id}/deactivate",
        needs(P::UsersDeactivate),
    ),
    route(
        Method::POST,
        "/api/v1/users/{id}/reactivate",
        needs(P::UsersDeactivate),
    ),
    route(
        Method::POST,
        "/api/v1/users/{id}/unlock",
        needs(P::UsersUnlock),
    ),
    route(
        Method::GET,
        "/api/v1/users/{id}/identities",
        needs(P::IdentitiesManage),
    ),
    route(
        Method::POST,
        "/api/v1/users/{id}/identities",
        needs(P::IdentitiesManage),
    ),
    route(
        Method::DELETE,
        "/api/v1/users/{id}/identities/{identity_id}",
        needs(P::IdentitiesManage),
    ),
    route(Method::GET, "/api/v1/roles", needs(P::RolesRead)),
    route(Method::GET, "/api/v1/clinics", needs(P::ClinicsRead)),
    route(Method::POST, "/api/v1/clinics", needs(P::ClinicsCreate)),
    route(Method::GET, "/api/v1/clinics/{id}", needs(P::ClinicsRead)),
    route(
        Method::PATCH,
        "/api/v1/clinics/{id}",
        needs(P::ClinicsUpdate),
    ),
    route(Method::GET, "/api/v1/audit-events", needs(P::AuditRead)),
    // Scheduling: clinics' booking rules and the catalog.
    route(
        Method::GET,
        "/api/v1/clinics/{id}/booking-settings",
        needs(P::ClinicsRead),
    ),
    route(
        Method::PATCH,
        "/api/v1/clinics/{id}/booking-settings",
        needs(P::ClinicsUpdate),
    ),
    route(
        Method::GET,
        "/api/v1/specializations",
        needs(P::CatalogRead),
    ),
    route(
        Method::POST,
        "/api/v1/specializations",
        needs(P::CatalogManage),
    ),
    route(
        Method::PATCH,
        "/api/v1/specializations/{id}",
        needs(P::CatalogManage),
    ),
    route(
        Method::GET,
        "/api/v1/clinics/{id}/services",
        needs(P::CatalogRead),
    ),
    route(
        Method::POST,
        "/api/v1/clinics/{id}/services",
        needs(P::CatalogManage),
    ),
    route(Method::GET, "/api/v1/services/{id}", needs(P::CatalogRead)),
    route(
        Method::PATCH,
        "/api/v1/services/{id}",
        needs(P::CatalogManage),
    ),
    // The provider directory.
    route(Method::GET, "/api/v1/providers", needs(P::CatalogRead)),
    route(Method::POST, "/api/v1/providers", needs(P::CatalogManage)),
    route(Method::GET, "/api/v1/providers/{id}", needs(P::CatalogRead)),
    route(
        Method::PATCH,
        "/api/v1/providers/{id}",
        needs(P::CatalogManage),
    ),
    route(
        Method::POST,
        "/api/v1/providers/{id}/clinics/{clinic_id}",
        needs(P::CatalogManage),
    ),
    route(
        Method::PATCH,
        "/api/v1/providers/{id}/clinics/{clinic_id}",
        needs(P::CatalogManage),
    ),
    route(
        Method::PUT,
        "/api/v1/providers/{id}/services/{service_id}",
        needs(P::CatalogManage),
    ),
    route(
        Method::DELETE,
        "/api/v1/providers/{id}/services/{service_id}",
        needs(P::CatalogManage),
    ),
    // Schedules.
    route(
        Method::GET,
        "/api/v1/providers/{id}/availability",
        needs(P::AvailabilityRead),
    ),
    route(
        Method::POST,
        "/api/v1/providers/{id}/availability-rules",
        needs(P::AvailabilityManage),
    ),
    route(
        Method::PATCH,
        "/api/v1/providers/{id}/availability-rules/{rule_id}",
        needs(P::AvailabilityManage),
    ),
    route(
        Method::DELETE,
        "/api/v1/providers/{id}/availability-rules/{rule_id}",
        needs(P::AvailabilityManage),
    ),
    route(
        Method::POST,
        "/api/v1/providers/{id}/exceptions",
        needs(P::AvailabilityManage),
    ),
    route(
        Method::DELETE,
        "/api/v1/providers/{id}/exceptions/{exception_id}",
        needs(P::AvailabilityManage),
    ),
    route(
        Method::GET,
        "/api/v1/providers/{id}/time-off",
        needs(P::AvailabilityRead),
    ),
    route(
        Method::POST,
        "/api/v1/providers/{id}/time-off",
        needs(P::TimeOffRequest),
    ),
    route(
        Method::POST,
        "/api/v1/time-off/{id}/approve",
        needs(P::TimeOffDecide),
    ),
    route(
        Method::POST,
        "/api/v1/time-off/{id}/reject",
        needs(P::TimeOffDecide),
    ),
    route(
        Method::POST,
        "/api/v1/time-off/{id}/withdraw",
        needs(P::TimeOffRequest),
    ),
    // Slot search and appointments.
    route(Method::GET, "/api/v1/slots", needs(P::SlotsRead)),
    route(Method::GET, "/api/v1/patients", needs(P::PatientsRead)),
    route(Method::POST, "/api/v1/patients", needs(P::PatientsCreate)),
    route(Method::GET, "/api/v1/patients/{id}", needs(P::PatientsRead)),
    route(
        Method::GET,
        "/api/v1/patients/{id}/appointments",
        needs(P::AppointmentsRead),
    ),
    route(
        Method::GET,
        "/api/v1/appointments",
        needs(P::AppointmentsRead),
    ),
    route(
        Method::POST,
        "/api/v1/appointments",
        needs(P::AppointmentsBook),
    ),
    route(
        Method::GET,
        "/api/v1/appointments/{id}",
        needs(P::AppointmentsRead),
    ),
    route(
        Method::POST,
        "/api/v1/appointments/{id}/actions",
        needs(P::AppointmentsUpdate),
    ),
    route(
        Method::POST,
        "/api/v1/appointments/{id}/reschedule",
        needs(P::AppointmentsUpdate),
    ),
    route(
        Method::GET,
        "/api/v1/clinics/{id}/day-sheet",
        needs(P::AppointmentsRead),
    ),
    route(
        Method::GET,
        "/api/v1/providers/{id}/agenda",
        needs(P::AppointmentsRead),
    ),
    route(
        Method::GET,
        "/api/v1/me/appointments",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/appointments",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/appointments/{id}/confirm",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/appointments/{id}/cancel",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/appointments/{id}/reschedule",
        needs(P::AppointmentsOwn),
    ),
    // The waitlist: staff.
    route(Method::GET, "/api/v1/waitlist", needs(P::WaitlistRead)),
    route(Method::POST, "/api/v1/waitlist", needs(P::WaitlistManage)),
    route(Method::GET, "/api/v1/waitlist/{id}", needs(P::WaitlistRead)),
    route(
        Method::PATCH,
        "/api/v1/waitlist/{id}",
        needs(P::WaitlistManage),
    ),
    route(
        Method::POST,
        "/api/v1/waitlist/{id}/accept",
        needs(P::WaitlistManage),
    ),
    route(
        Method::POST,
        "/api/v1/waitlist/{id}/decline",
        needs(P::WaitlistManage),
    ),
    route(
        Method::POST,
        "/api/v1/waitlist/{id}/cancel",
        needs(P::WaitlistManage),
    ),
    route(
        Method::POST,
        "/api/v1/waitlist/{id}/assign",
        needs(P::WaitlistManage),
    ),
    // The waitlist: a patient's own entries.
    route(
        Method::GET,
        "/api/v1/me/waitlist",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/waitlist",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/waitlist/{id}/accept",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/waitlist/{id}/decline",
        needs(P::AppointmentsOwn),
    ),
    route(
        Method::POST,
        "/api/v1/me/waitlist/{id}/cancel",
        needs(P::AppointmentsOwn),
    ),
    // Notifications: history, preferences, settings, devices and the inbox.
    route(
        Method::GET,
        "/api/v1/patients/{id}/notifications",
        needs(P::NotificationsRead),
    ),
    route(
        Method::GET,
        "/api/v1/appointments/{id}/notifications",
        needs(P::NotificationsRead),
    ),
    route(
        Method::PATCH,
        "/api/v1/patients/{id}/notification-preferences",
        needs(P::NotificationsManage),
    ),
    route(
        Method::GET,
        "/api/v1/me/notification-preferences",
        needs(P::NotificationsOwn),
    ),
    route(
        Method::PATCH,
        "/api/v1/me/notification-preferences",
        needs(P::NotificationsOwn),
    ),
    route(
        Method::GET,
        "/api/v1/clinics/{id}/notification-settings",
        needs(P::ClinicsRead),
    ),
    route(
        Method::PATCH,
        "/api/v1/clinics/{id}/notification-settings",
        needs(P::ClinicsUpdate),
    ),
    route(Method::GET, "/api/v1/me/push-tokens", SIGNED_IN),
    route(Method::POST, "/api/v1/me/push-tokens", SIGNED_IN),
    route(Method::DELETE, "/api/v1/me/push-tokens/{id}", SIGNED_IN),
    route(Method::GET, "/api/v1/me/notifications", SIGNED_IN),
    route(
        Method::GET,
        "/api/v1/me/notifications/unread-count",
        SIGNED_IN,
    ),
    route(
        Method::POST,
        "/api/v1/me/notifications/{id}/read",
        SIGNED_IN,
    ),
    route(
        Method::POST,
        "/api/v1/me/notifications/{id}/unread",
        SIGNED_IN,
    ),
    route(Method::POST, "/api/v1/me/notifications/read-all", SIGNED_IN),
    // The background queue.
    route(Method::GET, "/api/v1/jobs/dead", needs(P::JobsManage)),
    route(
        Method::POST,
        "/api/v1/jobs/{id}/retry",
        needs(P::JobsManage),
    ),
];

/// Paths served outside the API table: the documentation page and its assets.
pub fn is_docs_path(path: &str) -> bool {
    path == "/api/docs" || path.starts_with("/api/docs/")
}

pub fn lookup(method: &Method, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

pub async fn enforce(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(path) = matched.as_ref().map(|m| m.as_str().to_owned()) else {
        return next.run(req).await; // no route matched: the fallback answers 404
    };
    if is_docs_path(&path) {
        return next.run(req).await;
    }
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let Some(route) = lookup(&method, &path) else {
        tracing::error!(%path, %method, "route missing from the access table; refused");
        return ApiError::forbidden("this route has no access rule").into_response();
    };
    if route.rate_limited {
        let ip = crate::meta::RequestMeta::read(
            req.headers(),
            req.extensions(),
            state.config.trust_forwarded_for,
        )
        .ip;
        if let Some(ip) = ip
            && let Err(wait) = state.limiter.check(ip, std::time::Instant::now())
        {
            metrics::counter!("carebook_rate_limited_total").increment(1);
            return ApiError::new(Code::RateLimited, "too many requests; slow down")
                .with_details(serde_json::json!({ "retry_after_seconds": wait }))
                .retry_after(wait)
                .into_response();
        }
    }
    if route.access == Access::Public {
        return next.run(req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let principal = match authenticate(&state, bearer.as_deref()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match route.access.decide(Some(principal.role)) {
        Decision::Allow => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Decision::Forbidden => {
            let needed = match route.access {
                Access::Permission(p) => p.as_str(),
                _ => "",
            };
            ApiError::forbidden(format!("your role lacks the permission `{needed}`"))
                .with_details(serde_json::json!({ "required_permission": needed }))
                .into_response()
        }
        Decision::Unauthenticated => ApiError::unauthenticated("sign in first").into_response(),
    }
}

async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
) -> Result<Principal, ApiError> {
    let token = authorization
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| {
            ApiError::unauthenticated("send an access token: Authorization: Bearer <token>")
        })?;
    let claims = jwt::verify(&state.config.jwt_secret, token.trim(), state.now())
        .ok_or_else(|| ApiError::unauthenticated("the access token is invalid or expired"))?;
    let user = state
        .store
        .user(claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the account no longer exists"))?;
    if !user.is_active {
        return Err(ApiError::new(
            Code::AccountInactive,
            "the account has been deactivated",
        ));
    }
    Ok(Principal {
        user_id: user.id,
        role: user.role,
        clinic_id: user.clinic_id,
    })
}
