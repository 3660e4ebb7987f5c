//! The WebSocket transport's connection: tokio-tungstenite as a client, each Engine.IO packet in
//! its own frame.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TransportError;
use crate::engine_io::{Frame, Packet, ProtocolVersion};

/// An open WebSocket.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `ws://<authority><target>` with the extra headers. The caller bounds
/// it in time.
pub(crate) async fn connect(
    authority: &str,
    target: &str,
    headers: &[(String, String)],
) -> Result<Ws, TransportError> {
    let url = format!("ws://{authority}{target}");
    let mut request = url
        .into_client_request()
        .map_err(|error| TransportError::WebSocket(error.to_string()))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|error| TransportError::WebSocket(error.to_string()))?;
        let value = HeaderValue::from_str(value)
            .map_err(|error| TransportError::WebSocket(error.to_string()))?;
        request.headers_mut().insert(name, value);
    }
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|error| TransportError::WebSocket(error.to_string()))?;
    Ok(ws)
}

/// The frame of one packet: binary data in a binary frame, unless `force_base64` (the official
/// client's `forceBase64`, under which its WebSocket transport does not claim binary support)
/// puts it in a text frame in the text form, `b<base64>` (`b4<base64>` in protocol 3), as over
/// polling.
pub(crate) fn frame_of(packet: &Packet, version: ProtocolVersion, force_base64: bool) -> Message {
    if force_base64 {
        return Message::text(packet.encode_text(version));
    }
    match packet.encode_frame(version) {
        Frame::Text(text) => Message::text(text),
        Frame::Binary(bytes) => Message::binary(bytes),
    }
}

/// Sends one packet in its own frame ([`frame_of`]).
pub(crate) async fn send(
    ws: &mut (impl SinkExt<Message> + Unpin),
    packet: &Packet,
    version: ProtocolVersion,
    force_base64: bool,
) -> Result<(), TransportError> {
    ws.send(frame_of(packet, version, force_base64))
        .await
        .map_err(|_| TransportError::WebSocket("the WebSocket could not be written".to_owned()))
}

/// What a read from the WebSocket gave.
#[derive(Debug)]
pub(crate) enum Read {
    /// A packet.
    Packet(Packet),
    /// The server closed the WebSocket (a close frame or the end of the stream).
    Closed,
    /// A frame that does not decode, or a broken connection.
    Failed(TransportError),
}

/// Reads the next packet, skipping WebSocket pings and pongs.
pub(crate) async fn read(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
    version: ProtocolVersion,
) -> Read {
    loop {
        let decoded = match ws.next().await {
            None | Some(Ok(Message::Close(_))) => return Read::Closed,
            Some(Err(error)) => return Read::Failed(TransportError::WebSocket(error.to_string())),
            Some(Ok(Message::Text(text))) => Packet::decode_text(text.as_str(), version),
            Some(Ok(Message::Binary(bytes))) => Packet::decode_binary(bytes, version),
            Some(Ok(_)) => continue,
        };
        return match decoded {
            Ok(packet) => Read::Packet(packet),
            Err(error) => Read::Failed(TransportError::Decode(error)),
        };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine_io::PacketType;

    #[test]
    fn binary_goes_in_a_binary_frame() {
        let packet = Packet::binary(vec![1u8, 2, 3]);
        assert_eq!(
            frame_of(&packet, ProtocolVersion::V4, false),
            Message::binary(vec![1u8, 2, 3])
        );
        assert_eq!(
            frame_of(&packet, ProtocolVersion::V3, false),
            Message::binary(vec![4u8, 1, 2, 3])
        );
    }

    #[test]
    fn force_base64_puts_binary_in_a_text_frame() {
        let packet = Packet::binary(vec![1u8, 2, 3]);
        assert_eq!(
            frame_of(&packet, ProtocolVersion::V4, true),
            Message::text("bAQID")
        );
        assert_eq!(
            frame_of(&packet, ProtocolVersion::V3, true),
            Message::text("b4AQID")
        );
        let text = Packet::text(PacketType::Message, "x");
        assert_eq!(
            frame_of(&text, ProtocolVersion::V4, true),
            Message::text("4x")
        );
    }
}
