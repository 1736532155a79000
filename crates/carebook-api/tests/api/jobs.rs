//! The dead letters through the API, on both backends: a job that failed for good is listed
//! with its error, an operator queues it again (audited), and only dead jobs can be retried.

use crate::helpers::*;
use carebook_domain::Role;
use carebook_store::jobs::NewJob;
use carebook_store::testing::TestDb;
use jiff::SignedDuration;
use serde_json::json;

async fn dead_letters_can_be_retried(db: &TestDb) {
    let app = TestApp::new(db).await;
    let now = app.now();
    let mut tx = app.store.write().await.unwrap();
    tx.enqueue_job(
        &NewJob::new("send_notification", "dead-one".into(), json!({"n": 1}), now),
        now,
    )
    .await
    .unwrap();
    let claimed = tx
        .claim_jobs("w", 1, now + SignedDuration::from_mins(5), now)
        .await
        .unwrap();
    tx.fail_job(
        claimed[0].id,
        "w",
        "SMTP: 550 no such mailbox",
        now,
        true,
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id = claimed[0].id;

    let (_, support) = app.signed_in(Role::Support).await;
    let dead = app.get("/api/v1/jobs/dead", Some(&support)).await;
    assert_eq!(dead.status, 200, "{}", dead.body);
    assert_eq!(dead.body[0]["id"], json!(id));
    assert_eq!(dead.body[0]["status"], "dead");
    assert_eq!(dead.body[0]["last_error"], "SMTP: 550 no such mailbox");
    let r = app
        .post(
            &format!("/api/v1/jobs/{id}/retry"),
            Some(&support),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["status"].clone(), r.body["attempts"].clone()),
        (json!("queued"), json!(0))
    );
    let again = app
        .post(
            &format!("/api/v1/jobs/{id}/retry"),
            Some(&support),
            json!({}),
        )
        .await;
    assert_eq!(again.code(), "invalid_state");
    assert!(app.audit_actions().await.contains(&"job.retry".to_owned()));
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    assert_eq!(
        app.get("/api/v1/jobs/dead", Some(&desk)).await.code(),
        "forbidden"
    );
}

carebook_store::both_backends! {
    dead_letters => dead_letters_can_be_retried,
}
