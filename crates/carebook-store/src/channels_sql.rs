//! The SQL of [`ChannelTx`](crate::ChannelTx), written once for both backends like
//! `shared.rs`.

use crate::channels::{NotificationSettings, PushToken};
use crate::error::{StoreError, StoreResult};
use crate::rows::RowExt;
use carebook_domain::channels::{Channel, DEFAULT_ORDER};

pub(crate) fn push_token<R: RowExt>(r: &R) -> StoreResult<PushToken> {
    Ok(PushToken {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        token: r.text("token")?,
        platform: r.text("platform")?,
        device_name: r.opt_text("device_name")?,
        is_active: r.flag("is_active")?,
        last_used_at: r.opt_ts("last_used_at")?,
        created_at: r.ts("created_at")?,
        deactivated_at: r.opt_ts("deactivated_at")?,
        deactivation_reason: r.opt_text("deactivation_reason")?,
    })
}

pub(crate) fn notification_settings<R: RowExt>(r: &R) -> StoreResult<NotificationSettings> {
    let order = match r.opt_json("channel_order")? {
        Some(serde_json::Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .and_then(Channel::parse)
                    .ok_or_else(|| StoreError::corrupt(format!("channel {n}")))
            })
            .collect::<StoreResult<Vec<_>>>()?,
        _ => DEFAULT_ORDER.to_vec(),
    };
    Ok(NotificationSettings {
        clinic_id: r.uuid("clinic_id")?,
        channel_order: order,
        email_from: r.opt_text("email_from")?,
        updated_at: Some(r.ts("updated_at")?),
        updated_by_user_id: r.opt_uuid("updated_by_user_id")?,
    })
}

/// Whose messages an inbox holds: `$1` the user, `$2` the patient record linked to them.
macro_rules! inbox_of {
    () => {
        "(recipient_user_id = $1 OR ($2 IS NOT NULL AND recipient_patient_id = $2)) \
         AND channel IN ('in_app', 'push') AND status IN ('sent', 'read')"
    };
}
pub(crate) use inbox_of;

macro_rules! impl_channel_tx {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::channels::ChannelTx for $tx {
            async fn register_push_token(
                &mut self,
                t: &$crate::channels::PushToken,
            ) -> StoreResult<$crate::channels::PushToken> {
                let row = sqlx::query(
                    "INSERT INTO push_tokens (id, user_id, token, platform, device_name, is_active, \
                     last_used_at, created_at) VALUES ($1, $2, $3, $4, $5, true, $6, $6) \
                     ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, \
                     platform = excluded.platform, device_name = excluded.device_name, is_active = true, \
                     last_used_at = excluded.last_used_at, deactivated_at = NULL, deactivation_reason = NULL \
                     RETURNING *",
                )
                .bind(t.id)
                .bind(t.user_id)
                .bind(&t.token)
                .bind(&t.platform)
                .bind(&t.device_name)
                .bind(enc_ts(t.created_at))
                .fetch_one(&mut *self.tx)
                .await?;
                self.wrote = true;
                $crate::channels_sql::push_token(&row)
            }

            async fn get_push_token(&mut self, id: Uuid) -> StoreResult<Option<$crate::channels::PushToken>> {
                let row = sqlx::query("SELECT * FROM push_tokens WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map($crate::channels_sql::push_token).transpose()
            }

            async fn push_tokens_of(
                &mut self,
                user_id: Uuid,
                include_inactive: bool,
            ) -> StoreResult<Vec<$crate::channels::PushToken>> {
                let rows = sqlx::query(
                    "SELECT * FROM push_tokens WHERE user_id = $1 AND ($2 OR is_active) ORDER BY id DESC",
                )
                .bind(user_id)
                .bind(include_inactive)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map($crate::channels_sql::push_token).collect()
            }

            async fn delete_push_token(&mut self, user_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM push_tokens WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                Ok(done.rows_affected() == 1)
            }

            async fn deactivate_push_token(&mut self, id: Uuid, reason: &str, now: Timestamp) -> StoreResult<bool> {
                // Delivery bookkeeping: not marked as a write that needs an audit record.
                let done = sqlx::query(
                    "UPDATE push_tokens SET is_active = false, deactivated_at = $1, deactivation_reason = $2 \
                     WHERE id = $3 AND is_active",
                )
                .bind(enc_ts(now))
                .bind(reason)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_push_token(&mut self, id: Uuid, now: Timestamp) -> StoreResult<()> {
                sqlx::query("UPDATE push_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(enc_ts(now))
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn notification_settings(
                &mut self,
                clinic_id: Uuid,
            ) -> StoreResult<$crate::channels::NotificationSettings> {
                let row = sqlx::query("SELECT * FROM clinic_notification_settings WHERE clinic_id = $1")
                    .bind(clinic_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    Some(r) => $crate::channels_sql::notification_settings(&r),
                    None => Ok($crate::channels::NotificationSettings::defaults(clinic_id)),
                }
            }

            async fn save_notification_settings(
                &mut self,
                s: &$crate::channels::NotificationSettings,
                now: Timestamp,
            ) -> StoreResult<()> {
                let order: Vec<&str> = s.channel_order.iter().map(|c| c.as_str()).collect();
                sqlx::query(
                    "INSERT INTO clinic_notification_settings (clinic_id, channel_order, email_from, updated_at, \
                     updated_by_user_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (clinic_id) DO UPDATE SET \
                     channel_order = excluded.channel_order, email_from = excluded.email_from, \
                     updated_at = excluded.updated_at, updated_by_user_id = excluded.updated_by_user_id",
                )
                .bind(s.clinic_id)
                .bind($crate::shared::json(&order))
                .bind(&s.email_from)
                .bind(enc_ts(now))
                .bind(s.updated_by_user_id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn list_notifications(
                &mut self,
                f: &$crate::channels::NotificationFilter,
                page: PageRequest<Uuid>,
            ) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query(
                    "SELECT * FROM notifications WHERE ($1 IS NULL OR recipient_patient_id = $1) \
                     AND ($2 IS NULL OR appointment_id = $2) AND ($3 IS NULL OR clinic_id = $3) \
                     AND ($4 IS NULL OR channel = $4) AND ($5 IS NULL OR type = $5) \
                     AND ($6 IS NULL OR status = $6) AND ($7 IS NULL OR created_at >= $7) \
                     AND ($8 IS NULL OR created_at < $8) AND ($9 IS NULL OR id < $9) \
                     ORDER BY id DESC LIMIT $10",
                )
                .bind(f.patient_id)
                .bind(f.appointment_id)
                .bind(f.clinic_id)
                .bind(&f.channel)
                .bind(&f.kind)
                .bind(&f.status)
                .bind(enc_opt_ts(f.from))
                .bind(enc_opt_ts(f.to))
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::notification).collect()
            }

            async fn notification_by_key_prefix(&mut self, prefix: &str) -> StoreResult<Option<Notification>> {
                let row = sqlx::query(
                    "SELECT * FROM notifications WHERE idempotency_key LIKE $1 ESCAPE '\\' ORDER BY id LIMIT 1",
                )
                .bind(format!("{}%", like_escape(prefix)))
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::notification).transpose()
            }

            async fn inbox(
                &mut self,
                inbox: $crate::channels::Inbox,
                unread_only: bool,
                kind: Option<&str>,
                page: PageRequest<Uuid>,
            ) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query(concat!(
                    "SELECT * FROM notifications WHERE ",
                    $crate::channels_sql::inbox_of!(),
                    " AND (NOT $3 OR status = 'sent') AND ($4 IS NULL OR type = $4) \
                     AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
                ))
                .bind(inbox.user_id)
                .bind(inbox.patient_id)
                .bind(unread_only)
                .bind(kind)
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::notification).collect()
            }

            async fn unread_count(&mut self, inbox: $crate::channels::Inbox) -> StoreResult<u64> {
                let row = sqlx::query(concat!(
                    "SELECT COUNT(*) AS n FROM notifications WHERE ",
                    $crate::channels_sql::inbox_of!(),
                    " AND status = 'sent'"
                ))
                .bind(inbox.user_id)
                .bind(inbox.patient_id)
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(u64::try_from(row.int("n")?).unwrap_or(0))
            }

            async fn mark_read(
                &mut self,
                inbox: $crate::channels::Inbox,
                id: Uuid,
                read: bool,
                now: Timestamp,
            ) -> StoreResult<Option<Notification>> {
                let row = sqlx::query(concat!(
                    "UPDATE notifications SET status = CASE WHEN $3 THEN 'read' ELSE 'sent' END, \
                     read_at = CASE WHEN $3 THEN COALESCE(read_at, $4) ELSE NULL END WHERE id = $5 AND ",
                    $crate::channels_sql::inbox_of!(),
                    " RETURNING *"
                ))
                .bind(inbox.user_id)
                .bind(inbox.patient_id)
                .bind(read)
                .bind(enc_ts(now))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::notification).transpose()
            }

            async fn mark_all_read(&mut self, inbox: $crate::channels::Inbox, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query(concat!(
                    "UPDATE notifications SET status = 'read', read_at = $3 WHERE ",
                    $crate::channels_sql::inbox_of!(),
                    " AND status = 'sent'"
                ))
                .bind(inbox.user_id)
                .bind(inbox.patient_id)
                .bind(enc_ts(now))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_channel_tx;
