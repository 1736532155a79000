//! The SQL both backends share, written once.
//!
//! PostgreSQL and SQLite accept the same statements here (`$n` parameters, `RETURNING`,
//! standard joins); what differs is how times and dates are encoded, whether a read can lock
//! a row, and how the audit chain is serialised. Each backend module defines `enc_ts`,
//! `enc_opt_ts`, `enc_opt_date` and `lock_audit_chain`, then expands [`impl_store_tx!`] for
//! its transaction type, which resolves those names in its own scope. Generic code over
//! `sqlx::Database` would say the same with far more trait bounds.

macro_rules! impl_store_tx {
    ($tx:ty, for_update = $fu:literal) => {
        impl $tx {
            /// Whether another active appointment of the provider overlaps `[from, to)`
            /// (busy spans, buffers included).
            async fn provider_overlap(
                &mut self,
                provider_id: Uuid,
                from: Timestamp,
                to: Timestamp,
                except: Option<Uuid>,
            ) -> StoreResult<bool> {
                let row = sqlx::query(concat!(
                    "SELECT 1 AS x FROM appointments WHERE provider_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND busy_start_at < $3 AND busy_end_at > $2 AND ($4 IS NULL OR id <> $4) LIMIT 1"
                ))
                .bind(provider_id)
                .bind(enc_ts(from))
                .bind(enc_ts(to))
                .bind(except)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.is_some())
            }

            /// Whether another active appointment of the patient overlaps `[from, to)`.
            async fn patient_overlap(
                &mut self,
                patient_id: Uuid,
                from: Timestamp,
                to: Timestamp,
                except: Option<Uuid>,
            ) -> StoreResult<bool> {
                let row = sqlx::query(concat!(
                    "SELECT 1 AS x FROM appointments WHERE patient_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND start_at < $3 AND end_at > $2 AND ($4 IS NULL OR id <> $4) LIMIT 1"
                ))
                .bind(patient_id)
                .bind(enc_ts(from))
                .bind(enc_ts(to))
                .bind(except)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.is_some())
            }
        }

        #[async_trait::async_trait]
        impl $crate::tx::StoreTx for $tx {
            async fn insert_user(&mut self, u: &User) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, email, name, phone, password_hash, role, clinic_id, \
                     is_active, email_verified_at, last_login_at, failed_login_attempts, \
                     locked_until, mfa_enabled, mfa_secret, mfa_last_used_step, \
                     preferred_language, created_at, updated_at, deactivated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19)",
                )
                .bind(u.id)
                .bind(&u.email)
                .bind(&u.name)
                .bind(&u.phone)
                .bind(&u.password_hash)
                .bind(u.role.as_str())
                .bind(u.clinic_id)
                .bind(u.is_active)
                .bind(enc_opt_ts(u.email_verified_at))
                .bind(enc_opt_ts(u.last_login_at))
                .bind(i64::from(u.failed_login_attempts))
                .bind(enc_opt_ts(u.locked_until))
                .bind(u.mfa_enabled)
                .bind(&u.mfa_secret)
                .bind(u.mfa_last_used_step)
                .bind(&u.preferred_language)
                .bind(enc_ts(u.created_at))
                .bind(enc_ts(u.updated_at))
                .bind(enc_opt_ts(u.deactivated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_user(&mut self, id: Uuid) -> StoreResult<Option<User>> {
                let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::user).transpose()
            }

            async fn lock_user(&mut self, id: Uuid) -> StoreResult<Option<User>> {
                let row = sqlx::query(concat!("SELECT * FROM users WHERE id = $1", $fu))
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::user).transpose()
            }

            async fn find_user_by_email(&mut self, email: &str) -> StoreResult<Option<User>> {
                let row = sqlx::query("SELECT * FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::user).transpose()
            }

            async fn list_users(
                &mut self,
                f: &UserFilter,
                page: PageRequest<Uuid>,
            ) -> StoreResult<Vec<User>> {
                let pattern = f.query.as_ref().map(|q| format!("%{}%", like_escape(&q.to_lowercase())));
                let rows = sqlx::query(
                    "SELECT * FROM users \
                     WHERE ($1 IS NULL OR clinic_id = $1) \
                       AND ($2 IS NULL OR role = $2) \
                       AND ($3 IS NULL OR lower(name) LIKE $3 ESCAPE '\\' OR email LIKE $3 ESCAPE '\\') \
                       AND ($4 OR is_active) \
                       AND ($5 IS NULL OR id > $5) \
                     ORDER BY id LIMIT $6",
                )
                .bind(f.clinic_id)
                .bind(f.role.map(|r| r.as_str()))
                .bind(pattern)
                .bind(f.include_inactive)
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::user).collect()
            }

            async fn update_user(&mut self, u: &User) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE users SET email = $1, name = $2, phone = $3, password_hash = $4, \
                     role = $5, clinic_id = $6, is_active = $7, email_verified_at = $8, \
                     last_login_at = $9, failed_login_attempts = $10, locked_until = $11, \
                     mfa_enabled = $12, mfa_secret = $13, mfa_last_used_step = $14, \
                     preferred_language = $15, updated_at = $16, deactivated_at = $17 \
                     WHERE id = $18",
                )
                .bind(&u.email)
                .bind(&u.name)
                .bind(&u.phone)
                .bind(&u.password_hash)
                .bind(u.role.as_str())
                .bind(u.clinic_id)
                .bind(u.is_active)
                .bind(enc_opt_ts(u.email_verified_at))
                .bind(enc_opt_ts(u.last_login_at))
                .bind(i64::from(u.failed_login_attempts))
                .bind(enc_opt_ts(u.locked_until))
                .bind(u.mfa_enabled)
                .bind(&u.mfa_secret)
                .bind(u.mfa_last_used_step)
                .bind(&u.preferred_language)
                .bind(enc_ts(u.updated_at))
                .bind(enc_opt_ts(u.deactivated_at))
                .bind(u.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn insert_clinic(&mut self, c: &Clinic) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO clinics (id, name, slug, timezone, address_line, city, region, \
                     country, postal_code, latitude, longitude, phone, email, website, status, \
                     patient_self_registration, currency, created_at, updated_at, opening_hours, \
                     amenities, accepted_insurance) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20, $21, $22)",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(&c.slug)
                .bind(&c.timezone)
                .bind(&c.address_line)
                .bind(&c.city)
                .bind(&c.region)
                .bind(&c.country)
                .bind(&c.postal_code)
                .bind(c.latitude)
                .bind(c.longitude)
                .bind(&c.phone)
                .bind(&c.email)
                .bind(&c.website)
                .bind(&c.status)
                .bind(c.patient_self_registration)
                .bind(&c.currency)
                .bind(enc_ts(c.created_at))
                .bind(enc_ts(c.updated_at))
                .bind($crate::shared::json(&c.profile.opening_hours))
                .bind($crate::shared::json(&c.profile.amenities))
                .bind($crate::shared::json(&c.profile.accepted_insurance))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_clinic(&mut self, id: Uuid) -> StoreResult<Option<Clinic>> {
                let row = sqlx::query("SELECT * FROM clinics WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::clinic).transpose()
            }

            async fn get_clinic_by_slug(&mut self, slug: &str) -> StoreResult<Option<Clinic>> {
                let row = sqlx::query("SELECT * FROM clinics WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::clinic).transpose()
            }

            async fn list_clinics(
                &mut self,
                only: Option<Uuid>,
                page: PageRequest<Uuid>,
            ) -> StoreResult<Vec<Clinic>> {
                let rows = sqlx::query(
                    "SELECT * FROM clinics WHERE ($1 IS NULL OR id = $1) \
                     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
                )
                .bind(only)
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::clinic).collect()
            }

            async fn update_clinic(&mut self, c: &Clinic) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE clinics SET name = $1, slug = $2, timezone = $3, address_line = $4, \
                     city = $5, region = $6, country = $7, postal_code = $8, latitude = $9, \
                     longitude = $10, phone = $11, email = $12, website = $13, status = $14, \
                     patient_self_registration = $15, currency = $16, updated_at = $17, \
                     opening_hours = $19, amenities = $20, accepted_insurance = $21 \
                     WHERE id = $18",
                )
                .bind(&c.name)
                .bind(&c.slug)
                .bind(&c.timezone)
                .bind(&c.address_line)
                .bind(&c.city)
                .bind(&c.region)
                .bind(&c.country)
                .bind(&c.postal_code)
                .bind(c.latitude)
                .bind(c.longitude)
                .bind(&c.phone)
                .bind(&c.email)
                .bind(&c.website)
                .bind(&c.status)
                .bind(c.patient_self_registration)
                .bind(&c.currency)
                .bind(enc_ts(c.updated_at))
                .bind(c.id)
                .bind($crate::shared::json(&c.profile.opening_hours))
                .bind($crate::shared::json(&c.profile.amenities))
                .bind($crate::shared::json(&c.profile.accepted_insurance))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn insert_patient(&mut self, p: &Patient) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO patients (id, user_id, name, email, phone, date_of_birth, gender, \
                     preferred_language, notification_opt_out, is_active, created_at, updated_at, \
                     email_opt_out, sms_opt_out, push_opt_out) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(p.id)
                .bind(p.user_id)
                .bind(&p.name)
                .bind(&p.email)
                .bind(&p.phone)
                .bind(enc_opt_date(p.date_of_birth))
                .bind(&p.gender)
                .bind(&p.preferred_language)
                .bind(p.notification_opt_out)
                .bind(p.is_active)
                .bind(enc_ts(p.created_at))
                .bind(enc_ts(p.updated_at))
                .bind(p.channel_opt_outs.email)
                .bind(p.channel_opt_outs.sms)
                .bind(p.channel_opt_outs.push)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_patient_by_user(&mut self, user_id: Uuid) -> StoreResult<Option<Patient>> {
                let row = sqlx::query("SELECT * FROM patients WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::patient).transpose()
            }

            async fn link_patient_clinic(
                &mut self,
                patient_id: Uuid,
                clinic_id: Uuid,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO patient_clinics (patient_id, clinic_id, registered_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (patient_id, clinic_id) DO NOTHING",
                )
                .bind(patient_id)
                .bind(clinic_id)
                .bind(enc_ts(now))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn patient_clinic_ids(&mut self, patient_id: Uuid) -> StoreResult<Vec<Uuid>> {
                let rows = sqlx::query(
                    "SELECT clinic_id FROM patient_clinics WHERE patient_id = $1 ORDER BY clinic_id",
                )
                .bind(patient_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(|r| r.uuid("clinic_id")).collect()
            }

            async fn insert_refresh_token(&mut self, t: &RefreshToken) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, \
                     expires_at, used_at, revoked_at, revoked_reason, ip, user_agent) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(t.id)
                .bind(t.user_id)
                .bind(t.family_id)
                .bind(&t.token_hash)
                .bind(enc_ts(t.created_at))
                .bind(enc_ts(t.expires_at))
                .bind(enc_opt_ts(t.used_at))
                .bind(enc_opt_ts(t.revoked_at))
                .bind(&t.revoked_reason)
                .bind(&t.ip)
                .bind(&t.user_agent)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn lock_refresh_token_by_hash(
                &mut self,
                token_hash: &str,
            ) -> StoreResult<Option<RefreshToken>> {
                let row = sqlx::query(concat!(
                    "SELECT * FROM refresh_tokens WHERE token_hash = $1",
                    $fu
                ))
                .bind(token_hash)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::refresh_token).transpose()
            }

            async fn mark_refresh_token_used(&mut self, id: Uuid, now: Timestamp) -> StoreResult<()> {
                sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2")
                    .bind(enc_ts(now))
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                Ok(())
            }

            async fn revoke_refresh_family(
                &mut self,
                family_id: Uuid,
                reason: &str,
                now: Timestamp,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1, revoked_reason = $2 \
                     WHERE family_id = $3 AND revoked_at IS NULL",
                )
                .bind(enc_ts(now))
                .bind(reason)
                .bind(family_id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(done.rows_affected())
            }

            async fn revoke_user_refresh_tokens(
                &mut self,
                user_id: Uuid,
                reason: &str,
                now: Timestamp,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1, revoked_reason = $2 \
                     WHERE user_id = $3 AND revoked_at IS NULL",
                )
                .bind(enc_ts(now))
                .bind(reason)
                .bind(user_id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(done.rows_affected())
            }

            async fn insert_auth_token(&mut self, t: &AuthToken) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_tokens (id, user_id, purpose, token_hash, created_at, \
                     expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.id)
                .bind(t.user_id)
                .bind(t.purpose.as_str())
                .bind(&t.token_hash)
                .bind(enc_ts(t.created_at))
                .bind(enc_ts(t.expires_at))
                .bind(enc_opt_ts(t.used_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn lock_auth_token_by_hash(
                &mut self,
                purpose: TokenPurpose,
                token_hash: &str,
            ) -> StoreResult<Option<AuthToken>> {
                let row = sqlx::query(concat!(
                    "SELECT * FROM auth_tokens WHERE purpose = $1 AND token_hash = $2",
                    $fu
                ))
                .bind(purpose.as_str())
                .bind(token_hash)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::auth_token).transpose()
            }

            async fn use_auth_tokens(
                &mut self,
                user_id: Uuid,
                purpose: TokenPurpose,
                now: Timestamp,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE auth_tokens SET used_at = $1 \
                     WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
                )
                .bind(enc_ts(now))
                .bind(user_id)
                .bind(purpose.as_str())
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(done.rows_affected())
            }

            async fn replace_recovery_codes(
                &mut self,
                user_id: Uuid,
                code_hashes: &[String],
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *self.tx)
                    .await?;
                for h in code_hashes {
                    sqlx::query(
                        "INSERT INTO mfa_recovery_codes (id, user_id, code_hash, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(user_id)
                    .bind(h)
                    .bind(enc_ts(now))
                    .execute(&mut *self.tx)
                    .await?;
                }
                self.wrote = true;
                Ok(())
            }

            async fn use_recovery_code(
                &mut self,
                user_id: Uuid,
                code_hash: &str,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE mfa_recovery_codes SET used_at = $1 \
                     WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(enc_ts(now))
                .bind(user_id)
                .bind(code_hash)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(done.rows_affected() == 1)
            }

            async fn count_unused_recovery_codes(&mut self, user_id: Uuid) -> StoreResult<u64> {
                let row = sqlx::query(
                    "SELECT count(*) AS n FROM mfa_recovery_codes \
                     WHERE user_id = $1 AND used_at IS NULL",
                )
                .bind(user_id)
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(u64::try_from(row.int("n")?).unwrap_or(0))
            }

            async fn insert_external_identity(&mut self, e: &ExternalIdentity) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO external_identities (id, user_id, issuer, subject, email, \
                     created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(e.id)
                .bind(e.user_id)
                .bind(&e.issuer)
                .bind(&e.subject)
                .bind(&e.email)
                .bind(enc_ts(e.created_at))
                .bind(enc_opt_ts(e.last_used_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn list_external_identities(
                &mut self,
                user_id: Uuid,
            ) -> StoreResult<Vec<ExternalIdentity>> {
                let rows = sqlx::query(
                    "SELECT * FROM external_identities WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::external_identity).collect()
            }

            async fn find_external_identity(
                &mut self,
                issuer: &str,
                subject: &str,
            ) -> StoreResult<Option<ExternalIdentity>> {
                let row = sqlx::query(
                    "SELECT * FROM external_identities WHERE issuer = $1 AND subject = $2",
                )
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.as_ref().map(rows::external_identity).transpose()
            }

            async fn delete_external_identity(
                &mut self,
                user_id: Uuid,
                id: Uuid,
            ) -> StoreResult<Option<ExternalIdentity>> {
                let row = sqlx::query(
                    "DELETE FROM external_identities WHERE user_id = $1 AND id = $2 RETURNING *",
                )
                .bind(user_id)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::external_identity).transpose()
            }

            async fn insert_notification(&mut self, n: &Notification) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO notifications (id, clinic_id, recipient_user_id, \
                     recipient_patient_id, channel, type, status, destination, subject, body, \
                     body_preview, attempts, last_error, idempotency_key, created_at, sent_at, \
                     read_at, appointment_id, waitlist_entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                     $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                )
                .bind(n.id)
                .bind(n.clinic_id)
                .bind(n.recipient_user_id)
                .bind(n.recipient_patient_id)
                .bind(&n.channel)
                .bind(&n.kind)
                .bind(&n.status)
                .bind(&n.destination)
                .bind(&n.subject)
                .bind(&n.body)
                .bind(&n.body_preview)
                .bind(i64::from(n.attempts))
                .bind(&n.last_error)
                .bind(&n.idempotency_key)
                .bind(enc_ts(n.created_at))
                .bind(enc_opt_ts(n.sent_at))
                .bind(enc_opt_ts(n.read_at))
                .bind(n.appointment_id)
                .bind(n.waitlist_entry_id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                // A message to deliver is a job from the moment it exists.
                if n.status == "pending" && n.channel != "in_app" {
                    let job = $crate::jobs::NewJob::new(
                        $crate::jobs::SEND_NOTIFICATION,
                        format!("{}:{}", $crate::jobs::SEND_NOTIFICATION, n.id),
                        serde_json::json!({ "notification_id": n.id }),
                        n.created_at,
                    );
                    $crate::jobs::QueueTx::enqueue_job(self, &job, n.created_at).await?;
                }
                Ok(())
            }

            async fn notifications_for_appointment(&mut self, appointment_id: Uuid) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query("SELECT * FROM notifications WHERE appointment_id = $1 ORDER BY created_at, id")
                    .bind(appointment_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::notification).collect()
            }

            async fn get_notification(&mut self, id: Uuid) -> StoreResult<Option<Notification>> {
                let row = sqlx::query("SELECT * FROM notifications WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::notification).transpose()
            }

            async fn record_delivery(
                &mut self,
                id: Uuid,
                status: &str,
                error: Option<&str>,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE notifications SET status = $1, attempts = attempts + 1, last_error = $2, \
                     sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END \
                     WHERE id = $4 AND status = 'pending'",
                )
                .bind(status)
                .bind(error)
                .bind(enc_ts(now))
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn list_notifications_for_user(
                &mut self,
                user_id: Uuid,
            ) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query(
                    "SELECT * FROM notifications WHERE recipient_user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::notification).collect()
            }

            async fn role_permissions(&mut self) -> StoreResult<Vec<(String, String)>> {
                let rows = sqlx::query(
                    "SELECT role, permission FROM role_permissions ORDER BY role, permission",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter()
                    .map(|r| Ok((r.text("role")?, r.text("permission")?)))
                    .collect()
            }

            async fn roles(&mut self) -> StoreResult<Vec<(Role, String)>> {
                let rows = sqlx::query("SELECT name, description FROM roles ORDER BY name")
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let role = r.text("name")?.parse::<Role>().map_err(StoreError::corrupt)?;
                        Ok((role, r.text("description")?))
                    })
                    .collect()
            }

            async fn append_audit(&mut self, r: &AuditRecord) -> StoreResult<i64> {
                lock_audit_chain(&mut self.tx).await?;
                let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let (seq, prev) = match last {
                    Some(row) => (row.int("seq")? + 1, row.text("hash")?),
                    None => (1, carebook_domain::audit::GENESIS_HASH.to_owned()),
                };
                let hash = carebook_domain::audit::chain_hash(&prev, seq, r);
                sqlx::query(
                    "INSERT INTO audit_log (seq, id, occurred_at, actor_user_id, actor_role, \
                     action, entity_type, entity_id, clinic_id, old_values, new_values, ip, \
                     user_agent, request_id, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(seq)
                .bind(r.id)
                .bind(enc_ts(r.occurred_at))
                .bind(r.actor_user_id)
                .bind(&r.actor_role)
                .bind(&r.action)
                .bind(&r.entity_type)
                .bind(&r.entity_id)
                .bind(r.clinic_id)
                .bind(r.old_values.clone().map(sqlx::types::Json))
                .bind(r.new_values.clone().map(sqlx::types::Json))
                .bind(&r.ip)
                .bind(&r.user_agent)
                .bind(&r.request_id)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut *self.tx)
                .await?;
                self.audited = true;
                Ok(seq)
            }

            async fn list_audit(
                &mut self,
                f: &AuditFilter,
                page: PageRequest<i64>,
            ) -> StoreResult<Vec<ChainedRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM audit_log \
                     WHERE ($1 IS NULL OR entity_type = $1) \
                       AND ($2 IS NULL OR entity_id = $2) \
                       AND ($3 IS NULL OR actor_user_id = $3) \
                       AND ($4 IS NULL OR clinic_id = $4) \
                       AND ($5 IS NULL OR occurred_at >= $5) \
                       AND ($6 IS NULL OR occurred_at < $6) \
                       AND ($7 IS NULL OR seq < $7) \
                     ORDER BY seq DESC LIMIT $8",
                )
                .bind(&f.entity_type)
                .bind(&f.entity_id)
                .bind(f.actor_user_id)
                .bind(f.clinic_id)
                .bind(enc_opt_ts(f.from))
                .bind(enc_opt_ts(f.to))
                .bind(page.after)
                .bind(i64::from(page.limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::audit).collect()
            }

            async fn audit_chain(
                &mut self,
                after_seq: i64,
                limit: u32,
            ) -> StoreResult<Vec<ChainedRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::audit).collect()
            }

            async fn insert_provider(&mut self, p: &Provider) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO providers (id, user_id, title, bio, photo_url, license_number, \
                     registration_number, practice_start_year, qualifications, languages, \
                     default_fee_minor, currency, default_duration_minutes, emergency_enabled, \
                     max_daily_appointments, status, verification_status, is_active, created_at, \
                     updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                     $17, $18, $19, $20)",
                )
                .bind(p.id)
                .bind(p.user_id)
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
                .bind(enc_ts(p.created_at))
                .bind(enc_ts(p.updated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn insert_provider_service(&mut self, provider_id: Uuid, service_id: Uuid, now: Timestamp) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO provider_services (provider_id, service_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (provider_id, service_id) DO NOTHING",
                )
                .bind(provider_id)
                .bind(service_id)
                .bind(enc_ts(now))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_service(&mut self, id: Uuid) -> StoreResult<Option<Service>> {
                let row = sqlx::query("SELECT * FROM services WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::service).transpose()
            }

            async fn list_services(&mut self, clinic_id: Uuid, include_inactive: bool) -> StoreResult<Vec<Service>> {
                let rows = sqlx::query("SELECT * FROM services WHERE clinic_id = $1 AND ($2 OR is_active) ORDER BY name")
                    .bind(clinic_id)
                    .bind(include_inactive)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::service).collect()
            }

            async fn eligible_providers(&mut self, clinic_id: Uuid, service_id: Uuid, provider_id: Option<Uuid>) -> StoreResult<Vec<EligibleProvider>> {
                // Two statements rather than `$3 IS NULL OR p.id = $3`: PostgreSQL's generic
                // plan for that form cannot use the primary key, and scans every provider.
                macro_rules! eligible_sql {
                    ($extra:literal) => {
                        concat!("SELECT p.*, u.name AS user_name, ps.fee_minor AS ps_fee_minor, ps.currency AS ps_currency, ",
                         $crate::shared::pc_columns!(), " FROM providers p \
                         JOIN users u ON u.id = p.user_id \
                         JOIN provider_clinics pc ON pc.provider_id = p.id AND pc.clinic_id = $1 \
                              AND pc.status = 'active' AND pc.booking_enabled \
                         JOIN provider_services ps ON ps.provider_id = p.id AND ps.service_id = $2 AND ps.is_active \
                         WHERE p.is_active", $extra, " ORDER BY p.id")
                    };
                }
                let query = match provider_id {
                    Some(id) => sqlx::query(eligible_sql!(" AND p.id = $3")).bind(clinic_id).bind(service_id).bind(id),
                    None => sqlx::query(eligible_sql!("")).bind(clinic_id).bind(service_id),
                };
                let rows = query.fetch_all(&mut *self.tx).await?;
                rows.iter()
                    .map(|r| {
                        Ok(EligibleProvider {
                            provider: rows::provider(r)?,
                            engagement: rows::provider_clinic(r)?,
                            name: r.text("user_name")?,
                            service_fee: r.opt_int("ps_fee_minor")?.zip(r.opt_text("ps_currency")?),
                        })
                    })
                    .collect()
            }

            async fn booking_settings(&mut self, clinic_id: Uuid) -> StoreResult<BookingSettings> {
                let row = sqlx::query("SELECT * FROM clinic_booking_settings WHERE clinic_id = $1")
                    .bind(clinic_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    Some(r) => rows::booking_settings(&r),
                    None => Ok(BookingSettings::defaults(clinic_id)),
                }
            }

            async fn save_booking_settings(&mut self, s: &BookingSettings, now: Timestamp) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO clinic_booking_settings (clinic_id, slot_granularity_minutes, min_notice_minutes, \
                     booking_horizon_days, cancellation_notice_minutes, patient_self_booking, requires_prepayment, \
                     payment_hold_minutes, updated_at, updated_by_user_id, reminder_24h_enabled, \
                     reminder_24h_lead_minutes, reminder_2h_enabled, reminder_2h_lead_minutes, waitlist_offer_ttl_minutes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     ON CONFLICT (clinic_id) DO UPDATE SET slot_granularity_minutes = excluded.slot_granularity_minutes, \
                     min_notice_minutes = excluded.min_notice_minutes, booking_horizon_days = excluded.booking_horizon_days, \
                     cancellation_notice_minutes = excluded.cancellation_notice_minutes, \
                     patient_self_booking = excluded.patient_self_booking, requires_prepayment = excluded.requires_prepayment, \
                     payment_hold_minutes = excluded.payment_hold_minutes, updated_at = excluded.updated_at, \
                     updated_by_user_id = excluded.updated_by_user_id, \
                     reminder_24h_enabled = excluded.reminder_24h_enabled, \
                     reminder_24h_lead_minutes = excluded.reminder_24h_lead_minutes, \
                     reminder_2h_enabled = excluded.reminder_2h_enabled, \
                     reminder_2h_lead_minutes = excluded.reminder_2h_lead_minutes, \
                     waitlist_offer_ttl_minutes = excluded.waitlist_offer_ttl_minutes",
                )
                .bind(s.clinic_id)
                .bind(i64::from(s.slot_granularity_minutes))
                .bind(i64::from(s.min_notice_minutes))
                .bind(i64::from(s.booking_horizon_days))
                .bind(i64::from(s.cancellation_notice_minutes))
                .bind(s.patient_self_booking)
                .bind(s.requires_prepayment)
                .bind(i64::from(s.payment_hold_minutes))
                .bind(enc_ts(now))
                .bind(s.updated_by_user_id)
                .bind(s.reminder_24h_enabled)
                .bind(i64::from(s.reminder_24h_lead_minutes))
                .bind(s.reminder_2h_enabled)
                .bind(i64::from(s.reminder_2h_lead_minutes))
                .bind(i64::from(s.waitlist_offer_ttl_minutes))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_provider_by_user(&mut self, user_id: Uuid) -> StoreResult<Option<Provider>> {
                let row = sqlx::query("SELECT * FROM providers WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::provider).transpose()
            }

            async fn insert_service(&mut self, s: &Service) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO services (id, clinic_id, name, description, category, duration_minutes, \
                     buffer_before_minutes, buffer_after_minutes, required_specialization_id, fee_minor, \
                     currency, billing_code, modes, is_active, created_at, updated_at, deactivated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                )
                .bind(s.id)
                .bind(s.clinic_id)
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
                .bind(enc_ts(s.created_at))
                .bind(enc_ts(s.updated_at))
                .bind(enc_opt_ts((!s.is_active).then_some(s.updated_at)))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn insert_provider_clinic(&mut self, pc: &ProviderClinic) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO provider_clinics (id, provider_id, clinic_id, status, is_primary, \
                     department, designation, consultation_fee_minor, currency, default_duration_minutes, \
                     consultation_modes, booking_enabled, accepts_emergencies, max_daily_appointments, \
                     started_on, ended_on, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                )
                .bind(pc.id)
                .bind(pc.provider_id)
                .bind(pc.clinic_id)
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
                .bind(enc_ts(pc.created_at))
                .bind(enc_ts(pc.updated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn book_appointment(&mut self, new: &NewAppointment) -> StoreResult<BookingOutcome> {
                let a = &new.appointment;
                // Without exclusion constraints (SQLite) these checks are what refuses an
                // overlap; this transaction is the only writer, so nothing slips in after them.
                // On PostgreSQL the constraints refuse it at the insert, concurrent writers
                // included, and the checks would only repeat their work.
                if !EXCLUSION_CONSTRAINTS {
                    if self.provider_overlap(a.provider_id, a.busy_start_at, a.busy_end_at, None).await? {
                        self.refused = true;
                        return Ok(BookingOutcome::ProviderBusy);
                    }
                    if self.patient_overlap(a.patient_id, a.start_at, a.end_at, None).await? {
                        self.refused = true;
                        return Ok(BookingOutcome::PatientBusy);
                    }
                }
                // The day's load row: incremented only below the cap. Its row lock also
                // serialises bookings of the same provider and day on PostgreSQL.
                let load = sqlx::query(
                    "INSERT INTO provider_day_loads (provider_id, local_date, booked) VALUES ($1, $2, 1) \
                     ON CONFLICT (provider_id, local_date) DO UPDATE SET booked = provider_day_loads.booked + 1 \
                     WHERE $3 IS NULL OR provider_day_loads.booked < $3 \
                     RETURNING booked",
                )
                .bind(a.provider_id)
                .bind(enc_opt_date(Some(a.local_date)))
                .bind(new.daily_cap.map(i64::from))
                .fetch_optional(&mut *self.tx)
                .await?;
                if load.is_none() {
                    self.refused = true;
                    return Ok(BookingOutcome::DailyCapReached);
                }
                let seq = sqlx::query(
                    "INSERT INTO appointment_number_sequences (clinic_id, local_date, last_value) VALUES ($1, $2, 1) \
                     ON CONFLICT (clinic_id, local_date) DO UPDATE SET last_value = appointment_number_sequences.last_value + 1 \
                     RETURNING last_value",
                )
                .bind(a.clinic_id)
                .bind(enc_opt_date(Some(new.booked_on)))
                .fetch_one(&mut *self.tx)
                .await?;
                let n = u32::try_from(seq.int("last_value")?).map_err(StoreError::corrupt)?;
                let number = carebook_domain::schedule::lifecycle::appointment_number(new.booked_on, n);
                let inserted = sqlx::query(
                    "INSERT INTO appointments (id, clinic_id, number, patient_id, provider_id, service_id, \
                     status, priority, mode, start_at, end_at, busy_start_at, busy_end_at, local_date, \
                     over_daily_cap, notes, booked_by_user_id, created_at, updated_at, reason_for_visit, \
                     fee_minor, currency, hold_expires_at, assigned_from_waitlist) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                     $20, $21, $22, $23, $24) \
                     ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(a.id)
                .bind(a.clinic_id)
                .bind(&number)
                .bind(a.patient_id)
                .bind(a.provider_id)
                .bind(a.service_id)
                .bind(a.status.as_str())
                .bind(a.priority.as_str())
                .bind(&a.mode)
                .bind(enc_ts(a.start_at))
                .bind(enc_ts(a.end_at))
                .bind(enc_ts(a.busy_start_at))
                .bind(enc_ts(a.busy_end_at))
                .bind(enc_opt_date(Some(a.local_date)))
                .bind(a.over_daily_cap)
                .bind(&a.notes)
                .bind(a.booked_by_user_id)
                .bind(enc_ts(a.created_at))
                .bind(enc_ts(a.updated_at))
                .bind(&a.reason_for_visit)
                .bind(a.fee_minor)
                .bind(&a.currency)
                .bind(enc_opt_ts(a.hold_expires_at))
                .bind(a.assigned_from_waitlist)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                if inserted.is_none() {
                    // Lost a race on PostgreSQL: say which constraint refused it.
                    self.refused = true;
                    let provider_busy = self.provider_overlap(a.provider_id, a.busy_start_at, a.busy_end_at, None).await?;
                    return Ok(if provider_busy { BookingOutcome::ProviderBusy } else { BookingOutcome::PatientBusy });
                }
                Ok(BookingOutcome::Booked { number })
            }

            async fn get_appointment(&mut self, id: Uuid) -> StoreResult<Option<Appointment>> {
                let row = sqlx::query("SELECT * FROM appointments WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::appointment).transpose()
            }

            async fn provider_bookings(
                &mut self,
                provider_id: Uuid,
                from: Timestamp,
                to: Timestamp,
            ) -> StoreResult<Vec<Appointment>> {
                let rows = sqlx::query(concat!(
                    "SELECT * FROM appointments WHERE provider_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND busy_start_at < $3 AND busy_end_at > $2 ORDER BY busy_start_at"
                ))
                .bind(provider_id)
                .bind(enc_ts(from))
                .bind(enc_ts(to))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::appointment).collect()
            }

            async fn insert_availability_rule(&mut self, r: &AvailabilityRule) -> StoreResult<()> {
                let breaks = serde_json::to_value(&r.breaks).map_err(StoreError::corrupt)?;
                sqlx::query(
                    "INSERT INTO availability_rules (id, clinic_id, provider_id, day_of_week, start_time, \
                     end_time, breaks, is_working_day, mode, valid_from, valid_until, is_active, notes, \
                     created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(r.id)
                .bind(r.clinic_id)
                .bind(r.provider_id)
                .bind(i64::from(r.day_of_week))
                .bind(&r.start_time)
                .bind(&r.end_time)
                .bind(sqlx::types::Json(breaks))
                .bind(r.is_working_day)
                .bind(&r.mode)
                .bind(enc_opt_date(r.valid_from))
                .bind(enc_opt_date(r.valid_until))
                .bind(r.is_active)
                .bind(&r.notes)
                .bind(enc_ts(r.created_at))
                .bind(enc_ts(r.updated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn insert_availability_exception(&mut self, e: &AvailabilityException) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO availability_exceptions (id, clinic_id, provider_id, date, kind, \
                     start_time, end_time, reason, created_by_user_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(e.id)
                .bind(e.clinic_id)
                .bind(e.provider_id)
                .bind(enc_opt_date(Some(e.date)))
                .bind(&e.kind)
                .bind(&e.start_time)
                .bind(&e.end_time)
                .bind(&e.reason)
                .bind(e.created_by_user_id)
                .bind(enc_ts(e.created_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn insert_time_off(&mut self, t: &TimeOff) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO provider_time_off (id, provider_id, clinic_id, starts_at, ends_at, reason, \
                     status, requested_by_user_id, decided_by_user_id, decided_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(t.id)
                .bind(t.provider_id)
                .bind(t.clinic_id)
                .bind(enc_ts(t.starts_at))
                .bind(enc_ts(t.ends_at))
                .bind(&t.reason)
                .bind(&t.status)
                .bind(t.requested_by_user_id)
                .bind(t.decided_by_user_id)
                .bind(enc_opt_ts(t.decided_at))
                .bind(enc_ts(t.created_at))
                .bind(enc_ts(t.updated_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn decide_time_off(
                &mut self,
                id: Uuid,
                status: &str,
                by: Option<Uuid>,
                now: Timestamp,
            ) -> StoreResult<Option<(TimeOff, Vec<Appointment>)>> {
                let row = sqlx::query(
                    "UPDATE provider_time_off SET status = $1, decided_by_user_id = $2, decided_at = $3, \
                     updated_at = $3 WHERE id = $4 AND status = 'requested' RETURNING *",
                )
                .bind(status)
                .bind(by)
                .bind(enc_ts(now))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                let Some(t) = row.as_ref().map(rows::time_off).transpose()? else {
                    return Ok(None);
                };
                if t.status != "approved" {
                    return Ok(Some((t, vec![])));
                }
                let affected = sqlx::query(concat!(
                    "SELECT * FROM appointments WHERE provider_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND start_at < $3 AND end_at > $2 AND ($4 IS NULL OR clinic_id = $4) ORDER BY start_at"
                ))
                .bind(t.provider_id)
                .bind(enc_ts(t.starts_at))
                .bind(enc_ts(t.ends_at))
                .bind(t.clinic_id)
                .fetch_all(&mut *self.tx)
                .await?;
                let affected = affected.iter().map(rows::appointment).collect::<StoreResult<Vec<_>>>()?;
                Ok(Some((t, affected)))
            }

            async fn schedule_facts(
                &mut self,
                provider_id: Uuid,
                clinic_id: Uuid,
                dates: (jiff::civil::Date, jiff::civil::Date),
                span: (Timestamp, Timestamp),
            ) -> StoreResult<ScheduleFacts> {
                let rules = sqlx::query(
                    "SELECT * FROM availability_rules WHERE provider_id = $1 AND clinic_id = $2 AND is_active \
                     ORDER BY day_of_week, start_time",
                )
                .bind(provider_id)
                .bind(clinic_id)
                .fetch_all(&mut *self.tx)
                .await?;
                let exceptions = sqlx::query(
                    "SELECT * FROM availability_exceptions WHERE provider_id = $1 AND clinic_id = $2 \
                     AND date >= $3 AND date <= $4 ORDER BY date",
                )
                .bind(provider_id)
                .bind(clinic_id)
                .bind(enc_opt_date(Some(dates.0)))
                .bind(enc_opt_date(Some(dates.1)))
                .fetch_all(&mut *self.tx)
                .await?;
                let time_off = sqlx::query(
                    "SELECT * FROM provider_time_off WHERE provider_id = $1 AND status = 'approved' \
                     AND (clinic_id IS NULL OR clinic_id = $2) AND starts_at < $4 AND ends_at > $3 \
                     ORDER BY starts_at",
                )
                .bind(provider_id)
                .bind(clinic_id)
                .bind(enc_ts(span.0))
                .bind(enc_ts(span.1))
                .fetch_all(&mut *self.tx)
                .await?;
                let bookings = sqlx::query(concat!(
                    "SELECT id, provider_id, start_at, busy_start_at, busy_end_at FROM appointments \
                     WHERE provider_id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " AND busy_start_at < $3 AND busy_end_at > $2 ORDER BY busy_start_at"
                ))
                .bind(provider_id)
                .bind(enc_ts(span.0))
                .bind(enc_ts(span.1))
                .fetch_all(&mut *self.tx)
                .await?
                .iter()
                .map(rows::booked_span)
                .collect::<StoreResult<Vec<_>>>()?;
                Ok(ScheduleFacts {
                    rules: rules.iter().map(rows::availability_rule).collect::<StoreResult<_>>()?,
                    exceptions: exceptions.iter().map(rows::availability_exception).collect::<StoreResult<_>>()?,
                    time_off: time_off.iter().map(rows::time_off).collect::<StoreResult<_>>()?,
                    bookings,
                })
            }

            async fn cancel_appointment(
                &mut self,
                id: Uuid,
                by: Option<Uuid>,
                reason: &str,
                now: Timestamp,
            ) -> StoreResult<Option<Appointment>> {
                let row = sqlx::query(concat!(
                    "UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2, \
                     cancellation_reason = $3, updated_at = $1 WHERE id = $4 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    " RETURNING *"
                ))
                .bind(enc_ts(now))
                .bind(by)
                .bind(reason)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                let Some(a) = row.as_ref().map(rows::appointment).transpose()? else {
                    return Ok(None);
                };
                sqlx::query(
                    "UPDATE provider_day_loads SET booked = booked - 1 \
                     WHERE provider_id = $1 AND local_date = $2 AND booked > 0",
                )
                .bind(a.provider_id)
                .bind(enc_opt_date(Some(a.local_date)))
                .execute(&mut *self.tx)
                .await?;
                Ok(Some(a))
            }

            async fn set_appointment_status(
                &mut self,
                id: Uuid,
                from: carebook_domain::schedule::lifecycle::AppointmentStatus,
                to: carebook_domain::schedule::lifecycle::AppointmentStatus,
                now: Timestamp,
            ) -> StoreResult<Option<Appointment>> {
                if to == carebook_domain::schedule::lifecycle::AppointmentStatus::Cancelled {
                    return Err(StoreError::Invalid("cancel with cancel_appointment".to_owned()));
                }
                // The column stamped by each status; the others keep their value.
                let stamp = |s: carebook_domain::schedule::lifecycle::AppointmentStatus| (to == s).then(|| enc_ts(now));
                let row = sqlx::query(
                    "UPDATE appointments SET status = $1, updated_at = $2, \
                     confirmed_at = COALESCE($3, confirmed_at), checked_in_at = COALESCE($4, checked_in_at), \
                     started_at = COALESCE($5, started_at), completed_at = COALESCE($6, completed_at) \
                     WHERE id = $7 AND status = $8 RETURNING *",
                )
                .bind(to.as_str())
                .bind(enc_ts(now))
                .bind(stamp(carebook_domain::schedule::lifecycle::AppointmentStatus::Confirmed))
                .bind(stamp(carebook_domain::schedule::lifecycle::AppointmentStatus::CheckedIn))
                .bind(stamp(carebook_domain::schedule::lifecycle::AppointmentStatus::InProgress))
                .bind(stamp(carebook_domain::schedule::lifecycle::AppointmentStatus::Completed))
                .bind(id)
                .bind(from.as_str())
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::appointment).transpose()
            }

            async fn reschedule_appointment(&mut self, r: &Reschedule) -> StoreResult<BookingOutcome> {
                let row = sqlx::query(concat!(
                    "SELECT * FROM appointments WHERE id = $1 AND status IN ",
                    $crate::scheduling::active_statuses!(),
                    $fu
                ))
                .bind(r.id)
                .fetch_optional(&mut *self.tx)
                .await?;
                let Some(old) = row.as_ref().map(rows::appointment).transpose()? else {
                    return Err(StoreError::NotFound);
                };
                // Lock both days' load rows in date order, so two reschedules crossing the same
                // days cannot wait on each other in a cycle.
                let mut days = vec![old.local_date, r.local_date];
                days.sort();
                days.dedup();
                for d in &days {
                    sqlx::query(
                        "INSERT INTO provider_day_loads (provider_id, local_date, booked) VALUES ($1, $2, 0) \
                         ON CONFLICT (provider_id, local_date) DO UPDATE SET booked = provider_day_loads.booked",
                    )
                    .bind(old.provider_id)
                    .bind(enc_opt_date(Some(*d)))
                    .execute(&mut *self.tx)
                    .await?;
                }
                if self.provider_overlap(old.provider_id, r.busy_start_at, r.busy_end_at, Some(r.id)).await? {
                    self.refused = true;
                    return Ok(BookingOutcome::ProviderBusy);
                }
                if self.patient_overlap(old.patient_id, r.start_at, r.end_at, Some(r.id)).await? {
                    self.refused = true;
                    return Ok(BookingOutcome::PatientBusy);
                }
                if old.local_date != r.local_date {
                    let moved = sqlx::query(
                        "UPDATE provider_day_loads SET booked = booked + 1 \
                         WHERE provider_id = $1 AND local_date = $2 AND ($3 IS NULL OR booked < $3) RETURNING booked",
                    )
                    .bind(old.provider_id)
                    .bind(enc_opt_date(Some(r.local_date)))
                    .bind(r.daily_cap.map(i64::from))
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    if moved.is_none() {
                        self.refused = true;
                        return Ok(BookingOutcome::DailyCapReached);
                    }
                    sqlx::query(
                        "UPDATE provider_day_loads SET booked = booked - 1 \
                         WHERE provider_id = $1 AND local_date = $2 AND booked > 0",
                    )
                    .bind(old.provider_id)
                    .bind(enc_opt_date(Some(old.local_date)))
                    .execute(&mut *self.tx)
                    .await?;
                }
                // On PostgreSQL the exclusion constraints stand behind the checks above; a
                // writer that slipped in between makes this fail as a conflict.
                let updated = sqlx::query(
                    "UPDATE appointments SET start_at = $1, end_at = $2, busy_start_at = $3, busy_end_at = $4, \
                     local_date = $5, status = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(enc_ts(r.start_at))
                .bind(enc_ts(r.end_at))
                .bind(enc_ts(r.busy_start_at))
                .bind(enc_ts(r.busy_end_at))
                .bind(enc_opt_date(Some(r.local_date)))
                .bind(r.status.as_str())
                .bind(enc_ts(r.now))
                .bind(r.id)
                .execute(&mut *self.tx)
                .await;
                self.wrote = true;
                match updated {
                    Ok(_) => Ok(BookingOutcome::Booked { number: old.number }),
                    Err(e) => match StoreError::from(e) {
                        StoreError::Conflict(what) => {
                            self.refused = true;
                            Ok(if what.contains("patient") { BookingOutcome::PatientBusy } else { BookingOutcome::ProviderBusy })
                        }
                        other => Err(other),
                    },
                }
            }

            async fn provider_day_load(&mut self, provider_id: Uuid, local_date: jiff::civil::Date) -> StoreResult<u32> {
                let row = sqlx::query("SELECT booked FROM provider_day_loads WHERE provider_id = $1 AND local_date = $2")
                    .bind(provider_id)
                    .bind(enc_opt_date(Some(local_date)))
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    Some(r) => u32::try_from(r.int("booked")?).map_err(StoreError::corrupt),
                    None => Ok(0),
                }
            }

            async fn purge_spent_tokens(&mut self, before: Timestamp) -> StoreResult<(u64, u64)> {
                let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
                    .bind(enc_ts(before))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                let once = sqlx::query(
                    "DELETE FROM auth_tokens WHERE expires_at < $1 OR used_at < $1",
                )
                .bind(enc_ts(before))
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
                self.wrote = true;
                Ok((refresh, once))
            }

            async fn ping(&mut self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                if self.refused {
                    return Err(StoreError::Refused);
                }
                if self.wrote && !self.audited {
                    return Err(StoreError::Unaudited);
                }
                self.tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_store_tx;

/// A value for a JSON column (jsonb on PostgreSQL, TEXT on SQLite).
pub(crate) fn json<T: serde::Serialize + ?Sized>(v: &T) -> sqlx::types::Json<serde_json::Value> {
    sqlx::types::Json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}

/// The provider_clinics columns with a `pc_` prefix, for reading beside a provider row.
macro_rules! pc_columns {
    () => {
        "pc.id AS pc_id, pc.provider_id AS pc_provider_id, pc.clinic_id AS pc_clinic_id, \
         pc.status AS pc_status, pc.is_primary AS pc_is_primary, pc.department AS pc_department, \
         pc.designation AS pc_designation, pc.consultation_fee_minor AS pc_consultation_fee_minor, \
         pc.currency AS pc_currency, pc.default_duration_minutes AS pc_default_duration_minutes, \
         pc.consultation_modes AS pc_consultation_modes, pc.booking_enabled AS pc_booking_enabled, \
         pc.accepts_emergencies AS pc_accepts_emergencies, \
         pc.max_daily_appointments AS pc_max_daily_appointments, pc.started_on AS pc_started_on, \
         pc.ended_on AS pc_ended_on, pc.created_at AS pc_created_at, pc.updated_at AS pc_updated_at"
    };
}
pub(crate) use pc_columns;

/// Escapes `%`, `_` and `\` so a search string matches literally inside a LIKE pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
