//! The SQL of [`ScheduleTx`](crate::ScheduleTx), written once for both backends the same way
//! as `shared.rs`: each backend expands [`impl_schedule_tx!`] in its own module, where
//! `enc_ts`, `enc_opt_ts` and `enc_opt_date` encode values its way.
//!
//! Lists of values (statuses) travel as one comma-delimited text matched with `LIKE`, which
//! both databases evaluate the same; JSON arrays (languages, modes) are matched on their text.

macro_rules! impl_schedule_tx {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::schedule_tx::ScheduleTx for $tx {
            async fn insert_specialization(&mut self, s: &Specialization) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO specializations (id, name, parent_id, description, is_active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(s.id)
                .bind(&s.name)
                .bind(s.parent_id)
                .bind(&s.description)
                .bind(s.is_active)
                .bind(enc_ts(s.created_at))
                .bind(enc_ts(s.updated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn update_specialization(&mut self, s: &Specialization) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE specializations SET name = $1, parent_id = $2, description = $3, is_active = $4, \
                     updated_at = $5 WHERE id = $6",
                )
                .bind(&s.name)
                .bind(s.parent_id)
                .bind(&s.description)
                .bind(s.is_active)
                .bind(enc_ts(s.updated_at))
                .bind(s.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_specialization(&mut self, id: Uuid) -> StoreResult<Option<Specialization>> {
                let row = sqlx::query("SELECT * FROM specializations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::specialization).transpose()
            }

            async fn list_specializations(&mut self, include_inactive: bool) -> StoreResult<Vec<Specialization>> {
                let rows = sqlx::query("SELECT * FROM specializations WHERE $1 OR is_active ORDER BY name")
                    .bind(include_inactive)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::specialization).collect()
            }

            async fn update_service(&mut self, s: &Service) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE services SET name = $1, description = $2, category = $3, duration_minutes = $4, \
                     buffer_before_minutes = $5, buffer_after_minutes = $6, required_specialization_id = $7, \
                     fee_minor = $8, currency = $9, billing_code = $10, modes = $11, is_active = $12, \
                     updated_at = $13, deactivated_at = CASE WHEN $12 THEN NULL ELSE COALESCE(deactivated_at, $13) END \
                     WHERE id = $14",
                )
                .bind(&s.name)
                .bind(&s.description)
                .bind(&s.category)
                .bind(i64::from(s.duration_minutes))
                .bind(i64::from(s.buffer_before_minutes))
                .bind(i64::from(s.buffer_after_minutes))
                .bind(s.required_specialization_id)
                .bind(s.fee_minor)
                .bind(&s.currency)
                .bind(&s.billing_code)
                .bind($crate::shared::json(&s.modes))
                .bind(s.is_active)
                .bind(enc_ts(s.updated_at))
                .bind(s.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn get_provider(&mut self, id: Uuid) -> StoreResult<Option<Provider>> {
                let row = sqlx::query("SELECT * FROM providers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::provider).transpose()
            }

            async fn get_provider_listing(&mut self, id: Uuid) -> StoreResult<Option<ProviderListing>> {
                let row = sqlx::query(
                    "SELECT p.*, u.name AS user_name, u.email AS user_email, u.clinic_id AS user_clinic_id \
                     FROM providers p JOIN users u ON u.id = p.user_id WHERE p.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::provider_listing).transpose()
            }

            async fn update_provider(&mut self, p: &Provider) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE providers SET title = $1, bio = $2, photo_url = $3, license_number = $4, \
                     registration_number = $5, practice_start_year = $6, qualifications = $7, languages = $8, \
                     default_fee_minor = $9, currency = $10, default_duration_minutes = $11, \
                     emergency_enabled = $12, max_daily_appointments = $13, status = $14, \
                     verification_status = $15, is_active = $16, updated_at = $17, \
                     deactivated_at = CASE WHEN $16 THEN NULL ELSE COALESCE(deactivated_at, $17) END \
                     WHERE id = $18",
                )
                .bind(&p.title)
                .bind(&p.bio)
                .bind(&p.photo_url)
                .bind(&p.license_number)
                .bind(&p.registration_number)
                .bind(p.practice_start_year.map(i64::from))
                .bind($crate::shared::json(&p.qualifications))
                .bind($crate::shared::json(&p.languages))
                .bind(p.default_fee_minor)
                .bind(&p.currency)
                .bind(i64::from(p.default_duration_minutes))
                .bind(p.emergency_enabled)
                .bind(i64::from(p.max_daily_appointments))
                .bind(&p.status)
                .bind(&p.verification_status)
                .bind(p.is_active)
                .bind(enc_ts(p.updated_at))
                .bind(p.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn search_providers(
                &mut self,
                f: &ProviderFilter,
                page: PageRequest<Uuid>,
            ) -> StoreResult<Vec<ProviderListing>> {
                let name = f.query.as_ref().map(|q| format!("%{}%", like_escape(&q.to_lowercase())));
                // Codes are validated as plain lower-case words, so they need no escaping.
                let language = f.language.as_ref().map(|l| format!("%\"{l}\"%"));
                let mode = f.mode.as_ref().map(|m| format!("%\"{m}\"%"));
                let rows = sqlx::query(
                    "SELECT p.*, u.name AS user_name, u.email AS user_email, u.clinic_id AS user_clinic_id \
                     FROM providers p JOIN users u ON u.id = p.user_id \
                     WHERE ($1 OR p.is_active) \
                       AND ($2 IS NULL OR EXISTS (SELECT 1 FROM provider_clinics pc WHERE pc.provider_id = p.id \
                            AND pc.clinic_id = $2 AND pc.status <> 'ended')) \
                       AND ($3 IS NULL OR EXISTS (SELECT 1 FROM provider_services ps WHERE ps.provider_id = p.id \
                            AND ps.service_id = $3 AND ps.is_active)) \
                       AND ($4 IS NULL OR EXISTS (SELECT 1 FROM provider_specializations sp WHERE sp.provider_id = p.id \
                            AND sp.specialization_id = $4)) \
                       AND ($5 IS NULL OR CAST(p.languages AS TEXT) LIKE $5) \
                       AND ($6 IS NULL OR EXISTS (SELECT 1 FROM provider_clinics pc WHERE pc.provider_id = p.id \
                            AND pc.status = 'active' AND ($2 IS NULL OR pc.clinic_id = $2) \
                            AND CAST(pc.consultation_modes AS TEXT) LIKE $6)) \
                       AND ($7 IS NULL OR lower(u.name) LIKE $7 ESCAPE '\\') \
                       AND ($8 IS NULL OR p.id > $8) \
                     ORDER BY p.id LIMIT $9",
                )
                .bind(f.include_inactive)
                .bind(f.clinic_id)
                .bind(f.service_id)
                .bind(f.specialization_id)
                .bind(language)
                .bind(mode)
                .bind(name)
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::provider_listing).collect()
            }

            async fn provider_specializations(&mut self, provider_id: Uuid) -> StoreResult<Vec<(Specialization, bool)>> {
                let rows = sqlx::query(
                    "SELECT s.*, ps.is_primary AS link_primary FROM provider_specializations ps \
                     JOIN specializations s ON s.id = ps.specialization_id WHERE ps.provider_id = $1 \
                     ORDER BY ps.is_primary DESC, s.name",
                )
                .bind(provider_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter()
                    .map(|r| Ok((rows::specialization(r)?, r.flag("link_primary")?)))
                    .collect()
            }

            async fn set_provider_specializations(
                &mut self,
                provider_id: Uuid,
                ids: &[(Uuid, bool)],
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM provider_specializations WHERE provider_id = $1")
                    .bind(provider_id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                for (id, primary) in ids {
                    sqlx::query(
                        "INSERT INTO provider_specializations (provider_id, specialization_id, is_primary, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(provider_id)
                    .bind(id)
                    .bind(primary)
                    .bind(enc_ts(now))
                    .execute(&mut *self.tx)
                    .await?;
                }
                Ok(())
            }

            async fn provider_clinics(&mut self, provider_id: Uuid) -> StoreResult<Vec<ProviderClinic>> {
                let rows = sqlx::query(
                    "SELECT * FROM provider_clinics WHERE provider_id = $1 ORDER BY started_on DESC, id DESC",
                )
                .bind(provider_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(|r| rows::provider_clinic_with(r, "")).collect()
            }

            async fn update_provider_clinic(&mut self, pc: &ProviderClinic) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE provider_clinics SET status = $1, is_primary = $2, department = $3, designation = $4, \
                     consultation_fee_minor = $5, currency = $6, default_duration_minutes = $7, \
                     consultation_modes = $8, booking_enabled = $9, accepts_emergencies = $10, \
                     max_daily_appointments = $11, started_on = $12, ended_on = $13, updated_at = $14 \
                     WHERE id = $15",
                )
                .bind(&pc.status)
                .bind(pc.is_primary)
                .bind(&pc.department)
                .bind(&pc.designation)
                .bind(pc.consultation_fee_minor)
                .bind(&pc.currency)
                .bind(pc.default_duration_minutes.map(i64::from))
                .bind($crate::shared::json(&pc.consultation_modes))
                .bind(pc.booking_enabled)
                .bind(pc.accepts_emergencies)
                .bind(pc.max_daily_appointments.map(i64::from))
                .bind(enc_opt_date(Some(pc.started_on)))
                .bind(enc_opt_date(pc.ended_on))
                .bind(enc_ts(pc.updated_at))
                .bind(pc.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn provider_services(&mut self, provider_id: Uuid) -> StoreResult<Vec<ProviderService>> {
                let rows = sqlx::query("SELECT * FROM provider_services WHERE provider_id = $1 ORDER BY created_at, service_id")
                    .bind(provider_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::provider_service).collect()
            }

            async fn set_provider_service(&mut self, ps: &ProviderService) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO provider_services (provider_id, service_id, fee_minor, currency, is_active, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (provider_id, service_id) DO UPDATE SET fee_minor = excluded.fee_minor, \
                     currency = excluded.currency, is_active = excluded.is_active",
                )
                .bind(ps.provider_id)
                .bind(ps.service_id)
                .bind(ps.fee_minor)
                .bind(&ps.currency)
                .bind(ps.is_active)
                .bind(enc_ts(ps.created_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn remove_provider_service(&mut self, provider_id: Uuid, service_id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM provider_services WHERE provider_id = $1 AND service_id = $2")
                    .bind(provider_id)
                    .bind(service_id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                Ok(done.rows_affected() > 0)
            }

            async fn list_availability_rules(
                &mut self,
                provider_id: Uuid,
                clinic_id: Option<Uuid>,
            ) -> StoreResult<Vec<AvailabilityRule>> {
                let rows = sqlx::query(
                    "SELECT * FROM availability_rules WHERE provider_id = $1 AND ($2 IS NULL OR clinic_id = $2) \
                     ORDER BY clinic_id, day_of_week, start_time, id",
                )
                .bind(provider_id)
                .bind(clinic_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::availability_rule).collect()
            }

            async fn get_availability_rule(&mut self, id: Uuid) -> StoreResult<Option<AvailabilityRule>> {
                let row = sqlx::query("SELECT * FROM availability_rules WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::availability_rule).transpose()
            }

            async fn update_availability_rule(&mut self, r: &AvailabilityRule) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE availability_rules SET day_of_week = $1, start_time = $2, end_time = $3, breaks = $4, \
                     is_working_day = $5, mode = $6, valid_from = $7, valid_until = $8, is_active = $9, \
                     notes = $10, updated_at = $11 WHERE id = $12",
                )
                .bind(i64::from(r.day_of_week))
                .bind(&r.start_time)
                .bind(&r.end_time)
                .bind($crate::shared::json(&r.breaks))
                .bind(r.is_working_day)
                .bind(&r.mode)
                .bind(enc_opt_date(r.valid_from))
                .bind(enc_opt_date(r.valid_until))
                .bind(r.is_active)
                .bind(&r.notes)
                .bind(enc_ts(r.updated_at))
                .bind(r.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn delete_availability_rule(&mut self, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM availability_rules WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                Ok(done.rows_affected() > 0)
            }

            async fn list_availability_exceptions(
                &mut self,
                provider_id: Uuid,
                clinic_id: Option<Uuid>,
                from: Option<jiff::civil::Date>,
            ) -> StoreResult<Vec<AvailabilityException>> {
                let rows = sqlx::query(
                    "SELECT * FROM availability_exceptions WHERE provider_id = $1 AND ($2 IS NULL OR clinic_id = $2) \
                     AND ($3 IS NULL OR date >= $3) ORDER BY date, start_time, id",
                )
                .bind(provider_id)
                .bind(clinic_id)
                .bind(enc_opt_date(from))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::availability_exception).collect()
            }

            async fn get_availability_exception(&mut self, id: Uuid) -> StoreResult<Option<AvailabilityException>> {
                let row = sqlx::query("SELECT * FROM availability_exceptions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::availability_exception).transpose()
            }

            async fn delete_availability_exception(&mut self, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM availability_exceptions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                Ok(done.rows_affected() > 0)
            }

            async fn list_time_off(&mut self, provider_id: Uuid, status: Option<&str>) -> StoreResult<Vec<TimeOff>> {
                let rows = sqlx::query(
                    "SELECT * FROM provider_time_off WHERE provider_id = $1 AND ($2 IS NULL OR status = $2) \
                     ORDER BY starts_at DESC, id DESC",
                )
                .bind(provider_id)
                .bind(status)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::time_off).collect()
            }

            async fn get_time_off(&mut self, id: Uuid) -> StoreResult<Option<TimeOff>> {
                let row = sqlx::query("SELECT * FROM provider_time_off WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::time_off).transpose()
            }

            async fn withdraw_time_off(&mut self, id: Uuid, now: Timestamp) -> StoreResult<Option<TimeOff>> {
                let row = sqlx::query(
                    "UPDATE provider_time_off SET status = 'cancelled', updated_at = $1 \
                     WHERE id = $2 AND status IN ('requested', 'approved') RETURNING *",
                )
                .bind(enc_ts(now))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::time_off).transpose()
            }

            async fn service_schedule_facts(
                &mut self,
                clinic_id: Uuid,
                service_id: Uuid,
                dates: (jiff::civil::Date, jiff::civil::Date),
                span: (Timestamp, Timestamp),
            ) -> StoreResult<Vec<(Uuid, ScheduleFacts)>> {
                let rules = sqlx::query(
                    "SELECT r.* FROM availability_rules r WHERE r.provider_id IN \
                     (SELECT ps.provider_id FROM provider_services ps WHERE ps.service_id = $2 AND ps.is_active) \
                     AND r.clinic_id = $1 AND r.is_active ORDER BY r.provider_id, r.day_of_week, r.start_time",
                )
                .bind(clinic_id)
                .bind(service_id)
                .fetch_all(&mut *self.tx)
                .await?;
                let exceptions = sqlx::query(
                    "SELECT e.* FROM availability_exceptions e WHERE e.provider_id IN \
                     (SELECT ps.provider_id FROM provider_services ps WHERE ps.service_id = $2 AND ps.is_active) \
                     AND e.clinic_id = $1 AND e.date >= $3 AND e.date <= $4 ORDER BY e.provider_id, e.date",
                )
                .bind(clinic_id)
                .bind(service_id)
                .bind(enc_opt_date(Some(dates.0)))
                .bind(enc_opt_date(Some(dates.1)))
                .fetch_all(&mut *self.tx)
                .await?;
                let time_off = sqlx::query(
                    "SELECT t.* FROM provider_time_off t WHERE t.provider_id IN \
                     (SELECT ps.provider_id FROM provider_services ps WHERE ps.service_id = $2 AND ps.is_active) \
                     AND t.status = 'approved' AND (t.clinic_id IS NULL OR t.clinic_id = $1) \
                     AND t.starts_at < $4 AND t.ends_at > $3 ORDER BY t.provider_id, t.starts_at",
                )
                .bind(clinic_id)
                .bind(service_id)
                .bind(enc_ts(span.0))
                .bind(enc_ts(span.1))
                .fetch_all(&mut *self.tx)
                .await?;
                let bookings = sqlx::query(concat!(
                    "SELECT a.id, a.provider_id, a.start_at, a.busy_start_at, a.busy_end_at \
                     FROM appointments a WHERE a.provider_id IN \
                     (SELECT ps.provider_id FROM provider_services ps WHERE ps.service_id = $1 AND ps.is_active) \
                     AND a.status IN ",
                    $crate::scheduling::active_statuses!(),
                    // No ORDER BY: the slot search sorts what it needs, and sorting thousands of
                    // rows here cost more than the scan.
                    " AND a.busy_start_at < $3 AND a.busy_end_at > $2"
                ))
                .bind(service_id)
                .bind(enc_ts(span.0))
                .bind(enc_ts(span.1))
                .fetch_all(&mut *self.tx)
                .await?;
                let mut by: std::collections::BTreeMap<Uuid, ScheduleFacts> = Default::default();
                for r in &rules {
                    let r = rows::availability_rule(r)?;
                    by.entry(r.provider_id).or_default().rules.push(r);
                }
                for e in &exceptions {
                    let e = rows::availability_exception(e)?;
                    by.entry(e.provider_id).or_default().exceptions.push(e);
                }
                for t in &time_off {
                    let t = rows::time_off(t)?;
                    by.entry(t.provider_id).or_default().time_off.push(t);
                }
                for a in &bookings {
                    let a = rows::booked_span(a)?;
                    by.entry(a.provider_id).or_default().bookings.push(a);
                }
                Ok(by.into_iter().collect())
            }

            async fn get_patient(&mut self, id: Uuid) -> StoreResult<Option<Patient>> {
                let row = sqlx::query("SELECT * FROM patients WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::patient).transpose()
            }

            async fn update_patient(&mut self, p: &Patient) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE patients SET name = $1, email = $2, phone = $3, date_of_birth = $4, gender = $5, \
                     preferred_language = $6, notification_opt_out = $7, is_active = $8, updated_at = $9, \
                     email_opt_out = $11, sms_opt_out = $12, push_opt_out = $13 WHERE id = $10",
                )
                .bind(&p.name)
                .bind(&p.email)
                .bind(&p.phone)
                .bind(enc_opt_date(p.date_of_birth))
                .bind(&p.gender)
                .bind(&p.preferred_language)
                .bind(p.notification_opt_out)
                .bind(p.is_active)
                .bind(enc_ts(p.updated_at))
                .bind(p.id)
                .bind(p.channel_opt_outs.email)
                .bind(p.channel_opt_outs.sms)
                .bind(p.channel_opt_outs.push)
                .bind(p.channel_opt_outs.email)
                .bind(p.channel_opt_outs.sms)
                .bind(p.channel_opt_outs.push)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn search_patients(&mut self, f: &PatientFilter, page: PageRequest<Uuid>) -> StoreResult<Vec<Patient>> {
                let pattern = f.query.as_ref().map(|q| format!("%{}%", like_escape(&q.to_lowercase())));
                let rows = sqlx::query(
                    "SELECT p.* FROM patients p \
                     WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM patient_clinics pc WHERE pc.patient_id = p.id \
                            AND pc.clinic_id = $1)) \
                       AND ($2 IS NULL OR lower(p.name) LIKE $2 ESCAPE '\\' OR lower(p.email) LIKE $2 ESCAPE '\\' \
                            OR p.phone LIKE $2 ESCAPE '\\') \
                       AND ($3 IS NULL OR p.id > $3) \
                     ORDER BY p.id LIMIT $4",
                )
                .bind(f.clinic_id)
                .bind(pattern)
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::patient).collect()
            }

            async fn patient_bookings(&mut self, patient_id: Uuid, from: Timestamp, to: Timestamp) -> StoreResult<Vec<Appointment>> {
                let rows = sqlx::query(concat!(
                    "SELECT * FROM appointments WHERE patient_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND start_at < $3 AND end_at > $2 ORDER BY start_at"
                ))
                .bind(patient_id)
                .bind(enc_ts(from))
                .bind(enc_ts(to))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::appointment).collect()
            }

            async fn list_appointments(
                &mut self,
                f: &AppointmentFilter,
                page: PageRequest<(Timestamp, Uuid)>,
            ) -> StoreResult<Vec<AppointmentListing>> {
                let statuses = (!f.statuses.is_empty()).then(|| {
                    let names: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
                    format!(",{},", names.join(","))
                });
                let text = f.query.as_ref().map(|q| format!("%{}%", like_escape(&q.to_lowercase())));
                let number = f.query.as_ref().map(|q| format!("%{}%", like_escape(&q.to_uppercase())));
                let (after_ts, after_id) = match page.after {
                    Some((t, id)) => (Some(enc_ts(t)), Some(id)),
                    None => (None, None),
                };
                macro_rules! listing_sql {
                    ($cmp:literal, $order:literal) => {
                        concat!(
                            "SELECT a.*, pt.name AS patient_name, pt.phone AS patient_phone, u.name AS provider_name, \
                             s.name AS service_name FROM appointments a \
                             JOIN patients pt ON pt.id = a.patient_id \
                             JOIN providers pr ON pr.id = a.provider_id JOIN users u ON u.id = pr.user_id \
                             LEFT JOIN services s ON s.id = a.service_id \
                             WHERE ($1 IS NULL OR a.clinic_id = $1) AND ($2 IS NULL OR a.provider_id = $2) \
                               AND ($3 IS NULL OR a.patient_id = $3) AND ($4 IS NULL OR a.start_at >= $4) \
                               AND ($5 IS NULL OR a.start_at < $5) AND ($6 IS NULL OR $6 LIKE '%,' || a.status || ',%') \
                               AND ($7 IS NULL OR a.number LIKE $8 ESCAPE '\\' OR lower(pt.name) LIKE $7 ESCAPE '\\' \
                                    OR pt.phone LIKE $7 ESCAPE '\\') \
                               AND ($9 IS NULL OR a.clinic_id = $9 OR ($10 IS NOT NULL AND a.provider_id = $10)) \
                               AND ($11 IS NULL OR a.start_at ", $cmp, " $11 OR (a.start_at = $11 AND a.id ", $cmp, " $12)) \
                               AND ($14 IS NULL OR a.local_date >= $14) AND ($15 IS NULL OR a.local_date <= $15) \
                             ORDER BY a.start_at ", $order, ", a.id ", $order, " LIMIT $13"
                        )
                    };
                }
                let sql = if f.descending { listing_sql!("<", "DESC") } else { listing_sql!(">", "ASC") };
                let rows = sqlx::query(sql)
                    .bind(f.clinic_id)
                    .bind(f.provider_id)
                    .bind(f.patient_id)
                    .bind(enc_opt_ts(f.from))
                    .bind(enc_opt_ts(f.to))
                    .bind(statuses)
                    .bind(text)
                    .bind(number)
                    .bind(f.scope_clinic)
                    .bind(f.or_provider)
                    .bind(after_ts)
                    .bind(after_id)
                    .bind(i64::from(page.limit))
                    .bind(enc_opt_date(f.from_date))
                    .bind(enc_opt_date(f.to_date))
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::appointment_listing).collect()
            }

            async fn get_appointment_listing(&mut self, id: Uuid) -> StoreResult<Option<AppointmentListing>> {
                let row = sqlx::query(
                    "SELECT a.*, pt.name AS patient_name, pt.phone AS patient_phone, u.name AS provider_name, \
                     s.name AS service_name FROM appointments a \
                     JOIN patients pt ON pt.id = a.patient_id \
                     JOIN providers pr ON pr.id = a.provider_id JOIN users u ON u.id = pr.user_id \
                     LEFT JOIN services s ON s.id = a.service_id WHERE a.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::appointment_listing).transpose()
            }

            async fn expired_payment_holds(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<Appointment>> {
                let rows = sqlx::query(
                    "SELECT * FROM appointments WHERE status = 'pending_payment' AND hold_expires_at < $1 \
                     ORDER BY hold_expires_at LIMIT $2",
                )
                .bind(enc_ts(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::appointment).collect()
            }
        }
    };
}
pub(crate) use impl_schedule_tx;
