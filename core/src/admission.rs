//! Fair admission to password verification (SPEC §5).
//!
//! A verification needs a permit; there are as many permits as hashing workers, so at most that
//! many verifications run and hashing memory stays bounded. A request without a permit waits —
//! up to `max_wait`, then 503 — in a queue of its client's, and released permits go to the
//! clients round-robin, so a client that floods cannot starve another's first login. Admission
//! is work-conserving: a client alone may hold every permit and queue as much as it likes (up to
//! the queue bound); only while other clients wait is a client over its share of the waiting
//! requests refused at once with 429. A waiter whose request is dropped (its client went away)
//! leaves the queue without ever being verified.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::client::AdmissionKey;
use crate::{telemetry, timer};

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Other clients are waiting and this one is over its share: 429.
    OverShare,
    /// The wait bound passed, or the queue is full: 503.
    Busy,
}

/// The sizing admission works with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) permits: usize,
    pub(crate) max_wait: Duration,
    pub(crate) max_waiting: usize,
}

struct Waiter {
    slot: Mutex<WaiterSlot>,
}

#[derive(Default)]
struct WaiterSlot {
    granted: bool,
    waker: Option<Waker>,
}

impl Waiter {
    fn slot(&self) -> MutexGuard<'_, WaiterSlot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Queues {
    free: usize,
    waiting: usize,
    /// Each client's waiters, oldest first; a client is here only while it has some.
    by_client: HashMap<AdmissionKey, VecDeque<Arc<Waiter>>>,
    /// Clients with waiters, in the order they are served next.
    turn: VecDeque<AdmissionKey>,
}

/// Counts of the queue, for tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Depth {
    pub(crate) waiting: usize,
    pub(crate) busy: usize,
}

/// The admission queue of one authenticator.
pub(crate) struct Admission {
    limits: Limits,
    queues: Mutex<Queues>,
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Self {
        let limits = Limits {
            permits: limits.permits.max(1),
            ..limits
        };
        Self {
            queues: Mutex::new(Queues {
                free: limits.permits,
                ..Queues::default()
            }),
            limits,
        }
    }

    fn queues(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes the queue's depth after a change (under the lock, so gauges never go back).
    fn report(&self, queues: &Queues) {
        telemetry::queue(queues.waiting, self.limits.permits - queues.free);
    }

    /// The queue's depth now.
    #[cfg(test)]
    pub(crate) fn depth(&self) -> Depth {
        let queues = self.queues();
        Depth {
            waiting: queues.waiting,
            busy: self.limits.permits - queues.free,
        }
    }

    /// Waits for a permit for `client`. Dropping the future before it resolves leaves the queue.
    pub(crate) fn acquire(self: &Arc<Self>, client: AdmissionKey) -> Acquire {
        Acquire {
            admission: self.clone(),
            client,
            state: AcquireState::New,
        }
    }

    /// Takes a permit at once, or queues `client`, or refuses it.
    fn try_enter(&self, client: AdmissionKey) -> Result<Entry, Refused> {
        let mut queues = self.queues();
        if queues.free > 0 && queues.waiting == 0 {
            queues.free -= 1;
            self.report(&queues);
            return Ok(Entry::Admitted);
        }
        let mine = queues.by_client.get(&client).map_or(0, VecDeque::len);
        let clients = queues.turn.len() + usize::from(mine == 0);
        let others_wait = clients > 1;
        if others_wait {
            // Its share of the waiting requests, counting this one; never less than the number
            // of permits, so a handful of concurrent requests is always fine.
            let share = (queues.waiting + 1)
                .div_ceil(clients)
                .max(self.limits.permits);
            if mine + 1 > share {
                return Err(Refused::OverShare);
            }
        }
        if queues.waiting >= self.limits.max_waiting {
            return Err(Refused::Busy);
        }
        let waiter = Arc::new(Waiter {
            slot: Mutex::new(WaiterSlot::default()),
        });
        if mine == 0 {
            queues.turn.push_back(client);
        }
        queues
            .by_client
            .entry(client)
            .or_default()
            .push_back(waiter.clone());
        queues.waiting += 1;
        self.report(&queues);
        Ok(Entry::Queued(waiter))
    }

    /// Gives a permit back: to the next client in turn that waits, or to the free pool.
    fn release(&self) {
        let next = {
            let mut queues = self.queues();
            let next = Self::next_waiter(&mut queues);
            if next.is_none() {
                queues.free += 1;
            }
            self.report(&queues);
            next
        };
        if let Some(waiter) = next {
            let waker = {
                let mut slot = waiter.slot();
                slot.granted = true;
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    fn next_waiter(queues: &mut Queues) -> Option<Arc<Waiter>> {
        let client = queues.turn.pop_front()?;
        let waiters = queues.by_client.get_mut(&client)?;
        let waiter = waiters.pop_front();
        if waiters.is_empty() {
            queues.by_client.remove(&client);
        } else {
            queues.turn.push_back(client);
        }
        queues.waiting -= 1;
        waiter
    }

    /// Takes `waiter` out of the queue. Returns false when it was no longer there: it has been
    /// granted a permit meanwhile, which the caller now holds.
    fn leave(&self, client: AdmissionKey, waiter: &Arc<Waiter>) -> bool {
        let mut queues = self.queues();
        let Some(waiters) = queues.by_client.get_mut(&client) else {
            return false;
        };
        let Some(index) = waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) else {
            return false;
        };
        waiters.remove(index);
        if waiters.is_empty() {
            queues.by_client.remove(&client);
            queues.turn.retain(|c| *c != client);
        }
        queues.waiting -= 1;
        self.report(&queues);
        true
    }
}

enum Entry {
    Admitted,
    Queued(Arc<Waiter>),
}

enum AcquireState {
    New,
    Waiting {
        waiter: Arc<Waiter>,
        deadline: Instant,
        timer_set: bool,
    },
    Done,
}

/// The future of [`Admission::acquire`].
pub(crate) struct Acquire {
    admission: Arc<Admission>,
    client: AdmissionKey,
    state: AcquireState,
}

impl Future for Acquire {
    type Output = Result<Permit, Refused>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let AcquireState::New = this.state {
            match this.admission.try_enter(this.client) {
                Ok(Entry::Admitted) => return Poll::Ready(Ok(this.permit())),
                Ok(Entry::Queued(waiter)) => {
                    this.state = AcquireState::Waiting {
                        waiter,
                        deadline: Instant::now() + this.admission.limits.max_wait,
                        timer_set: false,
                    };
                }
                Err(refused) => {
                    this.state = AcquireState::Done;
                    return Poll::Ready(Err(refused));
                }
            }
        }
        let AcquireState::Waiting {
            waiter,
            deadline,
            timer_set,
        } = &mut this.state
        else {
            return Poll::Ready(Err(Refused::Busy));
        };
        {
            let mut slot = waiter.slot();
            if slot.granted {
                drop(slot);
                return Poll::Ready(Ok(this.permit()));
            }
            slot.waker = Some(cx.waker().clone());
        }
        if Instant::now() >= *deadline {
            let waiter = waiter.clone();
            if this.admission.leave(this.client, &waiter) {
                this.state = AcquireState::Done;
                return Poll::Ready(Err(Refused::Busy));
            }
            // Granted just now, after all.
            return Poll::Ready(Ok(this.permit()));
        }
        if !*timer_set {
            *timer_set = true;
            timer::wake_at(*deadline, cx.waker());
        }
        Poll::Pending
    }
}

impl Acquire {
    fn permit(&mut self) -> Permit {
        self.state = AcquireState::Done;
        Permit {
            admission: self.admission.clone(),
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let AcquireState::Waiting { waiter, .. } = &self.state {
            let waiter = waiter.clone();
            if !self.admission.leave(self.client, &waiter) {
                // Granted but never taken: pass the permit on.
                self.admission.release();
            }
        }
    }
}

/// The right to run one verification; dropping it lets the next waiter in.
pub(crate) struct Permit {
    admission: Arc<Admission>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.release();
    }
}

#[cfg(test)]
mod tests {
    use std::task::Wake;

    use super::*;

    const A: AdmissionKey = AdmissionKey::V4(1);
    const B: AdmissionKey = AdmissionKey::V4(2);
    const C: AdmissionKey = AdmissionKey::V4(3);

    fn admission(permits: usize) -> Arc<Admission> {
        Arc::new(Admission::new(Limits {
            permits,
            max_wait: Duration::from_secs(60),
            max_waiting: 1000,
        }))
    }

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// Polls once: the permit, the refusal, or the still-waiting future.
    fn poll(mut acquire: Acquire) -> Result<Result<Permit, Refused>, Acquire> {
        let waker = Waker::from(Arc::new(Noop));
        match Pin::new(&mut acquire).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(result) => Ok(result),
            Poll::Pending => Err(acquire),
        }
    }

    fn admitted(acquire: Acquire) -> Permit {
        match poll(acquire) {
            Ok(Ok(permit)) => permit,
            Ok(Err(refused)) => panic!("refused: {refused:?}"),
            Err(_) => panic!("still waiting"),
        }
    }

    fn waiting(acquire: Acquire) -> Acquire {
        match poll(acquire) {
            Err(acquire) => acquire,
            Ok(result) => panic!("expected to wait, got {:?}", result.map(|_| "permit")),
        }
    }

    #[test]
    fn a_lone_client_may_use_every_permit_and_queue_beyond_them() {
        let admission = admission(2);
        let _one = admitted(admission.acquire(A));
        let _two = admitted(admission.acquire(A));
        let queued: Vec<_> = (0..50).map(|_| waiting(admission.acquire(A))).collect();
        assert_eq!(
            admission.depth(),
            Depth {
                waiting: 50,
                busy: 2
            }
        );
        drop(queued);
        assert_eq!(
            admission.depth(),
            Depth {
                waiting: 0,
                busy: 2
            }
        );
    }

    #[test]
    fn permits_go_round_robin_between_waiting_clients() {
        let admission = admission(1);
        let first = admitted(admission.acquire(A));
        let a: Vec<_> = (0..3).map(|_| waiting(admission.acquire(A))).collect();
        let b = waiting(admission.acquire(B));
        drop(first);
        // A queued first, so A's oldest gets the permit; B is next, before A's other two.
        let mut a = a.into_iter();
        let a1 = admitted(a.next().unwrap());
        let b = waiting(b);
        drop(a1);
        let b1 = admitted(b);
        let a2 = waiting(a.next().unwrap());
        drop(b1);
        admitted(a2);
    }

    #[test]
    fn a_flooding_client_gets_429_while_another_waits_and_the_other_is_served() {
        let admission = admission(2);
        let _busy: Vec<_> = (0..2).map(|_| admitted(admission.acquire(A))).collect();
        let _flood: Vec<_> = (0..100).map(|_| waiting(admission.acquire(A))).collect();
        let b = waiting(admission.acquire(B));
        assert!(matches!(
            poll(admission.acquire(A)),
            Ok(Err(Refused::OverShare))
        ));
        // B, under its share, still queues more.
        let b2 = waiting(admission.acquire(B));
        // And a third client too.
        let c = waiting(admission.acquire(C));
        drop((b, b2, c));
        // With B and C gone, A is alone again and queues freely.
        let _more = waiting(admission.acquire(A));
    }

    #[test]
    fn the_queue_bound_refuses_with_busy() {
        let admission = Arc::new(Admission::new(Limits {
            permits: 1,
            max_wait: Duration::from_secs(60),
            max_waiting: 2,
        }));
        let _held = admitted(admission.acquire(A));
        let _q1 = waiting(admission.acquire(A));
        let _q2 = waiting(admission.acquire(A));
        assert!(matches!(poll(admission.acquire(A)), Ok(Err(Refused::Busy))));
    }

    #[test]
    fn a_waiter_past_its_deadline_is_refused_and_leaves() {
        let admission = Arc::new(Admission::new(Limits {
            permits: 1,
            max_wait: Duration::from_millis(20),
            max_waiting: 10,
        }));
        let held = admitted(admission.acquire(A));
        let started = Instant::now();
        let result = pollster::block_on(admission.acquire(B));
        assert!(matches!(result, Err(Refused::Busy)));
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(
            admission.depth(),
            Depth {
                waiting: 0,
                busy: 1
            }
        );
        drop(held);
        assert_eq!(
            admission.depth(),
            Depth {
                waiting: 0,
                busy: 0
            }
        );
    }

    #[test]
    fn a_granted_but_dropped_waiter_passes_its_permit_on() {
        let admission = admission(1);
        let held = admitted(admission.acquire(A));
        let dropped = waiting(admission.acquire(A));
        let next = waiting(admission.acquire(B));
        drop(held); // grants `dropped`, which is never polled again
        drop(dropped);
        admitted(next);
    }

    #[test]
    fn waiters_on_other_threads_are_woken_when_permits_free() {
        let admission = admission(2);
        let held: Vec<_> = (0..2).map(|_| admitted(admission.acquire(A))).collect();
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let admission = admission.clone();
                std::thread::spawn(move || {
                    let key = if i % 2 == 0 { A } else { B };
                    let permit = pollster::block_on(admission.acquire(key)).is_ok();
                    std::thread::sleep(Duration::from_millis(2));
                    permit
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        for thread in threads {
            assert!(thread.join().unwrap());
        }
        assert_eq!(
            admission.depth(),
            Depth {
                waiting: 0,
                busy: 0
            }
        );
    }
}
