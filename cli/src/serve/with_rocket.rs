//! The SPEC §7 routes on rocket.
//!
//! rocket 0.5 serves only on a listener it binds itself, with hyper's header-read timeout turned
//! off and no connection cap, and its server is not public. So `serve` runs rocket behind its own
//! connections (`connections`) and hands each request to rocket's public in-process dispatcher,
//! `rocket::local::asynchronous::Client`: the same fairings, guards, routes and catchers, with
//! `Request::remote()` set to the client's address.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use endpoint_auth_rocket::{AuthUser, BasicAuth, BasicCredentials, ConfirmedUser};
use hyper::body::Bytes;
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::http::uri::{Host, Origin};
use rocket::http::{ContentType, Cookie, Header, Method};
use rocket::local::asynchronous::Client;
use rocket::request::{FromRequest, Outcome};
use rocket::{get, options, Build, Config, Request, Rocket};

use super::connections::{
    full_body, plain_response, read_body, Handler, RequestBody, ResponseBody,
};
use super::demo_routes::{credentials_body, open_body, user_body};
use super::{access_log, Caller, Routes, SharedAuthenticator};
use crate::error::CliError;

/// Lets a handler name who it answered for, for the access log.
struct CallerNote<'r>(&'r Request<'r>);

#[derive(Default)]
struct NotedCaller(Mutex<Option<Caller>>);

impl CallerNote<'_> {
    fn set(&self, name: &str) {
        let noted = self.0.local_cache(NotedCaller::default);
        *noted
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Caller(name.to_owned()));
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CallerNote<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(CallerNote(request))
    }
}

/// When the request arrived, for the access log.
struct Started(Instant);

// rocket takes route paths only as literals: they are demo_routes' constants, which the test
// below holds them to.

#[get("/protected")]
fn protected(user: AuthUser, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(&user.email);
    (ContentType::JSON, user_body(&user))
}

#[get("/confirmed")]
fn confirmed(user: ConfirmedUser, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(&user.email);
    (ContentType::JSON, user_body(&user))
}

#[get("/credentials")]
fn credentials(credentials: BasicCredentials, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(credentials.username());
    (ContentType::JSON, credentials_body(&credentials))
}

#[get("/open")]
fn open() -> (ContentType, String) {
    (ContentType::JSON, open_body())
}

// The protected routes serve `OPTIONS` too, guarded as their `GET`; the guards forward an exempt
// CORS preflight, which the adapter's fairing answers `204`.

#[options("/protected")]
fn protected_options(user: AuthUser, note: CallerNote<'_>) -> (ContentType, String) {
    protected(user, note)
}

#[options("/confirmed")]
fn confirmed_options(user: ConfirmedUser, note: CallerNote<'_>) -> (ContentType, String) {
    confirmed(user, note)
}

#[options("/credentials")]
fn credentials_options(
    credentials: BasicCredentials,
    note: CallerNote<'_>,
) -> (ContentType, String) {
    self::credentials(credentials, note)
}

fn access_log_fairing() -> AdHoc {
    AdHoc::on_request("request start", |request, _| {
        Box::pin(async move {
            request.local_cache(|| Started(Instant::now()));
        })
    })
}

fn access_log_response() -> AdHoc {
    AdHoc::on_response("access log", |request, response| {
        Box::pin(async move {
            let started = request.local_cache(|| Started(Instant::now()));
            let caller = request
                .local_cache(NotedCaller::default)
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let refusal = endpoint_auth_rocket::refusal(request);
            access_log(
                request.remote(),
                request.method().as_str(),
                request.uri().path().as_str(),
                response.status().code,
                started.0.elapsed(),
                caller.as_ref(),
                refusal.as_ref(),
            );
        })
    })
}

/// The SPEC §7 routes (`/credentials` only in [`Routes::Demo`]) and the access log, mounted on
/// `rocket` (whose configuration is the caller's).
pub fn app(
    rocket: Rocket<Build>,
    authenticator: SharedAuthenticator,
    routes: Routes,
) -> Rocket<Build> {
    let mut mounted = rocket::routes![
        protected,
        confirmed,
        open,
        protected_options,
        confirmed_options
    ];
    if routes.credentials() {
        mounted.extend(rocket::routes![credentials, credentials_options]);
    }
    rocket
        .attach(access_log_fairing())
        .attach(BasicAuth::new(authenticator))
        .attach(access_log_response())
        .mount("/", mounted)
}

/// The routes as `serve` runs them: rocket ignited once, each request dispatched in process with
/// its client's address; a body is read whole first, within `body_timeout`.
pub(crate) async fn handler(
    authenticator: SharedAuthenticator,
    routes: Routes,
    body_timeout: Duration,
) -> Result<Handler, CliError> {
    let config = Config {
        log_level: LogLevel::Off,
        cli_colors: false,
        ..Config::release_default()
    };
    let client = Client::untracked(app(rocket::custom(config), authenticator, routes))
        .await
        .map_err(|e| CliError::Serve(format!("rocket could not start: {e}")))?;
    let client = Arc::new(client);
    Ok(Arc::new(move |request, peer| {
        let client = Arc::clone(&client);
        Box::pin(async move { dispatch(&client, request, peer, body_timeout).await })
    }))
}

/// What rocket's own server does with a request (its `Request::from_hyp`), through `client`.
async fn dispatch(
    client: &Client,
    request: http::Request<RequestBody>,
    peer: SocketAddr,
    body_timeout: Duration,
) -> http::Response<ResponseBody> {
    let (parts, body) = request.into_parts();
    let Ok(method) = Method::from_str(parts.method.as_str()) else {
        return plain_response(http::StatusCode::BAD_REQUEST);
    };
    let body = match read_body(body, body_timeout).await {
        Ok(body) => body,
        Err(error) => {
            tracing::debug!(%peer, %error, "request body refused");
            return plain_response(error.status());
        }
    };
    let uri = Origin::new(
        parts.uri.path().to_owned(),
        parts.uri.query().map(str::to_owned),
    );
    let mut local = client.req(method, uri).remote(peer);
    if let Some(host) = parts
        .headers
        .get(http::header::HOST)
        .and_then(|host| std::str::from_utf8(host.as_bytes()).ok())
        .and_then(|host| Host::parse_owned(host.to_owned()).ok())
    {
        local.set_host(host);
    }
    for value in parts.headers.get_all(http::header::COOKIE) {
        let Ok(cookies) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        for cookie in cookies.split(';').map(str::trim) {
            if let Ok(cookie) = Cookie::parse_encoded(cookie.to_owned()) {
                local = local.cookie(cookie);
            }
        }
    }
    for (name, value) in &parts.headers {
        // As rocket's server: header values that are not UTF-8 are dropped.
        if let Ok(value) = std::str::from_utf8(value.as_bytes()) {
            local.add_header(Header::new(name.as_str().to_owned(), value.to_owned()));
        }
    }
    if !body.is_empty() {
        local.set_body(body);
    }
    let response = local.dispatch().await;
    let mut answer = http::Response::builder().status(response.status().code);
    for header in response.headers().iter() {
        answer = answer.header(header.name().as_str(), header.value());
    }
    // `into_bytes` is `None` both for a response without a body (a 204) and for a body that
    // cannot be read; only the second is an error.
    let body = if response.body().is_none() {
        Vec::new()
    } else {
        let Some(body) = response.into_bytes().await else {
            return plain_response(http::StatusCode::INTERNAL_SERVER_ERROR);
        };
        body
    };
    answer
        .body(full_body(Bytes::from(body)))
        .unwrap_or_else(|_| plain_response(http::StatusCode::INTERNAL_SERVER_ERROR))
}

#[cfg(test)]
mod tests {
    use super::super::demo_routes::{CONFIRMED, CREDENTIALS, OPEN, PROTECTED};
    use super::*;

    #[test]
    fn the_literal_paths_are_the_demo_routes() {
        let paths: Vec<String> = rocket::routes![protected, confirmed, credentials, open]
            .iter()
            .map(|route| route.uri.path().to_string())
            .collect();
        assert_eq!(paths, [PROTECTED, CONFIRMED, CREDENTIALS, OPEN]);
    }
}
