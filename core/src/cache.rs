//! Remembering successful verifications, and running identical concurrent ones once.
//!
//! What is cached is "this password verified against this stored hash", never "this user may
//! come in": the user record is read on every request, so disabling an account takes effect at
//! once, and a changed password changes the stored hash and with it every cache key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::oneshot;

/// How long and how many successful verifications are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    ttl: Duration,
    capacity: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl CacheConfig {
    /// Five minutes, 10 000 entries (about 1 MiB).
    pub const fn new() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            capacity: 10_000,
        }
    }

    /// No caching: every request verifies. Identical concurrent verifications still run once.
    pub const fn disabled() -> Self {
        Self {
            ttl: Duration::ZERO,
            capacity: 0,
        }
    }

    /// How long a successful verification is remembered.
    pub const fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The most verifications remembered at once.
    pub const fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }
}

/// HMAC-SHA-256 of (username, password, stored hash) under a per-process random key: it reveals
/// nothing about the password even to someone who reads the process memory's cache table.
pub(crate) type Fingerprint = [u8; 32];

struct State<T, V> {
    /// Successes remembered: until when, and what they yielded.
    verified: HashMap<Fingerprint, (SystemTime, V)>,
    in_flight: HashMap<Fingerprint, Vec<oneshot::Sender<T>>>,
}

impl<T, V> Default for State<T, V> {
    fn default() -> Self {
        Self {
            verified: HashMap::new(),
            in_flight: HashMap::new(),
        }
    }
}

/// Successful verifications with a TTL and a size bound, plus single-flight: identical concurrent
/// attempts run once and share the leader's result, `T`. A remembered success keeps a `V`: nothing
/// for a verified password, the user for an application's credential check.
pub(crate) struct VerificationCache<T, V = ()> {
    key: Hmac<Sha256>,
    config: CacheConfig,
    state: Mutex<State<T, V>>,
}

/// What a request does about one verification.
pub(crate) enum Joined<T, V = ()> {
    /// This exact verification succeeded within the TTL.
    Cached(V),
    /// An identical attempt ran meanwhile; this is its result.
    Shared(T),
    /// Run the attempt, and hand its result to [`Leader::finish`] if there is a leader (none
    /// after repeatedly cancelled leaders: then it runs alone).
    Lead(Option<Leader<T, V>>),
}

impl<T: Clone, V: Clone> VerificationCache<T, V> {
    /// A cache with a fresh random key.
    pub(crate) fn new(config: CacheConfig) -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        let key = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
        Ok(Self {
            key,
            config,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State<T, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn fingerprint(
        &self,
        username: &str,
        password: &str,
        stored_hash: &str,
    ) -> Fingerprint {
        let mut mac = self.key.clone();
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        for part in [username, password, stored_hash] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether this verification is cached, running for another request (then waits for its
    /// result), or to be run by the caller.
    pub(crate) async fn join(
        self: &Arc<Self>,
        fingerprint: Fingerprint,
        now: SystemTime,
    ) -> Joined<T, V> {
        // A follower whose leader was cancelled (its request dropped) tries again; after a few
        // rounds it runs on its own rather than waiting forever.
        for _ in 0..3 {
            match self.join_once(fingerprint, now) {
                Flight::Cached(value) => return Joined::Cached(value),
                Flight::Follower(answer) => match answer.await {
                    Ok(shared) => return Joined::Shared(shared),
                    Err(oneshot::Canceled) => continue,
                },
                Flight::Leader(leader) => return Joined::Lead(Some(leader)),
            }
        }
        Joined::Lead(None)
    }

    fn join_once(self: &Arc<Self>, fingerprint: Fingerprint, now: SystemTime) -> Flight<T, V> {
        let mut state = self.state();
        if let Some((expires, value)) = state.verified.get(&fingerprint) {
            if now < *expires && *expires <= now + self.config.ttl {
                return Flight::Cached(value.clone());
            }
            // Expired, or the clock went backwards past its insertion.
            state.verified.remove(&fingerprint);
        }
        if let Some(followers) = state.in_flight.get_mut(&fingerprint) {
            let (reply, answer) = oneshot::channel();
            followers.push(reply);
            return Flight::Follower(answer);
        }
        state.in_flight.insert(fingerprint, Vec::new());
        Flight::Leader(Leader {
            cache: self.clone(),
            fingerprint,
            finished: false,
        })
    }

    fn remember(
        state: &mut State<T, V>,
        config: &CacheConfig,
        fingerprint: Fingerprint,
        value: V,
        now: SystemTime,
    ) {
        if config.capacity == 0 || config.ttl.is_zero() {
            return;
        }
        if state.verified.len() >= config.capacity {
            state.verified.retain(|_, (expires, _)| now < *expires);
        }
        if state.verified.len() >= config.capacity {
            // Still full of live entries: make room by dropping one. Which one matters little;
            // the cost of a miss is one verification.
            if let Some(victim) = state.verified.keys().next().copied() {
                state.verified.remove(&victim);
            }
        }
        state
            .verified
            .insert(fingerprint, (now + config.ttl, value));
    }

    /// Number of remembered verifications (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state().verified.len()
    }
}

enum Flight<T, V> {
    Cached(V),
    Follower(oneshot::Receiver<T>),
    Leader(Leader<T, V>),
}

/// The request that actually runs an attempt; the identical ones wait for it.
pub(crate) struct Leader<T, V = ()> {
    cache: Arc<VerificationCache<T, V>>,
    fingerprint: Fingerprint,
    finished: bool,
}

impl<T: Clone, V: Clone> Leader<T, V> {
    /// Hands `result` to the followers, and remembers the success it yielded, if any.
    pub(crate) fn finish(mut self, result: &T, success: Option<V>, now: SystemTime) {
        self.finished = true;
        let followers = {
            let mut state = self.cache.state();
            if let Some(value) = success {
                VerificationCache::remember(
                    &mut state,
                    &self.cache.config,
                    self.fingerprint,
                    value,
                    now,
                );
            }
            state
                .in_flight
                .remove(&self.fingerprint)
                .unwrap_or_default()
        };
        for follower in followers {
            follower.send(result.clone());
        }
    }
}

impl<T, V> Drop for Leader<T, V> {
    fn drop(&mut self) {
        if !self.finished {
            // Cancelled mid-flight: dropping the senders tells followers to try again.
            let followers = self
                .cache
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .in_flight
                .remove(&self.fingerprint);
            drop(followers);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use pollster::block_on;

    use super::*;
    use crate::hash::{HashPolicy, Verification};
    use crate::verifier::{PasswordVerifier, VerifierFuture, VerifyError};

    /// Counts calls and answers from a real cheap policy, once its gate is open.
    struct Counting {
        policy: HashPolicy,
        calls: AtomicUsize,
        gate: Gate,
    }

    /// Holds verifications back until the test opens it.
    #[derive(Clone, Default)]
    struct Gate(Arc<(Mutex<bool>, std::sync::Condvar)>);

    impl Gate {
        fn open(&self) {
            *self.0 .0.lock().unwrap() = true;
            self.0 .1.notify_all();
        }

        fn wait(&self) {
            let mut open = self.0 .0.lock().unwrap();
            while !*open {
                open = self.0 .1.wait(open).unwrap();
            }
        }
    }

    impl PasswordVerifier for Counting {
        fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.gate.wait();
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

    fn counting() -> Counting {
        let gate = Gate::default();
        gate.open();
        Counting {
            policy: HashPolicy::argon2id(64, 1, 1).unwrap(),
            calls: AtomicUsize::new(0),
            gate,
        }
    }

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    type Shared = Result<Verification, VerifyError>;

    impl VerificationCache<Shared> {
        /// The way the authenticator drives the cache, over a plain verifier.
        async fn verify(
            self: &Arc<Self>,
            verifier: &dyn PasswordVerifier,
            username: &str,
            password: &str,
            stored_hash: &str,
            now: SystemTime,
        ) -> Shared {
            let fingerprint = self.fingerprint(username, password, stored_hash);
            match self.join(fingerprint, now).await {
                Joined::Cached(()) => Ok(Verification {
                    matched: true,
                    needs_rehash: false,
                }),
                Joined::Shared(shared) => shared,
                Joined::Lead(leader) => {
                    let result = verifier.verify(password, stored_hash).await;
                    if let Some(leader) = leader {
                        let matched = matches!(result, Ok(Verification { matched: true, .. }));
                        leader.finish(&result, matched.then_some(()), now);
                    }
                    result
                }
            }
        }
    }

    fn at(secs: u64) -> SystemTime {
        T0 + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn success_is_remembered_until_ttl() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(
            VerificationCache::new(CacheConfig::new().ttl(Duration::from_secs(10))).unwrap(),
        );
        for now in [at(0), at(5), at(9)] {
            assert!(
                block_on(cache.verify(&verifier, "u", "pw", &stored, now))
                    .unwrap()
                    .matched
            );
        }
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 1);
        assert!(
            block_on(cache.verify(&verifier, "u", "pw", &stored, at(10)))
                .unwrap()
                .matched
        );
        assert_eq!(
            verifier.calls.load(Ordering::SeqCst),
            2,
            "expired at the TTL"
        );
    }

    #[test]
    fn failures_are_never_remembered() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new()).unwrap());
        for _ in 0..3 {
            assert!(
                !block_on(cache.verify(&verifier, "u", "bad", &stored, at(0)))
                    .unwrap()
                    .matched
            );
        }
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 3);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_new_stored_hash_misses_the_cache() {
        let verifier = counting();
        let old = verifier.policy.hash("pw").unwrap();
        let new = verifier.policy.hash("other").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new()).unwrap());
        assert!(
            block_on(cache.verify(&verifier, "u", "pw", &old, at(0)))
                .unwrap()
                .matched
        );
        assert!(
            !block_on(cache.verify(&verifier, "u", "pw", &new, at(1)))
                .unwrap()
                .matched
        );
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn size_bound_holds() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new().capacity(2)).unwrap());
        for user in ["a", "b", "c", "d"] {
            assert!(
                block_on(cache.verify(&verifier, user, "pw", &stored, at(0)))
                    .unwrap()
                    .matched
            );
            assert!(cache.len() <= 2);
        }
    }

    #[test]
    fn entries_within_the_size_bound_stay() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new().capacity(2)).unwrap());
        for user in ["a", "b", "a", "b", "a"] {
            assert!(
                block_on(cache.verify(&verifier, user, "pw", &stored, at(0)))
                    .unwrap()
                    .matched
            );
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(
            verifier.calls.load(Ordering::SeqCst),
            2,
            "a second entry must not evict the first"
        );
    }

    #[test]
    fn capacity_zero_turns_the_cache_off() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new().capacity(0)).unwrap());
        for _ in 0..3 {
            assert!(
                block_on(cache.verify(&verifier, "u", "pw", &stored, at(0)))
                    .unwrap()
                    .matched
            );
        }
        assert_eq!(cache.len(), 0);
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn clock_going_backwards_expires_entries() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(
            VerificationCache::new(CacheConfig::new().ttl(Duration::from_secs(10))).unwrap(),
        );
        assert!(
            block_on(cache.verify(&verifier, "u", "pw", &stored, at(100)))
                .unwrap()
                .matched
        );
        assert!(
            block_on(cache.verify(&verifier, "u", "pw", &stored, at(0)))
                .unwrap()
                .matched
        );
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn concurrent_identical_verifications_run_once() {
        let gate = Gate::default();
        let verifier = Arc::new(Counting {
            gate: gate.clone(),
            ..counting()
        });
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::disabled()).unwrap());
        let fingerprint = cache.fingerprint("u", "pw", &stored);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, verifier, stored) = (cache.clone(), verifier.clone(), stored.clone());
                std::thread::spawn(move || {
                    block_on(cache.verify(&*verifier, "u", "pw", &stored, at(0)))
                })
            })
            .collect();
        // The leader is held at the gate until the seven others have joined it.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while cache
            .state()
            .in_flight
            .get(&fingerprint)
            .map_or(0, Vec::len)
            < 7
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the followers never joined"
            );
            std::thread::yield_now();
        }
        gate.open();
        for t in threads {
            assert!(t.join().unwrap().unwrap().matched);
        }
        assert_eq!(verifier.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn followers_of_a_cancelled_leader_verify_themselves() {
        let verifier = counting();
        let stored = verifier.policy.hash("pw").unwrap();
        let cache = Arc::new(VerificationCache::new(CacheConfig::new()).unwrap());
        let fingerprint = cache.fingerprint("u", "pw", &stored);
        let Flight::<Shared, ()>::Leader(leader) = cache.join_once(fingerprint, at(0)) else {
            panic!("first caller leads")
        };
        let Flight::Follower(answer) = cache.join_once(fingerprint, at(0)) else {
            panic!("second caller follows")
        };
        drop(leader);
        assert_eq!(block_on(answer).unwrap_err(), oneshot::Canceled);
        assert!(
            block_on(cache.verify(&verifier, "u", "pw", &stored, at(0)))
                .unwrap()
                .matched
        );
    }
}
