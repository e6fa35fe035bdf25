//! [`FaultyStore`]: any users store, with a switch that takes it down.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use endpoint_auth::{
    store::{SlotRule, StoreFuture},
    StoreError, UserRecord, UserStore,
};

/// Wraps any [`UserStore`] so that a test can take it down: while
/// [`set_failing(true)`](Self::set_failing) holds, every call answers
/// [`StoreError::Unavailable`], as a database that cannot be reached would, and the wrapped
/// store is not called. Switched back, it answers from the wrapped store again, with nothing
/// lost.
///
/// What the suite's fixture breaks the store with (SPEC §5: a store that cannot answer gets a
/// 503, never a 401), and what an adapter's own tests use for the same outage.
///
/// Cloning gives another handle to the same store and the same switch, so a test keeps one
/// handle and hands the other to the authenticator:
///
/// ```
/// use endpoint_auth_conformance::endpoint_auth::{Authenticator, MemoryStore};
/// use endpoint_auth_conformance::FaultyStore;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = FaultyStore::new(MemoryStore::new());
/// let authenticator = Authenticator::builder(store.clone()).build()?;
/// store.set_failing(true); // the authenticator's requests now get 503
/// assert!(store.is_failing());
/// # let _ = authenticator;
/// # Ok(())
/// # }
/// ```
pub struct FaultyStore<S> {
    inner: Arc<S>,
    failing: Arc<AtomicBool>,
}

impl<S> FaultyStore<S> {
    /// `inner`, answering normally until switched off.
    pub fn new(inner: S) -> Self {
        Self::with_switch(inner, Arc::default())
    }

    /// `inner`, failing while `failing` holds: for a switch that lives elsewhere (the fixture's
    /// [`Faults`](crate::Faults)).
    pub(crate) fn with_switch(inner: S, failing: Arc<AtomicBool>) -> Self {
        Self {
            inner: Arc::new(inner),
            failing,
        }
    }

    /// While `failing` is true, every call fails as if the store were down.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Whether calls fail now.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::SeqCst)
    }

    /// The wrapped store, e.g. to add users or read them back in a test.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.is_failing() {
            Err(StoreError::unavailable(SwitchedOff))
        } else {
            Ok(())
        }
    }
}

impl<S> Clone for FaultyStore<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            failing: Arc::clone(&self.failing),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for FaultyStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore")
            .field("inner", &self.inner)
            .field("failing", &self.is_failing())
            .finish()
    }
}

/// The error a switched-off [`FaultyStore`] answers with, inside [`StoreError::Unavailable`].
#[derive(Debug)]
struct SwitchedOff;

impl fmt::Display for SwitchedOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("store switched off by a test (FaultyStore)")
    }
}

impl std::error::Error for SwitchedOff {}

impl<S: UserStore> UserStore for FaultyStore<S> {
    type User = S::User;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<S::User>>> {
        match self.check() {
            Ok(()) => self.inner.find_user(username),
            Err(error) => Box::pin(async move { Err(error) }),
        }
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        match self.check() {
            Ok(()) => self.inner.reserve_failure_slot(login, rule, now),
            Err(error) => Box::pin(async move { Err(error) }),
        }
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        match self.check() {
            Ok(()) => self.inner.record_success(login, now),
            Err(error) => Box::pin(async move { Err(error) }),
        }
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        match self.check() {
            Ok(()) => self
                .inner
                .replace_password_hash(login, verified_hash, new_hash),
            Err(error) => Box::pin(async move { Err(error) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use endpoint_auth::{MemoryStore, NewUser};

    use super::*;

    #[test]
    fn fails_every_call_while_switched_off_and_recovers() {
        let store = FaultyStore::new(MemoryStore::new());
        store
            .inner()
            .insert(NewUser::new("a@example.com", None))
            .expect("an empty store takes the user");
        let handle = store.clone();
        handle.set_failing(true);
        assert!(store.is_failing(), "clones share the switch");
        let now = SystemTime::now();
        pollster::block_on(async {
            assert!(matches!(
                store.find_user("a@example.com").await,
                Err(StoreError::Unavailable(_))
            ));
            assert!(store
                .reserve_failure_slot("a@example.com", SlotRule::new(10, None), now)
                .await
                .is_err());
            assert!(store.record_success("a@example.com", now).await.is_err());
            assert!(store
                .replace_password_hash("a@example.com", "x", "y")
                .await
                .is_err());
        });
        assert_eq!(
            store.inner().users()[0].n_password_failures,
            0,
            "nothing reached the wrapped store"
        );
        handle.set_failing(false);
        let found = pollster::block_on(store.find_user("a@example.com"));
        assert!(matches!(found, Ok(Some(_))));
    }
}
