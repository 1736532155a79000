//! The OpenAPI 3.1 description, generated from the handlers' annotations and completed from
//! the access table: every operation gets the bearer security requirement when it needs a
//! token, a sentence naming the permission it requires, and the common error response.

use crate::access::ROUTES;
use crate::error::{ErrorBody, ErrorObject};
use carebook_domain::Access;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Carebook API",
        description = "Clinic platform server: identity, roles, clinics, scheduling and a tamper-evident audit trail.\n\nErrors are `{\"error\": {\"code\", \"message\", \"details\"}}` with a stable `code`; see docs/api-errors.md. Lists are paginated with `limit` and `cursor` (`next_cursor` of the previous page).",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(
        ErrorBody,
        ErrorObject,
        crate::notification_views::NotificationStatus,
        crate::notification_views::NotificationType
    )),
    tags(
        (name = "auth", description = "Sign in, tokens, registration, password reset, email verification"),
        (name = "me", description = "The signed-in account"),
        (name = "users", description = "Account administration"),
        (name = "clinics", description = "Clinics (tenants)"),
        (name = "roles", description = "Roles and permissions"),
        (name = "audit", description = "The audit trail"),
        (name = "catalog", description = "Specializations and each clinic's services"),
        (name = "providers", description = "The provider directory: profiles, clinics, services"),
        (name = "availability", description = "Weekly hours, date exceptions and time off"),
        (name = "scheduling", description = "Slot search"),
        (name = "patients", description = "Patients at the front desk"),
        (name = "appointments", description = "Booking, the appointment lifecycle, day sheets and agendas"),
        (name = "notifications", description = "Notification history, patients' preferences and how clinics' messages go out"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    let mut ops = vec![];
    if let Some(o) = item.get.as_mut() {
        ops.push(("GET", o));
    }
    if let Some(o) = item.post.as_mut() {
        ops.push(("POST", o));
    }
    if let Some(o) = item.put.as_mut() {
        ops.push(("PUT", o));
    }
    if let Some(o) = item.patch.as_mut() {
        ops.push(("PATCH", o));
    }
    if let Some(o) = item.delete.as_mut() {
        ops.push(("DELETE", o));
    }
    ops
}

/// Completes the generated document (see the module documentation).
pub fn complete(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    if let Some(components) = api.components.as_mut() {
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
    let error = ResponseBuilder::new()
        .description("Error: `{\"error\": {\"code\", \"message\", \"details\"}}`")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            op.responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| error.clone().into());
            let Some(route) = ROUTES
                .iter()
                .find(|r| r.method.as_str() == method && r.path == path)
            else {
                continue;
            };
            let note = match route.access {
                Access::Public => None,
                Access::Authenticated => Some("Requires a signed-in account.".to_owned()),
                Access::Permission(p) => Some(format!("Requires the permission `{}`.", p.as_str())),
            };
            if let Some(note) = note {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                op.description = Some(match op.description.take() {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                    _ => note,
                });
            }
        }
    }
    api
}

/// Every documented (method, path) pair.
pub fn documented_routes(api: &utoipa::openapi::OpenApi) -> Vec<(String, String)> {
    let mut out = vec![];
    for (path, item) in &api.paths.paths {
        let mut item = item.clone();
        for (method, _) in operations(&mut item) {
            out.push((method.to_owned(), path.clone()));
        }
    }
    out
}
