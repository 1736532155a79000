//! Runs the job queue: claims a batch of due jobs with a lease, hands each to the handler of
//! its kind, and records the batch's outcomes in one transaction while the lease is held. A
//! transient failure retries with exponential backoff; a permanent one, or the last attempt,
//! buries the job as dead.
//!
//! Several runners (threads or processes) can share one database: a claim never returns a job
//! another runner holds. A runner that dies mid-batch leaves the batch to be claimed again when
//! its lease runs out, so a handler may run twice for one job in that case: handlers make their
//! effect idempotent (the notification sender checks the message's own status first).

use async_trait::async_trait;
use carebook_store::jobs::{Job, JobStatus};
use carebook_store::{Store, StoreResult};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another attempt later (a timeout, a 5xx, a refused connection).
    Transient(String),
    /// Will never succeed (an invalid address, an unknown device token).
    Permanent(String),
}

/// What a kind of job does.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job) -> Result<(), Failure>;
}

/// Delay before attempt `n + 1` after `n` failed: `base × 2^(n-1)`, at most `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: SignedDuration,
    pub max: SignedDuration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: SignedDuration::from_secs(30),
            max: SignedDuration::from_hours(1),
        }
    }
}

impl Backoff {
    pub fn after(&self, failed_attempts: u32) -> SignedDuration {
        let doublings = failed_attempts.saturating_sub(1).min(30);
        let factor = 1i64 << doublings;
        let secs = self.base.as_secs().saturating_mul(factor);
        SignedDuration::from_secs(secs.min(self.max.as_secs()))
    }
}

/// How one batch went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub succeeded: usize,
    pub retried: usize,
    pub dead: usize,
    /// Jobs whose lease ran out while they ran: another runner has them now.
    pub lost: usize,
}

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct Runner {
    store: Store,
    worker: String,
    handlers: HashMap<String, Arc<dyn Handler>>,
    clock: Clock,
    /// How long a claim holds a job; a handler running longer loses it.
    pub lease: SignedDuration,
    /// Jobs claimed at once.
    pub batch: u32,
    pub backoff: Backoff,
}

impl Runner {
    /// A runner named `worker` (unique per process: it marks the jobs it holds).
    pub fn new(store: Store, worker: impl Into<String>, clock: Clock) -> Self {
        Self {
            store,
            worker: worker.into(),
            handlers: HashMap::new(),
            clock,
            lease: SignedDuration::from_mins(5),
            batch: 16,
            backoff: Backoff::default(),
        }
    }

    pub fn register(&mut self, kind: &str, handler: Arc<dyn Handler>) {
        self.handlers.insert(kind.to_owned(), handler);
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims one batch and runs it.
    pub async fn run_batch(&self) -> StoreResult<BatchReport> {
        let now = (self.clock)();
        let mut tx = self.store.write().await?;
        let jobs = tx
            .claim_jobs(&self.worker, self.batch, now + self.lease, now)
            .await?;
        tx.commit().await?;
        let mut report = BatchReport {
            claimed: jobs.len(),
            ..Default::default()
        };
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in &jobs {
            outcomes.push(if job.attempts > job.max_attempts {
                // Its last attempt's runner died holding it.
                Err(Failure::Permanent(
                    "the lease ran out during the last attempt".to_owned(),
                ))
            } else {
                match self.handlers.get(&job.kind) {
                    Some(h) => h.run(job).await,
                    None => Err(Failure::Permanent(format!(
                        "no handler for jobs of kind `{}`",
                        job.kind
                    ))),
                }
            });
        }
        if jobs.is_empty() {
            return Ok(report);
        }
        // The batch's outcomes in one transaction, the successes in one statement: a
        // transaction per job cost four times the claim (docs/benchmarks.md). A runner that
        // dies before this commit leaves the whole batch to run again when its lease runs
        // out, which handlers allow for.
        let now = (self.clock)();
        let mut tx = self.store.write().await?;
        let mut done = vec![];
        for (job, outcome) in jobs.iter().zip(outcomes) {
            match outcome {
                Ok(()) => done.push(job.id),
                Err(f) => {
                    let (error, permanent) = match f {
                        Failure::Transient(e) => (e, false),
                        Failure::Permanent(e) => (e, true),
                    };
                    let retry_at = now + self.backoff.after(job.attempts);
                    match tx
                        .fail_job(job.id, &self.worker, &error, retry_at, permanent, now)
                        .await?
                    {
                        Some(JobStatus::Dead) => {
                            tracing::warn!(job = %job.id, kind = %job.kind, %error, "job is dead");
                            report.dead += 1;
                        }
                        Some(_) => {
                            tracing::info!(job = %job.id, kind = %job.kind, %error, %retry_at, "job will be retried");
                            report.retried += 1;
                        }
                        None => report.lost += 1,
                    }
                }
            }
        }
        let finished = tx.finish_jobs(&done, &self.worker, now).await?.len();
        report.succeeded += finished;
        report.lost += done.len() - finished;
        tx.commit().await?;
        Ok(report)
    }

    /// Runs batches until one comes back short of a full batch; returns the jobs claimed.
    pub async fn drain(&self) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let r = self.run_batch().await?;
            total += r.claimed;
            if r.claimed < self.batch as usize {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::default();
        let secs: Vec<i64> = (1..=9).map(|n| b.after(n).as_secs()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(b.after(0).as_secs(), 30);
        assert_eq!(b.after(u32::MAX).as_secs(), 3600);
    }
}
