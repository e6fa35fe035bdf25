//! The benchmark's own server: `/open` and `/protected` over a [`MemoryStore`] holding the demo
//! user, on one framework, each adapter used as its README shows. On axum it also serves the
//! peers the benchmark compares with:
//!
//! - `/peer/tower-http`: tower-http's `ValidateRequestHeaderLayer::basic`;
//! - `/peer/axum-auth`: axum-auth's `AuthBasic` extractor, the pair compared in plaintext;
//! - `/peer/argon2`: argon2id verification (OWASP parameters) of every request, no cache.
//!
//! ```sh
//! bench-server --framework axum|warp|rocket --bind 127.0.0.1:PORT
//! ```
//!
//! Prints `listening on http://ADDR` once it accepts connections. Plain HTTP, for loopback
//! benchmarks only.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser, User};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";
const OPEN_BODY: &str = r#"{"ok":true}"#;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let (framework, bind) = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench-server: {message}");
            eprintln!("usage: bench-server --framework axum|warp|rocket --bind ADDR");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench-server: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let auth = authenticator()?;
        match framework.as_str() {
            "axum" => axum_app::serve(bind, auth).await,
            "warp" => warp_app::serve(bind, auth).await,
            _ => rocket_app::serve(bind, auth).await,
        }
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(String, SocketAddr), String> {
    let (mut framework, mut bind) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--framework" => framework = args.next(),
            "--bind" => {
                let value = args.next().ok_or("--bind needs an address")?;
                bind = Some(value.parse().map_err(|e| format!("--bind {value}: {e}"))?);
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let framework = framework.ok_or("--framework is required")?;
    if !["axum", "warp", "rocket"].contains(&framework.as_str()) {
        return Err(format!("unknown framework {framework:?}"));
    }
    Ok((framework, bind.ok_or("--bind is required")?))
}

/// The demo user in memory, hashed with the OWASP parameters, as the adapters' examples do.
fn authenticator() -> Result<Authenticator<User>, Error> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    Ok(Authenticator::builder(store)
        .realm("endpoint-auth bench")
        .hash_policy(policy)
        .build()?)
}

fn announce(addr: SocketAddr) {
    use std::io::Write as _;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
}

/// Every endpoint-auth call of the axum server, and the peers.
mod axum_app {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier as _, Version};
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use axum_auth::AuthBasic;
    use endpoint_auth::{Authenticator, HashPolicy, User};
    use endpoint_auth_axum::AuthUser;
    use tower_http::validate_request::ValidateRequestHeaderLayer;

    use super::{announce, Error, EMAIL, OPEN_BODY, PASSWORD};

    async fn open() -> ([(header::HeaderName, &'static str); 1], &'static str) {
        ([(header::CONTENT_TYPE, "application/json")], OPEN_BODY)
    }

    async fn protected(AuthUser(user): AuthUser) -> String {
        format!("Authenticated {}", user.email)
    }

    async fn axum_auth(AuthBasic((id, password)): AuthBasic) -> Result<String, StatusCode> {
        if id == EMAIL && password.as_deref() == Some(PASSWORD) {
            Ok(format!("Authenticated {id}"))
        } else {
            Err(StatusCode::UNAUTHORIZED)
        }
    }

    /// What a handler without a verification cache does: argon2id on every request, off the
    /// async threads.
    async fn argon2_every_request(
        stored: Arc<String>,
        AuthBasic((id, password)): AuthBasic,
    ) -> Result<String, StatusCode> {
        let password = password.unwrap_or_default();
        let matched = tokio::task::spawn_blocking(move || {
            let params = Params::new(19_456, 2, 1, None).map_err(|_| ())?;
            let hash = PasswordHash::new(&stored).map_err(|_| ())?;
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .verify_password(password.as_bytes(), &hash)
                .map_err(|_| ())
        })
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        match (id == EMAIL, matched) {
            (true, Ok(())) => Ok(format!("Authenticated {id}")),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }

    pub(super) async fn serve(bind: SocketAddr, auth: Authenticator<User>) -> Result<(), Error> {
        let stored = Arc::new(HashPolicy::owasp().hash(PASSWORD)?);
        // Deprecated as "too basic to be useful"; it is still what tower-http offers for Basic.
        #[allow(deprecated)]
        let tower_http_basic = ValidateRequestHeaderLayer::basic(EMAIL, PASSWORD);
        let app = Router::new()
            .route("/open", get(open))
            .route("/protected", get(protected))
            .route("/peer/tower-http", get(open).layer(tower_http_basic))
            .route("/peer/axum-auth", get(axum_auth))
            .route(
                "/peer/argon2",
                get(move |basic: AuthBasic| argon2_every_request(stored.clone(), basic)),
            )
            .with_state(auth);
        let listener = tokio::net::TcpListener::bind(bind).await?;
        announce(listener.local_addr()?);
        // The peer address, as a real deployment hands it over for fair admission.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
        Ok(())
    }
}

/// Every endpoint-auth call of the warp server.
mod warp_app {
    use std::net::SocketAddr;

    use endpoint_auth::{Authenticator, Requirements, User};
    use endpoint_auth_warp::{authenticate_users, recover};
    use warp::Filter;

    use super::{announce, Error, OPEN_BODY};

    pub(super) async fn serve(bind: SocketAddr, auth: Authenticator<User>) -> Result<(), Error> {
        let open = warp::path!("open")
            .and(warp::get())
            .map(|| warp::reply::with_header(OPEN_BODY, "content-type", "application/json"));
        let protected = warp::path!("protected")
            .and(warp::get())
            .and(authenticate_users(&auth, Requirements::new()))
            .map(|user: User| format!("Authenticated {}", user.email))
            .recover(recover);
        let listener = tokio::net::TcpListener::bind(bind).await?;
        announce(listener.local_addr()?);
        warp::serve(open.or(protected))
            .incoming(listener)
            .run()
            .await;
        Ok(())
    }
}

/// Every endpoint-auth call of the rocket server.
mod rocket_app {
    use std::net::SocketAddr;

    use endpoint_auth::{Authenticator, User};
    use endpoint_auth_rocket::{AuthUser, BasicAuth};
    use rocket::config::LogLevel;
    use rocket::fairing::AdHoc;
    use rocket::http::ContentType;
    use rocket::{get, routes, Config};

    use super::{announce, Error, OPEN_BODY};

    #[get("/open")]
    fn open() -> (ContentType, &'static str) {
        (ContentType::JSON, OPEN_BODY)
    }

    #[get("/protected")]
    fn protected(user: AuthUser) -> String {
        format!("Authenticated {}", user.email)
    }

    pub(super) async fn serve(bind: SocketAddr, auth: Authenticator<User>) -> Result<(), Error> {
        let config = Config {
            address: bind.ip(),
            port: bind.port(),
            log_level: LogLevel::Off,
            cli_colors: false,
            ..Config::release_default()
        };
        rocket::custom(config)
            .attach(BasicAuth::new(auth))
            .attach(AdHoc::on_liftoff("announce", move |_| {
                Box::pin(async move { announce(bind) })
            }))
            .mount("/", routes![open, protected])
            .launch()
            .await?;
        Ok(())
    }
}
