//! The endpoint-auth conformance suite (SPEC.md), run twice against real axum servers on
//! loopback: once with the routes protected by the extractors, once by the tower layer.

use std::net::SocketAddr;

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use endpoint_auth_axum::endpoint_auth::{Authenticator, User};
use endpoint_auth_axum::{AuthUser, AuthenticateUsersLayer, BasicCredentials, ConfirmedUser};
use endpoint_auth_conformance::routes::{
    credentials_body, user_body, CONFIRMED, CONFIRMED_REQUIREMENTS, CREDENTIALS, OPEN, OPEN_BODY,
    PROTECTED, PROTECTED_REQUIREMENTS,
};
use endpoint_auth_conformance::TestServer;

fn json(body: String) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], body)
}

async fn open() -> impl IntoResponse {
    json(OPEN_BODY.to_owned())
}

async fn credentials(credentials: BasicCredentials) -> impl IntoResponse {
    json(credentials_body(&credentials))
}

/// Serves `app` on 127.0.0.1, on a thread and runtime of its own, until the [`TestServer`] drops;
/// with the socket peer in each request's extensions, which the adapter hands the core as the
/// client for fair admission.
fn serve(app: Router) -> TestServer {
    TestServer::spawn_tokio(|listener, stop| async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
        .expect("serve");
    })
}

/// Per route: the extractors, the way an application writes it. The routes also serve `OPTIONS`
/// (SPEC §7), where the extractors answer an exempt CORS preflight themselves.
mod extractors {
    use super::*;

    async fn protected(AuthUser(user): AuthUser) -> impl IntoResponse {
        json(user_body(&user))
    }

    async fn confirmed(ConfirmedUser(user): ConfirmedUser) -> impl IntoResponse {
        json(user_body(&user))
    }

    fn start(authenticator: Authenticator<User>) -> TestServer {
        serve(
            Router::new()
                .route(PROTECTED, get(protected).options(protected))
                .route(CONFIRMED, get(confirmed).options(confirmed))
                .route(CREDENTIALS, get(credentials).options(credentials))
                .route(OPEN, get(open))
                .with_state(authenticator),
        )
    }

    endpoint_auth_conformance::conformance_suite!(start);
}

/// Per router: `/protected` and `/confirmed` behind `AuthenticateUsersLayer`, handlers reading
/// the user from the extensions. `/credentials` keeps its extractor (the layer is
/// `authenticate_users` only).
///
/// The layer passes an exempt CORS preflight on to the route's `OPTIONS` handler, which answers
/// it as an application would (here without CORS headers); any other `OPTIONS` is authenticated
/// by the layer first.
mod layer {
    use super::*;

    async fn user(Extension(user): Extension<User>) -> impl IntoResponse {
        json(user_body(&user))
    }

    async fn preflight() -> StatusCode {
        StatusCode::NO_CONTENT
    }

    fn start(authenticator: Authenticator<User>) -> TestServer {
        let layer = AuthenticateUsersLayer::new(authenticator.clone());
        let protected = Router::new()
            .route(PROTECTED, get(user).options(preflight))
            .route_layer(layer.clone().requirements(PROTECTED_REQUIREMENTS));
        let confirmed = Router::new()
            .route(CONFIRMED, get(user).options(preflight))
            .route_layer(layer.requirements(CONFIRMED_REQUIREMENTS));
        serve(
            Router::new()
                .merge(protected)
                .merge(confirmed)
                .route(CREDENTIALS, get(credentials).options(credentials))
                .route(OPEN, get(open))
                .with_state(authenticator),
        )
    }

    endpoint_auth_conformance::conformance_suite!(start);
}
