//! Configuration, in layers: built-in defaults, then the TOML file, then `CAREBOOK_*`
//! environment variables (and `DATABASE_URL`), then command-line flags. Secrets never appear
//! in `Debug` output or logs.

use crate::cli::{GlobalArgs, LogFormat, ServeArgs};
use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `postgres://…` or `sqlite://…`; empty means the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub listen: String,
    /// Base URL used in emailed links.
    pub public_url: Option<String>,
    /// HMAC key for access tokens. When unset, one is generated into `data_dir/jwt-secret`.
    pub jwt_secret: Option<String>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub db_max_connections: u32,
    pub auth_rate_per_minute: u32,
    pub max_body_bytes: usize,
    pub trust_forwarded_for: bool,
    pub access_token_minutes: i64,
    pub refresh_token_days: i64,
    /// Run the background worker inside `serve`.
    pub worker: bool,
    pub worker_interval_seconds: u64,
    /// How long a worker holds a claimed job; a worker that dies frees its jobs after this.
    pub worker_lease_seconds: u64,
    /// Where email goes: `smtp://host:port`, `smtp://…?tls=required` (STARTTLS) or
    /// `smtps://host:port`, with `user:password@` if needed. Unset: the log transport.
    pub smtp_url: Option<String>,
    /// Sender of the emails, e.g. `Carebook <no-reply@clinic.example>`.
    pub mail_from: String,
    /// Where text messages go: the log, a Twilio-compatible API, or the webhook.
    pub sms_provider: SmsProvider,
    /// Base URL of the Twilio-compatible API.
    pub twilio_base_url: String,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    /// The sender number (E.164) or alphanumeric sender id of text messages.
    pub sms_from: Option<String>,
    /// Where push messages go: the log, FCM HTTP v1, or the webhook.
    pub push_provider: PushProvider,
    /// Base URL of the FCM HTTP v1 API.
    pub fcm_base_url: String,
    /// The Firebase project; default: the service account's `project_id`.
    pub fcm_project_id: Option<String>,
    /// A Google service account key file (JSON) to obtain access tokens with.
    pub fcm_service_account_file: Option<PathBuf>,
    /// A fixed access token instead of a service account (a relay that adds its own).
    pub fcm_access_token: Option<String>,
    /// The URL the webhook transport POSTs each message to.
    pub webhook_url: Option<String>,
    /// The key of the webhook's HMAC-SHA256 signature, 16+ characters.
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Log,
    Twilio,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushProvider {
    Log,
    Fcm,
    Webhook,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("data"),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            jwt_secret: None,
            log_format: LogFormat::Human,
            log_level: "info,sqlx=warn".into(),
            db_max_connections: 10,
            auth_rate_per_minute: 30,
            max_body_bytes: 256 * 1024,
            trust_forwarded_for: false,
            access_token_minutes: 15,
            refresh_token_days: 30,
            worker: true,
            worker_interval_seconds: 3600,
            worker_lease_seconds: 300,
            smtp_url: None,
            mail_from: "Carebook <no-reply@localhost>".into(),
            sms_provider: SmsProvider::Log,
            twilio_base_url: "https://api.twilio.com".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            sms_from: None,
            push_provider: PushProvider::Log,
            fcm_base_url: "https://fcm.googleapis.com".into(),
            fcm_project_id: None,
            fcm_service_account_file: None,
            fcm_access_token: None,
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("db_max_connections", &self.db_max_connections)
            .field("auth_rate_per_minute", &self.auth_rate_per_minute)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("worker", &self.worker)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("sms_provider", &self.sms_provider)
            .field("twilio_base_url", &self.twilio_base_url)
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "[redacted]"),
            )
            .field("sms_from", &self.sms_from)
            .field("push_provider", &self.push_provider)
            .field("fcm_base_url", &self.fcm_base_url)
            .field("fcm_project_id", &self.fcm_project_id)
            .field("fcm_service_account_file", &self.fcm_service_account_file)
            .field(
                "fcm_access_token",
                &self.fcm_access_token.as_ref().map(|_| "[redacted]"),
            )
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    let creds = &rest[..at];
    match creds.split_once(':') {
        Some((user, _)) => format!(
            "{}://{user}:[redacted]@{}",
            &url[..scheme_end],
            &rest[at + 1..]
        ),
        None => url.to_owned(),
    }
}

/// The settings `CAREBOOK_*` variables may set (others, such as test switches, are not ours).
const FIELDS: &[&str] = &[
    "database_url",
    "data_dir",
    "listen",
    "public_url",
    "jwt_secret",
    "log_format",
    "log_level",
    "db_max_connections",
    "auth_rate_per_minute",
    "max_body_bytes",
    "trust_forwarded_for",
    "access_token_minutes",
    "refresh_token_days",
    "worker",
    "worker_interval_seconds",
    "worker_lease_seconds",
    "smtp_url",
    "mail_from",
    "sms_provider",
    "twilio_base_url",
    "twilio_account_sid",
    "twilio_auth_token",
    "sms_from",
    "push_provider",
    "fcm_base_url",
    "fcm_project_id",
    "fcm_service_account_file",
    "fcm_access_token",
    "webhook_url",
    "webhook_secret",
];

/// Flags that override everything else; unset flags leave the lower layers alone.
#[derive(Serialize, Default)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<bool>,
}

impl Settings {
    pub fn load(global: &GlobalArgs, serve: Option<&ServeArgs>) -> Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match &global.config {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "configuration file {} does not exist",
                    path.display()
                );
                fig = fig.merge(Toml::file(path));
            }
            None if Path::new("carebook.toml").exists() => {
                fig = fig.merge(Toml::file("carebook.toml"))
            }
            None => {}
        }
        fig = fig
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(Env::prefixed("CAREBOOK_").only(FIELDS));
        let overrides = Overrides {
            database_url: global.database_url.clone(),
            data_dir: global.data_dir.clone(),
            log_format: global.log_format,
            log_level: global.log_level.clone(),
            listen: serve.and_then(|s| s.listen.clone()),
            worker: serve.and_then(|s| s.no_worker.then_some(false)),
        };
        fig = fig.merge(Serialized::globals(overrides));
        fig.extract().context("invalid configuration")
    }

    pub fn database_url(&self) -> String {
        match self.database_url.as_deref().filter(|s| !s.is_empty()) {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("carebook.db").display()),
        }
    }

    /// The configured signing key, or one kept in the data folder (created on first use).
    pub fn jwt_secret(&self) -> Result<Vec<u8>> {
        if let Some(s) = self.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
            anyhow::ensure!(s.len() >= 32, "jwt_secret must be at least 32 characters");
            return Ok(s.as_bytes().to_vec());
        }
        let path = self.data_dir.join("jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim();
            anyhow::ensure!(existing.len() >= 32, "{} is too short", path.display());
            return Ok(existing.as_bytes().to_vec());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        write_private(&path, &secret)?;
        tracing::warn!(path = %path.display(), "generated a token signing key; set CAREBOOK_JWT_SECRET when several servers share a database");
        Ok(secret.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its large error type
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_redacted() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("carebook.toml", "listen = \"127.0.0.1:7000\"\nlog_level = \"debug\"\njwt_secret = \"0123456789abcdef0123456789abcdef-file\"\n")?;
            jail.set_env("CAREBOOK_LOG_LEVEL", "warn");
            jail.set_env("DATABASE_URL", "postgres://carebook:hunter2@db/carebook");
            jail.set_env(
                "CAREBOOK_SMTP_URL",
                "smtp://mailer:mail-pass@smtp.example:587?tls=required",
            );
            jail.set_env("CAREBOOK_SMS_PROVIDER", "twilio");
            jail.set_env("CAREBOOK_TWILIO_AUTH_TOKEN", "twilio-pass");
            jail.set_env("CAREBOOK_FCM_ACCESS_TOKEN", "fcm-pass");
            jail.set_env("CAREBOOK_WEBHOOK_SECRET", "hook-pass-0123456789");
            let global = GlobalArgs {
                log_format: Some(LogFormat::Json),
                ..Default::default()
            };
            let serve = ServeArgs {
                listen: Some("127.0.0.1:9999".into()),
                no_worker: true,
                ..Default::default()
            };
            let s = Settings::load(&global, Some(&serve)).map_err(|e| e.to_string())?;
            assert_eq!(s.listen, "127.0.0.1:9999", "flag beats file");
            assert_eq!(s.log_level, "warn", "environment beats file");
            assert_eq!(s.log_format, LogFormat::Json);
            assert!(!s.worker);
            assert_eq!(s.database_url(), "postgres://carebook:hunter2@db/carebook");
            let shown = format!("{s:?}");
            assert_eq!(s.sms_provider, SmsProvider::Twilio);
            assert!(
                !shown.contains("hunter2")
                    && !shown.contains("abcdef-file")
                    && !shown.contains("mail-pass")
                    && !shown.contains("twilio-pass")
                    && !shown.contains("fcm-pass")
                    && !shown.contains("hook-pass"),
                "{shown}"
            );
            Ok(())
        });
    }

    #[test]
    fn defaults_to_a_sqlite_file_in_the_data_folder() {
        figment::Jail::expect_with(|_| {
            let s = Settings::load(&GlobalArgs::default(), None).map_err(|e| e.to_string())?;
            assert_eq!(s.database_url(), "sqlite://data/carebook.db");
            assert!(s.worker);
            Ok(())
        });
    }

    #[test]
    fn unknown_providers_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CAREBOOK_PUSH_PROVIDER", "pigeon");
            assert!(Settings::load(&GlobalArgs::default(), None).is_err());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("carebook.toml", "lisen = \"x\"\n")?;
            assert!(Settings::load(&GlobalArgs::default(), None).is_err());
            Ok(())
        });
    }
}
