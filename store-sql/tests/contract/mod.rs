//! The users store contract: one set of test bodies, run unchanged against every store (the
//! core's `MemoryStore`, SQLite, PostgreSQL) by `contract_tests!`, which stamps out one
//! `#[tokio::test]` per case in the including test file.
//!
//! Each case takes a fresh, empty store. Times are whole seconds, which every store keeps
//! exactly (the SQL stores keep microseconds).

// These are test bodies called from `#[tokio::test]` functions: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use endpoint_auth::{
    admin::AdminError, lockout::LockDuration, rejection::FailureReason, store::SlotRule,
    Authenticator, Credentials, HashPolicy, LockoutPolicy, NewUser, PoolConfig, Rejection,
    Requirements, User, UserAdmin, UserStore,
};

/// A rule that always grants: plain failure counting.
const UNLIMITED: SlotRule = SlotRule::new(u32::MAX, None);

/// One wrong password, counted without a limit.
async fn fail<S: UserStore>(store: &S, login: &str, now: SystemTime) -> Option<u32> {
    store
        .reserve_failure_slot(login, UNLIMITED, now)
        .await
        .expect("reserve_failure_slot")
}

/// `contract_tests!(open)` defines one test per contract case. `open(name)` is an async fn
/// returning `Option<(store, guard)>`: `None` skips the case (the opener says why), and the guard
/// is dropped when the case ends (removing its database).
macro_rules! contract_tests {
    ($open:path) => {
        $crate::contract::contract_tests!(@cases $open;
            lookup_returns_the_stored_fields,
            unknown_users_are_not_found,
            emails_are_case_insensitive_and_kept_as_given,
            gates_are_stored_as_data,
            failures_count_across_the_threshold,
            concurrent_failures_are_all_counted,
            reservations_stop_at_the_limit_and_rearm_after_expiry,
            concurrent_reservations_grant_exactly_the_limit,
            a_rule_granting_nothing_writes_nothing,
            success_resets_failures_and_sets_last_login,
            rehash_is_conditional,
            rehash_never_overwrites_a_password_changed_meanwhile,
            create_refuses_duplicates_and_invalid_input,
            set_password_hash_replaces_and_clears_failures,
            enable_disable_and_confirm,
            unlock_clears_failures,
            remove_user_deletes,
            get_and_list_users,
            import_creates_every_user_with_its_fields,
            import_with_an_invalid_entry_writes_nothing,
            import_clashing_with_an_existing_user_writes_nothing,
            import_with_an_email_twice_writes_nothing,
            authenticator_login_success_and_wrong_password,
            authenticator_gates,
            authenticator_lockout_and_unlock,
            authenticator_upgrades_bcrypt_to_argon2id,
            authenticator_sees_a_password_change_on_the_next_request,
        );
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $open(stringify!($case)).await else {
                    return;
                };
                $crate::contract::$case(store).await;
            }
        )*
    };
}
pub(crate) use contract_tests;

/// `1_700_000_000 + secs` seconds after the epoch.
pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// Cheap argon2id parameters: the tests hash and verify a lot.
pub(crate) fn policy() -> HashPolicy {
    HashPolicy::argon2id(64, 1, 1).expect("valid argon2 parameters")
}

pub(crate) fn hash(password: &str) -> String {
    policy().hash(password).expect("hashing works")
}

pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

async fn create<S: UserAdmin>(store: &S, user: NewUser) -> User {
    store.create_user(user).await.expect("create_user")
}

async fn record<S: UserStore<User = User>>(
    store: &S,
    email: &str,
) -> endpoint_auth::UserRecord<User> {
    store
        .find_user(email)
        .await
        .expect("find_user")
        .unwrap_or_else(|| panic!("{email} not found"))
}

async fn stored_hash<S: UserStore<User = User>>(store: &S, email: &str) -> Option<String> {
    record(store, email).await.password_hash
}

// ---------------------------------------------------------------------------------------------
// UserStore

pub(crate) async fn lookup_returns_the_stored_fields<S: UserAdmin + Clone>(store: S) {
    let hash = hash(PASSWORD);
    let created = create(
        &store,
        NewUser::new("alice@example.com", Some(hash.clone()))
            .confirmed_email(false)
            .signed_up(at(0)),
    )
    .await;
    assert_eq!(created.email, "alice@example.com");
    assert_eq!(created.signed_up, at(0));
    assert!(created.enabled);
    assert!(!created.confirmed_email);
    assert_eq!(created.last_login, None);
    assert_eq!(created.n_password_failures, 0);

    let found = record(&store, "alice@example.com").await;
    assert_eq!(found.user, created);
    assert_eq!(found.login, "alice@example.com");
    assert_eq!(found.password_hash.as_deref(), Some(hash.as_str()));
    assert!(found.enabled);
    assert!(!found.confirmed_email);
    assert_eq!(found.n_password_failures, 0);
    assert_eq!(found.last_failure, None);
    assert_eq!(found.last_login, None);

    let without_password = create(&store, NewUser::new("nopass@example.com", None)).await;
    assert_ne!(without_password.id, created.id);
    assert_eq!(stored_hash(&store, "nopass@example.com").await, None);
}

pub(crate) async fn unknown_users_are_not_found<S: UserAdmin + Clone>(store: S) {
    assert!(store
        .find_user("nobody@example.com")
        .await
        .unwrap()
        .is_none());
    create(&store, NewUser::new("alice@example.com", Some(hash("pw")))).await;
    for other in [
        "bob@example.com",
        "alice@example.co",
        "alice",
        "",
        "%",
        "_lice@example.com",
    ] {
        assert!(
            store.find_user(other).await.unwrap().is_none(),
            "{other:?} must not match"
        );
    }
}

pub(crate) async fn emails_are_case_insensitive_and_kept_as_given<S: UserAdmin + Clone>(store: S) {
    create(
        &store,
        NewUser::new("Alice.Smith@Example.COM", Some(hash("pw"))),
    )
    .await;
    create(&store, NewUser::new("Éva@Exemple.fr", Some(hash("pw")))).await;
    for variant in [
        "Alice.Smith@Example.COM",
        "alice.smith@example.com",
        "ALICE.SMITH@EXAMPLE.COM",
        "  alice.smith@example.com ",
    ] {
        let found = record(&store, variant).await;
        assert_eq!(found.user.email, "Alice.Smith@Example.COM", "{variant:?}");
        assert_eq!(found.login, "Alice.Smith@Example.COM");
    }
    // Beyond ASCII, which SQLite's lower() does not fold.
    assert_eq!(
        record(&store, "éva@exemple.fr").await.user.email,
        "Éva@Exemple.fr"
    );
    assert_eq!(
        record(&store, "ÉVA@EXEMPLE.FR").await.user.email,
        "Éva@Exemple.fr"
    );
    // A decomposed spelling (e + U+0301) is the same address, as parsed logins are NFC.
    assert_eq!(
        record(&store, "e\u{301}va@exemple.fr").await.user.email,
        "Éva@Exemple.fr"
    );
    let decomposed = store
        .create_user(NewUser::new("E\u{301}va@exemple.fr", Some(hash("pw"))))
        .await
        .unwrap_err();
    assert!(
        matches!(decomposed, AdminError::DuplicateUser(_)),
        "{decomposed}"
    );
    let duplicate = store
        .create_user(NewUser::new("éVA@exemple.FR", Some(hash("pw"))))
        .await
        .unwrap_err();
    assert!(
        matches!(duplicate, AdminError::DuplicateUser(_)),
        "{duplicate}"
    );
    // The login handed back to record_* works in any case too.
    assert_eq!(
        fail(&store, "ALICE.smith@example.com", at(1)).await,
        Some(1)
    );
    assert_eq!(
        record(&store, "alice.smith@example.com")
            .await
            .n_password_failures,
        1
    );
}

pub(crate) async fn gates_are_stored_as_data<S: UserAdmin + Clone>(store: S) {
    let mut imported = NewUser::new("failing@example.com", Some(hash("pw")));
    imported.n_password_failures = 7;
    imported.last_login = Some(at(50));
    store
        .import_users(vec![
            NewUser::new("disabled@example.com", Some(hash("pw"))).enabled(false),
            NewUser::new("unconfirmed@example.com", Some(hash("pw"))).confirmed_email(false),
            imported,
        ])
        .await
        .unwrap();

    let disabled = record(&store, "disabled@example.com").await;
    assert!(!disabled.enabled && !disabled.user.enabled);
    assert!(disabled.confirmed_email);

    let unconfirmed = record(&store, "unconfirmed@example.com").await;
    assert!(unconfirmed.enabled);
    assert!(!unconfirmed.confirmed_email && !unconfirmed.user.confirmed_email);

    let failing = record(&store, "failing@example.com").await;
    assert_eq!(failing.n_password_failures, 7);
    assert_eq!(failing.user.n_password_failures, 7);
    assert_eq!(failing.last_failure, None);
    assert_eq!(failing.last_login, Some(at(50)));
    assert_eq!(failing.user.last_login, Some(at(50)));
}

pub(crate) async fn failures_count_across_the_threshold<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("bob@example.com", Some(hash("pw")))).await;
    let login = record(&store, "bob@example.com").await.login;
    for n in 1..=12u32 {
        assert_eq!(fail(&store, &login, at(u64::from(n))).await, Some(n));
    }
    let after = record(&store, "bob@example.com").await;
    assert_eq!(after.n_password_failures, 12);
    assert_eq!(after.user.n_password_failures, 12);
    assert_eq!(after.last_failure, Some(at(12)));
    // The lockout arithmetic on what the store returns.
    let lockout = LockoutPolicy::new().max_failures(10);
    assert!(lockout
        .locked_until(after.n_password_failures, after.last_failure, at(13))
        .is_some());
    // A user removed meanwhile: nothing to count.
    assert_eq!(fail(&store, "ghost@example.com", at(20)).await, None);
}

pub(crate) async fn concurrent_failures_are_all_counted<S: UserAdmin + Clone>(store: S) {
    reservations_through_stores_are_exact(&[store], 40, UNLIMITED).await;
}

pub(crate) async fn reservations_stop_at_the_limit_and_rearm_after_expiry<S: UserAdmin + Clone>(
    store: S,
) {
    create(
        &store,
        NewUser::new("mallory@example.com", Some(hash("pw"))),
    )
    .await;
    let policy = LockoutPolicy::new()
        .max_failures(3)
        .duration(LockDuration::For(Duration::from_secs(60)));
    let reserve = |now: SystemTime| {
        let store = store.clone();
        async move {
            store
                .reserve_failure_slot("mallory@example.com", policy.slot_rule(now), now)
                .await
                .unwrap()
        }
    };
    assert_eq!(reserve(at(1)).await, Some(1));
    assert_eq!(reserve(at(2)).await, Some(2));
    assert_eq!(reserve(at(3)).await, Some(3));
    // Locked: refused, and the refusal writes nothing (the lock still runs from at(3)).
    assert_eq!(reserve(at(4)).await, None);
    assert_eq!(reserve(at(62)).await, None);
    let locked = record(&store, "mallory@example.com").await;
    assert_eq!(
        (locked.n_password_failures, locked.last_failure),
        (3, Some(at(3)))
    );
    // Expired: exactly one slot, which locks the account again at once.
    assert_eq!(reserve(at(63)).await, Some(4));
    assert_eq!(reserve(at(63)).await, None);
    assert_eq!(reserve(at(122)).await, None);
    assert_eq!(reserve(at(123)).await, Some(5));
    // A lock that never expires.
    let forever = policy.duration(LockDuration::UntilReset);
    assert_eq!(
        store
            .reserve_failure_slot(
                "mallory@example.com",
                forever.slot_rule(at(10_000)),
                at(10_000)
            )
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn concurrent_reservations_grant_exactly_the_limit<S: UserAdmin + Clone>(
    store: S,
) {
    let rule = LockoutPolicy::new().max_failures(10).slot_rule(at(1_000));
    reservations_through_stores_are_exact(&[store], 64, rule).await;
}

pub(crate) async fn a_rule_granting_nothing_writes_nothing<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("quiet@example.com", Some(hash("pw")))).await;
    for login in ["quiet@example.com", "nobody@example.com"] {
        let granted = store
            .reserve_failure_slot(login, SlotRule::NONE, at(5))
            .await
            .unwrap();
        assert_eq!(granted, None, "{login}");
    }
    let quiet = record(&store, "quiet@example.com").await;
    assert_eq!((quiet.n_password_failures, quiet.last_failure), (0, None));
}

/// `tasks_per_store` concurrent reservations for one user through each of `stores` (handles on
/// one database: clones, or separate pools), under `rule` (whose limit is read at count 0):
/// exactly `min(total, limit)` are granted, each count once, and the store holds that count.
pub(crate) async fn reservations_through_stores_are_exact<S: UserAdmin + Clone>(
    stores: &[S],
    tasks_per_store: u32,
    rule: SlotRule,
) {
    create(
        &stores[0],
        NewUser::new("target@example.com", Some(hash("pw"))),
    )
    .await;
    let total = tasks_per_store * stores.len() as u32;
    let tasks: Vec<_> = (0..total)
        .map(|i| {
            let store = stores[i as usize % stores.len()].clone();
            tokio::spawn(async move {
                store
                    .reserve_failure_slot("target@example.com", rule, at(900 + u64::from(i)))
                    .await
                    .expect("reserve_failure_slot")
            })
        })
        .collect();
    let mut granted = Vec::new();
    for task in tasks {
        granted.extend(task.await.expect("task"));
    }
    granted.sort_unstable();
    let expected = total.min(rule.max_failures());
    assert_eq!(
        granted,
        (1..=expected).collect::<Vec<_>>(),
        "exactly the limit granted, each count once"
    );
    for store in stores {
        assert_eq!(
            record(store, "target@example.com")
                .await
                .n_password_failures,
            expected
        );
    }
}

/// Finds hammering `reader` from 32 tasks while `writer` (another instance on the same
/// database: its own pool, as another process or the CLI has) changes the account; each change,
/// once committed, is seen by the very next `find_user` through `reader`. Returns how many
/// background finds ran, so callers can check the load was real.
pub(crate) async fn changes_elsewhere_are_seen_by_the_next_find<S: UserAdmin + Clone>(
    reader: S,
    writer: S,
) -> u64 {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    const EMAIL: &str = "fresh@example.com";
    create(&writer, NewUser::new(EMAIL, Some(hash("first")))).await;
    create(&writer, NewUser::new("other@example.com", None)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let finds = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..32)
        .map(|i| {
            let (reader, stop, finds) = (reader.clone(), stop.clone(), finds.clone());
            tokio::spawn(async move {
                let login = if i % 2 == 0 {
                    EMAIL
                } else {
                    "other@example.com"
                };
                while !stop.load(Ordering::Relaxed) {
                    reader.find_user(login).await.expect("find_user under load");
                    finds.fetch_add(1, Ordering::Relaxed);
                    // A store that answers without waiting would otherwise hold the thread.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    // Let the load build up, so that reads are in flight when each change commits.
    tokio::time::sleep(Duration::from_millis(100)).await;

    for round in 0..20 {
        writer.set_enabled(EMAIL, false).await.unwrap();
        assert!(
            !record(&reader, EMAIL).await.enabled,
            "disable, round {round}"
        );
        writer.set_enabled(EMAIL, true).await.unwrap();
        assert!(
            record(&reader, EMAIL).await.enabled,
            "enable, round {round}"
        );

        let new_hash = if round % 2 == 0 {
            hash("second")
        } else {
            hash("first")
        };
        writer.set_password_hash(EMAIL, &new_hash).await.unwrap();
        assert_eq!(
            stored_hash(&reader, EMAIL).await.as_deref(),
            Some(new_hash.as_str()),
            "password change, round {round}"
        );

        // Lock (failures recorded elsewhere), then unlock.
        for _ in 0..3 {
            fail(&writer, EMAIL, at(round)).await;
        }
        assert_eq!(
            record(&reader, EMAIL).await.n_password_failures,
            3,
            "lock, round {round}"
        );
        writer.unlock(EMAIL).await.unwrap();
        assert_eq!(
            record(&reader, EMAIL).await.n_password_failures,
            0,
            "unlock, round {round}"
        );
    }
    writer.remove_user(EMAIL).await.unwrap();
    assert!(reader.find_user(EMAIL).await.unwrap().is_none(), "removal");
    create(&writer, NewUser::new(EMAIL, None)).await;
    assert!(reader.find_user(EMAIL).await.unwrap().is_some(), "creation");

    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("load task");
    }
    finds.load(Ordering::Relaxed)
}

pub(crate) async fn success_resets_failures_and_sets_last_login<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("carol@example.com", Some(hash("pw")))).await;
    for n in 1..=3 {
        fail(&store, "carol@example.com", at(n)).await;
    }
    store
        .record_success("carol@example.com", at(100))
        .await
        .unwrap();
    let after = record(&store, "carol@example.com").await;
    assert_eq!(after.n_password_failures, 0);
    assert_eq!(after.last_login, Some(at(100)));
    assert_eq!(after.user.last_login, Some(at(100)));
    assert_eq!(
        store
            .get_user("carol@example.com")
            .await
            .unwrap()
            .last_login,
        Some(at(100))
    );
    // Unknown users: nothing to record, no error.
    store
        .record_success("ghost@example.com", at(101))
        .await
        .unwrap();
}

pub(crate) async fn rehash_is_conditional<S: UserAdmin + Clone>(store: S) {
    let (h1, h2, h3) = (hash("pw"), hash("pw"), hash("pw"));
    create(&store, NewUser::new("dave@example.com", Some(h1.clone()))).await;
    let login = record(&store, "dave@example.com").await.login;
    assert!(store.replace_password_hash(&login, &h1, &h2).await.unwrap());
    assert_eq!(stored_hash(&store, &login).await, Some(h2.clone()));
    // h1 is no longer the stored hash: nothing happens.
    assert!(!store.replace_password_hash(&login, &h1, &h3).await.unwrap());
    assert_eq!(stored_hash(&store, &login).await, Some(h2));
    assert!(!store
        .replace_password_hash("ghost@example.com", &h1, &h3)
        .await
        .unwrap());
}

pub(crate) async fn rehash_never_overwrites_a_password_changed_meanwhile<S: UserAdmin + Clone>(
    store: S,
) {
    let old = bcrypt::hash("old password", 4).unwrap();
    create(&store, NewUser::new("erin@example.com", Some(old.clone()))).await;
    // A login verified `old` and wants to upgrade it...
    let seen = record(&store, "erin@example.com").await;
    // ...while an administrator sets a new password...
    let admin = hash("new password");
    store
        .set_password_hash("erin@example.com", &admin)
        .await
        .unwrap();
    // ...so the upgrade of the old one must not land.
    let upgrade = hash("old password");
    assert!(!store
        .replace_password_hash(
            &seen.login,
            seen.password_hash.as_deref().unwrap(),
            &upgrade
        )
        .await
        .unwrap());
    assert_eq!(stored_hash(&store, "erin@example.com").await, Some(admin));
}

// ---------------------------------------------------------------------------------------------
// UserAdmin

pub(crate) async fn create_refuses_duplicates_and_invalid_input<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("frank@example.com", Some(hash("pw")))).await;
    let duplicate = store
        .create_user(NewUser::new("FRANK@example.com", Some(hash("pw"))))
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate, AdminError::DuplicateUser(email) if email == "FRANK@example.com"),
        "{duplicate}"
    );
    for email in [
        "",
        " padded@example.com",
        "colon:user@example.com",
        "ctl\u{7}@example.com",
    ] {
        let refused = store
            .create_user(NewUser::new(email, Some(hash("pw"))))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, AdminError::InvalidEmail(_)),
            "{email:?}: {refused}"
        );
    }
    for bad_hash in [
        "$apr1$abcdefgh$0123456789abcdefghijkl",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
        "plain text password",
        "$2b$10$short",
    ] {
        let refused = store
            .create_user(NewUser::new("grace@example.com", Some(bad_hash.to_owned())))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, AdminError::InvalidHash { email, .. } if email == "grace@example.com"),
            "{bad_hash}: {refused}"
        );
        assert!(
            !refused.to_string().contains(bad_hash),
            "the message must not echo the hash"
        );
    }
    let users = store.list_users().await.unwrap();
    assert_eq!(users.len(), 1, "nothing refused was written: {users:?}");
    assert!(store
        .find_user("grace@example.com")
        .await
        .unwrap()
        .is_none());
}

pub(crate) async fn set_password_hash_replaces_and_clears_failures<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("heidi@example.com", Some(hash("old")))).await;
    for n in 1..=4 {
        fail(&store, "heidi@example.com", at(n)).await;
    }
    let new = hash("new");
    store
        .set_password_hash("HEIDI@example.com", &new)
        .await
        .unwrap();
    let after = record(&store, "heidi@example.com").await;
    assert_eq!(after.password_hash.as_deref(), Some(new.as_str()));
    assert_eq!(after.n_password_failures, 0);
    assert_eq!(after.last_failure, None);

    let refused = store
        .set_password_hash("heidi@example.com", "$apr1$abcdefgh$0123456789abcdefghijkl")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AdminError::InvalidHash { .. }),
        "{refused}"
    );
    assert_eq!(
        stored_hash(&store, "heidi@example.com").await,
        Some(new.clone())
    );

    let bcrypt_hash = bcrypt::hash("pw", 4).unwrap();
    store
        .set_password_hash("heidi@example.com", &bcrypt_hash)
        .await
        .unwrap();
    assert_eq!(
        stored_hash(&store, "heidi@example.com").await,
        Some(bcrypt_hash)
    );

    let unknown = store
        .set_password_hash("ghost@example.com", &new)
        .await
        .unwrap_err();
    assert!(matches!(unknown, AdminError::UnknownUser(_)), "{unknown}");
}

pub(crate) async fn enable_disable_and_confirm<S: UserAdmin + Clone>(store: S) {
    create(
        &store,
        NewUser::new("ivan@example.com", Some(hash("pw"))).confirmed_email(false),
    )
    .await;
    store.set_enabled("Ivan@Example.com", false).await.unwrap();
    assert!(!record(&store, "ivan@example.com").await.enabled);
    assert!(!store.get_user("ivan@example.com").await.unwrap().enabled);
    store.set_enabled("ivan@example.com", true).await.unwrap();
    assert!(record(&store, "ivan@example.com").await.enabled);

    store
        .set_confirmed_email("IVAN@example.com", true)
        .await
        .unwrap();
    assert!(record(&store, "ivan@example.com").await.confirmed_email);
    assert!(
        store
            .get_user("ivan@example.com")
            .await
            .unwrap()
            .confirmed_email
    );
    store
        .set_confirmed_email("ivan@example.com", false)
        .await
        .unwrap();
    assert!(!record(&store, "ivan@example.com").await.confirmed_email);

    let unknown = store
        .set_enabled("ghost@example.com", true)
        .await
        .unwrap_err();
    assert!(matches!(unknown, AdminError::UnknownUser(_)), "{unknown}");
    let unknown = store
        .set_confirmed_email("ghost@example.com", true)
        .await
        .unwrap_err();
    assert!(matches!(unknown, AdminError::UnknownUser(_)), "{unknown}");
}

pub(crate) async fn unlock_clears_failures<S: UserAdmin + Clone>(store: S) {
    create(&store, NewUser::new("judy@example.com", Some(hash("pw")))).await;
    for n in 1..=10 {
        fail(&store, "judy@example.com", at(n)).await;
    }
    store.unlock("JUDY@example.com").await.unwrap();
    let after = record(&store, "judy@example.com").await;
    assert_eq!(after.n_password_failures, 0);
    assert_eq!(after.last_failure, None);
    let unknown = store.unlock("ghost@example.com").await.unwrap_err();
    assert!(matches!(unknown, AdminError::UnknownUser(_)), "{unknown}");
}

pub(crate) async fn remove_user_deletes<S: UserAdmin + Clone>(store: S) {
    let first = create(&store, NewUser::new("ken@example.com", Some(hash("pw")))).await;
    create(&store, NewUser::new("keep@example.com", Some(hash("pw")))).await;
    store.remove_user("KEN@example.com").await.unwrap();
    assert!(store.find_user("ken@example.com").await.unwrap().is_none());
    let gone = store.get_user("ken@example.com").await.unwrap_err();
    assert!(matches!(gone, AdminError::UnknownUser(_)), "{gone}");
    let again = store.remove_user("ken@example.com").await.unwrap_err();
    assert!(matches!(again, AdminError::UnknownUser(_)), "{again}");
    assert!(store.find_user("keep@example.com").await.unwrap().is_some());
    // The email is free again; the new account is a new row.
    let second = create(&store, NewUser::new("ken@example.com", Some(hash("pw")))).await;
    assert_ne!(second.id, first.id);
}

pub(crate) async fn get_and_list_users<S: UserAdmin + Clone>(store: S) {
    assert!(store.list_users().await.unwrap().is_empty());
    let a = create(
        &store,
        NewUser::new("b-second@example.com", None).signed_up(at(1)),
    )
    .await;
    let b = create(
        &store,
        NewUser::new("A-first@example.com", None).signed_up(at(2)),
    )
    .await;
    let c = create(
        &store,
        NewUser::new("c-third@example.com", None).signed_up(at(3)),
    )
    .await;
    let listed = store.list_users().await.unwrap();
    assert_eq!(listed, vec![a.clone(), b.clone(), c], "ordered by id");
    assert!(listed.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(store.get_user("a-FIRST@example.com").await.unwrap(), b);
    assert_eq!(store.get_user(" b-second@example.com ").await.unwrap(), a);
    let unknown = store.get_user("ghost@example.com").await.unwrap_err();
    assert!(matches!(unknown, AdminError::UnknownUser(_)), "{unknown}");
    let empty = store.get_user("").await.unwrap_err();
    assert!(matches!(empty, AdminError::InvalidEmail(_)), "{empty}");
}

pub(crate) async fn import_creates_every_user_with_its_fields<S: UserAdmin + Clone>(store: S) {
    let mut carried = NewUser::new("imported@example.com", Some(bcrypt::hash("pw", 4).unwrap()))
        .enabled(false)
        .confirmed_email(false)
        .signed_up(at(10));
    carried.last_login = Some(at(20));
    carried.n_password_failures = 3;
    let count = store
        .import_users(vec![
            carried,
            NewUser::new("second@example.com", Some(hash("pw"))).signed_up(at(11)),
            NewUser::new("third@example.com", None).signed_up(at(12)),
        ])
        .await
        .unwrap();
    assert_eq!(count, 3);
    let users = store.list_users().await.unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "imported@example.com",
            "second@example.com",
            "third@example.com"
        ],
        "in batch order"
    );
    let imported = &users[0];
    assert!(!imported.enabled && !imported.confirmed_email);
    assert_eq!(imported.signed_up, at(10));
    assert_eq!(imported.last_login, Some(at(20)));
    assert_eq!(imported.n_password_failures, 3);
    assert!(stored_hash(&store, "imported@example.com")
        .await
        .unwrap()
        .starts_with("$2b$"));
    assert_eq!(store.import_users(Vec::new()).await.unwrap(), 0);
}

pub(crate) async fn import_with_an_invalid_entry_writes_nothing<S: UserAdmin + Clone>(store: S) {
    let refused = store
        .import_users(vec![
            NewUser::new("ok1@example.com", Some(hash("pw"))),
            NewUser::new(
                "bad@example.com",
                Some("$apr1$abcdefgh$0123456789abcdefghijkl".into()),
            ),
            NewUser::new("ok2@example.com", Some(hash("pw"))),
        ])
        .await
        .unwrap_err();
    let AdminError::ImportRefused { problems } = &refused else {
        panic!("expected ImportRefused, got {refused}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("entry 2:"), "{problems:?}");
    assert!(problems[0].contains("bad@example.com"), "{problems:?}");
    assert!(
        store.list_users().await.unwrap().is_empty(),
        "nothing written"
    );
}

pub(crate) async fn import_clashing_with_an_existing_user_writes_nothing<S: UserAdmin + Clone>(
    store: S,
) {
    create(
        &store,
        NewUser::new("Existing@example.com", Some(hash("pw"))),
    )
    .await;
    create(&store, NewUser::new("other@example.com", Some(hash("pw")))).await;
    let refused = store
        .import_users(vec![
            NewUser::new("new1@example.com", Some(hash("pw"))),
            NewUser::new("EXISTING@example.com", Some(hash("pw"))),
            NewUser::new("new2@example.com", Some(hash("pw"))),
            NewUser::new("Other@Example.com", None),
        ])
        .await
        .unwrap_err();
    let AdminError::ImportRefused { problems } = &refused else {
        panic!("expected ImportRefused, got {refused}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("entry 2:"), "{problems:?}");
    assert!(problems[0].contains("EXISTING@example.com"), "{problems:?}");
    assert!(problems[1].starts_with("entry 4:"), "{problems:?}");
    let emails: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(
        emails,
        ["Existing@example.com", "other@example.com"],
        "nothing written"
    );
    // The existing user is untouched and the new ones can still come in.
    assert_eq!(
        store
            .import_users(vec![
                NewUser::new("new1@example.com", Some(hash("pw"))),
                NewUser::new("new2@example.com", Some(hash("pw"))),
            ])
            .await
            .unwrap(),
        2
    );
}

pub(crate) async fn import_with_an_email_twice_writes_nothing<S: UserAdmin + Clone>(store: S) {
    let refused = store
        .import_users(vec![
            NewUser::new("twice@example.com", Some(hash("pw"))),
            NewUser::new("TWICE@example.com", Some(hash("pw"))),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AdminError::ImportRefused { .. }),
        "{refused}"
    );
    assert!(store.list_users().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// The real core Authenticator over the store

pub(crate) fn authenticator<S: UserStore<User = User>>(
    store: S,
    lockout: LockoutPolicy,
) -> Authenticator<User> {
    Authenticator::builder(store)
        .realm("contract")
        .hash_policy(policy())
        .pool(PoolConfig::new().workers(1))
        .lockout(lockout)
        .build()
        .expect("authenticator")
}

pub(crate) async fn login(
    auth: &Authenticator<User>,
    username: &str,
    password: &str,
    requirements: Requirements,
) -> Result<User, Rejection> {
    let header = Credentials::new(username, password)
        .expect("valid credentials")
        .to_header_value();
    auth.authenticate_user(
        [header.as_bytes()],
        endpoint_auth::ClientAddress::UNKNOWN,
        requirements,
    )
    .await
}

/// The user, or a panic saying what came instead.
#[track_caller]
pub(crate) fn expect_user(outcome: Result<User, Rejection>) -> User {
    match outcome {
        Ok(user) => user,
        other => panic!("expected a user, got {other:?}"),
    }
}

/// The 401's reason, or a panic.
#[track_caller]
pub(crate) fn expect_401(outcome: Result<User, Rejection>) -> FailureReason {
    match outcome {
        Err(rejection) if rejection.status() == 401 => rejection
            .failure_reason()
            .cloned()
            .expect("a 401 has a reason"),
        other => panic!("expected a 401, got {other:?}"),
    }
}

pub(crate) async fn authenticator_login_success_and_wrong_password<S: UserAdmin + Clone>(store: S) {
    create(
        &store,
        NewUser::new("user123@gmail.com", Some(hash(PASSWORD))),
    )
    .await;
    let auth = authenticator(store.clone(), LockoutPolicy::new());

    let user = expect_user(login(&auth, "user123@gmail.com", PASSWORD, Requirements::new()).await);
    assert_eq!(user.email, "user123@gmail.com");
    let logged_in = store.get_user("user123@gmail.com").await.unwrap();
    assert!(logged_in.last_login.is_some(), "success records last_login");

    let reason = expect_401(login(&auth, "user123@gmail.com", "wrong", Requirements::new()).await);
    assert!(matches!(reason, FailureReason::WrongPassword), "{reason:?}");
    assert_eq!(
        record(&store, "user123@gmail.com")
            .await
            .n_password_failures,
        1
    );

    let reason = expect_401(login(&auth, "nobody@gmail.com", PASSWORD, Requirements::new()).await);
    assert!(matches!(reason, FailureReason::UnknownUser), "{reason:?}");

    // Case-insensitive login, and the success resets the count.
    expect_user(login(&auth, "USER123@gmail.com", PASSWORD, Requirements::new()).await);
    assert_eq!(
        record(&store, "user123@gmail.com")
            .await
            .n_password_failures,
        0
    );
}

pub(crate) async fn authenticator_gates<S: UserAdmin + Clone>(store: S) {
    create(
        &store,
        NewUser::new("disabled@example.com", Some(hash(PASSWORD))).enabled(false),
    )
    .await;
    create(
        &store,
        NewUser::new("unconfirmed@example.com", Some(hash(PASSWORD))).confirmed_email(false),
    )
    .await;
    create(&store, NewUser::new("nopassword@example.com", None)).await;
    let auth = authenticator(store.clone(), LockoutPolicy::new());
    let confirmed = Requirements::new().confirmed_email(true);

    let reason =
        expect_401(login(&auth, "disabled@example.com", PASSWORD, Requirements::new()).await);
    assert!(matches!(reason, FailureReason::Disabled), "{reason:?}");
    let reason = expect_401(login(&auth, "unconfirmed@example.com", PASSWORD, confirmed).await);
    assert!(
        matches!(reason, FailureReason::EmailNotConfirmed),
        "{reason:?}"
    );
    expect_user(
        login(
            &auth,
            "unconfirmed@example.com",
            PASSWORD,
            Requirements::new(),
        )
        .await,
    );
    let reason = expect_401(login(&auth, "nopassword@example.com", "", Requirements::new()).await);
    assert!(matches!(reason, FailureReason::NoPassword), "{reason:?}");

    // Flags changed by an administrator apply to the very next request.
    store
        .set_enabled("disabled@example.com", true)
        .await
        .unwrap();
    expect_user(login(&auth, "disabled@example.com", PASSWORD, Requirements::new()).await);
    store
        .set_confirmed_email("unconfirmed@example.com", true)
        .await
        .unwrap();
    expect_user(login(&auth, "unconfirmed@example.com", PASSWORD, confirmed).await);
    store
        .set_enabled("disabled@example.com", false)
        .await
        .unwrap();
    expect_401(login(&auth, "disabled@example.com", PASSWORD, Requirements::new()).await);
}

pub(crate) async fn authenticator_lockout_and_unlock<S: UserAdmin + Clone>(store: S) {
    create(
        &store,
        NewUser::new("mallory@example.com", Some(hash(PASSWORD))),
    )
    .await;
    let lockout = LockoutPolicy::new()
        .max_failures(3)
        .duration(LockDuration::For(Duration::from_secs(900)));
    let auth = authenticator(store.clone(), lockout);
    for _ in 0..3 {
        let reason =
            expect_401(login(&auth, "mallory@example.com", "guess", Requirements::new()).await);
        assert!(matches!(reason, FailureReason::WrongPassword), "{reason:?}");
    }
    let locked = record(&store, "mallory@example.com").await;
    assert_eq!(locked.n_password_failures, 3);
    assert!(locked.last_failure.is_some());
    // Locked: even the right password is refused.
    let reason =
        expect_401(login(&auth, "mallory@example.com", PASSWORD, Requirements::new()).await);
    assert!(matches!(reason, FailureReason::LockedOut(_)), "{reason:?}");
    // An administrator unlocks.
    store.unlock("mallory@example.com").await.unwrap();
    expect_user(login(&auth, "mallory@example.com", PASSWORD, Requirements::new()).await);
    assert_eq!(
        record(&store, "mallory@example.com")
            .await
            .n_password_failures,
        0
    );
}

pub(crate) async fn authenticator_upgrades_bcrypt_to_argon2id<S: UserAdmin + Clone>(store: S) {
    let bcrypt_hash = bcrypt::hash(PASSWORD, 4).unwrap();
    create(
        &store,
        NewUser::new("legacy@example.com", Some(bcrypt_hash.clone())),
    )
    .await;
    let auth = authenticator(store.clone(), LockoutPolicy::new());
    expect_user(login(&auth, "legacy@example.com", PASSWORD, Requirements::new()).await);
    let upgraded = stored_hash(&store, "legacy@example.com").await.unwrap();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
        "upgraded to the policy's argon2id"
    );
    assert_ne!(upgraded, bcrypt_hash);
    expect_user(login(&auth, "legacy@example.com", PASSWORD, Requirements::new()).await);
    expect_401(login(&auth, "legacy@example.com", "wrong", Requirements::new()).await);
    assert_eq!(
        stored_hash(&store, "legacy@example.com").await.unwrap(),
        upgraded
    );
}

pub(crate) async fn authenticator_sees_a_password_change_on_the_next_request<
    S: UserAdmin + Clone,
>(
    store: S,
) {
    create(
        &store,
        NewUser::new("oscar@example.com", Some(hash("first password"))),
    )
    .await;
    let auth = authenticator(store.clone(), LockoutPolicy::new());
    // Twice: the second is answered from the verification cache.
    expect_user(
        login(
            &auth,
            "oscar@example.com",
            "first password",
            Requirements::new(),
        )
        .await,
    );
    expect_user(
        login(
            &auth,
            "oscar@example.com",
            "first password",
            Requirements::new(),
        )
        .await,
    );
    store
        .set_password_hash("oscar@example.com", &hash("second password"))
        .await
        .unwrap();
    expect_401(
        login(
            &auth,
            "oscar@example.com",
            "first password",
            Requirements::new(),
        )
        .await,
    );
    expect_user(
        login(
            &auth,
            "oscar@example.com",
            "second password",
            Requirements::new(),
        )
        .await,
    );
}
