use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pollster::block_on;

use super::*;
use crate::admin::{NewUser, UserAdmin};
use crate::cache::CacheConfig;
use crate::faulty_store::FaultyStore;
use crate::hash::HashPolicy;
use crate::lockout::{Lock, LockDuration};
use crate::memory::MemoryStore;
use crate::rejection::{RefusalFormat, RejectionKind};
use crate::user::User;
use crate::verifier::PoolConfig;
use crate::verifier::VerifierFuture;

#[derive(Clone)]
struct TestClock(Arc<Mutex<SystemTime>>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )))
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// A real cheap argon2 policy that counts verifications.
#[derive(Clone)]
struct CountingVerifier {
    policy: HashPolicy,
    verifications: Arc<AtomicUsize>,
}

impl PasswordVerifier for CountingVerifier {
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let result = self
            .policy
            .verify(password, stored_hash)
            .map_err(VerifyError::from);
        Box::pin(async move { result })
    }
    fn hash(&self, password: &str) -> VerifierFuture<String> {
        let result = self.policy.hash(password).map_err(VerifyError::from);
        Box::pin(async move { result })
    }
    fn needs_rehash(&self, stored_hash: &str) -> bool {
        self.policy.needs_rehash(stored_hash)
    }
}

struct Fixture {
    store: MemoryStore,
    /// `store`, as the authenticator sees it: the outage tests switch it off.
    faulty: FaultyStore<MemoryStore>,
    clock: TestClock,
    verifier: CountingVerifier,
    auth: Authenticator<User>,
    events: Arc<Mutex<Vec<String>>>,
}

const PASSWORD: &str = "mySuperS3cretPassw0rd";

fn policy() -> HashPolicy {
    HashPolicy::argon2id(64, 1, 1).unwrap()
}

fn fixture_with(lockout: LockoutPolicy, cache: CacheConfig) -> Fixture {
    let store = MemoryStore::new();
    let hash = policy().hash(PASSWORD).unwrap();
    store
        .insert(NewUser::new("user123@gmail.com", Some(hash.clone())))
        .unwrap();
    store
        .insert(NewUser::new("disabled@example.com", Some(hash.clone())).enabled(false))
        .unwrap();
    store
        .insert(NewUser::new("unconfirmed@example.com", Some(hash.clone())).confirmed_email(false))
        .unwrap();
    store
        .insert(NewUser::new("nopassword@example.com", None))
        .unwrap();
    #[cfg(feature = "bcrypt")]
    store
        .insert(NewUser::new(
            "legacy@example.com",
            Some(bcrypt::hash(PASSWORD, 4).unwrap()),
        ))
        .unwrap();
    let clock = TestClock::new();
    let verifier = CountingVerifier {
        policy: policy(),
        verifications: Arc::new(AtomicUsize::new(0)),
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let faulty = FaultyStore::new(store.clone());
    let auth = Authenticator::builder(faulty.clone())
        .realm("test realm")
        .hash_policy(policy())
        .verifier(verifier.clone())
        .clock(clock.clone())
        .lockout(lockout)
        .cache(cache)
        .audit(move |event: &AuditEvent<'_>| sink.lock().unwrap().push(format!("{event:?}")))
        .build()
        .unwrap();
    Fixture {
        store,
        faulty,
        clock,
        verifier,
        auth,
        events,
    }
}

fn fixture() -> Fixture {
    fixture_with(LockoutPolicy::new(), CacheConfig::new())
}

fn basic(user: &str, password: &str) -> Vec<u8> {
    Credentials::new(user, password)
        .unwrap()
        .to_header_value()
        .as_bytes()
        .to_vec()
}

impl Fixture {
    fn login(&self, user: &str, password: &str) -> Result<User, Rejection> {
        self.login_with(user, password, Requirements::new())
    }

    fn login_with(
        &self,
        user: &str,
        password: &str,
        requirements: Requirements,
    ) -> Result<User, Rejection> {
        let value = basic(user, password);
        block_on(self.auth.authenticate_user(
            [value.as_slice()],
            ClientAddress::UNKNOWN,
            requirements,
        ))
    }

    fn verifications(&self) -> usize {
        self.verifier.verifications.load(Ordering::SeqCst)
    }

    fn user(&self, email: &str) -> User {
        block_on(self.store.get_user(email)).unwrap()
    }
}

fn reason(outcome: Result<User, Rejection>) -> FailureReason {
    match outcome {
        Err(rejection) => rejection.failure_reason().cloned().expect("a 401"),
        other => panic!("expected a 401, got {other:?}"),
    }
}

fn user(outcome: Result<User, Rejection>) -> User {
    match outcome {
        Ok(user) => user,
        other => panic!("expected a user, got {other:?}"),
    }
}

#[test]
fn right_password_yields_the_stored_user() {
    let f = fixture();
    let u = user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(u.email, "user123@gmail.com");
    assert!(f.user("user123@gmail.com").last_login.is_some());
}

#[test]
fn email_match_is_case_insensitive_and_trims_whitespace() {
    let f = fixture();
    assert_eq!(
        user(f.login("USER123@Gmail.com", PASSWORD)).email,
        "user123@gmail.com"
    );
    assert_eq!(
        user(f.login("  user123@gmail.com ", PASSWORD)).email,
        "user123@gmail.com"
    );
}

#[test]
fn every_failure_costs_exactly_one_verification() {
    let f = fixture();
    let cases: [(&str, &str, FailureReason); 4] = [
        ("user123@gmail.com", "wrong", FailureReason::WrongPassword),
        ("nobody@example.com", PASSWORD, FailureReason::UnknownUser),
        ("disabled@example.com", PASSWORD, FailureReason::Disabled),
        (
            "nopassword@example.com",
            PASSWORD,
            FailureReason::NoPassword,
        ),
    ];
    for (email, password, expected) in cases {
        let before = f.verifications();
        assert_eq!(reason(f.login(email, password)), expected);
        assert_eq!(
            f.verifications() - before,
            1,
            "{email}: timing must not tell"
        );
    }
    let before = f.verifications();
    assert_eq!(
        reason(f.login_with(
            "unconfirmed@example.com",
            PASSWORD,
            Requirements::new().confirmed_email(true)
        )),
        FailureReason::EmailNotConfirmed
    );
    assert_eq!(f.verifications() - before, 1);
}

#[test]
fn all_failures_answer_identically() {
    let f = fixture();
    let responses: Vec<String> = [
        f.login("user123@gmail.com", "wrong"),
        f.login("nobody@example.com", PASSWORD),
        f.login("disabled@example.com", PASSWORD),
        block_on(
            f.auth
                .authenticate_user([], ClientAddress::UNKNOWN, Requirements::new()),
        ),
        block_on(f.auth.authenticate_user(
            [&b"Basic !!"[..]],
            ClientAddress::UNKNOWN,
            Requirements::new(),
        )),
    ]
    .into_iter()
    .map(|outcome| match outcome {
        Err(r) => format!("{:?}", r.response()),
        other => panic!("{other:?}"),
    })
    .collect();
    assert!(responses.windows(2).all(|w| w[0] == w[1]), "{responses:#?}");
}

#[test]
fn unconfirmed_user_passes_where_confirmation_is_not_required() {
    let f = fixture();
    user(f.login("unconfirmed@example.com", PASSWORD));
}

#[test]
fn lockout_after_the_limit_even_with_the_right_password_then_expires() {
    let f = fixture_with(
        LockoutPolicy::new()
            .max_failures(3)
            .duration(LockDuration::For(Duration::from_secs(60))),
        CacheConfig::new(),
    );
    for attempt in 1..=3 {
        assert_eq!(
            reason(f.login("user123@gmail.com", "wrong")),
            FailureReason::WrongPassword
        );
        assert_eq!(f.user("user123@gmail.com").n_password_failures, attempt);
    }
    assert!(matches!(
        reason(f.login("user123@gmail.com", PASSWORD)),
        FailureReason::LockedOut(Lock::Until(_))
    ));
    // Locked attempts are not counted, so the lock lifts on time.
    assert_eq!(f.user("user123@gmail.com").n_password_failures, 3);
    f.clock.advance(Duration::from_secs(60));
    user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(
        f.user("user123@gmail.com").n_password_failures,
        0,
        "success resets"
    );
    assert!(f
        .events
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("LockedOut")));
}

#[test]
fn after_a_lock_expires_one_more_failure_locks_again() {
    let f = fixture_with(
        LockoutPolicy::new()
            .max_failures(2)
            .duration(LockDuration::For(Duration::from_secs(60))),
        CacheConfig::new(),
    );
    for _ in 0..2 {
        reason(f.login("user123@gmail.com", "wrong"));
    }
    f.clock.advance(Duration::from_secs(61));
    assert_eq!(
        reason(f.login("user123@gmail.com", "wrong")),
        FailureReason::WrongPassword
    );
    assert!(matches!(
        reason(f.login("user123@gmail.com", PASSWORD)),
        FailureReason::LockedOut(_)
    ));
}

#[test]
fn until_reset_lock_needs_an_administrator() {
    let f = fixture_with(
        LockoutPolicy::new()
            .max_failures(1)
            .duration(LockDuration::UntilReset),
        CacheConfig::new(),
    );
    reason(f.login("user123@gmail.com", "wrong"));
    f.clock.advance(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(
        reason(f.login("user123@gmail.com", PASSWORD)),
        FailureReason::LockedOut(Lock::UntilReset)
    );
    block_on(f.store.unlock("user123@gmail.com")).unwrap();
    user(f.login("user123@gmail.com", PASSWORD));
}

#[test]
fn successful_verifications_are_cached_but_the_user_is_read_every_time() {
    let f = fixture();
    user(f.login("user123@gmail.com", PASSWORD));
    let after_first = f.verifications();
    user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(
        f.verifications(),
        after_first,
        "second login served from the cache"
    );

    block_on(f.store.set_enabled("user123@gmail.com", false)).unwrap();
    assert_eq!(
        reason(f.login("user123@gmail.com", PASSWORD)),
        FailureReason::Disabled
    );
    block_on(f.store.set_enabled("user123@gmail.com", true)).unwrap();
    user(f.login("user123@gmail.com", PASSWORD));
}

#[test]
fn a_changed_password_invalidates_the_cached_verification() {
    let f = fixture();
    user(f.login("user123@gmail.com", PASSWORD));
    let new_hash = policy().hash("a new password").unwrap();
    block_on(f.store.set_password_hash("user123@gmail.com", &new_hash)).unwrap();
    assert_eq!(
        reason(f.login("user123@gmail.com", PASSWORD)),
        FailureReason::WrongPassword
    );
    user(f.login("user123@gmail.com", "a new password"));
}

#[test]
#[cfg(feature = "bcrypt")]
fn bcrypt_hash_is_upgraded_to_argon2id_after_login() {
    let f = fixture();
    assert!(f
        .store
        .password_hash("legacy@example.com")
        .unwrap()
        .starts_with("$2b$"));
    user(f.login("legacy@example.com", PASSWORD));
    let upgraded = f.store.password_hash("legacy@example.com").unwrap();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
        "{upgraded}"
    );
    user(f.login("legacy@example.com", PASSWORD));
    assert_eq!(
        reason(f.login("legacy@example.com", "wrong")),
        FailureReason::WrongPassword
    );
}

#[test]
fn weaker_argon2_hash_is_upgraded() {
    let f = fixture();
    let weak = HashPolicy::argon2id(32, 1, 1)
        .unwrap()
        .hash("weakling")
        .unwrap();
    block_on(
        f.store
            .create_user(NewUser::new("weak@example.com", Some(weak.clone()))),
    )
    .unwrap();
    user(f.login("weak@example.com", "weakling"));
    let upgraded = f.store.password_hash("weak@example.com").unwrap();
    assert_ne!(upgraded, weak);
    assert!(!policy().needs_rehash(&upgraded));
}

#[test]
fn last_login_is_written_at_most_every_five_seconds() {
    let f = fixture();
    user(f.login("user123@gmail.com", PASSWORD));
    let first = f.user("user123@gmail.com").last_login.unwrap();
    f.clock.advance(Duration::from_secs(4));
    user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(f.user("user123@gmail.com").last_login.unwrap(), first);
    f.clock.advance(Duration::from_secs(1));
    user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(
        f.user("user123@gmail.com").last_login.unwrap(),
        first + Duration::from_secs(5)
    );
}

#[test]
fn store_failure_is_a_503_never_a_401() {
    let f = fixture();
    f.faulty.set_failing(true);
    let outcome = f.login("user123@gmail.com", PASSWORD);
    let Err(rejection) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(matches!(
        rejection.kind(),
        RejectionKind::Unavailable {
            reason: UnavailableReason::Store(_),
            ..
        }
    ));
    f.faulty.set_failing(false);
    user(f.login("user123@gmail.com", PASSWORD));
}

#[test]
fn require_credentials_hands_over_the_pair_without_a_store() {
    let auth = Authenticator::credentials_only("creds").unwrap();
    let value = basic("any one", "pa:ss");
    match auth.require_credentials([value.as_slice()]) {
        Ok(c) => {
            assert_eq!(c.username(), "any one");
            assert_eq!(c.password(), "pa:ss");
        }
        other => panic!("{other:?}"),
    }
    let refused = auth.require_credentials([]).unwrap_err();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        auth.challenge().response().headers[0].1,
        r#"Basic realm="creds", charset="UTF-8""#
    );
    // authenticate_users on a store-less authenticator fails closed.
    let outcome = block_on(auth.authenticate_user(
        [value.as_slice()],
        ClientAddress::UNKNOWN,
        Requirements::new(),
    ));
    assert_eq!(outcome.unwrap_err().status(), 503);
}

#[test]
fn preflight_exemption_needs_the_option_the_method_and_the_header() {
    let f = fixture();
    assert!(
        !f.auth.is_exempt_preflight(b"OPTIONS", true),
        "off by default"
    );
    let open = Authenticator::builder(MemoryStore::new())
        .hash_policy(policy())
        .cors_preflight(true)
        .pool(PoolConfig::new().workers(1))
        .build()
        .unwrap();
    assert!(open.is_exempt_preflight(b"OPTIONS", true));
    assert!(!open.is_exempt_preflight(b"OPTIONS", false));
    assert!(!open.is_exempt_preflight(b"GET", true));
}

#[test]
fn bad_realm_is_refused_at_build_time() {
    let err = Authenticator::builder(MemoryStore::new())
        .realm("bad\r\nrealm")
        .hash_policy(policy())
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Realm(_)), "{err}");
}

/// Counts verifications per stored hash, holding each at a gate the test opens.
#[derive(Clone)]
struct GatedVerifier {
    policy: HashPolicy,
    gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
    by_hash: Arc<Mutex<std::collections::HashMap<String, usize>>>,
}

impl GatedVerifier {
    fn new(open: bool) -> Self {
        Self {
            policy: policy(),
            gate: Arc::new((Mutex::new(open), std::sync::Condvar::new())),
            by_hash: Arc::default(),
        }
    }
    fn open(&self) {
        *self.gate.0.lock().unwrap() = true;
        self.gate.1.notify_all();
    }
    fn against(&self, stored_hash: &str) -> usize {
        self.by_hash
            .lock()
            .unwrap()
            .get(stored_hash)
            .copied()
            .unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.by_hash.lock().unwrap().values().sum()
    }
}

impl PasswordVerifier for GatedVerifier {
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
        let this = self.clone();
        let (password, stored_hash) = (password.to_owned(), stored_hash.to_owned());
        // Off the caller's thread, like the real pool, so waiting at the gate blocks no task.
        let (reply, answer) = crate::oneshot::channel();
        std::thread::spawn(move || {
            let mut open = this.gate.0.lock().unwrap();
            while !*open {
                open = this.gate.1.wait(open).unwrap();
            }
            drop(open);
            *this
                .by_hash
                .lock()
                .unwrap()
                .entry(stored_hash.clone())
                .or_default() += 1;
            reply.send(
                this.policy
                    .verify(&password, &stored_hash)
                    .map_err(VerifyError::from),
            );
        });
        Box::pin(async move { answer.await.unwrap_or(Err(VerifyError::WorkerGone)) })
    }
    fn hash(&self, password: &str) -> VerifierFuture<String> {
        let result = self.policy.hash(password).map_err(VerifyError::from);
        Box::pin(async move { result })
    }
    fn needs_rehash(&self, stored_hash: &str) -> bool {
        self.policy.needs_rehash(stored_hash)
    }
}

fn gated_auth(
    store: &MemoryStore,
    verifier: &GatedVerifier,
    pool: PoolConfig,
) -> Authenticator<User> {
    Authenticator::builder(store.clone())
        .hash_policy(policy())
        .verifier(verifier.clone())
        .pool(pool)
        .build()
        .unwrap()
}

fn client(last_octet: u8) -> ClientAddress {
    ClientAddress::new(std::net::IpAddr::from([192, 0, 2, last_octet]))
}

/// SPEC §4: 64 distinct wrong passwords racing for one account verify exactly the limit against
/// its hash; then even the right password is refused.
#[test]
fn racing_wrong_passwords_verify_exactly_the_limit() {
    let store = MemoryStore::new();
    let hash = policy().hash(PASSWORD).unwrap();
    store
        .insert(NewUser::new("target@example.com", Some(hash.clone())))
        .unwrap();
    let verifier = GatedVerifier::new(true);
    let auth = gated_auth(&store, &verifier, PoolConfig::new().workers(2));
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let auth = auth.clone();
            std::thread::spawn(move || {
                let value = basic("target@example.com", &format!("guess {i}"));
                let outcome = block_on(auth.authenticate_user(
                    [value.as_slice()],
                    client(1),
                    Requirements::new(),
                ));
                match outcome {
                    Err(rejection) => rejection.status().as_u16(),
                    other => panic!("{other:?}"),
                }
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 401);
    }
    assert_eq!(verifier.against(&hash), 10, "exactly the limit verified");
    let right = basic("target@example.com", PASSWORD);
    let outcome =
        block_on(auth.authenticate_user([right.as_slice()], client(9), Requirements::new()));
    assert!(
        matches!(reason(outcome), FailureReason::LockedOut(_)),
        "the right password is refused once locked"
    );
    assert_eq!(verifier.against(&hash), 10);
    assert_eq!(store.users()[0].n_password_failures, 10);
}

/// The dummy hash is a real hash under the current policy: refusing an unknown account costs a
/// full verification, not a parse error.
#[test]
fn the_dummy_hash_costs_a_real_verification_under_the_current_policy() {
    let f = fixture();
    let users = f.auth.inner.users.as_ref().unwrap();
    let dummy = &users.dummy_hash;
    assert_eq!(
        crate::hash::identify_hash(dummy).unwrap(),
        crate::hash::HashKind::Argon2
    );
    assert!(!policy().needs_rehash(dummy), "{dummy}");
    assert!(dummy.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{dummy}");
    assert!(!policy().verify(PASSWORD, dummy).unwrap().matched);
    // And an unknown account is verified against exactly it.
    let verifier = GatedVerifier::new(true);
    let store = MemoryStore::new();
    let auth = gated_auth(&store, &verifier, PoolConfig::new().workers(1));
    reason(block_on(auth.authenticate_user(
        [basic("nobody@example.com", "pw").as_slice()],
        client(1),
        Requirements::new(),
    )));
    let dummy = &auth.inner.users.as_ref().unwrap().dummy_hash;
    assert_eq!(verifier.against(dummy), 1);
}

/// A login served from the cache still resets a failure count, even within the interval that
/// spares the `last_login` write.
#[test]
fn a_cached_login_resets_failures_even_right_after_the_last_login() {
    let f = fixture();
    user(f.login("user123@gmail.com", PASSWORD));
    f.clock.advance(Duration::from_secs(1));
    reason(f.login("user123@gmail.com", "wrong"));
    assert_eq!(f.user("user123@gmail.com").n_password_failures, 1);
    f.clock.advance(Duration::from_secs(1));
    let before = f.verifications();
    user(f.login("user123@gmail.com", PASSWORD));
    assert_eq!(f.verifications(), before, "served from the cache");
    assert_eq!(f.user("user123@gmail.com").n_password_failures, 0);
}

/// SPEC §5: while another client waits, a client over its share gets 429 at once, and the
/// other client is still served.
#[test]
fn a_flooding_client_is_throttled_while_another_is_served() {
    let store = MemoryStore::new();
    let verifier = GatedVerifier::new(false);
    let auth = gated_auth(&store, &verifier, PoolConfig::new().workers(1));
    let spawn = |who: u8, n: usize| {
        let auth = auth.clone();
        std::thread::spawn(move || {
            let value = basic(&format!("flood{n}@example.com"), "pw");
            match block_on(auth.authenticate_user(
                [value.as_slice()],
                client(who),
                Requirements::new(),
            )) {
                Err(rejection) => rejection.status().as_u16(),
                other => panic!("{other:?}"),
            }
        })
    };
    let flood: Vec<_> = (0..6).map(|n| spawn(1, n)).collect();
    wait_until(|| auth.inner.users.as_ref().unwrap().admission.depth().waiting == 5);
    let other = spawn(2, 100);
    wait_until(|| auth.inner.users.as_ref().unwrap().admission.depth().waiting == 6);
    // Client 1 is far over its share of the waiting requests while client 2 waits.
    assert_eq!(spawn(1, 200).join().unwrap(), 429);
    verifier.open();
    assert_eq!(other.join().unwrap(), 401);
    for thread in flood {
        assert_eq!(thread.join().unwrap(), 401);
    }
}

/// SPEC §5: a request dropped while it waits for verification (its client went away) is never
/// verified.
#[test]
fn a_request_dropped_while_waiting_is_not_verified() {
    let store = MemoryStore::new();
    let hash = policy().hash(PASSWORD).unwrap();
    store
        .insert(NewUser::new("gone@example.com", Some(hash.clone())))
        .unwrap();
    let verifier = GatedVerifier::new(false);
    let auth = gated_auth(&store, &verifier, PoolConfig::new().workers(1));
    let holder = {
        let auth = auth.clone();
        std::thread::spawn(move || {
            block_on(auth.authenticate_user(
                [basic("someone@example.com", "pw").as_slice()],
                client(1),
                Requirements::new(),
            ))
        })
    };
    wait_until(|| auth.inner.users.as_ref().unwrap().admission.depth().busy == 1);
    let waiting = {
        let auth = auth.clone();
        std::thread::spawn(move || {
            let value = basic("gone@example.com", "wrong");
            let mut future = Box::pin(auth.authenticate_user(
                [value.as_slice()],
                client(2),
                Requirements::new(),
            ));
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            // Poll until it is queued, then drop it, as a server does when the client leaves.
            for _ in 0..1000 {
                if auth.inner.users.as_ref().unwrap().admission.depth().waiting == 1 {
                    break;
                }
                assert!(future.as_mut().poll(&mut cx).is_pending());
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(
                auth.inner.users.as_ref().unwrap().admission.depth().waiting,
                1
            );
        })
    };
    waiting.join().unwrap();
    assert_eq!(
        auth.inner.users.as_ref().unwrap().admission.depth().waiting,
        0
    );
    verifier.open();
    assert!(holder.join().unwrap().is_err());
    assert_eq!(
        verifier.against(&hash),
        0,
        "the abandoned request was never verified"
    );
    assert_eq!(verifier.total(), 1);
}

fn wait_until(condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn log_names_are_truncated() {
    assert_eq!(log_name("alice@example.com"), "alice@example.com");
    let long = "é".repeat(3000);
    let logged = log_name(&long);
    assert_eq!(logged.chars().count(), 65);
    assert!(logged.ends_with('…'));
}

#[test]
fn json_refusals_keep_the_challenge() {
    let store = MemoryStore::new();
    let auth = Authenticator::builder(store)
        .realm("api")
        .hash_policy(policy())
        .pool(PoolConfig::new().workers(1))
        .refusal_format(RefusalFormat::Json)
        .build()
        .unwrap();
    let outcome = block_on(auth.authenticate_user(
        [basic("nobody@example.com", "pw").as_slice()],
        client(1),
        Requirements::new(),
    ));
    let Err(rejection) = outcome else {
        panic!("{outcome:?}")
    };
    let response = rejection.response();
    assert_eq!(response.status, 401);
    assert_eq!(
        response.headers[0].1,
        r#"Basic realm="api", charset="UTF-8""#
    );
    assert_eq!(response.headers[1].1, "application/json");
    assert_eq!(response.body, r#"{"error":"unauthorized"}"#);
    let plain = Authenticator::credentials_only("api")
        .unwrap()
        .with_refusal_format(RefusalFormat::Json);
    assert_eq!(
        plain.challenge().response().body,
        r#"{"error":"unauthorized"}"#
    );
}

#[test]
fn decisions_verifications_and_cache_use_are_counted() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let f = fixture();
    metrics::with_local_recorder(&recorder, || {
        reason(f.login("nobody@example.com", PASSWORD));
        reason(f.login("user123@gmail.com", "wrong"));
        user(f.login("user123@gmail.com", PASSWORD));
        user(f.login("user123@gmail.com", PASSWORD));
    });
    let counters: std::collections::HashMap<String, u64> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) => {
                let key = key.key();
                let mut labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                labels.sort();
                Some((format!("{}{{{}}}", key.name(), labels.join(",")), n))
            }
            _ => None,
        })
        .collect();
    let count = |name: &str| counters.get(name).copied().unwrap_or(0);
    assert_eq!(
        count("endpoint_auth_outcomes_total{outcome=unauthorized,reason=unknown_user}"),
        1,
        "{counters:#?}"
    );
    assert_eq!(
        count("endpoint_auth_outcomes_total{outcome=unauthorized,reason=wrong_password}"),
        1
    );
    assert_eq!(
        count("endpoint_auth_outcomes_total{outcome=authenticated}"),
        2
    );
    assert_eq!(
        count("endpoint_auth_verifications_total{against=dummy_hash}"),
        1
    );
    assert_eq!(
        count("endpoint_auth_verifications_total{against=stored_hash}"),
        2,
        "{counters:#?}"
    );
    assert_eq!(count("endpoint_auth_cache_hits_total{}"), 1);
    assert_eq!(count("endpoint_auth_cache_misses_total{}"), 2);
}
