//! The store contract against SQLite (in memory, and in a file with several connections), and
//! what is particular to SQLite: file creation, pragmas, private in-memory databases, timestamps
//! as text, concurrent writers.
#![cfg(feature = "sqlite")]

mod common;
mod contract;

/// A rule that always grants: plain failure counting.
const UNLIMITED: endpoint_auth::store::SlotRule =
    endpoint_auth::store::SlotRule::new(u32::MAX, None);

use std::time::Duration;

use endpoint_auth::{
    Authenticator, LockoutPolicy, NewUser, PoolConfig, Requirements, User, UserAdmin, UserStore,
};
use endpoint_auth_sql::{sqlx, ConnectError, SqlStore, SqlStoreOptions, SqlUser, UserRow};

use common::TempDir;
use contract::{at, hash, PASSWORD};

/// The contract on `sqlite::memory:` (one connection holding a private database).
mod in_memory {
    use super::*;

    async fn open(_test: &str) -> Option<(SqlStore, ())> {
        let store = SqlStore::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        Some((store, ()))
    }

    contract::contract_tests!(open);
}

/// The contract on a WAL-mode file, through a pool of several connections.
mod in_a_file {
    use super::*;

    async fn open(_test: &str) -> Option<(SqlStore, TempDir)> {
        let dir = TempDir::new();
        let store = SqlStoreOptions::new()
            .max_connections(4)
            .connect(&dir.sqlite_url("users.db"))
            .await
            .expect("SQLite file");
        Some((store, dir))
    }

    contract::contract_tests!(open);
}

async fn sqlite_pool(store: &SqlStore) -> sqlx::SqlitePool {
    store.pool().as_sqlite().expect("a SQLite store").clone()
}

#[tokio::test]
async fn the_file_is_created_and_migrated_on_first_use() {
    let dir = TempDir::new();
    let path = dir.path().join("new.db");
    let url = dir.sqlite_url("new.db");

    let lazy = SqlStore::connect_lazy(&url).unwrap();
    assert!(!path.exists(), "connect_lazy opens nothing");
    assert!(lazy.find_user("a@example.com").await.unwrap().is_none());
    assert!(path.exists(), "created on first use");

    lazy.create_user(NewUser::new("a@example.com", Some(hash("pw"))))
        .await
        .unwrap();
    lazy.close().await;

    // Reopened: the data is there and the migration is not applied twice.
    let reopened = SqlStore::connect(&url).await.unwrap();
    assert_eq!(reopened.list_users().await.unwrap().len(), 1);
    let pool = sqlite_pool(&reopened).await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM endpoint_auth_migrations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(versions, [1]);
}

#[tokio::test]
async fn file_databases_use_wal_a_busy_timeout_and_foreign_keys() {
    let dir = TempDir::new();
    let store = SqlStoreOptions::new()
        .query_timeout(Duration::from_millis(2500))
        .connect(&dir.sqlite_url("pragmas.db"))
        .await
        .unwrap();
    let pool = sqlite_pool(&store).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(busy, 2500);
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(foreign_keys, 1);
}

#[tokio::test]
async fn in_memory_databases_are_private_to_their_store() {
    let one = SqlStore::connect("sqlite::memory:").await.unwrap();
    let two = SqlStore::connect("sqlite::memory:").await.unwrap();
    one.create_user(NewUser::new("only-in-one@example.com", None))
        .await
        .unwrap();
    assert_eq!(one.list_users().await.unwrap().len(), 1);
    assert!(two.list_users().await.unwrap().is_empty());
    // Clones share the database.
    assert_eq!(one.clone().list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn timestamps_are_fixed_width_utc_text() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store
        .create_user(NewUser::new("t@example.com", None).signed_up(at(0)))
        .await
        .unwrap();
    store
        .reserve_failure_slot("t@example.com", UNLIMITED, at(1))
        .await
        .unwrap();
    let pool = sqlite_pool(&store).await;
    let (signed_up, failed): (String, String) =
        sqlx::query_as("SELECT signed_up, last_password_failure FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(signed_up, "2023-11-14T22:13:20.000000Z");
    assert_eq!(failed, "2023-11-14T22:13:21.000000Z");
}

#[tokio::test]
async fn rows_written_by_other_tools_are_read() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let pool = sqlite_pool(&store).await;
    // signed_up from the column default; last_login in SQLite's own CURRENT_TIMESTAMP form.
    sqlx::query(
        "INSERT INTO users (email, email_key, password_hash, last_login) \
         VALUES ('Tool@Example.com', 'tool@example.com', NULL, '2024-01-02 03:04:05')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let found = store.find_user("tool@example.com").await.unwrap().unwrap();
    assert_eq!(found.user.email, "Tool@Example.com");
    assert!(found.enabled && !found.confirmed_email);
    assert_eq!(
        found.last_login,
        Some(std::time::UNIX_EPOCH + Duration::from_secs(1_704_164_645))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_through_two_pools_on_one_file_are_exact() {
    const PER_STORE: u32 = 40;
    let dir = TempDir::new();
    let url = dir.sqlite_url("shared.db");
    let options = SqlStoreOptions::new().max_connections(4);
    let one: SqlStore = options.connect(&url).await.unwrap();
    let two: SqlStore = options.connect(&url).await.unwrap();
    contract::reservations_through_stores_are_exact(&[one, two], PER_STORE, UNLIMITED).await;
}

#[tokio::test]
async fn connect_errors_say_what_to_do() {
    let dir = TempDir::new();
    let missing = format!(
        "sqlite://{}",
        dir.path().join("no-such-dir").join("users.db").display()
    );
    let error = SqlStore::connect(&missing).await.unwrap_err();
    assert!(matches!(error, ConnectError::Connect(_)), "{error:?}");
    assert!(error.to_string().contains("directory exists"), "{error}");

    let error = SqlStore::connect("mysql://root:hunter2@127.0.0.1/db")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectError::UnsupportedUrl { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(error.to_string().contains("sqlite://"), "{error}");
}

#[tokio::test]
async fn a_closed_pool_is_unavailable_not_a_panic() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.close().await;
    let error = store.find_user("a@example.com").await.unwrap_err();
    assert!(
        matches!(error, endpoint_auth::StoreError::Unavailable(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn debug_shows_settings_not_secrets() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store
        .create_user(NewUser::new("a@example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();
    let shown = format!("{store:?}");
    assert!(shown.contains("Sqlite"), "{shown}");
    assert!(!shown.contains("argon2"), "{shown}");
    let record = store.find_user("a@example.com").await.unwrap().unwrap();
    assert!(!format!("{record:?}").contains("argon2"));
}

// ---------------------------------------------------------------------------------------------
// An application's own user type, with a column of its own

/// What this application's handlers receive.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub(crate) user: User,
    pub(crate) display_name: String,
    pub(crate) plan: Option<String>,
}

impl SqlUser for Member {
    const COLUMNS: &'static [&'static str] = &["display_name", "plan"];

    fn from_row(user: User, row: &UserRow<'_>) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user,
            display_name: row.try_get("display_name")?,
            plan: row.try_get("plan")?,
        })
    }
}

#[tokio::test]
async fn an_application_reads_its_own_columns_into_its_own_type() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    // The application's migration, after the store's.
    let pool = sqlite_pool(&store).await;
    sqlx::raw_sql(
        "ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
         ALTER TABLE users ADD COLUMN plan TEXT",
    )
    .execute(&pool)
    .await
    .unwrap();
    store
        .create_user(NewUser::new("Member@Example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET display_name = 'Ada', plan = 'pro' WHERE email = $1")
        .bind("Member@Example.com")
        .execute(&pool)
        .await
        .unwrap();

    let members: SqlStore<Member> = store.with_user_type();
    let found = members
        .find_user("member@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.display_name, "Ada");
    assert_eq!(found.user.plan.as_deref(), Some("pro"));
    assert_eq!(found.user.user.email, "Member@Example.com");
    assert_eq!(found.login, "Member@Example.com");

    // The core hands the application's type to the handler.
    let auth: Authenticator<Member> = Authenticator::builder(members.clone())
        .hash_policy(contract::policy())
        .pool(PoolConfig::new().workers(1))
        .lockout(LockoutPolicy::new())
        .build()
        .unwrap();
    let header = endpoint_auth::Credentials::new("member@example.com", PASSWORD)
        .unwrap()
        .to_header_value();
    match auth
        .authenticate_user(
            [header.as_bytes()],
            endpoint_auth::ClientAddress::UNKNOWN,
            Requirements::new(),
        )
        .await
    {
        Ok(member) => assert_eq!(member.display_name, "Ada"),
        other => panic!("expected the member, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_custom_column_is_invalid_data_not_a_401() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store
        .create_user(NewUser::new("a@example.com", None))
        .await
        .unwrap();
    let members: SqlStore<Member> = store.with_user_type();
    let error = members.find_user("a@example.com").await.unwrap_err();
    assert!(
        matches!(error, endpoint_auth::StoreError::InvalidData(_)),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Changes made elsewhere, a replaced or deleted file, a write-locked database

/// Changes committed through another instance on the file (its own pool, as another process or
/// the CLI has) are seen by the next lookup, while 32 others run: on the direct read path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_another_instance_are_seen_by_the_next_find() {
    let dir = TempDir::new();
    let url = dir.sqlite_url("users.db");
    let reader = SqlStore::connect(&url).await.unwrap();
    let writer = SqlStore::connect(&url).await.unwrap();
    let finds = contract::changes_elsewhere_are_seen_by_the_next_find(reader, writer).await;
    assert!(finds > 100, "only {finds} finds ran meanwhile");
}

/// The same on the batched read path, which a store over an application's pool takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_another_instance_are_seen_by_the_next_batched_find() {
    let dir = TempDir::new();
    let url = dir.sqlite_url("users.db");
    let writer = SqlStore::connect(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let reader = SqlStore::from_pool(pool);
    let finds = contract::changes_elsewhere_are_seen_by_the_next_find(reader, writer).await;
    assert!(finds > 100, "only {finds} finds ran meanwhile");
}

/// Lookups of many users at once, some twice, some unknown, each answered with its own row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_lookups_each_get_their_own_row() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    for i in 0..50 {
        store
            .create_user(NewUser::new(format!("U{i}@example.com"), None))
            .await
            .unwrap();
    }
    let lookups: Vec<_> = (0..400)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let login = format!("u{}@EXAMPLE.com", i % 60);
                (i % 60, store.find_user(&login).await.unwrap())
            })
        })
        .collect();
    for lookup in lookups {
        let (i, found) = lookup.await.unwrap();
        match found {
            Some(found) => assert_eq!(found.login, format!("U{i}@example.com")),
            None => assert!(i >= 50, "user {i} exists"),
        }
    }
}

/// A user file built elsewhere: `alice@example.com` with `password`, enabled or not.
async fn build_file(
    dir: &TempDir,
    name: &str,
    password: &str,
    enabled: bool,
) -> std::path::PathBuf {
    let store = SqlStore::connect(&dir.sqlite_url(name))
        .await
        .expect("a new SQLite file");
    store
        .create_user(NewUser::new("alice@example.com", Some(hash(password))).enabled(enabled))
        .await
        .expect("create alice");
    // Self-contained, as a deployed file is: everything checkpointed into the main file.
    let pool = sqlite_pool(&store).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .expect("checkpoint");
    store.close().await;
    dir.path().join(name)
}

/// 32 tasks looking `alice@example.com` up until told to stop; errors are counted, not fatal.
fn hammer(
    store: &SqlStore,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks = (0..32)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = store.find_user("alice@example.com").await;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    (stop, tasks)
}

/// Polls `store` until `done` holds for the lookup of alice; panics after `within`.
async fn until<F>(store: &SqlStore, within: Duration, what: &str, done: F) -> Duration
where
    F: Fn(&Result<Option<endpoint_auth::UserRecord<User>>, endpoint_auth::StoreError>) -> bool,
{
    let start = std::time::Instant::now();
    loop {
        let found = store.find_user("alice@example.com").await;
        if done(&found) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{what} not seen within {within:?}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn verifies(found: &Option<endpoint_auth::UserRecord<User>>, password: &str) -> bool {
    found
        .as_ref()
        .and_then(|found| found.password_hash.as_deref())
        .is_some_and(|stored| {
            contract::policy()
                .verify(password, stored)
                .is_ok_and(|verification| verification.matched)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_renamed_over_the_path_is_served_within_a_second() {
    let dir = TempDir::new();
    let path = build_file(&dir, "users.db", "old password", true).await;
    let store = SqlStore::connect(&dir.sqlite_url("users.db"))
        .await
        .unwrap();
    assert!(verifies(
        &store.find_user("alice@example.com").await.unwrap(),
        "old password"
    ));
    let (stop, load) = hammer(&store);

    // Disabled, with another password.
    let next = build_file(&dir, "next.db", "new password", false).await;
    std::fs::rename(&next, &path).unwrap();
    let renamed = std::time::Instant::now();
    until(
        &store,
        Duration::from_secs(1),
        "the replaced file",
        |found| matches!(found, Ok(Some(found)) if !found.enabled),
    )
    .await;
    // Connections opened on the path before the check noticed may already have answered from
    // the new file; from one second on, every answer does.
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(renamed.elapsed())).await;
    for _ in 0..20 {
        let found = store.find_user("alice@example.com").await.unwrap();
        assert!(!found.as_ref().unwrap().enabled, "never the old file again");
        assert!(verifies(&found, "new password"));
        assert!(!verifies(&found, "old password"));
    }
    // Writes go to the new file too.
    assert_eq!(
        store
            .reserve_failure_slot("alice@example.com", UNLIMITED, contract::at(1))
            .await
            .unwrap(),
        Some(1)
    );
    let elsewhere = SqlStore::connect(&dir.sqlite_url("users.db"))
        .await
        .unwrap();
    assert_eq!(
        elsewhere
            .get_user("alice@example.com")
            .await
            .unwrap()
            .n_password_failures,
        1
    );
    elsewhere.close().await;

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_is_unavailable_not_recreated_and_recovered_when_back() {
    let dir = TempDir::new();
    let path = build_file(&dir, "users.db", "password", true).await;
    let store = SqlStore::connect(&dir.sqlite_url("users.db"))
        .await
        .unwrap();
    assert!(store
        .find_user("alice@example.com")
        .await
        .unwrap()
        .is_some());
    let (stop, load) = hammer(&store);

    std::fs::remove_file(&path).unwrap();
    // Until the check notices, a connection opened meanwhile may fail to open it: also a 503.
    until(&store, Duration::from_secs(1), "the deletion", |found| {
        matches!(found, Err(error @ endpoint_auth::StoreError::Unavailable(_))
            if error.to_string().contains("missing"))
    })
    .await;
    let error = store
        .reserve_failure_slot("alice@example.com", UNLIMITED, contract::at(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, endpoint_auth::StoreError::Unavailable(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("missing"), "{error}");
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            store.find_user("alice@example.com").await.is_err(),
            "still unavailable"
        );
    }
    assert!(!path.exists(), "never recreated");

    let back = build_file(&dir, "back.db", "password", true).await;
    std::fs::rename(&back, &path).unwrap();
    until(
        &store,
        Duration::from_secs(1),
        "the file put back",
        |found| matches!(found, Ok(Some(_))),
    )
    .await;
    assert_eq!(
        store
            .reserve_failure_slot("alice@example.com", UNLIMITED, contract::at(2))
            .await
            .unwrap(),
        Some(1)
    );

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
}

/// With another connection holding the write lock, reserving a slot fails the same way, after
/// the busy timeout, for an existing user and for an unknown login probed with
/// `SlotRule::NONE`: an `UPDATE` that matches no row still takes the write lock, so the answer
/// does not tell which logins exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_locked_database_times_out_alike_for_known_and_unknown_logins() {
    use sqlx::Connection as _;

    const BUSY: Duration = Duration::from_millis(400);
    let dir = TempDir::new();
    let url = dir.sqlite_url("users.db");
    let store: SqlStore = SqlStoreOptions::new()
        .query_timeout(BUSY)
        .connect(&url)
        .await
        .unwrap();
    store
        .create_user(NewUser::new("alice@example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();

    let mut locker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .unwrap();

    let rule = LockoutPolicy::new().slot_rule(contract::at(10));
    for (login, rule) in [
        ("alice@example.com", rule),
        ("nobody@example.com", endpoint_auth::store::SlotRule::NONE),
        ("alice@example.com", endpoint_auth::store::SlotRule::NONE),
    ] {
        let start = std::time::Instant::now();
        let error = store
            .reserve_failure_slot(login, rule, contract::at(10))
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert!(
            matches!(error, endpoint_auth::StoreError::Timeout(_)),
            "{login}: {error:?}"
        );
        assert!(
            took >= BUSY * 3 / 4,
            "{login} with {rule:?} failed after {took:?}, before the busy timeout"
        );
        // Reads are not held up by the writer.
        assert!(store.find_user(login).await.is_ok());
    }

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    assert_eq!(
        store
            .reserve_failure_slot("alice@example.com", rule, contract::at(11))
            .await
            .unwrap(),
        Some(1)
    );
}
