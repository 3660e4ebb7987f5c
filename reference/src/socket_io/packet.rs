//! One Socket.IO packet and its encoding.

use bytes::Bytes;

use super::json::{write_value, BinaryValues};
use super::Value;

/// The Socket.IO protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// Protocol 4, used by socket.io 1.x and 2.x over Engine.IO v3: CONNECT carries a query in
    /// its namespace, type 4 is called ERROR and carries a string.
    V4 = 4,
    /// Protocol 5, used by socket.io 3.x and later over Engine.IO v4: CONNECT carries an auth
    /// object, CONNECT_ERROR an object, and some event names are reserved.
    V5 = 5,
}

/// The type of a Socket.IO packet, its first character on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: "Used during the connection to a namespace."
    Connect = 0,
    /// `1`: "Used when disconnecting from a namespace."
    Disconnect = 1,
    /// `2`: "Used to send data to the other side."
    Event = 2,
    /// `3`: "Used to acknowledge an event."
    Ack = 3,
    /// `4`: "Used during the connection to a namespace." Refuses the connection (called ERROR in
    /// protocol 4).
    ConnectError = 4,
    /// `5`: "Used to send binary data to the other side."
    BinaryEvent = 5,
    /// `6`: "Used to acknowledge an event (the response includes binary data)."
    BinaryAck = 6,
}

impl PacketType {
    /// All packet types, in wire order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Connect,
        PacketType::Disconnect,
        PacketType::Event,
        PacketType::Ack,
        PacketType::ConnectError,
        PacketType::BinaryEvent,
        PacketType::BinaryAck,
    ];

    /// The type's name in the spec.
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Event => "EVENT",
            PacketType::Ack => "ACK",
            PacketType::ConnectError => "CONNECT_ERROR",
            PacketType::BinaryEvent => "BINARY_EVENT",
            PacketType::BinaryAck => "BINARY_ACK",
        }
    }

    /// Whether the packet is followed by binary attachments.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }

    pub(super) fn from_digit(digit: char) -> Option<PacketType> {
        let number = usize::try_from(digit.to_digit(10)?).ok()?;
        PacketType::ALL.get(number).copied()
    }
}

/// One Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type. An EVENT or ACK whose data holds binary values is sent as BINARY_EVENT
    /// or BINARY_ACK whichever of the pair is set here; the decoder reports the type that was on
    /// the wire.
    pub packet_type: PacketType,
    /// The namespace, `/` for the main one.
    pub namespace: String,
    /// The acknowledgement id.
    pub id: Option<u64>,
    /// The payload.
    pub data: Option<Value>,
}

/// An encoded packet: the text of the Engine.IO message, then one binary message per attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The encoded string.
    pub text: String,
    /// The binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

impl Packet {
    /// A packet of the main namespace with no id and no payload.
    pub fn new(packet_type: PacketType) -> Packet {
        Packet {
            packet_type,
            namespace: "/".to_owned(),
            id: None,
            data: None,
        }
    }

    /// An EVENT: the event name followed by its arguments.
    pub fn event(namespace: &str, name: &str, arguments: Vec<Value>) -> Packet {
        let mut data = vec![Value::from(name)];
        data.extend(arguments);
        Packet {
            namespace: namespace.to_owned(),
            data: Some(Value::Array(data)),
            ..Packet::new(PacketType::Event)
        }
    }

    /// An ACK answering the event with id `id`.
    pub fn ack(namespace: &str, id: u64, arguments: Vec<Value>) -> Packet {
        Packet {
            namespace: namespace.to_owned(),
            id: Some(id),
            data: Some(Value::Array(arguments)),
            ..Packet::new(PacketType::Ack)
        }
    }

    /// The type written on the wire: EVENT and ACK become BINARY_EVENT and BINARY_ACK when the
    /// data holds binary values, and the other way round.
    pub fn wire_type(&self) -> PacketType {
        let has_binary = self.data.as_ref().is_some_and(Value::has_binary);
        match (self.packet_type, has_binary) {
            (PacketType::Event | PacketType::BinaryEvent, true) => PacketType::BinaryEvent,
            (PacketType::Event | PacketType::BinaryEvent, false) => PacketType::Event,
            (PacketType::Ack | PacketType::BinaryAck, true) => PacketType::BinaryAck,
            (PacketType::Ack | PacketType::BinaryAck, false) => PacketType::Ack,
            (other, _) => other,
        }
    }

    /// Encodes the packet: binary values become attachments, numbered depth-first in order of
    /// appearance, with placeholders in the JSON. The encoding is the same in both versions.
    pub fn encode(&self) -> Encoded {
        let wire_type = self.wire_type();
        let mut attachments = Vec::new();
        let mut json = String::new();
        if let Some(data) = &self.data {
            let mut binary = if wire_type.is_binary() {
                BinaryValues::Attachments(&mut attachments)
            } else {
                BinaryValues::Inline
            };
            write_value(data, &mut json, &mut binary);
        }
        let mut text = (wire_type as u8).to_string();
        if wire_type.is_binary() {
            text.push_str(&format!("{}-", attachments.len()));
        }
        if self.namespace != "/" && !self.namespace.is_empty() {
            text.push_str(&self.namespace);
            text.push(',');
        }
        if let Some(id) = self.id {
            text.push_str(&id.to_string());
        }
        text.push_str(&json);
        Encoded { text, attachments }
    }
}
