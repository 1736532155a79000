//! Housekeeping on both backends: spent tokens go after the grace period, live ones stay,
//! and the purge is audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_store::both_backends;
use carebook_store::models::*;
use carebook_store::testing::TestDb;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

fn t0() -> Timestamp {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

async fn purges_only_spent_tokens(db: &TestDb) {
    let user = User::new(
        Uuid::now_v7(),
        "hk@example.org".into(),
        "Hk".into(),
        Role::Patient,
        None,
        t0(),
    );
    let rt = |hash: &str, expires_at: Timestamp| RefreshToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        family_id: Uuid::now_v7(),
        token_hash: hash.into(),
        created_at: t0(),
        expires_at,
        used_at: None,
        revoked_at: None,
        revoked_reason: None,
        ip: None,
        user_agent: None,
    };
    let mut tx = db.store.write().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.insert_refresh_token(&rt("old", t0() - SignedDuration::from_hours(24 * 8)))
        .await
        .unwrap();
    tx.insert_refresh_token(&rt("recent", t0() - SignedDuration::from_hours(24)))
        .await
        .unwrap();
    tx.insert_refresh_token(&rt("live", t0() + SignedDuration::from_hours(24)))
        .await
        .unwrap();
    tx.insert_auth_token(&AuthToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        purpose: TokenPurpose::PasswordReset,
        token_hash: "link".into(),
        created_at: t0() - SignedDuration::from_hours(24 * 9),
        expires_at: t0() - SignedDuration::from_hours(24 * 9) + SignedDuration::from_hours(1),
        used_at: None,
    })
    .await
    .unwrap();
    tx.append_audit(&AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: t0(),
        actor_user_id: None,
        actor_role: None,
        action: "setup".into(),
        entity_type: "test".into(),
        entity_id: None,
        clinic_id: None,
        old_values: None,
        new_values: None,
        ip: None,
        user_agent: None,
        request_id: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let report = carebook_jobs::purge_spent_tokens(&db.store, t0())
        .await
        .unwrap();
    assert_eq!(report.refresh_tokens, 1);
    assert_eq!(report.one_time_tokens, 1);
    let mut tx = db.store.read().await.unwrap();
    assert!(
        tx.lock_refresh_token_by_hash("old")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tx.lock_refresh_token_by_hash("recent")
            .await
            .unwrap()
            .is_some(),
        "inside the grace period"
    );
    assert!(
        tx.lock_refresh_token_by_hash("live")
            .await
            .unwrap()
            .is_some()
    );
    let events = tx
        .list_audit(
            &AuditFilter::default(),
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(events[0].record.action, "system.tokens_purged");
    drop(tx);

    let again = carebook_jobs::purge_spent_tokens(&db.store, t0())
        .await
        .unwrap();
    assert_eq!(again, carebook_jobs::PurgeReport::default());
    let mut tx = db.store.read().await.unwrap();
    let events = tx
        .list_audit(
            &AuditFilter::default(),
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        2,
        "a pass that removes nothing writes nothing"
    );
}

both_backends! {
    housekeeping => purges_only_spent_tokens,
}
