//! HTTP Basic authentication for [rocket] 0.5, in Anvil's two modes, on top of the
//! [`endpoint_auth`] core.
//!
//! | Anvil | here | the handler gets |
//! |---|---|---|
//! | `authenticate_users=True` | [`AuthUser`] guard | the stored user (`request.user`) |
//! | `authenticate_users=True`, confirmed email required | [`ConfirmedUser`] guard | the stored user |
//! | `require_credentials=True` | [`BasicCredentials`] guard | username and password (`request.username`, `request.password`) |
//! | any of these, anonymous requests welcome | [`Optional<G>`](Optional) | `Option` of the above |
//!
//! A missing or refused login gets `401 Unauthorized` with the `Basic` challenge, the same for
//! every reason; a users store that cannot answer gets `503` with `Retry-After`. This crate only
//! translates: it hands every `Authorization` field value of the request to the core's
//! [`Authenticator`](endpoint_auth::Authenticator), as bytes, and answers a refusal with the
//! response the core maps it to ([`Rejection::response`](endpoint_auth::Rejection::response)).
//! Every status, header and body comes from the core, so rocket, axum and warp answer byte for
//! byte alike.
//!
//! # Quick start
//! Attach a [`BasicAuth`] fairing holding the authenticator; put the guards in your handlers.
//!
//! ```
//! use endpoint_auth_rocket::endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser};
//! use endpoint_auth_rocket::{AuthRejection, AuthUser, BasicAuth, BasicCredentials};
//! use rocket::{get, routes};
//!
//! // authenticate_users: the handler gets the stored user.
//! #[get("/protected")]
//! fn protected(user: AuthUser) -> String {
//!     format!("Authenticated {}", user.email)
//! }
//!
//! // require_credentials: the handler gets the pair and checks it itself.
//! #[get("/protected-credentials")]
//! fn protected_credentials(credentials: BasicCredentials) -> Result<String, AuthRejection> {
//!     if !credentials.matches("user123@gmail.com", "mySuperS3cretPassw0rd") {
//!         return Err(credentials.challenge()); // the same 401 as every other failure
//!     }
//!     Ok(format!("Hello {}", credentials.username()))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let policy = HashPolicy::argon2id(64, 1, 1)?; // cheap, for the doctest
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let authenticator = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! let rocket = rocket::build()
//!     .attach(BasicAuth::new(authenticator))
//!     .mount("/", routes![protected, protected_credentials]);
//!
//! // rocket's local client runs the whole request pipeline, fairings and catchers included.
//! let client = rocket::local::blocking::Client::tracked(rocket)?;
//! let refused = client.get("/protected").dispatch();
//! assert_eq!(refused.status().code, 401);
//! let challenge = endpoint_auth_rocket::endpoint_auth::http::header::WWW_AUTHENTICATE;
//! assert!(refused.headers().get_one(challenge.as_str()).is_some());
//!
//! let basic = "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
//! let response = client
//!     .get("/protected")
//!     .header(rocket::http::Header::new("Authorization", basic))
//!     .dispatch();
//! assert_eq!(response.into_string().as_deref(), Some("Authenticated user123@gmail.com"));
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run -p endpoint-auth-rocket --example seed` serves these two routes; try it with
//! `curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected`.
//!
//! # How a refusal is answered
//! rocket answers a failing guard with the catcher for its status, and no catcher knows the
//! challenge. So the guards keep the core's refusal in rocket's request-local cache, and the
//! [`BasicAuth`] fairing completes whatever catcher answered, while that answer still has the
//! refusal's status:
//!
//! - **rocket's default catcher** (you registered none for that status and path): the core's
//!   response replaces it — status, headers (challenge or `Retry-After`, `Content-Type`) and
//!   body, plain text or JSON per the authenticator's
//!   [`refusal_format`](endpoint_auth::AuthenticatorBuilder::refusal_format).
//! - **a catcher of yours** (for that status or a default catcher, at `/`, at `/api`, any base
//!   rocket picks): its body and `Content-Type` stay, and the core sets the status-bearing
//!   headers — `WWW-Authenticate` on a 401, `Retry-After` on a 503 or 429 — over whatever the
//!   catcher set, so it cannot drop the challenge. Keep its body the same for every refusal:
//!   SPEC §3 has every failure answer identically.
//!
//! Headers the core does not set (rocket's `Shield`, your catcher's own) stay in both cases.
//!
//! - A catcher of yours that changes the status (a redirect to a login page, say) is left alone:
//!   that is a decision, not an accident.
//! - A `401` that no endpoint-auth guard caused (a guard of your own, a handler answering `401`
//!   itself) is left as your code answers it; it gets no Basic challenge it did not ask for.
//!
//! The guards are rocket [sentinels](rocket::Sentinel): a rocket that mounts a route using one
//! without the matching fairing refuses to launch, and says why.
//!
//! # Semantics worth knowing
//! - **Once per request.** The core (store read, argon2) runs at most once per request per user
//!   type and requirements, cached with `Request::local_cache_async`, however many guards ask.
//!   [`AuthUser`] and [`ConfirmedUser`] ask with different requirements and are cached apart:
//!   give a route one of them.
//! - **Every `Authorization` field** reaches the core, so a request with two is refused (SPEC
//!   §1). Caveat: rocket 0.5 keeps header values as text and drops any value that is not UTF-8
//!   before a guard can see it; such a field cannot count.
//! - **Optional authentication.** [`Optional<G>`](Optional) is `None` when the request has no
//!   `Authorization` field, and the core is not asked. A request that carries one is
//!   authenticated as usual: a refusal still answers `401` (a wrong password is never served as
//!   anonymous) and a store outage `503`. rocket's own `Option<G>` turns every failure into
//!   `None`, an outage included: use `Optional`. `Result<G, AuthRejection>` hands the handler
//!   the [`AuthRejection`] to inspect or to return.
//! - **require_credentials refusals**: [`BasicCredentials::challenge`] is the one-call `401`.
//! - **CORS preflights** that the authenticator exempts
//!   ([`cors_preflight(true)`](endpoint_auth::AuthenticatorBuilder::cors_preflight)) are never
//!   challenged: the guards forward them to whatever route answers them (a lower-ranked
//!   `#[options]` route with your CORS headers, or a CORS fairing), and where nothing does,
//!   [`BasicAuth`] answers `204 No Content`, as the other adapters' extractors do.
//!   [`Optional`] guards yield `None`. So a guarded `#[options("/path")]` route authenticates an
//!   `OPTIONS` that is no preflight, and the preflights pass.
//! - **Your own user type**: `AuthUser<MyUser>` with a `BasicAuth<MyUser>` over an
//!   `Authenticator<MyUser>`; several user types can coexist, one fairing each.
//!   [`BasicCredentials`] uses the first attached.
//!
//! # Security
//! Basic authentication sends the password in clear text: base64 is an encoding, not encryption.
//! Serve these routes over HTTPS only (rocket's `tls` feature, or TLS terminated in front of
//! rocket). Neither this crate nor the core logs passwords or `Authorization` headers.
//!
//! # Features
//! - **`bcrypt`** (default): the core's `bcrypt` feature, so that bcrypt hashes (imported from
//!   htpasswd files, say) are verified and upgraded to argon2id. Off here and on the core,
//!   bcrypt hashes are refused when they are stored or imported.
//!
//! The core is re-exported as [`endpoint_auth`]: configure it directly (stores, hashing,
//! lockout, audit hook) through [`Authenticator::builder`](endpoint_auth::Authenticator::builder).
//!
//! [rocket]: https://rocket.rs/v0.5/
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod fairing;
mod guard;
mod rejection;

/// The core, re-exported: the authenticator, stores, user and credentials types.
pub use endpoint_auth;
pub use fairing::{refusal, BasicAuth};
pub use guard::{AuthUser, BasicCredentials, ConfirmedUser, Optional};
pub use rejection::AuthRejection;
