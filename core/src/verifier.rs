//! [`VerificationPool`]: password hashing off the request path, on a bounded set of threads at a
//! lower OS priority than the request threads, awaitable from any executor.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::hash::{HashError, HashPolicy, Verification};
use crate::oneshot;

/// Why a verification or hash did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No verification capacity within the wait bound (or the queue is full): shed the request
    /// (503 + `Retry-After`).
    #[error("password verification is saturated; retry after {}s", retry_after.as_secs())]
    Busy {
        /// How long the client should wait before retrying.
        retry_after: Duration,
    },
    /// The stored hash cannot be used.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The worker running the job went away (it panicked or the pool was shut down).
    #[error("password verification worker stopped before answering")]
    WorkerGone,
}

/// A boxed, `Send` future: what [`PasswordVerifier`] methods return.
pub type VerifierFuture<T> = Pin<Box<dyn Future<Output = Result<T, VerifyError>> + Send + 'static>>;

/// Checks passwords against stored hashes and makes new hashes, somewhere other than the
/// calling task.
///
/// [`VerificationPool`] is the implementation to use. The trait exists so an application can
/// route hashing elsewhere (its runtime's blocking pool, a dedicated service) and so tests can
/// count calls.
pub trait PasswordVerifier: Send + Sync + 'static {
    /// Checks `password` against `stored_hash`.
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification>;
    /// Makes a fresh hash of `password` under the current policy.
    fn hash(&self, password: &str) -> VerifierFuture<String>;
    /// Whether `stored_hash` is outdated under the current policy (cheap: a parse, no hashing).
    fn needs_rehash(&self, stored_hash: &str) -> bool;
}

/// Sizing of password verification: the hashing threads, and how requests wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    pub(crate) workers: usize,
    pub(crate) max_wait: Duration,
    pub(crate) max_waiting: usize,
    pub(crate) retry_after: Duration,
    pub(crate) lower_priority: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolConfig {
    /// One worker per available core at a lower OS priority, requests waiting up to 2 s for one
    /// (at most 1024 waiting), `Retry-After: 1`.
    pub fn new() -> Self {
        Self {
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            max_wait: Duration::from_secs(2),
            max_waiting: 1024,
            retry_after: Duration::from_secs(1),
            lower_priority: true,
        }
    }

    /// Number of hashing threads (at least 1), and so of verifications running at once. Each
    /// holds one argon2 work buffer (19 MiB with the OWASP parameters), so this bounds hashing
    /// memory.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// How long a request waits for a verification slot before it is answered 503 (SPEC §5
    /// `max_wait`).
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// How many requests may wait at once, over all clients; one more is answered 503 at once.
    pub fn max_waiting(mut self, max_waiting: usize) -> Self {
        self.max_waiting = max_waiting;
        self
    }

    /// The `Retry-After` advised when verification is saturated.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Whether hashing threads run at a lower OS priority than the rest of the process (default
    /// on, where the OS allows it: Linux), so a login storm does not slow requests that need no
    /// hashing.
    pub fn lower_priority(mut self, lower: bool) -> Self {
        self.lower_priority = lower;
        self
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A bounded pool of threads that hash and verify passwords under a [`HashPolicy`].
///
/// - At most `workers` hashes run at once, each thread reusing one argon2 buffer, so peak hashing
///   memory is `workers × m_cost` and known in advance.
/// - How many jobs reach it is the [`Authenticator`](crate::Authenticator)'s fair admission's
///   business (at most one per worker); jobs submitted beyond that wait in order.
/// - Results are futures that any executor can await; no runtime is required. A job whose
///   future was dropped before a worker took it is skipped.
///
/// Threads stop when the pool (every clone of its handle) is dropped.
///
/// ```
/// use endpoint_auth::{HashPolicy, PoolConfig, verifier::{PasswordVerifier, VerificationPool}};
///
/// let policy = HashPolicy::argon2id(64, 1, 1).unwrap();
/// let stored = policy.hash("pw").unwrap();
/// let pool = VerificationPool::new(policy, PoolConfig::new().workers(1)).unwrap();
/// let verification = pollster::block_on(pool.verify("pw", &stored)).unwrap();
/// assert!(verification.matched);
/// ```
#[derive(Clone)]
pub struct VerificationPool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    jobs: Mutex<Sender<Job>>,
    policy: Arc<HashPolicy>,
    config: PoolConfig,
}

impl std::fmt::Debug for VerificationPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationPool")
            .field("policy", &self.shared.policy)
            .field("config", &self.shared.config)
            .finish()
    }
}

impl VerificationPool {
    /// Starts `config.workers` threads hashing under `policy`.
    ///
    /// # Errors
    /// The I/O error from the OS when a thread cannot be spawned.
    pub fn new(policy: HashPolicy, config: PoolConfig) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..config.workers {
            let queue = queue.clone();
            let lower_priority = config.lower_priority;
            thread::Builder::new()
                .name(format!("endpoint-auth-hash-{index}"))
                .spawn(move || {
                    if lower_priority {
                        lower_this_threads_priority();
                    }
                    run_worker(&queue);
                })?;
        }
        Ok(Self {
            shared: Arc::new(PoolShared {
                jobs: Mutex::new(jobs),
                policy: Arc::new(policy),
                config,
            }),
        })
    }

    /// The policy new hashes are made under.
    pub fn policy(&self) -> &HashPolicy {
        &self.shared.policy
    }

    /// How many hashing threads the pool runs, and so how many verifications run at once.
    pub fn workers(&self) -> usize {
        self.shared.config.workers
    }

    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&HashPolicy) -> Result<T, HashError> + Send + 'static,
    ) -> VerifierFuture<T> {
        let (reply, answer) = oneshot::channel();
        let policy = self.shared.policy.clone();
        let job: Job = Box::new(move || {
            // Its request is gone (the client went away): nobody needs the answer.
            if !reply.is_canceled() {
                reply.send(work(&policy));
            }
        });
        let submitted = self
            .shared
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|_| VerifyError::WorkerGone);
        Box::pin(async move {
            submitted?;
            match answer.await {
                Ok(result) => result.map_err(VerifyError::from),
                Err(oneshot::Canceled) => Err(VerifyError::WorkerGone),
            }
        })
    }
}

impl PasswordVerifier for VerificationPool {
    fn verify(&self, password: &str, stored_hash: &str) -> VerifierFuture<Verification> {
        let password = Zeroizing::new(password.to_owned());
        let stored_hash = stored_hash.to_owned();
        self.submit(move |policy| policy.verify(&password, &stored_hash))
    }

    fn hash(&self, password: &str) -> VerifierFuture<String> {
        let password = Zeroizing::new(password.to_owned());
        self.submit(move |policy| policy.hash(&password))
    }

    fn needs_rehash(&self, stored_hash: &str) -> bool {
        self.shared.policy.needs_rehash(stored_hash)
    }
}

/// Hashing is CPU-bound and can wait a few milliseconds; requests that need no hashing should
/// not wait behind it. A failure (an OS that does not allow it) only costs that preference.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux the nice value is per thread: this lowers the hashing thread only.
        let tid = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(tid), 10) {
            tracing::debug!(%error, "could not lower the hashing thread's priority");
        }
    }
}

fn run_worker(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.recv()
        };
        let Ok(job) = job else {
            return; // every handle dropped: shut down
        };
        // A panicking job drops its reply sender, which the waiting request sees as
        // `WorkerGone`; the worker itself stays.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    fn cheap() -> HashPolicy {
        HashPolicy::argon2id(64, 1, 1).unwrap()
    }

    #[test]
    fn verifies_and_hashes_off_thread() {
        let pool = VerificationPool::new(cheap(), PoolConfig::new().workers(2)).unwrap();
        let stored = block_on(pool.hash("pw")).unwrap();
        assert!(block_on(pool.verify("pw", &stored)).unwrap().matched);
        assert!(!block_on(pool.verify("nope", &stored)).unwrap().matched);
        assert!(matches!(
            block_on(pool.verify("pw", "$1$saltsalt$hash")),
            Err(VerifyError::Hash(HashError::UnsupportedFormat { .. }))
        ));
    }

    #[test]
    fn a_job_whose_future_was_dropped_is_not_run() {
        let pool = VerificationPool::new(cheap(), PoolConfig::new().workers(1)).unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = pool.submit(move |_| {
            started_tx.send(()).ok();
            release_rx.recv().ok();
            Ok(())
        });
        started_rx.recv().unwrap();
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let abandoned = pool.submit(move |_| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        drop(abandoned);
        release_tx.send(()).unwrap();
        assert_eq!(block_on(blocker), Ok(()));
        // A job queued after the abandoned one runs, so the abandoned one was reached.
        assert_eq!(block_on(pool.submit(|_| Ok(7))), Ok(7));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_panicking_job_does_not_kill_the_worker() {
        let pool = VerificationPool::new(cheap(), PoolConfig::new().workers(1)).unwrap();
        let boom = pool.submit::<()>(|_| panic!("job panicked on purpose"));
        assert_eq!(block_on(boom), Err(VerifyError::WorkerGone));
        let stored = block_on(pool.hash("pw")).unwrap();
        assert!(block_on(pool.verify("pw", &stored)).unwrap().matched);
    }
}
