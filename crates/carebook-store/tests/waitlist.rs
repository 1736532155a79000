//! The waitlist's store half on both backends: positions within a priority, one open entry per
//! patient and service, state changes that apply once under contention, one open offer per
//! entry, and an `offered` hold that keeps every other booking off its slot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use carebook_domain::waitlist::{EntryStatus, OfferStatus};
use carebook_store::models::*;
use carebook_store::scheduling::*;
use carebook_store::testing::TestDb;
use carebook_store::waitlist::{EntryTransition, WaitlistEntry, WaitlistFilter, WaitlistOffer};
use carebook_store::{Store, both_backends};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

fn now() -> Timestamp {
    "2026-11-25T06:00:00Z".parse().unwrap()
}

fn record() -> AuditRecord {
    AuditRecord::new("test.setup", "test", now())
}

struct World {
    clinic: Uuid,
    service: Uuid,
    provider: Uuid,
    patients: Vec<Uuid>,
}

async fn world(store: &Store, patients: usize) -> World {
    let mut tx = store.write().await.unwrap();
    let slug = format!("w-{}", Uuid::now_v7().simple());
    let clinic = Clinic::new("Waitlist Clinic", &slug, "Africa/Nairobi", "KES", now());
    tx.insert_clinic(&clinic).await.unwrap();
    let service = Service::new(Uuid::now_v7(), clinic.id, "Check-up", 30, now());
    tx.insert_service(&service).await.unwrap();
    let u = User::new(
        Uuid::now_v7(),
        format!("dr-{slug}@example.org"),
        "Dr W".into(),
        Role::Provider,
        Some(clinic.id),
        now(),
    );
    tx.insert_user(&u).await.unwrap();
    let p = Provider::new(Uuid::now_v7(), u.id, now());
    tx.insert_provider(&p).await.unwrap();
    let mut ids = vec![];
    for i in 0..patients {
        let pt = Patient {
            id: Uuid::now_v7(),
            user_id: None,
            name: format!("Patient {i}"),
            email: None,
            phone: None,
            date_of_birth: None,
            gender: None,
            preferred_language: "en".into(),
            notification_opt_out: false,
            channel_opt_outs: Default::default(),
            is_active: true,
            created_at: now(),
            updated_at: now(),
        };
        tx.insert_patient(&pt).await.unwrap();
        ids.push(pt.id);
    }
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();
    World {
        clinic: clinic.id,
        service: service.id,
        provider: p.id,
        patients: ids,
    }
}

fn entry(w: &World, patient: Uuid, priority: Priority, at: Timestamp) -> WaitlistEntry {
    WaitlistEntry {
        id: Uuid::now_v7(),
        clinic_id: w.clinic,
        patient_id: patient,
        service_id: w.service,
        provider_id: None,
        mode: None,
        requested_from: None,
        requested_to: None,
        priority,
        position: 1,
        notes: None,
        status: EntryStatus::Waiting,
        appointment_id: None,
        created_by_user_id: None,
        created_at: at,
        updated_at: at,
        assigned_at: None,
        closed_at: None,
        close_reason: None,
    }
}

async fn add(store: &Store, e: &WaitlistEntry) -> bool {
    let mut tx = store.write().await.unwrap();
    let added = tx.insert_waitlist_entry(e).await.unwrap();
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();
    added
}

async fn queue(store: &Store, w: &World) -> Vec<(Uuid, Priority, u32)> {
    let mut tx = store.read().await.unwrap();
    let f = WaitlistFilter {
        clinic_id: Some(w.clinic),
        ..Default::default()
    };
    tx.list_waitlist(&f, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.priority, e.position))
        .collect()
}

fn to(id: Uuid, from: &[EntryStatus], to: EntryStatus) -> EntryTransition {
    EntryTransition {
        id,
        from: from.to_vec(),
        to,
        appointment_id: None,
        reason: Some("test".into()),
        now: now(),
    }
}

async fn positions_priorities_and_renumbering(db: &TestDb) {
    let w = world(&db.store, 5).await;
    let s = SignedDuration::from_secs(1);
    let e: Vec<WaitlistEntry> = [
        Priority::Standard,
        Priority::Standard,
        Priority::Urgent,
        Priority::Emergency,
        Priority::Standard,
    ]
    .iter()
    .enumerate()
    .map(|(i, p)| entry(&w, w.patients[i], *p, now() + s * i as i32))
    .collect();
    for x in &e {
        assert!(add(&db.store, x).await);
    }
    // The same patient and service again: refused while the first is open.
    let dup = entry(&w, w.patients[0], Priority::Urgent, now());
    assert!(!add(&db.store, &dup).await);
    let order = queue(&db.store, &w).await;
    assert_eq!(
        order,
        vec![
            (e[3].id, Priority::Emergency, 1),
            (e[2].id, Priority::Urgent, 1),
            (e[0].id, Priority::Standard, 1),
            (e[1].id, Priority::Standard, 2),
            (e[4].id, Priority::Standard, 3),
        ]
    );
    let depth = db
        .store
        .read()
        .await
        .unwrap()
        .waitlist_depth()
        .await
        .unwrap();
    assert_eq!(depth, (5, 0), "five waiting, none offered");
    // Cancelling the first standard entry closes the gap.
    let mut tx = db.store.write().await.unwrap();
    let done = tx
        .transition_waitlist_entry(&to(
            e[0].id,
            &[EntryStatus::Waiting],
            EntryStatus::Cancelled,
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.close_reason.as_deref(), Some("test"));
    assert!(done.closed_at.is_some());
    tx.renumber_waitlist(w.clinic, Priority::Standard)
        .await
        .unwrap();
    // Moving the last standard entry to the front shifts the others down.
    let last = tx.get_waitlist_entry(e[4].id).await.unwrap().unwrap();
    tx.move_waitlist_entry(&last, 1).await.unwrap();
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();
    let order = queue(&db.store, &w).await;
    assert_eq!(
        order[2..],
        [
            (e[4].id, Priority::Standard, 1),
            (e[1].id, Priority::Standard, 2)
        ]
    );
    // Once closed, the patient may join again.
    assert!(add(&db.store, &dup).await);
    // A state change applies only from the state it expects.
    let mut tx = db.store.write().await.unwrap();
    assert!(
        tx.transition_waitlist_entry(&to(e[0].id, &[EntryStatus::Waiting], EntryStatus::Offered))
            .await
            .unwrap()
            .is_none()
    );
    let week = (date(2026, 11, 30), date(2026, 12, 6));
    let waiting = tx
        .waiting_entries_for(w.clinic, Some(w.provider), week)
        .await
        .unwrap();
    assert!(
        waiting.is_empty(),
        "the provider does not deliver their service"
    );
    tx.insert_provider_service(w.provider, w.service, now())
        .await
        .unwrap();
    let waiting = tx
        .waiting_entries_for(w.clinic, Some(w.provider), week)
        .await
        .unwrap();
    assert_eq!(
        waiting.len(),
        5,
        "entries for any provider suit every provider"
    );
    // An entry whose dates end before the freed time does not suit it.
    let mut dated = tx.get_waitlist_entry(e[1].id).await.unwrap().unwrap();
    dated.requested_to = Some(date(2026, 11, 29));
    tx.update_waitlist_entry(&dated).await.unwrap();
    let waiting = tx
        .waiting_entries_for(w.clinic, Some(w.provider), week)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 4);
    assert!(waiting.iter().all(|x| x.id != e[1].id));
    assert!(tx.has_waiting_entries(w.clinic).await.unwrap());
}

async fn one_transition_wins_under_contention(db: &TestDb) {
    let w = world(&db.store, 1).await;
    let e = entry(&w, w.patients[0], Priority::Standard, now());
    assert!(add(&db.store, &e).await);
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = db.store.clone();
            let target = if i % 2 == 0 {
                EntryStatus::Offered
            } else {
                EntryStatus::Cancelled
            };
            tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                let changed = tx
                    .transition_waitlist_entry(&to(e.id, &[EntryStatus::Waiting], target))
                    .await
                    .unwrap();
                tx.append_audit(&record()).await.unwrap();
                tx.commit().await.unwrap();
                changed.is_some()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one change from waiting, whoever comes first");
}

async fn an_offered_hold_keeps_its_slot_and_opens_once(db: &TestDb) {
    let w = world(&db.store, 2).await;
    let e = entry(&w, w.patients[0], Priority::Standard, now());
    assert!(add(&db.store, &e).await);
    let start: Timestamp = "2026-11-30T07:00:00Z".parse().unwrap();
    let end = start + SignedDuration::from_mins(30);
    let held = |patient: Uuid, status: AppointmentStatus| NewAppointment {
        appointment: Appointment {
            status,
            assigned_from_waitlist: true,
            hold_expires_at: Some(now() + SignedDuration::from_hours(2)),
            ..Appointment::new(
                w.clinic,
                patient,
                w.provider,
                start,
                end,
                date(2026, 11, 30),
                now(),
            )
        },
        booked_on: date(2026, 11, 25),
        daily_cap: None,
    };
    let mut tx = db.store.write().await.unwrap();
    let BookingOutcome::Booked { .. } = tx
        .book_appointment(&held(w.patients[0], AppointmentStatus::Offered))
        .await
        .unwrap()
    else {
        panic!("the hold is booked")
    };
    let hold_id = tx
        .patient_bookings(w.patients[0], start, end)
        .await
        .unwrap()[0]
        .id;
    let offer = WaitlistOffer {
        id: Uuid::now_v7(),
        entry_id: e.id,
        appointment_id: hold_id,
        provider_id: w.provider,
        start_at: start,
        end_at: end,
        status: OfferStatus::Open,
        offered_at: now(),
        expires_at: now() + SignedDuration::from_hours(2),
        responded_at: None,
    };
    tx.insert_waitlist_offer(&offer).await.unwrap();
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();

    // Nobody else books the held time.
    let mut tx = db.store.write().await.unwrap();
    let other = tx
        .book_appointment(&held(w.patients[1], AppointmentStatus::Scheduled))
        .await
        .unwrap();
    assert_eq!(other, BookingOutcome::ProviderBusy);
    drop(tx);
    // A second open offer for the same entry is refused.
    let mut tx = db.store.write().await.unwrap();
    let second = WaitlistOffer {
        id: Uuid::now_v7(),
        ..offer.clone()
    };
    assert!(tx.insert_waitlist_offer(&second).await.is_err());
    drop(tx);
    // Accepting turns the hold into a booking once; the offer closes once.
    let mut tx = db.store.write().await.unwrap();
    let booked = tx
        .accept_offered_appointment(hold_id, AppointmentStatus::Scheduled, None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(booked.status, AppointmentStatus::Scheduled);
    assert!(booked.assigned_from_waitlist && booked.hold_expires_at.is_none());
    assert!(
        tx.accept_offered_appointment(hold_id, AppointmentStatus::Scheduled, None, now())
            .await
            .unwrap()
            .is_none()
    );
    let closed = tx
        .close_waitlist_offer(offer.id, OfferStatus::Accepted, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.status, OfferStatus::Accepted);
    assert!(
        tx.close_waitlist_offer(offer.id, OfferStatus::Declined, now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(tx.open_offer_of(e.id).await.unwrap().is_none());
    assert_eq!(tx.offers_of(e.id).await.unwrap().len(), 1);
    tx.append_audit(&record()).await.unwrap();
    tx.commit().await.unwrap();
}

both_backends! {
    positions => positions_priorities_and_renumbering,
    contention => one_transition_wins_under_contention,
    holds => an_offered_hold_keeps_its_slot_and_opens_once,
}
