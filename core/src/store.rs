//! The users store: the one place the core reads and writes account state.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::user::UserRecord;

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
/// use endpoint_auth::{LockoutPolicy, store::SlotRule};
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

/// The key a store matches logins on: surrounding whitespace trimmed, lower-cased, and in
/// Unicode NFC (as parsed user-ids are), so that `Alice@Example.com `, `alice@example.com` and a
/// decomposed spelling of the same address find the same account. Every store uses this one
/// function, so they all agree on which emails are the same.
///
/// ```
/// assert_eq!(endpoint_auth::store::login_key(" J\u{f6}rg@Example.COM "), "j\u{f6}rg@example.com");
/// assert_eq!(endpoint_auth::store::login_key("jo\u{308}rg@example.com"), "j\u{f6}rg@example.com");
/// ```
pub fn login_key(email: &str) -> String {
    crate::normalize::to_nfc(&email.trim().to_lowercase())
}
