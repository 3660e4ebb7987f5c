//! What can go wrong when the application sends, and how a middleware refuses a connection.

use crate::socket_io::Value;

/// An emit that could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The socket has left its namespace, or its connection is closed.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The event name is one the protocol reserves (`connect`, `connect_error`, `disconnect`,
    /// `disconnecting`, `newListener`, `removeListener`): the client's decoder would refuse
    /// the packet and close the connection.
    #[error("{name:?} is a reserved event name")]
    ReservedEvent {
        /// The name that was given.
        name: String,
    },
}

/// An emit whose acknowledgement did not come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// No acknowledgement came within the timeout (the official server's `operation has
    /// timed out`). A late one is ignored.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected before it acknowledged.
    #[error("socket has been disconnected")]
    Disconnected,
}

/// A refusal from a namespace middleware: the client gets a CONNECT_ERROR packet,
/// `44/<namespace>,{"message":<message>,"data":<data>}`, with `data` left out when there is
/// none (behaviors NS-13).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// Why, for the client: the `message` of the CONNECT_ERROR payload.
    pub message: String,
    /// More detail for the client: the `data` of the CONNECT_ERROR payload.
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with a message and no data.
    pub fn new(message: impl Into<String>) -> ConnectError {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// The same refusal with `data` for the client.
    pub fn with_data(self, data: impl Into<Value>) -> ConnectError {
        ConnectError {
            data: Some(data.into()),
            ..self
        }
    }

    /// The CONNECT_ERROR payload.
    pub(crate) fn payload(&self) -> Value {
        let mut entries = vec![("message".to_owned(), Value::from(self.message.as_str()))];
        if let Some(data) = &self.data {
            entries.push(("data".to_owned(), data.clone()));
        }
        Value::Object(entries)
    }
}
