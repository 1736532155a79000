//! `carebook admin …` and `carebook audit verify`.

use crate::cli::CreateUserArgs;
use anyhow::{Context, Result, bail};
use carebook_api::clock::{Clock, SystemClock};
use carebook_domain::audit::AuditRecord;
use carebook_domain::{Email, Password, PersonName, Role};
use carebook_store::models::User;
use carebook_store::{Store, verify_audit_chain};
use std::io::BufRead;
use uuid::Uuid;

pub async fn create_user(store: &Store, args: CreateUserArgs) -> Result<User> {
    let email = Email::parse("email", &args.email)?;
    let name = PersonName::parse("name", &args.name)?;
    let role: Role = args
        .role
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown role `{}`", args.role))?;
    if !role.is_staff() {
        bail!("create patients through registration; this command creates staff accounts");
    }
    let raw = match &args.password_env {
        Some(var) => {
            std::env::var(var).with_context(|| format!("reading the password from ${var}"))?
        }
        None => {
            eprintln!("Password for {} (then Enter):", email);
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let password = Password::parse("password", &raw)?;
    let hash = carebook_api::auth::password::hash(password.expose().to_owned())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let now = SystemClock.now();
    let mut tx = store.write().await?;
    let clinic_id = match &args.clinic {
        Some(slug) => Some(
            tx.get_clinic_by_slug(slug)
                .await?
                .with_context(|| format!("no clinic with slug `{slug}`"))?
                .id,
        ),
        None => None,
    };
    let mut user = User::new(
        Uuid::now_v7(),
        email.as_str().into(),
        name.as_str().into(),
        role,
        clinic_id,
        now,
    );
    user.password_hash = Some(hash);
    user.email_verified_at = Some(now);
    match tx.insert_user(&user).await {
        Err(carebook_store::StoreError::Conflict(_)) => {
            bail!("an account with the email {email} already exists")
        }
        other => other?,
    }
    tx.append_audit(&AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: now,
        actor_user_id: None,
        actor_role: Some("cli".into()),
        action: "user.create".into(),
        entity_type: "user".into(),
        entity_id: Some(user.id.to_string()),
        clinic_id,
        old_values: None,
        new_values: Some(serde_json::json!({ "email": user.email, "role": role.as_str() })),
        ip: None,
        user_agent: Some("carebook admin create-user".into()),
        request_id: None,
    })
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Prints the verdict; returns whether the chain is intact.
pub async fn verify(store: &Store) -> Result<bool> {
    let report = verify_audit_chain(store).await?;
    match report.first_break {
        None => {
            println!("audit chain intact: {} rows verified", report.verified);
            Ok(true)
        }
        Some(b) => {
            let why = match &b {
                carebook_domain::audit::ChainBreak::Content { .. } => {
                    "its content does not match its hash (edited)".to_owned()
                }
                carebook_domain::audit::ChainBreak::Link { .. } => {
                    "it does not link to the row before it (rows removed, inserted or rewritten)"
                        .to_owned()
                }
                carebook_domain::audit::ChainBreak::Gap { after, found } => {
                    format!("sequence jumps from {after} to {found} (rows removed)")
                }
            };
            println!(
                "audit chain BROKEN at row {}: {why}; {} rows before it verified",
                b.seq(),
                report.verified
            );
            Ok(false)
        }
    }
}

/// `carebook jobs …`: what an operator needs of the queue without the API. Returns false when
/// a retry found no dead job of that id.
pub async fn jobs(
    store: &Store,
    cmd: crate::cli::JobsCommand,
    now: jiff::Timestamp,
) -> Result<bool> {
    use crate::cli::JobsCommand;
    match cmd {
        JobsCommand::Stats => {
            let s = store.read().await?.queue_stats(now).await?;
            let lag = s
                .oldest_due
                .map(|t| format!("{}s", (now - t).get_seconds().max(0)))
                .unwrap_or_else(|| "-".into());
            println!(
                "queued {}  due {}  running {}  dead {}  oldest due {lag}",
                s.queued, s.due, s.running, s.dead
            );
            Ok(true)
        }
        JobsCommand::Dead { limit } => {
            for j in store.read().await?.dead_jobs(limit.clamp(1, 1000)).await? {
                println!(
                    "{}  {}  attempts {}/{}  {}  {}",
                    j.id,
                    j.kind,
                    j.attempts,
                    j.max_attempts,
                    j.updated_at,
                    j.last_error.as_deref().unwrap_or("-")
                );
            }
            Ok(true)
        }
        JobsCommand::Retry { id } => {
            let mut tx = store.write().await?;
            if !tx.revive_job(id, now).await? {
                println!("no dead job {id}");
                return Ok(false);
            }
            tx.append_audit(&carebook_jobs::system_record(
                now,
                "job.retry",
                "job",
                Some(id.to_string()),
                None,
                serde_json::json!({"status": "queued", "via": "cli"}),
            ))
            .await?;
            tx.commit().await?;
            println!("job {id} queued again");
            Ok(true)
        }
    }
}
