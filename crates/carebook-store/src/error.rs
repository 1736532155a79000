//! The store's error type. Constraint violations are told apart so the API can answer 409 or
//! 422 with a stable code instead of a 500.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the name says which.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A foreign key named a row that does not exist.
    #[error("reference to a missing row: {0}")]
    MissingReference(String),
    /// A CHECK or NOT NULL constraint refused the value.
    #[error("value refused by the database: {0}")]
    Invalid(String),
    /// A transaction wrote rows but no audit record; committing it would lose history.
    #[error("transaction wrote without an audit record")]
    Unaudited,
    /// The transaction holds a refused booking's partial writes; roll it back.
    #[error("transaction holds a refused change and cannot be committed")]
    Refused,
    /// The database is too busy to start the work in time (no free connection, or no turn
    /// to write); nothing was done, and trying again later may succeed.
    #[error("database busy: {0}")]
    Busy(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut => StoreError::Busy("no free database connection"),
            sqlx::Error::Database(db) => {
                let what = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned());
                // PostgreSQL's exclusion constraints (23P01) and deadlock victims (40P01)
                // are conflicts between concurrent writers, not faults.
                if matches!(db.code().as_deref(), Some("23P01") | Some("40P01")) {
                    return StoreError::Conflict(what);
                }
                // PostgreSQL's data exceptions (class 22: a NUL character in text, a number
                // out of range) are values the database cannot take, not faults.
                if db.code().is_some_and(|c| c.starts_with("22")) {
                    return StoreError::Invalid(what);
                }
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => StoreError::Conflict(what),
                    sqlx::error::ErrorKind::ForeignKeyViolation => {
                        StoreError::MissingReference(what)
                    }
                    sqlx::error::ErrorKind::CheckViolation
                    | sqlx::error::ErrorKind::NotNullViolation => StoreError::Invalid(what),
                    _ => StoreError::Database(e),
                }
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}
