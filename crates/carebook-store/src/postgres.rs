//! The PostgreSQL backend: `timestamptz` times, row locks with `FOR UPDATE`, and an advisory
//! transaction lock that serialises appends to the audit hash chain.

use crate::channels_sql::impl_channel_tx;
use crate::error::{StoreError, StoreResult};
use crate::jobs_sql::impl_queue_tx;
use crate::models::*;
use crate::rows::{self, RowExt, impl_row_ext};
use crate::schedule_sql::impl_schedule_tx;
use crate::scheduling::*;
use crate::shared::{impl_store_tx, like_escape};
use crate::waitlist_sql::impl_waitlist_tx;
use carebook_domain::Role;
use carebook_domain::audit::{AuditRecord, ChainedRecord};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// `appointments` carries exclusion constraints against overlaps (migration 0002).
const EXCLUSION_CONSTRAINTS: bool = true;

/// Any constant works; it only has to be the same for every writer of the audit chain.
const AUDIT_CHAIN_LOCK: i64 = 0x6361_7265_626f_6f6b; // "carebook"

pub(crate) async fn connect(url: &str, max_connections: u32) -> StoreResult<PgPool> {
    let opts = PgConnectOptions::from_str(url)?.application_name("carebook");
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await?)
}

/// One account by id, in one statement outside any transaction.
pub(crate) async fn user(pool: &PgPool, id: Uuid) -> StoreResult<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn migrate(pool: &PgPool) -> StoreResult<()> {
    sqlx::migrate!("./migrations/postgres").run(pool).await?;
    Ok(())
}

pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
    wrote: bool,
    audited: bool,
    refused: bool,
}

impl PgTx {
    pub(crate) async fn begin(pool: &PgPool) -> StoreResult<Self> {
        Ok(Self {
            tx: pool.begin().await?,
            wrote: false,
            audited: false,
            refused: false,
        })
    }
}

fn to_odt(t: Timestamp) -> time::OffsetDateTime {
    // Both sides hold the same instant; PostgreSQL keeps microseconds.
    let micros = i128::from(t.as_microsecond());
    time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn from_odt(t: time::OffsetDateTime) -> StoreResult<Timestamp> {
    let nanos = t.unix_timestamp_nanos();
    Timestamp::from_microsecond(i64::try_from(nanos / 1000).map_err(StoreError::corrupt)?)
        .map_err(StoreError::corrupt)
}

fn to_date(d: Date) -> time::Date {
    let month = time::Month::try_from(d.month() as u8).unwrap_or(time::Month::January);
    time::Date::from_calendar_date(i32::from(d.year()), month, d.day() as u8)
        .unwrap_or(time::Date::MIN)
}

fn from_date(d: time::Date) -> StoreResult<Date> {
    Date::new(
        i16::try_from(d.year()).map_err(StoreError::corrupt)?,
        u8::from(d.month()) as i8,
        d.day() as i8,
    )
    .map_err(StoreError::corrupt)
}

fn enc_ts(t: Timestamp) -> time::OffsetDateTime {
    to_odt(t)
}

fn enc_opt_ts(t: Option<Timestamp>) -> Option<time::OffsetDateTime> {
    t.map(to_odt)
}

fn enc_opt_date(d: Option<Date>) -> Option<time::Date> {
    d.map(to_date)
}

async fn lock_audit_chain(tx: &mut Transaction<'static, Postgres>) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_CHAIN_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl_row_ext!(PgRow, ts: time::OffsetDateTime => from_odt, date: time::Date => from_date);
impl_store_tx!(PgTx, for_update = " FOR UPDATE");
impl_schedule_tx!(PgTx);

/// How a claim treats rows another transaction has locked.
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

/// `id` is one of a bound list of ids ([`id_list`]).
macro_rules! id_in {
    ($p:literal) => {
        concat!("id = ANY(", $p, ")")
    };
}

fn id_list(ids: &[Uuid]) -> Vec<Uuid> {
    ids.to_vec()
}

impl_queue_tx!(PgTx);
impl_waitlist_tx!(PgTx, for_update = " FOR UPDATE");
impl_channel_tx!(PgTx);
