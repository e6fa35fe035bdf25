//! HTTP Basic authentication for [actix-web] 4, in Anvil's two modes, on top of the
//! [`endpoint_auth`] core.
//!
//! | Anvil | here | the handler gets |
//! |---|---|---|
//! | `authenticate_users=True` | [`AuthUser`] extractor | the stored user (`request.user`) |
//! | `authenticate_users=True`, confirmed email required | [`ConfirmedUser`] extractor | the stored user |
//! | `require_credentials=True` | [`BasicCredentials`] extractor | username and password (`request.username`, `request.password`) |
//! | anonymous callers welcome too | [`Optional<AuthUser>`](Optional) (and the others) | `None` without an `Authorization` field |
//! | a whole scope, resource or app | [`AuthenticateUsers`] middleware | the user in the request extensions (`web::ReqData<U>`) |
//!
//! A missing or refused login gets `401 Unauthorized` with the `Basic` challenge, the same for
//! every reason; a users store that cannot answer gets `503` with `Retry-After`. This crate only
//! translates: it reads the `Authorization` field values out of the request (as bytes: actix-web
//! 4 is on `http` 0.2, the core on `http` 1), hands them to the core's
//! [`Authenticator`](endpoint_auth::Authenticator) with the socket peer's address, and answers
//! a refusal with the response the core maps it to
//! ([`Rejection::response`](endpoint_auth::Rejection::response)). Every status, header and body
//! comes from the core, so actix, axum, warp and rocket answer byte for byte alike.
//!
//! # Quick start
//! The [`Authenticator`](endpoint_auth::Authenticator) goes into the app data; the extractors
//! find it there.
//!
//! ```
//! use actix_web::{test, web, App};
//! use endpoint_auth_actix::endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser};
//! use endpoint_auth_actix::{AuthRejection, AuthUser, BasicCredentials};
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
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let policy = HashPolicy::argon2id(64, 1, 1)?;
//! # /*
//! let policy = HashPolicy::owasp();
//! # */
//! let store = MemoryStore::new();
//! store.insert(NewUser::new("user123@gmail.com", Some(policy.hash("mySuperS3cretPassw0rd")?)))?;
//! let authenticator = Authenticator::builder(store).realm("my app").hash_policy(policy).build()?;
//!
//! let app = App::new()
//!     .app_data(web::Data::new(authenticator))
//!     .route("/protected", web::get().to(protected))
//!     .route("/protected-credentials", web::get().to(protected_credentials));
//! // Then: HttpServer::new(move || app…).bind(("127.0.0.1", 8080))?.run().await
//!
//! let app = test::init_service(app).await;
//! let login = ("Authorization", "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk");
//! let response =
//!     test::call_service(&app, test::TestRequest::get().uri("/protected").insert_header(login).to_request()).await;
//! assert!(response.status().is_success());
//! let refused = test::call_service(&app, test::TestRequest::get().uri("/protected").to_request()).await;
//! assert_eq!(refused.status().as_u16(), 401);
//! assert!(refused.headers().contains_key("www-authenticate"));
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run -p endpoint-auth-actix --example seed` serves these two routes; try it with
//! `curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected`.
//!
//! # Extractor or middleware
//! - **Per route: the extractors.** Put [`AuthUser`], [`ConfirmedUser`] or
//!   [`BasicCredentials`] in a handler's arguments; that route, and only it, is protected, and
//!   the types say so. A refusal is an [`AuthRejection`], a [`ResponseError`](actix_web::ResponseError)
//!   that answers the core's response.
//! - **Per scope: [`AuthenticateUsers`].** `web::scope("/admin").wrap(AuthenticateUsers::new(
//!   authenticator))` protects every route in the scope. Handlers take the user with
//!   `web::ReqData<U>` (or [`AuthUser`], which reuses the middleware's decision).
//!
//! Both honour the core's CORS preflight exemption (an authenticator built with
//! `cors_preflight(true)`; [`Authenticator::is_exempt_preflight`](endpoint_auth::Authenticator::is_exempt_preflight)):
//! a preflight never gets a 401. The middleware passes it to the wrapped service untouched, so
//! the route's `OPTIONS` handler answers it. An extractor has no user to hand a handler, so on a
//! route that serves `OPTIONS` it answers the preflight itself, `204 No Content`, and the
//! handler does not run ([`Optional`] gives `None` instead). For CORS headers on those answers,
//! put a CORS middleware (such as `actix-cors`) outside: it answers preflights before any route
//! runs.
//!
//! # Finding the authenticator
//! The extractors look in the app data for `web::Data<Authenticator<U>>`, then for a plain
//! `Authenticator<U>` (it is one `Arc`, cheap to clone). Without either, an extractor answers
//! `500 Internal Server Error` (as actix does for a missing `web::Data`), and its
//! [`AuthRejection`] says what is missing; an extractor behind [`AuthenticateUsers`] with the
//! same requirements reuses the middleware's decision and needs no app data.
//!
//! `U` is the application's user type: [`User`](endpoint_auth::User) (Anvil's Users table) by
//! default, or whatever the [`UserStore`](endpoint_auth::UserStore) hands out, as in
//! `AuthUser<MyUser>` with an `Authenticator<MyUser>` in the app data.
//!
//! # Optional authentication
//! Take [`Optional<AuthUser<U>>`](Optional), `Optional<ConfirmedUser<U>>` or
//! `Optional<BasicCredentials<U>>`: `None` when the request has **no** `Authorization` field,
//! and the core is not asked. A request that carries one is authenticated as usual: a refusal
//! still answers 401 (a wrong password is never served as anonymous) and a store outage still
//! answers 503. Do not use actix's `Option<AuthUser>`: it turns every refusal into `None`.
//!
//! # Once per request
//! The core's decision is kept in the request's extensions, per user type and requirements. Two
//! extractors in one handler, or the middleware and an extractor behind it, cost one store read
//! and one password verification, and a refusal is stored and audited once. actix starts all of
//! a handler's extractors before awaiting any, so the decision is shared while it is still being
//! made. [`AuthUser`] and [`ConfirmedUser`] in one handler are two decisions: the requirements
//! differ.
//!
//! # Client addresses
//! Fair admission (SPEC §5) needs the client's address. The extractors and the middleware hand
//! the core the socket peer ([`HttpRequest::peer_addr`](actix_web::HttpRequest::peer_addr)),
//! never `connection_info().realip_remote_addr()`, which believes whatever `Forwarded` or
//! `X-Forwarded-For` says: the core itself decides which forwarding fields to trust, from the
//! authenticator's `trusted_proxies`.
//!
//! # Security
//! Basic authentication sends the password in clear text: base64 is an encoding, not encryption.
//! Serve these routes over HTTPS only (actix's `bind_rustls_0_23` / `bind_openssl`, or TLS
//! terminated in front). Neither this crate nor the core logs passwords or `Authorization`
//! headers.
//!
//! # Features
//! - **`bcrypt`** (default): the core's `bcrypt` feature, so that bcrypt hashes (imported from
//!   htpasswd files, say) are verified and upgraded to argon2id. Off here and on the core,
//!   bcrypt hashes are refused when they are stored or imported.
//!
//! The core is re-exported as [`endpoint_auth`]: configure it directly (stores, hashing,
//! lockout, audit hook) through [`Authenticator::builder`](endpoint_auth::Authenticator::builder).
//!
//! [actix-web]: https://docs.rs/actix-web/4
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod extract;
mod middleware;
mod rejection;

pub use extract::{AuthUser, BasicCredentials, ConfirmedUser, ExtractFuture, Optional};
pub use middleware::{AuthenticateUsers, AuthenticateUsersMiddleware};
pub use rejection::AuthRejection;

/// The core, re-exported: the authenticator, stores, user and credentials types.
pub use endpoint_auth;

#[cfg(test)]
mod test_support;
