//! The whole conformance suite (SPEC.md) against a real warp server on loopback, wired the way
//! the crate docs recommend: path, method, authentication, handler, `.recover(recover)` per
//! route, and exempt CORS preflights answered by a `preflight` route in front.

use std::sync::mpsc;
use std::thread;

use endpoint_auth_conformance::endpoint_auth::{Authenticator, Credentials, User};
use endpoint_auth_conformance::{conformance_suite, routes, TestServer};
use endpoint_auth_warp::{authenticate_users, preflight, recover, require_credentials};
use tokio::sync::oneshot;
use warp::{Filter, Rejection, Reply};

/// `GET <route>` exactly.
fn get(route: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::path(route.trim_start_matches('/'))
        .and(warp::path::end())
        .and(warp::get())
}

fn json(body: String) -> impl Reply {
    warp::reply::with_header(body, "content-type", "application/json")
}

/// The SPEC §7 routes.
fn app(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone + Send + Sync + 'static {
    let protected = get(routes::PROTECTED)
        .and(authenticate_users(auth, routes::PROTECTED_REQUIREMENTS))
        .map(|user: User| json(routes::user_body(&user)))
        .recover(recover);
    let confirmed = get(routes::CONFIRMED)
        .and(authenticate_users(auth, routes::CONFIRMED_REQUIREMENTS))
        .map(|user: User| json(routes::user_body(&user)))
        .recover(recover);
    let credentials = get(routes::CREDENTIALS)
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
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the server under test");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("binding a loopback port");
            let addr = listener.local_addr().expect("the bound address");
            addr_tx.send(addr).expect("the test waits for the address");
            warp::serve(app(&auth))
                .incoming(listener)
                .graceful(async {
                    // A dropped sender stops the server as well.
                    let _ = stop_rx.await;
                })
                .run()
                .await;
        });
    });
    let addr = addr_rx
        .recv()
        .expect("the server thread reports its address");
    TestServer::new(addr, move || {
        let _ = stop_tx.send(());
        server.join().expect("the server thread ends cleanly");
    })
}

conformance_suite!(start);
