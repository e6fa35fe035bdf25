//! The users the suite authenticates against, and the switches it uses to break things.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use endpoint_auth::{
    admin::AdminError,
    hash::Verification,
    store::{SlotRule, StoreFuture},
    verifier::{PasswordVerifier, VerificationPool, VerifierFuture, VerifyError},
    Authenticator, HashPolicy, MemoryStore, NewUser, PoolConfig, User, UserAdmin, UserRecord,
    UserStore,
};

use crate::FaultyStore;

/// The realm every adapter under test uses (SPEC §7); its quotes and backslash exercise escaping.
pub const REALM: &str = r#"endpoint-auth "conformance" \ realm"#;

/// The challenge header value that realm must produce, byte for byte.
pub const EXPECTED_CHALLENGE: &str =
    r#"Basic realm="endpoint-auth \"conformance\" \\ realm", charset="UTF-8""#;

/// The seed's user: enabled, confirmed, argon2id.
pub const SEED_EMAIL: &str = "user123@gmail.com";
/// The seed user's password.
pub const SEED_PASSWORD: &str = "mySuperS3cretPassw0rd";
/// A disabled user (password [`SEED_PASSWORD`]).
pub const DISABLED_EMAIL: &str = "disabled@example.com";
/// An enabled user whose email is not confirmed (password [`SEED_PASSWORD`]).
pub const UNCONFIRMED_EMAIL: &str = "unconfirmed@example.com";
/// A user stored with a bcrypt hash (password [`SEED_PASSWORD`]), upgraded on login.
pub const BCRYPT_EMAIL: &str = "legacy-bcrypt@example.com";
/// A user whose stored email has mixed case (password [`SEED_PASSWORD`]).
pub const MIXED_CASE_EMAIL: &str = "Mixed.Case@Example.COM";
/// A user with non-ASCII characters in the email.
pub const NON_ASCII_EMAIL: &str = "j\u{f6}rg@example.com";
/// That user's password: non-ASCII and containing `:`.
pub const NON_ASCII_PASSWORD: &str = "p\u{e4}ss:w\u{f6}rd \u{e9}t\u{e9}";
/// A user the lockout cases lock (password [`SEED_PASSWORD`]).
pub const LOCKOUT_EMAIL: &str = "lockout@example.com";
/// How many verifications the suite's authenticator runs at once (its hashing workers).
pub const VERIFICATION_PERMITS: usize = 1;
/// The failure limit the suite's authenticator uses: SPEC §4's default.
pub const MAX_PASSWORD_FAILURES: u32 = 10;

/// When every fixture user signed up: 2024-01-02T03:04:05Z.
pub fn signed_up() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_164_645)
}

/// Switches that make the fixture's store or verifier fail, for the 503 cases, and hold
/// verifications, for the admission cases.
#[derive(Debug, Default)]
pub struct Faults {
    /// The fixture's [`FaultyStore`] switch.
    store_down: Arc<AtomicBool>,
    verifier_busy: AtomicBool,
    hold: Mutex<Hold>,
}

#[derive(Debug, Default)]
struct Hold {
    on: bool,
    waiting: Vec<Waker>,
}

impl Faults {
    /// While on, every store call fails as if the database were down.
    pub fn set_store_down(&self, down: bool) {
        self.store_down.store(down, Ordering::SeqCst);
    }

    /// While on, every verification is refused as if the hashing queue were full.
    pub fn set_verifier_busy(&self, busy: bool) {
        self.verifier_busy.store(busy, Ordering::SeqCst);
    }

    /// While on, every verification that starts waits (holding its verification permit)
    /// until it is switched off again; then they all go on.
    pub fn set_hold_verifications(&self, hold: bool) {
        let waiting = {
            let mut state = self.hold.lock().unwrap_or_else(PoisonError::into_inner);
            state.on = hold;
            if hold {
                Vec::new()
            } else {
                std::mem::take(&mut state.waiting)
            }
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    fn verifier_busy(&self) -> bool {
        self.verifier_busy.load(Ordering::SeqCst)
    }
}

/// Resolves once verifications are no longer held.
struct Released(Arc<Faults>);

impl Future for Released {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.hold.lock().unwrap_or_else(PoisonError::into_inner);
        if state.on {
            if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                state.waiting.push(cx.waker().clone());
            }
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// What the suite saw the core write to the store, per lower-cased login.
#[derive(Debug, Default, Clone)]
struct Observed {
    failures: Option<u32>,
    replaced_hash: Option<String>,
}

/// Wraps any users store and watches what the core writes to it, so that the suite can check
/// writes without an executor for the store's own futures.
struct ObservingStore {
    inner: Arc<dyn UserStore<User = User>>,
    observed: Arc<Mutex<HashMap<String, Observed>>>,
}

impl ObservingStore {
    fn observe(&self, login: &str, change: impl FnOnce(&mut Observed)) {
        let mut observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        change(observed.entry(login.to_lowercase()).or_default());
    }
}

impl UserStore for ObservingStore {
    type User = User;

    fn find_user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord<User>>> {
        self.inner.find_user(username)
    }

    fn reserve_failure_slot<'a>(
        &'a self,
        login: &'a str,
        rule: SlotRule,
        now: SystemTime,
    ) -> StoreFuture<'a, Option<u32>> {
        Box::pin(async move {
            let failures = self.inner.reserve_failure_slot(login, rule, now).await?;
            if let Some(failures) = failures {
                self.observe(login, |o| o.failures = Some(failures));
            }
            Ok(failures)
        })
    }

    fn record_success<'a>(&'a self, login: &'a str, now: SystemTime) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.record_success(login, now).await?;
            self.observe(login, |o| o.failures = Some(0));
            Ok(())
        })
    }

    fn replace_password_hash<'a>(
        &'a self,
        login: &'a str,
        verified_hash: &'a str,
        new_hash: &'a str,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let replaced = self
                .inner
                .replace_password_hash(login, verified_hash, new_hash)
                .await?;
            if replaced {
                self.observe(login, |o| o.replaced_hash = Some(new_hash.to_owned()));
            }
            Ok(replaced)
        })
    }
}

/// A real verification pool that the suite can switch to "queue full" or hold, and that
/// remembers which passwords it was asked to verify, in order.
struct SwitchableVerifier {
    pool: VerificationPool,
    faults: Arc<Faults>,
    verified: Arc<Mutex<Vec<String>>>,
}

impl PasswordVerifier for SwitchableVerifier {
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
        if self.faults.verifier_busy() {
            return Box::pin(async {
                Err(VerifyError::Busy {
                    retry_after: Duration::from_secs(2),
                })
            });
        }
        self.verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(password.to_owned());
        let released = Released(self.faults.clone());
        let pool = self.pool.clone();
        let (password, stored_hash) = (password.to_owned(), stored_hash.to_owned());
        Box::pin(async move {
            released.await;
            pool.verify(&password, &stored_hash).await
        })
    }

    fn hash(&self, password: &str) -> VerifierFuture<String> {
        self.pool.hash(password)
    }

    fn needs_rehash(&self, stored_hash: &str) -> bool {
        self.pool.needs_rehash(stored_hash)
    }
}

struct Hashes {
    argon2id: String,
    non_ascii: String,
    bcrypt: String,
}

/// Hashing with OWASP parameters takes tens of milliseconds; the fixture's hashes are made once
/// per process and shared by every fixture.
fn hashes() -> &'static Hashes {
    static HASHES: OnceLock<Hashes> = OnceLock::new();
    HASHES.get_or_init(|| {
        let policy = HashPolicy::owasp();
        Hashes {
            argon2id: policy
                .hash(SEED_PASSWORD)
                .expect("hashing the fixture password"),
            non_ascii: policy
                .hash(NON_ASCII_PASSWORD)
                .expect("hashing the fixture password"),
            bcrypt: bcrypt::hash(SEED_PASSWORD, 6).expect("bcrypt-hashing the fixture password"),
        }
    })
}

/// The users every conformance run starts with.
pub fn fixture_users() -> Vec<NewUser> {
    let h = hashes();
    let user =
        |email: &str, hash: &str| NewUser::new(email, Some(hash.to_owned())).signed_up(signed_up());
    vec![
        user(SEED_EMAIL, &h.argon2id),
        user(DISABLED_EMAIL, &h.argon2id).enabled(false),
        user(UNCONFIRMED_EMAIL, &h.argon2id).confirmed_email(false),
        user(BCRYPT_EMAIL, &h.bcrypt),
        user(MIXED_CASE_EMAIL, &h.argon2id),
        user(NON_ASCII_EMAIL, &h.non_ascii),
        user(LOCKOUT_EMAIL, &h.argon2id),
    ]
}

/// A fresh users store with the fixture users, an [`Authenticator`] over it configured as SPEC
/// §7 says, and the [`Faults`] switches. Every case gets its own.
pub struct Fixture {
    authenticator: Authenticator<User>,
    faults: Arc<Faults>,
    observed: Arc<Mutex<HashMap<String, Observed>>>,
    verified: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("authenticator", &self.authenticator)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// The fixture over the core's in-memory store.
    pub fn new() -> Self {
        let store = MemoryStore::new();
        pollster::block_on(Self::with_store(store))
            .expect("the in-memory store accepts the fixture users")
    }

    /// The fixture over any store that supports administration (e.g. an SQL store): the
    /// fixture users are imported into it first, so it must not contain them already.
    ///
    /// # Errors
    /// The store's error if it refuses the fixture users.
    pub async fn with_store<S: UserAdmin>(store: S) -> Result<Self, AdminError> {
        store.import_users(fixture_users()).await?;
        let faults = Arc::new(Faults::default());
        let observed = Arc::new(Mutex::new(HashMap::new()));
        // Switched off, the store answers before the observer sees anything: a write that
        // failed is no write.
        let store = FaultyStore::with_switch(
            ObservingStore {
                inner: Arc::new(store),
                observed: observed.clone(),
            },
            faults.store_down.clone(),
        );
        let pool = VerificationPool::new(HashPolicy::owasp(), PoolConfig::new())
            .expect("starting the conformance fixture's hashing threads");
        let verified = Arc::new(Mutex::new(Vec::new()));
        let authenticator = Authenticator::builder(store)
            .realm(REALM)
            .verifier(SwitchableVerifier {
                pool,
                faults: faults.clone(),
                verified: verified.clone(),
            })
            // One verification at a time, so that the admission cases know who waits; waits
            // bounded generously, so that a case holding verifications on a loaded machine sees
            // queueing, not the 503 of the wait bound.
            .pool(
                PoolConfig::new()
                    .workers(VERIFICATION_PERMITS)
                    .max_wait(std::time::Duration::from_secs(30)),
            )
            .cors_preflight(true)
            .build()
            .expect("the conformance realm is valid");
        Ok(Self {
            authenticator,
            faults,
            observed,
            verified,
        })
    }

    /// The authenticator the adapter under test must serve the SPEC §7 routes with.
    pub fn authenticator(&self) -> Authenticator<User> {
        self.authenticator.clone()
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    fn observed(&self, email: &str) -> Observed {
        let observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        observed
            .get(&email.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// The failure count the store last reported for `email` after the core recorded a failure
    /// (or 0 after a success); `None` if the core wrote neither.
    pub fn observed_failures(&self, email: &str) -> Option<u32> {
        self.observed(email).failures
    }

    /// Every password the core asked the verifier to check (against a stored hash or the dummy
    /// hash), in the order verifications started.
    pub fn verified_passwords(&self) -> Vec<String> {
        self.verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The hash the core last stored for `email` when upgrading an outdated one.
    pub fn replaced_hash(&self, email: &str) -> Option<String> {
        self.observed(email).replaced_hash
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}
