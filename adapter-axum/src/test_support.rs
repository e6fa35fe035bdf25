//! What the unit tests share: a cheap authenticator that counts the core's decisions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Request, Response};
use endpoint_auth::{
    audit::AuditEvent, Authenticator, Credentials, HashPolicy, MemoryStore, NewUser, PoolConfig,
    User,
};
use endpoint_auth_conformance::FaultyStore;

pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const UNCONFIRMED: &str = "unconfirmed@example.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// An authenticator over a memory store with [`EMAIL`] and [`UNCONFIRMED`], counting every
/// decision the core makes (one audit event each).
pub(crate) struct Harness {
    pub(crate) authenticator: Authenticator<User>,
    /// Switched off by the outage tests.
    pub(crate) store: FaultyStore<MemoryStore>,
    decisions: Arc<AtomicUsize>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::with_preflight(true)
    }

    pub(crate) fn with_preflight(cors_preflight: bool) -> Self {
        // Deliberately weak parameters: these tests are about the adapter, not hashing.
        let policy = HashPolicy::argon2id(64, 1, 1).unwrap();
        let store = FaultyStore::new(MemoryStore::new());
        let hash = policy.hash(PASSWORD).unwrap();
        store
            .inner()
            .insert(NewUser::new(EMAIL, Some(hash.clone())))
            .unwrap();
        store
            .inner()
            .insert(NewUser::new(UNCONFIRMED, Some(hash)).confirmed_email(false))
            .unwrap();
        let decisions = Arc::new(AtomicUsize::new(0));
        let counter = decisions.clone();
        let authenticator = Authenticator::builder(store.clone())
            .realm("adapter tests")
            .hash_policy(policy)
            .pool(PoolConfig::new().workers(1))
            .cors_preflight(cors_preflight)
            .audit(move |event: &AuditEvent<'_>| {
                if !matches!(event, AuditEvent::LockedOut { .. }) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build()
            .unwrap();
        Self {
            authenticator,
            store,
            decisions,
        }
    }

    /// How many decisions the core has made so far.
    pub(crate) fn decisions(&self) -> usize {
        self.decisions.load(Ordering::SeqCst)
    }
}

/// The `Authorization` value for a pair.
pub(crate) fn basic(username: &str, password: &str) -> HeaderValue {
    Credentials::new(username, password)
        .unwrap()
        .to_header_value()
}

/// `GET path`, with an `Authorization` field when given.
pub(crate) fn get(path: &str, authorization: Option<HeaderValue>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).unwrap()
}

/// Status, headers and body of a response, for comparing responses whole.
pub(crate) async fn parts(response: Response<Body>) -> (u16, Vec<(String, String)>, String) {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    let body = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}
