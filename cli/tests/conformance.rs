//! The conformance suite against exactly what `endpoint-auth serve` serves, on each framework
//! behind its connection policy, over the SQLite users store (in memory, a fresh database per
//! case).

use std::sync::OnceLock;

use endpoint_auth::{Authenticator, User};
use endpoint_auth_cli::args::Framework;
use endpoint_auth_cli::serve::{ConnectionPolicy, Routes};
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

/// Starts exactly what `endpoint-auth serve --demo --framework FRAMEWORK` serves, connection
/// policy included, on the suite's listener: the suite calls `/credentials`, which only `--demo`
/// mounts.
fn start(framework: Framework, authenticator: Authenticator<User>) -> TestServer {
    TestServer::spawn_tokio(move |listener, stop| async move {
        endpoint_auth_cli::serve::serve_on(
            listener,
            framework,
            Routes::Demo,
            authenticator,
            &ConnectionPolicy::default(),
            stop,
        )
        .await
        .expect("the server starts");
    })
}

mod axum {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        super::start(Framework::Axum, authenticator)
    }

    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}

mod warp {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        super::start(Framework::Warp, authenticator)
    }

    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}

mod rocket {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        super::start(Framework::Rocket, authenticator)
    }

    // Unlike rocket's own server, serve's connection loop drops a request whose client left,
    // so the abandoned-request case passes here.
    endpoint_auth_conformance::conformance_suite!(start, sqlite_fixture);
}

mod actix {
    use super::*;

    fn start(authenticator: Authenticator<User>) -> TestServer {
        super::start(Framework::Actix, authenticator)
    }

    // actix-web runs its own server, which keeps running a handler whose client has gone away.
    endpoint_auth_conformance::conformance_suite!(
        start,
        sqlite_fixture,
        expected_failures: &[(
            "abandoned_request_is_not_verified",
            "actix-web keeps running a handler whose client has gone away, so its wait for \
             verification is never dropped"
        )]
    );
}
