//! An API on axum whose refusals are JSON: `GET /protected` (authenticate_users) answers the
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
//! cargo run -p endpoint-auth-axum --example json_refusals
//! curl -i -u user123@gmail.com:wrong http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! ```
//!
//! Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use endpoint_auth_axum::endpoint_auth::{
    Authenticator, HashPolicy, MemoryStore, NewUser, RefusalFormat,
};
use endpoint_auth_axum::AuthUser;

pub(crate) const REALM: &str = "json api";
pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// `GET /protected`: the authenticated user, as JSON.
async fn protected(AuthUser(user): AuthUser) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "id": user.id, "email": user.email }))
}

/// The application: the seed user in memory, refusals as JSON.
pub(crate) fn app() -> Result<Router, Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let authenticator = Authenticator::builder(store)
        .realm(REALM)
        .hash_policy(policy)
        .refusal_format(RefusalFormat::Json)
        .build()?;
    Ok(Router::new()
        .route("/protected", get(protected))
        .with_state(authenticator))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!(
        "try: curl -i -u {EMAIL}:wrong http://{}/protected",
        listener.local_addr()?
    );
    // The socket peer in each request, for fair admission per client.
    let service = app()?.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
