//! Booking and slot search over HTTP, against a real server on 127.0.0.1 and a real database.
//!
//! Scenarios (each prints one Markdown table row):
//! - `search`: "any provider" slot search for a service 200 providers deliver, over 7 days,
//!   each provider with 40 booked appointments that week; one client, sequential requests.
//! - `spread`: 16 clients booking random free-looking times of 2,000 providers (low
//!   contention) for a fixed time.
//! - `hot`: 16 clients all booking the same provider's next slot; whoever's answer comes first
//!   moves everyone to the following slot.
//! - `pgbench` (PostgreSQL only): the same booking transaction as raw SQL (overlap checks,
//!   day-load and number upserts, the insert, the audit append under the chain lock), run by
//!   pgbench with 16 clients in prepared mode against the same database, for the ratio.
//!
//! After each booking scenario the database is checked for overlapping active appointments
//! of one provider (double bookings), which must be zero.
//!
//! Run: `scripts/bench-booking.sh` (both backends), or
//! `cargo bench -p carebook --bench booking_http -- [--postgres ADMIN_URL] [--seconds N] [--keep]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_api::clock::{Clock, SystemClock};
use carebook_api::state::AppState;
use carebook_api::{ApiConfig, app};
use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_store::models::*;
use carebook_store::scheduling::*;
use carebook_store::{Store, StoreTx};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const SECRET: &[u8] = b"benchmark-signing-key-benchmark-signing-key";
const TZ: &str = "Africa/Nairobi";
const CLIENTS: usize = 16;
const POOL: u32 = 12;
const PROVIDERS: usize = 2000;
const PATIENTS: usize = 20_000;
const SEARCH_PROVIDERS: usize = 200;

struct Args {
    postgres: Option<String>,
    seconds: u64,
    /// Keep the PostgreSQL database afterwards, to look at its plans.
    keep: bool,
}

fn args() -> Args {
    let mut a = Args {
        postgres: None,
        seconds: 15,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--postgres" => a.postgres = it.next(),
            "--keep" => a.keep = true,
            "--seconds" => a.seconds = it.next().and_then(|s| s.parse().ok()).unwrap_or(15),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn record() -> AuditRecord {
    AuditRecord::new("bench.setup", "bench", SystemClock.now())
}

fn clinic(slug: &str, now: Timestamp) -> Clinic {
    Clinic::new(&format!("Bench {slug}"), slug, TZ, "KES", now)
}

struct World {
    admin: User,
    spread_service: Service,
    spread_providers: Vec<Uuid>,
    hot_service: Service,
    hot_provider: Uuid,
    search_service: Service,
    patients: Vec<Uuid>,
    first_day: Date,
}

/// One clinic's providers: every day 08:00–18:00, delivering `service`.
async fn providers(
    tx: &mut dyn StoreTx,
    c: &Clinic,
    service: &Service,
    n: usize,
    cap: u32,
    now: Timestamp,
) -> Vec<Uuid> {
    let mut ids = vec![];
    for i in 0..n {
        let u = User::new(
            Uuid::now_v7(),
            format!("dr{i}@{}.bench", c.slug),
            format!("Dr {i}"),
            Role::Provider,
            Some(c.id),
            now,
        );
        tx.insert_user(&u).await.unwrap();
        let mut p = Provider::new(Uuid::now_v7(), u.id, now);
        p.max_daily_appointments = cap;
        tx.insert_provider(&p).await.unwrap();
        let pc = ProviderClinic::new(
            Uuid::now_v7(),
            p.id,
            c.id,
            jiff::civil::date(2026, 1, 1),
            now,
        );
        tx.insert_provider_clinic(&pc).await.unwrap();
        for d in 1..=7 {
            tx.insert_availability_rule(&AvailabilityRule {
                id: Uuid::now_v7(),
                clinic_id: c.id,
                provider_id: p.id,
                day_of_week: d,
                start_time: "08:00".into(),
                end_time: "18:00".into(),
                breaks: vec![],
                is_working_day: true,
                mode: "any".into(),
                valid_from: None,
                valid_until: None,
                is_active: true,
                notes: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        }
        tx.insert_provider_service(p.id, service.id, now)
            .await
            .unwrap();
        ids.push(p.id);
    }
    ids
}

async fn seed(store: &Store) -> World {
    let now = SystemClock.now();
    let tz = TimeZone::get(TZ).unwrap();
    let first_day = now.to_zoned(tz.clone()).date().tomorrow().unwrap();
    let mut tx = store.write().await.unwrap();
    let mut admin = User::new(
        Uuid::now_v7(),
        "admin@bench".into(),
        "Admin".into(),
        Role::SuperAdmin,
        None,
        now,
    );
    admin.is_active = true;
    tx.insert_user(&admin).await.unwrap();
    let mut made = vec![];
    for slug in ["spread", "hot", "search"] {
        let c = clinic(slug, now);
        tx.insert_clinic(&c).await.unwrap();
        let mut settings = BookingSettings::defaults(c.id);
        settings.min_notice_minutes = 0;
        settings.booking_horizon_days = 365;
        tx.save_booking_settings(&settings, now).await.unwrap();
        let s = Service {
            buffer_after_minutes: 10,
            ..Service::new(Uuid::now_v7(), c.id, "Consultation", 30, now)
        };
        tx.insert_service(&s).await.unwrap();
        made.push((c, s));
    }
    let spread_providers =
        providers(tx.as_mut(), &made[0].0, &made[0].1, PROVIDERS, 200, now).await;
    let hot_provider = providers(tx.as_mut(), &made[1].0, &made[1].1, 1, 200, now).await[0];
    let search_providers = providers(
        tx.as_mut(),
        &made[2].0,
        &made[2].1,
        SEARCH_PROVIDERS,
        200,
        now,
    )
    .await;
    let mut patients = vec![];
    for i in 0..PATIENTS {
        let p = Patient {
            id: Uuid::now_v7(),
            user_id: None,
            name: format!("Patient {i}"),
            email: None,
            phone: Some(format!("+2547{i:08}")),
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
    // The search week: 40 appointments per provider, spread over the 7 days.
    let (search_clinic, search_service) = &made[2];
    for (k, pid) in search_providers.iter().enumerate() {
        for j in 0..40usize {
            let day = first_day
                .checked_add(jiff::Span::new().days((j % 7) as i64))
                .unwrap();
            let slot = (j / 7) as i64 * 6 + (k % 3) as i64; // 40-minute busy spans, no overlap
            let start = day.at(8, 0, 0, 0).to_zoned(tz.clone()).unwrap().timestamp()
                + SignedDuration::from_mins(15 * slot);
            let end = start + SignedDuration::from_mins(30);
            let a = Appointment {
                service_id: Some(search_service.id),
                busy_end_at: end + SignedDuration::from_mins(10),
                ..Appointment::new(
                    search_clinic.id,
                    patients[(k * 40 + j) % PATIENTS],
                    *pid,
                    start,
                    end,
                    day,
                    now,
                )
            };
            let out = tx
                .book_appointment(&NewAppointment {
                    appointment: a,
                    booked_on: first_day,
                    daily_cap: None,
                })
                .await
                .unwrap();
            assert!(out.is_booked(), "{out:?}");
        }
    }
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();
    World {
        admin,
        spread_service: made[0].1.clone(),
        spread_providers,
        hot_service: made[1].1.clone(),
        hot_provider,
        search_service: made[2].1.clone(),
        patients,
        first_day,
    }
}

async fn serve(store: Store) -> SocketAddr {
    let mut config = ApiConfig::new(SECRET.to_vec());
    config.auth_rate_per_minute = 10_000_000;
    let state = AppState::new(store, config, Arc::new(SystemClock), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    booked: usize,
    conflicts: std::collections::BTreeMap<String, usize>,
    errors: usize,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.latencies.extend(o.latencies);
        self.booked += o.booked;
        for (k, v) in o.conflicts {
            *self.conflicts.entry(k).or_default() += v;
        }
        self.errors += o.errors;
    }
}

async fn post_booking(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: serde_json::Value,
    t: &mut Tally,
) {
    let started = Instant::now();
    let res = client.post(url).bearer_auth(token).json(&body).send().await;
    t.latencies.push(started.elapsed());
    match res {
        Ok(r) if r.status().as_u16() == 201 => t.booked += 1,
        Ok(r) if r.status().as_u16() == 409 => {
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            let code = v["error"]["code"].as_str().unwrap_or("?").to_owned();
            *t.conflicts.entry(code).or_default() += 1;
        }
        Ok(r) => {
            t.errors += 1;
            eprintln!(
                "unexpected {}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        Err(e) => {
            t.errors += 1;
            eprintln!("request failed: {e}");
        }
    }
}

fn slot_start(day: Date, slot: i64) -> Timestamp {
    day.at(8, 0, 0, 0)
        .to_zoned(TimeZone::get(TZ).unwrap())
        .unwrap()
        .timestamp()
        + SignedDuration::from_mins(15 * slot)
}

/// 16 clients booking random provider × day × slot for `secs`.
async fn spread(base: &str, token: &str, w: &Arc<World>, secs: u64) -> (Tally, f64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let (w, url, token) = (
            w.clone(),
            format!("{base}/api/v1/appointments"),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut t = Tally::default();
            let mut n: u64 = c as u64 * 7919;
            while Instant::now() < deadline {
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let provider = w.spread_providers[(n >> 33) as usize % PROVIDERS];
                let day = w.first_day.checked_add(jiff::Span::new().days(((n >> 20) % 60) as i64)).unwrap();
                let slot = ((n >> 12) % 38) as i64; // 08:00 … 17:15
                let patient = w.patients[(n >> 40) as usize % PATIENTS];
                let body = serde_json::json!({"patient_id": patient, "service_id": w.spread_service.id,
                    "provider_id": provider, "start_at": slot_start(day, slot).to_string()});
                post_booking(&client, &url, &token, body, &mut t).await;
            }
            t
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await.unwrap());
    }
    (all, started.elapsed().as_secs_f64())
}

/// 16 clients on one provider's next slot at a time.
async fn hot(base: &str, token: &str, w: &Arc<World>, secs: u64) -> (Tally, f64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let frontier = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let (w, url, token, frontier) = (
            w.clone(),
            format!("{base}/api/v1/appointments"),
            token.to_owned(),
            frontier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut t = Tally::default();
            let mut k = c;
            while Instant::now() < deadline {
                let f = frontier.load(Ordering::SeqCst);
                let day = w.first_day.checked_add(jiff::Span::new().days((f / 40) as i64)).unwrap();
                let slot = (f % 40) as i64;
                k = (k + 7) % PATIENTS;
                let body = serde_json::json!({"patient_id": w.patients[k], "service_id": w.hot_service.id,
                    "provider_id": w.hot_provider, "start_at": slot_start(day, slot).to_string()});
                post_booking(&client, &url, &token, body, &mut t).await;
                frontier.fetch_max(f + 1, Ordering::SeqCst);
            }
            t
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await.unwrap());
    }
    (all, started.elapsed().as_secs_f64())
}

/// Client-side latencies and the server's own time (`Server-Timing`), sorted.
async fn search(base: &str, token: &str, w: &World, n: usize) -> (Vec<Duration>, Vec<Duration>) {
    let client = reqwest::Client::new();
    let to = w.first_day.checked_add(jiff::Span::new().days(6)).unwrap();
    let url = format!(
        "{base}/api/v1/slots?service_id={}&from={}&to={to}",
        w.search_service.id, w.first_day
    );
    let (mut client_side, mut server_side) = (vec![], vec![]);
    for i in 0..n + 5 {
        let started = Instant::now();
        let r = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let server = r
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("app;dur="))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap();
        let body = r.bytes().await.unwrap();
        let took = started.elapsed();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["providers"].as_array().unwrap().len(),
            SEARCH_PROVIDERS
        );
        // The first few warm the connection and the caches.
        if i >= 5 {
            client_side.push(took);
            server_side.push(Duration::from_secs_f64(server / 1000.0));
        }
    }
    client_side.sort();
    server_side.sort();
    (client_side, server_side)
}

/// Overlapping active appointments of one provider (must be zero).
async fn double_bookings(url: &str) -> i64 {
    let sql = "SELECT count(*) AS n FROM appointments a JOIN appointments b \
               ON a.provider_id = b.provider_id AND a.id < b.id \
               AND a.busy_start_at < b.busy_end_at AND b.busy_start_at < a.busy_end_at \
               WHERE a.status IN ('pending_payment','scheduled','confirmed','checked_in','in_progress') \
               AND b.status IN ('pending_payment','scheduled','confirmed','checked_in','in_progress')";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

fn row(backend: &str, scenario: &str, t: &Tally, secs: f64, doubles: i64) -> String {
    let mut l = t.latencies.clone();
    l.sort();
    let conflicts: usize = t.conflicts.values().sum();
    let kinds: Vec<String> = t
        .conflicts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!(
        "| {backend} | {scenario} | {:.0} | {:.0} | {} | {} | {conflicts} ({}) | {} | {doubles} |",
        t.booked as f64 / secs,
        t.latencies.len() as f64 / secs,
        ms(percentile(&l, 0.5)),
        ms(percentile(&l, 0.99)),
        if kinds.is_empty() {
            "-".into()
        } else {
            kinds.join(", ")
        },
        t.errors,
    )
}

const PGBENCH_SCRIPT: &str = r#"\set n random(1, 2000)
\set pt random(1, 20000)
\set day random(0, 364)
\set slot random(0, 37)
BEGIN;
SELECT provider_id AS pid, clinic_id AS cid FROM bench_providers WHERE n = :n \gset
SELECT patient_id AS ptid FROM bench_patients WHERE n = :pt \gset
SELECT s, s + interval '30 minutes' AS e, s + interval '40 minutes' AS be, (s AT TIME ZONE 'Africa/Nairobi')::date AS d FROM (SELECT timestamptz '2028-01-01 08:00+03' + make_interval(days => :day, mins => :slot * 15) AS s) x \gset
SELECT 1 AS x FROM appointments WHERE provider_id = :pid::uuid AND status IN ('pending_payment','scheduled','confirmed','checked_in','in_progress') AND busy_start_at < :be::timestamptz AND busy_end_at > :s::timestamptz LIMIT 1;
SELECT 1 AS x FROM appointments WHERE patient_id = :ptid::uuid AND status IN ('pending_payment','scheduled','confirmed','checked_in','in_progress') AND start_at < :e::timestamptz AND end_at > :s::timestamptz LIMIT 1;
INSERT INTO provider_day_loads (provider_id, local_date, booked) VALUES (:pid::uuid, :d::date, 1) ON CONFLICT (provider_id, local_date) DO UPDATE SET booked = provider_day_loads.booked + 1 WHERE provider_day_loads.booked < 200 RETURNING booked;
INSERT INTO appointment_number_sequences (clinic_id, local_date, last_value) VALUES (:cid::uuid, DATE '2099-01-01', 1) ON CONFLICT (clinic_id, local_date) DO UPDATE SET last_value = appointment_number_sequences.last_value + 1 RETURNING last_value AS num \gset
INSERT INTO appointments (id, clinic_id, number, patient_id, provider_id, status, priority, mode, start_at, end_at, busy_start_at, busy_end_at, local_date, over_daily_cap, created_at, updated_at) VALUES (gen_random_uuid(), :cid::uuid, 'RAW-' || :num::text, :ptid::uuid, :pid::uuid, 'scheduled', 'standard', 'in_person', :s::timestamptz, :e::timestamptz, :s::timestamptz, :be::timestamptz, :d::date, false, now(), now()) ON CONFLICT DO NOTHING RETURNING id;
SELECT pg_advisory_xact_lock(7161130662264532843);
SELECT seq + 1 AS nseq, hash AS prev FROM audit_log ORDER BY seq DESC LIMIT 1 \gset
INSERT INTO audit_log (seq, id, occurred_at, action, entity_type, entity_id, clinic_id, new_values, prev_hash, hash) VALUES (:nseq::bigint, gen_random_uuid(), now(), 'appointment.book', 'appointment', :pid::text, :cid::uuid, jsonb_build_object('provider_id', :pid::text, 'start_at', :s::text), :prev::text, md5(:prev::text || :nseq::text));
COMMIT;
"#;

/// The raw-SQL baseline; returns transactions per second.
fn pgbench(url: &str, secs: u64) -> f64 {
    let dir = std::env::temp_dir().join(format!("carebook-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("booking.sql");
    std::fs::write(&script, PGBENCH_SCRIPT).unwrap();
    let out = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .expect("pgbench (Debian package postgresql-client) must be installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("pgbench said:\n{text}"))
}

/// Lookup tables that let the pgbench script pick the same providers and patients.
async fn pgbench_tables(url: &str, w: &World) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(
        "CREATE TABLE bench_providers (n int PRIMARY KEY, provider_id uuid, clinic_id uuid)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE bench_patients (n int PRIMARY KEY, patient_id uuid)")
        .execute(&pool)
        .await
        .unwrap();
    for (i, p) in w.spread_providers.iter().enumerate() {
        sqlx::query("INSERT INTO bench_providers VALUES ($1, $2, $3)")
            .bind(i as i32 + 1)
            .bind(p)
            .bind(w.spread_service.clinic_id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let ids: Vec<Uuid> = w.patients.clone();
    let ns: Vec<i32> = (1..=ids.len() as i32).collect();
    sqlx::query("INSERT INTO bench_patients SELECT * FROM unnest($1::int[], $2::uuid[])")
        .bind(&ns)
        .bind(&ids)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let work = tempfile::tempdir().unwrap();
        let (backend, url, admin_url) = match &a.postgres {
            Some(admin) => {
                let name = format!("carebook_bench_{}", std::process::id());
                let pool = sqlx::PgPool::connect(admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
                pool.close().await;
                let (head, _) = admin.rsplit_once('/').unwrap();
                ("PostgreSQL", format!("{head}/{name}"), Some((admin.clone(), name)))
            }
            None => (
                "SQLite",
                format!("sqlite://{}", work.path().join("bench.db").display()),
                None,
            ),
        };
        let store = Store::connect(&url, POOL).await.unwrap();
        store.migrate().await.unwrap();
        let t0 = Instant::now();
        let w = Arc::new(seed(&store).await);
        eprintln!("seeded in {:.1} s", t0.elapsed().as_secs_f64());
        let addr = serve(store.clone()).await;
        let base = format!("http://{addr}");
        let token = carebook_api::auth::jwt::issue(
            SECRET,
            w.admin.id,
            "super_admin",
            SystemClock.now(),
            SignedDuration::from_hours(2),
        )
        .unwrap();

        let (client_side, server_side) = search(&base, &token, &w, 200).await;
        println!("| backend | search | server p50 | server p99 | client p50 | client p99 |");
        println!("|---|---|---|---|---|---|");
        println!(
            "| {backend} | any provider, {SEARCH_PROVIDERS} providers × 7 days, 40 appointments each | {} | {} | {} | {} |",
            ms(percentile(&server_side, 0.5)),
            ms(percentile(&server_side, 0.99)),
            ms(percentile(&client_side, 0.5)),
            ms(percentile(&client_side, 0.99)),
        );
        println!("| backend | scenario | bookings/s | requests/s | p50 | p99 | conflicts | errors | double bookings |");
        println!("|---|---|---|---|---|---|---|---|---|");
        let (t, secs) = spread(&base, &token, &w, a.seconds).await;
        let spread_rate = t.booked as f64 / secs;
        println!("{}", row(backend, &format!("{PROVIDERS} providers, {CLIENTS} clients"), &t, secs, double_bookings(&url).await));
        let (t, secs) = hot(&base, &token, &w, a.seconds).await;
        println!("{}", row(backend, &format!("one hot slot, {CLIENTS} clients"), &t, secs, double_bookings(&url).await));
        if let Some((admin, name)) = admin_url {
            pgbench_tables(&url, &w).await;
            let tps = pgbench(&url, a.seconds);
            println!(
                "| {backend} | raw SQL booking transaction (pgbench, {CLIENTS} clients) | {tps:.0} | | | | | | {} |",
                double_bookings(&url).await
            );
            println!("ratio HTTP/raw: {:.2}", spread_rate / tps);
            store.close().await;
            if a.keep {
                eprintln!("kept database {name}");
                return;
            }
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&pool).await.unwrap();
        }
    });
}
