//! The seed app's two endpoints on actix-web:
//!
//! - `GET /protected` (authenticate_users): "Authenticated <email>, who signed up on <date>."
//! - `GET /protected-credentials` (require_credentials): checks a fixed pair itself.
//!
//! ```sh
//! cargo run -p endpoint-auth-actix --example seed
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected-credentials
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use actix_web::{web, App, HttpServer};
use endpoint_auth_actix::endpoint_auth::{Authenticator, HashPolicy, MemoryStore, NewUser};
use endpoint_auth_actix::{AuthRejection, AuthUser, BasicCredentials};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// `@http_endpoint("/protected", authenticate_users=True)`
async fn protected(AuthUser(user): AuthUser) -> String {
    format!(
        "Authenticated {}, who signed up on {}.",
        user.email,
        httpdate::fmt_http_date(user.signed_up)
    )
}

/// `@http_endpoint("/protected-credentials", require_credentials=True)`
async fn protected_credentials(credentials: BasicCredentials) -> Result<String, AuthRejection> {
    // Constant-time comparison; a refusal answers the same 401 as every other failure.
    if !credentials.matches(EMAIL, PASSWORD) {
        return Err(credentials.challenge());
    }
    Ok(format!(
        "Hello {}, your credentials check out.",
        credentials.username()
    ))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let authenticator = Authenticator::builder(store)
        .realm("endpoint-auth demo")
        .hash_policy(policy)
        .build()?;
    let authenticator = web::Data::new(authenticator);

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(authenticator.clone())
            .route("/protected", web::get().to(protected))
            .route(
                "/protected-credentials",
                web::get().to(protected_credentials),
            )
    })
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
        println!("try: curl -u {EMAIL}:{PASSWORD} http://{addr}/protected");
    }
    // Stops gracefully on Ctrl-C.
    server.run().await?;
    Ok(())
}
