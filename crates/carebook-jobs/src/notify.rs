//! Delivering the outbox: the `send_notification` job takes one message and hands it to the
//! transport of its channel. Email goes over SMTP (lettre) or, in development, to the log.
//!
//! Exactly once, as far as it can be: the job first checks that the message is still
//! `pending` and records the result under that same condition, so a job run twice (its worker
//! died after sending, before recording) finds the message sent and does nothing. The window
//! left is between the server's acceptance and the record: a crash there sends the message
//! again on the retry; the job's idempotency key keeps it to one job per message.

use crate::queue::{Failure, Handler};
use async_trait::async_trait;
use carebook_store::Store;
use carebook_store::jobs::Job;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use uuid::Uuid;

/// One email to send.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
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
        let message = Message::builder()
            .from(self.from.clone())
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

/// The `send_notification` job.
pub struct SendNotification {
    store: Store,
    mailer: Arc<dyn Mailer>,
    clock: crate::queue::Clock,
}

impl SendNotification {
    pub fn new(store: Store, mailer: Arc<dyn Mailer>, clock: crate::queue::Clock) -> Self {
        Self {
            store,
            mailer,
            clock,
        }
    }

    async fn record(&self, id: Uuid, status: &str, error: Option<&str>) -> Result<(), Failure> {
        let store_failed =
            |e: carebook_store::StoreError| Failure::Transient(format!("store: {e}"));
        let mut tx = self.store.write().await.map_err(store_failed)?;
        tx.record_delivery(id, status, error, (self.clock)())
            .await
            .map_err(store_failed)?;
        tx.commit().await.map_err(store_failed)
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
            let mut tx = self
                .store
                .read()
                .await
                .map_err(|e| Failure::Transient(format!("store: {e}")))?;
            tx.get_notification(id)
                .await
                .map_err(|e| Failure::Transient(format!("store: {e}")))?
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
            "email" => match n.destination.as_deref().filter(|d| !d.is_empty()) {
                Some(to) => {
                    self.mailer
                        .send(&Email {
                            to: to.to_owned(),
                            subject: n.subject.clone().unwrap_or_default(),
                            body: n.body.clone(),
                        })
                        .await
                }
                None => Err(Failure::Permanent("no email address".into())),
            },
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
