//! The role × route matrix: every route of the access table, called by every role and by an
//! anonymous caller, must answer success, 403 or 401 exactly as the permission table says.
//! Each call gets fresh fixtures so that an allowed call can really succeed.

use crate::helpers::*;
use crate::sched::*;
use axum::http::Method;
use carebook_api::access::{ROUTES, Route};
use carebook_domain::access::Decision;
use carebook_domain::{Role, totp};
use carebook_store::models::*;
use carebook_store::scheduling::*;
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
        (Method::POST, "/api/v1/jobs/{id}/retry") => {
            let job = carebook_store::jobs::NewJob::new("test", unique, json!({}), app.now());
            let mut tx = app.store.write().await.unwrap();
            tx.enqueue_job(&job, app.now()).await.unwrap();
            let claimed = tx
                .claim_jobs(
                    "matrix",
                    1,
                    app.now() + jiff::SignedDuration::from_mins(5),
                    app.now(),
                )
                .await
                .unwrap();
            let id = claimed[0].id;
            tx.fail_job(id, "matrix", "broken", app.now(), true, app.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            (format!("/api/v1/jobs/{id}/retry"), None)
        }
        (m, p) if p.starts_with("/api/v1/waitlist") || p.starts_with("/api/v1/me/waitlist") => {
            waitlist_fixture(app, m, p, caller).await
        }
        (m, p) if p.contains("notification") || p.starts_with("/api/v1/me/push-tokens") => {
            notification_fixture(app, m, p, caller, &unique).await
        }
        (m, p) if is_scheduling(p) => scheduling_fixture(app, m, p, caller, &unique).await,
        (_, p) => {
            assert!(!p.contains('{'), "no fixture for {} {p}", route.method);
            (p.into(), None)
        }
    }
}

fn is_scheduling(p: &str) -> bool {
    [
        "/api/v1/clinics/{id}/",
        "/api/v1/specializations",
        "/api/v1/services",
        "/api/v1/providers",
        "/api/v1/time-off",
        "/api/v1/slots",
        "/api/v1/patients",
        "/api/v1/appointments",
        "/api/v1/me/appointments",
    ]
    .iter()
    .any(|prefix| p.starts_with(prefix))
}

/// Requests for the notification routes that succeed for a caller allowed to make them: the
/// patient's and appointment's histories, preferences, settings, the caller's devices and inbox.
async fn notification_fixture(
    app: &TestApp,
    method: Method,
    path: &'static str,
    caller: Option<&User>,
    unique: &str,
) -> (String, Option<Value>) {
    let fill = |k: &str, v: Uuid| path.replace(k, &v.to_string());
    match (method, path) {
        (Method::GET, "/api/v1/patients/{id}/notifications")
        | (Method::PATCH, "/api/v1/patients/{id}/notification-preferences") => {
            let b = app.booked(None, None, tomorrow(), 10).await;
            (
                fill("{id}", b.patient.id),
                Some(json!({"sms_opt_out": true})),
            )
        }
        (Method::GET, "/api/v1/appointments/{id}/notifications") => {
            let b = app.booked(None, None, tomorrow(), 10).await;
            (fill("{id}", b.appointment.id), None)
        }
        (_, "/api/v1/me/notification-preferences") => {
            if let Some(u) = caller.filter(|u| u.role == Role::Patient) {
                app.patient_of(u).await;
            }
            (
                path.into(),
                Some(json!({"push_opt_out": true, "preferred_language": "sw"})),
            )
        }
        (_, "/api/v1/clinics/{id}/notification-settings") => (
            fill("{id}", app.clinic.id),
            Some(
                json!({"channel_order": ["sms", "email"], "email_from": "Matrix <matrix@clinic.example>"}),
            ),
        ),
        (Method::POST, "/api/v1/me/push-tokens") => (
            path.into(),
            Some(json!({"token": format!("token-{unique}"), "platform": "android"})),
        ),
        (Method::DELETE, "/api/v1/me/push-tokens/{id}") => {
            let id = match caller {
                Some(u) => {
                    let t = carebook_store::channels::PushToken {
                        id: Uuid::now_v7(),
                        user_id: u.id,
                        token: format!("token-{unique}"),
                        platform: "ios".into(),
                        device_name: None,
                        is_active: true,
                        last_used_at: None,
                        created_at: app.now(),
                        deactivated_at: None,
                        deactivation_reason: None,
                    };
                    let mut tx = app.store.write().await.unwrap();
                    tx.register_push_token(&t).await.unwrap();
                    tx.append_audit(&record("test.setup")).await.unwrap();
                    tx.commit().await.unwrap();
                    t.id
                }
                None => Uuid::now_v7(),
            };
            (fill("{id}", id), None)
        }
        (Method::POST, "/api/v1/me/notifications/{id}/read")
        | (Method::POST, "/api/v1/me/notifications/{id}/unread") => {
            let id = match caller {
                Some(u) => inbox_message(app, u, unique).await,
                None => Uuid::now_v7(),
            };
            (fill("{id}", id), None)
        }
        (m, p) => {
            assert!(!p.contains('{'), "no fixture for {m} {p}");
            (p.into(), None)
        }
    }
}

/// An in-app message delivered to `u`; returns its id.
pub async fn inbox_message(app: &TestApp, u: &User, unique: &str) -> Uuid {
    let mut n = Notification::pending_email(
        Uuid::now_v7(),
        u.id,
        &u.email,
        "general",
        "Clinic news".into(),
        "We open on Saturdays now.".into(),
        format!("inbox:{unique}:{}", Uuid::now_v7()),
        app.now(),
    );
    n.channel = "in_app".into();
    n.status = "sent".into();
    n.destination = None;
    n.sent_at = Some(app.now());
    let mut tx = app.store.write().await.unwrap();
    tx.insert_notification(&n).await.unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();
    n.id
}

/// Requests for the scheduling routes that succeed for a caller allowed to make them: a
/// provider acts on their own schedule, a patient on their own appointments.
async fn scheduling_fixture(
    app: &TestApp,
    method: Method,
    path: &'static str,
    caller: Option<&User>,
    unique: &str,
) -> (String, Option<Value>) {
    let clinic = app.clinic.id;
    let fill = |pairs: &[(&str, Uuid)]| {
        pairs.iter().fold(path.to_owned(), |acc, (k, v)| {
            acc.replace(k, &v.to_string())
        })
    };
    let patient_caller = caller.filter(|u| u.role == Role::Patient);
    match (method, path) {
        (Method::GET, "/api/v1/clinics/{id}/booking-settings")
        | (Method::GET, "/api/v1/clinics/{id}/services")
        | (Method::GET, "/api/v1/clinics/{id}/day-sheet") => (fill(&[("{id}", clinic)]), None),
        (Method::PATCH, "/api/v1/clinics/{id}/booking-settings") => (
            fill(&[("{id}", clinic)]),
            Some(json!({"min_notice_minutes": 30})),
        ),
        (Method::POST, "/api/v1/clinics/{id}/services") => (
            fill(&[("{id}", clinic)]),
            Some(json!({"name": format!("Service {unique}"), "duration_minutes": 20})),
        ),
        (Method::POST, "/api/v1/specializations") => (
            path.into(),
            Some(json!({"name": format!("Specialization {unique}")})),
        ),
        (Method::PATCH, "/api/v1/specializations/{id}") => {
            let s = Specialization {
                id: Uuid::now_v7(),
                name: format!("Specialization {unique}"),
                parent_id: None,
                description: None,
                is_active: true,
                created_at: app.now(),
                updated_at: app.now(),
            };
            let mut tx = app.store.write().await.unwrap();
            tx.insert_specialization(&s).await.unwrap();
            tx.append_audit(&record("test.setup")).await.unwrap();
            tx.commit().await.unwrap();
            (
                fill(&[("{id}", s.id)]),
                Some(json!({"description": "Matrix"})),
            )
        }
        (Method::GET, "/api/v1/services/{id}") | (Method::PATCH, "/api/v1/services/{id}") => {
            let s = app.service(clinic).await;
            (
                fill(&[("{id}", s.id)]),
                Some(json!({"buffer_after_minutes": 5})),
            )
        }
        (Method::POST, "/api/v1/providers") => {
            let u = app.user(Role::Provider, Some(clinic)).await;
            (path.into(), Some(json!({"user_id": u.id})))
        }
        (Method::GET, "/api/v1/providers/{id}")
        | (Method::PATCH, "/api/v1/providers/{id}")
        | (Method::GET, "/api/v1/providers/{id}/agenda") => {
            let p = provider_for(app, None, &[]).await;
            (fill(&[("{id}", p.id)]), Some(json!({"bio": "Matrix"})))
        }
        (Method::POST, "/api/v1/providers/{id}/clinics/{clinic_id}") => {
            let (_, p) = app.provider_at(app.other_clinic.id, None, &[]).await;
            (
                fill(&[("{id}", p.id), ("{clinic_id}", clinic)]),
                Some(json!({"department": "Cardiology"})),
            )
        }
        (Method::PATCH, "/api/v1/providers/{id}/clinics/{clinic_id}") => {
            let p = provider_for(app, None, &[]).await;
            (
                fill(&[("{id}", p.id), ("{clinic_id}", clinic)]),
                Some(json!({"designation": "Consultant"})),
            )
        }
        (Method::PUT, "/api/v1/providers/{id}/services/{service_id}")
        | (Method::DELETE, "/api/v1/providers/{id}/services/{service_id}") => {
            let s = app.service(clinic).await;
            let p = provider_for(app, None, &[&s]).await;
            (
                fill(&[("{id}", p.id), ("{service_id}", s.id)]),
                Some(json!({})),
            )
        }
        (_, p) if p.starts_with("/api/v1/providers/{id}/") => {
            let provider = provider_for(app, caller, &[]).await;
            let (rules, exception) = {
                let mut tx = app.store.write().await.unwrap();
                let e = AvailabilityException {
                    id: Uuid::now_v7(),
                    clinic_id: clinic,
                    provider_id: provider.id,
                    date: later(),
                    kind: "unavailable".into(),
                    start_time: None,
                    end_time: None,
                    reason: None,
                    created_by_user_id: None,
                    created_at: app.now(),
                };
                tx.insert_availability_exception(&e).await.unwrap();
                tx.append_audit(&record("test.setup")).await.unwrap();
                let rules = tx.list_availability_rules(provider.id, None).await.unwrap();
                tx.commit().await.unwrap();
                (rules, e)
            };
            let body = match p {
                "/api/v1/providers/{id}/availability-rules" => Some(json!({
                    "clinic_id": clinic, "day_of_week": 1, "start_time": "06:00", "end_time": "07:30",
                    "breaks": [{"start": "06:30", "end": "06:45"}]
                })),
                "/api/v1/providers/{id}/availability-rules/{rule_id}" => {
                    Some(json!({"notes": "Matrix"}))
                }
                "/api/v1/providers/{id}/exceptions" => Some(json!({
                    "clinic_id": clinic, "date": "2026-12-24", "kind": "unavailable", "reason": "Matrix"
                })),
                "/api/v1/providers/{id}/time-off" => Some(json!({
                    "start_date": "2026-12-28", "end_date": "2026-12-29", "reason": "Matrix"
                })),
                _ => None,
            };
            (
                fill(&[
                    ("{id}", provider.id),
                    ("{rule_id}", rules[0].id),
                    ("{exception_id}", exception.id),
                ]),
                body,
            )
        }
        (Method::POST, p) if p.starts_with("/api/v1/time-off/{id}/") => {
            let provider = provider_for(app, caller, &[]).await;
            let t = TimeOff {
                id: Uuid::now_v7(),
                provider_id: provider.id,
                clinic_id: Some(clinic),
                starts_at: at(later(), 8, 0),
                ends_at: at(later(), 12, 0),
                reason: Some("Matrix".into()),
                status: "requested".into(),
                requested_by_user_id: None,
                decided_by_user_id: None,
                decided_at: None,
                created_at: app.now(),
                updated_at: app.now(),
            };
            let mut tx = app.store.write().await.unwrap();
            tx.insert_time_off(&t).await.unwrap();
            tx.append_audit(&record("test.setup")).await.unwrap();
            tx.commit().await.unwrap();
            (fill(&[("{id}", t.id)]), None)
        }
        (Method::GET, "/api/v1/slots") => {
            let s = app.service(clinic).await;
            provider_for(app, None, &[&s]).await;
            (format!("/api/v1/slots?service_id={}", s.id), None)
        }
        (Method::POST, "/api/v1/patients") => (
            path.into(),
            Some(json!({"name": "Walk-in Patient", "phone": "+254711000111", "clinic_id": clinic})),
        ),
        (Method::GET, "/api/v1/patients/{id}")
        | (Method::GET, "/api/v1/patients/{id}/appointments") => {
            let b = app.booked(None, None, tomorrow(), 10).await;
            (fill(&[("{id}", b.patient.id)]), None)
        }
        (Method::POST, "/api/v1/appointments") | (Method::POST, "/api/v1/me/appointments") => {
            let s = app.service(clinic).await;
            let provider = provider_for(app, None, &[&s]).await;
            let patient = match patient_caller {
                Some(u) => app.patient_of(u).await,
                None => app.patient_at(clinic, None).await,
            };
            let mut body = json!({
                "service_id": s.id, "provider_id": provider.id,
                "start_at": at(tomorrow(), 10, 0).to_string()
            });
            if path == "/api/v1/appointments" {
                body["patient_id"] = json!(patient.id);
            }
            (path.into(), Some(body))
        }
        (Method::GET, "/api/v1/appointments/{id}")
        | (Method::POST, "/api/v1/appointments/{id}/actions")
        | (Method::POST, "/api/v1/appointments/{id}/reschedule") => {
            let b = app.booked(None, None, later(), 10).await;
            let body = if path.ends_with("actions") {
                json!({"action": "confirm"})
            } else {
                json!({"start_at": at(later(), 15, 0).to_string()})
            };
            (fill(&[("{id}", b.appointment.id)]), Some(body))
        }
        (Method::GET, "/api/v1/me/appointments") => {
            if let Some(u) = patient_caller {
                app.booked(None, Some(u), later(), 10).await;
            }
            (path.into(), None)
        }
        (Method::POST, p) if p.starts_with("/api/v1/me/appointments/{id}/") => {
            let b = app.booked(None, patient_caller, later(), 10).await;
            let body = match p.rsplit('/').next() {
                Some("cancel") => Some(json!({"reason": "Matrix"})),
                Some("reschedule") => Some(json!({"start_at": at(later(), 15, 0).to_string()})),
                _ => None,
            };
            (fill(&[("{id}", b.appointment.id)]), body)
        }
        (m, p) => {
            assert!(!p.contains('{'), "no fixture for {m} {p}");
            (p.into(), None)
        }
    }
}

/// Requests for the waitlist routes that succeed for a caller allowed to make them: staff act
/// on an entry at their clinic, a patient on their own.
async fn waitlist_fixture(
    app: &TestApp,
    method: Method,
    path: &'static str,
    caller: Option<&User>,
) -> (String, Option<Value>) {
    let clinic = app.clinic.id;
    let patient = match caller.filter(|u| u.role == Role::Patient) {
        Some(u) => app.patient_of(u).await,
        None => app.patient_at(clinic, None).await,
    };
    let fill = |id: Uuid| path.replace("{id}", &id.to_string());
    let service = app.service(clinic).await;
    let provider = provider_for(app, None, &[&service]).await;
    match (method, path) {
        (Method::GET, "/api/v1/waitlist") | (Method::GET, "/api/v1/me/waitlist") => {
            app.waiting(&patient, &service).await;
            (path.into(), None)
        }
        (Method::POST, "/api/v1/waitlist") => (
            path.into(),
            Some(json!({"patient_id": patient.id, "service_id": service.id})),
        ),
        (Method::POST, "/api/v1/me/waitlist") => {
            (path.into(), Some(json!({"service_id": service.id})))
        }
        (Method::GET, "/api/v1/waitlist/{id}") => {
            (fill(app.waiting(&patient, &service).await.id), None)
        }
        (Method::PATCH, "/api/v1/waitlist/{id}") => (
            fill(app.waiting(&patient, &service).await.id),
            Some(json!({"notes": "prefers mornings", "priority": "urgent"})),
        ),
        (Method::POST, p) if p.ends_with("/accept") || p.ends_with("/decline") => {
            (fill(app.offered(&patient).await.0.id), Some(json!({})))
        }
        (Method::POST, p) if p.ends_with("/cancel") => (
            fill(app.waiting(&patient, &service).await.id),
            Some(json!({})),
        ),
        (Method::POST, "/api/v1/waitlist/{id}/assign") => (
            fill(app.waiting(&patient, &service).await.id),
            Some(
                json!({"start_at": at(tomorrow(), 10, 0).to_string(), "provider_id": provider.id}),
            ),
        ),
        (m, p) => panic!("no fixture for {m} {p}"),
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
