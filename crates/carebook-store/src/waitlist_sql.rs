//! The SQL of [`WaitlistTx`](crate::waitlist::WaitlistTx), written once for both backends like
//! `shared.rs`; `for_update` is PostgreSQL's row lock (SQLite's writer is already alone).

macro_rules! impl_waitlist_tx {
    ($tx:ty, for_update = $fu:literal) => {
        /// The queue's order, as SQL.
        macro_rules! queue_order {
            () => {
                " ORDER BY CASE priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, \
                 position, created_at, id"
            };
        }

        #[async_trait::async_trait]
        impl $crate::waitlist::WaitlistTx for $tx {
            async fn insert_waitlist_entry(&mut self, e: &$crate::waitlist::WaitlistEntry) -> StoreResult<bool> {
                let row = sqlx::query(
                    "INSERT INTO waitlist_entries (id, clinic_id, patient_id, service_id, provider_id, mode, \
                     requested_from, requested_to, priority, position, notes, status, created_by_user_id, \
                     created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     (SELECT COALESCE(MAX(position), 0) + 1 FROM waitlist_entries \
                      WHERE clinic_id = $2 AND priority = $9 AND status IN ('waiting', 'offered')), \
                     $10, 'waiting', $11, $12, $12) \
                     ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(e.id)
                .bind(e.clinic_id)
                .bind(e.patient_id)
                .bind(e.service_id)
                .bind(e.provider_id)
                .bind(&e.mode)
                .bind(enc_opt_date(e.requested_from))
                .bind(enc_opt_date(e.requested_to))
                .bind(e.priority.as_str())
                .bind(&e.notes)
                .bind(e.created_by_user_id)
                .bind(enc_ts(e.created_at))
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote |= row.is_some();
                Ok(row.is_some())
            }

            async fn get_waitlist_entry(&mut self, id: Uuid) -> StoreResult<Option<$crate::waitlist::WaitlistEntry>> {
                let row = sqlx::query("SELECT * FROM waitlist_entries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::waitlist_entry).transpose()
            }

            async fn lock_waitlist_entry(&mut self, id: Uuid) -> StoreResult<Option<$crate::waitlist::WaitlistEntry>> {
                let row = sqlx::query(concat!("SELECT * FROM waitlist_entries WHERE id = $1", $fu))
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::waitlist_entry).transpose()
            }

            async fn list_waitlist(
                &mut self,
                f: &$crate::waitlist::WaitlistFilter,
                offset: u32,
                limit: u32,
            ) -> StoreResult<Vec<$crate::waitlist::WaitlistEntry>> {
                use carebook_domain::waitlist::EntryStatus;
                let statuses = if f.statuses.is_empty() {
                    vec![EntryStatus::Waiting, EntryStatus::Offered]
                } else {
                    f.statuses.clone()
                };
                let open_only = statuses.iter().all(|s| s.is_open());
                let list = format!(
                    ",{},",
                    statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
                );
                let sql = if open_only {
                    concat!(
                        "SELECT * FROM waitlist_entries WHERE ($1 IS NULL OR clinic_id = $1) \
                         AND ($2 IS NULL OR patient_id = $2) AND ($3 IS NULL OR service_id = $3) \
                         AND ($4 IS NULL OR provider_id = $4) AND $5 LIKE '%,' || status || ',%'",
                        queue_order!(),
                        " LIMIT $6 OFFSET $7"
                    )
                } else {
                    "SELECT * FROM waitlist_entries WHERE ($1 IS NULL OR clinic_id = $1) \
                     AND ($2 IS NULL OR patient_id = $2) AND ($3 IS NULL OR service_id = $3) \
                     AND ($4 IS NULL OR provider_id = $4) AND $5 LIKE '%,' || status || ',%' \
                     ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
                };
                let rows = sqlx::query(sql)
                    .bind(f.clinic_id)
                    .bind(f.patient_id)
                    .bind(f.service_id)
                    .bind(f.provider_id)
                    .bind(list)
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::waitlist_entry).collect()
            }

            async fn waiting_entries_for(
                &mut self,
                clinic_id: Uuid,
                provider_id: Option<Uuid>,
                dates: (jiff::civil::Date, jiff::civil::Date),
            ) -> StoreResult<Vec<$crate::waitlist::WaitlistEntry>> {
                let rows = sqlx::query(concat!(
                    "SELECT * FROM waitlist_entries WHERE clinic_id = $1 AND status = 'waiting' \
                     AND ($2 IS NULL OR provider_id IS NULL OR provider_id = $2) \
                     AND ($2 IS NULL OR EXISTS (SELECT 1 FROM provider_services ps \
                          WHERE ps.provider_id = $2 AND ps.service_id = waitlist_entries.service_id \
                          AND ps.is_active)) \
                     AND (requested_to IS NULL OR requested_to >= $3) \
                     AND (requested_from IS NULL OR requested_from <= $4)",
                    queue_order!()
                ))
                .bind(clinic_id)
                .bind(provider_id)
                .bind(enc_opt_date(Some(dates.0)))
                .bind(enc_opt_date(Some(dates.1)))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::waitlist_entry).collect()
            }

            async fn waitlist_depth(&mut self) -> StoreResult<(u64, u64)> {
                let row = sqlx::query(
                    "SELECT COALESCE(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0) AS waiting, \
                     COALESCE(SUM(CASE WHEN status = 'offered' THEN 1 ELSE 0 END), 0) AS offered \
                     FROM waitlist_entries WHERE status IN ('waiting', 'offered')",
                )
                .fetch_one(&mut *self.tx)
                .await?;
                let n = |c: &str| row.int(c).map(|v| u64::try_from(v).unwrap_or(0));
                Ok((n("waiting")?, n("offered")?))
            }

            async fn has_waiting_entries(&mut self, clinic_id: Uuid) -> StoreResult<bool> {
                let row = sqlx::query(
                    "SELECT 1 AS x FROM waitlist_entries WHERE clinic_id = $1 AND status = 'waiting' LIMIT 1",
                )
                .bind(clinic_id)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.is_some())
            }

            async fn transition_waitlist_entry(
                &mut self,
                t: &$crate::waitlist::EntryTransition,
            ) -> StoreResult<Option<$crate::waitlist::WaitlistEntry>> {
                use carebook_domain::waitlist::EntryStatus;
                let from = format!(
                    ",{},",
                    t.from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
                );
                let assigned = t.to == EntryStatus::Assigned;
                let closed = matches!(t.to, EntryStatus::Cancelled | EntryStatus::Expired | EntryStatus::Assigned);
                let row = sqlx::query(
                    "UPDATE waitlist_entries SET status = $1, updated_at = $2, \
                     appointment_id = COALESCE($3, appointment_id), \
                     assigned_at = CASE WHEN $4 THEN $2 ELSE assigned_at END, \
                     closed_at = CASE WHEN $5 THEN $2 ELSE closed_at END, \
                     close_reason = COALESCE($6, close_reason) \
                     WHERE id = $7 AND $8 LIKE '%,' || status || ',%' RETURNING *",
                )
                .bind(t.to.as_str())
                .bind(enc_ts(t.now))
                .bind(t.appointment_id)
                .bind(assigned)
                .bind(closed)
                .bind(&t.reason)
                .bind(t.id)
                .bind(from)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::waitlist_entry).transpose()
            }

            async fn update_waitlist_entry(&mut self, e: &$crate::waitlist::WaitlistEntry) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE waitlist_entries SET priority = $1, position = $2, notes = $3, mode = $4, \
                     requested_from = $5, requested_to = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(e.priority.as_str())
                .bind(i64::from(e.position))
                .bind(&e.notes)
                .bind(&e.mode)
                .bind(enc_opt_date(e.requested_from))
                .bind(enc_opt_date(e.requested_to))
                .bind(enc_ts(e.updated_at))
                .bind(e.id)
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn renumber_waitlist(
                &mut self,
                clinic_id: Uuid,
                priority: carebook_domain::schedule::lifecycle::Priority,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE waitlist_entries SET position = ranked.n FROM ( \
                       SELECT id, row_number() OVER (ORDER BY position, created_at, id) AS n \
                       FROM waitlist_entries \
                       WHERE clinic_id = $1 AND priority = $2 AND status IN ('waiting', 'offered') \
                     ) AS ranked \
                     WHERE waitlist_entries.id = ranked.id AND waitlist_entries.position <> ranked.n",
                )
                .bind(clinic_id)
                .bind(priority.as_str())
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn move_waitlist_entry(
                &mut self,
                e: &$crate::waitlist::WaitlistEntry,
                position: u32,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE waitlist_entries SET position = position + 1 \
                     WHERE clinic_id = $1 AND priority = $2 AND status IN ('waiting', 'offered') \
                     AND position >= $3 AND id <> $4",
                )
                .bind(e.clinic_id)
                .bind(e.priority.as_str())
                .bind(i64::from(position))
                .bind(e.id)
                .execute(&mut *self.tx)
                .await?;
                sqlx::query("UPDATE waitlist_entries SET position = $1 WHERE id = $2")
                    .bind(i64::from(position))
                    .bind(e.id)
                    .execute(&mut *self.tx)
                    .await?;
                self.wrote = true;
                self.renumber_waitlist(e.clinic_id, e.priority).await
            }

            async fn waiting_entries_ending_before(
                &mut self,
                before: jiff::civil::Date,
                limit: u32,
            ) -> StoreResult<Vec<$crate::waitlist::WaitlistEntry>> {
                let rows = sqlx::query(
                    "SELECT * FROM waitlist_entries WHERE status = 'waiting' AND requested_to IS NOT NULL \
                     AND requested_to < $1 ORDER BY requested_to, id LIMIT $2",
                )
                .bind(enc_opt_date(Some(before)))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(rows::waitlist_entry).collect()
            }

            async fn waitlist_assignments_since(
                &mut self,
                clinic_id: Uuid,
                service_id: Uuid,
                since: Timestamp,
            ) -> StoreResult<u32> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM waitlist_entries WHERE clinic_id = $1 AND service_id = $2 \
                     AND status = 'assigned' AND assigned_at >= $3",
                )
                .bind(clinic_id)
                .bind(service_id)
                .bind(enc_ts(since))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(u32::try_from(row.int("n")?.max(0)).unwrap_or(u32::MAX))
            }

            async fn insert_waitlist_offer(&mut self, o: &$crate::waitlist::WaitlistOffer) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO waitlist_offers (id, entry_id, appointment_id, provider_id, start_at, end_at, \
                     status, offered_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(o.id)
                .bind(o.entry_id)
                .bind(o.appointment_id)
                .bind(o.provider_id)
                .bind(enc_ts(o.start_at))
                .bind(enc_ts(o.end_at))
                .bind(o.status.as_str())
                .bind(enc_ts(o.offered_at))
                .bind(enc_ts(o.expires_at))
                .execute(&mut *self.tx)
                .await?;
                self.wrote = true;
                Ok(())
            }

            async fn get_waitlist_offer(&mut self, id: Uuid) -> StoreResult<Option<$crate::waitlist::WaitlistOffer>> {
                let row = sqlx::query("SELECT * FROM waitlist_offers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::waitlist_offer).transpose()
            }

            async fn open_offer_of(&mut self, entry_id: Uuid) -> StoreResult<Option<$crate::waitlist::WaitlistOffer>> {
                let row = sqlx::query("SELECT * FROM waitlist_offers WHERE entry_id = $1 AND status = 'open'")
                    .bind(entry_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::waitlist_offer).transpose()
            }

            async fn offers_of(&mut self, entry_id: Uuid) -> StoreResult<Vec<$crate::waitlist::WaitlistOffer>> {
                let rows = sqlx::query("SELECT * FROM waitlist_offers WHERE entry_id = $1 ORDER BY offered_at, id")
                    .bind(entry_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::waitlist_offer).collect()
            }

            async fn close_waitlist_offer(
                &mut self,
                id: Uuid,
                to: carebook_domain::waitlist::OfferStatus,
                now: Timestamp,
            ) -> StoreResult<Option<$crate::waitlist::WaitlistOffer>> {
                let row = sqlx::query(
                    "UPDATE waitlist_offers SET status = $1, responded_at = $2 \
                     WHERE id = $3 AND status = 'open' RETURNING *",
                )
                .bind(to.as_str())
                .bind(enc_ts(now))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::waitlist_offer).transpose()
            }

            async fn accept_offered_appointment(
                &mut self,
                id: Uuid,
                to: carebook_domain::schedule::lifecycle::AppointmentStatus,
                hold_expires_at: Option<Timestamp>,
                now: Timestamp,
            ) -> StoreResult<Option<Appointment>> {
                let row = sqlx::query(
                    "UPDATE appointments SET status = $1, hold_expires_at = $2, updated_at = $3 \
                     WHERE id = $4 AND status = 'offered' RETURNING *",
                )
                .bind(to.as_str())
                .bind(enc_opt_ts(hold_expires_at))
                .bind(enc_ts(now))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                self.wrote = true;
                row.as_ref().map(rows::appointment).transpose()
            }
        }
    };
}
pub(crate) use impl_waitlist_tx;
