//! authenticate_users over an application's credential check: the core's lockout, cache,
//! admission and uniform refusals around it.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use endpoint_auth::check::{CheckFuture, CheckOutcome, CredentialCheck};
use endpoint_auth::rejection::FailureReason;
use endpoint_auth::{
    Authenticator, ClientAddress, Credentials, PoolConfig, Rejection, Requirements, StoreError,
};

/// A directory with one account that counts the checks it answers, per login.
#[derive(Clone, Default)]
struct Directory {
    checks: Arc<Mutex<HashMap<String, usize>>>,
    down: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("directory unreachable")]
struct Unreachable;

impl CredentialCheck for Directory {
    type User = String;

    fn check<'a>(&'a self, login: &'a str, password: &'a str) -> CheckFuture<'a, String> {
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::unavailable(Unreachable));
            }
            *self
                .checks
                .lock()
                .unwrap()
                .entry(login.to_owned())
                .or_default() += 1;
            let right = Credentials::new(login, password)
                .is_ok_and(|c| c.matches("ada@example.com", "analytical engine"));
            Ok(if right {
                CheckOutcome::Accepted(format!("user:{login}"))
            } else {
                CheckOutcome::Refused
            })
        })
    }
}

impl Directory {
    fn checks(&self, login: &str) -> usize {
        self.checks.lock().unwrap().get(login).copied().unwrap_or(0)
    }
}

fn auth(directory: &Directory) -> Authenticator<String> {
    Authenticator::builder_with_check(directory.clone())
        .realm("directory")
        .pool(PoolConfig::new().workers(2))
        .build()
        .unwrap()
}

fn login(auth: &Authenticator<String>, user: &str, password: &str) -> Result<String, Rejection> {
    let header = Credentials::new(user, password).unwrap().to_header_value();
    pollster::block_on(auth.authenticate_user(
        [header.as_bytes()],
        ClientAddress::new([192, 0, 2, 1].into()),
        Requirements::new(),
    ))
}

fn status(outcome: Result<String, Rejection>) -> u16 {
    match outcome {
        Ok(_) => 200,
        Err(rejection) => rejection.status().as_u16(),
    }
}

#[test]
fn accepted_credentials_yield_the_checks_user_and_are_cached() {
    let directory = Directory::default();
    let auth = auth(&directory);
    for _ in 0..3 {
        match login(&auth, "ada@example.com", "analytical engine") {
            Ok(user) => assert_eq!(user, "user:ada@example.com"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        directory.checks("ada@example.com"),
        1,
        "later logins hit the cache"
    );
}

#[test]
fn a_refusal_is_the_uniform_401() {
    let directory = Directory::default();
    let auth = auth(&directory);
    let Err(rejection) = login(&auth, "ada@example.com", "difference engine") else {
        panic!()
    };
    let response = rejection.response();
    assert_eq!(response.status, 401);
    assert_eq!(
        response.headers[0].1,
        r#"Basic realm="directory", charset="UTF-8""#
    );
    assert_eq!(response.body, "Unauthorized");
}

#[test]
fn racing_wrong_passwords_reach_the_check_exactly_the_limit() {
    let directory = Directory::default();
    let auth = auth(&directory);
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let auth = auth.clone();
            std::thread::spawn(move || {
                status(login(&auth, "ada@example.com", &format!("guess {i}")))
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 401);
    }
    assert_eq!(directory.checks("ada@example.com"), 10);
    let Err(rejection) = login(&auth, "ada@example.com", "analytical engine") else {
        panic!("the right password must be refused once locked")
    };
    assert!(matches!(
        rejection.failure_reason(),
        Some(FailureReason::LockedOut(_))
    ));
    assert_eq!(directory.checks("ada@example.com"), 10);
}

#[test]
fn a_success_clears_the_failures() {
    let directory = Directory::default();
    let auth = auth(&directory);
    for _ in 0..9 {
        assert_eq!(status(login(&auth, "ada@example.com", "wrong")), 401);
    }
    assert_eq!(
        status(login(&auth, "ada@example.com", "analytical engine")),
        200
    );
    // Nine more wrong passwords do not lock: the count started again from zero.
    for _ in 0..9 {
        assert_eq!(status(login(&auth, "ada@example.com", "wrong")), 401);
    }
    assert_eq!(
        status(login(&auth, "ada@example.com", "analytical engine")),
        200
    );
}

#[test]
fn a_check_that_cannot_answer_is_a_503() {
    let directory = Directory::default();
    directory.down.store(true, Ordering::SeqCst);
    let auth = auth(&directory);
    assert_eq!(
        status(login(&auth, "ada@example.com", "analytical engine")),
        503
    );
    directory.down.store(false, Ordering::SeqCst);
    assert_eq!(
        status(login(&auth, "ada@example.com", "analytical engine")),
        200
    );
}
