//! The audit trail through the API: every change and every sign-in is recorded with who, from
//! where and which request; secrets never reach it; admins can query it.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, header};
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use serde_json::json;

async fn changes_are_recorded_with_their_request(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (admin, token) = app.signed_in(Role::Admin).await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "front-desk-app/2.1")
        .header("x-request-id", "req-create-1")
        .body(Body::from(json!({"email": "audited@example.org", "name": "Audited Person", "role": "receptionist", "password": PASSWORD}).to_string()))
        .unwrap();
    let created = app.send(req).await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&token),
            Some(json!({"name": "Renamed Person"})),
        )
        .await;
    assert_eq!(r.status, 200);
    app.login("audited@example.org", "wrong password!").await;

    let page = app
        .get(
            &format!("/api/v1/audit-events?entity_type=user&entity_id={id}"),
            Some(&token),
        )
        .await;
    assert_eq!(page.status, 200);
    let items = page.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["auth.login_failed", "user.update", "user.create"],
        "newest first"
    );
    let create = &items[2];
    assert_eq!(create["actor_user_id"], admin.id.to_string());
    assert_eq!(create["actor_role"], "admin");
    assert_eq!(create["clinic_id"], app.clinic.id.to_string());
    assert_eq!(create["ip"], "127.0.0.1");
    assert_eq!(create["user_agent"], "front-desk-app/2.1");
    assert_eq!(create["request_id"], "req-create-1");
    assert_eq!(create["new_values"]["email"], "audited@example.org");
    let update = &items[1];
    assert_eq!(update["old_values"]["name"], "Audited Person");
    assert_eq!(update["new_values"]["name"], "Renamed Person");
    assert_eq!(items[0]["new_values"]["reason"], "bad_password");

    let everything = carebook_store::verify_audit_chain(&app.store)
        .await
        .unwrap();
    assert_eq!(everything.first_break, None);
    let dump = serde_json::to_string(
        &app.store
            .read()
            .await
            .unwrap()
            .audit_chain(0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|r| (&r.record.old_values, &r.record.new_values))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(
        !dump.contains(PASSWORD) && !dump.contains("$argon2"),
        "no secret reaches the audit trail"
    );

    let by_actor = app
        .get(
            &format!("/api/v1/audit-events?actor_user_id={}", admin.id),
            Some(&token),
        )
        .await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 2);
    let window = app
        .get(
            "/api/v1/audit-events?from=2030-01-01T00:00:00Z",
            Some(&token),
        )
        .await;
    assert_eq!(window.body["items"].as_array().unwrap().len(), 0);
    let paged = app.get("/api/v1/audit-events?limit=1", Some(&token)).await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    let next = paged.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/audit-events?limit=1&cursor={next}"),
            Some(&token),
        )
        .await;
    assert!(second.body["items"][0]["seq"].as_i64() < paged.body["items"][0]["seq"].as_i64());
}

async fn every_mutating_route_writes_exactly_its_record(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, sa) = app.signed_in(Role::SuperAdmin).await;
    let base = app.audit_count().await;
    let c = app.post("/api/v1/clinics", Some(&sa), json!({"name": "Audit Clinic", "slug": "audit-clinic", "timezone": "Europe/London", "currency": "GBP"})).await;
    assert_eq!(c.status, 201);
    let cid = c.body["id"].as_str().unwrap();
    app.call(
        Method::PATCH,
        &format!("/api/v1/clinics/{cid}"),
        Some(&sa),
        Some(json!({"patient_self_registration": true})),
    )
    .await;
    app.call(
        Method::PATCH,
        "/api/v1/me",
        Some(&sa),
        Some(json!({"preferred_language": "sw"})),
    )
    .await;
    assert_eq!(app.audit_count().await, base + 3, "one record per change");
    // Reads record nothing.
    app.get("/api/v1/clinics", Some(&sa)).await;
    app.get("/api/v1/roles", Some(&sa)).await;
    app.get("/api/v1/audit-events", Some(&sa)).await;
    assert_eq!(app.audit_count().await, base + 3);
    let actions = app.audit_actions().await;
    assert_eq!(
        &actions[actions.len() - 3..],
        ["clinic.create", "clinic.update", "user.update_self"]
    );
}

carebook_store::both_backends! {
    recorded_with_request => changes_are_recorded_with_their_request,
    one_record_per_change => every_mutating_route_writes_exactly_its_record,
}
