//! The SPEC §7 routes on axum.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use endpoint_auth_axum::{AuthUser, BasicCredentials, ConfirmedUser};
use endpoint_auth_conformance::routes::{
    credentials_body, user_body, CONFIRMED, CREDENTIALS, OPEN, OPEN_BODY, PROTECTED,
};

use super::{
    json_response, local_addr, log_response, shutdown_signal, Caller, SharedAuthenticator,
};
use crate::error::CliError;

/// The SPEC §7 routes on axum, with the access log around them.
pub fn router(authenticator: SharedAuthenticator) -> Router {
    Router::new()
        .route(PROTECTED, get(protected))
        .route(CONFIRMED, get(confirmed))
        .route(CREDENTIALS, get(credentials))
        .route(OPEN, get(open))
        .layer(middleware::from_fn(log_request))
        .with_state(authenticator)
}

fn json(caller: Option<Caller>, body: String) -> Response {
    json_response(caller, body)
}

async fn protected(AuthUser(user): AuthUser) -> Response {
    json(Some(Caller(user.email.clone())), user_body(&user))
}

async fn confirmed(ConfirmedUser(user): ConfirmedUser) -> Response {
    json(Some(Caller(user.email.clone())), user_body(&user))
}

async fn credentials(credentials: BasicCredentials) -> Response {
    json(
        Some(Caller(credentials.username().to_owned())),
        credentials_body(credentials.credentials()),
    )
}

async fn open() -> Response {
    json(None, OPEN_BODY.to_owned())
}

async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    log_response(&method, &path, started, &response);
    response
}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    authenticator: SharedAuthenticator,
    announce: impl FnOnce(std::net::SocketAddr),
) -> Result<(), CliError> {
    announce(local_addr(&listener)?);
    axum::serve(listener, router(authenticator))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::Serve(format!("the server failed: {e}")))
}
