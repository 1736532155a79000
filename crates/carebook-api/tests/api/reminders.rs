//! Reminders with a controllable clock, on both backends, delivered to a real SMTP server on
//! 127.0.0.1: planned with the booking, sent once at their time in the patient's language,
//! moved with a reschedule, dropped with a cancellation, skipped for a patient who opted out,
//! and sent by text to a patient with a phone (the clinic's order puts SMS before email).

use crate::helpers::*;
use crate::sched::*;
use carebook_domain::Role;
use carebook_jobs::notify::{SendNotification, SmtpMailer};
use carebook_jobs::queue::Runner;
use carebook_jobs::reminders::SendReminder;
use carebook_store::jobs::JobStatus;
use carebook_store::models::Patient;
use carebook_store::testing::TestDb;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

fn runner(app: &TestApp, smtp: std::net::SocketAddr) -> Runner {
    runner_with(app, smtp, None)
}

/// With `sms`, text messages go to that Twilio-format server.
fn runner_with(app: &TestApp, smtp: std::net::SocketAddr, sms: Option<&str>) -> Runner {
    use carebook_api::clock::Clock;
    let clock = app.clock.clone();
    let now: carebook_jobs::queue::Clock = Arc::new(move || clock.now());
    let mailer =
        SmtpMailer::new(&format!("smtp://{smtp}"), "Clinic <no-reply@clinic.test>").unwrap();
    let mut transports = carebook_jobs::notify::Transports {
        mail: Arc::new(mailer),
        ..carebook_jobs::notify::Transports::log()
    };
    if let Some(base) = sms {
        transports.sms = Arc::new(
            carebook_jobs::sms::TwilioSms::new(base, "ACreminders", "token", "+15005550006")
                .unwrap(),
        );
    }
    let mut r = Runner::new(app.store.clone(), "test-worker", now.clone());
    r.register(
        carebook_store::jobs::SEND_NOTIFICATION,
        Arc::new(SendNotification::with_transports(
            app.store.clone(),
            transports,
            now.clone(),
        )),
    );
    r.register(
        carebook_jobs::reminders::SEND_REMINDER,
        Arc::new(SendReminder::new(app.store.clone(), now)),
    );
    r
}

fn key(id: Uuid, kind: &str, start: Timestamp) -> String {
    format!("reminder:{id}:{kind}:{}", start.as_microsecond())
}

async fn job(app: &TestApp, key: &str) -> Option<carebook_store::jobs::Job> {
    app.store
        .read()
        .await
        .unwrap()
        .job_by_key(key)
        .await
        .unwrap()
}

async fn drain(r: &Runner) {
    // A reminder writes its message, whose delivery is a job of its own: run both.
    for _ in 0..3 {
        r.drain().await.unwrap();
    }
}

/// A patient the clinic reaches by email only (no phone, no device), so reminders go by email.
async fn patient_with(app: &TestApp, email: &str, language: &str, opt_out: bool) -> Patient {
    let p = app.patient_at(app.clinic.id, None).await;
    let p = Patient {
        email: Some(email.into()),
        phone: None,
        preferred_language: language.into(),
        notification_opt_out: opt_out,
        channel_opt_outs: Default::default(),
        ..p
    };
    let mut tx = app.store.write().await.unwrap();
    tx.update_patient(&p).await.unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();
    p
}

async fn reminders_arrive_once_and_follow_the_appointment(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let (desk_user, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let amina = patient_with(&app, "amina@example.org", "sw", false).await;
    let start = at(later(), 10, 0);
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&desk),
            json!({"patient_id": amina.id, "service_id": service.id, "provider_id": provider.id, "start_at": start.to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let day_before = job(&app, &key(id, "reminder_24h", start))
        .await
        .expect("planned");
    let same_day = job(&app, &key(id, "reminder_2h", start))
        .await
        .expect("planned");
    assert_eq!(day_before.run_at, start - SignedDuration::from_hours(24));
    assert_eq!(same_day.run_at, start - SignedDuration::from_hours(2));

    let worker = runner(&app, smtp.addr);
    drain(&worker).await;
    assert!(
        smtp.received.lock().unwrap().is_empty(),
        "not before their time"
    );
    app.clock
        .set(day_before.run_at + SignedDuration::from_mins(1));
    drain(&worker).await;
    let got = smtp.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "the day-before reminder, once");
    assert_eq!(got[0].to, vec!["amina@example.org".to_owned()]);
    assert!(
        got[0].data.contains("Kumbukumbu ya miadi yako"),
        "in Swahili: {}",
        got[0].data
    );
    assert!(
        got[0].data.contains("saa 10:00"),
        "on the clinic's clock: {}",
        got[0].data
    );
    drain(&worker).await;
    assert_eq!(smtp.received.lock().unwrap().len(), 1, "exactly once");

    // Moved to the afternoon: the queued same-day reminder goes, the new time's come.
    let desk = app.token(&desk_user); // a day later: a fresh access token
    let moved = at(later(), 15, 0);
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/reschedule"),
            Some(&desk),
            json!({"start_at": moved.to_string()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        job(&app, &key(id, "reminder_2h", start))
            .await
            .unwrap()
            .status,
        JobStatus::Cancelled
    );
    let new_same_day = job(&app, &key(id, "reminder_2h", moved))
        .await
        .expect("replanned");
    assert_eq!(new_same_day.run_at, moved - SignedDuration::from_hours(2));
    let new_day_before = job(&app, &key(id, "reminder_24h", moved))
        .await
        .expect("the new time is worth a day-before reminder too");
    assert_eq!(
        new_day_before.run_at,
        moved - SignedDuration::from_hours(24)
    );

    // Cancelled: nothing more is sent, even when the time comes.
    let r = app
        .post(
            &format!("/api/v1/appointments/{id}/actions"),
            Some(&desk),
            json!({"action": "cancel", "reason": "patient is travelling"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for kind in ["reminder_24h", "reminder_2h"] {
        let j = job(&app, &key(id, kind, moved)).await.unwrap();
        assert_eq!(j.status, JobStatus::Cancelled, "{kind}");
    }
    app.clock
        .set(new_same_day.run_at + SignedDuration::from_mins(1));
    drain(&worker).await;
    assert_eq!(smtp.received.lock().unwrap().len(), 1);
}

async fn opted_out_patients_get_a_skipped_row_and_no_message(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let quiet = patient_with(&app, "quiet@example.org", "en", true).await;
    let start = at(later(), 11, 0);
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&desk),
            json!({"patient_id": quiet.id, "service_id": service.id, "provider_id": provider.id, "start_at": start.to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    app.clock.set(start - SignedDuration::from_hours(24));
    let worker = runner(&app, smtp.addr);
    drain(&worker).await;
    assert!(smtp.received.lock().unwrap().is_empty());
    let rows = app
        .store
        .read()
        .await
        .unwrap()
        .notifications_for_appointment(id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].status.as_str()),
        ("reminder_24h", "skipped")
    );
    assert_eq!(
        job(&app, &key(id, "reminder_24h", start))
            .await
            .unwrap()
            .status,
        JobStatus::Succeeded
    );
}

async fn a_patient_with_a_phone_is_reminded_by_text_once(db: &TestDb) {
    let app = TestApp::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let sms = carebook_jobs::testing::twilio_server(&[]).await;
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    // Phone and email: SMS comes first in the default order.
    let baraka = patient_with(&app, "baraka@example.org", "en", false).await;
    let baraka = Patient {
        phone: Some("+254712000111".into()),
        ..baraka
    };
    {
        let mut tx = app.store.write().await.unwrap();
        tx.update_patient(&baraka).await.unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
    }
    let start = at(later(), 9, 0);
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&desk),
            json!({"patient_id": baraka.id, "service_id": service.id, "provider_id": provider.id, "start_at": start.to_string()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    app.clock
        .set(start - SignedDuration::from_hours(24) + SignedDuration::from_mins(1));
    let worker = runner_with(&app, smtp.addr, Some(&sms.base_url()));
    drain(&worker).await;
    drain(&worker).await;
    let texts = sms.received.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "the day-before reminder, once, by text");
    assert_eq!(texts[0].form["To"], "+254712000111");
    assert!(
        texts[0].form["Body"].contains("09:00"),
        "{:?}",
        texts[0].form
    );
    assert!(
        smtp.received.lock().unwrap().is_empty(),
        "and not by email too"
    );
    let rows = app
        .store
        .read()
        .await
        .unwrap()
        .notifications_for_appointment(id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].channel.as_str(), rows[0].status.as_str()),
        ("sms", "sent")
    );
    assert_eq!(
        rows[0].idempotency_key,
        format!("{}:sms", key(id, "reminder_24h", start)),
        "the key names the channel"
    );
}

carebook_store::both_backends! {
    by_text => a_patient_with_a_phone_is_reminded_by_text_once,
    arrive_once => reminders_arrive_once_and_follow_the_appointment,
    opted_out => opted_out_patients_get_a_skipped_row_and_no_message,
}
