//! `authenticate_users` over the application's own credential check — an LDAP bind, another
//! service, an existing table with its own hashing — instead of a users store holding password
//! hashes. The check still runs behind the core's defences: the exact lockout (failures counted
//! in a [`FailureLedger`], memory by default), fair admission (at most one check per permit,
//! waiting in per-client queues), the uniform 401 padded to the failure floor, and a cache of
//! accepted credentials.
//!
//! ```
//! use endpoint_auth::check::{CheckFuture, CheckOutcome, CredentialCheck};
//! use endpoint_auth::{Authenticator, ClientAddress, Credentials, Requirements};
//!
//! /// A stand-in for a directory service: one account.
//! struct Directory;
//!
//! impl CredentialCheck for Directory {
//!     type User = String;
//!     fn check<'a>(&'a self, login: &'a str, password: &'a str) -> CheckFuture<'a, String> {
//!         Box::pin(async move {
//!             // A real check would bind to LDAP or call a service here.
//!             let right = Credentials::new(login, password)
//!                 .map(|c| c.matches("ada@example.com", "analytical engine"))
//!                 .unwrap_or(false);
//!             Ok(if right { CheckOutcome::Accepted(login.to_owned()) } else { CheckOutcome::Refused })
//!         })
//!     }
//! }
//!
//! let auth = Authenticator::builder_with_check(Directory).realm("intranet").build()?;
//! let header = Credentials::new("ada@example.com", "analytical engine")?.to_header_value();
//! let outcome = pollster::block_on(auth.authenticate_user(
//!     [header.as_bytes()],
//!     ClientAddress::UNKNOWN,
//!     Requirements::new(),
//! ));
//! assert!(matches!(outcome, Ok(name) if name == "ada@example.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::store::{login_key, SlotRule, StoreError, StoreFuture};

/// What a [`CredentialCheck`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckOutcome<U> {
    /// The credentials are right: the handler receives this user.
    Accepted(U),
    /// Wrong password, unknown login, or an account the check will not let in: the uniform 401.
    Refused,
}

/// The future a [`CredentialCheck`] returns; an error means "cannot answer now" (503).
pub type CheckFuture<'a, U> =
    Pin<Box<dyn Future<Output = Result<CheckOutcome<U>, StoreError>> + Send + 'a>>;

/// The application's credential check. Called only after admission and after a failure slot
/// was reserved, at most once per permit; it runs on the caller's executor, so a check that
/// blocks should move its work off it (e.g. `spawn_blocking`).
pub trait CredentialCheck: Send + Sync + 'static {
    /// What handlers receive for accepted credentials.
    type User: Clone + Send + Sync + 'static;

    /// Checks `password` for `login` (trimmed; compare it as your directory does).
    fn check<'a>(&'a self, login: &'a str, password: &'a str) -> CheckFuture<'a, Self::User>;
}

/// Where the failures of checked logins are counted (SPEC §4), with the same contract as
/// [`UserStore::reserve_failure_slot`](crate::UserStore::reserve_failure_slot): a slot is
/// reserved atomically before every check, and given back by a success. Logins are keyed by
/// [`login_key`].
pub trait FailureLedger: Send + Sync + 'static {
    /// The consecutive failures of `login` and the time of the last, if any.
    fn failures<'a>(&'a self, login: &'a str) -> StoreFuture<'a, (u32, Option<SystemTime>)>;

    /// Reserves one failure slot for `login` where `rule` grants it; see
    /// [`UserStore::reserve_failure_slot`](crate::UserStore::reserve_failure_slot). Unlike a
    /// users store it counts any login, known or not.
    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>>;

    /// Clears the failures of `login` after a success.
    fn reset<'a>(&'a self, login: &'a str) -> StoreFuture<'a, ()>;
}

/// A [`FailureLedger`] in memory, for one server instance: at most `capacity` logins, the
/// longest-quiet half forgotten when it is full (an attacker inventing logins cannot grow it
/// without bound; a forgotten login starts again from zero).
#[derive(Debug)]
pub struct MemoryLedger {
    capacity: usize,
    entries: Mutex<HashMap<String, (u32, Option<SystemTime>)>>,
}

impl Default for MemoryLedger {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl MemoryLedger {
    /// A ledger remembering at most `capacity` logins (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Option<SystemTime>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FailureLedger for MemoryLedger {
    fn failures<'a>(&'a self, login: &'a str) -> StoreFuture<'a, (u32, Option<SystemTime>)> {
        let found = self
            .entries()
            .get(&login_key(login))
            .copied()
            .unwrap_or((0, None));
        Box::pin(async move { Ok(found) })
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        let key = login_key(login);
        let mut entries = self.entries();
        let (failures, last) = entries.get(&key).copied().unwrap_or((0, None));
        let granted = if rule.grants(failures, last) {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                forget_the_quietest_half(&mut entries);
            }
            let failures = failures.saturating_add(1);
            entries.insert(key, (failures, Some(now)));
            Some(failures)
        } else {
            None
        };
        Box::pin(async move { Ok(granted) })
    }

    fn reset<'a>(&'a self, login: &'a str) -> StoreFuture<'a, ()> {
        self.entries().remove(&login_key(login));
        Box::pin(async { Ok(()) })
    }
}

fn forget_the_quietest_half(entries: &mut HashMap<String, (u32, Option<SystemTime>)>) {
    let mut times: Vec<Option<SystemTime>> = entries.values().map(|(_, at)| *at).collect();
    let middle = times.len() / 2;
    let (_, cut, _) = times.select_nth_unstable(middle);
    let cut = *cut;
    entries.retain(|_, (_, at)| *at > cut);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn the_ledger_grants_by_the_rule_and_resets() {
        let ledger = MemoryLedger::default();
        let rule = SlotRule::new(2, None);
        let reserve = |n| pollster::block_on(ledger.reserve_failure_slot("Ada@X", rule, at(n)));
        assert_eq!(reserve(1).unwrap(), Some(1));
        assert_eq!(reserve(2).unwrap(), Some(2));
        assert_eq!(reserve(3).unwrap(), None);
        assert_eq!(
            pollster::block_on(ledger.failures("ada@x")).unwrap(),
            (2, Some(at(2)))
        );
        pollster::block_on(ledger.reset(" ADA@x ")).unwrap();
        assert_eq!(
            pollster::block_on(ledger.failures("ada@x")).unwrap(),
            (0, None)
        );
    }

    #[test]
    fn the_ledger_stays_within_its_capacity() {
        let ledger = MemoryLedger::new(100);
        let rule = SlotRule::new(10, None);
        for n in 0..1000u64 {
            pollster::block_on(ledger.reserve_failure_slot(&format!("u{n}"), rule, at(n))).unwrap();
            assert!(ledger.entries().len() <= 100);
        }
        // The most recent logins are the ones kept.
        assert_eq!(pollster::block_on(ledger.failures("u999")).unwrap().0, 1);
    }
}
