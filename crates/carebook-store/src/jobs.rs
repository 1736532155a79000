//! The job queue's rows and its half of the repository interface.
//!
//! A job is enqueued inside the transaction of the change that causes it, so it exists exactly
//! when the change does. Workers claim due jobs in batches with a lease (PostgreSQL skips rows
//! another worker holds; SQLite's single writer claims them one batch at a time), then finish
//! or fail each one while they still hold its lease. A worker that dies lets its lease run out
//! and the job becomes claimable again.
//!
//! The queue is the system's bookkeeping, not a change a person made: its writes need no
//! audit record of their own (the change that enqueued a job has one).

use crate::error::StoreResult;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// The job that delivers one message of the outbox; its payload is `{"notification_id"}`.
pub const SEND_NOTIFICATION: &str = "send_notification";

/// Where a job stands. `dead` is final: its attempts ran out or it failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Dead,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Dead,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub idempotency_key: String,
    pub status: JobStatus,
    pub run_at: Timestamp,
    /// Claims so far, the current one included.
    pub attempts: u32,
    pub max_attempts: u32,
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// Enqueuing a key that exists already does nothing.
    pub idempotency_key: String,
    pub run_at: Timestamp,
    pub max_attempts: u32,
}

impl NewJob {
    /// A job due at `run_at` with the default eight attempts.
    pub fn new(kind: &str, key: String, payload: serde_json::Value, run_at: Timestamp) -> Self {
        Self {
            kind: kind.to_owned(),
            payload,
            idempotency_key: key,
            run_at,
            max_attempts: 8,
        }
    }
}

/// How many jobs are in each state, and how late the oldest due one is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub queued: u64,
    /// Queued and due now.
    pub due: u64,
    pub running: u64,
    pub dead: u64,
    /// The `run_at` of the oldest due job.
    pub oldest_due: Option<Timestamp>,
}

#[async_trait]
pub trait QueueTx: Send {
    /// Enqueues a job; false when its idempotency key was enqueued before.
    async fn enqueue_job(&mut self, job: &NewJob, now: Timestamp) -> StoreResult<bool>;
    /// Claims up to `limit` due jobs (queued ones whose time has come, and running ones whose
    /// lease ran out) for `worker` until `lease_until`, counting the attempt.
    async fn claim_jobs(
        &mut self,
        worker: &str,
        limit: u32,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<Job>>;
    /// Marks a job done; false when `worker` no longer holds it (its lease ran out and another
    /// worker claimed it).
    async fn finish_job(&mut self, id: Uuid, worker: &str, now: Timestamp) -> StoreResult<bool>;
    /// Marks a batch of jobs done in one statement; returns the ones `worker` still held.
    async fn finish_jobs(
        &mut self,
        ids: &[Uuid],
        worker: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<Uuid>>;
    /// Records a failed attempt: the job runs again at `retry_at`, or is dead when it has no
    /// attempts left or `permanent`. Returns its status afterwards, `None` when `worker` no
    /// longer holds it.
    async fn fail_job(
        &mut self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> StoreResult<Option<JobStatus>>;
    /// Cancels the queued jobs whose idempotency key starts with `prefix` (an appointment's
    /// reminders when it moves or is cancelled); returns how many.
    async fn cancel_queued_jobs(&mut self, prefix: &str, now: Timestamp) -> StoreResult<u64>;
    /// Queues a dead job again with fresh attempts; false when it is not dead.
    async fn revive_job(&mut self, id: Uuid, now: Timestamp) -> StoreResult<bool>;
    async fn get_job(&mut self, id: Uuid) -> StoreResult<Option<Job>>;
    async fn job_by_key(&mut self, key: &str) -> StoreResult<Option<Job>>;
    /// Dead jobs, most recent first.
    async fn dead_jobs(&mut self, limit: u32) -> StoreResult<Vec<Job>>;
    async fn queue_stats(&mut self, now: Timestamp) -> StoreResult<QueueStats>;
}
