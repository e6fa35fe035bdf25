//! From sqlx errors to the core's [`StoreError`], and the connect-time [`ConnectError`].

use std::fmt;
use std::time::Duration;

use endpoint_auth::StoreError;

use crate::Backend;

/// Why [`SqlStore::connect`](crate::SqlStore::connect) (or
/// [`SqlStoreOptions::connect`](crate::SqlStoreOptions::connect)) failed. Each message says what
/// went wrong and what to do; none contains the connection URL, which may hold a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL names no backend this crate knows.
    #[error("unsupported users database URL (scheme {scheme:?}): use `sqlite://PATH`, `sqlite::memory:` or `postgres://USER@HOST:PORT/DATABASE`")]
    UnsupportedUrl {
        /// What stood before the first `:` of the URL.
        scheme: String,
    },
    /// The URL is for a backend whose cargo feature is off.
    #[error("the users database URL is for {backend}, but endpoint-auth-sql was built without its `{feature}` feature: enable it in Cargo.toml")]
    BackendDisabled {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// The URL could not be parsed.
    #[error("invalid {backend} URL: {source}; check its syntax")]
    InvalidUrl {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// The PostgreSQL schema name is not a plain lower-case identifier.
    #[error("invalid PostgreSQL schema name {0:?}: use 1 to 63 lower-case ASCII letters, digits and '_', not starting with a digit")]
    InvalidSchema(String),
    /// No connection could be opened: refused, authentication failed, no such database, the
    /// SQLite file cannot be opened or created, …
    #[error("could not connect to the users database: {0}; check that the server is running and reachable, that the URL's host, port, user, password and database are right (for SQLite: that the file's directory exists and is writable)")]
    Connect(#[source] sqlx::Error),
    /// The database did not answer within the acquire timeout.
    #[error("the users database did not answer within {0:?}; check the URL's host and port and that the server is running, or raise the acquire timeout")]
    ConnectTimeout(Duration),
    /// The users table could not be created or brought up to date.
    #[error("could not create or update the users table ({0}); check that the database user may create tables (and the schema, if one is configured)")]
    Migrate(#[source] StoreError),
}

/// What went wrong while running a statement, before it becomes a [`StoreError`].
#[derive(Debug)]
pub(crate) enum DbError {
    /// The driver or the database failed.
    Sql(sqlx::Error),
    /// The statement did not finish within its deadline.
    Timeout(Duration),
    /// A row could not be turned into a user.
    Data(String),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

/// A database error reduced to its code and primary message.
///
/// The driver's own error can carry the offending row in its detail (PostgreSQL's "Failing row
/// contains (…)", password hash included); keeping only code and message means a logged store
/// error never shows a hash.
#[derive(Debug)]
pub(crate) struct DatabaseFailure {
    code: Option<String>,
    message: String,
}

impl fmt::Display for DatabaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "database error {code}: {}", self.message),
            None => write!(f, "database error: {}", self.message),
        }
    }
}

impl std::error::Error for DatabaseFailure {}

/// Whether the connection that produced `error` must not go back to the pool.
pub(crate) fn breaks_connection(error: &DbError) -> bool {
    match error {
        DbError::Timeout(_) => true,
        DbError::Data(_) => false,
        DbError::Sql(error) => match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL: connection exceptions (08…) and operator intervention (57P01 admin
            // shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        },
    }
}

/// SQLite's primary result code from an extended one (`SQLITE_BUSY_SNAPSHOT` → `SQLITE_BUSY`).
fn sqlite_primary_code(code: &str) -> Option<i64> {
    code.parse::<i64>().ok().map(|code| code & 0xff)
}

/// Maps a failure to what the core understands: [`StoreError::Timeout`] for a deadline
/// (client-side, PostgreSQL's `statement_timeout`, SQLite's busy timeout),
/// [`StoreError::InvalidData`] for rows or a schema the store cannot use, and
/// [`StoreError::Unavailable`] for everything else (connection refused, pool exhausted, I/O).
pub(crate) fn to_store_error(
    error: DbError,
    backend: Backend,
    query_timeout: Duration,
) -> StoreError {
    match error {
        DbError::Timeout(after) => StoreError::Timeout(after),
        DbError::Data(message) => StoreError::InvalidData(message),
        DbError::Sql(sqlx::Error::Database(db)) => {
            let failure = DatabaseFailure {
                code: db.code().map(|code| code.into_owned()),
                message: db.message().to_owned(),
            };
            let code = failure.code.as_deref().unwrap_or_default();
            match backend {
                Backend::Postgres => match code {
                    // query_canceled: statement_timeout fired
                    "57014" => StoreError::Timeout(query_timeout),
                    // syntax error or access rule violation: undefined table or column, …
                    _ if code.starts_with("42") => {
                        StoreError::InvalidData(format!("users table mismatch: {failure}"))
                    }
                    _ => StoreError::unavailable(failure),
                },
                Backend::Sqlite => match sqlite_primary_code(code) {
                    // SQLITE_BUSY, SQLITE_LOCKED: the busy timeout ran out
                    Some(5 | 6) => StoreError::Timeout(query_timeout),
                    // SQLITE_ERROR: an SQL error, e.g. a missing table or column
                    Some(1) => StoreError::InvalidData(format!("users table mismatch: {failure}")),
                    _ => StoreError::unavailable(failure),
                },
            }
        }
        DbError::Sql(
            error @ (sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::Encode(_)
            | sqlx::Error::TypeNotFound { .. }),
        ) => StoreError::InvalidData(error.to_string()),
        DbError::Sql(error) => StoreError::unavailable(error),
    }
}
