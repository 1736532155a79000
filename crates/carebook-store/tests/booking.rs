//! Booking under contention, on both backends: many tasks after the same slot, the same
//! patient or the same provider's last places of the day. Nothing is ever booked twice, no
//! cap is ever exceeded, and every appointment number is unique.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_domain::schedule::lifecycle::{AppointmentStatus, Priority};
use carebook_store::models::*;
use carebook_store::scheduling::*;
use carebook_store::testing::TestDb;
use carebook_store::{Store, StoreError, both_backends};
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use uuid::Uuid;

fn now() -> Timestamp {
    "2026-11-25T06:00:00Z".parse().unwrap()
}

fn day() -> Date {
    date(2026, 11, 30)
}

fn record(action: &str) -> AuditRecord {
    AuditRecord::new(action, "test", now())
}

struct World {
    clinic: Uuid,
    providers: Vec<Uuid>,
    patients: Vec<Uuid>,
}

async fn world(store: &Store, providers: usize, patients: usize) -> World {
    let mut tx = store.write().await.unwrap();
    let clinic = Clinic::new(
        "Booking Clinic",
        &format!("b-{}", Uuid::now_v7().simple()),
        "Africa/Nairobi",
        "KES",
        now(),
    );
    tx.insert_clinic(&clinic).await.unwrap();
    let mut provider_ids = vec![];
    for i in 0..providers {
        let u = User::new(
            Uuid::now_v7(),
            format!("dr{i}-{}@example.org", Uuid::now_v7().simple()),
            format!("Dr {i}"),
            Role::Provider,
            Some(clinic.id),
            now(),
        );
        tx.insert_user(&u).await.unwrap();
        let mut p = Provider::new(Uuid::now_v7(), u.id, now());
        p.title = Some("Dr.".into());
        p.emergency_enabled = true;
        tx.insert_provider(&p).await.unwrap();
        let mut pc = ProviderClinic::new(Uuid::now_v7(), p.id, clinic.id, date(2026, 1, 1), now());
        pc.is_primary = true;
        tx.insert_provider_clinic(&pc).await.unwrap();
        provider_ids.push(p.id);
    }
    let mut patient_ids = vec![];
    for i in 0..patients {
        let p = Patient {
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
        tx.insert_patient(&p).await.unwrap();
        patient_ids.push(p.id);
    }
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();
    World {
        clinic: clinic.id,
        providers: provider_ids,
        patients: patient_ids,
    }
}

/// 30 minutes at `hour:minute` Nairobi time (UTC+3) on the test day, with 5/10 minute buffers.
fn booking(
    w: &World,
    provider: Uuid,
    patient: Uuid,
    hour: i8,
    minute: i8,
    cap: Option<u32>,
) -> NewAppointment {
    let start = day()
        .at(hour, minute, 0, 0)
        .to_zoned(jiff::tz::TimeZone::get("Africa/Nairobi").unwrap())
        .unwrap()
        .timestamp();
    let end = start + SignedDuration::from_mins(30);
    NewAppointment {
        appointment: Appointment {
            priority: if cap.is_some() {
                Priority::Standard
            } else {
                Priority::Emergency
            },
            busy_start_at: start - SignedDuration::from_mins(5),
            busy_end_at: end + SignedDuration::from_mins(10),
            over_daily_cap: cap.is_none(),
            ..Appointment::new(w.clinic, patient, provider, start, end, day(), now())
        },
        booked_on: date(2026, 11, 25),
        daily_cap: cap,
    }
}

/// Books in its own transaction, committing only on success.
async fn book(store: &Store, new: NewAppointment) -> BookingOutcome {
    let mut tx = store.write().await.unwrap();
    let outcome = tx.book_appointment(&new).await.unwrap();
    if outcome.is_booked() {
        tx.append_audit(&record("appointment.book")).await.unwrap();
        tx.commit().await.unwrap();
    }
    outcome
}

async fn hammer(store: &Store, bookings: Vec<NewAppointment>) -> Vec<BookingOutcome> {
    let handles: Vec<_> = bookings
        .into_iter()
        .map(|b| {
            let store = store.clone();
            tokio::spawn(async move { book(&store, b).await })
        })
        .collect();
    let mut out = vec![];
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn active_count(store: &Store, provider: Uuid) -> usize {
    let from = day().to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp()
        - SignedDuration::from_hours(24);
    store
        .read()
        .await
        .unwrap()
        .provider_bookings(provider, from, from + SignedDuration::from_hours(72))
        .await
        .unwrap()
        .len()
}

async fn one_slot_many_takers(db: &TestDb) {
    let w = world(&db.store, 1, 24).await;
    let attempts = w
        .patients
        .iter()
        .map(|p| booking(&w, w.providers[0], *p, 10, 0, Some(50)))
        .collect();
    let outcomes = hammer(&db.store, attempts).await;
    let wins = outcomes.iter().filter(|o| o.is_booked()).count();
    assert_eq!(wins, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| !o.is_booked())
            .all(|o| *o == BookingOutcome::ProviderBusy)
    );
    assert_eq!(
        active_count(&db.store, w.providers[0]).await,
        1,
        "exactly one appointment holds the slot"
    );
    assert_eq!(
        db.store
            .read()
            .await
            .unwrap()
            .provider_day_load(w.providers[0], day())
            .await
            .unwrap(),
        1,
        "refused bookings left no load behind"
    );
}

async fn the_cap_is_never_exceeded(db: &TestDb) {
    let w = world(&db.store, 1, 12).await;
    let attempts = w
        .patients
        .iter()
        .enumerate()
        .map(|(i, p)| booking(&w, w.providers[0], *p, 8 + i as i8, 0, Some(3)))
        .collect();
    let outcomes = hammer(&db.store, attempts).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_booked()).count(),
        3,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| !o.is_booked())
            .all(|o| *o == BookingOutcome::DailyCapReached)
    );
    assert_eq!(active_count(&db.store, w.providers[0]).await, 3);
    // An emergency (no cap passed) still fits, and is marked as over the cap.
    let extra = booking(&w, w.providers[0], w.patients[0], 20, 30, None);
    let id = extra.appointment.id;
    assert!(book(&db.store, extra).await.is_booked());
    let a = db
        .store
        .read()
        .await
        .unwrap()
        .get_appointment(id)
        .await
        .unwrap()
        .unwrap();
    assert!(a.over_daily_cap);
    assert_eq!(a.priority, Priority::Emergency);
    assert_eq!(
        db.store
            .read()
            .await
            .unwrap()
            .provider_day_load(w.providers[0], day())
            .await
            .unwrap(),
        4
    );
}

async fn a_patient_is_in_one_place(db: &TestDb) {
    let w = world(&db.store, 8, 1).await;
    let attempts = w
        .providers
        .iter()
        .map(|pr| booking(&w, *pr, w.patients[0], 11, 0, Some(8)))
        .collect();
    let outcomes = hammer(&db.store, attempts).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_booked()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| !o.is_booked())
            .all(|o| *o == BookingOutcome::PatientBusy)
    );
}

async fn numbers_are_unique_under_contention(db: &TestDb) {
    let w = world(&db.store, 20, 20).await;
    let attempts = w
        .providers
        .iter()
        .zip(&w.patients)
        .map(|(pr, pa)| booking(&w, *pr, *pa, 9, 0, Some(8)))
        .collect();
    let outcomes = hammer(&db.store, attempts).await;
    let numbers: BTreeSet<String> = outcomes
        .iter()
        .map(|o| match o {
            BookingOutcome::Booked { number } => number.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: BTreeSet<String> = (1..=20).map(|n| format!("APT-20261125-{n:03}")).collect();
    assert_eq!(numbers, expected, "gap-free and unique");
}

async fn buffers_hold_time_and_refusals_cannot_commit(db: &TestDb) {
    let w = world(&db.store, 1, 3).await;
    let pr = w.providers[0];
    assert!(
        book(&db.store, booking(&w, pr, w.patients[0], 9, 0, Some(8)))
            .await
            .is_booked()
    ); // busy 08:55-09:40
    assert_eq!(
        book(&db.store, booking(&w, pr, w.patients[1], 9, 30, Some(8))).await,
        BookingOutcome::ProviderBusy,
        "inside the clean-up time"
    );
    assert!(
        book(&db.store, booking(&w, pr, w.patients[1], 9, 45, Some(8)))
            .await
            .is_booked(),
        "busy spans may touch"
    );
    let mut tx = db.store.write().await.unwrap();
    let refused = tx
        .book_appointment(&booking(&w, pr, w.patients[2], 9, 15, Some(8)))
        .await
        .unwrap();
    assert_eq!(refused, BookingOutcome::ProviderBusy);
    tx.append_audit(&record("x")).await.unwrap();
    assert!(
        matches!(tx.commit().await, Err(StoreError::Refused)),
        "a refused booking can only roll back"
    );
}

/// PostgreSQL refuses an overlap even from a path that skips the store (an administrator's
/// UPDATE); on SQLite every write path goes through the single-writer booking code.
async fn the_database_refuses_overlaps_on_any_path(db: &TestDb) {
    let w = world(&db.store, 1, 2).await;
    let pr = w.providers[0];
    let first = booking(&w, pr, w.patients[0], 9, 0, Some(8));
    let second = booking(&w, pr, w.patients[1], 11, 0, Some(8));
    let second_id = second.appointment.id;
    assert!(book(&db.store, first).await.is_booked());
    assert!(book(&db.store, second).await.is_booked());
    if let Store::Postgres(pool) = &db.store {
        let moved = sqlx::query(
            "UPDATE appointments SET start_at = start_at - interval '2 hours', end_at = end_at - interval '2 hours', \
             busy_start_at = busy_start_at - interval '2 hours', busy_end_at = busy_end_at - interval '2 hours' WHERE id = $1",
        )
        .bind(second_id)
        .execute(pool)
        .await;
        let err = moved.expect_err("the exclusion constraint refuses the overlap");
        assert!(err.to_string().contains("appointments_no_overlap"), "{err}");
        let cancelled_then_moved = sqlx::query(
            "UPDATE appointments SET status = 'cancelled', cancelled_at = now(), cancellation_reason = 'moved', \
             start_at = start_at - interval '2 hours', end_at = end_at - interval '2 hours', \
             busy_start_at = busy_start_at - interval '2 hours', busy_end_at = busy_end_at - interval '2 hours' WHERE id = $1",
        )
        .bind(second_id)
        .execute(pool)
        .await;
        assert!(
            cancelled_then_moved.is_ok(),
            "cancelled appointments hold no time"
        );
    }
}

fn hm(s: &str) -> String {
    s.to_owned()
}

/// Facts stored, read back and searched: rules with a break, a closed date, approved and
/// merely requested time off, a booking; then cancelling frees the slot and the cap place.
async fn stored_facts_drive_the_slot_search(db: &TestDb) {
    use carebook_domain::schedule::{Booked, SlotQuery, Span, free_slots};
    let w = world(&db.store, 1, 1).await;
    let pr = w.providers[0];
    let tz = jiff::tz::TimeZone::get("Africa/Nairobi").unwrap();
    let local = |d: Date, h: i8, m: i8| d.at(h, m, 0, 0).to_zoned(tz.clone()).unwrap().timestamp();
    let monday = day();
    let next_monday = date(2026, 12, 7);
    let mut tx = db.store.write().await.unwrap();
    tx.insert_availability_rule(&AvailabilityRule {
        id: Uuid::now_v7(),
        clinic_id: w.clinic,
        provider_id: pr,
        day_of_week: 1,
        start_time: hm("09:00"),
        end_time: hm("12:00"),
        breaks: vec![ClockSpan {
            start: hm("10:00"),
            end: hm("10:30"),
        }],
        is_working_day: true,
        mode: "any".into(),
        valid_from: None,
        valid_until: None,
        is_active: true,
        notes: None,
        created_at: now(),
        updated_at: now(),
    })
    .await
    .unwrap();
    tx.insert_availability_exception(&AvailabilityException {
        id: Uuid::now_v7(),
        clinic_id: w.clinic,
        provider_id: pr,
        date: next_monday,
        kind: "unavailable".into(),
        start_time: None,
        end_time: None,
        reason: Some("Public holiday".into()),
        created_by_user_id: None,
        created_at: now(),
    })
    .await
    .unwrap();
    let off = |start: Timestamp, end: Timestamp, status: &str| TimeOff {
        id: Uuid::now_v7(),
        provider_id: pr,
        clinic_id: None,
        starts_at: start,
        ends_at: end,
        reason: None,
        status: status.into(),
        requested_by_user_id: None,
        decided_by_user_id: None,
        decided_at: None,
        created_at: now(),
        updated_at: now(),
    };
    let approved = off(local(monday, 11, 0), local(monday, 12, 0), "requested");
    tx.insert_time_off(&approved).await.unwrap();
    tx.insert_time_off(&off(local(monday, 9, 0), local(monday, 9, 30), "requested"))
        .await
        .unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.write().await.unwrap();
    let (decided, affected) = tx
        .decide_time_off(approved.id, "approved", None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decided.status, "approved");
    assert!(affected.is_empty(), "nothing booked in that hour yet");
    assert!(
        tx.decide_time_off(approved.id, "rejected", None, now())
            .await
            .unwrap()
            .is_none(),
        "decided once"
    );
    tx.append_audit(&record("time_off.approve")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        book(&db.store, booking(&w, pr, w.patients[0], 9, 0, Some(8)))
            .await
            .is_booked()
    );

    let search = |facts: &ScheduleFacts| {
        let rules: Vec<_> = facts
            .rules
            .iter()
            .filter_map(AvailabilityRule::to_weekly)
            .collect();
        let overrides = day_overrides(&facts.exceptions);
        let time_off: Vec<Span> = facts
            .time_off
            .iter()
            .filter_map(|t| Span::new(t.starts_at, t.ends_at))
            .collect();
        let booked: Vec<Booked> = facts
            .bookings
            .iter()
            .map(|a| Booked {
                start: a.start_at,
                busy: Span::new(a.busy_start_at, a.busy_end_at).unwrap(),
            })
            .collect();
        let q = SlotQuery {
            tz: &tz,
            from: monday,
            to: next_monday,
            rules: &rules,
            overrides: &overrides,
            time_off: &time_off,
            booked: &booked,
            duration: SignedDuration::from_mins(30),
            buffer_before: SignedDuration::from_mins(5),
            buffer_after: SignedDuration::from_mins(10),
            step_minutes: 15,
            min_notice: SignedDuration::ZERO,
            horizon: SignedDuration::from_hours(24 * 30),
            daily_cap: Some(8),
            now: now(),
        };
        free_slots(&q)
    };
    let span = (local(monday, 0, 0), local(date(2026, 12, 8), 0, 0));
    let facts = db
        .store
        .read()
        .await
        .unwrap()
        .schedule_facts(pr, w.clinic, (monday, next_monday), span)
        .await
        .unwrap();
    assert_eq!(facts.time_off.len(), 1, "only approved time off counts");
    let days = search(&facts);
    let starts: Vec<String> = days[0]
        .slots
        .iter()
        .map(|s| {
            s.start
                .to_zoned(tz.clone())
                .time()
                .strftime("%H:%M")
                .to_string()
        })
        .collect();
    // 09:00 booked (busy to 09:40), break 10:00-10:30, time off from 11:00.
    assert_eq!(starts, ["10:30"], "{days:?}");
    assert_eq!(
        days[7].reason,
        Some(carebook_domain::schedule::NoSlotReason::NotWorking),
        "the holiday is closed"
    );

    let booked_id = facts.bookings[0].id;
    let mut tx = db.store.write().await.unwrap();
    let cancelled = tx
        .cancel_appointment(booked_id, None, "patient unwell", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    assert!(
        tx.cancel_appointment(booked_id, None, "again", now())
            .await
            .unwrap()
            .is_none(),
        "only once"
    );
    tx.append_audit(&record("appointment.cancel"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let facts = db
        .store
        .read()
        .await
        .unwrap()
        .schedule_facts(pr, w.clinic, (monday, next_monday), span)
        .await
        .unwrap();
    let starts: Vec<String> = search(&facts)[0]
        .slots
        .iter()
        .map(|s| {
            s.start
                .to_zoned(tz.clone())
                .time()
                .strftime("%H:%M")
                .to_string()
        })
        .collect();
    assert_eq!(
        starts,
        ["09:00", "09:15", "09:30", "10:30"],
        "the cancelled time is free again"
    );
    assert_eq!(
        db.store
            .read()
            .await
            .unwrap()
            .provider_day_load(pr, monday)
            .await
            .unwrap(),
        0,
        "and its cap place"
    );
}

fn moved_to(a: &NewAppointment, d: Date, hour: i8, cap: Option<u32>) -> Reschedule {
    let tz = jiff::tz::TimeZone::get("Africa/Nairobi").unwrap();
    let start = d.at(hour, 0, 0, 0).to_zoned(tz).unwrap().timestamp();
    let end = start + SignedDuration::from_mins(30);
    Reschedule {
        id: a.appointment.id,
        start_at: start,
        end_at: end,
        busy_start_at: start - SignedDuration::from_mins(5),
        busy_end_at: end + SignedDuration::from_mins(10),
        local_date: d,
        status: AppointmentStatus::Scheduled,
        daily_cap: cap,
        now: now(),
    }
}

async fn reschedules_never_overlap_and_hold_one_slot(db: &TestDb) {
    let w = world(&db.store, 1, 8).await;
    let pr = w.providers[0];
    let originals: Vec<NewAppointment> = w
        .patients
        .iter()
        .enumerate()
        .map(|(i, p)| booking(&w, pr, *p, 8 + i as i8, 0, Some(20)))
        .collect();
    for a in &originals {
        assert!(book(&db.store, a.clone()).await.is_booked());
    }
    // Everyone wants 17:00.
    let handles: Vec<_> = originals
        .iter()
        .map(|a| {
            let store = db.store.clone();
            let change = moved_to(a, day(), 17, Some(20));
            tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                let outcome = tx.reschedule_appointment(&change).await.unwrap();
                if outcome.is_booked() {
                    tx.append_audit(&record("appointment.reschedule"))
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
                outcome
            })
        })
        .collect();
    let mut outcomes = vec![];
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|o| o.is_booked()).count(),
        1,
        "{outcomes:?}"
    );
    let from = day().to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp()
        - SignedDuration::from_hours(24);
    let held = db
        .store
        .read()
        .await
        .unwrap()
        .provider_bookings(pr, from, from + SignedDuration::from_hours(72))
        .await
        .unwrap();
    assert_eq!(
        held.len(),
        8,
        "every appointment still holds exactly one slot"
    );
    for (i, a) in held.iter().enumerate() {
        for b in &held[i + 1..] {
            assert!(
                a.busy_end_at <= b.busy_start_at || b.busy_end_at <= a.busy_start_at,
                "{a:?} overlaps {b:?}"
            );
        }
    }
    let at_five = held
        .iter()
        .filter(|a| a.start_at == moved_to(&originals[0], day(), 17, None).start_at)
        .count();
    assert_eq!(at_five, 1);

    // Across days the cap applies to the new day, and the old day gets its place back.
    let tuesday = date(2026, 12, 1);
    let mover = originals
        .iter()
        .find(|a| {
            held.iter()
                .any(|h| h.id == a.appointment.id && h.start_at == a.appointment.start_at)
        })
        .unwrap();
    let number = held
        .iter()
        .find(|h| h.id == mover.appointment.id)
        .unwrap()
        .number
        .clone();
    let mut tx = db.store.write().await.unwrap();
    let outcome = tx
        .reschedule_appointment(&moved_to(mover, tuesday, 9, Some(1)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        BookingOutcome::Booked { number },
        "moved, keeping its number"
    );
    tx.append_audit(&record("appointment.reschedule"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.provider_day_load(pr, day()).await.unwrap(), 7);
    assert_eq!(tx.provider_day_load(pr, tuesday).await.unwrap(), 1);
    drop(tx);
    let other = originals
        .iter()
        .find(|a| a.appointment.id != mover.appointment.id)
        .unwrap();
    let mut tx = db.store.write().await.unwrap();
    assert_eq!(
        tx.reschedule_appointment(&moved_to(other, tuesday, 11, Some(1)))
            .await
            .unwrap(),
        BookingOutcome::DailyCapReached
    );
}

async fn the_desk_moves_appointments_through_their_day(db: &TestDb) {
    let w = world(&db.store, 1, 1).await;
    let a = booking(&w, w.providers[0], w.patients[0], 9, 0, Some(8));
    let id = a.appointment.id;
    assert!(book(&db.store, a).await.is_booked());
    use AppointmentStatus as S;
    let steps = [
        (S::Scheduled, S::Confirmed),
        (S::Confirmed, S::CheckedIn),
        (S::CheckedIn, S::InProgress),
        (S::InProgress, S::Completed),
    ];
    for (i, (from, to)) in steps.into_iter().enumerate() {
        let at = now() + SignedDuration::from_mins(i as i64);
        let mut tx = db.store.write().await.unwrap();
        let got = tx
            .set_appointment_status(id, from, to, at)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.status, to);
        tx.append_audit(&record("appointment.transition"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let done = db
        .store
        .read()
        .await
        .unwrap()
        .get_appointment(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.confirmed_at, Some(now()));
    assert_eq!(
        done.checked_in_at,
        Some(now() + SignedDuration::from_mins(1))
    );
    assert_eq!(done.started_at, Some(now() + SignedDuration::from_mins(2)));
    assert_eq!(
        done.completed_at,
        Some(now() + SignedDuration::from_mins(3))
    );
    let mut tx = db.store.write().await.unwrap();
    assert!(
        tx.set_appointment_status(id, S::Confirmed, S::CheckedIn, now())
            .await
            .unwrap()
            .is_none(),
        "a stale view changes nothing"
    );
    assert!(matches!(
        tx.set_appointment_status(id, S::Completed, S::Cancelled, now())
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn approving_leave_lists_the_appointments_it_hits(db: &TestDb) {
    let w = world(&db.store, 1, 3).await;
    let pr = w.providers[0];
    let nine = booking(&w, pr, w.patients[0], 9, 0, Some(8));
    let eleven = booking(&w, pr, w.patients[1], 11, 0, Some(8));
    let eleven_id = eleven.appointment.id;
    assert!(book(&db.store, nine).await.is_booked());
    assert!(book(&db.store, eleven).await.is_booked());
    let leave = |from_h: i8, to_h: i8, clinic: Option<Uuid>| {
        let tz = jiff::tz::TimeZone::get("Africa/Nairobi").unwrap();
        let at = |h: i8| {
            day()
                .at(h, 0, 0, 0)
                .to_zoned(tz.clone())
                .unwrap()
                .timestamp()
        };
        TimeOff {
            id: Uuid::now_v7(),
            provider_id: pr,
            clinic_id: clinic,
            starts_at: at(from_h),
            ends_at: at(to_h),
            reason: Some("Family matter".into()),
            status: "requested".into(),
            requested_by_user_id: None,
            decided_by_user_id: None,
            decided_at: None,
            created_at: now(),
            updated_at: now(),
        }
    };
    let other_clinic = world(&db.store, 0, 0).await.clinic;
    let elsewhere = leave(10, 12, Some(other_clinic));
    let here = leave(10, 12, Some(w.clinic));
    let rejected = leave(8, 17, None);
    let mut tx = db.store.write().await.unwrap();
    tx.insert_time_off(&elsewhere).await.unwrap();
    tx.insert_time_off(&here).await.unwrap();
    tx.insert_time_off(&rejected).await.unwrap();
    let (t, affected) = tx
        .decide_time_off(here.id, "approved", None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.status, "approved");
    assert_eq!(
        affected.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![eleven_id],
        "the 11:00 visit, not the 09:00 one"
    );
    assert_eq!(
        affected[0].status,
        AppointmentStatus::Scheduled,
        "listed, not cancelled"
    );
    let (t, affected) = tx
        .decide_time_off(rejected.id, "rejected", None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.status, "rejected");
    assert!(affected.is_empty(), "a rejection moves nobody");
}

async fn who_can_be_booked_for_what(db: &TestDb) {
    let w = world(&db.store, 3, 0).await;
    let service = |name: &str, active: bool| Service {
        buffer_after_minutes: 5,
        fee_minor: Some(250_000),
        currency: Some("KES".into()),
        is_active: active,
        ..Service::new(Uuid::now_v7(), w.clinic, name, 30, now())
    };
    let consult = service("General consultation", true);
    let retired = service("Old service", false);
    let mut tx = db.store.write().await.unwrap();
    tx.insert_service(&consult).await.unwrap();
    tx.insert_service(&retired).await.unwrap();
    tx.insert_provider_service(w.providers[0], consult.id, now())
        .await
        .unwrap();
    tx.insert_provider_service(w.providers[1], consult.id, now())
        .await
        .unwrap();
    tx.insert_provider_service(w.providers[1], consult.id, now())
        .await
        .unwrap();
    tx.append_audit(&record("test.setup")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    let listed: Vec<String> = tx
        .list_services(w.clinic, false)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        listed,
        ["General consultation"],
        "inactive services are not offered"
    );
    assert_eq!(tx.list_services(w.clinic, true).await.unwrap().len(), 2);
    assert_eq!(
        tx.get_service(consult.id)
            .await
            .unwrap()
            .unwrap()
            .buffer_after_minutes,
        5
    );
    let eligible = tx
        .eligible_providers(w.clinic, consult.id, None)
        .await
        .unwrap();
    let mut ids: Vec<Uuid> = eligible.iter().map(|e| e.provider.id).collect();
    ids.sort();
    let mut want = vec![w.providers[0], w.providers[1]];
    want.sort();
    assert_eq!(
        ids, want,
        "linked providers with a live engagement, each once"
    );
    assert!(
        eligible
            .iter()
            .all(|e| e.engagement.clinic_id == w.clinic && e.engagement.booking_enabled)
    );
    assert!(
        tx.eligible_providers(Uuid::now_v7(), consult.id, None)
            .await
            .unwrap()
            .is_empty(),
        "not at another clinic"
    );
    let one = tx
        .eligible_providers(w.clinic, consult.id, Some(w.providers[1]))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].provider.id, w.providers[1]);
    assert!(one[0].name.starts_with("Dr "));
    assert!(
        tx.eligible_providers(w.clinic, consult.id, Some(w.providers[2]))
            .await
            .unwrap()
            .is_empty(),
        "not linked to the service"
    );

    let defaults = tx.booking_settings(w.clinic).await.unwrap();
    assert_eq!(defaults, BookingSettings::defaults(w.clinic));
    drop(tx);
    let mut tx = db.store.write().await.unwrap();
    let custom = BookingSettings {
        slot_granularity_minutes: 10,
        requires_prepayment: true,
        ..defaults
    };
    tx.save_booking_settings(&custom, now()).await.unwrap();
    tx.save_booking_settings(
        &BookingSettings {
            min_notice_minutes: 0,
            ..custom.clone()
        },
        now(),
    )
    .await
    .unwrap();
    tx.append_audit(&record("clinic.booking_settings"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let saved = db
        .store
        .read()
        .await
        .unwrap()
        .booking_settings(w.clinic)
        .await
        .unwrap();
    assert_eq!(
        (
            saved.slot_granularity_minutes,
            saved.min_notice_minutes,
            saved.requires_prepayment
        ),
        (10, 0, true)
    );
    assert_eq!(saved.updated_at, Some(now()));
}

/// The "any provider" read returns, per provider, the same facts as the one-provider read.
async fn service_facts_match_provider_facts(db: &TestDb) {
    let w = world(&db.store, 3, 9).await;
    let service = Service::new(Uuid::now_v7(), w.clinic, "Consultation", 30, now());
    let mut tx = db.store.write().await.unwrap();
    tx.insert_service(&service).await.unwrap();
    for p in &w.providers[..2] {
        tx.insert_provider_service(*p, service.id, now())
            .await
            .unwrap();
    }
    tx.append_audit(&record("setup")).await.unwrap();
    tx.commit().await.unwrap();
    for (i, p) in w.providers.iter().enumerate() {
        for (k, h) in [9, 11, 15].into_iter().enumerate() {
            let patient = w.patients[i * 3 + k];
            assert!(
                book(&db.store, booking(&w, *p, patient, h, 0, Some(8)))
                    .await
                    .is_booked()
            );
        }
    }
    let dates = (day(), day());
    let span = (
        day()
            .at(0, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            - SignedDuration::from_hours(24),
        day()
            .at(0, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            + SignedDuration::from_hours(48),
    );
    let mut tx = db.store.read().await.unwrap();
    let all = tx
        .service_schedule_facts(w.clinic, service.id, dates, span)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "only the service's providers");
    for (provider, facts) in &all {
        let one = tx
            .schedule_facts(*provider, w.clinic, dates, span)
            .await
            .unwrap();
        let mut a = facts.bookings.clone();
        let mut b = one.bookings.clone();
        a.sort_by_key(|s| s.start_at);
        b.sort_by_key(|s| s.start_at);
        assert_eq!(a.len(), 3);
        assert_eq!(a, b, "the packed spans decode to the same bookings");
    }
}

both_backends! {
    service_facts => service_facts_match_provider_facts,
    eligibility => who_can_be_booked_for_what,
    leave_lists => approving_leave_lists_the_appointments_it_hits,
    desk_day => the_desk_moves_appointments_through_their_day,
    reschedules => reschedules_never_overlap_and_hold_one_slot,
    stored_facts => stored_facts_drive_the_slot_search,
    any_path => the_database_refuses_overlaps_on_any_path,
    one_slot => one_slot_many_takers,
    daily_cap => the_cap_is_never_exceeded,
    patient_overlap => a_patient_is_in_one_place,
    unique_numbers => numbers_are_unique_under_contention,
    buffers => buffers_hold_time_and_refusals_cannot_commit,
}
