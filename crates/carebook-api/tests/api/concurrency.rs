//! Identity under contention, on both backends: a refresh token raced by many clients is
//! honoured once, and concurrent failed sign-ins are all counted.

use crate::helpers::*;
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use serde_json::json;
use std::sync::Arc;

async fn a_raced_refresh_token_is_honoured_once(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let u = app.user(Role::Receptionist, Some(app.clinic.id)).await;
    let token = app.refresh_token(&u).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(async move {
                app.post(
                    "/api/v1/auth/refresh",
                    None,
                    json!({"refresh_token": token}),
                )
                .await
            })
        })
        .collect();
    let mut wins = vec![];
    let mut codes = vec![];
    for t in tasks {
        let r = t.await.unwrap();
        if r.status == 200 {
            wins.push(r.body["refresh_token"].as_str().unwrap().to_owned());
        } else {
            codes.push(r.code().to_owned());
        }
    }
    assert_eq!(
        wins.len(),
        1,
        "exactly one client gets a new token: {codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| c == "refresh_token_reused" || c == "invalid_refresh_token"),
        "{codes:?}"
    );
    assert!(codes.iter().any(|c| c == "refresh_token_reused"));
    let after = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": wins[0]}),
        )
        .await;
    assert_eq!(
        after.code(),
        "invalid_refresh_token",
        "the race revoked the family, winner included"
    );
}

async fn concurrent_failures_are_all_counted(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let u = app.user(Role::Provider, Some(app.clinic.id)).await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            let email = u.email.clone();
            tokio::spawn(async move { app.login(&email, "not the password").await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().code(), "invalid_credentials");
    }
    assert_eq!(
        app.get_user(u.id).await.failed_login_attempts,
        4,
        "no failure lost"
    );
    assert_eq!(
        app.login(&u.email, "not the password").await.code(),
        "account_locked"
    );
}

carebook_store::both_backends! {
    raced_refresh => a_raced_refresh_token_is_honoured_once,
    counted_failures => concurrent_failures_are_all_counted,
}
