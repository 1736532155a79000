//! Delivering the outbox: the `send_notification` job takes one message and hands it to the
//! transport of its channel ([`Transports`]). Email goes over SMTP (lettre), text messages to
//! an SMS API ([`crate::sms`]), push messages to FCM ([`crate::push`]) or any of them to a
//! signed webhook ([`crate::webhook`]); in development each goes to the log. A push message
//! goes to every active device of the recipient; a device whose token the push service calls
//! dead is deactivated, and the message fails for good when no device is left.
//!
//! Exactly once, as far as it can be: the job first checks that the message is still
//! `pending` and records the result under that same condition, so a job run twice (its worker
//! died after sending, before recording) finds the message sent and does nothing. The window
//! left is between the server's acceptance and the record: a crash there sends the message
//! again on the retry; the job's idempotency key keeps it to one job per message.

use crate::push::{LogPush, Push, PushError, PushSender};
use crate::queue::{Failure, Handler};
use crate::sms::{LogSms, Sms, SmsSender};
use async_trait::async_trait;
use carebook_store::jobs::Job;
use carebook_store::models::Notification;
use carebook_store::{Store, StoreError};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// One email to send.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    /// The clinic's own sender; `None`: the transport's.
    pub from: Option<String>,
    pub subject: String,
    pub body: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), Failure>;
}

/// Sends over SMTP: `smtp://host:port` (plain, or `?tls=required` for STARTTLS),
/// `smtps://host:port` (TLS from the start), with `user:password@` when the server wants it.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("sender address `{from}`: {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), Failure> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|e| Failure::Permanent(format!("recipient address: {e}")))?;
        let from = match email.from.as_deref() {
            Some(f) => f
                .parse::<Mailbox>()
                .map_err(|e| Failure::Permanent(format!("clinic sender address: {e}")))?,
            None => self.from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .body(email.body.clone())
            .map_err(|e| Failure::Permanent(format!("message: {e}")))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            // 5xx answers will not change on a retry (no such mailbox, refused sender); 4xx
            // and broken connections may.
            if e.is_permanent() {
                Failure::Permanent(format!("SMTP: {e}"))
            } else {
                Failure::Transient(format!("SMTP: {e}"))
            }
        })
    }
}

/// The development transport: logs that a message would go out, never its body (which can
/// hold a one-time link).
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, email: &Email) -> Result<(), Failure> {
        let domain = email.to.rsplit_once('@').map_or("", |(_, d)| d);
        tracing::info!(to_domain = domain, subject = %email.subject, "email (log transport; configure smtp_url to send)");
        Ok(())
    }
}

/// The transport of each channel.
#[derive(Clone)]
pub struct Transports {
    pub mail: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub push: Arc<dyn PushSender>,
}

impl Transports {
    /// Every channel to the log: the development default.
    pub fn log() -> Self {
        Self {
            mail: Arc::new(LogMailer),
            sms: Arc::new(LogSms),
            push: Arc::new(LogPush),
        }
    }
}

/// The `send_notification` job.
pub struct SendNotification {
    store: Store,
    transports: Transports,
    clock: crate::queue::Clock,
}

fn store_failed(e: StoreError) -> Failure {
    Failure::Transient(format!("store: {e}"))
}

impl SendNotification {
    /// Email through `mailer`, the other channels to the log.
    pub fn new(store: Store, mailer: Arc<dyn Mailer>, clock: crate::queue::Clock) -> Self {
        let transports = Transports {
            mail: mailer,
            ..Transports::log()
        };
        Self::with_transports(store, transports, clock)
    }

    pub fn with_transports(
        store: Store,
        transports: Transports,
        clock: crate::queue::Clock,
    ) -> Self {
        Self {
            store,
            transports,
            clock,
        }
    }

    async fn record(&self, id: Uuid, status: &str, error: Option<&str>) -> Result<(), Failure> {
        let mut tx = self.store.write().await.map_err(store_failed)?;
        tx.record_delivery(id, status, error, (self.clock)())
            .await
            .map_err(store_failed)?;
        tx.commit().await.map_err(store_failed)
    }

    async fn email(&self, n: &Notification) -> Result<(), Failure> {
        let Some(to) = n.destination.as_deref().filter(|d| !d.is_empty()) else {
            return Err(Failure::Permanent("no email address".into()));
        };
        let from = match n.clinic_id {
            Some(c) => {
                let mut tx = self.store.read().await.map_err(store_failed)?;
                tx.notification_settings(c)
                    .await
                    .map_err(store_failed)?
                    .email_from
            }
            None => None,
        };
        self.transports
            .mail
            .send(&Email {
                to: to.to_owned(),
                from,
                subject: n.subject.clone().unwrap_or_default(),
                body: n.body.clone(),
            })
            .await
    }

    async fn sms(&self, n: &Notification) -> Result<(), Failure> {
        let Some(to) = n.destination.as_deref().filter(|d| !d.is_empty()) else {
            return Err(Failure::Permanent("no phone number".into()));
        };
        self.transports
            .sms
            .send(&Sms {
                to: to.to_owned(),
                body: n.body.clone(),
                key: n.idempotency_key.clone(),
                id: n.id,
                kind: n.kind.clone(),
            })
            .await
    }

    /// Sends to every active device of the recipient: delivered when one accepted it,
    /// retried when none did but one may yet, failed when every token is dead.
    async fn push(&self, n: &Notification) -> Result<(), Failure> {
        let Some(user) = n.recipient_user_id else {
            return Err(Failure::Permanent("the recipient has no account".into()));
        };
        let tokens = {
            let mut tx = self.store.read().await.map_err(store_failed)?;
            tx.push_tokens_of(user, false).await.map_err(store_failed)?
        };
        if tokens.is_empty() {
            return Err(Failure::Permanent(
                "the recipient has no active device".into(),
            ));
        }
        let mut data = BTreeMap::from([
            ("notification_id".to_owned(), n.id.to_string()),
            ("type".to_owned(), n.kind.clone()),
        ]);
        if let Some(a) = n.appointment_id {
            data.insert("appointment_id".into(), a.to_string());
        }
        if let Some(w) = n.waitlist_entry_id {
            data.insert("waitlist_entry_id".into(), w.to_string());
        }
        let (mut delivered, mut gone, mut retry) = (vec![], vec![], None);
        let mut last_permanent = None;
        for t in &tokens {
            let push = Push {
                token: t.token.clone(),
                title: n.subject.clone().unwrap_or_default(),
                body: n.body.clone(),
                data: data.clone(),
                key: format!("{}:{}", n.idempotency_key, t.id),
            };
            match self.transports.push.send(&push).await {
                Ok(()) => delivered.push(t.id),
                Err(PushError::TokenGone(e)) => gone.push((t.id, e)),
                Err(PushError::Failed(Failure::Transient(e))) => retry = Some(e),
                Err(PushError::Failed(Failure::Permanent(e))) => last_permanent = Some(e),
            }
        }
        let now = (self.clock)();
        let mut tx = self.store.write().await.map_err(store_failed)?;
        for id in &delivered {
            tx.touch_push_token(*id, now).await.map_err(store_failed)?;
        }
        for (id, e) in &gone {
            tracing::info!(token = %id, error = %e, "push token deactivated");
            tx.deactivate_push_token(*id, e, now)
                .await
                .map_err(store_failed)?;
        }
        tx.commit().await.map_err(store_failed)?;
        if !delivered.is_empty() {
            Ok(())
        } else if let Some(e) = retry {
            Err(Failure::Transient(e))
        } else if let Some(e) = last_permanent {
            Err(Failure::Permanent(e))
        } else {
            let why = gone.last().map(|(_, e)| e.as_str()).unwrap_or("");
            Err(Failure::Permanent(format!(
                "every device token is dead ({why})"
            )))
        }
    }
}

#[async_trait]
impl Handler for SendNotification {
    async fn run(&self, job: &Job) -> Result<(), Failure> {
        let id = job
            .payload
            .get("notification_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| Failure::Permanent("payload lacks notification_id".into()))?;
        let n = {
            let mut tx = self.store.read().await.map_err(store_failed)?;
            tx.get_notification(id).await.map_err(store_failed)?
        };
        let Some(n) = n else {
            return Err(Failure::Permanent(format!(
                "notification {id} does not exist"
            )));
        };
        if n.status != "pending" {
            return Ok(()); // delivered or given up already: this run is a repeat
        }
        let sent = match n.channel.as_str() {
            "email" => self.email(&n).await,
            "sms" => self.sms(&n).await,
            "push" => self.push(&n).await,
            // Stored is delivered: the recipient reads it in the app.
            "in_app" => Ok(()),
            other => Err(Failure::Permanent(format!(
                "no transport for the `{other}` channel"
            ))),
        };
        match sent {
            Ok(()) => self.record(id, "sent", None).await,
            Err(Failure::Transient(e)) => {
                self.record(id, "pending", Some(&e)).await?;
                Err(Failure::Transient(e))
            }
            Err(Failure::Permanent(e)) => {
                self.record(id, "failed", Some(&e)).await?;
                Err(Failure::Permanent(e))
            }
        }
    }
}
