//! Devices, the inbox, notification history, preferences and clinic settings over HTTP, on both
//! backends: a token registers once and moves to whoever registers it again; the inbox counts
//! and pages unread messages and keeps read state; staff histories filter by channel, type,
//! status and time and stay within the caller's clinic; preferences and settings validate
//! what they are given.

use crate::helpers::*;
use crate::matrix::inbox_message;
use crate::sched::*;
use axum::http::Method;
use carebook_domain::Role;
use carebook_store::models::*;
use carebook_store::testing::TestDb;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

async fn unread(app: &TestApp, token: &str) -> u64 {
    let r = app
        .get("/api/v1/me/notifications/unread-count", Some(token))
        .await;
    r.body["unread"].as_u64().unwrap()
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Resp {
    app.call(Method::PATCH, path, Some(token), Some(body)).await
}

async fn devices_register_once_and_move_to_their_new_owner(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (amina, a) = app.signed_in(Role::Patient).await;
    let (_, b) = app.signed_in(Role::Patient).await;
    let body =
        json!({"token": "fcm-token-1", "platform": "android", "device_name": "Amina's phone"});
    let r = app
        .post("/api/v1/me/push-tokens", Some(&a), body.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(
        r.body.get("token").is_none(),
        "the token is never shown: {}",
        r.body
    );
    let again = app
        .post("/api/v1/me/push-tokens", Some(&a), body.clone())
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body["id"].as_str()),
        (200, Some(id.as_str()))
    );
    let list = app.get("/api/v1/me/push-tokens", Some(&a)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["device_name"], "Amina's phone");

    // The push service killed it; registering again revives it.
    {
        let mut tx = app.store.write().await.unwrap();
        tx.deactivate_push_token(id.parse().unwrap(), "UNREGISTERED", app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert!(
        app.get("/api/v1/me/push-tokens", Some(&a))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = app
        .get("/api/v1/me/push-tokens?include_inactive=true", Some(&a))
        .await;
    assert_eq!(all.body[0]["deactivation_reason"], "UNREGISTERED");
    let revived = app
        .post("/api/v1/me/push-tokens", Some(&a), body.clone())
        .await;
    assert_eq!(revived.body["is_active"], true);
    assert_eq!(revived.body["deactivated_at"], Value::Null);

    // Another account signs in on the same device: the token is theirs now.
    let moved = app.post("/api/v1/me/push-tokens", Some(&b), body).await;
    assert_eq!(
        (moved.status.as_u16(), moved.body["id"].as_str()),
        (200, Some(id.as_str()))
    );
    assert!(
        app.get("/api/v1/me/push-tokens", Some(&a))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let path = format!("/api/v1/me/push-tokens/{id}");
    let r = app.call(Method::DELETE, &path, Some(&a), None).await;
    assert_eq!(r.status, 404, "not Amina's any more");
    let r = app.call(Method::DELETE, &path, Some(&b), None).await;
    assert_eq!(r.status, 204);
    assert!(
        app.get("/api/v1/me/push-tokens", Some(&b))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let actions = app.audit_actions().await;
    for a in [
        "push_token.register",
        "push_token.reregister",
        "push_token.remove",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let _ = amina;

    for (bad, code) in [
        (json!({"token": "", "platform": "ios"}), "validation_failed"),
        (
            json!({"token": "has space", "platform": "ios"}),
            "validation_failed",
        ),
        (
            json!({"token": "t", "platform": "blackberry"}),
            "invalid_body",
        ),
        (
            json!({"token": "t", "platform": "web", "device_name": "a\u{7}b"}),
            "validation_failed",
        ),
        (
            json!({"token": "x".repeat(4097), "platform": "web"}),
            "validation_failed",
        ),
    ] {
        let r = app
            .post("/api/v1/me/push-tokens", Some(&a), bad.clone())
            .await;
        assert_eq!(r.code(), code, "{bad}: {}", r.body);
    }
}

/// A message of `kind` on `channel` with `status` to the patient (and their account).
async fn message(
    app: &TestApp,
    patient: &Patient,
    clinic: Uuid,
    (channel, kind, status): (&str, &str, &str),
    appointment: Option<Uuid>,
    at: Timestamp,
) -> Notification {
    let mut n = Notification::pending_email(
        Uuid::now_v7(),
        Uuid::nil(),
        "x@example.org",
        kind,
        format!("About {kind}"),
        format!("The {kind} message."),
        format!("test:{}", Uuid::now_v7()),
        at,
    );
    n.recipient_user_id = patient.user_id;
    n.recipient_patient_id = Some(patient.id);
    n.clinic_id = Some(clinic);
    n.channel = channel.into();
    n.status = status.into();
    n.destination = None;
    n.appointment_id = appointment;
    let mut tx = app.store.write().await.unwrap();
    tx.insert_notification(&n).await.unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();
    n
}

async fn the_inbox_counts_pages_and_keeps_read_state(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (user, token) = app.signed_in(Role::Patient).await;
    let patient = app.patient_of(&user).await;
    let mut ids = vec![];
    for _ in 0..3 {
        ids.push(inbox_message(&app, &user, "mine").await);
    }
    // To the patient record (no account on the row), by push, delivered: in the inbox too.
    let mut only_patient = patient.clone();
    only_patient.user_id = None;
    let pushed = message(
        &app,
        &only_patient,
        app.clinic.id,
        ("push", "reminder_24h", "sent"),
        None,
        app.now(),
    )
    .await;
    // Not in the inbox: an email, and a push not delivered yet.
    message(
        &app,
        &patient,
        app.clinic.id,
        ("email", "reminder_24h", "sent"),
        None,
        app.now(),
    )
    .await;
    message(
        &app,
        &patient,
        app.clinic.id,
        ("push", "reminder_2h", "pending"),
        None,
        app.now(),
    )
    .await;
    // Someone else's.
    let (other, other_token) = app.signed_in(Role::Receptionist).await;
    let theirs = inbox_message(&app, &other, "theirs").await;

    assert_eq!(unread(&app, &token).await, 4);
    assert_eq!(unread(&app, &other_token).await, 1);
    let page = app
        .get("/api/v1/me/notifications?limit=3", Some(&token))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(page.body["unread"], 4);
    assert_eq!(
        page.body["items"][0]["id"],
        pushed.id.to_string(),
        "newest first"
    );
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/me/notifications?limit=3&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let typed = app
        .get("/api/v1/me/notifications?type=reminder_24h", Some(&token))
        .await;
    assert_eq!(typed.status, 200, "{}", typed.body);
    assert_eq!(typed.body["items"].as_array().unwrap().len(), 1);

    let read = app
        .post(
            &format!("/api/v1/me/notifications/{}/read", ids[0]),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (read.status.as_u16(), &read.body["read"]),
        (200, &json!(true)),
        "{}",
        read.body
    );
    let first_read_at = read.body["read_at"].clone();
    assert_eq!(unread(&app, &token).await, 3);
    app.clock.advance(SignedDuration::from_mins(5));
    let again = app
        .post(
            &format!("/api/v1/me/notifications/{}/read", ids[0]),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        again.body["read_at"], first_read_at,
        "read once, when first read"
    );
    let unread_only = app
        .get("/api/v1/me/notifications?unread=true", Some(&token))
        .await;
    assert_eq!(unread_only.body["items"].as_array().unwrap().len(), 3);
    let r = app
        .post(
            &format!("/api/v1/me/notifications/{}/unread", ids[0]),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.body["read"].clone(), r.body["read_at"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(unread(&app, &token).await, 4);
    let r = app
        .post(
            &format!("/api/v1/me/notifications/{theirs}/read"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "not in my inbox");
    let all = app
        .post("/api/v1/me/notifications/read-all", Some(&token), json!({}))
        .await;
    assert_eq!(all.body["marked"], 4);
    assert_eq!(unread(&app, &token).await, 0);
    assert_eq!(unread(&app, &other_token).await, 1, "theirs untouched");
    let bad = app
        .get("/api/v1/me/notifications?type=fax", Some(&token))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

async fn histories_filter_and_stay_in_the_clinic(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let b = app.booked(None, None, tomorrow(), 10).await;
    let (p, a) = (&b.patient, b.appointment.id);
    let t0 = app.now();
    let hour = |h: i64| t0 + SignedDuration::from_hours(h);
    let sms = message(
        &app,
        p,
        app.clinic.id,
        ("sms", "reminder_24h", "sent"),
        Some(a),
        hour(1),
    )
    .await;
    let skipped = message(
        &app,
        p,
        app.clinic.id,
        ("email", "reminder_2h", "skipped"),
        Some(a),
        hour(2),
    )
    .await;
    let other = message(
        &app,
        p,
        app.clinic.id,
        ("push", "general", "failed"),
        None,
        hour(3),
    )
    .await;
    // Another clinic's message to the same patient: not for this desk.
    message(
        &app,
        p,
        app.other_clinic.id,
        ("sms", "general", "sent"),
        None,
        hour(4),
    )
    .await;

    let ids = |r: &Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = format!("/api/v1/patients/{}/notifications", p.id);
    let all = app.get(&base, Some(&desk)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        ids(&all),
        vec![
            other.id.to_string(),
            skipped.id.to_string(),
            sms.id.to_string()
        ]
    );
    assert_eq!(
        ids(&app.get(&format!("{base}?channel=sms"), Some(&desk)).await),
        vec![sms.id.to_string()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("{base}?status=skipped"), Some(&desk))
            .await),
        vec![skipped.id.to_string()]
    );
    assert_eq!(
        ids(&app.get(&format!("{base}?type=general"), Some(&desk)).await),
        vec![other.id.to_string()]
    );
    let from = hour(2).to_string();
    let to = hour(3).to_string();
    assert_eq!(
        ids(&app
            .get(&format!("{base}?from={from}&to={to}"), Some(&desk))
            .await),
        vec![skipped.id.to_string()]
    );
    let page = app.get(&format!("{base}?limit=2"), Some(&desk)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids(&app
            .get(&format!("{base}?limit=2&cursor={cursor}"), Some(&desk))
            .await),
        vec![sms.id.to_string()]
    );
    assert_eq!(all.body["items"][1]["last_error"], Value::Null);

    // The network administrator sees every clinic's messages.
    let (_, admin) = app.signed_in(Role::SuperAdmin).await;
    assert_eq!(ids(&app.get(&base, Some(&admin)).await).len(), 4);

    let appt = app
        .get(
            &format!("/api/v1/appointments/{a}/notifications?channel=email"),
            Some(&desk),
        )
        .await;
    assert_eq!(ids(&appt), vec![skipped.id.to_string()]);

    // Staff of another clinic do not see the patient or the appointment at all.
    let stranger = app
        .user(Role::Receptionist, Some(app.other_clinic.id))
        .await;
    let st = app.token(&stranger);
    assert_eq!(app.get(&base, Some(&st)).await.status, 404);
    let r = app
        .get(
            &format!("/api/v1/appointments/{a}/notifications"),
            Some(&st),
        )
        .await;
    assert_eq!(r.status, 404);

    for bad in [
        "channel=fax",
        "from=yesterday",
        "limit=0",
        "cursor=nope",
        &format!("from={to}&to={from}"),
    ] {
        let r = app.get(&format!("{base}?{bad}"), Some(&desk)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

async fn preferences_are_set_by_the_desk_and_the_patient(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let (user, token) = app.signed_in(Role::Patient).await;
    let patient = app.patient_of(&user).await;
    let path = format!("/api/v1/patients/{}/notification-preferences", patient.id);
    let r = patch(
        &app,
        &path,
        &desk,
        json!({"sms_opt_out": true, "preferred_language": "sw"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["sms_opt_out"].clone(),
            r.body["preferred_language"].clone()
        ),
        (json!(true), json!("sw"))
    );
    let shown = app
        .get(&format!("/api/v1/patients/{}", patient.id), Some(&desk))
        .await;
    assert_eq!(shown.body["sms_opt_out"], true);
    assert_eq!(shown.body["email_opt_out"], false);

    let mine = app
        .get("/api/v1/me/notification-preferences", Some(&token))
        .await;
    assert_eq!(mine.body["sms_opt_out"], true);
    let r = patch(
        &app,
        "/api/v1/me/notification-preferences",
        &token,
        json!({"sms_opt_out": false, "notification_opt_out": true}),
    )
    .await;
    assert_eq!(
        (
            r.body["sms_opt_out"].clone(),
            r.body["notification_opt_out"].clone()
        ),
        (json!(false), json!(true))
    );
    let stored = app
        .store
        .read()
        .await
        .unwrap()
        .get_patient(patient.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.notification_opt_out && !stored.channel_opt_outs.sms);
    assert!(
        app.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "patient.notification_preferences")
            .count()
            == 2
    );

    let stranger = app
        .user(Role::Receptionist, Some(app.other_clinic.id))
        .await;
    let r = patch(
        &app,
        &path,
        &app.token(&stranger),
        json!({"push_opt_out": true}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = patch(&app, &path, &desk, json!({"fax_opt_out": true})).await;
    assert_eq!(r.code(), "invalid_body");
    let r = patch(
        &app,
        "/api/v1/me/notification-preferences",
        &token,
        json!({"preferred_language": "fr"}),
    )
    .await;
    assert_eq!(r.code(), "invalid_body");
}

async fn clinic_settings_validate_and_stay_in_the_clinic(db: &TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.user(Role::Admin, Some(app.clinic.id)).await;
    let t = app.token(&admin);
    let path = format!("/api/v1/clinics/{}/notification-settings", app.clinic.id);
    let r = app.get(&path, Some(&t)).await;
    assert_eq!(r.body["channel_order"], json!(["push", "sms", "email"]));
    assert_eq!(r.body["email_from"], Value::Null);
    let r = patch(&app, &path, &t, json!({"channel_order": ["email", "in_app"], "email_from": "Home Clinic <Desk@Home.Example>"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["email_from"], "Home Clinic <desk@home.example>");
    let r = app.get(&path, Some(&t)).await;
    assert_eq!(r.body["channel_order"], json!(["email", "in_app"]));
    let r = patch(&app, &path, &t, json!({"email_from": null})).await;
    assert_eq!(r.body["email_from"], Value::Null);
    assert_eq!(
        r.body["channel_order"],
        json!(["email", "in_app"]),
        "left alone"
    );
    for bad in [
        json!({"channel_order": []}),
        json!({"channel_order": ["sms", "sms"]}),
        json!({"email_from": "not an address"}),
        json!({"email_from": "a@b.example\r\nBcc: x@y.example"}),
    ] {
        let r = patch(&app, &path, &t, bad.clone()).await;
        assert_eq!(r.code(), "validation_failed", "{bad}: {}", r.body);
    }
    let r = patch(&app, &path, &t, json!({"channel_order": ["fax"]})).await;
    assert_eq!(r.code(), "invalid_body");
    let elsewhere = format!(
        "/api/v1/clinics/{}/notification-settings",
        app.other_clinic.id
    );
    let r = patch(&app, &elsewhere, &t, json!({"channel_order": ["sms"]})).await;
    assert_eq!(r.status, 403);
}

carebook_store::both_backends! {
    devices => devices_register_once_and_move_to_their_new_owner,
    inbox => the_inbox_counts_pages_and_keeps_read_state,
    histories => histories_filter_and_stay_in_the_clinic,
    preferences => preferences_are_set_by_the_desk_and_the_patient,
    clinic_settings => clinic_settings_validate_and_stay_in_the_clinic,
}
