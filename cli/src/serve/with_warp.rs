//! The SPEC §7 routes on warp.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use endpoint_auth::{Credentials, User};
use endpoint_auth_warp::{authenticate_users, preflight, recover, require_credentials};
use warp::http::{Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use http_body_util::BodyExt;
use tower::ServiceExt;

use super::connections::{BoxError, Handler};
use super::demo_routes::{
    credentials_body, open_body, user_body, CONFIRMED, CONFIRMED_REQUIREMENTS, CREDENTIALS, OPEN,
    PROTECTED, PROTECTED_REQUIREMENTS,
};
use super::{json_response, log_response, Caller, Routes, SharedAuthenticator};

/// `GET` or `OPTIONS` `path`: the filters step aside for exempt CORS preflights (answered by
/// `preflight`) and authenticate any other `OPTIONS`.
fn route(path: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::path(path.trim_start_matches('/'))
        .and(warp::path::end())
        .and(warp::get().or(warp::options()).unify())
}

/// Passes when `mounted`; otherwise rejects as for a path no route takes, before any
/// authentication work.
fn mounted(mounted: bool) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::any()
        .and_then(move || async move {
            if mounted {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

fn json(caller: Option<Caller>, body: String) -> Response {
    json_response(caller, body)
}

fn user_reply(user: User) -> Response {
    json(Some(Caller(user.email.clone())), user_body(&user))
}

/// What warp itself answers for a request no route takes.
async fn unrouted(rejection: Rejection) -> Result<Response, Infallible> {
    let status = if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(warp::reply::with_status(warp::reply(), status).into_response())
}

/// The SPEC §7 routes on warp (`/credentials` only in [`Routes::Demo`]), answered whatever
/// happens, with the access log around them.
pub fn app(
    authenticator: &SharedAuthenticator,
    routes: Routes,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static {
    let protected = route(PROTECTED)
        .and(authenticate_users(authenticator, PROTECTED_REQUIREMENTS))
        .map(user_reply)
        .recover(recover);
    let confirmed = route(CONFIRMED)
        .and(authenticate_users(authenticator, CONFIRMED_REQUIREMENTS))
        .map(user_reply)
        .recover(recover);
    let credentials = route(CREDENTIALS)
        .and(mounted(routes.credentials()))
        .and(require_credentials(authenticator))
        .map(|credentials: Credentials| {
            json(
                Some(Caller(credentials.username().to_owned())),
                credentials_body(&credentials),
            )
        })
        .recover(recover);
    let open = route(OPEN).map(|| json(None, open_body()));
    let preflights = preflight(authenticator).map(|| warp::reply().into_response());
    let answers = preflights
        .or(protected.map(Reply::into_response))
        .unify()
        .or(confirmed.map(Reply::into_response))
        .unify()
        .or(credentials.map(Reply::into_response))
        .unify()
        .or(open)
        .unify()
        .recover(unrouted)
        .unify();
    warp::method()
        .and(warp::path::full())
        .and(peer())
        .and(warp::any().map(Instant::now))
        .and(answers)
        .map(
            |method: Method,
             path: FullPath,
             peer: Option<SocketAddr>,
             started: Instant,
             response: Response| {
                log_response(peer, &method, path.as_str(), started, &response);
                response
            },
        )
}

/// The client's address: warp's own under `warp::serve`, else the `SocketAddr` extension that
/// `serve` puts on every request (warp's is crate-private, so no other server can set it).
fn peer() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Copy {
    warp::addr::remote()
        .and(warp::ext::optional::<SocketAddr>())
        .map(|warps: Option<SocketAddr>, ours: Option<SocketAddr>| warps.or(ours))
}

/// The routes as `serve` runs them, each request carrying its client's address as a
/// `SocketAddr` extension.
pub(crate) fn handler(authenticator: &SharedAuthenticator, routes: Routes) -> Handler {
    let service = warp::service(app(authenticator, routes));
    Arc::new(move |mut request, peer| {
        request.extensions_mut().insert(peer);
        let service = service.clone();
        Box::pin(async move {
            let response = match service.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            response.map(|body| body.map_err(BoxError::from).boxed_unsync())
        })
    })
}
