//! The filters: Anvil's two modes, their optional forms, and the CORS preflight matcher.
//!
//! Each filter reads the request's method and header fields, hands every `Authorization` field
//! value to the [`Authenticator`] as bytes, and translates the outcome: the value to extract, or
//! a [`warp::Rejection`] holding an [`AuthRejection`]. What counts as a failure, and what it
//! answers, is the core's decision.
//!
//! Put them after the path and method filters of the route they protect, so that they run once,
//! and only for requests that route handles:
//!
//! ```text
//! warp::path!("protected")                  which route?
//!     .and(warp::get())                     which method?
//!     .and(authenticate_users(&auth, ..))   who is it? (the core decides)
//!     .map(handler)                         the endpoint, with the user
//!     .recover(recover)                     a refusal answered here: 401 / 503
//! ```
//!
//! An authentication filter in front of the path filters would authenticate requests for
//! every route (and, with a wrong password, count a failure towards the lockout each time).

use std::convert::Infallible;
use std::future::ready;

use endpoint_auth::{Authenticator, Credentials, Requirements};
use warp::http::header::AUTHORIZATION;
use warp::http::{HeaderMap, Method};
use warp::{Filter, Rejection};

use crate::rejection::{AuthRejection, PassedPreflight};

/// The request head the core decides on: the method (for preflights) and every header field
/// (all `Authorization` values, so that duplicates are seen).
fn request_head() -> impl Filter<Extract = (Method, HeaderMap), Error = Infallible> + Copy {
    warp::method().and(warp::header::headers_cloned())
}

/// What `authenticate_users` reads: the request head and the socket peer (for fair admission;
/// the core decides whether forwarding fields name the client instead). The peer is what
/// `warp::serve` records, or, for servers that run warp's service on a connection loop of their
/// own, a `SocketAddr` request extension.
fn user_request_head(
) -> impl Filter<Extract = (Method, HeaderMap, Option<std::net::SocketAddr>), Error = Infallible> + Copy
{
    request_head()
        .and(warp::addr::remote())
        .and(warp::ext::optional::<std::net::SocketAddr>())
        .map(
            |method,
             headers,
             remote: Option<std::net::SocketAddr>,
             extension: Option<std::net::SocketAddr>| {
                (method, headers, remote.or(extension))
            },
        )
        .untuple_one()
}

/// Every `Authorization` field value, as bytes.
fn authorization(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .map(warp::http::HeaderValue::as_bytes)
}

fn refuse(rejection: endpoint_auth::Rejection) -> Rejection {
    warp::reject::custom(AuthRejection::from(rejection))
}

/// `authenticate_users=True`: extracts the stored user whose `Basic` credentials the request
/// carries (Anvil's `request.user`).
///
/// `U` is the application's user type, the one its users store returns
/// ([`endpoint_auth::User`] for the stores that ship with endpoint-auth). `requirements` says
/// what the endpoint asks beyond a right password, e.g.
/// `Requirements::new().confirmed_email(true)`.
///
/// - Authenticated: extracts `U`.
/// - Refused (no or malformed credentials, unknown user, wrong password, disabled, unconfirmed,
///   locked out): rejects with an [`AuthRejection`] that [`recover`](crate::recover) answers
///   with the uniform 401 and the `Basic` challenge; the store or the password verification
///   unable to answer: a 503 with `Retry-After` instead, never a 401.
/// - A CORS preflight the authenticator exempts
///   ([`cors_preflight(true)`](endpoint_auth::AuthenticatorBuilder::cors_preflight)): steps
///   aside, so that a route answering preflights takes it (see [`preflight`]); where none does,
///   [`recover`](crate::recover) answers `204 No Content`, as the other adapters do. Never a
///   401.
///
/// ```
/// use endpoint_auth_warp::endpoint_auth::{Authenticator, MemoryStore, Requirements, User};
/// use endpoint_auth_warp::{authenticate_users, recover};
/// use warp::Filter;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auth = Authenticator::builder(MemoryStore::new())
/// #     .hash_policy(endpoint_auth_warp::endpoint_auth::HashPolicy::argon2id(64, 1, 1)?)
/// #     .build()?;
/// // auth: Authenticator<User>
/// let confirmed = warp::path!("reports")
///     .and(warp::get())
///     .and(authenticate_users(&auth, Requirements::new().confirmed_email(true)))
///     .map(|user: User| format!("reports for {}", user.email))
///     .recover(recover);
/// # let _ = confirmed;
/// # Ok(())
/// # }
/// ```
pub fn authenticate_users<U>(
    authenticator: &Authenticator<U>,
    requirements: Requirements,
) -> impl Filter<Extract = (U,), Error = Rejection> + Clone + Send + Sync + 'static
where
    U: Clone + Send + Sync + 'static,
{
    let authenticator = authenticator.clone();
    user_request_head().and_then(
        move |method: Method, headers: HeaderMap, peer: Option<std::net::SocketAddr>| {
            let pending =
                (!authenticator.is_exempt_preflight_request(&method, &headers)).then(|| {
                    authenticator.authenticate_headers(&headers, peer.map(|p| p.ip()), requirements)
                });
            async move {
                match pending {
                    Some(pending) => pending.await.map_err(refuse),
                    None => Err(warp::reject::custom(PassedPreflight)),
                }
            }
        },
    )
}

/// [`authenticate_users`] for endpoints that also serve anonymous requests: extracts
/// `Some(user)`, or `None` when the request has no `Authorization` field at all.
///
/// Credentials that are sent are checked as [`authenticate_users`] checks them: when they fail
/// the request is refused with the same 401 (a wrong password is never served as anonymous), and
/// when the store cannot answer, with the 503. A CORS preflight the authenticator exempts is
/// served as anonymous (`None`).
pub fn optional_user<U>(
    authenticator: &Authenticator<U>,
    requirements: Requirements,
) -> impl Filter<Extract = (Option<U>,), Error = Rejection> + Clone + Send + Sync + 'static
where
    U: Clone + Send + Sync + 'static,
{
    let authenticator = authenticator.clone();
    user_request_head().and_then(
        move |method: Method, headers: HeaderMap, peer: Option<std::net::SocketAddr>| {
            let pending = (!endpoint_auth::credentials::is_anonymous(authorization(&headers))
                && !authenticator.is_exempt_preflight_request(&method, &headers))
            .then(|| {
                authenticator.authenticate_headers(&headers, peer.map(|p| p.ip()), requirements)
            });
            async move {
                match pending {
                    Some(pending) => pending.await.map(Some).map_err(refuse),
                    None => Ok(None),
                }
            }
        },
    )
}

/// `require_credentials=True`: extracts the well-formed [`Credentials`] of the request (Anvil's
/// `request.username` / `request.password`); checking them is the handler's job, and
/// [`challenge`](crate::challenge) is its one call to refuse them with the same 401.
///
/// Missing or malformed credentials reject with an [`AuthRejection`] (the 401 + challenge,
/// answered by [`recover`](crate::recover)). An exempt CORS preflight steps aside as in
/// [`authenticate_users`].
///
/// Works with any authenticator, including
/// [`Authenticator::credentials_only`](endpoint_auth::Authenticator::credentials_only), which
/// needs no users store.
pub fn require_credentials<U>(
    authenticator: &Authenticator<U>,
) -> impl Filter<Extract = (Credentials,), Error = Rejection> + Clone + Send + Sync + 'static
where
    U: Clone + Send + Sync + 'static,
{
    let authenticator = authenticator.clone();
    request_head().and_then(move |method: Method, headers: HeaderMap| {
        ready(
            if authenticator.is_exempt_preflight_request(&method, &headers) {
                Err(warp::reject::custom(PassedPreflight))
            } else {
                authenticator
                    .require_credentials_from_headers(&headers)
                    .map_err(refuse)
            },
        )
    })
}

/// [`require_credentials`] for endpoints that also serve anonymous requests: extracts
/// `Some(credentials)`, or `None` when the request has no `Authorization` field at all.
///
/// An `Authorization` field that is present but unusable (malformed, another scheme, two
/// fields) is refused with the 401, not served as anonymous. An exempt CORS preflight is served
/// as anonymous (`None`).
pub fn optional_credentials<U>(
    authenticator: &Authenticator<U>,
) -> impl Filter<Extract = (Option<Credentials>,), Error = Rejection> + Clone + Send + Sync + 'static
where
    U: Clone + Send + Sync + 'static,
{
    let authenticator = authenticator.clone();
    request_head().and_then(move |method: Method, headers: HeaderMap| {
        ready(
            if endpoint_auth::credentials::is_anonymous(authorization(&headers))
                || authenticator.is_exempt_preflight_request(&method, &headers)
            {
                Ok(None)
            } else {
                authenticator
                    .require_credentials_from_headers(&headers)
                    .map(Some)
                    .map_err(refuse)
            },
        )
    })
}

/// Matches exactly the CORS preflights that the authenticator lets through without credentials
/// ([`Authenticator::is_exempt_preflight_request`]: `OPTIONS` with
/// `Access-Control-Request-Method`, when built with `cors_preflight(true)`); rejects every other
/// request as "not found", which leaves no trace in warp's combined rejections.
///
/// The authentication filters step aside for these requests; this filter is how a route of
/// yours takes them and answers them (with your CORS headers). `warp::cors()` is the other way:
/// wrapped around the routes, it answers preflights before any route filter runs.
///
/// ```
/// use endpoint_auth_warp::endpoint_auth::Authenticator;
/// use endpoint_auth_warp::preflight;
/// use warp::Filter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auth = Authenticator::builder(endpoint_auth_warp::endpoint_auth::MemoryStore::new())
/// #     .hash_policy(endpoint_auth_warp::endpoint_auth::HashPolicy::argon2id(64, 1, 1)?)
/// #     .cors_preflight(true)
/// #     .build()?;
/// // auth built with .cors_preflight(true)
/// let preflights = preflight(&auth).map(|| {
///     warp::reply::with_header(warp::reply(), "access-control-allow-origin", "https://app.example")
/// });
///
/// let response = warp::test::request()
///     .method("OPTIONS")
///     .path("/protected")
///     .header("access-control-request-method", "GET")
///     .reply(&preflights)
///     .await;
/// assert_eq!(response.status(), 200);
/// # Ok(())
/// # }
/// ```
pub fn preflight<U>(
    authenticator: &Authenticator<U>,
) -> impl Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static
where
    U: Clone + Send + Sync + 'static,
{
    let authenticator = authenticator.clone();
    request_head()
        .and_then(move |method: Method, headers: HeaderMap| {
            ready(
                if authenticator.is_exempt_preflight_request(&method, &headers) {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                },
            )
        })
        .untuple_one()
}
