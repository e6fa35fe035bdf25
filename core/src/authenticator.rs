//! [`Authenticator`]: the pipeline that turns `Authorization` header values into an
//! [`AuthOutcome`].

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderValue;

use crate::admission::{Admission, Refused};
use crate::audit::{AuditEvent, AuditHook};
use crate::builder::AuthenticatorBuilder;
use crate::builder::Backend;
use crate::cache::{Joined, VerificationCache};
use crate::challenge::{Realm, RealmError};
use crate::check::{CheckOutcome, CredentialCheck, FailureLedger};
use crate::client::{self, ClientAddress, TrustedProxy};
use crate::clock::{Clock, SystemClock};
use crate::credentials::Credentials;
use crate::hash::{HashError, Verification};
use crate::lockout::LockoutPolicy;
use crate::parse::{parse_authorization, ParseOptions};
use crate::rejection::{FailureReason, RefusalFormat, Rejection, UnavailableReason};
use crate::store::{SlotRule, StoreError, UserStore};
use crate::telemetry;
use crate::timer;
use crate::timing::FailureFloor;
use crate::user::UserRecord;
use crate::verifier::{PasswordVerifier, VerifyError};

/// The future returned by [`Authenticator::authenticate_user`]: `Send`, `'static`, runs on any
/// executor.
#[must_use = "futures do nothing unless awaited"]
pub struct AuthenticateFuture<U> {
    inner: Pin<Box<dyn Future<Output = Result<U, Rejection>> + Send + 'static>>,
}

impl<U> Future for AuthenticateFuture<U> {
    type Output = Result<U, Rejection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<U> fmt::Debug for AuthenticateFuture<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthenticateFuture")
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
pub(crate) struct Users<U> {
    pub(crate) store: Arc<dyn UserStore<User = U>>,
    pub(crate) verifier: Arc<dyn PasswordVerifier>,
    /// Remembers, per verified password, whether its hash needs upgrading.
    pub(crate) cache: Arc<VerificationCache<Attempt, bool>>,
    /// A hash of a random password under the current policy: unknown, disabled, unconfirmed and
    /// locked users are verified against it so that they cost what a wrong password costs.
    pub(crate) dummy_hash: String,
    pub(crate) lockout: LockoutPolicy,
    pub(crate) last_login_interval: Duration,
    pub(crate) admission: Arc<Admission>,
    pub(crate) floor: FailureFloor,
    /// `Retry-After` when verification is saturated.
    pub(crate) busy_retry_after: Duration,
}

/// The credential-check half of an authenticator built with
/// [`Authenticator::builder_with_check`].
pub(crate) struct CheckedUsers<U> {
    pub(crate) check: Arc<dyn CredentialCheck<User = U>>,
    pub(crate) ledger: Arc<dyn FailureLedger>,
    /// Single-flight for identical checks, and the users of accepted credentials.
    pub(crate) cache: Arc<VerificationCache<CheckAttempt<U>, U>>,
    pub(crate) lockout: LockoutPolicy,
    pub(crate) admission: Arc<Admission>,
    pub(crate) floor: FailureFloor,
    pub(crate) busy_retry_after: Duration,
}

/// What one call of the application's check came to; identical concurrent requests share it.
#[derive(Debug, Clone)]
pub(crate) enum CheckAttempt<U> {
    Accepted(U),
    Refused,
    NoSlot,
    NotAdmitted(Refused),
    Unavailable(StoreError),
}

pub(crate) struct Inner<U> {
    pub(crate) realm: Realm,
    pub(crate) parse: ParseOptions,
    pub(crate) users: Option<Users<U>>,
    pub(crate) checked: Option<CheckedUsers<U>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) audit: Option<Arc<dyn AuditHook>>,
    pub(crate) cors_preflight: bool,
    pub(crate) retry_after: Duration,
    pub(crate) trusted_proxies: Vec<TrustedProxy>,
    pub(crate) refusal_format: RefusalFormat,
}

/// What one try at a password came to; identical concurrent requests share it.
#[derive(Debug, Clone)]
pub(crate) enum Attempt {
    /// Checked against the stored hash, after taking failure slot number `failures`.
    Verified {
        verification: Verification,
        failures: u32,
    },
    /// No failure slot: the account is locked (or went away meanwhile).
    NoSlot,
    /// Admission refused it.
    NotAdmitted(Refused),
    /// The store could not answer.
    StoreDown(StoreError),
    /// The verifier could not answer.
    VerifierFailed(VerifyError),
}

impl Attempt {
    /// For a right password, whether its hash is outdated: what the cache remembers.
    fn verified_needs_rehash(&self) -> Option<bool> {
        match self {
            Attempt::Verified {
                verification:
                    Verification {
                        matched: true,
                        needs_rehash,
                    },
                ..
            } => Some(*needs_rehash),
            _ => None,
        }
    }
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
/// 1. Hand over every `Authorization` field value of the request, as bytes, in order, and the
///    [`ClientAddress`] that [`client_address`](Self::client_address) makes of the socket peer
///    and the forwarding fields.
/// 2. Await the result of `authenticate_user` (or take that of `require_credentials`). Drop the
///    future when the client goes away: a request still waiting for verification then leaves
///    the queue unverified.
/// 3. On `Err(rejection)`, answer [`Rejection::response`] and do not run the handler.
///    Decide nothing yourself: the status, headers and body come from the core.
/// 4. Before all that, if [`is_exempt_preflight`](Self::is_exempt_preflight) says so, pass the
///    request on untouched.
///
/// ```
/// use endpoint_auth::{
///     Authenticator, HashPolicy, MemoryStore, NewUser, PoolConfig, Requirements,
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
/// let client = auth.client_address(Some([192, 0, 2, 7].into()), [], []);
/// let outcome = pollster::block_on(auth.authenticate_user([&header[..]], client, Requirements::new()));
/// match outcome {
///     Ok(user) => assert_eq!(user.email, "user123@gmail.com"),
///     other => panic!("{other:?}"),
/// }
///
/// let refused = pollster::block_on(auth.authenticate_user([], client, Requirements::new()));
/// let Err(rejection) = refused else { panic!() };
/// assert_eq!(rejection.status(), 401);
/// ```
pub struct Authenticator<U> {
    pub(crate) inner: Arc<Inner<U>>,
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
                checked: None,
                clock: Arc::new(SystemClock),
                audit: None,
                cors_preflight: false,
                retry_after: Duration::from_secs(1),
                trusted_proxies: Vec::new(),
                refusal_format: RefusalFormat::PlainText,
            }),
        })
    }

    /// The same credentials-only authenticator, writing refusal bodies in `format` (e.g. JSON
    /// for an API).
    pub fn with_refusal_format(self, format: RefusalFormat) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                realm: inner.realm.clone(),
                parse: inner.parse,
                users: None,
                checked: None,
                clock: inner.clock.clone(),
                audit: inner.audit.clone(),
                cors_preflight: inner.cors_preflight,
                retry_after: inner.retry_after,
                trusted_proxies: inner.trusted_proxies.clone(),
                refusal_format: format,
            }),
        }
    }
}

impl<U: Clone + Send + Sync + 'static> Authenticator<U> {
    /// Starts configuring an authenticator over `store`.
    pub fn builder<S>(store: S) -> AuthenticatorBuilder<U>
    where
        S: UserStore<User = U>,
    {
        AuthenticatorBuilder::new(Backend::Store(Arc::new(store)))
    }

    /// Starts configuring an authenticator whose `authenticate_users` asks `check` instead of a
    /// users store: see [`check`](crate::check). Failures are counted in a
    /// [`MemoryLedger`](crate::check::MemoryLedger) unless
    /// [`failure_ledger`](AuthenticatorBuilder::failure_ledger) names another.
    /// [`Requirements`] do not apply: the check decides who may come in.
    pub fn builder_with_check<C>(check: C) -> AuthenticatorBuilder<U>
    where
        C: CredentialCheck<User = U>,
    {
        AuthenticatorBuilder::new(Backend::Check(Arc::new(check)))
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

    /// A 429 with `Retry-After`: admission's answer to a client over its share.
    pub(crate) fn too_many_requests(&self, retry_after: Duration) -> Rejection {
        Rejection::too_many_requests(self.inner.realm.challenge().clone(), retry_after)
            .with_format(self.inner.refusal_format)
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
    pub fn require_credentials<'a, I>(&self, authorization: I) -> Result<Credentials, Rejection>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        parse_authorization(authorization, &self.inner.parse)
            .map_err(|error| self.unauthorized(None, FailureReason::BadHeader(error)))
    }

    /// [`require_credentials`](Self::require_credentials) over an `http` 1.x header map.
    pub fn require_credentials_from_headers(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Credentials, Rejection> {
        self.require_credentials(
            headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .map(HeaderValue::as_bytes),
        )
    }

    /// The client a request is admitted for (SPEC §5): the socket `peer`, or — only when the
    /// peer is one of the [trusted proxies](AuthenticatorBuilder::trusted_proxies) — the address
    /// it forwarded in `Forwarded` (RFC 7239) or, without that, `X-Forwarded-For`. Pass every
    /// field value of each, as bytes; `None` for a peer that is not known.
    pub fn client_address<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl IntoIterator<Item = &'a [u8]>,
        x_forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> ClientAddress {
        client::resolve(
            &self.inner.trusted_proxies,
            peer,
            forwarded,
            x_forwarded_for,
        )
    }

    /// [`client_address`](Self::client_address) over an `http` 1.x header map.
    pub fn client_address_from_headers(
        &self,
        peer: Option<IpAddr>,
        headers: &http::HeaderMap,
    ) -> ClientAddress {
        self.client_address(
            peer,
            headers
                .get_all(http::header::FORWARDED)
                .iter()
                .map(HeaderValue::as_bytes),
            headers
                .get_all("x-forwarded-for")
                .iter()
                .map(HeaderValue::as_bytes),
        )
    }

    /// `authenticate_users` mode: the stored user whose credentials the request carries, or a
    /// rejection (the uniform 401; a 429 when `client` is over its share of the verification
    /// queue while others wait; a 503 when the store or verification cannot answer).
    ///
    /// The header is read before this returns; the returned future owns everything it needs
    /// (`'static`), so it can be awaited or spawned anywhere. Dropping it abandons the request:
    /// if it is still waiting for verification, it is never verified.
    pub fn authenticate_user<'a, I>(
        &self,
        authorization: I,
        client: ClientAddress,
        requirements: Requirements,
    ) -> AuthenticateFuture<U>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let parsed = parse_authorization(authorization, &self.inner.parse);
        let this = self.clone();
        AuthenticateFuture {
            inner: Box::pin(async move {
                match parsed {
                    Ok(credentials) => {
                        this.authenticate_parsed(credentials, client, requirements)
                            .await
                    }
                    Err(error) => Err(this.unauthorized(None, FailureReason::BadHeader(error))),
                }
            }),
        }
    }

    /// [`authenticate_user`](Self::authenticate_user) over an `http` 1.x request's headers and
    /// its socket peer.
    pub fn authenticate_headers(
        &self,
        headers: &http::HeaderMap,
        peer: Option<IpAddr>,
        requirements: Requirements,
    ) -> AuthenticateFuture<U> {
        self.authenticate_user(
            headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .map(HeaderValue::as_bytes),
            self.client_address_from_headers(peer, headers),
            requirements,
        )
    }

    /// Raises the failure-time floor (SPEC §3) to cover `stored_hash` before any request shows
    /// it — e.g. after importing users whose bcrypt hashes are dearer than the default argon2id:
    /// otherwise the first wrong password tried against one is answered a little later than the
    /// refusals before it. Stored hashes are noted anyway before they are verified.
    pub fn expect_hash(&self, stored_hash: &str) {
        if let Some(users) = &self.inner.users {
            users.floor.note_hash(stored_hash);
        }
    }

    async fn authenticate_parsed(
        &self,
        credentials: Credentials,
        client: ClientAddress,
        requirements: Requirements,
    ) -> Result<U, Rejection> {
        if let Some(checked) = &self.inner.checked {
            return self
                .authenticate_checked(checked, credentials, client)
                .await;
        }
        let Some(users) = &self.inner.users else {
            return Err(self.unavailable(Some(&credentials), UnavailableReason::NoUserStore));
        };
        let started = Instant::now();
        let now = self.inner.clock.now();
        let lookup = credentials.username().trim();
        let record = match users.store.find_user(lookup).await {
            Ok(record) => record,
            Err(error) => return self.store_unavailable(&credentials, error),
        };
        let Some(mut record) = record else {
            let refusal = Refusal::new(lookup, FailureReason::UnknownUser, started, now);
            return self
                .refuse_uniformly(users, &credentials, client, refusal)
                .await;
        };
        if let Some(reason) = gate(&record, requirements, &users.lockout, now) {
            let refusal = Refusal::new(&record.login, reason, started, now);
            return self
                .refuse_uniformly(users, &credentials, client, refusal)
                .await;
        }
        let Some(stored_hash) = record.password_hash.take() else {
            let refusal = Refusal::new(&record.login, FailureReason::NoPassword, started, now);
            return self
                .refuse_uniformly(users, &credentials, client, refusal)
                .await;
        };
        let stored_hash = stored_hash.as_str();
        let fingerprint =
            users
                .cache
                .fingerprint(&record.login, credentials.password(), stored_hash);
        let joined = users.cache.join(fingerprint, now).await;
        telemetry::cache(matches!(joined, Joined::Cached(_)));
        let (attempt, led) = match joined {
            // What the verification found, remembered: a hit parses no hash.
            Joined::Cached(needs_rehash) => {
                return self
                    .succeed(
                        users,
                        record,
                        &credentials,
                        stored_hash,
                        needs_rehash,
                        false,
                        now,
                    )
                    .await;
            }
            Joined::Shared(attempt) => (attempt, false),
            Joined::Lead(leader) => {
                // The floor covers this hash's class before it is verified (SPEC §3).
                users.floor.note_hash(stored_hash);
                let attempt = self
                    .attempt(
                        users,
                        &record,
                        &credentials,
                        stored_hash,
                        client,
                        started,
                        now,
                    )
                    .await;
                if let Some(leader) = leader {
                    leader.finish(&attempt, attempt.verified_needs_rehash(), now);
                }
                (attempt, true)
            }
        };
        match attempt {
            Attempt::Verified {
                verification:
                    Verification {
                        matched: true,
                        needs_rehash,
                    },
                ..
            } => {
                if led {
                    self.succeed(
                        users,
                        record,
                        &credentials,
                        stored_hash,
                        needs_rehash,
                        true,
                        now,
                    )
                    .await
                } else {
                    // The leader recorded the login; this request shares its answer.
                    telemetry::authenticated();
                    self.audit(&AuditEvent::Authenticated {
                        username: credentials.username(),
                    });
                    Ok(record.user)
                }
            }
            Attempt::Verified { failures, .. } => {
                if led
                    && users
                        .lockout
                        .locked_until(failures, Some(now), now)
                        .is_some()
                {
                    tracing::warn!(login = %log_name(&record.login), failures, "account locked after repeated wrong passwords");
                    self.audit(&AuditEvent::LockedOut {
                        login: &record.login,
                        failures,
                    });
                }
                self.pad(users, started).await;
                Err(self.unauthorized(Some(&credentials), FailureReason::WrongPassword))
            }
            Attempt::NoSlot => {
                // Locked since the record was read: refused like any locked account, after the
                // same work. The store was written to already.
                let lockout = &users.lockout;
                let reason = match lockout.locked_until(lockout.max_failures, Some(now), now) {
                    Some(lock) => FailureReason::LockedOut(lock),
                    // Removed meanwhile.
                    None => FailureReason::UnknownUser,
                };
                let refusal = Refusal {
                    probe_store: false,
                    ..Refusal::new(&record.login, reason, started, now)
                };
                self.refuse_uniformly(users, &credentials, client, refusal)
                    .await
            }
            Attempt::NotAdmitted(refused) => {
                self.not_admitted(users, &credentials, client, refused)
            }
            Attempt::StoreDown(error) => self.store_unavailable(&credentials, error),
            Attempt::VerifierFailed(VerifyError::Hash(error)) => {
                tracing::error!(
                    login = %log_name(&record.login),
                    %error,
                    "stored password hash cannot be verified; replace it (the store should have refused it)"
                );
                self.pad(users, started).await;
                Err(self.unauthorized(Some(&credentials), FailureReason::UnusableHash(error)))
            }
            Attempt::VerifierFailed(error) => {
                Err(self.unavailable(Some(&credentials), UnavailableReason::Verifier(error)))
            }
        }
    }

    /// One try at the password (SPEC §4, §5): take a failure slot in the store first, so that
    /// however many requests race no more wrong passwords are verified than the lockout allows;
    /// then wait for a verification permit in the client's turn; then verify.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        users: &Users<U>,
        record: &UserRecord<U>,
        credentials: &Credentials,
        stored_hash: &str,
        client: ClientAddress,
        started: Instant,
        now: SystemTime,
    ) -> Attempt {
        let rule = users.lockout.slot_rule(now);
        let failures = match users
            .store
            .reserve_failure_slot(&record.login, rule, now)
            .await
        {
            Ok(Some(failures)) => failures,
            Ok(None) => return Attempt::NoSlot,
            Err(error) => return Attempt::StoreDown(error),
        };
        users.floor.observe_store(started.elapsed());
        let permit = match users.admission.acquire(client.admission_key()).await {
            Ok(permit) => permit,
            Err(refused) => return Attempt::NotAdmitted(refused),
        };
        let verifying = Instant::now();
        telemetry::verification(false);
        let result = users
            .verifier
            .verify(credentials.password(), stored_hash)
            .await;
        drop(permit);
        match result {
            Ok(verification) => {
                users
                    .floor
                    .observe_verification(stored_hash, verifying.elapsed());
                Attempt::Verified {
                    verification,
                    failures,
                }
            }
            Err(error) => Attempt::VerifierFailed(error),
        }
    }

    /// Refuses an account that is not verified (unknown, disabled, unconfirmed, locked, without
    /// password) after the same store write and the same verification work as a wrong password,
    /// through the same admission queue, and no sooner than the failure-time floor: neither
    /// the response nor its timing, under load or not, tells it from a wrong password (SPEC §3).
    async fn refuse_uniformly(
        &self,
        users: &Users<U>,
        credentials: &Credentials,
        client: ClientAddress,
        refusal: Refusal<'_>,
    ) -> Result<U, Rejection> {
        if refusal.probe_store {
            // A write that grants nothing: a store whose writes are blocked answers 503 here as
            // it would for a real account's failure slot.
            let probe = users
                .store
                .reserve_failure_slot(refusal.login, SlotRule::NONE, refusal.now)
                .await;
            if let Err(error) = probe {
                return self.store_unavailable(credentials, error);
            }
        }
        let fingerprint = users.cache.fingerprint(
            credentials.username(),
            credentials.password(),
            &users.dummy_hash,
        );
        let spent = match users.cache.join(fingerprint, refusal.now).await {
            Joined::Cached(_) => None,
            Joined::Shared(attempt) => Some(attempt),
            Joined::Lead(leader) => {
                let attempt = self.dummy_attempt(users, credentials, client).await;
                if let Some(leader) = leader {
                    leader.finish(&attempt, None, refusal.now);
                }
                Some(attempt)
            }
        };
        match spent {
            Some(Attempt::NotAdmitted(refused)) => {
                // Answering 401 without having done the work would reveal that the account is
                // not a normal one: shed it like any other request.
                return self.not_admitted(users, credentials, client, refused);
            }
            Some(Attempt::VerifierFailed(
                error @ (VerifyError::Busy { .. } | VerifyError::WorkerGone),
            )) => {
                return Err(self.unavailable(Some(credentials), UnavailableReason::Verifier(error)));
            }
            _ => {}
        }
        self.pad(users, refusal.started).await;
        Err(self.unauthorized(Some(credentials), refusal.reason))
    }

    /// The verification an unverifiable account costs: against the dummy hash.
    async fn dummy_attempt(
        &self,
        users: &Users<U>,
        credentials: &Credentials,
        client: ClientAddress,
    ) -> Attempt {
        let permit = match users.admission.acquire(client.admission_key()).await {
            Ok(permit) => permit,
            Err(refused) => return Attempt::NotAdmitted(refused),
        };
        let verifying = Instant::now();
        telemetry::verification(true);
        let result = users
            .verifier
            .verify(credentials.password(), &users.dummy_hash)
            .await;
        drop(permit);
        match result {
            Ok(verification) => {
                users
                    .floor
                    .observe_verification(&users.dummy_hash, verifying.elapsed());
                Attempt::Verified {
                    verification,
                    failures: 0,
                }
            }
            Err(error) => Attempt::VerifierFailed(error),
        }
    }

    /// Waits until the failure-time floor has passed since `started` (SPEC §3). Waiting, on the
    /// timer thread: no worker is held and no CPU spent.
    async fn pad(&self, users: &Users<U>, started: Instant) {
        timer::sleep_until(started + users.floor.floor()).await;
    }

    /// `authenticate_users` over the application's check, behind the same lockout, admission,
    /// cache and uniform refusals as a users store.
    async fn authenticate_checked(
        &self,
        checked: &CheckedUsers<U>,
        credentials: Credentials,
        client: ClientAddress,
    ) -> Result<U, Rejection> {
        let started = Instant::now();
        let now = self.inner.clock.now();
        let login = credentials.username().trim();
        let credentials = &credentials;
        let refuse = |reason: FailureReason| async move {
            timer::sleep_until(started + checked.floor.floor()).await;
            Err(self.unauthorized(Some(credentials), reason))
        };
        let (failures, last_failure) = match checked.ledger.failures(login).await {
            Ok(state) => state,
            Err(error) => return self.store_unavailable(credentials, error),
        };
        if let Some(lock) = checked.lockout.locked_until(failures, last_failure, now) {
            return refuse(FailureReason::LockedOut(lock)).await;
        }
        let key = crate::store::login_key(login);
        let fingerprint = checked.cache.fingerprint(&key, credentials.password(), "");
        let joined = checked.cache.join(fingerprint, now).await;
        telemetry::cache(matches!(joined, Joined::Cached(_)));
        let attempt = match joined {
            Joined::Cached(user) => {
                if failures > 0 {
                    if let Err(error) = checked.ledger.reset(login).await {
                        tracing::warn!(login = %log_name(login), %error, "could not clear the failure count");
                    }
                }
                CheckAttempt::Accepted(user)
            }
            Joined::Shared(attempt) => attempt,
            Joined::Lead(leader) => {
                let attempt = self
                    .check_attempt(checked, login, credentials, client, now)
                    .await;
                if let Some(leader) = leader {
                    let accepted = match &attempt {
                        CheckAttempt::Accepted(user) => Some(user.clone()),
                        _ => None,
                    };
                    leader.finish(&attempt, accepted, now);
                }
                attempt
            }
        };
        match attempt {
            CheckAttempt::Accepted(user) => {
                telemetry::authenticated();
                self.audit(&AuditEvent::Authenticated {
                    username: credentials.username(),
                });
                Ok(user)
            }
            CheckAttempt::Refused => refuse(FailureReason::WrongPassword).await,
            CheckAttempt::NoSlot => {
                let lockout = &checked.lockout;
                let reason = match lockout.locked_until(lockout.max_failures, Some(now), now) {
                    Some(lock) => FailureReason::LockedOut(lock),
                    None => FailureReason::WrongPassword,
                };
                refuse(reason).await
            }
            CheckAttempt::NotAdmitted(refused) => {
                self.refused_admission(checked.busy_retry_after, credentials, client, refused)
            }
            CheckAttempt::Unavailable(error) => self.store_unavailable(credentials, error),
        }
    }

    /// One call of the application's check: a failure slot first, then a permit, then the
    /// check; a success gives the slot back.
    async fn check_attempt(
        &self,
        checked: &CheckedUsers<U>,
        login: &str,
        credentials: &Credentials,
        client: ClientAddress,
        now: SystemTime,
    ) -> CheckAttempt<U> {
        let rule = checked.lockout.slot_rule(now);
        match checked.ledger.reserve_failure_slot(login, rule, now).await {
            Ok(Some(_)) => {}
            Ok(None) => return CheckAttempt::NoSlot,
            Err(error) => return CheckAttempt::Unavailable(error),
        }
        let permit = match checked.admission.acquire(client.admission_key()).await {
            Ok(permit) => permit,
            Err(refused) => return CheckAttempt::NotAdmitted(refused),
        };
        let checking = Instant::now();
        telemetry::verification(false);
        let outcome = checked.check.check(login, credentials.password()).await;
        drop(permit);
        checked.floor.observe_check(checking.elapsed());
        match outcome {
            Ok(CheckOutcome::Accepted(user)) => {
                if let Err(error) = checked.ledger.reset(login).await {
                    tracing::warn!(login = %log_name(login), %error, "could not clear the failure count");
                }
                CheckAttempt::Accepted(user)
            }
            Ok(_) => CheckAttempt::Refused,
            Err(error) => CheckAttempt::Unavailable(error),
        }
    }

    fn not_admitted(
        &self,
        users: &Users<U>,
        credentials: &Credentials,
        client: ClientAddress,
        refused: Refused,
    ) -> Result<U, Rejection> {
        self.refused_admission(users.busy_retry_after, credentials, client, refused)
    }

    fn refused_admission(
        &self,
        busy_retry_after: Duration,
        credentials: &Credentials,
        client: ClientAddress,
        refused: Refused,
    ) -> Result<U, Rejection> {
        match refused {
            Refused::OverShare => {
                telemetry::too_many_requests();
                tracing::info!(username = %log_name(credentials.username()), %client, "verification queue: client over its share while others wait");
                self.audit(&AuditEvent::Throttled {
                    username: credentials.username(),
                    client,
                });
                Err(self.too_many_requests(busy_retry_after))
            }
            Refused::Busy => {
                telemetry::shed();
                Err(self.unavailable(
                    Some(credentials),
                    UnavailableReason::Verifier(VerifyError::Busy {
                        retry_after: busy_retry_after,
                    }),
                ))
            }
        }
    }

    /// A right password: the user, after recording the login (which also gives back the
    /// failure slot a verification took) and upgrading an outdated hash.
    #[allow(clippy::too_many_arguments)]
    async fn succeed(
        &self,
        users: &Users<U>,
        record: UserRecord<U>,
        credentials: &Credentials,
        stored_hash: &str,
        needs_rehash: bool,
        took_slot: bool,
        now: SystemTime,
    ) -> Result<U, Rejection> {
        // A busy client should not cost a write per request: skip when nothing would change
        // but a `last_login` younger than the interval.
        let recent_login = record.last_login.is_some_and(|at| {
            now.duration_since(at)
                .is_ok_and(|age| age < users.last_login_interval)
        });
        if took_slot || record.n_password_failures > 0 || !recent_login {
            if let Err(error) = users.store.record_success(&record.login, now).await {
                // The decision was made on fresh data; only the bookkeeping failed.
                tracing::warn!(login = %log_name(&record.login), %error, "could not record a successful login");
            }
        }
        if needs_rehash {
            self.rehash(users, &record, credentials, stored_hash).await;
        }
        telemetry::authenticated();
        self.audit(&AuditEvent::Authenticated {
            username: credentials.username(),
        });
        Ok(record.user)
    }

    async fn rehash(
        &self,
        users: &Users<U>,
        record: &UserRecord<U>,
        credentials: &Credentials,
        stored_hash: &str,
    ) {
        let login = log_name(&record.login);
        let new_hash = match users.verifier.hash(credentials.password()).await {
            Ok(hash) => hash,
            Err(error) => {
                tracing::warn!(%login, %error, "could not rehash an outdated password hash; will retry at the next login");
                return;
            }
        };
        match users
            .store
            .replace_password_hash(&record.login, stored_hash, &new_hash)
            .await
        {
            Ok(true) => {
                tracing::info!(%login, "upgraded an outdated password hash to argon2id")
            }
            Ok(false) => {
                tracing::debug!(%login, "password changed meanwhile; kept the new one")
            }
            Err(error) => {
                tracing::warn!(%login, %error, "could not store the upgraded password hash")
            }
        }
    }

    fn store_unavailable(
        &self,
        credentials: &Credentials,
        error: StoreError,
    ) -> Result<U, Rejection> {
        Err(self.unavailable(Some(credentials), UnavailableReason::Store(error)))
    }

    fn unauthorized(&self, credentials: Option<&Credentials>, reason: FailureReason) -> Rejection {
        let username = credentials.map(Credentials::username);
        tracing::info!(username = username.map(log_name).as_deref(), reason = %reason, "authentication refused");
        telemetry::unauthorized(&reason);
        self.audit(&AuditEvent::Refused {
            username,
            reason: &reason,
        });
        Rejection::unauthorized(self.inner.realm.challenge().clone(), reason)
            .with_format(self.inner.refusal_format)
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
        tracing::warn!(username = username.map(log_name).as_deref(), reason = %reason, "authentication unavailable");
        telemetry::unavailable(&reason);
        self.audit(&AuditEvent::Unavailable {
            username,
            reason: &reason,
        });
        Rejection::unavailable(self.inner.realm.challenge().clone(), reason, retry_after)
            .with_format(self.inner.refusal_format)
    }

    fn audit(&self, event: &AuditEvent<'_>) {
        if let Some(hook) = &self.inner.audit {
            hook.record(event);
        }
    }
}

/// A refusal of an account that is not verified, and what it needs to look like any other.
struct Refusal<'a> {
    login: &'a str,
    reason: FailureReason,
    /// Whether the store still needs its (granting-nothing) write.
    probe_store: bool,
    started: Instant,
    now: SystemTime,
}

impl<'a> Refusal<'a> {
    fn new(login: &'a str, reason: FailureReason, started: Instant, now: SystemTime) -> Self {
        Self {
            login,
            reason,
            probe_store: true,
            started,
            now,
        }
    }
}

/// How a name appears in logs: at most 64 characters, so that a client sending huge usernames
/// cannot flood them.
pub(crate) fn log_name(name: &str) -> Cow<'_, str> {
    const MAX: usize = 64;
    match name.char_indices().nth(MAX) {
        None => Cow::Borrowed(name),
        Some((cut, _)) => Cow::Owned(format!("{}…", &name[..cut])),
    }
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

#[cfg(test)]
mod tests;
