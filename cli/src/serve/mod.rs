//! `endpoint-auth serve`: the SPEC §7 routes over the users database, on the chosen framework,
//! behind one connection policy ([`ConnectionPolicy`]) whatever the framework. `/credentials`,
//! which echoes passwords, is mounted only with `--demo` ([`Routes`]).

mod connections;
mod demo_routes;
pub mod forward_auth;
mod logging;
pub mod metrics;
mod open_files;
mod tls;
mod with_actix;
mod with_axum;
mod with_rocket;
mod with_warp;

pub use connections::ConnectionPolicy;
pub use demo_routes::Routes;
pub use with_actix::routes as actix_routes;
pub use with_axum::router as axum_router;
pub use with_rocket::app as rocket_app;
pub use with_warp::app as warp_app;

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use endpoint_auth::{Authenticator, Rejection, Requirements, User};
use endpoint_auth_sql::SqlStore;

use crate::args::{Framework, ServeArgs};
use crate::error::CliError;
use crate::users::{ensure_demo_user, DEMO_EMAIL, DEMO_PASSWORD};

/// Who a request was answered for, as the access log names it.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) String);

/// The most characters of a user name the access log shows: the name is the client's choice.
const LOGGED_USER_CHARS: usize = 64;
/// The most characters of a path the access log shows.
const LOGGED_PATH_CHARS: usize = 200;

/// Writes the one access-log line of a request: client address, method, path, status, latency,
/// and the user or the reason it was refused (never a password).
pub(crate) fn access_log(
    peer: Option<SocketAddr>,
    method: &str,
    path: &str,
    status: u16,
    latency: Duration,
    caller: Option<&Caller>,
    rejection: Option<&Rejection>,
) {
    let who = match (caller, rejection) {
        (Some(Caller(name)), _) => format!("user={:?}", logging::truncate(name, LOGGED_USER_CHARS)),
        (None, Some(rejection)) => format!("refused=\"{rejection}\""),
        (None, None) => "anonymous".to_owned(),
    };
    metrics::count(status);
    let peer = peer.map_or_else(|| "-".to_owned(), |peer| peer.to_string());
    let path = logging::truncate(path, LOGGED_PATH_CHARS);
    tracing::info!(target: "endpoint_auth::access", "{peer} {method} {path} {status} {:.1}ms {who}", latency.as_secs_f64() * 1000.0);
}

/// A JSON response naming who it answered for, for the frameworks on `http` 1.x.
pub(crate) fn json_response<B: From<String>>(
    caller: Option<Caller>,
    body: String,
) -> http::Response<B> {
    let mut response = http::Response::new(B::from(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

/// [`access_log`] for a response on `http` 1.x, which carries the caller or the refusal in its
/// extensions.
pub(crate) fn log_response<B>(
    peer: Option<SocketAddr>,
    method: &http::Method,
    path: &str,
    started: Instant,
    response: &http::Response<B>,
) {
    access_log(
        peer,
        method.as_str(),
        path,
        response.status().as_u16(),
        started.elapsed(),
        response.extensions().get::<Caller>(),
        response.extensions().get::<Rejection>(),
    );
}

/// Resolves when the process receives Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!(target: "endpoint_auth::access", "shutting down");
}

pub(crate) async fn run(db: &str, args: ServeArgs) -> Result<(), CliError> {
    let log = logging::init();
    let reporter = log.spawn_reporter();
    let result = serve(db, args).await;
    reporter.abort();
    log.report_suppressed();
    result
}

async fn serve(db: &str, args: ServeArgs) -> Result<(), CliError> {
    let mut policy = policy(&args);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        policy.tls = Some(tls::server_config(cert, key)?);
    }
    let store = SqlStore::connect(db).await?;
    if args.demo && ensure_demo_user(&store).await? {
        println!("created the demo user {DEMO_EMAIL}");
    }
    let authenticator = Authenticator::builder(store)
        .realm(args.realm.clone())
        .cors_preflight(!args.forward_auth)
        .trusted_proxies(args.trusted_proxies.iter().copied())
        .build()?;
    let listener = bind(args.bind).await?;
    if args.framework == Framework::Actix && !args.forward_auth {
        // actix-web runs its own server, outside the shared connection loop that adds TLS and
        // the metrics route.
        if args.tls_cert.is_some() || args.metrics {
            return Err(CliError::Serve(
                "--tls-cert and --metrics are not available with --framework actix; use another \
                 framework, or terminate TLS in a reverse proxy"
                    .to_owned(),
            ));
        }
        announce(local_addr(&listener)?, db, &args);
        return with_actix::serve(
            listener,
            authenticator,
            routes(&args),
            &policy,
            shutdown_signal(),
        )
        .await;
    }
    let mut handler = if args.forward_auth {
        let requirements = Requirements::new().confirmed_email(args.confirmed_email);
        forward_auth::handler(authenticator, requirements)
    } else {
        handler(args.framework, authenticator, routes(&args), &policy).await?
    };
    if args.metrics {
        handler = metrics::with_metrics(handler)?;
    }
    announce(local_addr(&listener)?, db, &args);
    connections::serve(listener, &policy, handler, shutdown_signal()).await;
    Ok(())
}

/// Serves exactly what `endpoint-auth serve --framework FRAMEWORK` serves ([`Routes::Demo`]:
/// with `--demo`), on `listener`, until `shutdown` resolves; then drains requests in flight
/// (see [`ConnectionPolicy::drain_timeout`]).
///
/// # Errors
/// [`CliError::Serve`] when the framework cannot start (rocket's ignition).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    framework: Framework,
    routes: Routes,
    authenticator: SharedAuthenticator,
    policy: &ConnectionPolicy,
    shutdown: impl Future<Output = ()>,
) -> Result<(), CliError> {
    if framework == Framework::Actix {
        return with_actix::serve(listener, authenticator, routes, policy, shutdown).await;
    }
    let handler = handler(framework, authenticator, routes, policy).await?;
    connections::serve(listener, policy, handler, shutdown).await;
    Ok(())
}

async fn handler(
    framework: Framework,
    authenticator: SharedAuthenticator,
    routes: Routes,
    policy: &ConnectionPolicy,
) -> Result<connections::Handler, CliError> {
    Ok(match framework {
        Framework::Axum => with_axum::handler(authenticator, routes),
        Framework::Warp => with_warp::handler(&authenticator, routes),
        Framework::Rocket => {
            with_rocket::handler(authenticator, routes, policy.header_timeout).await?
        }
        // actix-web serves on its own server (`with_actix::serve`), not on this loop.
        Framework::Actix => {
            return Err(CliError::Serve(
                "actix-web serves on its own server, not on the shared connection loop".into(),
            ))
        }
    })
}

/// The routes `args` ask for: `/credentials` only with `--demo`.
fn routes(args: &ServeArgs) -> Routes {
    if args.demo {
        Routes::Demo
    } else {
        Routes::Standard
    }
}

/// The connection policy `args` ask for, its cap fitted to the open-files limit.
fn policy(args: &ServeArgs) -> ConnectionPolicy {
    let wanted = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    let (max_connections, limit) = open_files::fit(wanted);
    if let Some(limit) = limit {
        tracing::warn!(
            "serving at most {max_connections} connections, not {wanted}: the open-files limit is \
             {limit} and {} are kept for the database and the runtime",
            open_files::RESERVED
        );
    }
    ConnectionPolicy {
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections,
        ..ConnectionPolicy::default()
    }
}

/// Listens on `addr`.
async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Serve(format!("could not listen on {addr}: {e}")))
}

/// The address a listener got (the port, when 0 was asked for).
fn local_addr(listener: &tokio::net::TcpListener) -> Result<SocketAddr, CliError> {
    listener
        .local_addr()
        .map_err(|e| CliError::Serve(format!("could not read the bound address: {e}")))
}

fn announce(addr: SocketAddr, db: &str, args: &ServeArgs) {
    let scheme = if args.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let users = redact_url(db);
    if args.forward_auth {
        println!(
            "endpoint-auth serving {scheme}://{addr} for forward authentication, users in {users}"
        );
        let confirmed = if args.confirmed_email {
            ", confirmed email required"
        } else {
            ""
        };
        println!(
            "  ANY /auth         authenticate_users{confirmed}: 200 + X-Auth-User, or the refusal"
        );
    } else {
        let framework = format!("{:?}", args.framework).to_lowercase();
        println!("endpoint-auth serving {scheme}://{addr} with {framework}, users in {users}");
        println!("  GET /protected    authenticate_users");
        println!("  GET /confirmed    authenticate_users, confirmed email required");
        if routes(args).credentials() {
            println!("  GET /credentials  require_credentials (echoes the password back)");
        }
        println!("  GET /open         no authentication");
    }
    if args.metrics {
        println!("  GET /metrics      Prometheus metrics, no authentication");
    }
    if args.demo {
        let path = if args.forward_auth {
            "auth"
        } else {
            "protected"
        };
        println!("try: curl -u {DEMO_EMAIL}:{DEMO_PASSWORD} {scheme}://{addr}/{path}");
    }
    if routes(args).credentials() && !args.forward_auth && !addr.ip().is_loopback() {
        eprintln!("warning: --demo serves /credentials, which echoes the password it receives, on {addr}; it exists to test decoding, serve it only to yourself");
    }
    if scheme == "http" && !addr.ip().is_loopback() {
        eprintln!("warning: serving plain HTTP on {addr}: Basic credentials cross the network in clear; use --tls-cert/--tls-key or a TLS-terminating proxy");
    }
    let _ = std::io::stdout().flush();
}

/// The database URL without any password, for printing.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

/// The authenticator the routes share: over the users store, with Anvil's user type.
pub type SharedAuthenticator = Authenticator<User>;

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_urls_are_not_printed() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(
            redact_url("sqlite://endpoint-auth.db"),
            "sqlite://endpoint-auth.db"
        );
    }
}
