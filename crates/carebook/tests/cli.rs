//! The binary as an operator uses it, on both backends: migrate, seed the demo twice, create
//! an admin, verify the audit chain (and see it fail after tampering), serve the docs page and
//! the API, and stop cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_store::Store;
use carebook_store::testing::TestDb;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn carebook(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carebook"));
    c.current_dir(dir)
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .env("CAREBOOK_LOG_LEVEL", "warn");
    c
}

fn run(mut c: Command) -> Output {
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn operator_commands(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(carebook(db, d, &["migrate"])).status.success());
    let first = run(carebook(db, d, &["seed", "--demo"]));
    assert!(first.status.success());
    let added: usize = stdout(&first)
        .split_whitespace()
        .skip_while(|w| *w != "data:")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", stdout(&first)));
    // 4 clinics, 17 staff, 12 patients, then providers, services, hours, holidays, leave and
    // the appointments of three weeks (how many depends on the weekday it runs).
    assert!(added > 100, "{}", stdout(&first));
    let second = run(carebook(db, d, &["seed", "--demo"]));
    assert!(
        stdout(&second).contains("0 rows added"),
        "idempotent: {}",
        stdout(&second)
    );

    let mut create = carebook(
        db,
        d,
        &[
            "admin",
            "create-user",
            "--email",
            "ops@example.org",
            "--name",
            "Ops Person",
            "--role",
            "admin",
            "--clinic",
            "nairobi-west",
            "--password-env",
            "OPS_PASSWORD",
        ],
    );
    create.env("OPS_PASSWORD", "a long ops password");
    let created = run(create);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(stdout(&created).contains("created ops@example.org (admin)"));
    let mut again = carebook(
        db,
        d,
        &[
            "admin",
            "create-user",
            "--email",
            "ops@example.org",
            "--name",
            "Ops",
            "--password-env",
            "OPS_PASSWORD",
        ],
    );
    again.env("OPS_PASSWORD", "a long ops password");
    let again = again.stdin(Stdio::null()).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let ok = run(carebook(db, d, &["audit", "verify"]));
    assert!(ok.status.success());
    let expected = format!("audit chain intact: {} rows verified", added + 1);
    assert!(
        stdout(&ok).contains(&expected),
        "one record per row added: {}",
        stdout(&ok)
    );
    let statuses: Vec<String> = match &db.store {
        Store::Postgres(p) => {
            sqlx::query_scalar("SELECT DISTINCT status FROM appointments ORDER BY status")
                .fetch_all(p)
                .await
                .unwrap()
        }
        Store::Sqlite(p, _) => {
            sqlx::query_scalar("SELECT DISTINCT status FROM appointments ORDER BY status")
                .fetch_all(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        statuses,
        [
            "cancelled",
            "checked_in",
            "completed",
            "confirmed",
            "in_progress",
            "no_show",
            "pending_payment",
            "scheduled"
        ],
        "the demo holds every status"
    );

    // Tamper as a database superuser would, then verify again.
    match &db.store {
        Store::Postgres(p) => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER")
                .execute(p)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_log SET actor_role = 'forged' WHERE seq = 7")
                .execute(p)
                .await
                .unwrap();
        }
        Store::Sqlite(p, _) => {
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(p)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_log SET actor_role = 'forged' WHERE seq = 7")
                .execute(p)
                .await
                .unwrap();
        }
    }
    let broken = run(carebook(db, d, &["audit", "verify"]));
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("BROKEN at row 7"),
        "{}",
        stdout(&broken)
    );
}

async fn queue_commands(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(carebook(db, d, &["migrate"])).status.success());
    // A job that failed for good, as a worker leaves it.
    let now = {
        use carebook_api::clock::Clock;
        carebook_api::clock::SystemClock.now()
    };
    let mut tx = db.store.write().await.unwrap();
    let job = carebook_store::jobs::NewJob::new(
        "send_notification",
        "cli".into(),
        serde_json::json!({}),
        now,
    );
    tx.enqueue_job(&job, now).await.unwrap();
    let id = tx
        .claim_jobs("cli-test", 1, now + jiff::SignedDuration::from_mins(5), now)
        .await
        .unwrap()[0]
        .id;
    tx.fail_job(id, "cli-test", "550 no such mailbox", now, true, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let stats = stdout(&run(carebook(db, d, &["jobs", "stats"])));
    assert!(
        stats.contains("dead 1") && stats.contains("queued 0"),
        "{stats}"
    );
    let dead = stdout(&run(carebook(db, d, &["jobs", "dead"])));
    assert!(
        dead.contains(&id.to_string()) && dead.contains("550 no such mailbox"),
        "{dead}"
    );
    let retried = run(carebook(db, d, &["jobs", "retry", &id.to_string()]));
    assert!(retried.status.success(), "{}", stdout(&retried));
    let stats = stdout(&run(carebook(db, d, &["jobs", "stats"])));
    assert!(
        stats.contains("dead 0") && stats.contains("queued 1"),
        "{stats}"
    );
    let again = run(carebook(db, d, &["jobs", "retry", &id.to_string()]));
    assert_eq!(
        again.status.code(),
        Some(1),
        "only dead jobs: {}",
        stdout(&again)
    );
    assert!(
        carebook_store::verify_audit_chain(&db.store)
            .await
            .unwrap()
            .first_break
            .is_none()
    );
}

async fn serve_answers_and_stops_cleanly(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let smtp = carebook_jobs::testing::smtp_sink(&[]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = carebook(
        db,
        dir.path(),
        &[
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-level",
            "info",
            "--log-format",
            "json",
        ],
    )
    .env("CAREBOOK_SMTP_URL", format!("smtp://{}", smtp.addr))
    .env(
        "CAREBOOK_MAIL_FROM",
        "Carebook Demo <no-reply@carebook.test>",
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let docs = http.get(format!("{base}/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("swagger-ui"),
        "the docs page is served from the binary"
    );
    let spec: serde_json::Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@carebook.test", "password": "carebook-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("demo admin signs in")
        .to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let clinics: serde_json::Value = http
        .get(format!("{base}/api/v1/clinics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clinics["items"].as_array().unwrap().len(), 4);

    // A password reset reaches the SMTP server through the in-process worker.
    let asked = http
        .post(format!("{base}/api/v1/auth/password-reset/request"))
        .json(&serde_json::json!({"email": "admin@carebook.test"}))
        .send()
        .await
        .unwrap();
    assert!(asked.status().is_success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mail = loop {
        if let Some(m) = smtp.received.lock().unwrap().first().cloned() {
            break m;
        }
        assert!(Instant::now() < deadline, "the reset email did not arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(mail.to, vec!["admin@carebook.test".to_owned()]);
    assert!(
        mail.data
            .contains("From: \"Carebook Demo\" <no-reply@carebook.test>"),
        "{}",
        mail.data
    );
    // The body is quoted-printable: undo its soft line breaks and its escaped `=`.
    let body = mail.data.replace("=\n", "").replace("=3D", "=");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("token="))
        .unwrap_or_else(|| panic!("{}", mail.data))
        .to_owned();

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "clean exit: {err}");
    let key = std::fs::read_to_string(dir.path().join("data/jwt-secret")).unwrap();
    let reset_token = link
        .rsplit("token=")
        .next()
        .unwrap()
        .trim_end_matches(['.', ',']);
    for secret in [token.as_str(), refresh.as_str(), key.trim(), reset_token] {
        assert!(!err.contains(secret), "secrets never reach the logs");
    }
    assert!(err.contains("Carebook is serving"), "{err}");
    for line in err
        .lines()
        .filter(|l| !l.trim().is_empty() && l.starts_with('{'))
    {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    assert!(
        err.lines().any(|l| l.contains("\"request_id\"")),
        "request spans carry the request id: {err}"
    );
}

carebook_store::both_backends! {
    operator => operator_commands,
    serve => serve_answers_and_stops_cleanly,
    queue => queue_commands,
}
