//! The whole conformance suite against a real rocket server on loopback, wired the way the crate
//! docs tell users: one `BasicAuth` fairing, guards in the handlers, no catchers of our own.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::time::Duration;

use endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{conformance_suite, routes, TestServer};
use endpoint_auth_rocket::{AuthUser, BasicAuth, BasicCredentials, ConfirmedUser};
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::{get, Config, Shutdown};

// The paths are `routes::PROTECTED`, `CONFIRMED`, `CREDENTIALS` and `OPEN`; rocket's route
// attributes need literals.

#[get("/protected")]
fn protected(user: AuthUser) -> (ContentType, String) {
    (ContentType::JSON, routes::user_body(&user))
}

#[get("/confirmed")]
fn confirmed(user: ConfirmedUser) -> (ContentType, String) {
    (ContentType::JSON, routes::user_body(&user))
}

#[get("/credentials")]
fn credentials(credentials: BasicCredentials) -> (ContentType, String) {
    (ContentType::JSON, routes::credentials_body(&credentials))
}

#[get("/open")]
fn open() -> (ContentType, &'static str) {
    (ContentType::JSON, routes::OPEN_BODY)
}

/// Loopback, a free port, no log output, no signal handlers, and a shutdown that does not wait
/// for the default grace periods.
fn config() -> Config {
    Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        workers: 2,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: ShutdownConfig {
            ctrlc: false,
            #[cfg(unix)]
            signals: Default::default(),
            grace: 1,
            mercy: 1,
            ..Default::default()
        },
        ..Config::debug_default()
    }
}

fn start(authenticator: Authenticator<User>) -> TestServer {
    let (listening, bound) = mpsc::channel::<(u16, Shutdown)>();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the server under test");
        runtime.block_on(async move {
            rocket::custom(config())
                .attach(BasicAuth::new(authenticator))
                .mount(
                    "/",
                    rocket::routes![protected, confirmed, credentials, open],
                )
                // Liftoff runs once the listener is bound, with the port it got.
                .attach(AdHoc::on_liftoff("report the bound port", move |rocket| {
                    Box::pin(async move {
                        let _ = listening.send((rocket.config().port, rocket.shutdown()));
                    })
                }))
                .launch()
                .await
                .map(drop)
                // Displaying a rocket error marks it handled (rocket panics on dropping one
                // unseen).
                .map_err(|error| error.to_string())
        })
    });
    let (port, shutdown) = match bound.recv_timeout(Duration::from_secs(60)) {
        Ok(bound) => bound,
        Err(_) => match server.join() {
            Ok(Err(error)) => panic!("rocket did not launch: {error}"),
            _ => panic!("rocket did not report its port"),
        },
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TestServer::new(addr, move || {
        shutdown.notify();
        let _ = server.join();
    })
}

conformance_suite!(start);
