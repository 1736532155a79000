//! Carebook's HTTP API.
//!
//! Requests flow one way: router → access middleware (authenticate, authorise, rate limit)
//! → handler (parse into domain values) → domain rule → store transaction (with its audit
//! record) → response. Every error is an [`error::ApiError`] with a stable code.

pub mod access;
pub mod auth;
pub mod clock;
pub mod config;
pub mod desk;
pub mod error;
pub mod extract;
pub mod fields;
pub mod meta;
pub mod metrics;
pub mod notification_views;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod schedule_enums;
pub mod schedule_views;
pub mod scope;
pub mod state;
pub mod views;
pub mod waitlist;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware::from_fn;
use axum::middleware::from_fn_with_state;
use error::{ApiError, Code};
use state::AppState;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

pub use config::ApiConfig;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The OpenAPI document, complete (no state needed).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = utoipa_axum::router::OpenApiRouter::<AppState>::with_openapi(
        <openapi::ApiDoc as utoipa::OpenApi>::openapi(),
    )
    .merge(routes::api())
    .split_for_parts();
    openapi::complete(api)
}

/// The whole application: API routes, documentation page, middleware.
pub fn app(state: AppState) -> Router {
    let (router, api) = utoipa_axum::router::OpenApiRouter::with_openapi(
        <openapi::ApiDoc as utoipa::OpenApi>::openapi(),
    )
    .merge(routes::api())
    .split_for_parts();
    let api = openapi::complete(api);
    let max_body = state.config.max_body_bytes;
    router
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", api))
        .route_layer(from_fn_with_state(state.clone(), access::enforce))
        .route_layer(from_fn(metrics::track))
        .fallback(|| async { ApiError::new(Code::NotFound, "no such route; see /api/docs") })
        .method_not_allowed_fallback(|| async { ApiError::new(Code::MethodNotAllowed, "this path does not accept that method") })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                // The path only: query strings could one day carry something private.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
