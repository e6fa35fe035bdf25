//! An API on actix-web whose refusals are JSON: `GET /protected` (authenticate_users) answers
//! the user as JSON, and a missing or wrong login answers
//!
//! ```text
//! HTTP/1.1 401 Unauthorized
//! www-authenticate: Basic realm="json api", charset="UTF-8"
//! content-type: application/json
//!
//! {"error":"unauthorized"}
//! ```
//!
//! Only the body changes: status, challenge and `Retry-After` are the same as with plain-text
//! refusals, and the body says nothing about why.
//!
//! ```sh
//! cargo run -p endpoint-auth-actix --example json_refusals
//! curl -i -u user123@gmail.com:wrong http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use actix_web::{web, App, HttpResponse, HttpServer};
use endpoint_auth_actix::endpoint_auth::{
    Authenticator, HashPolicy, MemoryStore, NewUser, RefusalFormat, User,
};
use endpoint_auth_actix::AuthUser;

pub(crate) const REALM: &str = "json api";
pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// `GET /protected`: the authenticated user, as JSON.
pub(crate) async fn protected(AuthUser(user): AuthUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(format!(r#"{{"id":{},"email":{:?}}}"#, user.id, user.email))
}

/// The authenticator: the seed user in memory, refusals as JSON.
pub(crate) fn authenticator() -> Result<web::Data<Authenticator<User>>, Box<dyn std::error::Error>>
{
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let authenticator = Authenticator::builder(store)
        .realm(REALM)
        .hash_policy(policy)
        .refusal_format(RefusalFormat::Json)
        .build()?;
    Ok(web::Data::new(authenticator))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authenticator = authenticator()?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(authenticator.clone())
            .route("/protected", web::get().to(protected))
    })
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
        println!("try: curl -i -u {EMAIL}:wrong http://{addr}/protected");
    }
    server.run().await?;
    Ok(())
}
