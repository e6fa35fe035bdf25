//! A minimal single-value channel whose receiving end is a `Future`, so results computed on pool
//! threads can be awaited on any executor without tying the crate to one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
}

/// The sending half; dropping it unsent wakes the receiver with [`Canceled`].
pub(crate) struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// The receiving half: resolves to the sent value, or [`Canceled`] if the sender was dropped.
pub(crate) struct Receiver<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canceled;

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        sender_gone: false,
    }));
    (Sender { slot: slot.clone() }, Receiver { slot })
}

impl<T> Sender<T> {
    /// Whether the receiver is gone, so that nobody will read what is sent.
    pub(crate) fn is_canceled(&self) -> bool {
        // The slot is shared by exactly the two halves.
        Arc::strong_count(&self.slot) == 1
    }

    pub(crate) fn send(self, value: T) {
        let waker = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        // `Drop` runs next and finds the value already delivered.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            slot.sender_gone = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.sender_gone {
            return Poll::Ready(Err(Canceled));
        }
        match &mut slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn delivers_across_threads() {
        let (tx, rx) = channel();
        std::thread::spawn(move || tx.send(42));
        assert_eq!(block_on(rx), Ok(42));
    }

    #[test]
    fn a_dropped_receiver_is_seen_by_the_sender() {
        let (tx, rx) = channel::<u8>();
        assert!(!tx.is_canceled());
        drop(rx);
        assert!(tx.is_canceled());
    }

    #[test]
    fn dropped_sender_cancels() {
        let (tx, rx) = channel::<u8>();
        std::thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(Canceled));
    }
}
