//! Carebook's background work. `carebook serve` runs the worker in process unless told not to;
//! `carebook worker` runs it alone.
//!
//! Today the worker keeps the token tables small: refresh tokens and one-time links past their
//! expiry (plus a grace period, so a support agent can still see why a link failed) are
//! deleted, with an audit record of how many. The job queue, reminders and notification
//! delivery join here with the notifications work.

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
    tx.append_audit(&AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: now,
        actor_user_id: None,
        actor_role: Some("system".to_owned()),
        action: "system.tokens_purged".to_owned(),
        entity_type: "token".to_owned(),
        entity_id: None,
        clinic_id: None,
        old_values: None,
        new_values: Some(serde_json::json!({
            "refresh_tokens": refresh_tokens,
            "one_time_tokens": one_time_tokens,
            "expired_before": before.to_string(),
        })),
        ip: None,
        user_agent: None,
        request_id: None,
    })
    .await?;
    tx.commit().await?;
    Ok(PurgeReport {
        refresh_tokens,
        one_time_tokens,
    })
}

/// Runs housekeeping every `every` until `shutdown` turns true.
pub async fn run(
    store: Store,
    now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(every_seconds = every.as_secs(), "worker started");
    loop {
        match purge_spent_tokens(&store, now()).await {
            Ok(r) if r != PurgeReport::default() => tracing::info!(?r, "purged spent tokens"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping pass failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
    }
    tracing::info!("worker stopped");
}
