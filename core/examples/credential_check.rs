//! authenticate_users over your own credential check — here a stand-in for an LDAP directory
//! that answers binds — with the core's lockout, admission, cache and uniform 401 around it.
//!
//! ```sh
//! cargo run -p endpoint-auth --example credential_check
//! ```

use std::collections::HashMap;
use std::time::Duration;

use endpoint_auth::check::{CheckFuture, CheckOutcome, CredentialCheck};
use endpoint_auth::{Authenticator, ClientAddress, Credentials, Requirements};

/// A directory answering "bind as this DN with this password", slowly, as a network service
/// does. Passwords are held in clear only because this is a toy.
struct Directory {
    accounts: HashMap<&'static str, (&'static str, &'static str)>,
}

/// Who the handler gets: what the directory knows of the account.
#[derive(Debug, Clone)]
struct Person {
    uid: String,
    display_name: String,
}

impl CredentialCheck for Directory {
    type User = Person;

    fn check<'a>(&'a self, login: &'a str, password: &'a str) -> CheckFuture<'a, Person> {
        Box::pin(async move {
            // A real check would send the bind over the network here.
            std::thread::sleep(Duration::from_millis(20));
            let Some((secret, name)) = self.accounts.get(login) else {
                return Ok(CheckOutcome::Refused);
            };
            let bound = Credentials::new(login, password).is_ok_and(|c| c.matches(login, secret));
            Ok(if bound {
                CheckOutcome::Accepted(Person {
                    uid: login.to_owned(),
                    display_name: (*name).to_owned(),
                })
            } else {
                CheckOutcome::Refused
            })
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = Directory {
        accounts: HashMap::from([("ada", ("analytical engine", "Ada Lovelace"))]),
    };
    let auth = Authenticator::builder_with_check(directory)
        .realm("intranet")
        .build()?;
    let client = ClientAddress::new([127, 0, 0, 1].into());
    for (user, password) in [
        ("ada", "analytical engine"),
        ("ada", "analytical engine"), // answered from the cache, no bind
        ("ada", "difference engine"),
        ("charles", "anything"),
    ] {
        let header = Credentials::new(user, password)?.to_header_value();
        let outcome = pollster::block_on(auth.authenticate_user(
            [header.as_bytes()],
            client,
            Requirements::new(),
        ));
        match outcome {
            Ok(person) => {
                println!("{user}: 200, {} ({})", person.display_name, person.uid)
            }
            Err(rejection) => println!("{user}: {}", rejection.status()),
        }
    }
    Ok(())
}
