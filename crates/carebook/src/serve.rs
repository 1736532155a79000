//! `carebook serve` and `carebook worker`.

use crate::settings::Settings;
use anyhow::{Context, Result};
use carebook_api::clock::{Clock, SystemClock};
use carebook_api::state::AppState;
use carebook_api::{ApiConfig, app};
use carebook_store::Store;
use jiff::SignedDuration;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub async fn open_store(settings: &Settings) -> Result<Store> {
    let url = settings.database_url();
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = Store::connect(&url, settings.db_max_connections)
        .await
        .with_context(|| format!("connecting to {}", crate::settings::redact_url(&url)))?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

pub fn api_config(settings: &Settings) -> Result<ApiConfig> {
    let mut c = ApiConfig::new(settings.jwt_secret()?);
    c.access_token_ttl = SignedDuration::from_mins(settings.access_token_minutes.clamp(1, 24 * 60));
    c.refresh_token_ttl =
        SignedDuration::from_hours(24 * settings.refresh_token_days.clamp(1, 365));
    c.auth_rate_per_minute = settings.auth_rate_per_minute;
    c.max_body_bytes = settings.max_body_bytes;
    c.trust_forwarded_for = settings.trust_forwarded_for;
    c.public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    Ok(c)
}

/// The email transport the settings ask for: SMTP, or the log when none is configured.
fn mailer(settings: &Settings) -> Result<Arc<dyn carebook_jobs::notify::Mailer>> {
    Ok(
        match settings.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => Arc::new(
                carebook_jobs::notify::SmtpMailer::new(url, &settings.mail_from)
                    .map_err(|e| anyhow::anyhow!("smtp_url / mail_from: {e}"))?,
            ),
            None => {
                tracing::info!("no smtp_url: emails go to the log");
                Arc::new(carebook_jobs::notify::LogMailer)
            }
        },
    )
}

fn required<'a>(v: &'a Option<String>, name: &str, provider: &str) -> Result<&'a str> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{provider} needs {name}"))
}

fn webhook(settings: &Settings, clock: &JobClock) -> Result<Arc<carebook_jobs::webhook::Webhook>> {
    let url = required(
        &settings.webhook_url,
        "webhook_url",
        "the webhook transport",
    )?;
    let secret = required(
        &settings.webhook_secret,
        "webhook_secret",
        "the webhook transport",
    )?;
    Ok(Arc::new(
        carebook_jobs::webhook::Webhook::new(url, secret, clock.clone())
            .map_err(|e| anyhow::anyhow!("webhook: {e}"))?,
    ))
}

/// The transport of every channel, as the settings ask; the log for those not configured.
pub fn transports(
    settings: &Settings,
    clock: &JobClock,
) -> Result<carebook_jobs::notify::Transports> {
    use crate::settings::{PushProvider, SmsProvider};
    let mut t = carebook_jobs::notify::Transports::log();
    t.mail = mailer(settings)?;
    t.sms = match settings.sms_provider {
        SmsProvider::Log => t.sms,
        SmsProvider::Webhook => webhook(settings, clock)?,
        SmsProvider::Twilio => Arc::new(
            carebook_jobs::sms::TwilioSms::new(
                &settings.twilio_base_url,
                required(&settings.twilio_account_sid, "twilio_account_sid", "twilio")?,
                required(&settings.twilio_auth_token, "twilio_auth_token", "twilio")?,
                required(&settings.sms_from, "sms_from", "twilio")?,
            )
            .map_err(|e| anyhow::anyhow!("twilio: {e}"))?,
        ),
    };
    t.push = match settings.push_provider {
        PushProvider::Log => t.push,
        PushProvider::Webhook => webhook(settings, clock)?,
        PushProvider::Fcm => {
            let project = settings.fcm_project_id.clone().unwrap_or_default();
            let fcm = match (
                &settings.fcm_service_account_file,
                &settings.fcm_access_token,
            ) {
                (Some(file), _) => {
                    let json = std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let account = carebook_jobs::push::ServiceAccount::parse(&json)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    carebook_jobs::push::FcmPush::with_service_account(
                        &settings.fcm_base_url,
                        &project,
                        account,
                        clock.clone(),
                    )
                }
                (None, Some(token)) if !token.is_empty() => {
                    carebook_jobs::push::FcmPush::with_token(
                        &settings.fcm_base_url,
                        &project,
                        token,
                        clock.clone(),
                    )
                }
                _ => anyhow::bail!("fcm needs fcm_service_account_file or fcm_access_token"),
            }
            .map_err(|e| anyhow::anyhow!("fcm: {e}"))?;
            Arc::new(fcm)
        }
    };
    Ok(t)
}

type JobClock = carebook_jobs::queue::Clock;

fn worker_task(
    store: Store,
    settings: &Settings,
    shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let clock: JobClock = Arc::new(|| SystemClock.now());
    let transports = transports(settings, &clock)?;
    let every = Duration::from_secs(settings.worker_interval_seconds.max(1));
    // Unique per process: it marks the jobs this worker holds.
    let name = format!(
        "worker-{}-{}",
        std::process::id(),
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );
    let mut runner = carebook_jobs::queue::Runner::new(store.clone(), name, clock.clone());
    runner.lease = SignedDuration::from_secs(settings.worker_lease_seconds.clamp(1, 86_400) as i64);
    let sender = carebook_jobs::notify::SendNotification::with_transports(
        store.clone(),
        transports,
        clock.clone(),
    );
    runner.register(carebook_store::jobs::SEND_NOTIFICATION, Arc::new(sender));
    let reminders = carebook_jobs::reminders::SendReminder::new(store.clone(), clock.clone());
    runner.register(carebook_jobs::reminders::SEND_REMINDER, Arc::new(reminders));
    let matcher = carebook_api::waitlist::MatchFreedSlots::new(store.clone(), clock.clone());
    runner.register(carebook_jobs::waitlist::MATCH_FREED_SLOT, Arc::new(matcher));
    let expiry = carebook_jobs::waitlist::ExpireOffer::new(store.clone(), clock.clone());
    runner.register(carebook_jobs::waitlist::EXPIRE_OFFER, Arc::new(expiry));
    Ok(tokio::spawn(carebook_jobs::run(
        store, runner, clock, every, shutdown,
    )))
}

/// A channel that turns true on Ctrl-C or SIGTERM; `serve` and `worker` stop when it does.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

/// Migrates, loads the demo data if asked, then serves (and runs the worker) until `shutdown`.
pub async fn serve(settings: Settings, demo: bool, shutdown: watch::Receiver<bool>) -> Result<()> {
    let store = open_store(&settings).await?;
    if demo {
        crate::seed::demo(&store, true, SystemClock.now()).await?;
    }
    let state = AppState::new(
        store.clone(),
        api_config(&settings)?,
        Arc::new(SystemClock),
        carebook_api::metrics::handle(),
    );
    let worker = settings
        .worker
        .then(|| worker_task(store.clone(), &settings, shutdown.clone()))
        .transpose()?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend().as_str(), worker = settings.worker, "Carebook is serving; API docs at http://{addr}/api/docs");
    let mut stop = shutdown.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.wait_for(|s| *s).await;
    })
    .await
    .context("server error")?;
    if let Some(w) = worker {
        let _ = w.await;
    }
    store.close().await;
    Ok(())
}

pub async fn worker(settings: Settings, shutdown: watch::Receiver<bool>) -> Result<()> {
    let store = open_store(&settings).await?;
    worker_task(store.clone(), &settings, shutdown)?.await?;
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::settings::{PushProvider, SmsProvider};
    use carebook_jobs::push::Push;
    use carebook_jobs::sms::Sms;

    fn clock() -> JobClock {
        Arc::new(|| "2026-12-01T09:00:00Z".parse().unwrap())
    }

    #[tokio::test]
    async fn the_settings_choose_the_providers() {
        let twilio = carebook_jobs::testing::twilio_server(&[]).await;
        let fcm = carebook_jobs::testing::fcm_server(&[]).await;
        let dir = tempfile::tempdir().unwrap();
        let account = dir.path().join("service-account.json");
        std::fs::write(&account, fcm.service_account_json("carebook-prod")).unwrap();
        let settings = Settings {
            sms_provider: SmsProvider::Twilio,
            twilio_base_url: twilio.base_url(),
            twilio_account_sid: Some("ACwired".into()),
            twilio_auth_token: Some("wired-token".into()),
            sms_from: Some("+15005550006".into()),
            push_provider: PushProvider::Fcm,
            fcm_base_url: fcm.base_url(),
            fcm_service_account_file: Some(account),
            ..Settings::default()
        };
        let t = transports(&settings, &clock()).unwrap();
        let sms = Sms {
            to: "+254712345678".into(),
            body: "hello".into(),
            key: "k".into(),
            id: uuid::Uuid::nil(),
            kind: "general".into(),
        };
        t.sms.send(&sms).await.unwrap();
        assert_eq!(
            twilio.received.lock().unwrap()[0].auth.as_deref(),
            Some("ACwired:wired-token")
        );
        let push = Push {
            token: "device".into(),
            title: "t".into(),
            body: "b".into(),
            data: Default::default(),
            key: "k".into(),
        };
        t.push.send(&push).await.unwrap();
        let got = fcm.received.lock().unwrap().clone();
        assert_eq!(got[0].path, "/v1/projects/carebook-prod/messages:send");
    }

    #[test]
    fn missing_provider_settings_are_named() {
        let twilio = Settings {
            sms_provider: SmsProvider::Twilio,
            ..Settings::default()
        };
        let e = transports(&twilio, &clock()).err().unwrap().to_string();
        assert!(e.contains("twilio_account_sid"), "{e}");
        let hook = Settings {
            push_provider: PushProvider::Webhook,
            webhook_url: Some("https://hooks.clinic.example/carebook".into()),
            webhook_secret: Some("short".into()),
            ..Settings::default()
        };
        let e = transports(&hook, &clock()).err().unwrap().to_string();
        assert!(e.contains("16"), "{e}");
        let fcm = Settings {
            push_provider: PushProvider::Fcm,
            fcm_project_id: Some("p".into()),
            ..Settings::default()
        };
        let e = transports(&fcm, &clock()).err().unwrap().to_string();
        assert!(e.contains("fcm_service_account_file"), "{e}");
        assert!(transports(&Settings::default(), &clock()).is_ok());
    }
}
