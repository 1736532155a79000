//! Carebook's storage: the [`StoreTx`] repository interface and its two implementations,
//! PostgreSQL for production and an embedded SQLite file as the zero-setup default. The
//! backend is chosen once, from the database URL's scheme.

pub mod channels;
mod channels_sql;
mod error;
pub mod jobs;
mod jobs_sql;
pub mod models;
mod postgres;
mod rows;
mod schedule_sql;
mod schedule_tx;
pub mod scheduling;
mod shared;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
mod verify;
pub mod waitlist;
mod waitlist_sql;

pub use channels::ChannelTx;
pub use error::{StoreError, StoreResult};
pub use jobs::QueueTx;
pub use schedule_tx::ScheduleTx;
pub use tx::StoreTx;
pub use verify::{ChainReport, verify_audit_chain};
pub use waitlist::WaitlistTx;

use sqlx::{PgPool, SqlitePool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    Postgres(PgPool),
    Sqlite(SqlitePool, WriteQueue),
}

/// SQLite's writers wait their turn here, first come first served, before `BEGIN IMMEDIATE`:
/// an in-process queue is fair and wakes the next writer at once, where SQLite's own busy
/// handler sleeps and retries (other processes on the same file still fall back to it).
#[derive(Clone, Debug, Default)]
pub struct WriteQueue(std::sync::Arc<tokio::sync::Mutex<()>>);

/// How long a writer waits for its turn, as long as SQLite's own busy timeout.
const WRITE_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Store {
    /// Connects to `postgres://…` or `sqlite://…` (the SQLite file is created if missing).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        match Backend::from_url(url) {
            Some(Backend::Postgres) => Ok(Store::Postgres(
                postgres::connect(url, max_connections).await?,
            )),
            Some(Backend::Sqlite) => Ok(Store::Sqlite(
                sqlite::connect(url, max_connections).await?,
                WriteQueue::default(),
            )),
            None => Err(StoreError::Invalid(
                "database URL must start with postgres:// or sqlite://".to_owned(),
            )),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Postgres(_) => Backend::Postgres,
            Store::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Postgres(p) => postgres::migrate(p).await,
            Store::Sqlite(p, _) => sqlite::migrate(p).await,
        }
    }

    /// A transaction that may write. On SQLite it holds the write lock until it ends.
    pub async fn write(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(match self {
            Store::Postgres(p) => Box::new(postgres::PgTx::begin(p).await?),
            Store::Sqlite(p, queue) => {
                let turn = tokio::time::timeout(WRITE_TURN_WAIT, queue.0.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Busy("no turn to write"))?;
                Box::new(sqlite::SqliteTx::begin_write(p, turn).await?)
            }
        })
    }

    /// A transaction for reading: a consistent snapshot that does not block writers.
    pub async fn read(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(match self {
            Store::Postgres(p) => Box::new(postgres::PgTx::begin(p).await?),
            Store::Sqlite(p, _) => Box::new(sqlite::SqliteTx::begin_read(p).await?),
        })
    }

    /// One account by id, read in a single statement: what every authenticated request
    /// needs, without the round trips of a transaction.
    pub async fn user(&self, id: uuid::Uuid) -> StoreResult<Option<models::User>> {
        match self {
            Store::Postgres(p) => postgres::user(p, id).await,
            Store::Sqlite(p, _) => sqlite::user(p, id).await,
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Postgres(p) => p.close().await,
            Store::Sqlite(p, _) => p.close().await,
        }
    }
}
