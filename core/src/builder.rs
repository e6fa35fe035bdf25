//! [`AuthenticatorBuilder`]: configuring an [`Authenticator`] over a users store.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::admission::{Admission, Limits};
use crate::audit::AuditHook;
use crate::authenticator::{Authenticator, BuildError, CheckedUsers, Inner, Users};
use crate::cache::{CacheConfig, VerificationCache};
use crate::challenge::Realm;
use crate::check::{CredentialCheck, FailureLedger, MemoryLedger};
use crate::client::TrustedProxy;
use crate::clock::{Clock, SystemClock};
use crate::hash::{HashError, HashPolicy};
use crate::lockout::LockoutPolicy;
use crate::parse::ParseOptions;
use crate::rejection::RefusalFormat;
use crate::store::UserStore;
use crate::timing::FailureFloor;
use crate::verifier::{PasswordVerifier, PoolConfig, VerificationPool};

/// Where `authenticate_users` finds its users.
pub(crate) enum Backend<U> {
    /// A users store holding password hashes.
    Store(Arc<dyn UserStore<User = U>>),
    /// The application's credential check.
    Check(Arc<dyn CredentialCheck<User = U>>),
}

/// Configures an [`Authenticator`]. Start with [`Authenticator::builder`] (a users store) or
/// [`Authenticator::builder_with_check`] (the application's credential check).
pub struct AuthenticatorBuilder<U> {
    backend: Backend<U>,
    ledger: Option<Arc<dyn FailureLedger>>,
    realm: String,
    parse: ParseOptions,
    hash_policy: HashPolicy,
    pool: PoolConfig,
    verifier: Option<Arc<dyn PasswordVerifier>>,
    cache: CacheConfig,
    lockout: LockoutPolicy,
    clock: Arc<dyn Clock>,
    audit: Option<Arc<dyn AuditHook>>,
    cors_preflight: bool,
    retry_after: Duration,
    last_login_interval: Duration,
    trusted_proxies: Vec<TrustedProxy>,
    refusal_format: RefusalFormat,
}

impl<U> fmt::Debug for AuthenticatorBuilder<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatorBuilder")
            .field("realm", &self.realm)
            .field("parse", &self.parse)
            .field("hash_policy", &self.hash_policy)
            .field("pool", &self.pool)
            .field("cache", &self.cache)
            .field("lockout", &self.lockout)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl<U: Clone + Send + Sync + 'static> AuthenticatorBuilder<U> {
    pub(crate) fn new(backend: Backend<U>) -> Self {
        Self {
            backend,
            ledger: None,
            realm: "Restricted".to_owned(),
            parse: ParseOptions::new(),
            hash_policy: HashPolicy::owasp(),
            pool: PoolConfig::new(),
            verifier: None,
            cache: CacheConfig::new(),
            lockout: LockoutPolicy::new(),
            clock: Arc::new(SystemClock),
            audit: None,
            cors_preflight: false,
            retry_after: Duration::from_secs(1),
            last_login_interval: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            refusal_format: RefusalFormat::PlainText,
        }
    }

    /// How refusal bodies are written (default plain text; [`RefusalFormat::Json`] for APIs).
    /// Status, challenge and `Retry-After` do not change.
    pub fn refusal_format(mut self, format: RefusalFormat) -> Self {
        self.refusal_format = format;
        self
    }

    /// The realm named in the challenge (default `Restricted`). Validated by
    /// [`build`](Self::build).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// How strictly headers are read (size limit, ISO-8859-1 fallback).
    pub fn parse_options(mut self, options: ParseOptions) -> Self {
        self.parse = options;
        self
    }

    /// Argon2 parameters for new hashes and rehashes (default OWASP's).
    pub fn hash_policy(mut self, policy: HashPolicy) -> Self {
        self.hash_policy = policy;
        self
    }

    /// Verification capacity and how requests wait for it: hashing threads, `max_wait`, the
    /// bound on waiting requests (SPEC §5).
    pub fn pool(mut self, config: PoolConfig) -> Self {
        self.pool = config;
        self
    }

    /// Use this verifier instead of starting a [`VerificationPool`]; the hash policy then only
    /// makes the dummy hash. Admission still lets at most `pool.workers` verifications run at
    /// once.
    pub fn verifier(mut self, verifier: impl PasswordVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Verification cache TTL and size ([`CacheConfig::disabled`] to turn it off).
    pub fn cache(mut self, config: CacheConfig) -> Self {
        self.cache = config;
        self
    }

    /// Failure limit and lock duration (default 10 failures, 15 minutes).
    pub fn lockout(mut self, policy: LockoutPolicy) -> Self {
        self.lockout = policy;
        self
    }

    /// The time source (default the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Called once per decision; see [`AuditHook`].
    pub fn audit(mut self, hook: impl AuditHook) -> Self {
        self.audit = Some(Arc::new(hook));
        self
    }

    /// Let CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) through without
    /// credentials (default off).
    pub fn cors_preflight(mut self, enabled: bool) -> Self {
        self.cors_preflight = enabled;
        self
    }

    /// `Retry-After` for a 503 caused by the store (default 1 s).
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Proxies whose `Forwarded` / `X-Forwarded-For` fields name the client for fair admission
    /// (default none: the socket peer is the client). Trust only proxies you run: anyone else
    /// could name any address.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Where the failures of an application's credential check are counted (default a
    /// [`MemoryLedger`]; share one across instances for a lockout that holds across them).
    /// Ignored for users stores, which count failures themselves.
    pub fn failure_ledger(mut self, ledger: impl FailureLedger) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    /// Validates the realm, starts the hashing threads, prepares the dummy hash and measures
    /// what a verification costs here (for the failure-time floor).
    ///
    /// # Errors
    /// [`BuildError`] when the realm has control characters or hashing cannot be set up.
    pub fn build(self) -> Result<Authenticator<U>, BuildError> {
        let realm = Realm::new(self.realm)?;
        let admission = Arc::new(Admission::new(Limits {
            permits: self.pool.workers,
            max_wait: self.pool.max_wait,
            max_waiting: self.pool.max_waiting,
        }));
        let floor = FailureFloor::default();
        let (users, checked) = match self.backend {
            Backend::Store(store) => {
                let dummy_hash = calibrated_dummy_hash(&self.hash_policy, &floor)?;
                #[cfg(feature = "bcrypt")]
                calibrate_bcrypt(&floor);
                let verifier: Arc<dyn PasswordVerifier> = match self.verifier {
                    Some(verifier) => verifier,
                    None => Arc::new(VerificationPool::new(self.hash_policy, self.pool)?),
                };
                let cache = VerificationCache::new(self.cache).map_err(|_| BuildError::Random)?;
                let users = Users {
                    store,
                    verifier,
                    cache: Arc::new(cache),
                    dummy_hash,
                    lockout: self.lockout,
                    last_login_interval: self.last_login_interval,
                    admission,
                    floor,
                    busy_retry_after: self.pool.retry_after,
                };
                (Some(users), None)
            }
            Backend::Check(check) => {
                let cache = VerificationCache::new(self.cache).map_err(|_| BuildError::Random)?;
                let checked = CheckedUsers {
                    check,
                    ledger: self
                        .ledger
                        .unwrap_or_else(|| Arc::new(MemoryLedger::default())),
                    cache: Arc::new(cache),
                    lockout: self.lockout,
                    admission,
                    floor,
                    busy_retry_after: self.pool.retry_after,
                };
                (None, Some(checked))
            }
        };
        Ok(Authenticator {
            inner: Arc::new(Inner {
                realm,
                parse: self.parse,
                users,
                checked,
                clock: self.clock,
                audit: self.audit,
                cors_preflight: self.cors_preflight,
                retry_after: self.retry_after,
                trusted_proxies: self.trusted_proxies,
                refusal_format: self.refusal_format,
            }),
        })
    }
}

/// A hash of a random password under `policy`, which unknown, disabled, unconfirmed and locked
/// accounts are verified against so that they cost what a wrong password costs. Making it is
/// also the first measurement of what that costs here.
fn calibrated_dummy_hash(policy: &HashPolicy, floor: &FailureFloor) -> Result<String, HashError> {
    let mut secret = [0u8; 24];
    getrandom::fill(&mut secret).map_err(|_| HashError::Random)?;
    let password: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let started = Instant::now();
    let hash = policy.hash(&password)?;
    floor.observe_verification(&hash, started.elapsed());
    Ok(hash)
}

/// A few milliseconds of bcrypt (cost 6: enough rounds that setup costs do not skew the cost per
/// round), so the floor knows what bcrypt costs here before the first imported bcrypt account is
/// tried.
#[cfg(feature = "bcrypt")]
fn calibrate_bcrypt(floor: &FailureFloor) {
    let started = Instant::now();
    if let Ok(hash) = bcrypt::hash("calibration", 6) {
        floor.observe_verification(&hash, started.elapsed());
    }
}
