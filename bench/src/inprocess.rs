//! What is measured inside this process rather than over HTTP: the time of one argon2id
//! verification (which sets the machine's limit), and how many verifications 64 concurrent
//! identical first logins cost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint_auth::{
    hash::Verification,
    verifier::{PasswordVerifier, VerificationPool, VerifierFuture},
    Authenticator, HashPolicy, MemoryStore, NewUser, PoolConfig, Requirements, User,
};

use crate::error::BenchError;
use crate::net::basic;
use crate::target::median;
use crate::{DEMO_EMAIL, DEMO_PASSWORD};

/// The median time of one argon2id verification with OWASP parameters (m=19456 KiB, t=2, p=1)
/// on this thread, over `samples` runs after one warm-up.
pub fn argon2_verification_time(samples: usize) -> Result<Duration, BenchError> {
    let policy = HashPolicy::owasp();
    let fail = |e: endpoint_auth::hash::HashError| BenchError::InProcess(e.to_string());
    let stored = policy.hash(DEMO_PASSWORD).map_err(fail)?;
    let _ = policy.verify(DEMO_PASSWORD, &stored).map_err(fail)?;
    let mut times = Vec::with_capacity(samples.max(1));
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        let verification = policy.verify(DEMO_PASSWORD, &stored).map_err(fail)?;
        times.push(started.elapsed().as_secs_f64());
        if !verification.matched {
            return Err(BenchError::InProcess(
                "argon2id did not verify its own hash".into(),
            ));
        }
    }
    let seconds = median(&times).unwrap_or_default();
    Ok(Duration::from_secs_f64(seconds))
}

/// Verifications per second when `threads` threads verify at once, `per_thread` each: what the
/// machine really gives when every core verifies (memory bandwidth and neighbours included),
/// beside the limit computed from one verification.
pub fn argon2_parallel_rate(threads: usize, per_thread: usize) -> Result<f64, BenchError> {
    let policy = HashPolicy::owasp();
    let stored = policy
        .hash(DEMO_PASSWORD)
        .map_err(|e| BenchError::InProcess(e.to_string()))?;
    let threads = threads.max(1);
    let per_thread = per_thread.max(1);
    let started = Instant::now();
    let all_matched = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..per_thread).all(|_| {
                        policy
                            .verify(DEMO_PASSWORD, &stored)
                            .is_ok_and(|v| v.matched)
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .all(|worker| worker.join().unwrap_or(false))
    });
    let seconds = started.elapsed().as_secs_f64();
    if !all_matched {
        return Err(BenchError::InProcess(
            "argon2id did not verify its own hash".into(),
        ));
    }
    Ok((threads * per_thread) as f64 / seconds)
}

/// A [`PasswordVerifier`] that counts the verifications it is asked for.
struct Counting {
    inner: VerificationPool,
    verifications: Arc<AtomicUsize>,
}

impl PasswordVerifier for Counting {
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, stored_hash)
    }

    fn hash(&self, password: &str) -> VerifierFuture<String> {
        self.inner.hash(password)
    }

    fn needs_rehash(&self, stored_hash: &str) -> bool {
        self.inner.needs_rehash(stored_hash)
    }
}

/// What [`identical_first_logins`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstLogins {
    /// Concurrent requests fired.
    pub requests: usize,
    /// Verifications the authenticator asked its verifier for.
    pub verifications: usize,
    /// How the requests were answered: 200 (the user), or the rejection's status.
    pub statuses: BTreeMap<u16, usize>,
}

/// Fires `requests` concurrent `authenticate_user` calls with the demo user's right credentials
/// at a fresh authenticator (empty cache, default pool) over a [`MemoryStore`], and counts the
/// verifications they cost.
pub fn identical_first_logins(requests: usize) -> Result<FirstLogins, BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let fail = |e: &dyn std::fmt::Display| BenchError::InProcess(e.to_string());
    let policy = HashPolicy::owasp();
    let store = MemoryStore::new();
    let stored = policy.hash(DEMO_PASSWORD).map_err(|e| fail(&e))?;
    store
        .insert(NewUser::new(DEMO_EMAIL, Some(stored)))
        .map_err(|e| fail(&e))?;
    let verifications = Arc::new(AtomicUsize::new(0));
    let pool = VerificationPool::new(policy.clone(), PoolConfig::new()).map_err(|e| fail(&e))?;
    let auth: Authenticator<User> = Authenticator::builder(store)
        .realm("endpoint-auth bench")
        .hash_policy(policy)
        .verifier(Counting {
            inner: pool,
            verifications: verifications.clone(),
        })
        .build()
        .map_err(|e| fail(&e))?;
    let header = basic(DEMO_EMAIL, DEMO_PASSWORD);
    let statuses = runtime.block_on(async move {
        // Every request is parsed and started before any is awaited.
        let pending: Vec<_> = (0..requests)
            .map(|_| {
                let future = authenticate(&auth, &header);
                tokio::spawn(future)
            })
            .collect();
        let mut statuses = BTreeMap::new();
        for task in pending {
            let status = match task.await {
                Ok(Ok(_)) => 200,
                Ok(Err(rejection)) => rejection.status().as_u16(),
                Err(_) => 0,
            };
            *statuses.entry(status).or_insert(0) += 1;
        }
        statuses
    });
    Ok(FirstLogins {
        requests,
        verifications: verifications.load(Ordering::SeqCst),
        statuses,
    })
}

/// The one call into the core's request API.
fn authenticate(
    auth: &Authenticator<User>,
    header: &str,
) -> endpoint_auth::AuthenticateFuture<User> {
    auth.authenticate_user(
        [header.as_bytes()],
        endpoint_auth::ClientAddress::new([127, 0, 0, 1].into()),
        Requirements::new(),
    )
}
