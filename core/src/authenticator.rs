//! [`Authenticator`]: the pipeline that turns `Authorization` header values into an
//! [`AuthOutcome`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::HeaderValue;

use crate::audit::{AuditEvent, AuditHook};
use crate::cache::{CacheConfig, VerificationCache};
use crate::challenge::{Realm, RealmError};
use crate::credentials::Credentials;
use crate::lockout::LockoutPolicy;
use crate::outcome::{AuthOutcome, FailureReason, Rejection, UnavailableReason};
use crate::parse::{parse_authorization, ParseError, ParseOptions};
use crate::password::{HashError, HashPolicy, Verification};
use crate::pool::{PasswordVerifier, PoolConfig, VerificationPool, VerifyError};
use crate::store::{StoreError, UserStore};
use crate::user::UserRecord;

/// Where the current time comes from. The default reads the system clock; tests pass a fixed one
/// so that lockout and caching are testable without sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The future returned by [`Authenticator::authenticate_user`]: `Send`, `'static`, runs on any
/// executor.
#[must_use = "futures do nothing unless awaited"]
pub struct AuthenticateFuture<U> {
    inner: Pin<Box<dyn Future<Output = AuthOutcome<U>> + Send + 'static>>,
}

impl<U> Future for AuthenticateFuture<U> {
    type Output = AuthOutcome<U>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<U> fmt::Debug for AuthenticateFuture<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthenticateFuture")
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// What an `authenticate_users` endpoint requires of the user beyond a right password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements {
    confirmed_email: bool,
}

impl Requirements {
    /// An enabled, unlocked user with the right password.
    pub const fn new() -> Self {
        Self {
            confirmed_email: false,
        }
    }

    /// Also require a confirmed email address.
    pub const fn confirmed_email(mut self, required: bool) -> Self {
        self.confirmed_email = required;
        self
    }

    /// Whether a confirmed email is required.
    pub const fn requires_confirmed_email(&self) -> bool {
        self.confirmed_email
    }
}

/// Why an [`Authenticator`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The realm is not usable in a challenge.
    #[error(transparent)]
    Realm(#[from] RealmError),
    /// The hashing threads could not be started.
    #[error("could not start password hashing threads: {0}")]
    Threads(#[from] std::io::Error),
    /// The dummy hash (for unknown users) could not be made.
    #[error("could not prepare the dummy hash for unknown users: {0}")]
    DummyHash(#[from] HashError),
    /// The OS random number generator failed while keying the verification cache.
    #[error("could not key the verification cache: the operating system's random number generator failed")]
    Random,
}

/// The users half of an authenticator: absent for credentials-only endpoints.
struct Users<U> {
    store: Arc<dyn UserStore<User = U>>,
    verifier: Arc<dyn PasswordVerifier>,
    cache: Arc<VerificationCache>,
    /// A hash of a random password under the current policy: unknown, disabled, unconfirmed and
    /// locked users are verified against it so that they cost what a wrong password costs.
    dummy_hash: String,
    lockout: LockoutPolicy,
    last_login_interval: Duration,
}

struct Inner<U> {
    realm: Realm,
    parse: ParseOptions,
    users: Option<Users<U>>,
    clock: Arc<dyn Clock>,
    audit: Option<Arc<dyn AuditHook>>,
    cors_preflight: bool,
    retry_after: Duration,
}

/// HTTP Basic authentication of endpoints, in Anvil's two modes.
///
/// - [`authenticate_user`](Self::authenticate_user) (`authenticate_users=True`): parse, look the
///   user up, check enabled / confirmed / locked, verify the password off-thread, record the
///   result, and yield the stored user.
/// - [`require_credentials`](Self::require_credentials) (`require_credentials=True`): parse and
///   yield the credentials; the handler checks them, and answers with
///   [`challenge`](Self::challenge) if it refuses them.
///
/// Cloning is cheap (one `Arc`); build one per realm and share it.
///
/// # Driving contract (for adapter authors)
/// 1. Hand over every `Authorization` field value of the request, as bytes, in order.
/// 2. Await the outcome of `authenticate_user` (or take that of `require_credentials`).
/// 3. On [`AuthOutcome::Rejected`], answer [`Rejection::response`] and do not run the handler.
///    Decide nothing yourself: the status, headers and body come from the core.
/// 4. Before all that, if [`is_exempt_preflight`](Self::is_exempt_preflight) says so, pass the
///    request on untouched.
///
/// ```
/// use endpoint_auth::{
///     Authenticator, AuthOutcome, HashPolicy, MemoryStore, NewUser, PoolConfig, Requirements,
/// };
///
/// let policy = HashPolicy::argon2id(64, 1, 1).unwrap(); // cheap, for the example
/// let store = MemoryStore::new();
/// store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd").unwrap()))).unwrap();
///
/// let auth = Authenticator::builder(store)
///     .realm("example")
///     .hash_policy(policy)
///     .pool(PoolConfig::new().workers(1))
///     .build()
///     .unwrap();
///
/// let header = b"Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
/// let outcome = pollster::block_on(auth.authenticate_user([&header[..]], Requirements::new()));
/// match outcome {
///     AuthOutcome::User(user) => assert_eq!(user.email, "user123@gmail.com"),
///     other => panic!("{other:?}"),
/// }
///
/// let refused = pollster::block_on(auth.authenticate_user([], Requirements::new()));
/// let AuthOutcome::Rejected(rejection) = refused else { panic!() };
/// assert_eq!(rejection.status(), 401);
/// ```
pub struct Authenticator<U> {
    inner: Arc<Inner<U>>,
}

impl<U> Clone for Authenticator<U> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<U> fmt::Debug for Authenticator<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("realm", &self.inner.realm)
            .field("parse", &self.inner.parse)
            .field("users", &self.inner.users.is_some())
            .field("cors_preflight", &self.inner.cors_preflight)
            .finish_non_exhaustive()
    }
}

/// A type with no values: the user type of a credentials-only [`Authenticator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoUser {}

impl Authenticator<NoUser> {
    /// An authenticator for `require_credentials` endpoints only: no store, no hashing threads.
    ///
    /// # Errors
    /// [`RealmError`] when the realm contains control characters.
    pub fn credentials_only(realm: impl Into<String>) -> Result<Self, RealmError> {
        Ok(Self {
            inner: Arc::new(Inner {
                realm: Realm::new(realm)?,
                parse: ParseOptions::new(),
                users: None,
                clock: Arc::new(SystemClock),
                audit: None,
                cors_preflight: false,
                retry_after: Duration::from_secs(1),
            }),
        })
    }
}

impl<U: Clone + Send + Sync + 'static> Authenticator<U> {
    /// Starts configuring an authenticator over `store`.
    pub fn builder<S>(store: S) -> AuthenticatorBuilder<U>
    where
        S: UserStore<User = U>,
    {
        AuthenticatorBuilder::new(Arc::new(store))
    }

    /// The realm named in challenges.
    pub fn realm(&self) -> &Realm {
        &self.inner.realm
    }

    /// The header-reading options.
    pub fn parse_options(&self) -> &ParseOptions {
        &self.inner.parse
    }

    /// The 401 a `require_credentials` handler answers with when it refuses the credentials it
    /// was given: the same response as every other 401 (SPEC §3).
    pub fn challenge(&self) -> Rejection {
        self.unauthorized(None, FailureReason::RefusedByHandler)
    }

    /// A 429 with `Retry-After`, for adapters' per-client rate limits.
    pub fn too_many_requests(&self, retry_after: Duration) -> Rejection {
        Rejection::too_many_requests(self.inner.realm.challenge().clone(), retry_after)
    }

    /// Whether this request is a CORS preflight that the endpoint lets through without
    /// credentials (SPEC §5): the method is `OPTIONS`, it carries
    /// `Access-Control-Request-Method`, and preflight pass-through is enabled.
    pub fn is_exempt_preflight(
        &self,
        method: &[u8],
        has_access_control_request_method: bool,
    ) -> bool {
        self.inner.cors_preflight && has_access_control_request_method && method == b"OPTIONS"
    }

    /// [`is_exempt_preflight`](Self::is_exempt_preflight) for an `http` 1.x request head.
    pub fn is_exempt_preflight_request(
        &self,
        method: &http::Method,
        headers: &http::HeaderMap,
    ) -> bool {
        self.is_exempt_preflight(
            method.as_str().as_bytes(),
            headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD),
        )
    }

    /// `require_credentials` mode: the well-formed credentials of the request, or the uniform
    /// 401.
    ///
    /// Pass every `Authorization` field value of the request, as bytes.
    pub fn require_credentials<'a, I>(&self, authorization: I) -> AuthOutcome<U>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        match parse_authorization(authorization, &self.inner.parse) {
            Ok(credentials) => AuthOutcome::Credentials(credentials),
            Err(error) => {
                AuthOutcome::Rejected(self.unauthorized(None, FailureReason::BadHeader(error)))
            }
        }
    }

    /// [`require_credentials`](Self::require_credentials) over an `http` 1.x header map.
    pub fn require_credentials_from_headers(&self, headers: &http::HeaderMap) -> AuthOutcome<U> {
        self.require_credentials(
            headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .map(HeaderValue::as_bytes),
        )
    }

    /// `authenticate_users` mode: the stored user whose credentials the request carries, or a
    /// rejection (the uniform 401, or a 503 when the store or the verifier cannot answer).
    ///
    /// The header is read before this returns; the returned future owns everything it needs
    /// (`'static`), so it can be awaited or spawned anywhere.
    pub fn authenticate_user<'a, I>(
        &self,
        authorization: I,
        requirements: Requirements,
    ) -> AuthenticateFuture<U>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let parsed = parse_authorization(authorization, &self.inner.parse);
        let this = self.clone();
        AuthenticateFuture {
            inner: Box::pin(async move { this.authenticate_parsed(parsed, requirements).await }),
        }
    }

    /// [`authenticate_user`](Self::authenticate_user) over an `http` 1.x header map.
    pub fn authenticate_headers(
        &self,
        headers: &http::HeaderMap,
        requirements: Requirements,
    ) -> AuthenticateFuture<U> {
        self.authenticate_user(
            headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .map(HeaderValue::as_bytes),
            requirements,
        )
    }

    async fn authenticate_parsed(
        &self,
        parsed: Result<Credentials, ParseError>,
        requirements: Requirements,
    ) -> AuthOutcome<U> {
        let credentials = match parsed {
            Ok(credentials) => credentials,
            Err(error) => {
                return AuthOutcome::Rejected(
                    self.unauthorized(None, FailureReason::BadHeader(error)),
                )
            }
        };
        let Some(users) = &self.inner.users else {
            return AuthOutcome::Rejected(
                self.unavailable(Some(&credentials), UnavailableReason::NoUserStore),
            );
        };
        let now = self.inner.clock.now();
        let lookup = credentials.username().trim();
        let record = match users.store.find_user(lookup).await {
            Ok(record) => record,
            Err(error) => return self.store_unavailable(&credentials, error),
        };
        let Some(record) = record else {
            return self
                .refuse_after_dummy(users, &credentials, FailureReason::UnknownUser, now)
                .await;
        };
        if let Some(reason) = gate(&record, requirements, &users.lockout, now) {
            return self
                .refuse_after_dummy(users, &credentials, reason, now)
                .await;
        }
        let Some(stored_hash) = record.password_hash.as_deref() else {
            return self
                .refuse_after_dummy(users, &credentials, FailureReason::NoPassword, now)
                .await;
        };
        let verification = users
            .cache
            .verify(
                &*users.verifier,
                &record.login,
                credentials.password(),
                stored_hash,
                now,
            )
            .await;
        match verification {
            Ok(Verification {
                matched: true,
                needs_rehash,
            }) => {
                self.record_success(users, &record, &credentials, stored_hash, needs_rehash, now)
                    .await;
                self.audit(&AuditEvent::Authenticated {
                    username: credentials.username(),
                });
                AuthOutcome::User(record.user)
            }
            Ok(Verification { matched: false, .. }) => {
                self.record_failure(users, &record, &credentials, now).await
            }
            Err(VerifyError::Hash(error)) => {
                tracing::error!(
                    login = %record.login,
                    %error,
                    "stored password hash cannot be verified; replace it (the store should have refused it)"
                );
                AuthOutcome::Rejected(
                    self.unauthorized(Some(&credentials), FailureReason::UnusableHash(error)),
                )
            }
            Err(error) => AuthOutcome::Rejected(
                self.unavailable(Some(&credentials), UnavailableReason::Verifier(error)),
            ),
        }
    }

    /// Spends one verification against the dummy hash, then refuses: unknown, disabled,
    /// unconfirmed and locked accounts cost what a wrong password costs (SPEC §3).
    async fn refuse_after_dummy(
        &self,
        users: &Users<U>,
        credentials: &Credentials,
        reason: FailureReason,
        now: SystemTime,
    ) -> AuthOutcome<U> {
        let spent = users
            .cache
            .verify(
                &*users.verifier,
                credentials.username(),
                credentials.password(),
                &users.dummy_hash,
                now,
            )
            .await;
        if let Err(error @ (VerifyError::Busy { .. } | VerifyError::WorkerGone)) = spent {
            // Answering 401 here without having done the work would reveal that the account is
            // not a normal one; shed the request like any other under overload.
            return AuthOutcome::Rejected(
                self.unavailable(Some(credentials), UnavailableReason::Verifier(error)),
            );
        }
        AuthOutcome::Rejected(self.unauthorized(Some(credentials), reason))
    }

    async fn record_failure(
        &self,
        users: &Users<U>,
        record: &UserRecord<U>,
        credentials: &Credentials,
        now: SystemTime,
    ) -> AuthOutcome<U> {
        match users.store.record_failure(&record.login, now).await {
            Ok(failures) => {
                if users
                    .lockout
                    .locked_until(failures, Some(now), now)
                    .is_some()
                {
                    tracing::warn!(login = %record.login, failures, "account locked after repeated wrong passwords");
                    self.audit(&AuditEvent::LockedOut {
                        login: &record.login,
                        failures,
                    });
                }
                AuthOutcome::Rejected(
                    self.unauthorized(Some(credentials), FailureReason::WrongPassword),
                )
            }
            // A failure that cannot be counted must not be answered as an ordinary 401, or an
            // attacker could guess on without ever reaching the lockout.
            Err(error) => self.store_unavailable(credentials, error),
        }
    }

    async fn record_success(
        &self,
        users: &Users<U>,
        record: &UserRecord<U>,
        credentials: &Credentials,
        stored_hash: &str,
        needs_rehash: bool,
        now: SystemTime,
    ) {
        // A busy client should not cost a write per request: skip when nothing would change
        // but a `last_login` younger than the interval.
        let recent_login = record.last_login.is_some_and(|at| {
            now.duration_since(at)
                .is_ok_and(|age| age < users.last_login_interval)
        });
        if record.n_password_failures > 0 || !recent_login {
            if let Err(error) = users.store.record_success(&record.login, now).await {
                // The decision was made on fresh data; only the bookkeeping failed.
                tracing::warn!(login = %record.login, %error, "could not record a successful login");
            }
        }
        if needs_rehash {
            self.rehash(users, record, credentials, stored_hash).await;
        }
    }

    async fn rehash(
        &self,
        users: &Users<U>,
        record: &UserRecord<U>,
        credentials: &Credentials,
        stored_hash: &str,
    ) {
        let new_hash = match users.verifier.hash(credentials.password()).await {
            Ok(hash) => hash,
            Err(error) => {
                tracing::warn!(login = %record.login, %error, "could not rehash an outdated password hash; will retry at the next login");
                return;
            }
        };
        match users
            .store
            .replace_password_hash(&record.login, stored_hash, &new_hash)
            .await
        {
            Ok(true) => {
                tracing::info!(login = %record.login, "upgraded an outdated password hash to argon2id")
            }
            Ok(false) => {
                tracing::debug!(login = %record.login, "password changed meanwhile; kept the new one")
            }
            Err(error) => {
                tracing::warn!(login = %record.login, %error, "could not store the upgraded password hash")
            }
        }
    }

    fn store_unavailable(&self, credentials: &Credentials, error: StoreError) -> AuthOutcome<U> {
        AuthOutcome::Rejected(self.unavailable(Some(credentials), UnavailableReason::Store(error)))
    }

    fn unauthorized(&self, credentials: Option<&Credentials>, reason: FailureReason) -> Rejection {
        let username = credentials.map(Credentials::username);
        tracing::info!(username, reason = %reason, "authentication refused");
        self.audit(&AuditEvent::Refused {
            username,
            reason: &reason,
        });
        Rejection::unauthorized(self.inner.realm.challenge().clone(), reason)
    }

    fn unavailable(
        &self,
        credentials: Option<&Credentials>,
        reason: UnavailableReason,
    ) -> Rejection {
        let username = credentials.map(Credentials::username);
        let retry_after = match &reason {
            UnavailableReason::Verifier(VerifyError::Busy { retry_after }) => *retry_after,
            _ => self.inner.retry_after,
        };
        tracing::warn!(username, reason = %reason, "authentication unavailable");
        self.audit(&AuditEvent::Unavailable {
            username,
            reason: &reason,
        });
        Rejection::unavailable(self.inner.realm.challenge().clone(), reason, retry_after)
    }

    fn audit(&self, event: &AuditEvent<'_>) {
        if let Some(hook) = &self.inner.audit {
            hook.record(event);
        }
    }
}

/// The rule of the adapters' optional forms (`Option<AuthUser>` and the like), decided here so
/// that every adapter agrees: a request without any `Authorization` field is anonymous and served
/// as such, without asking the store; a request with one, even a malformed one, is authenticated
/// and refused if that fails, so a wrong password is never served as anonymous.
///
/// Pass every `Authorization` field value of the request, as for
/// [`Authenticator::authenticate_user`].
///
/// ```
/// assert!(endpoint_auth::is_anonymous(std::iter::empty::<&[u8]>()));
/// assert!(!endpoint_auth::is_anonymous([&b"Basic !!"[..]]));
/// ```
pub fn is_anonymous<'a, I>(authorization: I) -> bool
where
    I: IntoIterator<Item = &'a [u8]>,
{
    authorization.into_iter().next().is_none()
}

/// The pure account checks, in SPEC order: enabled, confirmed (where required), not locked.
fn gate<U>(
    record: &UserRecord<U>,
    requirements: Requirements,
    lockout: &LockoutPolicy,
    now: SystemTime,
) -> Option<FailureReason> {
    if !record.enabled {
        return Some(FailureReason::Disabled);
    }
    if requirements.confirmed_email && !record.confirmed_email {
        return Some(FailureReason::EmailNotConfirmed);
    }
    lockout
        .locked_until(record.n_password_failures, record.last_failure, now)
        .map(FailureReason::LockedOut)
}

/// Configures an [`Authenticator`]. Start with [`Authenticator::builder`].
pub struct AuthenticatorBuilder<U> {
    store: Arc<dyn UserStore<User = U>>,
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
            .finish_non_exhaustive()
    }
}

impl<U: Clone + Send + Sync + 'static> AuthenticatorBuilder<U> {
    fn new(store: Arc<dyn UserStore<User = U>>) -> Self {
        Self {
            store,
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
        }
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

    /// Sizing of the hashing pool.
    pub fn pool(mut self, config: PoolConfig) -> Self {
        self.pool = config;
        self
    }

    /// Use this verifier instead of starting a [`VerificationPool`]; the hash policy then only
    /// makes the dummy hash.
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

    /// Validates the realm, starts the hashing threads and prepares the dummy hash.
    ///
    /// # Errors
    /// [`BuildError`] when the realm has control characters or hashing cannot be set up.
    pub fn build(self) -> Result<Authenticator<U>, BuildError> {
        let realm = Realm::new(self.realm)?;
        let dummy_hash = dummy_hash(&self.hash_policy)?;
        let verifier: Arc<dyn PasswordVerifier> = match self.verifier {
            Some(verifier) => verifier,
            None => Arc::new(VerificationPool::new(self.hash_policy, self.pool)?),
        };
        let cache = VerificationCache::new(self.cache).map_err(|_| BuildError::Random)?;
        Ok(Authenticator {
            inner: Arc::new(Inner {
                realm,
                parse: self.parse,
                users: Some(Users {
                    store: self.store,
                    verifier,
                    cache: Arc::new(cache),
                    dummy_hash,
                    lockout: self.lockout,
                    last_login_interval: self.last_login_interval,
                }),
                clock: self.clock,
                audit: self.audit,
                cors_preflight: self.cors_preflight,
                retry_after: self.retry_after,
            }),
        })
    }
}

fn dummy_hash(policy: &HashPolicy) -> Result<String, HashError> {
    let mut secret = [0u8; 24];
    getrandom::fill(&mut secret).map_err(|_| HashError::Random)?;
    let password: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    policy.hash(&password)
}

#[cfg(test)]
mod tests;
