//! Worker processes as an operator runs them, on both backends, against a real SMTP server on
//! 127.0.0.1: two `carebook worker` processes deliver every message exactly once, and a worker
//! killed with SIGKILL in the middle of a batch loses nothing: another one delivers the rest
//! when the lease of the killed one's jobs runs out. The one duplicate allowed is the message
//! the server had accepted when the worker died, before the worker recorded it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_jobs::testing::{Sink, slow_smtp_sink, smtp_sink};
use carebook_store::models::{Notification, User};
use carebook_store::testing::TestDb;
use carebook_store::{Store, both_backends};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The worker processes read the system clock, so the jobs here are due by it.
#[allow(clippy::disallowed_methods)]
fn now() -> jiff::Timestamp {
    let t = jiff::Timestamp::now();
    jiff::Timestamp::from_microsecond(t.as_microsecond()).unwrap()
}

/// `n` password-reset messages to distinct addresses, each with its delivery job.
async fn outbox(store: &Store, n: usize) {
    let now = now();
    let mut tx = store.write().await.unwrap();
    for i in 0..n {
        let to = format!("person{i}@clinic.example");
        let user = User::new(
            Uuid::now_v7(),
            to.clone(),
            format!("Person {i}"),
            Role::Receptionist,
            None,
            now,
        );
        tx.insert_user(&user).await.unwrap();
        let msg = Notification::pending_email(
            Uuid::now_v7(),
            user.id,
            &to,
            "password_reset",
            "Reset your Carebook password".into(),
            format!("Message {i}"),
            format!("reset:{i}"),
            now,
        );
        tx.insert_notification(&msg).await.unwrap();
    }
    tx.append_audit(&AuditRecord::new("test.setup", "test", now))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn worker(db: &TestDb, smtp: &Sink, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_carebook"))
        .current_dir(dir)
        .args(["worker", "--database-url", &db.url])
        .env("CAREBOOK_SMTP_URL", format!("smtp://{}", smtp.addr))
        .env("CAREBOOK_WORKER_LEASE_SECONDS", "3")
        .env("CAREBOOK_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn received(smtp: &Sink) -> Vec<String> {
    smtp.received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|m| m.to.clone())
        .collect()
}

/// Waits until the sink has `n` messages (or the deadline passes), then a little longer so a
/// duplicate would have time to arrive.
async fn wait_for(smtp: &Sink, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while received(smtp).len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

fn stop(mut c: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let _ = c.wait();
}

async fn two_workers_deliver_every_message_once(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    outbox(&db.store, 200).await;
    let smtp = smtp_sink(&[]).await;
    let a = worker(db, &smtp, dir.path());
    let b = worker(db, &smtp, dir.path());
    wait_for(&smtp, 200, Duration::from_secs(90)).await;
    stop(a);
    stop(b);
    let got = received(&smtp);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(
        (got.len(), unique.len()),
        (200, 200),
        "every message exactly once"
    );
}

async fn a_killed_worker_loses_nothing(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    outbox(&db.store, 120).await;
    // A slow server, so the worker is caught in the middle of a batch.
    let smtp = slow_smtp_sink(&[], Duration::from_millis(20)).await;
    let mut doomed = worker(db, &smtp, dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while received(&smtp).len() < 30 {
        assert!(Instant::now() < deadline, "the first worker sent nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    let survivor = worker(db, &smtp, dir.path());
    wait_for(&smtp, 120, Duration::from_secs(90)).await;
    stop(survivor);
    let got = received(&smtp);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), 120, "every message delivered");
    assert!(
        got.len() <= 121,
        "at most the one in flight twice: {} sent",
        got.len()
    );
    let stats = db
        .store
        .read()
        .await
        .unwrap()
        .queue_stats(now())
        .await
        .unwrap();
    assert_eq!(
        (stats.queued, stats.running, stats.dead),
        (0, 0, 0),
        "{stats:?}"
    );
}

both_backends! {
    two_workers => two_workers_deliver_every_message_once,
    killed_worker => a_killed_worker_loses_nothing,
}
