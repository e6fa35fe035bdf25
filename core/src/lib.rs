//! HTTP Basic authentication of endpoints (RFC 7617), framework-agnostic.
//!
//! `endpoint-auth` gives a Rust server what Anvil's `@http_endpoint(..., authenticate_users=True)`
//! and `require_credentials=True` give an Anvil app:
//!
//! - **authenticate_users**: the `Authorization: Basic` credentials are checked against a users
//!   store (argon2id hashes, enabled and confirmed-email flags, lockout after repeated failures)
//!   and the handler receives the stored user;
//! - **require_credentials**: the handler receives the username and password, and checks them
//!   itself.
//!
//! A missing or failed login gets `401 Unauthorized` with
//! `WWW-Authenticate: Basic realm="…", charset="UTF-8"`, the same for every reason, so that no
//! answer tells whether an account exists; a store that cannot answer gets `503` with
//! `Retry-After`, never a 401.
//!
//! This crate is the core. Pick the adapter for your framework (`endpoint-auth-axum`,
//! `endpoint-auth-warp`, `endpoint-auth-rocket`, `endpoint-auth-actix`) and a users store
//! (`endpoint-auth-sql` for SQLite or PostgreSQL, or [`MemoryStore`]).
//!
//! ```text
//!   Authorization header value(s), as bytes          (from any framework's request type)
//!        │
//!        ▼
//!   parse ──► Credentials | ParseError               pure: RFC 7617, SPEC §1
//!        │
//!        ├─ require_credentials ──► AuthOutcome::Credentials
//!        ▼
//!   UserStore::find_user ──► UserRecord              trait, async (SQL, memory, yours)
//!        ▼
//!   gate: enabled? confirmed? locked?                pure, `now` passed in
//!        ▼
//!   cache hit? ── no ──► UserStore::reserve_failure_slot   atomic, before any verification
//!        │                  ▼
//!        │               admission: per-client queues, round-robin, max_wait   (429 | 503)
//!        │                  ▼
//!        │               PasswordVerifier            bounded thread pool, awaitable
//!        ▼                  ▼
//!   UserStore::record_success / replace_password_hash;   refusals padded to the failure floor
//!        ▼
//!   AuthOutcome::{User, Credentials, Rejected}  ──►  Rejection::response(): 401 | 503 | 429
//! ```
//!
//! # What it does not do
//! - **No I/O of its own**: no sockets, no files, no web framework, no async runtime. Stores and
//!   adapters bring those; the futures here run on any executor.
//! - **No TLS.** Basic authentication sends the password in clear (base64 is not encryption):
//!   serve it over HTTPS only.
//! - **No sessions or cookies**: every request carries its credentials, as RFC 7617 intends.
//!   The verification cache keeps that affordable.
//!
//! # Quick start
//! ```
//! use endpoint_auth::{Authenticator, AuthOutcome, HashPolicy, MemoryStore, NewUser, Requirements};
//!
//! # let policy = HashPolicy::argon2id(64, 1, 1).unwrap();
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let auth = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! // In an adapter: hand over the Authorization header values, act on the outcome.
//! let header: &[u8] = b"Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
//! let client = auth.client_address(Some([192, 0, 2, 7].into()), [], []); // the socket peer
//! match pollster::block_on(auth.authenticate_user([header], client, Requirements::new())) {
//!     AuthOutcome::User(user) => println!("Authenticated {}", user.email),
//!     AuthOutcome::Rejected(rejection) => {
//!         let response: http::Response<String> = rejection.into_http_response();
//!         assert_eq!(response.status(), 401);
//!     }
//!     _ => unreachable!("authenticate_user yields users or rejections"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Security properties
//! - Passwords: [`Credentials`] zeroizes its buffer on drop, redacts the password in `Debug`, and
//!   compares in constant time ([`Credentials::matches`]). Nothing logs a password or an
//!   `Authorization` header.
//! - Hashes: new ones are argon2id with OWASP parameters; argon2i/d and bcrypt are verified and
//!   upgraded to argon2id after the next successful login.
//! - Brute force: the failure limit is exact under any concurrency — a verification starts only
//!   after the store has atomically reserved a failure slot — so no more than
//!   `max_password_failures` wrong passwords are ever verified per lock window.
//! - Memory and fairness: hashing runs on a bounded [`VerificationPool`] whose threads reuse one
//!   argon2 buffer each, at a lower OS priority. Requests wait for a verification slot up to
//!   `max_wait`, in per-client queues served round-robin, so a flooding client cannot starve
//!   another's login; while others wait, a client over its share gets a 429.
//! - No enumeration: unknown, disabled, unconfirmed and locked accounts cost one verification
//!   against a dummy hash and the same store write, and every refusal is answered no sooner
//!   than a learned failure-time floor (waiting, not work), so neither the response nor its
//!   timing tells them from a wrong password — also for imported bcrypt hashes.
//!
//! # Metrics
//! Recorded through the [`metrics`](https://docs.rs/metrics) facade: install any exporter in the
//! application (none is needed; without one, recording costs next to nothing).
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `endpoint_auth_outcomes_total` | counter | `outcome`: `authenticated`, `unauthorized`, `unavailable`, `too_many_requests`; `reason` (for `unauthorized`: `bad_header`, `unknown_user`, `wrong_password`, `disabled`, `email_not_confirmed`, `locked_out`, `no_password`, `unusable_hash`, `refused_by_handler`; for `unavailable`: `store`, `verifier`, `no_user_store`) | every decision |
//! | `endpoint_auth_verifications_total` | counter | `against`: `stored_hash`, `dummy_hash` | password verifications run (not cache hits, not shared ones) |
//! | `endpoint_auth_cache_hits_total` | counter | | logins answered from the verification cache |
//! | `endpoint_auth_cache_misses_total` | counter | | logins that needed a verification (or shared one running) |
//! | `endpoint_auth_shed_total` | counter | | requests refused 503 by admission (queue full or `max_wait` passed) |
//! | `endpoint_auth_throttled_total` | counter | | requests refused 429 by admission (over their client's share) |
//! | `endpoint_auth_queue_waiting` | gauge | | requests waiting for a verification slot |
//! | `endpoint_auth_workers_busy` | gauge | | verification slots in use |
//!
//! # Features
//! - **`bcrypt`** (default): verify bcrypt hashes (`$2a$`, `$2b$`, `$2x$`, `$2y$`), such as those
//!   imported from an htpasswd file, and replace each with argon2id at the user's next
//!   successful login. Without it the crate does not depend on `bcrypt`, and a bcrypt hash is
//!   refused with [`HashError::BcryptDisabled`] when it is stored or imported
//!   ([`identify_hash`], [`validate_new_user`], [`validate_import`]), not at login.
//!
//! Argon2id, and Apache's legacy apr1-MD5 and `{SHA}` formats, are always supported.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admission;
mod audit;
mod authenticator;
mod base64_canonical;
mod builder;
mod cache;
mod challenge;
pub mod check;
mod client;
mod credentials;
mod lockout;
mod memory;
mod normalize;
mod octets;
mod oneshot;
mod outcome;
mod parse;
mod password;
mod pool;
mod secret;
mod store;
mod telemetry;
mod timer;
mod timing;
mod user;

pub use audit::{AuditEvent, AuditHook};
pub use authenticator::{
    is_anonymous, AuthenticateFuture, Authenticator, BuildError, Clock, NoUser, Requirements,
    SystemClock,
};
pub use builder::AuthenticatorBuilder;
pub use cache::CacheConfig;
pub use challenge::{Realm, RealmError};
pub use client::{ClientAddress, TrustedProxy, TrustedProxyError};
pub use credentials::{Credentials, CredentialsError, Part};
pub use lockout::{Lock, LockDuration, LockoutPolicy};
pub use memory::MemoryStore;
pub use normalize::to_nfc;
pub use outcome::{
    AuthOutcome, FailureReason, RefusalFormat, Rejection, RejectionKind, RejectionResponse,
    UnavailableReason, REJECTION_CONTENT_TYPE, TOO_MANY_REQUESTS_BODY, UNAUTHORIZED_BODY,
    UNAVAILABLE_BODY,
};
pub use parse::{
    parse_authorization, parse_header_map, parse_value, ParseError, ParseOptions,
    DEFAULT_MAX_HEADER_LEN,
};
pub use password::{
    identify_hash, identify_hash_allowing_legacy, HashError, HashKind, HashPolicy, Verification,
    DEFAULT_MAX_VERIFY_MEMORY_KIB,
};
pub use pool::{PasswordVerifier, PoolConfig, VerificationPool, VerifierFuture, VerifyError};
pub use store::{
    login_key, validate_email, validate_import, validate_new_user, AdminError, AdminFuture,
    NewUser, SlotRule, StoreError, StoreFuture, UserAdmin, UserStore,
};
pub use user::{User, UserRecord};

/// Re-export of the `http` crate version the core's types use.
pub use http;
