//! [`MemoryStore`]: the users store for tests and small fixed user sets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use crate::admin::{
    validate_email, validate_import, validate_new_user, AdminError, AdminFuture, NewUser, UserAdmin,
};
use crate::store::{SlotRule, StoreFuture, UserStore};
use crate::user::{User, UserRecord};

#[derive(Clone)]
struct Row {
    user: User,
    password_hash: Option<String>,
    last_failure: Option<SystemTime>,
}

#[derive(Default)]
struct Table {
    next_id: i64,
    /// Keyed by the lower-cased email.
    rows: BTreeMap<String, Row>,
}

/// An in-memory users table with the same behaviour as the SQL stores: case-insensitive emails,
/// atomic failure counting, conditional hash replacement.
///
/// Cloning gives another handle to the same table.
///
/// ```
/// use endpoint_auth::{HashPolicy, MemoryStore, NewUser};
///
/// let store = MemoryStore::new();
/// let hash = HashPolicy::argon2id(64, 1, 1).unwrap().hash("pw").unwrap();
/// store.insert(NewUser::new("Alice@Example.com", Some(hash))).unwrap();
/// assert_eq!(store.users().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    table: Arc<Mutex<Table>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("users", &self.table().rows.len())
            .finish()
    }
}

fn key(email: &str) -> String {
    crate::store::login_key(email)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a user synchronously (validated as [`UserAdmin::create_user`] does).
    ///
    /// # Errors
    /// [`AdminError::InvalidEmail`], [`AdminError::InvalidHash`] or
    /// [`AdminError::DuplicateUser`].
    pub fn insert(&self, new: NewUser) -> Result<User, AdminError> {
        validate_new_user(&new)?;
        let mut table = self.table();
        Self::insert_into(&mut table, new)
    }

    fn insert_into(table: &mut Table, new: NewUser) -> Result<User, AdminError> {
        let key = key(&new.email);
        if table.rows.contains_key(&key) {
            return Err(AdminError::DuplicateUser(new.email));
        }
        table.next_id += 1;
        let mut user = User::new(
            table.next_id,
            new.email,
            new.signed_up.unwrap_or_else(SystemTime::now),
        );
        user.enabled = new.enabled;
        user.confirmed_email = new.confirmed_email;
        user.last_login = new.last_login;
        user.n_password_failures = new.n_password_failures;
        table.rows.insert(
            key,
            Row {
                user: user.clone(),
                password_hash: new.password_hash,
                last_failure: None,
            },
        );
        Ok(user)
    }

    /// A snapshot of all users, ordered by id.
    pub fn users(&self) -> Vec<User> {
        let mut users: Vec<User> = self
            .table()
            .rows
            .values()
            .map(|row| row.user.clone())
            .collect();
        users.sort_by_key(|user| user.id);
        users
    }

    /// The stored hash of a user, for tests (e.g. to see a bcrypt hash upgraded).
    pub fn password_hash(&self, email: &str) -> Option<String> {
        self.table()
            .rows
            .get(&key(email))
            .and_then(|row| row.password_hash.clone())
    }

    /// Adds all of `users`, or none when one is invalid or already exists.
    fn import(&self, users: Vec<NewUser>) -> Result<usize, AdminError> {
        validate_import(&users)?;
        let mut table = self.table();
        let clashes: Vec<String> = users
            .iter()
            .enumerate()
            .filter(|(_, user)| table.rows.contains_key(&key(&user.email)))
            .map(|(index, user)| {
                format!(
                    "entry {}: a user with email {:?} already exists",
                    index + 1,
                    user.email
                )
            })
            .collect();
        if !clashes.is_empty() {
            return Err(AdminError::ImportRefused { problems: clashes });
        }
        let count = users.len();
        for user in users {
            Self::insert_into(&mut table, user)?;
        }
        Ok(count)
    }

    fn update<T>(&self, email: &str, change: impl FnOnce(&mut Row) -> T) -> Result<T, AdminError> {
        let mut table = self.table();
        let row = table
            .rows
            .get_mut(&key(email))
            .ok_or_else(|| AdminError::UnknownUser(email.to_owned()))?;
        Ok(change(row))
    }
}

impl UserStore for MemoryStore {
    type User = User;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<User>>> {
        let found = self.table().rows.get(&key(username)).map(|row| {
            UserRecord::for_user(
                row.user.clone(),
                row.password_hash.clone(),
                row.last_failure,
            )
        });
        Box::pin(async move { Ok(found) })
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        // Checked and raised under one lock: the atomic step the contract asks for.
        let reserved = {
            let mut table = self.table();
            table.rows.get_mut(&key(login)).and_then(|row| {
                if !rule.grants(row.user.n_password_failures, row.last_failure) {
                    return None;
                }
                row.user.n_password_failures = row.user.n_password_failures.saturating_add(1);
                row.last_failure = Some(now);
                Some(row.user.n_password_failures)
            })
        };
        Box::pin(async move { Ok(reserved) })
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        if let Some(row) = self.table().rows.get_mut(&key(login)) {
            row.user.n_password_failures = 0;
            row.user.last_login = Some(now);
        }
        Box::pin(async move { Ok(()) })
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        let replaced = match self.table().rows.get_mut(&key(login)) {
            Some(row) if row.password_hash.as_deref() == Some(verified_hash) => {
                row.password_hash = Some(new_hash.to_owned());
                true
            }
            _ => false,
        };
        Box::pin(async move { Ok(replaced) })
    }
}

impl UserAdmin for MemoryStore {
    fn create_user<'a>(&'a self, user: NewUser) -> AdminFuture<'a, User> {
        let result = self.insert(user);
        Box::pin(async move { result })
    }

    fn set_password_hash<'a>(&'a self, email: &'a str, hash: &'a str) -> AdminFuture<'a, ()> {
        let result = crate::hash::identify_hash(hash)
            .map_err(|error| AdminError::InvalidHash {
                email: email.to_owned(),
                error,
            })
            .and_then(|_| {
                self.update(email, |row| {
                    row.password_hash = Some(hash.to_owned());
                    row.user.n_password_failures = 0;
                    row.last_failure = None;
                })
            });
        Box::pin(async move { result })
    }

    fn set_enabled<'a>(&'a self, email: &'a str, enabled: bool) -> AdminFuture<'a, ()> {
        let result = self.update(email, |row| row.user.enabled = enabled);
        Box::pin(async move { result })
    }

    fn set_confirmed_email<'a>(&'a self, email: &'a str, confirmed: bool) -> AdminFuture<'a, ()> {
        let result = self.update(email, |row| row.user.confirmed_email = confirmed);
        Box::pin(async move { result })
    }

    fn unlock<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()> {
        let result = self.update(email, |row| {
            row.user.n_password_failures = 0;
            row.last_failure = None;
        });
        Box::pin(async move { result })
    }

    fn remove_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()> {
        let result = self
            .table()
            .rows
            .remove(&key(email))
            .map(drop)
            .ok_or_else(|| AdminError::UnknownUser(email.to_owned()));
        Box::pin(async move { result })
    }

    fn get_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, User> {
        let result =
            validate_email(email.trim()).and_then(|()| self.update(email, |row| row.user.clone()));
        Box::pin(async move { result })
    }

    fn list_users(&self) -> AdminFuture<'_, Vec<User>> {
        let users = self.users();
        Box::pin(async move { Ok(users) })
    }

    fn import_users(&self, users: Vec<NewUser>) -> AdminFuture<'_, usize> {
        let result = self.import(users);
        Box::pin(async move { result })
    }
}
