//! The users the core authenticates: Anvil's Users table, and the record a store hands back.

use std::fmt;
use std::time::SystemTime;

/// A user as Anvil's Users table has it: what an `authenticate_users` handler receives unless
/// the application brings its own user type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// The store's identifier for the row.
    pub id: i64,
    /// The email address the user logs in with.
    pub email: String,
    /// Whether the account may log in.
    pub enabled: bool,
    /// Whether the email address has been confirmed.
    pub confirmed_email: bool,
    /// When the account was created.
    pub signed_up: SystemTime,
    /// When the user last logged in successfully, if ever.
    pub last_login: Option<SystemTime>,
    /// Consecutive wrong passwords since the last success.
    pub n_password_failures: u32,
}

impl User {
    /// A user with the given id, email and sign-up time: enabled, confirmed, never logged in.
    pub fn new(id: i64, email: impl Into<String>, signed_up: SystemTime) -> Self {
        Self {
            id,
            email: email.into(),
            enabled: true,
            confirmed_email: true,
            signed_up,
            last_login: None,
            n_password_failures: 0,
        }
    }
}

/// What a [`UserStore`](crate::UserStore) returns for a username: the application's user value
/// plus the fields the core decides on.
///
/// `U` is whatever the handler should receive ([`User`] by default). `Debug` does not print the
/// password hash.
#[derive(Clone)]
pub struct UserRecord<U> {
    /// The value handed to the handler on success.
    pub user: U,
    /// The store's key for this account, passed back to the store's `record_*` methods (for the
    /// SQL stores: the email as stored).
    pub login: String,
    /// The stored PHC (argon2) or bcrypt string; `None` when no password is set, which no
    /// password matches.
    pub password_hash: Option<String>,
    /// Whether the account may log in.
    pub enabled: bool,
    /// Whether the email address has been confirmed.
    pub confirmed_email: bool,
    /// Consecutive wrong passwords since the last success (Anvil's `n_password_failures`).
    pub n_password_failures: u32,
    /// When the last wrong password was recorded; the lockout runs from it.
    pub last_failure: Option<SystemTime>,
    /// When the user last logged in successfully.
    pub last_login: Option<SystemTime>,
}

impl<U: fmt::Debug> fmt::Debug for UserRecord<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("user", &self.user)
            .field("login", &self.login)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("enabled", &self.enabled)
            .field("confirmed_email", &self.confirmed_email)
            .field("n_password_failures", &self.n_password_failures)
            .field("last_failure", &self.last_failure)
            .field("last_login", &self.last_login)
            .finish()
    }
}

impl UserRecord<User> {
    /// The record for an Anvil-style [`User`], taking the shared fields from it.
    pub fn for_user(
        user: User,
        password_hash: Option<String>,
        last_failure: Option<SystemTime>,
    ) -> Self {
        Self {
            login: user.email.clone(),
            password_hash,
            enabled: user.enabled,
            confirmed_email: user.confirmed_email,
            n_password_failures: user.n_password_failures,
            last_failure,
            last_login: user.last_login,
            user,
        }
    }
}
