//! The generic webhook: each message is a JSON POST to one configured URL, for a gateway of
//! the operator's own (an SMS aggregator, a push relay, a chat bridge).
//!
//! The body is `{"id", "idempotency_key", "channel", "type", "to", "subject", "body",
//! "data"}` (`to` is the phone number for `sms`, the device token for `push`). Two headers
//! let the receiver trust and de-duplicate it:
//!
//! - `Carebook-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is
//!   HMAC-SHA256(secret, `"<t>.<raw body>"`). The receiver recomputes it over the raw bytes,
//!   compares in constant time, and refuses a `t` more than five minutes away from its clock
//!   (a replay). [`verify`] does exactly that.
//! - `Idempotency-Key`: the same for every attempt of one message (and device), so a receiver
//!   that remembers keys drops the resend that follows a crash between its answer and
//!   Carebook's record of it.
//!
//! A 2xx answer is delivery; 410 on a push message means the device token is dead; 429 and
//! 5xx are retried; any other 4xx fails the message for good.

use crate::push::{Push, PushError, PushSender};
use crate::queue::{Clock, Failure};
use crate::sms::{Sms, SmsSender, classify, http_client, transient};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "carebook-signature";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How far a signature's time may be from the receiver's clock.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The signature header's value for `body` sent at unix time `t`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Vec<u8> {
    // Hmac accepts keys of any length, so this cannot fail.
    let mut m = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return vec![],
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Whether `header` signs `body` with `secret` within the tolerance of `now` (unix seconds).
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return false;
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.verify_slice(&v1).is_ok()
}

pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
    clock: Clock,
}

impl Webhook {
    pub fn new(url: &str, secret: &str, clock: Clock) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("webhook_url must be an http(s) URL".into());
        }
        if secret.len() < 16 {
            return Err("webhook_secret must be at least 16 characters".into());
        }
        Ok(Self {
            client: http_client()?,
            url: url.to_owned(),
            secret: secret.as_bytes().to_vec(),
            clock,
        })
    }

    async fn post(&self, key: &str, payload: &serde_json::Value) -> Result<u16, Failure> {
        let body = serde_json::to_vec(payload)
            .map_err(|e| Failure::Permanent(format!("webhook body: {e}")))?;
        let t = (self.clock)().as_second();
        let res = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(&self.secret, t, &body))
            .header(IDEMPOTENCY_HEADER, key)
            .body(body)
            .send()
            .await
            .map_err(transient)?;
        Ok(res.status().as_u16())
    }
}

#[async_trait]
impl SmsSender for Webhook {
    async fn send(&self, sms: &Sms) -> Result<(), Failure> {
        let payload = serde_json::json!({
            "id": sms.id, "idempotency_key": sms.key, "channel": "sms", "type": sms.kind,
            "to": sms.to, "subject": null, "body": sms.body, "data": {},
        });
        let status = self.post(&sms.key, &payload).await?;
        classify(status, "webhook answer")
    }
}

#[async_trait]
impl PushSender for Webhook {
    async fn send(&self, push: &Push) -> Result<(), PushError> {
        let payload = serde_json::json!({
            "id": push.data.get("notification_id"), "idempotency_key": push.key, "channel": "push",
            "type": push.data.get("type"), "to": push.token, "subject": push.title,
            "body": push.body, "data": push.data,
        });
        let status = self
            .post(&push.key, &payload)
            .await
            .map_err(PushError::Failed)?;
        if status == 410 {
            return Err(PushError::TokenGone("webhook answered 410 Gone".into()));
        }
        classify(status, "webhook answer").map_err(PushError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_changes_and_replays() {
        let h = sign(b"a-secret-of-16+chars", 1_800_000_000, b"{\"a\":1}");
        assert!(verify(
            b"a-secret-of-16+chars",
            &h,
            b"{\"a\":1}",
            1_800_000_100
        ));
        assert!(!verify(
            b"a-secret-of-16+chars",
            &h,
            b"{\"a\":2}",
            1_800_000_100
        ));
        assert!(!verify(
            b"another-secret-16+",
            &h,
            b"{\"a\":1}",
            1_800_000_100
        ));
        assert!(!verify(
            b"a-secret-of-16+chars",
            &h,
            b"{\"a\":1}",
            1_800_001_000
        ));
        assert!(!verify(b"a-secret-of-16+chars", "v1=00", b"", 0));
    }
}
