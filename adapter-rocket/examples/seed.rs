//! The seed app's two endpoints on rocket:
//!
//! - `GET /protected` (authenticate_users): "Authenticated <email>, who signed up on <date>."
//! - `GET /protected-credentials` (require_credentials): checks a fixed pair itself.
//!
//! ```sh
//! cargo run -p endpoint-auth-rocket --example seed
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected-credentials
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use endpoint_auth_rocket::endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser};
use endpoint_auth_rocket::{AuthRejection, AuthUser, BasicAuth, BasicCredentials};
use rocket::time::OffsetDateTime;
use rocket::{get, routes};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// `@http_endpoint("/protected", authenticate_users=True)`
#[get("/protected")]
fn protected(user: AuthUser) -> String {
    let signed_up = OffsetDateTime::from(user.signed_up).date();
    format!(
        "Authenticated {}, who signed up on {signed_up}.",
        user.email
    )
}

/// `@http_endpoint("/protected-credentials", require_credentials=True)`
#[get("/protected-credentials")]
fn protected_credentials(credentials: BasicCredentials) -> Result<String, AuthRejection> {
    // Constant-time comparison; a refusal answers the same 401 as every other failure.
    if !credentials.matches(EMAIL, PASSWORD) {
        return Err(credentials.challenge());
    }
    Ok(format!(
        "Hello {}, your credentials check out.",
        credentials.username()
    ))
}

#[rocket::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let authenticator = Authenticator::builder(store)
        .realm("endpoint-auth demo")
        .hash_policy(policy)
        .build()?;

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    // rocket's own configuration (Rocket.toml, ROCKET_* variables) still applies underneath.
    let config = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port));
    rocket::custom(config)
        .attach(BasicAuth::new(authenticator))
        .mount("/", routes![protected, protected_credentials])
        .launch()
        .await?;
    Ok(())
}
