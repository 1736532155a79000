//! Tenancy: staff of one clinic never see or change another clinic's data unless their role
//! spans clinics.

use crate::helpers::*;
use axum::http::Method;
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use serde_json::json;

async fn clinic_staff_stay_in_their_clinic(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin_a) = app.signed_in(Role::Admin).await;
    let (_, desk_a) = app.signed_in(Role::Receptionist).await;
    let b_staff = app
        .user(Role::Receptionist, Some(app.other_clinic.id))
        .await;
    let a_staff = app.user(Role::Provider, Some(app.clinic.id)).await;

    for token in [&admin_a, &desk_a] {
        let list = app
            .get("/api/v1/users?include_inactive=true", Some(token))
            .await;
        let ids: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&a_staff.id.to_string().as_str()));
        assert!(
            !ids.contains(&b_staff.id.to_string().as_str()),
            "another clinic's staff are invisible"
        );
        assert_eq!(
            app.get(&format!("/api/v1/users/{}", b_staff.id), Some(token))
                .await
                .status,
            404
        );
        let asked = app
            .get(
                &format!("/api/v1/users?clinic_id={}", app.other_clinic.id),
                Some(token),
            )
            .await;
        assert_eq!(asked.status, 403);
    }
    let patch = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", b_staff.id),
            Some(&admin_a),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(patch.status, 404);
    let clinic_b = app
        .call(
            Method::PATCH,
            &format!("/api/v1/clinics/{}", app.other_clinic.id),
            Some(&admin_a),
            Some(json!({"name": "Mine now"})),
        )
        .await;
    assert_eq!(clinic_b.status, 403);
    let move_out = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", a_staff.id),
            Some(&admin_a),
            Some(json!({"clinic_id": app.other_clinic.id})),
        )
        .await;
    assert_eq!(move_out.status, 403);
    let create_there = app.post("/api/v1/users", Some(&admin_a), json!({"email": "s@example.org", "name": "S", "role": "receptionist", "clinic_id": app.other_clinic.id, "password": PASSWORD})).await;
    assert_eq!(create_there.status, 403);

    let audit_b = app
        .get(
            &format!("/api/v1/audit-events?clinic_id={}", app.other_clinic.id),
            Some(&admin_a),
        )
        .await;
    assert_eq!(audit_b.status, 403);
    let audit_a = app.get("/api/v1/audit-events", Some(&admin_a)).await;
    assert!(
        audit_a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["clinic_id"] == app.clinic.id.to_string())
    );

    // Roles that span clinics see both.
    let (_, support) = app.signed_in(Role::Support).await;
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", b_staff.id), Some(&support))
            .await
            .status,
        200
    );
    let all = app.get("/api/v1/users", Some(&support)).await;
    assert!(all.body["items"].as_array().unwrap().len() >= 4);
    // Everyone may read the clinic directory.
    let (_, patient) = app.signed_in(Role::Patient).await;
    assert_eq!(
        app.get("/api/v1/clinics", Some(&patient)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn lists_page_with_cursors(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, sa) = app.signed_in(Role::SuperAdmin).await;
    for _ in 0..5 {
        app.user(Role::Provider, Some(app.clinic.id)).await;
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?role=provider&limit=2&cursor={c}"),
            None => "/api/v1/users?role=provider&limit=2".into(),
        };
        let page = app.get(&path, Some(&sa)).await;
        assert_eq!(page.status, 200);
        for i in page.body["items"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no repeats");
}

carebook_store::both_backends! {
    clinic_scoping => clinic_staff_stay_in_their_clinic,
    cursor_pages => lists_page_with_cursors,
}
