//! [`SqlStoreOptions`]: pool size, timeouts and schema, and connecting by URL.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::ConnectError;
use crate::pool::SqlPool;
use crate::row::SqlUser;
use crate::store::{Connections, Settings, SqlStore};

/// How a [`SqlStore`] connects: pool size, timeouts, PostgreSQL schema.
///
/// ```no_run
/// use std::time::Duration;
/// use endpoint_auth_sql::{SqlStore, SqlStoreOptions};
///
/// # async fn run() -> Result<(), endpoint_auth_sql::ConnectError> {
/// let store: SqlStore = SqlStoreOptions::new()
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(2))
///     .query_timeout(Duration::from_secs(3))
///     .schema("auth")
///     .connect("postgres://app@db.internal/app")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStoreOptions {
    max_connections: Option<u32>,
    acquire_timeout: Duration,
    query_timeout: Duration,
    schema: Option<String>,
}

impl Default for SqlStoreOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens one connection outside the pool, to tell why connecting fails.
type Check = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send>>;

/// A lazily connecting store, and its connection check.
type Opened<U> = (SqlStore<U>, Check);

/// Which backend a URL names, and for SQLite whether it is in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Sqlite { memory: bool },
    Postgres,
}

impl SqlStoreOptions {
    /// How long a request waits for a connection by default: 3 s.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
    /// How long a statement may run by default: 5 s.
    pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default pool size for PostgreSQL.
    pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 10;
    /// Default pool size for a SQLite file (SQLite runs one writer at a time anyway).
    pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 4;

    /// The defaults: 3 s to get a connection, 5 s per statement, 10 connections for PostgreSQL
    /// and 4 for a SQLite file, no schema.
    pub fn new() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            query_timeout: Self::DEFAULT_QUERY_TIMEOUT,
            schema: None,
        }
    }

    /// The most connections the pool opens (at least 1). An in-memory SQLite database always
    /// uses exactly one: the database lives in that connection.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// How long a store call waits for a connection before it answers
    /// [`StoreError::Unavailable`](endpoint_auth::StoreError::Unavailable) (a 503): the bound on
    /// how long requests hang while the database is unreachable or the pool is exhausted.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long one statement may take before the store answers
    /// [`StoreError::Timeout`](endpoint_auth::StoreError::Timeout) (a 503). Enforced on the
    /// client around every call, and also on the server: PostgreSQL's `statement_timeout`,
    /// SQLite's busy timeout.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// PostgreSQL only: keep the users table in this schema, created on first use if missing,
    /// by putting it alone on the connections' `search_path`. A plain lower-case identifier
    /// (letters, digits, `_`), checked when connecting. SQLite ignores it.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Opens a store on the database at `url`, checks that it answers, and creates or updates
    /// the users table.
    ///
    /// URLs: `sqlite://PATH` (the file is created if missing), `sqlite::memory:` (a private
    /// in-memory database, for tests), `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    ///
    /// # Errors
    /// [`ConnectError`], saying what went wrong and what to do.
    pub async fn connect<U: SqlUser>(&self, url: &str) -> Result<SqlStore<U>, ConnectError> {
        let (store, check) = self.open(url)?;
        let opened = tokio::time::timeout(self.acquire_timeout, check)
            .await
            .map_err(|_| ConnectError::ConnectTimeout(self.acquire_timeout))?;
        opened.map_err(ConnectError::Connect)?;
        store.migrate().await.map_err(ConnectError::Migrate)?;
        Ok(store)
    }

    /// Like [`connect`](Self::connect), but opens nothing yet: the first store call connects
    /// and creates the users table. Only the URL and options are checked here.
    ///
    /// # Errors
    /// [`ConnectError`] for an unusable URL or schema name.
    pub fn connect_lazy<U: SqlUser>(&self, url: &str) -> Result<SqlStore<U>, ConnectError> {
        self.open(url).map(|(store, _)| store)
    }

    /// A store over an existing pool. The pool keeps its own size, acquire timeout and connection
    /// settings (so [`schema`](Self::schema) does not apply: set the `search_path` in the pool's
    /// connect options); the store adds its client-side acquire and query deadlines. The users
    /// table is created on first use.
    pub fn with_pool<U: SqlUser>(&self, pool: impl Into<SqlPool>) -> SqlStore<U> {
        SqlStore::from_settings(Settings {
            connections: Connections::Pool(pool.into()),
            acquire_timeout: self.acquire_timeout,
            query_timeout: self.query_timeout,
            schema: None,
        })
    }

    /// Builds the pool (lazily) and a future that opens one connection outside it, so that
    /// [`connect`](Self::connect) can report why connecting fails (the pool only says it timed
    /// out).
    fn open<U: SqlUser>(&self, url: &str) -> Result<Opened<U>, ConnectError> {
        let target = classify(url)?;
        if let Some(schema) = &self.schema {
            if !is_plain_identifier(schema) {
                return Err(ConnectError::InvalidSchema(schema.clone()));
            }
        }
        match target {
            Target::Sqlite { memory } => self.open_sqlite(url, memory),
            Target::Postgres => self.open_postgres(url),
        }
    }

    #[cfg(feature = "sqlite")]
    fn open_sqlite<U: SqlUser>(&self, url: &str, memory: bool) -> Result<Opened<U>, ConnectError> {
        use std::str::FromStr;

        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        use sqlx::ConnectOptions as _;
        use sqlx::Connection as _;

        let mut connect = SqliteConnectOptions::from_str(url)
            .map_err(|source| ConnectError::InvalidUrl {
                backend: "SQLite",
                source,
            })?
            .busy_timeout(self.query_timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().acquire_timeout(self.acquire_timeout);
        let (connections, check_options) = if memory {
            // The database lives in its connection: keep exactly one, forever.
            let pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            let pool = SqlPool::Sqlite(pool.connect_lazy_with(connect.clone()));
            (Connections::Pool(pool), connect)
        } else {
            connect = connect
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            let pool = pool.max_connections(
                self.max_connections
                    .unwrap_or(Self::DEFAULT_SQLITE_CONNECTIONS),
            );
            // Only the first open creates the file (connecting, or the first call of a lazy
            // store): one deleted later is reported missing, not recreated empty.
            let file =
                crate::sqlite_file::SqliteFile::new(connect.clone(), pool, self.query_timeout);
            (
                Connections::File(Box::new(file)),
                connect.create_if_missing(true),
            )
        };
        let store = SqlStore::from_settings(Settings {
            connections,
            acquire_timeout: self.acquire_timeout,
            query_timeout: self.query_timeout,
            schema: None,
        });
        let check = if memory {
            // A second connection would open (and drop) a second, empty database.
            Box::pin(async { Ok(()) }) as Check
        } else {
            Box::pin(async move { check_options.connect().await?.close().await })
        };
        Ok((store, check))
    }

    #[cfg(not(feature = "sqlite"))]
    fn open_sqlite<U: SqlUser>(
        &self,
        _url: &str,
        _memory: bool,
    ) -> Result<Opened<U>, ConnectError> {
        Err(ConnectError::BackendDisabled {
            backend: "SQLite",
            feature: "sqlite",
        })
    }

    #[cfg(feature = "postgres")]
    fn open_postgres<U: SqlUser>(&self, url: &str) -> Result<Opened<U>, ConnectError> {
        use std::str::FromStr;

        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        use sqlx::ConnectOptions as _;
        use sqlx::Connection as _;

        let statement_timeout_ms = self.query_timeout.as_millis().clamp(1, i32::MAX as u128);
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|source| ConnectError::InvalidUrl {
                backend: "PostgreSQL",
                source,
            })?
            .application_name("endpoint-auth")
            .options([("statement_timeout", statement_timeout_ms.to_string())]);
        if let Some(schema) = &self.schema {
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(
                self.max_connections
                    .unwrap_or(Self::DEFAULT_POSTGRES_CONNECTIONS),
            )
            .acquire_timeout(self.acquire_timeout)
            .connect_lazy_with(connect.clone());
        let store = SqlStore::from_settings(Settings {
            connections: Connections::Pool(SqlPool::Postgres(pool)),
            acquire_timeout: self.acquire_timeout,
            query_timeout: self.query_timeout,
            schema: self.schema.clone(),
        });
        let check = Box::pin(async move { connect.connect().await?.close().await });
        Ok((store, check))
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres<U: SqlUser>(&self, _url: &str) -> Result<Opened<U>, ConnectError> {
        Err(ConnectError::BackendDisabled {
            backend: "PostgreSQL",
            feature: "postgres",
        })
    }
}

/// The backend a URL names. Only the scheme is ever quoted back in an error: the rest may hold
/// a password.
fn classify(url: &str) -> Result<Target, ConnectError> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => Ok(Target::Sqlite {
            memory: is_sqlite_memory(url),
        }),
        "postgres" | "postgresql" => Ok(Target::Postgres),
        _ => {
            let printable = scheme.len() <= 16
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
            Err(ConnectError::UnsupportedUrl {
                scheme: if printable {
                    scheme.to_owned()
                } else {
                    "(not a URL scheme)".to_owned()
                },
            })
        }
    }
}

/// `sqlite::memory:`, `sqlite://:memory:`, or a URI asking for `mode=memory`.
fn is_sqlite_memory(url: &str) -> bool {
    let rest = url.get("sqlite:".len()..).unwrap_or_default();
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

/// A lower-case SQL identifier that needs no quoting: `[a-z_][a-z0-9_]{0,62}`.
fn is_plain_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && name.len() <= 63
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            classify("sqlite://users.db").unwrap(),
            Target::Sqlite { memory: false }
        );
        assert_eq!(
            classify("sqlite::memory:").unwrap(),
            Target::Sqlite { memory: true }
        );
        assert_eq!(
            classify("sqlite://:memory:").unwrap(),
            Target::Sqlite { memory: true }
        );
        assert_eq!(
            classify("sqlite:file:x?mode=memory&cache=shared").unwrap(),
            Target::Sqlite { memory: true }
        );
        assert_eq!(
            classify("postgres://u:p@localhost/db").unwrap(),
            Target::Postgres
        );
        assert_eq!(
            classify("postgresql://localhost/db").unwrap(),
            Target::Postgres
        );
    }

    #[test]
    fn unsupported_urls_never_echo_more_than_the_scheme() {
        let error = classify("mysql://root:hunter2@localhost/db").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let error = classify("root:hunter2@localhost/db").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        let error = classify("just a path with spaces").unwrap_err();
        assert!(error.to_string().contains("not a URL scheme"));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(is_plain_identifier("auth"));
        assert!(is_plain_identifier("_t_123"));
        for bad in ["", "Auth", "1x", "a b", "a\"b", "a;drop", &"x".repeat(64)] {
            assert!(!is_plain_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn builder_clamps_and_keeps_values() {
        let options = SqlStoreOptions::new()
            .max_connections(0)
            .acquire_timeout(Duration::from_millis(250))
            .query_timeout(Duration::from_secs(1));
        assert_eq!(options.max_connections, Some(1));
        assert_eq!(options.acquire_timeout, Duration::from_millis(250));
        assert_eq!(options.query_timeout, Duration::from_secs(1));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn bad_schema_is_refused_before_connecting() {
        let error = SqlStoreOptions::new()
            .schema("Robert'); DROP TABLE users;--")
            .connect_lazy::<endpoint_auth::User>("postgres://localhost/db")
            .unwrap_err();
        assert!(matches!(error, ConnectError::InvalidSchema(_)), "{error}");
    }

    #[test]
    fn backend_display() {
        use crate::Backend;

        assert_eq!(Backend::Sqlite.to_string(), "SQLite");
        assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
    }
}
