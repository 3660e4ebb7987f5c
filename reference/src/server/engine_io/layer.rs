//! Attaching the server to an existing application: a tower [`Layer`] whose service answers
//! the requests under the configured path and passes every other request, unchanged, to the
//! service it wraps, the way the official server attaches to a Node `http.Server`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body as HttpBody;
use http_body_util::Either;
use tower_layer::Layer;
use tower_service::Service;

use super::response::{Body, BoxError};
use super::service::EngineIo;

/// A tower [`Layer`] that puts an [`EngineIo`] server in front of a service.
///
/// Mounted on an axum `Router` with `.layer(...)`, it answers Engine.IO requests, WebSocket
/// upgrades included, and leaves every other route to the router:
///
/// ```
/// use axum::routing::get;
/// use axum::Router;
/// use sio_reference::server::engine_io::{Config, EngineIo, EngineIoLayer};
///
/// # async fn run() -> std::io::Result<()> {
/// let (engine, mut sockets) = EngineIo::new(Config::default());
/// let app = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(EngineIoLayer::new(engine));
/// tokio::spawn(async move {
///     while let Some(mut socket) = sockets.accept().await {
///         tokio::spawn(async move {
///             while let Some(data) = socket.recv().await {
///                 let _ = socket.send(data);
///             }
///         });
///     }
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
///
/// As with any axum layer, `.layer(...)` wraps the routes and fallback added before it, so it
/// comes after them. The server reads the upgrade from hyper's `OnUpgrade` in the request's
/// extensions, which hyper (and so axum) puts there when the connection is served with
/// upgrades enabled, as `axum::serve` does.
#[derive(Debug, Clone)]
pub struct EngineIoLayer {
    engine: EngineIo,
}

impl EngineIoLayer {
    /// A layer that routes the requests under `engine`'s path to it.
    pub fn new(engine: EngineIo) -> EngineIoLayer {
        EngineIoLayer { engine }
    }
}

impl<S> Layer<S> for EngineIoLayer {
    type Service = EngineIoService<S>;

    fn layer(&self, inner: S) -> EngineIoService<S> {
        EngineIoService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// The service made by [`EngineIoLayer`]: Engine.IO under the configured path, `S` elsewhere.
///
/// Its response body is [`Either`] the server's own [`Body`] or `S`'s.
#[derive(Debug, Clone)]
pub struct EngineIoService<S> {
    engine: EngineIo,
    inner: S,
}

impl<S> EngineIoService<S> {
    /// The wrapped service.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

/// The future of an [`EngineIoService`] call.
pub type EngineIoFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineIoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: HttpBody<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<Either<Body, ResBody>>;
    type Error = S::Error;
    type Future = EngineIoFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // Any request may be one for `inner`, so it must be ready before any is taken.
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if self.engine.handles(&request) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(request).await.map(Either::Left)) })
        } else {
            let passed = self.inner.call(request);
            Box::pin(async move { Ok(passed.await?.map(Either::Right)) })
        }
    }
}
