//! The queue runner on both backends: two runners share a queue without running a job twice,
//! a transient failure is retried after its backoff, a permanent one buries the job, and a job
//! whose runner died is run by another once the lease runs out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use carebook_jobs::queue::{Failure, Handler, Runner};
use carebook_store::jobs::{Job, JobStatus, NewJob};
use carebook_store::testing::TestDb;
use carebook_store::{Store, both_backends};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(AtomicI64::new(
            "2026-12-01T09:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_second(),
        )))
    }
    fn now(&self) -> Timestamp {
        Timestamp::from_second(self.0.load(Ordering::SeqCst)).unwrap()
    }
    fn advance(&self, d: SignedDuration) {
        self.0.fetch_add(d.as_secs(), Ordering::SeqCst);
    }
    fn as_fn(&self) -> carebook_jobs::queue::Clock {
        let c = self.clone();
        Arc::new(move || c.now())
    }
}

/// Records every run; fails the first `fail_first` runs of each job the way it is told.
struct Recorder {
    runs: Mutex<Vec<Uuid>>,
    fail_first: u32,
    failure: Failure,
}

#[async_trait]
impl Handler for Recorder {
    async fn run(&self, job: &Job) -> Result<(), Failure> {
        self.runs.lock().unwrap().push(job.id);
        tokio::task::yield_now().await;
        if job.attempts <= self.fail_first {
            Err(self.failure.clone())
        } else {
            Ok(())
        }
    }
}

fn recorder(fail_first: u32, failure: Failure) -> Arc<Recorder> {
    Arc::new(Recorder {
        runs: Mutex::new(vec![]),
        fail_first,
        failure,
    })
}

async fn enqueue(store: &Store, n: usize, now: Timestamp) {
    let mut tx = store.write().await.unwrap();
    for i in 0..n {
        tx.enqueue_job(
            &NewJob::new("test", format!("job-{i}"), json!({}), now),
            now,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn status_of(store: &Store, key: &str) -> Job {
    store
        .read()
        .await
        .unwrap()
        .job_by_key(key)
        .await
        .unwrap()
        .unwrap()
}

async fn two_runners_share_the_queue(db: &TestDb) {
    let clock = TestClock::new();
    enqueue(&db.store, 60, clock.now()).await;
    let handler = recorder(0, Failure::Transient("unused".into()));
    let runners: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let mut r = Runner::new(db.store.clone(), name, clock.as_fn());
            r.batch = 5;
            r.register("test", handler.clone());
            r
        })
        .collect();
    let tasks: Vec<_> = runners
        .into_iter()
        .map(|r| tokio::spawn(async move { r.drain().await.unwrap() }))
        .collect();
    let mut claimed = 0;
    for t in tasks {
        claimed += t.await.unwrap();
    }
    let runs = handler.runs.lock().unwrap().clone();
    let unique: std::collections::HashSet<_> = runs.iter().collect();
    assert_eq!(
        (claimed, runs.len(), unique.len()),
        (60, 60, 60),
        "each job ran once"
    );
    let stats = db
        .store
        .read()
        .await
        .unwrap()
        .queue_stats(clock.now())
        .await
        .unwrap();
    assert_eq!((stats.queued, stats.running, stats.dead), (0, 0, 0));
}

async fn failures_retry_then_bury(db: &TestDb) {
    let clock = TestClock::new();
    enqueue(&db.store, 1, clock.now()).await;
    let handler = recorder(1, Failure::Transient("connection refused".into()));
    let mut r = Runner::new(db.store.clone(), "w", clock.as_fn());
    r.register("test", handler.clone());
    let first = r.run_batch().await.unwrap();
    assert_eq!((first.claimed, first.retried), (1, 1));
    let job = status_of(&db.store, "job-0").await;
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(
        job.run_at,
        clock.now() + SignedDuration::from_secs(30),
        "30 s backoff"
    );
    assert_eq!(job.last_error.as_deref(), Some("connection refused"));
    assert_eq!(
        r.run_batch().await.unwrap().claimed,
        0,
        "not before its time"
    );
    clock.advance(SignedDuration::from_secs(30));
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    assert_eq!(
        status_of(&db.store, "job-0").await.status,
        JobStatus::Succeeded
    );

    // A permanent failure, and a kind nobody handles, bury the job at once.
    let mut tx = db.store.write().await.unwrap();
    tx.enqueue_job(
        &NewJob::new("test", "bad-address".into(), json!({}), clock.now()),
        clock.now(),
    )
    .await
    .unwrap();
    tx.enqueue_job(
        &NewJob::new("unknown", "orphan".into(), json!({}), clock.now()),
        clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut r = Runner::new(db.store.clone(), "w", clock.as_fn());
    r.register(
        "test",
        recorder(9, Failure::Permanent("invalid address".into())),
    );
    assert_eq!(r.run_batch().await.unwrap().dead, 2);
    let orphan = status_of(&db.store, "orphan").await;
    assert_eq!(orphan.status, JobStatus::Dead);
    assert!(orphan.last_error.unwrap().contains("no handler"));
}

async fn a_dead_runner_leaves_its_job_to_another(db: &TestDb) {
    let clock = TestClock::new();
    enqueue(&db.store, 1, clock.now()).await;
    // A runner claims the job and is killed before it finishes.
    let mut tx = db.store.write().await.unwrap();
    let held = tx
        .claim_jobs(
            "killed",
            10,
            clock.now() + SignedDuration::from_mins(5),
            clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(held.len(), 1);
    let handler = recorder(0, Failure::Transient("unused".into()));
    let mut r = Runner::new(db.store.clone(), "survivor", clock.as_fn());
    r.register("test", handler.clone());
    assert_eq!(r.run_batch().await.unwrap().claimed, 0, "still leased");
    clock.advance(SignedDuration::from_mins(5) + SignedDuration::from_secs(1));
    assert_eq!(r.run_batch().await.unwrap().succeeded, 1);
    let job = status_of(&db.store, "job-0").await;
    assert_eq!((job.status, job.attempts), (JobStatus::Succeeded, 2));
    assert_eq!(handler.runs.lock().unwrap().len(), 1);
}

both_backends! {
    shared => two_runners_share_the_queue,
    retries => failures_retry_then_bury,
    takeover => a_dead_runner_leaves_its_job_to_another,
}
