//! The `custom_store` example: its demonstration, and its store held to the `UserStore`
//! contract where it matters most (exact, atomic failure slots; conditional rehash), on a file
//! with several connections racing.
#![cfg(feature = "sqlite")]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use endpoint_auth::{store::SlotRule, UserStore};

use common::TempDir;

#[allow(dead_code)] // its `main` prints the demonstration; the tests call it
#[path = "../examples/custom_store.rs"]
mod example;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// A store over a fresh file, several connections, with the example's account in it.
async fn store(dir: &TempDir) -> example::AccountsStore {
    let store = example::AccountsStore::open(&dir.sqlite_url("accounts.db"))
        .await
        .expect("the example's store");
    sqlx::query("INSERT INTO accounts (login, pw_hash, active) VALUES (?1, 'h1', 1)")
        .bind(example::LOGIN)
        .execute(store.pool())
        .await
        .expect("an account");
    store
}

#[tokio::test]
async fn the_demonstration_upgrades_the_hash_and_locks_after_three_failures() {
    let lines = example::demo("sqlite::memory:").await.expect("the demo");
    assert_eq!(
        lines,
        [
            "right password: 200 user123@gmail.com (stored: argon2id hash, failed_logins = 0)",
            "right password, other case: 200 user123@gmail.com (stored: argon2id hash, failed_logins = 0)",
            "wrong password 1: 401 Unauthorized (stored: argon2id hash, failed_logins = 1)",
            "wrong password 2: 401 Unauthorized (stored: argon2id hash, failed_logins = 2)",
            "wrong password 3: 401 Unauthorized (stored: argon2id hash, failed_logins = 3)",
            "right password, locked: 401 Unauthorized (stored: argon2id hash, failed_logins = 3)",
            "unknown login: 401 Unauthorized (stored: argon2id hash, failed_logins = 3)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_reservations_grant_exactly_the_limit_and_rearm_once_expired() {
    let dir = TempDir::new();
    let store = store(&dir).await;
    let rule = SlotRule::new(5, None);
    let races = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .reserve_failure_slot(example::LOGIN, rule, at(10))
                .await
                .expect("reserve")
        })
    });
    let mut granted = Vec::new();
    for race in races.collect::<Vec<_>>() {
        granted.extend(race.await.expect("a task"));
    }
    granted.sort_unstable();
    assert_eq!(granted, [1, 2, 3, 4, 5]);

    // Locked until the last failure is at or before `expired_before`; then one more slot,
    // which re-arms the lock.
    let not_yet = SlotRule::new(5, Some(at(9)));
    let reserve = |rule, now| store.reserve_failure_slot(example::LOGIN, rule, now);
    assert_eq!(reserve(not_yet, at(20)).await.expect("reserve"), None);
    let expired = SlotRule::new(5, Some(at(10)));
    assert_eq!(reserve(expired, at(20)).await.expect("reserve"), Some(6));
    assert_eq!(reserve(expired, at(21)).await.expect("reserve"), None);
    // Nothing for a login that does not exist, or for a rule granting nothing.
    let unknown = store.reserve_failure_slot("nobody", SlotRule::new(5, None), at(22));
    assert_eq!(unknown.await.expect("reserve"), None);
    assert_eq!(
        reserve(SlotRule::NONE, at(22)).await.expect("reserve"),
        None
    );

    // A success gives the count back to zero and records the login.
    store
        .record_success(example::LOGIN, at(30))
        .await
        .expect("record_success");
    let record = store
        .find_user(&example::LOGIN.to_uppercase())
        .await
        .expect("find_user")
        .expect("found case-insensitively");
    assert_eq!(record.login, example::LOGIN);
    assert_eq!(record.n_password_failures, 0);
    assert_eq!(record.last_failure, Some(at(20))); // the refused reservation wrote nothing
    assert_eq!(record.last_login, Some(at(30)));
}

#[tokio::test]
async fn the_hash_is_replaced_only_if_it_is_still_the_one_verified() {
    let dir = TempDir::new();
    let store = store(&dir).await;
    let replace = |verified, new| store.replace_password_hash(example::LOGIN, verified, new);
    assert!(!replace("changed meanwhile", "h2").await.expect("replace"));
    assert!(replace("h1", "h2").await.expect("replace"));
    let record = store.find_user(example::LOGIN).await.expect("find_user");
    assert_eq!(record.expect("found").password_hash.as_deref(), Some("h2"));
}
