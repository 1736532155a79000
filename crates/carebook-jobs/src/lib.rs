//! Carebook's background work. `carebook serve` runs the worker in process unless told not to;
//! `carebook worker` runs it alone.
//!
//! The worker runs the job queue ([`queue::Runner`]: due jobs every second) and two kinds of
//! housekeeping:
//! - every minute it releases unpaid bookings whose payment hold ran out (`pending_payment`
//!   past `hold_expires_at`), cancelling each with an audit record, so their slots open again
//!   (and go to the waitlist), and expires waitlist entries whose requested dates have passed;
//! - every `worker_interval_seconds` it keeps the token tables small: refresh tokens and
//!   one-time links past their expiry (plus a grace period, so a support agent can still see
//!   why a link failed) are deleted, with an audit record of how many.
//!
//! Handlers for the queue (notification delivery, reminders, waitlist offers) register with
//! the runner.

pub mod channels;
pub mod notify;
pub mod push;
pub mod queue;
pub mod reminders;
pub mod sms;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "testing")]
mod testing_http;
pub mod waitlist;
pub mod webhook;

use carebook_domain::audit::AuditRecord;
use carebook_store::{Store, StoreResult};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How long spent tokens are kept before they are deleted.
pub const TOKEN_GRACE: SignedDuration = SignedDuration::from_hours(24 * 7);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PurgeReport {
    pub refresh_tokens: u64,
    pub one_time_tokens: u64,
}

/// One housekeeping pass at `now`.
pub async fn purge_spent_tokens(store: &Store, now: Timestamp) -> StoreResult<PurgeReport> {
    let before = now.checked_sub(TOKEN_GRACE).unwrap_or(now);
    let mut tx = store.write().await?;
    let (refresh_tokens, one_time_tokens) = tx.purge_spent_tokens(before).await?;
    if refresh_tokens + one_time_tokens == 0 {
        return Ok(PurgeReport::default()); // nothing changed: roll back, no audit noise
    }
    tx.append_audit(&system_record(
        now,
        "system.tokens_purged",
        "token",
        None,
        None,
        serde_json::json!({
            "refresh_tokens": refresh_tokens,
            "one_time_tokens": one_time_tokens,
            "expired_before": before.to_string(),
        }),
    ))
    .await?;
    tx.commit().await?;
    Ok(PurgeReport {
        refresh_tokens,
        one_time_tokens,
    })
}

/// How often expired payment holds are released.
pub const HOLD_SWEEP: Duration = Duration::from_secs(60);

/// Why a released hold was cancelled.
pub const HOLD_EXPIRED_REASON: &str = "payment not received in time";

/// Cancels up to 200 unpaid bookings whose hold expired before `now`; returns how many.
pub async fn release_expired_holds(store: &Store, now: Timestamp) -> StoreResult<usize> {
    let mut tx = store.write().await?;
    let expired = tx.expired_payment_holds(now, 200).await?;
    let mut released = 0;
    for a in expired {
        let Some(c) = tx
            .cancel_appointment(a.id, None, HOLD_EXPIRED_REASON, now)
            .await?
        else {
            continue;
        };
        reminders::cancel(tx.as_mut(), c.id, now).await?;
        waitlist::slot_freed(
            tx.as_mut(),
            c.clinic_id,
            c.provider_id,
            c.busy_start_at,
            c.busy_end_at,
            now,
        )
        .await?;
        tx.append_audit(&system_record(
            now,
            "appointment.hold_expired",
            "appointment",
            Some(c.id.to_string()),
            Some(c.clinic_id),
            serde_json::json!({
                "number": c.number,
                "status": "cancelled",
                "hold_expires_at": a.hold_expires_at.map(|t| t.to_string()),
                "cancellation_reason": HOLD_EXPIRED_REASON,
            }),
        ))
        .await?;
        released += 1;
    }
    if released > 0 {
        tx.commit().await?;
    }
    Ok(released)
}

pub fn system_record(
    now: Timestamp,
    action: &str,
    entity_type: &str,
    entity_id: Option<String>,
    clinic_id: Option<Uuid>,
    new_values: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        actor_role: Some("system".to_owned()),
        entity_id,
        clinic_id,
        new_values: Some(new_values),
        ..AuditRecord::new(action, entity_type, now)
    }
}

/// How often the runner looks for due jobs.
pub const POLL: Duration = Duration::from_secs(1);

/// Runs the queue and housekeeping until `shutdown` turns true: due jobs every second, hold
/// releases every minute (or every `every`, when shorter), token purges every `every`.
pub async fn run(
    store: Store,
    runner: queue::Runner,
    now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(
        every_seconds = every.as_secs(),
        worker = runner.worker(),
        "worker started"
    );
    let sweep = every.min(HOLD_SWEEP);
    let due = |last: Option<std::time::Instant>, period: Duration| {
        last.is_none_or(|t| t.elapsed() >= period)
    };
    let (mut last_sweep, mut last_purge) = (None, None);
    loop {
        if let Err(e) = runner.drain().await {
            tracing::warn!(error = %e, "running jobs failed; will retry");
        }
        if due(last_sweep, sweep) {
            last_sweep = Some(std::time::Instant::now());
            match release_expired_holds(&store, now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "released expired payment holds"),
                Err(e) => tracing::warn!(error = %e, "releasing payment holds failed; will retry"),
            }
            match waitlist::expire_entries(&store, now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired waitlist entries past their dates"),
                Err(e) => {
                    tracing::warn!(error = %e, "expiring waitlist entries failed; will retry")
                }
            }
        }
        if due(last_purge, every) {
            last_purge = Some(std::time::Instant::now());
            match purge_spent_tokens(&store, now()).await {
                Ok(r) if r != PurgeReport::default() => tracing::info!(?r, "purged spent tokens"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping pass failed; will retry"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    tracing::info!("worker stopped");
}
