use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pollster::block_on;

use super::*;
use crate::lockout::{Lock, LockDuration};
use crate::memory::MemoryStore;
use crate::pool::VerifierFuture;
use crate::store::{NewUser, UserAdmin};
use crate::user::User;
use crate::RejectionKind;

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
    let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
    store
        .insert(NewUser::new("legacy@example.com", Some(bcrypt)))
        .unwrap();
    let clock = TestClock::new();
    let verifier = CountingVerifier {
        policy: policy(),
        verifications: Arc::new(AtomicUsize::new(0)),
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let auth = Authenticator::builder(store.clone())
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
    fn login(&self, user: &str, password: &str) -> AuthOutcome<User> {
        self.login_with(user, password, Requirements::new())
    }

    fn login_with(
        &self,
        user: &str,
        password: &str,
        requirements: Requirements,
    ) -> AuthOutcome<User> {
        let value = basic(user, password);
        block_on(
            self.auth
                .authenticate_user([value.as_slice()], requirements),
        )
    }

    fn verifications(&self) -> usize {
        self.verifier.verifications.load(Ordering::SeqCst)
    }

    fn user(&self, email: &str) -> User {
        block_on(self.store.get_user(email)).unwrap()
    }
}

fn reason(outcome: AuthOutcome<User>) -> FailureReason {
    match outcome {
        AuthOutcome::Rejected(rejection) => rejection.failure_reason().cloned().expect("a 401"),
        other => panic!("expected a 401, got {other:?}"),
    }
}

fn user(outcome: AuthOutcome<User>) -> User {
    match outcome {
        AuthOutcome::User(user) => user,
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
        block_on(f.auth.authenticate_user([], Requirements::new())),
        block_on(
            f.auth
                .authenticate_user([&b"Basic !!"[..]], Requirements::new()),
        ),
    ]
    .into_iter()
    .map(|outcome| match outcome {
        AuthOutcome::Rejected(r) => format!("{:?}", r.response()),
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
    f.store.set_failing(true);
    let outcome = f.login("user123@gmail.com", PASSWORD);
    let AuthOutcome::Rejected(rejection) = outcome else {
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
    f.store.set_failing(false);
    user(f.login("user123@gmail.com", PASSWORD));
}

#[test]
fn require_credentials_hands_over_the_pair_without_a_store() {
    let auth = Authenticator::credentials_only("creds").unwrap();
    let value = basic("any one", "pa:ss");
    match auth.require_credentials([value.as_slice()]) {
        AuthOutcome::Credentials(c) => {
            assert_eq!(c.username(), "any one");
            assert_eq!(c.password(), "pa:ss");
        }
        other => panic!("{other:?}"),
    }
    let refused = auth.require_credentials([]).into_credentials().unwrap_err();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        auth.challenge().response().headers[0].1,
        r#"Basic realm="creds", charset="UTF-8""#
    );
    // authenticate_users on a store-less authenticator fails closed.
    let outcome = block_on(auth.authenticate_user([value.as_slice()], Requirements::new()));
    assert_eq!(outcome.into_user().unwrap_err().status(), 503);
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
