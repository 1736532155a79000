//! The role × route matrix: every route of the access table, called by every role and by an
//! anonymous caller, must answer success, 403 or 401 exactly as the permission table says.
//! Each call gets fresh fixtures so that an allowed call can really succeed.

use crate::helpers::*;
use axum::http::Method;
use carebook_api::access::{ROUTES, Route};
use carebook_domain::access::Decision;
use carebook_domain::{Role, totp};
use carebook_store::models::*;
use carebook_store::testing::TestDb;
use serde_json::{Value, json};
use uuid::Uuid;

const TOTP_SECRET: &[u8] = b"matrix-totp-secret!!";

/// Builds a request for `route` that succeeds for a caller allowed to make it.
async fn fixture(app: &TestApp, route: &Route, caller: Option<&User>) -> (String, Option<Value>) {
    let unique = Uuid::now_v7().simple().to_string();
    let target = || async { app.user(Role::Receptionist, Some(app.clinic.id)).await };
    let path = route.path;
    match (route.method.clone(), path) {
        (Method::POST, "/api/v1/auth/login") => {
            let u = app.user(Role::Receptionist, Some(app.clinic.id)).await;
            (
                path.into(),
                Some(json!({"email": u.email, "password": PASSWORD})),
            )
        }
        (Method::POST, "/api/v1/auth/refresh") | (Method::POST, "/api/v1/auth/logout") => {
            let u = target().await;
            (
                path.into(),
                Some(json!({"refresh_token": app.refresh_token(&u).await})),
            )
        }
        (Method::POST, "/api/v1/auth/register") => (
            path.into(),
            Some(
                json!({"clinic": app.clinic.slug, "name": "New Patient", "email": format!("p{unique}@example.org"), "password": PASSWORD}),
            ),
        ),
        (Method::POST, "/api/v1/auth/password-reset/request") => {
            let u = target().await;
            (path.into(), Some(json!({"email": u.email})))
        }
        (Method::POST, "/api/v1/auth/password-reset/confirm") => {
            let u = target().await;
            let t = app.one_time_token(&u, TokenPurpose::PasswordReset).await;
            (
                path.into(),
                Some(json!({"token": t, "new_password": "a brand new password"})),
            )
        }
        (Method::POST, "/api/v1/auth/email-verification/confirm") => {
            let u = target().await;
            let t = app
                .one_time_token(&u, TokenPurpose::EmailVerification)
                .await;
            (path.into(), Some(json!({"token": t})))
        }
        (Method::PATCH, "/api/v1/me") => (path.into(), Some(json!({"name": "Renamed"}))),
        (Method::POST, "/api/v1/me/password") => (
            path.into(),
            Some(json!({"current_password": PASSWORD, "new_password": PASSWORD})),
        ),
        (Method::POST, "/api/v1/me/email-verification")
        | (Method::POST, "/api/v1/me/mfa/enroll") => (path.into(), None),
        (Method::POST, "/api/v1/me/mfa/confirm") | (Method::POST, "/api/v1/me/mfa/disable") => {
            if let Some(c) = caller {
                let mut u = app.get_user(c.id).await;
                u.mfa_secret = Some(totp::encode_secret(TOTP_SECRET));
                u.mfa_enabled = path.ends_with("disable");
                u.mfa_last_used_step = None;
                app.update(&u).await;
            }
            (
                path.into(),
                Some(json!({"code": totp::code_now(TOTP_SECRET, app.now())})),
            )
        }
        (Method::POST, "/api/v1/users") => (
            path.into(),
            Some(
                json!({"email": format!("staff{unique}@example.org"), "name": "New Staff", "role": "receptionist", "password": PASSWORD}),
            ),
        ),
        (Method::PATCH, "/api/v1/users/{id}") => {
            let u = target().await;
            (
                format!("/api/v1/users/{}", u.id),
                Some(json!({"name": "Changed Name"})),
            )
        }
        (Method::POST, "/api/v1/users/{id}/identities") => {
            let u = target().await;
            (
                format!("/api/v1/users/{}/identities", u.id),
                Some(json!({"issuer": "firebase", "subject": unique})),
            )
        }
        (Method::DELETE, "/api/v1/users/{id}/identities/{identity_id}") => {
            let u = target().await;
            let ident = ExternalIdentity {
                id: Uuid::now_v7(),
                user_id: u.id,
                issuer: "firebase".into(),
                subject: unique,
                email: None,
                created_at: app.now(),
                last_used_at: None,
            };
            let mut tx = app.store.write().await.unwrap();
            tx.insert_external_identity(&ident).await.unwrap();
            tx.append_audit(&record("test.setup")).await.unwrap();
            tx.commit().await.unwrap();
            (
                format!("/api/v1/users/{}/identities/{}", u.id, ident.id),
                None,
            )
        }
        (Method::POST, "/api/v1/users/{id}/reactivate") => {
            let mut u = target().await;
            u.is_active = false;
            app.update(&u).await;
            (format!("/api/v1/users/{}/reactivate", u.id), None)
        }
        (_, p) if p.starts_with("/api/v1/users/{id}") => {
            let u = target().await;
            (p.replace("{id}", &u.id.to_string()), None)
        }
        (Method::POST, "/api/v1/clinics") => (
            path.into(),
            Some(
                json!({"name": "New Clinic", "slug": format!("c-{unique}"), "timezone": "Europe/London"}),
            ),
        ),
        (Method::PATCH, "/api/v1/clinics/{id}") => (
            format!("/api/v1/clinics/{}", app.clinic.id),
            Some(json!({"phone": "+254700000000"})),
        ),
        (Method::GET, "/api/v1/clinics/{id}") => {
            (format!("/api/v1/clinics/{}", app.clinic.id), None)
        }
        (_, p) => {
            assert!(!p.contains('{'), "no fixture for {} {p}", route.method);
            (p.into(), None)
        }
    }
}

async fn every_route_answers_as_the_permission_table_says(db: &TestDb) {
    let app = TestApp::new(db).await;
    let callers: Vec<Option<Role>> = std::iter::once(None)
        .chain(Role::ALL.into_iter().map(Some))
        .collect();
    let mut failures = vec![];
    let mut checked = 0;
    for route in ROUTES {
        for role in &callers {
            let caller = match role {
                Some(r) => Some(app.signed_in(*r).await),
                None => None,
            };
            let (path, body) = fixture(&app, route, caller.as_ref().map(|(u, _)| u)).await;
            let token = caller.as_ref().map(|(_, t)| t.as_str());
            let res = app.call(route.method.clone(), &path, token, body).await;
            let expected = route.access.decide(*role);
            let ok = match expected {
                Decision::Allow => res.status.is_success(),
                Decision::Forbidden => res.status.as_u16() == 403 && res.code() == "forbidden",
                Decision::Unauthenticated => {
                    res.status.as_u16() == 401 && res.code() == "unauthenticated"
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {:?}: expected {:?}, got {} {}",
                    route.method, route.path, role, expected, res.status, res.body
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} calls disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, ROUTES.len() * 10);
}

carebook_store::both_backends! {
    permission_matrix => every_route_answers_as_the_permission_table_says,
}
