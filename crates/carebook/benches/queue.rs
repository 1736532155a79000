//! The job queue: planning reminders, delivering email with worker processes, claim throughput.
//!
//! Scenarios (each prints Markdown table rows):
//! - `plan` (both backends): 100,000 booked appointments (500 providers × 20 days × 10 a day);
//!   a backfill pages through them 1,000 at a time with `list_appointments`, one write
//!   transaction per page, and plans each one's day-before and same-day reminders with
//!   `carebook_jobs::reminders::plan`, the code booking uses: 200,000 `send_reminder` jobs.
//! - `deliver` (PostgreSQL): 10,000 pending emails, each with its `send_notification` job,
//!   committed at once while 1 (then 2) `carebook worker` processes of this build wait; the
//!   clock runs from the commit to the sink's 10,000th message. The sink is
//!   `carebook_jobs::testing::smtp_sink`, a real SMTP server on 127.0.0.1 in this process; it
//!   must hold exactly 10,000 messages to 10,000 distinct recipients, and the database 10,000
//!   `sent` rows.
//! - `claim` (PostgreSQL): `queue::Runner` with a no-op handler draining 40,000 due jobs with
//!   1 and 2 runners, then pgbench with the same claim statement (`FOR UPDATE SKIP LOCKED`,
//!   16 at a time) and one statement marking the batch done, `-c`/`-j` equal to the runners,
//!   on the same database in the same run; the ratio compares the two.
//!
//! Run: `scripts/bench-queue.sh` (everything), or
//! `cargo bench -p carebook --bench queue -- [--postgres ADMIN_URL] [--only plan|deliver|claim]
//! [--appointments N] [--emails N] [--jobs N] [--keep]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use carebook_api::clock::{Clock, SystemClock};
use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_domain::schedule::lifecycle::AppointmentStatus;
use carebook_jobs::queue::{Failure, Handler, Runner};
use carebook_jobs::testing::{Sink, smtp_sink};
use carebook_store::Store;
use carebook_store::jobs::Job;
use carebook_store::models::*;
use carebook_store::scheduling::*;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const TZ: &str = "Africa/Nairobi";
const POOL: u32 = 8;
const PROVIDERS: usize = 500;
const PER_DAY: usize = 10;
/// Appointments listed and planned per backfill transaction.
const PAGE: u32 = 1000;
/// Jobs a pgbench claim takes at once: the runner's default batch.
const BATCH: u32 = 16;

struct Args {
    postgres: Option<String>,
    only: Option<String>,
    appointments: usize,
    emails: usize,
    jobs: usize,
    /// Keep the PostgreSQL databases afterwards, to look at them.
    keep: bool,
}

fn args() -> Args {
    let mut a = Args {
        postgres: None,
        only: None,
        appointments: 100_000,
        emails: 10_000,
        jobs: 40_000,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, d: usize| v.and_then(|s| s.parse().ok()).unwrap_or(d);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--postgres" => a.postgres = it.next(),
            "--only" => a.only = it.next(),
            "--keep" => a.keep = true,
            "--appointments" => a.appointments = num(it.next(), a.appointments),
            "--emails" => a.emails = num(it.next(), a.emails),
            "--jobs" => a.jobs = num(it.next(), a.jobs),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// Fresh databases on one PostgreSQL server, dropped at the end unless kept.
struct Databases {
    admin: String,
    made: Vec<String>,
}

impl Databases {
    async fn create(&mut self, what: &str) -> String {
        let name = format!("carebook_bench_{what}_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&self.admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        self.made.push(name.clone());
        let (head, _) = self.admin.rsplit_once('/').unwrap();
        format!("{head}/{name}")
    }

    async fn finish(self, keep: bool) {
        if keep {
            eprintln!("kept databases {}", self.made.join(", "));
            return;
        }
        let pool = sqlx::PgPool::connect(&self.admin).await.unwrap();
        for name in &self.made {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
}

async fn open(url: &str) -> Store {
    let store = Store::connect(url, POOL).await.unwrap();
    store.migrate().await.unwrap();
    store
}

// ---------------------------------------------------------------------------------------------
// plan

/// One clinic, `PROVIDERS` providers, 5,000 patients and `n` booked appointments from the day
/// after tomorrow on, on the hour 08:00–17:00, never two of a provider or a patient at once.
async fn appointments(store: &Store, n: usize) {
    let now = now();
    let tz = TimeZone::get(TZ).unwrap();
    let first_day = now
        .to_zoned(tz.clone())
        .date()
        .tomorrow()
        .unwrap()
        .tomorrow()
        .unwrap();
    let mut tx = store.write().await.unwrap();
    let c = Clinic::new("Bench reminders", "reminders", TZ, "KES", now);
    tx.insert_clinic(&c).await.unwrap();
    tx.save_booking_settings(&BookingSettings::defaults(c.id), now)
        .await
        .unwrap();
    let mut providers = vec![];
    for i in 0..PROVIDERS {
        let u = User::new(
            Uuid::now_v7(),
            format!("dr{i}@reminders.bench"),
            format!("Dr {i}"),
            Role::Provider,
            Some(c.id),
            now,
        );
        tx.insert_user(&u).await.unwrap();
        let mut p = Provider::new(Uuid::now_v7(), u.id, now);
        p.max_daily_appointments = PER_DAY as u32;
        tx.insert_provider(&p).await.unwrap();
        providers.push(p.id);
    }
    let mut patients = vec![];
    for i in 0..PROVIDERS * PER_DAY {
        let p = Patient {
            id: Uuid::now_v7(),
            user_id: None,
            name: format!("Patient {i}"),
            email: Some(format!("patient{i}@reminders.bench")),
            phone: None,
            date_of_birth: None,
            gender: None,
            preferred_language: "en".into(),
            notification_opt_out: false,
            channel_opt_outs: Default::default(),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        tx.insert_patient(&p).await.unwrap();
        patients.push(p.id);
    }
    for k in 0..n {
        let (p, slot, day) = (
            k % PROVIDERS,
            (k / PROVIDERS) % PER_DAY,
            k / (PROVIDERS * PER_DAY),
        );
        let date = first_day
            .checked_add(jiff::Span::new().days(day as i64))
            .unwrap();
        let start = date
            .at(8 + slot as i8, 0, 0, 0)
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp();
        let a = Appointment::new(
            c.id,
            patients[p * PER_DAY + slot],
            providers[p],
            start,
            start + SignedDuration::from_mins(30),
            date,
            now,
        );
        let new = NewAppointment {
            appointment: a,
            booked_on: now.to_zoned(tz.clone()).date(),
            daily_cap: Some(PER_DAY as u32),
        };
        assert!(tx.book_appointment(&new).await.unwrap().is_booked());
        if (k + 1) % 5000 == 0 || k + 1 == n {
            tx.append_audit(&AuditRecord::new("bench.setup", "bench", now))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            tx = store.write().await.unwrap();
        }
    }
    drop(tx);
}

struct Planned {
    appointments: usize,
    jobs: usize,
    secs: f64,
    listing_secs: f64,
}

/// The backfill: every booked appointment from now on, a page per transaction.
async fn backfill(store: &Store) -> Planned {
    let now = now();
    let filter = AppointmentFilter {
        from: Some(now),
        statuses: vec![AppointmentStatus::Scheduled, AppointmentStatus::Confirmed],
        ..Default::default()
    };
    let mut settings: HashMap<Uuid, BookingSettings> = HashMap::new();
    let mut after = None;
    let mut r = Planned {
        appointments: 0,
        jobs: 0,
        secs: 0.0,
        listing_secs: 0.0,
    };
    let started = Instant::now();
    loop {
        let mut tx = store.write().await.unwrap();
        let listed = Instant::now();
        let page = tx
            .list_appointments(&filter, PageRequest { after, limit: PAGE })
            .await
            .unwrap();
        r.listing_secs += listed.elapsed().as_secs_f64();
        let Some(last) = page.last() else { break };
        after = Some((last.appointment.start_at, last.appointment.id));
        for l in &page {
            let a = &l.appointment;
            if let Entry::Vacant(e) = settings.entry(a.clinic_id) {
                e.insert(tx.booking_settings(a.clinic_id).await.unwrap());
            }
            r.jobs += carebook_jobs::reminders::plan(tx.as_mut(), a, &settings[&a.clinic_id], now)
                .await
                .unwrap();
        }
        r.appointments += page.len();
        tx.commit().await.unwrap();
    }
    r.secs = started.elapsed().as_secs_f64();
    r
}

async fn plan(backend: &str, store: &Store, n: usize) {
    let t0 = Instant::now();
    appointments(store, n).await;
    eprintln!(
        "{backend}: booked {n} appointments in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let r = backfill(store).await;
    let queued = store
        .read()
        .await
        .unwrap()
        .queue_stats(now())
        .await
        .unwrap()
        .queued;
    assert_eq!(r.appointments, n, "every appointment listed");
    assert_eq!(
        (r.jobs, queued),
        (2 * n, 2 * n as u64),
        "two reminders each"
    );
    println!(
        "| {backend} | {} | {} | {:.1} s | {:.0} | {:.1} s | {:.0} |",
        r.appointments,
        r.jobs,
        r.secs,
        r.appointments as f64 / r.secs,
        r.listing_secs,
        r.appointments as f64 / (r.secs - r.listing_secs),
    );
}

// ---------------------------------------------------------------------------------------------
// deliver

/// `n` password-reset emails to distinct addresses; inserting each enqueues its delivery.
async fn outbox(store: &Store, n: usize) {
    let now = now();
    let mut tx = store.write().await.unwrap();
    for i in 0..n {
        let to = format!("person{i}@clinic.example");
        let user = User::new(
            Uuid::now_v7(),
            to.clone(),
            format!("Person {i}"),
            Role::Receptionist,
            None,
            now,
        );
        tx.insert_user(&user).await.unwrap();
        let msg = Notification::pending_email(
            Uuid::now_v7(),
            user.id,
            &to,
            "password_reset",
            "Reset your Carebook password".into(),
            format!("Message {i}"),
            format!("reset:{i}"),
            now,
        );
        tx.insert_notification(&msg).await.unwrap();
    }
    tx.append_audit(&AuditRecord::new("bench.setup", "bench", now))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn worker(url: &str, smtp: &Sink, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_carebook"))
        .current_dir(dir)
        .args(["worker", "--database-url", url])
        .env("CAREBOOK_SMTP_URL", format!("smtp://{}", smtp.addr))
        .env("CAREBOOK_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn stop(mut c: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let _ = c.wait();
}

fn count(smtp: &Sink) -> usize {
    smtp.received.lock().unwrap().len()
}

async fn deliver(dbs: &mut Databases, workers: usize, n: usize) {
    let url = dbs.create(&format!("deliver{workers}")).await;
    let store = open(&url).await;
    let smtp = smtp_sink(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let procs: Vec<Child> = (0..workers)
        .map(|_| worker(&url, &smtp, dir.path()))
        .collect();
    // Let them connect and reach their idle poll.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let filled = Instant::now();
    outbox(&store, n).await;
    let started = Instant::now();
    eprintln!(
        "outbox of {n} written in {:.1} s",
        (started - filled).as_secs_f64()
    );
    let deadline = started + Duration::from_secs(600);
    while count(&smtp) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    // Time for a duplicate to arrive, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    procs.into_iter().for_each(stop);
    let (received, distinct) = {
        let got = smtp.received.lock().unwrap();
        let to: HashSet<&String> = got.iter().flat_map(|m| m.to.iter()).collect();
        (got.len(), to.len())
    };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE status = 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    store.close().await;
    println!(
        "| {workers} | {n} | {received} | {distinct} | {sent} | {secs:.1} s | {:.0} |",
        n as f64 / secs
    );
    assert_eq!(
        (received, distinct, sent),
        (n, n, n as i64),
        "every message exactly once"
    );
}

// ---------------------------------------------------------------------------------------------
// claim

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _: &Job) -> Result<(), Failure> {
        Ok(())
    }
}

/// An empty queue refilled with `n` due no-op jobs, vacuumed and analysed.
async fn refill(pool: &sqlx::PgPool, n: usize) {
    sqlx::query("TRUNCATE jobs").execute(pool).await.unwrap();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, idempotency_key, status, run_at, attempts, \
         max_attempts, created_at, updated_at) SELECT gen_random_uuid(), 'noop', '{}', \
         'noop:' || g, 'queued', now() - interval '1 minute' + g * interval '1 microsecond', \
         0, 8, now(), now() FROM generate_series(1, $1) g",
    )
    .bind(n as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE jobs")
        .execute(pool)
        .await
        .unwrap();
}

async fn succeeded(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status = 'succeeded'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// `runners` runners draining the queue at once; jobs per second.
async fn runners(store: &Store, pool: &sqlx::PgPool, runners: usize, n: usize) -> f64 {
    refill(pool, n).await;
    let clock: carebook_jobs::queue::Clock = Arc::new(now);
    let started = Instant::now();
    let tasks: Vec<_> = (0..runners)
        .map(|i| {
            let mut r = Runner::new(store.clone(), format!("bench-{i}"), clock.clone());
            r.register("noop", Arc::new(Noop));
            tokio::spawn(async move { r.drain().await.unwrap() })
        })
        .collect();
    let mut claimed = 0;
    for t in tasks {
        claimed += t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!((claimed, succeeded(pool).await), (n, n as i64));
    n as f64 / secs
}

const PGBENCH_CLAIM: &str = "\
WITH expired AS (SELECT id FROM jobs WHERE status = 'running' AND locked_until < now() \
ORDER BY locked_until LIMIT 16 FOR UPDATE SKIP LOCKED), due AS (SELECT id FROM jobs \
WHERE status = 'queued' AND run_at <= now() ORDER BY run_at LIMIT 16 FOR UPDATE SKIP LOCKED) \
UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = 'raw-' || :client_id, \
locked_until = now() + interval '5 minutes', updated_at = now() \
WHERE id IN (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT 16) RETURNING *;
UPDATE jobs SET status = 'succeeded', locked_by = NULL, locked_until = NULL, finished_at = now(), \
updated_at = now() WHERE status = 'running' AND locked_by = 'raw-' || :client_id;
";

/// pgbench with `clients` clients claiming 16 at a time until the queue is empty; jobs per
/// second (its transactions per second, excluding connection time, × 16).
async fn raw(url: &str, pool: &sqlx::PgPool, clients: usize, n: usize) -> f64 {
    refill(pool, n).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("claim.sql");
    std::fs::write(&script, PGBENCH_CLAIM).unwrap();
    let per_client = n / (BATCH as usize * clients);
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", &clients.to_string()])
        .args([
            "-j",
            &clients.to_string(),
            "-t",
            &per_client.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .expect("pgbench (Debian package postgresql-client) must be installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let tps: f64 = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("pgbench said:\n{text}"));
    let done = succeeded(pool).await;
    assert_eq!(
        done,
        (per_client * clients) as i64 * i64::from(BATCH),
        "pgbench:\n{text}"
    );
    tps * f64::from(BATCH)
}

async fn claim(dbs: &mut Databases, n: usize) {
    let url = dbs.create("claim").await;
    let store = open(&url).await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    for w in [1, 2] {
        let ours = runners(&store, &pool, w, n).await;
        let theirs = raw(&url, &pool, w, n).await;
        println!(
            "| {w} | {n} | {ours:.0} | {theirs:.0} | {:.2} |",
            ours / theirs
        );
    }
    pool.close().await;
    store.close().await;
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let wants = |s: &str| a.only.as_deref().is_none_or(|o| o == s);
        let plan_header = || {
            println!("| backend | appointments | jobs planned | time | appointments/s | of which listing | appointments/s planning only |");
            println!("|---|---|---|---|---|---|---|");
        };
        let Some(admin) = a.postgres.clone() else {
            if wants("plan") {
                let work = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", work.path().join("bench.db").display());
                let store = open(&url).await;
                plan_header();
                plan("SQLite", &store, a.appointments).await;
                store.close().await;
            }
            return;
        };
        let mut dbs = Databases { admin, made: vec![] };
        if wants("plan") {
            let url = dbs.create("plan").await;
            let store = open(&url).await;
            plan_header();
            plan("PostgreSQL", &store, a.appointments).await;
            store.close().await;
        }
        if wants("deliver") {
            println!("| workers | messages | received | distinct recipients | sent in the database | time | messages/s |");
            println!("|---|---|---|---|---|---|---|");
            for w in [1, 2] {
                deliver(&mut dbs, w, a.emails).await;
            }
        }
        if wants("claim") {
            println!("| runners = pgbench clients | jobs | Runner jobs/s | raw SQL jobs/s | ratio |");
            println!("|---|---|---|---|---|");
            claim(&mut dbs, a.jobs).await;
        }
        dbs.finish(a.keep).await;
    });
}
