//! Administration of a users table: creating, changing and listing accounts, and the checks a
//! store runs before it writes. What the CLI and the store contract suite use; the
//! authentication pipeline itself needs only [`UserStore`].

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use crate::hash::HashError;
use crate::store::{login_key, StoreError, UserStore};
use crate::user::User;

/// A user to create, as an administrator or an importer gives it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewUser {
    /// The login email; stores compare it case-insensitively and keep it as given.
    pub email: String,
    /// An argon2 PHC or bcrypt string, checked with [`identify_hash`](crate::hash::identify_hash) before
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
            crate::hash::identify_hash_allowing_legacy(hash)
        } else {
            crate::hash::identify_hash(hash)
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
/// [`validate_new_user`] / [`identify_hash`](crate::hash::identify_hash) before they are written.
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
