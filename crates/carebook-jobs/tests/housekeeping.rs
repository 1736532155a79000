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
    tx.append_audit(&AuditRecord::new("setup", "test", t0()))
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

async fn releases_only_expired_payment_holds(db: &TestDb) {
    use carebook_domain::schedule::lifecycle::AppointmentStatus;
    use carebook_store::scheduling::*;
    let now = t0();
    let clinic = Clinic::new("Hold Clinic", "hold-clinic", "Africa/Nairobi", "KES", now);
    let u = User::new(
        Uuid::now_v7(),
        "dr@hold.test".into(),
        "Dr".into(),
        Role::Provider,
        Some(clinic.id),
        now,
    );
    let provider = Provider::new(Uuid::now_v7(), u.id, now);
    let patient = Patient {
        id: Uuid::now_v7(),
        user_id: None,
        name: "P".into(),
        email: None,
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
    let hold = |hour: i64, expires: Timestamp| {
        let start = now + SignedDuration::from_hours(hour);
        NewAppointment {
            appointment: Appointment {
                status: AppointmentStatus::PendingPayment,
                hold_expires_at: Some(expires),
                ..Appointment::new(
                    clinic.id,
                    patient.id,
                    provider.id,
                    start,
                    start + SignedDuration::from_mins(30),
                    start.to_zoned(jiff::tz::TimeZone::UTC).date(),
                    now,
                )
            },
            booked_on: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
            daily_cap: None,
        }
    };
    let expired = hold(2, now - SignedDuration::from_mins(1));
    let live = hold(4, now + SignedDuration::from_mins(10));
    let mut tx = db.store.write().await.unwrap();
    tx.insert_clinic(&clinic).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_provider(&provider).await.unwrap();
    tx.insert_patient(&patient).await.unwrap();
    assert!(tx.book_appointment(&expired).await.unwrap().is_booked());
    assert!(tx.book_appointment(&live).await.unwrap().is_booked());
    tx.append_audit(&AuditRecord::new("setup", "test", now))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        carebook_jobs::release_expired_holds(&db.store, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        carebook_jobs::release_expired_holds(&db.store, now)
            .await
            .unwrap(),
        0,
        "once"
    );
    let mut tx = db.store.read().await.unwrap();
    let gone = tx
        .get_appointment(expired.appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, AppointmentStatus::Cancelled);
    assert_eq!(
        gone.cancellation_reason.as_deref(),
        Some(carebook_jobs::HOLD_EXPIRED_REASON)
    );
    let kept = tx
        .get_appointment(live.appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, AppointmentStatus::PendingPayment);
    let day = kept.local_date;
    assert_eq!(
        tx.provider_day_load(provider.id, day).await.unwrap(),
        1,
        "the cap counts only the live hold"
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
    assert_eq!(events[0].record.action, "appointment.hold_expired");
}

both_backends! {
    housekeeping => purges_only_spent_tokens,
    holds => releases_only_expired_payment_holds,
}
