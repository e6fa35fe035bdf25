//! A users store the core's own tests can take down. The public one is the conformance crate's
//! `FaultyStore`, which the core cannot depend on (that crate depends on the core); this is the
//! core's single private copy, shared by its unit tests (through `#[path]`) and its integration
//! tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use endpoint_auth::{
    store::{SlotRule, StoreFuture},
    StoreError, UserRecord, UserStore,
};

/// Wraps a store; while [`set_failing(true)`](Self::set_failing) holds, every call answers
/// [`StoreError::Unavailable`] without reaching it. Clones share the store and the switch.
#[derive(Clone)]
pub(crate) struct FaultyStore<S> {
    inner: S,
    failing: Arc<AtomicBool>,
}

impl<S> FaultyStore<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            failing: Arc::default(),
        }
    }

    pub(crate) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn unless_failing<'a, T: Send + 'a>(
        &self,
        call: impl FnOnce() -> StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        if self.failing.load(Ordering::SeqCst) {
            let down = std::io::Error::other("store switched off by a test");
            Box::pin(async move { Err(StoreError::unavailable(down)) })
        } else {
            call()
        }
    }
}

impl<S: UserStore> UserStore for FaultyStore<S> {
    type User = S::User;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<S::User>>> {
        self.unless_failing(|| self.inner.find_user(username))
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        self.unless_failing(|| self.inner.reserve_failure_slot(login, rule, now))
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        self.unless_failing(|| self.inner.record_success(login, now))
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        self.unless_failing(|| {
            self.inner
                .replace_password_hash(login, verified_hash, new_hash)
        })
    }
}
