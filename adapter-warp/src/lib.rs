//! [warp] 0.4 filters for [`endpoint_auth`]: HTTP Basic authentication of endpoints, the way
//! Anvil's `@http_endpoint(..., authenticate_users=True)` and `require_credentials=True` do it.
//!
//! | Anvil | filter | the handler gets |
//! |---|---|---|
//! | `authenticate_users=True` | [`authenticate_users`] | the stored user (`U`, by default [`endpoint_auth::User`]) |
//! | `require_credentials=True` | [`require_credentials`] | [`Credentials`](endpoint_auth::Credentials); refuse them with [`challenge`] |
//! | either, anonymous allowed | [`optional_user`], [`optional_credentials`] | an `Option` of the above |
//!
//! A refused request never reaches the handler: the filter rejects with an [`AuthRejection`],
//! and [`recover`] answers it with the core's response — `401 Unauthorized` with the
//! `WWW-Authenticate: Basic` challenge naming the realm, identical for every reason, or
//! `503 Service Unavailable` with `Retry-After` when the users store or the password hashing
//! cannot answer.
//!
//! # What this crate does, and does not do
//! It translates and decides nothing: it hands every `Authorization` field value of the request
//! to the [`Authenticator`](endpoint_auth::Authenticator) as bytes, and answers with
//! [`Rejection::response`](endpoint_auth::Rejection::response). Parsing, the challenge, the
//! users store, password hashing, lockout and status codes all live in the core,
//! [`endpoint_auth`] (re-exported here), so the warp, axum and rocket adapters answer byte for
//! byte alike. Configure the authenticator there: realm, users store, hashing, lockout, CORS
//! preflights.
//!
//! # Quick start
//! ```
//! use endpoint_auth_warp::endpoint_auth::{
//!     Authenticator, Credentials, HashPolicy, MemoryStore, NewUser, Requirements, User,
//! };
//! use endpoint_auth_warp::{authenticate_users, challenge, recover, require_credentials};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let policy = HashPolicy::argon2id(64, 1, 1)?;
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let auth = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! // authenticate_users=True: the handler gets the stored user.
//! let protected = warp::path!("protected")
//!     .and(warp::get())
//!     .and(authenticate_users(&auth, Requirements::new()))
//!     .map(|user: User| format!("Authenticated {}", user.email))
//!     .recover(recover);
//!
//! // require_credentials=True: the handler gets the credentials and checks them itself.
//! let checker = auth.clone();
//! let credentials = warp::path!("protected-credentials")
//!     .and(warp::get())
//!     .and(require_credentials(&auth))
//!     .map(move |credentials: Credentials| {
//!         if credentials.matches("admin", "correct horse battery staple") {
//!             Ok(format!("Hello, {}", credentials.username()))
//!         } else {
//!             Err(challenge(&checker)) // the same 401 + challenge
//!         }
//!     })
//!     .recover(recover);
//!
//! let routes = protected.or(credentials);
//! // warp::serve(routes).run(([127, 0, 0, 1], 8080)).await;
//!
//! let response = warp::test::request().path("/protected").reply(&routes).await;
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["www-authenticate"], auth.realm().challenge());
//!
//! let login = Credentials::new("user123@gmail.com", "mySuperS3cretPassw0rd")?;
//! let response = warp::test::request()
//!     .path("/protected")
//!     .header("authorization", login.to_header_value())
//!     .reply(&routes)
//!     .await;
//! assert_eq!(response.body(), "Authenticated user123@gmail.com");
//! # Ok(())
//! # }
//! ```
//!
//! # Wiring, and why
//! - **Path, then method, then authentication.** The filters run where you put them; after
//!   `warp::path!(…)` and `warp::get()` they run once, and only for requests their route
//!   handles. In front of the routing they would authenticate every request, and count every
//!   wrong password towards the lockout once per route tried.
//! - **Close each protected route with `.recover(recover)`.** warp lets a rejected request go on
//!   to the next `.or()` branch and, at the end, answers the rejection it prefers. Recovering on
//!   the route itself answers the 401 where authentication failed, so no later branch (a
//!   catch-all fallback, a static-file route) can take the request and answer 200 instead.
//!   [`recover`] passes every other rejection on untouched, so 404 and 405 work as before.
//!   Recovering once on the combined routes works too when no later branch accepts what the
//!   protected routes refuse: [`recover`] finds the refusal among every branch's rejections,
//!   so another branch's 404 or 405 never wins over it.
//! - **Forgetting `recover`** fails closed and loudly: the handler does not run and warp answers
//!   `500` (`Unhandled rejection: AuthRejection { status: 401, .. }`) with no reason in it.
//!
//! # Optional authentication
//! [`optional_user`] and [`optional_credentials`] extract `None` only when the request has no
//! `Authorization` field at all. Credentials that are sent and fail get the 401 (a wrong
//! password is not served as anonymous), and a store that cannot answer still gets the 503.
//!
//! # CORS preflights
//! A browser sends a preflight (`OPTIONS` with `Access-Control-Request-Method`) without
//! credentials. Build the authenticator with
//! [`cors_preflight(true)`](endpoint_auth::AuthenticatorBuilder::cors_preflight) and the
//! filters step aside for preflights instead of answering 401 (Anvil answers 401, which breaks
//! browsers). Answer them with your CORS headers: either wrap the routes in `warp::cors()`,
//! which answers preflights before any route filter runs, or put a route of yours matched by
//! [`preflight`] in front of them. A preflight nothing answers gets `204 No Content` from
//! [`recover`], as in the other adapters.
//!
//! # Security
//! Basic authentication sends the password in clear text (base64 is an encoding, not
//! encryption): serve these routes over HTTPS only. warp 0.4 has no TLS of its own; terminate
//! TLS in front of it (a reverse proxy or load balancer), or serve [`warp::service`] with a TLS
//! acceptor. Passwords are never logged, are zeroized on drop and are redacted in `Debug`
//! output; [`Credentials::matches`](endpoint_auth::Credentials::matches) compares in constant
//! time.
//!
//! # Features
//! - **`bcrypt`** (default): the core's `bcrypt` feature, so that bcrypt hashes (imported from
//!   htpasswd files, say) are verified and upgraded to argon2id. Off here and on the core,
//!   bcrypt hashes are refused when they are stored or imported.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod filters;
mod rejection;

pub use endpoint_auth;
pub use filters::{
    authenticate_users, optional_credentials, optional_user, preflight, require_credentials,
};
pub use rejection::{challenge, recover, AuthRejection};
