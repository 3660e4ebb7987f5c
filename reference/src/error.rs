//! The errors of the codec: one [`Error`] with one precise sub-enum per protocol.

use thiserror::Error;

/// Any error of the codec.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// An Engine.IO packet or payload could not be decoded.
    #[error("Engine.IO: {0}")]
    EngineIo(#[from] EngineIoError),
    /// A Socket.IO packet could not be decoded.
    #[error("Socket.IO: {0}")]
    SocketIo(#[from] SocketIoError),
}

impl Error {
    /// The error class of the protocol vectors (`vectors/README.md`), such as
    /// `unknown-packet-type`: a name that does not depend on this implementation.
    pub fn class(&self) -> &'static str {
        match self {
            Error::EngineIo(error) => error.class(),
            Error::SocketIo(error) => error.class(),
        }
    }
}

/// Why an Engine.IO packet or polling payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineIoError {
    /// A packet with no type at all: an empty WebSocket frame, or an empty packet in a payload.
    #[error("empty packet")]
    EmptyPacket,
    /// A packet type outside the table `0` open … `6` noop.
    #[error("unknown packet type {found:?}, expected a digit from 0 to 6")]
    UnknownPacketType {
        /// The type found: the character, or the byte in decimal for a v3 binary frame.
        found: String,
    },
    /// A `b` packet whose data is not base64 ("Binary payloads MUST be base64-encoded").
    #[error("invalid base64 in a binary packet: {reason}")]
    InvalidBase64 {
        /// What the base64 decoder reported.
        reason: String,
    },
    /// A polling body with no packet at all.
    #[error("empty payload")]
    EmptyPayload,
    /// v3: a length prefix that is not a decimal number, or that has no `:` after it; or a
    /// binary-payload header that is not `00`/`01`, digit bytes and `ff`.
    #[error("invalid length prefix {found:?}")]
    InvalidLength {
        /// The prefix as found (digit bytes of a binary payload are shown as digits).
        found: String,
    },
    /// v3: fewer characters (UTF-16 code units) or bytes than the length prefix announces, or a
    /// length that ends inside a character.
    #[error("length prefix announces {expected} units but {available} are available")]
    LengthMismatch {
        /// The length announced by the prefix.
        expected: usize,
        /// What the rest of the payload holds.
        available: usize,
    },
    /// v3: a text packet inside a binary payload that is not valid UTF-8.
    #[error("text packet of a binary payload is not UTF-8")]
    InvalidUtf8,
}

impl EngineIoError {
    /// The error class of the protocol vectors.
    pub fn class(&self) -> &'static str {
        match self {
            EngineIoError::EmptyPacket => "empty-packet",
            EngineIoError::UnknownPacketType { .. } => "unknown-packet-type",
            EngineIoError::InvalidBase64 { .. } => "invalid-base64",
            EngineIoError::EmptyPayload => "empty-payload",
            EngineIoError::InvalidLength { .. } => "invalid-length",
            EngineIoError::LengthMismatch { .. } => "length-mismatch",
            EngineIoError::InvalidUtf8 => "invalid-utf8",
        }
    }
}

/// Why a Socket.IO packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SocketIoError {
    /// An empty string, which has no packet type.
    #[error("empty packet")]
    EmptyPacket,
    /// A packet type outside `0` CONNECT … `6` BINARY_ACK.
    #[error("unknown packet type {found:?}, expected a digit from 0 to 6")]
    UnknownPacketType {
        /// The first character of the packet.
        found: char,
    },
    /// A BINARY_EVENT or BINARY_ACK whose `<n>-` attachment count is missing, not a decimal
    /// integer, or zero.
    #[error("invalid attachment count {found:?}")]
    InvalidAttachmentCount {
        /// The text where the count was expected.
        found: String,
    },
    /// More attachments announced than the decoder accepts.
    #[error("{count} attachments announced, at most {max} accepted")]
    TooManyAttachments {
        /// The count announced.
        count: usize,
        /// The decoder's maximum.
        max: usize,
    },
    /// An acknowledgement id too large for this implementation (above 2^53 - 1, the largest id
    /// a JavaScript peer can represent exactly).
    #[error("acknowledgement id {found} is out of range")]
    AckIdOutOfRange {
        /// The digits found.
        found: String,
    },
    /// The payload is not JSON.
    #[error("payload is not JSON: {reason}")]
    InvalidJson {
        /// What the JSON parser reported.
        reason: String,
    },
    /// JSON of the wrong shape for the packet type.
    #[error("invalid {packet_type} payload: expected {expected}")]
    InvalidPayload {
        /// The packet type's name.
        packet_type: &'static str,
        /// What the spec allows for it.
        expected: &'static str,
    },
    /// No payload where the spec makes one mandatory: EVENT, and ACK in v5 (a v4 ACK "may
    /// contain a payload").
    #[error("{packet_type} without payload: the payload is mandatory")]
    MissingPayload {
        /// The packet type's name.
        packet_type: &'static str,
    },
    /// v5: an event named after one of the reserved names.
    #[error("event name {name:?} is reserved")]
    ReservedEventName {
        /// The reserved name used.
        name: String,
    },
    /// A placeholder whose `num` is not the index of a received attachment.
    #[error("invalid placeholder {placeholder}: {attachments} attachments received")]
    InvalidPlaceholder {
        /// The placeholder object, as JSON.
        placeholder: String,
        /// How many attachments were received.
        attachments: usize,
    },
    /// A binary attachment while no binary packet waits for one.
    #[error("binary attachment received while no binary packet waits for one")]
    UnexpectedBinary,
    /// A text packet while a binary packet still waits for attachments.
    #[error("text packet received while {missing} attachments are still awaited")]
    UnexpectedText {
        /// How many attachments were still awaited.
        missing: usize,
    },
}

impl SocketIoError {
    /// The error class of the protocol vectors.
    pub fn class(&self) -> &'static str {
        match self {
            SocketIoError::EmptyPacket => "empty-packet",
            SocketIoError::UnknownPacketType { .. } => "unknown-packet-type",
            SocketIoError::InvalidAttachmentCount { .. } => "invalid-attachment-count",
            SocketIoError::TooManyAttachments { .. } => "too-many-attachments",
            SocketIoError::AckIdOutOfRange { .. } => "ack-id-out-of-range",
            SocketIoError::InvalidJson { .. } => "invalid-json",
            SocketIoError::InvalidPayload { .. } => "invalid-payload",
            SocketIoError::MissingPayload { .. } => "missing-payload",
            SocketIoError::ReservedEventName { .. } => "reserved-event-name",
            SocketIoError::InvalidPlaceholder { .. } => "invalid-placeholder",
            SocketIoError::UnexpectedBinary => "unexpected-binary",
            SocketIoError::UnexpectedText { .. } => "unexpected-text",
        }
    }
}
