//! The inbound queue: everything a session or a WebSocket receives is queued in arrival order,
//! so that packets batched in one polling response, or frames arriving before a step asks for
//! them, are matched deliberately and never lost. The queue knows nothing of who is on the
//! other end: the expectations of `engine::expect` read it, whichever role the engine plays.

use std::collections::VecDeque;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::scenario::Data;

/// Something that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A packet (a text or binary frame, or one packet of a polling payload).
    Data(Data),
    /// A ping or pong control frame, on a raw WebSocket whose steps see them.
    Control(Control, Vec<u8>),
    /// The peer closed, or the connection ended.
    Closed(Closure),
}

/// The two control frames a raw WebSocket may queue (RFC 6455 §5.5.2, §5.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// A ping.
    Ping,
    /// A pong.
    Pong,
}

impl Control {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Control::Ping => "ping",
            Control::Pong => "pong",
        }
    }
}

/// How the peer closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Closure {
    /// How, for messages.
    pub(crate) detail: String,
    /// For a WebSocket closed by a close frame: its status code, or 1005 when it had none
    /// (RFC 6455 §7.1.5). `None` when no close frame came (a close packet, the end of the
    /// connection, a polling error).
    pub(crate) code: Option<u16>,
}

impl Incoming {
    /// A close without a close frame.
    pub(crate) fn closed(detail: impl Into<String>) -> Incoming {
        Incoming::Closed(Closure {
            detail: detail.into(),
            code: None,
        })
    }
}

/// The receiving end of a queue.
#[derive(Debug)]
pub(crate) struct Inbox {
    receiver: mpsc::UnboundedReceiver<Incoming>,
    /// Items taken off the channel and put back, by a reader that looked past them (the
    /// upgrade's wait for `3probe`, a CONNECT answer, a skip).
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
    /// A queue: the sender for the tasks that receive, the inbox for the steps.
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
            return Next::Item(Incoming::closed(detail.clone()));
        }
        match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
            Ok(Some(item)) => Next::Item(item),
            Ok(None) => {
                let detail = "the connection is gone".to_owned();
                self.gone = Some(detail.clone());
                Next::Item(Incoming::closed(detail))
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
