//! The users store: the one place the core reads and writes account state.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::password::HashError;
use crate::user::{User, UserRecord};

/// A boxed, `Send` future returned by store methods, so stores can be used as trait objects.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The store could not answer. Always a 503 with `Retry-After`, never a 401 (clients would drop
/// good credentials) and never a 200.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or failed (connection refused, pool exhausted, I/O).
    #[error("users store unavailable: {0}")]
    Unavailable(#[source] Arc<dyn StdError + Send + Sync>),
    /// The backend did not answer within its deadline.
    #[error("users store did not answer within {0:?}")]
    Timeout(Duration),
    /// The backend answered with data the store cannot use (a corrupt row, a schema mismatch).
    #[error("users store returned unusable data: {0}")]
    InvalidData(String),
}

impl StoreError {
    /// Wraps any backend error as [`StoreError::Unavailable`].
    pub fn unavailable(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unavailable(Arc::new(error))
    }
}

/// Reads and records account state for the core's `authenticate_users` mode.
///
/// # Contract
/// The core calls, per request: [`find_user`](Self::find_user) once; then, unless a cached
/// verification answers, [`reserve_failure_slot`](Self::reserve_failure_slot) once, before any
/// password is verified; then, after a right password, [`record_success`](Self::record_success)
/// (when there is something to write) and, for an outdated hash,
/// [`replace_password_hash`](Self::replace_password_hash).
///
/// - `find_user` matches the username against the stored login case-insensitively, after trimming
///   surrounding whitespace (the core trims already). `Ok(None)` means no such user.
/// - `reserve_failure_slot` MUST raise the count only where the [`SlotRule`] grants a slot, in one
///   atomic step (one `UPDATE … WHERE … RETURNING` in SQL): however many requests race, on one
///   server instance or on many sharing the database, no more slots are granted than the rule
///   allows, so no more wrong passwords are ever verified than the lockout permits (SPEC §4).
///   The core also calls it for unknown logins and refused accounts with [`SlotRule::NONE`], so
///   that a store whose writes are blocked answers the same for every account; it grants nothing.
/// - `record_success` MUST set the count to 0 (it gives back the slot the verification took).
/// - `replace_password_hash` MUST write only if the stored hash is still `verified_hash`, so a
///   password change made meanwhile is never overwritten.
/// - Errors mean "cannot answer now": the core answers 503, never 401.
pub trait UserStore: Send + Sync + 'static {
    /// What handlers receive for an authenticated request.
    type User: Clone + Send + Sync + 'static;

    /// Looks a user up by the login name from the request.
    fn find_user<'a>(
        &'a self,
        username: &'a str,
    ) -> StoreFuture<'a, Option<UserRecord<Self::User>>>;

    /// Reserves one failure slot for `login` at `now`, before its password is verified: where
    /// `rule` grants one for the stored count and last-failure time, increments the count
    /// (saturating) and sets the last-failure time to `now`, atomically, and returns the new
    /// count; otherwise (locked, or no such login) writes nothing and returns `None`.
    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>>;

    /// Records a successful login at `now`: failure count to 0, last login to `now`.
    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()>;

    /// Replaces the hash for `login` with `new_hash` if it is still `verified_hash`. Returns
    /// whether it was replaced.
    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool>;
}

/// When a store may grant a failure slot (SPEC §4): while the count is below the limit, or at or
/// above it once the lock has expired — then the slot re-arms the lock at once, so an expired lock
/// lets exactly one more wrong password through, not a fresh burst.
///
/// A store in SQL writes [`grants`](Self::grants) as its `WHERE` clause:
/// `n_password_failures < :max_failures OR (:expires AND (last_password_failure IS NULL OR
/// last_password_failure <= :expired_before))`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use endpoint_auth::{LockoutPolicy, SlotRule};
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
/// let rule = LockoutPolicy::new().slot_rule(now); // 10 failures, 15 minutes
/// assert!(rule.grants(9, Some(now)));
/// assert!(!rule.grants(10, Some(now)));
/// assert!(rule.grants(10, Some(now - Duration::from_secs(15 * 60))));
/// assert!(!SlotRule::NONE.grants(0, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRule {
    max_failures: u32,
    expired_before: Option<SystemTime>,
}

impl SlotRule {
    /// Grants nothing: what the core asks with for unknown logins and refused accounts.
    pub const NONE: Self = Self {
        max_failures: 0,
        expired_before: None,
    };

    /// Grants below `max_failures`, and at or above it when the last failure is at or before
    /// `expired_before` (or unknown); `None` for locks that never expire.
    pub const fn new(max_failures: u32, expired_before: Option<SystemTime>) -> Self {
        Self {
            max_failures,
            expired_before,
        }
    }

    /// The count below which a slot is always granted.
    pub const fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// A lock whose last failure is at or before this time has expired; `None`: locks never
    /// expire.
    pub const fn expired_before(&self) -> Option<SystemTime> {
        self.expired_before
    }

    /// Whether a slot is granted for an account with `failures` consecutive failures, the last at
    /// `last_failure`.
    pub fn grants(&self, failures: u32, last_failure: Option<SystemTime>) -> bool {
        failures < self.max_failures
            || self
                .expired_before
                .is_some_and(|expired| last_failure.is_none_or(|at| at <= expired))
    }
}

impl<S: UserStore + ?Sized> UserStore for Arc<S> {
    type User = S::User;

    fn find_user<'a>(
        &'a self,
        username: &'a str,
    ) -> StoreFuture<'a, Option<UserRecord<Self::User>>> {
        (**self).find_user(username)
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        (**self).reserve_failure_slot(login, rule, now)
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        (**self).record_success(login, now)
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        (**self).replace_password_hash(login, verified_hash, new_hash)
    }
}

/// A user to create, as an administrator or an importer gives it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewUser {
    /// The login email; stores compare it case-insensitively and keep it as given.
    pub email: String,
    /// An argon2 PHC or bcrypt string, checked with [`identify_hash`](crate::identify_hash) before
    /// it is stored; `None` for an account without a password.
    pub password_hash: Option<String>,
    /// Whether the account may log in.
    pub enabled: bool,
    /// Whether the email address is confirmed.
    pub confirmed_email: bool,
    /// When the account was created; `None` means now.
    pub signed_up: Option<SystemTime>,
    /// When the user last logged in, for imports.
    pub last_login: Option<SystemTime>,
    /// Consecutive failures carried over by an import.
    pub n_password_failures: u32,
    /// Whether [`password_hash`](Self::password_hash) may be one of Apache's legacy htpasswd
    /// formats (apr1-MD5, `{SHA}`; SPEC §6): only for an import the operator explicitly allowed
    /// them in. Off by default, so stores refuse them.
    pub allow_legacy_hash: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("enabled", &self.enabled)
            .field("confirmed_email", &self.confirmed_email)
            .field("signed_up", &self.signed_up)
            .field("allow_legacy_hash", &self.allow_legacy_hash)
            .finish_non_exhaustive()
    }
}

impl NewUser {
    /// An enabled, confirmed user with the given email and hash, signed up now.
    pub fn new(email: impl Into<String>, password_hash: Option<String>) -> Self {
        Self {
            email: email.into(),
            password_hash,
            enabled: true,
            confirmed_email: true,
            signed_up: None,
            last_login: None,
            n_password_failures: 0,
            allow_legacy_hash: false,
        }
    }

    /// Lets the hash be one of Apache's legacy htpasswd formats (see the field of the same
    /// name).
    pub fn allow_legacy_hash(mut self, allowed: bool) -> Self {
        self.allow_legacy_hash = allowed;
        self
    }

    /// Sets whether the account may log in.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets whether the email is confirmed.
    pub fn confirmed_email(mut self, confirmed: bool) -> Self {
        self.confirmed_email = confirmed;
        self
    }

    /// Sets the sign-up time.
    pub fn signed_up(mut self, at: SystemTime) -> Self {
        self.signed_up = Some(at);
        self
    }
}

/// Why an administrative operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A user with this email (compared case-insensitively) already exists.
    #[error("a user with email {0:?} already exists")]
    DuplicateUser(String),
    /// No user has this email.
    #[error("no user with email {0:?}")]
    UnknownUser(String),
    /// The email is empty or has surrounding whitespace or control characters.
    #[error("invalid email {0:?}: it must be non-empty, without control or bidirectional formatting characters, ':' or surrounding whitespace")]
    InvalidEmail(String),
    /// The password hash is in a format that cannot be verified (SPEC §6).
    #[error("refused password hash for {email:?}: {error}")]
    InvalidHash {
        /// Whose hash it was.
        email: String,
        /// What is wrong with it.
        error: HashError,
    },
    /// An import was refused whole; nothing was written.
    #[error("import refused, nothing was written: {}", .problems.join("; "))]
    ImportRefused {
        /// One line per offending entry, e.g. `line 3: alice@example.com: …`.
        problems: Vec<String>,
    },
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key a store matches logins on: surrounding whitespace trimmed, lower-cased, and in
/// Unicode NFC (as parsed user-ids are), so that `Alice@Example.com `, `alice@example.com` and a
/// decomposed spelling of the same address find the same account. Every store uses this one
/// function, so they all agree on which emails are the same.
///
/// ```
/// assert_eq!(endpoint_auth::login_key(" J\u{f6}rg@Example.COM "), "j\u{f6}rg@example.com");
/// assert_eq!(endpoint_auth::login_key("jo\u{308}rg@example.com"), "j\u{f6}rg@example.com");
/// ```
pub fn login_key(email: &str) -> String {
    crate::normalize::to_nfc(&email.trim().to_lowercase())
}

/// Checks an email before it is stored: usable as a Basic user-id and unambiguous.
///
/// # Errors
/// [`AdminError::InvalidEmail`] when it is empty, has surrounding whitespace, or contains `:` or
/// a control character.
pub fn validate_email(email: &str) -> Result<(), AdminError> {
    let bad = email.is_empty()
        || email.trim() != email
        || email.contains(':')
        || email.chars().any(|c| {
            crate::credentials::is_forbidden_control(c) || crate::credentials::is_bidi_formatting(c)
        });
    if bad {
        Err(AdminError::InvalidEmail(email.to_owned()))
    } else {
        Ok(())
    }
}

/// Checks a [`NewUser`] before it is stored: a valid email and, if any, a verifiable hash (a
/// legacy htpasswd hash only when the user's `allow_legacy_hash` is set).
///
/// # Errors
/// [`AdminError::InvalidEmail`] or [`AdminError::InvalidHash`].
pub fn validate_new_user(user: &NewUser) -> Result<(), AdminError> {
    validate_email(&user.email)?;
    if let Some(hash) = &user.password_hash {
        let identified = if user.allow_legacy_hash {
            crate::password::identify_hash_allowing_legacy(hash)
        } else {
            crate::password::identify_hash(hash)
        };
        identified.map_err(|error| AdminError::InvalidHash {
            email: user.email.clone(),
            error,
        })?;
    }
    Ok(())
}

/// Administration of an Anvil-style users table: what the CLI and the store contract suite use.
///
/// Every method takes the email case-insensitively. Hashes are validated with
/// [`validate_new_user`] / [`identify_hash`](crate::identify_hash) before they are written.
pub trait UserAdmin: UserStore<User = User> {
    /// Creates a user.
    fn create_user<'a>(&'a self, user: NewUser) -> AdminFuture<'a, User>;
    /// Sets a new password hash and clears the failure count.
    fn set_password_hash<'a>(&'a self, email: &'a str, hash: &'a str) -> AdminFuture<'a, ()>;
    /// Enables or disables the account.
    fn set_enabled<'a>(&'a self, email: &'a str, enabled: bool) -> AdminFuture<'a, ()>;
    /// Marks the email confirmed or not.
    fn set_confirmed_email<'a>(&'a self, email: &'a str, confirmed: bool) -> AdminFuture<'a, ()>;
    /// Clears the failure count and with it any lock.
    fn unlock<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()>;
    /// Deletes the user.
    fn remove_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, ()>;
    /// One user by email.
    fn get_user<'a>(&'a self, email: &'a str) -> AdminFuture<'a, User>;
    /// All users, ordered by id.
    fn list_users(&self) -> AdminFuture<'_, Vec<User>>;
    /// Creates all of `users` or none: any invalid or duplicate entry refuses the whole import
    /// with [`AdminError::ImportRefused`] listing every problem.
    fn import_users(&self, users: Vec<NewUser>) -> AdminFuture<'_, usize>;
}

/// A boxed, `Send` future returned by [`UserAdmin`] methods.
pub type AdminFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AdminError>> + Send + 'a>>;

/// Checks a whole import batch before anything is written: every entry valid, no email twice.
///
/// # Errors
/// [`AdminError::ImportRefused`] listing every problem, numbered from 1 in batch order.
pub fn validate_import(users: &[NewUser]) -> Result<(), AdminError> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, user) in users.iter().enumerate() {
        if let Err(error) = validate_new_user(user) {
            problems.push(format!("entry {}: {error}", index + 1));
        } else if !seen.insert(login_key(&user.email)) {
            problems.push(format!(
                "entry {}: {:?} appears more than once",
                index + 1,
                user.email
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AdminError::ImportRefused { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hashes_are_stored_only_when_allowed() {
        let apr1 = "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/".to_owned();
        let user = NewUser::new("a@example.com", Some(apr1));
        assert!(matches!(
            validate_new_user(&user),
            Err(AdminError::InvalidHash { .. })
        ));
        assert!(validate_import(std::slice::from_ref(&user)).is_err());
        let allowed = user.allow_legacy_hash(true);
        validate_new_user(&allowed).unwrap();
        validate_import(&[allowed]).unwrap();
        let damaged = NewUser::new("b@example.com", Some("$apr1$x$y".to_owned()));
        assert!(validate_new_user(&damaged.allow_legacy_hash(true)).is_err());
    }
}
