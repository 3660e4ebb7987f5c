//! Batching outgoing packets into polling `POST` bodies. I/O free.
//!
//! "To ensure packet ordering, a client MUST NOT have more than one active `POST` request", so
//! packets queue while a `POST` is in flight and leave together in the next one; and "the
//! client SHOULD use the `maxPayload` value sent during the handshake to decide how many
//! packets should be concatenated".

use std::collections::VecDeque;

use crate::engine_io::payload::{encode_v3_text, encode_v4};
use crate::engine_io::{Packet, ProtocolVersion};

/// The packets for the next `POST`, taken from the front of `queue`: as many as fit in
/// `max_payload` bytes once encoded, and always at least one (a packet larger than the limit
/// travels alone, as with the official client). With no `max_payload` (a protocol 3 server),
/// the whole queue.
pub fn next_batch(
    queue: &mut VecDeque<Packet>,
    max_payload: Option<usize>,
    version: ProtocolVersion,
) -> Vec<Packet> {
    let Some(limit) = max_payload else {
        return queue.drain(..).collect();
    };
    let mut batch = Vec::new();
    let mut size = 0;
    while let Some(packet) = queue.front() {
        let packet_size = encoded_len(packet, version);
        // The separator before every packet but the first, in v4; v3 has length prefixes.
        let separator = !batch.is_empty() && version == ProtocolVersion::V4;
        let added = packet_size + usize::from(separator);
        if !batch.is_empty() && size + added > limit {
            break;
        }
        size += added;
        if let Some(packet) = queue.pop_front() {
            batch.push(packet);
        }
    }
    batch
}

/// The bytes a packet adds to a body: its text form (with a v3 length prefix).
fn encoded_len(packet: &Packet, version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V4 => encode_v4(std::slice::from_ref(packet)).len(),
        ProtocolVersion::V3 => encode_v3_text(std::slice::from_ref(packet)).len(),
    }
}

/// A `POST` body: the payload of the version (v3 always in the text form, binary in base64).
pub fn encode_body(packets: &[Packet], version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::V4 => encode_v4(packets),
        ProtocolVersion::V3 => encode_v3_text(packets),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine_io::PacketType;

    fn message(text: &str) -> Packet {
        Packet::text(PacketType::Message, text)
    }

    #[test]
    fn batches_stay_within_max_payload() {
        // "4aaaa" is 5 bytes; two with the separator are 11.
        let mut queue: VecDeque<_> = (0..5).map(|_| message("aaaa")).collect();
        let batch = next_batch(&mut queue, Some(11), ProtocolVersion::V4);
        assert_eq!(batch.len(), 2);
        assert_eq!(encode_body(&batch, ProtocolVersion::V4).len(), 11);
        assert_eq!(queue.len(), 3);
        let batch = next_batch(&mut queue, Some(10), ProtocolVersion::V4);
        assert_eq!(batch.len(), 1);
    }

    #[test]
    fn an_oversized_packet_travels_alone() {
        let mut queue: VecDeque<_> = [message(&"x".repeat(50)), message("y")].into();
        let batch = next_batch(&mut queue, Some(10), ProtocolVersion::V4);
        assert_eq!(batch, [message(&"x".repeat(50))]);
    }

    #[test]
    fn no_max_payload_takes_everything() {
        let mut queue: VecDeque<_> = (0..100).map(|_| message("aaaa")).collect();
        assert_eq!(next_batch(&mut queue, None, ProtocolVersion::V3).len(), 100);
        assert!(queue.is_empty());
    }

    #[test]
    fn v3_counts_the_length_prefixes() {
        // "5:4aaaa" is 7 bytes.
        let mut queue: VecDeque<_> = (0..3).map(|_| message("aaaa")).collect();
        assert_eq!(
            next_batch(&mut queue, Some(14), ProtocolVersion::V3).len(),
            2
        );
    }

    #[test]
    fn bytes_not_characters_count() {
        // "4é" is 3 bytes.
        let mut queue: VecDeque<_> = [message("é"), message("é")].into();
        assert_eq!(
            next_batch(&mut queue, Some(6), ProtocolVersion::V4).len(),
            1
        );
    }
}
