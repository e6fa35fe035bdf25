//! [`SqlStore`]: the core's [`UserStore`] and [`UserAdmin`] on SQLite or PostgreSQL.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use endpoint_auth::{
    admin::{validate_email, validate_import, validate_new_user, AdminError, AdminFuture},
    hash::identify_hash,
    store::{SlotRule, StoreFuture},
    NewUser, StoreError, User, UserAdmin, UserRecord, UserStore,
};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::OnceCell;

use crate::batch::Batcher;

use crate::error::{breaks_connection, to_store_error, ConnectError, DbError};
use crate::options::SqlStoreOptions;
use crate::pool::{Backend, SqlPool};
use crate::row::{read_base, read_record, select_list, SqlUser, BASE_COLUMNS};
use crate::timestamp::DbTime;

/// The key an email is unique and looked up under: the core's [`login_key`](endpoint_auth::store::login_key)
/// (trimmed, lower-cased with full Unicode rules unlike SQLite's ASCII-only `lower()`, NFC),
/// computed in Rust so both backends and the memory store agree.
pub(crate) fn email_key(email: &str) -> String {
    endpoint_auth::store::login_key(email)
}

/// The highest failure count stored; counting saturates there, as the core's memory store does.
const MAX_FAILURES: i64 = u32::MAX as i64;

/// One statement checks the [`SlotRule`] and raises the count, so concurrent reservations — from
/// this process or any other sharing the database — are granted no more slots than the rule
/// allows: PostgreSQL re-checks the `WHERE` on the row version a concurrent update left, SQLite
/// runs writers one at a time.
const RESERVE_FAILURE_SLOT: &str = "UPDATE users SET \
     n_password_failures = CASE WHEN n_password_failures < 4294967295 \
         THEN n_password_failures + 1 ELSE 4294967295 END, \
     last_password_failure = $2 \
     WHERE email_key = $1 AND (n_password_failures < $3 OR ($4 AND \
         (last_password_failure IS NULL OR last_password_failure <= $5))) \
     RETURNING n_password_failures";
const RECORD_SUCCESS: &str =
    "UPDATE users SET n_password_failures = 0, last_login = $2 WHERE email_key = $1";
const REPLACE_HASH: &str =
    "UPDATE users SET password_hash = $3 WHERE email_key = $1 AND password_hash = $2";
const SET_HASH: &str = "UPDATE users SET password_hash = $2, n_password_failures = 0, \
     last_password_failure = NULL WHERE email_key = $1";
const SET_ENABLED: &str = "UPDATE users SET enabled = $2 WHERE email_key = $1";
const SET_CONFIRMED: &str = "UPDATE users SET confirmed_email = $2 WHERE email_key = $1";
const UNLOCK: &str = "UPDATE users SET n_password_failures = 0, last_password_failure = NULL \
     WHERE email_key = $1";
const REMOVE: &str = "DELETE FROM users WHERE email_key = $1";
const INSERT: &str = "INSERT INTO users \
     (email, email_key, password_hash, enabled, confirmed_email, signed_up, last_login, \
      n_password_failures) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (email_key) DO NOTHING";

/// Runs `$body` (an expression of type `Result<T, DbError>` that uses `$conn`, a `&mut` to the
/// backend's connection type) on a connection of `$pool`, under `$deadline`, and settles the
/// result into `Result<T, StoreError>`. Written once, expanded once per backend, so every
/// statement is type-checked against both drivers.
macro_rules! with_conn {
    ($shared:expr, $pool:expr, $deadline:expr, |$conn:ident| $body:expr) => {{
        let shared: &Shared = $shared;
        let pool: &SqlPool = $pool;
        match pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(pool) => {
                let mut pooled = shared.acquire(pool).await?;
                let result = shared
                    .deadline(
                        $deadline,
                        Box::pin(async {
                            let $conn = &mut *pooled;
                            $body
                        }),
                    )
                    .await;
                shared.settle(&mut pooled, result)
            }
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(pool) => {
                let mut pooled = shared.acquire(pool).await?;
                let result = shared
                    .deadline(
                        $deadline,
                        Box::pin(async {
                            let $conn = &mut *pooled;
                            $body
                        }),
                    )
                    .await;
                shared.settle(&mut pooled, result)
            }
        }
    }};
}

/// What a store was opened with.
pub(crate) struct Settings {
    pub(crate) connections: Connections,
    pub(crate) acquire_timeout: Duration,
    pub(crate) query_timeout: Duration,
    /// PostgreSQL: created by the first migration run (it is on the `search_path` already).
    pub(crate) schema: Option<String>,
}

/// Where a store's connections come from.
pub(crate) enum Connections {
    /// One pool for the life of the store: PostgreSQL, in-memory SQLite, a pool the application
    /// built.
    Pool(SqlPool),
    /// A SQLite file opened by path: reopened when the file is replaced, refused while missing.
    #[cfg(feature = "sqlite")]
    File(Box<crate::sqlite_file::SqliteFile>),
}

/// One opened database: its pool, whether its users table is known to be up to date, and for
/// a SQLite file the synchronous read connections next to the pool.
pub(crate) struct Generation {
    pub(crate) pool: SqlPool,
    /// Set once the users table of this database is known to be up to date. Per generation, as
    /// a replaced SQLite file may hold an older schema.
    migrated: OnceCell<()>,
    #[cfg(feature = "sqlite")]
    pub(crate) readers: Option<crate::sqlite_file::Readers>,
}

impl Generation {
    pub(crate) fn new(pool: SqlPool) -> Self {
        Self {
            pool,
            migrated: OnceCell::new(),
            #[cfg(feature = "sqlite")]
            readers: None,
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn with_readers(pool: SqlPool, readers: crate::sqlite_file::Readers) -> Self {
        Self {
            readers: Some(readers),
            ..Self::new(pool)
        }
    }

    /// Closes the read connections and the pool, waiting at most `bound` for checked-out
    /// connections to come back.
    pub(crate) async fn close(&self, bound: Duration) {
        #[cfg(feature = "sqlite")]
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        // sqlx's `close` can return while a connection handed back during it sits idle, open
        // until the pool is dropped, and can wait forever on a connection whose return was
        // lost. For a replaced SQLite file a connection left open would, on its final close,
        // remove the `-wal` and `-shm` files the new file is by then using: so close again until
        // none is left, within the bound.
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let closed = tokio::time::timeout_at(deadline, self.pool.close()).await;
            if self.pool.size() == 0 {
                return;
            }
            if closed.is_err() || tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    "users database connections still open after {bound:?}: left to close \
                     when returned"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// What every handle of one store shares.
struct Shared {
    source: Source,
    acquire_timeout: Duration,
    query_timeout: Duration,
    schema: Option<String>,
    backend: Backend,
}

/// The open database, fixed or followed by path.
enum Source {
    Fixed(Arc<Generation>),
    #[cfg(feature = "sqlite")]
    File(Box<crate::sqlite_file::SqliteFile>),
}

impl Shared {
    /// The database to run a call on, with its users table created or brought up to date (once
    /// per database; a failed attempt is retried by the next call). For a SQLite file this is
    /// where a replaced or missing file is noticed.
    async fn ready(&self) -> Result<Arc<Generation>, StoreError> {
        let generation = match &self.source {
            Source::Fixed(generation) => generation.clone(),
            #[cfg(feature = "sqlite")]
            Source::File(file) => file.current().await?,
        };
        if !generation.migrated.initialized() {
            generation
                .migrated
                .get_or_try_init(|| -> Pin<Box<dyn Future<Output = _> + Send + '_>> {
                    Box::pin(self.migrate(&generation.pool))
                })
                .await?;
        }
        Ok(generation)
    }

    /// The pool in use now (for a SQLite file whose generation was closed: that closed pool).
    fn pool(&self) -> SqlPool {
        match &self.source {
            Source::Fixed(generation) => generation.pool.clone(),
            #[cfg(feature = "sqlite")]
            Source::File(file) => file.latest().pool.clone(),
        }
    }

    /// A connection, within the acquire timeout (also enforced here, for pools the application
    /// built with a longer one).
    async fn acquire<DB: Database>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<PoolConnection<DB>, StoreError> {
        match tokio::time::timeout(self.acquire_timeout, pool.acquire()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(error)) => Err(self.store_error(DbError::Sql(error))),
            Err(_) => Err(StoreError::unavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Runs `work` within `deadline` (none for work that bounds each of its statements itself).
    ///
    /// `work` comes boxed: erasing its type here keeps the callers' futures `Send` for every
    /// lifetime (rustc cannot prove that through nested generic async blocks).
    async fn deadline<T>(
        &self,
        deadline: Option<Duration>,
        work: Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + '_>>,
    ) -> Result<T, DbError> {
        match deadline {
            Some(deadline) => tokio::time::timeout(deadline, work)
                .await
                .unwrap_or(Err(DbError::Timeout(deadline))),
            None => work.await,
        }
    }

    /// Maps a failure for the core, and makes sure a connection that may be broken, or is in an
    /// unknown state after a cancelled statement, is closed instead of going back to the pool.
    ///
    /// SQLite connections are always returned: the driver finishes a cancelled statement on its
    /// worker thread and the pool tests the connection on release, and an in-memory database
    /// lives in its one connection.
    fn settle<DB: Database, T>(
        &self,
        conn: &mut PoolConnection<DB>,
        result: Result<T, DbError>,
    ) -> Result<T, StoreError> {
        result.map_err(|error| {
            if self.backend == Backend::Postgres && breaks_connection(&error) {
                conn.close_on_drop();
            }
            self.store_error(error)
        })
    }

    fn store_error(&self, error: DbError) -> StoreError {
        to_store_error(error, self.backend, self.query_timeout)
    }

    async fn migrate(&self, pool: &SqlPool) -> Result<(), StoreError> {
        let deadline = Some(self.query_timeout);
        match pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(pool) => {
                let mut pooled = self.acquire(pool).await?;
                let result = self
                    .deadline(deadline, Box::pin(crate::migrate::sqlite(&mut pooled)))
                    .await;
                self.settle(&mut pooled, result)
            }
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(pool) => {
                let mut pooled = self.acquire(pool).await?;
                let schema = self.schema.as_deref();
                let result = self
                    .deadline(
                        deadline,
                        Box::pin(crate::migrate::postgres(&mut pooled, schema)),
                    )
                    .await;
                self.settle(&mut pooled, result)
            }
        }
    }
}

/// A users store on SQLite or PostgreSQL: the core's [`UserStore`] (and, for the standard
/// [`User`], [`UserAdmin`]) over one `users` table.
///
/// Cloning gives another handle on the same pool. `U` is what handlers receive: the standard
/// [`User`] by default, or an application type with columns of its own (see [`SqlUser`] and
/// [`with_user_type`](Self::with_user_type)).
///
/// # Behaviour
/// - Emails are unique and looked up case-insensitively through `email_key`
///   ([`login_key`](endpoint_auth::store::login_key)), kept next to the email as given.
/// - `reserve_failure_slot` is one `UPDATE … SET n_password_failures = n_password_failures + 1
///   … WHERE <the slot rule> RETURNING n_password_failures`: exact under any concurrency, across
///   any number of instances sharing the database.
/// - `replace_password_hash` writes only `WHERE password_hash = <the verified hash>`.
/// - Timestamps are stored with microsecond precision.
/// - Every call waits at most the acquire timeout for a connection and the query timeout for
///   its statement; a database that is down or slow gives [`StoreError::Unavailable`] or
///   [`StoreError::Timeout`] (the core answers 503), never a hang. The pool reconnects by
///   itself once the database is back; connections that broke or timed out are not reused.
/// - Needs a Tokio runtime (sqlx's and the deadlines').
///
/// `Debug` shows the backend, pool size and settings, never the URL or a password.
pub struct SqlStore<U = User> {
    shared: Arc<Shared>,
    /// `SELECT … FROM users WHERE email_key IN <a list bound as one parameter>`, with `U`'s
    /// columns and the key of each row first.
    find_many_sql: Arc<str>,
    /// The lookups waiting for the next batched read.
    reads: Arc<Batcher<U>>,
}

impl<U> Clone for SqlStore<U> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            find_many_sql: self.find_many_sql.clone(),
            reads: self.reads.clone(),
        }
    }
}

impl<U> fmt::Debug for SqlStore<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("user_type", &std::any::type_name::<U>())
            .field("pool", &self.shared.pool())
            .field("acquire_timeout", &self.shared.acquire_timeout)
            .field("query_timeout", &self.shared.query_timeout)
            .field("schema", &self.shared.schema)
            .finish()
    }
}

impl SqlStore<User> {
    /// Opens a store on the database at `url` with the default [`SqlStoreOptions`], and creates
    /// or updates the users table.
    ///
    /// `sqlite://PATH` (created if missing), `sqlite::memory:` (private, in memory: for tests),
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    ///
    /// # Errors
    /// [`ConnectError`], saying what went wrong and what to do.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        SqlStoreOptions::new().connect(url).await
    }

    /// Like [`connect`](Self::connect), but connects on first use.
    ///
    /// # Errors
    /// [`ConnectError`] for an unusable URL.
    pub fn connect_lazy(url: &str) -> Result<Self, ConnectError> {
        SqlStoreOptions::new().connect_lazy(url)
    }

    /// A store over an existing pool (see [`SqlStoreOptions::with_pool`]).
    pub fn from_pool(pool: impl Into<SqlPool>) -> Self {
        SqlStoreOptions::new().with_pool(pool)
    }
}

/// The column a batched read selects each row's key under, to hand every lookup its row.
const BATCH_KEY: &str = "endpoint_auth_batch_key";

/// The most keys one batched read asks for; later lookups wait for the next read.
const MAX_BATCH: usize = 128;

impl<U: SqlUser> SqlStore<U> {
    pub(crate) fn from_settings(settings: Settings) -> Self {
        let (source, backend) = match settings.connections {
            Connections::Pool(pool) => {
                let backend = pool.backend();
                (Source::Fixed(Arc::new(Generation::new(pool))), backend)
            }
            #[cfg(feature = "sqlite")]
            Connections::File(file) => (Source::File(file), Backend::Sqlite),
        };
        Self::with_shared(Arc::new(Shared {
            source,
            acquire_timeout: settings.acquire_timeout,
            query_timeout: settings.query_timeout,
            schema: settings.schema,
            backend,
        }))
    }

    fn with_shared(shared: Arc<Shared>) -> Self {
        // One parameter whatever the batch size, so the statement is prepared once: a JSON array
        // for SQLite, a text[] for PostgreSQL.
        let keys = match shared.backend {
            Backend::Sqlite => "IN (SELECT value FROM json_each($1))",
            Backend::Postgres => "= ANY($1)",
        };
        let find_many_sql = format!(
            "SELECT email_key AS {BATCH_KEY}, {} FROM users WHERE email_key {keys}",
            select_list::<U>()
        );
        Self {
            shared,
            find_many_sql: find_many_sql.into(),
            reads: Arc::new(Batcher::new()),
        }
    }

    /// The same store (same pool, same table), yielding `V` to handlers: how an application
    /// reads columns of its own. `with_user_type::<User>()` gives the administrable store
    /// back.
    pub fn with_user_type<V: SqlUser>(&self) -> SqlStore<V> {
        SqlStore::with_shared(self.shared.clone())
    }

    /// The connection pool in use, for the application's own queries. A store opened on a
    /// SQLite file by URL replaces its pool when the file is replaced (and closes it while the
    /// file is missing): take the pool afresh for each use rather than keeping it.
    pub fn pool(&self) -> SqlPool {
        self.shared.pool()
    }

    /// The kind of database.
    pub fn backend(&self) -> Backend {
        self.shared.backend
    }

    /// The per-statement deadline.
    pub fn query_timeout(&self) -> Duration {
        self.shared.query_timeout
    }

    /// Creates or updates the users table now, rather than on first use. Call it before running
    /// migrations of your own that alter `users`.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached or the migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.shared.ready().await.map(|_| ())
    }

    /// Closes the pool; later calls answer [`StoreError::Unavailable`].
    pub async fn close(&self) {
        match &self.shared.source {
            Source::Fixed(generation) => generation.close(self.shared.query_timeout).await,
            #[cfg(feature = "sqlite")]
            Source::File(file) => file.close().await,
        }
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn query_deadline(&self) -> Option<Duration> {
        Some(self.shared.query_timeout)
    }

    /// One lookup. Every answer comes from a read that started after the call: a change
    /// committed before it, by this process or any other, is seen.
    async fn find_record(&self, username: &str) -> Result<Option<UserRecord<U>>, StoreError> {
        let key = email_key(username);
        #[cfg(feature = "sqlite")]
        if let Some(found) = self.find_direct(&key).await? {
            return Ok(found);
        }
        self.find_batched(key).await
    }

    /// A SQLite file, standard user type: the synchronous read path, a prepared statement on a
    /// connection of this process's own, without sqlx's per-query hand-off to a worker thread.
    /// `None` when it does not apply or cannot answer (busy, a value in a form only sqlx
    /// decodes): the pool answers then.
    #[cfg(feature = "sqlite")]
    async fn find_direct(&self, key: &str) -> Result<Option<Option<UserRecord<U>>>, StoreError> {
        use std::any::{Any, TypeId};

        if TypeId::of::<U>() != TypeId::of::<User>() {
            return Ok(None);
        }
        let generation = self.shared.ready().await?;
        let Some(found) = generation.readers.as_ref().and_then(|r| r.find(key)) else {
            return Ok(None);
        };
        let found: Box<dyn Any> = Box::new(found);
        Ok(found
            .downcast::<Option<UserRecord<U>>>()
            .ok()
            .map(|found| *found))
    }

    /// Queues the lookup for the next batched read, starting one if none is running.
    ///
    /// Lookups that arrive while a read is in flight are answered together by the next one
    /// (one statement for all their keys), so under load the per-statement cost of the driver
    /// is shared by the whole batch. That next read starts after they arrived, so none gets an
    /// answer older than its call.
    async fn find_batched(&self, key: String) -> Result<Option<UserRecord<U>>, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.reads.push(key, reply) {
            tokio::spawn(self.clone().read_batches());
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::unavailable(crate::batch::ReadAbandoned)))
    }

    /// Reads batches until no lookup waits. Runs as its own task, so that a cancelled request
    /// cannot strand the lookups queued behind it.
    async fn read_batches(self) {
        let mut turn = self.reads.turn();
        while let Some(batch) = turn.next_batch(MAX_BATCH) {
            let mut keys: Vec<&str> = batch.iter().map(|waiter| waiter.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            let result = self.fetch_many(&keys).await;
            for waiter in batch {
                let answer = match &result {
                    Ok(found) => Ok(found.get(&waiter.key).cloned()),
                    Err(error) => Err(error.clone()),
                };
                // The caller may have gone (its request was cancelled): nothing to answer.
                let _ = waiter.reply.send(answer);
            }
        }
    }

    /// The records of `keys` that exist, in one statement.
    async fn fetch_many(
        &self,
        keys: &[&str],
    ) -> Result<HashMap<String, UserRecord<U>>, StoreError> {
        let generation = self.shared.ready().await?;
        let shared = self.shared();
        let sql: &str = &self.find_many_sql;
        match &generation.pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(pool) => {
                let keys = crate::batch::json_array(keys);
                let mut pooled = shared.acquire(pool).await?;
                let result = shared
                    .deadline(
                        self.query_deadline(),
                        Box::pin(async {
                            let rows = sqlx::query(sql).bind(&keys).fetch_all(&mut *pooled).await?;
                            keyed_records::<U, _>(&rows)
                        }),
                    )
                    .await;
                shared.settle(&mut pooled, result)
            }
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(pool) => {
                let mut pooled = shared.acquire(pool).await?;
                let result = shared
                    .deadline(
                        self.query_deadline(),
                        Box::pin(async {
                            let rows = sqlx::query(sql).bind(keys).fetch_all(&mut *pooled).await?;
                            keyed_records::<U, _>(&rows)
                        }),
                    )
                    .await;
                shared.settle(&mut pooled, result)
            }
        }
    }

    async fn reserve(
        &self,
        login: &str,
        rule: SlotRule,
        now: SystemTime,
    ) -> Result<Option<u32>, StoreError> {
        let generation = self.shared.ready().await?;
        let key = email_key(login);
        let expires = rule.expired_before().is_some();
        // Unused (the statement reads it only when `expires`), but typed, so bind `now`.
        let expired_before = DbTime(rule.expired_before().unwrap_or(now));
        let count: Option<i64> = with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                Ok(sqlx::query_scalar(RESERVE_FAILURE_SLOT)
                    .bind(&key)
                    .bind(DbTime(now))
                    .bind(i64::from(rule.max_failures()))
                    .bind(expires)
                    .bind(expired_before)
                    .fetch_optional(&mut *conn)
                    .await?)
            }
        )?;
        // No row: locked, or no such user.
        Ok(count.map(|n| u32::try_from(n.clamp(0, MAX_FAILURES)).unwrap_or(u32::MAX)))
    }

    async fn success(&self, login: &str, now: SystemTime) -> Result<(), StoreError> {
        let generation = self.shared.ready().await?;
        let key = email_key(login);
        with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                sqlx::query(RECORD_SUCCESS)
                    .bind(&key)
                    .bind(DbTime(now))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        )
    }

    async fn replace_hash(
        &self,
        login: &str,
        verified_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let generation = self.shared.ready().await?;
        let key = email_key(login);
        with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                let done = sqlx::query(REPLACE_HASH)
                    .bind(&key)
                    .bind(verified_hash)
                    .bind(new_hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        )
    }
}

impl<U: SqlUser> UserStore for SqlStore<U> {
    type User = U;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<U>>> {
        Box::pin(self.find_record(username))
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        Box::pin(self.reserve(login, rule, now))
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        Box::pin(self.success(login, now))
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.replace_hash(login, verified_hash, new_hash))
    }
}

/// The values of one [`NewUser`] as the `INSERT` binds them.
struct NewRow<'a> {
    email: &'a str,
    key: String,
    password_hash: Option<&'a str>,
    enabled: bool,
    confirmed_email: bool,
    signed_up: DbTime,
    last_login: Option<DbTime>,
    n_password_failures: i64,
}

impl<'a> NewRow<'a> {
    fn new(user: &'a NewUser, now: SystemTime) -> Self {
        Self {
            email: &user.email,
            key: email_key(&user.email),
            password_hash: user.password_hash.as_deref(),
            enabled: user.enabled,
            confirmed_email: user.confirmed_email,
            signed_up: DbTime(user.signed_up.unwrap_or(now)),
            last_login: user.last_login.map(DbTime),
            n_password_failures: i64::from(user.n_password_failures),
        }
    }
}

/// Binds a [`NewRow`] to the eight parameters of [`INSERT`].
macro_rules! bind_new_row {
    ($query:expr, $row:expr) => {
        $query
            .bind($row.email)
            .bind(&$row.key)
            .bind($row.password_hash)
            .bind($row.enabled)
            .bind($row.confirmed_email)
            .bind($row.signed_up)
            .bind($row.last_login)
            .bind($row.n_password_failures)
    };
}

/// A statement's future, bounded by `deadline`.
async fn timed<T>(
    deadline: Duration,
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, DbError> {
    match tokio::time::timeout(deadline, statement).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(DbError::Timeout(deadline)),
    }
}

/// The rows of a batched read, by key.
fn keyed_records<'r, U, R>(rows: &'r [R]) -> Result<HashMap<String, UserRecord<U>>, DbError>
where
    U: SqlUser,
    R: sqlx::Row,
    &'r R: Into<crate::row::UserRow<'r>>,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DbTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(|row| Ok((row.try_get(BATCH_KEY)?, read_record::<U, R>(row)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::Sql)
}

impl SqlStore<User> {
    async fn create(&self, new: NewUser) -> Result<User, AdminError> {
        validate_new_user(&new)?;
        let generation = self.shared.ready().await?;
        let row = NewRow::new(&new, SystemTime::now());
        let sql = format!("{INSERT} RETURNING {BASE_COLUMNS}");
        let created = with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                let inserted = bind_new_row!(sqlx::query(&sql), row)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(inserted.as_ref().map(read_base).transpose()?)
            }
        )?;
        // ON CONFLICT (email_key) DO NOTHING inserted nothing: the unique index refused it.
        created
            .map(|base| base.user)
            .ok_or(AdminError::DuplicateUser(new.email))
    }

    /// Runs one `UPDATE`/`DELETE` keyed by email; no row touched means no such user.
    async fn update(&self, sql: &str, email: &str, bind: Update<'_>) -> Result<(), AdminError> {
        let generation = self.shared.ready().await?;
        let key = email_key(email);
        let affected = with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                let query = sqlx::query(sql).bind(&key);
                let query = match bind {
                    Update::None => query,
                    Update::Flag(flag) => query.bind(flag),
                    Update::Text(text) => query.bind(text),
                };
                Ok(query.execute(&mut *conn).await?.rows_affected())
            }
        )?;
        if affected == 0 {
            Err(AdminError::UnknownUser(email.to_owned()))
        } else {
            Ok(())
        }
    }

    async fn get(&self, email: &str) -> Result<User, AdminError> {
        validate_email(email.trim())?;
        let generation = self.shared.ready().await?;
        let key = email_key(email);
        let sql = format!("SELECT {BASE_COLUMNS} FROM users WHERE email_key = $1");
        let found = with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                let row = sqlx::query(&sql)
                    .bind(&key)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.as_ref().map(read_base).transpose()?)
            }
        )?;
        found
            .map(|base| base.user)
            .ok_or_else(|| AdminError::UnknownUser(email.to_owned()))
    }

    async fn list(&self) -> Result<Vec<User>, AdminError> {
        let generation = self.shared.ready().await?;
        let sql = format!("SELECT {BASE_COLUMNS} FROM users ORDER BY id");
        let users = with_conn!(
            self.shared(),
            &generation.pool,
            self.query_deadline(),
            |conn| {
                let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
                let users: Result<Vec<User>, sqlx::Error> = rows
                    .iter()
                    .map(|row| read_base(row).map(|base| base.user))
                    .collect();
                Ok(users?)
            }
        )?;
        Ok(users)
    }

    async fn import(&self, users: Vec<NewUser>) -> Result<usize, AdminError> {
        validate_import(&users)?;
        let generation = self.shared.ready().await?;
        let now = SystemTime::now();
        let rows: Vec<NewRow<'_>> = users.iter().map(|user| NewRow::new(user, now)).collect();
        let sql = format!("{INSERT} RETURNING id");
        let deadline = self.shared.query_timeout;
        // No deadline for the whole import (it grows with the batch); each statement has one.
        let outcome = with_conn!(self.shared(), &generation.pool, None, |conn| {
            use sqlx::Connection as _;

            let mut tx = timed(deadline, conn.begin()).await?;
            let mut clashes = Vec::new();
            for (index, row) in rows.iter().enumerate() {
                let inserted: Option<i64> = timed(
                    deadline,
                    bind_new_row!(sqlx::query_scalar(&sql), row).fetch_optional(&mut *tx),
                )
                .await?;
                if inserted.is_none() {
                    clashes.push(format!(
                        "entry {}: a user with email {:?} already exists",
                        index + 1,
                        row.email
                    ));
                }
            }
            if clashes.is_empty() {
                timed(deadline, tx.commit()).await?;
                Ok(Ok(rows.len()))
            } else {
                timed(deadline, tx.rollback()).await?;
                Ok(Err(clashes))
            }
        })?;
        outcome.map_err(|problems| AdminError::ImportRefused { problems })
    }
}

/// The value an [`SqlStore::update`] binds after the key.
#[derive(Clone, Copy)]
enum Update<'a> {
    None,
    Flag(bool),
    Text(&'a str),
}

impl UserAdmin for SqlStore<User> {
    fn create_user<'a>(&'a self, user: NewUser) -> AdminFuture<'a, User> {
        Box::pin(self.create(user))
    }

    fn set_password_hash<'a>(&'a self, email: &'a str, hash: &'a str) -> AdminFuture<'a, ()> {
        Box::pin(async move {
            identify_hash(hash).map_err(|error| AdminError::InvalidHash {
                email: email.to_owned(),
                error,
            })?;
            self.update(SET_HASH, email, Update::Text(hash)).await
        })
    }

    fn set_enabled<'a>(&'a self, email: &'a str, enabled: bool) -> AdminFuture<'a, ()> {
        Box::pin(self.update(SET_ENABLED, email, Update::Flag(enabled)))
    }

    fn set_confirmed_email<'a>(&'a self, email: &'a str, confirmed: bool) -> AdminFuture<'a, ()> {
        Box::pin(self.update(SET_CONFIRMED, email, Update::Flag(confirmed)))
    }

    fn unlock<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()> {
        Box::pin(self.update(UNLOCK, email, Update::None))
    }

    fn remove_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()> {
        Box::pin(self.update(REMOVE, email, Update::None))
    }

    fn get_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, User> {
        Box::pin(self.get(email))
    }

    fn list_users(&self) -> AdminFuture<'_, Vec<User>> {
        Box::pin(self.list())
    }

    fn import_users(&self, users: Vec<NewUser>) -> AdminFuture<'_, usize> {
        Box::pin(self.import(users))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_key_trims_and_folds_unicode() {
        assert_eq!(email_key("  Alice@Example.COM "), "alice@example.com");
        assert_eq!(email_key("ÉVA@exemple.fr"), "éva@exemple.fr");
    }
}
