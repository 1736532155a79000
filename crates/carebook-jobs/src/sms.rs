//! Text messages. [`TwilioSms`] speaks the wire format of Twilio's Messages API (a form POST
//! to `{base}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP Basic authentication), which
//! several other SMS gateways accept too; [`LogSms`] is the development default.
//!
//! A 4xx answer other than 429 is about the message (Twilio's code 21211: the number is not
//! valid; 21610: the recipient replied STOP) and fails it for good; 429, 5xx and broken
//! connections are retried. Refused credentials (401/403) are retried too: they are a
//! configuration mistake that an operator fixes, not a fault of the message.

use crate::queue::Failure;
use async_trait::async_trait;
use std::time::Duration;

/// One text message to send.
#[derive(Debug, Clone)]
pub struct Sms {
    /// E.164 phone number.
    pub to: String,
    pub body: String,
    /// The message's idempotency key (sent where the provider takes one).
    pub key: String,
    /// The notification the message carries.
    pub id: uuid::Uuid,
    /// Its type, e.g. `reminder_24h`.
    pub kind: String,
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), Failure>;
}

/// Logs that a text would go out: the last digits of the number, never the body.
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send(&self, sms: &Sms) -> Result<(), Failure> {
        let tail: String = sms
            .to
            .chars()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        tracing::info!(to_ending = %tail, kind = %sms.kind, "sms (log transport; configure sms_provider to send)");
        Ok(())
    }
}

/// A client for HTTP providers: bounded time, no redirects to other hosts.
pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Sends through an account of a Twilio-compatible API.
pub struct TwilioSms {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl TwilioSms {
    /// `base` is `https://api.twilio.com` in production.
    pub fn new(
        base: &str,
        account_sid: &str,
        auth_token: &str,
        from: &str,
    ) -> Result<Self, String> {
        if account_sid.is_empty() || auth_token.is_empty() || from.is_empty() {
            return Err("twilio needs an account SID, an auth token and a sender number".into());
        }
        Ok(Self {
            client: http_client()?,
            url: format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                base.trim_end_matches('/')
            ),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            from: from.to_owned(),
        })
    }
}

/// What an HTTP provider's answer means for the message.
pub(crate) fn classify(status: u16, detail: &str) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        401 | 403 | 408 | 429 | 500..=599 => Err(Failure::Transient(format!("{status}: {detail}"))),
        _ => Err(Failure::Permanent(format!("{status}: {detail}"))),
    }
}

pub(crate) fn transient(e: reqwest::Error) -> Failure {
    Failure::Transient(format!("HTTP: {e}"))
}

#[async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, sms: &Sms) -> Result<(), Failure> {
        let res = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[
                ("To", sms.to.as_str()),
                ("From", self.from.as_str()),
                ("Body", sms.body.as_str()),
            ])
            .send()
            .await
            .map_err(transient)?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            return Ok(());
        }
        // Twilio's errors: {"code": 21211, "message": "...", "status": 400}.
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let code = body.get("code").and_then(|c| c.as_i64()).unwrap_or(0);
        let message = body
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("no message");
        classify(status, &format!("SMS provider error {code}: {message}"))
    }
}
