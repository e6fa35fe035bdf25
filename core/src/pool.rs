//! [`VerificationPool`]: password hashing off the request path, on a bounded set of threads with a
//! bounded queue, awaitable from any executor.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::oneshot;
use crate::password::{HashError, HashPolicy, Verification};

/// Why a verification or hash did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Every worker is busy and the queue is full: shed the request (503 + `Retry-After`).
    #[error("password verification queue is full; retry after {}s", retry_after.as_secs())]
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

/// Sizing of a [`VerificationPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    workers: usize,
    queue: usize,
    retry_after: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolConfig {
    /// One worker per available core, a queue of four jobs per worker, `Retry-After: 1`.
    pub fn new() -> Self {
        let workers = thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers,
            queue: workers * 4,
            retry_after: Duration::from_secs(1),
        }
    }

    /// Number of hashing threads (at least 1). Each holds one argon2 work buffer (19 MiB with
    /// the OWASP parameters), so this bounds hashing memory.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Jobs that may wait for a free worker; one more is refused with
    /// [`VerifyError::Busy`]. Zero means "only when a worker is idle".
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// The `Retry-After` advised when the queue is full.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The configured number of workers.
    pub fn get_workers(&self) -> usize {
        self.workers
    }

    /// The configured queue length.
    pub fn get_queue(&self) -> usize {
        self.queue
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A bounded pool of threads that hash and verify passwords under a [`HashPolicy`].
///
/// - At most `workers` hashes run at once, each thread reusing one argon2 buffer, so peak hashing
///   memory is `workers × m_cost` and known in advance.
/// - At most `queue` jobs wait; past that, [`VerifyError::Busy`] is returned at once rather than
///   queueing without limit.
/// - Results are futures that any executor can await; no runtime is required.
///
/// Threads stop when the pool (every clone of its handle) is dropped.
///
/// ```
/// use endpoint_auth::{HashPolicy, PasswordVerifier, PoolConfig, VerificationPool};
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
    jobs: SyncSender<Job>,
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
        let (jobs, queue) = mpsc::sync_channel::<Job>(config.queue);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..config.workers {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("endpoint-auth-hash-{index}"))
                .spawn(move || run_worker(&queue))?;
        }
        Ok(Self {
            shared: Arc::new(PoolShared {
                jobs,
                policy: Arc::new(policy),
                config,
            }),
        })
    }

    /// The policy new hashes are made under.
    pub fn policy(&self) -> &HashPolicy {
        &self.shared.policy
    }

    /// The pool's sizing.
    pub fn config(&self) -> PoolConfig {
        self.shared.config
    }

    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&HashPolicy) -> Result<T, HashError> + Send + 'static,
    ) -> VerifierFuture<T> {
        let (reply, answer) = oneshot::channel();
        let policy = self.shared.policy.clone();
        let job: Job = Box::new(move || reply.send(work(&policy)));
        let submitted = match self.shared.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(VerifyError::Busy {
                retry_after: self.shared.config.retry_after,
            }),
            Err(TrySendError::Disconnected(_)) => Err(VerifyError::WorkerGone),
        };
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
            block_on(pool.verify("pw", "$apr1$x$y")),
            Err(VerifyError::Hash(HashError::UnsupportedFormat { .. }))
        ));
    }

    #[test]
    fn full_queue_is_refused_not_queued() {
        // One worker kept busy by a job that waits for a signal, one queue slot taken by a
        // second job: a third submission must be refused at once.
        let pool = VerificationPool::new(
            cheap(),
            PoolConfig::new()
                .workers(1)
                .queue(1)
                .retry_after(Duration::from_secs(3)),
        )
        .unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = pool.submit(move |_| {
            started_tx.send(()).ok();
            release_rx.recv().ok();
            Ok(1)
        });
        started_rx.recv().unwrap();
        let queued = pool.submit(|_| Ok(2));
        let refused = block_on(pool.verify(
            "pw",
            "$2b$04$......................................................",
        ));
        assert_eq!(
            refused,
            Err(VerifyError::Busy {
                retry_after: Duration::from_secs(3)
            })
        );
        release_tx.send(()).unwrap();
        assert_eq!(block_on(blocker), Ok(1));
        assert_eq!(block_on(queued), Ok(2));
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
