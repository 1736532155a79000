//! The scheduling half of the demo network: providers (one working at two clinics), services
//! per clinic, weekly hours with a lunch break, holidays, approved and requested leave, and
//! appointments from last week to the week after next in every status. Appointments are placed
//! through the same atomic booking as the API, so the demo never holds a double booking.

use crate::seed::record;
use anyhow::Result;
use carebook_domain::audit::AuditRecord;
use carebook_domain::schedule::lifecycle::AppointmentStatus;
use carebook_store::models::Clinic;
use carebook_store::scheduling::*;
use carebook_store::{Store, StoreTx};
use jiff::civil::{Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use uuid::Uuid;

/// (provider email, clinics with the primary first, emergency enabled, weekend mornings)
type DemoProvider = (&'static str, &'static [&'static str], bool, bool);

/// Brooklyn Heights also opens weekend mornings, so some clinic is always working "today".
const PROVIDERS: &[DemoProvider] = &[
    (
        "dr.njoroge@carebook.test",
        &["nairobi-west", "mombasa-nyali"],
        true,
        false,
    ),
    ("dr.mwangi@carebook.test", &["nairobi-west"], false, false),
    ("dr.abdalla@carebook.test", &["mombasa-nyali"], true, false),
    ("dr.patel@carebook.test", &["london-bridge"], false, false),
    ("dr.cohen@carebook.test", &["brooklyn-heights"], true, true),
];

/// (clinic, name, category, minutes, buffer before, buffer after, fee in minor units)
const SERVICES: &[(&str, &str, &str, u32, u32, u32, i64)] = &[
    (
        "nairobi-west",
        "General consultation",
        "Consultation",
        30,
        0,
        5,
        250_000,
    ),
    (
        "nairobi-west",
        "Paediatric review",
        "Consultation",
        20,
        0,
        5,
        300_000,
    ),
    (
        "nairobi-west",
        "Dental cleaning",
        "Dental",
        45,
        10,
        10,
        450_000,
    ),
    (
        "mombasa-nyali",
        "General consultation",
        "Consultation",
        30,
        0,
        5,
        250_000,
    ),
    (
        "mombasa-nyali",
        "Antenatal visit",
        "Maternity",
        40,
        5,
        5,
        350_000,
    ),
    (
        "london-bridge",
        "GP appointment",
        "Consultation",
        15,
        0,
        5,
        6_500,
    ),
    (
        "brooklyn-heights",
        "Primary care visit",
        "Consultation",
        30,
        5,
        5,
        15_000,
    ),
];

fn rule(
    clinic: Uuid,
    provider: Uuid,
    day: u8,
    start: &str,
    end: &str,
    lunch: bool,
    now: Timestamp,
) -> AvailabilityRule {
    AvailabilityRule {
        id: Uuid::now_v7(),
        clinic_id: clinic,
        provider_id: provider,
        day_of_week: day,
        start_time: start.into(),
        end_time: end.into(),
        breaks: if lunch {
            vec![ClockSpan {
                start: "12:30".into(),
                end: "13:30".into(),
            }]
        } else {
            vec![]
        },
        is_working_day: true,
        mode: "any".into(),
        valid_from: None,
        valid_until: None,
        is_active: true,
        notes: None,
        created_at: now,
        updated_at: now,
    }
}

/// One write transaction with its audit record.
async fn commit(mut tx: Box<dyn StoreTx>, r: AuditRecord) -> Result<()> {
    tx.append_audit(&r).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes `r` to the audit trail of the open transaction and counts the row it records.
async fn audited(tx: &mut dyn StoreTx, added: &mut usize, r: AuditRecord) -> Result<()> {
    tx.append_audit(&r).await?;
    *added += 1;
    Ok(())
}

/// Loads the scheduling demo unless it is there already; returns the rows added.
pub async fn demo(
    store: &Store,
    clinics: &HashMap<&'static str, Clinic>,
    patients: &HashMap<&'static str, Vec<Uuid>>,
    now: Timestamp,
) -> Result<usize> {
    let mut added = 0;
    let mut providers: Vec<(Provider, &'static [&'static str], bool)> = vec![];
    // Providers, services, hours, holidays and leave: one transaction, all or nothing.
    let mut tx = store.write().await?;
    for (n, (email, at, emergency, weekends)) in PROVIDERS.iter().enumerate() {
        let Some(user) = tx.find_user_by_email(email).await? else {
            continue;
        };
        if tx.get_provider_by_user(user.id).await?.is_some() {
            return Ok(0); // loaded before: the demo is all or nothing
        }
        let mut p = Provider::new(Uuid::now_v7(), user.id, now);
        p.title = Some("Dr.".into());
        p.bio = Some(format!(
            "{} sees patients at {}.",
            user.name,
            at.join(" and ")
        ));
        p.license_number = Some(format!("DEMO-{:05}", 10_417 + n * 7));
        p.practice_start_year = Some(2004 + (n as i32 * 3) % 17);
        p.qualifications = vec!["MBChB".into()];
        p.languages = if at
            .iter()
            .any(|s| s.starts_with("nairobi") || s.starts_with("mombasa"))
        {
            vec!["en".into(), "sw".into()]
        } else {
            vec!["en".into()]
        };
        p.emergency_enabled = *emergency;
        p.verification_status = "verified".into();
        tx.insert_provider(&p).await?;
        for (i, slug) in at.iter().enumerate() {
            let Some(c) = clinics.get(slug) else { continue };
            let mut pc = ProviderClinic::new(Uuid::now_v7(), p.id, c.id, date(2025, 1, 6), now);
            pc.is_primary = i == 0;
            pc.department = Some("General practice".into());
            pc.designation = Some(
                if i == 0 {
                    "Resident physician"
                } else {
                    "Visiting physician"
                }
                .into(),
            );
            pc.consultation_modes = vec!["in_person".into(), "video".into()];
            tx.insert_provider_clinic(&pc).await?;
            // The primary clinic on weekdays with lunch; a second clinic on Saturday mornings.
            if i == 0 {
                for d in 1..=5 {
                    tx.insert_availability_rule(&rule(c.id, p.id, d, "08:00", "17:00", true, now))
                        .await?;
                }
            } else {
                tx.insert_availability_rule(&rule(c.id, p.id, 6, "09:00", "13:00", false, now))
                    .await?;
            }
        }
        audited(
            tx.as_mut(),
            &mut added,
            record(
                "provider.create",
                "provider",
                p.id,
                at.first().and_then(|s| clinics.get(s)).map(|c| c.id),
                now,
            ),
        )
        .await?;
        providers.push((p, at, *weekends));
    }

    let mut services: HashMap<&str, Vec<Service>> = HashMap::new();
    for (slug, name, category, minutes, before, after, fee) in SERVICES {
        let Some(c) = clinics.get(slug) else { continue };
        let s = Service {
            category: Some((*category).into()),
            buffer_before_minutes: *before,
            buffer_after_minutes: *after,
            fee_minor: Some(*fee),
            currency: Some(c.currency.clone()),
            // Consultations can also be held by video; procedures cannot.
            modes: if *category == "Consultation" {
                vec!["in_person".into(), "video".into()]
            } else {
                vec!["in_person".into()]
            },
            ..Service::new(Uuid::now_v7(), c.id, name, *minutes, now)
        };
        tx.insert_service(&s).await?;
        audited(
            tx.as_mut(),
            &mut added,
            record("service.create", "service", s.id, Some(c.id), now),
        )
        .await?;
        services.entry(slug).or_default().push(s);
    }

    // Every provider delivers the services of the clinics they work at (part of the provider's
    // set-up above, so no audit record of its own).
    for (p, at, _) in &providers {
        for s in at.iter().filter_map(|slug| services.get(slug)).flatten() {
            tx.insert_provider_service(p.id, s.id, now).await?;
        }
    }

    // Holidays: Jamhuri Day at the Kenyan clinics, Christmas everywhere.
    for (p, at, _) in &providers {
        for slug in *at {
            let Some(c) = clinics.get(slug) else { continue };
            let mut days = vec![(date(2026, 12, 25), "Christmas Day")];
            if c.country.as_deref() == Some("KE") {
                days.push((date(2026, 12, 12), "Jamhuri Day"));
            }
            for (d, why) in days {
                let e = AvailabilityException {
                    id: Uuid::now_v7(),
                    clinic_id: c.id,
                    provider_id: p.id,
                    date: d,
                    kind: "unavailable".into(),
                    start_time: None,
                    end_time: None,
                    reason: Some(why.into()),
                    created_by_user_id: None,
                    created_at: now,
                };
                tx.insert_availability_exception(&e).await?;
                audited(
                    tx.as_mut(),
                    &mut added,
                    record(
                        "availability.exception_create",
                        "availability_exception",
                        e.id,
                        Some(c.id),
                        now,
                    ),
                )
                .await?;
            }
        }
    }

    // Leave: one approved week in a fortnight, one request still waiting for a decision.
    for (i, (p, _, _)) in providers.iter().enumerate().take(2) {
        let starts = now + SignedDuration::from_hours(24 * (14 + 7 * i as i64));
        let t = TimeOff {
            id: Uuid::now_v7(),
            provider_id: p.id,
            clinic_id: None,
            starts_at: starts,
            ends_at: starts + SignedDuration::from_hours(24 * 5),
            reason: Some(if i == 0 { "Annual leave" } else { "Conference" }.into()),
            status: if i == 0 { "approved" } else { "requested" }.into(),
            requested_by_user_id: None,
            decided_by_user_id: None,
            decided_at: (i == 0).then_some(now),
            created_at: now,
            updated_at: now,
        };
        tx.insert_time_off(&t).await?;
        audited(
            tx.as_mut(),
            &mut added,
            record("time_off.create", "time_off", t.id, None, now),
        )
        .await?;
    }
    tx.commit().await?;

    // Appointments one at a time: a refused booking (the patient is elsewhere) is skipped.
    added += appointments(store, clinics, patients, &providers, &services, now).await?;
    added += waitlist(store, clinics, patients, &providers, &services, now).await?;
    Ok(added)
}

/// A short waitlist at each clinic for its first provider's next three days: cancel one of
/// those days' appointments and the worker offers the time to the urgent entry first.
async fn waitlist(
    store: &Store,
    clinics: &HashMap<&'static str, Clinic>,
    patients: &HashMap<&'static str, Vec<Uuid>>,
    providers: &[(Provider, &'static [&'static str], bool)],
    services: &HashMap<&str, Vec<Service>>,
    now: Timestamp,
) -> Result<usize> {
    use carebook_domain::schedule::lifecycle::Priority;
    use carebook_domain::waitlist::EntryStatus;
    let mut added = 0;
    let mut tx = store.write().await?;
    let mut seen = std::collections::HashSet::new();
    for (p, at, _) in providers {
        let Some(slug) = at.first() else { continue };
        let (Some(c), Some(svcs), Some(pats)) =
            (clinics.get(slug), services.get(slug), patients.get(slug))
        else {
            continue;
        };
        if !seen.insert(c.id) || svcs.is_empty() || pats.len() < 3 {
            continue;
        }
        let Ok(tz) = TimeZone::get(&c.timezone) else {
            continue;
        };
        let today = now.to_zoned(tz).date();
        let day = |n: i64| today.checked_add(jiff::Span::new().days(n)).ok();
        let wanted = [
            (Priority::Urgent, "Worsening back pain; any time this week."),
            (Priority::Standard, "Prefers mornings."),
            (Priority::Standard, "Can come at short notice."),
        ];
        for (k, (priority, notes)) in wanted.into_iter().enumerate() {
            let e = carebook_store::waitlist::WaitlistEntry {
                id: Uuid::now_v7(),
                clinic_id: c.id,
                patient_id: pats[pats.len() - 1 - k],
                service_id: svcs[0].id,
                provider_id: Some(p.id),
                mode: None,
                requested_from: day(1),
                requested_to: day(3),
                priority,
                position: 1,
                notes: Some(notes.into()),
                status: EntryStatus::Waiting,
                appointment_id: None,
                created_by_user_id: None,
                created_at: now,
                updated_at: now,
                assigned_at: None,
                closed_at: None,
                close_reason: None,
            };
            if tx.insert_waitlist_entry(&e).await? {
                audited(
                    tx.as_mut(),
                    &mut added,
                    record("waitlist.add", "waitlist_entry", e.id, Some(c.id), now),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(added)
}

/// The status the `i`-th appointment of `[start, end)` is in at `now`: finished ones are
/// completed, missed or cancelled; one under way is in progress; later ones are booked,
/// confirmed, awaiting payment or cancelled.
fn status_for(start: Timestamp, end: Timestamp, now: Timestamp, i: usize) -> AppointmentStatus {
    use AppointmentStatus as S;
    if end <= now {
        [S::Completed, S::Completed, S::NoShow, S::Cancelled][i % 4]
    } else if start <= now {
        S::InProgress
    } else {
        [
            S::Scheduled,
            S::Confirmed,
            S::PendingPayment,
            S::Cancelled,
            S::Scheduled,
        ][i % 5]
    }
}

/// The transitions from `scheduled` that lead to `to`.
fn path_to(to: AppointmentStatus) -> &'static [AppointmentStatus] {
    use AppointmentStatus as S;
    match to {
        S::Confirmed => &[S::Confirmed],
        S::CheckedIn => &[S::Confirmed, S::CheckedIn],
        S::InProgress => &[S::Confirmed, S::CheckedIn, S::InProgress],
        S::Completed => &[S::Confirmed, S::CheckedIn, S::InProgress, S::Completed],
        S::NoShow => &[S::Confirmed, S::NoShow],
        _ => &[],
    }
}

async fn appointments(
    store: &Store,
    clinics: &HashMap<&'static str, Clinic>,
    patients: &HashMap<&'static str, Vec<Uuid>>,
    providers: &[(Provider, &'static [&'static str], bool)],
    services: &HashMap<&str, Vec<Service>>,
    now: Timestamp,
) -> Result<usize> {
    let mut added = 0;
    let mut busy_desks = std::collections::HashSet::new();
    for (p, at, weekends) in providers {
        let Some(slug) = at.first() else { continue };
        let (Some(c), Some(svcs), Some(pats)) =
            (clinics.get(slug), services.get(slug), patients.get(slug))
        else {
            continue;
        };
        let Ok(tz) = TimeZone::get(&c.timezone) else {
            continue;
        };
        let today = now.to_zoned(tz.clone()).date();
        let mut i = 0;
        // The clinic's first provider has someone with them and someone waiting, whatever the
        // hour the demo is loaded: a visit that started ten minutes ago, and a patient checked
        // in for the half hour after it.
        let minute = SignedDuration::from_mins(1);
        let t0 = Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(300))
            .unwrap_or(now);
        let under_way: &[(Timestamp, AppointmentStatus)] = if busy_desks.insert(c.id) {
            &[
                (t0 - minute * 10, AppointmentStatus::InProgress),
                (t0 + minute * 30, AppointmentStatus::CheckedIn),
            ]
        } else {
            &[]
        };
        for &(start, status) in under_way {
            let s = &svcs[i % svcs.len()];
            let patient = pats[(i + 7) % pats.len()];
            i += 1;
            if book_one(store, c, &tz, p, s, patient, start, status, now).await? {
                added += 1;
            }
        }
        for offset in -6i64..=9 {
            let Ok(d) = today.checked_add(jiff::Span::new().days(offset)) else {
                continue;
            };
            let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
            if weekend && !weekends {
                continue;
            }
            // Inside the day's hours: 08:00-17:00 with lunch on weekdays, 10:00-14:00 otherwise.
            let hours: &[i8] = if weekend { &[10, 12] } else { &[9, 11, 14] };
            for &hour in hours {
                let s = &svcs[i % svcs.len()];
                let patient = pats[i % pats.len()];
                let Ok(start) = d
                    .at(hour, 0, 0, 0)
                    .to_zoned(tz.clone())
                    .map(|z| z.timestamp())
                else {
                    continue;
                };
                let end = start + SignedDuration::from_mins(i64::from(s.duration_minutes));
                let status = status_for(start, end, now, i);
                i += 1;
                if book_one(store, c, &tz, p, s, patient, start, status, now).await? {
                    added += 1;
                }
            }
        }
    }
    Ok(added)
}

#[allow(clippy::too_many_arguments)]
async fn book_one(
    store: &Store,
    c: &Clinic,
    tz: &TimeZone,
    p: &Provider,
    s: &Service,
    patient: Uuid,
    start: Timestamp,
    status: AppointmentStatus,
    now: Timestamp,
) -> Result<bool> {
    let d = start.to_zoned(tz.clone()).date();
    let end = start + SignedDuration::from_mins(i64::from(s.duration_minutes));
    let first = if status == AppointmentStatus::PendingPayment {
        status
    } else {
        AppointmentStatus::Scheduled
    };
    let new = NewAppointment {
        appointment: Appointment {
            service_id: Some(s.id),
            status: first,
            busy_start_at: start - SignedDuration::from_mins(i64::from(s.buffer_before_minutes)),
            busy_end_at: end + SignedDuration::from_mins(i64::from(s.buffer_after_minutes)),
            fee_minor: s.fee_minor,
            currency: s.currency.clone(),
            hold_expires_at: (first == AppointmentStatus::PendingPayment)
                .then(|| now + SignedDuration::from_mins(15)),
            ..Appointment::new(c.id, patient, p.id, start, end, d, now)
        },
        booked_on: now.to_zoned(tz.clone()).date(),
        daily_cap: Some(p.max_daily_appointments),
    };
    let mut tx = store.write().await?;
    if !tx.book_appointment(&new).await?.is_booked() {
        return Ok(false); // the patient is elsewhere then: leave the slot free
    }
    let id = new.appointment.id;
    let mut from = first;
    for to in path_to(status) {
        tx.set_appointment_status(id, from, *to, now).await?;
        from = *to;
    }
    if status == AppointmentStatus::Cancelled {
        tx.cancel_appointment(id, None, "Patient asked to cancel", now)
            .await?;
    } else if matches!(
        status,
        AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
    ) {
        // As a booking through the API would: its reminders are queued with it.
        let settings = tx.booking_settings(c.id).await?;
        carebook_jobs::reminders::plan(tx.as_mut(), &new.appointment, &settings, now).await?;
    }
    commit(
        tx,
        record("appointment.create", "appointment", id, Some(c.id), now),
    )
    .await?;
    Ok(true)
}
