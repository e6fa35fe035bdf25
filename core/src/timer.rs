//! One timer thread for the waits the core makes without an async runtime: a request's deadline
//! in the admission queue, and the failure-time floor (SPEC §3), which costs waiting, not CPU.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Instant;

/// A future that resolves at `deadline`.
pub(crate) fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline }
}

/// Resolves at its deadline; see [`sleep_until`].
#[derive(Debug)]
pub(crate) struct Sleep {
    deadline: Instant,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        wake_at(self.deadline, cx.waker());
        Poll::Pending
    }
}

/// Wakes `waker` at `deadline` (or soon after). A waker whose task is gone by then is woken
/// harmlessly.
pub(crate) fn wake_at(deadline: Instant, waker: &Waker) {
    match timer() {
        Some(timer) => timer.add(deadline, waker.clone()),
        // No timer thread could be started: wake at once, so a waiter polls again rather than
        // hanging; it then sees its deadline still ahead and asks again.
        None => waker.wake_by_ref(),
    }
}

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    entries: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        }));
        let started = thread::Builder::new()
            .name("endpoint-auth-timer".to_owned())
            .spawn(move || timer.run());
        match started {
            Ok(_) => Some(timer),
            Err(error) => {
                tracing::error!(%error, "could not start the endpoint-auth timer thread; deadlines and the failure-time floor are checked on each poll only");
                None
            }
        }
    })
}

impl Timer {
    fn add(&self, at: Instant, waker: Waker) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.seq = queue.seq.wrapping_add(1);
        let seq = queue.seq;
        let earliest = queue.entries.peek().is_none_or(|Reverse(e)| at < e.at);
        queue.entries.push(Reverse(Entry { at, seq, waker }));
        drop(queue);
        if earliest {
            self.changed.notify_one();
        }
    }

    fn run(&self) {
        let mut due = Vec::new();
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while queue.entries.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(entry)) = queue.entries.pop() {
                    due.push(entry.waker);
                }
            }
            if !due.is_empty() {
                // Wake outside the lock: a woken task may register again at once.
                drop(queue);
                due.drain(..).for_each(Waker::wake);
                queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            queue = match queue.entries.peek().map(|Reverse(e)| e.at) {
                Some(at) => {
                    self.changed
                        .wait_timeout(queue, at.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sleeps_at_least_until_the_deadline_and_not_much_longer() {
        let start = Instant::now();
        pollster::block_on(sleep_until(start + Duration::from_millis(30)));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(30), "{took:?}");
        assert!(took < Duration::from_millis(500), "{took:?}");
    }

    #[test]
    fn many_sleepers_wake_in_deadline_order() {
        let start = Instant::now();
        let handles: Vec<_> = (0..20u64)
            .rev()
            .map(|i| {
                thread::spawn(move || {
                    let deadline = start + Duration::from_millis(5 * i);
                    pollster::block_on(sleep_until(deadline));
                    Instant::now() >= deadline
                })
            })
            .collect();
        for handle in handles {
            assert!(handle.join().unwrap());
        }
    }

    #[test]
    fn a_past_deadline_is_ready_at_once() {
        let past = Instant::now();
        thread::sleep(Duration::from_millis(1));
        pollster::block_on(sleep_until(past));
    }
}
