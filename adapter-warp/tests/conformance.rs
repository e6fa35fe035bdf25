//! The whole conformance suite (SPEC.md) against a real warp server on loopback, wired the way
//! the crate docs recommend: path, method, authentication, handler, `.recover(recover)` per
//! route, and exempt CORS preflights answered by a `preflight` route in front. The protected
//! routes also serve `OPTIONS` (SPEC §7): the filters step aside for exempt preflights, so the
//! `preflight` route answers those, and authenticate any other `OPTIONS`.

use endpoint_auth_conformance::endpoint_auth::{Authenticator, Credentials, User};
use endpoint_auth_conformance::{conformance_suite, routes, TestServer};
use endpoint_auth_warp::{authenticate_users, preflight, recover, require_credentials};
use warp::{Filter, Rejection, Reply};

/// `GET <route>` exactly.
fn get(route: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::path(route.trim_start_matches('/'))
        .and(warp::path::end())
        .and(warp::get())
}

/// `GET` or `OPTIONS` `<route>` exactly.
fn get_or_options(route: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::path(route.trim_start_matches('/'))
        .and(warp::path::end())
        .and(warp::get().or(warp::options()).unify())
}

fn json(body: String) -> impl Reply {
    warp::reply::with_header(body, "content-type", "application/json")
}

/// The SPEC §7 routes.
fn app(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone + Send + Sync + 'static {
    let protected = get_or_options(routes::PROTECTED)
        .and(authenticate_users(auth, routes::PROTECTED_REQUIREMENTS))
        .map(|user: User| json(routes::user_body(&user)))
        .recover(recover);
    let confirmed = get_or_options(routes::CONFIRMED)
        .and(authenticate_users(auth, routes::CONFIRMED_REQUIREMENTS))
        .map(|user: User| json(routes::user_body(&user)))
        .recover(recover);
    let credentials = get_or_options(routes::CREDENTIALS)
        .and(require_credentials(auth))
        .map(|credentials: Credentials| json(routes::credentials_body(&credentials)))
        .recover(recover);
    let open = get(routes::OPEN).map(|| json(routes::OPEN_BODY.to_owned()));
    // The fixture's authenticator exempts preflights; this route answers them (an application
    // would add its CORS headers here).
    let preflights = preflight(auth).map(warp::reply);

    preflights
        .or(protected)
        .or(confirmed)
        .or(credentials)
        .or(open)
}

/// Serves [`app`] on 127.0.0.1:0 from its own thread and runtime; dropping the returned server
/// shuts it down gracefully and joins the thread.
fn start(auth: Authenticator<User>) -> TestServer {
    TestServer::spawn_tokio(move |listener, stop| async move {
        warp::serve(app(&auth))
            .incoming(listener)
            .graceful(stop)
            .run()
            .await;
    })
}

conformance_suite!(start);
