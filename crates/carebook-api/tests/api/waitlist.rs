//! The waitlist on both backends, with the worker's real jobs and a controllable clock: a
//! cancellation offers its slot to the top entry, an offer that runs out goes to the next,
//! two freed slots go to two entries, concurrent accepts book once, and the patient's and the
//! front desk's routes around it.

use crate::helpers::*;
use crate::sched::*;
use axum::http::Method;
use carebook_api::waitlist::MatchFreedSlots;
use carebook_domain::Role;
use carebook_jobs::notify::{SendNotification, SmtpMailer};
use carebook_jobs::queue::Runner;
use carebook_jobs::reminders::SendReminder;
use carebook_jobs::waitlist::ExpireOffer;
use carebook_store::models::Patient;
use carebook_store::scheduling::Provider;
use carebook_store::testing::TestDb;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn worker(app: &TestApp, smtp: std::net::SocketAddr) -> Runner {
    use carebook_api::clock::Clock;
    let clock = app.clock.clone();
    let now: carebook_jobs::queue::Clock = Arc::new(move || clock.now());
    let mailer =
        SmtpMailer::new(&format!("smtp://{smtp}"), "Clinic <no-reply@clinic.test>").unwrap();
    let mut r = Runner::new(app.store.clone(), "test-worker", now.clone());
    let store = app.store.clone();
    r.register(
        carebook_store::jobs::SEND_NOTIFICATION,
        Arc::new(SendNotification::new(
            store.clone(),
            Arc::new(mailer),
            now.clone(),
        )),
    );
    r.register(
        carebook_jobs::reminders::SEND_REMINDER,
        Arc::new(SendReminder::new(store.clone(), now.clone())),
    );
    r.register(
        carebook_jobs::waitlist::MATCH_FREED_SLOT,
        Arc::new(MatchFreedSlots::new(store.clone(), now.clone())),
    );
    r.register(
        carebook_jobs::waitlist::EXPIRE_OFFER,
        Arc::new(ExpireOffer::new(store, now)),
    );
    r
}

async fn drain(r: &Runner) {
    // A match writes an offer whose message is a job of its own: run until quiet.
    for _ in 0..4 {
        r.drain().await.unwrap();
    }
}

async fn with_email(app: &TestApp, email: &str) -> Patient {
    let p = app.patient_at(app.clinic.id, None).await;
    // Email only: with a phone, the clinic's channel order would text them first.
    let p = Patient {
        email: Some(email.into()),
        phone: None,
        ..p
    };
    let mut tx = app.store.write().await.unwrap();
    tx.update_patient(&p).await.unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();
    p
}

async fn entry(app: &TestApp, token: &str, id: &Value) -> Value {
    let r = app
        .get(
            &format!("/api/v1/waitlist/{}", id.as_str().unwrap()),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

async fn cancel(app: &TestApp, token: &str, id: Uuid) {
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/actions"),
            Some(token),
            json!({"action": "cancel", "reason": "cannot come"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn cancellation_offers_the_top_entry_and_a_timeout_passes_it_on(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let (desk_user, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    // One appointment fills the provider's day.
    app.cap_day(&provider, 1).await;
    let booked = app.patient_at(app.clinic.id, None).await;
    let start = at(later(), 10, 0);
    let a = app.book_at(&provider, &service, &booked, start).await;

    let first = with_email(&app, "first@example.org").await;
    let urgent = with_email(&app, "urgent@example.org").await;
    let day = later().to_string();
    let mut ids = vec![];
    for (p, priority) in [(&first, "standard"), (&urgent, "urgent")] {
        let r = app
            .post(
                "/api/v1/waitlist",
                Some(&desk),
                json!({"patient_id": p.id, "service_id": service.id, "provider_id": provider.id,
                       "requested_from": day, "requested_to": day, "priority": priority}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["status"], "waiting");
        assert_eq!(r.body["position"], 1, "first in its priority");
        ids.push(r.body["id"].clone());
    }
    let again = app
        .post(
            "/api/v1/waitlist",
            Some(&desk),
            json!({"patient_id": first.id, "service_id": service.id}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.code(), "already_waiting");
    let (first_id, urgent_id) = (ids[0].clone(), ids[1].clone());
    assert_eq!(
        entry(&app, &desk, &urgent_id).await["entry"]["place_in_line"],
        1
    );
    assert_eq!(
        entry(&app, &desk, &first_id).await["entry"]["place_in_line"],
        2
    );

    let w = worker(&app, smtp.addr);
    drain(&w).await;
    assert_eq!(
        entry(&app, &desk, &urgent_id).await["entry"]["status"],
        "waiting",
        "nothing is free on that day yet"
    );

    cancel(&app, &desk, a.id).await;
    drain(&w).await;
    let got = entry(&app, &desk, &urgent_id).await;
    assert_eq!(got["entry"]["status"], "offered", "{got}");
    let offer = &got["entry"]["offer"];
    assert_eq!(ts(&offer["start_at"]), start, "the freed time itself");
    let hold: Uuid = offer["appointment_id"].as_str().unwrap().parse().unwrap();
    let held = app.appointment(hold).await;
    assert_eq!(held.status.as_str(), "offered");
    assert!(held.assigned_from_waitlist);
    assert_eq!(
        entry(&app, &desk, &first_id).await["entry"]["status"],
        "waiting",
        "one offer per slot"
    );
    // Nobody else can book the held time meanwhile.
    let other = app.patient_at(app.clinic.id, None).await;
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&desk),
            json!({"patient_id": other.id, "service_id": service.id, "provider_id": provider.id,
                   "start_at": start.to_string()}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let mails = smtp.received.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "the offer, by email");
    assert_eq!(mails[0].to, vec!["urgent@example.org".to_owned()]);
    assert!(mails[0].data.contains("10:00"), "{}", mails[0].data);

    // Unanswered: when the offer runs out, the time goes to the next in line.
    let expires = ts(&offer["expires_at"]);
    assert_eq!(expires, app.now() + SignedDuration::from_hours(2));
    app.clock.set(expires + SignedDuration::from_secs(1));
    let desk = app.token(&desk_user);
    drain(&w).await;
    let lapsed = entry(&app, &desk, &urgent_id).await;
    assert_eq!(lapsed["entry"]["status"], "waiting", "{lapsed}");
    assert_eq!(lapsed["offers"][0]["status"], "expired");
    assert_eq!(app.appointment(hold).await.status.as_str(), "cancelled");
    let next = entry(&app, &desk, &first_id).await;
    assert_eq!(next["entry"]["status"], "offered", "{next}");
    assert_eq!(ts(&next["entry"]["offer"]["start_at"]), start);

    // The front desk accepts for them (they phoned): an ordinary booking from the waitlist.
    let r = app
        .post(
            &format!("/api/v1/waitlist/{}/accept", first_id.as_str().unwrap()),
            Some(&desk),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["entry"]["status"], "assigned");
    assert_eq!(r.body["appointment"]["status"], "scheduled");
    assert_eq!(r.body["appointment"]["assigned_from_waitlist"], true);
    let booked_id = r.body["appointment"]["id"].as_str().unwrap().to_owned();
    let reminder = app
        .store
        .read()
        .await
        .unwrap()
        .job_by_key(&format!(
            "reminder:{booked_id}:reminder_2h:{}",
            start.as_microsecond()
        ))
        .await
        .unwrap();
    assert!(reminder.is_some(), "an accepted offer gets its reminders");
    // The urgent entry is still waiting, and now first in line.
    let left = entry(&app, &desk, &urgent_id).await;
    assert_eq!(left["entry"]["place_in_line"], 1, "{left}");
    assert!(
        left["entry"]["estimated_wait_days"].as_u64().is_some(),
        "one assignment is history enough for an estimate: {left}"
    );
    drain(&w).await;
    let mails = smtp.received.lock().unwrap().clone();
    let to: Vec<_> = mails.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(
        to,
        [
            "urgent@example.org",
            "first@example.org",
            "first@example.org"
        ],
        "two offers and a confirmation, each once"
    );
}

async fn two_freed_slots_go_to_two_entries(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    app.cap_day(&provider, 2).await;
    let (p1, p2) = (
        app.patient_at(app.clinic.id, None).await,
        app.patient_at(app.clinic.id, None).await,
    );
    let a1 = app
        .book_at(&provider, &service, &p1, at(later(), 9, 0))
        .await;
    let a2 = app
        .book_at(&provider, &service, &p2, at(later(), 15, 0))
        .await;
    let day = later().to_string();
    let mut ids = vec![];
    for _ in 0..3 {
        let p = app.patient_at(app.clinic.id, None).await;
        let r = app
            .post(
                "/api/v1/waitlist",
                Some(&desk),
                json!({"patient_id": p.id, "service_id": service.id,
                       "requested_from": day, "requested_to": day}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].clone());
    }
    let w = worker(&app, smtp.addr);
    drain(&w).await; // the day is full: nothing to offer on joining
    cancel(&app, &desk, a1.id).await;
    cancel(&app, &desk, a2.id).await;
    drain(&w).await;
    let mut starts = vec![];
    for (i, id) in ids.iter().enumerate() {
        let e = entry(&app, &desk, id).await;
        if i < 2 {
            assert_eq!(e["entry"]["status"], "offered", "entry {i}: {e}");
            starts.push(ts(&e["entry"]["offer"]["start_at"]));
        } else {
            assert_eq!(
                e["entry"]["status"], "waiting",
                "the third finds the day full"
            );
        }
    }
    starts.sort();
    assert_eq!(
        starts,
        [at(later(), 9, 0), at(later(), 15, 0)],
        "each the freed time"
    );
}

async fn concurrent_accepts_book_once(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let (user, token) = app.signed_in(Role::Patient).await;
    let me = app.patient_of(&user).await;
    let (e, offer) = app.offered(&me).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    const CALLERS: usize = 12;
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            // The patient taps accept on two devices while the front desk accepts for them.
            let (path, token) = if i % 3 == 0 {
                (format!("/api/v1/waitlist/{}/accept", e.id), desk.clone())
            } else {
                (
                    format!("/api/v1/me/waitlist/{}/accept", e.id),
                    token.clone(),
                )
            };
            let (app, barrier) = (app.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let r = app.post(&path, Some(&token), json!({})).await;
                (r.status.as_u16(), r.code().to_owned())
            })
        })
        .collect();
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(
        answers.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "exactly one accept wins: {answers:?}"
    );
    for (status, code) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{answers:?}");
        assert!(
            ["entry_closed", "offer_not_open"].contains(&code.as_str()),
            "{answers:?}"
        );
    }
    let booked = app.appointment(offer.appointment_id).await;
    assert_eq!(booked.status.as_str(), "scheduled");
    let mine = app.get("/api/v1/me/appointments", Some(&token)).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(
        mine.body["upcoming"].as_array().unwrap().len(),
        1,
        "{}",
        mine.body
    );
}

async fn patients_join_decline_and_leave_and_staff_assign(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let w = worker(&app, smtp.addr);
    let (user, token) = app.signed_in(Role::Patient).await;
    app.patient_of(&user).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;

    // Joining while times are free: the worker offers the first one at once.
    let r = app
        .post(
            "/api/v1/me/waitlist",
            Some(&token),
            json!({"service_id": service.id, "priority": "emergency"}),
        )
        .await;
    assert_eq!(
        r.status, 422,
        "patients do not choose their priority: {}",
        r.body
    );
    let r = app
        .post(
            "/api/v1/me/waitlist",
            Some(&token),
            json!({"service_id": service.id, "notes": "mornings please"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["priority"], "standard");
    let id = r.body["id"].as_str().unwrap().to_owned();
    drain(&w).await;
    let mine = app.get("/api/v1/me/waitlist", Some(&token)).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let offer = mine.body[0]["offer"].clone();
    assert_eq!(mine.body[0]["status"], "offered", "{}", mine.body);
    let first_start = ts(&offer["start_at"]);

    // Declining: the entry keeps its place; the declined time goes on to the next in line
    // (nobody here), not back to this entry.
    let r = app
        .post(
            &format!("/api/v1/me/waitlist/{id}/decline"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "waiting");
    assert_eq!(r.body["place_in_line"], 1);
    let again = app
        .post(
            &format!("/api/v1/me/waitlist/{id}/decline"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "offer_not_open");
    drain(&w).await;
    let mine = app.get("/api/v1/me/waitlist", Some(&token)).await;
    assert_eq!(mine.body[0]["status"], "waiting", "{}", mine.body);
    // Another cancellation frees a new time, and it is offered.
    let (desk_user, desk) = app.signed_in(Role::Receptionist).await;
    let other = app.patient_at(app.clinic.id, None).await;
    let taken = app
        .book_at(&provider, &service, &other, at(later(), 11, 0))
        .await;
    cancel(&app, &desk, taken.id).await;
    drain(&w).await;
    let mine = app.get("/api/v1/me/waitlist", Some(&token)).await;
    assert_eq!(mine.body[0]["status"], "offered", "{}", mine.body);
    let second = ts(&mine.body[0]["offer"]["start_at"]);
    assert_eq!(second, at(later(), 11, 0));
    assert_ne!(second, first_start);

    // Someone else's entry is not mine to answer.
    let (_, stranger) = app.signed_in(Role::Patient).await;
    let r = app
        .post(
            &format!("/api/v1/me/waitlist/{id}/accept"),
            Some(&stranger),
            json!({}),
        )
        .await;
    assert!(r.status == 404 || r.status == 409, "{}", r.body);

    // Leaving withdraws the offer, and the held time is free again.
    let r = app
        .post(
            &format!("/api/v1/me/waitlist/{id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["place_in_line"], Value::Null);
    let free = app
        .get(
            &format!(
                "/api/v1/slots?service_id={}&provider_id={}&from={}&to={}",
                service.id,
                provider.id,
                second.to_zoned(jiff::tz::TimeZone::get(TZ).unwrap()).date(),
                second.to_zoned(jiff::tz::TimeZone::get(TZ).unwrap()).date()
            ),
            Some(&token),
        )
        .await;
    assert_eq!(free.status, 200, "{}", free.body);
    assert!(
        free.body.to_string().contains(&second.to_string()),
        "the withdrawn offer's time is bookable again: {}",
        free.body
    );

    // Staff assign an entry by hand; its patient gets an ordinary booking.
    let desk = app.token(&desk_user);
    let walk_in = app.patient_at(app.clinic.id, None).await;
    let r = app
        .post(
            "/api/v1/waitlist",
            Some(&desk),
            json!({"patient_id": walk_in.id, "service_id": service.id, "priority": "urgent",
                   "requested_from": later().to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let wid = r.body["id"].as_str().unwrap().to_owned();
    let start = at(later(), 16, 0);
    let r = app
        .post(
            &format!("/api/v1/waitlist/{wid}/assign"),
            Some(&desk),
            json!({"start_at": start.to_string(), "provider_id": provider.id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["entry"]["status"], "assigned");
    assert_eq!(ts(&r.body["appointment"]["start_at"]), start);
    assert_eq!(r.body["appointment"]["assigned_from_waitlist"], true);
    let r = app
        .post(
            &format!("/api/v1/waitlist/{wid}/cancel"),
            Some(&desk),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "entry_closed");
}

async fn staff_reorder_and_entries_expire_after_their_dates(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (desk_user, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    app.cap_day(&provider, 1).await;
    let p0 = app.patient_at(app.clinic.id, None).await;
    app.book_at(&provider, &service, &p0, at(tomorrow(), 10, 0))
        .await;
    let day = tomorrow().to_string();
    let mut ids = vec![];
    for _ in 0..3 {
        let p = app.patient_at(app.clinic.id, None).await;
        let r = app
            .post(
                "/api/v1/waitlist",
                Some(&desk),
                json!({"patient_id": p.id, "service_id": service.id, "provider_id": provider.id,
                       "requested_from": day, "requested_to": day}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/waitlist/{}", ids[2]),
            Some(&desk),
            Some(json!({"position": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["position"], 1);
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/waitlist/{}", ids[0]),
            Some(&desk),
            Some(json!({"position": 0})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let list = app
        .get(
            &format!("/api/v1/waitlist?service_id={}", service.id),
            Some(&desk),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let order: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            (ids[2].clone(), 1),
            (ids[0].clone(), 2),
            (ids[1].clone(), 3)
        ]
    );
    // Cancelling closes the gap.
    let r = app
        .post(
            &format!("/api/v1/waitlist/{}/cancel", ids[0]),
            Some(&desk),
            json!({"reason": "found another clinic"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["close_reason"], "found another clinic");
    let list = app
        .get(
            &format!("/api/v1/waitlist?service_id={}", service.id),
            Some(&desk),
        )
        .await;
    let positions: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2]);
    let bad = app
        .get("/api/v1/waitlist?status=sleeping", Some(&desk))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The day after the requested one (on the clinic's calendar), the waiting entries expire.
    app.clock.set(at(later(), 0, 30));
    let desk = app.token(&desk_user);
    assert_eq!(
        carebook_jobs::waitlist::expire_entries(&app.store, app.now())
            .await
            .unwrap(),
        2
    );
    let closed = app
        .get(
            &format!(
                "/api/v1/waitlist?service_id={}&status=expired,cancelled",
                service.id
            ),
            Some(&desk),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let statuses: Vec<_> = closed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses.len(), 3, "{}", closed.body);
    assert_eq!(statuses.iter().filter(|s| *s == "expired").count(), 2);
    // Other clinics' staff do not see it.
    let outsider = app
        .user(Role::Receptionist, Some(app.other_clinic.id))
        .await;
    let r = app
        .get(
            &format!("/api/v1/waitlist/{}", ids[1]),
            Some(&app.token(&outsider)),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

async fn self_joined_entries_are_offered_only_what_the_patient_could_book_online(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let w = worker(&app, smtp.addr);
    let (user, token) = app.signed_in(Role::Patient).await;
    app.patient_of(&user).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    // A verified provider whose day is full, and one not yet verified with the day free.
    let (_, verified) = app.provider_at(app.clinic.id, None, &[&service]).await;
    app.cap_day(&verified, 1).await;
    let other = app.patient_at(app.clinic.id, None).await;
    let taken = app
        .book_at(&verified, &service, &other, at(later(), 10, 0))
        .await;
    let (_, pending) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let pending = Provider {
        verification_status: "pending".into(),
        ..pending
    };
    let mut tx = app.store.write().await.unwrap();
    tx.update_provider(&pending).await.unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();

    let day = later().to_string();
    let r = app
        .post(
            "/api/v1/me/waitlist",
            Some(&token),
            json!({"service_id": service.id, "requested_from": day, "requested_to": day}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].clone();
    drain(&w).await;
    assert_eq!(
        entry(&app, &desk, &id).await["entry"]["status"],
        "waiting",
        "the unverified provider's free day is not offered online"
    );
    cancel(&app, &desk, taken.id).await;
    drain(&w).await;
    let got = entry(&app, &desk, &id).await;
    assert_eq!(got["entry"]["status"], "offered", "{got}");
    assert_eq!(got["entry"]["offer"]["provider_id"], json!(verified.id));
}

carebook_store::both_backends! {
    online_rules => self_joined_entries_are_offered_only_what_the_patient_could_book_online,
    cancellation_offers_top => cancellation_offers_the_top_entry_and_a_timeout_passes_it_on,
    two_slots_two_entries => two_freed_slots_go_to_two_entries,
    concurrent_accepts => concurrent_accepts_book_once,
    patient_and_desk_routes => patients_join_decline_and_leave_and_staff_assign,
    reorder_and_expiry => staff_reorder_and_entries_expire_after_their_dates,
}
