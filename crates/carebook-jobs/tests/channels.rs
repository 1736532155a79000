//! Channels other than email against real HTTP servers on 127.0.0.1, on both backends: a
//! Twilio-format SMS API receives the form with Basic authentication, an FCM-format server
//! receives the message with the bearer token its token endpoint issued for the service
//! account's signed assertion, a dead device token is deactivated and fails fast, a 503 is
//! retried after its backoff, the webhook's signature verifies, the clinic's fallback order
//! picks the channel, and opted-out patients get `skipped` rows that reach no server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_domain::channels::Channel;
use carebook_jobs::channels::{PatientMessage, notify_patient};
use carebook_jobs::notify::{SendNotification, Transports};
use carebook_jobs::push::{FcmPush, ServiceAccount};
use carebook_jobs::queue::{Clock, Runner};
use carebook_jobs::sms::TwilioSms;
use carebook_jobs::testing::{fcm_server, twilio_server, webhook_receiver};
use carebook_jobs::webhook::{Webhook, verify};
use carebook_store::channels::PushToken;
use carebook_store::jobs::{JobStatus, SEND_NOTIFICATION};
use carebook_store::models::{Clinic, Notification, Patient, User};
use carebook_store::testing::TestDb;
use carebook_store::{Store, both_backends};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use uuid::Uuid;

const SECRET: &str = "webhook-secret-for-tests";

#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> Self {
        let t: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        Self(Arc::new(AtomicI64::new(t.as_second())))
    }
    fn now(&self) -> Timestamp {
        Timestamp::from_second(self.0.load(Ordering::SeqCst)).unwrap()
    }
    fn advance(&self, d: SignedDuration) {
        self.0.fetch_add(d.as_secs(), Ordering::SeqCst);
    }
    fn clock(&self) -> Clock {
        let c = self.clone();
        Arc::new(move || c.now())
    }
}

struct World {
    store: Store,
    clock: TestClock,
    clinic: Clinic,
}

impl World {
    async fn new(db: &TestDb) -> Self {
        let clock = TestClock::new();
        let clinic = Clinic::new(
            "Westlands",
            "westlands",
            "Africa/Nairobi",
            "KES",
            clock.now(),
        );
        let w = Self {
            store: db.store.clone(),
            clock,
            clinic,
        };
        let c = w.clinic.clone();
        w.write(async move |tx| tx.insert_clinic(&c).await.unwrap())
            .await;
        w
    }

    async fn write(&self, f: impl AsyncFnOnce(&mut dyn carebook_store::StoreTx)) {
        let mut tx = self.store.write().await.unwrap();
        f(tx.as_mut()).await;
        tx.append_audit(&AuditRecord::new("test.setup", "test", self.clock.now()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// A patient with the given phone and email, and an account with these device tokens.
    async fn patient(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        devices: &[&str],
        tweak: impl FnOnce(&mut Patient),
    ) -> Patient {
        let now = self.clock.now();
        let user = (!devices.is_empty()).then(|| {
            User::new(
                Uuid::now_v7(),
                format!("p{}@example.org", Uuid::now_v7().simple()),
                "Patient".into(),
                Role::Patient,
                None,
                now,
            )
        });
        let mut p = Patient {
            id: Uuid::now_v7(),
            user_id: user.as_ref().map(|u| u.id),
            name: "Wanjiru Kamau".into(),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            date_of_birth: None,
            gender: None,
            preferred_language: "en".into(),
            notification_opt_out: false,
            channel_opt_outs: Default::default(),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        tweak(&mut p);
        let (pt, devices) = (
            p.clone(),
            devices.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        );
        self.write(async move |tx| {
            if let Some(u) = &user {
                tx.insert_user(u).await.unwrap();
            }
            tx.insert_patient(&pt).await.unwrap();
            for d in devices {
                let t = PushToken {
                    id: Uuid::now_v7(),
                    user_id: pt.user_id.unwrap(),
                    token: d,
                    platform: "android".into(),
                    device_name: None,
                    is_active: true,
                    last_used_at: None,
                    created_at: now,
                    deactivated_at: None,
                    deactivation_reason: None,
                };
                tx.register_push_token(&t).await.unwrap();
            }
        })
        .await;
        p
    }

    /// A reminder to `p` through the channel choice, as the waitlist and reminders write them.
    async fn message(&self, p: &Patient) -> Option<Notification> {
        let msg = PatientMessage {
            clinic_id: self.clinic.id,
            patient_id: p.id,
            kind: "reminder_24h".into(),
            subject: "Appointment reminder".into(),
            body: "Your appointment at Westlands is tomorrow at 10:00.".into(),
            appointment_id: None,
            waitlist_entry_id: None,
            key: format!("test:{}", p.id),
        };
        let now = self.clock.now();
        let mut tx = self.store.write().await.unwrap();
        let n = notify_patient(tx.as_mut(), &msg, now).await.unwrap();
        tx.append_audit(&AuditRecord::new("test.notify", "test", now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n
    }

    fn runner(&self, transports: Transports) -> Runner {
        let clock = self.clock.clock();
        let sender =
            SendNotification::with_transports(self.store.clone(), transports, clock.clone());
        let mut r = Runner::new(self.store.clone(), "channels", clock);
        r.register(SEND_NOTIFICATION, Arc::new(sender));
        r
    }

    async fn notification(&self, id: Uuid) -> Notification {
        let mut tx = self.store.read().await.unwrap();
        tx.get_notification(id).await.unwrap().unwrap()
    }

    async fn job_status(&self, id: Uuid) -> JobStatus {
        let mut tx = self.store.read().await.unwrap();
        tx.job_by_key(&format!("{SEND_NOTIFICATION}:{id}"))
            .await
            .unwrap()
            .unwrap()
            .status
    }

    async fn tokens(&self, p: &Patient) -> Vec<PushToken> {
        let mut tx = self.store.read().await.unwrap();
        tx.push_tokens_of(p.user_id.unwrap(), true).await.unwrap()
    }
}

fn twilio(base: &str) -> Transports {
    Transports {
        sms: Arc::new(TwilioSms::new(base, "ACtest0001", "twilio-secret", "+15005550006").unwrap()),
        ..Transports::log()
    }
}

async fn twilio_receives_the_form_with_basic_auth(db: &TestDb) {
    let w = World::new(db).await;
    let server = twilio_server(&[]).await;
    let p = w.patient(Some("+254712345678"), None, &[], |_| {}).await;
    let n = w.message(&p).await.unwrap();
    assert_eq!((n.channel.as_str(), n.status.as_str()), ("sms", "pending"));
    let r = w.runner(twilio(&server.base_url()));
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    let got = server.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/2010-04-01/Accounts/ACtest0001/Messages.json");
    assert_eq!(got[0].auth.as_deref(), Some("ACtest0001:twilio-secret"));
    assert_eq!(got[0].form["To"], "+254712345678");
    assert_eq!(got[0].form["From"], "+15005550006");
    assert_eq!(
        got[0].form["Body"],
        "Your appointment at Westlands is tomorrow at 10:00."
    );
    let n = w.notification(n.id).await;
    assert_eq!(
        (n.status.as_str(), n.sent_at),
        ("sent", Some(w.clock.now()))
    );
}

async fn an_invalid_number_fails_for_good(db: &TestDb) {
    let w = World::new(db).await;
    let server = twilio_server(&["+254700000000"]).await;
    let p = w.patient(Some("+254700000000"), None, &[], |_| {}).await;
    let n = w.message(&p).await.unwrap();
    let r = w.runner(twilio(&server.base_url()));
    assert_eq!(r.run_batch().await.unwrap().dead, 1);
    let n = w.notification(n.id).await;
    assert_eq!(n.status, "failed");
    assert!(
        n.last_error.as_deref().unwrap().contains("21211"),
        "{:?}",
        n.last_error
    );
    assert_eq!(w.job_status(n.id).await, JobStatus::Dead);
    assert_eq!(server.received.lock().unwrap().len(), 1);
}

fn fcm(server: &carebook_jobs::testing::FcmServer, clock: Clock) -> Transports {
    let account = ServiceAccount::parse(&server.service_account_json("carebook-test")).unwrap();
    Transports {
        push: Arc::new(
            FcmPush::with_service_account(&server.base_url(), "", account, clock).unwrap(),
        ),
        ..Transports::log()
    }
}

async fn fcm_receives_the_message_with_an_issued_token(db: &TestDb) {
    let w = World::new(db).await;
    let server = fcm_server(&[]).await;
    let p = w
        .patient(
            Some("+254712345678"),
            Some("a@example.org"),
            &["device-token-1"],
            |_| {},
        )
        .await;
    let n = w.message(&p).await.unwrap();
    assert_eq!(n.channel, "push", "push comes first");
    let r = w.runner(fcm(&server, w.clock.clock()));
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);

    let grants = server.grants.lock().unwrap().clone();
    assert_eq!(grants.len(), 1);
    assert_eq!(
        grants[0]["iss"],
        "carebook@carebook-test.iam.gserviceaccount.com"
    );
    assert_eq!(
        grants[0]["scope"],
        "https://www.googleapis.com/auth/firebase.messaging"
    );
    assert_eq!(grants[0]["aud"], server.token_uri());
    assert_eq!(grants[0]["iat"], w.clock.now().as_second());
    let got = server.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v1/projects/carebook-test/messages:send");
    assert_eq!(got[0].bearer.as_deref(), Some("ya29.test-1"));
    let m = &got[0].body["message"];
    assert_eq!(m["token"], "device-token-1");
    assert_eq!(m["notification"]["title"], "Appointment reminder");
    assert_eq!(
        m["notification"]["body"],
        "Your appointment at Westlands is tomorrow at 10:00."
    );
    assert_eq!(m["data"]["notification_id"], n.id.to_string());
    assert_eq!(m["data"]["type"], "reminder_24h");

    assert_eq!(w.notification(n.id).await.status, "sent");
    let tokens = w.tokens(&p).await;
    assert_eq!(tokens[0].last_used_at, Some(w.clock.now()));

    // The same message is not written twice; another one reuses the cached access token.
    assert!(w.message(&p).await.is_none(), "one message per key");
    let other = PatientMessage {
        clinic_id: w.clinic.id,
        patient_id: p.id,
        kind: "general".into(),
        subject: "Clinic news".into(),
        body: "We open on Saturdays now.".into(),
        appointment_id: None,
        waitlist_entry_id: None,
        key: format!("news:{}", p.id),
    };
    let mut tx = w.store.write().await.unwrap();
    notify_patient(tx.as_mut(), &other, w.clock.now())
        .await
        .unwrap()
        .unwrap();
    tx.append_audit(&AuditRecord::new("test.notify", "test", w.clock.now()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    assert_eq!(server.grants.lock().unwrap().len(), 1, "one token exchange");
    let got = server.received.lock().unwrap().clone();
    assert_eq!(got[1].bearer.as_deref(), Some("ya29.test-1"));
}

async fn an_unregistered_token_is_deactivated_and_fails_fast(db: &TestDb) {
    let w = World::new(db).await;
    let server = fcm_server(&["uninstalled-app"]).await;
    let p = w
        .patient(Some("+254712345678"), None, &["uninstalled-app"], |_| {})
        .await;
    let n = w.message(&p).await.unwrap();
    let r = w.runner(fcm(&server, w.clock.clock()));
    let report = r.run_batch().await.unwrap();
    assert_eq!((report.dead, report.retried), (1, 0));
    let n = w.notification(n.id).await;
    assert_eq!(n.status, "failed");
    assert_eq!(w.job_status(n.id).await, JobStatus::Dead);
    let t = &w.tokens(&p).await[0];
    assert!(!t.is_active);
    assert_eq!(t.deactivated_at, Some(w.clock.now()));
    assert!(
        t.deactivation_reason
            .as_deref()
            .unwrap()
            .contains("UNREGISTERED")
    );
    // Nothing is tried again, and the next message no longer counts on push.
    w.clock.advance(SignedDuration::from_hours(2));
    assert_eq!(r.run_batch().await.unwrap().claimed, 0);
    assert_eq!(server.received.lock().unwrap().len(), 1);
    let again = PatientMessage {
        clinic_id: w.clinic.id,
        patient_id: p.id,
        kind: "general".into(),
        subject: "s".into(),
        body: "b".into(),
        appointment_id: None,
        waitlist_entry_id: None,
        key: format!("again:{}", p.id),
    };
    let mut tx = w.store.write().await.unwrap();
    let next = notify_patient(tx.as_mut(), &again, w.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.channel, "sms");
}

async fn unavailable_is_retried_after_backoff(db: &TestDb) {
    let w = World::new(db).await;
    let server = fcm_server(&[]).await;
    server.unavailable.store(1, Ordering::SeqCst);
    let p = w.patient(None, None, &["device-token-2"], |_| {}).await;
    let n = w.message(&p).await.unwrap();
    let r = w.runner(fcm(&server, w.clock.clock()));
    assert_eq!(r.run_batch().await.unwrap().retried, 1);
    let first = w.notification(n.id).await;
    assert_eq!((first.status.as_str(), first.attempts), ("pending", 1));
    assert!(first.last_error.as_deref().unwrap().contains("UNAVAILABLE"));
    let job = w
        .store
        .read()
        .await
        .unwrap()
        .job_by_key(&format!("{SEND_NOTIFICATION}:{}", n.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.run_at, w.clock.now() + SignedDuration::from_secs(30));
    assert_eq!(
        r.run_batch().await.unwrap().claimed,
        0,
        "not before its backoff"
    );
    w.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    assert_eq!(server.received.lock().unwrap().len(), 2);
    assert_eq!(w.notification(n.id).await.status, "sent");
    assert!(
        w.tokens(&p).await[0].is_active,
        "a 503 says nothing of the token"
    );
}

async fn the_webhook_is_signed_and_keyed(db: &TestDb) {
    let w = World::new(db).await;
    let hook = webhook_receiver(&["gone-device"]).await;
    let webhook = Arc::new(Webhook::new(&hook.url(), SECRET, w.clock.clock()).unwrap());
    let transports = Transports {
        sms: webhook.clone(),
        push: webhook,
        ..Transports::log()
    };
    let p = w.patient(Some("+254712345678"), None, &[], |_| {}).await;
    let n = w.message(&p).await.unwrap();
    let gone = w
        .patient(Some("+254799999999"), None, &["gone-device"], |_| {})
        .await;
    let g = w.message(&gone).await.unwrap();
    let r = w.runner(transports);
    let report = r.run_batch().await.unwrap();
    assert_eq!((report.succeeded, report.dead), (1, 1));
    let got = hook.received.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let sms = got.iter().find(|x| x.json()["channel"] == "sms").unwrap();
    let sig = sms.signature.as_deref().unwrap();
    let now = w.clock.now().as_second();
    assert!(verify(SECRET.as_bytes(), sig, &sms.body, now), "{sig}");
    assert!(
        !verify(SECRET.as_bytes(), sig, b"{\"to\":\"+1\"}", now),
        "a changed body fails"
    );
    assert!(!verify(b"not-the-secret-at-all", sig, &sms.body, now));
    assert!(
        !verify(SECRET.as_bytes(), sig, &sms.body, now + 3600),
        "a replay fails"
    );
    assert_eq!(
        sms.idempotency_key.as_deref(),
        Some(n.idempotency_key.as_str())
    );
    let v = sms.json();
    assert_eq!(v["to"], "+254712345678");
    assert_eq!(v["type"], "reminder_24h");
    assert_eq!(v["id"], n.id.to_string());
    // A 410 for a push message is a dead device.
    assert_eq!(w.notification(g.id).await.status, "failed");
    assert!(!w.tokens(&gone).await[0].is_active);
}

async fn the_fallback_order_picks_the_channel(db: &TestDb) {
    let w = World::new(db).await;
    let all = w
        .patient(
            Some("+254711111111"),
            Some("all@example.org"),
            &["d-all"],
            |_| {},
        )
        .await;
    let phone_email = w
        .patient(Some("+254722222222"), Some("pe@example.org"), &[], |_| {})
        .await;
    let email_only = w.patient(None, Some("e@example.org"), &[], |_| {}).await;
    let no_push = w
        .patient(
            Some("+254733333333"),
            Some("np@example.org"),
            &["d-np"],
            |p| p.channel_opt_outs.push = true,
        )
        .await;
    let channel = async |p: &Patient| w.message(p).await.unwrap().channel;
    assert_eq!(channel(&all).await, "push");
    assert_eq!(channel(&phone_email).await, "sms");
    assert_eq!(channel(&email_only).await, "email");
    assert_eq!(channel(&no_push).await, "sms", "opted out of push");

    // The clinic prefers email, then in-app.
    let mut s = carebook_store::channels::NotificationSettings::defaults(w.clinic.id);
    s.channel_order = vec![Channel::Email, Channel::InApp];
    w.write(async move |tx| {
        tx.save_notification_settings(&s, TestClock::new().now())
            .await
            .unwrap()
    })
    .await;
    let both = w
        .patient(
            Some("+254744444444"),
            Some("b@example.org"),
            &["d-b"],
            |_| {},
        )
        .await;
    assert_eq!(channel(&both).await, "email");
    let app_only = w
        .patient(Some("+254755555555"), None, &["d-app"], |_| {})
        .await;
    let n = w.message(&app_only).await.unwrap();
    assert_eq!((n.channel.as_str(), n.status.as_str()), ("in_app", "sent"));
    let sms_only = w.patient(Some("+254766666666"), None, &[], |_| {}).await;
    let n = w.message(&sms_only).await.unwrap();
    assert_eq!(
        (n.channel.as_str(), n.status.as_str()),
        ("email", "skipped")
    );
}

async fn opted_out_patients_are_skipped_and_nothing_is_sent(db: &TestDb) {
    let w = World::new(db).await;
    let sms = twilio_server(&[]).await;
    let push = fcm_server(&[]).await;
    let everything = w
        .patient(
            Some("+254711111111"),
            Some("x@example.org"),
            &["d-x"],
            |p| p.notification_opt_out = true,
        )
        .await;
    let no_sms = w
        .patient(Some("+254722222222"), None, &[], |p| {
            p.channel_opt_outs.sms = true
        })
        .await;
    let a = w.message(&everything).await.unwrap();
    let b = w.message(&no_sms).await.unwrap();
    assert_eq!((a.channel.as_str(), a.status.as_str()), ("push", "skipped"));
    assert_eq!((b.channel.as_str(), b.status.as_str()), ("sms", "skipped"));
    assert!(b.last_error.as_deref().unwrap().contains("opted out"));
    let transports = Transports {
        sms: twilio(&sms.base_url()).sms,
        push: fcm(&push, w.clock.clock()).push,
        ..Transports::log()
    };
    let r = w.runner(transports);
    assert_eq!(
        r.run_batch().await.unwrap().claimed,
        0,
        "a skipped message has no job"
    );
    assert!(sms.received.lock().unwrap().is_empty());
    assert!(push.received.lock().unwrap().is_empty());
    assert!(push.grants.lock().unwrap().is_empty());
}

async fn the_clinic_sends_email_as_itself(db: &TestDb) {
    let w = World::new(db).await;
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let mut s = carebook_store::channels::NotificationSettings::defaults(w.clinic.id);
    s.email_from = Some("Westlands Clinic <desk@westlands.example>".into());
    w.write(async move |tx| {
        tx.save_notification_settings(&s, TestClock::new().now())
            .await
            .unwrap()
    })
    .await;
    let p = w
        .patient(None, Some("wanjiru@example.org"), &[], |_| {})
        .await;
    let n = w.message(&p).await.unwrap();
    assert_eq!(n.channel, "email");
    let mailer = carebook_jobs::notify::SmtpMailer::new(
        &format!("smtp://{}", smtp.addr),
        "Carebook <no-reply@carebook.test>",
    )
    .unwrap();
    let r = w.runner(Transports {
        mail: Arc::new(mailer),
        ..Transports::log()
    });
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    let got = smtp.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .data
            .contains("From: \"Westlands Clinic\" <desk@westlands.example>")
            || got[0]
                .data
                .contains("From: Westlands Clinic <desk@westlands.example>"),
        "{}",
        got[0].data
    );
}

both_backends! {
    clinic_sender => the_clinic_sends_email_as_itself,
    twilio_form => twilio_receives_the_form_with_basic_auth,
    twilio_invalid_number => an_invalid_number_fails_for_good,
    fcm_send => fcm_receives_the_message_with_an_issued_token,
    fcm_unregistered => an_unregistered_token_is_deactivated_and_fails_fast,
    fcm_unavailable => unavailable_is_retried_after_backoff,
    webhook => the_webhook_is_signed_and_keyed,
    fallback => the_fallback_order_picks_the_channel,
    opt_outs => opted_out_patients_are_skipped_and_nothing_is_sent,
}
