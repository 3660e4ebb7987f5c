//! The reference Socket.IO client: socket.io-client's behaviour on the crate's codec, over
//! hyper (polling) and tokio-tungstenite (WebSocket).
//!
//! A [`Client`] is the official client's Manager: one Engine.IO session per client, shared by
//! every namespace connected through it, reconnected with the official backoff. Each namespace
//! is a [`Socket`] handle and a stream of [`SocketEvent`]s.
//!
//! ```
//! use std::time::Duration;
//! use sio_reference::client::{Client, SocketEvent, TransportKind};
//! use sio_reference::fixture::{Fixture, Options};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (address, serving) = Fixture::new(Options::default()).listen("127.0.0.1:0").await?;
//! tokio::spawn(serving);
//!
//! let (socket, mut events) = Client::builder(&format!("http://{address}"))
//!     .path("/socket.io/")
//!     .transports([TransportKind::Polling, TransportKind::WebSocket])
//!     .reconnection_delay(Duration::from_millis(100))
//!     .auth(serde_json::json!({"token": "abc"}).into())
//!     .connect("/")?;
//! socket.emit("message", vec!["hello".into()]).await?;   // buffered until connected
//! let ack = socket
//!     .emit_with_ack("message-with-ack", vec![1.into()], Some(Duration::from_secs(5)))
//!     .await?;
//! assert_eq!(ack, Ok(vec![1.into()]));
//! loop {
//!     match tokio::time::timeout(Duration::from_secs(5), events.next()).await? {
//!         Some(SocketEvent::Event { name, arguments, .. }) if name == "message-back" => {
//!             assert_eq!(arguments, vec!["hello".into()]);
//!             break;
//!         }
//!         Some(_) => {}
//!         None => panic!("the client is gone"),
//!     }
//! }
//! socket.disconnect();
//! # Ok(())
//! # }
//! ```

mod api;
pub mod backoff;
pub mod config;
pub mod engine;
mod manager;
pub mod socket_state;

pub use api::{
    AckResponder, Client, ClientBuilder, ClientError, ClientEvent, SharedEvents,
    SharedEventsSender, Socket, SocketEvent, SocketEvents,
};
pub use config::{Protocol, TransportKind};
pub use socket_state::{AckError, Auth, DisconnectReason};
