//! A queue from one sender to one receiver, unbounded: the way packets reach a WebSocket's
//! writer and messages reach the application.
//!
//! It does what tokio's unbounded channel did here for a fraction of its memory: that channel
//! allocates a block of 32 slots when it is made, some 1 KiB for every session and every
//! WebSocket, idle or not, where this queue holds a `VecDeque` that stays unallocated until
//! the first item and grows with what is actually queued. The receiver takes everything queued
//! at once ([`QueueReceiver::take_all`]), so that a WebSocket writer sends a burst with one
//! flush.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::session::lock;

struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    items: VecDeque<T>,
    /// The receiver to wake when an item comes or the sender goes.
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

/// The sending half: dropping it ends the queue once the receiver has taken what is left.
pub(crate) struct QueueSender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: dropping it makes every later [`QueueSender::send`] fail.
pub(crate) struct QueueReceiver<T> {
    shared: Arc<Shared<T>>,
}

/// The receiver is gone: the item was not queued.
#[derive(Debug)]
pub(crate) struct ReceiverGone;

/// A new queue.
pub(crate) fn queue<T>() -> (QueueSender<T>, QueueReceiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            waker: None,
            sender_gone: false,
            receiver_gone: false,
        }),
    });
    (
        QueueSender {
            shared: Arc::clone(&shared),
        },
        QueueReceiver { shared },
    )
}

impl<T> QueueSender<T> {
    /// Queues `item` and wakes the receiver; fails once the receiver is gone.
    pub(crate) fn send(&self, item: T) -> Result<(), ReceiverGone> {
        let waker = {
            let mut state = lock(&self.shared.state);
            if state.receiver_gone {
                return Err(ReceiverGone);
            }
            state.items.push_back(item);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Drop for QueueSender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared.state);
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> QueueReceiver<T> {
    /// The next item; `None` once the sender is gone and the queue is empty.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|context| self.poll_recv(context)).await
    }

    /// Polls for the next item.
    pub(crate) fn poll_recv(&mut self, context: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.shared.state);
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.sender_gone {
            return Poll::Ready(None);
        }
        register(&mut state.waker, context);
        Poll::Pending
    }

    /// Moves everything queued into `items` (which the caller has emptied), or says that
    /// nothing will come any more: `Ready(false)` once the sender is gone and the queue is
    /// empty. The two buffers are swapped, so neither allocates in the steady state.
    pub(crate) fn poll_take_all(
        &mut self,
        items: &mut VecDeque<T>,
        context: &mut Context<'_>,
    ) -> Poll<bool> {
        let mut state = lock(&self.shared.state);
        if !state.items.is_empty() {
            std::mem::swap(&mut state.items, items);
            return Poll::Ready(true);
        }
        if state.sender_gone {
            return Poll::Ready(false);
        }
        register(&mut state.waker, context);
        Poll::Pending
    }
}

impl<T> Drop for QueueReceiver<T> {
    fn drop(&mut self) {
        let items = {
            let mut state = lock(&self.shared.state);
            state.receiver_gone = true;
            std::mem::take(&mut state.items)
        };
        // Dropped outside the lock: an item may hold another queue's half.
        drop(items);
    }
}

fn register(slot: &mut Option<Waker>, context: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(context.waker()) => {}
        _ => *slot = Some(context.waker().clone()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_arrive_in_order_then_the_end() {
        let (sender, mut receiver) = queue();
        sender.send(1).unwrap();
        sender.send(2).unwrap();
        assert_eq!(receiver.recv().await, Some(1));
        drop(sender);
        assert_eq!(receiver.recv().await, Some(2));
        assert_eq!(receiver.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken() {
        let (sender, mut receiver) = queue();
        let waiting = tokio::spawn(async move { receiver.recv().await });
        tokio::task::yield_now().await;
        sender.send("late").unwrap();
        assert_eq!(waiting.await.unwrap(), Some("late"));
    }

    #[tokio::test]
    async fn take_all_takes_the_whole_burst() {
        let (sender, mut receiver) = queue();
        for item in 0..5 {
            sender.send(item).unwrap();
        }
        let mut items = VecDeque::new();
        let taken = poll_fn(|context| receiver.poll_take_all(&mut items, context)).await;
        assert!(taken);
        assert_eq!(items, [0, 1, 2, 3, 4]);
        items.clear();
        drop(sender);
        let taken = poll_fn(|context| receiver.poll_take_all(&mut items, context)).await;
        assert!(!taken);
    }

    #[test]
    fn sending_fails_once_the_receiver_is_gone() {
        let (sender, receiver) = queue();
        drop(receiver);
        assert!(sender.send(1).is_err());
    }
}
