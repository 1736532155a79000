//! The SQLite backend, the zero-setup default: one file in WAL mode with foreign keys on.
//! Times are INTEGER epoch microseconds. Write transactions start with `BEGIN IMMEDIATE`, so
//! there is exactly one writer at a time and a read-then-write never races another writer;
//! that is also what serialises the audit hash chain.

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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

pub(crate) async fn connect(url: &str, max_connections: u32) -> StoreResult<SqlitePool> {
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30));
    Ok(SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts)
        .await?)
}

/// SQLite cannot express exclusion constraints; the single writer checks overlaps instead.
const EXCLUSION_CONSTRAINTS: bool = false;

/// One account by id, in one statement outside any transaction.
pub(crate) async fn user(pool: &SqlitePool, id: Uuid) -> StoreResult<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn migrate(pool: &SqlitePool) -> StoreResult<()> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await?;
    Ok(())
}

pub(crate) struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    wrote: bool,
    audited: bool,
    refused: bool,
    /// A write transaction's turn in the process's write queue, released when it ends.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqliteTx {
    /// A write transaction: takes the database's write lock up front.
    pub(crate) async fn begin_write(
        pool: &SqlitePool,
        turn: tokio::sync::OwnedMutexGuard<()>,
    ) -> StoreResult<Self> {
        Ok(Self {
            tx: pool.begin_with("BEGIN IMMEDIATE").await?,
            wrote: false,
            audited: false,
            refused: false,
            _turn: Some(turn),
        })
    }

    /// A read transaction: a consistent snapshot that never blocks writers (WAL).
    pub(crate) async fn begin_read(pool: &SqlitePool) -> StoreResult<Self> {
        Ok(Self {
            tx: pool.begin().await?,
            wrote: false,
            audited: false,
            refused: false,
            _turn: None,
        })
    }
}

fn enc_ts(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn enc_opt_ts(t: Option<Timestamp>) -> Option<i64> {
    t.map(enc_ts)
}

fn enc_opt_date(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn from_micros(v: i64) -> StoreResult<Timestamp> {
    Timestamp::from_microsecond(v).map_err(StoreError::corrupt)
}

fn from_date_text(s: String) -> StoreResult<Date> {
    s.parse().map_err(StoreError::corrupt)
}

async fn lock_audit_chain(_tx: &mut Transaction<'static, Sqlite>) -> StoreResult<()> {
    // BEGIN IMMEDIATE already made this transaction the only writer.
    Ok(())
}

impl_row_ext!(SqliteRow, ts: i64 => from_micros, date: String => from_date_text);
impl_store_tx!(SqliteTx, for_update = "");
impl_schedule_tx!(SqliteTx);

/// How a claim treats rows another transaction has locked.
macro_rules! skip_locked {
    () => {
        ""
    };
}

/// `id` is one of a bound list of ids ([`id_list`]): SQLite keeps them as 16-byte blobs.
macro_rules! id_in {
    ($p:literal) => {
        concat!("id IN (SELECT unhex(value) FROM json_each(", $p, "))")
    };
}

fn id_list(ids: &[Uuid]) -> String {
    let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    serde_json::to_string(&hex).unwrap_or_default()
}

impl_queue_tx!(SqliteTx);
impl_waitlist_tx!(SqliteTx, for_update = "");
impl_channel_tx!(SqliteTx);
