//! One conformance suite, run against both backends: every story here must behave the same on
//! SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::{AuditRecord, ChainBreak};
use carebook_store::models::*;
use carebook_store::testing::TestDb;
use carebook_store::{Store, StoreError, StoreTx, both_backends, verify_audit_chain};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use uuid::Uuid;

fn t0() -> Timestamp {
    // A time with microseconds, to prove both backends keep them exactly.
    "2026-11-25T09:30:15.123456Z".parse().unwrap()
}

fn record(action: &str, entity_id: Option<String>) -> AuditRecord {
    AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: t0(),
        actor_user_id: None,
        actor_role: Some("super_admin".into()),
        action: action.into(),
        entity_type: "user".into(),
        entity_id,
        clinic_id: None,
        old_values: None,
        new_values: Some(json!({"n": 1})),
        ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
        request_id: Some("req-1".into()),
    }
}

fn clinic(slug: &str) -> Clinic {
    Clinic {
        city: Some("Nairobi".into()),
        country: Some("KE".into()),
        latitude: Some(-1.2921),
        longitude: Some(36.8219),
        patient_self_registration: true,
        ..Clinic::new(
            &format!("Clinic {slug}"),
            slug,
            "Africa/Nairobi",
            "KES",
            t0(),
        )
    }
}

fn user(email: &str, role: Role, clinic_id: Option<Uuid>) -> User {
    let mut u = User::new(
        Uuid::now_v7(),
        email.into(),
        "Test User".into(),
        role,
        clinic_id,
        t0(),
    );
    u.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into());
    u.locked_until = Some(t0() + SignedDuration::from_mins(15));
    u
}

async fn commit_audited(mut tx: Box<dyn StoreTx>, action: &str) {
    tx.append_audit(&record(action, None)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn seeded_roles_equal_the_domain_table(db: &TestDb) {
    let mut tx = db.store.read().await.unwrap();
    let mut seeded = tx.role_permissions().await.unwrap();
    seeded.sort();
    let mut expected: Vec<(String, String)> = Role::ALL
        .iter()
        .flat_map(|r| {
            r.permissions()
                .iter()
                .map(|p| (r.as_str().to_owned(), p.as_str().to_owned()))
        })
        .collect();
    expected.sort();
    assert_eq!(seeded, expected);
    let roles = tx.roles().await.unwrap();
    assert_eq!(roles.len(), Role::ALL.len());
}

async fn users_round_trip_and_emails_are_unique(db: &TestDb) {
    let c = clinic("central");
    let u = user("ama@example.org", Role::Receptionist, Some(c.id));
    let mut tx = db.store.write().await.unwrap();
    tx.insert_clinic(&c).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    commit_audited(tx, "user.create").await;

    let mut tx = db.store.read().await.unwrap();
    let got = tx.get_user(u.id).await.unwrap().unwrap();
    assert_eq!(got.email, u.email);
    assert_eq!(got.role, Role::Receptionist);
    assert_eq!(got.clinic_id, Some(c.id));
    assert_eq!(got.created_at, t0(), "microseconds survive the round trip");
    assert_eq!(got.locked_until, u.locked_until);
    assert_eq!(got.password_hash, u.password_hash);
    let by_email = tx
        .find_user_by_email("ama@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, u.id);
    assert!(
        tx.find_user_by_email("nobody@example.org")
            .await
            .unwrap()
            .is_none()
    );
    drop(tx);

    let mut tx = db.store.write().await.unwrap();
    let dup = user("ama@example.org", Role::Patient, None);
    match tx.insert_user(&dup).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("email"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn updates_filters_and_pages(db: &TestDb) {
    let c = clinic("north");
    let mut tx = db.store.write().await.unwrap();
    tx.insert_clinic(&c).await.unwrap();
    let mut ids = vec![];
    for i in 0..5 {
        let role = if i % 2 == 0 {
            Role::Provider
        } else {
            Role::Receptionist
        };
        let u = user(&format!("u{i}@example.org"), role, Some(c.id));
        tx.insert_user(&u).await.unwrap();
        ids.push(u.id);
    }
    let mut other = user("pat_100%@example.org", Role::Patient, None);
    other.name = "Zawadi Odhiambo".into();
    tx.insert_user(&other).await.unwrap();
    commit_audited(tx, "seed").await;

    let mut tx = db.store.write().await.unwrap();
    let mut u = tx.lock_user(ids[0]).await.unwrap().unwrap();
    u.is_active = false;
    u.deactivated_at = Some(t0());
    u.failed_login_attempts = 3;
    tx.update_user(&u).await.unwrap();
    commit_audited(tx, "user.update").await;

    let mut tx = db.store.read().await.unwrap();
    let f = UserFilter {
        clinic_id: Some(c.id),
        ..Default::default()
    };
    let active = tx
        .list_users(
            &f,
            PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!(active.len(), 4, "inactive users are hidden by default");
    let all = UserFilter {
        include_inactive: true,
        ..f.clone()
    };
    let first = tx
        .list_users(
            &all,
            PageRequest {
                after: None,
                limit: 2,
            },
        )
        .await
        .unwrap();
    let second = tx
        .list_users(
            &all,
            PageRequest {
                after: Some(first[1].id),
                limit: 2,
            },
        )
        .await
        .unwrap();
    let third = tx
        .list_users(
            &all,
            PageRequest {
                after: Some(second[1].id),
                limit: 2,
            },
        )
        .await
        .unwrap();
    let paged: Vec<Uuid> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|u| u.id)
        .collect();
    assert_eq!(
        paged, ids,
        "pages follow creation order without gaps or repeats"
    );
    let providers = UserFilter {
        role: Some(Role::Provider),
        include_inactive: true,
        ..Default::default()
    };
    assert_eq!(
        tx.list_users(
            &providers,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        3
    );
    let q = UserFilter {
        query: Some("ODHIAMBO".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_users(
            &q,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        1
    );
    let literal = UserFilter {
        query: Some("100%".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_users(
            &literal,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        1
    );
    let wildcard = UserFilter {
        query: Some("u_@".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_users(
            &wildcard,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        0,
        "LIKE wildcards in a search are taken literally"
    );
    let got = tx.get_user(ids[0]).await.unwrap().unwrap();
    assert!(!got.is_active);
    assert_eq!(got.failed_login_attempts, 3);
}

async fn writes_without_an_audit_record_do_not_commit(db: &TestDb) {
    let mut tx = db.store.write().await.unwrap();
    tx.insert_clinic(&clinic("ghost")).await.unwrap();
    assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
    let mut tx = db.store.read().await.unwrap();
    assert!(
        tx.get_clinic_by_slug("ghost").await.unwrap().is_none(),
        "nothing was kept"
    );
}

async fn refresh_token_families(db: &TestDb) {
    let u = user("rt@example.org", Role::Patient, None);
    let family = Uuid::now_v7();
    let token = |hash: &str| RefreshToken {
        id: Uuid::now_v7(),
        user_id: u.id,
        family_id: family,
        token_hash: hash.into(),
        created_at: t0(),
        expires_at: t0() + SignedDuration::from_hours(24),
        used_at: None,
        revoked_at: None,
        revoked_reason: None,
        ip: None,
        user_agent: None,
    };
    let (a, b) = (token("hash-a"), token("hash-b"));
    let mut tx = db.store.write().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_refresh_token(&a).await.unwrap();
    tx.insert_refresh_token(&b).await.unwrap();
    commit_audited(tx, "auth.login").await;
    let mut tx = db.store.write().await.unwrap();
    assert!(matches!(
        tx.insert_refresh_token(&token("hash-a")).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let mut tx = db.store.write().await.unwrap();
    let got = tx
        .lock_refresh_token_by_hash("hash-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, a.id);
    tx.mark_refresh_token_used(a.id, t0()).await.unwrap();
    assert_eq!(
        tx.revoke_refresh_family(family, "reuse", t0())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        tx.revoke_refresh_family(family, "again", t0())
            .await
            .unwrap(),
        0
    );
    commit_audited(tx, "auth.refresh_reuse").await;

    let mut tx = db.store.read().await.unwrap();
    let got = tx
        .lock_refresh_token_by_hash("hash-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_reason.as_deref(), Some("reuse"));
    let got = tx
        .lock_refresh_token_by_hash("hash-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.used_at, Some(t0()));
}

async fn one_time_tokens_and_recovery_codes_are_single_use(db: &TestDb) {
    let u = user("otp@example.org", Role::Admin, None);
    let mut tx = db.store.write().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    for h in ["r1", "r2"] {
        tx.insert_auth_token(&AuthToken {
            id: Uuid::now_v7(),
            user_id: u.id,
            purpose: TokenPurpose::PasswordReset,
            token_hash: h.into(),
            created_at: t0(),
            expires_at: t0() + SignedDuration::from_hours(1),
            used_at: None,
        })
        .await
        .unwrap();
    }
    tx.replace_recovery_codes(u.id, &["c1".into(), "c2".into()], t0())
        .await
        .unwrap();
    commit_audited(tx, "setup").await;

    let mut tx = db.store.write().await.unwrap();
    assert!(
        tx.lock_auth_token_by_hash(TokenPurpose::EmailVerification, "r1")
            .await
            .unwrap()
            .is_none(),
        "purpose is part of the key"
    );
    assert!(
        tx.lock_auth_token_by_hash(TokenPurpose::PasswordReset, "r1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        tx.use_auth_tokens(u.id, TokenPurpose::PasswordReset, t0())
            .await
            .unwrap(),
        2
    );
    assert!(tx.use_recovery_code(u.id, "c1", t0()).await.unwrap());
    assert!(
        !tx.use_recovery_code(u.id, "c1", t0()).await.unwrap(),
        "a used code is refused"
    );
    assert!(!tx.use_recovery_code(u.id, "nope", t0()).await.unwrap());
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 1);
    commit_audited(tx, "use").await;
    let mut tx = db.store.read().await.unwrap();
    let r2 = tx
        .lock_auth_token_by_hash(TokenPurpose::PasswordReset, "r2")
        .await
        .unwrap()
        .unwrap();
    assert!(r2.used_at.is_some(), "sibling tokens are retired");
}

async fn external_identities_are_unique_per_issuer(db: &TestDb) {
    let u = user("ext@example.org", Role::Patient, None);
    let ident = |subject: &str| ExternalIdentity {
        id: Uuid::now_v7(),
        user_id: u.id,
        issuer: "firebase".into(),
        subject: subject.into(),
        email: None,
        created_at: t0(),
        last_used_at: None,
    };
    let first = ident("uid-1");
    let mut tx = db.store.write().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_external_identity(&first).await.unwrap();
    commit_audited(tx, "link").await;
    let mut tx = db.store.write().await.unwrap();
    assert!(matches!(
        tx.insert_external_identity(&ident("uid-1")).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = db.store.write().await.unwrap();
    assert_eq!(
        tx.find_external_identity("firebase", "uid-1")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        u.id
    );
    assert_eq!(tx.list_external_identities(u.id).await.unwrap().len(), 1);
    assert!(
        tx.delete_external_identity(u.id, first.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        tx.delete_external_identity(u.id, first.id)
            .await
            .unwrap()
            .is_none()
    );
    commit_audited(tx, "unlink").await;
}

async fn clinics_patients_and_the_outbox(db: &TestDb) {
    let a = clinic("east");
    let b = clinic("west");
    let u = user("pat@example.org", Role::Patient, None);
    let p = Patient {
        id: Uuid::now_v7(),
        user_id: Some(u.id),
        name: "Baraka".into(),
        email: Some(u.email.clone()),
        phone: Some("+254700000001".into()),
        date_of_birth: Some("1990-02-28".parse().unwrap()),
        gender: None,
        preferred_language: "sw".into(),
        notification_opt_out: false,
        channel_opt_outs: Default::default(),
        is_active: true,
        created_at: t0(),
        updated_at: t0(),
    };
    let n = Notification::pending_email(
        Uuid::now_v7(),
        u.id,
        &u.email,
        "email_verification",
        "Verify".into(),
        "x".repeat(800),
        "k1".into(),
        t0(),
    );
    let mut tx = db.store.write().await.unwrap();
    tx.insert_clinic(&a).await.unwrap();
    tx.insert_clinic(&b).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_patient(&p).await.unwrap();
    tx.link_patient_clinic(p.id, a.id, t0()).await.unwrap();
    tx.link_patient_clinic(p.id, b.id, t0()).await.unwrap();
    tx.link_patient_clinic(p.id, a.id, t0()).await.unwrap();
    tx.insert_notification(&n).await.unwrap();
    commit_audited(tx, "register").await;
    let mut tx = db.store.write().await.unwrap();
    assert!(matches!(
        tx.insert_clinic(&clinic("east")).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let mut tx = db.store.write().await.unwrap();
    let got = tx.get_patient_by_user(u.id).await.unwrap().unwrap();
    assert_eq!(got.date_of_birth, p.date_of_birth);
    let mut clinics = tx.patient_clinic_ids(p.id).await.unwrap();
    clinics.sort();
    let mut want = vec![a.id, b.id];
    want.sort();
    assert_eq!(clinics, want, "one patient, seen at two clinics");
    let outbox = tx.list_notifications_for_user(u.id).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].body_preview.chars().count(), 500);
    assert_eq!(outbox[0].status, "pending");
    let mut c = tx.get_clinic(a.id).await.unwrap().unwrap();
    c.status = "temporarily_closed".into();
    c.patient_self_registration = false;
    tx.update_clinic(&c).await.unwrap();
    c.status = "bogus".into();
    assert!(
        matches!(tx.update_clinic(&c).await, Err(StoreError::Invalid(_))),
        "CHECK constraints hold"
    );
}

async fn the_audit_log_is_append_only_and_chained(db: &TestDb) {
    for i in 0..3 {
        let mut tx = db.store.write().await.unwrap();
        tx.append_audit(&record("user.update", Some(format!("e{i}"))))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let report = verify_audit_chain(&db.store).await.unwrap();
    assert_eq!(report.verified, 3);
    assert_eq!(report.first_break, None);

    // The database itself refuses changes, on both backends.
    let update = "UPDATE audit_log SET action = 'forged' WHERE seq = 2";
    let delete = "DELETE FROM audit_log WHERE seq = 2";
    for sql in [update, delete] {
        let refused = match &db.store {
            Store::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
            Store::Sqlite(p, _) => sqlx::query(sql).execute(p).await.is_err(),
        };
        assert!(refused, "{sql} must be refused");
    }
    if let Store::Postgres(p) = &db.store {
        assert!(sqlx::query("TRUNCATE audit_log").execute(p).await.is_err());
    }

    // Someone with the power to remove the trigger can change a row, but not unseen.
    match &db.store {
        Store::Postgres(p) => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER")
                .execute(p)
                .await
                .unwrap();
            sqlx::query(update).execute(p).await.unwrap();
        }
        Store::Sqlite(p, _) => {
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(p)
                .await
                .unwrap();
            sqlx::query(update).execute(p).await.unwrap();
        }
    }
    let report = verify_audit_chain(&db.store).await.unwrap();
    assert_eq!(report.verified, 1);
    assert_eq!(report.first_break, Some(ChainBreak::Content { seq: 2 }));
}

async fn audit_queries_filter_and_page_newest_first(db: &TestDb) {
    let actor = Uuid::now_v7();
    for i in 0..6 {
        let mut r = record(
            if i % 2 == 0 {
                "user.create"
            } else {
                "clinic.update"
            },
            Some(format!("e{}", i % 3)),
        );
        r.entity_type = if i % 2 == 0 {
            "user".into()
        } else {
            "clinic".into()
        };
        r.occurred_at = t0() + SignedDuration::from_mins(i);
        if i >= 4 {
            r.actor_user_id = Some(actor);
        }
        let mut tx = db.store.write().await.unwrap();
        tx.append_audit(&r).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = db.store.read().await.unwrap();
    let all = tx
        .list_audit(
            &AuditFilter::default(),
            PageRequest {
                after: None,
                limit: 4,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![6, 5, 4, 3]
    );
    let rest = tx
        .list_audit(
            &AuditFilter::default(),
            PageRequest {
                after: Some(3),
                limit: 4,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 1]);
    let users = AuditFilter {
        entity_type: Some("user".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_audit(
            &users,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        3
    );
    let by_actor = AuditFilter {
        actor_user_id: Some(actor),
        ..Default::default()
    };
    assert_eq!(
        tx.list_audit(
            &by_actor,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        2
    );
    let window = AuditFilter {
        from: Some(t0() + SignedDuration::from_mins(1)),
        to: Some(t0() + SignedDuration::from_mins(3)),
        ..Default::default()
    };
    let got = tx
        .list_audit(
            &window,
            PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![3, 2],
        "from inclusive, to exclusive"
    );
    let entity = AuditFilter {
        entity_type: Some("user".into()),
        entity_id: Some("e0".into()),
        ..Default::default()
    };
    assert_eq!(
        tx.list_audit(
            &entity,
            PageRequest {
                after: None,
                limit: 50
            }
        )
        .await
        .unwrap()
        .len(),
        1
    );
    let stored = &all[0].record;
    assert_eq!(stored.new_values, Some(json!({"n": 1})));
    assert_eq!(stored.request_id.as_deref(), Some("req-1"));
}

async fn concurrent_writers_keep_one_unbroken_chain(db: &TestDb) {
    const TASKS: usize = 16;
    const EACH: usize = 10;
    let mut handles = vec![];
    for t in 0..TASKS {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..EACH {
                let mut tx = store.write().await.unwrap();
                let c = clinic(&format!("c-{t}-{i}"));
                tx.insert_clinic(&c).await.unwrap();
                tx.append_audit(&record("clinic.create", Some(c.id.to_string())))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let report = verify_audit_chain(&db.store).await.unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(
        report.verified,
        (TASKS * EACH) as u64,
        "no append was lost or duplicated"
    );
}

/// Text PostgreSQL cannot store (a NUL character) is refused as an invalid value, not a
/// database fault, so the API answers 422 rather than 500; SQLite stores it.
async fn unstorable_text_is_an_invalid_value(db: &TestDb) {
    let mut tx = db.store.write().await.unwrap();
    let result = tx.insert_clinic(&clinic("nul\0clinic")).await;
    match db.store.backend() {
        carebook_store::Backend::Postgres => {
            assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}")
        }
        carebook_store::Backend::Sqlite => assert!(result.is_ok(), "{result:?}"),
    }
}

both_backends! {
    unstorable_text => unstorable_text_is_an_invalid_value,
    seeded_roles => seeded_roles_equal_the_domain_table,
    users_round_trip => users_round_trip_and_emails_are_unique,
    users_update_filter_page => updates_filters_and_pages,
    unaudited_writes => writes_without_an_audit_record_do_not_commit,
    refresh_families => refresh_token_families,
    single_use_secrets => one_time_tokens_and_recovery_codes_are_single_use,
    external_identities => external_identities_are_unique_per_issuer,
    clinics_patients_outbox => clinics_patients_and_the_outbox,
    audit_append_only => the_audit_log_is_append_only_and_chained,
    audit_queries => audit_queries_filter_and_page_newest_first,
    audit_concurrency => concurrent_writers_keep_one_unbroken_chain,
}
