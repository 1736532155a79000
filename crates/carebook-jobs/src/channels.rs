//! Writing a message to a patient into the outbox on the right channel.
//!
//! [`notify_patient`] is what every patient message goes through (reminders, waitlist
//! offers, confirmations): inside the caller's transaction it picks the channel by the
//! clinic's order among those the patient has ([`carebook_domain::channels::choose`]), writes
//! the row (pending, with its delivery job; `sent` at once for in-app; `skipped` for an
//! opted-out or unreachable patient) and returns it. The caller appends its audit record and
//! commits.
//!
//! One logical message is one row, whatever channel it takes: its key is the caller's key
//! plus `:<channel>`, and a message whose caller's key already has a row (written by an
//! earlier run, perhaps on another channel, before the patient registered a phone) is not
//! written again.

use carebook_domain::channels::{Channel, Choice, OptOuts, Reach, choose};
use carebook_store::models::{Notification, Patient};
use carebook_store::{StoreError, StoreResult, StoreTx};
use jiff::Timestamp;
use uuid::Uuid;

/// A message to a patient, before its channel is chosen.
#[derive(Debug, Clone)]
pub struct PatientMessage {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    /// The notification type: `reminder_24h`, `waitlist_offer`, …
    pub kind: String,
    /// The email subject, push title and in-app heading (SMS sends the body only).
    pub subject: String,
    pub body: String,
    pub appointment_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    /// Deterministic key of the message, e.g. `waitlist_offer:<offer id>`; the channel is
    /// appended to it.
    pub key: String,
}

/// The channel a message to `patient` from `clinic_id` takes now.
pub async fn choose_channel(
    tx: &mut dyn StoreTx,
    patient: &Patient,
    clinic_id: Uuid,
) -> StoreResult<Choice> {
    let settings = tx.notification_settings(clinic_id).await?;
    let push = match patient.user_id {
        Some(u) => !tx.push_tokens_of(u, false).await?.is_empty(),
        None => false,
    };
    let present = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    let reach = Reach {
        push,
        sms: present(&patient.phone),
        email: present(&patient.email),
        in_app: patient.user_id.is_some(),
    };
    let opt_outs = OptOuts {
        all: patient.notification_opt_out,
        email: patient.channel_opt_outs.email,
        sms: patient.channel_opt_outs.sms,
        push: patient.channel_opt_outs.push,
    };
    Ok(choose(&settings.channel_order, &reach, &opt_outs))
}

/// Writes `msg` to the outbox on the channel chosen for the patient; `None` when a message
/// with its key exists already. `StoreError::NotFound` when the patient does not exist.
pub async fn notify_patient(
    tx: &mut dyn StoreTx,
    msg: &PatientMessage,
    now: Timestamp,
) -> StoreResult<Option<Notification>> {
    let prefix = format!("{}:", msg.key);
    if tx.notification_by_key_prefix(&prefix).await?.is_some() {
        return Ok(None);
    }
    let patient = tx
        .get_patient(msg.patient_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let choice = choose_channel(tx, &patient, msg.clinic_id).await?;
    let channel = choice.channel();
    let destination = match channel {
        Channel::Email => patient.email.clone(),
        Channel::Sms => patient.phone.clone(),
        Channel::Push | Channel::InApp => None,
    };
    let (status, error, sent_at) = match choice {
        Choice::Skip { reason, .. } => ("skipped", Some(reason.describe().to_owned()), None),
        // The inbox is its own delivery.
        Choice::Send(Channel::InApp) => ("sent", None, Some(now)),
        Choice::Send(_) => ("pending", None, None),
    };
    let n = Notification {
        id: Uuid::now_v7(),
        clinic_id: Some(msg.clinic_id),
        recipient_user_id: patient.user_id,
        recipient_patient_id: Some(patient.id),
        channel: channel.as_str().to_owned(),
        kind: msg.kind.clone(),
        status: status.to_owned(),
        destination,
        subject: Some(msg.subject.clone()),
        body_preview: msg.body.chars().take(Notification::PREVIEW_CHARS).collect(),
        body: msg.body.clone(),
        appointment_id: msg.appointment_id,
        waitlist_entry_id: msg.waitlist_entry_id,
        attempts: 0,
        last_error: error,
        idempotency_key: format!("{prefix}{}", channel.as_str()),
        created_at: now,
        sent_at,
        read_at: None,
    };
    match tx.insert_notification(&n).await {
        Ok(()) => Ok(Some(n)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
