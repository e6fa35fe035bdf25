//! `serve --forward-auth` (SPEC §8): `/auth` for a reverse proxy that asks per request.
//!
//! The proxy forwards the client's `Authorization` field; the answer is `200` with the user in
//! `X-Auth-User` and `Remote-User`, or the core's refusal as it is (401 + challenge, 429, 503),
//! which the proxy passes on to the client. Nothing is decided here: the status, headers and
//! body of a refusal are the core's [`Rejection`](endpoint_auth::Rejection) response.

use std::sync::Arc;
use std::time::Instant;

use endpoint_auth::Requirements;
use http::{HeaderName, HeaderValue, StatusCode};
use hyper::body::Bytes;

use super::connections::{full_body, Handler, ResponseBody};
use super::{log_response, Caller, SharedAuthenticator};

/// The one route.
pub const AUTH_PATH: &str = "/auth";
/// The header naming the authenticated user, for the proxy to copy onto the upstream request.
pub const X_AUTH_USER: HeaderName = HeaderName::from_static("x-auth-user");
/// The same, under the name some proxies and applications expect.
pub const REMOTE_USER: HeaderName = HeaderName::from_static("remote-user");

/// `/auth`, any method: authenticate_users over the request's `Authorization` field, admitted
/// for the client the [trusted proxies](endpoint_auth::AuthenticatorBuilder::trusted_proxies)
/// name (else the socket peer). Every other path is `404`.
pub(crate) fn handler(authenticator: SharedAuthenticator, requirements: Requirements) -> Handler {
    Arc::new(move |request, peer| {
        let started = Instant::now();
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let answer = (path == AUTH_PATH).then(|| {
            authenticator.authenticate_headers(request.headers(), Some(peer.ip()), requirements)
        });
        Box::pin(async move {
            let response = match answer {
                None => not_found(),
                Some(authenticating) => match authenticating.await {
                    Ok(user) => authenticated(&user.email),
                    Err(rejection) => rejection
                        .into_http_response::<String>()
                        .map(|body| full_body(Bytes::from(body))),
                },
            };
            log_response(Some(peer), &method, &path, started, &response);
            response
        })
    })
}

/// `200`, naming the user for the proxy; no body.
fn authenticated(email: &str) -> http::Response<ResponseBody> {
    let mut response = http::Response::new(full_body(Bytes::new()));
    // Stored emails have no control characters (`validate_email`), so this cannot fail; if it
    // ever did, no user is named and nothing is let through.
    let Ok(user) = HeaderValue::from_bytes(email.as_bytes()) else {
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return response;
    };
    let headers = response.headers_mut();
    headers.insert(X_AUTH_USER, user.clone());
    headers.insert(REMOTE_USER, user);
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response.extensions_mut().insert(Caller(email.to_owned()));
    response
}

fn not_found() -> http::Response<ResponseBody> {
    let mut response = http::Response::new(full_body(Bytes::from_static(b"Not Found")));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
