//! An API on warp whose refusals are JSON: `GET /protected` (authenticate_users) answers the
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
//! says nothing about why.
//!
//! ```sh
//! cargo run -p endpoint-auth-warp --example json_refusals
//! curl -i -u user123@gmail.com:wrong http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it behind TLS anywhere else.

use std::net::{Ipv4Addr, SocketAddr};

use endpoint_auth_warp::endpoint_auth::{
    Authenticator, HashPolicy, MemoryStore, NewUser, RefusalFormat, Requirements, User,
};
use endpoint_auth_warp::{authenticate_users, recover};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

pub(crate) const REALM: &str = "json api";
pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// The application: `GET /protected` over the seed user in memory, refusals as JSON.
pub(crate) fn routes() -> Result<BoxedFilter<(Response,)>, Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let auth = Authenticator::builder(store)
        .realm(REALM)
        .hash_policy(policy)
        .refusal_format(RefusalFormat::Json)
        .build()?;

    let protected = warp::path!("protected")
        .and(warp::get())
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| {
            warp::reply::json(&serde_json::json!({ "id": user.id, "email": user.email }))
        })
        // `recover` answers the refusal with the core's response: here, its JSON form.
        .recover(recover)
        .map(Reply::into_response);
    Ok(protected.boxed())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    println!(
        "Listening on http://{}; try\n  curl -i -u {EMAIL}:wrong http://{0}/protected",
        listener.local_addr()?
    );
    warp::serve(routes()?)
        .incoming(listener)
        .graceful(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .run()
        .await;
    Ok(())
}
