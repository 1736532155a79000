//! Notification channels' half of the repository interface: device tokens for push, a
//! clinic's notification settings, the in-app inbox and the notification history.
//! [`StoreTx`](crate::StoreTx) includes it; bring this trait into scope to call its methods.
//!
//! Registering and removing a device and changing settings are a person's changes and carry
//! audit records like any other write. Marking a token used or dead after a delivery is the
//! worker's bookkeeping, like the job queue's, and a message's read state is the reader's own
//! view of their inbox (as a mail client's is): neither needs an audit record.

use crate::error::StoreResult;
use crate::models::{Notification, PageRequest};
use async_trait::async_trait;
use carebook_domain::channels::{Channel, DEFAULT_ORDER};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// A device registered for push messages.
#[derive(Clone, Serialize)]
pub struct PushToken {
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(skip)]
    pub token: String,
    /// `android`, `ios` or `web`.
    pub platform: String,
    pub device_name: Option<String>,
    pub is_active: bool,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub deactivated_at: Option<Timestamp>,
    pub deactivation_reason: Option<String>,
}

impl std::fmt::Debug for PushToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token addresses the device: whoever holds it can push to it.
        f.debug_struct("PushToken")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("platform", &self.platform)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// How a clinic's messages go out. A clinic without a row has the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub clinic_id: Uuid,
    /// Tried in order; the first channel the patient can receive wins.
    pub channel_order: Vec<Channel>,
    /// Sender of the clinic's emails; `None`: the server's `mail_from`.
    pub email_from: Option<String>,
    pub updated_at: Option<Timestamp>,
    pub updated_by_user_id: Option<Uuid>,
}

impl NotificationSettings {
    pub fn defaults(clinic_id: Uuid) -> Self {
        Self {
            clinic_id,
            channel_order: DEFAULT_ORDER.to_vec(),
            email_from: None,
            updated_at: None,
            updated_by_user_id: None,
        }
    }
}

/// Which messages a history list shows; every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub patient_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    /// Only messages of this clinic (clinic staff see their own clinic's).
    pub clinic_id: Option<Uuid>,
    pub channel: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub to: Option<Timestamp>,
}

/// Whose inbox: a user's own messages, and those to the patient record linked to the user.
#[derive(Debug, Clone, Copy)]
pub struct Inbox {
    pub user_id: Uuid,
    pub patient_id: Option<Uuid>,
}

/// The channels whose messages the inbox shows: those shown on the user's devices.
pub const INBOX_CHANNELS: &str = "('in_app', 'push')";

#[async_trait]
pub trait ChannelTx: Send {
    // Push tokens
    /// Registers a device token, or takes over the row of one registered before: it is
    /// active again, belongs to `t.user_id` and has `t`'s platform and name.
    async fn register_push_token(&mut self, t: &PushToken) -> StoreResult<PushToken>;
    async fn get_push_token(&mut self, id: Uuid) -> StoreResult<Option<PushToken>>;
    /// The user's tokens, newest first; only active ones unless `include_inactive`.
    async fn push_tokens_of(
        &mut self,
        user_id: Uuid,
        include_inactive: bool,
    ) -> StoreResult<Vec<PushToken>>;
    /// Removes a device of the user; false when it is not theirs.
    async fn delete_push_token(&mut self, user_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// The push service said the token is dead: it gets no more messages.
    async fn deactivate_push_token(
        &mut self,
        id: Uuid,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// A message was delivered to the token.
    async fn touch_push_token(&mut self, id: Uuid, now: Timestamp) -> StoreResult<()>;

    // Clinic settings
    async fn notification_settings(&mut self, clinic_id: Uuid)
    -> StoreResult<NotificationSettings>;
    async fn save_notification_settings(
        &mut self,
        s: &NotificationSettings,
        now: Timestamp,
    ) -> StoreResult<()>;

    // History and inbox
    /// Messages, newest first, before the `page.after` id.
    async fn list_notifications(
        &mut self,
        f: &NotificationFilter,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<Notification>>;
    /// The first message whose idempotency key starts with `prefix`: one logical message
    /// (a reminder) is one row whichever channel it went by.
    async fn notification_by_key_prefix(
        &mut self,
        prefix: &str,
    ) -> StoreResult<Option<Notification>>;
    /// Delivered in-app and push messages of the inbox, newest first.
    async fn inbox(
        &mut self,
        inbox: Inbox,
        unread_only: bool,
        kind: Option<&str>,
        page: PageRequest<Uuid>,
    ) -> StoreResult<Vec<Notification>>;
    async fn unread_count(&mut self, inbox: Inbox) -> StoreResult<u64>;
    /// Marks one message of the inbox read (`true`) or unread; `None` when it is not in it.
    async fn mark_read(
        &mut self,
        inbox: Inbox,
        id: Uuid,
        read: bool,
        now: Timestamp,
    ) -> StoreResult<Option<Notification>>;
    /// Marks every unread message of the inbox read; returns how many.
    async fn mark_all_read(&mut self, inbox: Inbox, now: Timestamp) -> StoreResult<u64>;
}
