//! No password, and no `Authorization` value, reaches tracing output, `Debug` output or the audit
//! hook, whatever the outcome.
//!
//! Alone in its own test binary: the subscriber is the process's global one, so no other test
//! running at the same time can change which events are enabled.

#[path = "support/faulty_store.rs"]
mod faulty_store;

use std::sync::{Arc, Mutex};

use endpoint_auth::audit::AuditEvent;
use endpoint_auth::{
    Authenticator, CacheConfig, Credentials, HashPolicy, MemoryStore, NewUser, PoolConfig,
    Rejection, Requirements, User,
};
use faulty_store::FaultyStore;

const PASSWORD: &str = "mySuperS3cretPassw0rd";
const WRONG: &str = "Wr0ngButSecret!";

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn login(auth: &Authenticator<User>, user: &str, password: &str) -> Result<User, Rejection> {
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    pollster::block_on(auth.authenticate_user(
        [header.as_bytes()],
        endpoint_auth::ClientAddress::UNKNOWN,
        Requirements::new(),
    ))
}

#[test]
fn no_password_reaches_tracing_debug_or_audit() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish(),
    )
    .expect("the only subscriber of this test binary");

    let policy = HashPolicy::argon2id(64, 1, 1).expect("valid parameters");
    let store = MemoryStore::new();
    store
        .insert(NewUser::new(
            "user123@gmail.com",
            Some(policy.hash(PASSWORD).expect("hash")),
        ))
        .expect("insert");
    let legacy = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    store
        .insert(NewUser::new("legacy@example.com", Some(legacy)))
        .expect("insert");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let store = FaultyStore::new(store);
    let auth = Authenticator::builder(store.clone())
        .hash_policy(policy)
        .pool(PoolConfig::new().workers(1))
        .cache(CacheConfig::disabled())
        .audit(move |event: &AuditEvent<'_>| {
            sink.lock().expect("audit lock").push(format!("{event:?}"))
        })
        .build()
        .expect("authenticator");

    let outcomes = [
        login(&auth, "user123@gmail.com", WRONG),
        login(&auth, "nobody@example.com", WRONG),
        login(&auth, "user123@gmail.com", PASSWORD),
        login(&auth, "legacy@example.com", PASSWORD),
    ];
    store.set_failing(true);
    let unavailable = login(&auth, "user123@gmail.com", PASSWORD);

    let logged =
        String::from_utf8(captured.0.lock().expect("capture lock").clone()).expect("UTF-8 log");
    assert!(
        logged.contains("user123@gmail.com"),
        "usernames are logged: {logged}"
    );
    assert!(
        logged.contains("wrong password"),
        "reasons are logged: {logged}"
    );
    assert!(
        logged.contains("unknown user"),
        "reasons are logged: {logged}"
    );
    let audited = events.lock().expect("audit lock").join("\n");
    assert!(
        audited.contains("WrongPassword") && audited.contains("Authenticated"),
        "{audited}"
    );

    let header = Credentials::new("user123@gmail.com", PASSWORD)
        .expect("valid credentials")
        .to_header_value();
    let token = &header.to_str().expect("ASCII header")[6..];
    let debug = format!("{outcomes:?} {unavailable:?} {auth:?} {header:?}");
    for text in [&logged, &audited, &debug] {
        for secret in [WRONG, PASSWORD, token] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}
