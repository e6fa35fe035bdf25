//! Coalesced lookups: the queue behind [`SqlStore`](crate::SqlStore)'s batched reads.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use endpoint_auth::{StoreError, UserRecord};
use tokio::sync::oneshot;

/// What a waiting lookup is answered with.
pub(crate) type Answer<U> = Result<Option<UserRecord<U>>, StoreError>;

/// One lookup waiting for a batched read.
pub(crate) struct Waiter<U> {
    pub(crate) key: String,
    pub(crate) reply: oneshot::Sender<Answer<U>>,
}

/// Lookups waiting for the next read, and whether a reader task is running.
pub(crate) struct Batcher<U> {
    queue: Mutex<Queue<U>>,
}

struct Queue<U> {
    waiting: Vec<Waiter<U>>,
    reading: bool,
}

impl<U> Batcher<U> {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                reading: false,
            }),
        }
    }

    /// The queue, even after a panic elsewhere: it is only ever left consistent.
    fn lock(&self) -> MutexGuard<'_, Queue<U>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a lookup; `true` when no reader runs, so the caller must start one.
    pub(crate) fn push(&self, key: String, reply: oneshot::Sender<Answer<U>>) -> bool {
        let mut queue = self.lock();
        queue.waiting.push(Waiter { key, reply });
        !std::mem::replace(&mut queue.reading, true)
    }

    /// The running reader's hold on the queue.
    pub(crate) fn turn(&self) -> Turn<'_, U> {
        Turn {
            batcher: self,
            finished: false,
        }
    }
}

/// The reader task's hold on the queue. Dropped before the queue ran dry (the task was cancelled
/// or a row conversion panicked), it lets the next lookup start a new reader and fails the
/// lookups still waiting rather than leaving them to hang.
pub(crate) struct Turn<'a, U> {
    batcher: &'a Batcher<U>,
    finished: bool,
}

impl<U> Turn<'_, U> {
    /// Up to `max` waiting lookups, oldest first; `None` once none waits, which ends the turn in
    /// the same critical section (a lookup queued after that starts a new reader).
    pub(crate) fn next_batch(&mut self, max: usize) -> Option<Vec<Waiter<U>>> {
        let mut queue = self.batcher.lock();
        if queue.waiting.is_empty() {
            queue.reading = false;
            self.finished = true;
            return None;
        }
        let take = queue.waiting.len().min(max);
        Some(queue.waiting.drain(..take).collect())
    }
}

impl<U> Drop for Turn<'_, U> {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = self.batcher.lock();
            queue.reading = false;
            // Dropping the senders answers each waiting caller with `ReadAbandoned`.
            queue.waiting.clear();
        }
    }
}

/// The batched read a lookup waited for was abandoned (the runtime shut down, or reading a row
/// panicked).
#[derive(Debug)]
pub(crate) struct ReadAbandoned;

impl fmt::Display for ReadAbandoned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the users table read this lookup waited for was abandoned")
    }
}

impl std::error::Error for ReadAbandoned {}

/// `keys` as a JSON array of strings, what SQLite's `json_each` reads.
#[cfg(feature = "sqlite")]
pub(crate) fn json_array(keys: &[&str]) -> String {
    use std::fmt::Write as _;

    let mut json = String::with_capacity(keys.iter().map(|key| key.len() + 3).sum::<usize>() + 2);
    json.push('[');
    for (index, key) in keys.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push('"');
        for c in key.chars() {
            match c {
                '"' => json.push_str("\\\""),
                '\\' => json.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(json, "\\u{:04x}", u32::from(c));
                }
                c => json.push(c),
            }
        }
        json.push('"');
    }
    json.push(']');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sqlite")]
    #[test]
    fn json_arrays_escape_what_json_requires() {
        assert_eq!(json_array(&[]), "[]");
        assert_eq!(
            json_array(&["a@b.c", "q\"uo\\te", "tab\there", "é"]),
            r#"["a@b.c","q\"uo\\te","tab\u0009here","é"]"#
        );
    }

    #[test]
    fn a_dropped_turn_frees_the_queue_and_fails_the_waiters() {
        let batcher = Batcher::<()>::new();
        let (reply, mut answer) = oneshot::channel();
        assert!(
            batcher.push("a".into(), reply),
            "the first lookup starts a reader"
        );
        let (reply, _second) = oneshot::channel();
        assert!(!batcher.push("b".into(), reply), "one reader at a time");
        {
            let mut turn = batcher.turn();
            let batch = turn.next_batch(1).unwrap();
            assert_eq!(batch.len(), 1);
            // Dropped with "b" still queued, as if the task were cancelled.
        }
        assert!(
            answer.try_recv().is_err(),
            "the taken lookup's sender is dropped with it"
        );
        let (reply, _third) = oneshot::channel();
        assert!(batcher.push("c".into(), reply), "a new reader can start");
        let mut turn = batcher.turn();
        assert_eq!(
            turn.next_batch(8).unwrap().len(),
            1,
            "b was failed, only c waits"
        );
        assert!(turn.next_batch(8).is_none());
    }
}
