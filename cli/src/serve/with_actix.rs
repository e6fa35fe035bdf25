//! The SPEC §7 routes on actix-web.
//!
//! actix-web runs on its own server, not on the shared connection loop (`connections`): its
//! services live on one worker thread each (`!Send`), so the loop cannot hand them requests.
//! `serve` maps the same [`ConnectionPolicy`] onto actix's `HttpServer` instead:
//!
//! | policy | actix |
//! |---|---|
//! | `header_timeout` | `client_request_timeout` (a request head must arrive in time) and the keep-alive timeout (an idle connection is closed after it) |
//! | `max_connections` | worker count × per-worker `max_connections`, never more than the cap; past it actix stops accepting and clients wait in the listen backlog |
//! | `max_head_bytes`, `max_headers` | checked on each request head here (`431`); actix itself reads no head over 128 KiB nor over 96 fields |
//! | `max_body_bytes` | a declared `Content-Length` over it gets `413` at once; the routes read no body |
//! | `drain_timeout` | `shutdown_timeout`, after the same shutdown signal |
//!
//! One part of the policy has no actix counterpart: actix has no write timeout, so a client that
//! stops reading its responses is closed only by the keep-alive timeout once its response fits
//! the socket buffers (the demo routes' answers are a few hundred bytes).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::{KeepAlive, Method, StatusCode};
use actix_web::{web, App, HttpResponse, HttpServer};
use endpoint_auth::Rejection;
use endpoint_auth_actix::{AuthUser, BasicCredentials, ConfirmedUser};

use super::connections::ConnectionPolicy;
use super::demo_routes::{
    credentials_body, open_body, user_body, CONFIRMED, CREDENTIALS, OPEN, PROTECTED,
};
use super::{access_log, Caller, Routes, SharedAuthenticator};
use crate::error::CliError;

fn json(caller: Option<Caller>, body: String) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .content_type("application/json")
        .body(body);
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

async fn protected(AuthUser(user): AuthUser) -> HttpResponse {
    json(Some(Caller(user.email.clone())), user_body(&user))
}

async fn confirmed(ConfirmedUser(user): ConfirmedUser) -> HttpResponse {
    json(Some(Caller(user.email.clone())), user_body(&user))
}

async fn credentials(credentials: BasicCredentials) -> HttpResponse {
    json(
        Some(Caller(credentials.username().to_owned())),
        credentials_body(credentials.credentials()),
    )
}

async fn open() -> HttpResponse {
    json(None, open_body())
}

/// The SPEC §7 routes on actix-web (`/credentials` only in [`Routes::Demo`]), for
/// `App::configure` (the access log and the request limits are `serve`'s, around them).
pub fn routes(
    authenticator: SharedAuthenticator,
    routes: Routes,
) -> impl Fn(&mut web::ServiceConfig) + Clone {
    let authenticator = web::Data::new(authenticator);
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(authenticator.clone())
            .route(PROTECTED, web::get().to(protected))
            .route(PROTECTED, web::method(Method::OPTIONS).to(protected))
            .route(CONFIRMED, web::get().to(confirmed))
            .route(CONFIRMED, web::method(Method::OPTIONS).to(confirmed))
            .route(OPEN, web::get().to(open));
        if routes.credentials() {
            config
                .route(CREDENTIALS, web::get().to(credentials))
                .route(CREDENTIALS, web::method(Method::OPTIONS).to(credentials));
        }
    }
}

/// The request-head limits of a [`ConnectionPolicy`] that actix does not apply itself.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_head_bytes: usize,
    max_headers: usize,
    max_body_bytes: usize,
}

impl Limits {
    /// The status refusing `request` before any route sees it, if any.
    fn refusal(self, request: &ServiceRequest) -> Option<StatusCode> {
        let headers = request.headers();
        // The head as sent: request line, then `name: value\r\n` per field, then `\r\n`.
        let head_bytes = request.method().as_str().len()
            + request.uri().to_string().len()
            + headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 4)
                .sum::<usize>();
        if headers.len() > self.max_headers || head_bytes > self.max_head_bytes {
            return Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        declared
            .is_some_and(|length| length > self.max_body_bytes as u64)
            .then_some(StatusCode::PAYLOAD_TOO_LARGE)
    }
}

/// A short plain-text response with `status`'s reason as its body, closing the connection (the
/// request it answers was not read to its end), as `connections` answers it.
fn plain_response(status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .force_close()
        .body(status.canonical_reason().unwrap_or("Error"))
}

/// What the access log and the limits answer with: the routes' response, or a refusal.
type Guarded =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error>>>>;

/// The access log and the request limits around every request.
fn guard_and_log<S>(request: ServiceRequest, service: &S, limits: Limits) -> Guarded
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
    S::Future: 'static,
{
    let started = Instant::now();
    let peer = request.peer_addr();
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    if let Some(status) = limits.refusal(&request) {
        access_log(
            peer,
            &method,
            &path,
            status.as_u16(),
            Duration::ZERO,
            None,
            None,
        );
        let refused = request.into_response(plain_response(status));
        return Box::pin(std::future::ready(Ok(refused.map_into_right_body())));
    }
    let responding = service.call(request);
    Box::pin(async move {
        let response = responding.await?;
        let answered = response.response();
        access_log(
            peer,
            &method,
            &path,
            response.status().as_u16(),
            started.elapsed(),
            answered.extensions().get::<Caller>(),
            answered.extensions().get::<Rejection>(),
        );
        Ok(response.map_into_left_body())
    })
}

/// How many workers, and how many connections each, so that together they serve at most
/// `max_connections`.
fn workers(max_connections: usize) -> (usize, usize) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = cores.min(max_connections).max(1);
    (workers, (max_connections / workers).max(1))
}

/// Serves the routes with actix-web on `listener` under `policy` until `shutdown` resolves, then
/// lets requests in flight finish for at most [`ConnectionPolicy::drain_timeout`].
///
/// # Errors
/// [`CliError::Serve`] when actix cannot take the listener or its server fails.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    authenticator: SharedAuthenticator,
    routes: Routes,
    policy: &ConnectionPolicy,
    shutdown: impl Future<Output = ()>,
) -> Result<(), CliError> {
    let failed = |e: std::io::Error| CliError::Serve(format!("actix-web could not serve: {e}"));
    let limits = Limits {
        max_head_bytes: policy.max_head_bytes,
        max_headers: policy.max_headers,
        max_body_bytes: policy.max_body_bytes,
    };
    let configure = self::routes(authenticator, routes);
    let (workers, per_worker) = workers(policy.max_connections);
    let listener = listener.into_std().map_err(failed)?;
    let backlog = Backlog::of(&listener).map_err(failed)?;
    let server = HttpServer::new(move || {
        App::new()
            .configure(configure.clone())
            .wrap_fn(move |request, service| guard_and_log(request, service, limits))
    })
    .workers(workers)
    .max_connections(per_worker)
    .client_request_timeout(policy.header_timeout)
    .keep_alive(KeepAlive::Timeout(policy.header_timeout))
    .tcp_nodelay(true)
    .disable_signals()
    .shutdown_timeout(policy.drain_timeout.as_secs().max(1))
    .listen(listener)
    .map_err(failed)?
    .run();
    let handle = server.handle();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        served = &mut server => return served.map_err(failed),
        () = shutdown => {}
    }
    // actix-server's acceptor panics when it accepts a connection after its workers have
    // stopped, which clients waiting in the listen backlog make it do; so it stops accepting, and
    // the backlog is closed, before the workers are told to stop.
    // The server future answers these commands: poll both.
    let stop = async {
        handle.pause().await;
        backlog.close();
        handle.stop(true).await;
    };
    let (served, ()) = tokio::join!(server, stop);
    served.map_err(failed)
}

/// A second handle on the listening socket that actix owns, to refuse the connections still
/// waiting in its backlog at shutdown.
struct Backlog(std::net::TcpListener);

impl Backlog {
    fn of(listener: &std::net::TcpListener) -> std::io::Result<Self> {
        listener.try_clone().map(Self)
    }

    /// Shuts the listening socket down: clients still in the backlog are reset, and every later
    /// `accept` fails instead of handing actix a connection no worker is left to serve.
    fn close(&self) {
        #[cfg(unix)]
        if let Err(error) = rustix::net::shutdown(&self.0, rustix::net::Shutdown::Both) {
            tracing::debug!("closing the listen backlog: {error}");
        }
    }
}
