//! The core on its own: a users store, an authenticator, and what it answers to a few requests.
//!
//! `cargo run -p endpoint-auth --example quickstart`

use endpoint_auth::{Authenticator, Credentials, HashPolicy, MemoryStore, NewUser, Requirements};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    store.insert(NewUser::new(
        "user123@gmail.com",
        Some(policy.hash("mySuperS3cretPassw0rd")?),
    ))?;
    let auth = Authenticator::builder(store).realm("quickstart").build()?;

    let good = Credentials::new("user123@gmail.com", "mySuperS3cretPassw0rd")?.to_header_value();
    let bad = Credentials::new("user123@gmail.com", "guess")?.to_header_value();
    let requests: [(&str, Vec<&[u8]>); 4] = [
        ("right password", vec![good.as_bytes()]),
        ("wrong password", vec![bad.as_bytes()]),
        ("no header", vec![]),
        ("malformed header", vec![b"Basic not-base64!"]),
    ];
    // The socket peer; an adapter takes it from its framework.
    let client = auth.client_address(Some([127, 0, 0, 1].into()), [], []);
    for (label, headers) in requests {
        match pollster::block_on(auth.authenticate_user(headers, client, Requirements::new())) {
            Ok(user) => println!("{label:>16}: 200, Authenticated {}", user.email),
            Err(rejection) => {
                let response = rejection.response();
                let challenge = response
                    .headers
                    .iter()
                    .find(|(name, _)| name == "www-authenticate");
                println!(
                    "{label:>16}: {} {:?} ({})",
                    response.status,
                    challenge.map(|(_, value)| value),
                    rejection
                );
            }
        }
    }
    Ok(())
}
