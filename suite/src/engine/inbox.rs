//! The inbound queue: everything a session or a WebSocket receives is queued in arrival order,
//! so that packets batched in one polling response, or frames arriving before a step asks for
//! them, are matched deliberately and never lost.

use std::collections::VecDeque;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::scenario::Data;

/// Something that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A packet (a text or binary frame, or one packet of a polling payload).
    Data(Data),
    /// The server closed: how.
    Closed(String),
}

/// The receiving end of a queue.
#[derive(Debug)]
pub(crate) struct Inbox {
    receiver: mpsc::UnboundedReceiver<Incoming>,
    /// Items taken off the channel and put back (while the upgrade looked for `3probe`).
    front: VecDeque<Incoming>,
    /// Set once the senders are gone: every later read says so.
    gone: Option<String>,
}

/// What a read of the inbox gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// An item.
    Item(Incoming),
    /// Nothing by the deadline.
    Timeout,
}

impl Inbox {
    pub(crate) fn new() -> (mpsc::UnboundedSender<Incoming>, Inbox) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let inbox = Inbox {
            receiver,
            front: VecDeque::new(),
            gone: None,
        };
        (sender, inbox)
    }

    /// The next item, waiting until `deadline`.
    pub(crate) async fn next(&mut self, deadline: Instant) -> Next {
        if let Some(item) = self.front.pop_front() {
            return Next::Item(item);
        }
        if let Some(detail) = &self.gone {
            return Next::Item(Incoming::Closed(detail.clone()));
        }
        match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
            Ok(Some(item)) => Next::Item(item),
            Ok(None) => {
                let detail = "the connection is gone".to_owned();
                self.gone = Some(detail.clone());
                Next::Item(Incoming::Closed(detail))
            }
            Err(_) => Next::Timeout,
        }
    }

    /// Puts items back at the front, in their order.
    pub(crate) fn put_back(&mut self, items: Vec<Incoming>) {
        for item in items.into_iter().rev() {
            self.front.push_front(item);
        }
    }
}
