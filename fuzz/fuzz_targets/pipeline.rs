//! The whole `authenticate_users` pipeline (SPEC §2–§5) over a `MemoryStore` with a few users.
//!
//! Input: byte 0 advances the clock by `8 × byte` seconds (so locks and cached verifications
//! expire); byte 1 holds flags (bit 0: the endpoint requires a confirmed email; bits 1–3 all set:
//! the store is down for this request); the rest, split on `\n`, are the `Authorization` field
//! values. State (failure counts, locks, the verification cache) carries over from one input to
//! the next, as it does in a server.
//!
//! Checked beyond "no panic":
//! - a rejection is 401, 429 or 503; a 401 carries exactly the challenge
//!   `Basic realm="…", charset="UTF-8"`, `text/plain; charset=utf-8` and body `Unauthorized`,
//!   and no `Retry-After`; a 503 or 429 carries `Retry-After` and no challenge;
//! - a user comes out only for the right password of an enabled, unlocked user (confirmed where
//!   required), and then it is that user; that password is never refused while the store is up;
//! - with the store down, well-formed credentials get a 503, never a 401 nor a user;
//! - a wrong password for a user that could log in counts one failure; a success resets the
//!   count; other refusals record nothing.
#![no_main]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use endpoint_auth::clock::Clock;
use endpoint_auth::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use endpoint_auth::http::StatusCode;
use endpoint_auth::parse::parse_authorization;
use endpoint_auth::rejection::{
    RejectionResponse, PLAIN_TEXT_CONTENT_TYPE, TOO_MANY_REQUESTS_BODY, UNAUTHORIZED_BODY,
    UNAVAILABLE_BODY,
};
use endpoint_auth::store::login_key;
use endpoint_auth::{
    Authenticator, ClientAddress, HashPolicy, LockoutPolicy, MemoryStore, NewUser, ParseOptions,
    PoolConfig, Requirements, User, UserStore,
};
use endpoint_auth_conformance::FaultyStore;
use endpoint_auth_fuzz::split_fields;
use libfuzzer_sys::fuzz_target;
use unicode_normalization::UnicodeNormalization;

/// What one request came to: the user, or the refusal as HTTP.
type Decision = Result<User, RejectionResponse>;

/// The one place this target calls the core's pipeline: when the entry point's signature or
/// outcome type changes, this function is all that changes.
fn authenticate(
    auth: &Authenticator<User>,
    fields: &[&[u8]],
    requirements: Requirements,
) -> Decision {
    let client = ClientAddress::new([127, 0, 0, 1].into());
    pollster::block_on(auth.authenticate_user(fields.iter().copied(), client, requirements))
        .map_err(|rejection| rejection.response())
}

/// The realm of SPEC §7, to exercise escaping, and the challenge it must render as.
const REALM: &str = r#"endpoint-auth "conformance" \ realm"#;
const CHALLENGE: &str = r#"Basic realm="endpoint-auth \"conformance\" \\ realm", charset="UTF-8""#;

/// A user of the store, as the test knows it.
struct Fixture {
    email: &'static str,
    password: Option<&'static str>,
    enabled: bool,
    confirmed: bool,
    /// Stored under weaker argon2 parameters, so that a success rehashes it.
    outdated_hash: bool,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        email: "alice@example.com",
        password: Some("correct horse"),
        enabled: true,
        confirmed: true,
        outdated_hash: false,
    },
    // Mixed case and non-ASCII; the password is stored decomposed and must match composed.
    Fixture {
        email: "J\u{f6}rg@Example.com",
        password: Some("pa\u{308}ssw\u{f6}rd"),
        enabled: true,
        confirmed: true,
        outdated_hash: false,
    },
    Fixture {
        email: "carol@example.com",
        password: Some("carol-pw"),
        enabled: false,
        confirmed: true,
        outdated_hash: false,
    },
    Fixture {
        email: "dave@example.com",
        password: None,
        enabled: true,
        confirmed: true,
        outdated_hash: false,
    },
    Fixture {
        email: "erin@example.com",
        password: Some("erin-pw"),
        enabled: true,
        confirmed: false,
        outdated_hash: false,
    },
    Fixture {
        email: "frank@example.com",
        password: Some("a:b:c"),
        enabled: true,
        confirmed: true,
        outdated_hash: true,
    },
    Fixture {
        email: "x@y",
        password: Some(""),
        enabled: true,
        confirmed: true,
        outdated_hash: false,
    },
];

/// Seconds since the epoch that [`FuzzClock`] reads; inputs move it forward.
static NOW: AtomicU64 = AtomicU64::new(1_700_000_000);

struct FuzzClock;

impl Clock for FuzzClock {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.load(Ordering::SeqCst))
    }
}

struct World {
    auth: Authenticator<User>,
    /// What the authenticator reads: taken down for the inputs that say so.
    store: FaultyStore<MemoryStore>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let policy = HashPolicy::argon2id(64, 1, 1).expect("cheap argon2 parameters");
        let weaker = HashPolicy::argon2id(32, 1, 1).expect("weaker argon2 parameters");
        let store = MemoryStore::new();
        for fixture in FIXTURES {
            let hash = fixture.password.map(|password| {
                let policy = if fixture.outdated_hash {
                    &weaker
                } else {
                    &policy
                };
                policy.hash(password).expect("hash")
            });
            store
                .insert(
                    NewUser::new(fixture.email, hash)
                        .enabled(fixture.enabled)
                        .confirmed_email(fixture.confirmed),
                )
                .expect("fixture user");
        }
        let store = FaultyStore::new(store);
        let auth = Authenticator::builder(store.clone())
            .realm(REALM)
            .hash_policy(policy)
            .pool(PoolConfig::new().workers(1))
            .clock(FuzzClock)
            .build()
            .expect("authenticator");
        World { auth, store }
    })
}

/// The store's failure count and lock state for `fixture`, read around a request.
fn account(world: &World, fixture: &Fixture, now: SystemTime) -> (u32, bool) {
    let record = pollster::block_on(world.store.find_user(fixture.email))
        .expect("store up")
        .expect("fixture exists");
    let locked = LockoutPolicy::new()
        .locked_until(record.n_password_failures, record.last_failure, now)
        .is_some();
    (record.n_password_failures, locked)
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    let (advance, flags, rest) = match data {
        [advance, flags, rest @ ..] => (*advance, *flags, rest),
        _ => (0, 0, data),
    };
    NOW.fetch_add(u64::from(advance) * 8, Ordering::SeqCst);
    let now = FuzzClock.now();
    let requirements = Requirements::new().confirmed_email(flags & 1 == 1);
    let store_down = (flags >> 1) & 0b111 == 0b111;
    let fields = split_fields(rest);

    // What the request carries, read as the authenticator reads it, and whom it names.
    let parsed = parse_authorization(fields.iter().copied(), &ParseOptions::new()).ok();
    let named = parsed.as_ref().and_then(|credentials| {
        let key = login_key(credentials.username());
        FIXTURES
            .iter()
            .find(|fixture| login_key(fixture.email) == key)
    });
    let before = named.map(|fixture| account(world, fixture, now));
    let right_password = match (&parsed, named.and_then(|fixture| fixture.password)) {
        (Some(credentials), Some(password)) => {
            credentials.password() == password.nfc().collect::<String>()
        }
        _ => false,
    };
    let may_log_in = named.is_some_and(|fixture| {
        fixture.enabled
            && fixture.password.is_some()
            && (fixture.confirmed || !requirements.requires_confirmed_email())
    }) && before.is_some_and(|(_, locked)| !locked);

    world.store.set_failing(store_down);
    let decision = authenticate(&world.auth, &fields, requirements);
    world.store.set_failing(false);

    match &decision {
        Ok(user) => {
            let fixture = named.expect("a user for credentials that name nobody");
            assert!(!store_down, "a user while the store is down");
            assert!(
                may_log_in,
                "{} let in though it may not log in",
                fixture.email
            );
            assert!(
                right_password,
                "{} let in with a wrong password",
                fixture.email
            );
            assert_eq!(user.email, fixture.email);
        }
        Err(response) => check_refusal(response),
    }
    let status = decision.as_ref().err().map(|response| response.status);
    if store_down && parsed.is_some() {
        assert_eq!(status, Some(StatusCode::SERVICE_UNAVAILABLE), "store down");
    } else if store_down || parsed.is_none() {
        assert_eq!(status, Some(StatusCode::UNAUTHORIZED), "no credentials");
    } else if may_log_in && right_password {
        assert!(decision.is_ok(), "the right password refused: {status:?}");
    } else {
        assert_eq!(status, Some(StatusCode::UNAUTHORIZED));
    }

    // What the store recorded.
    if let (Some(fixture), Some((failures, _))) = (named, before) {
        let (after, _) = account(world, fixture, now);
        let expected = if store_down {
            failures
        } else if decision.is_ok() {
            0
        } else if may_log_in {
            failures.saturating_add(1)
        } else {
            failures
        };
        assert_eq!(after, expected, "failure count of {}", fixture.email);
    }
});

/// SPEC §3 and §5, byte for byte.
fn check_refusal(response: &RejectionResponse) {
    let values = |name| {
        response
            .headers
            .iter()
            .filter(move |(header, _)| *header == name)
            .map(|(_, value)| value.as_bytes())
            .collect::<Vec<_>>()
    };
    assert_eq!(values(CONTENT_TYPE), [PLAIN_TEXT_CONTENT_TYPE.as_bytes()]);
    match response.status {
        StatusCode::UNAUTHORIZED => {
            assert_eq!(values(WWW_AUTHENTICATE), [CHALLENGE.as_bytes()]);
            assert!(values(RETRY_AFTER).is_empty());
            assert_eq!(response.body, UNAUTHORIZED_BODY);
            assert_eq!(response.headers.len(), 2);
        }
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
            assert!(values(WWW_AUTHENTICATE).is_empty());
            let retry_after = values(RETRY_AFTER);
            assert_eq!(retry_after.len(), 1);
            let seconds: u64 = std::str::from_utf8(retry_after[0])
                .ok()
                .and_then(|text| text.parse().ok())
                .expect("Retry-After in whole seconds");
            assert!(seconds >= 1);
            let body = if response.status == StatusCode::TOO_MANY_REQUESTS {
                TOO_MANY_REQUESTS_BODY
            } else {
                UNAVAILABLE_BODY
            };
            assert_eq!(response.body, body);
        }
        other => panic!("refused with {other}"),
    }
}
