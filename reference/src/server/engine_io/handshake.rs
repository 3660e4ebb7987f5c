//! The handshake: session ids and the open packet.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::config::{Config, TransportKind};
use crate::engine_io::{Packet, PacketType};

/// A new session id: 20 base64url characters, 120 bits from the operating system's CSPRNG.
pub(crate) fn generate_sid() -> Option<String> {
    let mut bytes = [0_u8; 15];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// The open packet: `0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`
/// with the keys in that order (HS-03).
pub(crate) fn open_packet(sid: &str, config: &Config, transport: TransportKind) -> Packet {
    let upgrades: Vec<String> = config
        .upgrades_from(transport)
        .iter()
        .map(|upgrade| format!("\"{}\"", upgrade.name()))
        .collect();
    // The sid is base64url, so it needs no JSON escaping.
    let json = format!(
        r#"{{"sid":"{sid}","upgrades":[{}],"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
        upgrades.join(","),
        config.ping_interval.as_millis(),
        config.ping_timeout.as_millis(),
        config.max_http_buffer_size,
    );
    Packet::text(PacketType::Open, json)
}
