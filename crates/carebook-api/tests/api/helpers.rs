//! A test app over a fresh database, with a clock the test controls.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use carebook_api::auth::jwt;
use carebook_api::clock::ManualClock;
use carebook_api::state::AppState;
use carebook_api::{ApiConfig, app};
use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_store::Store;
use carebook_store::models::*;
use carebook_store::testing::TestDb;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";
pub const SECRET: &[u8] = b"test-signing-key-test-signing-key!";

/// One argon2 hash of [`PASSWORD`], computed once per test binary.
pub async fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return h.clone();
    }
    let h = carebook_api::auth::password::hash(PASSWORD.into())
        .await
        .unwrap();
    HASH.get_or_init(|| h).clone()
}

pub fn start() -> Timestamp {
    "2026-11-25T08:00:00Z".parse().unwrap()
}

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    /// A clinic with self-registration on, the home of clinic-bound test users.
    pub clinic: Clinic,
    /// A second clinic, for scoping tests.
    pub other_clinic: Clinic,
    pub peer: SocketAddr,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn new(db: &TestDb) -> Self {
        Self::with_config(db, |_| {}).await
    }

    pub async fn with_config(db: &TestDb, tweak: impl FnOnce(&mut ApiConfig)) -> Self {
        let mut config = ApiConfig::new(SECRET.to_vec());
        config.auth_rate_per_minute = 100_000;
        config.public_url = "https://carebook.test".into();
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(start()));
        let state = AppState::new(
            db.store.clone(),
            config,
            clock.clone(),
            carebook_api::metrics::handle(),
        );
        let mut app = Self {
            router: app(state.clone()),
            store: db.store.clone(),
            clock,
            state,
            clinic: clinic("home", true),
            other_clinic: clinic("elsewhere", false),
            peer: "127.0.0.1:40000".parse().unwrap(),
        };
        app.clinic = app.insert_clinic(app.clinic.clone()).await;
        app.other_clinic = app.insert_clinic(app.other_clinic.clone()).await;
        app
    }

    pub fn now(&self) -> Timestamp {
        use carebook_api::clock::Clock;
        self.clock.now()
    }

    async fn insert_clinic(&self, c: Clinic) -> Clinic {
        let mut tx = self.store.write().await.unwrap();
        tx.insert_clinic(&c).await.unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
        c
    }

    /// A user with [`PASSWORD`], inserted directly.
    pub async fn user(&self, role: Role, clinic_id: Option<Uuid>) -> User {
        let mut u = User::new(
            Uuid::now_v7(),
            format!("{}-{}@example.org", role, Uuid::now_v7().simple()),
            format!("Test {role}"),
            role,
            clinic_id,
            self.now(),
        );
        u.password_hash = Some(password_hash().await);
        self.save_new(&u).await;
        u
    }

    pub async fn save_new(&self, u: &User) {
        let mut tx = self.store.write().await.unwrap();
        tx.insert_user(u).await.unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn update(&self, u: &User) {
        let mut tx = self.store.write().await.unwrap();
        tx.update_user(u).await.unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn get_user(&self, id: Uuid) -> User {
        self.store
            .read()
            .await
            .unwrap()
            .get_user(id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The default home clinic of a role in these tests.
    pub fn home_of(&self, role: Role) -> Option<Uuid> {
        match role {
            Role::Admin | Role::Receptionist | Role::Provider | Role::Pharmacist => {
                Some(self.clinic.id)
            }
            _ => None,
        }
    }

    pub fn token(&self, u: &User) -> String {
        jwt::issue(
            SECRET,
            u.id,
            u.role.as_str(),
            self.now(),
            SignedDuration::from_mins(15),
        )
        .unwrap()
    }

    /// A signed-in user of `role` at its usual clinic.
    pub async fn signed_in(&self, role: Role) -> (User, String) {
        let u = self.user(role, self.home_of(role)).await;
        let t = self.token(&u);
        (u, t)
    }

    /// A raw one-time token stored for `user`.
    pub async fn one_time_token(&self, user: &User, purpose: TokenPurpose) -> String {
        let raw = Uuid::now_v7().simple().to_string();
        let mut tx = self.store.write().await.unwrap();
        tx.insert_auth_token(&AuthToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            purpose,
            token_hash: carebook_domain::secret::digest(&raw),
            created_at: self.now(),
            expires_at: self.now() + SignedDuration::from_hours(1),
            used_at: None,
        })
        .await
        .unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
        raw
    }

    pub async fn refresh_token(&self, user: &User) -> String {
        let raw = Uuid::now_v7().simple().to_string();
        let mut tx = self.store.write().await.unwrap();
        tx.insert_refresh_token(&RefreshToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            family_id: Uuid::now_v7(),
            token_hash: carebook_domain::secret::digest(&raw),
            created_at: self.now(),
            expires_at: self.now() + SignedDuration::from_hours(24),
            used_at: None,
            revoked_at: None,
            revoked_reason: None,
            ip: None,
            user_agent: None,
        })
        .await
        .unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
        raw
    }

    pub async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status,
            body,
            headers,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn audit_count(&self) -> usize {
        carebook_store::verify_audit_chain(&self.store)
            .await
            .unwrap()
            .verified as usize
    }

    pub async fn outbox(&self, user_id: Uuid) -> Vec<Notification> {
        self.store
            .read()
            .await
            .unwrap()
            .list_notifications_for_user(user_id)
            .await
            .unwrap()
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let mut tx = self.store.read().await.unwrap();
        let rows = tx.audit_chain(0, 10_000).await.unwrap();
        rows.into_iter().map(|r| r.record.action).collect()
    }
}

pub fn clinic(slug: &str, self_registration: bool) -> Clinic {
    Clinic {
        country: Some("KE".into()),
        patient_self_registration: self_registration,
        ..Clinic::new(
            &format!("Clinic {slug}"),
            slug,
            "Africa/Nairobi",
            "KES",
            start(),
        )
    }
}

pub fn record(action: &str) -> AuditRecord {
    AuditRecord::new(action, "test", start())
}
