//! Scheduling through the API, on both backends: slot search and booking agree, refusals say
//! why and offer alternatives and change nothing, the lifecycle follows its table, patients
//! are held to the cutoff, reschedules hold one slot, time off and exceptions shape the slots,
//! the daily cap holds, and clinic staff see only their clinic.

use crate::helpers::*;
use crate::sched::*;
use axum::http::Method;
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use jiff::Timestamp;
use serde_json::{Value, json};
use uuid::Uuid;

fn starts(search: &Value) -> Vec<String> {
    search["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local_start"].as_str().unwrap().to_owned())
        .collect()
}

async fn slots(app: &TestApp, token: &str, service: Uuid, day: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/slots?service_id={service}&from={day}&to={day}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn book(
    app: &TestApp,
    token: &str,
    patient: Uuid,
    service: Uuid,
    provider: Option<Uuid>,
    start: Timestamp,
) -> Resp {
    let mut body =
        json!({"patient_id": patient, "service_id": service, "start_at": start.to_string()});
    if let Some(p) = provider {
        body["provider_id"] = json!(p);
    }
    app.post("/api/v1/appointments", Some(token), body).await
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, reason: Option<&str>) -> Resp {
    let mut body = json!({"action": action});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    app.post(
        &format!("/api/v1/appointments/{id}/actions"),
        Some(token),
        body,
    )
    .await
}

async fn search_books_and_walks_the_day(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let patient = app.patient_at(app.clinic.id, None).await;
    let other = app.patient_at(app.clinic.id, None).await;

    let before = slots(&app, &desk, service.id, "2026-11-26").await;
    let offered = starts(&before);
    assert!(
        offered.contains(&"2026-11-26T10:00".to_owned()),
        "{offered:?}"
    );
    assert!(
        !offered.contains(&"2026-11-26T13:00".to_owned()),
        "lunch break"
    );
    assert!(
        !offered.contains(&"2026-11-26T17:45".to_owned()),
        "would end after 18:00"
    );
    assert_eq!(before["timezone"], "Africa/Nairobi");

    let r = book(
        &app,
        &desk,
        patient.id,
        service.id,
        Some(provider.id),
        at(tomorrow(), 10, 0),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let a = r.body.clone();
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["number"], "APT-20261125-001");
    assert_eq!(a["status"], "scheduled");
    assert_eq!(a["local_start"], "2026-11-26T10:00");
    assert_eq!(
        a["busy_end_at"],
        at(tomorrow(), 10, 40).to_string(),
        "10 minutes' buffer"
    );
    assert_eq!(a["fee_minor"], 250_000);

    let after = starts(&slots(&app, &desk, service.id, "2026-11-26").await);
    assert!(!after.contains(&"2026-11-26T10:00".to_owned()));
    assert!(
        !after.contains(&"2026-11-26T10:30".to_owned()),
        "its buffer would overlap"
    );
    assert!(after.contains(&"2026-11-26T10:45".to_owned()));

    // The same time again: refused with the reason and alternatives, and nothing written.
    let audit_before = app.audit_count().await;
    let r = book(
        &app,
        &desk,
        other.id,
        service.id,
        Some(provider.id),
        at(tomorrow(), 10, 0),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (409, "slot_unavailable"),
        "{}",
        r.body
    );
    assert_eq!(r.body["error"]["details"]["reason"], "slot_taken");
    let alternatives = r.body["error"]["details"]["alternatives"]
        .as_array()
        .unwrap();
    assert!(!alternatives.is_empty());
    assert_eq!(alternatives[0]["local_start"], "2026-11-26T10:45");
    assert_eq!(app.audit_count().await, audit_before);
    // Off the grid, and the patient's own double booking.
    let r = book(
        &app,
        &desk,
        other.id,
        service.id,
        Some(provider.id),
        at(tomorrow(), 11, 7),
    )
    .await;
    assert_eq!(r.code(), "slot_unavailable");
    assert_eq!(
        r.body["error"]["details"]["reason"],
        "outside_working_hours"
    );
    let service2 = app.service(app.clinic.id).await;
    let (_, provider2) = app.provider_at(app.clinic.id, None, &[&service2]).await;
    let r = book(
        &app,
        &desk,
        patient.id,
        service2.id,
        Some(provider2.id),
        at(tomorrow(), 10, 15),
    )
    .await;
    assert_eq!(r.code(), "patient_busy");

    // The day: a no-show is refused before the start; the visit runs to completion.
    let r = act(&app, &desk, &id, "mark_no_show", None).await;
    assert_eq!(r.code(), "not_started_yet");
    for (action, status) in [
        ("confirm", "confirmed"),
        ("check_in", "checked_in"),
        ("start", "in_progress"),
        ("complete", "completed"),
    ] {
        let r = act(&app, &desk, &id, action, None).await;
        assert_eq!(r.status, 200, "{action}: {}", r.body);
        assert_eq!(r.body["status"], status);
    }
    let done = app
        .get(&format!("/api/v1/appointments/{id}"), Some(&desk))
        .await;
    assert!(done.body["checked_in_at"].is_string() && done.body["completed_at"].is_string());
    assert_eq!(done.body["allowed_actions"], json!([]));
    let r = act(&app, &desk, &id, "cancel", Some("too late")).await;
    assert_eq!(r.code(), "invalid_transition");
    assert_eq!(r.body["error"]["details"]["allowed_actions"], json!([]));

    // Cancelling needs a reason, and frees the time.
    let r = book(
        &app,
        &desk,
        other.id,
        service.id,
        Some(provider.id),
        at(tomorrow(), 15, 0),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["number"], "APT-20261125-002");
    let second = r.body["id"].as_str().unwrap().to_owned();
    let r = act(&app, &desk, &second, "cancel", None).await;
    assert_eq!(r.code(), "validation_failed");
    let r = act(
        &app,
        &desk,
        &second,
        "cancel",
        Some("patient is travelling"),
    )
    .await;
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["cancellation_reason"], "patient is travelling");
    assert!(
        starts(&slots(&app, &desk, service.id, "2026-11-26").await)
            .contains(&"2026-11-26T15:00".to_owned())
    );

    // Views: the day sheet by provider, search by number and by name.
    let sheet = app
        .get(
            &format!(
                "/api/v1/clinics/{}/day-sheet?date=2026-11-26",
                app.clinic.id
            ),
            Some(&desk),
        )
        .await;
    assert_eq!(sheet.status, 200, "{}", sheet.body);
    assert_eq!(sheet.body["counts"]["completed"], 1);
    assert_eq!(sheet.body["counts"]["cancelled"], 1);
    let only_active = app
        .get(
            &format!(
                "/api/v1/clinics/{}/day-sheet?date=2026-11-26&status=scheduled,confirmed",
                app.clinic.id
            ),
            Some(&desk),
        )
        .await;
    assert_eq!(only_active.body["providers"], json!([]));
    let found = app
        .get("/api/v1/appointments?q=20261125-002", Some(&desk))
        .await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    let by_name = app
        .get(
            &format!("/api/v1/appointments?q={}", other.name.replace(' ', "%20")),
            Some(&desk),
        )
        .await;
    assert_eq!(by_name.body["items"][0]["patient_id"], json!(other.id));
    let history = app
        .get(
            &format!("/api/v1/patients/{}/appointments", patient.id),
            Some(&desk),
        )
        .await;
    assert_eq!(history.body["past"][0]["id"], json!(id));
    let agenda = app
        .get(
            &format!(
                "/api/v1/providers/{}/agenda?from=2026-11-26&to=2026-11-26",
                provider.id
            ),
            Some(&desk),
        )
        .await;
    assert_eq!(agenda.body["appointments"].as_array().unwrap().len(), 2);
}

async fn patients_book_for_themselves_within_the_rules(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (me, token) = app.signed_in(Role::Patient).await;
    let patient = app.patient_of(&me).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;

    let r = app
        .post(
            "/api/v1/me/appointments",
            Some(&token),
            json!({"service_id": service.id, "start_at": at(tomorrow(), 9, 0).to_string(), "mode": "video"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["provider_id"],
        json!(provider.id),
        "any provider: the free one"
    );
    assert_eq!(r.body["mode"], "video");
    assert_eq!(r.body["patient_id"], json!(patient.id));
    let soon = r.body["id"].as_str().unwrap().to_owned();

    let r = app
        .post(
            "/api/v1/me/appointments",
            Some(&token),
            json!({"service_id": service.id, "provider_id": provider.id, "start_at": at(later(), 9, 0).to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let far = r.body["id"].as_str().unwrap().to_owned();

    let mine = app.get("/api/v1/me/appointments", Some(&token)).await;
    assert_eq!(mine.body["upcoming"].as_array().unwrap().len(), 2);

    // Tomorrow's is inside the 24-hour cutoff; the day after's is not.
    let r = app
        .post(
            &format!("/api/v1/me/appointments/{soon}/cancel"),
            Some(&token),
            json!({"reason": "ill"}),
        )
        .await;
    assert_eq!(r.code(), "cancellation_cutoff_passed", "{}", r.body);
    assert!(r.body["error"]["details"]["cutoff_at"].is_string());
    let r = app
        .post(
            &format!("/api/v1/me/appointments/{far}/reschedule"),
            Some(&token),
            json!({"start_at": at(later(), 16, 0).to_string()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["local_start"], "2026-11-27T16:00");
    let r = app
        .post(
            &format!("/api/v1/me/appointments/{far}/confirm"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "confirmed");
    let r = app
        .post(
            &format!("/api/v1/me/appointments/{far}/cancel"),
            Some(&token),
            json!({"reason": "ill"}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled");

    // Someone else's appointment does not exist for me; staff routes are closed to me.
    let theirs = app.booked(None, None, later(), 11).await;
    let r = app
        .post(
            &format!("/api/v1/me/appointments/{}/confirm", theirs.appointment.id),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "not_found");
    let r = app
        .get(
            &format!("/api/v1/appointments/{}", theirs.appointment.id),
            Some(&token),
        )
        .await;
    assert_eq!(r.code(), "forbidden");

    // Providers whose credentials are not verified are not offered to patients online.
    let (_, unverified) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/providers/{}", unverified.id),
            Some(&admin),
            Some(json!({"verification_status": "pending"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            "/api/v1/me/appointments",
            Some(&token),
            json!({"service_id": service.id, "provider_id": unverified.id, "start_at": at(later(), 12, 0).to_string()}),
        )
        .await;
    assert_eq!(r.code(), "not_bookable");
    let search = slots(&app, &token, service.id, "2026-11-27").await;
    assert!(
        search["providers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["provider_id"] != json!(unverified.id))
    );
    let staff_view = slots(&app, &admin, service.id, "2026-11-27").await;
    assert!(
        staff_view["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["provider_id"] == json!(unverified.id))
    );

    // A clinic that takes no online bookings.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/clinics/{}/booking-settings", app.clinic.id),
            Some(&admin),
            Some(json!({"patient_self_booking": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            "/api/v1/me/appointments",
            Some(&token),
            json!({"service_id": service.id, "start_at": at(later(), 10, 0).to_string()}),
        )
        .await;
    assert_eq!(r.code(), "self_booking_disabled");
}

async fn reschedules_hold_exactly_one_slot(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let b = app.booked(None, None, tomorrow(), 10).await;
    let blocker = app.patient_at(app.clinic.id, None).await;
    app.book_at(&b.provider, &b.service, &blocker, at(tomorrow(), 16, 0))
        .await;
    let id = b.appointment.id;
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/reschedule"),
            Some(&desk),
            json!({"start_at": at(tomorrow(), 15, 0).to_string()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["number"],
        json!(b.appointment.number),
        "a reschedule keeps the number"
    );
    let offered = starts(&slots(&app, &desk, b.service.id, "2026-11-26").await);
    assert!(
        offered.contains(&"2026-11-26T10:00".to_owned()),
        "the old time is free again"
    );
    assert!(!offered.contains(&"2026-11-26T15:00".to_owned()));
    // Onto the blocker: refused, and the appointment keeps its time.
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/reschedule"),
            Some(&desk),
            json!({"start_at": at(tomorrow(), 16, 0).to_string()}),
        )
        .await;
    assert_eq!(r.code(), "slot_unavailable", "{}", r.body);
    assert_eq!(app.appointment(id).await.start_at, at(tomorrow(), 15, 0));
    // Rescheduling a confirmed appointment asks for confirmation again.
    act(&app, &desk, &id.to_string(), "confirm", None).await;
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/reschedule"),
            Some(&desk),
            json!({"start_at": at(tomorrow(), 9, 0).to_string()}),
        )
        .await;
    assert_eq!(r.body["status"], "scheduled");
}

async fn time_off_and_exceptions_shape_the_slots(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (pu, ptoken) = app.signed_in(Role::Provider).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let b = app.booked(Some(&pu), None, later(), 10).await;
    let service = b.service.id;
    let pid = b.provider.id;

    // A provider closes a date of their own; the search says why.
    let r = app
        .post(&format!("/api/v1/providers/{pid}/exceptions"), Some(&ptoken), json!({"clinic_id": app.clinic.id, "date": "2026-11-26", "kind": "unavailable", "reason": "Training"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = slots(&app, &ptoken, service, "2026-11-26").await;
    assert_eq!(s["slots"], json!([]));
    assert_eq!(s["reason"], "not_working");
    let exception = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/providers/{pid}/exceptions/{exception}"),
            Some(&ptoken),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(!starts(&slots(&app, &ptoken, service, "2026-11-26").await).is_empty());

    // Requested time off changes nothing until approved; approving lists what it hits.
    let r = app
        .post(
            &format!("/api/v1/providers/{pid}/time-off"),
            Some(&ptoken),
            json!({"start_date": "2026-11-27", "end_date": "2026-11-27", "reason": "Conference"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let leave = r.body["id"].as_str().unwrap().to_owned();
    assert!(!starts(&slots(&app, &ptoken, service, "2026-11-27").await).is_empty());
    let r = app
        .post(
            &format!("/api/v1/time-off/{leave}/approve"),
            Some(&ptoken),
            json!({}),
        )
        .await;
    assert_eq!(
        r.code(),
        "forbidden",
        "providers do not approve their own leave"
    );
    let r = app
        .post(
            &format!("/api/v1/time-off/{leave}/approve"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["time_off"]["status"], "approved");
    let hit = r.body["affected_appointments"].as_array().unwrap();
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0]["id"], json!(b.appointment.id));
    let s = slots(&app, &ptoken, service, "2026-11-27").await;
    assert_eq!(
        (s["slots"].clone(), s["reason"].clone()),
        (json!([]), json!("on_leave"))
    );
    let r = app
        .post(
            &format!("/api/v1/time-off/{leave}/approve"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "invalid_state", "decided once");
    let r = app
        .post(
            &format!("/api/v1/time-off/{leave}/withdraw"),
            Some(&ptoken),
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled");
    assert!(!starts(&slots(&app, &ptoken, service, "2026-11-27").await).is_empty());

    // Weekly hours: a provider cannot touch a colleague's.
    let (_, colleague) = app.provider_at(app.clinic.id, None, &[]).await;
    let r = app
        .post(&format!("/api/v1/providers/{}/availability-rules", colleague.id), Some(&ptoken), json!({"clinic_id": app.clinic.id, "day_of_week": 1, "start_time": "08:00", "end_time": "09:00"}))
        .await;
    assert_eq!(r.code(), "forbidden");
    let r = app
        .post(&format!("/api/v1/providers/{pid}/availability-rules"), Some(&ptoken), json!({"clinic_id": app.clinic.id, "day_of_week": 1, "start_time": "19:00", "end_time": "18:00"}))
        .await;
    assert_eq!(r.code(), "validation_failed");
    let r = app
        .post(&format!("/api/v1/providers/{pid}/availability-rules"), Some(&ptoken), json!({"clinic_id": app.other_clinic.id, "day_of_week": 1, "start_time": "08:00", "end_time": "09:00"}))
        .await;
    assert_eq!(r.code(), "invalid_state", "{}", r.body);
}

async fn the_daily_cap_holds_except_for_emergencies(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let b = app.booked(None, None, tomorrow(), 9).await;
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/providers/{}", b.provider.id),
            Some(&admin),
            Some(json!({"max_daily_appointments": 2})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p2 = app.patient_at(app.clinic.id, None).await;
    let p3 = app.patient_at(app.clinic.id, None).await;
    let r = book(
        &app,
        &admin,
        p2.id,
        b.service.id,
        Some(b.provider.id),
        at(tomorrow(), 10, 0),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = book(
        &app,
        &admin,
        p3.id,
        b.service.id,
        Some(b.provider.id),
        at(tomorrow(), 11, 0),
    )
    .await;
    assert_eq!(r.code(), "daily_cap_reached", "{}", r.body);
    let s = slots(&app, &admin, b.service.id, "2026-11-26").await;
    assert_eq!(s["reason"], "daily_cap_reached");
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&admin),
            json!({"patient_id": p3.id, "service_id": b.service.id, "provider_id": b.provider.id,
                   "start_at": at(tomorrow(), 11, 0).to_string(), "priority": "emergency"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["over_daily_cap"], true);
}

async fn prepayment_holds_then_confirms(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    app.call(
        Method::PATCH,
        &format!("/api/v1/clinics/{}/booking-settings", app.clinic.id),
        Some(&admin),
        Some(json!({"requires_prepayment": true, "payment_hold_minutes": 20})),
    )
    .await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let patient = app.patient_at(app.clinic.id, None).await;
    let r = book(
        &app,
        &admin,
        patient.id,
        service.id,
        Some(provider.id),
        at(later(), 9, 0),
    )
    .await;
    assert_eq!(r.body["status"], "pending_payment", "{}", r.body);
    assert_eq!(
        r.body["hold_expires_at"],
        json!((app.now() + jiff::SignedDuration::from_mins(20)).to_string())
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = act(&app, &admin, &id, "confirm", None).await;
    assert_eq!(r.code(), "invalid_transition");
    assert_eq!(
        r.body["error"]["details"]["allowed_actions"],
        json!(["pay", "cancel", "reschedule"])
    );
    let r = act(&app, &admin, &id, "pay", None).await;
    assert_eq!(r.body["status"], "confirmed");
}

async fn staff_see_only_their_clinic(db: &TestDb) {
    let app = TestApp::new(db).await;
    let b = app.booked(None, None, tomorrow(), 10).await;
    let outsider = app
        .user(Role::Receptionist, Some(app.other_clinic.id))
        .await;
    let token = app.token(&outsider);
    let r = app
        .get(
            &format!("/api/v1/appointments/{}", b.appointment.id),
            Some(&token),
        )
        .await;
    assert_eq!(r.code(), "not_found");
    let r = app
        .get(&format!("/api/v1/patients/{}", b.patient.id), Some(&token))
        .await;
    assert_eq!(r.code(), "not_found");
    let r = app
        .get(
            &format!("/api/v1/clinics/{}/day-sheet", app.clinic.id),
            Some(&token),
        )
        .await;
    assert_eq!(r.code(), "not_found");
    let r = app.get("/api/v1/appointments", Some(&token)).await;
    assert_eq!(r.body["items"], json!([]));
    let p = app.patient_at(app.other_clinic.id, None).await;
    let r = book(
        &app,
        &token,
        p.id,
        b.service.id,
        Some(b.provider.id),
        at(tomorrow(), 15, 0),
    )
    .await;
    assert_eq!(r.code(), "forbidden");
    let r = act(
        &app,
        &token,
        &b.appointment.id.to_string(),
        "cancel",
        Some("x"),
    )
    .await;
    assert_eq!(r.code(), "not_found");
    // A network role sees both.
    let (_, root) = app.signed_in(Role::SuperAdmin).await;
    let r = app
        .get(
            &format!("/api/v1/appointments/{}", b.appointment.id),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, 200);
    // The provider sees their own appointments.
    let r = app
        .get(
            &format!("/api/v1/appointments/{}", b.appointment.id),
            Some(&app.token(&b.provider_user)),
        )
        .await;
    assert_eq!(r.status, 200);
}

async fn bad_scheduling_input_is_a_clear_4xx(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let b = app.booked(None, None, tomorrow(), 10).await;
    let audit = app.audit_count().await;
    let cases: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/api/v1/appointments".into(),
            Some(
                json!({"patient_id": b.patient.id, "service_id": b.service.id, "start_at": "tomorrow"}),
            ),
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            Some(
                json!({"patient_id": b.patient.id, "service_id": b.service.id, "start_at": at(tomorrow(), 11, 0).to_string(), "priority": "whenever"}),
            ),
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            Some(
                json!({"patient_id": Uuid::now_v7(), "service_id": b.service.id, "start_at": at(tomorrow(), 11, 0).to_string()}),
            ),
            "validation_failed",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            Some(
                json!({"patient_id": b.patient.id, "service_id": Uuid::now_v7(), "start_at": at(tomorrow(), 11, 0).to_string()}),
            ),
            "not_found",
        ),
        (
            Method::POST,
            format!("/api/v1/appointments/{}/actions", b.appointment.id),
            Some(json!({"action": "teleport"})),
            "invalid_body",
        ),
        (
            Method::POST,
            format!("/api/v1/appointments/{}/actions", b.appointment.id),
            Some(json!({"action": "reschedule"})),
            "validation_failed",
        ),
        (
            Method::GET,
            format!(
                "/api/v1/slots?service_id={}&from=2026-11-30&to=2026-11-26",
                b.service.id
            ),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            format!(
                "/api/v1/slots?service_id={}&from=2026-11-01&to=2027-01-26",
                b.service.id
            ),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/slots?service_id=not-a-uuid".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/appointments?status=lost".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/appointments?cursor=zzz".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/appointments/not-a-uuid".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/providers?q=a%00b".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            "/api/v1/patients?q=%00".into(),
            None,
            "invalid_parameter",
        ),
        (
            Method::POST,
            "/api/v1/patients".into(),
            Some(json!({"name": "Nul\u{0}l", "clinic_id": app.clinic.id})),
            "validation_failed",
        ),
    ];
    for (method, path, body, code) in cases {
        let r = app.call(method.clone(), &path, Some(&desk), body).await;
        assert!(
            r.status.is_client_error(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
        assert_eq!(r.code(), code, "{method} {path}: {}", r.body);
    }
    assert_eq!(
        app.audit_count().await,
        audit,
        "refused requests change nothing"
    );
}

async fn the_directory_finds_providers_and_retired_services_stay_unbooked(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, patient) = app.signed_in(Role::Patient).await;
    let service = app.service(app.clinic.id).await;
    let (_, swahili) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let (_, other) = app.provider_at(app.clinic.id, None, &[]).await;
    let r = app
        .post(
            "/api/v1/specializations",
            Some(&admin),
            json!({"name": "Paediatrics"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let paediatrics = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/providers/{}", swahili.id),
            Some(&admin),
            Some(json!({"languages": ["en", "sw"], "specializations": [{"id": paediatrics, "is_primary": true}],
                        "practice_start_year": 2010, "qualifications": ["MBChB", "MMed Paediatrics"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["years_of_experience"], 16);
    assert_eq!(r.body["specializations"][0]["name"], "Paediatrics");
    let ids = |r: &Resp| -> Vec<Value> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].clone())
            .collect()
    };
    let by = |q: String| {
        let (app, patient) = (&app, &patient);
        async move {
            app.get(&format!("/api/v1/providers?{q}"), Some(patient))
                .await
        }
    };
    let r = by(format!("service_id={}", service.id)).await;
    assert_eq!(ids(&r), vec![json!(swahili.id)]);
    let r = by("language=sw".into()).await;
    assert_eq!(ids(&r), vec![json!(swahili.id)]);
    let r = by(format!(
        "specialization_id={paediatrics}&mode=video&clinic_id={}",
        app.clinic.id
    ))
    .await;
    assert_eq!(ids(&r), vec![json!(swahili.id)]);
    let r = by(format!("clinic_id={}", app.clinic.id)).await;
    assert_eq!(ids(&r).len(), 2);
    assert!(ids(&r).contains(&json!(other.id)));
    let r = by("language=Swahili!".into()).await;
    assert_eq!(r.code(), "invalid_parameter");
    // Retiring a service stops its bookings and its slots, and keeps it readable.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{}", service.id),
            Some(&admin),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(r.body["is_active"], false);
    let p = app.patient_at(app.clinic.id, None).await;
    let r = book(
        &app,
        &admin,
        p.id,
        service.id,
        Some(swahili.id),
        at(later(), 10, 0),
    )
    .await;
    assert_eq!(r.code(), "not_bookable", "{}", r.body);
    let s = slots(&app, &admin, service.id, "2026-11-27").await;
    assert_eq!(s["reason"], "no_provider");
    let r = app
        .get(
            &format!(
                "/api/v1/clinics/{}/services?include_inactive=true",
                app.clinic.id
            ),
            Some(&patient),
        )
        .await;
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == json!(service.id))
    );
    // A second live engagement at the same clinic is refused.
    let r = app
        .post(
            &format!("/api/v1/providers/{}/clinics/{}", other.id, app.clinic.id),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "conflict");
}

carebook_store::both_backends! {
    directory => the_directory_finds_providers_and_retired_services_stay_unbooked,
    search_and_day => search_books_and_walks_the_day,
    self_service => patients_book_for_themselves_within_the_rules,
    reschedule => reschedules_hold_exactly_one_slot,
    leave_and_exceptions => time_off_and_exceptions_shape_the_slots,
    daily_cap => the_daily_cap_holds_except_for_emergencies,
    prepayment => prepayment_holds_then_confirms,
    clinic_scope => staff_see_only_their_clinic,
    bad_input => bad_scheduling_input_is_a_clear_4xx,
}
