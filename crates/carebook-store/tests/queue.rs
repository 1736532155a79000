//! The job queue on both backends: idempotent enqueue inside the cause's transaction, claims
//! with leases that another worker can take over when they run out, retries with their time,
//! dead jobs, and many concurrent claimers that never get the same job.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_store::jobs::{JobStatus, NewJob};
use carebook_store::testing::TestDb;
use carebook_store::{Store, both_backends};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::collections::HashSet;
use uuid::Uuid;

fn t0() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

async fn enqueue(store: &Store, job: NewJob) -> bool {
    let mut tx = store.write().await.unwrap();
    let added = tx.enqueue_job(&job, t0()).await.unwrap();
    tx.commit().await.unwrap();
    added
}

async fn claim(
    store: &Store,
    worker: &str,
    limit: u32,
    now: Timestamp,
) -> Vec<carebook_store::jobs::Job> {
    let mut tx = store.write().await.unwrap();
    let jobs = tx
        .claim_jobs(worker, limit, now + secs(60), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    jobs
}

async fn leases_and_idempotency(db: &TestDb) {
    let s = &db.store;
    assert!(enqueue(s, NewJob::new("send", "k1".into(), json!({"n": 1}), t0())).await);
    assert!(
        !enqueue(s, NewJob::new("send", "k1".into(), json!({"n": 2}), t0())).await,
        "same key: one job"
    );
    assert!(
        enqueue(
            s,
            NewJob::new("send", "later".into(), json!({}), t0() + secs(3600))
        )
        .await
    );
    // A job enqueued in a transaction that rolls back does not exist.
    {
        let mut tx = s.write().await.unwrap();
        tx.enqueue_job(
            &NewJob::new("send", "rolled-back".into(), json!({}), t0()),
            t0(),
        )
        .await
        .unwrap();
    }
    let got = claim(s, "w1", 10, t0()).await;
    assert_eq!(got.len(), 1, "only the due job");
    let job = &got[0];
    assert_eq!(
        (job.status, job.attempts, job.payload.clone()),
        (JobStatus::Running, 1, json!({"n": 1}))
    );
    assert_eq!(job.locked_by.as_deref(), Some("w1"));
    assert!(
        claim(s, "w2", 10, t0() + secs(30)).await.is_empty(),
        "leased"
    );
    // The lease runs out: another worker takes the job over; the first cannot finish it.
    let over = claim(s, "w2", 10, t0() + secs(61)).await;
    assert_eq!(over.len(), 1);
    assert_eq!((over[0].id, over[0].attempts), (job.id, 2));
    let mut tx = s.write().await.unwrap();
    assert!(!tx.finish_job(job.id, "w1", t0() + secs(62)).await.unwrap());
    assert!(tx.finish_job(job.id, "w2", t0() + secs(62)).await.unwrap());
    tx.commit().await.unwrap();
    assert!(
        claim(s, "w3", 10, t0() + secs(600)).await.is_empty(),
        "done is done"
    );
    let mut tx = s.read().await.unwrap();
    let done = tx.job_by_key("k1").await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert!(done.finished_at.is_some() && done.locked_until.is_none());
    assert!(tx.job_by_key("rolled-back").await.unwrap().is_none());
    let stats = tx.queue_stats(t0()).await.unwrap();
    assert_eq!(
        (stats.queued, stats.due, stats.running, stats.dead),
        (1, 0, 0, 0)
    );
}

async fn retries_and_dead_jobs(db: &TestDb) {
    let s = &db.store;
    let mut job = NewJob::new("send", "flaky".into(), json!({}), t0());
    job.max_attempts = 2;
    enqueue(s, job).await;
    enqueue(s, NewJob::new("send", "hopeless".into(), json!({}), t0())).await;
    let got = claim(s, "w", 10, t0()).await;
    assert_eq!(got.len(), 2);
    let (flaky, hopeless) = if got[0].idempotency_key == "flaky" {
        (&got[0], &got[1])
    } else {
        (&got[1], &got[0])
    };
    let mut tx = s.write().await.unwrap();
    let retry_at = t0() + secs(30);
    assert_eq!(
        tx.fail_job(flaky.id, "w", "timeout", retry_at, false, t0())
            .await
            .unwrap(),
        Some(JobStatus::Queued)
    );
    assert_eq!(
        tx.fail_job(hopeless.id, "w", "invalid address", retry_at, true, t0())
            .await
            .unwrap(),
        Some(JobStatus::Dead),
        "a permanent failure is not retried"
    );
    assert_eq!(
        tx.fail_job(flaky.id, "w", "again", retry_at, false, t0())
            .await
            .unwrap(),
        None,
        "no longer held"
    );
    tx.commit().await.unwrap();
    assert!(
        claim(s, "w", 10, t0() + secs(29)).await.is_empty(),
        "not before its retry time"
    );
    let again = claim(s, "w", 10, retry_at).await;
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    let mut tx = s.write().await.unwrap();
    assert_eq!(
        tx.fail_job(
            flaky.id,
            "w",
            "timeout again",
            retry_at + secs(60),
            false,
            retry_at
        )
        .await
        .unwrap(),
        Some(JobStatus::Dead),
        "the last attempt failed"
    );
    let dead = tx.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(
        dead.iter()
            .any(|j| j.last_error.as_deref() == Some("timeout again"))
    );
    assert!(tx.revive_job(flaky.id, retry_at).await.unwrap());
    assert!(
        !tx.revive_job(flaky.id, retry_at).await.unwrap(),
        "only dead jobs"
    );
    tx.commit().await.unwrap();
    let revived = claim(s, "w", 10, retry_at).await;
    assert_eq!(
        (revived.len(), revived[0].attempts),
        (1, 1),
        "fresh attempts"
    );
    let mut tx = s.read().await.unwrap();
    assert_eq!(tx.queue_stats(retry_at).await.unwrap().dead, 1);
}

async fn concurrent_claimers_never_share_a_job(db: &TestDb) {
    let s = &db.store;
    let mut tx = s.write().await.unwrap();
    for i in 0..200 {
        tx.enqueue_job(
            &NewJob::new("send", format!("job-{i}"), json!({"i": i}), t0()),
            t0(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut mine = vec![];
                loop {
                    let got = claim(&s, &worker, 7, t0()).await;
                    if got.is_empty() {
                        break;
                    }
                    let mut tx = s.write().await.unwrap();
                    for j in &got {
                        assert!(tx.finish_job(j.id, &worker, t0()).await.unwrap());
                    }
                    tx.commit().await.unwrap();
                    mine.extend(got.into_iter().map(|j| j.id));
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<Uuid> = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), 200, "every job claimed");
    assert_eq!(unique.len(), 200, "none twice");
}

/// A runner's batch finished in one statement: only the jobs that worker still holds.
async fn batch_finish_takes_only_what_the_worker_holds(db: &TestDb) {
    let s = &db.store;
    for k in ["a", "b", "c"] {
        assert!(enqueue(s, NewJob::new("send", k.into(), json!({}), t0())).await);
    }
    let mine = claim(s, "w1", 2, t0()).await;
    let theirs = claim(s, "w2", 10, t0()).await;
    assert_eq!((mine.len(), theirs.len()), (2, 1));
    let mut all: Vec<Uuid> = mine.iter().chain(&theirs).map(|j| j.id).collect();
    let mut tx = s.write().await.unwrap();
    let mut done = tx.finish_jobs(&all, "w1", t0()).await.unwrap();
    assert!(tx.finish_jobs(&[], "w1", t0()).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    done.sort();
    all.truncate(2);
    all.sort();
    assert_eq!(done, all, "w1's two, not w2's");
    let mut tx = s.read().await.unwrap();
    let held = tx.get_job(theirs[0].id).await.unwrap().unwrap();
    assert_eq!(
        (held.status, held.locked_by.as_deref()),
        (JobStatus::Running, Some("w2"))
    );
    let finished = tx.get_job(mine[0].id).await.unwrap().unwrap();
    assert_eq!(finished.status, JobStatus::Succeeded);
    assert!(finished.finished_at.is_some() && finished.locked_by.is_none());
}

both_backends! {
    batch_finish => batch_finish_takes_only_what_the_worker_holds,
    leases => leases_and_idempotency,
    retries => retries_and_dead_jobs,
    concurrent => concurrent_claimers_never_share_a_job,
}
