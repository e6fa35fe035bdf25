//! The store contract against SQLite (in memory, and in a file with several connections), and
//! what is particular to SQLite: file creation, pragmas, private in-memory databases, timestamps
//! as text, concurrent writers.
#![cfg(feature = "sqlite")]

mod common;
mod contract;

/// A rule that always grants: plain failure counting.
const UNLIMITED: endpoint_auth::SlotRule = endpoint_auth::SlotRule::new(u32::MAX, None);

use std::time::Duration;

use endpoint_auth::{
    AuthOutcome, Authenticator, LockoutPolicy, NewUser, PoolConfig, Requirements, User, UserAdmin,
    UserStore,
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
        AuthOutcome::User(member) => assert_eq!(member.display_name, "Ada"),
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
