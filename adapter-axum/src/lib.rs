//! HTTP Basic authentication for [axum] 0.8, in Anvil's two modes, on top of the
//! [`endpoint_auth`] core.
//!
//! | Anvil | here | the handler gets |
//! |---|---|---|
//! | `authenticate_users=True` | [`AuthUser`] extractor | the stored user (`request.user`) |
//! | `authenticate_users=True`, confirmed email required | [`ConfirmedUser`] extractor | the stored user |
//! | `require_credentials=True` | [`BasicCredentials`] extractor | username and password (`request.username`, `request.password`) |
//! | a whole router or tower service | [`AuthenticateUsersLayer`] | the user in the request extensions (`Extension<U>`) |
//!
//! A missing or refused login gets `401 Unauthorized` with the `Basic` challenge, the same for
//! every reason; a users store that cannot answer gets `503` with `Retry-After`. This crate only
//! translates: it reads the `Authorization` field values out of the request, hands them to the
//! core's [`Authenticator`](endpoint_auth::Authenticator), and answers a refusal with the
//! response the core maps it to ([`Rejection::response`](endpoint_auth::Rejection::response)).
//! Every status, header and body comes from the core, so axum, warp and rocket answer byte for
//! byte alike.
//!
//! # Quick start
//! The [`Authenticator`](endpoint_auth::Authenticator) is the router's state; the extractors
//! find it there.
//!
//! ```
//! use axum::{routing::get, Router};
//! use endpoint_auth_axum::endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser};
//! use endpoint_auth_axum::{AuthRejection, AuthUser, BasicCredentials};
//!
//! // authenticate_users: the handler gets the stored user.
//! async fn protected(AuthUser(user): AuthUser) -> String {
//!     format!("Authenticated {}", user.email)
//! }
//!
//! // require_credentials: the handler gets the pair and checks it itself.
//! async fn protected_credentials(
//!     credentials: BasicCredentials,
//! ) -> Result<String, AuthRejection> {
//!     if !credentials.matches("user123@gmail.com", "mySuperS3cretPassw0rd") {
//!         return Err(credentials.challenge()); // the same 401 as every other failure
//!     }
//!     Ok(format!("Hello {}", credentials.username()))
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let policy = HashPolicy::argon2id(64, 1, 1)?;
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let authenticator = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! let app: Router = Router::new()
//!     .route("/protected", get(protected))
//!     .route("/protected-credentials", get(protected_credentials))
//!     .with_state(authenticator);
//! # let _ = app;
//! # Ok(())
//! # }
//! // Then serve it with the socket peer recorded, which fair admission shares verification by
//! // (without it every request counts as one unknown client):
//! // axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! ```
//!
//! `cargo run -p endpoint-auth-axum --example seed` serves these two routes; try it with
//! `curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected`.
//!
//! # Extractor or layer
//! - **Per route: the extractors.** Put [`AuthUser`], [`ConfirmedUser`] or
//!   [`BasicCredentials`] in a handler's arguments; that route, and only it, is protected, and
//!   the types say so. A rejection is an [`AuthRejection`], which answers the core's response.
//! - **Per router: [`AuthenticateUsersLayer`].** `Router::route_layer(AuthenticateUsersLayer::new(
//!   authenticator))` protects every route of a router; it also wraps any tower HTTP service
//!   (tonic, plain hyper). Handlers take the user with `Extension<U>` (or [`AuthUser`], which
//!   reuses the layer's decision).
//!
//! Both honour the core's CORS preflight exemption (an authenticator built with
//! `cors_preflight(true)`; [`Authenticator::is_exempt_preflight_request`](endpoint_auth::Authenticator::is_exempt_preflight_request)):
//! a preflight never gets a 401. The layer passes it to the inner service untouched, so the
//! route's `OPTIONS` handler answers it. An extractor has no user to hand a handler, so on a
//! route that serves `OPTIONS` it answers the preflight itself, `204 No Content`, and the
//! handler does not run (the optional forms give `None` instead). For CORS headers on those
//! answers, put a CORS layer outside: it answers preflights before any route runs.
//!
//! # Finding the authenticator
//! The extractors take the `Authenticator<U>` from the router's state through [`FromRef`]
//! (checked when the router is built, so a missing authenticator is a compile error, not a
//! runtime 500). When the authenticator is the whole state, `.with_state(authenticator)` is all
//! there is; in a larger state, say where it is:
//!
//! ```
//! use axum::extract::FromRef;
//! use endpoint_auth_axum::endpoint_auth::{Authenticator, User};
//!
//! #[derive(Clone)]
//! struct AppState {
//!     authenticator: Authenticator<User>,
//!     greeting: &'static str,
//! }
//!
//! impl FromRef<AppState> for Authenticator<User> {
//!     fn from_ref(state: &AppState) -> Self {
//!         state.authenticator.clone()
//!     }
//! }
//! ```
//!
//! `U` is the application's user type: [`User`](endpoint_auth::User) (Anvil's Users table) by
//! default, or whatever the [`UserStore`](endpoint_auth::UserStore) hands out, as in
//! `AuthUser<MyUser>` with an `Authenticator<MyUser>` in the state.
//!
//! # Optional authentication
//! `Option<AuthUser<U>>`, `Option<ConfirmedUser<U>>` and `Option<BasicCredentials<U>>` are
//! `None` when the request has **no** `Authorization` field, and the core is not asked. A request
//! that carries one is authenticated as usual: a refusal still answers 401 (a wrong password is
//! never served as anonymous) and a store outage still answers 503.
//!
//! # Once per request
//! The core's decision is kept in the request's extensions, per user type and requirements. Two
//! extractors in one handler, or the layer and an extractor behind it, cost one store read and
//! one password verification. (One authenticator per user type per request is assumed: two
//! different `Authenticator<U>` on one request share the first decision.)
//!
//! # Security
//! Basic authentication sends the password in clear text: base64 is an encoding, not encryption.
//! Serve these routes over HTTPS only (terminate TLS in front of axum or with a TLS acceptor).
//! Neither this crate nor the core logs passwords or `Authorization` headers.
//!
//! # Features
//! - **`bcrypt`** (default): the core's `bcrypt` feature, so that bcrypt hashes (imported from
//!   htpasswd files, say) are verified and upgraded to argon2id. Off here and on the core,
//!   bcrypt hashes are refused when they are stored or imported.
//!
//! The core is re-exported as [`endpoint_auth`]: configure it directly (stores, hashing,
//! lockout, audit hook) through [`Authenticator::builder`](endpoint_auth::Authenticator::builder).
//!
//! [axum]: https://docs.rs/axum/0.8
//! [`FromRef`]: axum::extract::FromRef
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod extract;
mod layer;
mod rejection;

pub use extract::{AuthUser, BasicCredentials, ConfirmedUser};
pub use layer::{AuthenticateUsers, AuthenticateUsersLayer, ResponseFuture};
pub use rejection::AuthRejection;

/// The core, re-exported: the authenticator, stores, user and credentials types.
pub use endpoint_auth;

#[cfg(test)]
mod test_support;
