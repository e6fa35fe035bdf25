//! The conformance suite against exactly what `endpoint-auth serve` serves, on each framework,
//! over the SQLite users store (in memory, a fresh database per case).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{Fixture, TestServer};
use endpoint_auth_sql::SqlStore;
use tokio::runtime::Runtime;

/// One runtime for the stores' background work, alive for the whole test binary.
fn store_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the SQLite stores")
    })
}

/// The fixture users in a fresh in-memory SQLite database.
fn sqlite_fixture() -> Fixture {
    store_runtime().block_on(async {
        let store = SqlStore::connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite database");
        Fixture::with_store(store)
            .await
            .expect("the SQLite store accepts the fixture users")
    })
}

mod axum {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        TestServer::spawn_tokio(move |listener, stop| async move {
            ::axum::serve(
                listener,
                endpoint_auth_cli::serve::axum_router(authenticator),
            )
            .with_graceful_shutdown(stop)
            .await
            .expect("axum serves");
        })
    }

    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}

mod warp {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        TestServer::spawn_tokio(move |listener, stop| async move {
            ::warp::serve(endpoint_auth_cli::serve::warp_app(&authenticator))
                .incoming(listener)
                .graceful(stop)
                .run()
                .await;
        })
    }

    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}

mod rocket {
    use ::rocket::config::{LogLevel, Shutdown as ShutdownConfig};
    use ::rocket::fairing::AdHoc;
    use ::rocket::{Config, Shutdown};

    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        let config = Config {
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
        };
        let (listening, bound) = mpsc::channel::<(u16, Shutdown)>();
        let server = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for rocket");
            runtime.block_on(async move {
                let launched =
                    endpoint_auth_cli::serve::rocket_app(::rocket::custom(config), authenticator)
                        .attach(AdHoc::on_liftoff("report the port", move |rocket| {
                            Box::pin(async move {
                                let _ = listening.send((rocket.config().port, rocket.shutdown()));
                            })
                        }))
                        .launch()
                        .await;
                launched.map(drop).map_err(|e| e.to_string())
            })
        });
        let Ok((port, shutdown)) = bound.recv_timeout(Duration::from_secs(60)) else {
            panic!("rocket did not launch: {:?}", server.join());
        };
        TestServer::new(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), move || {
            shutdown.notify();
            let _ = server.join();
        })
    }

    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}
