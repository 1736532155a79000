//! The waitlist's background half: the jobs that match freed slots to waiting entries and
//! that expire unanswered offers, and the daily expiry of entries whose dates have passed.
//!
//! Every change that frees provider time (a cancellation, a no-show, a move, a released
//! hold, time off withdrawn, new hours) calls [`slot_freed`] in its own transaction. That
//! enqueues a `waitlist_match` job, so the freed time is matched exactly when the change
//! commits, and a worker that dies while matching leaves the job to the next one: no freed
//! slot is lost. The matcher itself books holds and so needs the booking desk; it lives in
//! the API crate and registers with the runner under [`MATCH_FREED_SLOT`].

use crate::queue::{Clock, Failure, Handler};
use async_trait::async_trait;
use carebook_domain::Language;
use carebook_domain::waitlist::{EntryStatus, OfferStatus};
use carebook_store::jobs::{Job, NewJob};
use carebook_store::waitlist::{EntryTransition, WaitlistEntry, WaitlistOffer};
use carebook_store::{Store, StoreError, StoreResult, StoreTx};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Match freed time (or one new entry) against the waitlist.
pub const MATCH_FREED_SLOT: &str = "waitlist_match";
/// Expire an offer nobody answered.
pub const EXPIRE_OFFER: &str = "waitlist_offer_expire";

/// Why an offer's hold was cancelled, as the appointment records it.
pub const DECLINED_REASON: &str = "waitlist offer declined";
pub const EXPIRED_REASON: &str = "waitlist offer expired";
pub const WITHDRAWN_REASON: &str = "waitlist offer withdrawn";

/// The payload of a `waitlist_match` job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FreedSlot {
    pub clinic_id: Uuid,
    /// Whose time freed up; `None` with `entry_id`: any provider the entry accepts.
    pub provider_id: Option<Uuid>,
    /// The freed span (for a new entry: from now to the booking horizon).
    pub from: Timestamp,
    pub to: Timestamp,
    /// Only this entry (it just joined the queue).
    pub entry_id: Option<Uuid>,
    /// Not this entry: it just declined this time, or let it run out.
    #[serde(default)]
    pub skip_entry: Option<Uuid>,
}

/// Records, in `tx`, that a provider's time `[from, to)` at the clinic may have freed up; a
/// worker then offers it to the first suitable waiting entry. Does nothing when the clinic has
/// nobody waiting. Returns whether a match was enqueued.
pub async fn slot_freed(
    tx: &mut dyn StoreTx,
    clinic_id: Uuid,
    provider_id: Uuid,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> StoreResult<bool> {
    if to <= from || !tx.has_waiting_entries(clinic_id).await? {
        return Ok(false);
    }
    let slot = FreedSlot {
        clinic_id,
        provider_id: Some(provider_id),
        from,
        to,
        entry_id: None,
        skip_entry: None,
    };
    enqueue_match(tx, &slot, now).await
}

/// Records, in `tx`, that an entry joined the queue: a worker looks for a free time for it now.
pub async fn entry_added(
    tx: &mut dyn StoreTx,
    e: &WaitlistEntry,
    horizon: SignedDuration,
    now: Timestamp,
) -> StoreResult<bool> {
    let slot = FreedSlot {
        clinic_id: e.clinic_id,
        provider_id: e.provider_id,
        from: now,
        to: now.checked_add(horizon).unwrap_or(now),
        entry_id: Some(e.id),
        skip_entry: None,
    };
    enqueue_match(tx, &slot, now).await
}

async fn enqueue_match(
    tx: &mut dyn StoreTx,
    slot: &FreedSlot,
    now: Timestamp,
) -> StoreResult<bool> {
    // Each freeing is its own job: two cancellations of the same time (cancel, rebook,
    // cancel) must both be matched.
    let key = format!("{MATCH_FREED_SLOT}:{}", Uuid::now_v7());
    let payload = serde_json::to_value(slot).map_err(StoreError::corrupt)?;
    tx.enqueue_job(&NewJob::new(MATCH_FREED_SLOT, key, payload, now), now)
        .await
}

/// Plans the expiry of a new offer at its deadline.
pub async fn schedule_expiry(
    tx: &mut dyn StoreTx,
    offer: &WaitlistOffer,
    now: Timestamp,
) -> StoreResult<bool> {
    let key = format!("{EXPIRE_OFFER}:{}", offer.id);
    let payload = json!({ "offer_id": offer.id });
    tx.enqueue_job(
        &NewJob::new(EXPIRE_OFFER, key, payload, offer.expires_at),
        now,
    )
    .await
}

/// Closes an open offer as `to` (declined, expired, withdrawn): cancels the hold, puts the
/// entry back in the queue at its place, and enqueues a match so the time goes to the next
/// entry (never back to this one). `None` when the offer was no longer open.
pub async fn release_offer(
    tx: &mut dyn StoreTx,
    offer: &WaitlistOffer,
    to: OfferStatus,
    now: Timestamp,
) -> StoreResult<Option<WaitlistEntry>> {
    let reason = match to {
        OfferStatus::Declined => DECLINED_REASON,
        OfferStatus::Expired => EXPIRED_REASON,
        _ => WITHDRAWN_REASON,
    };
    if tx.close_waitlist_offer(offer.id, to, now).await?.is_none() {
        return Ok(None);
    }
    let hold = tx
        .cancel_appointment(offer.appointment_id, None, reason, now)
        .await?;
    let entry = tx
        .transition_waitlist_entry(&EntryTransition {
            id: offer.entry_id,
            from: vec![EntryStatus::Offered],
            to: EntryStatus::Waiting,
            appointment_id: None,
            reason: None,
            now,
        })
        .await?;
    // The time goes on to the next in line, never back to the entry that let it go.
    if let Some(h) = hold
        && tx.has_waiting_entries(h.clinic_id).await?
    {
        let slot = FreedSlot {
            clinic_id: h.clinic_id,
            provider_id: Some(h.provider_id),
            from: h.busy_start_at,
            to: h.busy_end_at,
            entry_id: None,
            skip_entry: Some(offer.entry_id),
        };
        enqueue_match(tx, &slot, now).await?;
    }
    Ok(entry)
}

fn transient(e: StoreError) -> Failure {
    Failure::Transient(format!("store: {e}"))
}

/// The `waitlist_offer_expire` job.
pub struct ExpireOffer {
    store: Store,
    clock: Clock,
}

impl ExpireOffer {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Handler for ExpireOffer {
    async fn run(&self, job: &Job) -> Result<(), Failure> {
        let Some(id) = job
            .payload
            .get("offer_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Uuid>().ok())
        else {
            return Err(Failure::Permanent("payload lacks offer_id".into()));
        };
        let now = (self.clock)();
        let mut tx = self.store.write().await.map_err(transient)?;
        let Some(offer) = tx.get_waitlist_offer(id).await.map_err(transient)? else {
            return Ok(());
        };
        if offer.status != OfferStatus::Open {
            return Ok(()); // answered in time
        }
        if now < offer.expires_at {
            return Err(Failure::Transient("the offer has not run out yet".into()));
        }
        let entry = tx
            .lock_waitlist_entry(offer.entry_id)
            .await
            .map_err(transient)?;
        let Some(entry) = entry else { return Ok(()) };
        if release_offer(tx.as_mut(), &offer, OfferStatus::Expired, now)
            .await
            .map_err(transient)?
            .is_none()
        {
            return Ok(());
        }
        tx.append_audit(&crate::system_record(
            now,
            "waitlist.offer_expired",
            "waitlist_entry",
            Some(entry.id.to_string()),
            Some(entry.clinic_id),
            json!({"offer_id": offer.id, "appointment_id": offer.appointment_id,
                   "start_at": offer.start_at.to_string(), "status": "waiting"}),
        ))
        .await
        .map_err(transient)?;
        tx.commit().await.map_err(transient)
    }
}

/// Expires waiting entries whose requested dates are all behind their clinic's today; returns
/// how many. Positions close up behind them.
pub async fn expire_entries(store: &Store, now: Timestamp) -> StoreResult<usize> {
    let mut tx = store.write().await?;
    // No clinic's today is later than UTC's tomorrow; each candidate is checked on its own
    // clinic's clock.
    let bound = now
        .to_zoned(TimeZone::UTC)
        .date()
        .tomorrow()
        .map_err(StoreError::corrupt)?
        .tomorrow()
        .map_err(StoreError::corrupt)?;
    let candidates = tx.waiting_entries_ending_before(bound, 500).await?;
    let mut zones: std::collections::HashMap<Uuid, TimeZone> = Default::default();
    let mut expired = 0;
    for e in candidates {
        let tz = match zones.get(&e.clinic_id) {
            Some(tz) => tz.clone(),
            None => {
                let tz = match tx.get_clinic(e.clinic_id).await? {
                    Some(c) => TimeZone::get(&c.timezone).unwrap_or(TimeZone::UTC),
                    None => TimeZone::UTC,
                };
                zones.insert(e.clinic_id, tz.clone());
                tz
            }
        };
        if !e.requested().is_past(now.to_zoned(tz).date()) {
            continue;
        }
        let Some(done) = tx
            .transition_waitlist_entry(&EntryTransition {
                id: e.id,
                from: vec![EntryStatus::Waiting],
                to: EntryStatus::Expired,
                appointment_id: None,
                reason: Some("the requested dates have passed".into()),
                now,
            })
            .await?
        else {
            continue;
        };
        tx.renumber_waitlist(done.clinic_id, done.priority).await?;
        tx.append_audit(&crate::system_record(
            now,
            "waitlist.expired",
            "waitlist_entry",
            Some(done.id.to_string()),
            Some(done.clinic_id),
            json!({"status": "expired", "requested_to": done.requested_to.map(|d| d.to_string())}),
        ))
        .await?;
        expired += 1;
    }
    if expired > 0 {
        tx.commit().await?;
    }
    Ok(expired)
}

/// The patient's language, for the message templates.
pub fn language_of(p: &carebook_store::models::Patient) -> Language {
    Language::parse(&p.preferred_language).unwrap_or_default()
}
