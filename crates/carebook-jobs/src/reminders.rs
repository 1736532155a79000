//! Appointment reminders over the job queue.
//!
//! Booking an appointment plans its reminders in the booking's own transaction: one
//! `send_reminder` job per kind, due at its lead time before the start, keyed by the
//! appointment, the kind and the start. Rescheduling cancels the queued ones and plans the new
//! time's; cancelling cancels them. When a reminder job runs it looks again: an appointment no
//! longer booked, moved, or whose reminder is now too late is left alone. Otherwise it writes
//! the message (in the patient's language, on the clinic's clock) to the outbox under a key of
//! its own, so one reminder is one message however often the job runs. The channel is the
//! clinic's first that the patient has and did not opt out of ([`crate::channels`]); a
//! patient who opted out gets the row as `skipped` and nothing is sent.

use crate::queue::{Clock, Failure, Handler};
use async_trait::async_trait;
use carebook_domain::Language;
use carebook_domain::reminders::{
    ReminderFacts, ReminderKind, ReminderPolicy, is_stale, message, plan as plan_times,
};
use carebook_domain::schedule::lifecycle::AppointmentStatus;
use carebook_store::jobs::{Job, NewJob};
use carebook_store::scheduling::{Appointment, BookingSettings};
use carebook_store::{Store, StoreError, StoreResult, StoreTx};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use uuid::Uuid;

pub const SEND_REMINDER: &str = "send_reminder";

fn prefix(appointment_id: Uuid) -> String {
    format!("reminder:{appointment_id}:")
}

fn policy(s: &BookingSettings) -> ReminderPolicy {
    let mins = |m: u32| SignedDuration::from_mins(i64::from(m));
    ReminderPolicy {
        day_before: s
            .reminder_24h_enabled
            .then(|| mins(s.reminder_24h_lead_minutes)),
        same_day: s
            .reminder_2h_enabled
            .then(|| mins(s.reminder_2h_lead_minutes)),
    }
}

/// Plans the reminders of a booked or moved appointment inside `tx`; returns how many.
pub async fn plan(
    tx: &mut dyn StoreTx,
    a: &Appointment,
    settings: &BookingSettings,
    now: Timestamp,
) -> StoreResult<usize> {
    let mut planned = 0;
    for (kind, due) in plan_times(a.start_at, now, &policy(settings)) {
        let key = format!(
            "{}{}:{}",
            prefix(a.id),
            kind.as_str(),
            a.start_at.as_microsecond()
        );
        let payload = json!({
            "appointment_id": a.id,
            "kind": kind.as_str(),
            "start_at": a.start_at.to_string(),
        });
        if tx
            .enqueue_job(&NewJob::new(SEND_REMINDER, key, payload, due), now)
            .await?
        {
            planned += 1;
        }
    }
    Ok(planned)
}

/// Cancels an appointment's queued reminders (it moved, or will not take place).
pub async fn cancel(
    tx: &mut dyn StoreTx,
    appointment_id: Uuid,
    now: Timestamp,
) -> StoreResult<u64> {
    tx.cancel_queued_jobs(&prefix(appointment_id), now).await
}

/// The `send_reminder` job.
pub struct SendReminder {
    store: Store,
    clock: Clock,
}

impl SendReminder {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }
}

fn transient(e: StoreError) -> Failure {
    Failure::Transient(format!("store: {e}"))
}

#[async_trait]
impl Handler for SendReminder {
    async fn run(&self, job: &Job) -> Result<(), Failure> {
        let field = |k: &str| job.payload.get(k).and_then(|v| v.as_str());
        let (Some(id), Some(kind), Some(start)) = (
            field("appointment_id").and_then(|s| s.parse::<Uuid>().ok()),
            field("kind").and_then(ReminderKind::parse),
            field("start_at").and_then(|s| s.parse::<Timestamp>().ok()),
        ) else {
            return Err(Failure::Permanent(
                "payload lacks appointment_id, kind or start_at".into(),
            ));
        };
        let now = (self.clock)();
        if is_stale(job.run_at, now) {
            tracing::info!(appointment = %id, kind = kind.as_str(), "reminder too late; not sent");
            return Ok(());
        }
        let mut tx = self.store.write().await.map_err(transient)?;
        let Some(listing) = tx.get_appointment_listing(id).await.map_err(transient)? else {
            return Ok(());
        };
        let a = &listing.appointment;
        let booked = matches!(
            a.status,
            AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
        );
        if !booked || a.start_at != start {
            return Ok(()); // cancelled, moved, under way or over: nothing to remind of
        }
        let settings = tx.booking_settings(a.clinic_id).await.map_err(transient)?;
        let on = match kind {
            ReminderKind::DayBefore => settings.reminder_24h_enabled,
            ReminderKind::SameDay => settings.reminder_2h_enabled,
        };
        let (Some(patient), Some(clinic)) = (
            tx.get_patient(a.patient_id).await.map_err(transient)?,
            tx.get_clinic(a.clinic_id).await.map_err(transient)?,
        ) else {
            return Ok(());
        };
        if !on {
            return Ok(());
        }
        let tz = TimeZone::get(&clinic.timezone).unwrap_or(TimeZone::UTC);
        let local = a.start_at.to_zoned(tz).datetime();
        let lang = Language::parse(&patient.preferred_language).unwrap_or_default();
        let (subject, body) = message(
            kind,
            lang,
            &ReminderFacts {
                patient: &patient.name,
                provider: &listing.provider_name,
                clinic: &clinic.name,
                date: local.date(),
                time: local.time(),
                video: a.mode == "video",
            },
        );
        let msg = crate::channels::PatientMessage {
            clinic_id: a.clinic_id,
            patient_id: patient.id,
            kind: kind.as_str().into(),
            subject,
            body,
            appointment_id: Some(a.id),
            waitlist_entry_id: None,
            key: job.idempotency_key.clone(),
        };
        let n = match crate::channels::notify_patient(tx.as_mut(), &msg, now).await {
            Ok(Some(n)) => n,
            // Written by an earlier run of this job: it is done.
            Ok(None) | Err(StoreError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(transient(e)),
        };
        let record = crate::system_record(
            now,
            "notification.reminder",
            "appointment",
            Some(a.id.to_string()),
            Some(a.clinic_id),
            json!({"notification_id": n.id, "type": n.kind, "channel": n.channel, "status": n.status}),
        );
        tx.append_audit(&record).await.map_err(transient)?;
        tx.commit().await.map_err(transient)
    }
}
