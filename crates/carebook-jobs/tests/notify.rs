//! Delivering the outbox over real SMTP, on both backends: a message inserted in the outbox is
//! sent once to an SMTP server on 127.0.0.1 (a sink written here that speaks the protocol), a
//! repeated job sends nothing more, a refused mailbox fails for good, and an unreachable server
//! leaves the message pending for a retry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_jobs::notify::{SendNotification, SmtpMailer};
use carebook_jobs::queue::{Clock, Handler, Runner};
use carebook_jobs::testing::smtp_sink as sink;
use carebook_store::jobs::JobStatus;
use carebook_store::models::{Notification, User};
use carebook_store::testing::TestDb;
use carebook_store::{Store, both_backends};
use jiff::Timestamp;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

fn now() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn clock() -> Clock {
    Arc::new(now)
}

/// A password-reset message in the outbox for `to`, inserted with its audit record.
async fn outbox(store: &Store, to: &str) -> Uuid {
    let user = User::new(
        Uuid::now_v7(),
        to.into(),
        "Recipient".into(),
        Role::Receptionist,
        None,
        now(),
    );
    let n = Notification::pending_email(
        Uuid::now_v7(),
        user.id,
        to,
        "password_reset",
        "Reset your Carebook password".into(),
        "Open https://carebook.test/reset?token=s3cret-token to choose a new password.".into(),
        format!("reset:{}", user.id),
        now(),
    );
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.insert_notification(&n).await.unwrap();
    tx.append_audit(&AuditRecord::new("test.setup", "test", now()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    n.id
}

fn runner(store: &Store, smtp: SocketAddr) -> (Runner, Arc<SendNotification>) {
    let mailer = SmtpMailer::new(
        &format!("smtp://{smtp}"),
        "Carebook <no-reply@carebook.test>",
    )
    .unwrap();
    let handler = Arc::new(SendNotification::new(
        store.clone(),
        Arc::new(mailer),
        clock(),
    ));
    let mut r = Runner::new(store.clone(), "notifier", clock());
    r.register(carebook_store::jobs::SEND_NOTIFICATION, handler.clone());
    (r, handler)
}

async fn notification(store: &Store, id: Uuid) -> Notification {
    store
        .read()
        .await
        .unwrap()
        .get_notification(id)
        .await
        .unwrap()
        .unwrap()
}

async fn job_status(store: &Store, id: Uuid) -> JobStatus {
    let key = format!("{}:{id}", carebook_store::jobs::SEND_NOTIFICATION);
    store
        .read()
        .await
        .unwrap()
        .job_by_key(&key)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn a_message_is_sent_once(db: &TestDb) {
    let smtp = sink(&[]).await;
    let id = outbox(&db.store, "ann@clinic.example").await;
    let (r, handler) = runner(&db.store, smtp.addr);
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    let got = smtp.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["ann@clinic.example".to_owned()]);
    assert!(
        got[0]
            .data
            .contains("Subject: Reset your Carebook password"),
        "{}",
        got[0].data
    );
    assert!(got[0].data.contains("s3cret-token"));
    let n = notification(&db.store, id).await;
    assert_eq!(
        (n.status.as_str(), n.attempts, n.sent_at),
        ("sent", 1, Some(now()))
    );
    assert_eq!(job_status(&db.store, id).await, JobStatus::Succeeded);
    // The same job run again (its worker died before recording): nothing more is sent.
    let job = db
        .store
        .read()
        .await
        .unwrap()
        .job_by_key(&format!("send_notification:{id}"))
        .await
        .unwrap()
        .unwrap();
    handler.run(&job).await.unwrap();
    assert_eq!(smtp.received.lock().unwrap().len(), 1, "exactly once");
}

async fn a_refused_mailbox_fails_for_good(db: &TestDb) {
    let smtp = sink(&["nobody@"]).await;
    let id = outbox(&db.store, "nobody@clinic.example").await;
    let (r, _) = runner(&db.store, smtp.addr);
    assert_eq!(r.run_batch().await.unwrap().dead, 1);
    let n = notification(&db.store, id).await;
    assert_eq!(n.status, "failed");
    assert!(
        n.last_error.as_deref().unwrap_or("").contains("SMTP"),
        "{:?}",
        n.last_error
    );
    assert_eq!(job_status(&db.store, id).await, JobStatus::Dead);
    assert!(smtp.received.lock().unwrap().is_empty());
}

async fn an_unreachable_server_is_retried(db: &TestDb) {
    // A port nothing listens on: the connection is refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let id = outbox(&db.store, "bea@clinic.example").await;
    let (r, _) = runner(&db.store, closed);
    assert_eq!(r.run_batch().await.unwrap().retried, 1);
    let n = notification(&db.store, id).await;
    assert_eq!((n.status.as_str(), n.attempts), ("pending", 1));
    assert!(n.last_error.is_some());
    assert_eq!(job_status(&db.store, id).await, JobStatus::Queued);
}

both_backends! {
    sent_once => a_message_is_sent_once,
    refused => a_refused_mailbox_fails_for_good,
    unreachable => an_unreachable_server_is_retried,
}
