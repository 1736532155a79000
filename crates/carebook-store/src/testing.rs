//! Fresh databases for tests: a new SQLite file in a temporary folder, or a new PostgreSQL
//! database on the server named by `CAREBOOK_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! When PostgreSQL cannot be reached, its tests are skipped with a message that says how to
//! enable them, except when `CI` or `CAREBOOK_REQUIRE_POSTGRES` is set: then they fail, so a
//! CI run can never pass without having exercised PostgreSQL.

#![allow(clippy::expect_used)]

use crate::Store;
use sqlx::Connection;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Closes the pool and drops the PostgreSQL database (the SQLite folder goes on drop).
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut c) = sqlx::PgConnection::connect(admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut c)
            .await;
        }
    }
}

/// A migrated SQLite database in a new temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("carebook.db").display());
    let store = Store::connect(&url, 8).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        store,
        url,
        cleanup: Cleanup::Sqlite(dir),
    }
}

fn postgres_required() -> bool {
    let set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("CI") || set("CAREBOOK_REQUIRE_POSTGRES")
}

/// Says once per test binary that the PostgreSQL leg is skipped. Written to the stderr handle
/// itself, because the test harness captures `eprintln!` of passing tests.
fn announce_skip(admin_url: &str, error: &sqlx::Error) {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED the PostgreSQL leg of these tests: cannot reach {admin_url} ({error}).\n\
             Start PostgreSQL 15+ or set CAREBOOK_TEST_POSTGRES_URL to a server where the user may\n\
             CREATE DATABASE; CI sets CAREBOOK_REQUIRE_POSTGRES=1 so that it fails instead.\n"
        );
    });
}

/// A migrated, empty PostgreSQL database, or `None` (with a message) when the server cannot
/// be reached on a developer machine.
pub async fn postgres() -> Option<TestDb> {
    let admin_url =
        std::env::var("CAREBOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            if postgres_required() {
                panic!(
                    "PostgreSQL tests are required here (CI or CAREBOOK_REQUIRE_POSTGRES is set) \
                     but {admin_url} cannot be reached: {e}"
                );
            }
            announce_skip(&admin_url, &e);
            return None;
        }
    };
    let name = format!("carebook_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let url = replace_database(&admin_url, &name);
    let store = Store::connect(&url, 8)
        .await
        .expect("connect to test database");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        store,
        url,
        cleanup: Cleanup::Postgres { admin_url, name },
    })
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs the same async test body against SQLite and PostgreSQL:
/// `both_backends!(name => body_fn);` expands to `name::sqlite` and `name::postgres` tests
/// that pass a fresh [`TestDb`] to `body_fn`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::testing::sqlite().await;
                    super::$body(&db).await;
                    db.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::testing::postgres().await else { return };
                    super::$body(&db).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(replace_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
