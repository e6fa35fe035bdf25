//! The SPEC §7 routes on axum.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use endpoint_auth_axum::{AuthUser, BasicCredentials, ConfirmedUser};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::connections::{BoxError, Handler};
use super::demo_routes::{
    credentials_body, open_body, user_body, CONFIRMED, CREDENTIALS, OPEN, PROTECTED,
};
use super::{json_response, log_response, Caller, Routes, SharedAuthenticator};

/// The SPEC §7 routes on axum (`/credentials` only in [`Routes::Demo`]), with the access log
/// around them.
pub fn router(authenticator: SharedAuthenticator, routes: Routes) -> Router {
    let mut router = Router::new()
        .route(PROTECTED, get(protected).options(protected))
        .route(CONFIRMED, get(confirmed).options(confirmed))
        .route(OPEN, get(open));
    if routes.credentials() {
        router = router.route(CREDENTIALS, get(credentials).options(credentials));
    }
    router
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
    json(None, open_body())
}

async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let response = next.run(request).await;
    log_response(peer, &method, &path, started, &response);
    response
}

/// The routes as `serve` runs them: each request carries its client's address as axum's
/// `ConnectInfo<SocketAddr>`, as `axum::serve` would give it.
pub(crate) fn handler(authenticator: SharedAuthenticator, routes: Routes) -> Handler {
    let router = router(authenticator, routes);
    Arc::new(move |mut request, peer| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        Box::pin(async move {
            let response = match router.oneshot(request.map(axum::body::Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            response.map(|body| body.map_err(BoxError::from).boxed_unsync())
        })
    })
}
