//! Push messages. [`FcmPush`] speaks Firebase Cloud Messaging's HTTP v1 API: a POST of
//! `{"message": {"token", "notification": {"title", "body"}, "data"}}` to
//! `{base}/v1/projects/{project}/messages:send` with a bearer access token. The token is
//! either given (`fcm_access_token`, for a proxy that adds its own) or obtained from a
//! service account: an RS256-signed JWT exchanged at the account's `token_uri` (the OAuth 2
//! JWT-bearer grant), cached until shortly before it expires. [`LogPush`] is the development
//! default.
//!
//! FCM answers `UNREGISTERED` (404) for an app that was uninstalled, `INVALID_ARGUMENT` (400)
//! for a token that is not one, and `SENDER_ID_MISMATCH` (403) for another project's token:
//! the token is dead and is deactivated. 429, 5xx (`UNAVAILABLE`, `INTERNAL`) and broken
//! connections are retried; a 401 drops the cached access token and is retried.

use crate::queue::{Clock, Failure};
use crate::sms::{http_client, transient};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use tokio::sync::Mutex;

/// One message to one device.
#[derive(Debug, Clone)]
pub struct Push {
    pub token: String,
    pub title: String,
    pub body: String,
    /// Values the app reads (ids to open the right screen); FCM takes strings only.
    pub data: BTreeMap<String, String>,
    /// The message's idempotency key with the device's id.
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The device token is dead: deactivate it, and do not retry.
    TokenGone(String),
    Failed(Failure),
}

#[async_trait]
pub trait PushSender: Send + Sync {
    async fn send(&self, push: &Push) -> Result<(), PushError>;
}

/// Logs that a push would go out (the type and title only).
pub struct LogPush;

#[async_trait]
impl PushSender for LogPush {
    async fn send(&self, push: &Push) -> Result<(), PushError> {
        tracing::info!(title = %push.title, kind = push.data.get("type").map(String::as_str).unwrap_or(""), "push (log transport; configure push_provider to send)");
        Ok(())
    }
}

/// A Google service account key file (the fields Carebook uses).
#[derive(serde::Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    pub token_uri: String,
    #[serde(default)]
    pub project_id: Option<String>,
}

impl ServiceAccount {
    pub fn parse(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("service account file: {e}"))
    }
}

enum Auth {
    Static(String),
    Account {
        email: String,
        key: jsonwebtoken::EncodingKey,
        token_uri: String,
        cached: Mutex<Option<(String, Timestamp)>>,
    },
}

pub struct FcmPush {
    client: reqwest::Client,
    url: String,
    auth: Auth,
    clock: Clock,
}

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

impl FcmPush {
    /// `base` is `https://fcm.googleapis.com` in production.
    pub fn with_token(
        base: &str,
        project: &str,
        token: &str,
        clock: Clock,
    ) -> Result<Self, String> {
        Self::new(base, project, Auth::Static(token.to_owned()), clock)
    }

    /// Takes the project from the account file when `project` is empty.
    pub fn with_service_account(
        base: &str,
        project: &str,
        account: ServiceAccount,
        clock: Clock,
    ) -> Result<Self, String> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| format!("service account private_key: {e}"))?;
        let project = match (project, account.project_id.as_deref()) {
            ("", Some(p)) => p.to_owned(),
            (p, _) => p.to_owned(),
        };
        let auth = Auth::Account {
            email: account.client_email,
            key,
            token_uri: account.token_uri,
            cached: Mutex::new(None),
        };
        Self::new(base, &project, auth, clock)
    }

    fn new(base: &str, project: &str, auth: Auth, clock: Clock) -> Result<Self, String> {
        if project.is_empty() {
            return Err("FCM needs a project id".into());
        }
        Ok(Self {
            client: http_client()?,
            url: format!(
                "{}/v1/projects/{project}/messages:send",
                base.trim_end_matches('/')
            ),
            auth,
            clock,
        })
    }

    async fn access_token(&self) -> Result<String, Failure> {
        let (email, key, token_uri, cached) = match &self.auth {
            Auth::Static(t) => return Ok(t.clone()),
            Auth::Account {
                email,
                key,
                token_uri,
                cached,
            } => (email, key, token_uri, cached),
        };
        let now = (self.clock)();
        let mut cached = cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && *until > now
        {
            return Ok(token.clone());
        }
        let iat = now.as_second();
        let claims = serde_json::json!({
            "iss": email, "scope": SCOPE, "aud": token_uri, "iat": iat, "exp": iat + 3600,
        });
        let assertion = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            key,
        )
        .map_err(|e| Failure::Permanent(format!("signing the token request: {e}")))?;
        let res = self
            .client
            .post(token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(transient)?;
        if !res.status().is_success() {
            // A refused grant is a configuration problem: retried, so fixing it delivers.
            return Err(Failure::Transient(format!(
                "token endpoint answered {}",
                res.status()
            )));
        }
        let body: serde_json::Value = res.json().await.map_err(transient)?;
        let token = body
            .get("access_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| Failure::Transient("token endpoint sent no access_token".into()))?
            .to_owned();
        let lifetime = body
            .get("expires_in")
            .and_then(|e| e.as_i64())
            .unwrap_or(3600);
        // Renewed a minute early, so a token never expires on the way.
        let until = now + SignedDuration::from_secs((lifetime - 60).max(0));
        *cached = Some((token.clone(), until));
        Ok(token)
    }

    async fn forget_token(&self) {
        if let Auth::Account { cached, .. } = &self.auth {
            *cached.lock().await = None;
        }
    }
}

/// Reads FCM's error: `{"error": {"code", "status", "message", "details": [{"errorCode"}]}}`.
fn fcm_error(body: &serde_json::Value) -> (String, String) {
    let e = &body["error"];
    let code = e["details"]
        .as_array()
        .and_then(|d| d.iter().find_map(|x| x["errorCode"].as_str()))
        .or_else(|| e["status"].as_str())
        .unwrap_or("")
        .to_owned();
    let message = e["message"].as_str().unwrap_or("").to_owned();
    (code, message)
}

#[async_trait]
impl PushSender for FcmPush {
    async fn send(&self, push: &Push) -> Result<(), PushError> {
        let token = self.access_token().await.map_err(PushError::Failed)?;
        let message = serde_json::json!({
            "message": {
                "token": push.token,
                "notification": {"title": push.title, "body": push.body},
                "data": push.data,
            }
        });
        let res = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .json(&message)
            .send()
            .await
            .map_err(|e| PushError::Failed(transient(e)))?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            return Ok(());
        }
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let (code, message) = fcm_error(&body);
        let detail = format!("FCM {status} {code}: {message}");
        match (status, code.as_str()) {
            (_, "UNREGISTERED" | "INVALID_ARGUMENT" | "SENDER_ID_MISMATCH") | (404, _) => {
                Err(PushError::TokenGone(detail))
            }
            (401, _) => {
                self.forget_token().await;
                Err(PushError::Failed(Failure::Transient(detail)))
            }
            _ => Err(PushError::Failed(
                crate::sms::classify(status, &detail)
                    .err()
                    .unwrap_or(Failure::Transient(detail)),
            )),
        }
    }
}
