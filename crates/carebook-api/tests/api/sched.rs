//! Scheduling fixtures: providers with hours, services, patients and booked appointments,
//! written straight to the store so each test starts from a known schedule.
//!
//! The test clock stands on Wednesday 2026-11-25 08:00 UTC (11:00 in Nairobi, the test
//! clinics' zone). Providers made here work every day 08:00–18:00 with a 13:00–14:00 break.

#![allow(dead_code)]

use crate::helpers::*;
use carebook_domain::Role;
use carebook_store::StoreTx;
use carebook_store::models::*;
use carebook_store::scheduling::*;
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

pub const TZ: &str = "Africa/Nairobi";

/// Tomorrow at the test clinics.
pub fn tomorrow() -> Date {
    date(2026, 11, 26)
}

/// The day after tomorrow: past the default 24-hour cancellation cutoff.
pub fn later() -> Date {
    date(2026, 11, 27)
}

/// `hh:mm` Nairobi time on `d`.
pub fn at(d: Date, hour: i8, minute: i8) -> Timestamp {
    d.at(hour, minute, 0, 0)
        .to_zoned(jiff::tz::TimeZone::get(TZ).unwrap())
        .unwrap()
        .timestamp()
}

pub struct Booked {
    pub provider: Provider,
    pub provider_user: User,
    pub service: Service,
    pub patient: Patient,
    pub appointment: Appointment,
}

impl TestApp {
    async fn write(&self, f: impl AsyncFnOnce(&mut dyn StoreTx)) {
        let mut tx = self.store.write().await.unwrap();
        f(tx.as_mut()).await;
        tx.append_audit(&record("test.setup")).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A 30-minute service (10 minutes' buffer after), in person or by video, at `clinic`.
    pub async fn service(&self, clinic: Uuid) -> Service {
        let s = Service {
            buffer_after_minutes: 10,
            fee_minor: Some(250_000),
            currency: Some("KES".into()),
            modes: vec!["in_person".into(), "video".into()],
            ..Service::new(
                Uuid::now_v7(),
                clinic,
                &format!("Consultation {}", Uuid::now_v7().simple()),
                30,
                self.now(),
            )
        };
        self.write(async |tx| tx.insert_service(&s).await.unwrap())
            .await;
        s
    }

    /// A provider profile for `user` (a new provider account when `None`), working at
    /// `clinic` every day 08:00–18:00 with a lunch break, and delivering `services`.
    pub async fn provider_at(
        &self,
        clinic: Uuid,
        user: Option<&User>,
        services: &[&Service],
    ) -> (User, Provider) {
        let user = match user {
            Some(u) => u.clone(),
            None => self.user(Role::Provider, Some(clinic)).await,
        };
        let now = self.now();
        let mut p = Provider::new(Uuid::now_v7(), user.id, now);
        p.emergency_enabled = true;
        p.verification_status = "verified".into();
        let pc = ProviderClinic {
            is_primary: true,
            consultation_modes: vec!["in_person".into(), "video".into()],
            ..ProviderClinic::new(Uuid::now_v7(), p.id, clinic, date(2026, 1, 1), now)
        };
        let services: Vec<Uuid> = services.iter().map(|s| s.id).collect();
        self.write(async |tx| {
            tx.insert_provider(&p).await.unwrap();
            tx.insert_provider_clinic(&pc).await.unwrap();
            for d in 1..=7 {
                tx.insert_availability_rule(&AvailabilityRule {
                    id: Uuid::now_v7(),
                    clinic_id: clinic,
                    provider_id: p.id,
                    day_of_week: d,
                    start_time: "08:00".into(),
                    end_time: "18:00".into(),
                    breaks: vec![ClockSpan {
                        start: "13:00".into(),
                        end: "14:00".into(),
                    }],
                    is_working_day: true,
                    mode: "any".into(),
                    valid_from: None,
                    valid_until: None,
                    is_active: true,
                    notes: None,
                    created_at: now,
                    updated_at: now,
                })
                .await
                .unwrap();
            }
            for s in &services {
                tx.insert_provider_service(p.id, *s, now).await.unwrap();
            }
        })
        .await;
        (user, p)
    }

    /// A patient registered at `clinic`, the patient record of `user` when given.
    pub async fn patient_at(&self, clinic: Uuid, user: Option<&User>) -> Patient {
        let now = self.now();
        let p = Patient {
            id: Uuid::now_v7(),
            user_id: user.map(|u| u.id),
            name: format!("Patient {}", &Uuid::now_v7().simple().to_string()[20..]),
            email: user.map(|u| u.email.clone()),
            phone: Some("+254700123456".into()),
            date_of_birth: None,
            gender: None,
            preferred_language: "en".into(),
            notification_opt_out: false,
            channel_opt_outs: Default::default(),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        self.write(async |tx| {
            tx.insert_patient(&p).await.unwrap();
            tx.link_patient_clinic(p.id, clinic, now).await.unwrap();
        })
        .await;
        p
    }

    /// The patient record of a patient account, made on first use.
    pub async fn patient_of(&self, user: &User) -> Patient {
        let existing = self
            .store
            .read()
            .await
            .unwrap()
            .get_patient_by_user(user.id)
            .await
            .unwrap();
        match existing {
            Some(p) => p,
            None => self.patient_at(self.clinic.id, Some(user)).await,
        }
    }

    /// Books `service` with `provider` for `patient` at `start` through the store.
    pub async fn book_at(
        &self,
        provider: &Provider,
        service: &Service,
        patient: &Patient,
        start: Timestamp,
    ) -> Appointment {
        let end = start + SignedDuration::from_mins(i64::from(service.duration_minutes));
        let tz = jiff::tz::TimeZone::get(TZ).unwrap();
        let a = Appointment {
            service_id: Some(service.id),
            busy_start_at: start
                - SignedDuration::from_mins(i64::from(service.buffer_before_minutes)),
            busy_end_at: end + SignedDuration::from_mins(i64::from(service.buffer_after_minutes)),
            fee_minor: service.fee_minor,
            currency: service.currency.clone(),
            ..Appointment::new(
                service.clinic_id,
                patient.id,
                provider.id,
                start,
                end,
                start.to_zoned(tz.clone()).date(),
                self.now(),
            )
        };
        let new = NewAppointment {
            appointment: a.clone(),
            booked_on: self.now().to_zoned(tz).date(),
            daily_cap: Some(provider.max_daily_appointments),
        };
        let mut number = String::new();
        self.write(async |tx| match tx.book_appointment(&new).await.unwrap() {
            BookingOutcome::Booked { number: n } => number = n,
            other => panic!("fixture booking refused: {other:?}"),
        })
        .await;
        Appointment { number, ..a }
    }

    /// A provider (for `provider_user` when given) with a service and a patient (for
    /// `patient_user` when given) booked on `day` at `hour`:00 at the home clinic.
    pub async fn booked(
        &self,
        provider_user: Option<&User>,
        patient_user: Option<&User>,
        day: Date,
        hour: i8,
    ) -> Booked {
        let service = self.service(self.clinic.id).await;
        let (provider_user, provider) = self
            .provider_at(self.clinic.id, provider_user, &[&service])
            .await;
        let patient = match patient_user {
            Some(u) => self.patient_of(u).await,
            None => self.patient_at(self.clinic.id, None).await,
        };
        let appointment = self
            .book_at(&provider, &service, &patient, at(day, hour, 0))
            .await;
        Booked {
            provider,
            provider_user,
            service,
            patient,
            appointment,
        }
    }

    pub async fn appointment(&self, id: Uuid) -> Appointment {
        self.store
            .read()
            .await
            .unwrap()
            .get_appointment(id)
            .await
            .unwrap()
            .unwrap()
    }
}

/// The caller's own provider profile when the caller is a provider, else a new provider; at
/// the home clinic, delivering `services`.
pub async fn provider_for(app: &TestApp, caller: Option<&User>, services: &[&Service]) -> Provider {
    let own = caller.filter(|u| u.role == Role::Provider);
    app.provider_at(app.clinic.id, own, services).await.1
}

impl TestApp {
    /// Sets how many appointments a provider takes a day (0 < `cap`).
    pub async fn cap_day(&self, provider: &Provider, cap: u32) {
        let p = Provider {
            max_daily_appointments: cap,
            ..provider.clone()
        };
        self.write(async |tx| tx.update_provider(&p).await.unwrap())
            .await;
    }

    /// An entry for `patient` waiting for `service` (any provider, any date), written to the
    /// store without asking the worker to match it.
    pub async fn waiting(
        &self,
        patient: &Patient,
        service: &Service,
    ) -> carebook_store::waitlist::WaitlistEntry {
        let now = self.now();
        let e = carebook_store::waitlist::WaitlistEntry {
            id: Uuid::now_v7(),
            clinic_id: service.clinic_id,
            patient_id: patient.id,
            service_id: service.id,
            provider_id: None,
            mode: None,
            requested_from: None,
            requested_to: None,
            priority: carebook_domain::schedule::lifecycle::Priority::Standard,
            position: 1,
            notes: None,
            status: carebook_domain::waitlist::EntryStatus::Waiting,
            appointment_id: None,
            created_by_user_id: None,
            created_at: now,
            updated_at: now,
            assigned_at: None,
            closed_at: None,
            close_reason: None,
        };
        self.write(async |tx| assert!(tx.insert_waitlist_entry(&e).await.unwrap()))
            .await;
        e
    }

    /// A waiting entry for `patient` with an open offer: a new provider's first free start
    /// is held for it, as the worker would.
    pub async fn offered(
        &self,
        patient: &Patient,
    ) -> (
        carebook_store::waitlist::WaitlistEntry,
        carebook_store::waitlist::WaitlistOffer,
    ) {
        let s = self.service(self.clinic.id).await;
        self.provider_at(self.clinic.id, None, &[&s]).await;
        let e = self.waiting(patient, &s).await;
        let slot = carebook_jobs::waitlist::FreedSlot {
            clinic_id: self.clinic.id,
            provider_id: None,
            from: self.now(),
            to: self.now() + SignedDuration::from_hours(24 * 14),
            entry_id: Some(e.id),
            skip_entry: None,
        };
        let offer = carebook_api::waitlist::offer_one(&self.store, &slot, self.now())
            .await
            .unwrap()
            .expect("a free start to offer");
        (e, offer)
    }
}
