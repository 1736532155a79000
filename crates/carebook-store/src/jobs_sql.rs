//! The SQL of [`QueueTx`](crate::QueueTx), written once for both backends like `shared.rs`.
//! Each backend supplies `skip_locked!()`: PostgreSQL's claim passes over rows another
//! worker's claim has locked; SQLite's writer is alone and needs nothing. It also supplies
//! `id_in!(param)` and `id_list(ids)`, a list of ids bound as one parameter (an array on
//! PostgreSQL, a JSON array of hex strings on SQLite).

macro_rules! impl_queue_tx {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::jobs::QueueTx for $tx {
            async fn enqueue_job(&mut self, j: &$crate::jobs::NewJob, now: Timestamp) -> StoreResult<bool> {
                let row = sqlx::query(
                    "INSERT INTO jobs (id, kind, payload, idempotency_key, status, run_at, attempts, \
                     max_attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $7) \
                     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                )
                .bind(Uuid::now_v7())
                .bind(&j.kind)
                .bind(sqlx::types::Json(&j.payload))
                .bind(&j.idempotency_key)
                .bind(enc_ts(j.run_at))
                .bind(i64::from(j.max_attempts))
                .bind(enc_ts(now))
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.is_some())
            }

            async fn claim_jobs(
                &mut self,
                worker: &str,
                limit: u32,
                lease_until: Timestamp,
                now: Timestamp,
            ) -> StoreResult<Vec<$crate::jobs::Job>> {
                // Two ordered scans of the partial indexes, each stopping at `limit` rows: one
                // `WHERE queued OR lease ran out … ORDER BY run_at` cannot use either index for
                // the order, and read and sorted the whole table on every claim (18 ms at a
                // depth of 40,000 jobs, measured in docs/benchmarks.md).
                let rows = sqlx::query(concat!(
                    "WITH expired AS (SELECT id FROM jobs WHERE status = 'running' AND locked_until < $3 \
                     ORDER BY locked_until LIMIT $4",
                    skip_locked!(),
                    "), due AS (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 \
                     ORDER BY run_at LIMIT $4",
                    skip_locked!(),
                    ") UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
                     locked_until = $2, updated_at = $3 \
                     WHERE id IN (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $4) RETURNING *"
                ))
                .bind(worker)
                .bind(enc_ts(lease_until))
                .bind(enc_ts(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await?;
                let mut jobs = rows.iter().map(rows::job).collect::<StoreResult<Vec<_>>>()?;
                jobs.sort_by_key(|j| j.run_at);
                Ok(jobs)
            }

            async fn finish_job(&mut self, id: Uuid, worker: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'succeeded', locked_by = NULL, locked_until = NULL, \
                     finished_at = $1, updated_at = $1 WHERE id = $2 AND status = 'running' AND locked_by = $3",
                )
                .bind(enc_ts(now))
                .bind(id)
                .bind(worker)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_jobs(
                &mut self,
                ids: &[Uuid],
                worker: &str,
                now: Timestamp,
            ) -> StoreResult<Vec<Uuid>> {
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let rows = sqlx::query(concat!(
                    "UPDATE jobs SET status = 'succeeded', locked_by = NULL, locked_until = NULL, \
                     finished_at = $1, updated_at = $1 WHERE ",
                    id_in!("$2"),
                    " AND status = 'running' AND locked_by = $3 RETURNING id"
                ))
                .bind(enc_ts(now))
                .bind(id_list(ids))
                .bind(worker)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(|r| r.uuid("id")).collect()
            }

            async fn fail_job(
                &mut self,
                id: Uuid,
                worker: &str,
                error: &str,
                retry_at: Timestamp,
                permanent: bool,
                now: Timestamp,
            ) -> StoreResult<Option<$crate::jobs::JobStatus>> {
                let row = sqlx::query(
                    "UPDATE jobs SET \
                     status = CASE WHEN $1 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
                     finished_at = CASE WHEN $1 OR attempts >= max_attempts THEN $2 ELSE NULL END, \
                     run_at = CASE WHEN $1 OR attempts >= max_attempts THEN run_at ELSE $3 END, \
                     last_error = $4, locked_by = NULL, locked_until = NULL, updated_at = $2 \
                     WHERE id = $5 AND status = 'running' AND locked_by = $6 RETURNING status",
                )
                .bind(permanent)
                .bind(enc_ts(now))
                .bind(enc_ts(retry_at))
                .bind(error)
                .bind(id)
                .bind(worker)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.map(|r| {
                    let s = r.text("status")?;
                    $crate::jobs::JobStatus::parse(&s).ok_or_else(|| StoreError::corrupt(format!("job status {s}")))
                })
                .transpose()
            }

            async fn cancel_queued_jobs(&mut self, prefix: &str, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'cancelled', finished_at = $1, updated_at = $1 \
                     WHERE status = 'queued' AND idempotency_key LIKE $2 ESCAPE '\\'",
                )
                .bind(enc_ts(now))
                .bind(format!("{}%", like_escape(prefix)))
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected())
            }

            async fn revive_job(&mut self, id: Uuid, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, finished_at = NULL, \
                     updated_at = $1 WHERE id = $2 AND status = 'dead'",
                )
                .bind(enc_ts(now))
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn get_job(&mut self, id: Uuid) -> StoreResult<Option<$crate::jobs::Job>> {
                let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::job).transpose()
            }

            async fn job_by_key(&mut self, key: &str) -> StoreResult<Option<$crate::jobs::Job>> {
                let row = sqlx::query("SELECT * FROM jobs WHERE idempotency_key = $1")
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.as_ref().map(rows::job).transpose()
            }

            async fn dead_jobs(&mut self, limit: u32) -> StoreResult<Vec<$crate::jobs::Job>> {
                let rows = sqlx::query("SELECT * FROM jobs WHERE status = 'dead' ORDER BY updated_at DESC LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(rows::job).collect()
            }

            async fn queue_stats(&mut self, now: Timestamp) -> StoreResult<$crate::jobs::QueueStats> {
                let row = sqlx::query(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
                     COALESCE(SUM(CASE WHEN status = 'queued' AND run_at <= $1 THEN 1 ELSE 0 END), 0) AS due, \
                     COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS running, \
                     COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead \
                     FROM jobs WHERE status IN ('queued', 'running', 'dead')",
                )
                .bind(enc_ts(now))
                .fetch_one(&mut *self.tx)
                .await?;
                let oldest = sqlx::query(
                    "SELECT run_at FROM jobs WHERE status = 'queued' AND run_at <= $1 ORDER BY run_at LIMIT 1",
                )
                .bind(enc_ts(now))
                .fetch_optional(&mut *self.tx)
                .await?;
                let n = |c: &str| -> StoreResult<u64> { Ok(u64::try_from(row.int(c)?).unwrap_or(0)) };
                Ok($crate::jobs::QueueStats {
                    queued: n("queued")?,
                    due: n("due")?,
                    running: n("running")?,
                    dead: n("dead")?,
                    oldest_due: oldest.as_ref().map(|r| r.ts("run_at")).transpose()?,
                })
            }
        }
    };
}
pub(crate) use impl_queue_tx;
