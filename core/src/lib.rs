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
//! `endpoint-auth-warp`, `endpoint-auth-rocket`) and a users store (`endpoint-auth-sql` for
//! SQLite or PostgreSQL, or [`MemoryStore`]).
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
//!   cache hit? ── no ──► PasswordVerifier            bounded thread pool, awaitable
//!        ▼
//!   UserStore::record_failure / record_success / replace_password_hash
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
//! - Memory: hashing runs on a bounded [`VerificationPool`] whose threads reuse one argon2 buffer
//!   each; when its queue is full requests get a 503, so load cannot grow memory without bound.
//! - No enumeration: unknown, disabled, unconfirmed and locked accounts cost one verification
//!   against a dummy hash and get the same 401 as a wrong password.
//!
//! # Features
//! None: the crate is small and has no optional parts.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admission;
mod audit;
mod authenticator;
mod base64_canonical;
mod builder;
mod cache;
mod challenge;
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
    AuthOutcome, FailureReason, Rejection, RejectionKind, RejectionResponse, UnavailableReason,
    REJECTION_CONTENT_TYPE, TOO_MANY_REQUESTS_BODY, UNAUTHORIZED_BODY, UNAVAILABLE_BODY,
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
