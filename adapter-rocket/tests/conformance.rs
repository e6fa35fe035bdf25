//! The whole conformance suite against a real rocket server on loopback, wired the way the crate
//! docs tell users: one `BasicAuth` fairing, guards in the handlers, no catchers of our own.

use endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{conformance_suite, routes, Fixture, TestServer};
use endpoint_auth_rocket::{AuthUser, BasicAuth, BasicCredentials, ConfirmedUser};
use rocket::http::ContentType;
use rocket::{get, options};

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

// SPEC §7: the protected routes also serve `OPTIONS`, guarded as their `GET`. A guard forwards
// an exempt CORS preflight, and with no route to answer it the fairing does (`204`).

#[options("/protected")]
fn protected_options(user: AuthUser) -> (ContentType, String) {
    protected(user)
}

#[options("/confirmed")]
fn confirmed_options(user: ConfirmedUser) -> (ContentType, String) {
    confirmed(user)
}

#[options("/credentials")]
fn credentials_options(credentials: BasicCredentials) -> (ContentType, String) {
    self::credentials(credentials)
}

fn start(authenticator: Authenticator<User>) -> TestServer {
    TestServer::spawn_rocket(move |config| {
        rocket::custom(config)
            .attach(BasicAuth::new(authenticator))
            .mount(
                "/",
                rocket::routes![
                    protected,
                    confirmed,
                    credentials,
                    open,
                    protected_options,
                    confirmed_options,
                    credentials_options,
                ],
            )
    })
}

conformance_suite!(
    start,
    Fixture::new,
    expected_failures: &[(
        "abandoned_request_is_not_verified",
        ROCKET_OUTLIVES_ITS_CLIENT,
    )]
);

/// Why rocket fails SPEC §5's "a request whose client has gone away is dropped from the queue
/// without being verified".
const ROCKET_OUTLIVES_ITS_CLIENT: &str = "rocket 0.5 runs each request in a task of its own \
    that outlives the connection, so nothing drops the guard's wait when the client goes away; \
    the request is verified in its turn";
