//! `carebook seed --demo`: a small, realistic clinic network to explore Carebook with. Running
//! it again adds only what is missing. Every account's password is [`DEMO_PASSWORD`].

use anyhow::Result;
use carebook_domain::Role;
use carebook_domain::audit::AuditRecord;
use carebook_store::Store;
use carebook_store::models::{Clinic, Patient, User};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use uuid::Uuid;

pub const DEMO_PASSWORD: &str = "carebook-demo";

struct DemoClinic {
    slug: &'static str,
    name: &'static str,
    timezone: &'static str,
    city: &'static str,
    country: &'static str,
    currency: &'static str,
    lat: f64,
    lng: f64,
    self_registration: bool,
}

const CLINICS: &[DemoClinic] = &[
    DemoClinic {
        slug: "nairobi-west",
        name: "Carebook Nairobi West",
        timezone: "Africa/Nairobi",
        city: "Nairobi",
        country: "KE",
        currency: "KES",
        lat: -1.3032,
        lng: 36.7073,
        self_registration: true,
    },
    DemoClinic {
        slug: "mombasa-nyali",
        name: "Carebook Mombasa Nyali",
        timezone: "Africa/Nairobi",
        city: "Mombasa",
        country: "KE",
        currency: "KES",
        lat: -4.0435,
        lng: 39.7230,
        self_registration: true,
    },
    DemoClinic {
        slug: "london-bridge",
        name: "Carebook London Bridge",
        timezone: "Europe/London",
        city: "London",
        country: "GB",
        currency: "GBP",
        lat: 51.5055,
        lng: -0.0865,
        self_registration: false,
    },
    DemoClinic {
        slug: "brooklyn-heights",
        name: "Carebook Brooklyn Heights",
        timezone: "America/New_York",
        city: "Brooklyn",
        country: "US",
        currency: "USD",
        lat: 40.6959,
        lng: -73.9956,
        self_registration: true,
    },
];

/// (email, name, role, home clinic slug)
const STAFF: &[(&str, &str, Role, Option<&str>)] = &[
    (
        "admin@carebook.test",
        "Grace Wanjiku",
        Role::SuperAdmin,
        None,
    ),
    (
        "support@carebook.test",
        "Samuel Otieno",
        Role::Support,
        None,
    ),
    (
        "moderator@carebook.test",
        "Amina Hassan",
        Role::Moderator,
        None,
    ),
    (
        "admin.nairobi-west@carebook.test",
        "Peter Kamau",
        Role::Admin,
        Some("nairobi-west"),
    ),
    (
        "frontdesk.nairobi-west@carebook.test",
        "Mercy Achieng",
        Role::Receptionist,
        Some("nairobi-west"),
    ),
    (
        "dr.njoroge@carebook.test",
        "Dr. James Njoroge",
        Role::Provider,
        Some("nairobi-west"),
    ),
    (
        "dr.mwangi@carebook.test",
        "Dr. Faith Mwangi",
        Role::Provider,
        Some("nairobi-west"),
    ),
    (
        "pharmacy.nairobi-west@carebook.test",
        "Kevin Ouma",
        Role::Pharmacist,
        Some("nairobi-west"),
    ),
    (
        "admin.mombasa-nyali@carebook.test",
        "Halima Said",
        Role::Admin,
        Some("mombasa-nyali"),
    ),
    (
        "frontdesk.mombasa-nyali@carebook.test",
        "Joseph Mutua",
        Role::Receptionist,
        Some("mombasa-nyali"),
    ),
    (
        "dr.abdalla@carebook.test",
        "Dr. Omar Abdalla",
        Role::Provider,
        Some("mombasa-nyali"),
    ),
    (
        "admin.london-bridge@carebook.test",
        "Oliver Bennett",
        Role::Admin,
        Some("london-bridge"),
    ),
    (
        "frontdesk.london-bridge@carebook.test",
        "Chloe Hughes",
        Role::Receptionist,
        Some("london-bridge"),
    ),
    (
        "dr.patel@carebook.test",
        "Dr. Priya Patel",
        Role::Provider,
        Some("london-bridge"),
    ),
    (
        "admin.brooklyn-heights@carebook.test",
        "Maria Gonzalez",
        Role::Admin,
        Some("brooklyn-heights"),
    ),
    (
        "frontdesk.brooklyn-heights@carebook.test",
        "Tyrone Jackson",
        Role::Receptionist,
        Some("brooklyn-heights"),
    ),
    (
        "dr.cohen@carebook.test",
        "Dr. Rachel Cohen",
        Role::Provider,
        Some("brooklyn-heights"),
    ),
];

/// (email, name, phone, date of birth, language, clinics)
type DemoPatient = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const PATIENTS: &[DemoPatient] = &[
    (
        "wanjiru.kariuki@example.org",
        "Wanjiru Kariuki",
        "+254712000001",
        "1988-04-12",
        "sw",
        &["nairobi-west"],
    ),
    (
        "baraka.omondi@example.org",
        "Baraka Omondi",
        "+254712000002",
        "1975-11-03",
        "en",
        &["nairobi-west", "mombasa-nyali"],
    ),
    (
        "zawadi.mutiso@example.org",
        "Zawadi Mutiso",
        "+254712000003",
        "2001-07-22",
        "sw",
        &["mombasa-nyali"],
    ),
    (
        "fatuma.ali@example.org",
        "Fatuma Ali",
        "+254712000004",
        "1962-01-30",
        "sw",
        &["mombasa-nyali"],
    ),
    (
        "kipchoge.rono@example.org",
        "Kipchoge Rono",
        "+254712000005",
        "1993-09-14",
        "en",
        &["nairobi-west"],
    ),
    (
        "emily.clarke@example.org",
        "Emily Clarke",
        "+447700900001",
        "1984-05-05",
        "en",
        &["london-bridge"],
    ),
    (
        "harry.wilson@example.org",
        "Harry Wilson",
        "+447700900002",
        "1958-12-19",
        "en",
        &["london-bridge"],
    ),
    (
        "sofia.rossi@example.org",
        "Sofia Rossi",
        "+447700900003",
        "1999-03-08",
        "en",
        &["london-bridge", "brooklyn-heights"],
    ),
    (
        "marcus.brown@example.org",
        "Marcus Brown",
        "+12125550101",
        "1979-08-27",
        "en",
        &["brooklyn-heights"],
    ),
    (
        "aisha.johnson@example.org",
        "Aisha Johnson",
        "+12125550102",
        "1990-02-14",
        "en",
        &["brooklyn-heights"],
    ),
    (
        "david.kim@example.org",
        "David Kim",
        "+12125550103",
        "1967-06-01",
        "en",
        &["brooklyn-heights"],
    ),
    (
        "neema.wafula@example.org",
        "Neema Wafula",
        "+254712000006",
        "2010-10-10",
        "sw",
        &["nairobi-west"],
    ),
];

/// The audit record of a row the demo seed adds.
pub(crate) fn record(
    action: &str,
    entity_type: &str,
    id: Uuid,
    clinic_id: Option<Uuid>,
    now: Timestamp,
) -> AuditRecord {
    AuditRecord {
        id: Uuid::now_v7(),
        occurred_at: now,
        actor_user_id: None,
        actor_role: Some("system".into()),
        action: action.into(),
        entity_type: entity_type.into(),
        entity_id: Some(id.to_string()),
        clinic_id,
        old_values: None,
        new_values: Some(serde_json::json!({ "source": "demo seed" })),
        ip: None,
        user_agent: Some("carebook seed --demo".into()),
        request_id: None,
    }
}

/// Loads the demo network; returns how many rows were added.
/// `now` stamps the rows and anchors the appointments (last week to the week after next).
pub async fn demo(store: &Store, show_progress: bool, now: Timestamp) -> Result<usize> {
    let total = (CLINICS.len() + STAFF.len() + PATIENTS.len()) as u64;
    let bar = if show_progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let hash = carebook_api::auth::password::hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {}", e.message))?;
    let mut added = 0;
    let mut clinic_ids = std::collections::HashMap::new();
    let mut clinic_rows = std::collections::HashMap::new();
    let mut patients_at: std::collections::HashMap<&'static str, Vec<Uuid>> =
        std::collections::HashMap::new();

    bar.set_message("clinics");
    for c in CLINICS {
        let mut tx = store.write().await?;
        let id = match tx.get_clinic_by_slug(c.slug).await? {
            Some(existing) => existing.id,
            None => {
                let t = now;
                let clinic = Clinic {
                    id: Uuid::now_v7(),
                    name: c.name.into(),
                    slug: c.slug.into(),
                    timezone: c.timezone.into(),
                    address_line: None,
                    city: Some(c.city.into()),
                    region: None,
                    country: Some(c.country.into()),
                    postal_code: None,
                    latitude: Some(c.lat),
                    longitude: Some(c.lng),
                    phone: None,
                    email: Some(format!("{}@carebook.test", c.slug)),
                    website: None,
                    status: "active".into(),
                    patient_self_registration: c.self_registration,
                    currency: c.currency.into(),
                    profile: demo_profile(c.country),
                    created_at: t,
                    updated_at: t,
                };
                tx.insert_clinic(&clinic).await?;
                tx.append_audit(&record(
                    "clinic.create",
                    "clinic",
                    clinic.id,
                    Some(clinic.id),
                    t,
                ))
                .await?;
                tx.commit().await?;
                added += 1;
                clinic.id
            }
        };
        clinic_ids.insert(c.slug, id);
        if let Some(row) = store.read().await?.get_clinic(id).await? {
            clinic_rows.insert(c.slug, row);
        }
        bar.inc(1);
    }

    bar.set_message("staff");
    for (email, name, role, clinic) in STAFF {
        let mut tx = store.write().await?;
        if tx.find_user_by_email(email).await?.is_none() {
            let t = now;
            let clinic_id = clinic.and_then(|s| clinic_ids.get(s).copied());
            let mut u = User::new(
                Uuid::now_v7(),
                (*email).into(),
                (*name).into(),
                *role,
                clinic_id,
                t,
            );
            u.password_hash = Some(hash.clone());
            u.email_verified_at = Some(t);
            tx.insert_user(&u).await?;
            tx.append_audit(&record("user.create", "user", u.id, clinic_id, t))
                .await?;
            tx.commit().await?;
            added += 1;
        }
        bar.inc(1);
    }

    bar.set_message("patients");
    for (email, name, phone, dob, lang, clinics) in PATIENTS {
        let mut tx = store.write().await?;
        if let Some(existing) = tx.find_user_by_email(email).await? {
            if let Some(p) = tx.get_patient_by_user(existing.id).await? {
                for slug in *clinics {
                    patients_at.entry(slug).or_default().push(p.id);
                }
            }
        } else {
            let t = now;
            let mut u = User::new(
                Uuid::now_v7(),
                (*email).into(),
                (*name).into(),
                Role::Patient,
                None,
                t,
            );
            u.password_hash = Some(hash.clone());
            u.phone = Some((*phone).into());
            u.preferred_language = (*lang).into();
            u.email_verified_at = Some(t);
            let p = Patient {
                id: Uuid::now_v7(),
                user_id: Some(u.id),
                name: u.name.clone(),
                email: Some(u.email.clone()),
                phone: u.phone.clone(),
                date_of_birth: dob.parse().ok(),
                gender: None,
                preferred_language: (*lang).into(),
                notification_opt_out: false,
                channel_opt_outs: Default::default(),
                is_active: true,
                created_at: t,
                updated_at: t,
            };
            tx.insert_user(&u).await?;
            tx.insert_patient(&p).await?;
            for slug in *clinics {
                patients_at.entry(slug).or_default().push(p.id);
            }
            for slug in *clinics {
                if let Some(c) = clinic_ids.get(slug) {
                    tx.link_patient_clinic(p.id, *c, t).await?;
                }
            }
            tx.append_audit(&record(
                "user.register",
                "user",
                u.id,
                clinics.first().and_then(|s| clinic_ids.get(s).copied()),
                t,
            ))
            .await?;
            tx.commit().await?;
            added += 1;
        }
        bar.inc(1);
    }
    bar.set_message("schedules");
    added += crate::seed_schedule::demo(store, &clinic_rows, &patients_at, now).await?;
    bar.finish_with_message("demo data");
    tracing::info!(
        added,
        "demo data loaded; every demo account's password is {DEMO_PASSWORD}"
    );
    Ok(added)
}

/// Weekday and Saturday-morning opening hours, a few amenities and the insurers of the
/// clinic's country.
fn demo_profile(country: &str) -> carebook_store::models::ClinicProfile {
    use carebook_store::models::{ClinicProfile, OpeningHours};
    let mut opening_hours: Vec<OpeningHours> = (1..=5)
        .map(|d| OpeningHours {
            day_of_week: d,
            opens: "07:30".into(),
            closes: "18:00".into(),
        })
        .collect();
    opening_hours.push(OpeningHours {
        day_of_week: 6,
        opens: "09:00".into(),
        closes: "13:00".into(),
    });
    let insurers: &[&str] = match country {
        "KE" => &["NHIF", "AAR", "Jubilee"],
        "GB" => &["NHS", "Bupa"],
        _ => &["Aetna", "Medicare"],
    };
    ClinicProfile {
        opening_hours,
        amenities: vec![
            "Wheelchair access".into(),
            "Pharmacy on site".into(),
            "Parking".into(),
        ],
        accepted_insurance: insurers.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever day the demo is loaded on (a weekend too), it holds every appointment status,
    /// and loading it again adds nothing.
    #[tokio::test]
    async fn every_status_on_any_weekday() {
        for day in [
            "2026-11-28T09:00:00Z",
            "2026-11-29T16:00:00Z",
            "2026-12-02T12:00:00Z",
        ] {
            let db = carebook_store::testing::sqlite().await;
            let now: Timestamp = day.parse().unwrap();
            assert!(demo(&db.store, false, now).await.unwrap() > 100);
            let statuses: Vec<String> = match &db.store {
                Store::Sqlite(p, _) => {
                    sqlx::query_scalar("SELECT DISTINCT status FROM appointments ORDER BY status")
                        .fetch_all(p)
                        .await
                        .unwrap()
                }
                Store::Postgres(_) => unreachable!(),
            };
            assert_eq!(statuses.len(), 8, "{day}: {statuses:?}");
            // Each status agrees with the clock: nothing finished before it started, nothing
            // waiting that is over.
            let micros = now.as_microsecond();
            let inconsistent: i64 = match &db.store {
                Store::Sqlite(p, _) => sqlx::query_scalar(
                    "SELECT count(*) FROM appointments WHERE \
                     (status IN ('completed', 'no_show') AND start_at > $1) \
                     OR (status = 'completed' AND completed_at < end_at) \
                     OR (status = 'in_progress' AND (start_at > $1 OR end_at <= $1)) \
                     OR (status IN ('scheduled', 'confirmed', 'pending_payment') AND start_at <= $1)",
                )
                .bind(micros)
                .fetch_one(p)
                .await
                .unwrap(),
                Store::Postgres(_) => unreachable!(),
            };
            assert_eq!(
                inconsistent, 0,
                "{day}: statuses that disagree with the time"
            );
            let mut tx = db.store.read().await.unwrap();
            let nairobi = tx
                .get_clinic_by_slug("nairobi-west")
                .await
                .unwrap()
                .unwrap();
            let consult = tx
                .list_services(nairobi.id, false)
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.name == "General consultation")
                .unwrap();
            assert_eq!(
                tx.eligible_providers(nairobi.id, consult.id, None)
                    .await
                    .unwrap()
                    .len(),
                2,
                "two doctors see patients at Nairobi West"
            );
            let mombasa = tx
                .get_clinic_by_slug("mombasa-nyali")
                .await
                .unwrap()
                .unwrap();
            let there = tx
                .list_services(mombasa.id, false)
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.name == "General consultation")
                .unwrap();
            assert_eq!(
                tx.eligible_providers(mombasa.id, there.id, None)
                    .await
                    .unwrap()
                    .len(),
                2,
                "one of them also in Mombasa"
            );
            drop(tx);
            assert_eq!(
                demo(&db.store, false, now).await.unwrap(),
                0,
                "{day}: idempotent"
            );
            db.cleanup().await;
        }
    }
}
