//! One module per resource, each with a `router()`; `api()` puts them together with the
//! OpenAPI description generated from the handlers.

pub mod appointments;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod catalog;
pub mod clinics;
pub mod health;
pub mod jobs;
pub mod me;
pub mod my_appointments;
pub mod my_notifications;
pub mod my_waitlist;
pub mod notifications;
pub mod patients;
pub mod providers;
pub mod roles;
pub mod slots;
pub mod users;
pub mod waitlist;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(users::router())
        .merge(clinics::router())
        .merge(roles::router())
        .merge(audit::router())
        .merge(catalog::router())
        .merge(providers::router())
        .merge(availability::router())
        .merge(slots::router())
        .merge(patients::router())
        .merge(appointments::router())
        .merge(my_appointments::router())
        .merge(jobs::router())
        .merge(waitlist::router())
        .merge(my_waitlist::router())
        .merge(notifications::router())
        .merge(my_notifications::router())
}
