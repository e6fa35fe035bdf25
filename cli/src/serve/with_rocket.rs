//! The SPEC §7 routes on rocket.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use endpoint_auth_conformance::routes::{credentials_body, user_body, OPEN_BODY};
use endpoint_auth_rocket::{AuthUser, BasicAuth, BasicCredentials, ConfirmedUser};
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome};
use rocket::{get, Build, Config, Request, Rocket};

use super::{access_log, Caller, SharedAuthenticator};
use crate::error::CliError;

/// Lets a handler name who it answered for, for the access log.
struct CallerNote<'r>(&'r Request<'r>);

#[derive(Default)]
struct NotedCaller(Mutex<Option<Caller>>);

impl CallerNote<'_> {
    fn set(&self, name: &str) {
        let noted = self.0.local_cache(NotedCaller::default);
        *noted
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Caller(name.to_owned()));
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CallerNote<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(CallerNote(request))
    }
}

/// When the request arrived, for the access log.
struct Started(Instant);

#[get("/protected")]
fn protected(user: AuthUser, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(&user.email);
    (ContentType::JSON, user_body(&user))
}

#[get("/confirmed")]
fn confirmed(user: ConfirmedUser, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(&user.email);
    (ContentType::JSON, user_body(&user))
}

#[get("/credentials")]
fn credentials(credentials: BasicCredentials, note: CallerNote<'_>) -> (ContentType, String) {
    note.set(credentials.username());
    (ContentType::JSON, credentials_body(&credentials))
}

#[get("/open")]
fn open() -> (ContentType, &'static str) {
    (ContentType::JSON, OPEN_BODY)
}

fn access_log_fairing() -> AdHoc {
    AdHoc::on_request("request start", |request, _| {
        Box::pin(async move {
            request.local_cache(|| Started(Instant::now()));
        })
    })
}

fn access_log_response() -> AdHoc {
    AdHoc::on_response("access log", |request, response| {
        Box::pin(async move {
            let started = request.local_cache(|| Started(Instant::now()));
            let caller = request
                .local_cache(NotedCaller::default)
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let refusal = endpoint_auth_rocket::refusal(request);
            access_log(
                request.method().as_str(),
                request.uri().path().as_str(),
                response.status().code,
                started.0.elapsed(),
                caller.as_ref(),
                refusal.as_ref(),
            );
        })
    })
}

/// The SPEC §7 routes and the access log, mounted on `rocket` (whose configuration is the
/// caller's).
pub fn app(rocket: Rocket<Build>, authenticator: SharedAuthenticator) -> Rocket<Build> {
    rocket
        .attach(access_log_fairing())
        .attach(BasicAuth::new(authenticator))
        .attach(access_log_response())
        .mount(
            "/",
            rocket::routes![protected, confirmed, credentials, open],
        )
}

pub(crate) async fn serve(
    bind: SocketAddr,
    authenticator: SharedAuthenticator,
    announce: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<(), CliError> {
    let config = Config {
        address: bind.ip(),
        port: bind.port(),
        log_level: LogLevel::Off,
        cli_colors: false,
        // rocket's own Ctrl-C / SIGTERM handling gives the same graceful shutdown as the others.
        shutdown: ShutdownConfig {
            ctrlc: true,
            ..ShutdownConfig::default()
        },
        ..Config::release_default()
    };
    let announce = Mutex::new(Some(announce));
    app(rocket::custom(config), authenticator)
        .attach(AdHoc::on_liftoff("announce", move |rocket| {
            let config = rocket.config();
            let addr = SocketAddr::new(config.address, config.port);
            if let Some(announce) = announce
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
            {
                announce(addr);
            }
            Box::pin(async {})
        }))
        .launch()
        .await
        .map(drop)
        .map_err(|e| CliError::Serve(format!("could not serve with rocket on {bind}: {e}")))
}
