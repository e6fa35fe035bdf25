//! The seed app's two endpoints on warp:
//!
//! - `GET /protected` (authenticate_users): "Authenticated <email>, who signed up on <date>."
//! - `GET /protected-credentials` (require_credentials): the handler checks the pair itself and
//!   refuses anything else with the same 401 + challenge.
//!
//! ```sh
//! cargo run -p endpoint-auth-warp --example seed
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected-credentials
//! ```
//!
//! Listens on 127.0.0.1:8080, or on the port in `PORT`. Plain HTTP, for trying it out only:
//! Basic authentication sends the password in clear, so serve it behind TLS.

use std::net::{Ipv4Addr, SocketAddr};

use endpoint_auth_warp::endpoint_auth::{
    Authenticator, Credentials, HashPolicy, MemoryStore, NewUser, Requirements, User,
};
use endpoint_auth_warp::{authenticate_users, challenge, recover, require_credentials};
use warp::Filter;

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))?;
    let auth = Authenticator::builder(store)
        .realm("endpoint-auth warp example")
        .hash_policy(policy)
        .build()?;

    let protected = warp::path!("protected")
        .and(warp::get())
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| {
            format!(
                "Authenticated {}, who signed up on {}.\n",
                user.email,
                httpdate::fmt_http_date(user.signed_up)
            )
        })
        .recover(recover);

    let checker = auth.clone();
    let protected_credentials = warp::path!("protected-credentials")
        .and(warp::get())
        .and(require_credentials(&auth))
        .map(move |credentials: Credentials| {
            if credentials.matches(EMAIL, PASSWORD) {
                Ok(format!(
                    "Credentials accepted for {}.\n",
                    credentials.username()
                ))
            } else {
                Err(challenge(&checker))
            }
        })
        .recover(recover);

    let routes = protected.or(protected_credentials);

    let port = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    println!(
        "Listening on http://{}; try\n  curl -u {EMAIL}:{PASSWORD} http://{0}/protected",
        listener.local_addr()?
    );
    warp::serve(routes)
        .incoming(listener)
        .graceful(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .run()
        .await;
    Ok(())
}
