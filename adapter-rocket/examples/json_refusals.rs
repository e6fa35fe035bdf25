//! An API on rocket whose refusals are JSON: `GET /protected` (authenticate_users) answers the
//! user as JSON, and a missing or wrong login answers
//!
//! ```text
//! HTTP/1.1 401 Unauthorized
//! www-authenticate: Basic realm="json api", charset="UTF-8"
//! content-type: application/json
//!
//! {"error":"unauthorized"}
//! ```
//!
//! (a store outage: `503` + `Retry-After` + `{"error":"service_unavailable"}`; an over-eager
//! client: `429` + `Retry-After` + `{"error":"too_many_requests"}`). Only the body changes:
//! status, challenge and `Retry-After` are the same as with plain-text refusals, and the body
//! says nothing about why. The `BasicAuth` fairing writes it where rocket's default catcher
//! answered; register a catcher of your own for 401 and its body is kept instead.
//!
//! ```sh
//! cargo run -p endpoint-auth-rocket --example json_refusals
//! curl -i -u user123@gmail.com:wrong http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use endpoint_auth_rocket::endpoint_auth::{
    Authenticator, HashPolicy, MemoryStore, NewUser, RefusalFormat,
};
use endpoint_auth_rocket::{AuthUser, BasicAuth};
use rocket::http::ContentType;
use rocket::{get, routes, Build, Rocket};

pub(crate) const REALM: &str = "json api";
pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// `GET /protected`: the authenticated user, as JSON.
#[get("/protected")]
fn protected(user: AuthUser) -> (ContentType, String) {
    let body = serde_json::json!({ "id": user.id, "email": user.email });
    (ContentType::JSON, body.to_string())
}

/// The application on `rocket`: the seed user in memory, refusals as JSON.
pub(crate) fn app(rocket: Rocket<Build>) -> Result<Rocket<Build>, Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let authenticator = Authenticator::builder(store)
        .realm(REALM)
        .hash_policy(policy)
        .refusal_format(RefusalFormat::Json)
        .build()?;
    Ok(rocket
        .attach(BasicAuth::new(authenticator))
        .mount("/", routes![protected]))
}

#[rocket::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    // rocket's own configuration (Rocket.toml, ROCKET_* variables) still applies underneath.
    let config = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port));
    let rocket = app(rocket::custom(config))?;
    rocket.launch().await?;
    Ok(())
}
