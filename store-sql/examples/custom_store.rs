//! A users store of your own: `authenticate_users` over a table an application already has,
//! here `accounts(login, pw_hash, active)` in SQLite through sqlx, instead of `SqlStore`'s
//! `users` table.
//!
//! What the core needs of a store (the `UserStore` contract, in the core's `store.rs`):
//!
//! - `find_user`: the account by login, compared case-insensitively;
//! - `reserve_failure_slot`: one atomic `UPDATE … WHERE <the SlotRule> RETURNING` before any
//!   password is verified, so that no more wrong passwords are tried than the lockout allows,
//!   however many requests race (on one server or many sharing the database);
//! - `record_success`: failures back to 0 after a right password;
//! - `replace_password_hash`: the upgraded hash, written only if the stored one is still the one
//!   verified.
//!
//! The application's table has no columns for failure counting, so this store adds them
//! (`failed_logins`, `last_failed_login`, `last_login`) with a migration of its own. Its
//! `pw_hash` must hold argon2 PHC or bcrypt strings; for any other scheme (or an LDAP bind, or
//! another service) write a credential check instead: `Authenticator::builder_with_check`, see
//! `core/examples/credential_check.rs`.
//!
//! ```sh
//! cargo run -p endpoint-auth-sql --example custom_store
//! ```
//!
//! It seeds one account with a bcrypt hash (as a legacy application might have), then
//! authenticates a few requests against it and prints what happened: the right password (and
//! the hash upgraded to argon2id), wrong passwords up to the lock, the right password refused
//! while locked. `DATABASE_URL` picks the database (default `sqlite::memory:`).

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use endpoint_auth::{
    store::{SlotRule, StoreFuture},
    Authenticator, ClientAddress, Credentials, HashPolicy, LockoutPolicy, Requirements, StoreError,
    UserRecord, UserStore,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

pub(crate) const LOGIN: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// What handlers receive: what the application knows of the account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) login: String,
}

/// `UserStore` over the application's `accounts` table.
#[derive(Debug, Clone)]
pub(crate) struct AccountsStore {
    pool: SqlitePool,
}

/// Every query gets this long before the core answers 503 (never 401, never a hang).
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The lockout columns this store adds to the application's table.
const LOCKOUT_COLUMNS: [(&str, &str); 3] = [
    ("failed_logins", "INTEGER NOT NULL DEFAULT 0"),
    ("last_failed_login", "INTEGER"), // microseconds since the Unix epoch
    ("last_login", "INTEGER"),
];

const FIND: &str = "SELECT login, pw_hash, active, failed_logins, last_failed_login, last_login \
     FROM accounts WHERE login = ?1 COLLATE NOCASE";
// The SlotRule as the WHERE clause: below the limit, or at it once the lock has expired (then
// the slot re-arms the lock at once). One statement: SQLite runs it atomically.
const RESERVE: &str = "UPDATE accounts SET \
         failed_logins = MIN(failed_logins + 1, 4294967295), last_failed_login = ?2 \
     WHERE login = ?1 AND (failed_logins < ?3 OR (?4 AND \
         (last_failed_login IS NULL OR last_failed_login <= ?5))) \
     RETURNING failed_logins";
const SUCCESS: &str = "UPDATE accounts SET failed_logins = 0, last_login = ?2 WHERE login = ?1";
const REPLACE_HASH: &str = "UPDATE accounts SET pw_hash = ?3 WHERE login = ?1 AND pw_hash = ?2";

impl AccountsStore {
    /// Opens the database at `url` and adds the lockout columns where missing. (The `accounts`
    /// table is created here only so that the example runs on an empty database.)
    pub(crate) async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        // One connection for `sqlite::memory:` (each connection would be a database of its own).
        let max = if url.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS accounts \
             (login TEXT NOT NULL PRIMARY KEY, pw_hash TEXT, active BOOLEAN NOT NULL DEFAULT 1)",
        )
        .execute(&pool)
        .await?;
        for (column, definition) in LOCKOUT_COLUMNS {
            let present: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pragma_table_info('accounts') WHERE name = ?1",
            )
            .bind(column)
            .fetch_one(&pool)
            .await?;
            if present == 0 {
                sqlx::query(&format!(
                    "ALTER TABLE accounts ADD COLUMN {column} {definition}"
                ))
                .execute(&pool)
                .await?;
            }
        }
        // Logins are matched case-insensitively (SQLite's NOCASE folds ASCII only; keep a
        // column of `endpoint_auth::store::login_key(login)` for Unicode logins), so they must be
        // unique that way; the index also serves the lookup.
        sqlx::query(
            "CREATE UNIQUE INDEX IF NOT EXISTS accounts_login_nocase \
             ON accounts (login COLLATE NOCASE)",
        )
        .execute(&pool)
        .await?;
        Ok(Self { pool })
    }

    /// The pool, for the application's own queries.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn find(&self, login: &str) -> Result<Option<UserRecord<Account>>, StoreError> {
        let row = timed(sqlx::query(FIND).bind(login).fetch_optional(&self.pool)).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<UserRecord<Account>, sqlx::Error> {
            let login: String = row.try_get("login")?;
            let failures: i64 = row.try_get("failed_logins")?;
            Ok(UserRecord {
                user: Account {
                    login: login.clone(),
                },
                // The key passed back to the other methods: the login as stored.
                login,
                password_hash: row.try_get("pw_hash")?,
                enabled: row.try_get("active")?,
                // The application has no email confirmation: every account counts as confirmed.
                confirmed_email: true,
                n_password_failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
                last_failure: row
                    .try_get::<Option<i64>, _>("last_failed_login")?
                    .map(from_micros),
                last_login: row
                    .try_get::<Option<i64>, _>("last_login")?
                    .map(from_micros),
            })
        };
        // A row the store cannot read is "cannot answer" (503), not "no such user" (401).
        read()
            .map(Some)
            .map_err(|error| StoreError::InvalidData(error.to_string()))
    }

    async fn reserve(
        &self,
        login: &str,
        rule: SlotRule,
        now: SystemTime,
    ) -> Result<Option<u32>, StoreError> {
        let query = sqlx::query_scalar::<_, i64>(RESERVE)
            .bind(login)
            .bind(micros(now))
            .bind(i64::from(rule.max_failures()))
            .bind(rule.expired_before().is_some())
            .bind(rule.expired_before().map(micros));
        // No row: locked, or no such login.
        let count = timed(query.fetch_optional(&self.pool)).await?;
        Ok(count.map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
    }

    async fn success(&self, login: &str, now: SystemTime) -> Result<(), StoreError> {
        let query = sqlx::query(SUCCESS).bind(login).bind(micros(now));
        timed(query.execute(&self.pool)).await?;
        Ok(())
    }

    async fn replace_hash(
        &self,
        login: &str,
        verified_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(REPLACE_HASH)
            .bind(login)
            .bind(verified_hash)
            .bind(new_hash);
        Ok(timed(query.execute(&self.pool)).await?.rows_affected() == 1)
    }
}

impl UserStore for AccountsStore {
    type User = Account;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<Account>>> {
        Box::pin(self.find(username))
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

/// A query within [`QUERY_TIMEOUT`]; its errors as the core's "cannot answer now".
async fn timed<T>(
    query: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(result) => result.map_err(StoreError::unavailable),
        Err(_) => Err(StoreError::Timeout(QUERY_TIMEOUT)),
    }
}

fn micros(at: SystemTime) -> i64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

fn from_micros(micros: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

/// The demonstration: a legacy account, then a few logins. Returns one line per request.
pub(crate) async fn demo(url: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let store = AccountsStore::open(url).await?;
    // What the legacy application stored: a bcrypt hash.
    sqlx::query("INSERT OR REPLACE INTO accounts (login, pw_hash, active) VALUES (?1, ?2, 1)")
        .bind(LOGIN)
        .bind(bcrypt::hash(PASSWORD, 10)?)
        .execute(store.pool())
        .await?;

    let auth = Authenticator::builder(store.clone())
        .realm("accounts")
        .hash_policy(HashPolicy::owasp())
        .lockout(LockoutPolicy::new().max_failures(3))
        .build()?;
    let client = ClientAddress::new([127, 0, 0, 1].into());
    let mut lines = Vec::new();
    let attempts = [
        ("right password", LOGIN, PASSWORD),
        ("right password, other case", "User123@Gmail.com", PASSWORD),
        ("wrong password 1", LOGIN, "guess 1"),
        ("wrong password 2", LOGIN, "guess 2"),
        ("wrong password 3", LOGIN, "guess 3"),
        ("right password, locked", LOGIN, PASSWORD),
        ("unknown login", "nobody@example.com", PASSWORD),
    ];
    for (label, login, password) in attempts {
        let header = Credentials::new(login, password)?.to_header_value();
        let outcome = auth
            .authenticate_user([header.as_bytes()], client, Requirements::new())
            .await;
        let stored: (String, i64) =
            sqlx::query_as("SELECT pw_hash, failed_logins FROM accounts WHERE login = ?1")
                .bind(LOGIN)
                .fetch_one(store.pool())
                .await?;
        let scheme = if stored.0.starts_with("$argon2id$") {
            "argon2id"
        } else {
            "bcrypt"
        };
        let answer = match outcome {
            Ok(account) => format!("200 {}", account.login),
            Err(rejection) => rejection.status().to_string(),
        };
        lines.push(format!(
            "{label}: {answer} (stored: {scheme} hash, failed_logins = {})",
            stored.1
        ));
    }
    Ok(lines)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    for line in demo(&url).await? {
        println!("{line}");
    }
    Ok(())
}
