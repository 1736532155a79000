//! Booking under contention through the HTTP API, on both backends: many clients on the same
//! slot get exactly one booking, a provider near the daily cap never passes it, "any provider"
//! bookings spread without doubling anyone, and crossing reschedules never overlap.

use crate::helpers::*;
use crate::sched::*;
use carebook_domain::Role;
use carebook_store::testing::TestDb;
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Sends every body to `path` at once; returns (status, error code) per request.
async fn storm(
    app: &Arc<TestApp>,
    token: &str,
    path: &str,
    bodies: Vec<serde_json::Value>,
) -> Vec<(u16, String)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (app, token, path, barrier) = (
                app.clone(),
                token.to_owned(),
                path.to_owned(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let r = app.post(&path, Some(&token), body).await;
                (r.status.as_u16(), r.code().to_owned())
            })
        })
        .collect();
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Active appointments of a provider on the test days, as (start, busy end) pairs.
async fn held(app: &TestApp, provider: Uuid) -> Vec<(Timestamp, Timestamp, Timestamp)> {
    let mut tx = app.store.read().await.unwrap();
    let mut rows: Vec<_> = tx
        .provider_bookings(provider, at(tomorrow(), 0, 0), at(date(2026, 12, 31), 0, 0))
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.busy_start_at, a.busy_end_at, a.start_at))
        .collect();
    rows.sort();
    rows
}

fn no_overlap(spans: &[(Timestamp, Timestamp, Timestamp)]) -> bool {
    spans.windows(2).all(|w| w[0].1 <= w[1].0)
}

async fn one_slot_many_clients(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let mut bodies = vec![];
    for _ in 0..24 {
        let p = app.patient_at(app.clinic.id, None).await;
        bodies.push(
            json!({"patient_id": p.id, "service_id": service.id, "provider_id": provider.id,
                           "start_at": at(tomorrow(), 10, 0).to_string()}),
        );
    }
    let results = storm(&app, &desk, "/api/v1/appointments", bodies).await;
    let won = results.iter().filter(|r| r.0 == 201).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.0 != 201)
            .all(|r| r == &(409, "slot_unavailable".to_owned())),
        "{results:?}"
    );
    assert_eq!(held(&app, provider.id).await.len(), 1);
}

async fn the_cap_holds_under_contention(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, mut provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    provider.max_daily_appointments = 3;
    {
        let mut tx = app.store.write().await.unwrap();
        tx.update_provider(&provider).await.unwrap();
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Twelve free, non-overlapping times around the lunch break.
    let times = [
        (8, 0),
        (8, 45),
        (9, 30),
        (10, 15),
        (11, 0),
        (11, 45),
        (12, 30),
        (14, 0),
        (14, 45),
        (15, 30),
        (16, 15),
        (17, 0),
    ];
    let mut bodies = vec![];
    for (h, m) in times {
        let p = app.patient_at(app.clinic.id, None).await;
        let start = at(tomorrow(), h, m);
        bodies.push(
            json!({"patient_id": p.id, "service_id": service.id, "provider_id": provider.id,
                           "start_at": start.to_string()}),
        );
    }
    let results = storm(&app, &desk, "/api/v1/appointments", bodies).await;
    assert_eq!(
        results.iter().filter(|r| r.0 == 201).count(),
        3,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.0 != 201)
            .all(|r| r.1 == "daily_cap_reached"),
        "{results:?}"
    );
    let spans = held(&app, provider.id).await;
    assert_eq!(spans.len(), 3);
    assert!(no_overlap(&spans));
}

async fn any_provider_bookings_spread(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, a) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let (_, b) = app.provider_at(app.clinic.id, None, &[&service]).await;
    let mut bodies = vec![];
    for _ in 0..10 {
        let p = app.patient_at(app.clinic.id, None).await;
        bodies.push(json!({"patient_id": p.id, "service_id": service.id, "start_at": at(tomorrow(), 9, 0).to_string()}));
    }
    let results = storm(&app, &desk, "/api/v1/appointments", bodies).await;
    let won = results.iter().filter(|r| r.0 == 201).count();
    // Both providers are booked once: a client that loses its provider to a concurrent
    // booking tries again and finds the other.
    assert_eq!(won, 2, "{results:?}");
    assert_eq!(
        (held(&app, a.id).await.len(), held(&app, b.id).await.len()),
        (1, 1)
    );
    // Sequentially, the second provider is found when the first is taken.
    let p = app.patient_at(app.clinic.id, None).await;
    let r = app
        .post("/api/v1/appointments", Some(&desk), json!({"patient_id": p.id, "service_id": service.id, "start_at": at(tomorrow(), 11, 0).to_string()}))
        .await;
    assert_eq!(r.status, 201);
    let p = app.patient_at(app.clinic.id, None).await;
    let r2 = app
        .post("/api/v1/appointments", Some(&desk), json!({"patient_id": p.id, "service_id": service.id, "start_at": at(tomorrow(), 11, 0).to_string()}))
        .await;
    assert_eq!(r2.status, 201, "{}", r2.body);
    assert_ne!(r.body["provider_id"], r2.body["provider_id"]);
}

async fn crossing_reschedules_never_overlap(db: &TestDb) {
    let app = Arc::new(TestApp::new(db).await);
    let (_, desk) = app.signed_in(Role::Receptionist).await;
    let service = app.service(app.clinic.id).await;
    let (_, provider) = app.provider_at(app.clinic.id, None, &[&service]).await;
    for round in 0..3i8 {
        // Six appointments on one day, all moved at once to the same time on another.
        let day = date(2026, 12, 1 + round);
        let mut ids = vec![];
        for i in 0..6 {
            let p = app.patient_at(app.clinic.id, None).await;
            let start = at(day, 8, 0) + SignedDuration::from_mins(45 * i);
            ids.push(app.book_at(&provider, &service, &p, start).await.id);
        }
        let target = at(date(2026, 12, 10), 9 + round, 0);
        let barrier = Arc::new(tokio::sync::Barrier::new(ids.len()));
        let tasks: Vec<_> = ids
            .iter()
            .map(|id| {
                let (app, desk, barrier, id) = (app.clone(), desk.clone(), barrier.clone(), *id);
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.post(
                        &format!("/api/v1/appointments/{id}/reschedule"),
                        Some(&desk),
                        json!({"start_at": target.to_string()}),
                    )
                    .await
                    .status
                    .as_u16()
                })
            })
            .collect();
        let mut statuses = vec![];
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        let spans = held(&app, provider.id).await;
        assert!(no_overlap(&spans), "{spans:?}");
        assert_eq!(spans.iter().filter(|s| s.2 == target).count(), 1);
    }
}

carebook_store::both_backends! {
    one_slot => one_slot_many_clients,
    daily_cap => the_cap_holds_under_contention,
    any_provider => any_provider_bookings_spread,
    crossing_reschedules => crossing_reschedules_never_overlap,
}
