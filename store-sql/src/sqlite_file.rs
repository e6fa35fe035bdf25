//! A SQLite file opened by path: noticed when replaced or missing, and read synchronously.
//!
//! Operators deploy a users file by renaming a new one over the path. Connections opened before
//! keep reading the old file, and a deleted file stays readable (and writable, into nothing)
//! through them. So the store compares the path's identity with the file it opened, at most
//! every [`CHECK_INTERVAL`] on the request path, and on a change closes everything it has open
//! on the old file before it opens the new one: a missing file is
//! [`StoreError::Unavailable`] (503) until it is back, and never recreated after the first open.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use endpoint_auth::{StoreError, User, UserRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::pool::SqlPool;
use crate::store::Generation;

/// How often, at most, a request checks that the path still names the open file: the bound on
/// how long a replaced or deleted file keeps being served (plus one request).
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// Which file a path names: device and inode, which a rename over the path changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
}

/// The identities of the files this process has open (Linux: through `/proc/self/fd`; empty
/// elsewhere).
fn files_this_process_holds() -> Vec<Identity> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::metadata(entry.path()).ok())
        .map(|metadata| identity_of(&metadata))
        .collect()
}

/// The identity of the file at `path`, `None` when there is none.
fn identity(path: &Path) -> std::io::Result<Option<Identity>> {
    match std::fs::metadata(path) {
        Ok(metadata) => Ok(Some(identity_of(&metadata))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn identity_of(metadata: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt as _;

    Identity {
        device: metadata.dev(),
        inode: metadata.ino(),
    }
}

/// Elsewhere a file open by this process cannot be renamed over, only its presence is checked.
#[cfg(not(unix))]
fn identity_of(_metadata: &std::fs::Metadata) -> Identity {
    Identity {
        device: 0,
        inode: 0,
    }
}

/// Why a SQLite file store cannot answer.
#[derive(Debug)]
enum FileError {
    /// The file is gone; it is not recreated, as an empty users table would answer 401 to
    /// everyone.
    Missing(PathBuf),
    /// The path could not be examined.
    Stat(PathBuf, std::io::Error),
    /// [`SqlStore::close`](crate::SqlStore::close) was called.
    Closed,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(path) => write!(
                f,
                "the SQLite users file {} is missing; it is not recreated: put it back",
                path.display()
            ),
            Self::Stat(path, _) => {
                write!(f, "cannot examine the SQLite users file {}", path.display())
            }
            Self::Closed => f.write_str("the users store was closed"),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Stat(_, error) => Some(error),
            Self::Missing(_) | Self::Closed => None,
        }
    }
}

/// Where a file store stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Nothing opened yet: the first open may create the file.
    Unopened,
    /// `generation` is open on the file with `identity`.
    Open,
    /// The file was deleted; `generation` is closed.
    Missing,
    /// Closed for good.
    Closed,
}

struct State {
    generation: Arc<Generation>,
    identity: Option<Identity>,
    status: Status,
}

/// A SQLite users file followed by path.
pub(crate) struct SqliteFile {
    path: PathBuf,
    /// Never creates the file: only [`create`](Self::create) does, before the first open.
    connect: SqliteConnectOptions,
    pool: SqlitePoolOptions,
    state: RwLock<State>,
    /// When the path is next due for a check, in nanoseconds after `epoch`.
    next_check: AtomicU64,
    epoch: Instant,
    /// One check (and reopening) at a time.
    checking: tokio::sync::Mutex<()>,
    /// The background closing of the generation on a deleted file.
    closing: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// How long closing a generation waits for its connections: the query timeout, which
    /// bounds every statement.
    close_bound: Duration,
    /// The `-wal` and `-shm` files the open generation was last seen using, so that only those
    /// are removed when the file is replaced — never another process's journal of the new file.
    journal: Mutex<[Option<Identity>; 2]>,
}

/// The suffixes of SQLite's write-ahead log and its index.
const JOURNAL_SUFFIXES: [&str; 2] = ["-wal", "-shm"];

impl SqliteFile {
    /// Follows the file `connect` names; `connect` must not create it.
    pub(crate) fn new(
        connect: SqliteConnectOptions,
        pool: SqlitePoolOptions,
        close_bound: Duration,
    ) -> Self {
        let path = connect.get_filename().to_owned();
        let generation = Arc::new(Self::generation(&path, &connect, &pool));
        Self {
            path,
            connect,
            pool,
            state: RwLock::new(State {
                generation,
                identity: None,
                status: Status::Unopened,
            }),
            next_check: AtomicU64::new(0),
            epoch: Instant::now(),
            checking: tokio::sync::Mutex::new(()),
            closing: Mutex::new(None),
            close_bound,
            journal: Mutex::new([None, None]),
        }
    }

    /// A new, lazy generation on the path: nothing is opened until used.
    fn generation(
        path: &Path,
        connect: &SqliteConnectOptions,
        pool: &SqlitePoolOptions,
    ) -> Generation {
        Generation::with_readers(
            SqlPool::Sqlite(pool.clone().connect_lazy_with(connect.clone())),
            Readers::new(path.to_owned()),
        )
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_closing(&self) -> std::sync::MutexGuard<'_, Option<tokio::task::JoinHandle<()>>> {
        self.closing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recent generation, open or not.
    pub(crate) fn latest(&self) -> Arc<Generation> {
        self.state().generation.clone()
    }

    /// The generation to run a call on. Between checks this is one atomic load and a read lock;
    /// a due check stats the path (one task at a time; the others wait for its answer rather
    /// than use a file that may have been replaced).
    pub(crate) async fn current(&self) -> Result<Arc<Generation>, StoreError> {
        if self.now() < self.next_check.load(Ordering::Acquire) {
            let state = self.state();
            if state.status == Status::Open {
                return Ok(state.generation.clone());
            }
        }
        let _one_at_a_time = self.checking.lock().await;
        let due = self.now() >= self.next_check.load(Ordering::Acquire);
        if !due && self.state().status != Status::Unopened {
            // Checked while this call waited, or nothing open between checks (missing).
            return self.answer();
        }
        let result = self.check().await;
        let next = self
            .now()
            .saturating_add(u64::try_from(CHECK_INTERVAL.as_nanos()).unwrap_or(u64::MAX));
        self.next_check.store(next, Ordering::Release);
        result
    }

    /// What the state says, without checking.
    fn answer(&self) -> Result<Arc<Generation>, StoreError> {
        let state = self.state();
        match state.status {
            Status::Open => Ok(state.generation.clone()),
            Status::Missing | Status::Unopened => Err(StoreError::unavailable(FileError::Missing(
                self.path.clone(),
            ))),
            Status::Closed => Err(StoreError::unavailable(FileError::Closed)),
        }
    }

    /// Compares the path with the open file, and follows it: opens it the first time (creating
    /// it if missing), reopens it when replaced, closes everything while it is missing.
    async fn check(&self) -> Result<Arc<Generation>, StoreError> {
        let status = self.state().status;
        if status == Status::Closed {
            return self.answer();
        }
        let stat = |path: &Path| {
            identity(path)
                .map_err(|error| StoreError::unavailable(FileError::Stat(path.to_owned(), error)))
        };
        let mut found = stat(&self.path)?;
        if found.is_none() && status == Status::Unopened {
            self.create().await?;
            found = stat(&self.path)?;
        }
        let open_identity = self.state().identity;
        match (status, found) {
            (_, None) => {
                if status == Status::Open {
                    // Requests get 503 at once; the old connections close in the background
                    // (nothing new is opened on the path until the file is back).
                    let old = self.set(None, Status::Missing, None);
                    let bound = self.close_bound;
                    let closing = tokio::spawn(async move { old.close(bound).await });
                    *self.lock_closing() = Some(closing);
                }
                self.answer()
            }
            (Status::Unopened, Some(found)) => {
                self.set(Some(found), Status::Open, None);
                self.answer()
            }
            (Status::Open, Some(found)) if Some(found) == open_identity => {
                self.note_journal();
                self.answer()
            }
            (_, Some(found)) => {
                // Replaced (or back after being deleted). Everything open on the old file is
                // closed first: its last connection checkpoints the old write-ahead log into the
                // old file and removes the `-wal` and `-shm` files at the path, which the new
                // file would otherwise be read through.
                // Which journal files at the path are the old file's, asked while its
                // connections still hold them open.
                let stale = self.journal_in_use();
                if status == Status::Open {
                    let old = self.set(None, Status::Missing, None);
                    old.close(self.close_bound).await;
                }
                let closing = self.lock_closing().take();
                if let Some(closing) = closing {
                    // The file was deleted and is back: the old one must be closed first too.
                    let _ = closing.await;
                }
                // A `-wal` or `-shm` of the old file still at the path (a closing connection could
                // not remove it): read through it, the new file would show the old file's last
                // writes. A file is deployed checkpointed, without one of its own.
                self.remove_leftover_journal(stale);
                tracing::info!(path = %self.path.display(), "the SQLite users file was replaced: reopened");
                let fresh = Self::generation(&self.path, &self.connect, &self.pool);
                self.set(Some(found), Status::Open, Some(Arc::new(fresh)));
                self.answer()
            }
        }
    }

    fn journal_path(&self, suffix: &str) -> PathBuf {
        let mut path = self.path.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    }

    /// Remembers which journal files the open generation uses.
    fn note_journal(&self) {
        let seen =
            JOURNAL_SUFFIXES.map(|suffix| identity(&self.journal_path(suffix)).ok().flatten());
        *self.journal.lock().unwrap_or_else(PoisonError::into_inner) = seen;
    }

    /// The journal files at the path that belong to the open file: those the last check saw it
    /// use, or (Linux) those this process holds open — never a journal another process made for
    /// a new file.
    fn journal_in_use(&self) -> [Option<Identity>; 2] {
        let noted =
            std::mem::take(&mut *self.journal.lock().unwrap_or_else(PoisonError::into_inner));
        let held = files_this_process_holds();
        let mut stale = [None, None];
        for ((slot, suffix), noted) in stale.iter_mut().zip(JOURNAL_SUFFIXES).zip(noted) {
            if let Ok(Some(found)) = identity(&self.journal_path(suffix)) {
                if Some(found) == noted || held.contains(&found) {
                    *slot = Some(found);
                }
            }
        }
        stale
    }

    /// Removes the journal files `stale` names, if they are still at the path.
    fn remove_leftover_journal(&self, stale: [Option<Identity>; 2]) {
        for (suffix, stale) in JOURNAL_SUFFIXES.into_iter().zip(stale) {
            let leftover = self.journal_path(suffix);
            match identity(&leftover) {
                Ok(Some(found)) if Some(found) == stale => match std::fs::remove_file(&leftover) {
                    Ok(()) => {
                        tracing::info!(path = %leftover.display(), "removed the replaced SQLite file's journal")
                    }
                    Err(error) => {
                        tracing::warn!(path = %leftover.display(), %error, "could not remove the replaced SQLite file's journal")
                    }
                },
                Ok(Some(_)) => {
                    tracing::debug!(path = %leftover.display(), "kept a journal the replaced file did not use")
                }
                Ok(None) | Err(_) => {}
            }
        }
    }

    /// Sets the state, and the generation if one is given; returns the previous generation.
    fn set(
        &self,
        identity: Option<Identity>,
        status: Status,
        generation: Option<Arc<Generation>>,
    ) -> Arc<Generation> {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.identity = identity;
        state.status = status;
        match generation {
            Some(generation) => std::mem::replace(&mut state.generation, generation),
            None => state.generation.clone(),
        }
    }

    /// Creates the file, the only time it may be: before the first open.
    async fn create(&self) -> Result<(), StoreError> {
        use sqlx::{ConnectOptions as _, Connection as _};

        let created = async {
            self.connect
                .clone()
                .create_if_missing(true)
                .connect()
                .await?
                .close()
                .await
        };
        created.await.map_err(StoreError::unavailable)
    }

    /// Closes the file for good.
    pub(crate) async fn close(&self) {
        let _one_at_a_time = self.checking.lock().await;
        let old = self.set(None, Status::Closed, None);
        old.close(self.close_bound).await;
    }
}

/// Read connections of this process's own on a SQLite file, used synchronously.
///
/// sqlx runs every SQLite statement on a worker thread and hands rows back through channels,
/// which costs far more than the indexed lookup itself. A lookup here is a cached prepared
/// statement stepped on the calling thread: in WAL mode a reader never waits for a writer, and a
/// busy database (a checkpoint, a file in rollback mode mid-commit) is handed to the pool rather
/// than waited for, so the calling thread is not held. Each lookup is its own read transaction,
/// so it sees every change committed before it, from any connection or process.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// Lookups running: [`close`](Self::close) waits for them, so that no connection on the old
    /// file outlives it.
    in_use: AtomicUsize,
    closed: AtomicBool,
}

/// Idle read connections kept; more are opened when more lookups run at once (at most one per
/// runtime thread, as a lookup never yields), and dropped after.
const MAX_IDLE_READERS: usize = 8;

const FIND: &str = "SELECT id, email, password_hash, enabled, confirmed_email, signed_up, \
     last_login, n_password_failures, last_password_failure FROM users WHERE email_key = ?1";

impl Readers {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            in_use: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The record of `key`; `None` when this path cannot answer and the pool must.
    pub(crate) fn find(&self, key: &str) -> Option<Option<UserRecord<User>>> {
        // Counted before `closed` is read (and `close` sets `closed` before it reads the count):
        // either this lookup sees the close, or the close waits for this lookup.
        self.in_use.fetch_add(1, Ordering::SeqCst);
        let found = self.find_open(key);
        self.in_use.fetch_sub(1, Ordering::SeqCst);
        found
    }

    fn find_open(&self, key: &str) -> Option<Option<UserRecord<User>>> {
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => match self.open() {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::debug!(%error, "no SQLite read connection; reading through the pool");
                    return None;
                }
            },
        };
        let found = lookup(&conn, key);
        if !self.closed.load(Ordering::SeqCst) {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        found
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;

        // Never creates the file; a missing one is for the pool to report.
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    /// Drops every connection, waiting for the lookups running (each is one indexed read, on
    /// a connection that never waits for a lock).
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        while self.in_use.load(Ordering::SeqCst) > 0 {
            tokio::task::yield_now().await;
        }
        // Any connection returned meanwhile was dropped rather than kept: `closed` was set.
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// One lookup; `None` for anything but a row in the forms this store writes, which the pool
/// then reads (and decodes, or reports) the way every other read does.
fn lookup(conn: &rusqlite::Connection, key: &str) -> Option<Option<UserRecord<User>>> {
    use rusqlite::OptionalExtension as _;

    let mut statement = conn.prepare_cached(FIND).ok()?;
    match statement.query_row([key], |row| Ok(record(row))).optional() {
        Ok(None) => Some(None),
        Ok(Some(Some(record))) => Some(Some(record)),
        Ok(Some(None)) | Err(_) => None,
    }
}

/// A row of [`FIND`], when every value has the type and form this store writes.
fn record(row: &rusqlite::Row<'_>) -> Option<UserRecord<User>> {
    use rusqlite::types::ValueRef;

    let value = |index: usize| row.get_ref(index).ok();
    let integer = |index: usize| match value(index)? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    };
    // Outer `None`: not text (nor NULL where allowed).
    let text = |index: usize| match value(index)? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok().map(Some),
        ValueRef::Null => Some(None),
        _ => None,
    };
    let time = |index: usize| match text(index)? {
        Some(text) => crate::timestamp::from_sqlite_text(text).map(Some),
        None => Some(None),
    };

    let mut user = User::new(integer(0)?, text(1)??.to_owned(), time(5)??);
    user.enabled = integer(3)? != 0;
    user.confirmed_email = integer(4)? != 0;
    user.last_login = time(6)?;
    user.n_password_failures = u32::try_from(integer(7)?.max(0)).unwrap_or(u32::MAX);
    Some(UserRecord {
        login: user.email.clone(),
        password_hash: text(2)?.map(str::to_owned),
        enabled: user.enabled,
        confirmed_email: user.confirmed_email,
        n_password_failures: user.n_password_failures,
        last_failure: time(8)?,
        last_login: user.last_login,
        user,
    })
}
