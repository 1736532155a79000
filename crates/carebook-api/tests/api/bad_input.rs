//! Bad input gets a clear 4xx JSON error with a stable code, never a 500, and changes nothing.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, header};
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use serde_json::json;

async fn bad_requests_get_stable_codes_and_change_nothing(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, sa) = app.signed_in(Role::SuperAdmin).await;
    let before = app.audit_count().await;
    let raw = |method: Method, path: &str, content_type: Option<&str>, body: &str| {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {sa}"));
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    };
    let json_ct = Some("application/json");
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (
            raw(Method::POST, "/api/v1/clinics", json_ct, "{\"name\": "),
            400,
            "malformed_json",
        ),
        (
            raw(Method::POST, "/api/v1/clinics", json_ct, "not json at all"),
            400,
            "malformed_json",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                "{\"name\": 5, \"slug\": \"x-y\", \"timezone\": \"UTC\"}",
            ),
            422,
            "invalid_body",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                "{\"slug\": \"x-y\", \"timezone\": \"UTC\"}",
            ),
            422,
            "invalid_body",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                "{\"name\": \"A\", \"slug\": \"x-y\", \"timezone\": \"UTC\", \"colour\": \"red\"}",
            ),
            422,
            "invalid_body",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                "{\"name\": \"A\", \"slug\": \"x-y\", \"timezone\": \"UTC\", \"status\": \"open\"}",
            ),
            422,
            "invalid_body",
        ),
        (
            raw(Method::POST, "/api/v1/clinics", json_ct, "[]"),
            422,
            "invalid_body",
        ),
        (
            raw(Method::POST, "/api/v1/clinics", None, "{}"),
            415,
            "unsupported_media_type",
        ),
        (
            raw(Method::POST, "/api/v1/clinics", Some("text/plain"), "{}"),
            415,
            "unsupported_media_type",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                &format!("{{\"name\": \"{}\"}}", "x".repeat(300 * 1024)),
            ),
            413,
            "payload_too_large",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/clinics",
                json_ct,
                "{\"name\": \"A\", \"slug\": \"Bad Slug\", \"timezone\": \"Mars/Olympus\", \"latitude\": 91, \"currency\": \"kes!\"}",
            ),
            422,
            "validation_failed",
        ),
        (
            raw(Method::GET, "/api/v1/users/not-a-uuid", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::PATCH, "/api/v1/clinics/123", json_ct, "{}"),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::GET, "/api/v1/users?limit=0", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::GET, "/api/v1/users?limit=abc", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::GET, "/api/v1/users?role=doctor", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::GET, "/api/v1/users?cursor=zzz", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(Method::GET, "/api/v1/audit-events?from=yesterday", None, ""),
            400,
            "invalid_parameter",
        ),
        (
            raw(
                Method::GET,
                &format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
                None,
                "",
            ),
            404,
            "not_found",
        ),
        (
            raw(Method::GET, "/api/v1/nothing-here", None, ""),
            404,
            "not_found",
        ),
        (
            raw(Method::DELETE, "/api/v1/clinics", None, ""),
            405,
            "method_not_allowed",
        ),
        (
            raw(
                Method::POST,
                "/api/v1/auth/login",
                json_ct,
                "{\"email\": \"not-an-email\", \"password\": \"x\"}",
            ),
            422,
            "validation_failed",
        ),
    ];
    for (req, status, code) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let r = app.send(req).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{what}: {}",
            r.body
        );
        let msg = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(!msg.is_empty(), "{what}: every error explains itself");
        assert!(
            r.body["error"]["details"].is_object(),
            "{what}: details is always an object"
        );
    }
    assert_eq!(
        app.audit_count().await,
        before,
        "refused requests change nothing"
    );
    let slug = app.get("/api/v1/clinics", Some(&sa)).await;
    assert!(
        !slug.body.to_string().contains("x-y"),
        "no clinic was created"
    );

    let v = app.post("/api/v1/clinics", Some(&sa), json!({"name": "A", "slug": "Bad Slug", "timezone": "Mars/Olympus", "latitude": 91, "currency": "kes!"})).await;
    let fields: Vec<&str> = v.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["slug", "timezone", "latitude", "latitude", "currency"],
        "every problem is named"
    );
}

async fn conflicts_are_409s(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, sa) = app.signed_in(Role::SuperAdmin).await;
    let taken = app
        .post(
            "/api/v1/clinics",
            Some(&sa),
            json!({"name": "Again", "slug": app.clinic.slug, "timezone": "UTC"}),
        )
        .await;
    assert_eq!((taken.status.as_u16(), taken.code()), (409, "slug_taken"));
    let u = app.user(Role::Receptionist, Some(app.clinic.id)).await;
    let path = format!("/api/v1/users/{}/identities", u.id);
    assert_eq!(
        app.post(
            &path,
            Some(&sa),
            json!({"issuer": "firebase", "subject": "abc"})
        )
        .await
        .status,
        201
    );
    let twice = app
        .post(
            &path,
            Some(&sa),
            json!({"issuer": "firebase", "subject": "abc"}),
        )
        .await;
    assert_eq!(
        (twice.status.as_u16(), twice.code()),
        (409, "identity_taken")
    );
}

async fn responses_carry_request_ids(db: &TestDb) {
    let app = TestApp::new(db).await;
    let generated = app.get("/healthz", None).await;
    let id = generated
        .headers
        .get("x-request-id")
        .expect("a request id")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36);
    let req = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "trace-me-42")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.send(req).await.headers.get("x-request-id").unwrap(),
        "trace-me-42"
    );
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["database"], app.store.backend().as_str());
    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics
            .body
            .as_str()
            .unwrap()
            .contains("carebook_http_requests_total"),
        "{}",
        metrics.body
    );
    // The queue's gauges (their values are shared by every test in this process).
    let text = metrics.body.as_str().unwrap();
    for line in [
        "carebook_jobs{status=\"queued\"}",
        "carebook_jobs{status=\"dead\"}",
        "carebook_jobs_oldest_due_seconds",
        "carebook_waitlist_entries{status=\"waiting\"}",
        "carebook_waitlist_entries{status=\"offered\"}",
    ] {
        assert!(text.contains(line), "{line} missing: {text}");
    }
}

async fn login_is_rate_limited_per_address(db: &TestDb) {
    let app = TestApp::with_config(db, |c| c.auth_rate_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("nobody@example.org", PASSWORD).await.code(),
            "invalid_credentials"
        );
    }
    let r = app.login("nobody@example.org", PASSWORD).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "rate_limited"));
    assert_eq!(r.headers.get("retry-after").unwrap(), "20");
    let other = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": "x"}))
        .await;
    assert_eq!(
        other.code(),
        "rate_limited",
        "token endpoints share the budget"
    );
    assert_eq!(
        app.get("/healthz", None).await.status,
        200,
        "other routes are not limited"
    );
}

async fn readiness_follows_the_database(db: &TestDb) {
    let app = TestApp::new(db).await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    app.store.close().await;
    let down = app.get("/readyz", None).await;
    assert_eq!((down.status.as_u16(), down.code()), (503, "unavailable"));
    assert_eq!(
        app.get("/healthz", None).await.status,
        200,
        "liveness does not depend on the database"
    );
}

carebook_store::both_backends! {
    readiness => readiness_follows_the_database,
    bad_requests => bad_requests_get_stable_codes_and_change_nothing,
    conflicts => conflicts_are_409s,
    request_ids => responses_carry_request_ids,
    rate_limit => login_is_rate_limited_per_address,
}
