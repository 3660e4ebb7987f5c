//! Serving HTTP/1.1 with upgrades on a TCP listener: the loop that [`EngineIo::serve`],
//! [`SocketIo::serve`] and the fixture server share.
//!
//! [`EngineIo::serve`]: super::engine_io::EngineIo::serve
//! [`SocketIo::serve`]: super::socket_io::SocketIo::serve

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, ToSocketAddrs};

use super::engine_io::{Body, RemoteAddr};

/// Accepts connections until accepting fails for good, and answers each request with
/// `handle`. Each request carries its peer's [`RemoteAddr`] in its extensions.
pub(crate) async fn serve<H, F>(listener: TcpListener, handle: H) -> io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed");
                // Out of file descriptors, most likely: give the others a moment to close.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        // Small packets go out at once: without this, a second WebSocket frame waits for the
        // client's delayed ACK of the first (Nagle's algorithm), some 40 ms.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot disable Nagle's algorithm");
        }
        let handle = handle.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(RemoteAddr(peer));
            let answer = handle(request);
            async move { Ok::<_, Infallible>(answer.await) }
        });
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        // Requests are handled in the order their connections arrived, as on the official
        // server's single event loop: the connection just spawned reads its request before the
        // next one is accepted. Without this a multi-threaded runtime runs the last task spawned
        // first (its LIFO slot), and two requests sent at once, a GET and a POST `1`, were
        // handled the other way round about once in four.
        tokio::task::yield_now().await;
    }
}

/// Binds `address`; returns the bound address and the future that serves it with `handle`.
pub(crate) async fn listen<H, F>(
    address: impl ToSocketAddrs,
    handle: H,
) -> io::Result<(SocketAddr, impl Future<Output = io::Result<()>>)>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    Ok((bound, serve(listener, handle)))
}

fn is_transient(error: &io::Error) -> bool {
    !matches!(
        error.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::NotConnected | io::ErrorKind::Unsupported
    )
}
