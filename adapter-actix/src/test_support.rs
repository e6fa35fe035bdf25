//! What the unit tests share: a cheap authenticator that counts the core's decisions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::test::TestRequest;
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

    /// The failure count the store holds for `email`.
    pub(crate) fn failures(&self, email: &str) -> Option<u32> {
        self.store
            .inner()
            .users()
            .iter()
            .find(|user| user.email == email)
            .map(|user| user.n_password_failures)
    }
}

/// The `Authorization` value for a pair.
pub(crate) fn basic(username: &str, password: &str) -> String {
    Credentials::new(username, password)
        .unwrap()
        .to_header_value()
        .to_str()
        .unwrap()
        .to_owned()
}

/// `GET path` from a client at 192.0.2.7, with an `Authorization` field when given.
pub(crate) fn get(path: &str, authorization: Option<&str>) -> TestRequest {
    let request = TestRequest::get()
        .uri(path)
        .peer_addr("192.0.2.7:4321".parse().unwrap());
    match authorization {
        Some(value) => request.insert_header(("authorization", value)),
        None => request,
    }
}

/// Status, headers (sorted, `date` left out) and body of a response, for comparing responses
/// whole.
pub(crate) async fn parts<B: MessageBody>(
    response: ServiceResponse<B>,
) -> (u16, Vec<(String, String)>, String) {
    let status = response.status().as_u16();
    let mut headers: Vec<_> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| "body")
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}
