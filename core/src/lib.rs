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
//!        ├─ require_credentials ──► Ok(Credentials) | Err(Rejection)
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
//!   Ok(user) | Err(Rejection)  ──►  Rejection::response(): 401 | 503 | 429
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
//! use endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser, Requirements};
//!
//! # let policy = HashPolicy::argon2id(64, 1, 1).unwrap();
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let auth = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! // In an adapter: hand over the Authorization header values, act on the result.
//! let header: &[u8] = b"Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
//! let client = auth.client_address(Some([192, 0, 2, 7].into()), [], []); // the socket peer
//! match pollster::block_on(auth.authenticate_user([header], client, Requirements::new())) {
//!     Ok(user) => println!("Authenticated {}", user.email),
//!     Err(rejection) => {
//!         let response: http::Response<String> = rejection.into_http_response();
//!         assert_eq!(response.status(), 401);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The public interface
//! At the root, what an application or an adapter uses: [`Authenticator`] and its
//! [`AuthenticatorBuilder`], the two results — `Result<U, Rejection>` from
//! [`Authenticator::authenticate_user`] and `Result<Credentials, Rejection>` from
//! [`Authenticator::require_credentials`] — and the settings the builder takes. The rest is in a
//! module per job:
//!
//! | module | for |
//! |---|---|
//! | [`store`] | implementing a users store: [`UserStore`], the failure-slot rule, [`store::login_key`] |
//! | [`admin`] | administering users: [`UserAdmin`], [`NewUser`], validation before a write |
//! | [`check`] | `authenticate_users` against your own check instead of a store |
//! | [`hash`] | password hashes: [`HashPolicy`], recognising and verifying stored hashes |
//! | [`verifier`] | where verification runs: the bounded pool, or your own [`verifier::PasswordVerifier`] |
//! | [`parse`] | reading an `Authorization` header (SPEC §1) without authenticating |
//! | [`credentials`] | the username and password of a request, and [`credentials::is_anonymous`] |
//! | [`rejection`] | why a request was refused, and the response that says only what the status says |
//! | [`client`] | the client address admission is fair between, and trusted proxies |
//! | [`lockout`] | the failure limit and the lock |
//! | [`challenge`] | the realm in `WWW-Authenticate` |
//! | [`audit`] | a hook that sees every decision, with its reason |
//! | [`clock`] | where the time comes from (a fixed clock in tests) |
//!
//! The contract every adapter follows is `SPEC.md` in the conformance suite's crate
//! (`endpoint-auth-conformance`), which checks it over HTTP.
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
//! - Memory and fairness: hashing runs on a bounded [`VerificationPool`](verifier::VerificationPool) whose threads reuse one
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
//!   refused with [`HashError::BcryptDisabled`](hash::HashError::BcryptDisabled) when it is stored or imported
//!   ([`hash::identify_hash`], [`admin::validate_new_user`], [`admin::validate_import`]), not at login.
//!
//! Argon2id, and Apache's legacy apr1-MD5 and `{SHA}` formats, are always supported.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The core's unit tests share their outage store with its integration tests, which name the
// crate `endpoint_auth` as any user does.
#[cfg(test)]
extern crate self as endpoint_auth;
#[cfg(test)]
#[path = "../tests/support/faulty_store.rs"]
mod faulty_store;

pub mod admin;
mod admission;
pub mod audit;
mod authenticator;
mod builder;
mod cache;
pub mod challenge;
pub mod check;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod hash;
pub mod lockout;
mod memory;
mod normalize;
mod oneshot;
pub mod parse;
pub mod rejection;
mod secret;
pub mod store;
mod telemetry;
mod timer;
mod timing;
mod user;
pub mod verifier;

pub use admin::{NewUser, UserAdmin};
pub use authenticator::{AuthenticateFuture, Authenticator, BuildError, NoUser, Requirements};
pub use builder::AuthenticatorBuilder;
pub use cache::CacheConfig;
pub use challenge::Realm;
pub use client::ClientAddress;
pub use credentials::Credentials;
pub use hash::HashPolicy;
pub use lockout::LockoutPolicy;
pub use memory::MemoryStore;
pub use parse::ParseOptions;
pub use rejection::{RefusalFormat, Rejection};
pub use store::{StoreError, UserStore};
pub use user::{User, UserRecord};
pub use verifier::PoolConfig;

/// The `http` crate this one is built on, so adapters and applications name the same types.
pub use http;
