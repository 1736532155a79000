//! What the API shows of notifications, device tokens and notification settings. Message
//! bodies and device tokens have no field here: lists show the 500-character preview, and a
//! token is write-only (whoever holds it can push to the device).

use carebook_store::channels::{NotificationSettings, PushToken};
use carebook_store::models::Notification;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Email,
    Sms,
    Push,
    InApp,
}

impl ChannelName {
    pub fn as_str(self) -> &'static str {
        self.domain().as_str()
    }

    pub fn domain(self) -> carebook_domain::channels::Channel {
        use carebook_domain::channels::Channel as C;
        match self {
            ChannelName::Email => C::Email,
            ChannelName::Sms => C::Sms,
            ChannelName::Push => C::Push,
            ChannelName::InApp => C::InApp,
        }
    }

    pub fn of(c: carebook_domain::channels::Channel) -> Self {
        use carebook_domain::channels::Channel as C;
        match c {
            C::Email => ChannelName::Email,
            C::Sms => ChannelName::Sms,
            C::Push => ChannelName::Push,
            C::InApp => ChannelName::InApp,
        }
    }
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    Confirmation,
    #[serde(rename = "reminder_24h")]
    Reminder24h,
    #[serde(rename = "reminder_2h")]
    Reminder2h,
    Cancellation,
    Reschedule,
    WaitlistOffer,
    WaitlistAssigned,
    NoShowFollowup,
    PasswordReset,
    EmailVerification,
    General,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Reminder24h => "reminder_24h",
            Self::Reminder2h => "reminder_2h",
            Self::Cancellation => "cancellation",
            Self::Reschedule => "reschedule",
            Self::WaitlistOffer => "waitlist_offer",
            Self::WaitlistAssigned => "waitlist_assigned",
            Self::NoShowFollowup => "no_show_followup",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::General => "general",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    Pending,
    Sent,
    Failed,
    Skipped,
    Read,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Read => "read",
        }
    }
}

/// One message as the clinic's staff see it in a history.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub clinic_id: Option<Uuid>,
    pub recipient_patient_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
    /// `email`, `sms`, `push` or `in_app`.
    pub channel: String,
    /// `reminder_24h`, `waitlist_offer`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `sent`, `failed`, `skipped` or `read`.
    pub status: String,
    /// The address or number it went to (none for push and in-app).
    pub destination: Option<String>,
    pub subject: Option<String>,
    /// The first 500 characters of the body.
    pub body_preview: String,
    pub appointment_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    pub attempts: u32,
    /// Why the last attempt failed, or why the message was skipped.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id,
            clinic_id: n.clinic_id,
            recipient_patient_id: n.recipient_patient_id,
            recipient_user_id: n.recipient_user_id,
            channel: n.channel.clone(),
            kind: n.kind.clone(),
            status: n.status.clone(),
            destination: n.destination.clone(),
            subject: n.subject.clone(),
            body_preview: n.body_preview.clone(),
            appointment_id: n.appointment_id,
            waitlist_entry_id: n.waitlist_entry_id,
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            created_at: n.created_at,
            sent_at: n.sent_at,
            read_at: n.read_at,
        }
    }
}

/// One message of the signed-in user's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    /// `push` (also shown on the device) or `in_app`.
    pub channel: String,
    pub title: Option<String>,
    /// The first 500 characters of the message.
    pub body: String,
    pub read: bool,
    pub appointment_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
}

impl From<&Notification> for InboxItem {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind.clone(),
            channel: n.channel.clone(),
            title: n.subject.clone(),
            body: n.body_preview.clone(),
            read: n.status == "read",
            appointment_id: n.appointment_id,
            waitlist_entry_id: n.waitlist_entry_id,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// A device registered for push messages (the token itself is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct PushTokenView {
    pub id: Uuid,
    /// `android`, `ios` or `web`.
    pub platform: String,
    pub device_name: Option<String>,
    pub is_active: bool,
    /// Last delivery to the device, or its last registration.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deactivated_at: Option<Timestamp>,
    pub deactivation_reason: Option<String>,
}

impl From<&PushToken> for PushTokenView {
    fn from(t: &PushToken) -> Self {
        Self {
            id: t.id,
            platform: t.platform.clone(),
            device_name: t.device_name.clone(),
            is_active: t.is_active,
            last_used_at: t.last_used_at,
            created_at: t.created_at,
            deactivated_at: t.deactivated_at,
            deactivation_reason: t.deactivation_reason.clone(),
        }
    }
}

/// How a clinic's messages to patients go out.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettingsView {
    pub clinic_id: Uuid,
    /// Tried in order: a message goes by the first channel the patient has and did not
    /// opt out of.
    pub channel_order: Vec<ChannelName>,
    /// Sender of the clinic's emails; null: the server's `mail_from`.
    pub email_from: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
    pub updated_by_user_id: Option<Uuid>,
}

impl From<&NotificationSettings> for NotificationSettingsView {
    fn from(s: &NotificationSettings) -> Self {
        Self {
            clinic_id: s.clinic_id,
            channel_order: s
                .channel_order
                .iter()
                .map(|c| ChannelName::of(*c))
                .collect(),
            email_from: s.email_from.clone(),
            updated_at: s.updated_at,
            updated_by_user_id: s.updated_by_user_id,
        }
    }
}

/// A patient's notification preferences.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    pub patient_id: Uuid,
    /// Nothing is sent at all.
    pub notification_opt_out: bool,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    pub push_opt_out: bool,
    /// `en` or `sw`.
    pub preferred_language: String,
}

impl From<&carebook_store::models::Patient> for PreferencesView {
    fn from(p: &carebook_store::models::Patient) -> Self {
        Self {
            patient_id: p.id,
            notification_opt_out: p.notification_opt_out,
            email_opt_out: p.channel_opt_outs.email,
            sms_opt_out: p.channel_opt_outs.sms,
            push_opt_out: p.channel_opt_outs.push,
            preferred_language: p.preferred_language.clone(),
        }
    }
}

/// One page of a notification history.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}

/// One page of the inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    pub next_cursor: Option<String>,
    /// Unread messages in the whole inbox.
    pub unread: u64,
}
