//! The whole conformance suite against a real rocket server on loopback, wired the way the crate
//! docs tell users: one `BasicAuth` fairing, guards in the handlers, no catchers of our own.

use endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{conformance_suite, routes, TestServer};
use endpoint_auth_rocket::{AuthUser, BasicAuth, BasicCredentials, ConfirmedUser};
use rocket::get;
use rocket::http::ContentType;

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

fn start(authenticator: Authenticator<User>) -> TestServer {
    TestServer::spawn_rocket(move |config| {
        rocket::custom(config)
            .attach(BasicAuth::new(authenticator))
            .mount(
                "/",
                rocket::routes![protected, confirmed, credentials, open],
            )
    })
}

conformance_suite!(start);
