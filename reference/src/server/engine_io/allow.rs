//! The `allow_request` hook: the application's say on each handshake (behaviors HS-14, HS-16,
//! HS-17), and the remote address a hook may want to look at.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;

/// A boxed, sendable future, as returned by an [`AllowRequest`] hook.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

type Hook = dyn Fn(&Parts) -> BoxFuture<Result<(), Refusal>> + Send + Sync;

/// An application's decision on each handshake: given the request's method, URI, headers and
/// extensions (where [`RemoteAddr`] is), it allows the handshake with `Ok(())` or refuses it
/// with a [`Refusal`].
///
/// It is asked about handshakes only (requests without a `sid`), over polling and WebSocket
/// alike, after the request has passed the server's own checks of transport, `sid`, method and
/// upgrade, and before the protocol version is checked, as on the official server (HS-14).
/// A refused polling handshake gets `403 {"code":4,"message":"…"}` (HS-16); a refused WebSocket
/// gets `400 Bad Request` with the plain message as its body (HS-17).
///
/// The hook returns a future, so it may look things up (a token, a rate limit). The future may
/// not borrow the request: take what it needs (a header, the address) before `async move`.
///
/// ```
/// use sio_reference::server::engine_io::{AllowRequest, Config, Refusal, RemoteAddr};
///
/// async fn token_is_valid(token: &[u8]) -> bool {
///     token == b"Bearer let-me-in"
/// }
///
/// let config = Config {
///     allow_request: Some(AllowRequest::new(|request| {
///         let token = request.headers.get("authorization").cloned();
///         let remote = request.extensions.get::<RemoteAddr>().copied();
///         async move {
///             if remote.is_some_and(|RemoteAddr(address)| address.ip().is_loopback()) {
///                 return Ok(());
///             }
///             match token {
///                 Some(token) if token_is_valid(token.as_bytes()).await => Ok(()),
///                 _ => Err(Refusal::with_message("invalid token")),
///             }
///         }
///     })),
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct AllowRequest(Arc<Hook>);

impl AllowRequest {
    /// A hook from an async function of the request head.
    pub fn new<F, Fut>(hook: F) -> AllowRequest
    where
        F: Fn(&Parts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        AllowRequest(Arc::new(move |parts: &Parts| {
            Box::pin(hook(parts)) as BoxFuture<Result<(), Refusal>>
        }))
    }

    /// Asks the hook about a request.
    pub(crate) fn check(&self, parts: &Parts) -> BoxFuture<Result<(), Refusal>> {
        (self.0)(parts)
    }
}

impl fmt::Debug for AllowRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("AllowRequest(..)")
    }
}

/// A refused handshake, with the message the client is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    message: Option<String>,
}

impl Refusal {
    /// A refusal with the official default message, `Forbidden`.
    pub fn new() -> Refusal {
        Refusal::default()
    }

    /// A refusal that tells the client `message`.
    pub fn with_message(message: impl Into<String>) -> Refusal {
        Refusal {
            message: Some(message.into()),
        }
    }

    /// The message sent to the client: the one given, or `Forbidden` when none (or an empty
    /// one) was, as on the official server (HS-16).
    pub fn message(&self) -> &str {
        match self.message.as_deref() {
            Some(message) if !message.is_empty() => message,
            _ => "Forbidden",
        }
    }
}

/// The address of the peer that sent a request, found in the request's extensions.
///
/// [`EngineIo::serve`](super::EngineIo::serve) and [`EngineIo::listen`](super::EngineIo::listen)
/// insert it into every request. Under another server, insert it yourself, or read that
/// server's own type (axum's `ConnectInfo`, for instance) from the extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);
